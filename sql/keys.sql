-- Key hierarchy: data keys wrapped under the root key, grants, rotation.
CREATE EXTENSION privacy_ext;

-- create_key returns the key id, derived from the name.
SELECT privacy.create_key('hr') > 0 AS created;
SELECT privacy.create_key('pay') <> privacy.keys.id AS distinct_ids FROM privacy.keys WHERE name = 'hr';
SELECT name, active_version, versions, status, granted_to FROM privacy.keys ORDER BY name;

-- Duplicate and invalid names.
SELECT privacy.create_key('hr');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.create_key('');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.create_key('HR');
SELECT privacy.create_key('1abc');
SELECT privacy.create_key('bad name');
SELECT privacy.create_key(repeat('k', 64));
-- Long input is clipped in the message (64 bytes, at a character boundary).
SELECT privacy.create_key(repeat('a', 65536));
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.create_key('k' || repeat('é', 40));
SELECT privacy.rotate_key(repeat('a', 65536));
-- a NULL name is refused (22004): in 1.0 it answered NULL and created nothing
SELECT privacy.create_key(NULL);
\echo :LAST_ERROR_SQLSTATE

-- Unknown key names are refused everywhere a name is taken.
SELECT privacy.rotate_key('nosuchkey');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_key('nosuchkey', 'postgres');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.revoke_key('nosuchkey', 'postgres');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.encrypt('x', 'nosuchkey');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE nokey (v privacy.encrypted_text('nosuchkey'));
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE nokey (v privacy.encrypted_text('hr', 'pay'));
CREATE TABLE nokey (v privacy.encrypted_text(12345));
\echo :LAST_ERROR_SQLSTATE

-- Unknown roles.
SELECT privacy.grant_key('hr', 'regress_px_nobody');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_key('hr', repeat('r', 65536));
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.revoke_key('hr', 'r' || repeat('é', 40));

-- Grants and revokes, shown in privacy.keys.
CREATE ROLE regress_px_reader;
CREATE ROLE regress_px_other;
SELECT privacy.grant_key('hr', 'regress_px_reader');
SELECT privacy.grant_key('hr', 'regress_px_reader');   -- idempotent
SELECT privacy.grant_key('hr', 'regress_px_other');
SELECT granted_to FROM privacy.keys WHERE name = 'hr';
SELECT privacy.revoke_key('hr', 'regress_px_other');
SELECT privacy.revoke_key('hr', 'regress_px_other');  -- nothing to revoke: no error
SELECT granted_to FROM privacy.keys WHERE name = 'hr';

-- Rotation: a new version becomes active; all versions stay listed.
SELECT privacy.rotate_key('hr');
SELECT privacy.rotate_key('hr');
SELECT name, active_version, versions FROM privacy.keys WHERE name = 'hr';

-- privacy.keys never shows key bytes: its columns are metadata only.
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'privacy.keys'::regclass AND attnum > 0
 ORDER BY attnum;
-- Wrapped keys are 60 bytes (nonce, wrapped key, tag), one per version.
SELECT v.version, length(v.wrapped_key) AS wrapped_len, length(v.root_key_check) AS check_len
  FROM privacy.data_key_versions v JOIN privacy.data_keys k USING (key_id)
 WHERE k.name = 'hr' ORDER BY v.version;
-- Two versions never share wrapped bytes.
SELECT count(DISTINCT wrapped_key) = count(*) AS distinct_wrapped FROM privacy.data_key_versions;

-- Key management needs superuser or membership in privacy_admin.
SET ROLE regress_px_reader;
SELECT privacy.create_key('mine');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM privacy.data_key_versions;
\echo :LAST_ERROR_SQLSTATE
SELECT name, status FROM privacy.keys WHERE name = 'hr';   -- metadata is public
RESET ROLE;
CREATE ROLE regress_px_keyadmin;
GRANT privacy_admin TO regress_px_keyadmin;
SET ROLE regress_px_keyadmin;
SELECT privacy.create_key('admin_made') > 0 AS created;
SELECT privacy.grant_key('admin_made', 'regress_px_reader');
SELECT privacy.rotate_key('admin_made');
-- The key functions record the administrator who called them.
SELECT k.created_by, g.grantee_name, g.granted_by
  FROM privacy.data_keys k JOIN privacy.key_grants g USING (key_id) WHERE k.name = 'admin_made';
-- Key administrators read the key tables but change them only through the
-- key functions, each of which writes its audit event: a grant, revoke or
-- destruction by hand is refused.
INSERT INTO privacy.key_grants (key_id, grantee, grantee_name)
  SELECT key_id, 'regress_px_other', 'regress_px_other' FROM privacy.data_keys WHERE name = 'admin_made';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM privacy.key_grants WHERE grantee = 'regress_px_reader'::regrole;
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.data_keys SET destroyed_at = now() WHERE name = 'admin_made';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM privacy.data_key_versions WHERE version = 2;
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.root_derivation_key SET created_at = now();
\echo :LAST_ERROR_SQLSTATE
SELECT name, granted_to FROM privacy.keys WHERE name = 'admin_made';
RESET ROLE;

-- A wrapped key moved to another version does not unwrap.
CREATE TABLE keymove (v privacy.encrypted_text('admin_made'));
INSERT INTO keymove VALUES ('moved');
UPDATE privacy.data_key_versions SET wrapped_key = (
    SELECT wrapped_key FROM privacy.data_key_versions v2
     WHERE v2.key_id = data_key_versions.key_id AND v2.version = 1)
 WHERE key_id = (SELECT id FROM privacy.keys WHERE name = 'admin_made') AND version = 2;
SELECT privacy.decrypt(v) FROM keymove;
\echo :LAST_ERROR_SQLSTATE
-- A root-key check value that does not match the running root key is reported as such.
UPDATE privacy.data_key_versions SET root_key_check = '\x0000000000000000'
 WHERE key_id = (SELECT id FROM privacy.keys WHERE name = 'admin_made') AND version = 2;
SELECT privacy.decrypt(v) FROM keymove;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE keymove;

DROP ROLE regress_px_keyadmin;
SELECT privacy.revoke_key('hr', 'regress_px_reader');
SELECT privacy.revoke_key('admin_made', 'regress_px_reader');
DROP ROLE regress_px_reader, regress_px_other;
