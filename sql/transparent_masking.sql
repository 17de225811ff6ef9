-- Transparent masking (1.1): a masked role that reads a masked table
-- itself gets what the table's masking view would show it, by every path;
-- its writes are refused (SQLSTATE 42501).
SELECT privacy.create_key('tm_k') > 0 AS created;
CREATE TABLE tm_people (id int PRIMARY KEY, name text, email text,
                        ssn privacy.encrypted_text('tm_k'), salary int);
INSERT INTO tm_people VALUES
  (1, 'Ann Smith', 'ann@example.com', '123-45-6789', 51234),
  (2, 'Bob Jones', 'bob@example.org', '987-65-4321', 64999);
SELECT privacy.set_mask('tm_people', 'id', 'none');
SELECT privacy.set_mask('tm_people', 'name', 'partial(1, ''.'', 0)');
SELECT privacy.set_mask('tm_people', 'email', 'email');
SELECT privacy.set_mask('tm_people', 'ssn', 'partial(0, ''***-**-'', 4)');
-- salary has no rule: redacted (privacy by default).
SELECT privacy.create_masking_view('tm_people');
CREATE TABLE tm_plain (id int, note text);          -- no masking view
INSERT INTO tm_plain VALUES (1, 'plain');
CREATE ROLE tm_reader;
CREATE ROLE tm_keyed;
-- A view the reader made while it could still read the table.
GRANT SELECT ON tm_people TO tm_reader;
CREATE SCHEMA tm_reader_s AUTHORIZATION tm_reader;
SET ROLE tm_reader;
CREATE VIEW tm_reader_s.early AS SELECT id, email FROM public.tm_people;
RESET ROLE;
SELECT privacy.mask_role('tm_reader');
SELECT privacy.mask_role('tm_keyed');
GRANT SELECT ON tm_plain TO tm_reader;
SELECT privacy.set_mask('tm_people', 'ssn', 'none', role => 'tm_keyed');
CREATE FUNCTION pg_temp.peek(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN RAISE NOTICE 'peek: %', $1; RETURN true; END $$;

-- The owner reads the table in clear; masked.tm_people for comparison.
SELECT id, name, email, salary FROM tm_people ORDER BY id;
SET ROLE tm_reader;
SELECT * FROM masked.tm_people ORDER BY id;

-- 1. Reads, by every form of naming the table: what the view shows.
SELECT * FROM public.tm_people ORDER BY id;
SET search_path = public;                            -- unqualified, table first
SELECT * FROM tm_people ORDER BY id;
RESET search_path;
SELECT count(*) AS differ FROM
  ((SELECT row_to_json(t)::text FROM public.tm_people t EXCEPT ALL SELECT row_to_json(m)::text FROM masked.tm_people m)
   UNION ALL
   (SELECT row_to_json(m)::text FROM masked.tm_people m EXCEPT ALL SELECT row_to_json(t)::text FROM public.tm_people t)) d;
SELECT count(*) AS rows FROM public.tm_people;
SELECT p.id, q.ssn FROM public.tm_people p JOIN public.tm_people q USING (id) ORDER BY 1;
SELECT x.name, pl.note FROM public.tm_people x LEFT JOIN public.tm_plain pl ON pl.id = x.id ORDER BY 1;
SELECT * FROM (SELECT ssn, email FROM public.tm_people) s ORDER BY 2;
SELECT id FROM masked.tm_people m WHERE EXISTS (SELECT 1 FROM public.tm_people t WHERE t.email = m.email) ORDER BY 1;
SELECT (SELECT max(email) FROM public.tm_people) AS scalar;
WITH c AS (SELECT * FROM public.tm_people) SELECT id, ssn FROM c ORDER BY id;
WITH RECURSIVE r(n, e) AS (SELECT 1, (SELECT email FROM public.tm_people WHERE id = 1)
                           UNION ALL SELECT n + 1, e FROM r WHERE n < 2) SELECT * FROM r;
SELECT email FROM public.tm_people UNION ALL SELECT email FROM masked.tm_people ORDER BY 1;
SELECT g, s.email FROM generate_series(1, 2) g,
       LATERAL (SELECT email FROM public.tm_people WHERE id = g) s ORDER BY 1;
SELECT t FROM public.tm_people t ORDER BY id;        -- whole rows, masked
SELECT tm_people.email FROM public.tm_people ORDER BY 1;
SELECT public.tm_people.id FROM public.tm_people;     -- a three-part name is not followed: refused
\echo :LAST_ERROR_SQLSTATE
SELECT 1 AS one \; SELECT email FROM public.tm_people WHERE id = 1;

-- 2. Predicates see only masked values: no row matches a plaintext, every
-- function called on a column gets the masked value.
SELECT count(*) AS by_plaintext FROM public.tm_people WHERE email = 'ann@example.com';
SELECT count(*) AS by_masked FROM public.tm_people WHERE email = 'a***@e***.com';
SELECT count(*) FROM public.tm_people WHERE name LIKE 'Ann%';
SELECT id FROM public.tm_people WHERE pg_temp.peek(email) ORDER BY id;
SELECT id FROM public.tm_people WHERE pg_temp.peek(ssn::text) ORDER BY id;
SELECT count(*) FROM public.tm_people WHERE salary > 60000;
SELECT privacy.decrypt(ssn) FROM public.tm_people;  -- ssn is the masked text
-- The statement must also make sense against the table itself.
SELECT count(*) FROM public.tm_people WHERE ssn = '123-45-6789';
\echo :LAST_ERROR_SQLSTATE

-- 3. The masking guard still holds: apply_mask over the rewritten read is
-- not a read of the table.
SELECT privacy.apply_mask(ssn, 'tm_people', 'ssn') FROM public.tm_people;
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.apply_mask(email, 'public.tm_people', 'email') FROM public.tm_people;
\echo :LAST_ERROR_SQLSTATE

-- 4. WITH names: a CTE of the table's name is the CTE; where such a name
-- could be either, the statement is refused rather than guessed.
WITH tm_people AS (SELECT 42 AS id) SELECT * FROM tm_people;
SET search_path = public;
SELECT email FROM tm_people, LATERAL (WITH tm_people AS (SELECT 1 AS a) SELECT * FROM tm_people) s;
\echo :LAST_ERROR_SQLSTATE
RESET search_path;

-- 5. Views the role owns, tables it creates, cursors, COPY, EXPLAIN.
CREATE VIEW tm_reader_s.mine AS SELECT id, ssn, email FROM public.tm_people;
SELECT pg_get_viewdef('tm_reader_s.mine');
SELECT * FROM tm_reader_s.mine ORDER BY id;
SELECT * FROM tm_reader_s.early;                     -- made before mask_role: refused
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE tm_reader_s.copied AS SELECT * FROM public.tm_people;
SELECT * FROM tm_reader_s.copied ORDER BY id;
CREATE TABLE tm_reader_s.inserted (id int, ssn text);
INSERT INTO tm_reader_s.inserted SELECT id, ssn::text FROM public.tm_people;
SELECT * FROM tm_reader_s.inserted ORDER BY id;
CREATE MATERIALIZED VIEW tm_reader_s.mat AS SELECT id, email FROM public.tm_people;
REFRESH MATERIALIZED VIEW tm_reader_s.mat;
SELECT * FROM tm_reader_s.mat ORDER BY id;
SELECT email INTO tm_reader_s.selected FROM public.tm_people;
SELECT * FROM tm_reader_s.selected ORDER BY 1;
SELECT a.email, b.name FROM public.tm_people a, ONLY public.tm_people b WHERE a.id = b.id ORDER BY 1;
TABLE public.tm_people;
SELECT count(*) FROM public.tm_people TABLESAMPLE SYSTEM (100);   -- a view cannot be sampled
\echo :LAST_ERROR_SQLSTATE
SELECT ctid FROM public.tm_people;                   -- nor has system columns
\echo :LAST_ERROR_SQLSTATE
BEGIN;
DECLARE c CURSOR FOR SELECT email, ssn FROM public.tm_people ORDER BY id;
FETCH ALL FROM c;
COMMIT;
COPY public.tm_people TO STDOUT;
SET search_path = public;
COPY tm_people (id, email) TO STDOUT;
RESET search_path;
COPY (SELECT email FROM public.tm_people ORDER BY id) TO STDOUT;
COPY masked.tm_people (id, email) TO STDOUT;         -- the view, by its name (masked search_path)
COPY (SELECT ssn FROM public.tm_people ORDER BY id) TO STDOUT (FORMAT csv);
EXPLAIN (COSTS OFF) SELECT email FROM public.tm_people WHERE email = 'x';
BEGIN;
LOCK TABLE public.tm_people IN ACCESS SHARE MODE;    -- pg_dump's lock: through the view
COMMIT;
BEGIN;
LOCK TABLE public.tm_people IN EXCLUSIVE MODE;
ROLLBACK;

-- 6. Functions, PL/pgSQL expressions, prepared statements.
DO $$
DECLARE
    x text;
BEGIN
    x := (SELECT email FROM public.tm_people WHERE id = 1);
    RAISE NOTICE 'assignment: %', x;
    SELECT email INTO x FROM public.tm_people WHERE id = 2;
    RAISE NOTICE 'select into: %', x;
    IF EXISTS (SELECT 1 FROM public.tm_people WHERE email LIKE 'ann%') THEN
        RAISE NOTICE 'plaintext matched';
    ELSE
        RAISE NOTICE 'plaintext did not match';
    END IF;
    FOR x IN SELECT ssn FROM public.tm_people ORDER BY id LOOP
        RAISE NOTICE 'loop: %', x;
    END LOOP;
    EXECUTE 'SELECT name FROM public.tm_people WHERE id = $1' INTO x USING 1;
    RAISE NOTICE 'dynamic: %', x;
    -- "(SELECT ...)" is also a statement: the expression is what counts.
    RAISE NOTICE 'expression: %', (SELECT email FROM public.tm_people WHERE id = 2);
    IF (SELECT count(*) FROM public.tm_people WHERE email = 'ann@example.com') = 0 THEN
        RAISE NOTICE 'condition: no plaintext';
    END IF;
END
$$;
PREPARE tm_q(int) AS SELECT email FROM public.tm_people WHERE id = $1;
EXECUTE tm_q(2);
DEALLOCATE tm_q;
RESET ROLE;

-- Plans cached under one role are analysed again under another.
CREATE FUNCTION tm_emails() RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN RETURN QUERY SELECT email FROM public.tm_people ORDER BY id; END $$;
CREATE FUNCTION tm_emails_sql() RETURNS SETOF text LANGUAGE sql AS $$
SELECT email FROM public.tm_people ORDER BY id $$;
CREATE FUNCTION tm_email_definer(int) RETURNS text LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog AS $$ SELECT email FROM public.tm_people WHERE id = $1 $$;
SELECT tm_emails() AS as_owner;
SELECT tm_emails_sql() AS as_owner;
SET ROLE tm_reader;
SELECT tm_emails() AS as_reader;
SELECT tm_emails_sql() AS as_reader;
SELECT tm_email_definer(1) AS definer_rights;        -- the owner's function: its rights
RESET ROLE;
SELECT tm_emails() AS as_owner_again;
PREPARE tm_p AS SELECT id, name FROM public.tm_people ORDER BY id;
EXECUTE tm_p;
SET ROLE tm_reader;
EXECUTE tm_p;                                        -- the same plan may not serve another role
RESET ROLE;
EXECUTE tm_p;
DEALLOCATE tm_p;
-- A SECURITY DEFINER function of the masked role reads masked, whoever calls it.
GRANT CREATE ON SCHEMA tm_reader_s TO tm_reader;
SET ROLE tm_reader;
CREATE FUNCTION tm_reader_s.names() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog AS $$ SELECT name FROM public.tm_people ORDER BY id $$;
RESET ROLE;
SELECT tm_reader_s.names() AS masked_definer;

-- 7. Writes by a masked role are refused, whatever form they take.
SET ROLE tm_reader;
INSERT INTO public.tm_people (id) VALUES (3);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO public.tm_people (id) SELECT 3 ON CONFLICT DO NOTHING;
\echo :LAST_ERROR_SQLSTATE
UPDATE public.tm_people SET name = 'x' WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
UPDATE tm_reader_s.inserted i SET ssn = p.email FROM public.tm_people p WHERE p.id = i.id;  -- reads only: allowed
SELECT * FROM tm_reader_s.inserted ORDER BY id;
DELETE FROM public.tm_people WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
MERGE INTO public.tm_people t USING (SELECT 1 AS id) s ON t.id = s.id
  WHEN MATCHED THEN UPDATE SET name = 'x';
\echo :LAST_ERROR_SQLSTATE
WITH d AS (DELETE FROM public.tm_people RETURNING id) SELECT count(*) FROM d;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE public.tm_people;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE tm_reader_s.inserted, public.tm_people;
\echo :LAST_ERROR_SQLSTATE
COPY public.tm_people FROM '/dev/null';
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM public.tm_people FOR UPDATE;
\echo :LAST_ERROR_SQLSTATE
DO $$ BEGIN UPDATE public.tm_people SET name = 'x'; END $$;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) AS rows_left, min(name) AS unchanged FROM tm_people;

