-- privacy.incident_report(): what one role decrypted or read unmasked in a
-- time window, from the audit trail, over a scripted incident: an account
-- (with a hostile name) reads encrypted and masked data under two declared
-- purposes, before, during and after the window, beside another role.  In
-- a database of its own, so that other suites' events do not show.
\set regress_db :DBNAME
CREATE DATABASE incident_regress;
\c incident_regress
SET client_min_messages = warning;
CREATE EXTENSION privacy_ext;
RESET client_min_messages;
-- The catalog views' estimates over never-analyzed tables would have JIT
-- compile this test's queries, for far longer than they run.
SET jit = off;
SET privacy.audit = 'table';

CREATE ROLE "regress_px_inc</td>|'intruder" IN ROLE privacy_consent_manager;
CREATE ROLE regress_px_inc_other;
CREATE ROLE regress_px_inc_admin IN ROLE privacy_admin;
CREATE ROLE regress_px_inc_nobody;
SELECT privacy.create_key('crm') > 0 AS created, privacy.create_key('hr') > 0 AS created;
SELECT privacy.grant_key('crm', 'regress_px_inc</td>|''intruder'),
       privacy.grant_key('hr', 'regress_px_inc</td>|''intruder'),
       privacy.grant_key('hr', 'regress_px_inc_other');

