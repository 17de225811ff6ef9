-- Personal-data discovery: privacy.detect_personal_data() on a fixture
-- schema of 39 columns, 19 personal and 20 decoys (order numbers that fail
-- Luhn, product codes, version strings...), with precision and recall;
-- columns already handled; privileges, row level security; bad input;
-- adopting findings into classify and set_mask.
CREATE SCHEMA disc;
SET search_path = disc, public;
CREATE TABLE customers AS
SELECT i AS id,
       'user' || i || '@example.com' AS email,
       (ARRAY['Ann', 'John', 'Marie', 'Hans', 'Carlos', 'Lucia', 'Sophie', 'Klaus'])[i % 8 + 1] AS first_name,
       (ARRAY['Smith', 'Dupont', 'Müller', 'Garcia', 'Schmidt', 'Lopez', 'Fischer', 'Moreau'])[i % 8 + 1] AS last_name,
       format('+33 1 23 45 %s %s', lpad((i % 100)::text, 2, '0'), lpad((i * 7 % 100)::text, 2, '0')) AS phone,
       date '1950-01-01' + i * 53 AS birth_date,
       lpad((i * 137 % 99999)::text, 5, '0') AS zip,
       (i * 13 % 90 + 10)::numeric(10, 2) AS balance,            -- decoy
       (ARRAY['shipped', 'pending', 'cancelled'])[i % 3 + 1] AS status   -- decoy
  FROM generate_series(1, 300) i;
CREATE TABLE payments AS
SELECT i AS id,
       (ARRAY['4111 1111 1111 1111', '5555555555554444', '378282246310005', '4012888888881881',
              '6011111111111117', '3056 930902 5904', '5105105105105100', '4222222222222'])[i % 8 + 1] AS card_number,
       (ARRAY['DE89370400440532013000', 'GB82 WEST 1234 5698 7654 32', 'FR1420041010050500013M02606',
              'NL91ABNA0417164300', 'ES9121000418450200051332'])[i % 5 + 1] AS iban,
       '4' || lpad((i * 7919)::text, 15, '0') AS order_number,      -- decoy: mostly not Luhn-valid
       'ORD-2024-' || lpad(i::text, 6, '0') AS order_ref,           -- decoy
       now() - i * interval '1 day' AS created_at,                  -- decoy
       2024000000000 + i * 31 AS sku_number                         -- decoy
  FROM generate_series(1, 300) i;
CREATE TABLE staff AS
SELECT i AS id,
       format('%s-%s-%s', 100 + i % 500, lpad((10 + i % 89)::text, 2, '0'), 1000 + i * 17 % 9000) AS ssn,
       format('%s/%s/%s', lpad((i % 28 + 1)::text, 2, '0'), lpad((i % 12 + 1)::text, 2, '0'), 1960 + i % 40) AS dob,
       'T-' || (1000 + i) AS ticket_no,                             -- decoy
       2024000000 + i AS badge_number,                              -- decoy
       md5(i::text) AS checksum,                                    -- decoy
       date '1995-01-01' + i * 37 AS hired_on                       -- decoy: dates of adults' years
  FROM generate_series(1, 200) i;
CREATE TABLE access_log AS
SELECT i AS id,
       format('10.%s.%s.%s', i % 256, i * 7 % 256, i * 13 % 256) AS client_ip,
       '2001:db8::' || to_hex(i) || ':' || to_hex(i * 4099 % 65536) AS source,
       format('%s.%s.%s', i % 5, i % 17, i % 9) AS app_version,    -- decoy: version strings
       format('web-%s.example.com', lpad((i % 40)::text, 2, '0')) AS server,   -- decoy
       jsonb_build_object('contact', jsonb_build_object('mail', 'p' || i || '@example.org'),
                          'tags', jsonb_build_array('a', 'b')) AS profile,
       jsonb_build_object('sku', 'SKU-' || i, 'qty', i % 9) AS payload   -- decoy
  FROM generate_series(1, 200) i;