-- 8. A masked role holding the key, with 'none' for it: clear, and only
-- with the key.
SET ROLE tm_keyed;
SELECT id, ssn FROM public.tm_people ORDER BY id;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT privacy.grant_key('tm_k', 'tm_keyed');
SET ROLE tm_keyed;
SELECT id, ssn, email FROM public.tm_people ORDER BY id;
RESET ROLE;

-- 9. A column added later is redacted through the table too.
ALTER TABLE tm_people ADD COLUMN phone text DEFAULT '+31 6 1234 5678';
SET ROLE tm_reader;
SELECT id, phone FROM public.tm_people ORDER BY id;
RESET ROLE;

-- 10. Consent: the view's filter applies to reads of a protected table.
SELECT privacy.create_purpose('tm_mkt', 'consent');
SELECT privacy.grant_purpose('tm_reader', 'tm_mkt');
CREATE TABLE tm_customers (id int PRIMARY KEY, subject text, email text);
INSERT INTO tm_customers VALUES (1, 's1', 'ann@example.com'), (2, 's2', 'bob@example.org');
SELECT privacy.protect_table('tm_customers', 'subject');
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id', 'subject']) c,
       LATERAL privacy.set_mask('tm_customers', c, 'none');
SELECT privacy.set_mask('tm_customers', 'email', 'email');
SELECT privacy.create_masking_view('tm_customers');
SELECT privacy.grant_consent('s1', 'tm_mkt');
SET ROLE tm_reader;
SELECT * FROM public.tm_customers ORDER BY id;       -- no purpose: no rows
SET privacy.purpose = 'tm_mkt';
SELECT * FROM public.tm_customers ORDER BY id;       -- s1 only
SELECT id FROM public.tm_customers WHERE pg_temp.peek(subject) ORDER BY id;
COPY public.tm_customers TO STDOUT;
RESET privacy.purpose;
RESET ROLE;

