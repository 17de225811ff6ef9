-- Expiry is judged at the time of each statement, as has_consent() judges
-- it, not at the start of the transaction (now()): in a transaction open
-- for a while, privacy.consents showed a consent expired meanwhile as
-- valid, and grant_consent accepted an expiry already past
-- (sql/parts/1.1/30_consent.sql checks statement_timestamp() too).
CREATE OR REPLACE VIEW privacy.consents AS
SELECT c.subject, c.purpose, c.granted, c.expires_at, pv.version AS policy_version, c.updated_at,
       c.granted AND (c.expires_at IS NULL OR c.expires_at > pg_catalog.statement_timestamp())
         AND c.policy_ordinal >= coalesce((SELECT max(r.ordinal) FROM privacy.policy_versions r
                                            WHERE r.requires_reconsent), 0) AS valid
  FROM privacy.consent_state c
  LEFT JOIN privacy.policy_versions pv ON pv.ordinal = c.policy_ordinal;
