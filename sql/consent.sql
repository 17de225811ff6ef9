-- Purposes, consent and row-level consent checks.
SELECT privacy.create_purpose('marketing', legal_basis => 'consent', description => 'newsletters and offers');
SELECT privacy.create_purpose('marketing.email', 'consent', parent => 'marketing');
SELECT privacy.create_purpose('billing', legal_basis => 'contract');
SELECT privacy.create_purpose('analytics', 'consent');
SELECT name, legal_basis, parent FROM privacy.purposes ORDER BY name;
-- Bad input: unknown basis, duplicate, unknown parent.
SELECT privacy.create_purpose('x', 'because');
SELECT privacy.create_purpose('billing', 'contract');
SELECT privacy.create_purpose('y', 'consent', parent => 'nosuchpurpose');

CREATE ROLE regress_px_crm;
CREATE ROLE regress_px_billing;
CREATE ROLE regress_px_nobody;
SELECT privacy.grant_purpose('regress_px_crm', 'marketing');
SELECT privacy.grant_purpose('regress_px_crm', 'marketing.email');
SELECT privacy.grant_purpose('regress_px_billing', 'billing');
SELECT privacy.grant_purpose('regress_px_crm', 'nosuchpurpose');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_purpose('regress_px_ghost', 'billing');
\echo :LAST_ERROR_SQLSTATE

CREATE TABLE customers (customer_id text PRIMARY KEY, name text);
INSERT INTO customers SELECT 'cust-' || g, 'Customer ' || g FROM generate_series(1, 10) g;
CREATE TABLE orders (order_id bigint, customer_no bigint);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;
SELECT privacy.protect_table('customers', subject_column => 'customer_id');
SELECT privacy.protect_table('orders', 'customer_no');
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, orders TO regress_px_crm, regress_px_billing, regress_px_nobody;

SELECT privacy.grant_consent('cust-1', 'marketing', evidence => '{"form":"signup-v3"}');
SELECT privacy.grant_consent('cust-2', 'marketing', expires_at => now() + interval '1 year');
SELECT privacy.grant_consent('cust-3', 'marketing.email');
SELECT privacy.grant_consent('1', 'marketing');
SELECT privacy.grant_consent('2', 'analytics');
SELECT privacy.has_consent('cust-1', 'marketing'), privacy.has_consent('cust-4', 'marketing'),
       privacy.has_consent('cust-1', 'marketing.email') AS parent_covers_child,
       privacy.has_consent('cust-3', 'marketing') AS child_does_not_cover_parent,
       privacy.has_consent('cust-9', 'billing') AS contract_covers_all;

-- No purpose declared: no rows.  A declared purpose shows consenting subjects.
SET ROLE regress_px_crm;
SELECT count(*) FROM customers;
SET privacy.purpose = 'marketing';
SELECT customer_id FROM customers ORDER BY 1;
SELECT order_id FROM orders ORDER BY 1;
SET privacy.purpose = 'marketing.email';
SELECT customer_id FROM customers ORDER BY 1;
-- A purpose the role was not granted, or an unknown one: refused, nothing set.
SET privacy.purpose = 'billing';
\echo :LAST_ERROR_SQLSTATE
SET privacy.purpose = 'nosuchpurpose';
\echo :LAST_ERROR_SQLSTATE
SHOW privacy.purpose;
-- A misspelt setting is an error (the library is preloaded).
SET privacy.purpse = 'marketing';
RESET privacy.purpose;
RESET ROLE;

SET ROLE regress_px_billing;
SET privacy.purpose = 'billing';       -- contract: every row
SELECT count(*) FROM customers;
RESET ROLE;
-- After SET ROLE the purpose is checked again when used: an error, not rows.
SET ROLE regress_px_crm;
SET privacy.purpose = 'marketing';
SET ROLE regress_px_nobody;
SELECT count(*) FROM customers;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
RESET privacy.purpose;

