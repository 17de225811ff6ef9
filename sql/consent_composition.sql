-- Consent filtering composed with the table's own row-level security and
-- with erasure by a non-superuser owner; names and subjects at the edges.
SET client_min_messages = warning;
CREATE ROLE regress_cc_app;
CREATE ROLE regress_cc_owner;
GRANT CREATE ON SCHEMA public TO regress_cc_owner;
SELECT privacy.create_purpose('cc_marketing', 'consent');
SELECT privacy.create_purpose('cc_billing', 'contract');
SELECT privacy.grant_purpose('regress_cc_app', 'cc_marketing');
SELECT privacy.grant_purpose('regress_cc_app', 'cc_billing');

-- 1. A tenant policy of the table's own (permissive): the consent policy
-- still filters, and the tenant policy still holds, for reads and inserts.
CREATE TABLE cc_customers (customer_id text PRIMARY KEY, tenant text, name text);
INSERT INTO cc_customers VALUES ('ccs-42', 'acme', 'Ann'), ('ccs-43', 'acme', 'Bob'),
                                ('ccs-44', 'other', 'Cy');
GRANT SELECT, INSERT, UPDATE, DELETE ON cc_customers TO regress_cc_app;
ALTER TABLE cc_customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cc_customers
    USING (tenant = current_setting('app.tenant', true))
    WITH CHECK (tenant = current_setting('app.tenant', true));
SELECT privacy.protect_table('cc_customers', subject_column => 'customer_id');
SELECT privacy.grant_consent('ccs-42', 'cc_marketing');
SELECT privacy.grant_consent('ccs-44', 'cc_marketing');
SELECT polname, polpermissive, polcmd FROM pg_policy
 WHERE polrelid = 'cc_customers'::regclass ORDER BY polname;
SET ROLE regress_cc_app;
SET app.tenant = 'acme';
SET privacy.purpose = 'cc_marketing';
SELECT customer_id FROM cc_customers ORDER BY 1;          -- ccs-42 only
UPDATE cc_customers SET name = name || '!' RETURNING customer_id;   -- ccs-42 only
DELETE FROM cc_customers WHERE customer_id = 'ccs-43';    -- hidden: nothing
RESET privacy.purpose;
SELECT count(*) AS no_purpose_no_rows FROM cc_customers;
SET privacy.purpose = 'cc_billing';
SELECT customer_id FROM cc_customers ORDER BY 1;          -- the tenant's rows, all of them
INSERT INTO cc_customers VALUES ('ccs-99', 'evilcorp', 'Eve');   -- the tenant check holds
\echo :LAST_ERROR_SQLSTATE
INSERT INTO cc_customers VALUES ('ccs-45', 'acme', 'Dee');       -- a new subject of the tenant
RESET privacy.purpose;
RESET app.tenant;
RESET ROLE;
SELECT customer_id, name FROM cc_customers ORDER BY 1;

-- A table with no policy of its own: every row of a consenting subject,
-- inserts of new subjects allowed (the permissive allow policies).
CREATE TABLE cc_plain (sid text, v int);
INSERT INTO cc_plain VALUES ('ccs-42', 1), ('ccs-43', 2);
GRANT SELECT, INSERT ON cc_plain TO regress_cc_app;
SELECT privacy.protect_table('cc_plain', 'sid');
SELECT polname, polpermissive, polcmd FROM pg_policy
 WHERE polrelid = 'cc_plain'::regclass ORDER BY polname;
SET ROLE regress_cc_app;
SET privacy.purpose = 'cc_marketing';
SELECT sid FROM cc_plain ORDER BY 1;
INSERT INTO cc_plain VALUES ('ccs-50', 3);
RESET privacy.purpose;
RESET ROLE;
-- A permissive policy added after protect_table is undone by the allow
-- policy: the inventory says so, and protect_table again puts it right.
CREATE POLICY late_tenant ON cc_plain FOR SELECT USING (v < 3);
SELECT DISTINCT f AS finding FROM privacy.inventory i, unnest(i.findings) f
 WHERE i.table_name = 'cc_plain' AND f LIKE '%undone%';
SELECT privacy.protect_table('cc_plain', 'sid');
SELECT polname FROM pg_policy WHERE polrelid = 'cc_plain'::regclass ORDER BY polname;
SELECT count(*) AS undone_findings FROM privacy.inventory
 WHERE table_name = 'cc_plain' AND array_to_string(findings, ' ') LIKE '%undone%';