CREATE TABLE products AS
SELECT i AS id,
       format('SKU-%s%s-%s', chr(65 + i % 26), chr(65 + i * 3 % 26), i % 10) AS product_code,   -- decoy
       (ARRAY['Deluxe Office Chair', 'Standing Desk', 'Monitor Arm', 'Cable Tray'])[i % 4 + 1] AS product_name,  -- decoy
       (ARRAY['Red', 'Rose', 'Olive', 'Amber', 'Blue', 'Black', 'White', 'Grey'])[i % 8 + 1] AS color,  -- decoy
       'A sturdy item, version ' || i % 7 AS description,           -- decoy
       format('>=%s.%s.0', i % 3, i % 11) AS compatible_with,       -- decoy
       (i * 3 % 50) AS quantity                                     -- decoy
  FROM generate_series(1, 120) i;
-- Names by column name in French, German, Spanish and pinyin.
CREATE TABLE personnes AS
SELECT i AS id, (ARRAY['Pierre', 'Sophie', 'Marie', 'Bernard'])[i % 4 + 1] AS "prénom",
       (ARRAY['Dupont', 'Moreau', 'Bernard', 'Martin'])[i % 4 + 1] AS nom_de_famille,
       10000 + i * 37 AS postleitzahl
  FROM generate_series(1, 50) i;
CREATE TABLE personen AS
SELECT i AS id, (ARRAY['Müller', 'Schmidt', 'Fischer', 'Weber'])[i % 4 + 1] AS nachname
  FROM generate_series(1, 50) i;
CREATE TABLE clientes AS
SELECT i AS id, (ARRAY['Carlos Garcia', 'Lucia Fernandez', 'Elena Lopez'])[i % 3 + 1] AS nombre_completo
  FROM generate_series(1, 50) i;
CREATE TABLE kehu AS
SELECT i AS id, (ARRAY['Wang Wei', 'Li Na', 'Zhang Min', 'Chen Jie', 'Liu Yang'])[i % 5 + 1] AS xingming
  FROM generate_series(1, 50) i;
ANALYZE customers, payments, staff, access_log, products, personnes, personen, clientes, kehu;
RESET search_path;

-- The truth: which columns hold personal data.
CREATE TABLE disc.truth (tbl text, col name, personal boolean);
INSERT INTO disc.truth VALUES
 ('disc.customers', 'email', true), ('disc.customers', 'first_name', true),
 ('disc.customers', 'last_name', true), ('disc.customers', 'phone', true),
 ('disc.customers', 'birth_date', true), ('disc.customers', 'zip', true),
 ('disc.customers', 'balance', false), ('disc.customers', 'status', false),
 ('disc.payments', 'card_number', true), ('disc.payments', 'iban', true),
 ('disc.payments', 'order_number', false), ('disc.payments', 'order_ref', false),
 ('disc.payments', 'created_at', false), ('disc.payments', 'sku_number', false),
 ('disc.staff', 'ssn', true), ('disc.staff', 'dob', true),
 ('disc.staff', 'ticket_no', false), ('disc.staff', 'badge_number', false), ('disc.staff', 'checksum', false),
 ('disc.staff', 'hired_on', false),
 ('disc.access_log', 'client_ip', true), ('disc.access_log', 'source', true),
 ('disc.access_log', 'app_version', false), ('disc.access_log', 'server', false),
 ('disc.access_log', 'profile', true), ('disc.access_log', 'payload', false),
 ('disc.products', 'product_code', false), ('disc.products', 'product_name', false),
 ('disc.products', 'color', false), ('disc.products', 'description', false),
 ('disc.products', 'compatible_with', false), ('disc.products', 'quantity', false),
 ('disc.personnes', 'prénom', true), ('disc.personnes', 'nom_de_famille', true),
 ('disc.personnes', 'postleitzahl', true), ('disc.personen', 'nachname', true),
 ('disc.clientes', 'nombre_completo', true), ('disc.kehu', 'xingming', true),
 ('disc.payments', 'id', false);
SELECT count(*) AS columns, count(*) FILTER (WHERE personal) AS personal,
       count(*) FILTER (WHERE NOT personal) AS decoys FROM disc.truth;

