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
