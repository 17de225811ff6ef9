-- Attacks found by an adversarial review of 1.1, each refused now.
SELECT privacy.create_key('hd_k') > 0 AS created, privacy.create_key('hd_pseudo') > 0 AS created;
CREATE ROLE hd_admin;
GRANT privacy_admin TO hd_admin;
CREATE ROLE hd_nobody;
GRANT CREATE ON SCHEMA public TO hd_nobody, hd_admin;

-- A NULL key name is an error, not a crashed server.
SELECT privacy.destroy_key(NULL, 'destroy x');
SELECT privacy.destroy_key(NULL, NULL);
-- So is every other NULL argument of a function that changes state: it was
-- STRICT in 1.0, answered NULL and did nothing, which read like success.
SELECT privacy.create_key(NULL);
SELECT privacy.rotate_key(NULL);
SELECT privacy.grant_key(NULL, 'hd_nobody');
SELECT privacy.grant_key('hd_k', NULL);
SELECT privacy.revoke_key('hd_k', NULL);
SELECT privacy.revoke_key(NULL, NULL);
SELECT privacy.drop_key_version('hd_k', NULL);
SELECT privacy.drop_key_version(NULL, 1);
SELECT privacy.reencrypt(NULL, 'c');
SELECT privacy.reencrypt('pg_class', NULL);
SELECT privacy.reencrypt('pg_class', 'relname', NULL);
SELECT privacy.anonymize_table(NULL);
-- nothing was created, granted or rotated by them
SELECT name, active_version, granted_to FROM privacy.keys WHERE name LIKE 'hd%' ORDER BY name;

-- Schema masked holds only masking views: an administrator cannot place a
-- function, operator, type or table there for masked roles to resolve.
SET ROLE hd_admin;
CREATE FUNCTION masked.hd_eq(varchar, varchar) RETURNS boolean LANGUAGE sql AS $$ SELECT $1::text = $2::text $$;
CREATE OPERATOR masked.=== (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_catalog.texteq);
CREATE TABLE masked.hd_t (a int);
CREATE TYPE masked.hd_type AS (a int);
CREATE FUNCTION public.hd_moved() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
ALTER FUNCTION public.hd_moved() SET SCHEMA masked;
DROP FUNCTION public.hd_moved();
RESET ROLE;

-- apply_mask cannot be stored in DDL expressions, where the parse-time
-- guard does not see it: defaults, checks, policies, indexes, triggers'
-- WHEN, BEGIN ATOMIC bodies, rule actions.
CREATE TABLE hd_staff (id int PRIMARY KEY, name text, ssn privacy.encrypted_text('hd_k'));
INSERT INTO hd_staff VALUES (1, 'Ann Smith', '123-45-6789');
SELECT privacy.set_mask('hd_staff', 'name', 'hash(''hd_pseudo'')');
SELECT privacy.set_mask('hd_staff', 'ssn', 'partial(0, ''***-**-'', 4)');
-- 1.1, privacy by default: a column without a rule is redacted; these are shown in clear.
SELECT count(*) AS shown_in_clear FROM unnest(ARRAY['id']) c, LATERAL privacy.set_mask('hd_staff', c, 'none');
SELECT privacy.create_masking_view('hd_staff');
SET ROLE hd_nobody;
CREATE TEMP TABLE hd_o (i int, p text DEFAULT privacy.apply_mask('Ann Smith'::text, 'hd_staff'::regclass, 'name'::name));
CREATE TEMP TABLE hd_o (i int, CHECK (privacy.apply_mask(i::text, 'hd_staff'::regclass, 'name'::name) <> ''));
CREATE TABLE hd_own (i int, t text);
CREATE INDEX ON hd_own ((privacy.apply_mask(t, 'hd_staff'::regclass, 'name'::name)));
ALTER TABLE hd_own ENABLE ROW LEVEL SECURITY;
CREATE POLICY hd_p ON hd_own USING (privacy.apply_mask(t, 'hd_staff'::regclass, 'name'::name) IS NOT NULL);
CREATE FUNCTION hd_atomic() RETURNS text LANGUAGE sql
    BEGIN ATOMIC SELECT privacy.apply_mask('Ann Smith'::text, 'hd_staff'::regclass, 'name'::name); END;