CREATE TABLE disc.found AS
SELECT d.* FROM privacy.detect_personal_data() d WHERE d.table_name::text LIKE 'disc.%';
SELECT table_name, column_name, category, round(confidence::numeric, 2) AS confidence,
       suggested_level, suggested_rule
  FROM disc.found ORDER BY table_name::text, column_name;
-- Precision and recall over the 39 columns of the truth table; the query after
-- next shows any finding outside it (the other id columns).
SELECT count(*) FILTER (WHERE t.personal AND f.column_name IS NOT NULL) AS true_positives,
       count(*) FILTER (WHERE NOT t.personal AND f.column_name IS NOT NULL) AS false_positives,
       count(*) FILTER (WHERE t.personal AND f.column_name IS NULL) AS false_negatives,
       round(count(*) FILTER (WHERE t.personal AND f.column_name IS NOT NULL)::numeric
             / nullif(count(*) FILTER (WHERE f.column_name IS NOT NULL), 0), 3) AS precision,
       round(count(*) FILTER (WHERE t.personal AND f.column_name IS NOT NULL)::numeric
             / nullif(count(*) FILTER (WHERE t.personal), 0), 3) AS recall
  FROM disc.truth t LEFT JOIN disc.found f ON f.table_name::text = t.tbl AND f.column_name = t.col;
SELECT (tp::numeric / (tp + fp)) >= 0.9 AS precision_ok, (tp::numeric / (tp + fn)) >= 0.9 AS recall_ok
  FROM (SELECT count(*) FILTER (WHERE t.personal AND f.column_name IS NOT NULL) AS tp,
               count(*) FILTER (WHERE NOT t.personal AND f.column_name IS NOT NULL) AS fp,
               count(*) FILTER (WHERE t.personal AND f.column_name IS NULL) AS fn
          FROM disc.truth t LEFT JOIN disc.found f ON f.table_name::text = t.tbl AND f.column_name = t.col) s;
-- Every finding of the fixture is in the truth table (nothing found elsewhere in it).
SELECT f.table_name, f.column_name FROM disc.found f
 WHERE NOT EXISTS (SELECT 1 FROM disc.truth t WHERE t.tbl = f.table_name::text AND t.col = f.column_name);
-- Every suggested rule is one set_mask accepts for the column.
SELECT f.table_name, f.column_name, f.suggested_rule
  FROM disc.found f JOIN pg_attribute a ON a.attrelid = f.table_name AND a.attname = f.column_name
 WHERE privacy.check_mask_rule(f.suggested_rule, a.atttypid) IS DISTINCT FROM f.suggested_rule;
-- No sampled value appears in any finding.
SELECT count(*) AS findings_quoting_values FROM disc.found f
 WHERE f.category ~ '[@0-9]' OR f.suggested_level ~ '[@0-9]'
    OR f.suggested_rule ~ '@|Smith|Dupont|4111|DE89|10\.';
DROP TABLE disc.found;

-- Columns already handled are reported as such, never sampled: an
-- encrypted column (never decrypted; through domains and arrays too), a
-- classified one, a masked one; the others are judged as usual (nickname).
SELECT privacy.create_key('disc_k') > 0 AS created;
CREATE DOMAIN disc.mail AS privacy.encrypted_text('disc_k');
CREATE DOMAIN disc.mail_again AS disc.mail;
CREATE TABLE disc.members (id int, email privacy.encrypted_text('disc_k'), mail_alt text,
                           phone text, nickname text, mail_dd disc.mail_again, mails disc.mail[]);
INSERT INTO disc.members
SELECT i, 'm' || i || '@example.com', 'alt' || i || '@example.com', '+49 30 1234 ' || (1000 + i), 'Ann',
       'd' || i || '@example.com', ARRAY['a' || i || '@example.com']::disc.mail[]
  FROM generate_series(1, 20) i;
