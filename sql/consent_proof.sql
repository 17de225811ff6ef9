-- Consent proof: privacy.consent_state and privacy.consent_events change only
-- through grant_consent / withdraw_consent (and erase_subject, which
-- withdraws through them); the author and time of an event are the
-- server's; nobody but a superuser writes either table directly.
\set SHOW_CONTEXT never
CREATE ROLE regress_cproof_manager IN ROLE privacy_consent_manager;
CREATE ROLE regress_cproof_admin IN ROLE privacy_admin;
CREATE ROLE regress_cproof_user;
SELECT privacy.create_purpose('cproof_mkt', 'consent');
SELECT privacy.grant_consent('cproof-1', 'cproof_mkt');

-- Who may write what: SELECT where 1.0 had it, no write privilege for anyone.
SELECT r.role, t.tab,
       has_table_privilege(r.role, t.tab, 'SELECT') AS sel,
       has_table_privilege(r.role, t.tab, 'INSERT, UPDATE, DELETE, TRUNCATE') AS any_write
  FROM unnest(ARRAY['privacy_consent_manager', 'privacy_admin', 'regress_cproof_user']) r(role),
       unnest(ARRAY['privacy.consent_state', 'privacy.consent_events']) t(tab)
 ORDER BY 1, 2;
SELECT r.role, has_sequence_privilege(r.role, 'privacy.consent_events_event_id_seq', 'USAGE, UPDATE') AS seq
  FROM unnest(ARRAY['privacy_consent_manager', 'privacy_admin']) r(role) ORDER BY 1;
SELECT has_function_privilege(r.role, f.fn, 'EXECUTE') AS writer_executable, r.role, f.fn
  FROM unnest(ARRAY['privacy_consent_manager', 'privacy_admin', 'regress_cproof_user']) r(role),
       unnest(ARRAY['privacy.record_consent_grant(name,name,text,text,timestamptz,text,jsonb)',
                    'privacy.record_consent_withdraw(name,name,text,text,jsonb)']) f(fn)
 ORDER BY 2, 3;

