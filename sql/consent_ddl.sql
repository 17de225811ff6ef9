-- Consent protection follows DDL on the protected tables: partitions and
-- inheritance children added later, parents a protected table is put
-- under, subject columns renamed or dropped.
SET client_min_messages = warning;
CREATE ROLE regress_cd_app;
SELECT privacy.create_purpose('cd_research', 'consent');
SELECT privacy.grant_purpose('regress_cd_app', 'cd_research');
SELECT privacy.grant_consent('cds-1', 'cd_research');
CREATE SCHEMA cd;
GRANT USAGE ON SCHEMA cd TO regress_cd_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA cd GRANT SELECT ON TABLES TO regress_cd_app;
-- What regress_cd_app sees of a table with no purpose declared and with
-- the purpose cds-1 consented to.
CREATE FUNCTION cd.seen(rel regclass, OUT no_purpose bigint, OUT research bigint)
LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL ROLE regress_cd_app;
    PERFORM set_config('privacy.purpose', '', true);
    EXECUTE format('SELECT count(*) FROM %s', rel) INTO no_purpose;
    PERFORM set_config('privacy.purpose', 'cd_research', true);
    EXECUTE format('SELECT count(*) FROM %s', rel) INTO research;
    PERFORM set_config('privacy.purpose', '', true);
    RESET ROLE;
END $$;
CREATE VIEW cd.findings AS
SELECT i.table_name, f AS finding FROM privacy.inventory i, unnest(i.findings) f
 WHERE i.schema_name = 'cd' AND f NOT LIKE '%no index%';

-- 1. A partition attached to a protected table is protected as it comes:
-- read directly, it shows only consenting subjects' rows.
CREATE TABLE cd.visits (subject text, at date) PARTITION BY RANGE (at);
CREATE TABLE cd.visits_2025 PARTITION OF cd.visits FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
SELECT privacy.protect_table('cd.visits', 'subject');
CREATE TABLE cd.visits_2026 (subject text, at date);
INSERT INTO cd.visits_2026 VALUES ('cds-1', '2026-02-01'), ('cds-2', '2026-02-02');
SELECT * FROM cd.seen('cd.visits_2026');                 -- not protected yet: 2, 2
ALTER TABLE cd.visits ATTACH PARTITION cd.visits_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT * FROM cd.seen('cd.visits_2026');                 -- 0, 1
SELECT * FROM cd.seen('cd.visits');                      -- 0, 1
-- CREATE TABLE ... PARTITION OF, and a partitioned partition with its own
-- partitions: each level is protected.
CREATE TABLE cd.visits_2027 PARTITION OF cd.visits FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')
    PARTITION BY RANGE (at);
CREATE TABLE cd.visits_2027h1 PARTITION OF cd.visits_2027 FOR VALUES FROM ('2027-01-01') TO ('2027-07-01');
INSERT INTO cd.visits VALUES ('cds-1', '2027-03-01'), ('cds-3', '2027-03-02');
SELECT * FROM cd.seen('cd.visits_2027');                 -- 0, 1
SELECT * FROM cd.seen('cd.visits_2027h1');               -- 0, 1
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname LIKE 'privacy\_%') AS policies
  FROM pg_class c WHERE c.relnamespace = 'cd'::regnamespace AND c.relname LIKE 'visits%' AND c.relkind IN ('r', 'p')
 ORDER BY 1;
SELECT * FROM cd.findings;
-- The whole tree answers a subject's request.
SELECT privacy.export_subject('cds-3') -> 'tables' ? 'cd.visits' AS exported;

