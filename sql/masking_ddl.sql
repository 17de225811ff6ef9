-- Masking views and DDL: ALTER TABLE touches only the altered table's
-- masking view and keeps its owner and grants; nothing another role builds
-- on a masking view blocks DDL on other tables; what cannot be rebuilt
-- fails with an error naming what is in the way, and changes nothing.
-- And mask_role / unmask_role run by an administrator who is not a
-- superuser.
CREATE ROLE masking_ddl_owner;                          -- owns the tables
CREATE ROLE masking_ddl_admin IN ROLE privacy_admin;    -- creates the views
CREATE ROLE masking_ddl_reader;                         -- masked
CREATE ROLE masking_ddl_auditor;                        -- granted by hand
CREATE ROLE masking_ddl_other;                          -- owns unrelated tables
CREATE SCHEMA masking_ddl_reader_s AUTHORIZATION masking_ddl_reader;
GRANT CREATE ON SCHEMA public TO masking_ddl_owner, masking_ddl_other;   -- to rename tables

CREATE TABLE masking_ddl_t (id int PRIMARY KEY, name text, email text, born date);
INSERT INTO masking_ddl_t VALUES (1, 'Ann Smith', 'ann@example.com', '1985-06-15'),
                                 (2, 'Bob Jones', 'bob@example.org', '1990-02-01');
ALTER TABLE masking_ddl_t OWNER TO masking_ddl_owner;
SET ROLE masking_ddl_owner;
GRANT SELECT ON masking_ddl_t TO masking_ddl_admin, masking_ddl_reader;
RESET ROLE;
CREATE TABLE masking_ddl_u (a int, b text, c text);
ALTER TABLE masking_ddl_u OWNER TO masking_ddl_other;
CREATE TABLE masking_ddl_plain (a int, b text);      -- no masking view

SET ROLE masking_ddl_admin;
SELECT privacy.set_mask('masking_ddl_t', 'name', 'partial(1, ''.'', 0)');
SELECT privacy.set_mask('masking_ddl_t', 'email', 'email');
-- 1.1, privacy by default: a column without a rule is redacted; these are shown in clear.
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id', 'born']) c, LATERAL privacy.set_mask('masking_ddl_t', c, 'none');
SELECT privacy.create_masking_view('masking_ddl_t');
GRANT SELECT ON masked.masking_ddl_t TO masking_ddl_auditor WITH GRANT OPTION;
RESET ROLE;
SELECT privacy.mask_role('masking_ddl_reader');

-- The owner and the grants of the view, to compare before and after.
CREATE FUNCTION pg_temp.view_acl(v text) RETURNS text LANGUAGE sql AS $$
    SELECT c.relowner::regrole || ' ' || coalesce(c.relacl::text, '(default)')
      FROM pg_class c WHERE c.oid = to_regclass(v) $$;
