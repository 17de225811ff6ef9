-- privacy.encrypted_text_det: AES-SIV, equality search, indexes, joins.
SELECT privacy.create_key('crm') > 0 AS created;
CREATE TABLE customers (id int PRIMARY KEY,
                        email privacy.encrypted_text_det('crm') UNIQUE,
                        country privacy.encrypted_text_det('crm'));
\d customers
INSERT INTO customers VALUES (1, 'ann@example.com', 'NL'), (2, 'bob@example.com', 'DE'),
                             (3, 'cy@example.com', 'NL'), (4, '', 'FR');
INSERT INTO customers SELECT g, 'user' || g || '@example.com', 'DE' FROM generate_series(5, 2000) g;
ANALYZE customers;

-- Deterministic: the same plaintext under the same key gives the same envelope.
SELECT privacy.encrypted_text_det_out('x'::privacy.encrypted_text_det('crm'))::text
     = privacy.encrypted_text_det_out('x'::text::privacy.encrypted_text_det('crm'))::text AS same_envelope;
SELECT octet_length(privacy.encrypted_text_det_send(email)) - octet_length(privacy.decrypt(email)) AS overhead
  FROM customers WHERE id = 1;

-- Equality with a literal; the literal is encrypted once, at plan time.
SELECT id FROM customers WHERE email = 'bob@example.com';
SELECT id FROM customers WHERE email = '';
SELECT id FROM customers WHERE email = 'nobody@example.com';
SELECT count(*) FROM customers WHERE email <> 'bob@example.com';
SET enable_seqscan = off;
CREATE FUNCTION plan_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(line, 'pxe1:[A-Za-z0-9+/=]+', 'pxe1:...', 'g');
  END LOOP;
END $$;
SELECT plan_of($$SELECT id FROM customers WHERE email = 'bob@example.com'$$);
-- A parameter is bound by a cast evaluated once per scan (generic plan).
SET plan_cache_mode = force_generic_plan;
PREPARE by_email(privacy.encrypted_text_det) AS SELECT id FROM customers WHERE email = $1;
SELECT plan_of('EXECUTE by_email(''ann@example.com'')');
EXECUTE by_email('ann@example.com');
EXECUTE by_email('cy@example.com');
PREPARE by_text(text) AS SELECT id FROM customers WHERE email = $1::privacy.encrypted_text_det('crm');
EXECUTE by_text('bob@example.com');
RESET plan_cache_mode;
-- Hash index, IN lists of typed values.
CREATE INDEX customers_country ON customers USING hash (country);
SELECT plan_of($$SELECT count(*) FROM customers WHERE country = 'NL'$$);
SELECT count(*) FROM customers WHERE country = 'NL';
SELECT id FROM customers
 WHERE email IN ('ann@example.com'::privacy.encrypted_text_det('crm'), 'cy@example.com'::privacy.encrypted_text_det('crm'))
 ORDER BY id;
