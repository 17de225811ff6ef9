-- Masking views over consent-protected tables: a reader sees through
-- masked.<table> exactly the rows the table's consent policy shows it for
-- the purpose it declared (none declared: none), whoever created the view
-- and after any DDL by anyone.
SELECT privacy.create_purpose('masking_consent_mkt', 'consent');
SELECT privacy.create_purpose('masking_consent_mkt_email', 'consent', parent => 'masking_consent_mkt');
SELECT privacy.create_purpose('masking_consent_billing', 'contract');
CREATE ROLE masking_consent_reader;                 -- masked
CREATE ROLE masking_consent_direct;                 -- reads the tables themselves
CREATE ROLE masking_consent_admin IN ROLE privacy_admin;   -- not a superuser
CREATE ROLE masking_consent_other;                  -- owns an unrelated table
CREATE TABLE masking_consent_other_t (a int);
ALTER TABLE masking_consent_other_t OWNER TO masking_consent_other;
SELECT privacy.grant_purpose(r, p)
  FROM unnest(ARRAY['masking_consent_reader', 'masking_consent_direct']) r,
       unnest(ARRAY['masking_consent_mkt', 'masking_consent_mkt_email', 'masking_consent_billing']) p;

-- s1 consents to the parent purpose, s2 to the child only, s3 to nothing,
-- s4 until its consent expires below.
CREATE TABLE masking_consent_people (id int PRIMARY KEY, subject text, email text);
INSERT INTO masking_consent_people VALUES
  (1, 's1', 'ann@example.com'), (2, 's2', 'bob@example.org'),
  (3, 's3', 'cy@example.net'), (4, 's4', 'di@example.com');
SELECT privacy.protect_table('masking_consent_people', 'subject');
SELECT privacy.set_mask('masking_consent_people', 'email', 'email');
GRANT SELECT ON masking_consent_people TO masking_consent_direct;
SELECT privacy.grant_consent('s1', 'masking_consent_mkt');
SELECT privacy.grant_consent('s2', 'masking_consent_mkt_email');
SELECT privacy.grant_consent('s4', 'masking_consent_mkt');

-- What the table's policy shows a role, purpose by purpose, against what
-- the masking view of tbl shows reader: the same ids, and masked values.
CREATE FUNCTION pg_temp.compare(tbl text, reader text) RETURNS TABLE (purpose text, policy text, view text)
LANGUAGE plpgsql AS $$
DECLARE
    p text;
BEGIN
    FOREACH p IN ARRAY ARRAY['', 'masking_consent_mkt', 'masking_consent_mkt_email', 'masking_consent_billing'] LOOP
        EXECUTE format('SET LOCAL ROLE masking_consent_direct');
        PERFORM set_config('privacy.purpose', p, true);
        EXECUTE format('SELECT string_agg(id::text, '','' ORDER BY id) FROM %I', tbl) INTO policy;
        RESET ROLE;
        EXECUTE format('SET LOCAL ROLE %I', reader);
        PERFORM set_config('privacy.purpose', p, true);
        EXECUTE format('SELECT string_agg(id::text, '','' ORDER BY id) FROM masked.%I', tbl) INTO view;
        RESET ROLE;
        PERFORM set_config('privacy.purpose', '', true);
        purpose := coalesce(nullif(p, ''), '(none)');
        policy := coalesce(policy, '-');
        view := coalesce(view, '-');
        RETURN NEXT;
    END LOOP;
END
$$;

