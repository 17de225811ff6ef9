-- The jsonb('path' rule, ...) masking rule on jsonb columns.
SET client_min_messages = warning;
SELECT privacy.create_key('mj_k') > 0 AS created;
CREATE TABLE mj_docs (id int PRIMARY KEY, doc jsonb, note text, raw json);
INSERT INTO mj_docs VALUES
    -- every path present, with the kinds each rule expects
    (1, '{"email": "ann@example.com", "card": "4111-1111-1111-1111", "ssn": "123-45-6789",
          "salary": 51234, "keep": "me", "secret": "s3cr3t", "motto": "carpe diem",
          "contact": {"phone": "555-1234", "city": "Paris"}}', 'n', '{}'),
    -- arrays: of values, of objects (member steps look into them), nested
    (2, '{"email": ["a@x.org", "b@y.org", null], "card": [["4111111111111111"], "5500-0000-0000-0004"],
          "contact": [{"phone": "555-0001"}, {"phone": "555-0002", "city": "Rome"}, {"nophone": 1}],
          "salary": [1999, 2001.5, -3], "keep": [1, 2]}', 'n', '{}'),
    -- paths missing, and other keys kept as they are
    (3, '{"other": {"email": "not@reached.org"}, "keep": true}', 'n', '{}'),
    -- kinds a rule does not expect: numbers for text rules, strings for
    -- numeric ones, booleans, objects
    (4, '{"email": 12345, "card": 4111111111111111, "salary": "lots", "ssn": true,
          "secret": {"nested": "object"}, "motto": false, "contact": "a string"}', 'n', '{}'),
    -- scalars, empty containers, JSON null, SQL NULL
    (5, '"just a string"', 'n', '{}'), (6, '42', 'n', '{}'), (7, 'null', 'n', '{}'),
    (8, '{}', 'n', '{}'), (9, '[]', 'n', '{}'), (10, NULL, 'n', '{}'),
    -- multibyte keys and values
    (11, '{"email": "zoë@exämple.org", "motto": "日本語テキスト", "keep": "😀",
           "contact": {"city": "Zürich"}, "ключ": "значение"}', 'n', '{}'),
    -- JSON null at a path
    (12, '{"email": null, "card": null, "salary": null}', 'n', '{}');

-- Declared, checked in C, stored in canonical form.
SELECT privacy.set_mask('mj_docs', 'doc',
    'jsonb(''$.email'' email, ''$.card'' credit_card, ''$.ssn'' partial(0, ''***-**-'', 4), '
    '''$.salary'' generalize(1000), ''$.secret'' redact, ''$.motto'' value ''[motto]'', '
    '''$.contact.phone'' null, ''$.contact.city'' fake(''city''))');
SELECT rule FROM privacy.mask_rules WHERE relid = 'mj_docs'::regclass;
-- The canonical text is accepted again and gives itself.
SELECT privacy.check_mask_rule(rule, 'jsonb') = rule AS canonical_is_fixed_point
  FROM privacy.mask_rules WHERE relid = 'mj_docs'::regclass;

-- Privacy by default: the id is shown only because it says none.
SELECT privacy.set_mask('mj_docs', 'id', 'none');
SELECT privacy.create_masking_view('mj_docs');
CREATE ROLE regress_mj_reader;
SELECT privacy.mask_role('regress_mj_reader');
CREATE TABLE mj_seen (id int, doc jsonb);
GRANT INSERT, SELECT ON mj_seen TO regress_mj_reader;
SET ROLE regress_mj_reader;
INSERT INTO mj_seen SELECT id, doc FROM masked.mj_docs;
-- Transparent masking: the table itself reads as its masking view.
SELECT doc = (SELECT doc FROM mj_seen WHERE id = 1) AS table_reads_masked FROM mj_docs WHERE id = 1;
RESET ROLE;

-- Everything but the fake city is deterministic without the key: shown
-- with the cities replaced by <fake>, which are checked on their own below.
SELECT id, regexp_replace(doc::text, '"city": "[^"]*"', '"city": <fake>', 'g') AS masked
  FROM mj_seen ORDER BY id;
