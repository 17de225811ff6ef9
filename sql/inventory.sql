-- The personal-data inventory: classify(), privacy.inventory with its
-- findings, and the record of processing.
CREATE SCHEMA inv;
CREATE ROLE regress_px_analyst;
CREATE ROLE regress_px_app;
CREATE ROLE regress_px_stranger;
SELECT privacy.create_key('inv_k') > 0 AS created;
SELECT privacy.create_key('inv_gone') > 0 AS created;
SELECT privacy.grant_key('inv_k', 'regress_px_app');
CREATE TABLE inv.patients (patient_id bigint, full_name text, diagnosis text,
                           ssn privacy.encrypted_text('inv_k'), birth date,
                           old_notes privacy.encrypted_text('inv_gone'), phone text);
CREATE TABLE inv.accounts (account_id text PRIMARY KEY, email privacy.encrypted_text('inv_k'), plan text);
GRANT SELECT ON inv.patients, inv.accounts TO regress_px_analyst, regress_px_app;

SELECT privacy.classify('inv.patients', 'full_name', 'personal', category => 'identity');
SELECT privacy.classify('inv.patients', 'diagnosis', 'sensitive', category => 'health');
SELECT privacy.classify('inv.patients', 'ssn', 'sensitive', 'national_id');
SELECT privacy.classify('inv.patients', 'birth', 'personal', 'identity');
SELECT privacy.classify('inv.patients', 'phone', 'personal', 'contact');
SELECT privacy.classify('inv.accounts', 'plan', 'internal');
SELECT privacy.classify('inv.accounts', 'email', 'personal', 'contact');
-- Classifying again replaces the earlier classification.
SELECT privacy.classify('inv.accounts', 'plan', 'public');
SELECT relid, column_name, level, category FROM privacy.classifications
 WHERE relid::text LIKE 'inv.%' ORDER BY relid::text, column_name;
SELECT privacy.set_mask('inv.patients', 'full_name', 'partial(1, ''***'', 0)');
SELECT privacy.set_mask('inv.patients', 'birth', 'none', role => 'regress_px_analyst');
SELECT privacy.protect_table('inv.patients', subject_column => 'patient_id');
SELECT privacy.protect_table('inv.accounts', subject_column => 'account_id');
SELECT privacy.destroy_key('inv_gone', 'destroy inv_gone');

SELECT table_name, column_name, data_type, level, category, encrypted, key_name,
       mask_rules, consent_protected, is_subject_column, findings
  FROM privacy.inventory WHERE schema_name = 'inv' ORDER BY table_name, column_name;

-- Fixing the findings clears them.  A masked role reads, through the
-- masking view, a column without any rule (phone) as it is.
CREATE INDEX ON inv.patients (patient_id);
REVOKE SELECT ON inv.patients FROM regress_px_app;
SELECT privacy.set_mask('inv.patients', 'diagnosis', 'redact');
SELECT privacy.create_masking_view('inv.patients');
SELECT privacy.mask_role('regress_px_stranger');
SELECT column_name, findings FROM privacy.inventory
 WHERE schema_name = 'inv' AND table_name = 'patients' AND findings <> '{}' ORDER BY column_name;
SELECT privacy.set_mask('inv.patients', 'phone', 'partial(0, ''***'', 2)');
SELECT column_name, findings FROM privacy.inventory
 WHERE schema_name = 'inv' AND table_name = 'patients' AND column_name = 'phone';

-- The masking view, on each masked column: one without its security
-- barrier (ALTER VIEW refuses that; here the event triggers are off), and
-- one that is not the table's masking view any more (moved out of schema
-- masked).
SET session_replication_role = replica;
ALTER VIEW masked.patients SET (security_barrier = false);
RESET session_replication_role;
SELECT column_name, findings FROM privacy.inventory
 WHERE schema_name = 'inv' AND table_name = 'patients' AND findings <> '{}' ORDER BY column_name;
SELECT privacy.create_masking_view('inv.patients');
ALTER VIEW masked.patients SET SCHEMA public;
SELECT column_name, findings FROM privacy.inventory
 WHERE schema_name = 'inv' AND table_name = 'patients' AND findings <> '{}' ORDER BY column_name;
