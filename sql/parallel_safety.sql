-- Parallel safety (issue 19): which functions may run in a parallel worker,
-- and the consent policy, decryption and masking views in parallel plans.
-- Parallel plans are forced below; parallel_leader_participation = off
-- makes the workers read every row, so a wrong answer in a worker shows.
\set SHOW_CONTEXT never
-- Runs after the other suites (make test) or alone.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS privacy_ext;
RESET client_min_messages;

-- 1. Every function of the extension and its marking (s = SAFE,
--    r = RESTRICTED: runs in the leader only, u = UNSAFE: no parallel plan),
--    with the reason for every one that is not SAFE.  A function added
--    without a reason shows as *** NO REASON ***.
CREATE TEMP TABLE parallel_reasons (fn text PRIMARY KEY, reason text NOT NULL);
INSERT INTO parallel_reasons VALUES
  ('privacy.min_group_size(regclass,name[])', 'runs a query of its own, as the caller, inside a window where other roles'' code runs as its owner: the leader''s state'),
  ('privacy.consent_cache_info()', 'reports the sets this backend keeps: the leader''s memory'),
  ('privacy.has_consent(text,text)', 'explicit purpose: the leader publishes decisions for the declared purpose only'),
  ('privacy.has_consent(bigint,text)', 'explicit purpose: the leader publishes decisions for the declared purpose only'),
  ('privacy.has_consent(integer,text)', 'explicit purpose: the leader publishes decisions for the declared purpose only'),
  ('privacy.has_consent(uuid,text)', 'explicit purpose: the leader publishes decisions for the declared purpose only'),
  ('privacy.create_key(text)', 'writes the key tables'),
  ('privacy.rotate_key(text)', 'writes the key tables'),
  ('privacy.grant_key(text,text)', 'writes the key tables'),
  ('privacy.revoke_key(text,text)', 'writes the key tables'),
  ('privacy.destroy_key(text,text)', 'writes the key tables'),
  ('privacy.drop_key_version(text,integer)', 'writes the key tables'),
  ('privacy.key_versions_in_use(integer)', 'SPI scans of every encrypted column as the extension owner (privacy.keys calls it per row)'),
  ('privacy.reencrypt(regclass,name,integer)', 'rewrites a column'),
  ('privacy.det_eq_support(internal)', 'planner support function: never called by the executor'),
  ('privacy.det_text_eq_support(internal)', 'planner support function: never called by the executor'),
  ('privacy.require_consent_manager()', 'guard of writing functions, called only by them'),
  ('privacy.set_mask(regclass,name,text,name)', 'writes mask rules and rebuilds views'),
  ('privacy.drop_mask(regclass,name,name)', 'writes mask rules and rebuilds views'),
  ('privacy.create_masking_view(regclass)', 'DDL'),
  ('privacy.mask_role(name)', 'DDL and grants'),
  ('privacy.unmask_role(name)', 'DDL and grants'),
  ('privacy.masking_view_build(regclass,boolean,oid,aclitem[],boolean)', 'DDL'),
  ('privacy.masking_view_rebuild(regclass)', 'DDL'),
  ('privacy.masking_view_policy_filter(regclass)', 'DDL: creates the function for policies reading other tables'),
  ('privacy.masking_view_filter(regclass)', 'DDL: calls masking_view_policy_filter'),
  ('privacy.masking_view_drop_unused_policies(regclass)', 'DDL'),
  ('privacy.masking_view_follows_policies(regclass)', 'DDL'),
  ('privacy.masking_view_rebuild_outside_extension(regclass)', 'DDL'),
  ('privacy.masking_views_detach(regclass,text[])', 'DDL'),
  ('privacy.masking_views_add_consent_filters()', 'DDL'),
  ('privacy.masking_views_outside_extension()', 'DDL'),
  ('privacy.set_masked_search_path(name,boolean)', 'ALTER ROLE'),
  ('privacy.create_purpose(text,text,text,text)', 'writes the purpose registry'),
  ('privacy.grant_purpose(name,text)', 'writes the purpose registry'),
  ('privacy.revoke_purpose(name,text)', 'writes the purpose registry'),
  ('privacy.set_policy_version(text,boolean)', 'writes the purpose registry'),
  ('privacy.grant_consent(text,text,timestamp with time zone,text,jsonb)', 'writes consent and its event'),
  ('privacy.withdraw_consent(text,text,jsonb)', 'writes consent and its event'),
  ('privacy.record_consent_grant(name,name,text,text,timestamp with time zone,text,jsonb)', 'writes consent and its event'),
  ('privacy.record_consent_withdraw(name,name,text,text,jsonb)', 'writes consent and its event'),
  ('privacy.protect_table(regclass,name,text)', 'DDL (row security policies)'),
  ('privacy.consent_protect_relation(regclass,name)', 'DDL (row security policies)'),
  ('privacy.citus_apply_change(text,text,jsonb,jsonb)', 'Citus key store: writes the extension tables'),
  ('privacy.citus_local_row(regclass,jsonb)', 'Citus key store: run by the apply only, never in a parallel query'),
  ('privacy.citus_push_snapshot()', 'Citus key store: writes to the reference table'),
  ('privacy.citus_ship(text,text,jsonb,jsonb)', 'Citus key store: writes to the reference table'),
  ('privacy.citus_ship_here()', 'Citus key store: trigger condition, reads per-transaction state'),
  ('privacy.citus_ship_row(text,text,anyelement,anyelement)', 'Citus key store: writes to the reference table'),
  ('privacy.citus_sync()', 'Citus key store: writes to every node'),
  ('privacy.citus_sync_prepare()', 'Citus key store: creates the reference table, writes to every node'),
  ('privacy.citus_wipe_key_version(integer,integer)', 'Citus key store: overwrites key material in place'),
  ('privacy.classify(regclass,name,text,text)', 'writes the classification inventory'),
  ('privacy.export_subject(text)', 'a data-subject request: its reach is state of the leader''s backend'),
  ('privacy.erase_subject(text)', 'a data-subject request: writes and erases'),
  ('privacy.anonymize_value(anyelement,regclass,name)', 'only inside erase_subject(), a request of the leader''s backend'),
  ('privacy.anonymize_value(privacy.encrypted_text,regclass,name)', 'only inside erase_subject(), a request of the leader''s backend'),
  ('privacy.anonymize_value(privacy.encrypted_text_det,regclass,name)', 'only inside erase_subject(), a request of the leader''s backend'),
  ('privacy.log_setting_findings()', 'compares settings with the session''s reset values, which workers do not have'),
  ('privacy.adopt_finding(regclass,name,text,text,text)', 'writes the classification inventory and mask rules'),
  ('privacy.adopt_findings(real,integer)', 'writes the classification inventory and mask rules'),
  ('privacy.set_quasi_identifiers(regclass,name[])', 'writes the quasi-identifier registry'),
  ('privacy.anonymize_table(regclass)', 'static masking: rewrites every row of the table'),
  ('privacy.anonymize_database()', 'static masking: rewrites every row of the tables'),
  ('privacy.rewrap_keys()', 'writes the key tables'),
  ('privacy.detect_personal_data(integer)', 'samples every table with queries of its own (SPI), which may use workers themselves'),
  ('privacy.detect_suggested_rule(text,regtype)', 'part of detect_personal_data(), called by it only'),
  ('privacy.detect_sample(regclass,smallint[],integer,double precision)', 'part of detect_personal_data(): a query of its own (SPI) as the table''s owner'),
  ('privacy.k_anonymity(regclass,text[])', 'a GROUP BY query of its own (SPI) over the relation, which may use workers itself'),
  ('privacy.k_anonymity_if_readable(regclass,name[])', 'a GROUP BY query of its own (SPI) over the relation, which may use workers itself'),
  ('privacy.forget_dropped_relations()', 'writes the registries'),
  ('privacy.forget_dropped_column(oid,name)', 'writes the registries'),
  ('privacy.refuse_masked_ddl(name)', 'part of the DDL event trigger masking_guards(), called by it only'),
  ('privacy.report(text)', 'one document per call, from queries of its own (SPI) over the inventory, audit trail and catalogs, which may use workers themselves'),
  ('privacy.incident_report(text,timestamp with time zone,timestamp with time zone,text)', 'one document per call, from queries of its own (SPI) over the audit trail, which may use workers themselves'),
  ('privacy.report_incident_events(text,timestamp with time zone,timestamp with time zone)', 'part of incident_report(), called by it only'),
  ('privacy.crypto_counters()', 'this backend''s own counters: a worker would report its own'),
  ('privacy.root_key_check()', 'root keys are reloaded per session after a reload (privacy.previous_root_key_*): the leader''s are the ones in force'),
  ('privacy.previous_root_key_check()', 'root keys are reloaded per session after a reload (privacy.previous_root_key_*): the leader''s are the ones in force');
