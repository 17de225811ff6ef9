-- Typed string parameters as drivers send them (varchar from pgJDBC's
-- setString, text from psycopg 3's binary parameters), and CREATE TABLE AS
-- / SELECT INTO with encrypted expressions.
CREATE ROLE ct_app;
SELECT privacy.create_key('ct_hr') > 0 AS created, privacy.create_key('ct_pay') > 0 AS created;
CREATE TABLE ct_people (id int PRIMARY KEY,
                        email privacy.encrypted_text_det('ct_hr'),
                        ssn privacy.encrypted_text('ct_hr'));
CREATE INDEX ct_people_email ON ct_people (email);
CREATE INDEX ct_people_email_hash ON ct_people USING hash (email);
INSERT INTO ct_people SELECT g, 'user' || g || '@example.com', 'ssn-' || g FROM generate_series(1, 300) g;

-- varchar into encrypted columns, as a bind parameter and as an expression
PREPARE ct_ins(int, varchar, varchar) AS INSERT INTO ct_people VALUES ($1, $2, $3);
EXECUTE ct_ins(1001, 'varchar@example.com', 'ssn-varchar');
INSERT INTO ct_people VALUES (1002, 'zoë-東京@example.com'::varchar, ''::varchar(10));
INSERT INTO ct_people VALUES (1003, NULL::varchar, NULL::varchar);
SELECT id, privacy.decrypt(email), privacy.decrypt(ssn) FROM ct_people WHERE id > 1000 ORDER BY id;
SELECT privacy.envelope_key_id(email) = privacy.envelope_key_id(ssn) AS same_key FROM ct_people WHERE id = 1001;
ANALYZE ct_people;

-- det = text / varchar: found, through the index, with the plaintext sealed
-- into the plan (EXPLAIN shows no plaintext)
SELECT id FROM ct_people WHERE email = 'user42@example.com'::text;
SELECT id FROM ct_people WHERE email = 'user42@example.com'::varchar;
SELECT id FROM ct_people WHERE 'user43@example.com'::varchar = email;
SELECT id FROM ct_people WHERE email = 'zoë-東京@example.com'::text;
SELECT count(*) FROM ct_people WHERE email = ''::text;
SELECT count(*) FROM ct_people WHERE email = NULL::text;
SELECT count(*) FROM ct_people WHERE email <> 'user1@example.com'::text;
SELECT count(*) FROM ct_people WHERE 'user1@example.com'::text <> email;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
CREATE FUNCTION ct_plan(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; plan text := '';
BEGIN
    FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || sql LOOP plan := plan || r || ' '; END LOOP;
    RETURN plan;
END $$;
SELECT ct_plan($q$SELECT id FROM ct_people WHERE email = 'user42@example.com'::varchar$q$) ~ 'Index Scan' AS uses_index,
       ct_plan($q$SELECT id FROM ct_people WHERE email = 'user42@example.com'::varchar$q$) !~ 'user42' AS no_plaintext_in_plan;
-- bind parameters, custom and generic plans
PREPARE ct_by_varchar(varchar) AS SELECT id FROM ct_people WHERE email = $1;
PREPARE ct_by_text(text) AS SELECT id FROM ct_people WHERE $1 = email;
EXECUTE ct_by_varchar('user7@example.com');
EXECUTE ct_by_text('user8@example.com');
SET plan_cache_mode = force_generic_plan;
SELECT ct_plan('EXECUTE ct_by_varchar(''user7@example.com'')') ~ 'Index Scan' AS generic_uses_index;
EXECUTE ct_by_varchar('user9@example.com');
EXECUTE ct_by_text('varchar@example.com');
EXECUTE ct_by_text(NULL);
RESET plan_cache_mode;
RESET enable_seqscan;
RESET enable_bitmapscan;
-- joins against a text column, and = ANY over a text array
CREATE TABLE ct_lookup (mail text);
INSERT INTO ct_lookup VALUES ('user1@example.com'), ('user2@example.com'), ('nobody@example.com'), (NULL);
SELECT p.id FROM ct_people p JOIN ct_lookup l ON p.email = l.mail ORDER BY 1;
SELECT id FROM ct_people WHERE email = ANY (ARRAY['user3@example.com', 'user4@example.com']::text[]) ORDER BY 1;
-- the plaintext is compared as plaintext, even when it looks like an envelope
SELECT count(*) FROM ct_people WHERE email = (SELECT format('%s', email) FROM ct_people WHERE id = 5);
SELECT (SELECT format('%s', email) FROM ct_people WHERE id = 5) LIKE 'pxe1:%' AS looks_like_envelope;
SELECT count(*) FROM ct_people WHERE email = (SELECT privacy.decrypt(email) FROM ct_people WHERE id = 5);
-- no key to compare under: an unbound literal of the det type
SELECT 'x'::privacy.encrypted_text_det = 'x'::text;
-- a role without the key can look up (equality needs no grant, as with literals) but not decrypt
GRANT SELECT ON ct_people TO ct_app;
SET ROLE ct_app;
SELECT id FROM ct_people WHERE email = 'user42@example.com'::varchar;
SELECT privacy.decrypt(ssn) FROM ct_people WHERE email = 'user42@example.com'::varchar;
RESET ROLE;
-- a destroyed key: no more lookups by plaintext
SELECT privacy.create_key('ct_gone') > 0 AS created;
CREATE TABLE ct_gone_t (e privacy.encrypted_text_det('ct_gone'));
INSERT INTO ct_gone_t VALUES ('a');
PREPARE ct_gone_q AS SELECT count(*) FROM ct_gone_t WHERE e = 'a'::text;
EXECUTE ct_gone_q;
SELECT privacy.destroy_key('ct_gone', confirm => 'destroy ct_gone');
-- a plan prepared before, with the value sealed into it
EXECUTE ct_gone_q;
SELECT count(*) FROM ct_gone_t WHERE e = 'a'::text;
SELECT count(*) FROM (SELECT e FROM ct_gone_t) s WHERE s.e = 'a'::varchar;

-- CREATE TABLE AS / SELECT INTO: the column takes the key its values are under
CREATE TABLE ct_src (id int, v text);
INSERT INTO ct_src VALUES (1, 'one'), (2, 'two');
CREATE TABLE ct_ctas AS SELECT id, privacy.encrypt(v, 'ct_hr') AS e FROM ct_src;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ct_ctas'::regclass AND attname = 'e';
SELECT id, privacy.decrypt(e) FROM ct_ctas ORDER BY id;
INSERT INTO ct_ctas VALUES (3, 'three');
SELECT privacy.envelope_key_id(e) = (SELECT id FROM privacy.keys WHERE name = 'ct_hr') AS under_ct_hr FROM ct_ctas WHERE id = 3;
SELECT id, e INTO ct_into FROM ct_ctas;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ct_into'::regclass AND attname = 'e';
CREATE TABLE ct_det AS SELECT email FROM ct_people WHERE id < 3;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ct_det'::regclass AND attname = 'email';
-- values under two keys: refused, nothing created
CREATE TABLE ct_mixed AS SELECT id, privacy.encrypt(v, CASE id WHEN 1 THEN 'ct_hr' ELSE 'ct_pay' END) AS e FROM ct_src;
SELECT to_regclass('ct_mixed');
-- no values and no default key: refused; with a default key: that key
CREATE TABLE ct_empty AS SELECT id, privacy.encrypt(v, 'ct_hr') AS e FROM ct_src WHERE false;
SET privacy.default_key = 'ct_pay';
CREATE TABLE ct_empty AS SELECT id, privacy.encrypt(v, 'ct_hr') AS e FROM ct_src WHERE false;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ct_empty'::regclass AND attname = 'e';
-- an unbound literal is bound by the default key, like any column's input
CREATE TABLE ct_lit AS SELECT 'literal'::privacy.encrypted_text AS e;
SELECT format_type(atttypid, atttypmod), (SELECT privacy.decrypt(e) FROM ct_lit) FROM pg_attribute
 WHERE attrelid = 'ct_lit'::regclass AND attname = 'e';
RESET privacy.default_key;
-- a materialized view still has to name the key in its query
CREATE MATERIALIZED VIEW ct_mv AS SELECT privacy.encrypt(v, 'ct_hr') AS e FROM ct_src;
CREATE MATERIALIZED VIEW ct_mv AS SELECT privacy.encrypt(v, 'ct_hr')::privacy.encrypted_text('ct_hr') AS e FROM ct_src;
SELECT count(privacy.decrypt(e)) FROM ct_mv;

DROP MATERIALIZED VIEW ct_mv;
DROP TABLE ct_people, ct_lookup, ct_gone_t, ct_src, ct_ctas, ct_into, ct_det, ct_empty, ct_lit;
DROP FUNCTION ct_plan(text);
DROP ROLE ct_app;