ALTER VIEW public.patients SET SCHEMA masked;
SELECT count(*) AS masking_view_findings FROM privacy.inventory
 WHERE schema_name = 'inv' AND table_name = 'patients'
   AND array_to_string(findings, ' ') LIKE '%masking view%';

-- The record of processing: purposes x tables x data categories x basis.
SELECT privacy.create_purpose('inv_care', 'vital_interests');
SELECT privacy.create_purpose('inv_research', 'consent');
SELECT privacy.create_purpose('inv_unused', 'contract');
SELECT privacy.grant_purpose('regress_px_analyst', 'inv_research');
SELECT privacy.grant_purpose('regress_px_app', 'inv_care');
SELECT purpose, legal_basis, table_name, data_categories, consent_checked, roles
  FROM privacy.processing_record WHERE table_name::text LIKE 'inv.%' ORDER BY purpose, table_name::text;
-- A role that reads a personal column through a column privilege alone
-- processes it as much as one with SELECT on the table (the inventory lists
-- it reading the column in clear); one that may read only columns of no
-- personal data does not read the table's personal data.
CREATE ROLE regress_px_crm;
CREATE ROLE regress_px_counter;
CREATE TABLE inv.crm (id int, email text, plan text);
SELECT privacy.classify('inv.crm', 'email', 'personal', category => 'contact');
SELECT privacy.grant_purpose('regress_px_crm', 'inv_unused');
SELECT privacy.grant_purpose('regress_px_counter', 'inv_unused');
GRANT SELECT (id, email) ON inv.crm TO regress_px_crm;
GRANT SELECT (id, plan) ON inv.crm TO regress_px_counter;
SELECT purpose, legal_basis, table_name, data_categories, consent_checked, roles
  FROM privacy.processing_record WHERE table_name = 'inv.crm'::regclass;
SELECT column_name, findings FROM privacy.inventory WHERE schema_name = 'inv' AND table_name = 'crm' ORDER BY column_name;
DROP TABLE inv.crm;
DELETE FROM privacy.classifications WHERE relid NOT IN (SELECT oid FROM pg_class);
SELECT privacy.revoke_purpose('regress_px_crm', 'inv_unused');
SELECT privacy.revoke_purpose('regress_px_counter', 'inv_unused');
DROP ROLE regress_px_crm, regress_px_counter;

-- A partitioned table: every partition is protected, read directly too;
-- a partition added later is protected as it is created, and one whose
-- row level security is switched off is a finding until protect_table
-- runs again.
CREATE TABLE inv.events (subject text, at date) PARTITION BY RANGE (at);
CREATE INDEX ON inv.events (subject);
CREATE TABLE inv.events_2025 PARTITION OF inv.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO inv.events VALUES ('p1', '2025-03-01'), ('p2', '2025-04-01');
SELECT privacy.protect_table('inv.events', 'subject');
GRANT USAGE ON SCHEMA inv TO regress_px_app;
GRANT SELECT ON inv.events_2025 TO regress_px_app;
SET ROLE regress_px_app;
SELECT count(*) AS partition_rows_without_purpose FROM inv.events_2025;
RESET ROLE;
CREATE TABLE inv.events_2026 PARTITION OF inv.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT polname FROM pg_policy WHERE polrelid = 'inv.events_2026'::regclass ORDER BY 1;
SELECT column_name, findings FROM privacy.inventory
 WHERE schema_name = 'inv' AND table_name = 'events' AND is_subject_column;
ALTER TABLE inv.events_2026 DISABLE ROW LEVEL SECURITY;
SELECT column_name, findings FROM privacy.inventory
 WHERE schema_name = 'inv' AND table_name = 'events' AND is_subject_column;
SELECT privacy.protect_table('inv.events', 'subject');
SELECT column_name, findings FROM privacy.inventory
 WHERE schema_name = 'inv' AND table_name = 'events' AND is_subject_column;