-- Withdrawal takes effect at the next statement; expiry and re-consent.
SET ROLE regress_px_crm;
SET privacy.purpose = 'marketing';
SELECT count(*) FROM customers;
RESET ROLE;
SELECT privacy.withdraw_consent('cust-1', 'marketing');
SELECT privacy.withdraw_consent('cust-1', 'marketing');   -- nothing left to withdraw
SELECT privacy.withdraw_consent('cust-7', 'marketing');   -- never given
SET ROLE regress_px_crm;
SELECT customer_id FROM customers ORDER BY 1;
RESET ROLE;
-- An expiry in the past is refused; an expired consent counts as absent.
SELECT privacy.grant_consent('cust-5', 'marketing', expires_at => now() - interval '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent('cust-5', 'marketing', expires_at => now() + interval '1 day');
UPDATE privacy.consent_state SET expires_at = now() - interval '1 second' WHERE subject = 'cust-5';
SELECT privacy.has_consent('cust-5', 'marketing') AS expired_counts_as_absent;
-- A policy version that requires re-consent voids older consents.
SELECT privacy.set_policy_version('2026-11', requires_reconsent => false);
SELECT privacy.set_policy_version(NULL);                    -- 22004
SELECT privacy.set_policy_version('2026-x', requires_reconsent => NULL);
SELECT privacy.set_policy_version(' ');                     -- 22023
SELECT privacy.set_policy_version(repeat('v', 100000));    -- 54000
SELECT count(*) AS stored_bad_versions FROM privacy.policy_versions WHERE version IS NULL OR btrim(version) = '' OR version = '2026-x';
SELECT privacy.has_consent('cust-2', 'marketing') AS still_valid;
SELECT privacy.set_policy_version('2026-12', requires_reconsent => true);
SELECT privacy.has_consent('cust-2', 'marketing') AS needs_reconsent;
SELECT privacy.grant_consent('cust-2', 'marketing');
SELECT privacy.has_consent('cust-2', 'marketing') AS reconsented;
SELECT subject, purpose, granted, policy_version, valid FROM privacy.consents ORDER BY subject, purpose;

-- A repeated grant: the same state, one more event.
SELECT count(*) AS events_before FROM privacy.consent_events WHERE subject = 'cust-3';
SELECT privacy.grant_consent('cust-3', 'marketing.email');
SELECT count(*) AS events_after FROM privacy.consent_events WHERE subject = 'cust-3';
SELECT count(*) AS state_rows FROM privacy.consent_state WHERE subject = 'cust-3';
SELECT subject, purpose, action, evidence, policy_version, session_user_name IS NOT NULL AS who
  FROM privacy.consent_events ORDER BY event_id LIMIT 3;

-- Bad input: NULL subject, unknown purpose, a grant for an unknown purpose.
SELECT privacy.has_consent(NULL::text, 'marketing') AS null_subject;
SELECT privacy.has_consent('cust-1', 'nosuchpurpose');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent('cust-1', 'nosuchpurpose');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent(NULL, 'marketing');
\echo :LAST_ERROR_SQLSTATE
-- Integer and uuid subjects.
SELECT privacy.grant_consent('1', 'marketing');
SELECT privacy.grant_consent('2', 'analytics');
SELECT privacy.has_consent(1::bigint, 'marketing') AS int8, privacy.has_consent(1, 'marketing') AS int4,
       privacy.has_consent(2, 'analytics') AS int4_analytics;
SELECT privacy.grant_consent('0e2b9a2c-58d2-4cd5-9df4-2f1f3c1d6a77', 'analytics');
SELECT privacy.has_consent('0E2B9A2C-58D2-4CD5-9DF4-2F1F3C1D6A77'::uuid, 'analytics') AS uuid_subject;

-- The history is append-only for everyone but superusers.
CREATE ROLE regress_px_consent_app IN ROLE privacy_consent_manager;
SET ROLE regress_px_consent_app;
SELECT privacy.grant_consent('cust-8', 'analytics');
UPDATE privacy.consent_events SET evidence = '{}';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM privacy.consent_events;
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.create_purpose('sneaky', 'contract');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_px_crm;
SELECT privacy.grant_consent('cust-9', 'marketing');     -- processing is not recording consent
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- INSERT needs no consent (a new subject can be recorded); UPDATE and
-- DELETE reach only rows visible for the declared purpose; the owner is
-- filtered too (FORCE ROW LEVEL SECURITY); superusers are not.
SET ROLE regress_px_crm;
SET privacy.purpose = 'marketing';
INSERT INTO customers VALUES ('cust-new', 'New Customer');
UPDATE customers SET name = name || '!' RETURNING customer_id;
DELETE FROM customers WHERE customer_id = 'cust-9' RETURNING customer_id;
RESET ROLE;
RESET privacy.purpose;
SELECT count(*) AS superuser_sees_all FROM customers;
CREATE ROLE regress_px_owner;
ALTER TABLE customers OWNER TO regress_px_owner;
SET ROLE regress_px_owner;
SELECT count(*) AS owner_without_purpose FROM customers;
RESET ROLE;
ALTER TABLE customers OWNER TO CURRENT_USER;

-- A backend that checks many subjects for a purpose reads the consenting
-- ones into memory and keeps them across statements (with the library
-- preloaded), answering exactly as the table would: expiries, parent
-- purposes, its own uncommitted changes, a changed subject id.
SELECT privacy.create_purpose('surveys', 'consent');
SELECT privacy.create_purpose('surveys.phone', 'consent', parent => 'surveys');
SELECT privacy.grant_purpose('regress_px_crm', 'surveys');
SELECT privacy.grant_purpose('regress_px_crm', 'surveys.phone');
CREATE TABLE panel (person text PRIMARY KEY);
INSERT INTO panel SELECT 'p' || g FROM generate_series(1, 600) g;
SELECT privacy.protect_table('panel', 'person');
GRANT SELECT ON panel TO regress_px_crm;
INSERT INTO privacy.consent_state (subject, purpose, granted, expires_at, policy_ordinal, updated_at)
SELECT 'p' || g, 'surveys', true,
       CASE WHEN g <= 10 THEN now() + interval '1 day' WHEN g = 11 THEN now() - interval '1 day' END,
       (SELECT coalesce(max(ordinal), 0) FROM privacy.policy_versions), now()
  FROM generate_series(1, 400) g;
SET ROLE regress_px_crm;
SET privacy.purpose = 'surveys';
SELECT count(*) AS visible, count(*) FILTER (WHERE person = 'p11') AS expired_visible FROM panel;
SELECT count(*) AS p5_visible FROM panel WHERE person = 'p5';
RESET ROLE;
SELECT purpose, subjects, expiring, changed FROM privacy.consent_cache_info();
-- Its own uncommitted withdrawal is seen, and gone after ROLLBACK.
BEGIN;
SELECT privacy.withdraw_consent('p1', 'surveys');
SET LOCAL ROLE regress_px_crm;
SELECT count(*) AS visible_in_own_transaction FROM panel;
ROLLBACK;
SET ROLE regress_px_crm;
SELECT count(*) AS visible_after_rollback FROM panel;
RESET ROLE;
-- A set read by a transaction that changed a consent itself: that subject is
-- checked anew once the transaction has rolled back.
SET privacy.consent_cache_size = 0;
SELECT count(*) AS sets_kept FROM privacy.consent_cache_info();
RESET privacy.consent_cache_size;
BEGIN;
SELECT privacy.withdraw_consent('p3', 'surveys');
SET LOCAL ROLE regress_px_crm;
SELECT count(*) AS visible_in_own_transaction FROM panel;
ROLLBACK;
SELECT purpose, subjects, changed FROM privacy.consent_cache_info();
SET ROLE regress_px_crm;
SELECT count(*) AS visible_after_rollback, count(*) FILTER (WHERE person = 'p3') AS p3 FROM panel;
RESET ROLE;
-- A subject renamed: both the old and the new id are checked anew.
UPDATE privacy.consent_state SET subject = 'p500' WHERE subject = 'p2' AND purpose = 'surveys';
SET ROLE regress_px_crm;
SELECT count(*) AS visible, count(*) FILTER (WHERE person IN ('p2', 'p500')) AS renamed FROM panel;
-- Consent to the parent covers the child purpose: a second set.
SET privacy.purpose = 'surveys.phone';
SELECT count(*) AS visible_for_child FROM panel;
RESET ROLE;
SELECT purpose, subjects, changed FROM privacy.consent_cache_info() ORDER BY purpose;
-- privacy.consent_cache_size = 0: nothing is kept; answers are unchanged.
SET privacy.consent_cache_size = 0;
SET ROLE regress_px_crm;
SELECT count(*) AS visible_uncached FROM panel;
RESET ROLE;
SELECT count(*) AS sets_kept FROM privacy.consent_cache_info();
RESET privacy.consent_cache_size;
-- With the change trigger disabled nothing is kept either (the checks still hold).
ALTER TABLE privacy.consent_state DISABLE TRIGGER consent_cache_invalidation;
SET ROLE regress_px_crm;
SET privacy.purpose = 'surveys';
SELECT count(*) AS visible_trigger_disabled FROM panel;
RESET ROLE;
SELECT count(*) AS sets_kept FROM privacy.consent_cache_info();
ALTER TABLE privacy.consent_state ENABLE ALWAYS TRIGGER consent_cache_invalidation;
SET ROLE regress_px_crm;
SELECT count(*) AS visible_trigger_enabled FROM panel;
-- Only administrators see the cache; nobody calls the trigger function.
SELECT * FROM privacy.consent_cache_info();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) AS sets_kept FROM privacy.consent_cache_info();
SELECT privacy.consent_state_changed();
\echo :LAST_ERROR_SQLSTATE
SET privacy.consent_cache_size = -1;
DROP TABLE panel;
DELETE FROM privacy.consent_state WHERE purpose = 'surveys';