-- 1. A view created by a superuser (the README's way): the superuser
-- bypasses the table's policies, the view's own filter does not.
-- 1.1, privacy by default: a column without a rule is redacted; these are shown in clear.
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id', 'subject']) c, LATERAL privacy.set_mask('masking_consent_people', c, 'none');
SELECT privacy.create_masking_view('masking_consent_people');
SELECT privacy.mask_role('masking_consent_reader');
SELECT pg_get_viewdef('masked.masking_consent_people') LIKE '%WHERE privacy.has_consent(masking_consent_people.subject)%' AS filtered;
SELECT * FROM pg_temp.compare('masking_consent_people', 'masking_consent_reader');
SET ROLE masking_consent_reader;
SELECT count(*) FROM masked.masking_consent_people;         -- no purpose declared: no rows
SET privacy.purpose = 'masking_consent_mkt';
SELECT * FROM masked.masking_consent_people ORDER BY id;    -- masked values of s1 and s4 only
RESET privacy.purpose;
RESET ROLE;

-- After ALTER TABLE by another role on another table, and on this one.
SET ROLE masking_consent_other;
ALTER TABLE masking_consent_other_t ADD COLUMN b int;
RESET ROLE;
SELECT * FROM pg_temp.compare('masking_consent_people', 'masking_consent_reader');
ALTER TABLE masking_consent_people ADD COLUMN note text;
ALTER TABLE masking_consent_people ALTER COLUMN email TYPE varchar(100);
ALTER TABLE masking_consent_people RENAME COLUMN note TO remark;
SELECT * FROM pg_temp.compare('masking_consent_people', 'masking_consent_reader');

-- Expiry: a consent counts until expires_at, in the view as in the table.
BEGIN;
SELECT privacy.grant_consent('s4', 'masking_consent_mkt', expires_at => clock_timestamp() + interval '300 ms');
SELECT pg_sleep(0.4);
SELECT * FROM pg_temp.compare('masking_consent_people', 'masking_consent_reader');
COMMIT;
-- A withdrawal is seen by the next statement through the view too.
SELECT privacy.withdraw_consent('s1', 'masking_consent_mkt');
SELECT * FROM pg_temp.compare('masking_consent_people', 'masking_consent_reader');
SELECT privacy.grant_consent('s1', 'masking_consent_mkt');

-- Leaks: a reader's predicates and functions see only the rows the
-- filter let through, and only masked values; so do EXPLAIN and errors.
SET ROLE masking_consent_reader;
CREATE FUNCTION pg_temp.peek(text, text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN RAISE NOTICE 'peek: % %', $1, $2; RETURN true; END $$;
SELECT count(*) FROM masked.masking_consent_people WHERE pg_temp.peek(subject, email);
SET privacy.purpose = 'masking_consent_mkt';
SELECT id FROM masked.masking_consent_people WHERE pg_temp.peek(subject, email) ORDER BY id;
SELECT id FROM masked.masking_consent_people WHERE subject = 's3';
SELECT id FROM masked.masking_consent_people WHERE email = 'ann@example.com';
SELECT 1 / (subject <> 's3')::int FROM masked.masking_consent_people;
EXPLAIN (COSTS OFF) SELECT id FROM masked.masking_consent_people WHERE pg_temp.peek(subject, email);
RESET privacy.purpose;
RESET ROLE;

-- Superusers reading the view are filtered too (the table they bypass).
SELECT count(*) FROM masked.masking_consent_people;
SELECT count(*) FROM masking_consent_people;

-- 2. A view created by an administrator who is not a superuser, over
-- another role's table (the consent policies apply to the administrator,
-- the view's owner, too); then DDL by others must not turn it into a view
-- owned by anyone else.  (Over a table of its own it may not: the table's
-- code would run as the view's readers.)
CREATE TABLE masking_consent_accounts (id int PRIMARY KEY, subject varchar(10), iban text);
INSERT INTO masking_consent_accounts SELECT id, subject, 'NL00BANK' || id FROM masking_consent_people;
ALTER TABLE masking_consent_accounts OWNER TO masking_consent_other;
GRANT SELECT ON masking_consent_accounts TO masking_consent_direct, masking_consent_admin;
SELECT privacy.protect_table('masking_consent_accounts', 'subject');
SET ROLE masking_consent_admin;
SELECT privacy.set_mask('masking_consent_accounts', 'iban', 'partial(2, ''**'', 2)');
-- 1.1, privacy by default: a column without a rule is redacted; these are shown in clear.
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id', 'subject']) c, LATERAL privacy.set_mask('masking_consent_accounts', c, 'none');
SELECT privacy.create_masking_view('masking_consent_accounts');
GRANT SELECT ON masked.masking_consent_accounts TO masking_consent_reader;
RESET ROLE;
SELECT relowner::regrole AS owner FROM pg_class WHERE oid = 'masked.masking_consent_accounts'::regclass;
SELECT * FROM pg_temp.compare('masking_consent_accounts', 'masking_consent_reader');
SET ROLE masking_consent_other;
ALTER TABLE masking_consent_other_t ADD COLUMN c int;        -- another role, another table
RESET ROLE;
ALTER TABLE masking_consent_people ADD COLUMN more text;     -- a superuser, another table
ALTER TABLE masking_consent_accounts ADD COLUMN opened date; -- a superuser, this table
ALTER TABLE masking_consent_accounts ALTER COLUMN iban TYPE varchar(34);
SELECT relowner::regrole AS owner FROM pg_class WHERE oid = 'masked.masking_consent_accounts'::regclass;
SELECT * FROM pg_temp.compare('masking_consent_accounts', 'masking_consent_reader');
SET ROLE masking_consent_reader;
SET privacy.purpose = 'masking_consent_mkt_email';
SELECT id, subject, iban FROM masked.masking_consent_accounts ORDER BY id;
RESET privacy.purpose;
RESET ROLE;

-- 3. protect_table after create_masking_view: the view filters from then on.
CREATE TABLE masking_consent_late (id int, subject bigint, phone text);
INSERT INTO masking_consent_late VALUES (1, 101, '+31 6 1111 1111'), (2, 102, '+31 6 2222 2222');
GRANT SELECT ON masking_consent_late TO masking_consent_direct;
SELECT privacy.set_mask('masking_consent_late', 'phone', 'partial(3, ''***'', 2)');
-- 1.1, privacy by default: a column without a rule is redacted; these are shown in clear.
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id', 'subject']) c, LATERAL privacy.set_mask('masking_consent_late', c, 'none');
SELECT privacy.create_masking_view('masking_consent_late');
SELECT privacy.grant_consent('101', 'masking_consent_mkt');
SET ROLE masking_consent_reader;
SELECT count(*) FROM masked.masking_consent_late;             -- not protected yet: every row
RESET ROLE;
SELECT privacy.protect_table('masking_consent_late', 'subject');
SELECT * FROM pg_temp.compare('masking_consent_late', 'masking_consent_reader');
-- A protection taken out of the registry takes the view's filter with it
-- (the table keeps its policies: a direct read still filters).
DELETE FROM privacy.protected_tables WHERE relid = 'masking_consent_late'::regclass;
SELECT pg_get_viewdef('masked.masking_consent_late') LIKE '%has_consent%' AS filtered;
SELECT privacy.protect_table('masking_consent_late', 'subject');
SELECT pg_get_viewdef('masked.masking_consent_late') LIKE '%has_consent(masking_consent_late.subject)%' AS filtered;
-- The subject column renamed: the filter follows it.
ALTER TABLE masking_consent_late RENAME COLUMN subject TO customer_no;
SELECT pg_get_viewdef('masked.masking_consent_late') LIKE '%has_consent(masking_consent_late.customer_no)%' AS filtered;
SELECT * FROM pg_temp.compare('masking_consent_late', 'masking_consent_reader');
SELECT privacy.protect_table('masking_consent_late', 'customer_no');   -- as export_subject needs
SELECT * FROM pg_temp.compare('masking_consent_late', 'masking_consent_reader');
-- A registry change that leaves the filter as it is leaves the view alone
-- (as when a restore loads the registry under the views it restored);
-- protect_table with another column moves the view's filter with the
-- policies.
SET track_functions = 'all';
BEGIN;
UPDATE privacy.protected_tables SET on_erase = 'delete' WHERE relid = 'masking_consent_late'::regclass;
SELECT coalesce(sum(calls), 0) AS rebuilds FROM pg_stat_xact_user_functions WHERE funcname = 'masking_view_build';
COMMIT;
RESET track_functions;
SELECT privacy.protect_table('masking_consent_late', 'id');
SELECT pg_get_viewdef('masked.masking_consent_late') LIKE '%has_consent(masking_consent_late.id)%' AS filtered_by_id;
SELECT privacy.grant_consent('2', 'masking_consent_mkt');
SELECT * FROM pg_temp.compare('masking_consent_late', 'masking_consent_reader');
SELECT privacy.protect_table('masking_consent_late', 'customer_no');
SELECT * FROM pg_temp.compare('masking_consent_late', 'masking_consent_reader');

-- 4. Partitioned protected tables: the view of the parent and the view of
-- a partition both filter.
CREATE TABLE masking_consent_events (id int, subject uuid, detail text) PARTITION BY RANGE (id);
CREATE TABLE masking_consent_events_1 PARTITION OF masking_consent_events FOR VALUES FROM (0) TO (10);
CREATE TABLE masking_consent_events_2 PARTITION OF masking_consent_events FOR VALUES FROM (10) TO (20);
INSERT INTO masking_consent_events VALUES
  (1, '00000000-0000-0000-0000-000000000001', 'a'), (2, '00000000-0000-0000-0000-000000000002', 'b'),
  (11, '00000000-0000-0000-0000-000000000001', 'c'), (12, '00000000-0000-0000-0000-000000000003', 'd');
GRANT SELECT ON masking_consent_events, masking_consent_events_1 TO masking_consent_direct;
SELECT privacy.set_mask('masking_consent_events', 'detail', 'redact');
SELECT privacy.set_mask('masking_consent_events_1', 'detail', 'redact');
-- 1.1, privacy by default: a column without a rule is redacted; these are shown in clear.
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id', 'subject']) c, LATERAL privacy.set_mask('masking_consent_events', c, 'none');
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id', 'subject']) c, LATERAL privacy.set_mask('masking_consent_events_1', c, 'none');
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id', 'subject']) c, LATERAL privacy.set_mask('masking_consent_events_2', c, 'none');
SELECT privacy.create_masking_view('masking_consent_events');
SELECT privacy.create_masking_view('masking_consent_events_1');
SELECT privacy.protect_table('masking_consent_events', 'subject');
SELECT privacy.grant_consent('00000000-0000-0000-0000-000000000001', 'masking_consent_mkt');
SELECT pg_get_viewdef('masked.masking_consent_events_1') LIKE '%has_consent(masking_consent_events_1.subject)%' AS partition_filtered;
SELECT * FROM pg_temp.compare('masking_consent_events', 'masking_consent_reader');
SELECT * FROM pg_temp.compare('masking_consent_events_1', 'masking_consent_reader');
ALTER TABLE masking_consent_events ADD COLUMN extra int;      -- recurses to the partitions
SELECT * FROM pg_temp.compare('masking_consent_events_1', 'masking_consent_reader');

-- 5. Data-subject requests still read and change every row of the tables.
SELECT jsonb_array_length(privacy.export_subject('s3') -> 'tables' -> 'public.masking_consent_people') AS s3_rows;
SELECT privacy.erase_subject('s3') ->> 'rows' AS erased;
SELECT count(*) FROM masking_consent_people WHERE subject = 's3';
SELECT * FROM pg_temp.compare('masking_consent_people', 'masking_consent_reader');
SELECT table_name, column_name, consent_protected, findings FROM privacy.inventory
 WHERE table_name LIKE 'masking_consent%' AND (findings <> '{}' OR is_subject_column)
 ORDER BY 1, 2;

-- Clean up.
SELECT privacy.unmask_role('masking_consent_reader');
DELETE FROM privacy.masking_views WHERE view_name LIKE 'masked.masking\_consent%';
DELETE FROM privacy.mask_rules WHERE relid::text LIKE 'masking\_consent%';
DELETE FROM privacy.protected_tables WHERE relid::text LIKE 'masking\_consent%';
DELETE FROM privacy.purpose_grants WHERE purpose LIKE 'masking\_consent%';
DELETE FROM privacy.consent_state WHERE purpose LIKE 'masking\_consent%';
DROP TABLE masking_consent_people, masking_consent_accounts, masking_consent_late,
           masking_consent_events, masking_consent_other_t CASCADE;
DROP OWNED BY masking_consent_reader, masking_consent_direct, masking_consent_admin, masking_consent_other;
DROP ROLE masking_consent_reader, masking_consent_direct, masking_consent_admin, masking_consent_other;

-- An upgrade from 1.0 gives the masking views 1.0 made their filter, in
-- place: the view keeps its grants and what was built on it, and stays out
-- of the extension.
\set regress_db :DBNAME
CREATE DATABASE masking_consent_upgrade;
\c masking_consent_upgrade
SET client_min_messages = warning;
CREATE EXTENSION privacy_ext VERSION '1.0';
RESET client_min_messages;
CREATE ROLE masking_consent_upg_reader;
SELECT privacy.create_purpose('upg_mkt', 'consent');
SELECT privacy.grant_purpose('masking_consent_upg_reader', 'upg_mkt');
CREATE TABLE upg_people (id int, subject text, email text);
INSERT INTO upg_people VALUES (1, 's1', 'ann@example.com'), (2, 's2', 'bob@example.org');
SELECT privacy.protect_table('upg_people', 'subject');
SELECT privacy.set_mask('upg_people', 'email', 'email');
SELECT privacy.create_masking_view('upg_people');
SELECT privacy.mask_role('masking_consent_upg_reader');
SELECT privacy.grant_consent('s1', 'upg_mkt');
-- a tenant policy: the 1.0 view showed every tenant's rows
CREATE TABLE upg_orders (id int, tenant name);
INSERT INTO upg_orders VALUES (1, 'masking_consent_upg_reader'), (2, 'globex');
ALTER TABLE upg_orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON upg_orders FOR SELECT USING (tenant = current_user);
SELECT privacy.create_masking_view('upg_orders');
GRANT SELECT ON masked.upg_orders TO masking_consent_upg_reader;
SET ROLE masking_consent_upg_reader;
SELECT count(*) AS orders_in_1_0 FROM masked.upg_orders;
RESET ROLE;
CREATE SCHEMA upg_reader AUTHORIZATION masking_consent_upg_reader;
SET ROLE masking_consent_upg_reader;
CREATE VIEW upg_reader.mine AS SELECT id, email FROM masked.upg_people;
SET privacy.purpose = 'upg_mkt';
SELECT count(*) AS in_1_0 FROM masked.upg_people;        -- 1.0: every row
RESET privacy.purpose;
RESET ROLE;
ALTER EXTENSION privacy_ext UPDATE TO '1.1';
SET ROLE masking_consent_upg_reader;
SELECT id FROM masked.upg_orders;                        -- 1.1: the reader's tenant
RESET ROLE;
SET ROLE masking_consent_upg_reader;
SET privacy.purpose = 'upg_mkt';
SELECT * FROM masked.upg_people;
SELECT * FROM upg_reader.mine;
RESET privacy.purpose;
SELECT count(*) AS no_purpose FROM masked.upg_people;
RESET ROLE;
SELECT count(*) AS extension_member FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND objid = 'masked.upg_people'::regclass;
SELECT x.grantee::regrole, x.privilege_type FROM pg_class c, aclexplode(c.relacl) x
 WHERE c.oid = 'masked.upg_people'::regclass AND x.grantee <> c.relowner;
SELECT evtname, evtevent, evtfoid::regproc FROM pg_event_trigger ORDER BY 1;
\c :regress_db
DROP DATABASE masking_consent_upgrade;
DROP ROLE masking_consent_upg_reader;
