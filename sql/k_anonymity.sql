-- Re-identification risk: privacy.k_anonymity() against hand-computed
-- values (NULL counted as a value), on a masking view with generalizing
-- rules, refused without the privilege to read; declared
-- quasi-identifiers and k in the inventory.
CREATE SCHEMA kq;
CREATE TABLE kq.people (id int PRIMARY KEY, zip text, birth_year int, gender text, notes json);
INSERT INTO kq.people VALUES
  (1, '75001', 1980, 'F', '{}'), (2, '75001', 1980, 'F', '{}'), (3, '75001', 1980, 'M', '{}'),
  (4, '75002', 1985, 'M', '{}'), (5, '75002', 1985, 'M', '{}'), (6, '75002', 1985, 'M', '{}'),
  (7, NULL, 1990, 'F', '{}'), (8, NULL, 1990, 'F', '{}'), (9, '75003', NULL, NULL, '{}');
-- By hand: gender F 4 (1,2,7,8), M 4 (3-6), NULL 1 (9) -> 1.
SELECT privacy.k_anonymity('kq.people', ARRAY['gender']) AS k_gender;
DELETE FROM kq.people WHERE id = 9;
-- gender: F 4, M 4 -> 4.  zip: 75001 3, 75002 3, NULL 2 -> 2 (the two NULLs are one group).
SELECT privacy.k_anonymity('kq.people', ARRAY['gender']) AS k_gender,
       privacy.k_anonymity('kq.people', ARRAY['zip']) AS k_zip,
       -- (75001,1980) 3, (75002,1985) 3, (NULL,1990) 2 -> 2
       privacy.k_anonymity('kq.people', ARRAY['zip', 'birth_year']) AS k_zip_year,
       -- (75001,1980,F) 2, (75001,1980,M) 1 -> 1
       privacy.k_anonymity('kq.people', ARRAY['zip', 'birth_year', 'gender']) AS k_all,
       -- every id is its own group
       privacy.k_anonymity('kq.people', ARRAY['id']) AS k_id,
       -- the same column twice changes nothing
       privacy.k_anonymity('kq.people', ARRAY['zip', 'zip']) AS k_zip_twice;
-- NULL and the empty string are different values.
INSERT INTO kq.people VALUES (10, '', 1990, 'F', '{}');
SELECT privacy.k_anonymity('kq.people', ARRAY['zip']) AS k_zip_with_empty;
DELETE FROM kq.people WHERE id = 10;
-- An empty relation: 0.  A view works like a table.
CREATE TABLE kq.nobody (zip text);
SELECT privacy.k_anonymity('kq.nobody', ARRAY['zip']) AS k_empty;
CREATE VIEW kq.women AS SELECT * FROM kq.people WHERE gender = 'F';
SELECT privacy.k_anonymity('kq.women', ARRAY['zip']) AS k_women_zip;   -- 75001 2, NULL 2 -> 2

-- Bad input.
SELECT privacy.k_anonymity('kq.people', ARRAY['no_such']);
SELECT privacy.k_anonymity('kq.people', ARRAY['zip', NULL]);
SELECT privacy.k_anonymity('kq.people', ARRAY[]::text[]);
SELECT privacy.k_anonymity(NULL, ARRAY['zip']) IS NULL AS null_table;
SELECT privacy.k_anonymity('kq.people', NULL);              -- no columns
SELECT privacy.k_anonymity('kq.people', ARRAY['notes']);   -- json has no equality
-- Types without equality are refused by name, with no internal query.
CREATE TABLE kq.shapes (spot point, tags json[], zip text);
INSERT INTO kq.shapes VALUES ('(1,2)', ARRAY['{}'::json], '75001');
SELECT privacy.k_anonymity('kq.shapes', ARRAY['zip', 'spot']);
SELECT privacy.k_anonymity('kq.shapes', ARRAY['tags']);
SELECT privacy.k_anonymity('kq.shapes', ARRAY['zip']) AS k_shapes_zip;
DROP TABLE kq.shapes;
-- A materialized view never refreshed has no rows to count: refused.
CREATE MATERIALIZED VIEW kq.people_later AS SELECT zip FROM kq.people WITH NO DATA;
SELECT privacy.k_anonymity('kq.people_later', ARRAY['zip']);
REFRESH MATERIALIZED VIEW kq.people_later;
SELECT privacy.k_anonymity('kq.people_later', ARRAY['zip']) AS k_refreshed;
DROP MATERIALIZED VIEW kq.people_later;
CREATE SEQUENCE kq.seq;
SELECT privacy.k_anonymity('kq.seq', ARRAY['last_value']);
SELECT privacy.k_anonymity(999999999::oid::regclass, ARRAY['zip']);
SELECT privacy.k_anonymity('kq.people', ARRAY[repeat('z', 100)]);
-- Identifiers are quoted: odd names work, and a name is never SQL.
CREATE TABLE kq."odd Table" ("Zip Code" text, "x); DROP TABLE kq.people; --" int, "ä" text);
INSERT INTO kq."odd Table" VALUES ('1', 1, 'ü'), ('1', 1, 'ü'), ('2', 2, 'ü');
SELECT privacy.k_anonymity('kq."odd Table"', ARRAY['Zip Code', 'x); DROP TABLE kq.people; --', 'ä']) AS k_odd;
SELECT privacy.k_anonymity('kq."odd Table"', ARRAY['zip code']);
SELECT count(*) AS people_still_there FROM kq.people;