-- The purpose tree stays one has_consent follows to the top: a purpose and
-- at most 15 ancestors (has_consent follows 16 names), and no cycle, through
-- create_purpose and through an administrator's own writes of
-- privacy.purposes alike.
SELECT privacy.create_purpose('tree.1', 'consent');
DO $$
BEGIN
    FOR i IN 2..16 LOOP
        PERFORM privacy.create_purpose('tree.' || i, 'consent', parent => 'tree.' || (i - 1));
    END LOOP;
END
$$;
SELECT privacy.create_purpose('tree.17', 'consent', parent => 'tree.16');
\echo :LAST_ERROR_SQLSTATE
-- Consent to the root covers the sixteenth level.
CREATE TABLE tree_rows (person text PRIMARY KEY);
INSERT INTO tree_rows VALUES ('t1'), ('t2');
SELECT privacy.protect_table('tree_rows', 'person');
GRANT SELECT ON tree_rows TO regress_px_crm;
SELECT privacy.grant_purpose('regress_px_crm', 'tree.16');
SELECT privacy.grant_consent('t1', 'tree.1');
SET ROLE regress_px_crm;
SET privacy.purpose = 'tree.16';
SELECT person AS covered_at_level_16 FROM tree_rows;
RESET ROLE;
CREATE ROLE regress_px_tree_admin IN ROLE privacy_admin;
SET ROLE regress_px_tree_admin;
SELECT privacy.create_purpose('other.1', 'consent');
SELECT privacy.create_purpose('other.2', 'consent', parent => 'other.1');
-- Its own parent, its own ancestor, a parent that does not exist.
UPDATE privacy.purposes SET parent = name WHERE name = 'tree.3';
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.purposes SET parent = 'tree.5' WHERE name = 'tree.3';
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.purposes SET parent = 'other.2' WHERE name = 'other.1';
\echo :LAST_ERROR_SQLSTATE
INSERT INTO privacy.purposes (name, legal_basis, parent) VALUES ('self', 'consent', 'self');
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.purposes SET parent = 'nosuchpurpose' WHERE name = 'other.2';
\echo :LAST_ERROR_SQLSTATE
-- Too deep: a new leaf, or a subtree moved under a deep purpose.
INSERT INTO privacy.purposes (name, legal_basis, parent) VALUES ('tree.17', 'consent', 'tree.16');
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.purposes SET parent = 'tree.15' WHERE name = 'other.1';
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.purposes SET parent = 'other.2' WHERE name = 'tree.1';
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.purposes SET parent = 'tree.14' WHERE name = 'other.1';
-- A statement is checked once all its rows are written, in any order: a
-- swap that ends as a tree passes, one that ends as a cycle does not, and
-- COPY (as a restore writes) may bring a child before its parent.
UPDATE privacy.purposes SET parent = CASE name WHEN 'other.1' THEN 'tree.13' ELSE 'other.1' END
 WHERE name IN ('other.1', 'other.2');