-- 2. Inheritance: a child created with INHERITS or given a parent with
-- INHERIT is protected; protect_table on the parent covers its children.
CREATE TABLE cd.people (sid text, name text);
CREATE TABLE cd.people_eu () INHERITS (cd.people);
INSERT INTO cd.people_eu VALUES ('cds-1', 'Ann'), ('cds-2', 'Bob');
SELECT privacy.protect_table('cd.people', 'sid');
SELECT * FROM cd.seen('cd.people_eu');                   -- 0, 1
CREATE TABLE cd.people_us () INHERITS (cd.people);
INSERT INTO cd.people_us VALUES ('cds-1', 'Cy'), ('cds-4', 'Dee');
SELECT * FROM cd.seen('cd.people_us');                   -- 0, 1
CREATE TABLE cd.people_apac (sid text, name text);
INSERT INTO cd.people_apac VALUES ('cds-5', 'Eve');
ALTER TABLE cd.people_apac INHERIT cd.people;
SELECT * FROM cd.seen('cd.people_apac');                 -- 0, 0
SELECT * FROM cd.seen('cd.people');                      -- 0, 2
SELECT * FROM cd.findings;
-- A child made by CREATE SCHEMA ... CREATE TABLE (the command's tag is
-- CREATE SCHEMA) is protected too, and one under a second, unprotected
-- parent is refused.
CREATE TABLE cd.people_plain (sid text, name text);
CREATE SCHEMA cd_sch CREATE TABLE people_sch () INHERITS (cd.people);
INSERT INTO cd_sch.people_sch VALUES ('cds-1', 'Fay'), ('cds-4', 'Gus');
GRANT USAGE ON SCHEMA cd_sch TO regress_cd_app;
GRANT SELECT ON cd_sch.people_sch TO regress_cd_app;
SELECT * FROM cd.seen('cd_sch.people_sch');              -- 0, 1
CREATE SCHEMA cd_sch2 CREATE TABLE people_two () INHERITS (cd.people, cd.people_plain);
\echo :LAST_ERROR_SQLSTATE
SELECT to_regnamespace('cd_sch2') IS NULL AS refused;
DROP SCHEMA cd_sch CASCADE;
DROP TABLE cd.people_plain;

-- 3. A protected table put under a parent that is not protected is
-- refused: the parent would show its rows unfiltered.
CREATE TABLE cd.all_notes (sid text, note text) PARTITION BY LIST (sid);
CREATE TABLE cd.notes_a (sid text, note text);
INSERT INTO cd.notes_a VALUES ('cds-2', 'secret');
SELECT privacy.protect_table('cd.notes_a', 'sid');
ALTER TABLE cd.all_notes ATTACH PARTITION cd.notes_a FOR VALUES IN ('cds-2');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS attached FROM pg_inherits WHERE inhrelid = 'cd.notes_a'::regclass;
CREATE TABLE cd.plain_parent (sid text, note text);
ALTER TABLE cd.notes_a INHERIT cd.plain_parent;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS inherited FROM pg_inherits WHERE inhrelid = 'cd.notes_a'::regclass;
CREATE TABLE cd.notes_b PARTITION OF cd.all_notes FOR VALUES IN ('cds-1');
-- protect_table on a child whose parent is not protected is refused too.
SELECT privacy.protect_table('cd.notes_b', 'sid');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS notes_b_registered FROM privacy.protected_tables WHERE relid = 'cd.notes_b'::regclass;
-- Protecting the top is the way: it covers the partitions under it.
SELECT privacy.protect_table('cd.all_notes', 'sid');
ALTER TABLE cd.all_notes ATTACH PARTITION cd.notes_a FOR VALUES IN ('cds-2');
SELECT * FROM cd.seen('cd.all_notes');                   -- 0, 0
SELECT * FROM cd.seen('cd.notes_a');                     -- 0, 0
-- A protected table under a protected parent keeps its own registration.
SELECT relid::regclass, subject_column FROM privacy.protected_tables
 WHERE relid::regclass::text LIKE 'cd.%notes%' ORDER BY 1;

