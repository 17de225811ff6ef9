-- Fake data: privacy.mask_fake(value, kind) and the rule fake('kind').
-- The fakes depend on the cluster's root key (random per test run), so
-- what is checked is what holds under any key: the kind of value, the
-- format, determinism, and never the input.
SET client_min_messages = warning;
CREATE TABLE mf_dict (kind text, entry text);
CREATE TEMP TABLE mf_load (entry text);
\copy mf_load FROM 'data/dict/first_names.txt'
INSERT INTO mf_dict SELECT 'first_name', entry FROM mf_load;
TRUNCATE mf_load;
\copy mf_load FROM 'data/dict/last_names.txt'
INSERT INTO mf_dict SELECT 'last_name', entry FROM mf_load;
TRUNCATE mf_load;
\copy mf_load FROM 'data/dict/cities.txt'
INSERT INTO mf_dict SELECT 'city', entry FROM mf_load;
TRUNCATE mf_load;
\copy mf_load FROM 'data/dict/countries.txt'
INSERT INTO mf_dict SELECT 'country', entry FROM mf_load;
SELECT kind, count(*) AS entries FROM mf_dict GROUP BY kind ORDER BY kind;

CREATE TABLE mf_kinds (kind text);
INSERT INTO mf_kinds VALUES ('first_name'), ('last_name'), ('email'), ('phone'), ('city'),
    ('country'), ('company'), ('iban');

-- An IBAN's mod-97 check, computed here independently of the C code.
CREATE FUNCTION mf_iban_ok(iban text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]+$' AND
           (SELECT string_agg(CASE WHEN c ~ '[0-9]' THEN c ELSE (ascii(c) - 55)::text END, '' ORDER BY i)
              FROM (SELECT i, substr(substr(iban, 5) || substr(iban, 1, 4), i, 1) AS c
                      FROM generate_series(1, length(iban)) i) s)::numeric % 97 = 1
$$;
SELECT mf_iban_ok('DE89370400440532013000') AS known_good, mf_iban_ok('DE89370400440532013001') AS one_digit_off,
       mf_iban_ok('GB82WEST12345698765432') AS known_good_gb;