-- Paths to a protected table's rows its consent policies do not judge.
-- A view owned by a superuser or a BYPASSRLS role (and not
-- security_invoker) reading the table shows its readers every row; one over
-- a security_invoker view does not (its tables are checked as the reader);
-- a materialized view holds what its REFRESH saw, through any views; a view
-- calling has_consent() filters by itself.  TRUNCATE is not subject
-- to row-level security: roles that may TRUNCATE, owners aside.
CREATE ROLE regress_px_bypass BYPASSRLS;
CREATE ROLE regress_px_owner;
CREATE ROLE regress_px_deputy IN ROLE regress_px_owner;
CREATE ROLE regress_px_trunc;
GRANT USAGE ON SCHEMA inv TO regress_px_analyst, regress_px_bypass, regress_px_owner, regress_px_trunc;
CREATE TABLE inv.visits (vid int, subject text, note text) PARTITION BY LIST (vid);
CREATE TABLE inv.visits_1 PARTITION OF inv.visits FOR VALUES IN (1);
ALTER TABLE inv.visits OWNER TO regress_px_owner;
ALTER TABLE inv.visits_1 OWNER TO regress_px_owner;
INSERT INTO inv.visits VALUES (1, 'nobody-consented', 'n1');
SELECT privacy.protect_table('inv.visits', subject_column => 'subject');
GRANT SELECT ON inv.visits, inv.visits_1 TO regress_px_analyst, regress_px_bypass;
CREATE VIEW inv.v_super AS SELECT vid, subject FROM inv.visits;
CREATE VIEW inv.v_invoker WITH (security_invoker = true) AS SELECT vid, subject FROM inv.visits_1;
CREATE VIEW inv.v_outer AS SELECT * FROM inv.v_invoker;
CREATE VIEW inv.v_checked AS SELECT vid, subject FROM inv.visits WHERE privacy.has_consent(subject);
CREATE VIEW inv.v_bypass AS SELECT vid FROM inv.visits;
ALTER VIEW inv.v_bypass OWNER TO regress_px_bypass;
CREATE VIEW inv.v_owned AS SELECT vid FROM inv.visits;
ALTER VIEW inv.v_owned OWNER TO regress_px_owner;
CREATE MATERIALIZED VIEW inv.mv_visits AS SELECT vid FROM inv.visits;
CREATE MATERIALIZED VIEW inv.mv_outer AS SELECT vid FROM inv.v_outer;
GRANT SELECT ON inv.v_super, inv.v_outer, inv.v_invoker, inv.v_owned TO regress_px_analyst;
GRANT TRUNCATE ON inv.visits_1 TO regress_px_trunc, regress_px_deputy;
-- As privacy_admin, who reads the inventory.
SET ROLE privacy_admin;
SELECT f AS finding FROM privacy.inventory i, unnest(i.findings) f
 WHERE i.schema_name = 'inv' AND i.table_name = 'visits'
   AND (f LIKE 'view %' OR f LIKE 'materialized view %' OR f LIKE 'TRUNCATE %') ORDER BY 1;
RESET ROLE;
-- What the view finding says: the analyst, with no purpose declared,
-- reads no row of the table, of the invoker view, of the owner's view or of
-- the superuser's view over the invoker view, and every row through the
-- superuser's view of the table.
SET ROLE regress_px_analyst;
SELECT (SELECT count(*) FROM inv.visits) AS direct, (SELECT count(*) FROM inv.v_invoker) AS invoker,
       (SELECT count(*) FROM inv.v_owned) AS owned,
       (SELECT count(*) FROM inv.v_super) AS super, (SELECT count(*) FROM inv.v_outer) AS outer_view;
RESET ROLE;
-- Mended: the view reads as its readers, no materialized view.
ALTER VIEW inv.v_super SET (security_invoker = on);
ALTER VIEW inv.v_bypass OWNER TO regress_px_owner;
DROP MATERIALIZED VIEW inv.mv_visits, inv.mv_outer;
SELECT f AS finding FROM privacy.inventory i, unnest(i.findings) f
 WHERE i.schema_name = 'inv' AND i.table_name = 'visits'
   AND (f LIKE 'view %' OR f LIKE 'materialized view %' OR f LIKE 'TRUNCATE %') ORDER BY 1;
