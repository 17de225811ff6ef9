-- character(n) and name columns under text rules.  character(n): the
-- trailing blanks are padding, not part of the value (PostgreSQL drops them in the cast to text).  A rule masks the
-- value, so 'Ann' in a char(20) column is hashed, faked and partially
-- shown as the text 'Ann' is: joins on masked columns match, and a suffix
-- keeps characters, not padding.  The masks depend on the root key
-- (random per run), so what is checked is equality with the text column.
SET client_min_messages = warning;
SELECT privacy.create_key('mb_key') > 0 AS created;
CREATE TABLE mb_people (id int PRIMARY KEY,
                        c char(20), t text, e char(30), te text, cc char(25), ct text,
                        f char(40), ft text, v varchar(10));
INSERT INTO mb_people VALUES
    (1, 'Ann', 'Ann', 'ann@example.com', 'ann@example.com',
     '4111 1111 1111 1111', '4111 1111 1111 1111', 'Bob', 'Bob', 'Ann'),
    (2, 'Bo', 'Bo', 'b@x.org', 'b@x.org', '5500000000000004', '5500000000000004', 'Eve', 'Eve', 'Bo');
SELECT privacy.set_mask('mb_people', 'id', 'none');
SELECT privacy.set_mask('mb_people', 'c', 'hash(''mb_key'')');
SELECT privacy.set_mask('mb_people', 't', 'hash(''mb_key'')');
SELECT privacy.set_mask('mb_people', 'v', 'hash(''mb_key'')');
SELECT privacy.set_mask('mb_people', 'e', 'email');
SELECT privacy.set_mask('mb_people', 'te', 'email');
SELECT privacy.set_mask('mb_people', 'cc', 'credit_card');
SELECT privacy.set_mask('mb_people', 'ct', 'credit_card');
SELECT privacy.set_mask('mb_people', 'f', 'fake(''first_name'')');
SELECT privacy.set_mask('mb_people', 'ft', 'fake(''first_name'')');
SELECT privacy.create_masking_view('mb_people');
CREATE ROLE regress_mb_reader;
SELECT privacy.mask_role('regress_mb_reader');
SET ROLE regress_mb_reader;
SELECT id, c = t AS hash_as_text, v = t AS varchar_as_text, e, e = te AS email_as_text,
       cc, cc = ct AS card_as_text, f = ft AS fake_as_text
  FROM masked.mb_people ORDER BY id;
-- the same through the table itself (transparent masking)
SELECT count(*) AS joined FROM mb_people a JOIN mb_people b ON a.c = b.t;
RESET ROLE;
SELECT privacy.set_mask('mb_people', 'c', 'partial(0, ''*'', 2)');
SELECT privacy.set_mask('mb_people', 't', 'partial(0, ''*'', 2)');
SET ROLE regress_mb_reader;
SELECT id, c, t FROM masked.mb_people ORDER BY id;
RESET ROLE;
-- static masking rewrites the char column as its text twin
SELECT privacy.set_mask('mb_people', 'c', 'fake(''first_name'')');
SELECT privacy.set_mask('mb_people', 't', 'fake(''first_name'')');
SELECT privacy.set_mask('mb_people', 'v', 'none');
SELECT privacy.anonymize_table('mb_people');
SELECT id, c::text = t AS anonymized_as_text, length(e) > 0 AS e_masked FROM mb_people ORDER BY id;
-- name columns (a fixed-size C string, not a varlena): masked as their
-- text, and the result is a name again (cut to 63 bytes)
CREATE TABLE mb_names (id int PRIMARY KEY, n name, t text);
INSERT INTO mb_names VALUES (1, 'ann@example.com', 'ann@example.com'), (2, 'Ann', 'Ann');
SELECT privacy.set_mask('mb_names', 'id', 'none');
SELECT privacy.set_mask('mb_names', 'n', 'hash(''mb_key'')');
SELECT privacy.set_mask('mb_names', 't', 'hash(''mb_key'')');
SELECT privacy.create_masking_view('mb_names');
SELECT privacy.mask_role('regress_mb_reader');
SET ROLE regress_mb_reader;
SELECT id, n::text = t AS hash_as_text, length(n::text) AS hash_len FROM mb_names ORDER BY id;
RESET ROLE;
SELECT privacy.set_mask('mb_names', 'n', 'fake(''city'')');
SELECT privacy.set_mask('mb_names', 't', 'fake(''city'')');
SET ROLE regress_mb_reader;
SELECT id, n::text = t AS fake_as_text FROM mb_names ORDER BY id;
RESET ROLE;
SELECT privacy.set_mask('mb_names', 'n', 'email');
SELECT privacy.set_mask('mb_names', 't', 'partial(1, ''*'', 1)');
SET ROLE regress_mb_reader;
SELECT id, n, t, pg_typeof(n) FROM masked.mb_names ORDER BY id;
RESET ROLE;
SELECT privacy.set_mask('mb_names', 'n', 'partial(0, ''' || repeat('ab', 40) || ''', 1)');
SET ROLE regress_mb_reader;
SELECT id, octet_length(n::text) AS cut FROM mb_names ORDER BY id;
RESET ROLE;
SELECT privacy.set_mask('mb_names', 'n', 'hash(''mb_key'')');
SELECT privacy.set_mask('mb_names', 't', 'hash(''mb_key'')');
SELECT privacy.anonymize_table('mb_names');
SELECT id, n::text = t AS anonymized_as_text FROM mb_names ORDER BY id;
DROP TABLE mb_names CASCADE;
SELECT privacy.unmask_role('regress_mb_reader');

DROP TABLE mb_people CASCADE;
DROP OWNED BY regress_mb_reader;
DROP ROLE regress_mb_reader;