-- Inputs: ordinary, empty, blanks, quotes, multibyte, emoji, control
-- characters, SQL, a fake-looking value, a dictionary entry, 1 MB.
CREATE TABLE mf_inputs (label text, v text);
INSERT INTO mf_inputs VALUES
    ('name', 'Ann Smith'), ('empty', ''), ('blank', '   '), ('quote', 'O''Brien'),
    ('multibyte', 'Zoë Ünïcödé'), ('cjk', '日本語テキスト'), ('emoji', '😀👍'),
    ('control', E'a\tb\nc\x01'), ('sql', '''); DROP TABLE mf_inputs; --'),
    ('email', 'ann@example.com'), ('phone', '+1-212-555-0142'), ('iban', 'DE89370400440532013000'),
    ('first', 'Mary'), ('huge', repeat('x', 1000000)), ('huge_multibyte', repeat('é', 300000));

-- NULL in, NULL out; an unknown, empty, differently spelled, huge or
-- multibyte kind gives NULL (never an error).
SELECT privacy.mask_fake(NULL, 'first_name') IS NULL AS null_value,
       privacy.mask_fake('Ann', NULL) IS NULL AS null_kind,
       privacy.mask_fake('Ann', 'nope') IS NULL AS unknown_kind,
       privacy.mask_fake('Ann', '') IS NULL AS empty_kind,
       privacy.mask_fake('Ann', 'FIRST_NAME') IS NULL AS upper_kind,
       privacy.mask_fake('Ann', ' first_name') IS NULL AS blank_kind,
       privacy.mask_fake('Ann', repeat('first_name', 100000)) IS NULL AS huge_kind,
       privacy.mask_fake('Ann', 'prénom') IS NULL AS multibyte_kind,
       privacy.mask_fake('Ann', E'first_name\x01') IS NULL AS control_kind;

-- Every kind, every input: a value, never the input (case aside), the
-- same when asked again, and short.
SELECT k.kind,
       count(*) AS inputs,
       count(*) FILTER (WHERE f IS NOT NULL AND f <> '') AS faked,
       count(*) FILTER (WHERE lower(f) <> lower(i.v)) AS not_the_input,
       count(*) FILTER (WHERE f = privacy.mask_fake(i.v, k.kind)) AS deterministic,
       max(octet_length(f)) < 160 AS short
  FROM mf_kinds k CROSS JOIN mf_inputs i
  CROSS JOIN LATERAL privacy.mask_fake(i.v, k.kind) f
 GROUP BY k.kind ORDER BY k.kind;

-- Realistic: names, cities and countries are dictionary entries; the
-- formats of the composed kinds.
CREATE TABLE mf_sample AS
SELECT k.kind, n, privacy.mask_fake('person ' || n, k.kind) AS f
  FROM mf_kinds k, generate_series(1, 1000) n;
SELECT kind,
       count(*) AS fakes,
       count(DISTINCT f) > CASE kind WHEN 'country' THEN 150 ELSE 800 END AS varied,
       count(*) FILTER (WHERE CASE kind
           WHEN 'first_name' THEN EXISTS (SELECT 1 FROM mf_dict d WHERE d.kind = 'first_name' AND d.entry = f)
           WHEN 'last_name' THEN EXISTS (SELECT 1 FROM mf_dict d WHERE d.kind = 'last_name' AND d.entry = f)
           WHEN 'city' THEN EXISTS (SELECT 1 FROM mf_dict d WHERE d.kind = 'city' AND d.entry = f)
           WHEN 'country' THEN EXISTS (SELECT 1 FROM mf_dict d WHERE d.kind = 'country' AND d.entry = f)
           WHEN 'email' THEN f ~ '^[a-z0-9._]+@example\.(com|org|net)$'
           WHEN 'phone' THEN f ~ '^\+1-[2-9][0-8][0-9]-555-01[0-9]{2}$' AND f !~ '^\+1-.11-'
           WHEN 'iban' THEN mf_iban_ok(f) AND
               ((f LIKE 'DE%' AND length(f) = 22) OR (f LIKE 'AT%' AND length(f) = 20) OR
                (f LIKE 'GB%' AND length(f) = 22 AND substr(f, 5, 4) ~ '^[A-Z]{4}$') OR
                (f LIKE 'NL%' AND length(f) = 18 AND substr(f, 5, 4) ~ '^[A-Z]{4}$'))
           WHEN 'company' THEN EXISTS (SELECT 1 FROM mf_dict d WHERE d.kind = 'last_name'
                                          AND (f LIKE d.entry || ' %' OR f LIKE d.entry || '-%'))
       END) AS well_formed
  FROM mf_sample GROUP BY kind ORDER BY kind;
SELECT count(DISTINCT substr(f, 1, 2)) AS iban_countries FROM mf_sample WHERE kind = 'iban';
SELECT count(DISTINCT split_part(f, '@', 2)) AS email_domains FROM mf_sample WHERE kind = 'email';

-- Never the input: every dictionary entry given as input (in its own case
-- and in upper case) gets another entry; every composed fake fed back in
-- gets another fake.
SELECT d.kind, count(*) AS entries,
       count(*) FILTER (WHERE lower(privacy.mask_fake(d.entry, d.kind)) <> lower(d.entry)
                          AND lower(privacy.mask_fake(upper(d.entry), d.kind)) <> lower(d.entry)) AS never_the_input
  FROM mf_dict d GROUP BY d.kind ORDER BY d.kind;
SELECT kind, count(*) FILTER (WHERE lower(privacy.mask_fake(f, kind)) <> lower(f)) AS fed_back_differs
  FROM mf_sample WHERE kind IN ('email', 'phone', 'company', 'iban') GROUP BY kind ORDER BY kind;

-- The same input gets the same fake in another session.
CREATE TABLE mf_before AS SELECT kind, n, f FROM mf_sample WHERE n <= 50;
\c
SET client_min_messages = warning;
SELECT count(*) AS rows, count(*) FILTER (WHERE privacy.mask_fake('person ' || n, kind) = f) AS same_after_reconnect
  FROM mf_before;

-- Only privacy_admin may call it: otherwise a masked role could compute
-- the fakes of guessed values and read through a masking view's fakes.
CREATE ROLE regress_mf_admin IN ROLE privacy_admin;
CREATE ROLE regress_mf_reader;
SET ROLE regress_mf_reader;
SELECT privacy.mask_fake('Ann', 'first_name');
RESET ROLE;
SET ROLE regress_mf_admin;
SELECT privacy.mask_fake('Ann', 'first_name') IS NOT NULL AS admin_may;
RESET ROLE;

-- The rule: declared on text-like columns (and encrypted text), checked
-- in C; bad ones are refused and nothing is stored.
SELECT privacy.create_key('mf_k') > 0 AS created;
CREATE TABLE mf_people (id int PRIMARY KEY, first text, last varchar(40), mail text, phone bpchar(20),
                        town text, land text, employer text, account privacy.encrypted_text('mf_k'),
                        age int, born date, doc jsonb);
INSERT INTO mf_people VALUES
    (1, 'Ann', 'Smith', 'ann@example.com', '555-1234', 'Paris', 'France', 'ACME', 'DE89370400440532013000', 40, '1985-01-01', '{}'),
    (2, 'Bob', 'Jones', 'bob@example.org', '555-9876', 'Berlin', 'Germany', 'Initech', 'GB82WEST12345698765432', 50, '1975-01-01', '{}'),
    (3, 'Ann', 'Smith', 'ann@example.com', '555-1234', 'Paris', 'France', 'ACME', 'DE89370400440532013000', 40, '1985-01-01', '{}'),
    (4, '', 'Ünïcödé', '日本', '', '', '😀', '', '', 0, '2000-01-01', '{}'),
    (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT privacy.set_mask('mf_people', 'first', 'fake(''first_name'')');
SELECT privacy.set_mask('mf_people', 'last', 'FAKE ( ''last_name'' )');
SELECT privacy.set_mask('mf_people', 'mail', 'fake(''email'')');
SELECT privacy.set_mask('mf_people', 'phone', 'fake(''phone'')');
SELECT privacy.set_mask('mf_people', 'town', 'fake(''city'')');
SELECT privacy.set_mask('mf_people', 'land', 'fake(''country'')');
SELECT privacy.set_mask('mf_people', 'employer', 'fake(''company'')');
SELECT privacy.set_mask('mf_people', 'account', 'fake(''iban'')');
-- Privacy by default: the id is shown only because it says none.
SELECT privacy.set_mask('mf_people', 'id', 'none');
SELECT column_name, rule FROM privacy.mask_rules WHERE relid = 'mf_people'::regclass ORDER BY column_name;
-- wrong arity, unknown kinds, bad quoting, trailing text, type mismatches
SELECT privacy.set_mask('mf_people', 'first', 'fake');
SELECT privacy.set_mask('mf_people', 'first', 'fake()');
SELECT privacy.set_mask('mf_people', 'first', 'fake(''first_name'', ''x'')');
SELECT privacy.set_mask('mf_people', 'first', 'fake(first_name)');
SELECT privacy.set_mask('mf_people', 'first', 'fake(''FIRST_NAME'')');
SELECT privacy.set_mask('mf_people', 'first', 'fake('''')');
SELECT privacy.set_mask('mf_people', 'first', 'fake(''ssn'')');
SELECT privacy.set_mask('mf_people', 'first', 'fake(''prénom'')');
SELECT privacy.set_mask('mf_people', 'first', 'fake(''' || repeat('x', 300) || ''')');
SELECT privacy.set_mask('mf_people', 'first', 'fake(''first_name''');
SELECT privacy.set_mask('mf_people', 'first', 'fake(''first_name'') || current_user');
SELECT privacy.set_mask('mf_people', 'age', 'fake(''first_name'')');
SELECT privacy.set_mask('mf_people', 'born', 'fake(''city'')');
SELECT privacy.set_mask('mf_people', 'doc', 'fake(''email'')');
SELECT privacy.set_mask('mf_people', 'first', E'fake(\'first_name\t\')');
SELECT count(*) AS rules_stored,
       count(*) FILTER (WHERE column_name IN ('age', 'born', 'doc')) AS on_wrong_types,
       count(*) FILTER (WHERE rule NOT LIKE 'fake(%') AS other_rules
  FROM privacy.mask_rules WHERE relid = 'mf_people'::regclass;
