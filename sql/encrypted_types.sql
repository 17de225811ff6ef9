-- privacy.encrypted_text / privacy.encrypted_bytea: storage, text form, casts.
CREATE TABLE staff (id int PRIMARY KEY, name text,
                    ssn privacy.encrypted_text('hr'),
                    photo privacy.encrypted_bytea('hr'));
\d staff

-- Plaintext is encrypted on the way in: literal, typed text, bytea.
INSERT INTO staff VALUES (1, 'Ann', '123-45-6789', '\xdeadbeef');
INSERT INTO staff SELECT 2, 'Bob', '987-65-4321'::text, '\x00ff'::bytea;
PREPARE ins(int, text, text) AS INSERT INTO staff (id, name, ssn) VALUES ($1, $2, $3);
EXECUTE ins(3, 'Cy', 'from a parameter');

-- The stored form is the envelope: armor prefix, 38 bytes of overhead.
SELECT id,
       left(privacy.encrypted_text_out(ssn)::text, 5) AS prefix,
       length(privacy.encrypted_text_out(ssn)::text)
         = 5 + 4 * ceil((38 + octet_length(privacy.decrypt(ssn))) / 3.0) AS armor_len_ok,
       privacy.encrypted_text_out(ssn)::text NOT LIKE '%' || privacy.decrypt(ssn) || '%' AS no_plaintext,
       privacy.envelope_key_id(ssn) = (SELECT k.id FROM privacy.keys k WHERE k.name = 'hr') AS under_hr,
       privacy.envelope_key_version(ssn) AS key_version
  FROM staff ORDER BY id;

-- Decryption: privacy.decrypt() and the explicit casts.
SELECT id, privacy.decrypt(ssn), ssn::text, privacy.decrypt(photo), photo::bytea FROM staff ORDER BY id;

-- Randomized: the same plaintext never gives the same envelope.
INSERT INTO staff (id, name, ssn) SELECT g, 'same', 'same plaintext' FROM generate_series(10, 14) g;
SELECT count(DISTINCT privacy.encrypted_text_out(ssn)::text) AS distinct_envelopes,
       count(DISTINCT privacy.decrypt(ssn)) AS distinct_plaintexts
  FROM staff WHERE name = 'same';

-- The envelope's text form round-trips through the input function, as a
-- literal or untyped parameter does (what pg_dump relies on).  A value
-- typed as text, by contrast, is always plaintext and gets encrypted.
CREATE FUNCTION from_armor(text) RETURNS privacy.encrypted_text LANGUAGE plpgsql AS $$
DECLARE r privacy.encrypted_text;
BEGIN EXECUTE format('SELECT %L::privacy.encrypted_text', $1) INTO r; RETURN r; END $$;
CREATE TABLE staff_copy (id int, ssn privacy.encrypted_text('hr'));
INSERT INTO staff_copy SELECT id, from_armor(privacy.encrypted_text_out(ssn)::text) FROM staff WHERE id <= 3;
SELECT privacy.decrypt(privacy.encrypted_text_out(ssn)::text::privacy.encrypted_text('hr')) LIKE 'pxe1:%' AS typed_text_is_plaintext
  FROM staff WHERE id = 1;
SELECT c.id, privacy.encrypted_text_out(c.ssn)::text = privacy.encrypted_text_out(s.ssn)::text AS same_envelope,
       privacy.decrypt(c.ssn)
  FROM staff_copy c JOIN staff s USING (id) ORDER BY c.id;

-- COPY in encrypts plaintext under the column's key (it passes the type modifier).
\copy staff_copy FROM stdin
100	plaintext through copy
\.
SELECT privacy.decrypt(ssn), privacy.envelope_key_id(ssn) > 0 AS bound FROM staff_copy WHERE id = 100;

-- UPDATE re-encrypts; rotation: new writes use the new version, old ones still decrypt.
UPDATE staff SET ssn = 'updated' WHERE id = 2;
SELECT privacy.rotate_key('hr') AS new_version \gset
INSERT INTO staff (id, name, ssn) VALUES (20, 'after rotation', 'v-new');
SELECT id, privacy.envelope_key_version(ssn) = :new_version AS on_new_version, privacy.decrypt(ssn)
  FROM staff WHERE id IN (1, 2, 20) ORDER BY id;

-- privacy.encrypt() names the key explicitly.
SELECT privacy.decrypt(privacy.encrypt('explicit', 'pay'));
SELECT privacy.decrypt(privacy.encrypt('\x0102'::bytea, 'pay'));

-- A value under one key cannot be stored in a column for another key
-- (re-encrypting it would let a role move ciphertext to a key it holds).
CREATE TABLE pay_table (v privacy.encrypted_text('pay'));
INSERT INTO pay_table SELECT ssn FROM staff WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO pay_table VALUES (privacy.encrypt('x', 'hr'));
\echo :LAST_ERROR_SQLSTATE
INSERT INTO pay_table SELECT privacy.decrypt(ssn) FROM staff WHERE id = 1;   -- explicit re-encryption
SELECT privacy.decrypt(v), privacy.envelope_key_id(v) = (SELECT id FROM privacy.keys WHERE name = 'pay') AS under_pay
  FROM pay_table;

