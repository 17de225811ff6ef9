-- drop_key_version must not wipe a version some column may still hold.
-- A foreign table's values (a file, another server) are not read: a
-- foreign table with a column under the key counts as using every
-- version, and privacy.keys lists only what the scan could read.
CREATE EXTENSION IF NOT EXISTS file_fdw;
SELECT privacy.create_key('dvr_k') > 0 AS created;
SELECT privacy.rotate_key('dvr_k') AS version;
CREATE TABLE dvr_staff (id int, ssn privacy.encrypted_text('dvr_k'));
INSERT INTO dvr_staff VALUES (1, '123-45-6789');
CREATE SERVER dvr_files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE dvr_archive (id int, ssn privacy.encrypted_text('dvr_k'))
    SERVER dvr_files OPTIONS (filename '/dev/null', format 'csv');
SELECT privacy.rotate_key('dvr_k') AS version;
SELECT privacy.reencrypt('dvr_staff', 'ssn');
SELECT versions, versions_in_use FROM privacy.keys WHERE name = 'dvr_k';
SELECT privacy.drop_key_version('dvr_k', 2);
SELECT versions FROM privacy.keys WHERE name = 'dvr_k';
-- Without the foreign table, version 2 is unused and goes.
DROP FOREIGN TABLE dvr_archive;
SELECT privacy.drop_key_version('dvr_k', 2);
SELECT versions, versions_in_use FROM privacy.keys WHERE name = 'dvr_k';
SELECT privacy.decrypt(ssn) FROM dvr_staff;
DROP TABLE dvr_staff;
DROP SERVER dvr_files;
DROP EXTENSION file_fdw;