SELECT privacy.check_mask_rule('fake(''iban'')', 'privacy.encrypted_text'::regtype) AS on_encrypted_text,
       privacy.check_mask_rule('fake(''city'')', 'name'::regtype) AS on_name;

-- Through the masking view, as a masked role: no column shows its value,
-- equal inputs get equal fakes (rows 1 and 3), NULL stays NULL, and the
-- encrypted column is faked without the reader holding its key.
SELECT privacy.create_masking_view('mf_people');
CREATE ROLE regress_mf_support;
SELECT privacy.mask_role('regress_mf_support');
CREATE TABLE mf_seen (id int, first text, last varchar(40), mail text, phone bpchar(20),
                      town text, land text, employer text, account text);
GRANT INSERT, SELECT ON mf_seen TO regress_mf_support;
SET ROLE regress_mf_support;
INSERT INTO mf_seen SELECT id, first, last, mail, phone, town, land, employer, account
  FROM masked.mf_people;
-- Transparent masking: the table itself reads as its masking view.
SELECT count(*) FROM mf_people;
SELECT count(*) AS faked_through_the_table FROM mf_people t JOIN mf_seen s USING (id)
 WHERE t.first IS NOT DISTINCT FROM s.first AND t.mail IS NOT DISTINCT FROM s.mail;