-- Typed input not yet bound to a key is a transit value: it cannot be decrypted.
SELECT privacy.envelope_key_id('loose'::privacy.encrypted_text);
SELECT privacy.decrypt('loose'::privacy.encrypted_text);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.decrypt('bound'::privacy.encrypted_text('hr'));

-- A column without a key modifier gets privacy.default_key, pinned at DDL time.
CREATE TABLE nodefault (v privacy.encrypted_text);
\echo :LAST_ERROR_SQLSTATE
-- So is one made by CREATE SCHEMA ... CREATE TABLE (tag CREATE SCHEMA).
CREATE SCHEMA nodefault_s CREATE TABLE staff (id int, ssn privacy.encrypted_text);
\echo :LAST_ERROR_SQLSTATE
-- A column of a view's (or any relation's) row type with an unkeyed
-- encrypted field would store unbound values: refused, as are the columns
-- of a row type that CREATE OR REPLACE VIEW gives such a field.
CREATE VIEW person_shape AS SELECT NULL::privacy.encrypted_text AS ssn;
CREATE TABLE people (id int, p person_shape);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE people (id int, p person_shape[]);
CREATE TYPE person_pair AS (a person_shape);
CREATE TABLE people (id int);
ALTER TABLE people ADD COLUMN p person_shape;
CREATE TABLE people_as AS SELECT NULL::person_shape AS p;
CREATE VIEW grown_shape AS SELECT 1 AS id;
CREATE TABLE people_grown (p grown_shape);
CREATE OR REPLACE VIEW grown_shape AS SELECT 1 AS id, NULL::privacy.encrypted_text AS ssn;
\echo :LAST_ERROR_SQLSTATE
CREATE OR REPLACE VIEW grown_shape AS SELECT 1 AS id, NULL::privacy.encrypted_text('hr') AS ssn;
SELECT relid, column_name, key_id = (SELECT id FROM privacy.keys WHERE name = 'hr') AS under_hr
  FROM privacy.encrypted_columns WHERE relid = 'people_grown'::regclass;
DROP TABLE people, people_grown;
DROP VIEW person_shape, grown_shape;
-- A range over an encrypted type is refused: no key's scans follow its bounds.
CREATE TYPE det_range AS RANGE (subtype = privacy.encrypted_text_det);
\echo :LAST_ERROR_SQLSTATE
SET privacy.default_key = 'pay';
CREATE TABLE withdefault (id int, v privacy.encrypted_text, b privacy.encrypted_bytea);
\d withdefault
ALTER TABLE withdefault ADD COLUMN w privacy.encrypted_text;
INSERT INTO withdefault VALUES (1, 'defaulted', 'abc', 'w');
CREATE TABLE ctas AS SELECT id, v FROM withdefault;
CREATE TABLE ctas2 AS SELECT 'literal'::privacy.encrypted_text AS v;
CREATE SCHEMA withdefault_s CREATE TABLE staff (id int, ssn privacy.encrypted_text);
\d withdefault_s.staff
DROP SCHEMA withdefault_s CASCADE;
RESET privacy.default_key;
SET privacy.default_key = 'hr';   -- changing the setting does not change existing columns
INSERT INTO withdefault VALUES (2, 'still pay');
RESET privacy.default_key;
SELECT id, privacy.decrypt(v), privacy.envelope_key_id(v) = (SELECT id FROM privacy.keys WHERE name = 'pay') AS under_pay
  FROM withdefault ORDER BY id;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid IN ('ctas'::regclass, 'ctas2'::regclass) AND attname = 'v';
SELECT privacy.decrypt(v) FROM ctas2;

-- A column default holding a literal works from any session (transit key is cluster-wide).
CREATE TABLE withdefaultexpr (id int, v privacy.encrypted_text('hr') DEFAULT 'n/a');
INSERT INTO withdefaultexpr (id) VALUES (1);
\c
INSERT INTO withdefaultexpr (id) VALUES (2);
SELECT id, privacy.decrypt(v) FROM withdefaultexpr ORDER BY id;

-- Parallel workers decrypt too (decrypt is PARALLEL SAFE).
SET force_parallel_mode = on;
SELECT count(*) FILTER (WHERE privacy.decrypt(ssn) = 'same plaintext') FROM staff;
RESET force_parallel_mode;

-- No equality or ordering on randomized ciphertext: predicates must decrypt.
SELECT id FROM staff WHERE ssn = '123-45-6789';
SELECT id FROM staff WHERE privacy.decrypt(ssn) = '123-45-6789';

-- ANALYZE keeps no plaintext (and no values at all) in pg_stats.
ANALYZE staff;
SELECT attname, most_common_vals IS NULL AS no_mcv, histogram_bounds IS NULL AS no_histogram
  FROM pg_stats WHERE tablename = 'staff' AND attname IN ('ssn', 'photo') ORDER BY attname;
