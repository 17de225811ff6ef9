-- privacy_ext demo: an encrypted column, a granted role, a denied role, audit and a data-subject request.
\pset footer off
SELECT privacy.create_key('hr') AS key_id;

CREATE TABLE staff (id int PRIMARY KEY, name text, ssn privacy.encrypted_text('hr'));
INSERT INTO staff VALUES (1, 'Ann', '123-45-6789'), (2, 'Bob', '987-65-4321');

\echo '--- What is stored: an authenticated envelope, never the plaintext'
SELECT id, name, ssn FROM staff ORDER BY id;

\echo '--- Keys are listed without key bytes'
SELECT name, id, active_version, versions, status FROM privacy.keys;

CREATE ROLE payroll_app;
CREATE ROLE support_desk;
GRANT SELECT ON staff TO payroll_app, support_desk;
SELECT privacy.grant_key('hr', 'payroll_app');

\echo '--- payroll_app was granted key hr: it reads plaintext'
SET ROLE payroll_app;
SELECT id, name, privacy.decrypt(ssn) AS ssn FROM staff ORDER BY id;
RESET ROLE;

\echo '--- support_desk was not: permission denied (SQLSTATE 42501), no plaintext'
SET ROLE support_desk;
\set ON_ERROR_STOP 0
SELECT id, name, privacy.decrypt(ssn) AS ssn FROM staff ORDER BY id;
\set ON_ERROR_STOP 1
RESET ROLE;

\echo '--- Rotation: new writes use version 2, old values still decrypt'
SELECT privacy.rotate_key('hr');
INSERT INTO staff VALUES (3, 'Cy', '555-12-3456');
SELECT id, privacy.envelope_key_version(ssn) AS key_version, privacy.decrypt(ssn) FROM staff ORDER BY id;

\echo '--- Audit trail: decryptions counted per statement and column (privacy.audit = log,table)'
SET privacy.audit = 'log,table';
SET ROLE payroll_app;
SELECT count(privacy.decrypt(ssn)) AS decrypted FROM staff;
RESET ROLE;
SELECT action, object, count, current_role_name FROM privacy.audit_log ORDER BY event_id;

\echo '--- Right of access and right to erasure for one person'
SELECT privacy.protect_table('staff', subject_column => 'name');
SELECT jsonb_pretty(privacy.export_subject('Bob') -> 'tables') AS export;
SELECT privacy.erase_subject('Bob') AS erased;
SELECT action, object, count FROM privacy.audit_log WHERE action IN ('export', 'erase') ORDER BY event_id;
