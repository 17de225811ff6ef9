-- Changing the root key online: previous root key settings, rewrap_keys(),
-- privacy.key_versions, root-derived keys, and the errors of a rotation
-- gone wrong.  The new key is written by the server (COPY) next to the
-- cluster's own key file and given by privacy.root_key_command (COPY makes
-- files readable by others, which a key file may not be); settings change
-- by ALTER SYSTEM and a reload, and are put back at the end.
-- In a database of its own: earlier suites leave versions that no root key
-- unwraps (tampered on purpose), which rewrap_keys() rightly refuses.
SELECT current_database() AS orig_db \gset
CREATE DATABASE regress_px_rotation;
\c regress_px_rotation
CREATE EXTENSION privacy_ext;
SET privacy.audit = 'log,table';
SELECT current_setting('privacy.root_key_file') AS orig_file,
       current_setting('privacy.root_key_file') || '.rotation-new' AS new_file,
       current_setting('privacy.root_key_file') || '.rotation-short' AS short_file,
       'cat ' || current_setting('privacy.root_key_file') || '.rotation-new' AS new_cmd,
       'cat ' || current_setting('privacy.root_key_file') || '.rotation-short' AS short_cmd,
       privacy.root_key_check() AS orig_check \gset
SELECT coalesce(max(event_id), 0) AS audit_start FROM privacy.audit_log \gset

-- Keys and values before any rotation: two versions, a column default
-- holding a transit value (bound to the key only when a row is written),
-- a deterministic column, and a noise value to compare later.
SELECT privacy.create_key('rr') > 0 AS created;
CREATE TABLE rr_staff (id int PRIMARY KEY, ssn privacy.encrypted_text('rr'),
                       email privacy.encrypted_text_det('rr'),
                       note privacy.encrypted_text('rr') DEFAULT 'default note');
INSERT INTO rr_staff (id, ssn, email) VALUES (1, '111-11-1111', 'ann@example.com');
SELECT privacy.rotate_key('rr');
INSERT INTO rr_staff (id, ssn, email) VALUES (2, '222-22-2222', 'bob@example.com');
SELECT privacy.classify('rr_staff', 'ssn', 'sensitive');
SELECT privacy.mask_noise(51234, 0.2) AS noise_before \gset
CREATE VIEW rr_literal AS SELECT 'view literal'::privacy.encrypted_text('rr') AS v;

-- Not rotating: no previous key, nothing to rewrap, every version current.
SELECT privacy.previous_root_key_check() IS NULL AS no_previous,
       length(privacy.root_key_check()) AS check_bytes;
SELECT privacy.rewrap_keys();
SELECT name, version, active, root_key, length(root_key_check) AS hex_digits
  FROM privacy.key_versions WHERE name = 'rr' ORDER BY version;
SELECT count(*) AS derivation_rows FROM privacy.root_derivation_key;

-- Only key administrators rewrap; anyone may see which root key wraps a version.
CREATE ROLE rr_nobody;
SET ROLE rr_nobody;
SELECT privacy.rewrap_keys();
SELECT count(*) AS visible_versions FROM privacy.key_versions WHERE name = 'rr';
SELECT * FROM privacy.root_derivation_key;
RESET ROLE;

COPY (SELECT md5('rotation a' || random()) || md5('rotation b' || random())) TO :'new_file';

-- Settings the wrong way round (the new key given as the previous one, no
-- key under it): nothing to rewrap, and the derived keys stay as they were.
ALTER SYSTEM SET privacy.previous_root_key_command = :'new_cmd';
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT privacy.previous_root_key_check() <> privacy.root_key_check() AS two_keys;
SELECT privacy.rewrap_keys();
SELECT count(*) AS derivation_rows FROM privacy.root_derivation_key;
SELECT privacy.mask_noise(51234, 0.2) = :noise_before AS noise_unchanged;
SELECT privacy.decrypt(note) FROM rr_staff WHERE id = 1;
ALTER SYSTEM RESET privacy.previous_root_key_command;

