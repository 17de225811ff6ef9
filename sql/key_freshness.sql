-- Key state is current at every statement, memory stays bounded whatever
-- the input, and nothing scans tables a role cannot read.
-- (Other sessions' changes at every depth: test/isolation/specs/key_depths.spec.)

CREATE ROLE regress_kf_reader;
CREATE ROLE regress_kf_plain;
CREATE ROLE regress_kf_admin;
GRANT privacy_admin TO regress_kf_admin;
SELECT privacy.create_key('kf_k') > 0 AS created;
CREATE TABLE kf_t (id int PRIMARY KEY, v privacy.encrypted_text('kf_k'));
INSERT INTO kf_t VALUES (1, 'kf-one'), (2, 'kf-two');
GRANT SELECT ON kf_t TO regress_kf_reader;

-- ---------------------------------------------------------------------
-- 1. This session's own changes, inside one transaction, reach the call
--    sites PL/pgSQL keeps from one statement to the next.
-- ---------------------------------------------------------------------
CREATE FUNCTION kf_dec(e privacy.encrypted_text) RETURNS text LANGUAGE plpgsql
  AS $$BEGIN RETURN privacy.decrypt(e); END$$;
CREATE FUNCTION kf_seal_version(p text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE x privacy.encrypted_text('kf_k');
BEGIN x := p; RETURN privacy.envelope_key_version(x); END $$;

BEGIN;
SELECT privacy.grant_key('kf_k', 'regress_kf_reader');
SET LOCAL ROLE regress_kf_reader;
SELECT kf_dec(v) FROM kf_t ORDER BY id;
RESET ROLE;
SELECT privacy.revoke_key('kf_k', 'regress_kf_reader');
SET LOCAL ROLE regress_kf_reader;
SELECT kf_dec(v) FROM kf_t ORDER BY id;
ROLLBACK;

BEGIN;
SELECT kf_seal_version('a') AS before_rotation;
SELECT privacy.rotate_key('kf_k') AS rotated_to;
SELECT kf_seal_version('b') AS after_rotation;
ROLLBACK;

-- ---------------------------------------------------------------------
-- 2. Bounded memory: 200,000 distinct key names that do not exist, each
--    asked for once (the errors caught), leave the backend's memory where
--    it was, give or take 2 MB.  Without a bound each name cost about
--    120 bytes.  A first short round warms up what is allocated once.
-- ---------------------------------------------------------------------
CREATE FUNCTION kf_unknown_names(fn text, n int, tag text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  failed int := 0;
  h text;
  e privacy.encrypted_text;
BEGIN
  FOR i IN 1..n LOOP
    BEGIN
      IF fn = 'mask_hash' THEN
        h := privacy.mask_hash('v', 'kf_' || tag || '_' || i);
      ELSE
        e := privacy.encrypt('v', 'kf_' || tag || '_' || i);
      END IF;
    EXCEPTION WHEN SQLSTATE 'PXK01' THEN
      failed := failed + 1;
    END;
  END LOOP;
  RETURN failed;
END $$;

-- Envelopes naming n distinct key ids that do not exist (check_function_bodies
-- off lets input accept them, as when restoring a dump), decrypted by a role
-- without grants: each asks for a permission of its own.
CREATE FUNCTION kf_unknown_ids(first int, n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  failed int := 0;
  tail bytea := decode('00000001' || repeat('00', 28), 'hex');
  r text;
BEGIN
  FOR i IN first..first + n - 1 LOOP
    BEGIN
      -- header: format 1, type text, key id i (< 2^24), version 1
      r := privacy.decrypt(privacy.encrypted_text_in(
             ('pxe1:AQEA' || encode(substr(int4send(i), 2) || tail, 'base64'))::cstring, 0, -1));
    EXCEPTION WHEN insufficient_privilege THEN
      failed := failed + 1;
    END;
  END LOOP;
  RETURN failed;
END $$;
GRANT EXECUTE ON FUNCTION kf_unknown_ids(int, int) TO regress_kf_plain;

SELECT kf_unknown_names('mask_hash', 1000, 'warm') AS failed,
       kf_unknown_names('encrypt', 1000, 'warm2') AS failed;
SET check_function_bodies = off;
SET ROLE regress_kf_plain;
SELECT kf_unknown_ids(1, 1000) AS failed;
RESET ROLE;

SELECT sum(total_bytes) AS kf_mem FROM pg_backend_memory_contexts \gset
SELECT kf_unknown_names('mask_hash', 200000, 'hash') AS failed;
SELECT sum(total_bytes) - :kf_mem < 2 * 1024 * 1024 AS mask_hash_bounded
  FROM pg_backend_memory_contexts;

SELECT sum(total_bytes) AS kf_mem FROM pg_backend_memory_contexts \gset
SELECT kf_unknown_names('encrypt', 200000, 'enc') AS failed;
SELECT sum(total_bytes) - :kf_mem < 2 * 1024 * 1024 AS encrypt_bounded
  FROM pg_backend_memory_contexts;

-- 100,000 ids (about two seconds): without a bound, 4.5 MB of permissions.
SELECT sum(total_bytes) AS kf_mem FROM pg_backend_memory_contexts \gset
SET ROLE regress_kf_plain;
SELECT kf_unknown_ids(5000, 100000) AS failed;
RESET ROLE;
SELECT sum(total_bytes) - :kf_mem < 2 * 1024 * 1024 AS permissions_bounded
  FROM pg_backend_memory_contexts;
RESET check_function_bodies;

-- The keys that exist still work after the caches started over.
SELECT privacy.decrypt(v) FROM kf_t ORDER BY id;
SELECT length(privacy.mask_hash('v', 'kf_k')) AS hash_length;

-- Bad names: empty, too long, multibyte, NULL.
SELECT privacy.encrypt('v', '');
SELECT privacy.mask_hash('v', repeat('k', 64));
SELECT privacy.encrypt('v', 'ключ');
SELECT privacy.encrypt('v', NULL) IS NULL AS null_name, privacy.mask_hash('v', NULL) IS NULL AS null_name;

-- ---------------------------------------------------------------------
-- 3. privacy.keys.versions_in_use scans encrypted columns: only for key
--    administrators.  Anyone else gets NULL, and no lock on (no scan of)
--    a table they cannot read.
-- ---------------------------------------------------------------------
SET ROLE regress_kf_plain;
BEGIN;
SELECT count(*) FILTER (WHERE versions_in_use IS NOT NULL) AS shown FROM privacy.keys;
SELECT name, status, versions, versions_in_use FROM privacy.keys WHERE name = 'kf_k';
SELECT privacy.key_versions_in_use(id) FROM privacy.keys WHERE name = 'kf_k';
SELECT count(*) AS locks_on_kf_t FROM pg_locks
 WHERE relation = 'kf_t'::regclass AND pid = pg_backend_pid();
COMMIT;
RESET ROLE;

SET ROLE regress_kf_admin;
SELECT name, versions, versions_in_use FROM privacy.keys WHERE name = 'kf_k';
SELECT privacy.key_versions_in_use(2147483647) AS no_such_key;
RESET ROLE;
SELECT name, versions, versions_in_use FROM privacy.keys WHERE name = 'kf_k';

-- ---------------------------------------------------------------------
-- 4. A literal bound into a plan for "=" on a deterministic column is
--    checked at each execution: after destroy_key, a held plan fails.
-- ---------------------------------------------------------------------
SELECT privacy.create_key('kf_d') > 0 AS created;
CREATE TABLE kf_det (id int PRIMARY KEY, d privacy.encrypted_text_det('kf_d') UNIQUE);
INSERT INTO kf_det VALUES (1, 'alpha'), (2, 'beta');
SET plan_cache_mode = force_generic_plan;
PREPARE kf_pd AS SELECT id FROM kf_det WHERE d = 'beta';
EXECUTE kf_pd;
CREATE FUNCTION kf_plan_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(line, 'pxe1:[A-Za-z0-9+/=]+', 'pxe1:...', 'g');
  END LOOP;
END $$;
SET enable_seqscan = off;
SELECT kf_plan_of('EXECUTE kf_pd');
RESET enable_seqscan;
-- The check is the identity on a value bound to its key; anything else is refused.
SELECT privacy.decrypt(privacy.encrypted_text_det_bound(d, privacy.envelope_key_id(d))) FROM kf_det WHERE id = 1;
SELECT privacy.encrypted_text_det_bound(d, 12345) FROM kf_det WHERE id = 1;
SELECT privacy.encrypted_text_det_bound(NULL, 12345) IS NULL AS strict;
SELECT privacy.destroy_key('kf_d', 'destroy kf_d');
EXECUTE kf_pd;
\echo :LAST_ERROR_SQLSTATE
DEALLOCATE kf_pd;
RESET plan_cache_mode;
DROP TABLE kf_det;
DROP FUNCTION kf_plan_of(text);
DELETE FROM privacy.data_keys WHERE name = 'kf_d';

DROP FUNCTION kf_dec(privacy.encrypted_text), kf_seal_version(text),
  kf_unknown_names(text, int, text), kf_unknown_ids(int, int);
DROP TABLE kf_t;
DELETE FROM privacy.data_keys WHERE name = 'kf_k';
DROP OWNED BY regress_kf_reader, regress_kf_plain, regress_kf_admin;
DROP ROLE regress_kf_reader, regress_kf_plain, regress_kf_admin;