-- A consent policy weakened by ALTER POLICY keeps its name: the inventory
-- compares the condition, roles, command and kind with protect_table's.
CREATE VIEW cc_policy_findings AS
SELECT i.table_name, f AS finding FROM privacy.inventory i, unnest(i.findings) f
 WHERE i.table_name LIKE 'cc\_%' AND (f LIKE '%protect\_table%' OR f LIKE '%partition%');
SELECT * FROM cc_policy_findings WHERE table_name = 'cc_plain';
ALTER POLICY privacy_consent_select ON cc_plain USING (true);
SET ROLE regress_cc_app;
SET privacy.purpose = 'cc_marketing';
SELECT count(*) AS rows_without_consent_shown FROM cc_plain;
RESET privacy.purpose;
RESET ROLE;
SELECT * FROM cc_policy_findings WHERE table_name = 'cc_plain';
SELECT privacy.protect_table('cc_plain', 'sid');
ALTER POLICY privacy_consent_update ON cc_plain TO regress_cc_owner;
SELECT * FROM cc_policy_findings WHERE table_name = 'cc_plain';
SELECT privacy.protect_table('cc_plain', 'sid');
ALTER POLICY privacy_consent_delete ON cc_plain USING (privacy.has_consent(sid) OR v > 0);
SELECT * FROM cc_policy_findings WHERE table_name = 'cc_plain';
SELECT privacy.protect_table('cc_plain', 'sid');
SELECT count(*) AS findings_after_protect FROM cc_policy_findings WHERE table_name = 'cc_plain';
-- A policy of the user's own whose name begins with privacy_consent_ is
-- neither dropped by protect_table nor taken for one of its own: being
-- permissive, it spares the allow policy, and it still filters.
DROP POLICY late_tenant ON cc_plain;
CREATE POLICY privacy_consent_tenant ON cc_plain FOR SELECT USING (v < 2);
SELECT privacy.protect_table('cc_plain', 'sid');
SELECT polname, polpermissive, polcmd FROM pg_policy
 WHERE polrelid = 'cc_plain'::regclass ORDER BY polname;
SET ROLE regress_cc_app;
SET privacy.purpose = 'cc_billing';
SELECT sid, v FROM cc_plain ORDER BY 1;                    -- v < 2 only
RESET privacy.purpose;
RESET ROLE;
SELECT count(*) AS findings FROM cc_policy_findings WHERE table_name = 'cc_plain';
DROP POLICY privacy_consent_tenant ON cc_plain;
SELECT privacy.protect_table('cc_plain', 'sid');
-- A partitioned table: each partition's policies are checked, a
-- permissive policy added to a partition after protect_table too.
CREATE TABLE cc_parted (sid text, v int) PARTITION BY LIST (v);
CREATE TABLE cc_parted_1 PARTITION OF cc_parted FOR VALUES IN (1);
CREATE TABLE cc_parted_2 PARTITION OF cc_parted FOR VALUES IN (2);
INSERT INTO cc_parted VALUES ('ccs-42', 1), ('ccs-43', 2);
GRANT SELECT ON cc_parted, cc_parted_1, cc_parted_2 TO regress_cc_app;
SELECT privacy.protect_table('cc_parted', 'sid');
SELECT count(*) AS findings FROM cc_policy_findings WHERE table_name = 'cc_parted';
CREATE POLICY late_partition ON cc_parted_2 FOR SELECT USING (v < 2);
SELECT * FROM cc_policy_findings WHERE table_name = 'cc_parted';
SELECT privacy.protect_table('cc_parted', 'sid');
SELECT count(*) AS findings FROM cc_policy_findings WHERE table_name = 'cc_parted';
ALTER POLICY privacy_consent_select ON cc_parted_1 TO regress_cc_owner;
SELECT * FROM cc_policy_findings WHERE table_name = 'cc_parted';
SELECT privacy.protect_table('cc_parted', 'sid');
SELECT count(*) AS findings FROM cc_policy_findings WHERE table_name = 'cc_parted';
DROP VIEW cc_policy_findings;