SELECT privacy.classify('disc.members', 'mail_alt', 'personal', 'contact');
SELECT privacy.set_mask('disc.members', 'phone', 'partial(0, ''****'', 2)');
-- With its key destroyed, any attempt to decrypt the encrypted column would fail.
SELECT privacy.destroy_key('disc_k', 'destroy disc_k');
SELECT table_name, column_name, category, confidence, suggested_level, suggested_rule
  FROM privacy.detect_personal_data() WHERE table_name = 'disc.members'::regclass
 ORDER BY column_name;

-- Bad input: no positive sample size; a huge one reads whole tables.
SELECT count(*) FROM privacy.detect_personal_data(0);
SELECT count(*) FROM privacy.detect_personal_data(-5);
SELECT count(*) FROM privacy.detect_personal_data(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) = (SELECT count(*) FROM privacy.detect_personal_data(1000) WHERE table_name::text LIKE 'disc.%')
       AS same_findings FROM privacy.detect_personal_data(2147483647) WHERE table_name::text LIKE 'disc.%';
-- Values: huge ones (not even detoasted), blank ones (not counted), multibyte text, nested jsonb.
SELECT privacy.detect_value_categories(repeat('ann@example.com ', 100000)) AS huge,
       privacy.detect_value_categories('  ') IS NULL AS blank_uncounted,
       privacy.detect_value_categories('') IS NULL AS empty_uncounted,
       privacy.detect_value_categories(' ann@example.com ') AS padded_email,
       privacy.detect_value_categories('ünïcödé 😀') AS multibyte,
       privacy.detect_jsonb_categories('{"k": ["x", {"m": "4111 1111 1111 1111"}], "e": "a@b.example"}') AS nested_jsonb,
       privacy.detect_jsonb_categories('[1, true, null]') IS NULL AS jsonb_without_strings;
-- One valid value a cast would fail on does not lose its table: json read
-- as json (\u0000, a number past numeric's range, surrogate pairs, escaped
-- quotes and backslashes; keys are not values), dates written without a
-- cast to timestamp (date '300000-01-01'), a timestamptz at the end of the
-- range read where its local time is past it.
SELECT privacy.detect_json_categories('{"k": ["x", {"m": "4111 1111 1111 1111"}], "e": "a@b.example"}') AS nested_json,
       privacy.detect_json_categories('{"a@b.example": 1, "n": 1e1000000}') IS NULL AS keys_are_not_values,
       privacy.detect_json_categories('"a\u0040b.example"') AS escaped,
       privacy.detect_json_categories('["\u0000", " "]') IS NULL AS nul_and_blank_uncounted,
       privacy.detect_json_categories('{"a\"b\\": "\\u0000", "s": "\ud83d\ude00"}') AS other_strings,
       privacy.detect_date_categories(date '1980-05-05') = privacy.detect_value_categories('1980-05-05') AS date_as_text,
       privacy.detect_date_categories(date '300000-01-01') AS beyond_timestamps,
       privacy.detect_date_categories('infinity') IS NULL AS infinite_uncounted;
CREATE TABLE disc.events (id int, payload json, contact text, seen date, born date, born_at timestamptz);
INSERT INTO disc.events
SELECT i, json_build_object('mail', 'u' || i || '@example.org'), 'u' || i || '@example.org', date '2020-01-01',
       date '1960-01-01' + i * 100, timestamptz '1960-01-01 12:00+00' + i * interval '100 days'
  FROM generate_series(1, 50) i;
INSERT INTO disc.events VALUES (51, '{"note": "\u0000", "n": 1e1000000}', 'x@example.org', date '300000-01-01',
                                date '300000-01-01', timestamptz '294276-12-31 23:00+00');
SET TimeZone = 'Pacific/Kiritimati';
SELECT table_name, column_name, category, round(confidence::numeric, 2) AS confidence
  FROM privacy.detect_personal_data() WHERE table_name = 'disc.events'::regclass ORDER BY column_name;
RESET TimeZone;
DROP TABLE disc.events;
-- One row sampled per table still judges (names carry the rest).
SELECT count(*) > 10 AS found_some FROM privacy.detect_personal_data(1) WHERE table_name::text LIKE 'disc.%';