SET ROLE regress_px_analyst;
SELECT count(*) AS super FROM inv.v_super;
RESET ROLE;
-- The regress_px_trunc finding is true: TRUNCATE removes the row it cannot see.
SET ROLE regress_px_trunc;
TRUNCATE inv.visits_1;
RESET ROLE;
SELECT count(*) AS left_after_truncate FROM inv.visits;
REVOKE TRUNCATE ON inv.visits_1 FROM regress_px_trunc;
SELECT f AS finding FROM privacy.inventory i, unnest(i.findings) f
 WHERE i.schema_name = 'inv' AND i.table_name = 'visits'
   AND (f LIKE 'view %' OR f LIKE 'materialized view %' OR f LIKE 'TRUNCATE %') ORDER BY 1;
SET client_min_messages = warning;
DROP TABLE inv.visits CASCADE;
RESET client_min_messages;
DROP OWNED BY regress_px_bypass, regress_px_owner, regress_px_deputy, regress_px_trunc;
DROP ROLE regress_px_bypass, regress_px_deputy, regress_px_owner, regress_px_trunc;

-- Columns whose values are encrypted through domains and arrays (a domain
-- over one, over a domain, over an array, an array of one, of a domain)
-- are encrypted under the key at the bottom, as a plain encrypted column
-- is: listed unclassified, never "stored in clear", and under a destroyed
-- key once it is destroyed.
CREATE SCHEMA inv_shapes;
SELECT privacy.create_key('inv_shapes') > 0 AS created;
CREATE DOMAIN inv_shapes.d AS privacy.encrypted_text('inv_shapes');
CREATE DOMAIN inv_shapes.dd AS inv_shapes.d;
CREATE DOMAIN inv_shapes.da AS privacy.encrypted_text('inv_shapes')[];
CREATE TABLE inv_shapes.t (id int, a inv_shapes.d, b privacy.encrypted_text('inv_shapes')[],
                           c privacy.encrypted_text('inv_shapes'), d inv_shapes.dd, e inv_shapes.da,
                           f inv_shapes.d[], g privacy.encrypted_bytea('inv_shapes')[]);
SELECT privacy.classify('inv_shapes.t', col, 'sensitive')
  FROM unnest(ARRAY['a', 'b', 'c', 'd', 'e', 'f']) col;
SELECT column_name, data_type, level, encrypted, key_name, findings
  FROM privacy.inventory WHERE schema_name = 'inv_shapes' ORDER BY column_name;
SELECT privacy.destroy_key('inv_shapes', 'destroy inv_shapes');
SELECT column_name, encrypted, key_name, findings
  FROM privacy.inventory WHERE schema_name = 'inv_shapes' ORDER BY column_name;
DROP SCHEMA inv_shapes CASCADE;

-- Bad input.
SELECT privacy.classify('inv.nosuchtable', 'x', 'personal');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.classify('inv.patients', 'nosuchcolumn', 'personal');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.classify('inv.patients', 'full_name', 'secret');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.classify('inv.patients', 'full_name', NULL);
\echo :LAST_ERROR_SQLSTATE
GRANT USAGE ON SCHEMA inv TO regress_px_stranger;
SET ROLE regress_px_stranger;
SELECT privacy.classify('inv.patients', 'full_name', 'public');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM privacy.inventory;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM privacy.processing_record;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

SELECT privacy.unmask_role('regress_px_stranger');
DROP SCHEMA inv CASCADE;
DELETE FROM privacy.masking_views WHERE view_name = 'masked.patients';
DELETE FROM privacy.protected_tables;
DELETE FROM privacy.mask_rules;
DELETE FROM privacy.classifications;
DELETE FROM privacy.purpose_grants WHERE purpose LIKE 'inv\_%';
DROP OWNED BY regress_px_analyst, regress_px_app, regress_px_stranger;
DROP ROLE regress_px_analyst, regress_px_app, regress_px_stranger;
