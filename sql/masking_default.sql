-- Privacy by default (1.1): to a masked role, a column without a rule is
-- redacted (its type's placeholder, NULL where none fits), including
-- columns added later; clear needs an explicit 'none'.  The upgrade from
-- 1.0 keeps what every masking view showed, and says so.
SELECT privacy.create_key('md_k') > 0 AS created;
CREATE DOMAIN md_code AS text;
CREATE TABLE md_all (id int PRIMARY KEY, t text, vc varchar(5), ch char(3), n numeric,
                     f float8, d date, ts timestamptz, b boolean, by bytea, j jsonb,
                     arr int[], u uuid, dom md_code, enc privacy.encrypted_text('md_k'),
                     encb privacy.encrypted_bytea('md_k'));
INSERT INTO md_all VALUES
  (1, 'Ann Smith', 'abcde', 'xyz', 12.5, 1.5, '1985-06-15', '2020-01-02 03:04:05+00', true,
   '\x0102', '{"a": 1}', '{1,2}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'C-1',
   '123-45-6789', '\x0a0b'),
  (2, '', '', '', 0, 0, '2000-01-01', '2000-01-01 00:00:00+00', false, '\x', '{}', '{}',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', '', '', '\x'),
  (3, 'Zoë Ærø ☃', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, repeat('x', 100000), 'x', 'x', 1e100, 1e300, 'infinity', '-infinity', true, '\xff',
   'null', '{NULL}', NULL, repeat('y', 5000), repeat('z', 10000), '\xff');
SELECT privacy.set_mask('md_all', 'id', 'none');
SELECT privacy.create_masking_view('md_all');
CREATE ROLE md_reader;
CREATE ROLE md_special;
SELECT privacy.mask_role('md_reader');
SELECT privacy.mask_role('md_special');

-- 1. Every column without a rule: its placeholder, or NULL where none fits;
-- NULL stays NULL; no value of any size or script comes through.
SET ROLE md_reader;
SELECT id, t, vc, ch, n, f, d, ts, b, by, j, arr, u, dom, enc, encb FROM masked.md_all WHERE id < 4 ORDER BY id;
SELECT id, length(t) AS t, vc, n, d, dom, enc FROM masked.md_all WHERE id = 4;
SELECT count(*) AS leaked FROM masked.md_all
 WHERE t IN ('Ann Smith', 'Zoë Ærø ☃') OR enc = '123-45-6789' OR dom = 'C-1' OR b;
-- The table itself, read by the masked role: the same.
SELECT id, t, n, d, enc FROM public.md_all WHERE id < 4 ORDER BY id;
RESET ROLE;
-- The view masks for every reader, its owner too; the owner's table is clear.
SELECT id, t, enc FROM masked.md_all WHERE id = 1;
SELECT id, t FROM md_all WHERE id = 1;

-- 2. Clear needs an explicit 'none'; dropping it redacts again.
SELECT privacy.set_mask('md_all', 't', 'none');
SET ROLE md_reader;
SELECT id, t FROM masked.md_all WHERE id <= 2 ORDER BY id;
RESET ROLE;
SELECT privacy.drop_mask('md_all', 't');
SET ROLE md_reader;
SELECT id, t FROM masked.md_all WHERE id <= 2 ORDER BY id;
RESET ROLE;
-- 'none' on an encrypted column still needs the key.
SELECT privacy.set_mask('md_all', 'enc', 'none');
SET ROLE md_reader;
SELECT id, enc FROM masked.md_all WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT privacy.drop_mask('md_all', 'enc');

-- 3. Rules for some roles only: another role gets NULL (it fails closed),
-- those roles their rule.
SELECT privacy.set_mask('md_all', 'n', 'none', role => 'md_special');
SET ROLE md_special;
SELECT id, n FROM masked.md_all WHERE id = 1;
RESET ROLE;
SET ROLE md_reader;
SELECT id, n FROM masked.md_all WHERE id = 1;
RESET ROLE;

-- 4. Columns added later are redacted until a rule says otherwise; renamed
-- columns keep their rule, and their redaction.
ALTER TABLE md_all ADD COLUMN phone text DEFAULT '+31 6 1234 5678', ADD COLUMN score int DEFAULT 7;
SET ROLE md_reader;
SELECT id, phone, score FROM masked.md_all WHERE id = 1;
SELECT id, phone, score FROM public.md_all WHERE id = 1;
RESET ROLE;
SELECT privacy.set_mask('md_all', 'phone', 'partial(3, ''***'', 2)');
ALTER TABLE md_all RENAME COLUMN score TO points;
ALTER TABLE md_all RENAME COLUMN phone TO mobile;
SET ROLE md_reader;
SELECT id, mobile, points FROM masked.md_all WHERE id = 1;
RESET ROLE;
SELECT column_name, rule FROM privacy.mask_rules WHERE relid = 'md_all'::regclass ORDER BY 1, 2;

-- 5. The masking view calls apply_mask for every column.
SELECT count(*) AS columns, count(*) FILTER (WHERE pg_get_viewdef('masked.md_all') LIKE
       '%privacy.apply_mask(md_all.' || attname || ',%') AS masked
  FROM pg_attribute WHERE attrelid = 'masked.md_all'::regclass AND attnum > 0;

DROP TABLE md_all CASCADE;
DELETE FROM privacy.masking_views WHERE view_name = 'masked.md_all';
SELECT privacy.unmask_role('md_reader');
SELECT privacy.unmask_role('md_special');
DROP ROLE md_reader, md_special;
DROP DOMAIN md_code;

-- 6. The upgrade from 1.0: every masking view shows what it showed, the
-- columns 1.0 showed in clear get rule 'none' (with a WARNING saying so),
-- and keep being shown in clear when the view is built again.
\set regress_db :DBNAME
CREATE DATABASE masking_default_upgrade;
\c masking_default_upgrade
SET client_min_messages = warning;
CREATE EXTENSION privacy_ext VERSION '1.0';
RESET client_min_messages;
CREATE ROLE md_upg_reader;
CREATE TABLE md_upg (id int PRIMARY KEY, name text, email text, born date);
INSERT INTO md_upg VALUES (1, 'Ann Smith', 'ann@example.com', '1985-06-15'),
                          (2, 'Bob Jones', 'bob@example.org', '1990-02-01');
SELECT privacy.set_mask('md_upg', 'email', 'email');
SELECT privacy.set_mask('md_upg', 'name', 'none', role => 'md_upg_reader');
SELECT privacy.create_masking_view('md_upg');
CREATE TABLE md_upg_norules (a int, b text);            -- a view without any rule
INSERT INTO md_upg_norules VALUES (1, 'one');
SELECT privacy.create_masking_view('md_upg_norules');
CREATE TABLE md_upg_noview (a int, b text);             -- rules, no view: untouched
SELECT privacy.set_mask('md_upg_noview', 'b', 'redact');
SELECT privacy.mask_role('md_upg_reader');
SET ROLE md_upg_reader;
CREATE TEMP TABLE before_upgrade AS
  SELECT 'md_upg' AS v, row_to_json(m)::text AS r FROM masked.md_upg m
  UNION ALL SELECT 'md_upg_norules', row_to_json(m)::text FROM masked.md_upg_norules m;
SELECT * FROM before_upgrade ORDER BY 1, 2;
RESET ROLE;
ALTER EXTENSION privacy_ext UPDATE TO '1.1';
SELECT relid, column_name, role_name, rule, created_by FROM privacy.mask_rules ORDER BY 1, 2, 3;
SET ROLE md_upg_reader;
SELECT count(*) AS changed FROM
  ((SELECT * FROM before_upgrade EXCEPT
    (SELECT 'md_upg', row_to_json(m)::text FROM masked.md_upg m
     UNION ALL SELECT 'md_upg_norules', row_to_json(m)::text FROM masked.md_upg_norules m))
   UNION ALL
   (SELECT 'md_upg', row_to_json(m)::text FROM masked.md_upg m
    UNION ALL SELECT 'md_upg_norules', row_to_json(m)::text FROM masked.md_upg_norules m
    EXCEPT SELECT * FROM before_upgrade)) d;
RESET ROLE;
-- Built again by 1.1 (an ALTER TABLE): the same values, and the new column
-- redacted.
ALTER TABLE md_upg ADD COLUMN phone text DEFAULT '555';
ALTER TABLE md_upg_norules ADD COLUMN c text DEFAULT 'new';
SET ROLE md_upg_reader;
SELECT * FROM masked.md_upg ORDER BY id;
SELECT * FROM masked.md_upg_norules;
SELECT * FROM public.md_upg ORDER BY id;                 -- transparent, the same
RESET ROLE;
\c :regress_db
DROP DATABASE masking_default_upgrade;
DROP ROLE md_upg_reader;