CREATE TEMP VIEW extension_functions AS
SELECT p.oid::regprocedure::text AS fn, p.proparallel AS marking, p.prorettype
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'privacy_ext';
SELECT f.fn, f.marking,
       CASE WHEN f.marking = 's' THEN ''
            WHEN f.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype)
                 THEN 'trigger: fired by a change, never called by a query'
            ELSE coalesce(r.reason, '*** NO REASON ***') END AS why_not_safe
  FROM extension_functions f LEFT JOIN parallel_reasons r ON r.fn = f.fn
 ORDER BY CASE f.marking WHEN 'u' THEN 0 WHEN 'r' THEN 1 ELSE 2 END, f.fn COLLATE "C";
-- A reason for a function that does not exist, or that is SAFE after all: stale.
SELECT r.fn AS stale_reason FROM parallel_reasons r
  LEFT JOIN extension_functions f ON f.fn = r.fn
 WHERE f.fn IS NULL OR f.marking = 's';

-- 2. The consent policy in a parallel plan.
CREATE ROLE regress_par_app;
CREATE ROLE regress_par_other;
SELECT privacy.create_purpose('par_mkt', 'consent');
SELECT privacy.create_purpose('par_mkt.mail', 'consent', 'par_mkt');
SELECT privacy.create_purpose('par_contract', 'contract');
SELECT privacy.grant_purpose('regress_par_app', 'par_mkt');
SELECT privacy.grant_purpose('regress_par_app', 'par_mkt.mail');
SELECT privacy.grant_purpose('regress_par_app', 'par_contract');
SELECT privacy.grant_purpose('regress_par_other', 'par_mkt');
CREATE TABLE par_customers (customer_id text PRIMARY KEY, n int);
INSERT INTO par_customers SELECT 'p' || g, g FROM generate_series(1, 3000) g;
-- Consent written directly (as a superuser), under the current policy version: every third subject to par_mkt,
-- every fifth to the child purpose only, some expired, some expiring later.
INSERT INTO privacy.consent_state (subject, purpose, granted, expires_at, policy_ordinal, updated_at)
SELECT 'p' || g, 'par_mkt', true,
       CASE WHEN g % 7 = 0 THEN now() - interval '1 day'
            WHEN g % 11 = 0 THEN now() + interval '1 day' END,
       (SELECT coalesce(max(ordinal), 0) FROM privacy.policy_versions), now()
  FROM generate_series(1, 3000) g WHERE g % 3 = 0;
