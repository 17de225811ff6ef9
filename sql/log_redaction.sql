-- Keeping plaintext out of the server log: what SQL can see of it.  The
-- server log itself is checked by test/t/009_log_secrets.pl.
--
-- 1. privacy.redact_literals(), the redaction the STATEMENT, QUERY and
--    CONTEXT lines get: string and numeric constants become '***' and ***.
SELECT privacy.redact_literals($$INSERT INTO t (id, ssn) VALUES (12, '123-45-6789') RETURNING id$$);
SELECT privacy.redact_literals($$SELECT 'it''s', E'it\'s', e'a\\', U&'d\0061t', u&'x', B'0101', X'ff', N'nat', n'x'$$);
SELECT privacy.redact_literals($q$SELECT $$dollar$$, $tag$ a $$ b $tag$, $1, $23, a$b, "q$x$", $_x$y$_x$$q$);
SELECT privacy.redact_literals($$SELECT 1, -2.5, .5, 1e10, 1.5E-3, 123abc, x1, t.c2, "7"$$);
-- Names, quoted names and comments are kept; a quote inside them is not a string.
SELECT privacy.redact_literals($$SELECT "it's" FROM "we""ird" -- don't
/* it's /* nested 'x' */ still */ WHERE a = 'b'$$);
-- Multibyte text.
SELECT privacy.redact_literals($$SELECT 'Zoë 東京', "日本" FROM tökyo WHERE ö = 'ü'$$);
-- Whatever standard_conforming_strings was when the text was parsed: under
-- either reading, every constant is replaced.
SELECT privacy.redact_literals($$SELECT 'C:\' AS dir, 'SECRET' AS s$$);
SELECT privacy.redact_literals($$SELECT 'it\'s SECRET' AS s$$);
-- Left open: replaced to the end.
SELECT privacy.redact_literals($$SELECT 'SECRET$$);
SELECT privacy.redact_literals($$SELECT $x$SECRET$$);
SELECT privacy.redact_literals($$SELECT "SECRET$$);
SELECT privacy.redact_literals($$SELECT 1 /* SECRET$$);
SELECT privacy.redact_literals($$SELECT E'SECRET\$$);
-- Edge input.
SELECT privacy.redact_literals(NULL) IS NULL AS null_in_null_out;
SELECT privacy.redact_literals('') = '' AS empty;
SELECT privacy.redact_literals('$') AS lone_dollar, privacy.redact_literals('''') AS lone_quote,
       privacy.redact_literals('-') AS lone_minus, privacy.redact_literals('.') AS lone_dot;
SELECT length(privacy.redact_literals('SELECT ''' || repeat('x', 1000000) || ''', ' || repeat('1,', 100000) || '2'))
    AS huge_redacted_length;
SELECT position('x' IN privacy.redact_literals('SELECT ''' || repeat('x', 1000000) || '''')) AS x_left;

-- 2. privacy.log_statement_literals: superuser-only, hidden by default.
SHOW privacy.log_statement_literals;
SET privacy.log_statement_literals = shown;
SHOW privacy.log_statement_literals;
SET privacy.log_statement_literals = 'sometimes';
\echo :LAST_ERROR_SQLSTATE
RESET privacy.log_statement_literals;
CREATE ROLE regress_lr_user;
SET ROLE regress_lr_user;
SET privacy.log_statement_literals = shown;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- 3. The client still gets PostgreSQL's message with the decrypted value
-- (only the server log loses it).
SELECT privacy.create_key('lr_k') > 0 AS created;
CREATE TABLE lr_people (id int PRIMARY KEY, ssn privacy.encrypted_text('lr_k'));
INSERT INTO lr_people VALUES (1, 'not-a-number');
SELECT privacy.decrypt(ssn)::int FROM lr_people;
-- And the extension's own errors are unchanged.
SELECT privacy.encrypt('x', 'lr_nosuchkey');
-- So are a bad COPY row's (the log gets the message without its values) ...
CREATE TYPE lr_pair AS (a int, s privacy.encrypted_text('lr_k'));
CREATE TABLE lr_bundles (id int, arr privacy.encrypted_text('lr_k')[], p lr_pair);
COPY lr_bundles (id, arr) FROM stdin;
5	{one,"two}
\.
-- ... and the errors after a procedure's COMMIT (the log still treats the
-- CALL as one that decrypted).
CREATE PROCEDURE lr_dec_commit() LANGUAGE plpgsql
    AS $$DECLARE v text; BEGIN SELECT privacy.decrypt(ssn) INTO v FROM lr_people; COMMIT; PERFORM v::int; END$$;
CALL lr_dec_commit();

-- 4. Inventory: logging settings.  Safe values first (a finding of the
-- value this session started with says "at session start"; only this
-- session's are looked at here).
SET log_statement = none;
SET log_min_duration_statement = -1;
SET log_min_duration_sample = -1;
SET log_transaction_sample_rate = 0;
SET log_parameter_max_length = 0;
SET log_parameter_max_length_on_error = 0;
SET log_min_error_statement = error;
SET debug_print_parse = off;
SET debug_print_rewritten = off;
SET debug_print_plan = off;
CREATE VIEW lr_session_findings AS
  SELECT f FROM privacy.inventory i, unnest(i.findings) f
   WHERE i.schema_name IS NULL AND f NOT LIKE '%(at session start)' AND f NOT LIKE 'privacy_ext is not in%'
     AND f NOT LIKE '%(for role %' AND f NOT LIKE '%(in database %';
SELECT * FROM lr_session_findings;
-- A server row has no table or column.
SET log_statement = 'ddl';
SELECT schema_name, table_name, column_name, data_type, level, encrypted, key_name, mask_rules,
       consent_protected, is_subject_column
  FROM privacy.inventory WHERE findings && ARRAY[
      'log_statement = ''ddl'' writes statement text to the server log (set in this session)'];
SET log_statement = 'all';
SET log_min_duration_statement = 0;
SET log_min_duration_sample = '250ms';
SET log_transaction_sample_rate = 0.01;
SET log_parameter_max_length = 64;
SET log_parameter_max_length_on_error = -1;
SET log_min_error_statement = warning;
SET debug_print_parse = on;
SET debug_print_plan = on;
SET privacy.log_statement_literals = shown;
SELECT * FROM lr_session_findings ORDER BY 1;
-- log_parameter_max_length matters only with statement logging.
SET log_statement = none;
SET log_min_duration_statement = -1;
SET log_min_duration_sample = -1;
SET log_transaction_sample_rate = 0;
SELECT * FROM lr_session_findings ORDER BY 1;
RESET log_parameter_max_length_on_error;
RESET log_min_error_statement;
RESET debug_print_parse;
RESET debug_print_plan;
RESET privacy.log_statement_literals;
SET log_parameter_max_length_on_error = 0;
SELECT * FROM lr_session_findings;
-- auto_explain, once loaded.
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SELECT * FROM lr_session_findings;
SET auto_explain.log_min_duration = -1;
SELECT * FROM lr_session_findings;
-- Per-role and per-database settings.
ALTER ROLE regress_lr_user SET log_statement = 'mod';
ALTER ROLE regress_lr_user IN DATABASE contrib_regression SET log_min_duration_statement = '1s';
SELECT f FROM privacy.inventory i, unnest(i.findings) f
 WHERE i.schema_name IS NULL AND f LIKE '%regress_lr_user%' ORDER BY 1;
ALTER ROLE regress_lr_user RESET ALL;
ALTER ROLE regress_lr_user IN DATABASE contrib_regression RESET ALL;
SELECT count(*) AS role_findings FROM privacy.inventory i, unnest(i.findings) f
 WHERE i.schema_name IS NULL AND f LIKE '%regress_lr_user%';
-- Whether the hook is in every session from its start.
SELECT privacy.log_redaction_preloaded() =
       (current_setting('shared_preload_libraries') ~ '(^|[ ,/])privacy_ext($|[ ,.])'
        OR current_setting('session_preload_libraries') ~ '(^|[ ,/])privacy_ext($|[ ,.])') AS preload_reported;

-- 5. Inventory: a protected table whose owner turned row level security off.
CREATE TABLE lr_customers (customer_id text PRIMARY KEY, card privacy.encrypted_text('lr_k'));
SELECT privacy.protect_table('lr_customers', 'customer_id');
SELECT column_name, findings FROM privacy.inventory
 WHERE table_name = 'lr_customers' ORDER BY column_name;
ALTER TABLE lr_customers NO FORCE ROW LEVEL SECURITY;
SELECT column_name, findings FROM privacy.inventory
 WHERE table_name = 'lr_customers' ORDER BY column_name;
ALTER TABLE lr_customers DISABLE ROW LEVEL SECURITY;
SELECT column_name, findings FROM privacy.inventory
 WHERE table_name = 'lr_customers' AND is_subject_column;
DROP POLICY privacy_consent_select ON lr_customers;
SELECT column_name, findings FROM privacy.inventory
 WHERE table_name = 'lr_customers' AND is_subject_column;
SELECT privacy.protect_table('lr_customers', 'customer_id');
SELECT column_name, findings FROM privacy.inventory
 WHERE table_name = 'lr_customers' AND is_subject_column;
-- A partitioned table: the root's own switch is its own finding, a
-- partition's is still "partition not protected".
CREATE TABLE lr_events (subject text, at date) PARTITION BY RANGE (at);
CREATE INDEX ON lr_events (subject);
CREATE TABLE lr_events_2025 PARTITION OF lr_events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
SELECT privacy.protect_table('lr_events', 'subject');
ALTER TABLE lr_events_2025 NO FORCE ROW LEVEL SECURITY;
SELECT column_name, findings FROM privacy.inventory WHERE table_name = 'lr_events';
ALTER TABLE lr_events NO FORCE ROW LEVEL SECURITY;
SELECT column_name, findings FROM privacy.inventory WHERE table_name = 'lr_events';

RESET ALL;
DROP VIEW lr_session_findings;
DELETE FROM privacy.protected_tables WHERE relid IN ('lr_customers'::regclass, 'lr_events'::regclass);
DROP TABLE lr_people, lr_customers, lr_events, lr_bundles;
DROP TYPE lr_pair;
DROP PROCEDURE lr_dec_commit();
DROP ROLE regress_lr_user;