CREATE TABLE customers (id int PRIMARY KEY, customer_id text, email privacy.encrypted_text('crm'),
                        "phone|<b>
no" privacy.encrypted_text_det('crm'), city text);
INSERT INTO customers VALUES (1, 'cust-secret-1', 'ann@example.com', '+41 79 000 00 01', 'Bern'),
                             (2, 'cust-secret-2', 'bob@example.com', '+41 79 000 00 02', 'Basel');
CREATE TABLE "pay</td><script>x</script>" (id int PRIMARY KEY, iban privacy.encrypted_text('hr'), "名前" text);
INSERT INTO "pay</td><script>x</script>"
SELECT g, 'CH93 0076 2011 6238 5295 ' || g, 'なまえ' || g FROM generate_series(1, 3) g;
SELECT privacy.classify('customers', 'email', 'personal', category => 'contact');
SELECT privacy.classify('customers', 'phone|<b>
no', 'personal', category => E'phone</td>|\n"q"');
SELECT privacy.classify('customers', 'city', 'personal', category => 'location');
SELECT privacy.classify('"pay</td><script>x</script>"', 'iban', 'sensitive', category => 'financial');
SELECT privacy.create_purpose('support', 'contract');
SELECT privacy.create_purpose(E'fraud</td>|\n"q"', 'legitimate_interests');
SELECT privacy.grant_purpose('regress_px_inc</td>|''intruder', 'support');
SELECT privacy.grant_purpose('regress_px_inc</td>|''intruder', E'fraud</td>|\n"q"');
SELECT privacy.grant_purpose('regress_px_inc_other', 'support');
-- customers is read through its masking view: email masked, the others in clear.
SELECT privacy.set_mask('customers', 'email', 'email');
SELECT privacy.set_mask('customers', 'phone|<b>
no', 'none');
SELECT privacy.set_mask('customers', 'city', 'none');
SELECT privacy.set_mask('customers', 'id', 'none');   -- privacy by default: clear only when declared
SELECT privacy.create_masking_view('customers');
SELECT privacy.mask_role('regress_px_inc</td>|''intruder');
GRANT SELECT ON "pay</td><script>x</script>" TO "regress_px_inc</td>|'intruder", regress_px_inc_other;

-- Before the window: not in the report.
SET ROLE "regress_px_inc</td>|'intruder";
SELECT count(privacy.decrypt(iban)) AS before_window FROM "pay</td><script>x</script>";
RESET ROLE;
SELECT pg_sleep(0.01);
SELECT clock_timestamp() AS window_start \gset

-- The incident.
SET ROLE "regress_px_inc</td>|'intruder";
SET privacy.purpose = 'support';
SELECT count(privacy.decrypt(iban)) AS decrypted FROM "pay</td><script>x</script>";
SELECT id, email, "phone|<b>
no", city FROM masked.customers ORDER BY id;
SET privacy.purpose = E'fraud</td>|\n"q"';
SELECT privacy.decrypt(iban) FROM "pay</td><script>x</script>" WHERE id = 1;
SELECT privacy.decrypt(privacy.encrypt('not from a table', 'crm'));
SELECT privacy.grant_consent('cust-secret-1', 'support');
RESET privacy.purpose;
RESET ROLE;
-- Another role, in the same window: not in the intruder's report.
SET ROLE regress_px_inc_other;
SET privacy.purpose = 'support';
SELECT count(privacy.decrypt(iban)) AS other_role FROM "pay</td><script>x</script>";
RESET privacy.purpose;
RESET ROLE;
SELECT pg_sleep(0.01);
SELECT clock_timestamp() AS window_end \gset

-- After the window: not in the report.
SET ROLE "regress_px_inc</td>|'intruder";
SELECT count(privacy.decrypt(iban)) AS after_window FROM "pay</td><script>x</script>";
RESET ROLE;

-- What the audit trail holds for the window (the report's source; the
-- events of one statement come in no particular order).
SELECT current_role_name, action, object, count, detail->>'key' AS key, purpose
  FROM privacy.audit_log
 WHERE at >= :'window_start' AND at < :'window_end' AND action <> 'consent_grant'
 ORDER BY current_role_name, purpose COLLATE "C", action, object COLLATE "C", count;

-- The Markdown incident report, read whole (times aside).
SELECT privacy.incident_report('regress_px_inc</td>|''intruder', :'window_start', :'window_end', 'markdown') AS md \gset
\pset format unaligned
\pset tuples_only on
SELECT regexp_replace(l.line, '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC', '<time>', 'g')
  FROM regexp_split_to_table(:'md', E'\n') WITH ORDINALITY AS l(line, n)
 ORDER BY l.n;
\pset format aligned
\pset tuples_only off

-- The HTML form, run by a privacy_admin member: the same rows, escaped,
-- no script, nothing external, no subject id, no value.
SET ROLE regress_px_inc_admin;
SELECT privacy.incident_report('regress_px_inc</td>|''intruder', :'window_start', :'window_end') AS html \gset
RESET ROLE;
SELECT left(:'html', 15) AS starts,
       strpos(lower(:'html'), '<script') AS script_tags,
       strpos(:'html', 'public.&quot;pay&lt;/td&gt;&lt;script&gt;x&lt;/script&gt;&quot;') > 0 AS table_escaped,
       strpos(:'html', 'regress_px_inc&lt;/td&gt;|&#39;intruder') > 0 AS role_escaped,
       strpos(:'html', 'phone&lt;/td&gt;|') > 0 AS category_escaped,
       :'html' ~* '(src|href)\s*=|url\(|@import|https?:' AS external_refs;
WITH t(id, expected) AS (VALUES ('summary', 14), ('exposed', 4), ('tables', 2), ('purposes', 2),
                                ('keys', 2), ('masked', 1), ('other', 1)),
parts AS (SELECT t.id, t.expected, split_part(split_part(:'html', '<table id="' || t.id || '">', 2), '</table>', 1) AS tbl FROM t)
SELECT id, expected,
       (length(tbl) - length(replace(tbl, '<tr>', ''))) / 4 - 1 AS rows,
       (length(tbl) - length(replace(tbl, '<td>', ''))) / 4
         = ((length(tbl) - length(replace(tbl, '<tr>', ''))) / 4 - 1)
           * ((length(tbl) - length(replace(tbl, '<th>', ''))) / 4) AS cells_per_row
  FROM parts ORDER BY id;
SELECT strpos(:'html' || :'md', 'cust-secret') AS subject_ids,
       strpos(:'html' || :'md', 'CH93') AS plaintext_iban,
       strpos(:'html' || :'md', 'example.com') AS plaintext_email,
       strpos(:'html' || :'md', 'Bern') AS clear_city,
       strpos(:'html' || :'md', 'regress_px_inc_other') AS other_role;

-- The other role's report has only its own read; a role with no events,
-- or that does not exist, gets an empty report that says so.
SELECT regexp_replace(l.line, '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC', '<time>', 'g') AS other_role_exposed
  FROM regexp_split_to_table(privacy.incident_report('regress_px_inc_other', :'window_start', :'window_end',
                                                     'markdown'), E'\n') l(line)
 WHERE l.line LIKE '| public.%';
SELECT strpos(d, '| Role now | no such role now |') > 0 AS unknown_role,
       strpos(d, '| Audit events of the role | 0 |') > 0 AS no_events,
       strpos(d, 'No audit event at all') AS whole_window_empty
  FROM privacy.incident_report('regress_px_no_such_role', :'window_start', :'window_end', 'markdown') d;
SELECT strpos(d, 'No audit event at all was recorded in this window') > 0 AS empty_window_noted
  FROM privacy.incident_report('regress_px_inc_other', '2000-01-01', '2000-01-02', 'markdown') d;
SELECT length(privacy.incident_report(repeat('r', 10000), :'window_start', :'window_end')) > 0 AS huge_role_name;

-- A key the role can use through membership with INHERIT (as decryption
-- decides) is still granted to it; once the membership is gone, it is not.
CREATE ROLE regress_px_inc_readers;
CREATE ROLE regress_px_inc_member IN ROLE regress_px_inc_readers;
SELECT privacy.grant_key('hr', 'regress_px_inc_readers');
GRANT SELECT ON "pay</td><script>x</script>" TO regress_px_inc_member;
SELECT clock_timestamp() AS member_start \gset
SET ROLE regress_px_inc_member;
SELECT count(privacy.decrypt(iban)) AS member_decrypted FROM "pay</td><script>x</script>";
RESET ROLE;
SELECT clock_timestamp() AS member_end \gset
SELECT l.line AS member_keys
  FROM regexp_split_to_table(privacy.incident_report('regress_px_inc_member', :'member_start', :'member_end',
                                                     'markdown'), E'\n') l(line)
 WHERE l.line LIKE '| hr |%';
REVOKE regress_px_inc_readers FROM regress_px_inc_member;
SELECT l.line AS member_keys_after_revoke
  FROM regexp_split_to_table(privacy.incident_report('regress_px_inc_member', :'member_start', :'member_end',
                                                     'markdown'), E'\n') l(line)
 WHERE l.line LIKE '| hr |%';
SELECT privacy.revoke_key('hr', 'regress_px_inc_readers');
REVOKE ALL ON "pay</td><script>x</script>" FROM regress_px_inc_member;
DROP ROLE regress_px_inc_member, regress_px_inc_readers;

-- Bad input.
\set SHOW_CONTEXT never
SELECT privacy.incident_report(NULL, now() - interval '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.incident_report('regress_px_inc_other', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.incident_report('regress_px_inc_other', now(), NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.incident_report('', now() - interval '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.incident_report('regress_px_inc_other', :'window_end', :'window_start');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.incident_report('regress_px_inc_other', :'window_start', :'window_end', 'docx');
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_px_inc_nobody;
SELECT privacy.incident_report('regress_px_inc_other', :'window_start');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM privacy.report_incident_events('regress_px_inc_other', :'window_start', :'window_end');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
\set SHOW_CONTEXT errors

RESET privacy.audit;
\c :regress_db
DROP DATABASE incident_regress;
DROP ROLE "regress_px_inc</td>|'intruder", regress_px_inc_other, regress_px_inc_admin, regress_px_inc_nobody;
