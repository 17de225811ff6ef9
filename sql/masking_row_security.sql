-- Masking views apply the table's own row-level security as the reader
-- (sql/parts/1.1/41_masking_view_row_security.sql): a masking view made by
-- a superuser used to show every tenant's rows to every masked reader.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE ROLE mrs_owner;
CREATE ROLE mrs_a;
CREATE ROLE mrs_b;
CREATE ROLE mrs_b_member IN ROLE mrs_b;
GRANT CREATE ON SCHEMA public TO mrs_owner;
SET ROLE mrs_owner;
CREATE TABLE mrs_cust (id int, tenant text, email text);
INSERT INTO mrs_cust VALUES (1, 'a', 'ann@a.example'), (2, 'b', 'bob@b.example'), (3, 'c', 'cy@c.example');
ALTER TABLE mrs_cust ENABLE ROW LEVEL SECURITY;
-- one policy on current_user, one for a role (and its members)
CREATE POLICY tenant_by_user ON mrs_cust USING (tenant = CASE current_user WHEN 'mrs_a' THEN 'a' END);
CREATE POLICY tenant_b_role ON mrs_cust TO mrs_b USING (tenant = 'b');
GRANT SELECT ON mrs_cust TO mrs_a, mrs_b;
RESET ROLE;
SELECT privacy.set_mask('mrs_cust', 'id', 'none');
SELECT privacy.set_mask('mrs_cust', 'tenant', 'none');
SELECT privacy.set_mask('mrs_cust', 'email', 'email');
SELECT privacy.create_masking_view('mrs_cust');
SELECT privacy.mask_role('mrs_a');
SELECT privacy.mask_role('mrs_b');
SELECT privacy.mask_role('mrs_b_member');
GRANT SELECT ON masked.mrs_cust TO mrs_owner;   -- not masked: to compare with the table

-- What the table's policies show each role directly (as a superuser would
-- check it) and what its masking view shows: the same rows.
CREATE FUNCTION pg_temp.rows_of(rel text, r name) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    EXECUTE format('SELECT coalesce(string_agg(id::text, '','' ORDER BY id), ''-'') FROM %s', rel) INTO result;
    RESET ROLE;
    RETURN result;
END
$$;
SELECT pg_temp.rows_of('masked.mrs_cust', 'mrs_a') AS a,
       pg_temp.rows_of('masked.mrs_cust', 'mrs_b') AS b,
       pg_temp.rows_of('masked.mrs_cust', 'mrs_b_member') AS b_member,
       pg_temp.rows_of('masked.mrs_cust', 'mrs_owner') AS owner_not_forced,
       (SELECT string_agg(id::text, ',' ORDER BY id) FROM masked.mrs_cust) AS superuser;
SET ROLE mrs_a;
SELECT * FROM mrs_cust;                  -- transparent masking: the same row, masked
SELECT * FROM masked.mrs_cust;
RESET ROLE;

