-- privacy_ext reads other roles' tables with a superuser's rights (the
-- columns under a key, a data-subject request's counts) and superusers
-- read the inventory and the report, which count k-anonymity over
-- registered tables.  A table owner's code that PostgreSQL runs meanwhile
-- -- an IMMUTABLE function of a partial index predicate, folded by the
-- planner -- runs as its owner (src/foreign_calls.c), never as the
-- superuser; and registry rows an administrator writes by hand are
-- checked (sql/parts/1.1/99_registry_rows_checked.sql).
SELECT privacy.create_key('pr_k') > 0 AS created;
CREATE ROLE pr_owner;
CREATE ROLE pr_admin;
GRANT privacy_admin TO pr_admin;
CREATE ROLE pr_victim;
CREATE SCHEMA pr_mal AUTHORIZATION pr_owner;
GRANT USAGE ON SCHEMA pr_mal TO pr_admin;
GRANT CREATE ON SCHEMA public TO pr_admin;

SET ROLE pr_owner;
-- Says who runs it; as a superuser it would make pr_owner one.
CREATE FUNCTION pr_mal.pwn() RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE NOTICE 'pr_mal.pwn() runs as %', current_user;
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE pr_owner SUPERUSER';
    END IF;
END $$;
CREATE FUNCTION pr_mal.pred() RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM pr_mal.pwn(); RETURN true; END $$;
CREATE TABLE pr_mal.under_key (id int, e privacy.encrypted_text('pr_k'));
CREATE INDEX ON pr_mal.under_key (id) WHERE pr_mal.pred();
CREATE TABLE pr_mal.customers (customer_id text PRIMARY KEY, zip text);
INSERT INTO pr_mal.customers VALUES ('pr-1', '10115'), ('pr-2', '10115');
CREATE DOMAIN pr_mal.zip_code AS text CHECK (pr_mal.pred());
CREATE TABLE pr_mal.visits (id int, zip pr_mal.zip_code);
INSERT INTO pr_mal.visits VALUES (1, '10115'), (2, '10115');
RESET ROLE;
SELECT privacy.protect_table('pr_mal.customers', subject_column => 'customer_id');
SELECT privacy.set_quasi_identifiers('pr_mal.visits', ARRAY['zip']);
SET ROLE pr_owner;
CREATE INDEX ON pr_mal.customers (zip) WHERE pr_mal.pred();
CREATE INDEX ON pr_mal.visits (id) WHERE pr_mal.pred();
RESET ROLE;

-- A key administrator reading privacy.keys, dropping a version.
SET ROLE pr_admin;
SELECT name, versions_in_use FROM privacy.keys WHERE name = 'pr_k';
SELECT privacy.rotate_key('pr_k') AS version, privacy.rotate_key('pr_k') AS version;
SELECT privacy.drop_key_version('pr_k', 2);
-- A data-subject request by an administrator.
SELECT privacy.export_subject('pr-1') IS NOT NULL AS exported;
SELECT (privacy.erase_subject('pr-1'))->'rows' AS erased;
RESET ROLE;
-- A superuser's inventory, report and k-anonymity.
SELECT DISTINCT k_anonymity FROM privacy.inventory WHERE k_anonymity IS NOT NULL;
SELECT length(privacy.report()) > 0 AS report_made;
SELECT privacy.k_anonymity('pr_mal.visits', ARRAY['zip']);
SELECT rolsuper FROM pg_roles WHERE rolname = 'pr_owner';

-- Registry rows written by hand by a non-superuser administrator.
SET ROLE pr_admin;
CREATE TABLE public.pr_plain (id int, zip text);
CREATE VIEW public.pr_view AS SELECT id, zip FROM public.pr_plain;
INSERT INTO privacy.quasi_identifiers (relid, columns) VALUES ('public.pr_view', '{zip}');
INSERT INTO privacy.quasi_identifiers (relid, columns) VALUES ('public.pr_plain', '{nope}');
INSERT INTO privacy.quasi_identifiers (relid, columns) VALUES ('pr_mal.customers', '{zip}');
INSERT INTO privacy.quasi_identifiers (relid, columns) VALUES ('public.pr_plain', '{zip}');
DELETE FROM privacy.quasi_identifiers WHERE relid = 'public.pr_plain'::regclass;
INSERT INTO privacy.masking_views (relid, view_name) VALUES ('public.pr_plain', 'public.pr_view');
INSERT INTO privacy.masked_roles (role_name, revoked) VALUES ('pr_victim', '{public.pr_plain}');
INSERT INTO privacy.masked_roles (role_name) VALUES ('pr_victim');
UPDATE privacy.masked_roles SET revoked = '{public.pr_plain}' WHERE role_name = 'pr_victim';
DELETE FROM privacy.masked_roles WHERE role_name = 'pr_victim';
RESET ROLE;
-- mask_role lists the grants it takes away itself: those pass.
GRANT SELECT ON public.pr_plain TO pr_victim;
SELECT privacy.set_mask('public.pr_plain', 'zip', 'redact');
SELECT privacy.set_mask('public.pr_plain', 'id', 'none');
SELECT privacy.create_masking_view('public.pr_plain');
-- A grant the role holds may be listed (as mask_role lists it).
SET ROLE pr_admin;
INSERT INTO privacy.masked_roles (role_name, revoked) VALUES ('pr_victim', '{public.pr_plain}');
DELETE FROM privacy.masked_roles WHERE role_name = 'pr_victim';
RESET ROLE;
SELECT privacy.mask_role('pr_victim');
SELECT role_name, revoked FROM privacy.masked_roles WHERE role_name = 'pr_victim';
SELECT privacy.unmask_role('pr_victim');
SELECT has_table_privilege('pr_victim', 'public.pr_plain', 'SELECT') AS given_back;
-- A row written earlier naming another relation as a masking view (a
-- superuser may write anything) is not followed by mask_role.
INSERT INTO privacy.masking_views (relid, view_name) VALUES ('pr_mal.customers', 'pr_mal.customers')
    ON CONFLICT (relid) DO UPDATE SET view_name = EXCLUDED.view_name;
SELECT privacy.mask_role('pr_victim');
SELECT has_table_privilege('pr_victim', 'pr_mal.customers', 'SELECT') AS granted_by_forged_row;
SELECT privacy.unmask_role('pr_victim');
DELETE FROM privacy.masking_views WHERE relid = 'pr_mal.customers'::regclass;

DROP TABLE public.pr_plain CASCADE;
DROP SCHEMA pr_mal CASCADE;
REVOKE CREATE ON SCHEMA public FROM pr_admin;
DROP ROLE pr_owner;
DROP ROLE pr_victim;
DROP OWNED BY pr_admin;
DROP ROLE pr_admin;