-- Direct writes: a consent manager, an administrator, an ordinary role (42501 each).
SELECT count(*) AS events_before FROM privacy.consent_events WHERE subject LIKE 'cproof%' \gset
SET ROLE regress_cproof_manager;
INSERT INTO privacy.consent_state VALUES ('cproof-2', 'cproof_mkt', true, NULL, 0, now());
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.consent_state SET granted = false WHERE subject = 'cproof-1';
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.consent_state SET expires_at = now() + interval '100 years' WHERE subject = 'cproof-1';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM privacy.consent_state WHERE subject = 'cproof-1';
\echo :LAST_ERROR_SQLSTATE
TRUNCATE privacy.consent_state;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO privacy.consent_events (subject, purpose, action) VALUES ('cproof-2', 'cproof_mkt', 'grant');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO privacy.consent_events (at, subject, purpose, action, session_user_name, current_role_name)
VALUES ('2020-01-01', 'cproof-2', 'cproof_mkt', 'grant', 'someone_else', 'someone_else');
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.consent_events SET evidence = '{}';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM privacy.consent_events;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE privacy.consent_events;
\echo :LAST_ERROR_SQLSTATE
SELECT nextval('privacy.consent_events_event_id_seq');
\echo :LAST_ERROR_SQLSTATE
-- The writers, called directly with a forged author: not executable.
SELECT privacy.record_consent_grant('someone_else', 'someone_else', 'cproof-2', 'cproof_mkt', NULL, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.record_consent_withdraw('someone_else', 'someone_else', 'cproof-1', 'cproof_mkt', NULL);
\echo :LAST_ERROR_SQLSTATE
-- No way to pass an author or a time through the functions.
SELECT privacy.grant_consent('cproof-2', 'cproof_mkt', session_user_name => 'someone_else');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent('cproof-2', 'cproof_mkt', at => '2020-01-01');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_cproof_admin;
INSERT INTO privacy.consent_state VALUES ('cproof-2', 'cproof_mkt', true, NULL, 0, now());
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.consent_state SET granted = false WHERE subject = 'cproof-1';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM privacy.consent_state WHERE subject = 'cproof-1';
\echo :LAST_ERROR_SQLSTATE
TRUNCATE privacy.consent_state;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO privacy.consent_events (subject, purpose, action) VALUES ('cproof-2', 'cproof_mkt', 'grant');
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.consent_events SET evidence = '{}';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM privacy.consent_events;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE privacy.consent_events;
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.record_consent_grant('someone_else', 'someone_else', 'cproof-2', 'cproof_mkt', NULL, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
-- An administrator still reads both.
SELECT subject, granted FROM privacy.consent_state WHERE subject LIKE 'cproof%';
SELECT subject, action FROM privacy.consent_events WHERE subject LIKE 'cproof%' ORDER BY event_id;
RESET ROLE;
SET ROLE regress_cproof_user;
INSERT INTO privacy.consent_state VALUES ('cproof-2', 'cproof_mkt', true, NULL, 0, now());
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.consent_state SET granted = false;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM privacy.consent_state;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE privacy.consent_state;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO privacy.consent_events (subject, purpose, action) VALUES ('cproof-2', 'cproof_mkt', 'grant');
\echo :LAST_ERROR_SQLSTATE
TRUNCATE privacy.consent_events;
\echo :LAST_ERROR_SQLSTATE
-- ... nor through the functions.
SELECT privacy.grant_consent('cproof-2', 'cproof_mkt');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.withdraw_consent('cproof-1', 'cproof_mkt');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent(NULL, NULL);        -- refused before its input is looked at
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.record_consent_grant('someone_else', 'someone_else', 'cproof-2', 'cproof_mkt', NULL, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- Nothing of the above was written.
SELECT count(*) - :events_before AS events_written FROM privacy.consent_events WHERE subject LIKE 'cproof%';
SELECT subject, granted, expires_at FROM privacy.consent_state WHERE subject LIKE 'cproof%';

-- Through the functions, a manager and an administrator record consent; the
-- event's author is the caller's session_user and current_user, its time the
-- server clock's.
SELECT clock_timestamp() AS t0 \gset
SET ROLE regress_cproof_manager;
SELECT privacy.grant_consent('cproof-2', 'cproof_mkt', evidence => '{"form": "v1"}');
SELECT privacy.withdraw_consent('cproof-1', 'cproof_mkt', evidence => '{"page": "prefs"}');
SELECT privacy.withdraw_consent('cproof-never', 'cproof_mkt');   -- never given: false, still recorded
RESET ROLE;
SET ROLE regress_cproof_admin;
SELECT privacy.grant_consent('cproof-3', 'cproof_mkt', expires_at => now() + interval '1 day');
RESET ROLE;
SELECT subject, action, evidence, session_user_name = session_user AS session_is_caller,
       current_role_name, at BETWEEN :'t0' AND clock_timestamp() AS server_time
  FROM privacy.consent_events WHERE subject LIKE 'cproof%' AND at >= :'t0' ORDER BY event_id;
SELECT subject, granted, expires_at IS NOT NULL AS expires,
       updated_at BETWEEN :'t0' AND clock_timestamp() AS server_time
  FROM privacy.consent_state WHERE subject LIKE 'cproof%' ORDER BY subject;
-- The history is kept: every grant and withdrawal of cproof-1 is there.
SELECT action FROM privacy.consent_events WHERE subject = 'cproof-1' ORDER BY event_id;

-- The check is on the caller's current_user: a manager's SECURITY DEFINER
-- wrapper may record consent for its callers (recorded as the manager), an
-- ordinary role's wrapper called by a manager may not.
CREATE FUNCTION cproof_signup(s text) RETURNS void LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$SELECT privacy.grant_consent(s, 'cproof_mkt')$$;
ALTER FUNCTION cproof_signup(text) OWNER TO regress_cproof_manager;
CREATE FUNCTION cproof_sneaky(s text) RETURNS void LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$SELECT privacy.grant_consent(s, 'cproof_mkt')$$;
ALTER FUNCTION cproof_sneaky(text) OWNER TO regress_cproof_user;
SET ROLE regress_cproof_user;
SELECT cproof_signup('cproof-4');
RESET ROLE;
SET ROLE regress_cproof_manager;
SELECT cproof_sneaky('cproof-5');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT subject, current_role_name FROM privacy.consent_events
 WHERE subject IN ('cproof-4', 'cproof-5') ORDER BY event_id;

-- Bad input: clear errors, nothing written.
SET ROLE regress_cproof_manager;
SELECT privacy.grant_consent(NULL, 'cproof_mkt');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent('cproof-6', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.withdraw_consent(NULL, 'cproof_mkt');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent('', 'cproof_mkt');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.withdraw_consent('', 'cproof_mkt');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent('cproof-6', 'cproof_nosuch');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.withdraw_consent('cproof-6', 'cproof_nosuch');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent('cproof-6', 'cproof_mkt', policy_version => 'cproof-nosuch-version');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent('cproof-6', 'cproof_mkt', expires_at => now() - interval '1 second');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent('cproof-6', 'cproof_mkt',
                             evidence => jsonb_build_object('scan', repeat('x', 70000)));
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent('cproof-' || repeat('x', 2000), 'cproof_mkt');
\echo :LAST_ERROR_SQLSTATE
-- 1024 bytes is the limit, counted in bytes (512 two-byte characters).
SELECT privacy.grant_consent(repeat('é', 513), 'cproof_mkt');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent(repeat('é', 512), 'cproof_mkt');
-- A multibyte subject is kept exactly and checked as given.
SELECT privacy.grant_consent('cproof-Zoë-東京-🙂', 'cproof_mkt', evidence => '{"note": "naïve ✓"}');
RESET ROLE;
SELECT privacy.has_consent('cproof-Zoë-東京-🙂', 'cproof_mkt') AS multibyte,
       privacy.has_consent('cproof-Zoe-東京-🙂', 'cproof_mkt') AS other_spelling,
       privacy.has_consent(repeat('é', 512), 'cproof_mkt') AS longest;
SET ROLE regress_cproof_manager;
SELECT privacy.withdraw_consent('cproof-Zoë-東京-🙂', 'cproof_mkt');
RESET ROLE;
SELECT privacy.has_consent('cproof-Zoë-東京-🙂', 'cproof_mkt') AS after_withdrawal;
SELECT subject, action, evidence FROM privacy.consent_events
 WHERE subject = 'cproof-Zoë-東京-🙂' ORDER BY event_id;
SELECT count(*) AS bad_input_written FROM privacy.consent_events
 WHERE subject IN ('', 'cproof-6') OR octet_length(subject) > 1024;

-- erase_subject (an administrator) withdraws through the same path.
SELECT privacy.grant_consent('cproof-erase', 'cproof_mkt');
SET ROLE regress_cproof_admin;
SELECT privacy.erase_subject('cproof-erase') -> 'consents_withdrawn' AS consents_withdrawn;
RESET ROLE;
SELECT action, evidence, current_role_name, session_user_name = session_user AS session_is_caller
  FROM privacy.consent_events WHERE subject = 'cproof-erase' AND action = 'withdraw';
SELECT granted FROM privacy.consent_state WHERE subject = 'cproof-erase';

-- A superuser still writes directly (a restore does, with COPY).
INSERT INTO privacy.consent_state
SELECT 'cproof-7', 'cproof_mkt', true, NULL, coalesce(max(ordinal), 0), now() FROM privacy.policy_versions;
SELECT privacy.has_consent('cproof-7', 'cproof_mkt') AS superuser_insert;

DROP FUNCTION cproof_signup(text), cproof_sneaky(text);
DELETE FROM privacy.consent_state WHERE purpose = 'cproof_mkt';
DELETE FROM privacy.consent_events WHERE purpose = 'cproof_mkt';
DELETE FROM privacy.purposes WHERE name = 'cproof_mkt';
DROP ROLE regress_cproof_manager, regress_cproof_admin, regress_cproof_user;