CREATE RULE hd_r AS ON INSERT TO hd_own DO ALSO
    SELECT privacy.apply_mask('Ann Smith'::text, 'hd_staff'::regclass, 'name'::name);
CREATE DOMAIN hd_dom AS text CHECK (privacy.apply_mask(VALUE, 'hd_staff'::regclass, 'name'::name) <> '');
-- the query-time guard still refuses the direct call
SELECT privacy.apply_mask('Ann Smith'::text, 'hd_staff'::regclass, 'name'::name);
-- Bodies the planner inlines were never analysed with the guard when
-- check_function_bodies was off: checked as they are planned, at any depth.
SET check_function_bodies = off;
CREATE FUNCTION pg_temp.hd_inl(v text) RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT privacy.apply_mask(v, 'hd_staff'::regclass, 'name'::name) $$;
CREATE FUNCTION pg_temp.hd_outer(v text) RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT pg_temp.hd_inl(v) $$;
RESET check_function_bodies;
SELECT pg_temp.hd_inl('Ann Smith');
SELECT 1 WHERE pg_temp.hd_outer('Ann Smith') IS NOT NULL;
PREPARE hd_prep AS SELECT pg_temp.hd_outer($1);
EXECUTE hd_prep('Ann Smith');
DEALLOCATE hd_prep;
-- A table made a view by CREATE RULE "_RETURN": its action was never analysed with the guard.
CREATE TEMP TABLE hd_peek (shown text);
CREATE RULE "_RETURN" AS ON SELECT TO hd_peek DO INSTEAD
    SELECT privacy.apply_mask('Ann Smith'::text, 'hd_staff'::regclass, 'name'::name) AS shown;
SELECT * FROM hd_peek;
DROP FUNCTION pg_temp.hd_outer(text), pg_temp.hd_inl(text);
DROP TABLE hd_peek;
RESET ROLE;
-- A SQL function that takes the column straight from the table is still planned.
CREATE FUNCTION hd_straight() RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT privacy.apply_mask(ssn, 'hd_staff'::regclass, 'ssn'::name) FROM hd_staff WHERE id = 1 $$;
SELECT hd_straight();
DROP FUNCTION hd_straight();
SELECT count(*) AS nothing_stored FROM pg_depend d
 WHERE d.refclassid = 'pg_proc'::regclass
   AND d.refobjid IN (SELECT oid FROM pg_proc WHERE proname = 'apply_mask')
   AND d.classid <> 'pg_rewrite'::regclass;
-- the masking view itself keeps working, and follows DDL
SELECT id, ssn FROM masked.hd_staff;
ALTER TABLE hd_staff ADD COLUMN note text;
SELECT count(*) FROM masked.hd_staff;

-- Domains, arrays and composite types of encrypted types name their key.
SET privacy.default_key = 'hd_k';
CREATE DOMAIN hd_ssn AS privacy.encrypted_text;
CREATE DOMAIN hd_ssns AS privacy.encrypted_text_det[];
CREATE TYPE hd_pair AS (a privacy.encrypted_text, b int);
-- ALTER TYPE adds or changes attributes too (it bypassed the check)
CREATE TYPE hd_addr AS (street text);
ALTER TYPE hd_addr ADD ATTRIBUTE ssn privacy.encrypted_text;
\echo :LAST_ERROR_SQLSTATE
ALTER TYPE hd_addr ADD ATTRIBUTE ssns privacy.encrypted_text_det[];
ALTER TYPE hd_addr ADD ATTRIBUTE ssn privacy.encrypted_text('hd_k');
ALTER TYPE hd_addr ALTER ATTRIBUTE ssn TYPE privacy.encrypted_bytea;
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'hd_addr'::regclass AND attnum > 0 ORDER BY attnum;
DROP TYPE hd_addr;
CREATE DOMAIN hd_ssn_ok AS privacy.encrypted_text('hd_k');
CREATE TABLE hd_people (id int, ssn hd_ssn_ok, old privacy.encrypted_text[], docs privacy.encrypted_bytea[]);
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'hd_people'::regclass AND attnum > 1 ORDER BY attnum;
INSERT INTO hd_people VALUES (1, 'HD-1', ARRAY['HD-2', 'HD-3']::privacy.encrypted_text[], ARRAY['\x01'::bytea]::privacy.encrypted_bytea[]);
SELECT privacy.envelope_key_id(ssn) = privacy.envelope_key_id(old[2]) AS same_key,
       privacy.envelope_key_id(old[1]) > 0 AS bound, privacy.decrypt(old[2]) FROM hd_people;
