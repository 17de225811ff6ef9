-- privacy.apply_mask() masks only in the plan of a query.  PostgreSQL
-- evaluates some expressions without planning a query (CHECK constraints of
-- domains and tables, trigger WHEN conditions, CALL and EXECUTE arguments,
-- ALTER TABLE ... USING), and inlines SQL functions there unchecked: there a
-- call, direct or through a wrapper, would mask a value of its caller's
-- choosing.  It is refused (42501); the plan's calls run the twins in
-- schema privacy_planned, which no role but the extension's owner may use.
SELECT privacy.create_key('pq_pseudo') > 0 AS created, privacy.create_key('pq_hr') > 0 AS created;
CREATE TABLE pq_emp (id int PRIMARY KEY, name text, salary int, ssn privacy.encrypted_text('pq_hr'));
INSERT INTO pq_emp VALUES (1, 'Ann Smith', 51234, '123-45-6789');
SELECT privacy.set_mask('pq_emp', 'id', 'none'), privacy.set_mask('pq_emp', 'name', 'hash(''pq_pseudo'')'),
       privacy.set_mask('pq_emp', 'salary', 'noise(0.1)'), privacy.set_mask('pq_emp', 'ssn', 'partial(0, ''***-**-'', 4)');
SELECT privacy.create_masking_view('pq_emp');
CREATE TABLE pq_other (secret privacy.encrypted_text('pq_hr'));
INSERT INTO pq_other VALUES ('TOP-SECRET-1234');
CREATE ROLE pq_support;
GRANT SELECT ON pq_emp TO pq_support;
SELECT privacy.mask_role('pq_support');
CREATE ROLE pq_nokey;
GRANT SELECT ON pq_other TO pq_nokey;
GRANT CREATE ON SCHEMA public TO pq_support, pq_nokey;

SET ROLE pq_support;
-- Masked reads work, by every path that plans a query: the view, a SQL
-- function the planner inlines, a cursor, PL/pgSQL, a parallel plan.
SELECT id, length(name) AS hash_length, salary BETWEEN 46110 AND 56358 AS salary_near, ssn FROM pq_emp;
CREATE FUNCTION public.pq_ssns() RETURNS SETOF text LANGUAGE sql STABLE AS $$ SELECT ssn FROM masked.pq_emp $$;
SELECT * FROM public.pq_ssns();
BEGIN;
DECLARE pq_c CURSOR FOR SELECT ssn FROM pq_emp;
FETCH pq_c;
COMMIT;
DO $$DECLARE v text; BEGIN SELECT ssn INTO v FROM pq_emp; RAISE NOTICE 'PL/pgSQL reads %', v; END$$;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*) FROM masked.pq_emp WHERE ssn = '***-**-6789';
SELECT count(*) AS masked_rows FROM masked.pq_emp WHERE ssn = '***-**-6789';
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- A wrapper, inlined where no query is planned: a domain's CHECK, a table's
-- CHECK, a trigger's WHEN.  Each would quote the pseudonym of 'Ann Smith'.
CREATE FUNCTION public.pq_m(x anyelement, col name) RETURNS text LANGUAGE sql
    AS $$ SELECT privacy.apply_mask(x, 'public.pq_emp'::regclass, col)::text $$;
CREATE DOMAIN public.pq_probe AS text CHECK (public.pq_m(VALUE, 'name')::int IS NULL);
SELECT 'Ann Smith'::public.pq_probe;
CREATE TABLE public.pq_mine (v text CHECK (public.pq_m(v, 'name')::int IS NULL));
INSERT INTO public.pq_mine VALUES ('Ann Smith');
CREATE TABLE public.pq_plain (v text);
CREATE FUNCTION public.pq_trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER pq_t BEFORE INSERT ON public.pq_plain FOR EACH ROW
    WHEN (public.pq_m(NEW.v, 'salary')::int IS NULL) EXECUTE FUNCTION public.pq_trg();