SELECT pg_temp.view_acl('masked.masking_ddl_t') AS before \gset
SELECT :'before' AS owner_and_acl;
CREATE FUNCTION pg_temp.same(v text, before text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN pg_temp.view_acl(v) = before THEN 'same owner and grants'
                ELSE 'CHANGED: ' || coalesce(pg_temp.view_acl(v), 'no view') END $$;

-- The masked role builds a view of its own on the masking view.
SET ROLE masking_ddl_reader;
CREATE VIEW masking_ddl_reader_s.mine AS SELECT id, name FROM masked.masking_ddl_t;
SELECT * FROM masking_ddl_reader_s.mine ORDER BY id;
RESET ROLE;

-- DDL of other roles on other tables never touches it, whatever it does.
SET ROLE masking_ddl_other;
ALTER TABLE masking_ddl_u ADD COLUMN d int;
ALTER TABLE masking_ddl_u DROP COLUMN b;
ALTER TABLE masking_ddl_u RENAME COLUMN c TO cc;
ALTER TABLE masking_ddl_u ALTER COLUMN a TYPE bigint;
ALTER TABLE masking_ddl_u RENAME TO masking_ddl_u2;
RESET ROLE;
ALTER TABLE masking_ddl_plain ADD COLUMN c int;
ALTER TABLE masking_ddl_plain DROP COLUMN c;
SELECT pg_temp.same('masked.masking_ddl_t', :'before');

-- On the table itself: an appended column, a renamed column, a renamed
-- table keep the view in place (and what was built on it).
SET ROLE masking_ddl_owner;
ALTER TABLE masking_ddl_t ADD COLUMN phone text DEFAULT '+31 6 1234 5678';
ALTER TABLE masking_ddl_t RENAME COLUMN email TO mail;
RESET ROLE;
\d masked.masking_ddl_t
SELECT column_name, rule FROM privacy.mask_rules WHERE relid = 'masking_ddl_t'::regclass ORDER BY 1;
SELECT pg_temp.same('masked.masking_ddl_t', :'before');
SET ROLE masking_ddl_reader;
SELECT * FROM masked.masking_ddl_t ORDER BY id;
SELECT * FROM masking_ddl_reader_s.mine ORDER BY id;
RESET ROLE;
-- Two columns trading names: each keeps its own rule.
SET ROLE masking_ddl_owner;
BEGIN;
ALTER TABLE masking_ddl_t RENAME COLUMN name TO tmp;
ALTER TABLE masking_ddl_t RENAME COLUMN mail TO name;
ALTER TABLE masking_ddl_t RENAME COLUMN tmp TO mail;
COMMIT;
RESET ROLE;
SET ROLE masking_ddl_reader;
SELECT id, name, mail FROM masked.masking_ddl_t ORDER BY id;
RESET ROLE;
SET ROLE masking_ddl_owner;
BEGIN;
ALTER TABLE masking_ddl_t RENAME COLUMN name TO tmp;
ALTER TABLE masking_ddl_t RENAME COLUMN mail TO name;
ALTER TABLE masking_ddl_t RENAME COLUMN tmp TO mail;
COMMIT;
RESET ROLE;

-- Dropping or retyping a column the view shows needs the view rebuilt,
-- and the masked role's view is in the way: a clear error, nothing done.
SET ROLE masking_ddl_owner;
ALTER TABLE masking_ddl_t DROP COLUMN born;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE masking_ddl_t ALTER COLUMN born TYPE timestamp;
ALTER TABLE masking_ddl_t ADD COLUMN x int, DROP COLUMN phone;
RESET ROLE;
-- Someone who may not alter the table gets the usual error, and nothing
-- of the view is touched (nor named) on its behalf.
SET ROLE masking_ddl_other;
ALTER TABLE masking_ddl_t DROP COLUMN born;
RESET ROLE;
SELECT count(*) AS born_still_there FROM pg_attribute
 WHERE attrelid = 'masking_ddl_t'::regclass AND attname = 'born' AND NOT attisdropped;
SELECT count(*) AS no_x FROM pg_attribute WHERE attrelid = 'masking_ddl_t'::regclass AND attname = 'x';
SELECT pg_temp.same('masked.masking_ddl_t', :'before');
SELECT count(*) AS nothing_pending FROM privacy.masking_view_rebuilds;
SET ROLE masking_ddl_reader;
SELECT * FROM masking_ddl_reader_s.mine ORDER BY id;
RESET ROLE;
-- A rule set or dropped is applied in place: what depends on the view stays.
SET ROLE masking_ddl_admin;
SELECT privacy.set_mask('masking_ddl_t', 'born', 'redact');   -- same type: in place
SELECT privacy.drop_mask('masking_ddl_t', 'born');
RESET ROLE;

-- Without it, they go through, and the view comes back with its owner and
-- every grant, the one made by hand included.
SET ROLE masking_ddl_reader;
DROP VIEW masking_ddl_reader_s.mine;
RESET ROLE;
SET ROLE masking_ddl_owner;
ALTER TABLE masking_ddl_t DROP COLUMN born;
SELECT pg_temp.same('masked.masking_ddl_t', :'before');
ALTER TABLE masking_ddl_t ALTER COLUMN id TYPE bigint;
SELECT pg_temp.same('masked.masking_ddl_t', :'before');
ALTER TABLE masking_ddl_t ALTER COLUMN mail TYPE varchar(200), ADD COLUMN y int;
RESET ROLE;
SELECT pg_temp.same('masked.masking_ddl_t', :'before');
SELECT count(*) AS nothing_pending FROM privacy.masking_view_rebuilds;
\d masked.masking_ddl_t
SET ROLE masking_ddl_reader;
SELECT * FROM masked.masking_ddl_t ORDER BY id;
RESET ROLE;
-- The table renamed: so is the view, with everything it had.
SET ROLE masking_ddl_owner;
ALTER TABLE masking_ddl_t RENAME TO masking_ddl_t2;
RESET ROLE;
SELECT view_name FROM privacy.masking_views WHERE relid = 'masking_ddl_t2'::regclass;
SELECT to_regclass('masked.masking_ddl_t') AS old_name_gone;
SELECT pg_temp.same('masked.masking_ddl_t2', :'before');
-- Its grants survive a failed rebuild attempt too (rolled back whole).
SET ROLE masking_ddl_reader;
CREATE VIEW masking_ddl_reader_s.again AS SELECT * FROM masked.masking_ddl_t2;
RESET ROLE;
ALTER TABLE masking_ddl_t2 DROP COLUMN y;
SELECT pg_temp.same('masked.masking_ddl_t2', :'before');
SET ROLE masking_ddl_reader;
DROP VIEW masking_ddl_reader_s.again;
RESET ROLE;

-- A table with no masking view costs no rebuild, whatever is altered.
SET track_functions = 'all';
BEGIN;
ALTER TABLE masking_ddl_plain ADD COLUMN d int;
ALTER TABLE masking_ddl_plain DROP COLUMN d;
ALTER TABLE masking_ddl_plain ALTER COLUMN a TYPE bigint;
ALTER TABLE masking_ddl_plain RENAME COLUMN b TO bb;
SELECT funcname, calls FROM pg_stat_xact_user_functions
 WHERE schemaname = 'privacy' AND funcname LIKE 'masking\_view%' ORDER BY 1;
COMMIT;
RESET track_functions;

-- Partitions: ALTER on the parent recurses, and every view that reads a
-- column it drops is rebuilt; ALTER on one partition touches its view only.
CREATE TABLE masking_ddl_p (id int, v text, w text) PARTITION BY LIST (id);
CREATE TABLE masking_ddl_p1 PARTITION OF masking_ddl_p FOR VALUES IN (1);
CREATE TABLE masking_ddl_p2 PARTITION OF masking_ddl_p FOR VALUES IN (2);
INSERT INTO masking_ddl_p VALUES (1, 'one', 'x'), (2, 'two', 'y');
SELECT privacy.set_mask('masking_ddl_p', 'v', 'redact');
SELECT privacy.set_mask('masking_ddl_p1', 'v', 'redact');
-- 1.1, privacy by default: a column without a rule is redacted; these are shown in clear.
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id', 'w']) c, LATERAL privacy.set_mask('masking_ddl_p', c, 'none');
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id', 'w']) c, LATERAL privacy.set_mask('masking_ddl_p1', c, 'none');
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id', 'v', 'w']) c, LATERAL privacy.set_mask('masking_ddl_p2', c, 'none');
SELECT privacy.create_masking_view('masking_ddl_p');
SELECT privacy.create_masking_view('masking_ddl_p1');
SELECT privacy.create_masking_view('masking_ddl_p2');
GRANT SELECT ON masked.masking_ddl_p1 TO masking_ddl_auditor;
SELECT pg_temp.view_acl('masked.masking_ddl_p1') AS p1_before \gset
ALTER TABLE masking_ddl_p ADD COLUMN z int;
ALTER TABLE masking_ddl_p DROP COLUMN w;
SELECT v.view_name, string_agg(a.attname, ', ' ORDER BY a.attnum) AS columns
  FROM privacy.masking_views v JOIN pg_attribute a ON a.attrelid = to_regclass(v.view_name)
 WHERE v.view_name LIKE 'masked.masking\_ddl\_p%' AND a.attnum > 0
 GROUP BY 1 ORDER BY 1;
SELECT pg_temp.same('masked.masking_ddl_p1', :'p1_before');
SET ROLE masking_ddl_reader;
CREATE VIEW masking_ddl_reader_s.onp2 AS SELECT * FROM masked.masking_ddl_p2;
RESET ROLE;
SET track_functions = 'all';
BEGIN;
ALTER TABLE masking_ddl_p1 ALTER COLUMN z SET DEFAULT 7;       -- one partition: its view only
SELECT funcname, calls FROM pg_stat_xact_user_functions
 WHERE schemaname = 'privacy' AND funcname IN ('masking_view_build', 'masking_view_rebuild') ORDER BY 1;
COMMIT;
RESET track_functions;
ALTER TABLE masking_ddl_p DROP COLUMN z;                       -- p2's view is in the way
SET ROLE masking_ddl_reader;
SELECT * FROM masked.masking_ddl_p ORDER BY id;
DROP VIEW masking_ddl_reader_s.onp2;
RESET ROLE;

-- Internal functions are not for calling.
SET ROLE masking_ddl_reader;
SELECT privacy.masking_views_detach('masking_ddl_t2', '{id}');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.masking_view_rebuild('masking_ddl_t2');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.masking_view_build('masking_ddl_t2', true);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.set_masked_search_path('masking_ddl_reader', false);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- A registry row pointing elsewhere is not followed by the rebuild, which
-- runs as the extension's owner: it only rebuilds a real masking view.
CREATE VIEW public.masking_ddl_decoy AS SELECT 1 AS one;
-- (An administrator cannot write such a row: sql/privileged_reads.sql; a
-- superuser can.)
SET ROLE masking_ddl_admin;
INSERT INTO privacy.masking_views VALUES ('masking_ddl_plain', 'public.masking_ddl_decoy');
RESET ROLE;
INSERT INTO privacy.masking_views VALUES ('masking_ddl_plain', 'public.masking_ddl_decoy');
ALTER TABLE masking_ddl_plain ADD COLUMN e int;
ALTER TABLE masking_ddl_plain DROP COLUMN e;
SELECT pg_get_viewdef('public.masking_ddl_decoy') AS decoy_untouched;
SELECT to_regclass('masked.masking_ddl_plain') AS nothing_created;
DELETE FROM privacy.masking_views WHERE relid = 'masking_ddl_plain'::regclass;

-- mask_role by an administrator who is not a superuser: it must be able
-- to grant every masking view and to take back the role's grants on the
-- tables, or it is refused before anything changes; the search_path is set
-- through a helper that refuses roles an administrator must not steer.  A
-- superuser is never masked.
CREATE ROLE masking_ddl_clerk;
CREATE ROLE masking_ddl_clerk2;
CREATE ROLE masking_ddl_creator CREATEROLE;
CREATE ROLE masking_ddl_fellow IN ROLE privacy_admin;
CREATE ROLE masking_ddl_super SUPERUSER;
CREATE ROLE masking_ddl_etl IN ROLE pg_execute_server_program;
CREATE ROLE masking_ddl_bypass BYPASSRLS;
CREATE TABLE masking_ddl_fx (id int);
GRANT SELECT ON masking_ddl_fx TO masking_ddl_admin;
CREATE ROLE masking_ddl_dbas SUPERUSER NOLOGIN;
CREATE ROLE masking_ddl_dba IN ROLE masking_ddl_dbas;
CREATE SCHEMA masking_ddl_adm AUTHORIZATION masking_ddl_admin;
SET ROLE masking_ddl_admin;
SELECT privacy.mask_role('masking_ddl_clerk');        -- masked.masking_ddl_p* are a superuser's
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS not_recorded FROM privacy.masked_roles WHERE role_name = 'masking_ddl_clerk';
RESET ROLE;
DELETE FROM privacy.masking_views WHERE view_name LIKE 'masked.masking\_ddl\_p%';
DROP TABLE masking_ddl_p CASCADE;
SET ROLE masking_ddl_admin;
SELECT privacy.mask_role('masking_ddl_clerk');        -- now every masking view is its own
SELECT rolconfig FROM pg_roles WHERE rolname = 'masking_ddl_clerk';
SELECT has_table_privilege('masking_ddl_clerk', 'masked.masking_ddl_t2', 'SELECT') AS reads_view;
RESET ROLE;
SET ROLE masking_ddl_owner;
GRANT SELECT ON masking_ddl_t2 TO masking_ddl_clerk2;
RESET ROLE;
SET ROLE masking_ddl_admin;
SELECT privacy.mask_role('masking_ddl_clerk2');       -- a grant of the table's owner it cannot revoke
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.mask_role('masking_ddl_creator');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.mask_role('masking_ddl_fellow');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.mask_role('masking_ddl_admin');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.mask_role('masking_ddl_super');
\echo :LAST_ERROR_SQLSTATE
-- roles whose rights reach beyond the tables: a superuser masks those
SELECT privacy.mask_role('masking_ddl_etl');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.mask_role('masking_ddl_bypass');
\echo :LAST_ERROR_SQLSTATE
-- Schema masked holds masking views only: a view of an administrator's
-- own there (in front of a masked role's names) is refused.
CREATE VIEW masked.masking_ddl_jobs AS SELECT 1 AS id;
\echo :LAST_ERROR_SQLSTATE
CREATE VIEW masked.masking_ddl_jobs AS SELECT * FROM masking_ddl_t2
 WHERE pg_catalog.query_to_xml('SELECT 1', true, true, '') IS NOT NULL;
\echo :LAST_ERROR_SQLSTATE
ALTER VIEW masked.masking_ddl_t2 RENAME TO masking_ddl_jobs;
\echo :LAST_ERROR_SQLSTATE
CREATE VIEW masked.masking_ddl_fx AS SELECT * FROM masking_ddl_fx
 WHERE pg_catalog.query_to_xml('SELECT 1', true, true, '') IS NOT NULL;
\echo :LAST_ERROR_SQLSTATE
-- ... nor through an object on a masking view: a rule replacing its query,
-- an INSTEAD OF trigger, a column default; nor a view moved in; nor a view
-- of the administrator's own view
CREATE FUNCTION masking_ddl_adm.evil() RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OR REPLACE RULE "_RETURN" AS ON SELECT TO masked.masking_ddl_t2 DO INSTEAD
  SELECT * FROM masking_ddl_t2 WHERE masking_ddl_adm.evil();
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION masking_ddl_adm.trg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER masking_ddl_trg INSTEAD OF INSERT ON masked.masking_ddl_t2
  FOR EACH ROW EXECUTE FUNCTION masking_ddl_adm.trg();
\echo :LAST_ERROR_SQLSTATE
CREATE VIEW masking_ddl_adm.masking_ddl_moved AS SELECT 1 AS id WHERE masking_ddl_adm.evil();
ALTER TABLE masking_ddl_adm.masking_ddl_moved SET SCHEMA masked;
\echo :LAST_ERROR_SQLSTATE
CREATE VIEW masked.masking_ddl_moved AS SELECT id FROM masking_ddl_adm.masking_ddl_moved;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS unchanged FROM pg_trigger WHERE tgrelid = 'masked.masking_ddl_t2'::regclass;
-- a member of a superuser role
SELECT privacy.mask_role('masking_ddl_dba');
\echo :LAST_ERROR_SQLSTATE
-- a relation of a role reached by SET ROLE only (NOINHERIT) is its own too
RESET ROLE;
CREATE ROLE masking_ddl_xo;
CREATE ROLE masking_ddl_mid NOINHERIT IN ROLE masking_ddl_xo;
GRANT masking_ddl_mid TO masking_ddl_admin;
CREATE TABLE masking_ddl_xt (id int);
ALTER TABLE masking_ddl_xt OWNER TO masking_ddl_xo;
GRANT SELECT ON masking_ddl_xt TO masking_ddl_admin;
SET ROLE masking_ddl_admin;
SELECT privacy.create_masking_view('masking_ddl_xt');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.mask_role('masking_ddl_nosuchrole');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.mask_role(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.mask_role('');
\echo :LAST_ERROR_SQLSTATE
SELECT role_name FROM privacy.masked_roles WHERE role_name LIKE 'masking\_ddl%' ORDER BY 1;
SELECT rolname, rolconfig FROM pg_roles
 WHERE rolname IN ('masking_ddl_clerk2', 'masking_ddl_creator', 'masking_ddl_fellow', 'masking_ddl_super')
 ORDER BY 1;
SELECT has_table_privilege('masking_ddl_clerk2', 'masked.masking_ddl_t2', 'SELECT') AS clerk2_reads_view,
       has_table_privilege('masking_ddl_clerk2', 'masking_ddl_t2', 'SELECT') AS clerk2_reads_table;
-- The helper itself: only the fixed search_path, only for a masked role.
SELECT privacy.set_masked_search_path('masking_ddl_auditor', true);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.set_masked_search_path('masking_ddl_super', false);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.unmask_role('masking_ddl_clerk');
SELECT rolconfig FROM pg_roles WHERE rolname = 'masking_ddl_clerk';
SELECT has_table_privilege('masking_ddl_clerk', 'masked.masking_ddl_t2', 'SELECT') AS reads_view;
RESET ROLE;
-- Not even a superuser masks a superuser.
SELECT privacy.mask_role('masking_ddl_super');
\echo :LAST_ERROR_SQLSTATE
-- A superuser masks the others (its own ALTER ROLE), and unmasks them.
SELECT privacy.mask_role('masking_ddl_creator');
SELECT privacy.mask_role('masking_ddl_clerk2');
SELECT rolname, rolconfig FROM pg_roles WHERE rolname IN ('masking_ddl_creator', 'masking_ddl_clerk2') ORDER BY 1;
SELECT has_table_privilege('masking_ddl_clerk2', 'masking_ddl_t2', 'SELECT') AS clerk2_reads_table;
-- A non-superuser unmasking clerk2 would have to give back the owner's grant.
SET ROLE masking_ddl_admin;
SELECT privacy.unmask_role('masking_ddl_clerk2');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT privacy.unmask_role('masking_ddl_creator');
SELECT privacy.unmask_role('masking_ddl_clerk2');
SELECT has_table_privilege('masking_ddl_clerk2', 'masking_ddl_t2', 'SELECT') AS clerk2_reads_table;

-- Masking views are named after their tables in schema masked: a table of
-- the same name in another schema is refused its own, and a table renamed
-- onto a taken name keeps its view's name (with a warning).
CREATE SCHEMA masking_ddl_elsewhere;
CREATE TABLE masking_ddl_elsewhere.masking_ddl_t2 (a int);
SELECT privacy.create_masking_view('masking_ddl_elsewhere.masking_ddl_t2');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE masking_ddl_elsewhere.masking_ddl_w (a int);
SELECT privacy.create_masking_view('masking_ddl_elsewhere.masking_ddl_w');
CREATE TABLE masking_ddl_v (a int);
SELECT privacy.create_masking_view('masking_ddl_v');
ALTER TABLE masking_ddl_v RENAME TO masking_ddl_w;
SELECT relid, view_name FROM privacy.masking_views WHERE view_name LIKE 'masked.masking\_ddl\__' ORDER BY 2;
DELETE FROM privacy.masking_views WHERE view_name LIKE 'masked.masking\_ddl\__';
DROP SCHEMA masking_ddl_elsewhere CASCADE;
DROP TABLE masking_ddl_w CASCADE;

-- The registry follows DDL on the masking views themselves: a renamed
-- view keeps its row (masked roles, looking for masked.<table>, are refused
-- the table until the next rebuild renames the view back), a dropped one is
-- forgotten, by DROP VIEW as by DROP OWNED BY its owner, and its security
-- barrier cannot be taken away.
CREATE ROLE masking_ddl_vowner;
CREATE TABLE masking_ddl_r (id int, s text);
SELECT privacy.set_mask('masking_ddl_r', 's', 'redact');
SELECT privacy.create_masking_view('masking_ddl_r');
ALTER VIEW masked.masking_ddl_r RENAME TO masking_ddl_rx;
SELECT view_name FROM privacy.masking_views WHERE relid = 'masking_ddl_r'::regclass;
ALTER TABLE masking_ddl_r ADD COLUMN n int;             -- the rebuild: back to its name
SELECT view_name FROM privacy.masking_views WHERE relid = 'masking_ddl_r'::regclass;
ALTER TABLE masked.masking_ddl_r RENAME TO masking_ddl_ry;   -- ALTER TABLE renames views too
SELECT view_name FROM privacy.masking_views WHERE relid = 'masking_ddl_r'::regclass;
ALTER VIEW masked.masking_ddl_ry SET SCHEMA public;     -- no masking view any more: the row stays
SELECT view_name FROM privacy.masking_views WHERE relid = 'masking_ddl_r'::regclass;
ALTER VIEW public.masking_ddl_ry SET SCHEMA masked;
ALTER VIEW masked.masking_ddl_ry RENAME TO masking_ddl_r;
SELECT view_name FROM privacy.masking_views WHERE relid = 'masking_ddl_r'::regclass;
ALTER VIEW masked.masking_ddl_r SET (security_barrier = false);
\echo :LAST_ERROR_SQLSTATE
ALTER VIEW masked.masking_ddl_r RESET (security_barrier);
\echo :LAST_ERROR_SQLSTATE
CREATE OR REPLACE VIEW masked.masking_ddl_r AS SELECT id, 'x'::text COLLATE "C" AS s, n FROM masking_ddl_r;
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.view_is_security_barrier('masked.masking_ddl_r') AS still_barrier,
       pg_get_viewdef('masked.masking_ddl_r') LIKE '%apply_mask%' AS still_masking;
DROP VIEW masked.masking_ddl_r;
SELECT count(*) AS forgotten FROM privacy.masking_views WHERE relid = 'masking_ddl_r'::regclass;
SELECT privacy.create_masking_view('masking_ddl_r');
ALTER VIEW masked.masking_ddl_r OWNER TO masking_ddl_vowner;
DROP OWNED BY masking_ddl_vowner;
SELECT count(*) AS forgotten FROM privacy.masking_views WHERE relid = 'masking_ddl_r'::regclass;
DROP TABLE masking_ddl_r;
DROP ROLE masking_ddl_vowner;

-- Clean up.
SELECT privacy.unmask_role('masking_ddl_reader');
DELETE FROM privacy.masking_views WHERE view_name LIKE 'masked.masking\_ddl%';
DELETE FROM privacy.mask_rules WHERE relid::text LIKE 'masking\_ddl%';
DROP TABLE masking_ddl_t2, masking_ddl_u2, masking_ddl_plain CASCADE;
REVOKE CREATE ON SCHEMA public FROM masking_ddl_owner, masking_ddl_other;
DROP VIEW public.masking_ddl_decoy;
DROP SCHEMA masking_ddl_reader_s CASCADE;
DROP OWNED BY masking_ddl_owner, masking_ddl_admin, masking_ddl_reader, masking_ddl_auditor,
    masking_ddl_other, masking_ddl_clerk, masking_ddl_clerk2, masking_ddl_creator, masking_ddl_fellow, masking_ddl_super;
DROP ROLE masking_ddl_owner, masking_ddl_admin, masking_ddl_reader, masking_ddl_auditor,
    masking_ddl_other, masking_ddl_clerk, masking_ddl_clerk2, masking_ddl_creator, masking_ddl_fellow, masking_ddl_super,
    masking_ddl_etl, masking_ddl_bypass, masking_ddl_dba, masking_ddl_dbas;
DROP TABLE masking_ddl_fx, masking_ddl_xt;
DROP ROLE masking_ddl_mid, masking_ddl_xo;