INSERT INTO privacy.consent_state (subject, purpose, granted, expires_at, policy_ordinal, updated_at)
SELECT 'p' || g, 'par_mkt.mail', true, NULL, (SELECT coalesce(max(ordinal), 0) FROM privacy.policy_versions), now()
  FROM generate_series(1, 3000) g WHERE g % 5 = 0;
INSERT INTO privacy.consent_state (subject, purpose, granted, expires_at, policy_ordinal, updated_at)
SELECT 'p' || g, 'par_mkt', false, NULL, (SELECT coalesce(max(ordinal), 0) FROM privacy.policy_versions), now()
  FROM generate_series(1, 3000) g WHERE g % 3 = 1;
ANALYZE par_customers;
SELECT privacy.protect_table('par_customers', 'customer_id');
GRANT SELECT ON par_customers TO regress_par_app, regress_par_other;
-- What the policy must show, computed from the table by hand.
SELECT count(*) FILTER (WHERE g % 3 = 0 AND g % 7 <> 0) AS expect_mkt,
       count(*) FILTER (WHERE (g % 3 = 0 AND g % 7 <> 0) OR g % 5 = 0) AS expect_mail
  FROM generate_series(1, 3000) g;

SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
SET ROLE regress_par_app;
SET privacy.purpose = 'par_mkt';
EXPLAIN (COSTS OFF) SELECT count(*) FROM par_customers;
-- Several statements: the first reads the set, later ones share the kept set.
SELECT count(*), sum(n) FROM par_customers;
SELECT count(*), sum(n) FROM par_customers;
-- Which subjects, not only how many: the same rows as the serial plan.
CREATE TEMP TABLE par_seen AS SELECT customer_id FROM par_customers;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS serial_count,
       count(*) FILTER (WHERE customer_id NOT IN (SELECT customer_id FROM par_seen)) AS only_serial
  FROM par_customers;
