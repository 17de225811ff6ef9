-- privacy.purpose_scope = 'transaction': a purpose the connection applied
-- for the whole session (ALTER ROLE / DATABASE ... SET, the connection's
-- options) is never in force, not even when RESET, SET [LOCAL] ... TO
-- DEFAULT or set_config(..., NULL, ...) bring it back as the reset value.
-- The scope comes from ALTER DATABASE ... SET, which a connection applies
-- after the role's settings and its options, so those purposes get in.
-- In a database of its own, for its ALTER DATABASE ... SET.
\set regress_db :DBNAME
CREATE DATABASE purpose_scope_regress;
\c purpose_scope_regress
SET client_min_messages = warning;
CREATE EXTENSION privacy_ext;
RESET client_min_messages;
CREATE ROLE regress_px_ps_app LOGIN;
SELECT privacy.create_purpose('ps_alpha', 'consent');
SELECT privacy.grant_purpose('regress_px_ps_app', 'ps_alpha');
CREATE TABLE ps_docs (subject text PRIMARY KEY);
INSERT INTO ps_docs SELECT 's' || g FROM generate_series(1, 10) g;
GRANT SELECT ON ps_docs TO regress_px_ps_app;
SELECT privacy.protect_table('ps_docs', 'subject');
SELECT count(*) FROM (SELECT privacy.grant_consent('s' || g, 'ps_alpha') FROM generate_series(1, 3) g) g;
ALTER DATABASE purpose_scope_regress SET privacy.purpose_scope = 'transaction';
ALTER ROLE regress_px_ps_app SET privacy.purpose = 'ps_alpha';

-- The role's purpose: held, shown as none (SHOW, current_setting), and
-- refused where it is used.
\c - regress_px_ps_app
SHOW privacy.purpose_scope;
SHOW privacy.purpose;
SELECT count(*) FROM ps_docs;
\echo :LAST_ERROR_SQLSTATE
-- A function's SET ... FROM CURRENT takes what is in force: none.
CREATE FUNCTION pg_temp.ps_rows() RETURNS bigint LANGUAGE sql
    SET privacy.purpose FROM CURRENT AS 'SELECT count(*) FROM ps_docs';
SELECT pg_temp.ps_rows() AS from_current_rows;
SELECT proconfig FROM pg_proc WHERE proname = 'ps_rows';
-- A declared purpose reaches parallel workers (they restore the leader's
-- settings for their session: not a declaration of theirs).
BEGIN;
SET LOCAL privacy.purpose = 'ps_alpha';
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ps_docs;
SELECT count(*) AS parallel_rows FROM ps_docs;
COMMIT;
-- SET LOCAL ... TO DEFAULT and RESET give no purpose, not the role's.
BEGIN;
SET LOCAL privacy.purpose TO DEFAULT;
SHOW privacy.purpose;
SELECT count(*) FROM ps_docs;
COMMIT;
BEGIN;
RESET privacy.purpose;
SHOW privacy.purpose;
SELECT count(*) FROM ps_docs;
ROLLBACK;
-- set_config(..., NULL, ...) brings the role's back: refused where used.
BEGIN;
SET LOCAL privacy.purpose = '';
SELECT set_config('privacy.purpose', NULL, true) AS reset_to;
SELECT count(*) FROM ps_docs;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- A declaration for the transaction is in force, and only there.
BEGIN;
SET LOCAL privacy.purpose = 'ps_alpha';
SELECT count(*) FROM ps_docs;
COMMIT;
SELECT count(*) FROM ps_docs;
\echo :LAST_ERROR_SQLSTATE
-- At session level: SET ... TO DEFAULT, RESET and RESET ALL end it for the
-- session (no purpose outlives its transaction, so they commit).
SET privacy.purpose TO DEFAULT;
SHOW privacy.purpose;
SELECT count(*) FROM ps_docs;
\c - regress_px_ps_app
RESET privacy.purpose;
SHOW privacy.purpose;
SELECT count(*) FROM ps_docs;
\c - regress_px_ps_app
RESET ALL;
SHOW privacy.purpose;
\c - regress_px_ps_app
DISCARD ALL;
SHOW privacy.purpose;

-- The connection's options (PGOPTIONS='-c privacy.purpose=...').
\c - postgres
ALTER ROLE regress_px_ps_app RESET privacy.purpose;
\c -reuse-previous=on "user=regress_px_ps_app options='-c privacy.purpose=ps_alpha'"
SHOW privacy.purpose;
SELECT count(*) FROM ps_docs;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SET LOCAL privacy.purpose TO DEFAULT;
SELECT count(*) FROM ps_docs;
COMMIT;
BEGIN;
RESET privacy.purpose;
SELECT count(*) FROM ps_docs;
COMMIT;
SHOW privacy.purpose;
SELECT count(*) FROM ps_docs;

-- destroy_key overwrites the key material only after every privacy_ext
-- check that can still fail the commit: the session-wide purpose below is
-- refused at the commit, which rolls the destruction back, so the material
-- must still be there and the key must still decrypt.
\c -reuse-previous=on "user=postgres options=''"
SELECT privacy.create_key('ps_keep') > 0 AS created;
CREATE TABLE ps_kept (v privacy.encrypted_text('ps_keep'));
INSERT INTO ps_kept VALUES ('kept-value');
DO $$
BEGIN
    PERFORM set_config('privacy.purpose', 'ps_alpha', false);
    PERFORM privacy.destroy_key('ps_keep');
END $$;
\echo :LAST_ERROR_SQLSTATE
SELECT destroyed_at IS NULL AS not_destroyed FROM privacy.data_keys WHERE name = 'ps_keep';
SELECT bool_and(ltrim(encode(v.wrapped_key, 'hex'), '0') <> '') AS material_intact
  FROM privacy.data_key_versions v JOIN privacy.data_keys k USING (key_id)
 WHERE k.name = 'ps_keep';
\c -reuse-previous=on "user=postgres options=''"
SELECT privacy.decrypt(v) FROM ps_kept;
DROP TABLE ps_kept;

-- With the scope "session" a role's purpose is the session's, and RESET
-- gives it back as before.
\c -reuse-previous=on "user=postgres options=''"
ALTER DATABASE purpose_scope_regress RESET privacy.purpose_scope;
ALTER ROLE regress_px_ps_app SET privacy.purpose = 'ps_alpha';
\c - regress_px_ps_app
SHOW privacy.purpose_scope;
SELECT count(*) FROM ps_docs;
SET privacy.purpose = '';
RESET privacy.purpose;
SHOW privacy.purpose;
SELECT count(*) FROM ps_docs;

\c - postgres
ALTER ROLE regress_px_ps_app RESET ALL;
\c :regress_db
DROP DATABASE purpose_scope_regress;
DROP ROLE regress_px_ps_app;

-- A function's SET privacy.purpose names a purpose that must exist, except
-- while function bodies are not checked (pg_restore creates functions
-- before the purposes' rows): it is checked when the function runs.
CREATE FUNCTION ps_later() RETURNS int LANGUAGE sql SET privacy.purpose = 'ps_not_yet' AS 'SELECT 1';
\echo :LAST_ERROR_SQLSTATE
SET check_function_bodies = off;
CREATE FUNCTION ps_later() RETURNS int LANGUAGE sql SET privacy.purpose = 'ps_not_yet' AS 'SELECT 1';
RESET check_function_bodies;
SELECT ps_later();
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.create_purpose('ps_not_yet', 'contract');
SELECT ps_later();
DROP FUNCTION ps_later();
DELETE FROM privacy.purposes WHERE name = 'ps_not_yet';