-- Empty tables, empty strings, NULLs, multibyte text, names of any case.
CREATE TABLE disc.odd ("E-Mail Adresse" text, "Téléphone" text, blanks text, nulls text, emoji text, "ZIP" int);
INSERT INTO disc.odd SELECT 'x' || i || '@exämple.de', '+33 6 12 34 56 ' || (10 + i), '', NULL, '😀 ' || i, 75000 + i
  FROM generate_series(1, 30) i;
CREATE TABLE disc.empty (email text, first_name text, notes text);
SELECT table_name, column_name, category, round(confidence::numeric, 2) AS confidence
  FROM privacy.detect_personal_data() WHERE table_name IN ('disc.odd'::regclass, 'disc.empty'::regclass)
 ORDER BY table_name::text, column_name;

-- Numbers: SSNs and phones stored as numbers have the digits of one, which
-- back a name that says so (and no longer contradict it); the same digits
-- with no such name are not reported (ids, amounts, references).
CREATE TABLE disc.nums (id int, ssn integer, phone bigint, ssn_text text, ssn_bare text,
                        phone_digits text, ssn_lz integer, cell bigint, ssn_count int,
                        amount numeric, price numeric(12, 2), ref_number bigint, account bigint);
INSERT INTO disc.nums
SELECT g, 123450000 + g, 4915112345600 + g, '123-45-' || lpad(g::text, 4, '0'), (123450000 + g)::text,
       (14155552600 + g)::text, 12340000 + g, 33612345600 + g, g % 7,
       4915112345600 + g * 1000, g * 1234.5, 123450000 + g, 2024000000 + g
  FROM generate_series(1, 50) g;
SELECT column_name, category, round(confidence::numeric, 2) AS confidence, suggested_level, suggested_rule
  FROM privacy.detect_personal_data() WHERE table_name = 'disc.nums'::regclass ORDER BY column_name;
-- The same columns with nothing to sample: by name alone.
TRUNCATE disc.nums;
SELECT column_name, category, round(confidence::numeric, 2) AS confidence
  FROM privacy.detect_personal_data() WHERE table_name = 'disc.nums'::regclass ORDER BY column_name;
-- Values: formats are categories (bits 0 to 8), bare digits also digit shapes
-- (512: an SSN's, 1024: a phone's); a number's text restores an SSN's zeros.
SELECT v, privacy.detect_value_categories(v) AS as_text, privacy.detect_number_categories(v) AS as_number
  FROM unnest(ARRAY['123-45-6789', '123456789', '666456789', '12345678', '4915112345601', '+4915112345601',
                    '4111111111111111', '75008', '42', '12345.50', '-123456789', ' ']) v;
DROP TABLE disc.nums;

-- A partitioned table is sampled through its parent, once; a materialized
-- view like a table, or by names alone before its first refresh.
CREATE TABLE disc.parted (id int, email text) PARTITION BY RANGE (id);
CREATE TABLE disc.parted_1 PARTITION OF disc.parted FOR VALUES FROM (0) TO (100);
CREATE TABLE disc.parted_2 PARTITION OF disc.parted FOR VALUES FROM (100) TO (200);
INSERT INTO disc.parted SELECT i, 'p' || i || '@example.com' FROM generate_series(0, 199) i;
CREATE MATERIALIZED VIEW disc.mv AS SELECT email AS contact FROM disc.parted;
CREATE MATERIALIZED VIEW disc.mv_later AS SELECT email AS contact, email FROM disc.parted WITH NO DATA;
SELECT table_name, column_name, category, round(confidence::numeric, 2) AS confidence
  FROM privacy.detect_personal_data()
 WHERE table_name IN ('disc.parted'::regclass, 'disc.parted_1'::regclass, 'disc.parted_2'::regclass,
                      'disc.mv'::regclass, 'disc.mv_later'::regclass)
 ORDER BY table_name::text, column_name;