-- 2. erase_subject with on_erase => 'anonymize' on a table owned by an
-- ordinary role: the rewritten rows pass the owner's consent policies.
SET ROLE regress_cc_owner;
CREATE TABLE cc_visits (visitor int, page text);
INSERT INTO cc_visits VALUES (42, '/home'), (7, '/x'), (42, '/cart');
RESET ROLE;
SELECT privacy.protect_table('cc_visits', 'visitor', on_erase => 'anonymize');
SELECT privacy.set_mask('cc_visits', 'visitor', 'redact');
SELECT privacy.set_mask('cc_visits', 'page', 'redact');
SELECT privacy.erase_subject('42') -> 'tables' -> 'public.cc_visits' AS erased;
SELECT visitor, page FROM cc_visits ORDER BY visitor, page;

-- 2b. An anonymizing rule that turns the erased subject into another
-- subject's id (generalize(10): 12 becomes 10, who consents) is refused:
-- the rows would be shown and exported as 10's.  Nothing changes.
CREATE TABLE cc_patients (patient int, diagnosis text);
INSERT INTO cc_patients VALUES (10, 'flu'), (12, 'hidden');
SELECT privacy.protect_table('cc_patients', 'patient', on_erase => 'anonymize');
SELECT privacy.set_mask('cc_patients', 'patient', 'generalize(10)');
SELECT privacy.set_mask('cc_patients', 'diagnosis', 'redact');
SELECT privacy.grant_consent('10', 'cc_marketing');
SELECT privacy.erase_subject('12') -> 'tables' -> 'public.cc_patients' AS erased;
\echo :LAST_ERROR_SQLSTATE
SELECT patient, diagnosis FROM cc_patients ORDER BY patient, diagnosis;
-- with a rule that names nobody it goes through
SELECT privacy.set_mask('cc_patients', 'patient', 'null');
SELECT privacy.erase_subject('12') -> 'tables' -> 'public.cc_patients' AS erased;
SELECT patient, diagnosis FROM cc_patients ORDER BY patient NULLS LAST, diagnosis;
SELECT privacy.withdraw_consent('10', 'cc_marketing');
DELETE FROM privacy.protected_tables WHERE relid = 'cc_patients'::regclass;
DELETE FROM privacy.mask_rules WHERE relid = 'cc_patients'::regclass;
DROP TABLE cc_patients;

-- 2a. A policy of the owner's own with a subquery over another protected
-- table (built-in functions only, leaking through set_config) would read,
-- during the erasure and with its bypass, the erased subject's rows of
-- that table and carry them out: the erasure is refused (42501), nothing
-- changed, nothing seen.
CREATE TABLE cc_secrets (subject text, secret text);
INSERT INTO cc_secrets VALUES ('ccs-90', 'secret of 90'), ('ccs-91', 'secret of 91'),
                              ('REDACTED', 'an anonymized row');
SELECT privacy.protect_table('cc_secrets', 'subject');
GRANT SELECT ON cc_secrets TO regress_cc_owner;
SET ROLE regress_cc_owner;
CREATE TABLE cc_notes (who text, note text);
INSERT INTO cc_notes VALUES ('ccs-90', 'note of 90'), ('ccs-91', 'note of 91');
CREATE POLICY peek ON cc_notes AS RESTRICTIVE USING (
    (SELECT set_config('cc.leak', coalesce(current_setting('cc.leak', true), '') || '[' ||
                       coalesce(string_agg(subject || ': ' || secret, ', ' ORDER BY subject), '') || ']', false)
       FROM public.cc_secrets) IS NOT NULL);
RESET ROLE;
SELECT privacy.protect_table('cc_notes', 'who', on_erase => 'anonymize');
SELECT privacy.set_mask('cc_notes', 'who', 'redact');
SELECT privacy.set_mask('cc_notes', 'note', 'redact');
SELECT privacy.erase_subject('ccs-90') -> 'tables' AS erased;
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.export_subject('ccs-90') -> 'tables' AS exported;
\echo :LAST_ERROR_SQLSTATE
SELECT current_setting('cc.leak', true) AS seen_by_the_policy;
SELECT who, note FROM cc_notes ORDER BY who;
SELECT subject FROM cc_secrets ORDER BY subject;
RESET cc.leak;
DELETE FROM privacy.protected_tables WHERE relid IN ('cc_notes'::regclass, 'cc_secrets'::regclass);
DELETE FROM privacy.mask_rules WHERE relid = 'cc_notes'::regclass;
DROP TABLE cc_notes, cc_secrets;