-- 3b. A tree of tables has one subject column.  A partition protected by
-- another than its parent's would be filtered by the parent's column where
-- the parent is read and by its own read directly, and the parent's
-- subjects' requests would pass its rows by: refused, with protect_table
-- and with ATTACH PARTITION.
CREATE TABLE cd.pt (sid text, other text, v text) PARTITION BY LIST (v);
CREATE TABLE cd.pt_a PARTITION OF cd.pt FOR VALUES IN ('a');
SELECT privacy.protect_table('cd.pt', 'sid');
SELECT privacy.protect_table('cd.pt_a', 'other');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.protect_table('cd.pt_a', 'sid');           -- the tree's column: accepted
CREATE TABLE cd.pt_b (sid text, other text, v text);
INSERT INTO cd.pt_b VALUES ('cds-9', 'cds-1', 'b');
SELECT privacy.protect_table('cd.pt_b', 'other');
ALTER TABLE cd.pt ATTACH PARTITION cd.pt_b FOR VALUES IN ('b');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS pt_b_attached FROM pg_inherits WHERE inhrelid = 'cd.pt_b'::regclass;   -- 0
-- Protected by the tree's column, it may join.
SELECT privacy.protect_table('cd.pt_b', 'sid');
ALTER TABLE cd.pt ATTACH PARTITION cd.pt_b FOR VALUES IN ('b');
SELECT * FROM cd.seen('cd.pt_b');                        -- cds-9 never consented: 0, 0
SELECT privacy.export_subject('cds-9')->'tables' AS export_cds_9;
-- A partition registered under another column (as 1.0 allowed) is
-- reported, and protecting the top again brings it to the tree's column.
UPDATE privacy.protected_tables SET subject_column = 'other' WHERE relid = 'cd.pt_b'::regclass;
SELECT privacy.consent_protect_relation('cd.pt_b', 'other');
SELECT * FROM cd.seen('cd.pt_b');                        -- filtered by other (cds-1): 0, 1
SELECT finding FROM cd.findings WHERE table_name = 'pt_b' AND finding LIKE '%partition or child of%';
SELECT privacy.protect_table('cd.pt', 'sid');
SELECT relid::regclass, subject_column FROM privacy.protected_tables
 WHERE relid::regclass::text LIKE 'cd.pt%' ORDER BY 1;
SELECT * FROM cd.seen('cd.pt_b');                        -- by sid again: 0, 0
SELECT count(*) AS findings_left FROM cd.findings
 WHERE table_name LIKE 'pt%' AND finding LIKE '%partition or child%';
SELECT privacy.erase_subject('cds-9')->'rows' AS erased_cds_9;
SELECT count(*) AS cds_9_left FROM cd.pt WHERE sid = 'cds-9';  -- 0

-- 4. The subject column cannot be dropped, with or without CASCADE.
ALTER TABLE cd.people DROP COLUMN sid;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE cd.people DROP COLUMN sid CASCADE;
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE cd.tickets (owner_id text, body text);
SELECT privacy.protect_table('cd.tickets', 'owner_id');
ALTER TABLE cd.tickets DROP COLUMN owner_id CASCADE;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS tickets_policies FROM pg_policy
 WHERE polrelid = 'cd.tickets'::regclass AND polname LIKE 'privacy\_%';
SELECT count(*) AS people_policies FROM pg_policy
 WHERE polrelid = 'cd.people'::regclass AND polname LIKE 'privacy\_%';
SELECT * FROM cd.seen('cd.people');                      -- 0, 2
-- Another column drops as ever.
ALTER TABLE cd.people DROP COLUMN name;
SELECT * FROM cd.seen('cd.people');                      -- 0, 2

-- 5. A renamed subject column keeps its table protected under its new
-- name: requests find it, the inventory has nothing to say.
ALTER TABLE cd.people RENAME COLUMN sid TO person_id;
SELECT subject_column FROM privacy.protected_tables WHERE relid = 'cd.people'::regclass;
SELECT * FROM cd.seen('cd.people');                      -- 0, 2
SELECT privacy.export_subject('cds-4') -> 'tables' -> 'cd.people_us' AS exported_people_us;
SELECT * FROM cd.findings;
-- A partition's column is renamed with its parent's: both registrations
-- follow.
SELECT privacy.export_subject('cds-2') -> 'tables' AS exported_notes;
ALTER TABLE cd.all_notes RENAME COLUMN sid TO subject_id;
SELECT relid::regclass, subject_column FROM privacy.protected_tables
 WHERE relid::regclass::text LIKE 'cd.%notes%' ORDER BY 1;