-- 11. Roles that are not masked are untouched; unmask_role ends it.
SELECT privacy.unmask_role('tm_reader');
SET ROLE tm_reader;
SELECT id, email FROM public.tm_people ORDER BY id;  -- its grant is back: clear
RESET ROLE;
SELECT privacy.mask_role('tm_reader');
SET ROLE tm_reader;
SELECT id, email FROM public.tm_people ORDER BY id;
RESET ROLE;

-- 12. The executor checks too, for paths without parse analysis: no
-- masked role reads a masked table with its own rights, even one that can
-- read every table again (pg_read_all_data).
GRANT pg_read_all_data TO tm_reader;
SET ROLE tm_reader;
SELECT id, email FROM public.tm_people ORDER BY id;   -- still masked
CREATE FUNCTION tm_reader_s.atomic_emails() RETURNS SETOF text LANGUAGE sql
BEGIN ATOMIC SELECT email FROM public.tm_people ORDER BY id; END;
SELECT tm_reader_s.atomic_emails();                  -- stored analysed, refused
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM tm_reader_s.early;                     -- its view from before
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT * FROM tm_reader_s.early;                     -- the view reads as its masked owner
\echo :LAST_ERROR_SQLSTATE
REVOKE pg_read_all_data FROM tm_reader;

DROP FUNCTION tm_emails(), tm_emails_sql(), tm_email_definer(int);
DROP SCHEMA tm_reader_s CASCADE;
DROP TABLE tm_people, tm_plain, tm_customers CASCADE;
SELECT privacy.unmask_role('tm_reader');
SELECT privacy.unmask_role('tm_keyed');
DROP OWNED BY tm_reader, tm_keyed;
DROP ROLE tm_reader, tm_keyed;
