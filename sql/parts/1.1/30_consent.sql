------------------------------------------------------------------------
-- Consent is recorded only through privacy.grant_consent() and
-- privacy.withdraw_consent() (erase_subject withdraws through the latter):
-- nobody but a superuser writes privacy.consent_state or
-- privacy.consent_events directly, so a consent never changes without its
-- event, and the author and time of an event are the server's, not the
-- caller's (src/consent/record.c).
------------------------------------------------------------------------

-- The writers.  SECURITY DEFINER (the tables' owner), executable by nobody
-- but a superuser: grant_consent/withdraw_consent check their caller and
-- call them through the function manager with the caller's session_user
-- and current_user, which a SECURITY DEFINER function cannot see itself.
CREATE FUNCTION privacy.record_consent_grant(author_session name, author_role name,
    p_subject text, p_purpose text, p_expires_at timestamptz, p_policy_version text, p_evidence jsonb)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_ordinal int4;
    v_version text := p_policy_version;
BEGIN
    -- NULL, empty, too long or too big were refused by the caller (C).
    IF NOT EXISTS (SELECT 1 FROM privacy.purposes p WHERE p.name = p_purpose) THEN
        RAISE EXCEPTION 'processing purpose "%" does not exist', p_purpose USING ERRCODE = '42704';
    END IF;
    IF p_expires_at IS NOT NULL AND p_expires_at <= pg_catalog.statement_timestamp() THEN
        RAISE EXCEPTION 'consent cannot expire in the past' USING ERRCODE = '22023';
    END IF;
    IF v_version IS NULL THEN
        SELECT pv.version, pv.ordinal INTO v_version, v_ordinal
          FROM privacy.policy_versions pv ORDER BY pv.ordinal DESC LIMIT 1;
        v_ordinal := coalesce(v_ordinal, 0);
    ELSE
        SELECT pv.ordinal INTO v_ordinal FROM privacy.policy_versions pv WHERE pv.version = v_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'policy version "%" does not exist', v_version USING ERRCODE = '42704';
        END IF;
    END IF;
    INSERT INTO privacy.consent_events (at, subject, purpose, action, expires_at, policy_version, evidence,
                                        session_user_name, current_role_name)
    VALUES (clock_timestamp(), p_subject, p_purpose, 'grant', p_expires_at, v_version, p_evidence,
            author_session, author_role);
    INSERT INTO privacy.consent_state AS c (subject, purpose, granted, expires_at, policy_ordinal, updated_at)
    VALUES (p_subject, p_purpose, true, p_expires_at, v_ordinal, clock_timestamp())
    ON CONFLICT ON CONSTRAINT consent_state_pkey DO UPDATE
       SET granted = true, expires_at = EXCLUDED.expires_at,
           policy_ordinal = EXCLUDED.policy_ordinal, updated_at = EXCLUDED.updated_at;
END
$$;

CREATE FUNCTION privacy.record_consent_withdraw(author_session name, author_role name,
    p_subject text, p_purpose text, p_evidence jsonb)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM privacy.purposes p WHERE p.name = p_purpose) THEN
        RAISE EXCEPTION 'processing purpose "%" does not exist', p_purpose USING ERRCODE = '42704';
    END IF;
    INSERT INTO privacy.consent_events (at, subject, purpose, action, evidence,
                                        session_user_name, current_role_name)
    VALUES (clock_timestamp(), p_subject, p_purpose, 'withdraw', p_evidence, author_session, author_role);
    UPDATE privacy.consent_state c SET granted = false, updated_at = clock_timestamp()
     WHERE c.subject = p_subject AND c.purpose = p_purpose AND c.granted;
    RETURN FOUND;                  -- false: there was no consent to withdraw
END
$$;

REVOKE ALL ON FUNCTION privacy.record_consent_grant(name, name, text, text, timestamptz, text, jsonb),
    privacy.record_consent_withdraw(name, name, text, text, jsonb) FROM PUBLIC;

-- The entry points (same signatures as 1.0; C now, running as the caller).
CREATE OR REPLACE FUNCTION privacy.grant_consent(subject text, purpose text, expires_at timestamptz DEFAULT NULL,
                                                 policy_version text DEFAULT NULL, evidence jsonb DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'px_grant_consent' LANGUAGE C VOLATILE;
CREATE OR REPLACE FUNCTION privacy.withdraw_consent(subject text, purpose text, evidence jsonb DEFAULT NULL)
RETURNS boolean AS 'MODULE_PATHNAME', 'px_withdraw_consent' LANGUAGE C VOLATILE;

-- Reading stays where it was; writing is for superusers (and a restore,
-- which a superuser runs).
REVOKE ALL ON privacy.consent_state, privacy.consent_events FROM privacy_admin, privacy_consent_manager;
GRANT SELECT ON privacy.consent_state TO privacy_admin, privacy_consent_manager;
GRANT SELECT ON privacy.consent_events TO privacy_admin;
REVOKE ALL ON SEQUENCE privacy.consent_events_event_id_seq FROM privacy_admin, privacy_consent_manager;