-- A non-administrator is refused.
CREATE ROLE regress_disc_nobody;
GRANT USAGE ON SCHEMA disc TO regress_disc_nobody;
SET ROLE regress_disc_nobody;
SELECT count(*) FROM privacy.detect_personal_data();
SELECT privacy.adopt_finding('disc.customers', 'email', 'email', 'personal', 'email');
SELECT privacy.adopt_findings();
RESET ROLE;

-- An administrator who may not read a table judges it by names only.  A
-- table the administrator may read is sampled as its owner, as ANALYZE
-- reads it: row level security applies as to the owner, who bypasses
-- policies not forced (disc.rls: every row is sampled).
CREATE ROLE regress_disc_admin;
GRANT privacy_admin TO regress_disc_admin;
GRANT USAGE ON SCHEMA disc TO regress_disc_admin;
CREATE TABLE disc.secret (id int, notes text, email text);
INSERT INTO disc.secret SELECT i, 'c' || i || '@example.com', 'e' || i || '@example.com' FROM generate_series(1, 50) i;
CREATE TABLE disc.rls (id int, notes text);
INSERT INTO disc.rls SELECT i, 'r' || i || '@example.com' FROM generate_series(1, 50) i;
ALTER TABLE disc.rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_even ON disc.rls USING (id % 2 = 0);
CREATE POLICY none_at_all ON disc.rls AS RESTRICTIVE USING (current_user <> 'regress_disc_admin');
GRANT SELECT ON disc.rls TO regress_disc_admin;
GRANT SELECT (id) ON disc.secret TO regress_disc_admin;
SET ROLE regress_disc_admin;
SELECT table_name, column_name, category, round(confidence::numeric, 2) AS confidence
  FROM privacy.detect_personal_data() WHERE table_name IN ('disc.secret'::regclass, 'disc.rls'::regclass)
 ORDER BY table_name::text, column_name;
RESET ROLE;
-- Nor does a schema the administrator may not use stop it (names only, no warning).
CREATE SCHEMA disc_closed;
CREATE TABLE disc_closed.people (email text, notes text);
INSERT INTO disc_closed.people SELECT 'e' || i || '@example.com', 'n' || i || '@example.com' FROM generate_series(1, 20) i;
GRANT SELECT ON disc_closed.people TO regress_disc_admin;
SET ROLE regress_disc_admin;
SELECT table_name, column_name, category, round(confidence::numeric, 2) AS confidence
  FROM privacy.detect_personal_data() WHERE table_name::text LIKE 'disc_closed.%';
RESET ROLE;
DROP SCHEMA disc_closed CASCADE;
-- The owner's code runs with the owner's rights, in a security-restricted
-- operation, never the administrator's: a forced policy calling grant_key
-- grants nothing (as the administrator it granted the key), and it shows
-- its rows to the owner, who reads the sample.  privacy.report(), which
-- runs detection, grants nothing either.
CREATE ROLE regress_disc_owner;
CREATE SCHEMA disc_app AUTHORIZATION regress_disc_owner;
GRANT USAGE ON SCHEMA disc_app TO regress_disc_admin;
SELECT privacy.create_key('regress_disc_vault') > 0 AS created;
SET ROLE regress_disc_owner;
CREATE FUNCTION disc_app.trojan() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM privacy.grant_key('regress_disc_vault', 'regress_disc_owner');
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    RETURN current_user = 'regress_disc_owner';
END
$$;
CREATE TABLE disc_app.contacts (id int, notes text);
INSERT INTO disc_app.contacts SELECT i, 'o' || i || '@example.com' FROM generate_series(1, 20) i;
ALTER TABLE disc_app.contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE disc_app.contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON disc_app.contacts USING (disc_app.trojan());
GRANT SELECT ON disc_app.contacts TO regress_disc_admin;
RESET ROLE;
SET ROLE regress_disc_admin;
SELECT table_name, column_name, category, round(confidence::numeric, 2) AS confidence
  FROM privacy.detect_personal_data() WHERE table_name::text LIKE 'disc_app.%';
