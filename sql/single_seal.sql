-- One seal per value on every write path (src/types/literal_binding.c).
-- privacy.crypto_counters() counts this backend's seals and opens; each
-- check prints how many a statement made.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS privacy_ext;
RESET client_min_messages;
SELECT privacy.create_key('ss') > 0 AS created;
CREATE TABLE ss_t (id int PRIMARY KEY, v privacy.encrypted_text('ss'),
                   d privacy.encrypted_text_det('ss'), b privacy.encrypted_bytea('ss'));
CREATE FUNCTION ss_mark() RETURNS text LANGUAGE sql AS
  $$ SELECT seals || '/' || opens FROM privacy.crypto_counters() $$;
CREATE FUNCTION ss_since(mark text) RETURNS text LANGUAGE sql AS $$
  SELECT (seals - split_part(mark, '/', 1)::bigint) || ' seals, ' ||
         (opens - split_part(mark, '/', 2)::bigint) || ' opens'
    FROM privacy.crypto_counters() $$;

-- Literals: one seal per value, nothing opened.
SELECT ss_mark() AS m \gset
INSERT INTO ss_t VALUES (1, 'one', 'det-one', '\x01');
SELECT ss_since(:'m') AS literal_row_of_three;
SELECT ss_mark() AS m \gset
INSERT INTO ss_t (id, v) VALUES (2, 'two'), (3, 'three'), (4, 'four');
SELECT ss_since(:'m') AS multirow_values;
SELECT ss_mark() AS m \gset
UPDATE ss_t SET v = 'two again' WHERE id = 2;
SELECT ss_since(:'m') AS update_literal;
SELECT ss_mark() AS m \gset
WITH w AS (INSERT INTO ss_t (id, v) VALUES (5, 'in a cte') RETURNING id) SELECT count(*) FROM w;
SELECT ss_since(:'m') AS insert_in_cte;
SELECT ss_mark() AS m \gset
INSERT INTO ss_t (id, v) VALUES (5, 'x') ON CONFLICT (id) DO UPDATE SET v = 'upserted';
SELECT ss_since(:'m') AS on_conflict_two_literals;
SELECT ss_mark() AS m \gset
MERGE INTO ss_t USING (VALUES (5), (50)) s(id) ON ss_t.id = s.id
  WHEN MATCHED THEN UPDATE SET v = 'merged'
  WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, 'merge inserted');
SELECT ss_since(:'m') AS merge_two_literals, (SELECT string_agg(v::text, ', ' ORDER BY id) FROM ss_t WHERE id IN (5, 50)) AS merged;
DELETE FROM ss_t WHERE id = 50;
SELECT ss_mark() AS m \gset
DO $$ BEGIN INSERT INTO ss_t (id, v) VALUES (6, 'from DO'); END $$;
SELECT ss_since(:'m') AS do_block;
-- Typed text, INSERT ... SELECT and COPY: one seal per value.
SELECT ss_mark() AS m \gset
INSERT INTO ss_t (id, v) SELECT g, 'row ' || g FROM generate_series(100, 109) g;
SELECT ss_since(:'m') AS insert_select_ten_rows;
SELECT ss_mark() AS m \gset
UPDATE ss_t SET v = 'row ' || id || ' updated' WHERE id BETWEEN 100 AND 104;
SELECT ss_since(:'m') AS update_expression_five_rows;
SELECT ss_mark() AS m \gset
COPY ss_t (id, v, d) FROM stdin;
200	copied one	det copied
201	copied two	det copied
\.
SELECT ss_since(:'m') AS copy_two_rows_two_columns;
SELECT ss_mark() AS m \gset
INSERT INTO ss_t (id, v) VALUES (7, 'seven'::text);
SELECT ss_since(:'m') AS typed_text;
-- Bind parameters whose type is left open (PREPARE without types here;
-- the extended protocol with type 0 from drivers) and that only feed an
-- encrypted column are typed privacy.encrypted_input and sealed once.
PREPARE ss_untyped AS INSERT INTO ss_t (id, v, d, b) VALUES ($1, $2, $3, $4);
SELECT parameter_types FROM pg_prepared_statements WHERE name = 'ss_untyped';
SELECT ss_mark() AS m \gset
EXECUTE ss_untyped(9, 'nine', 'det nine', '\x09');
EXECUTE ss_untyped(10, 'ten', 'det ten', '\x0a');
SELECT ss_since(:'m') AS untyped_parameters_two_rows;
-- An envelope given as a parameter is checked and kept, not encrypted again.
SELECT privacy.encrypted_text_out(v)::text AS nine_env FROM ss_t WHERE id = 9 \gset
SELECT ss_mark() AS m \gset
EXECUTE ss_untyped(11, :'nine_env', NULL, NULL);
SELECT ss_since(:'m') AS envelope_parameter, (SELECT v::text FROM ss_t WHERE id = 11) AS value;
EXECUTE ss_untyped(12, 'pxe1:not-an-envelope', NULL, NULL);
-- A parameter also used elsewhere keeps the column's type.
PREPARE ss_twice AS INSERT INTO ss_t (id, v) VALUES ($1, $2) RETURNING $2 IS NULL AS returned_null;
SELECT parameter_types FROM pg_prepared_statements WHERE name = 'ss_twice';
EXECUTE ss_twice(13, 'thirteen');
SELECT v::text FROM ss_t WHERE id = 13;
-- The type never shows a value.
SELECT 'plaintext'::privacy.encrypted_input AS shown;

