-- Declarative masking rules and masking views.
SELECT privacy.create_key('hrm') > 0 AS created;
SELECT privacy.create_key('pseudo_m') > 0 AS created;
CREATE TABLE employees (id int PRIMARY KEY, name text, email text, salary int4, born date,
                    ssn privacy.encrypted_text('hrm'));
INSERT INTO employees VALUES
  (1, 'Ann Smith', 'ann@example.com', 51234, '1985-06-15', '123-45-6789'),
  (2, 'Bob Jones', 'bob@example.org', 64999, '1990-02-01', '987-65-4321');
CREATE ROLE regress_px_support;
CREATE ROLE regress_px_hr_manager;
CREATE ROLE regress_px_analysts;
CREATE ROLE regress_px_analyst IN ROLE regress_px_analysts;

-- Rules are validated when declared; nothing is stored for a bad one.
SELECT privacy.set_mask('employees', 'ssn', 'partial(0, ''***-**-'', 4)');
SELECT privacy.set_mask('employees', 'ssn', 'none', role => 'regress_px_hr_manager');
SELECT privacy.set_mask('employees', 'email', 'email');
SELECT privacy.set_mask('employees', 'name', 'hash(''pseudo_m'')', role => 'regress_px_analysts');
SELECT privacy.set_mask('employees', 'name', 'partial(1, ''.'', 0)');
SELECT privacy.set_mask('employees', 'salary', 'generalize(10000)');
SELECT privacy.set_mask('employees', 'born', 'generalize(''decade'')');
SELECT privacy.set_mask('employees', 'ssn', 'partial(-1, ''*'', 4)');
SELECT privacy.set_mask('employees', 'ssn', 'shuffle');
SELECT privacy.set_mask('employees', 'ssn', 'partial(1, ''*'')');
SELECT privacy.set_mask('employees', 'ssn', 'email; DROP TABLE employees');
SELECT privacy.set_mask('employees', 'ssn', 'value ''x'' || current_user');
SELECT privacy.set_mask('employees', 'salary', 'email');
SELECT privacy.set_mask('employees', 'salary', 'value ''lots''');
SELECT privacy.set_mask('employees', 'born', 'generalize(''week'')');
SELECT privacy.set_mask('employees', 'salary', 'noise(2)');
SELECT privacy.set_mask('employees', 'name', 'hash(''nosuchkey'')');
SELECT privacy.set_mask('employees', 'nosuchcolumn', 'redact');
SELECT privacy.set_mask('employees', 'name', 'redact', role => 'regress_px_nobody');
SELECT relid, column_name, role_name, rule FROM privacy.mask_rules ORDER BY column_name, role_name NULLS FIRST;

-- 1.1, privacy by default: a column without a rule is redacted; these are shown in clear.
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id']) c, LATERAL privacy.set_mask('employees', c, 'none');
SELECT privacy.create_masking_view('employees');
\d+ masked.employees
GRANT SELECT ON employees TO regress_px_support;        -- a direct grant mask_role takes away
SELECT privacy.mask_role('regress_px_support');
SELECT privacy.mask_role('regress_px_analysts');
SELECT role_name, revoked FROM privacy.masked_roles ORDER BY 1;
GRANT SELECT ON employees TO regress_px_hr_manager;
GRANT SELECT ON masked.employees TO regress_px_hr_manager;

-- Each role sees what its rules allow; the owner reads the table itself.
SET ROLE regress_px_support;
SELECT * FROM masked.employees ORDER BY id;
SELECT * FROM employees;                                     -- 1.1: transparent masking, what masked.employees shows
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT privacy.mask_hash('Ann Smith', 'pseudo_m') AS ann_pseudonym \gset
SET ROLE regress_px_analyst;                             -- through membership
SELECT id, length(name) AS pseudonym_len, name = :'ann_pseudonym' AS is_ann_pseudonym
  FROM masked.employees ORDER BY id;