-- Refused for relations and columns the caller cannot read.
CREATE ROLE regress_kq_reader;
GRANT USAGE ON SCHEMA kq TO regress_kq_reader;
GRANT SELECT (zip, gender) ON kq.people TO regress_kq_reader;
SET ROLE regress_kq_reader;
SELECT privacy.k_anonymity('kq.people', ARRAY['zip', 'gender']) AS k_readable;
SELECT privacy.k_anonymity('kq.people', ARRAY['zip', 'birth_year']);
SELECT privacy.k_anonymity('kq.nobody', ARRAY['zip']);
SELECT privacy.k_anonymity('kq.women', ARRAY['zip']);
RESET ROLE;
-- Row level security: k counts the rows the caller sees.
ALTER TABLE kq.people ENABLE ROW LEVEL SECURITY;
CREATE POLICY first_five ON kq.people USING (id <= 5);
SET ROLE regress_kq_reader;
SELECT privacy.k_anonymity('kq.people', ARRAY['zip']) AS k_zip_seen;   -- 75001 3, 75002 2 -> 2
RESET ROLE;
ALTER TABLE kq.people DISABLE ROW LEVEL SECURITY;
DROP POLICY first_five ON kq.people;

-- Through a masking view, the generalized values: birth years to the
-- decade, zip codes to their first three characters.
SELECT privacy.set_mask('kq.people', 'birth_year', 'generalize(10)');
SELECT privacy.set_mask('kq.people', 'zip', 'partial(3, ''**'', 0)');
SELECT privacy.set_mask('kq.people', 'gender', 'none');
SELECT privacy.create_masking_view('kq.people');
SELECT zip, birth_year, gender FROM masked.people ORDER BY id;
-- (750**,1980,F) 2, (750**,1980,M) 4, (NULL,1990,F) 2 -> 2, against 1 on the table.
SELECT privacy.k_anonymity('kq.people', ARRAY['zip', 'birth_year', 'gender']) AS k_table,
       privacy.k_anonymity('masked.people', ARRAY['zip', 'birth_year', 'gender']) AS k_masked;
-- A masked role measures the masking view only: the table is refused.
CREATE ROLE regress_kq_masked;
GRANT USAGE ON SCHEMA kq TO regress_kq_masked;
SELECT privacy.mask_role('regress_kq_masked');
SET ROLE regress_kq_masked;
SELECT privacy.k_anonymity('masked.people', ARRAY['zip', 'birth_year', 'gender']) AS k_masked_role;
SELECT privacy.k_anonymity('kq.people', ARRAY['zip']);
RESET ROLE;
SELECT privacy.unmask_role('regress_kq_masked');
REVOKE USAGE ON SCHEMA kq FROM regress_kq_masked;
DROP ROLE regress_kq_masked;

-- Declared quasi-identifiers, and k in the inventory.
SELECT privacy.set_quasi_identifiers('kq.people', ARRAY['zip', 'birth_year', 'gender', 'zip']);
SELECT relid, columns FROM privacy.quasi_identifiers;
SELECT column_name, level, mask_rules, quasi_identifier, k_anonymity, masked_k_anonymity, findings
  FROM privacy.inventory WHERE schema_name = 'kq' ORDER BY column_name;
-- Without the generalizing rule on zip the masking view singles a row out too.
SELECT privacy.drop_mask('kq.people', 'zip');
SELECT privacy.set_mask('kq.people', 'zip', 'none');
SELECT column_name, quasi_identifier, k_anonymity, masked_k_anonymity, findings
  FROM privacy.inventory WHERE schema_name = 'kq' AND quasi_identifier ORDER BY column_name;
