-- The audit trail: events for decrypts, masked reads, consent, purposes,
-- keys and data-subject requests; sinks chosen by privacy.audit.
SHOW privacy.audit;
-- Only the listed sinks are accepted.
SET privacy.audit = 'syslog';
SET privacy.audit = 'off,log';
SET privacy.audit = 'none';
SET privacy.audit = '';
SET privacy.audit = 'table, log';
SHOW privacy.audit;
SET privacy.audit = 'table';

-- Events of this test only.
SELECT coalesce(max(event_id), 0) AS audit_start FROM privacy.audit_log \gset

CREATE ROLE regress_px_auditor;
CREATE ROLE regress_px_audit_reader;
CREATE ROLE regress_px_audit_support;
GRANT privacy_admin TO regress_px_auditor;

-- Key management events.
SELECT privacy.create_key('audit_k') > 0 AS created;
SELECT privacy.grant_key('audit_k', 'regress_px_audit_reader');
SELECT privacy.rotate_key('audit_k');
SELECT privacy.revoke_key('audit_k', 'regress_px_audit_reader');
SELECT privacy.revoke_key('audit_k', 'regress_px_audit_reader');  -- nothing to revoke: count 0
SELECT privacy.grant_key('audit_k', 'regress_px_audit_reader');
SELECT action, object, count, detail, session_user_name, current_role_name
  FROM privacy.audit_log WHERE event_id > :audit_start ORDER BY event_id;

-- Decrypts are counted per statement and column, not written per row.
CREATE TABLE audit_people (id int PRIMARY KEY, name text,
                           ssn privacy.encrypted_text('audit_k'),
                           email privacy.encrypted_text_det('audit_k'),
                           photo privacy.encrypted_bytea('audit_k'));
INSERT INTO audit_people
SELECT g, 'Person ' || g, lpad(g::text, 3, '0') || '-45-6789', 'p' || g || '@example.com', '\x0102'::bytea
  FROM generate_series(1, 500) g;
GRANT SELECT ON audit_people TO regress_px_audit_reader, regress_px_auditor;
SELECT coalesce(max(event_id), 0) AS mark FROM privacy.audit_log \gset
SELECT count(privacy.decrypt(ssn)) FROM audit_people;
SELECT sum(length(ssn::text)), count(email::text), sum(length(privacy.decrypt(photo))) FROM audit_people WHERE id <= 10;
-- A self-join reads the column twice per row; an aggregate over a sort.
SELECT count(*) FROM audit_people a JOIN audit_people b ON a.id = b.id + 1
 WHERE privacy.decrypt(a.ssn) > privacy.decrypt(b.ssn);
SELECT max(d) FROM (SELECT privacy.decrypt(ssn) AS d FROM audit_people ORDER BY id LIMIT 5) s;
-- A value that is not a column: counted under its key, with no object.
SELECT privacy.decrypt(privacy.encrypt('not from a table', 'audit_k'));
-- NULLs are not decrypted, and a statement that decrypts nothing writes nothing.
SELECT count(privacy.decrypt(NULL::privacy.encrypted_text));
SELECT count(*) FROM audit_people WHERE id < 0 AND privacy.decrypt(ssn) IS NOT NULL;
SELECT action, object, count, detail->>'key' AS key, current_role_name
  FROM privacy.audit_log WHERE event_id > :mark ORDER BY object, count;

-- The role that decrypted, and the session user behind it.
SELECT coalesce(max(event_id), 0) AS mark FROM privacy.audit_log \gset
SET ROLE regress_px_audit_reader;
SELECT privacy.decrypt(ssn) FROM audit_people WHERE id = 7;
RESET ROLE;
SELECT action, object, count, session_user_name, current_role_name
  FROM privacy.audit_log WHERE event_id > :mark ORDER BY event_id;

-- A denied decrypt returns nothing and counts nothing.
SELECT coalesce(max(event_id), 0) AS mark FROM privacy.audit_log \gset
SET ROLE regress_px_auditor;
SELECT privacy.decrypt(ssn) FROM audit_people WHERE id = 7;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) AS events FROM privacy.audit_log WHERE event_id > :mark;

-- Reads through a masking view: masked_read for masked columns, unmask for
-- columns the role sees in clear.
SELECT privacy.set_mask('audit_people', 'ssn', 'partial(0, ''***-**-'', 4)');
SELECT privacy.set_mask('audit_people', 'name', 'none');
-- 1.1, privacy by default: a column without a rule is redacted; these are shown in clear.
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id']) c, LATERAL privacy.set_mask('audit_people', c, 'none');
SELECT privacy.create_masking_view('audit_people');
SELECT privacy.mask_role('regress_px_audit_support');
SELECT coalesce(max(event_id), 0) AS mark FROM privacy.audit_log \gset
SET ROLE regress_px_audit_support;
SELECT id, name, ssn FROM masked.audit_people WHERE id <= 3 ORDER BY id;
RESET ROLE;
SELECT action, object, count, detail->>'key' AS key, current_role_name
  FROM privacy.audit_log WHERE event_id > :mark ORDER BY object;

