-- The registries that name columns follow ALTER ... RENAME COLUMN:
-- classifications and declared quasi-identifiers move to the new name, on
-- the relation and on its partitions and inheritance children.
SET client_min_messages = warning;
CREATE SCHEMA crn;
CREATE TABLE crn.staff (id int, email text, phone text, zip text, born int);
INSERT INTO crn.staff SELECT g, 'e' || g, 'p' || g, 'z' || (g % 3), 1980 + g % 2 FROM generate_series(1, 12) g;
SELECT privacy.classify('crn.staff', 'email', 'personal', 'contact');
SELECT privacy.classify('crn.staff', 'phone', 'personal', 'contact');
SELECT privacy.set_quasi_identifiers('crn.staff', ARRAY['zip', 'born']);
CREATE VIEW crn.cls AS
SELECT relid::regclass::text AS rel, column_name, level, category FROM privacy.classifications
 WHERE relid::regclass::text LIKE 'crn.%' ORDER BY 1, 2;

-- 1. A plain rename, and a swap of two names through a third.
ALTER TABLE crn.staff RENAME COLUMN email TO mail;
SELECT * FROM crn.cls;
ALTER TABLE crn.staff RENAME COLUMN mail TO tmp;
ALTER TABLE crn.staff RENAME COLUMN phone TO mail;
ALTER TABLE crn.staff RENAME COLUMN tmp TO phone;
SELECT * FROM crn.cls;               -- phone holds the e-mails now: contact both
SELECT column_name, level, findings FROM privacy.inventory
 WHERE schema_name = 'crn' AND table_name = 'staff' AND level IS NOT NULL ORDER BY 1;
-- A quasi-identifier keeps its place in the declaration.
ALTER TABLE crn.staff RENAME COLUMN zip TO postcode;
SELECT columns FROM privacy.quasi_identifiers WHERE relid = 'crn.staff'::regclass;
SELECT DISTINCT k_anonymity FROM privacy.inventory WHERE schema_name = 'crn' AND table_name = 'staff';
-- The inventory lists them under their new names.
SELECT DISTINCT column_name FROM privacy.inventory
 WHERE schema_name = 'crn' AND table_name = 'staff' AND quasi_identifier ORDER BY 1;

-- 2. A stale row under the new name (left while the trigger was off) is
-- replaced by the renamed column's classification, not kept beside it.
ALTER EVENT TRIGGER privacy_column_registries_follow_renames DISABLE;
ALTER TABLE crn.staff RENAME COLUMN mail TO contact;
ALTER EVENT TRIGGER privacy_column_registries_follow_renames ENABLE;
SELECT privacy.classify('crn.staff', 'contact', 'sensitive');
SELECT * FROM crn.cls;               -- mail (stale) and contact
ALTER TABLE crn.staff RENAME COLUMN contact TO mail;
SELECT * FROM crn.cls;               -- mail: sensitive, once

-- 3. Partitions and inheritance children are renamed with their parent.
CREATE TABLE crn.events (subject text, at date) PARTITION BY RANGE (at);
CREATE TABLE crn.events_1 PARTITION OF crn.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE crn.people (sid text, name text);
CREATE TABLE crn.people_eu () INHERITS (crn.people);
CREATE TABLE crn.people_us (sid text, name text, local text);
ALTER TABLE crn.people_us INHERIT crn.people;
SELECT privacy.classify(t, c, 'personal') FROM (VALUES
    ('crn.events'::regclass, 'subject'::name), ('crn.events_1', 'subject'),
    ('crn.people', 'name'), ('crn.people_eu', 'name'), ('crn.people_us', 'name'),
    ('crn.people_us', 'local')) v(t, c);
ALTER TABLE crn.events RENAME COLUMN subject TO person;
ALTER TABLE crn.people RENAME COLUMN name TO full_name;
SELECT * FROM crn.cls WHERE rel NOT LIKE 'crn.staff';
-- ONLY renames the parent alone where PostgreSQL lets it: not an
-- inherited column.
ALTER TABLE ONLY crn.people RENAME COLUMN full_name TO n;
\echo :LAST_ERROR_SQLSTATE