INSERT INTO public.pq_plain VALUES ('51234');
DROP TRIGGER pq_t ON public.pq_plain;
INSERT INTO public.pq_plain VALUES ('Ann Smith');
-- Written directly: the arguments of CALL and EXECUTE, ALTER TABLE ... USING.
CREATE PROCEDURE public.pq_p(x text) LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE 'got %', x; END$$;
CALL public.pq_p(privacy.apply_mask('Ann Smith'::text, 'pq_emp'::regclass, 'name'::name));
CALL public.pq_p(public.pq_m(51234, 'salary'));
PREPARE pq_q(text) AS SELECT $1;
EXECUTE pq_q(privacy.apply_mask('Ann Smith'::text, 'pq_emp'::regclass, 'name'::name));
ALTER TABLE public.pq_plain ALTER v TYPE text USING privacy.apply_mask(v, 'pq_emp'::regclass, 'name'::name);
SELECT v FROM public.pq_plain;
-- The twins cannot be named, directly or in a wrapper.
SELECT privacy_planned.apply_mask('Ann Smith'::text, 'pq_emp'::regclass, 'name'::name);
CREATE DOMAIN public.pq_probe2 AS text
    CHECK (privacy_planned.apply_mask(VALUE, 'pq_emp'::regclass, 'name'::name) IS NULL);
CREATE FUNCTION public.pq_m2(x anyelement) RETURNS text LANGUAGE sql
    AS $$ SELECT privacy_planned.apply_mask(x, 'public.pq_emp'::regclass, 'name')::text $$;
SELECT public.pq_m2('Ann Smith'::text);
CREATE DOMAIN public.pq_probe3 AS text CHECK (public.pq_m2(VALUE) IS NULL);
SELECT 'Ann Smith'::public.pq_probe3;
-- Inlined by the planner, which the check before planning must foresee:
-- a call that leaves a defaulted argument out or names its arguments, an
-- operator's function (also through IS DISTINCT FROM and NULLIF), with
-- the body unchecked at CREATE FUNCTION.
SET check_function_bodies = off;
CREATE FUNCTION public.pq_d(v text, unused int DEFAULT 0) RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT privacy.apply_mask($1, 'public.pq_emp'::regclass, 'name'::name) $$;
SELECT public.pq_d('Ann Smith');
SELECT public.pq_d(unused => 1, v => 'Ann Smith');
CREATE FUNCTION public.pq_o(v text, unused int) RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT privacy.apply_mask($1, 'public.pq_emp'::regclass, 'name'::name) $$;
CREATE OPERATOR public.### (FUNCTION = public.pq_o, LEFTARG = text, RIGHTARG = int);
SELECT 'Ann Smith'::text OPERATOR(public.###) 0;
CREATE FUNCTION public.pq_eq(v text, w int) RETURNS boolean LANGUAGE sql STABLE
    AS $$ SELECT privacy.apply_mask($1, 'public.pq_emp'::regclass, 'name'::name) IS NULL $$;
CREATE OPERATOR public.= (FUNCTION = public.pq_eq, LEFTARG = text, RIGHTARG = int);
SELECT 'Ann Smith'::text IS DISTINCT FROM 0;
SELECT NULLIF('Ann Smith'::text, 0);
RESET check_function_bodies;
RESET ROLE;

-- A role without the key and without access to pq_emp cannot have another
-- table's ciphertext under the same key decrypted and masked by its rule.
SET ROLE pq_nokey;
SELECT privacy.decrypt(secret) FROM pq_other;
CREATE FUNCTION public.pq_m3(x anyelement) RETURNS text LANGUAGE sql
    AS $$ SELECT privacy.apply_mask(x, 'public.pq_emp'::regclass, 'ssn'::name)::text $$;
CREATE DOMAIN public.pq_probe_ct AS privacy.encrypted_text('pq_hr') CHECK (public.pq_m3(VALUE)::int IS NULL);
SELECT secret::public.pq_probe_ct FROM pq_other;
RESET ROLE;

-- The owner's plan shows the twin; privacy.apply_mask itself refuses.
EXPLAIN (COSTS OFF, VERBOSE) SELECT ssn FROM masked.pq_emp;
SELECT privacy.apply_mask('x'::text, 'pq_emp'::regclass, 'name'::name) FROM pq_emp;
CALL public.pq_p(privacy.apply_mask('Ann Smith'::text, 'pq_emp'::regclass, 'name'::name));

DROP OWNED BY pq_support, pq_nokey CASCADE;
SELECT privacy.unmask_role('pq_support');
REVOKE ALL ON pq_emp FROM pq_support;
REVOKE ALL ON pq_other FROM pq_nokey;
DROP ROLE pq_support, pq_nokey;
DROP VIEW masked.pq_emp;
DROP TABLE pq_emp, pq_other;