-- Consent and purposes: grant, withdraw, and every declared purpose.
SELECT privacy.create_purpose('audit_marketing', 'consent');
SELECT privacy.grant_purpose('regress_px_audit_reader', 'audit_marketing');
SELECT coalesce(max(event_id), 0) AS mark FROM privacy.audit_log \gset
SELECT privacy.grant_consent('subj-1', 'audit_marketing', evidence => '{"form": "v1"}');
SELECT privacy.withdraw_consent('subj-1', 'audit_marketing');
SET ROLE regress_px_audit_reader;
BEGIN;
SET LOCAL privacy.purpose = 'audit_marketing';
COMMIT;
SELECT set_config('privacy.purpose', 'audit_marketing', false);
-- A refused purpose is not declared.
SET privacy.purpose = 'nosuchpurpose';
RESET privacy.purpose;
RESET ROLE;
SELECT action, object, count, detail, purpose, current_role_name
  FROM privacy.audit_log WHERE event_id > :mark ORDER BY event_id;

-- The table sink is transactional: a rolled-back statement's events go
-- with it (the log sink keeps them: see test/t/007_audit.pl).
SELECT coalesce(max(event_id), 0) AS mark FROM privacy.audit_log \gset
BEGIN;
SELECT count(privacy.decrypt(ssn)) FROM audit_people;
ROLLBACK;
SELECT count(*) AS events FROM privacy.audit_log WHERE event_id > :mark;

-- The table refuses an event: a trigger that skips the row (returns NULL)
-- fails the statement like one that raises, rather than losing the event
-- (it goes to the log: see test/t/007_audit.pl).
CREATE FUNCTION audit_skip() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER audit_skip BEFORE INSERT ON privacy.audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_skip();
SELECT count(privacy.decrypt(ssn)) FROM audit_people WHERE id <= 2;
SELECT privacy.grant_key('audit_k', 'regress_px_audit_support');
DROP TRIGGER audit_skip ON privacy.audit_log;
DROP FUNCTION audit_skip();
SELECT count(*) AS events FROM privacy.audit_log WHERE event_id > :mark;
SELECT count(*) AS granted FROM privacy.key_grants WHERE grantee_name = 'regress_px_audit_support';

-- Off: nothing is written.
SET privacy.audit = off;
SELECT count(privacy.decrypt(ssn)) FROM audit_people;
SELECT privacy.rotate_key('audit_k');
SET privacy.audit = 'table';
SELECT count(*) AS events FROM privacy.audit_log WHERE event_id > :mark;

-- Never a plaintext value or key byte in any event.
SELECT count(*) AS leaks FROM privacy.audit_log
 WHERE event_id > :audit_start
   AND (coalesce(object, '') || coalesce(detail::text, '')) ~ '(45-6789|@example\.com|not from a table)';