SELECT count(*) AS only_parallel FROM par_seen
 WHERE customer_id NOT IN (SELECT customer_id FROM par_customers);
SET max_parallel_workers_per_gather = 2;

-- A parent's consent covers the child purpose.
SET privacy.purpose = 'par_mkt.mail';
SELECT count(*) FROM par_customers;
-- A legal basis other than consent: every row.
SET privacy.purpose = 'par_contract';
SELECT count(*) FROM par_customers;
-- No purpose: no row.
RESET privacy.purpose;
SELECT count(*) FROM par_customers;

-- A withdrawal committed before the statement is seen by the workers,
-- through the kept set's changed subjects; a new grant too.
SET privacy.purpose = 'par_mkt';
SELECT count(*) FROM par_customers;
RESET ROLE;
SELECT privacy.withdraw_consent('p3', 'par_mkt');
SELECT privacy.grant_consent('p1', 'par_mkt');
SET ROLE regress_par_app;
SELECT count(*), bool_or(customer_id = 'p3') AS p3_visible, bool_or(customer_id = 'p1') AS p1_visible
  FROM par_customers;

-- The role's right to the purpose taken away after SET: the workers raise
-- the leader's error.
RESET ROLE;
SET ROLE regress_par_other;
SET privacy.purpose = 'par_mkt';
SELECT count(*) FROM par_customers;
RESET ROLE;
SELECT privacy.revoke_purpose('regress_par_other', 'par_mkt');
SET ROLE regress_par_other;
SHOW privacy.purpose;
SELECT count(*) FROM par_customers;
RESET ROLE;

-- Sets kept for one statement only (privacy.consent_cache_size = 0).
SET ROLE regress_par_app;
SET privacy.consent_cache_size = 0;
SELECT count(*) FROM par_customers;
RESET privacy.consent_cache_size;

-- has_consent() hidden in a function wrongly marked PARALLEL SAFE: the
-- leader cannot see it in the plan, and the worker refuses rather than
-- decide alone.
RESET ROLE;
CREATE FUNCTION par_hidden_consent(s text) RETURNS boolean LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$ BEGIN RETURN privacy.has_consent(s); END $$;
CREATE TABLE par_plain AS SELECT customer_id FROM par_customers;
GRANT SELECT ON par_plain TO regress_par_app;
SET ROLE regress_par_app;
SET privacy.purpose = 'par_mkt';
SELECT count(*) FROM par_plain WHERE par_hidden_consent(customer_id);
-- The explicit-purpose form stays in the leader (PARALLEL RESTRICTED).
EXPLAIN (COSTS OFF) SELECT count(*) FROM par_plain WHERE privacy.has_consent(customer_id, 'par_mkt');
SELECT count(*) FROM par_plain WHERE privacy.has_consent(customer_id, 'par_mkt');
RESET ROLE;