UPDATE privacy.purposes SET parent = CASE name WHEN 'other.1' THEN 'other.2' ELSE 'other.1' END
 WHERE name IN ('other.1', 'other.2');
\echo :LAST_ERROR_SQLSTATE
COPY privacy.purposes (name, legal_basis, parent) FROM STDIN;
copied.2	consent	copied.1
copied.1	consent	\N
\.
COPY privacy.purposes (name, legal_basis, parent) FROM STDIN;
looped.2	consent	looped.1
looped.1	consent	looped.2
\.
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT name, parent FROM privacy.purposes
 WHERE name IN ('tree.3', 'other.1', 'other.2', 'copied.1', 'copied.2') OR name LIKE 'looped%' OR name = 'self'
 ORDER BY name;
SELECT count(*) AS tree_purposes FROM privacy.purposes WHERE name LIKE 'tree.%';
-- Nobody but the extension fires the trigger function.
SELECT has_function_privilege('regress_px_tree_admin', 'privacy.purpose_tree_check()', 'EXECUTE');
DELETE FROM privacy.protected_tables WHERE relid = 'tree_rows'::regclass;
DROP TABLE tree_rows;
DELETE FROM privacy.consent_state WHERE purpose = 'tree.1';
DO $$
BEGIN
    -- Leaves first: a purpose with children cannot be deleted (bounded, so
    -- a cycle left by a regression ends the loop).
    FOR i IN 1..20 LOOP
        DELETE FROM privacy.purposes p
         WHERE (name LIKE 'tree.%' OR name LIKE 'other.%' OR name LIKE 'copied.%')
           AND NOT EXISTS (SELECT 1 FROM privacy.purposes c WHERE c.parent = p.name);
        EXIT WHEN NOT FOUND;
    END LOOP;
END
$$;
SELECT count(*) AS left_over FROM privacy.purposes
 WHERE name LIKE 'tree.%' OR name LIKE 'other.%' OR name LIKE 'copied.%';
DROP ROLE regress_px_tree_admin;

DROP TABLE customers, orders;
DELETE FROM privacy.protected_tables;
DROP OWNED BY regress_px_crm, regress_px_billing, regress_px_nobody, regress_px_consent_app, regress_px_owner;
DROP ROLE regress_px_crm, regress_px_billing, regress_px_nobody, regress_px_consent_app, regress_px_owner;