-- 4. Views, materialized views and foreign tables.
CREATE VIEW crn.v AS SELECT id, phone FROM crn.staff;
CREATE MATERIALIZED VIEW crn.mv AS SELECT id, phone FROM crn.staff;
SELECT privacy.classify('crn.v', 'phone', 'personal');
SELECT privacy.classify('crn.mv', 'phone', 'personal');
ALTER VIEW crn.v RENAME COLUMN phone TO ph;
ALTER MATERIALIZED VIEW crn.mv RENAME COLUMN phone TO ph;
CREATE EXTENSION IF NOT EXISTS file_fdw;
CREATE SERVER crn_files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE crn.ft (id int, phone text) SERVER crn_files OPTIONS (filename '/dev/null');
SELECT privacy.classify('crn.ft', 'phone', 'personal');
ALTER FOREIGN TABLE crn.ft RENAME COLUMN phone TO ph;
SELECT * FROM crn.cls WHERE rel IN ('crn.v', 'crn.mv', 'crn.ft');

-- 5. Other ALTERs and renames leave the registries alone.
ALTER TABLE crn.staff RENAME TO staff2;
ALTER TABLE crn.staff2 ADD COLUMN note text;
ALTER TABLE crn.staff2 ADD CONSTRAINT staff_id_pos CHECK (id > 0);
ALTER TABLE crn.staff2 RENAME CONSTRAINT staff_id_pos TO staff_id_positive;
ALTER TABLE crn.staff2 ALTER COLUMN phone SET STATISTICS 10;
SELECT * FROM crn.cls WHERE rel = 'crn.staff2';
SELECT columns FROM privacy.quasi_identifiers WHERE relid = 'crn.staff2'::regclass;

-- 6. A table owner who is no privacy admin renames its columns: the
-- registries follow, and the owner still cannot write them directly.
CREATE ROLE regress_crn_owner;
GRANT USAGE, CREATE ON SCHEMA crn TO regress_crn_owner;
CREATE TABLE crn.owned (id int, secret text);
ALTER TABLE crn.owned OWNER TO regress_crn_owner;
SELECT privacy.classify('crn.owned', 'secret', 'sensitive');
SET ROLE regress_crn_owner;
ALTER TABLE crn.owned RENAME COLUMN secret TO hidden;
UPDATE privacy.classifications SET level = 'public';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT * FROM crn.cls WHERE rel = 'crn.owned';

-- 7. Mask rules follow every rename, with a masking view or not.  Names
-- swapped through a third must leave each column with its own rule: the
-- e-mails (now in "note") masked, the notes (now in "email") in clear.
-- With a masked role reading the table, the masking view and static
-- masking (which finds the rules by name).
CREATE ROLE regress_crn_reader;
SELECT privacy.mask_role('regress_crn_reader');
GRANT USAGE ON SCHEMA crn TO regress_crn_reader;
CREATE VIEW crn.rules AS
SELECT relid::regclass::text AS rel, attnum, column_name, rule FROM privacy.mask_rules
 WHERE relid::regclass::text LIKE 'crn.%' ORDER BY 1, 2;
