-- Memory safety of stored rules: the canonical text that set_mask() stores
-- is exactly the rule given (canonicalized), byte for byte, and nothing of
-- the backend's memory after it.  A 'value' rule once stored the bytes that
-- followed its canonical text on the stack (issue 22).
SET client_min_messages = warning;
CREATE TABLE mrm_t (id int, c text, n int, d date);
SELECT privacy.create_key('mrm_k') > 0 AS created;

-- What the canonical text must be, computed in SQL.
CREATE FUNCTION mrm_expected(constant text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT 'value ''' || replace(constant, '''', '''''') || '''' $$;

-- Store a 'value' rule for column c, read it back, compare it.
CREATE FUNCTION mrm_store(constant text) RETURNS TABLE (stored_ok boolean, octets_ok boolean, valid_utf8 boolean)
LANGUAGE plpgsql AS $$
DECLARE
    stored text;
BEGIN
    PERFORM privacy.drop_mask('mrm_t', 'c');
    PERFORM privacy.set_mask('mrm_t', 'c', mrm_expected(constant));
    SELECT m.rule INTO stored FROM privacy.mask_rules m
     WHERE m.relid = 'mrm_t'::regclass AND m.column_name = 'c' AND m.role_name IS NULL;
    stored_ok := convert_to(stored, 'UTF8') = convert_to(mrm_expected(constant), 'UTF8');
    octets_ok := octet_length(stored) = octet_length(mrm_expected(constant));
    -- text_to_cstring/strlen would stop at a NUL; a stray byte is not valid text here
    valid_utf8 := convert_from(convert_to(stored, 'UTF8'), 'UTF8') = stored;
    RETURN NEXT;
END
$$;

-- The cases of the report, multibyte text, quotes inside, and every length
-- from 0 to 70 (a stray byte depends on what the stack held after the rule).
SELECT constant, (mrm_store(constant)).*
  FROM (VALUES ('7'), ('abc'), ('GMASKCONST'), (''), ('''') , ('it''s ''quoted'''),
               ('Ünïcödé €'), ('日本語テキスト'), ('😀 emoji'), ('a''''b')) v(constant);
SELECT count(*) AS lengths,
       count(*) FILTER (WHERE r.stored_ok AND r.octets_ok AND r.valid_utf8) AS exact
  FROM generate_series(0, 70) len, mrm_store(repeat('x', len)) r;
SELECT count(*) AS lengths,
       count(*) FILTER (WHERE r.stored_ok AND r.octets_ok AND r.valid_utf8) AS exact
  FROM generate_series(1, 60) len, mrm_store(repeat('é''', len)) r;
-- The longest constant (256 bytes; every one a quote: 512 doubled) and one byte more.
SELECT (mrm_store(repeat('q', 256))).*;
SELECT (mrm_store(repeat('''', 256))).*;
SELECT octet_length(rule) FROM privacy.mask_rules WHERE relid = 'mrm_t'::regclass AND column_name = 'c';
-- A rule one byte too long is refused, and the stored one stays.
SET client_min_messages = notice;
DO $$
BEGIN
    PERFORM privacy.set_mask('mrm_t', 'c', mrm_expected(repeat('q', 257)));
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE NOTICE 'refused: %', SQLERRM;
END
$$;
SELECT octet_length(rule) FROM privacy.mask_rules WHERE relid = 'mrm_t'::regclass AND column_name = 'c';

-- check_mask_rule() directly: its result is its own fixed point, twice over,
-- with exact lengths, for every kind of rule.
SELECT r, octet_length(c1) AS octets, c1,
       c1 = c2 AND convert_to(c1, 'UTF8') = convert_to(c2, 'UTF8') AS idempotent,
       c2 = c3 AND octet_length(c2) = octet_length(c3) AS twice
  FROM (VALUES ('none', 'text'), ('NULL', 'text'), (' redact ', 'int4'), ('Email', 'text'),
               ('credit_card', 'text'), ('partial( 2 , ''**''''**'' , 3 )', 'text'),
               ('hash(''mrm_k'')', 'text'), ('generalize(10)', 'int4'), ('generalize(0.1)', 'float8'),
               ('generalize(''month'')', 'date'), ('noise( 0.5 )', 'numeric'),
               ('value ''GMASKCONST''', 'text'), ('value ''42''', 'int4'),
               ('value ''2020-01-01''', 'date'), ('value ''ß''''ø''', 'varchar'))
       v(r, t),
       LATERAL (SELECT privacy.check_mask_rule(r, t::regtype) AS c1) a,
       LATERAL (SELECT privacy.check_mask_rule(c1, t::regtype) AS c2) b,
       LATERAL (SELECT privacy.check_mask_rule(c2, t::regtype) AS c3) c;
SELECT count(*) AS lengths,
       count(*) FILTER (WHERE octet_length(privacy.check_mask_rule(mrm_expected(repeat('ä', len)), 'text'))
                              = octet_length(mrm_expected(repeat('ä', len)))
                          AND privacy.check_mask_rule(privacy.check_mask_rule(mrm_expected(repeat('ä', len)), 'text'), 'text')
                              = mrm_expected(repeat('ä', len))) AS exact
  FROM generate_series(0, 128) len;

-- Bad input: clear errors, nothing stored.
SELECT privacy.check_mask_rule('value ''unterminated', 'text');
SELECT privacy.check_mask_rule('value', 'text');
SELECT privacy.check_mask_rule('', 'text');
SELECT privacy.check_mask_rule('value ''x'' trailing', 'text');
SELECT privacy.check_mask_rule('value ''abc''', 'int4');
SELECT privacy.check_mask_rule(NULL, 'text') IS NULL AS null_is_null;

-- The masking view returns the stored constant exactly.
INSERT INTO mrm_t VALUES (1, 'secret', 5, '2021-03-04');
SELECT privacy.drop_mask('mrm_t', 'c');
SELECT privacy.set_mask('mrm_t', 'c', 'value ''GMASKCONST''');
SELECT privacy.set_mask('mrm_t', 'n', 'value ''7''');
SELECT privacy.create_masking_view('mrm_t');
CREATE ROLE regress_mrm_reader;
GRANT USAGE ON SCHEMA masked TO regress_mrm_reader;
GRANT SELECT ON masked.mrm_t TO regress_mrm_reader;
SET ROLE regress_mrm_reader;
SELECT c, octet_length(c) AS octets, n FROM masked.mrm_t;
RESET ROLE;

-- A dump of the rules reads back as valid text: every stored rule parses.
SELECT count(*) AS rules, count(*) FILTER (WHERE privacy.check_mask_rule(rule, a.atttypid) = rule) AS canonical
  FROM privacy.mask_rules m JOIN pg_attribute a ON a.attrelid = m.relid AND a.attnum = m.attnum
 WHERE m.relid = 'mrm_t'::regclass;

DELETE FROM privacy.masking_views WHERE relid = 'mrm_t'::regclass;
SELECT privacy.drop_mask('mrm_t', 'c');
SELECT privacy.drop_mask('mrm_t', 'n');
REVOKE USAGE ON SCHEMA masked FROM regress_mrm_reader;
DROP VIEW masked.mrm_t;
DROP TABLE mrm_t;
DROP FUNCTION mrm_store(text);
DROP FUNCTION mrm_expected(text);
DROP ROLE regress_mrm_reader;