RESET privacy.default_key;
CREATE TABLE hd_nokey (old privacy.encrypted_text[]);

-- mask_credit_card never copies a character outside ASCII (a digit of
-- another script): one '*' for each.
SELECT privacy.mask_credit_card('１２３４５６７８'), privacy.mask_credit_card('١٢٣٤٥٦'),
       privacy.mask_credit_card('ééééé'), privacy.mask_credit_card('4111 1111 1111 1111');

DROP TABLE hd_people, hd_own, hd_staff CASCADE;
DROP DOMAIN hd_ssn_ok;
REVOKE CREATE ON SCHEMA public FROM hd_nobody, hd_admin;
DROP ROLE hd_admin;
DROP ROLE hd_nobody;

-- Empty and NULL arguments get their own clear errors.
SELECT privacy.create_purpose('', 'consent');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.create_purpose('  ', 'consent');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.create_purpose(NULL, 'consent');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.create_purpose('hd_no_basis', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS no_purpose_created FROM privacy.purposes WHERE name IN ('', '  ', 'hd_no_basis');
SELECT privacy.erase_subject('');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.export_subject('');
\echo :LAST_ERROR_SQLSTATE
-- ::varchar decrypts like ::text, with the same grant check.
CREATE TABLE hd_vc (id int, s privacy.encrypted_text('hd_k'), d privacy.encrypted_text_det('hd_k'));
INSERT INTO hd_vc VALUES (1, 'vc secret', 'vc det');
SELECT s::varchar AS s_varchar, d::varchar AS d_varchar, s::varchar(2) AS truncated FROM hd_vc;
-- and ::char(n) (it gave the envelope cut to n characters)
SELECT s::char(4) AS s_char, d::char(3) AS d_char, s::bpchar AS s_bpchar, length(s::char(20)) AS padded_len FROM hd_vc;
CREATE ROLE hd_vc_reader;
GRANT SELECT ON hd_vc TO hd_vc_reader;
SET ROLE hd_vc_reader;
SELECT s::varchar FROM hd_vc;
\echo :LAST_ERROR_SQLSTATE
SELECT s::char(4) FROM hd_vc;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP TABLE hd_vc;
DROP ROLE hd_vc_reader;
-- apply_mask opens a value only under the key of the column it names: a
-- value under another key (here the column's key changed behind its back
-- in the catalog) is refused with its own SQLSTATE, on the per-row path,
-- the general one ('none'), and through a domain; not masked as if it
-- were this column's.
SELECT privacy.create_key('hd_other') > 0 AS created;
CREATE DOMAIN hd_secret AS privacy.encrypted_text('hd_k');
CREATE TABLE hd_mk (id int, a privacy.encrypted_text('hd_k'), b privacy.encrypted_text('hd_k'), d hd_secret);
INSERT INTO hd_mk VALUES (1, 'mk-secret-a', 'mk-secret-b', 'mk-secret-d');
SELECT privacy.set_mask('hd_mk', 'id', 'none');
SELECT privacy.set_mask('hd_mk', 'a', 'partial(1, ''*'', 0)');
SELECT privacy.set_mask('hd_mk', 'b', 'none');
SELECT privacy.set_mask('hd_mk', 'd', 'partial(1, ''*'', 0)');
SELECT privacy.create_masking_view('hd_mk');
CREATE ROLE hd_mk_reader;
SELECT privacy.mask_role('hd_mk_reader');
SELECT privacy.grant_key('hd_k', 'hd_mk_reader');
SELECT privacy.grant_key('hd_other', 'hd_mk_reader');
GRANT SELECT ON hd_mk TO hd_mk_reader;
SET ROLE hd_mk_reader;
SELECT * FROM hd_mk;
RESET ROLE;
UPDATE pg_attribute SET atttypmod = (SELECT key_id FROM privacy.data_keys WHERE name = 'hd_other')
 WHERE attrelid = 'hd_mk'::regclass AND attname IN ('a', 'b');
UPDATE pg_type SET typtypmod = (SELECT key_id FROM privacy.data_keys WHERE name = 'hd_other')
 WHERE oid = 'hd_secret'::regtype;
SET ROLE hd_mk_reader;
SELECT a FROM hd_mk;
\echo :LAST_ERROR_SQLSTATE
SELECT b FROM hd_mk;
\echo :LAST_ERROR_SQLSTATE
SELECT d FROM hd_mk;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP TABLE hd_mk CASCADE;
DROP DOMAIN hd_secret;
SELECT privacy.unmask_role('hd_mk_reader');
SELECT privacy.revoke_key('hd_k', 'hd_mk_reader');
SELECT privacy.revoke_key('hd_other', 'hd_mk_reader');
DROP ROLE hd_mk_reader;

-- Extended statistics over an encrypted column are refused: ANALYZE would
-- store the decrypted values (an expression's) in pg_statistic_ext_data,
-- shown to every reader through the planner's estimates.  Statistics on
-- the other columns are fine.
CREATE TABLE hd_stats (id int, zip text, ssn privacy.encrypted_text('hd_k'),
                       email privacy.encrypted_text_det('hd_k'));
CREATE STATISTICS hd_s1 ON (privacy.decrypt(ssn)) FROM hd_stats;
\echo :LAST_ERROR_SQLSTATE
CREATE STATISTICS hd_s2 ON (ssn::text) FROM hd_stats;
\echo :LAST_ERROR_SQLSTATE
CREATE STATISTICS hd_s3 (mcv) ON id, email FROM hd_stats;
\echo :LAST_ERROR_SQLSTATE
CREATE STATISTICS hd_s4 ON id, zip FROM hd_stats;
SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'hd_stats'::regclass;
DROP TABLE hd_stats;
-- Statistics made on a column before it is encrypted: the ALTER that
-- encrypts it is refused (ALTER COLUMN TYPE rebuilds the statistics), also
-- through a partitioned parent, until they are dropped.
CREATE TABLE hd_q (id int, ssn text);
CREATE STATISTICS hd_q_ssn ON ((ssn)::varchar) FROM hd_q;
ALTER TABLE hd_q ALTER COLUMN ssn TYPE privacy.encrypted_text('hd_k');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE hd_qp (id int, ssn text) PARTITION BY RANGE (id);
CREATE TABLE hd_qp1 PARTITION OF hd_qp FOR VALUES FROM (0) TO (10);
CREATE STATISTICS hd_qp1_ssn ON id, ((ssn)::varchar) FROM hd_qp1;
ALTER TABLE hd_qp ALTER COLUMN ssn TYPE privacy.encrypted_text('hd_k');
\echo :LAST_ERROR_SQLSTATE
DROP STATISTICS hd_q_ssn;
ALTER TABLE hd_q ALTER COLUMN ssn TYPE privacy.encrypted_text('hd_k');
SELECT column_name FROM privacy.encrypted_columns WHERE relid = 'hd_q'::regclass;
DROP TABLE hd_q, hd_qp;