-- An explicit cast of a literal still seals twice (in transit, then under
-- the key): the parser calls the type's input before it knows the key.
SELECT ss_mark() AS m \gset
INSERT INTO ss_t (id, v) VALUES (8, 'eight'::privacy.encrypted_text('ss'));
SELECT ss_since(:'m') AS explicit_cast;

-- Every value reads back.
SELECT id, v::text, d::text, b::bytea FROM ss_t ORDER BY id;

-- Randomized envelopes stay randomized: a literal stored on many rows, or
-- by a statement run many times, gets a fresh nonce each time.
INSERT INTO ss_t (id, v) SELECT g, 'same' FROM generate_series(300, 304) g;
PREPARE ss_ins(int) AS INSERT INTO ss_t (id, v) VALUES ($1, 'same');
EXECUTE ss_ins(305); EXECUTE ss_ins(306);
BEGIN; EXECUTE ss_ins(307); EXECUTE ss_ins(308); COMMIT;
CREATE FUNCTION ss_loop() RETURNS void LANGUAGE plpgsql AS $$
BEGIN FOR i IN 309..311 LOOP INSERT INTO ss_t (id, v) VALUES (i, 'same'); END LOOP; END $$;
SELECT ss_loop();
SELECT count(*) AS rows, count(DISTINCT privacy.encrypted_text_out(v)::text) AS distinct_envelopes,
       count(DISTINCT v::text) AS distinct_plaintexts
  FROM ss_t WHERE id BETWEEN 300 AND 311;
-- Deterministic envelopes are equal by design.
INSERT INTO ss_t (id, d) SELECT g, 'det same' FROM generate_series(400, 402) g;
SELECT count(DISTINCT privacy.encrypted_text_det_out(d)::text) AS distinct_det_envelopes
  FROM ss_t WHERE id BETWEEN 400 AND 402;

-- A prepared statement follows a rotation: its literal is sealed again
-- under the key's new version (the plan depends on the key tables).
SELECT privacy.rotate_key('ss') AS new_version;
EXECUTE ss_ins(500);
SELECT privacy.envelope_key_version(v) AS version_after_rotation FROM ss_t WHERE id = 500;
DELETE FROM ss_t WHERE id BETWEEN 309 AND 311;
SELECT ss_loop();
SELECT count(*) FILTER (WHERE privacy.envelope_key_version(v) = 2) AS loop_rows_under_version_2
  FROM ss_t WHERE id BETWEEN 309 AND 311;