-- 2b. A policy of the owner's own that hides some of the subject's rows
-- from the owner: export and erasure fail instead of leaving them out.
SET ROLE regress_cc_owner;
CREATE TABLE cc_tenants (customer_id text PRIMARY KEY, tenant text, name text);
INSERT INTO cc_tenants VALUES ('ccs-77', 'acme', 'Ann'), ('ccs-78', 'other', 'Bob');
CREATE POLICY tenant_only ON cc_tenants AS RESTRICTIVE
    USING (tenant = current_setting('app.tenant', true));
RESET ROLE;
SELECT privacy.protect_table('cc_tenants', 'customer_id');
SET app.tenant = 'other';
SELECT privacy.export_subject('ccs-77') -> 'tables' -> 'public.cc_tenants' AS hidden_export;
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.erase_subject('ccs-77');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS ann_still_there FROM cc_tenants WHERE customer_id = 'ccs-77';
SET app.tenant = 'acme';
SELECT privacy.export_subject('ccs-77') -> 'tables' -> 'public.cc_tenants' AS seen_export;
SELECT privacy.erase_subject('ccs-77') -> 'tables' -> 'public.cc_tenants' AS erased;
RESET app.tenant;
DROP TABLE cc_tenants;

-- 2c. Static masking rewrites every row, so for its own statements
-- has_consent passes every subject: a query of the run reading another
-- protected table (a subquery in a policy of the owner's own, or a query a
-- built-in function such as query_to_xml runs) would read every subject's
-- rows of it.  The run fails instead (42501) and nothing changes.  The
-- table's own partitions, and code of the owner's that the run fires (a
-- PL/pgSQL function or trigger: no bypass), are fine.
CREATE TABLE cc_vault (subject text, secret text);
INSERT INTO cc_vault VALUES ('ccs-60', 'secret of 60'), ('ccs-61', 'secret of 61');
SELECT privacy.protect_table('cc_vault', 'subject');
GRANT SELECT, INSERT ON cc_vault TO regress_cc_owner;
SET ROLE regress_cc_owner;
CREATE TABLE cc_drafts (who text, draft text);
INSERT INTO cc_drafts VALUES ('ccs-60', 'draft of 60'), ('ccs-61', 'draft of 61');
CREATE POLICY peek ON cc_drafts AS RESTRICTIVE USING (
    (SELECT set_config('cc.leak', coalesce(current_setting('cc.leak', true), '') || '[' ||
                       coalesce(string_agg(subject || ': ' || secret, ', ' ORDER BY subject), '') || ']', false)
       FROM public.cc_vault) IS NOT NULL);
RESET ROLE;
SELECT privacy.protect_table('cc_drafts', 'who');
SELECT privacy.set_mask('cc_drafts', 'draft', 'redact');
SELECT privacy.anonymize_table('cc_drafts');
\echo :LAST_ERROR_SQLSTATE
SELECT current_setting('cc.leak', true) AS seen_by_the_policy;
RESET cc.leak;
SET ROLE regress_cc_owner;
DROP POLICY peek ON cc_drafts;
CREATE POLICY peek ON cc_drafts AS RESTRICTIVE USING (
    set_config('cc.leak', query_to_xml('SELECT subject, secret FROM public.cc_vault ORDER BY 1',
                                       false, false, '')::text, false) IS NOT NULL);
RESET ROLE;
SELECT privacy.anonymize_table('cc_drafts');
\echo :LAST_ERROR_SQLSTATE
SELECT current_setting('cc.leak', true) AS seen_by_the_policy;
RESET cc.leak;
-- a cursor a function of the owner's opens (no bypass there) and a
-- built-in function fetches from, in the run's own query
SET ROLE regress_cc_owner;
DROP POLICY peek ON cc_drafts;
CREATE FUNCTION cc_open_vault() RETURNS refcursor LANGUAGE plpgsql AS $$
DECLARE
    c refcursor := 'cc_vault_cursor';
BEGIN
    IF NOT EXISTS (SELECT FROM pg_cursors WHERE name = 'cc_vault_cursor') THEN
        OPEN c FOR SELECT subject, secret FROM public.cc_vault ORDER BY 1;
    END IF;
    RETURN c;
END $$;
CREATE POLICY peek ON cc_drafts AS RESTRICTIVE USING (
    set_config('cc.leak', coalesce(current_setting('cc.leak', true), '') ||
                          cursor_to_xml(cc_open_vault(), 10, false, false, '')::text, false) IS NOT NULL);