RESET ROLE;
SELECT s.id,
       s.first <> p.first AND s.last <> p.last AND s.mail <> p.mail AND s.phone <> p.phone AND
       s.town <> p.town AND s.land <> p.land AND s.employer <> p.employer AND
       s.account <> p.account::text AS all_faked,
       s.first IS NULL AND s.account IS NULL AS nulls_kept,
       s.mail ~ '@example\.(com|org|net)$' AS fake_mail,
       s.phone ~ '^\+1-[0-9]{3}-555-01[0-9]{2}' AS fake_phone,
       mf_iban_ok(s.account) AS fake_iban,
       EXISTS (SELECT 1 FROM mf_dict d WHERE d.kind = 'first_name' AND d.entry = s.first) AS fake_first
  FROM mf_seen s JOIN mf_people p USING (id) ORDER BY s.id;
SELECT (SELECT row(first, last, mail, phone, town, land, employer, account) FROM mf_seen WHERE id = 1) =
       (SELECT row(first, last, mail, phone, town, land, employer, account) FROM mf_seen WHERE id = 3)
       AS equal_inputs_equal_fakes;
-- The view applies the same fakes as mask_fake() (superuser reading the
-- view gets the default rule).
SELECT count(*) FILTER (WHERE s.first = privacy.mask_fake(p.first, 'first_name') AND
                              s.mail = privacy.mask_fake(p.mail, 'email') AND
                              s.account = privacy.mask_fake(p.account::text, 'iban')) AS same_as_mask_fake
  FROM mf_seen s JOIN mf_people p USING (id) WHERE p.first IS NOT NULL;

SELECT privacy.unmask_role('regress_mf_support');
DROP TABLE mf_people CASCADE;
DELETE FROM privacy.masking_views;
DELETE FROM privacy.mask_rules;
DROP TABLE mf_seen, mf_sample, mf_before, mf_inputs, mf_kinds, mf_dict;
DROP FUNCTION mf_iban_ok(text);
DROP OWNED BY regress_mf_support, regress_mf_admin, regress_mf_reader;
DROP ROLE regress_mf_support, regress_mf_admin, regress_mf_reader;