-- Only superusers and privacy_admin read the log; nobody but a superuser
-- changes it, and nobody inserts into it directly.
SET ROLE regress_px_audit_reader;
SELECT count(*) FROM privacy.audit_log;
\echo :LAST_ERROR_SQLSTATE
SET privacy.audit = off;
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_px_auditor;
SELECT count(*) > 0 AS admin_reads FROM privacy.audit_log WHERE event_id > :audit_start;
UPDATE privacy.audit_log SET count = 0;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM privacy.audit_log;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE privacy.audit_log;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO privacy.audit_log (at, session_user_name, current_role_name, action, count)
VALUES (now(), 'someone', 'else', 'decrypt', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.audit_consent_event();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- DROP ROLE deletes the role's key grants, each with its key_revoke event;
-- so does a rename to the name of a role dropped where the extension's
-- cleanup did not run (here its grant's name set by hand).
SELECT privacy.create_key('audit_k2') > 0 AS created;
CREATE ROLE regress_px_audit_gone;
CREATE ROLE regress_px_audit_other;
SELECT privacy.grant_key('audit_k', 'regress_px_audit_gone'), privacy.grant_key('audit_k2', 'regress_px_audit_gone'),
       privacy.grant_key('audit_k2', 'regress_px_audit_other');
SELECT coalesce(max(event_id), 0) AS mark FROM privacy.audit_log \gset
DROP ROLE regress_px_audit_gone, regress_px_audit_other;
UPDATE privacy.key_grants SET grantee_name = 'regress_px_audit_stale'
 WHERE grantee_name = 'regress_px_audit_reader';
CREATE ROLE regress_px_audit_new;
ALTER ROLE regress_px_audit_new RENAME TO regress_px_audit_stale;
DROP ROLE regress_px_audit_stale;
SELECT action, object, count, detail, current_role_name
  FROM privacy.audit_log WHERE event_id > :mark
 ORDER BY detail->>'command', detail->>'role', object;
SELECT count(*) AS left_over FROM privacy.key_grants
 WHERE grantee_name IN ('regress_px_audit_gone', 'regress_px_audit_other', 'regress_px_audit_stale');

RESET privacy.audit;
SELECT privacy.unmask_role('regress_px_audit_support');
DROP TABLE audit_people CASCADE;
DELETE FROM privacy.masking_views WHERE view_name = 'masked.audit_people';
DELETE FROM privacy.mask_rules;
-- A consent recorded inside COPY (SELECT ...) TO by an administrator who is
-- not a superuser is no restore: its audit event is written.
SET privacy.audit = 'table';
SET ROLE regress_px_auditor;
COPY (SELECT privacy.grant_consent('subj-copy', 'audit_marketing')) TO STDOUT;
RESET ROLE;
RESET privacy.audit;
SELECT action, object, count, detail FROM privacy.audit_log
 WHERE action = 'consent_grant' AND detail->>'subject' = 'subj-copy';
SELECT count(*) AS events FROM privacy.consent_events WHERE subject = 'subj-copy';
DELETE FROM privacy.purpose_grants WHERE purpose = 'audit_marketing';
DROP OWNED BY regress_px_auditor, regress_px_audit_reader, regress_px_audit_support;
DROP ROLE regress_px_auditor, regress_px_audit_reader, regress_px_audit_support;

-- reencrypt is one event: the table, the values resealed, the column and
-- the version they went to.
SET privacy.audit = 'table';
SELECT privacy.create_key('audit_reenc') > 0 AS created;
CREATE TABLE audit_reenc (id int, "Secret col" privacy.encrypted_text('audit_reenc'));
INSERT INTO audit_reenc SELECT g, 'v' || g FROM generate_series(1, 3) g;
SELECT privacy.rotate_key('audit_reenc') AS version;
SELECT privacy.reencrypt('audit_reenc', 'Secret col') AS resealed;
SELECT action, object, count, detail FROM privacy.audit_log WHERE action = 'key_reencrypt';
RESET privacy.audit;
DROP TABLE audit_reenc;

-- The object of a count holds the whole quoted names, however long: cut at
-- a byte, a name ending in multibyte characters left invalid UTF-8 in
-- privacy.audit_log.object (every text function over it failed, and so did
-- the restore of a dump, losing the whole table).
SET privacy.audit = 'table';
SELECT coalesce(max(event_id), 0) AS mark FROM privacy.audit_log \gset
SELECT format('CREATE TABLE public.%I (%I privacy.encrypted_text(''audit_reenc''))',
              repeat('"', 63), 'a' || repeat('é', 31)) \gexec
SELECT format('INSERT INTO public.%I VALUES (''v'')', repeat('"', 63)) \gexec
SELECT format('SELECT count(privacy.decrypt(%I)) FROM public.%I', 'a' || repeat('é', 31), repeat('"', 63)) \gexec
-- Each name the longest it can be quoted (128 bytes), and two dots.
SELECT format('CREATE SCHEMA %I', repeat('"', 63)) \gexec
SELECT format('CREATE TABLE %1$I.%1$I (%1$I privacy.encrypted_text(''audit_reenc''))', repeat('"', 63)) \gexec
SELECT format('INSERT INTO %1$I.%1$I VALUES (''v'')', repeat('"', 63)) \gexec
SELECT format('SELECT count(privacy.decrypt(%1$I)) FROM %1$I.%1$I', repeat('"', 63)) \gexec
RESET privacy.audit;
SELECT action, length(object) AS chars, octet_length(object) AS bytes,
       object IN (format('public.%I.%I', repeat('"', 63), 'a' || repeat('é', 31)),
                  format('%1$I.%1$I.%1$I', repeat('"', 63))) AS whole, count, detail
  FROM privacy.audit_log WHERE event_id > :mark ORDER BY event_id;
SELECT format('DROP TABLE public.%I', repeat('"', 63)) \gexec
SELECT format('DROP SCHEMA %I CASCADE', repeat('"', 63)) \gexec
