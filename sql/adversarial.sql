-- Adversarial roles: every attempt fails with a clear error.
SELECT privacy.create_key('adv') > 0 AS created;
CREATE TABLE adv_people (id int PRIMARY KEY, ssn privacy.encrypted_text('adv'), email text);
INSERT INTO adv_people VALUES (1, '123-45-6789', 'ann@example.com');
SELECT privacy.set_mask('adv_people', 'ssn', 'partial(0, ''***-**-'', 4)');
-- 1.1, privacy by default: a column without a rule is redacted; these are shown in clear.
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id']) c, LATERAL privacy.set_mask('adv_people', c, 'none');
SELECT privacy.create_masking_view('adv_people');
CREATE ROLE regress_px_mallory;
SELECT privacy.mask_role('regress_px_mallory');
GRANT CREATE ON SCHEMA public TO regress_px_mallory;
SELECT privacy.create_purpose('adv_purpose', 'consent');

SET ROLE regress_px_mallory;
-- Shadow functions and operators in public and pg_temp that the extension's
-- SECURITY DEFINER functions might resolve: their search_path is pinned.
CREATE FUNCTION public.quote_ident(text) RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN RAISE EXCEPTION 'hijacked public.quote_ident'; END $$;
CREATE FUNCTION pg_temp.to_regclass(text) RETURNS regclass LANGUAGE plpgsql
  AS $$ BEGIN RAISE EXCEPTION 'hijacked pg_temp.to_regclass'; END $$;
CREATE FUNCTION public.to_regclass(text) RETURNS regclass LANGUAGE plpgsql
  AS $$ BEGIN RAISE EXCEPTION 'hijacked to_regclass'; END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = texteq);
CREATE TABLE mallory_own (x int);
ALTER TABLE mallory_own ADD COLUMN y int;     -- fires the masking-view event triggers
SET search_path = pg_temp, public, pg_catalog;
ALTER TABLE mallory_own ADD COLUMN z int;
RESET search_path;

-- Call internal functions directly.
SELECT privacy.reseal(ssn) FROM masked.adv_people;
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.key_tables_changed();
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.masking_views_before_alter();
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.apply_mask(1, 'adv_people', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.create_masking_view('mallory_own');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.reencrypt('adv_people', 'ssn');
\echo :LAST_ERROR_SQLSTATE

-- Read or change key material, rules, consents.
SELECT * FROM privacy.data_key_versions;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM privacy.mask_rules;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM privacy.mask_rules;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO privacy.key_grants VALUES (1, 'regress_px_mallory', 'regress_px_mallory');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO privacy.consent_events (subject, purpose, action) VALUES ('s', 'adv_purpose', 'grant');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO privacy.consent_state VALUES ('s', 'adv_purpose', true, NULL, 0, now());
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_consent('s', 'adv_purpose');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.grant_purpose('regress_px_mallory', 'adv_purpose');
\echo :LAST_ERROR_SQLSTATE

-- Read, forge, change or silence the audit trail.
SELECT count(*) FROM privacy.audit_log;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO privacy.audit_log (at, session_user_name, current_role_name, action, count)
VALUES (now(), 'postgres', 'postgres', 'decrypt', 0);
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.audit_log SET action = 'nothing';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM privacy.audit_log;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE privacy.audit_log;
\echo :LAST_ERROR_SQLSTATE
SET privacy.audit = off;
\echo :LAST_ERROR_SQLSTATE
SELECT set_config('privacy.audit', 'off', true);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.audit_consent_event();
\echo :LAST_ERROR_SQLSTATE

-- Data-subject requests and their internals.
SELECT privacy.export_subject('s');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.erase_subject('s');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.anonymize_value(ssn, 'adv_people', 'ssn') FROM masked.adv_people;
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.classify('adv_people', 'ssn', 'public');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM privacy.inventory;
\echo :LAST_ERROR_SQLSTATE
UPDATE privacy.classifications SET level = 'public';
\echo :LAST_ERROR_SQLSTATE

-- Set an ungranted purpose.
SET privacy.purpose = 'adv_purpose';
\echo :LAST_ERROR_SQLSTATE

-- Escape masking with SET ROLE or SET SESSION AUTHORIZATION, logged in as
-- the masked role itself.
RESET ROLE;
ALTER ROLE regress_px_mallory LOGIN;
\c - regress_px_mallory
SET ROLE postgres;
\echo :ERROR :LAST_ERROR_SQLSTATE
SET SESSION AUTHORIZATION postgres;
\echo :ERROR :LAST_ERROR_SQLSTATE
SELECT ssn FROM adv_people;                  -- search_path: this is masked.adv_people
SELECT ssn FROM public.adv_people;            -- 1.1: transparent masking, masked
\echo :ERROR :LAST_ERROR_SQLSTATE
SELECT id, ssn FROM masked.adv_people;

-- Declare a rule that runs code.
SELECT privacy.set_mask('adv_people', 'email', 'value ''x''); DROP TABLE adv_people; --');
\echo :LAST_ERROR_SQLSTATE
\c - postgres
SELECT privacy.set_mask('adv_people', 'email', 'value ''x''); DROP TABLE adv_people; --');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.set_mask('adv_people', 'email', 'hash(''adv'') || pg_sleep(1)');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS still_there FROM adv_people;

-- Functions and operators shadowed in public (above, and these) do not
-- reach a data-subject request run with public first in search_path.
SET ROLE regress_px_mallory;
CREATE FUNCTION public.to_jsonb(anyelement) RETURNS jsonb LANGUAGE plpgsql
  AS $$ BEGIN RAISE EXCEPTION 'hijacked to_jsonb'; END $$;
CREATE FUNCTION public.jsonb_agg(jsonb) RETURNS jsonb LANGUAGE plpgsql
  AS $$ BEGIN RAISE EXCEPTION 'hijacked jsonb_agg'; END $$;
CREATE FUNCTION public.decrypt(privacy.encrypted_text) RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN RAISE EXCEPTION 'hijacked decrypt'; END $$;
RESET ROLE;
SELECT privacy.protect_table('adv_people', subject_column => 'email');
SET search_path = public, privacy, pg_catalog;
SELECT privacy.export_subject('ann@example.com') -> 'tables' AS exported;
SELECT privacy.erase_subject('ann@example.com') -> 'tables' AS erased;
RESET search_path;
DELETE FROM privacy.protected_tables;

RESET ROLE;
DROP TABLE adv_people CASCADE;
DELETE FROM privacy.masking_views;
DELETE FROM privacy.mask_rules;
SELECT privacy.unmask_role('regress_px_mallory');
DROP OWNED BY regress_px_mallory;
DROP ROLE regress_px_mallory;