-- Untyped IN lists and = ANY('{...}') are bound to the column's key before
-- planning (one key check per query level): an index search sorts them, a
-- list of 9 or more is hashed, hash partitions are pruned.
SELECT plan_of($$SELECT id FROM customers WHERE email IN ('ann@example.com', 'cy@example.com')$$);
SELECT id FROM customers WHERE email IN ('ann@example.com', 'cy@example.com') ORDER BY id;
-- Each form of list agrees with the same search on the decrypted values.
CREATE FUNCTION in_list_agrees(tbl text, n int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  lits text; arr text; want int[]; want_not int[]; got int[]; r text := '';
BEGIN
  SELECT string_agg(quote_literal(v), ', '), '{' || string_agg(v, ',') || '}'
    INTO lits, arr
    FROM (SELECT 'user' || g || '@example.com' AS v FROM generate_series(5, 4 + n) g) s;
  EXECUTE format('SELECT array_agg(id ORDER BY id) FROM %I WHERE privacy.decrypt(email) IN (%s)', tbl, lits) INTO want;
  EXECUTE format('SELECT array_agg(id ORDER BY id) FROM %I WHERE privacy.decrypt(email) NOT IN (%s)', tbl, lits) INTO want_not;
  EXECUTE format('SELECT array_agg(id ORDER BY id) FROM %I WHERE email IN (%s)', tbl, lits) INTO got;
  r := r || CASE WHEN got = want THEN 'in ok' ELSE 'in WRONG' END;
  EXECUTE format('SELECT array_agg(id ORDER BY id) FROM %I WHERE email NOT IN (%s)', tbl, lits) INTO got;
  r := r || CASE WHEN got = want_not THEN ', not in ok' ELSE ', not in WRONG' END;
  EXECUTE format('SELECT array_agg(id ORDER BY id) FROM %I WHERE email = ANY(%L)', tbl, arr) INTO got;
  r := r || CASE WHEN got = want THEN ', any ok' ELSE ', any WRONG' END;
  EXECUTE format('SELECT array_agg(id ORDER BY id) FROM %I WHERE email <> ALL(%L)', tbl, arr) INTO got;
  r := r || CASE WHEN got = want_not THEN ', all ok' ELSE ', all WRONG' END;
  RETURN format('%s, %s values (%s rows): %s', tbl, n, cardinality(want), r);
END $$;
-- With the unique index (seq scans off), then in sequential scans.
SELECT in_list_agrees('customers', n) FROM unnest('{2, 8, 9, 20}'::int[]) n;
RESET enable_seqscan;
SET enable_indexscan = off; SET enable_bitmapscan = off;
SELECT plan_of($$SELECT id FROM customers WHERE email NOT IN ('ann@example.com', 'cy@example.com')$$);
SELECT in_list_agrees('customers', n) FROM unnest('{2, 8, 9, 20}'::int[]) n;
RESET enable_indexscan; RESET enable_bitmapscan;
-- A HASH-partitioned table, pruned at plan time, without and with an index.
CREATE TABLE customers_hp (id int, email privacy.encrypted_text_det('crm')) PARTITION BY HASH (email);
CREATE TABLE customers_hp0 PARTITION OF customers_hp FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE customers_hp1 PARTITION OF customers_hp FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO customers_hp SELECT id, email FROM customers WHERE id BETWEEN 5 AND 60;
ANALYZE customers_hp;
SELECT (SELECT count(*) FROM plan_of($$SELECT id FROM customers_hp WHERE email IN ('user5@example.com', 'user6@example.com')$$) p
         WHERE p ~ 'Scan on customers_hp[01]')
     = (SELECT count(DISTINCT tableoid) FROM customers_hp
         WHERE privacy.decrypt(email) IN ('user5@example.com', 'user6@example.com')) AS pruned_at_plan_time;
SELECT in_list_agrees('customers_hp', n) FROM unnest('{2, 8, 9, 20}'::int[]) n;
CREATE INDEX ON customers_hp (email);
SET enable_seqscan = off;
SELECT in_list_agrees('customers_hp', n) FROM unnest('{2, 8, 9, 20}'::int[]) n;
-- Parameters in a list: bound in a custom plan, cast once per scan in a generic one.
PREPARE by_list(privacy.encrypted_text_det, privacy.encrypted_text_det) AS
  SELECT id FROM customers WHERE email IN ($1, $2) ORDER BY id;
EXECUTE by_list('ann@example.com', 'cy@example.com');
SET plan_cache_mode = force_generic_plan;
PREPARE by_list_generic(privacy.encrypted_text_det, privacy.encrypted_text_det) AS
  SELECT id FROM customers WHERE email IN ($1, $2) ORDER BY id;
EXECUTE by_list_generic('ann@example.com', 'cy@example.com');
-- An array parameter is not bound (its elements are known only at execution):
-- an index search cannot sort it; cast it to the column's type.
PREPARE by_array(privacy.encrypted_text_det[]) AS SELECT id FROM customers WHERE email = ANY($1) ORDER BY id;
EXECUTE by_array('{ann@example.com,cy@example.com}');
\echo :LAST_ERROR_SQLSTATE
PREPARE by_array_cast(privacy.encrypted_text_det[]) AS
  SELECT id FROM customers WHERE email = ANY($1::privacy.encrypted_text_det('crm')[]) ORDER BY id;
EXECUTE by_array_cast('{ann@example.com,cy@example.com}');
RESET plan_cache_mode;
RESET enable_seqscan;
DEALLOCATE by_list; DEALLOCATE by_list_generic; DEALLOCATE by_array; DEALLOCATE by_array_cast;
-- A plan holding a bound list fails once the key is destroyed.
SELECT privacy.create_key('crm_gone') > 0 AS created;
CREATE TABLE gone (id int, email privacy.encrypted_text_det('crm_gone'));
INSERT INTO gone VALUES (1, 'a'), (2, 'b');
PREPARE gone_list AS SELECT id FROM gone WHERE email IN ('a', 'b', 'c') ORDER BY id;
EXECUTE gone_list;
SELECT privacy.destroy_key('crm_gone', 'destroy crm_gone');
EXECUTE gone_list;
\echo :LAST_ERROR_SQLSTATE
DEALLOCATE gone_list;
DROP TABLE gone, customers_hp;
DELETE FROM privacy.data_keys WHERE name = 'crm_gone';
DROP FUNCTION in_list_agrees(text, int);

-- UNIQUE holds on the plaintext (the key shown is the envelope, not the plaintext).
\set VERBOSITY terse
INSERT INTO customers VALUES (9999, 'ann@example.com', 'NL');
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE

-- GROUP BY and joins between columns under the same key.
SELECT privacy.decrypt(country) AS country, count(*) FROM customers GROUP BY country ORDER BY 1;
CREATE TABLE orders (order_id int, customer_email privacy.encrypted_text_det('crm'));
INSERT INTO orders VALUES (10, 'ann@example.com'), (11, 'ann@example.com'), (12, 'cy@example.com'), (13, 'zed@example.com');
SELECT o.order_id, c.id FROM orders o JOIN customers c ON c.email = o.customer_email ORDER BY 1;
SET enable_hashjoin = off; SET enable_nestloop = off;
SELECT o.order_id, c.id FROM orders o JOIN customers c ON c.email = o.customer_email ORDER BY 1;
RESET enable_hashjoin; RESET enable_nestloop;

-- Values under different keys are never equal (documented result).
CREATE TABLE other (email privacy.encrypted_text_det('pay'));
INSERT INTO other VALUES ('ann@example.com');
SELECT count(*) AS matches FROM other o JOIN customers c ON c.email = o.email;
SELECT 'ann@example.com'::privacy.encrypted_text_det('pay') = 'ann@example.com'::privacy.encrypted_text_det('crm') AS equal_across_keys;
-- The key cast remembers its last value per key: one value cast to two keys
-- in one statement is under each key.
SELECT k.name, privacy.envelope_key_id(privacy.encrypted_text_det('same'::privacy.encrypted_text_det, k.id, false)) = k.id AS under_its_key
  FROM (SELECT name, id FROM privacy.keys WHERE name IN ('crm', 'pay') ORDER BY name) k;

-- Decryption follows grants, as for the randomized types.
CREATE ROLE regress_px_det_reader;
GRANT SELECT ON customers TO regress_px_det_reader;
SET ROLE regress_px_det_reader;
SELECT id FROM customers WHERE email = 'bob@example.com';   -- equality needs no key grant
SELECT privacy.decrypt(email) FROM customers WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT privacy.grant_key('crm', 'regress_px_det_reader');
SET ROLE regress_px_det_reader;
SELECT privacy.decrypt(email), email::text FROM customers WHERE id = 1;
RESET ROLE;

-- Rotation does not change deterministic values: they stay under version 1.
SELECT privacy.rotate_key('crm');
INSERT INTO customers VALUES (5000, 'after-rotation@example.com', 'NL');
SELECT id, privacy.envelope_key_version(email) FROM customers WHERE id IN (1, 5000) ORDER BY id;
SELECT id FROM customers WHERE email = 'after-rotation@example.com';
SELECT privacy.reencrypt('customers', 'email');

-- Bad input, as for the randomized types.
SELECT NULL::privacy.encrypted_text_det('crm') IS NULL AS null_ok,
       privacy.decrypt(NULL::privacy.encrypted_text_det) IS NULL AS decrypt_null;
CREATE TABLE big (v privacy.encrypted_text_det('crm'));   -- too large for a btree entry
INSERT INTO big VALUES (repeat('x', 1048576)), ('small');
SELECT length(privacy.decrypt(v)) FROM big WHERE v = repeat('x', 1048576)::privacy.encrypted_text_det('crm');
DROP TABLE big;
INSERT INTO customers VALUES (6001, 'Zoë 東京 🙂', 'JP');
SELECT id, privacy.decrypt(email) FROM customers WHERE email = 'Zoë 東京 🙂';
CREATE FUNCTION det_env(privacy.encrypted_text_det) RETURNS bytea LANGUAGE sql IMMUTABLE
  AS $$ SELECT decode(substr(privacy.encrypted_text_det_out($1)::text, 6), 'base64') $$;
CREATE FUNCTION det_try(literal text, typ text DEFAULT 'privacy.encrypted_text_det') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format('SELECT privacy.decrypt(%L::%s)::text', literal, typ) INTO r;
  RETURN 'accepted, decrypts to: ' || r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE TABLE det_sample AS SELECT det_env(email) AS e FROM customers WHERE id = 1;
CREATE FUNCTION det_armor(bytea) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT 'pxe1:' || translate(encode($1, 'base64'), E'\n', '') $$;
SELECT det_try(det_armor(e)) FROM det_sample;
SELECT det_try('pxe1:AAAA');
SELECT det_try(det_armor(substr(e, 1, 26))) FROM det_sample;
SELECT det_try(det_armor(substr(e, 1, length(e) - 1))) FROM det_sample;
SELECT det_try(det_armor(set_bit(e, 8 * 12, 1 - get_bit(e, 8 * 12)))) FROM det_sample;
SELECT det_try(det_armor(set_bit(e, 8 * 30, 1 - get_bit(e, 8 * 30)))) FROM det_sample;
SELECT det_try(det_armor(set_byte(e, 2, 1))) FROM det_sample;
-- A det value pasted into a randomized column and back.
SELECT det_try(det_armor(e), 'privacy.encrypted_text') FROM det_sample;
SELECT det_try(privacy.encrypted_text_out(privacy.encrypt('x', 'crm'))::text) ;
SELECT det_try(privacy.encrypted_text_out(privacy.encrypt('x', 'crm'))::text, 'privacy.encrypted_text_det');
SELECT det_try(det_armor(set_byte(e, 1, 1)), 'privacy.encrypted_text') FROM det_sample;

DROP TABLE customers, orders, other, det_sample;
DROP FUNCTION det_env(privacy.encrypted_text_det), det_try(text, text), det_armor(bytea), plan_of(text);
SELECT privacy.revoke_key('crm', 'regress_px_det_reader');
DROP OWNED BY regress_px_det_reader;
DROP ROLE regress_px_det_reader;