SELECT length(privacy.report('markdown')) > 0 AS reported;
RESET ROLE;
SELECT name, granted_to FROM privacy.keys WHERE name = 'regress_disc_vault';
-- A table that cannot be sampled gives a WARNING naming the table and the
-- SQLSTATE, and its columns are judged by name, whatever its owner's
-- policy raises: query_canceled and assert_failure too (which plpgsql's
-- WHEN OTHERS does not catch), quoting a sampled value, or mimicking
-- PostgreSQL's own cancellation message.  adopt_findings() and the report
-- run on.  A real cancellation (statement_timeout here) still stops them.
SET ROLE regress_disc_owner;
CREATE FUNCTION disc_app.cancels(e text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'sampled value: %', e USING ERRCODE = 'query_canceled'; END
$$;
CREATE FUNCTION disc_app.mimics(e text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'canceling statement due to user request' USING ERRCODE = 'query_canceled'; END
$$;
CREATE FUNCTION disc_app.asserts(e text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN ASSERT e IS NULL, 'sampled value: ' || e; RETURN true; END
$$;
CREATE FUNCTION disc_app.sleeps(e text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(1); RETURN true; END
$$;
CREATE TABLE disc_app.t_cancels (id int, email text);
CREATE TABLE disc_app.t_mimics (id int, email text);
CREATE TABLE disc_app.t_asserts (id int, email text);
INSERT INTO disc_app.t_cancels VALUES (1, 'zed@example.net');
INSERT INTO disc_app.t_mimics VALUES (1, 'zed@example.net');
INSERT INTO disc_app.t_asserts VALUES (1, 'zed@example.net');
ALTER TABLE disc_app.t_cancels ENABLE ROW LEVEL SECURITY;
ALTER TABLE disc_app.t_cancels FORCE ROW LEVEL SECURITY;
ALTER TABLE disc_app.t_mimics ENABLE ROW LEVEL SECURITY;
ALTER TABLE disc_app.t_mimics FORCE ROW LEVEL SECURITY;
ALTER TABLE disc_app.t_asserts ENABLE ROW LEVEL SECURITY;
ALTER TABLE disc_app.t_asserts FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON disc_app.t_cancels USING (disc_app.cancels(email));
CREATE POLICY p ON disc_app.t_mimics USING (disc_app.mimics(email));
CREATE POLICY p ON disc_app.t_asserts USING (disc_app.asserts(email));
GRANT SELECT ON disc_app.t_cancels, disc_app.t_mimics, disc_app.t_asserts TO regress_disc_admin;
RESET ROLE;
SET ROLE regress_disc_admin;
SELECT table_name, column_name, category, round(confidence::numeric, 2) AS confidence
  FROM privacy.detect_personal_data() WHERE table_name::text LIKE 'disc_app.t\_%' ORDER BY 1, 2;
BEGIN;
SELECT privacy.adopt_findings() > 0 AS adopted;
ROLLBACK;
SELECT length(privacy.report('markdown')) > 0 AS reported;
RESET ROLE;
DROP TABLE disc_app.t_cancels, disc_app.t_mimics, disc_app.t_asserts;
SET ROLE regress_disc_owner;
CREATE TABLE disc_app.t_sleeps (id int, contact text);
INSERT INTO disc_app.t_sleeps VALUES (1, 'zed@example.net');
ALTER TABLE disc_app.t_sleeps ENABLE ROW LEVEL SECURITY;
ALTER TABLE disc_app.t_sleeps FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON disc_app.t_sleeps USING (disc_app.sleeps(contact));
GRANT SELECT ON disc_app.t_sleeps TO regress_disc_admin;
RESET ROLE;
SET ROLE regress_disc_admin;
\set VERBOSITY terse
SET statement_timeout = '200ms';
SELECT count(*) FROM privacy.detect_personal_data();
RESET statement_timeout;
\set VERBOSITY default
RESET ROLE;
DROP TABLE disc_app.t_sleeps;
-- privacy.detect_sample itself, which reads as the owner, checks its caller.
GRANT USAGE ON SCHEMA disc_app TO regress_disc_nobody;
SET ROLE regress_disc_nobody;
SELECT privacy.detect_sample('disc_app.contacts', '{2}', 10, 100);
RESET ROLE;
SET ROLE regress_disc_admin;
SELECT privacy.detect_sample('disc.secret', '{3}', 10, 100);
SELECT privacy.detect_sample('disc_app.contacts', '{1}', 10, 100);
SELECT privacy.detect_sample('disc_app.contacts', '{2,2}', 10, 100);
SELECT privacy.detect_sample('disc_app.contacts', '{9}', 10, 100);
SELECT privacy.detect_sample('disc_app.contacts', '{2}', 10, 0);
SELECT privacy.detect_sample('disc_app.contacts', '{2}', 0, 100);
SELECT privacy.detect_sample('disc_app.contacts', '{}', 10, 100);
SELECT privacy.detect_sample('disc_app.contacts', '{2}', 10, 100);
RESET ROLE;
DROP SCHEMA disc_app CASCADE;
DROP ROLE regress_disc_owner;
-- As the superuser (who bypasses row level security in PostgreSQL), the values are read.
SELECT table_name, column_name, category, round(confidence::numeric, 2) AS confidence
  FROM privacy.detect_personal_data() WHERE table_name IN ('disc.secret'::regclass, 'disc.rls'::regclass)
 ORDER BY table_name::text, column_name;

-- Adopting findings: one finding by hand, then every confident one.
SELECT privacy.adopt_finding(table_name, column_name, category, suggested_level, suggested_rule)
  FROM privacy.detect_personal_data()
 WHERE table_name = 'disc.payments'::regclass AND column_name = 'card_number';
SELECT privacy.adopt_finding('disc.members', 'mail_alt', 'classified', 'personal');
SELECT privacy.adopt_finding('disc.payments', 'iban', 'iban', 'secret', NULL);
SELECT privacy.adopt_finding('disc.payments', 'no_such', 'iban', 'sensitive', NULL);
SELECT privacy.adopt_finding('disc.payments', 'iban', 'iban', 'sensitive', 'generalize(10)');
SELECT privacy.adopt_finding(NULL, 'iban', 'iban', 'sensitive');
SELECT privacy.adopt_findings(min_confidence => 1.5);
SELECT privacy.adopt_findings(min_confidence => 0.9) AS adopted;
SELECT table_name, column_name, level, category, mask_rules
  FROM privacy.inventory WHERE schema_name = 'disc' ORDER BY table_name, column_name;
-- Adopted columns are now reported as classified, not as findings.
SELECT category, count(*) FROM privacy.detect_personal_data()
 WHERE table_name::text LIKE 'disc.%' GROUP BY category ORDER BY category;
-- The rules work: the masking view shows masked values.
SELECT privacy.set_mask('disc.payments', 'id', 'none');   -- privacy by default: the id is shown when declared
SELECT privacy.create_masking_view('disc.payments');
SELECT card_number, iban FROM masked.payments ORDER BY id LIMIT 2;

-- A column already handled is refused whatever category the call names:
-- an adoption never replaces a classification or a rule.
CREATE TABLE disc.adopt_handled (id int, ssn text, note text);
SELECT privacy.classify('disc.adopt_handled', 'ssn', 'sensitive', category => 'national_id');
SELECT privacy.set_mask('disc.adopt_handled', 'note', 'redact');
SELECT privacy.adopt_finding('disc.adopt_handled', 'ssn', 'us_ssn', 'public', 'none');
SELECT privacy.adopt_finding('disc.adopt_handled', 'note', 'email', 'personal', 'none');
SELECT level, category FROM privacy.classifications WHERE relid = 'disc.adopt_handled'::regclass;
SELECT column_name, rule FROM privacy.mask_rules WHERE relid = 'disc.adopt_handled'::regclass;
DELETE FROM privacy.mask_rules WHERE relid = 'disc.adopt_handled'::regclass;
DELETE FROM privacy.classifications WHERE relid = 'disc.adopt_handled'::regclass;
DROP TABLE disc.adopt_handled;

DROP SCHEMA disc CASCADE;
DROP ROLE regress_disc_nobody;
DROP ROLE regress_disc_admin;