-- Start a rotation: the new key is the root key, the old one the previous key.
ALTER SYSTEM SET privacy.root_key_command = :'new_cmd';
ALTER SYSTEM SET privacy.previous_root_key_file = :'orig_file';
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT privacy.previous_root_key_check() = :'orig_check'::bytea AS previous_is_old,
       privacy.root_key_check() <> :'orig_check'::bytea AS current_is_new;

-- During it every value is readable and writable; new keys go under the new root.
SELECT name, version, root_key FROM privacy.key_versions WHERE name = 'rr' ORDER BY version;
SELECT id, privacy.decrypt(ssn), privacy.decrypt(email), privacy.decrypt(note)
  FROM rr_staff ORDER BY id;
INSERT INTO rr_staff (id, ssn, email) VALUES (3, '333-33-3333', 'cy@example.com');
SELECT id FROM rr_staff WHERE email = 'cy@example.com';
SELECT privacy.create_key('rr_new') > 0 AS created;
SELECT name, version, root_key FROM privacy.key_versions WHERE name = 'rr_new';
SELECT privacy.mask_noise(51234, 0.2) = :noise_before AS noise_unchanged;

-- The inventory flags a column whose key has versions under an old root key.
SELECT column_name, findings FROM privacy.inventory
 WHERE table_name = 'rr_staff' AND column_name = 'ssn';

-- A version wrapped under neither root key: reading it fails and names the
-- problem, and rewrap_keys() refuses to run at all (nothing is rewrapped).
\set VERBOSITY terse
SELECT privacy.create_key('rr_lost') > 0 AS created;
UPDATE privacy.data_key_versions SET root_key_check = '\x0102030405060708'
 WHERE key_id = (SELECT id FROM privacy.keys WHERE name = 'rr_lost');
SELECT name, version, root_key, root_key_check FROM privacy.key_versions WHERE name = 'rr_lost';
SELECT privacy.encrypt('x', 'rr_lost');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.rewrap_keys();
\echo :LAST_ERROR_SQLSTATE
SELECT name, version, root_key FROM privacy.key_versions WHERE name = 'rr' ORDER BY version;
SELECT privacy.destroy_key('rr_lost', 'destroy rr_lost');