RESET ROLE;
SELECT privacy.anonymize_table('cc_drafts');
\echo :LAST_ERROR_SQLSTATE
SELECT current_setting('cc.leak', true) AS seen_by_the_policy;
RESET cc.leak;
-- a rule of the owner's: its action is one of the run's own queries
SET ROLE regress_cc_owner;
DROP POLICY peek ON cc_drafts;
DROP FUNCTION cc_open_vault();
CREATE TABLE cc_copies (subject text, secret text);
CREATE RULE cc_copy AS ON UPDATE TO cc_drafts
    DO ALSO INSERT INTO cc_copies SELECT subject, secret FROM public.cc_vault;
RESET ROLE;
SELECT privacy.anonymize_table('cc_drafts');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS copied FROM cc_copies;
SET ROLE regress_cc_owner;
DROP RULE cc_copy ON cc_drafts;
DROP TABLE cc_copies;
RESET ROLE;
SELECT who, draft FROM cc_drafts ORDER BY who;
-- The same reads in code of the owner's: it reads the rows its own purpose
-- covers (none here), and its writes to other tables go on.
SET ROLE regress_cc_owner;
CREATE FUNCTION cc_vault_rows() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM public.cc_vault)::text;
END $$;
CREATE POLICY peek ON cc_drafts AS RESTRICTIVE USING (set_config('cc.leak', cc_vault_rows(), false) IS NOT NULL);
CREATE FUNCTION cc_drafts_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.cc_vault VALUES ('ccs-log', 'rewrote a draft of ' || OLD.who);
    RETURN NEW;