-- A data-subject request reads its subject's rows whatever the consent:
-- its statements run without workers (the request is the leader's state).
-- par_requests has no index on the subject, so the request's scan would be
-- parallel; p2 has no consent at all.
CREATE ROLE regress_par_owner;
CREATE ROLE regress_par_admin IN ROLE privacy_admin;
CREATE TABLE par_requests (customer_id text, n int);
INSERT INTO par_requests SELECT 'p' || g, g FROM generate_series(1, 3000) g;
ANALYZE par_requests;
ALTER TABLE par_requests OWNER TO regress_par_owner;
SELECT privacy.protect_table('par_requests', 'customer_id');
EXPLAIN (COSTS OFF) SELECT * FROM par_requests WHERE customer_id = 'p2';
RESET privacy.purpose;
-- (a request runs the owners' code: not in a session with temporary objects)
DISCARD TEMP;
SET ROLE regress_par_admin;
SELECT privacy.export_subject('p2') -> 'tables' -> 'public.par_requests' AS p2_rows;
RESET ROLE;

-- 3. Decryption and masking views run in parallel too.
SELECT privacy.create_key('par_key') > 0 AS created;
CREATE TABLE par_secrets (id int, email privacy.encrypted_text('par_key'),
                          email_det privacy.encrypted_text_det('par_key'));
INSERT INTO par_secrets SELECT g, 'u' || g || '@example.org', 'u' || g || '@example.org'
  FROM generate_series(1, 2000) g;
ANALYZE par_secrets;
EXPLAIN (COSTS OFF) SELECT sum(length(privacy.decrypt(email))) FROM par_secrets;
SELECT sum(length(privacy.decrypt(email))) AS enc, sum(length(privacy.decrypt(email_det))) AS det,
       sum(length('u' || id || '@example.org')) AS expected
  FROM par_secrets;
SELECT privacy.set_mask('par_secrets', 'email', 'email');
SELECT privacy.create_masking_view('par_secrets');
CREATE ROLE regress_par_masked;
SELECT privacy.grant_key('par_key', 'regress_par_masked');
SELECT privacy.mask_role('regress_par_masked');
SET ROLE regress_par_masked;
EXPLAIN (COSTS OFF) SELECT count(*) FROM masked.par_secrets WHERE email LIKE 'u%';
SELECT count(*), min(email) FROM masked.par_secrets WHERE email LIKE 'u%';
RESET ROLE;

-- Clean up.
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT privacy.unmask_role('regress_par_masked');
DROP TABLE par_secrets CASCADE;
DROP TABLE par_customers, par_plain, par_requests;
DROP FUNCTION par_hidden_consent(text);
DELETE FROM privacy.protected_tables WHERE relid NOT IN (SELECT oid FROM pg_class);
DELETE FROM privacy.consent_state WHERE purpose LIKE 'par\_%';
DELETE FROM privacy.consent_events WHERE purpose LIKE 'par\_%';
DELETE FROM privacy.purpose_grants WHERE role_name LIKE 'regress_par%';
DELETE FROM privacy.purposes WHERE name = 'par_mkt.mail';
DELETE FROM privacy.purposes WHERE name LIKE 'par\_%';
DROP OWNED BY regress_par_app, regress_par_other, regress_par_masked, regress_par_owner, regress_par_admin;
DROP ROLE regress_par_app, regress_par_other, regress_par_masked, regress_par_owner, regress_par_admin;
