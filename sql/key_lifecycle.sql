-- Rotation, re-encryption, versions in use, dropping a version, destroying a key.
SELECT privacy.create_key('life') > 0 AS created;
CREATE TABLE vault (id int PRIMARY KEY, secret privacy.encrypted_text('life'),
                    blob privacy.encrypted_bytea('life'), tag privacy.encrypted_text_det('life'));
INSERT INTO vault SELECT g, 'secret-' || g, convert_to('blob-' || g, 'UTF8'), 'tag-' || (g % 10)
  FROM generate_series(1, 500) g;
SELECT privacy.rotate_key('life');
INSERT INTO vault SELECT g, 'secret-' || g, NULL, 'tag-' || (g % 10) FROM generate_series(501, 600) g;
SELECT name, active_version, versions, versions_in_use FROM privacy.keys WHERE name = 'life';

-- An old version still in use cannot be dropped; neither the active one nor version 1.
SELECT privacy.rotate_key('life');
SELECT privacy.drop_key_version('life', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.drop_key_version('life', 3);
SELECT privacy.drop_key_version('life', 1);
SELECT privacy.drop_key_version('life', 9);
\echo :LAST_ERROR_SQLSTATE

-- reencrypt rewrites older versions to the active one and counts the rows.
SELECT privacy.reencrypt('vault', 'secret', 50) AS secret_rows;
SELECT privacy.reencrypt('vault', 'blob') AS blob_rows;
SELECT privacy.reencrypt('vault', 'tag') AS det_rows;       -- deterministic: stays on version 1
SELECT privacy.reencrypt('vault', 'secret') AS again;        -- nothing left
SELECT privacy.envelope_key_version(secret) AS version, count(*) FROM vault GROUP BY 1 ORDER BY 1;
SELECT count(*) FILTER (WHERE privacy.decrypt(secret) = 'secret-' || id) AS intact,
       count(*) FILTER (WHERE privacy.decrypt(blob) = convert_to('blob-' || id, 'UTF8')) AS blobs_intact
  FROM vault;
SELECT versions_in_use FROM privacy.keys WHERE name = 'life';
-- Not inside a transaction block: the overwrite could not be rolled back,
-- and the version is kept.
BEGIN;
SELECT privacy.drop_key_version('life', 2);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT versions FROM privacy.keys WHERE name = 'life';
-- Now version 2 is unused and can go; its key material is gone.
SELECT privacy.drop_key_version('life', 2);
SELECT versions FROM privacy.keys WHERE name = 'life';
-- reencrypt's bad input.
SELECT privacy.reencrypt('vault', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.reencrypt('vault', 'nosuchcolumn');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.reencrypt('nosuchtable', 'secret');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.reencrypt('vault', 'secret', 0);
-- A DO INSTEAD rule replacing the table's UPDATE: refused with a hint
-- (the UPDATE would not rewrite the values); disabled, the run goes ahead.
SELECT privacy.create_key('rrkey') > 0 AS created;
CREATE TABLE rr (id int, ssn privacy.encrypted_text('rrkey'));
INSERT INTO rr VALUES (1, 'rr-1');
SELECT privacy.rotate_key('rrkey') > 0 AS rotated;
CREATE RULE rr_upd AS ON UPDATE TO rr DO INSTEAD NOTHING;
SELECT privacy.reencrypt('rr', 'ssn');
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE rr DISABLE RULE rr_upd;
SELECT privacy.reencrypt('rr', 'ssn') AS rr_rows;
SELECT privacy.decrypt(ssn), privacy.envelope_key_version(ssn) FROM rr;
DROP TABLE rr;
SELECT privacy.destroy_key('rrkey');

-- Only key administrators may re-encrypt or destroy.
CREATE ROLE regress_px_outsider;
GRANT SELECT, UPDATE ON vault TO regress_px_outsider;
SET ROLE regress_px_outsider;
SELECT privacy.reencrypt('vault', 'secret');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.destroy_key('life', 'destroy life');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP OWNED BY regress_px_outsider;
DROP ROLE regress_px_outsider;

-- destroy_key: a confirmation, when given, must name the key exactly;
-- either way it needs its own transaction.
SELECT privacy.destroy_key('life', 'destroy LIFE');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.destroy_key('life', '');
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SELECT privacy.destroy_key('life', 'destroy life');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT privacy.destroy_key('life');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT status FROM privacy.keys WHERE name = 'life';
SELECT privacy.destroy_key('nosuchkey', 'destroy nosuchkey');
\echo :LAST_ERROR_SQLSTATE

-- Destroy (the contract's call, no confirmation): every value under the
-- key is unreadable for good, with its own SQLSTATE.
SELECT privacy.destroy_key('life');
SELECT name, status, versions, versions_in_use, granted_to FROM privacy.keys WHERE name = 'life';
SELECT count(*) FROM privacy.data_key_versions v JOIN privacy.data_keys k USING (key_id)
 WHERE k.name = 'life' AND v.wrapped_key IS NOT NULL;
SELECT privacy.decrypt(secret) FROM vault WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.decrypt(tag) FROM vault WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO vault (id, secret) VALUES (1000, 'new');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.rotate_key('life');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_key('life', current_user);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.destroy_key('life', 'destroy life');
\echo :LAST_ERROR_SQLSTATE
-- Rows can still be deleted; the ciphertext left is noise.
DELETE FROM vault;
DROP TABLE vault;

-- Versions in use are found in every column that can hold values under
-- the key: a domain over an encrypted type, an array of one; a composite
-- type's field cannot be followed, so its version counts as in use; a
-- materialized view never populated holds none.
SELECT privacy.create_key('life2') > 0 AS created;
SELECT privacy.rotate_key('life2');
CREATE DOMAIN life2_ssn AS privacy.encrypted_text('life2');
CREATE TABLE life2_d (v life2_ssn);
CREATE TABLE life2_a (v privacy.encrypted_text('life2')[]);
INSERT INTO life2_d VALUES ('domain value');
INSERT INTO life2_a VALUES (ARRAY['array value']::privacy.encrypted_text('life2')[]);
CREATE MATERIALIZED VIEW life2_mv AS SELECT NULL::privacy.encrypted_text('life2') AS x WITH NO DATA;
SELECT privacy.rotate_key('life2');
SELECT versions, versions_in_use FROM privacy.keys WHERE name = 'life2';
SELECT privacy.drop_key_version('life2', 2);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM life2_a;
SELECT privacy.drop_key_version('life2', 2);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM life2_d;
CREATE TYPE life2_pair AS (v privacy.encrypted_text('life2'));
SELECT privacy.drop_key_version('life2', 2);
\echo :LAST_ERROR_SQLSTATE
DROP TYPE life2_pair;
SELECT privacy.drop_key_version('life2', 2) AS dropped;
DROP MATERIALIZED VIEW life2_mv;
DROP TABLE life2_d, life2_a;
DROP DOMAIN life2_ssn;

-- The scan of every column runs as the extension's owner under its own
-- search_path: an administrator's operator first on its path is not
-- called with the owner's rights.
CREATE ROLE regress_life_admin;
GRANT privacy_admin TO regress_life_admin;
CREATE SCHEMA life_evil AUTHORIZATION regress_life_admin;
SET ROLE regress_life_admin;
CREATE FUNCTION life_evil.eq(oid, oid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF current_user <> 'regress_life_admin' THEN
        RAISE NOTICE 'called as another role';
    END IF;
    RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR life_evil.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = life_evil.eq);
SET search_path = life_evil, pg_catalog;
SELECT name, versions_in_use FROM privacy.keys WHERE name = 'life2';
RESET search_path;
RESET ROLE;
DROP SCHEMA life_evil CASCADE;
DROP ROLE regress_life_admin;

-- destroy_key and drop_key_version overwrite the key material when their
-- transaction commits: a statement that fails after them, or a
-- block that raises after them, leaves the key whole (no key
-- "destroyed" without its catalog row, grants and audit event); an
-- exception block around them is a subtransaction, refused like BEGIN.
SELECT privacy.create_key('life3a');
SELECT privacy.create_key('life3b');
CREATE ROLE regress_life3;
SELECT privacy.grant_key('life3a', 'regress_life3');
SELECT privacy.destroy_key('life3b');
CREATE TABLE life3 (v privacy.encrypted_text('life3a'));
INSERT INTO life3 VALUES ('still readable');
-- life3a first, then life3b fails (already destroyed): the statement fails
SELECT privacy.destroy_key(name) FROM privacy.keys WHERE name IN ('life3a', 'life3b') ORDER BY name;
SELECT privacy.decrypt(v) FROM life3;
SELECT status, destroyed_at IS NULL AS no_destroyed_at, granted_to FROM privacy.keys WHERE name = 'life3a';
DO $$ BEGIN PERFORM privacy.destroy_key('life3a'); RAISE EXCEPTION 'changed my mind'; END $$;
SELECT privacy.decrypt(v) FROM life3;
DO $$
BEGIN
    BEGIN
        PERFORM privacy.destroy_key('life3a');
        RAISE EXCEPTION 'inner';
    EXCEPTION WHEN raise_exception THEN NULL;
    END;
END $$;
SELECT privacy.decrypt(v) FROM life3;
SELECT privacy.rotate_key('life3a');
INSERT INTO life3 VALUES ('under version 2');
DELETE FROM life3 WHERE privacy.decrypt(v) = 'under version 2';
SELECT privacy.rotate_key('life3a');
SELECT privacy.drop_key_version('life3a', 2), 1 / 0;
SELECT versions FROM privacy.keys WHERE name = 'life3a';
SELECT count(*) AS material_left FROM privacy.data_key_versions v JOIN privacy.keys k ON k.id = v.key_id
 WHERE k.name = 'life3a' AND v.version = 2 AND v.wrapped_key <> '\x000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'::bytea;
-- and when it commits, every row version of the key is overwritten
SELECT privacy.drop_key_version('life3a', 2);
SELECT privacy.destroy_key('life3a');
SELECT privacy.decrypt(v) FROM life3;
\echo :LAST_ERROR_SQLSTATE
SELECT status, destroyed_at IS NOT NULL AS destroyed, granted_to FROM privacy.keys WHERE name = 'life3a';
SELECT privacy.rotate_key('life3a');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE life3;
DROP ROLE regress_life3;

-- reencrypt rewrites a column of a domain over an encrypted type (the key
-- is the domain's); arrays are refused as before.
SELECT privacy.create_key('life4');
CREATE DOMAIN life4_ssn AS privacy.encrypted_text('life4');
CREATE TABLE life4 (id int, s life4_ssn, a privacy.encrypted_text('life4')[]);
INSERT INTO life4 VALUES (1, 'domain value', ARRAY['array value']::privacy.encrypted_text('life4')[]);
SELECT privacy.rotate_key('life4');
SELECT privacy.reencrypt('life4', 's');
SELECT privacy.envelope_key_version(s), privacy.decrypt(s) FROM life4;
SELECT privacy.reencrypt('life4', 'a');
DROP TABLE life4;
DROP DOMAIN life4_ssn;

-- Versions in use are found through domains and arrays to any depth: a
-- domain over a domain, a domain over an array, an array of a domain, an
-- array of a domain over an array, of either encrypted type.  Each holds
-- version 2 until its rows go; the values stay readable meanwhile.
SELECT privacy.create_key('life5') > 0 AS created;
CREATE DOMAIN life5_d AS privacy.encrypted_text('life5');
CREATE DOMAIN life5_dd AS life5_d;
CREATE DOMAIN life5_da AS privacy.encrypted_text('life5')[];
CREATE DOMAIN life5_bd AS privacy.encrypted_bytea('life5');
CREATE DOMAIN life5_bdd AS life5_bd;
SELECT privacy.rotate_key('life5');
CREATE TABLE life5_1 (v life5_dd);
CREATE TABLE life5_2 (v life5_da);
CREATE TABLE life5_3 (v life5_d[]);
CREATE TABLE life5_4 (v life5_da[]);
CREATE TABLE life5_5 (v life5_bdd[]);
INSERT INTO life5_1 VALUES ('precious-1');
INSERT INTO life5_2 VALUES (ARRAY['precious-2']::privacy.encrypted_text('life5')[]);
INSERT INTO life5_3 VALUES (ARRAY['precious-3']::life5_d[]);
INSERT INTO life5_4 VALUES (ARRAY[ARRAY['precious-4']::life5_da]);
INSERT INTO life5_5 VALUES (ARRAY['\x70726563696f75732d35'::bytea::life5_bdd]);
SELECT privacy.rotate_key('life5');
SELECT versions, versions_in_use FROM privacy.keys WHERE name = 'life5';
SELECT c.relname, e.column_name, e.value_type, k.name AS key_name, e.shape, e.array_depth
  FROM privacy.encrypted_columns e
  JOIN pg_class c ON c.oid = e.relid
  JOIN privacy.keys k ON k.id = e.key_id
 WHERE c.relname LIKE 'life5\_%' ORDER BY 1, 2;
SELECT privacy.drop_key_version('life5', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.decrypt(v) FROM life5_1;
SELECT privacy.decrypt(e) FROM life5_2, unnest(v) e;
SELECT privacy.decrypt(e) FROM life5_3, unnest(v) e;
SELECT privacy.decrypt(e2) FROM life5_4, unnest(v) e1, unnest(e1) e2;
SELECT privacy.decrypt(e) FROM life5_5, unnest(v) e;
DELETE FROM life5_1;
SELECT privacy.drop_key_version('life5', 2);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM life5_2;
SELECT privacy.drop_key_version('life5', 2);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM life5_3;
SELECT privacy.drop_key_version('life5', 2);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM life5_4;
SELECT privacy.drop_key_version('life5', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT versions, versions_in_use FROM privacy.keys WHERE name = 'life5';
DELETE FROM life5_5;
SELECT versions, versions_in_use FROM privacy.keys WHERE name = 'life5';

-- A composite type with a field of any of these shapes, or a table's row
-- type used as a column, cannot be followed: the version counts as in use
-- while the type exists.
CREATE TYPE life5_ct1 AS (a int, v life5_d[]);
CREATE TABLE life5_c1 (c life5_ct1);
INSERT INTO life5_c1 VALUES (ROW(1, ARRAY['precious-c1']::life5_d[]));
SELECT privacy.drop_key_version('life5', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.decrypt(e) FROM life5_c1, unnest((c).v) e;
DROP TABLE life5_c1;
DROP TYPE life5_ct1;
CREATE TYPE life5_ct2 AS (a int, v life5_dd);
CREATE TABLE life5_c2 (c life5_ct2);
SELECT privacy.drop_key_version('life5', 2);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE life5_c2;
DROP TYPE life5_ct2;
CREATE TYPE life5_ct3 AS (a int, v life5_da);
SELECT privacy.drop_key_version('life5', 2);
\echo :LAST_ERROR_SQLSTATE
DROP TYPE life5_ct3;
CREATE TABLE life5_row (v privacy.encrypted_text('life5'));
CREATE TABLE life5_rows (r life5_row[]);
SELECT privacy.drop_key_version('life5', 2);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE life5_rows, life5_row;
SELECT privacy.drop_key_version('life5', 2) AS dropped;
SELECT versions, versions_in_use FROM privacy.keys WHERE name = 'life5';
DROP TABLE life5_1, life5_2, life5_3, life5_4, life5_5;
DROP DOMAIN life5_dd, life5_da, life5_bdd;
DROP DOMAIN life5_d, life5_bd;

-- Key material never reaches pg_statistic, where pg_stats would show it
-- and destroy_key's overwrite would not reach it: ANALYZE skips the columns.
SELECT attrelid::regclass, attname, attstattarget FROM pg_attribute
 WHERE attrelid IN ('privacy.data_key_versions'::regclass, 'privacy.root_derivation_key'::regclass)
   AND attname IN ('wrapped_key', 'root_key_check') ORDER BY 1, 2;
SELECT privacy.create_key('statkey') > 0 AS created;
ANALYZE privacy.data_key_versions;
ANALYZE privacy.root_derivation_key;
SELECT count(*) AS key_material_stats FROM pg_stats
 WHERE schemaname = 'privacy' AND tablename IN ('data_key_versions', 'root_derivation_key')
   AND attname IN ('wrapped_key', 'root_key_check');
-- A target set back by hand: destroy_key deletes what ANALYZE stored.
ALTER TABLE privacy.data_key_versions ALTER COLUMN wrapped_key SET STATISTICS -1;
ANALYZE privacy.data_key_versions;
SELECT count(*) > 0 AS stats_present FROM pg_stats
 WHERE schemaname = 'privacy' AND tablename = 'data_key_versions' AND attname = 'wrapped_key';
SELECT privacy.destroy_key('statkey');
SELECT count(*) AS key_material_stats FROM pg_stats
 WHERE schemaname = 'privacy' AND tablename = 'data_key_versions' AND attname = 'wrapped_key';
ALTER TABLE privacy.data_key_versions ALTER COLUMN wrapped_key SET STATISTICS 0;