-- A reader of the inventory who may not read the table sees no k.
CREATE ROLE regress_kq_admin;
GRANT privacy_admin TO regress_kq_admin;
GRANT USAGE ON SCHEMA kq TO regress_kq_admin;
SET ROLE regress_kq_admin;
SELECT column_name, quasi_identifier, k_anonymity, masked_k_anonymity
  FROM privacy.inventory WHERE schema_name = 'kq' AND quasi_identifier ORDER BY column_name;
-- and cannot declare quasi-identifiers it cannot read
SELECT privacy.set_quasi_identifiers('kq.people', ARRAY['zip']);
RESET ROLE;
-- A renamed declared column is followed: k stays.
ALTER TABLE kq.people RENAME COLUMN gender TO sex;
SELECT columns FROM privacy.quasi_identifiers WHERE relid = 'kq.people'::regclass;
SELECT column_name, quasi_identifier, k_anonymity FROM privacy.inventory
 WHERE schema_name = 'kq' AND quasi_identifier ORDER BY column_name;
-- A declared column gone behind the extension's back (renamed with the
-- event trigger off): k NULL until declared again.
ALTER EVENT TRIGGER privacy_column_registries_follow_renames DISABLE;
ALTER TABLE kq.people RENAME COLUMN sex TO gender;
ALTER EVENT TRIGGER privacy_column_registries_follow_renames ENABLE;
SELECT column_name, quasi_identifier, k_anonymity FROM privacy.inventory
 WHERE schema_name = 'kq' AND quasi_identifier ORDER BY column_name;
SELECT privacy.set_quasi_identifiers('kq.people', ARRAY['zip', 'birth_year', 'gender']);

-- Declaring: bad input.
SELECT privacy.set_quasi_identifiers('kq.people', ARRAY['no_such']);
SELECT privacy.set_quasi_identifiers('kq.people', ARRAY['zip', NULL]);
SELECT privacy.set_quasi_identifiers('kq.people', ARRAY['notes']);
SELECT privacy.set_quasi_identifiers('kq.women', ARRAY['zip']);
SELECT privacy.set_quasi_identifiers(NULL, ARRAY['zip']);
SET ROLE regress_kq_reader;
SELECT privacy.set_quasi_identifiers('kq.people', ARRAY['zip']);
RESET ROLE;
-- Removing the declaration.
SELECT privacy.set_quasi_identifiers('kq.people', NULL);
SELECT count(*) AS declared FROM privacy.quasi_identifiers;

DROP SCHEMA kq CASCADE;
DROP ROLE regress_kq_reader;
DROP ROLE regress_kq_admin;

-- A quasi-identifier read through a masking view under a destroyed key:
-- the inventory and the report are still made (k through the view NULL,
-- the destroyed key a finding of its own).
SELECT privacy.create_key('ka_gone') > 0 AS created;
CREATE TABLE ka_members (id int, email privacy.encrypted_text_det('ka_gone'));
INSERT INTO ka_members VALUES (1, 'ann@example.com'), (2, 'bob@example.com');
SELECT privacy.set_mask('ka_members', 'email', 'email');
SELECT privacy.create_masking_view('ka_members');
SELECT privacy.set_quasi_identifiers('ka_members', ARRAY['email']);
SELECT privacy.destroy_key('ka_gone');
SELECT column_name, k_anonymity, masked_k_anonymity, findings FROM privacy.inventory
 WHERE table_name = 'ka_members';
SELECT privacy.report() IS NOT NULL AS report_made;
DROP VIEW masked.ka_members;
DROP TABLE ka_members;

-- A masking view that shows this reader no row (a consent filter, no
-- purpose declared) raises no k: the finding stays.
CREATE TABLE ka_q (id int, zip text, yob int, subj text);
INSERT INTO ka_q SELECT g, '7500' || (g % 2), 1980 + g, 's' || g FROM generate_series(1, 10) g;
SELECT privacy.set_quasi_identifiers('ka_q', ARRAY['zip', 'yob']);
SELECT privacy.set_mask('ka_q', 'yob', 'none'), privacy.set_mask('ka_q', 'zip', 'none');
SELECT privacy.create_masking_view('ka_q');
SELECT privacy.protect_table('ka_q', 'subj');
SELECT column_name, k_anonymity, masked_k_anonymity, findings FROM privacy.inventory
 WHERE table_name = 'ka_q' AND column_name = 'zip';
DROP VIEW masked.ka_q;
DROP TABLE ka_q;
DELETE FROM privacy.protected_tables WHERE relid::oid NOT IN (SELECT oid FROM pg_class);