-- ... and after the version it was sealed under is dropped, a prepared
-- statement and a PL/pgSQL function still store values that decrypt.
SELECT privacy.create_key('ss_drop') > 0 AS created;
CREATE TABLE ss_v (id int PRIMARY KEY, v privacy.encrypted_text('ss_drop'));
PREPARE ss_ins_v(int) AS INSERT INTO ss_v VALUES ($1, 'kept through a drop');
CREATE FUNCTION ss_ins_f(i int) RETURNS void LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO ss_v VALUES (i, 'kept through a drop'); END $$;
SELECT privacy.rotate_key('ss_drop') AS new_version;
EXECUTE ss_ins_v(1); SELECT ss_ins_f(2);
SELECT privacy.rotate_key('ss_drop') AS new_version;
SELECT privacy.reencrypt('ss_v'::regclass, 'v') AS reencrypted;
SELECT privacy.drop_key_version('ss_drop', 2) AS dropped_version_2;
EXECUTE ss_ins_v(3); SELECT ss_ins_f(4);
SELECT id, v::text, privacy.envelope_key_version(v) FROM ss_v ORDER BY id;

-- Where a literal cannot wait for its key it is sealed in transit first, as
-- before, and still lands under the column's key: rules, SQL-standard
-- function bodies, domains, arrays.
CREATE TABLE ss_r (id int);
CREATE RULE ss_rule AS ON INSERT TO ss_r DO ALSO INSERT INTO ss_t (id, v) VALUES (NEW.id, 'from a rule');
INSERT INTO ss_r VALUES (600);
CREATE FUNCTION ss_atomic(i int) RETURNS void LANGUAGE sql
  BEGIN ATOMIC INSERT INTO ss_t (id, v) VALUES (i, 'from an atomic body'); END;
SELECT ss_atomic(601);
-- A LANGUAGE sql function with a string body: the planner's attempt to
-- inline it analyses the body without binding its literals (clauses.c),
-- which left them pending and made the commit fail; its execution binds
-- them, and the values land under the column's key.
CREATE FUNCTION ss_sqlfn(i int) RETURNS void LANGUAGE sql
  AS $$ INSERT INTO ss_t (id, v) VALUES (i, 'from a sql function') $$;
SELECT ss_sqlfn(602);
CREATE FUNCTION ss_sqlfn_upd(i int) RETURNS void LANGUAGE sql
  AS $$ UPDATE ss_t SET v = 'updated by a sql function' WHERE id = i $$;
SELECT ss_sqlfn_upd(602);
CREATE FUNCTION ss_sqlfn_set(i int) RETURNS SETOF int LANGUAGE sql
  AS $$ INSERT INTO ss_t (id, v) VALUES (i, 'from a set-returning sql function') RETURNING id $$;
SELECT * FROM ss_sqlfn_set(603);
SELECT id, privacy.decrypt(v), privacy.envelope_key_id(v) = (SELECT key_id FROM privacy.data_keys WHERE name = 'ss') AS under_column_key
  FROM ss_t WHERE id BETWEEN 601 AND 603 ORDER BY id;
CREATE DOMAIN ss_dom AS privacy.encrypted_text('ss');
CREATE TABLE ss_d (id int, v ss_dom);
INSERT INTO ss_d VALUES (1, 'through a domain');
CREATE TABLE ss_a (id int, v privacy.encrypted_text('ss')[]);
INSERT INTO ss_a VALUES (1, '{first,second}');
UPDATE ss_a SET v[2] = 'second again';
SELECT id, v::text FROM ss_t WHERE id IN (600, 601) ORDER BY id;
SELECT v::privacy.encrypted_text::text FROM ss_d;
SELECT (SELECT string_agg(e::text, ',') FROM unnest(v) e) AS elements FROM ss_a;

-- Nothing pending survives a failed statement or subtransaction, and the
-- next statement and the commit work.
INSERT INTO ss_t (id, v) VALUES ('not a number', 'secret literal');
BEGIN;
DO $$ BEGIN
  INSERT INTO ss_t (id, v) VALUES (700, 'kept');
  BEGIN INSERT INTO ss_t (id, v) VALUES (1, 'duplicate key'); EXCEPTION WHEN unique_violation THEN NULL; END;
END $$;
COMMIT;
SELECT v::text FROM ss_t WHERE id = 700;