END $$;
CREATE TRIGGER cc_drafts_log AFTER UPDATE ON cc_drafts FOR EACH ROW EXECUTE FUNCTION cc_drafts_log();
RESET ROLE;
SELECT privacy.anonymize_table('cc_drafts');
SELECT current_setting('cc.leak', true) AS vault_rows_seen_by_the_policy;
RESET cc.leak;
SELECT who, draft FROM cc_drafts ORDER BY who;
SELECT subject, secret FROM cc_vault ORDER BY subject, secret;
-- A protected partitioned table: each partition is rewritten, and its
-- partitions are the table's own.
SELECT privacy.set_mask('cc_parted', 'sid', 'redact');
SELECT privacy.anonymize_table('cc_parted');
SELECT tableoid::regclass, sid, v FROM cc_parted ORDER BY v;
-- A foreign key to a protected table: PostgreSQL checks it as the table's
-- owner without row-level security, so with no consent filter to pass.
CREATE TABLE cc_people (id text PRIMARY KEY);
INSERT INTO cc_people VALUES ('ccs-60'), ('nobody');
SELECT privacy.protect_table('cc_people', 'id');
CREATE TABLE cc_orders (id int, person text REFERENCES cc_people);
INSERT INTO cc_orders VALUES (1, 'ccs-60');
SELECT privacy.set_mask('cc_orders', 'person', 'value ''nobody''');
SELECT privacy.anonymize_table('cc_orders');
SELECT id, person FROM cc_orders;
-- A cascaded UPDATE (ON UPDATE CASCADE from a table of the owner's) is
-- PostgreSQL's referential-integrity work, run as that table's owner: the
-- referencing table's CHECK reads another protected table there with no
-- bypass (the owner declared no purpose: nothing).
SET ROLE regress_cc_owner;
CREATE TABLE cc_codes (k text PRIMARY KEY);
INSERT INTO cc_codes VALUES ('k1');
CREATE TABLE cc_code_refs (k text REFERENCES cc_codes ON UPDATE CASCADE,
    CHECK (set_config('cc.leak', query_to_xml('SELECT subject, secret FROM public.cc_vault ORDER BY 1',
                                               false, false, '')::text, false) IS NOT NULL));
INSERT INTO cc_code_refs VALUES ('k1');
RESET ROLE;
RESET cc.leak;
SELECT privacy.set_mask('cc_codes', 'k', 'value ''k2''');
SELECT privacy.anonymize_table('cc_codes');
SELECT current_setting('cc.leak', true) NOT LIKE '%secret of%' AS cascade_saw_no_secret;
RESET cc.leak;
DELETE FROM privacy.mask_rules WHERE relid = 'cc_codes'::regclass;
DROP TABLE cc_code_refs, cc_codes;
DELETE FROM privacy.protected_tables
 WHERE relid IN ('cc_drafts'::regclass, 'cc_vault'::regclass, 'cc_people'::regclass);
DELETE FROM privacy.mask_rules
 WHERE relid IN ('cc_drafts'::regclass, 'cc_parted'::regclass, 'cc_orders'::regclass);
DROP TABLE cc_drafts, cc_vault, cc_orders, cc_people;
DROP FUNCTION cc_vault_rows(), cc_drafts_log();

-- 3. Only a subject's own text form is that subject in integer and uuid
-- columns: '007' and an upper-case uuid are other registry subjects.
SELECT privacy.create_purpose('cc_news', 'consent');
CREATE TABLE cc_devices (owner uuid, model text);
INSERT INTO cc_devices VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'phone');
SELECT privacy.protect_table('cc_devices', 'owner');
SELECT privacy.grant_consent('7', 'cc_news');
SELECT privacy.grant_consent('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'cc_news');
SELECT privacy.export_subject('007') -> 'tables' -> 'public.cc_visits' AS export_007;
SELECT privacy.export_subject('+7') -> 'tables' -> 'public.cc_visits' AS export_plus7;
SELECT privacy.export_subject('7') -> 'tables' -> 'public.cc_visits' AS export_7;
SELECT privacy.erase_subject('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11') -> 'tables' -> 'public.cc_devices' AS upper_uuid;
SELECT privacy.erase_subject('{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}') -> 'tables' -> 'public.cc_devices' AS braces;
SELECT count(*) AS devices_left FROM cc_devices;
SELECT privacy.erase_subject('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') ->> 'consents_withdrawn' AS withdrawn;
SELECT count(*) AS devices_left FROM cc_devices;

-- 4. A row with no subject: shown for a purpose of another legal basis,
-- hidden for a consent purpose; the purpose is checked all the same.
CREATE TABLE cc_invoices (customer_id text, amount int);
INSERT INTO cc_invoices VALUES ('ccs-42', 10), (NULL, 20);
GRANT SELECT ON cc_invoices TO regress_cc_app;
SELECT privacy.protect_table('cc_invoices', 'customer_id');
SET ROLE regress_cc_app;
SET privacy.purpose = 'cc_billing';
SELECT amount FROM cc_invoices ORDER BY 1;                -- 10 and 20
SET privacy.purpose = 'cc_marketing';
SELECT amount FROM cc_invoices ORDER BY 1;                -- 10
RESET ROLE;
SET privacy.purpose = 'cc_marketing';                     -- a superuser may declare any
SET ROLE regress_cc_owner;                                -- not granted cc_marketing
SELECT privacy.has_consent(NULL::text);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
RESET privacy.purpose;

-- 5. Purpose names: at most 63 bytes, never cut to another purpose's name.
SELECT privacy.create_purpose(repeat('w', 63) || '_statistics', 'contract');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.create_purpose(repeat('é', 32), 'contract');   -- 64 bytes
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.create_purpose(repeat('w', 63), 'consent');
SELECT count(*) AS created FROM privacy.purposes WHERE name LIKE 'www%';
-- one written past the check (as a 1.0 database may hold) is left out of
-- the registry, not cut to the 63-byte name above
INSERT INTO privacy.purposes (name, legal_basis) VALUES (repeat('w', 63) || '_x', 'contract');
SELECT privacy.grant_purpose('regress_cc_app', repeat('w', 63));
SET ROLE regress_cc_app;
SELECT set_config('privacy.purpose', repeat('w', 63), false) IS NOT NULL AS declared;
SELECT count(*) AS consent_rows_only FROM cc_plain;          -- nobody consented: 0
RESET privacy.purpose;
RESET ROLE;
DELETE FROM privacy.purpose_grants WHERE purpose LIKE 'www%';
DELETE FROM privacy.purposes WHERE name LIKE 'www%';

DROP TABLE cc_customers, cc_plain, cc_visits, cc_devices, cc_invoices, cc_parted;
DELETE FROM privacy.consent_state WHERE purpose LIKE 'cc\_%';
DELETE FROM privacy.purpose_grants WHERE purpose LIKE 'cc\_%';
DELETE FROM privacy.purposes WHERE name LIKE 'cc\_%';
DELETE FROM privacy.protected_tables;
DELETE FROM privacy.mask_rules;
DROP OWNED BY regress_cc_app, regress_cc_owner;
DROP ROLE regress_cc_app, regress_cc_owner;
-- An explicit empty purpose names no purpose (an unknown one: 42704).
SELECT privacy.has_consent('x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.has_consent('x', NULL::text) AS null_purpose;