-- A wrapped key whose bytes were changed: authentication fails, nothing rewrapped.
SELECT privacy.create_key('rr_tampered') > 0 AS created;
ALTER SYSTEM RESET privacy.root_key_command;
ALTER SYSTEM RESET privacy.previous_root_key_file;
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT privacy.create_key('rr_tampered2') > 0 AS created_under_old_root;
ALTER SYSTEM SET privacy.root_key_command = :'new_cmd';
ALTER SYSTEM SET privacy.previous_root_key_file = :'orig_file';
SELECT pg_reload_conf();
SELECT pg_sleep(1);
UPDATE privacy.data_key_versions
   SET wrapped_key = set_byte(wrapped_key, 20, get_byte(wrapped_key, 20) # 1)
 WHERE key_id = (SELECT id FROM privacy.keys WHERE name = 'rr_tampered2');
SELECT privacy.rewrap_keys();
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.destroy_key('rr_tampered2', 'destroy rr_tampered2');
\set VERBOSITY default

-- The rewrap: in one transaction, every version not under the new root key,
-- here by a member of privacy_admin.
CREATE ROLE rr_admin;
GRANT privacy_admin TO rr_admin;
SET ROLE rr_admin;
SELECT privacy.rewrap_keys();
RESET ROLE;
SELECT privacy.rewrap_keys() AS second_run;
SELECT name, version, root_key FROM privacy.key_versions
 WHERE name IN ('rr', 'rr_new', 'rr_tampered', 'rr_tampered2', 'rr_lost') ORDER BY name, version;
SELECT root_key_check = privacy.root_key_check() AS derivation_under_new_root
  FROM privacy.root_derivation_key;
SELECT action, object, count, detail ? 'root_key_check' AS names_root_check,
       detail->>'derivation_key_rewrapped' AS derivation_key_rewrapped
  FROM privacy.audit_log WHERE event_id > :audit_start AND action = 'root_key_rewrap'
 ORDER BY event_id;
SELECT column_name, findings FROM privacy.inventory
 WHERE table_name = 'rr_staff' AND column_name = 'ssn';

-- Afterwards the old root key is not needed: values old and new, column
-- defaults and stored literals (transit values), equality search and noise
-- all work under the new root key alone.
ALTER SYSTEM RESET privacy.previous_root_key_file;
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT privacy.previous_root_key_check() IS NULL AS no_previous;
INSERT INTO rr_staff (id, ssn, email) VALUES (4, '444-44-4444', 'dee@example.com');
SELECT id, privacy.decrypt(ssn), privacy.decrypt(email), privacy.decrypt(note)
  FROM rr_staff ORDER BY id;
SELECT id FROM rr_staff WHERE email = 'ann@example.com';
SELECT privacy.decrypt(v) FROM rr_literal;
SELECT privacy.mask_noise(51234, 0.2) = :noise_before AS noise_unchanged;
SELECT privacy.rewrap_keys() AS nothing_left;

-- A bad previous key: wrong length, missing file.  Every use of the keys
-- fails with the setting named, never with garbage.
COPY (SELECT repeat('ab', 31) || 'a') TO :'short_file';
ALTER SYSTEM SET privacy.previous_root_key_command = :'short_cmd';
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT privacy.decrypt(ssn) FROM rr_staff WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.rewrap_keys();
-- The same for a new root key of the wrong length.
ALTER SYSTEM SET privacy.previous_root_key_command = :'new_cmd';
ALTER SYSTEM SET privacy.root_key_command = :'short_cmd';
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT privacy.decrypt(ssn) FROM rr_staff WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET privacy.root_key_command = :'new_cmd';
ALTER SYSTEM RESET privacy.previous_root_key_command;
ALTER SYSTEM SET privacy.previous_root_key_file = '/nonexistent/privacy-previous.key';
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT privacy.decrypt(ssn) FROM rr_staff WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE

-- The old key back as root key without the new one as previous: the old key
-- was "removed too early" from the point of view of the keys now under the
-- new one.  The error names the version and the setting to fix.
\set VERBOSITY terse
ALTER SYSTEM RESET privacy.root_key_command;
ALTER SYSTEM RESET privacy.previous_root_key_file;
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT privacy.decrypt(ssn) FROM rr_staff WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.mask_noise(51234, 0.2);
\echo :LAST_ERROR_SQLSTATE
SELECT name, version, root_key FROM privacy.key_versions WHERE name = 'rr' ORDER BY version;
\set VERBOSITY default

-- Rotate back to the cluster's own root key, so later suites find it.
ALTER SYSTEM SET privacy.previous_root_key_command = :'new_cmd';
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT privacy.rewrap_keys() AS rewrapped_back;
ALTER SYSTEM RESET privacy.previous_root_key_command;
ALTER SYSTEM RESET privacy.root_key_command;
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT privacy.root_key_check() = :'orig_check'::bytea AS original_root_key,
       privacy.previous_root_key_check() IS NULL AS no_previous;
SELECT string_agg(privacy.decrypt(ssn), ',' ORDER BY id) FROM rr_staff;
SELECT privacy.mask_noise(51234, 0.2) = :noise_before AS noise_unchanged;

DROP VIEW rr_literal;
DROP TABLE rr_staff;
SELECT privacy.destroy_key('rr', 'destroy rr');
SELECT privacy.destroy_key('rr_new', 'destroy rr_new');
SELECT privacy.destroy_key('rr_tampered', 'destroy rr_tampered');
DROP ROLE rr_nobody;
DROP ROLE rr_admin;
RESET privacy.audit;
\c :orig_db
DROP DATABASE regress_px_rotation;
