-- Row-level security applies for the role whose privileges read a table:
-- a view's owner, or the role that opened a cursor.  has_consent() checks
-- that role's right to the declared purpose too (src/consent/reading_roles.c),
-- so a role holding a consent purpose cannot share a view of a protected
-- table, or a cursor over it, with a role holding a purpose of another
-- legal basis that would show every row.
SELECT privacy.create_purpose('rr_marketing', legal_basis => 'consent');
SELECT privacy.create_purpose('rr_billing', legal_basis => 'contract');
CREATE ROLE rr_app;
CREATE ROLE rr_billing;
CREATE ROLE rr_both;
GRANT CREATE ON SCHEMA public TO rr_app;
SELECT privacy.grant_purpose('rr_app', 'rr_marketing');
SELECT privacy.grant_purpose('rr_billing', 'rr_billing');
SELECT privacy.grant_purpose('rr_both', 'rr_marketing');
CREATE TABLE rr_subs (cid text PRIMARY KEY, name text);
INSERT INTO rr_subs VALUES ('rr-c1', 'Ann'), ('rr-c2', 'Bob');
GRANT SELECT ON rr_subs TO rr_app;
SELECT privacy.protect_table('rr_subs', subject_column => 'cid');
SELECT privacy.grant_consent('rr-c1', 'rr_marketing');

SET ROLE rr_app;
SET privacy.purpose = 'rr_marketing';
SELECT cid FROM rr_subs ORDER BY cid;
CREATE VIEW rr_subs_v AS SELECT * FROM rr_subs;
CREATE VIEW rr_subs_inv WITH (security_invoker = true) AS SELECT * FROM rr_subs;
GRANT SELECT ON rr_subs_v, rr_subs_inv TO rr_billing, rr_both;
CREATE FUNCTION rr_open() RETURNS refcursor LANGUAGE plpgsql SECURITY DEFINER
    SET privacy.purpose = 'rr_marketing' AS $$
DECLARE c refcursor := 'rr_c';
BEGIN
    OPEN c FOR SELECT cid FROM rr_subs ORDER BY cid;
    RETURN c;
END $$;
GRANT EXECUTE ON FUNCTION rr_open() TO rr_billing, rr_both;
-- Its own view and cursor: its own rows.
SELECT cid FROM rr_subs_v ORDER BY cid;
BEGIN;
SELECT rr_open();
FETCH ALL FROM rr_c;
COMMIT;
RESET ROLE;

-- The billing role: no privilege on the table, a contract purpose.
SET ROLE rr_billing;
SET privacy.purpose = 'rr_billing';
SELECT cid FROM rr_subs;
-- Through the view: read as rr_app, which may not process for billing.
SELECT cid FROM rr_subs_v ORDER BY cid;
-- A security_invoker view reads as the reader: no privilege on the table.
SELECT cid FROM rr_subs_inv ORDER BY cid;
-- The cursor was opened as rr_app: the same refusal at FETCH.
BEGIN;
SELECT rr_open();
FETCH ALL FROM rr_c;
ROLLBACK;
-- With parallel workers too.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT count(*) FROM rr_subs_v;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET ROLE;

-- A role with the view owner's purpose sees what the owner sees.
SET ROLE rr_both;
SET privacy.purpose = 'rr_marketing';
SELECT cid FROM rr_subs_v ORDER BY cid;
BEGIN;
SELECT rr_open();
FETCH ALL FROM rr_c;
COMMIT;
RESET ROLE;
-- Once the owner may process for billing, the billing role reads through its view.
SELECT privacy.grant_purpose('rr_app', 'rr_billing');
SET ROLE rr_billing;
SET privacy.purpose = 'rr_billing';
SELECT cid FROM rr_subs_v ORDER BY cid;
RESET ROLE;

-- protect_table takes tables only.
CREATE VIEW rr_view AS SELECT cid FROM rr_subs;
CREATE MATERIALIZED VIEW rr_matview AS SELECT cid FROM rr_subs;
CREATE SEQUENCE rr_seq;
SELECT privacy.protect_table('rr_view', 'cid');
SELECT privacy.protect_table('rr_matview', 'cid');
SELECT privacy.protect_table('rr_seq', 'last_value');
SELECT privacy.protect_table('rr_subs_pkey', 'cid');
SELECT count(*) FROM privacy.protected_tables WHERE relid::text LIKE 'rr_%';

-- Expiry in privacy.consents and in grant_consent is judged at the
-- statement, as has_consent judges it, not at the transaction's start.
SELECT privacy.grant_consent('rr-c2', 'rr_marketing', expires_at => clock_timestamp() + interval '1 second');
BEGIN;
SELECT pg_sleep(1.2);
SELECT subject, valid FROM privacy.consents WHERE subject = 'rr-c2';
SELECT privacy.has_consent('rr-c2', 'rr_marketing');
SELECT privacy.grant_consent('rr-c2', 'rr_marketing', expires_at => statement_timestamp() - interval '0.5 second');
ROLLBACK;

DROP MATERIALIZED VIEW rr_matview;
DROP VIEW rr_view;
DROP SEQUENCE rr_seq;
DROP FUNCTION rr_open();
DROP VIEW rr_subs_v, rr_subs_inv;
DROP TABLE rr_subs;
REVOKE CREATE ON SCHEMA public FROM rr_app;
SELECT privacy.revoke_purpose('rr_app', 'rr_marketing'), privacy.revoke_purpose('rr_app', 'rr_billing'),
       privacy.revoke_purpose('rr_billing', 'rr_billing'), privacy.revoke_purpose('rr_both', 'rr_marketing');
DROP ROLE rr_app;
DROP ROLE rr_billing;
DROP ROLE rr_both;