SELECT (privacy.erase_subject('cds-2') -> 'tables') ? 'cd.notes_a' AS erased_notes_a;
SELECT count(*) AS notes_left FROM cd.notes_a;
SELECT * FROM cd.findings;

-- 6. States left by DDL run while the triggers were off (or by 1.0) are
-- inventory findings.
ALTER EVENT TRIGGER privacy_protected_tables_before_drop DISABLE;
ALTER EVENT TRIGGER privacy_protected_tables_follow_ddl DISABLE;
ALTER EVENT TRIGGER privacy_protected_trees_follow_ddl DISABLE;
CREATE TABLE cd.orders (buyer text, total int);
SELECT privacy.protect_table('cd.orders', 'buyer');
ALTER TABLE cd.orders DROP COLUMN buyer CASCADE;
CREATE TABLE cd.loose_parent (sid text, v int);
CREATE TABLE cd.loose_child (sid text, v int);
SELECT privacy.protect_table('cd.loose_child', 'sid');
ALTER TABLE cd.loose_child INHERIT cd.loose_parent;
ALTER EVENT TRIGGER privacy_protected_trees_follow_ddl ENABLE;
ALTER EVENT TRIGGER privacy_protected_tables_follow_ddl ENABLE;
ALTER EVENT TRIGGER privacy_protected_tables_before_drop ENABLE;
SELECT * FROM cd.findings WHERE table_name IN ('orders', 'loose_child') ORDER BY 1, 2;
-- The way out of the second: detach (allowed), or protect the parent.
ALTER TABLE cd.loose_child NO INHERIT cd.loose_parent;
SELECT * FROM cd.findings WHERE table_name = 'loose_child';

-- 7. Tables nobody protects are left alone.
CREATE TABLE cd.free_parent (k int) PARTITION BY RANGE (k);
CREATE TABLE cd.free_1 PARTITION OF cd.free_parent FOR VALUES FROM (0) TO (10);
ALTER TABLE cd.free_parent RENAME COLUMN k TO key;
CREATE TABLE cd.free_child (sid text, note text);
ALTER TABLE cd.free_child INHERIT cd.plain_parent;
ALTER TABLE cd.free_child NO INHERIT cd.plain_parent;
SELECT count(*) AS policies FROM pg_policy WHERE polrelid IN ('cd.free_parent'::regclass, 'cd.free_1'::regclass, 'cd.free_child'::regclass);

-- 8. A foreign table cannot be a partition or child of a protected table
-- (row level security does not apply to it), and a table with one cannot
-- be protected.
CREATE EXTENSION IF NOT EXISTS file_fdw;
CREATE SERVER cd_files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE cd.visits_old PARTITION OF cd.visits FOR VALUES FROM ('2000-01-01') TO ('2001-01-01')
    SERVER cd_files OPTIONS (filename '/dev/null');