SELECT s.id, s.doc #>> '{contact,city}' <> d.doc #>> '{contact,city}' AS city_faked,
       jsonb_typeof(s.doc -> 'contact' -> 'city') AS city_kind
  FROM mj_seen s JOIN mj_docs d USING (id)
 WHERE d.doc #> '{contact,city}' IS NOT NULL ORDER BY s.id;
SELECT s.doc #>> '{contact,1,city}' <> 'Rome' AS city_in_array_faked,
       jsonb_typeof(s.doc #> '{contact,1,city}') AS kind
  FROM mj_seen s WHERE id = 2;
-- Keys the paths do not name are all kept, with their values.
SELECT s.id, count(*) AS keys_kept
  FROM mj_seen s JOIN mj_docs d USING (id),
       LATERAL jsonb_each(d.doc) e
 WHERE jsonb_typeof(d.doc) = 'object'
   AND e.key NOT IN ('email', 'card', 'ssn', 'salary', 'secret', 'motto', 'contact')
   AND s.doc -> e.key = e.value
 GROUP BY s.id ORDER BY s.id;
-- No masked string of row 1 reached the reader.
SELECT count(*) AS leaked
  FROM mj_seen s, mj_docs d, jsonb_each_text(d.doc) e
 WHERE s.id = 1 AND d.id = 1 AND e.key <> 'keep' AND s.doc::text LIKE '%' || e.value || '%';

-- Large values: a 20,000-element array of objects and a 1 MB string.
INSERT INTO mj_docs
SELECT 13, jsonb_build_object('contact', jsonb_agg(jsonb_build_object('phone', 'p' || g, 'x', g)),
                              'email', repeat('é', 500000) || '@example.org'), 'n', '{}'
  FROM generate_series(1, 20000) g;
-- Deep nesting around the paths (not on them): kept as it is.
INSERT INTO mj_docs VALUES (14, ('{"keep": ' || repeat('[', 2000) || '1' || repeat(']', 2000) ||
                                 ', "email": "deep@example.org"}')::jsonb, 'n', '{}');
SET ROLE regress_mj_reader;
SELECT jsonb_array_length(doc -> 'contact') AS elements,
       (SELECT count(*) FROM jsonb_array_elements(doc -> 'contact') e
         WHERE e ? 'phone' AND e -> 'phone' = 'null'::jsonb AND e ? 'x') AS phones_nulled_x_kept,
       length(doc ->> 'email') AS email_masked_length, doc ->> 'email' LIKE 'é***@e***.org' AS email_masked
  FROM masked.mj_docs WHERE id = 13;
RESET ROLE;
-- (read here as the superuser, who gets the default rule through the view)
SELECT m.doc ->> 'email' AS email, m.doc -> 'keep' = d.doc -> 'keep' AS deep_kept
  FROM masked.mj_docs m JOIN mj_docs d USING (id) WHERE id = 14;

-- Bad rules are refused when declared, and nothing is stored.
-- wrong arity, separators, quoting
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb()');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'')');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' email,)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' email ''$.b'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb($.a email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' email');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' email) || current_user');
-- bad paths
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''a'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb('''' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a b'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$[x]'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$[-1]'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$[1000001]'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a[1'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$."a'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$."a\x"'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a ? (@ > 1)'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.' || repeat('a', 200) || ''' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$' || repeat('.a', 33) || ''' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' email, ''$."a"'' redact)');
-- inner rules: unknown, nested, date units, unknown fake kind, missing key
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' shuffle)');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' jsonb(''$.b'' email))');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' generalize(''year''))');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' fake(''ssn''))');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' partial(1, ''*''))');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' noise(2))');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' hash(''mj_nosuchkey''))');
-- too many paths
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(' ||
    (SELECT string_agg(format('''$.k%s'' redact', g), ', ') FROM generate_series(1, 9) g) || ')');
-- type mismatches: jsonb only on jsonb, and jsonb columns take no text rules
SELECT privacy.set_mask('mj_docs', 'note', 'jsonb(''$.a'' email)');
SELECT privacy.set_mask('mj_docs', 'raw', 'jsonb(''$.a'' email)');
SELECT privacy.set_mask('mj_docs', 'id', 'jsonb(''$.a'' email)');
SELECT privacy.set_mask('mj_docs', 'doc', 'email');
SELECT privacy.set_mask('mj_docs', 'doc', 'fake(''email'')');
-- a long (3,000 bytes, echoed in the error) and a multibyte rule text
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.a'' value ''' || repeat('x', 3000) || ''')');
SELECT privacy.set_mask('mj_docs', 'doc', 'jsonb(''$.ключ'' value ''значение'', ''$."日本"'' redact)');
SELECT rule FROM privacy.mask_rules WHERE relid = 'mj_docs'::regclass ORDER BY column_name;
SELECT count(*) AS rules_on_other_columns FROM privacy.mask_rules
 WHERE relid = 'mj_docs'::regclass AND column_name <> 'doc';

-- The most paths, several rules of one kind, and hash under two keys.
SELECT privacy.create_key('mj_k2') > 0 AS created;
SELECT privacy.set_mask('mj_docs', 'doc',
    'jsonb(''$.a'' hash(''mj_k''), ''$.b'' hash(''mj_k2''), ''$.c[*]'' hash(''mj_k''), ''$.d[0]'' none, '
    '''$.d[1]'' redact, ''$.e'' noise(0.5), ''$."x y"'' value ''v'', ''$.f'' fake(''iban''))');
INSERT INTO mj_docs VALUES (15, '{"a": "same", "b": "same", "c": ["same", 7], "d": ["kept", "gone", "third"],
                                  "e": 1000, "x y": 1, "f": "DE89370400440532013000"}', 'n', '{}');
SET ROLE regress_mj_reader;
SELECT doc -> 'a' = doc -> 'c' -> 0 AS same_key_same_hash, doc -> 'a' <> doc -> 'b' AS other_key_other_hash,
       length(doc ->> 'a') AS hash_length, jsonb_typeof(doc -> 'c' -> 1) AS number_hashed_as,
       doc -> 'd' AS d, (doc ->> 'e')::numeric BETWEEN 500 AND 1500 AS noise_in_range,
       doc -> 'x y' AS xy, doc ->> 'f' <> 'DE89370400440532013000' AS iban_faked
  FROM masked.mj_docs WHERE id = 15;
RESET ROLE;

-- Lax array steps: [*] and [0] on a value that is not an array take it as
-- an array of one (a single card where others hold a list).
CREATE TABLE mj_lax (id int, doc jsonb);
INSERT INTO mj_lax VALUES (1, '{"cards": ["4111-1111-1111-1111", "5500-0000-0000-0004"]}'),
                          (2, '{"cards": "4111-1111-1111-1111"}'),
                          (3, '{"b": {"email": "bob@corp.com"}}'),
                          (4, '{"b": [{"email": "ann@corp.com"}, {"email": "cy@corp.com"}]}'),
                          (5, '{"first": "4111-1111-1111-1111", "second": "5500-0000-0000-0004"}');
SELECT privacy.set_mask('mj_lax', 'id', 'none');
SELECT privacy.set_mask('mj_lax', 'doc',
    'jsonb(''$.cards[*]'' credit_card, ''$.b[*].email'' email, ''$.first[0]'' credit_card, ''$.second[1]'' credit_card)');
SELECT privacy.create_masking_view('mj_lax');
SELECT id, doc FROM masked.mj_lax ORDER BY id;
DROP TABLE mj_lax CASCADE;

SELECT privacy.unmask_role('regress_mj_reader');
DROP TABLE mj_docs CASCADE;
DELETE FROM privacy.masking_views;
DELETE FROM privacy.mask_rules;
DROP TABLE mj_seen;
DROP OWNED BY regress_mj_reader;
DROP ROLE regress_mj_reader;