SELECT privacy.mask_hash('Ann Smith', 'pseudo_m');      -- the key itself is not theirs
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT privacy.grant_key('hrm', 'regress_px_hr_manager');
SET ROLE regress_px_hr_manager;
SELECT id, ssn, email FROM masked.employees ORDER BY id;     -- 'none' on ssn, default on email
RESET ROLE;

-- Leaks, as a masked role: predicates only see masked values.
SET ROLE regress_px_support;
SELECT id FROM masked.employees WHERE ssn = '123-45-6789';
SELECT id FROM masked.employees WHERE ssn LIKE '%6789';
CREATE FUNCTION pg_temp.peek(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN RAISE NOTICE 'peek: %', $1; RETURN true; END $$;
SELECT id FROM masked.employees WHERE pg_temp.peek(email) ORDER BY id;
SELECT privacy.decrypt(ssn) FROM employees;                  -- 1.1: ssn is the masked text here
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM pg_stats WHERE tablename = 'employees';
-- COPY, cursors, EXPLAIN ANALYZE and error messages carry masked values only.
COPY (SELECT ssn, email FROM masked.employees ORDER BY id) TO STDOUT;
COPY employees TO STDOUT;                                    -- 1.1: the masked values
\echo :LAST_ERROR_SQLSTATE
BEGIN;
DECLARE c CURSOR FOR SELECT ssn FROM masked.employees ORDER BY id;
FETCH ALL FROM c;
COMMIT;
SELECT ssn::int FROM masked.employees;
RESET ROLE;
-- apply_mask is no oracle: it only masks the column it names, read from
-- the table it names, whatever form the call takes.
CREATE TABLE leaky (secret privacy.encrypted_text('hrm'));
INSERT INTO leaky VALUES ('555-12-3456');
GRANT SELECT ON leaky TO regress_px_support;
SET ROLE regress_px_support;
SELECT privacy.apply_mask(secret, 'employees', 'ssn') FROM leaky;
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.apply_mask(x, 'employees', 'ssn') FROM (SELECT secret AS x FROM leaky) s;
SELECT (SELECT privacy.apply_mask(l.secret, 'employees', 'ssn')) FROM leaky l;
SELECT privacy.apply_mask(privacy.encrypted_text_out(secret)::text::privacy.encrypted_text, 'employees', 'ssn') FROM leaky;
SELECT privacy.apply_mask(secret, 'leaky', 'secret') AS no_rule_redacted FROM leaky;   -- 1.1: privacy by default
CREATE FUNCTION pg_temp.unmask(v privacy.encrypted_text) RETURNS text LANGUAGE sql
  AS $$ SELECT privacy.apply_mask(v, 'employees', 'ssn') $$;
CREATE FUNCTION pg_temp.unmask2(v privacy.encrypted_text) RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN RETURN privacy.apply_mask(v, 'employees', 'ssn'); END $$;
\set VERBOSITY terse
SELECT pg_temp.unmask2(secret) FROM leaky;
\set VERBOSITY default
CREATE VIEW pg_temp.oracle AS SELECT privacy.apply_mask(secret, 'employees', 'ssn') FROM leaky;
RESET ROLE;
DROP TABLE leaky;
SET ROLE regress_px_support;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT id FROM masked.employees WHERE ssn = '123-45-6789';
RESET ROLE;

-- The view follows ALTER TABLE: new columns appear, renamed columns keep
-- their rule, dropped columns go; a masked column is never shown in clear.
ALTER TABLE employees ADD COLUMN phone text DEFAULT '+31 6 1234 5678';
ALTER TABLE employees RENAME COLUMN email TO mail;
ALTER TABLE employees DROP COLUMN born;
SELECT column_name, rule FROM privacy.mask_rules WHERE role_name IS NULL ORDER BY column_name;
SET ROLE regress_px_support;
SELECT * FROM masked.employees ORDER BY id;
RESET ROLE;
SELECT privacy.set_mask('employees', 'phone', 'partial(3, ''***'', 2)');
SET ROLE regress_px_support;
SELECT id, phone FROM masked.employees ORDER BY id;
RESET ROLE;
SELECT privacy.drop_mask('employees', 'phone');
SELECT privacy.drop_mask('employees', 'phone');

-- Only key administrators declare rules.
SET ROLE regress_px_support;
SELECT privacy.set_mask('employees', 'salary', 'none', role => 'regress_px_support');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

SELECT privacy.unmask_role('regress_px_support');
SELECT privacy.unmask_role('regress_px_analysts');
-- unmask_role gives the direct grant back, and the view's grant goes.
SELECT has_table_privilege('regress_px_support', 'employees', 'SELECT') AS table_again,
       has_table_privilege('regress_px_support', 'masked.employees', 'SELECT') AS view_still;
SELECT count(*) FROM privacy.masked_roles;
DROP TABLE employees CASCADE;
DELETE FROM privacy.masking_views;
DELETE FROM privacy.mask_rules;
SELECT privacy.revoke_key('hrm', 'regress_px_hr_manager');
DROP OWNED BY regress_px_support, regress_px_hr_manager, regress_px_analysts, regress_px_analyst;
DROP ROLE regress_px_support, regress_px_hr_manager, regress_px_analyst, regress_px_analysts;

-- A hash rule whose key is destroyed: that column (or that part of a jsonb
-- column) shows NULL, the others stay readable; declaring one is refused.
-- The redact rule shows what mask_redact() shows (times, money, oid).
-- 'none' on encrypted_bytea decrypts for a key holder only; on an array of
-- encrypted values it shows the envelopes, to a key holder only.
SELECT privacy.create_key('hk_gone') > 0 AS created, privacy.create_key('bk') > 0 AS created;
CREATE TABLE h (id int, a text, b jsonb, t time, tz timetz, m money, o oid,
                e privacy.encrypted_bytea('bk'), arr privacy.encrypted_text('bk')[]);
INSERT INTO h VALUES (1, 'ann', '{"n": "ann", "k": "x"}', '12:34', '12:34+02', 5, 9,
                      privacy.encrypt('\x0102'::bytea, 'bk'),
                      ARRAY[privacy.encrypt('s1', 'bk')]::privacy.encrypted_text('bk')[]);
SELECT privacy.set_mask('h', 'id', 'none'), privacy.set_mask('h', 'a', 'hash(''hk_gone'')'),
       privacy.set_mask('h', 'b', 'jsonb(''$.n'' hash(''hk_gone''), ''$.k'' redact)'),
       privacy.set_mask('h', 't', 'redact'), privacy.set_mask('h', 'tz', 'redact'),
       privacy.set_mask('h', 'e', 'none'), privacy.set_mask('h', 'arr', 'none');
SELECT privacy.create_masking_view('h');
SELECT id, length(a) AS a_len, b ? 'n' AS has_n, t, tz, m, o, e FROM masked.h;
CREATE ROLE regress_px_hreader;
SELECT privacy.mask_role('regress_px_hreader');
SET ROLE regress_px_hreader;
SELECT id, t, tz, m, o FROM masked.h;
SELECT e FROM masked.h;
\echo :LAST_ERROR_SQLSTATE
SELECT arr FROM masked.h;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT privacy.grant_key('bk', 'regress_px_hreader');
SET ROLE regress_px_hreader;
SELECT e, arr::text LIKE '{pxe1:%' AS envelope FROM masked.h;
RESET ROLE;
SELECT privacy.destroy_key('hk_gone', 'destroy hk_gone');
SELECT id, a, b, t FROM masked.h;
SET ROLE regress_px_hreader;
SELECT id, a, b FROM masked.h;
RESET ROLE;
SELECT privacy.set_mask('h', 'a', 'hash(''hk_gone'')');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.set_mask('h', 'b', 'jsonb(''$.n'' hash(''hk_gone''))');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.unmask_role('regress_px_hreader');
SELECT privacy.revoke_key('bk', 'regress_px_hreader');
DROP TABLE h CASCADE;
DELETE FROM privacy.masking_views;
DELETE FROM privacy.mask_rules;
DROP OWNED BY regress_px_hreader;
DROP ROLE regress_px_hreader;