-- 7a. ALTER TABLE, the view created after the renames.
CREATE TABLE crn.m_plain (id int, email text, note text);
INSERT INTO crn.m_plain VALUES (1, 'ann@secret.example', 'public note');
SELECT privacy.set_mask('crn.m_plain', 'id', 'none');
SELECT privacy.set_mask('crn.m_plain', 'email', 'email');
SELECT privacy.set_mask('crn.m_plain', 'note', 'none');
ALTER TABLE crn.m_plain RENAME COLUMN email TO tmp;
ALTER TABLE crn.m_plain RENAME COLUMN note TO email;
ALTER TABLE crn.m_plain RENAME COLUMN tmp TO note;
SELECT * FROM crn.rules WHERE rel = 'crn.m_plain';
SELECT privacy.create_masking_view('crn.m_plain');
GRANT SELECT ON crn.m_plain TO regress_crn_reader;
SET ROLE regress_crn_reader;
SELECT * FROM crn.m_plain;
RESET ROLE;
-- 7b. A typed table, renamed through its type (ALTER TYPE ... CASCADE),
-- with its masking view there before.
CREATE TYPE crn.person AS (id int, email text, note text);
CREATE TABLE crn.m_typed OF crn.person;
INSERT INTO crn.m_typed VALUES (1, 'ann@secret.example', 'public note');
SELECT privacy.set_mask('crn.m_typed', 'id', 'none');
SELECT privacy.set_mask('crn.m_typed', 'email', 'email');
SELECT privacy.set_mask('crn.m_typed', 'note', 'none');
SELECT privacy.classify('crn.m_typed', 'email', 'personal', 'contact');
SELECT privacy.create_masking_view('crn.m_typed');
GRANT SELECT ON crn.m_typed TO regress_crn_reader;
ALTER TYPE crn.person RENAME ATTRIBUTE email TO tmp CASCADE;
ALTER TYPE crn.person RENAME ATTRIBUTE note TO email CASCADE;
ALTER TYPE crn.person RENAME ATTRIBUTE tmp TO note CASCADE;
SELECT * FROM crn.rules WHERE rel = 'crn.m_typed';
SELECT * FROM crn.cls WHERE rel = 'crn.m_typed';
SET ROLE regress_crn_reader;
SELECT * FROM crn.m_typed;
SELECT * FROM masked.m_typed;
RESET ROLE;
-- a later rebuild (any ALTER TABLE) keeps them so
ALTER TABLE crn.m_typed ALTER COLUMN id SET STATISTICS 100;
SET ROLE regress_crn_reader;
SELECT * FROM crn.m_typed;
RESET ROLE;
-- 7c. A materialized view, renamed with ALTER MATERIALIZED VIEW, then
-- its masking view rebuilt by hand.
CREATE MATERIALIZED VIEW crn.m_mv AS SELECT * FROM crn.m_plain;
SELECT privacy.set_mask('crn.m_mv', 'id', 'none');
SELECT privacy.set_mask('crn.m_mv', 'note', 'email');
SELECT privacy.set_mask('crn.m_mv', 'email', 'none');
SELECT privacy.create_masking_view('crn.m_mv');
GRANT SELECT ON crn.m_mv TO regress_crn_reader;
ALTER MATERIALIZED VIEW crn.m_mv RENAME COLUMN note TO tmp;
ALTER MATERIALIZED VIEW crn.m_mv RENAME COLUMN email TO note;
ALTER MATERIALIZED VIEW crn.m_mv RENAME COLUMN tmp TO email;
SELECT * FROM crn.rules WHERE rel = 'crn.m_mv';
SET ROLE regress_crn_reader;
SELECT * FROM masked.m_mv;
RESET ROLE;
SELECT privacy.create_masking_view('crn.m_mv');
SET ROLE regress_crn_reader;
SELECT * FROM masked.m_mv;
RESET ROLE;
-- 7d. A rule already under the new name (a stale row, as a restore of
-- an older dump can leave) is not inherited by the renamed column.
CREATE TABLE crn.m_stale (id int, secret text);
INSERT INTO crn.m_stale VALUES (1, 'ann@secret.example');
SELECT privacy.set_mask('crn.m_stale', 'secret', 'email');
SELECT privacy.create_masking_view('crn.m_stale');
GRANT SELECT ON crn.m_stale TO regress_crn_reader;
INSERT INTO privacy.mask_rules (relid, attnum, column_name, rule) VALUES ('crn.m_stale', 9, 'contact', 'none');
ALTER TABLE crn.m_stale RENAME COLUMN secret TO contact;
SELECT * FROM crn.rules WHERE rel = 'crn.m_stale';
SET ROLE regress_crn_reader;
SELECT * FROM crn.m_stale;
RESET ROLE;
-- 7e. Static masking finds the moved rules: "note" (the e-mails) masked,
-- "email" (the notes) kept.
CREATE TABLE crn.m_static (id int, email text, note text);
INSERT INTO crn.m_static VALUES (1, 'ann@secret.example', 'public note');
SELECT privacy.set_mask('crn.m_static', 'email', 'email');
SELECT privacy.set_mask('crn.m_static', 'note', 'none');
ALTER TABLE crn.m_static RENAME COLUMN email TO tmp;
ALTER TABLE crn.m_static RENAME COLUMN note TO email;
ALTER TABLE crn.m_static RENAME COLUMN tmp TO note;
SELECT privacy.anonymize_table('crn.m_static');
SELECT * FROM crn.m_static;
-- 7f. A consent-protected typed table's subject column renamed through
-- its type: still protected, under the new name.
CREATE TYPE crn.visit AS (id int, person text);
CREATE TABLE crn.visits OF crn.visit;
SELECT privacy.protect_table('crn.visits', 'person');
ALTER TYPE crn.visit RENAME ATTRIBUTE person TO subject CASCADE;
SELECT subject_column FROM privacy.protected_tables WHERE relid = 'crn.visits'::regclass;

RESET client_min_messages;
SET client_min_messages = warning;
DROP SCHEMA crn CASCADE;
DROP SERVER crn_files;
DROP EXTENSION file_fdw;
DROP ROLE regress_crn_owner;
SELECT privacy.unmask_role('regress_crn_reader');
DROP ROLE regress_crn_reader;
SELECT count(*) AS left_behind FROM privacy.classifications WHERE relid::text LIKE 'crn.%';