-- A reader's own predicates and functions see only the rows it may see.
CREATE FUNCTION mrs_peek(t text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
    RAISE NOTICE 'peek: %', t;
    RETURN true;
END
$$;
SET client_min_messages = notice;
SET ROLE mrs_b;
SELECT id FROM masked.mrs_cust WHERE mrs_peek(email) AND mrs_peek(tenant);
RESET ROLE;
SET client_min_messages = warning;
\set SHOW_CONTEXT never

-- FORCE: the owner is filtered too, as it is reading the table.
ALTER TABLE mrs_cust FORCE ROW LEVEL SECURITY;
SELECT pg_temp.rows_of('masked.mrs_cust', 'mrs_owner') AS owner_forced;

-- The view follows CREATE, ALTER and DROP POLICY.
SET ROLE mrs_owner;
CREATE POLICY not_c ON mrs_cust AS RESTRICTIVE USING (tenant <> 'b' OR id > 5);
RESET ROLE;
SELECT pg_temp.rows_of('masked.mrs_cust', 'mrs_a') AS a, pg_temp.rows_of('masked.mrs_cust', 'mrs_b') AS b_restricted;
SET ROLE mrs_owner;
ALTER POLICY not_c ON mrs_cust USING (true);
RESET ROLE;
SELECT pg_temp.rows_of('masked.mrs_cust', 'mrs_b') AS b_again;
SET ROLE mrs_owner;
ALTER POLICY tenant_b_role ON mrs_cust TO mrs_a;    -- now for mrs_a, and mrs_b has none
RESET ROLE;
SELECT pg_temp.rows_of('masked.mrs_cust', 'mrs_a') AS a_two_policies, pg_temp.rows_of('masked.mrs_cust', 'mrs_b') AS b_none;
SET ROLE mrs_owner;
DROP POLICY tenant_b_role ON mrs_cust;
DROP POLICY tenant_by_user ON mrs_cust;
RESET ROLE;
-- Row-level security on and no permissive policy: no row, as for the table.
SELECT pg_temp.rows_of('masked.mrs_cust', 'mrs_a') AS a_no_permissive;
-- A renamed role: the policy still names it.
SET ROLE mrs_owner;
CREATE POLICY for_b ON mrs_cust TO mrs_b USING (tenant = 'b');
RESET ROLE;
ALTER ROLE mrs_b RENAME TO mrs_b2;
SELECT pg_temp.rows_of('masked.mrs_cust', 'mrs_b2') AS b_renamed;
ALTER ROLE mrs_b2 RENAME TO mrs_b;
-- Off: every row again.
SET ROLE mrs_owner;
ALTER TABLE mrs_cust DISABLE ROW LEVEL SECURITY;
RESET ROLE;
SELECT pg_temp.rows_of('masked.mrs_cust', 'mrs_a') AS a_rls_off;
SELECT count(*) AS filter_calls FROM pg_depend d JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
 WHERE r.ev_class = 'masked.mrs_cust'::regclass AND d.refobjid = 'privacy.row_security_applies(regclass)'::regprocedure;
SET ROLE mrs_owner;
ALTER TABLE mrs_cust ENABLE ROW LEVEL SECURITY;
RESET ROLE;
SELECT pg_temp.rows_of('masked.mrs_cust', 'mrs_b') AS b_rls_on;

-- A policy that reads another table is evaluated with the reader's rights,
-- as PostgreSQL evaluates it: not with those of the view's owner (here a
-- superuser, who can read the owner's secret lookup table).
CREATE TABLE mrs_secret (r name, tenant text);
INSERT INTO mrs_secret VALUES ('mrs_a', 'c');
SET ROLE mrs_owner;
CREATE TABLE mrs_map (r name, tenant text);
INSERT INTO mrs_map VALUES ('mrs_a', 'a');
CREATE POLICY by_map ON mrs_cust USING (tenant IN (SELECT m.tenant FROM mrs_map m WHERE m.r = current_user));
CREATE POLICY by_secret ON mrs_cust TO mrs_a USING (EXISTS (SELECT 1 FROM public.mrs_secret s WHERE s.tenant = mrs_cust.tenant));
RESET ROLE;
SELECT count(*) AS one_function FROM pg_proc WHERE pronamespace = 'masked'::regnamespace AND proname LIKE 'row\_policies\_%';
SET ROLE mrs_a;
SELECT id FROM masked.mrs_cust;          -- permission denied for mrs_map, as on the table
SELECT id FROM mrs_cust;
RESET ROLE;
SET ROLE mrs_owner;
GRANT SELECT ON mrs_map TO mrs_a;
RESET ROLE;
SET ROLE mrs_a;
SELECT id FROM masked.mrs_cust;          -- still: mrs_secret is not readable by mrs_a
RESET ROLE;
GRANT SELECT ON mrs_secret TO mrs_a;
SELECT pg_temp.rows_of('masked.mrs_cust', 'mrs_a') AS a_map_and_secret;
SET ROLE mrs_owner;
DROP POLICY by_map ON mrs_cust;
DROP POLICY by_secret ON mrs_cust;
RESET ROLE;
-- The remaining policies (none reading other relations) still go through
-- the view's one policy function, its body rebuilt without the dropped ones.
SELECT count(*) AS policy_functions, bool_and(prosrc NOT LIKE '%mrs_map%' AND prosrc NOT LIKE '%mrs_secret%') AS dropped_ones_gone
  FROM pg_proc WHERE pronamespace = 'masked'::regnamespace AND proname LIKE 'row\_policies\_%';

-- With consent protection: the tenant policy and consent both hold.
SET ROLE mrs_owner;
CREATE POLICY tenant_by_user ON mrs_cust USING (tenant = CASE current_user WHEN 'mrs_a' THEN 'a' WHEN 'mrs_b' THEN 'b' END);
RESET ROLE;
INSERT INTO mrs_cust VALUES (4, 'a', 'al@a.example');
SELECT privacy.create_purpose('mrs_mkt', 'consent');
SELECT privacy.grant_purpose('mrs_a', 'mrs_mkt');
SELECT privacy.grant_purpose('mrs_b', 'mrs_mkt');
SELECT privacy.grant_purpose('mrs_owner', 'mrs_mkt');
SELECT privacy.protect_table('mrs_cust', 'email');
SELECT privacy.grant_consent('al@a.example', 'mrs_mkt');
SELECT privacy.grant_consent('bob@b.example', 'mrs_mkt');
SET privacy.purpose = 'mrs_mkt';
SELECT pg_temp.rows_of('masked.mrs_cust', 'mrs_a') AS a_tenant_and_consent,
       pg_temp.rows_of('masked.mrs_cust', 'mrs_b') AS b_tenant_and_consent,
       pg_temp.rows_of('masked.mrs_cust', 'mrs_owner') AS owner_forced_tenant_and_consent,
       (SELECT string_agg(id::text, ',' ORDER BY id) FROM masked.mrs_cust) AS superuser_consent_only;
RESET privacy.purpose;

-- A privacy administrator (not a superuser) making the masking view of
-- a table with a policy of its owner's: the view follows.  (Of its own
-- table it may not: the table's code, its policies and triggers, would run
-- as the view's readers.)
CREATE ROLE mrs_admin IN ROLE privacy_admin;
GRANT CREATE ON SCHEMA public TO mrs_admin;
SET ROLE mrs_admin;
CREATE TABLE mrs_admin_own (id int);
SELECT privacy.create_masking_view('mrs_admin_own');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE mrs_admin_own;
RESET ROLE;
SET ROLE mrs_owner;
CREATE TABLE mrs_admin_t (id int, tenant text, subject text);
INSERT INTO mrs_admin_t VALUES (1, 'a', 's1'), (2, 'b', 's2');
ALTER TABLE mrs_admin_t ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_a ON mrs_admin_t USING (tenant = 'a');
GRANT SELECT ON mrs_admin_t TO mrs_admin;
RESET ROLE;
SET ROLE mrs_admin;
SELECT privacy.set_mask('mrs_admin_t', 'id', 'none');
SELECT privacy.create_masking_view('mrs_admin_t');
RESET ROLE;
SELECT privacy.protect_table('mrs_admin_t', 'subject');
SELECT privacy.grant_consent('s1', 'mrs_mkt');
SELECT privacy.grant_consent('s2', 'mrs_mkt');
GRANT SELECT ON masked.mrs_admin_t TO mrs_a;
SET privacy.purpose = 'mrs_mkt';
SELECT pg_temp.rows_of('masked.mrs_admin_t', 'mrs_a') AS a_only_tenant_a;
RESET privacy.purpose;
DROP TABLE mrs_admin_t CASCADE;

-- A restrictive policy for a role holds rows back from that role only.
CREATE ROLE mrs_auditors;
CREATE TABLE mrs_r (id int);
INSERT INTO mrs_r VALUES (1), (2);
ALTER TABLE mrs_r ENABLE ROW LEVEL SECURITY;
CREATE POLICY everyone ON mrs_r FOR SELECT USING (true);
CREATE POLICY auditors_odd ON mrs_r AS RESTRICTIVE FOR SELECT TO mrs_auditors USING (id % 2 = 1);
SELECT privacy.set_mask('mrs_r', 'id', 'none');
SELECT privacy.create_masking_view('mrs_r');
GRANT SELECT ON masked.mrs_r TO mrs_a, mrs_auditors;
SELECT pg_temp.rows_of('masked.mrs_r', 'mrs_a') AS not_an_auditor,
       pg_temp.rows_of('masked.mrs_r', 'mrs_auditors') AS auditor;

-- A policy's function runs under its own search_path: a reader's operator
-- or function cannot stand in for the policy's.
CREATE TABLE mrs_members (member name, tenant text);
INSERT INTO mrs_members VALUES ('mrs_a', 'a');
GRANT SELECT ON mrs_members TO PUBLIC;
CREATE TABLE mrs_t2 (id int, tenant text);
INSERT INTO mrs_t2 VALUES (1, 'a'), (2, 'b');
ALTER TABLE mrs_t2 ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_member ON mrs_t2 FOR SELECT
    USING (tenant IN (SELECT m.tenant FROM mrs_members m WHERE m.member = current_user));
SELECT privacy.set_mask('mrs_t2', 'id', 'none');
SELECT privacy.create_masking_view('mrs_t2');
CREATE SCHEMA mrs_a AUTHORIZATION mrs_a;
SET ROLE mrs_a;
CREATE FUNCTION mrs_a.yes(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR mrs_a.= (LEFTARG = text, RIGHTARG = text, FUNCTION = mrs_a.yes);
CREATE FUNCTION mrs_a.yes(name, name) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR mrs_a.= (LEFTARG = name, RIGHTARG = name, FUNCTION = mrs_a.yes);
SET search_path = mrs_a, pg_catalog;
SELECT id FROM masked.mrs_t2;
RESET search_path;
RESET ROLE;
DROP SCHEMA mrs_a CASCADE;
DROP TABLE mrs_r, mrs_members, mrs_t2 CASCADE;
DROP ROLE mrs_auditors;

-- A policy's IMMUTABLE function (the table owner's) does not run when a
-- role the policy does not apply to (a superuser) reads the masking view:
-- written into the view's WHERE it was folded when the view's read was
-- planned, with the superuser's rights.  Policies go through the view's
-- policy function, which a non-superuser administrator can build too.
GRANT CREATE ON SCHEMA public TO mrs_owner;
SET ROLE mrs_owner;
CREATE TABLE mrs_fold (id int, v text);
INSERT INTO mrs_fold VALUES (1, 'a');
CREATE FUNCTION mrs_fold_check() RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RAISE NOTICE 'policy function runs as %', current_user; RETURN true; END $$;
ALTER TABLE mrs_fold ENABLE ROW LEVEL SECURITY;
CREATE POLICY mrs_fold_p ON mrs_fold USING (mrs_fold_check());
GRANT SELECT ON mrs_fold TO mrs_admin;
RESET ROLE;
SELECT privacy.set_mask('mrs_fold', 'id', 'none'), privacy.set_mask('mrs_fold', 'v', 'redact');
SET ROLE mrs_admin;
SELECT privacy.create_masking_view('mrs_fold');
RESET ROLE;
ALTER VIEW masked.mrs_fold OWNER TO postgres;
SET client_min_messages = notice;
SELECT * FROM masked.mrs_fold;
GRANT SELECT ON masked.mrs_fold TO mrs_a;
SET ROLE mrs_a;
SELECT * FROM masked.mrs_fold;
RESET ROLE;
SET client_min_messages = warning;
DROP VIEW masked.mrs_fold;
DELETE FROM privacy.masking_views WHERE relid = 'mrs_fold'::regclass;
DELETE FROM privacy.mask_rules WHERE relid = 'mrs_fold'::regclass;
DROP TABLE mrs_fold CASCADE;
DROP FUNCTION mrs_fold_check();
-- A policy reading a temporary table: refused (deparsed, its name would
-- find each reader's own temporary table).
SET ROLE mrs_owner;
CREATE TABLE mrs_tmp (id int, who name);
ALTER TABLE mrs_tmp ENABLE ROW LEVEL SECURITY;
CREATE TEMP TABLE mrs_vip (r name);
CREATE POLICY mrs_tmp_p ON mrs_tmp USING (EXISTS (SELECT 1 FROM mrs_vip WHERE mrs_vip.r = current_user));
RESET ROLE;
SELECT privacy.set_mask('mrs_tmp', 'id', 'none');
SELECT privacy.create_masking_view('mrs_tmp');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM privacy.mask_rules WHERE relid = 'mrs_tmp'::regclass;
DROP TABLE mrs_tmp;
DROP TABLE mrs_vip;
REVOKE CREATE ON SCHEMA public FROM mrs_owner;

-- Bad input to the helpers.
SELECT privacy.row_security_applies(0::oid::regclass);
SELECT privacy.row_security_applies(NULL);
SELECT privacy.policy_applies_to_reader('mrs_cust', 'no_such_policy') AS unknown_policy;

DROP TABLE mrs_cust, mrs_map, mrs_secret CASCADE;
DROP FUNCTION mrs_peek(text);
SELECT privacy.unmask_role('mrs_a');
SELECT privacy.unmask_role('mrs_b');
SELECT privacy.unmask_role('mrs_b_member');
DELETE FROM privacy.consent_events WHERE purpose = 'mrs_mkt';
DELETE FROM privacy.consent_state WHERE purpose = 'mrs_mkt';
DROP OWNED BY mrs_owner, mrs_a, mrs_b, mrs_b_member;
DROP OWNED BY mrs_admin;
DROP ROLE mrs_owner, mrs_a, mrs_b_member, mrs_b, mrs_admin;