-- Bad and edge input: empty, multibyte, huge, malformed armor.
INSERT INTO ss_t (id, v, d) VALUES (800, '', ''), (801, 'héllo wörld ✓ 日本', '日本');
INSERT INTO ss_t (id, v) VALUES (802, repeat('x', 1000000));
SELECT id, length(v::text), d::text FROM ss_t WHERE id IN (800, 801, 802) ORDER BY id;
INSERT INTO ss_t (id, v) VALUES (803, 'pxe1:not-an-envelope');
INSERT INTO ss_t (id, v) VALUES (804, NULL);
SELECT v IS NULL AS null_stays_null FROM ss_t WHERE id = 804;

-- The plan shows the sealed literal, never the plaintext.
CREATE TEMP TABLE ss_plan (line text);
DO $$ DECLARE l text; BEGIN
  FOR l IN EXPLAIN (VERBOSE, COSTS OFF) INSERT INTO ss_t (id, v) VALUES (900, 'do not print me') LOOP
    INSERT INTO ss_plan VALUES (l);
  END LOOP; END $$;
SELECT bool_or(line LIKE '%bound_literal%') AS bound, bool_and(line NOT LIKE '%print me%') AS no_plaintext
  FROM ss_plan;

-- A masked role's statement that reads a masked table is analysed again
-- (transparent masking): its literals are bound by that analysis, once.
CREATE TABLE ss_emp (id int, name text);
INSERT INTO ss_emp VALUES (1, 'Ann'), (2, 'Bob');
SELECT privacy.set_mask('ss_emp', 'id', 'none');
SELECT privacy.set_mask('ss_emp', 'name', 'partial(1, ''***'', 0)');
SELECT privacy.create_masking_view('ss_emp') IS NOT NULL AS view_made;
CREATE TABLE ss_notes (id int, secret privacy.encrypted_text('ss'));
CREATE ROLE ss_masked;
GRANT INSERT, SELECT ON ss_notes TO ss_masked;
SELECT privacy.mask_role('ss_masked');
SET ROLE ss_masked;
SELECT ss_mark() AS m \gset
INSERT INTO ss_notes SELECT id, 'a literal' FROM ss_emp;
INSERT INTO ss_notes SELECT id, name FROM ss_emp;
INSERT INTO ss_notes VALUES ((SELECT max(id) FROM ss_emp) + 10, 'values literal');
SELECT ss_since(:'m') AS five_values_through_transparent_masking;
RESET ROLE;
SELECT id, secret::text FROM ss_notes ORDER BY id, 2;
SELECT privacy.unmask_role('ss_masked');
DROP TABLE ss_notes;
DROP VIEW masked.ss_emp;
DROP TABLE ss_emp;
DROP ROLE ss_masked;

DROP FUNCTION ss_mark(), ss_since(text), ss_loop(), ss_atomic(int), ss_ins_f(int);
DROP TABLE ss_t, ss_r, ss_d, ss_a, ss_v;
DROP DOMAIN ss_dom;

-- privacy.bound_literal() is callable from SQL (plans run it as any role):
-- given anything but an encrypted value it refuses, before reading the
-- datum as an envelope (a pass-by-value argument crashed the backend).
CREATE ROLE ss_nobody;
SET ROLE ss_nobody;
SELECT privacy.bound_literal(1, 'pg_class');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.bound_literal(12345678901::bigint, 'pg_class');
SELECT privacy.bound_literal(true, 'pg_class');
SELECT privacy.bound_literal('2020-01-01'::timestamptz, 'pg_class');
SELECT privacy.bound_literal('x'::"char", 'pg_class');
SELECT privacy.bound_literal('not an envelope'::text, 'pg_class');
SELECT privacy.bound_literal('\x0102'::bytea, 'pg_class');
SELECT privacy.bound_literal(NULL::int, 'pg_class') IS NULL AS strict_null;
RESET ROLE;
DROP ROLE ss_nobody;
-- anything but a literal is refused: on a column it would re-encrypt stored
-- values for a role without the key
SELECT privacy.decrypt(privacy.bound_literal(privacy.encrypt('round trip', 'ss'), 'pg_class'));
\echo :LAST_ERROR_SQLSTATE