\echo :LAST_ERROR_SQLSTATE
CREATE FOREIGN TABLE cd.people_ft () INHERITS (cd.people) SERVER cd_files OPTIONS (filename '/dev/null');
\echo :LAST_ERROR_SQLSTATE
CREATE FOREIGN TABLE cd.people_ft2 (person_id text) SERVER cd_files OPTIONS (filename '/dev/null');
ALTER FOREIGN TABLE cd.people_ft2 INHERIT cd.people;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS foreign_children FROM pg_inherits WHERE inhrelid = 'cd.people_ft2'::regclass;
CREATE FOREIGN TABLE cd.archive (subject text, at date) SERVER cd_files OPTIONS (filename '/dev/null');
ALTER TABLE cd.visits ATTACH PARTITION cd.archive FOR VALUES FROM ('2000-01-01') TO ('2001-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS foreign_children FROM pg_inherits WHERE inhrelid = 'cd.archive'::regclass;
CREATE TABLE cd.mixed (subject text, at date) PARTITION BY RANGE (at);
ALTER TABLE cd.mixed ATTACH PARTITION cd.archive FOR VALUES FROM ('2000-01-01') TO ('2001-01-01');
SELECT privacy.protect_table('cd.mixed', 'subject');
\echo :LAST_ERROR_SQLSTATE
-- Left so by 1.0 (or with the trigger off): an inventory finding.
ALTER EVENT TRIGGER privacy_protected_tables_follow_ddl DISABLE;
ALTER TABLE cd.mixed DETACH PARTITION cd.archive;
SELECT privacy.protect_table('cd.mixed', 'subject');
ALTER TABLE cd.mixed ATTACH PARTITION cd.archive FOR VALUES FROM ('2000-01-01') TO ('2001-01-01');
ALTER EVENT TRIGGER privacy_protected_tables_follow_ddl ENABLE;
SELECT * FROM cd.findings WHERE table_name = 'mixed';

-- 8b. A partition detached from a protected table, or a child taken out
-- with NO INHERIT, stays protected in its own right (its subject column by
-- the policy's column number, renamed here first; on_erase of the tree it
-- left): still filtered, and found by export_subject and erase_subject.
-- (The tables left broken on purpose above would stop every request.)
DROP TABLE cd.orders, cd.mixed;
CREATE TABLE cd.stays (person text, at date, note text) PARTITION BY RANGE (at);
CREATE TABLE cd.stays_2020 PARTITION OF cd.stays FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE cd.stays_2021 PARTITION OF cd.stays FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
SELECT privacy.protect_table('cd.stays', 'person', on_erase => 'delete');
CREATE TABLE cd.stays_heir (person text, note text);
CREATE TABLE cd.stays_top (person text, note text);
SELECT privacy.protect_table('cd.stays_top', 'person', on_erase => 'anonymize');
SELECT privacy.set_mask('cd.stays_top', 'person', 'null');
SELECT privacy.set_mask('cd.stays_heir', 'person', 'null');
ALTER TABLE cd.stays_heir INHERIT cd.stays_top;
INSERT INTO cd.stays VALUES ('cd-s9', '2020-05-01', 'old'), ('cd-s9', '2021-05-01', 'new');
INSERT INTO cd.stays_heir VALUES ('cd-s9', 'heir');
ALTER TABLE cd.stays RENAME COLUMN person TO who;
ALTER TABLE cd.stays DETACH PARTITION cd.stays_2020;
ALTER TABLE cd.stays_heir NO INHERIT cd.stays_top;
SELECT relid::regclass::text AS rel, subject_column, on_erase FROM privacy.protected_tables
 WHERE relid::regclass::text LIKE 'cd.stays%' ORDER BY 1;
SET ROLE regress_cd_app;
SELECT count(*) AS unconsented_visible FROM cd.stays_2020;
RESET ROLE;
SELECT e.key AS exported, jsonb_array_length(e.value) AS rows
  FROM jsonb_each(privacy.export_subject('cd-s9')::jsonb -> 'tables') e
 WHERE e.key LIKE 'cd.stays%' ORDER BY 1;
SELECT e.key AS erased, e.value
  FROM jsonb_each(privacy.erase_subject('cd-s9')::jsonb -> 'tables') e
 WHERE e.key LIKE 'cd.stays%' ORDER BY 1;
SELECT (SELECT count(*) FROM cd.stays_2020) AS left_2020, (SELECT count(*) FROM cd.stays) AS left_stays,
       (SELECT count(*) FROM cd.stays_heir WHERE person = 'cd-s9') AS heir_not_anonymized,
       (SELECT count(*) FROM cd.stays_heir) AS heir_rows_kept;
-- Attached back, the tree's registration covers it again; the erase
-- counts each row once.
ALTER TABLE cd.stays ATTACH PARTITION cd.stays_2020 FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
INSERT INTO cd.stays VALUES ('cd-s10', '2020-06-01', 'again');
SELECT privacy.erase_subject('cd-s10')::jsonb -> 'rows' AS erased_rows;

-- 9. A type that does not exist gets a clear error from the detector.
SELECT * FROM privacy.detect_column_score('email', 0::regtype, 10, '{}');
\echo :LAST_ERROR_SQLSTATE

-- 10. Multiple inheritance: a child of a protected table under a second,
-- unprotected parent (CREATE TABLE ... INHERITS, ALTER TABLE ... INHERIT,
-- or protect_table of one parent of a child that has another) is refused:
-- the second parent showed the child's rows unfiltered.  So is a child of
-- two parents protected by different subject columns.  Parents protected
-- by the same column are fine.
CREATE TABLE cd.mi_people (who text, note text);
SELECT privacy.protect_table('cd.mi_people', 'who');
CREATE TABLE cd.mi_archive (who text, note text);
CREATE TABLE cd.mi_both () INHERITS (cd.mi_people, cd.mi_archive);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE cd.mi_both () INHERITS (cd.mi_archive, cd.mi_people);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE cd.mi_later () INHERITS (cd.mi_people);
ALTER TABLE cd.mi_later INHERIT cd.mi_archive;
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE cd.mi_p2 (who text);
CREATE TABLE cd.mi_o2 (who text);
CREATE TABLE cd.mi_c2 () INHERITS (cd.mi_p2, cd.mi_o2);
SELECT privacy.protect_table('cd.mi_p2', 'who');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE cd.mi_pa (a text, b text);
CREATE TABLE cd.mi_pb (a text, b text);
SELECT privacy.protect_table('cd.mi_pa', 'a'), privacy.protect_table('cd.mi_pb', 'b');
CREATE TABLE cd.mi_ab () INHERITS (cd.mi_pa, cd.mi_pb);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE cd.mi_pc (a text, b text);
SELECT privacy.protect_table('cd.mi_pc', 'a');
CREATE TABLE cd.mi_ac () INHERITS (cd.mi_pa, cd.mi_pc);
INSERT INTO cd.mi_ac VALUES ('cds-1', 'x'), ('cds-2', 'y');
SELECT * FROM cd.seen('cd.mi_ac');
SELECT * FROM cd.seen('cd.mi_pc');
SELECT * FROM cd.seen('cd.mi_pa');

-- Re-protecting a parent by another column than the other parent of a
-- shared child is refused too.
CREATE TABLE cd.mi_q1 (a text, b text);
CREATE TABLE cd.mi_q2 (a text, b text);
SELECT privacy.protect_table('cd.mi_q1', 'a'), privacy.protect_table('cd.mi_q2', 'a');
CREATE TABLE cd.mi_qc () INHERITS (cd.mi_q1, cd.mi_q2);
SELECT privacy.protect_table('cd.mi_q2', 'b');
\echo :LAST_ERROR_SQLSTATE
SELECT subject_column FROM privacy.protected_tables WHERE relid = 'cd.mi_q2'::regclass;

-- 11. The masking view of an inheritance child of a protected table
-- filters by consent (it had no filter: read as its owner, it showed every
-- row), also when the child comes under the protected table after the view.
CREATE TABLE cd.mv_kid () INHERITS (cd.mi_people);
INSERT INTO cd.mv_kid VALUES ('cds-1', 'consented'), ('cds-2', 'not consented');
SELECT privacy.set_mask('cd.mv_kid', 'note', 'partial(3, ''***'', 0)');
SELECT privacy.create_masking_view('cd.mv_kid');
CREATE TABLE cd.mv_late (who text, note text);
INSERT INTO cd.mv_late VALUES ('cds-2', 'not consented');
SELECT privacy.set_mask('cd.mv_late', 'note', 'redact');
SELECT privacy.create_masking_view('cd.mv_late');
ALTER TABLE cd.mv_late INHERIT cd.mi_people;
GRANT SELECT ON masked.mv_kid, masked.mv_late TO regress_cd_app;
SELECT * FROM cd.seen('masked.mv_kid');
SELECT * FROM cd.seen('masked.mv_late');
SELECT count(*) AS superuser_no_purpose FROM masked.mv_kid;

RESET client_min_messages;
DROP SCHEMA cd CASCADE;
DROP SERVER cd_files;
DROP EXTENSION file_fdw;
SELECT privacy.revoke_purpose('regress_cd_app', 'cd_research');
DROP ROLE regress_cd_app;
