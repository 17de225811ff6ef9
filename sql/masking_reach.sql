-- What a masked role cannot reach around its masking views: partitions and
-- inheritance children, planner statistics, DDL that runs code over the
-- rows or probes them; generalize() steps that would show values unchanged.
SET client_min_messages = warning;

-- 1. Partitions and inheritance children hold the masked table's rows.
CREATE TABLE mr_p (id int, region text, email text) PARTITION BY LIST (region);
CREATE TABLE mr_p_eu PARTITION OF mr_p FOR VALUES IN ('eu');
INSERT INTO mr_p VALUES (1, 'eu', 'ann@example.com');
CREATE TABLE mr_parent (id int, email text);
CREATE TABLE mr_child () INHERITS (mr_parent);
CREATE TABLE mr_grandchild () INHERITS (mr_child);
INSERT INTO mr_child VALUES (2, 'bob@example.com');
INSERT INTO mr_grandchild VALUES (3, 'cy@example.com');
CREATE ROLE regress_mr_support;
GRANT SELECT ON mr_p, mr_p_eu, mr_parent, mr_child, mr_grandchild TO regress_mr_support;
SELECT privacy.set_mask('mr_p', 'email', 'email'), privacy.set_mask('mr_parent', 'email', 'email');
SELECT privacy.create_masking_view('mr_p'), privacy.create_masking_view('mr_parent');
SELECT privacy.mask_role('regress_mr_support');
-- mask_role took the direct grants on the descendants too
SELECT c.relname, has_table_privilege('regress_mr_support', c.oid, 'SELECT') AS can_select
  FROM pg_class c WHERE c.relname IN ('mr_p_eu', 'mr_child', 'mr_grandchild') ORDER BY 1;
-- and granted again through PUBLIC, reading one by name is refused
GRANT SELECT ON mr_p_eu, mr_child, mr_grandchild TO PUBLIC;
SET ROLE regress_mr_support;
SELECT id, email FROM mr_p;
SELECT id, email FROM mr_p_eu;
\echo :LAST_ERROR_SQLSTATE
SELECT id, email FROM mr_parent ORDER BY id;
SELECT id, email FROM mr_child;
\echo :LAST_ERROR_SQLSTATE
SELECT id, email FROM mr_grandchild;
\echo :LAST_ERROR_SQLSTATE

-- 2. Planner statistics show column values: a masked session reads none.
RESET ROLE;
GRANT SELECT ON mr_parent TO PUBLIC;
ANALYZE mr_parent, mr_child;
SET ROLE regress_mr_support;
SELECT count(*) FROM pg_stats WHERE tablename LIKE 'mr\_%';
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM pg_stats_ext;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) > 0 AS others_still_read_them FROM pg_stats WHERE tablename = 'mr_parent';

-- 3. DDL of a masked role on a masked table, or tying a table to one, is
-- refused before it runs (a CHECK constraint's function would see every
-- clear value while the command runs).
CREATE ROLE regress_mr_owner;
GRANT CREATE ON SCHEMA public TO regress_mr_owner;
SET ROLE regress_mr_owner;
CREATE TABLE mr_ot (id int PRIMARY KEY, secret text UNIQUE);
INSERT INTO mr_ot VALUES (1, 'owner-secret');
CREATE FUNCTION mr_leak(text) RETURNS bool LANGUAGE plpgsql IMMUTABLE
    AS $$BEGIN RAISE NOTICE 'leak: %', $1; RETURN true; END$$;
GRANT ALL ON mr_ot TO PUBLIC;
RESET ROLE;
SELECT privacy.set_mask('mr_ot', 'secret', 'redact');
SELECT privacy.create_masking_view('mr_ot');
SET client_min_messages = warning;
SELECT privacy.mask_role('regress_mr_owner');   -- WARNING: an owner
SET client_min_messages = notice;
SET ROLE regress_mr_owner;
SELECT * FROM mr_ot;
ALTER TABLE mr_ot ADD CONSTRAINT c CHECK (mr_leak(secret));
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON mr_ot (mr_leak(secret));
CREATE TRIGGER t AFTER INSERT ON mr_ot FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
CREATE RULE r AS ON INSERT TO mr_ot DO ALSO NOTHING;
CREATE POLICY p ON mr_ot USING (mr_leak(secret));
CREATE STATISTICS s ON id, secret FROM mr_ot;
RESET ROLE;
SET ROLE regress_mr_support;      -- holds REFERENCES through PUBLIC
CREATE TABLE mr_probe (e text REFERENCES mr_ot (secret));
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_mr_owner;
CREATE TABLE mr_probe2 (e text);
ALTER TABLE mr_probe2 ADD FOREIGN KEY (e) REFERENCES mr_ot (secret);
ALTER TABLE mr_probe2 ADD COLUMN f text REFERENCES mr_ot (secret);
ALTER TABLE mr_probe2 ADD COLUMN g int;    -- its own table: fine
DROP TABLE mr_probe2;
-- Partitions: a new partition's bound is checked against the rows of the
-- default partition, an attached table's rows against its bound (the error
-- said whether some value is in a range), and an attached table is read
-- through its new parent.  Maintenance evaluates index and statistics
-- expressions over the rows (mr_leak's NOTICE showed every value).
RESET ROLE;
SET client_min_messages = warning;
CREATE INDEX mr_ot_leak ON mr_ot (mr_leak(secret));
CREATE TABLE mr_pr (id int, n int) PARTITION BY RANGE (n);
CREATE TABLE mr_pr_def PARTITION OF mr_pr DEFAULT;
INSERT INTO mr_pr VALUES (1, 4242);
CREATE TABLE mr_pn (id int, n int);
INSERT INTO mr_pn VALUES (1, 4242);
CREATE MATERIALIZED VIEW mr_mv AS SELECT id, n FROM mr_pn;
CREATE INDEX ON mr_mv (mr_leak(n::text));
ALTER TABLE mr_pr OWNER TO regress_mr_owner;
ALTER TABLE mr_pr_def OWNER TO regress_mr_owner;
ALTER TABLE mr_pn OWNER TO regress_mr_owner;
ALTER MATERIALIZED VIEW mr_mv OWNER TO regress_mr_owner;
SELECT privacy.set_mask(t, 'n', 'redact') FROM unnest(ARRAY['mr_pr', 'mr_pn', 'mr_mv']) t;
SELECT privacy.create_masking_view(t::regclass) FROM unnest(ARRAY['mr_pr', 'mr_pn', 'mr_mv']) t;
SET client_min_messages = notice;
SET ROLE regress_mr_owner;
CREATE TABLE mr_probe3 PARTITION OF mr_pr FOR VALUES FROM (4000) TO (4300);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE mr_probe3 PARTITION OF mr_pr FOR VALUES FROM (0) TO (10);    -- the same error
CREATE TABLE mr_probe3 () INHERITS (mr_pn);
CREATE TABLE mr_up (id int, n int) PARTITION BY RANGE (n);
ALTER TABLE mr_up ATTACH PARTITION mr_pn FOR VALUES FROM (4000) TO (4300);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM mr_up;
CREATE TABLE mr_probe3 (id int, n int);
ALTER TABLE mr_pr ATTACH PARTITION mr_probe3 FOR VALUES FROM (4000) TO (4300);
ALTER TABLE mr_probe3 INHERIT mr_pn;
CREATE TABLE mr_up_def PARTITION OF mr_up DEFAULT;   -- its own tables: fine
DROP TABLE mr_probe3;
-- a parent holds its partitions' rows: DDL and maintenance recurse into them
RESET ROLE;
ALTER TABLE mr_up ATTACH PARTITION mr_pn FOR VALUES FROM (4000) TO (4300);
SET ROLE regress_mr_owner;
CREATE INDEX ON mr_up (mr_leak(n::text));
\echo :LAST_ERROR_SQLSTATE
ANALYZE mr_up;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
ALTER TABLE mr_up DETACH PARTITION mr_pn;
SET ROLE regress_mr_owner;
DROP TABLE mr_up;
REINDEX TABLE mr_ot;
\echo :LAST_ERROR_SQLSTATE
REINDEX INDEX mr_ot_leak;
ANALYZE mr_ot;
\echo :LAST_ERROR_SQLSTATE
VACUUM FULL mr_ot;
VACUUM mr_ot;
VACUUM (ANALYZE) mr_pr;
CLUSTER mr_ot USING mr_ot_leak;
\echo :LAST_ERROR_SQLSTATE
REFRESH MATERIALIZED VIEW mr_mv;
-- without a table list they would process every table the role owns
ANALYZE;
\echo :LAST_ERROR_SQLSTATE
VACUUM;
CLUSTER;
REINDEX SCHEMA public;
CREATE TABLE mr_own (id int);
VACUUM mr_own;                        -- its own tables: fine
ANALYZE mr_own;
REINDEX TABLE mr_own;
DROP TABLE mr_own;
RESET ROLE;
-- a role that is not masked maintains them
SET client_min_messages = warning;
REINDEX TABLE mr_ot;
ANALYZE mr_ot, mr_pr;
VACUUM FULL mr_ot;
CLUSTER mr_ot USING mr_ot_leak;
DROP MATERIALIZED VIEW mr_mv CASCADE;
DROP TABLE mr_pr, mr_pn CASCADE;
SET client_min_messages = notice;
SET ROLE regress_mr_owner;
RESET ROLE;
SET client_min_messages = warning;

-- 4. generalize(step) on integers: steps beyond int64 floor to multiples
-- of the step; fractional steps (1.5, 2.5) are refused, as they leave some
-- values unchanged; none shows the values unchanged.
CREATE TABLE mr_g (id int, i4 int, i8 bigint, i2 smallint);
INSERT INTO mr_g VALUES (1, 51235, 9876543210, 1234), (2, -7, 7, -7);
SELECT privacy.set_mask('mr_g', 'id', 'none');
SELECT privacy.set_mask('mr_g', c, 'generalize(1e19)') FROM unnest(ARRAY['i4', 'i8', 'i2']) c;
SELECT privacy.create_masking_view('mr_g');
SELECT * FROM masked.mr_g ORDER BY id;
SELECT privacy.set_mask('mr_g', c, 'generalize(1.5)') FROM unnest(ARRAY['i4', 'i8', 'i2']) c;
SELECT * FROM masked.mr_g ORDER BY id;
SELECT privacy.set_mask('mr_g', 'i4', 'generalize(2.5)');
SELECT id, i4 FROM masked.mr_g ORDER BY id;
-- a step of at most 1 would show every integer unchanged: refused, the
-- rule in force stays; a float or numeric column takes it
SELECT privacy.set_mask('mr_g', 'i4', 'generalize(1)');
SELECT privacy.set_mask('mr_g', 'i8', 'generalize(0.5)');
SELECT privacy.set_mask('mr_g', 'i2', 'generalize(1e-300)');
SELECT column_name, rule FROM privacy.mask_rules WHERE relid = 'mr_g'::regclass ORDER BY 1;
SELECT id, i4, i8, i2 FROM masked.mr_g ORDER BY id;
SELECT privacy.check_mask_rule('generalize(0.5)', 'float8'), privacy.check_mask_rule('generalize(1)', 'numeric');
-- a fractional step is refused too (1.0001 shows value - 1 or the value,
-- 1.5 every multiple of 3 unchanged); an integer step of 2 masks
SELECT privacy.check_mask_rule('generalize(1.0001)', 'int4');
SELECT privacy.check_mask_rule('generalize(2.5)', 'int8');
SELECT privacy.check_mask_rule('generalize(2)', 'int2');
-- JSON numbers may be fractional: generalize(1) inside jsonb() takes them
-- as numeric does
SELECT privacy.check_mask_rule('jsonb(''$.age'' generalize(1))', 'jsonb');
-- noise below float8's precision changes no value: refused, inside jsonb() too
SELECT privacy.check_mask_rule('noise(1e-300)', 'float8');
SELECT privacy.check_mask_rule('noise(1e-17)', 'numeric');
SELECT privacy.check_mask_rule('jsonb(''$.n'' noise(1e-300))', 'jsonb');
SELECT privacy.check_mask_rule('noise(1e-15)', 'float8');
-- noise on a numeric beyond float8's range: NULL, never the value in clear
CREATE TABLE mr_nz (id int, n numeric, j jsonb);
INSERT INTO mr_nz VALUES (1, 1e400, '{"n": 1e400, "m": 5}'), (2, 1000, '{"n": 1000}');
SELECT privacy.set_mask('mr_nz', 'id', 'none'), privacy.set_mask('mr_nz', 'n', 'noise(0.1)'),
       privacy.set_mask('mr_nz', 'j', 'jsonb(''$.n'' noise(0.1))');
SELECT privacy.create_masking_view('mr_nz');
SELECT id, n IS NULL AS n_null, n BETWEEN 900 AND 1100 AS n_near,
       CASE WHEN id = 1 THEN j -> 'n' END AS jn, j -> 'm' AS jm FROM masked.mr_nz ORDER BY id;
SELECT id, (j ->> 'n')::numeric BETWEEN 900 AND 1100 AS jn_near FROM masked.mr_nz WHERE id = 2;
DROP TABLE mr_nz CASCADE;
-- a numeric column's generalize(0.5) that becomes an integer column: NULL, not the values
CREATE TABLE mr_g3 (id int, n numeric);
INSERT INTO mr_g3 VALUES (1, 17.25);
SELECT privacy.set_mask('mr_g3', 'id', 'none'), privacy.set_mask('mr_g3', 'n', 'generalize(0.5)');
SELECT privacy.create_masking_view('mr_g3');
SELECT * FROM masked.mr_g3;
ALTER TABLE mr_g3 ALTER COLUMN n TYPE int USING n::int;
SELECT id, n IS NULL AS n_null FROM masked.mr_g3;
DROP TABLE mr_g3 CASCADE;
-- a constant rule the new column type does not accept: the ALTER is
-- refused (the view would fail on every read), nothing changes; a constant
-- the new type takes, or another kind of rule, lets it through
CREATE TABLE mr_v (id int, e text, f text);
INSERT INTO mr_v VALUES (1, '42', '43');
SELECT privacy.set_mask('mr_v', 'id', 'none'), privacy.set_mask('mr_v', 'e', 'value ''abc''');
SELECT privacy.set_mask('mr_v', 'e', 'value ''7''', role => 'regress_mr_support');
SELECT privacy.set_mask('mr_v', 'f', 'value ''-1''');
SELECT privacy.create_masking_view('mr_v');
ALTER TABLE mr_v ALTER COLUMN e TYPE int USING e::int;
SELECT attname, atttypid::regtype FROM pg_attribute WHERE attrelid = 'mr_v'::regclass AND attname = 'e';
SELECT * FROM masked.mr_v;
ALTER TABLE mr_v ALTER COLUMN f TYPE int USING f::int;
SELECT * FROM masked.mr_v;
SELECT privacy.set_mask('mr_v', 'e', 'value ''8''');
ALTER TABLE mr_v ALTER COLUMN e TYPE int USING e::int;
SELECT * FROM masked.mr_v;
ALTER TABLE mr_v ALTER COLUMN e TYPE jsonb USING to_jsonb(e);
SELECT id, e IS NULL AS e_null, f FROM masked.mr_v;
DROP TABLE mr_v CASCADE;
-- noise() on smallint and real: a value near the original, in range
-- (it was NULL in the view, the rule accepted when declared)
CREATE TABLE mr_noise (id int, s smallint, r real);
INSERT INTO mr_noise VALUES (1, 1000, 1000.5), (2, 32767, -3.4e38), (3, NULL, NULL);
SELECT privacy.set_mask('mr_noise', 'id', 'none');
SELECT privacy.set_mask('mr_noise', 's', 'noise(0.1)'), privacy.set_mask('mr_noise', 'r', 'noise(0.1)');
SELECT privacy.create_masking_view('mr_noise');
SELECT n.id, n.s IS NULL AS s_null, n.r IS NULL AS r_null,
       abs(n.s - t.s) <= 0.1 * abs(t.s) + 1 AS s_near, abs(n.r - t.r) <= 0.11 * abs(t.r) AS r_near
  FROM masked.mr_noise n JOIN mr_noise t USING (id) ORDER BY n.id;
DROP TABLE mr_noise CASCADE;
CREATE TABLE mr_g2 (id int, n int);
INSERT INTO mr_g2 VALUES (1, 51234);
SELECT privacy.set_mask('mr_g2', 'id', 'none');
SELECT privacy.set_mask('mr_g2', 'n', 'generalize(1e19)');
SELECT privacy.anonymize_table('mr_g2');
SELECT * FROM mr_g2;

-- 5. Rules, classifications and masking views are for a user's relations:
-- not a masking view (it was replaced by a view of itself), nor the
-- system's or the extension's tables, nor sequences.
CREATE TABLE mr_z (id int, zip text);
INSERT INTO mr_z VALUES (1, '75001');
SELECT privacy.set_mask('mr_z', 'zip', 'redact');
SELECT privacy.create_masking_view('mr_z');
\set VERBOSITY terse
SELECT privacy.create_masking_view('masked.mr_z');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.set_mask('masked.mr_z', 'zip', 'redact');
SELECT privacy.classify('masked.mr_z', 'zip', 'personal');
SELECT privacy.create_masking_view('pg_catalog.pg_authid');
SELECT privacy.create_masking_view('privacy.data_key_versions');
SELECT privacy.set_mask('privacy.mask_rules', 'rule', 'redact');
CREATE SEQUENCE mr_seq;
SELECT privacy.create_masking_view('mr_seq');
SELECT privacy.set_mask('mr_z', 'zip', NULL);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT pg_get_viewdef('masked.mr_z') LIKE '%FROM mr_z%' AS still_reads_the_table, (SELECT zip FROM masked.mr_z) AS zip;
SELECT count(*) AS stray_views FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'masked' AND c.relname IN ('pg_authid', 'data_key_versions', 'mr_seq');
DROP SEQUENCE mr_seq;
DROP TABLE mr_z CASCADE;

RESET ROLE;
SELECT privacy.unmask_role('regress_mr_support');
SELECT privacy.unmask_role('regress_mr_owner');
DROP TABLE mr_p, mr_parent, mr_child, mr_grandchild, mr_g, mr_g2 CASCADE;
DROP TABLE mr_ot CASCADE;
DROP VIEW IF EXISTS masked.mr_ot;
DELETE FROM privacy.mask_rules WHERE relid::text LIKE '%mr\_%' OR relid::oid NOT IN (SELECT oid FROM pg_class);
DELETE FROM privacy.masking_views WHERE view_name LIKE '%mr\_%';
DROP OWNED BY regress_mr_support, regress_mr_owner;
DROP ROLE regress_mr_support, regress_mr_owner;

-- 6. Registries that name roles follow DROP ROLE and ALTER ROLE ... RENAME:
-- a new role taking a dropped role's name gets none of its rules, grants or
-- masking; a renamed role keeps them.
SELECT privacy.create_key('mr_k') > 0 AS created;
SELECT privacy.create_purpose('mr_purpose', 'contract');
CREATE TABLE mr_staff (id int, note text, secret privacy.encrypted_text('mr_k'));
INSERT INTO mr_staff VALUES (1, 'confidential', 'S-1');
SELECT privacy.set_mask('mr_staff', 'id', 'none'), privacy.set_mask('mr_staff', 'note', 'redact');
SELECT privacy.create_masking_view('mr_staff');
CREATE ROLE regress_mr_hr;
SELECT privacy.set_mask('mr_staff', 'note', 'none', role => 'regress_mr_hr');
SELECT privacy.grant_purpose('regress_mr_hr', 'mr_purpose');
SELECT privacy.grant_key('mr_k', 'regress_mr_hr');
SELECT privacy.mask_role('regress_mr_hr');
DROP OWNED BY regress_mr_hr;
DROP ROLE regress_mr_hr;
SELECT (SELECT count(*) FROM privacy.mask_rules WHERE role_name = 'regress_mr_hr') AS rules,
       (SELECT count(*) FROM privacy.purpose_grants WHERE role_name = 'regress_mr_hr') AS purpose_grants,
       (SELECT count(*) FROM privacy.masked_roles WHERE role_name = 'regress_mr_hr') AS masked,
       (SELECT count(*) FROM privacy.key_grants WHERE grantee_name = 'regress_mr_hr') AS key_grants;
CREATE ROLE regress_mr_hr;
SELECT privacy.mask_role('regress_mr_hr');
SET ROLE regress_mr_hr;
SELECT id, note FROM mr_staff;          -- the dropped role's rule 'none' is not the new role's
SET privacy.purpose = 'mr_purpose';     -- nor its purpose grant
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT privacy.set_mask('mr_staff', 'note', 'none', role => 'regress_mr_hr');
SELECT privacy.grant_purpose('regress_mr_hr', 'mr_purpose');
ALTER ROLE regress_mr_hr RENAME TO regress_mr_people;
SELECT (SELECT array_agg(role_name) FROM privacy.mask_rules WHERE role_name IS NOT NULL AND relid = 'mr_staff'::regclass) AS rules,
       (SELECT array_agg(role_name) FROM privacy.purpose_grants WHERE purpose = 'mr_purpose') AS purpose_grants,
       (SELECT count(*) FROM privacy.masked_roles WHERE role_name = 'regress_mr_people') AS still_masked;
SET ROLE regress_mr_people;
SELECT id, note FROM mr_staff;          -- its rule followed the rename
SET privacy.purpose = 'mr_purpose';
RESET privacy.purpose;
RESET ROLE;
SELECT privacy.unmask_role('regress_mr_people');
DROP TABLE mr_staff CASCADE;
DROP OWNED BY regress_mr_people;
DROP ROLE regress_mr_people;
DELETE FROM privacy.purposes WHERE name = 'mr_purpose';

-- 7. A dropped relation's rows leave the registries: a table given its OID
-- later would have taken over its rules, classification and protection.
CREATE TABLE mr_gone (id int, email text, subj text);
SELECT privacy.set_mask('mr_gone', 'email', 'email');
SELECT privacy.classify('mr_gone', 'email', 'personal');
SELECT privacy.set_quasi_identifiers('mr_gone', ARRAY['email']);
SELECT privacy.protect_table('mr_gone', 'subj');
SELECT privacy.create_masking_view('mr_gone');
SELECT 'mr_gone'::regclass::oid AS gone_oid \gset
DROP TABLE mr_gone CASCADE;
SELECT (SELECT count(*) FROM privacy.mask_rules WHERE relid::oid = :gone_oid) AS rules,
       (SELECT count(*) FROM privacy.classifications WHERE relid::oid = :gone_oid) AS classified,
       (SELECT count(*) FROM privacy.quasi_identifiers WHERE relid::oid = :gone_oid) AS quasi,
       (SELECT count(*) FROM privacy.protected_tables WHERE relid::oid = :gone_oid) AS protected,
       (SELECT count(*) FROM privacy.masking_views WHERE relid::oid = :gone_oid) AS views;
-- A dropped column's rules and classification go with it: a column added
-- later under its name starts with none (rules of a renamed column stay).
CREATE TABLE mr_cols (id int, email text, phone text);
SELECT privacy.set_mask('mr_cols', 'email', 'email');
SELECT privacy.set_mask('mr_cols', 'phone', 'partial(0, ''*'', 2)');
SELECT privacy.classify('mr_cols', 'email', 'sensitive');
ALTER TABLE mr_cols RENAME COLUMN phone TO mobile;
ALTER TABLE mr_cols DROP COLUMN email;
ALTER TABLE mr_cols ADD COLUMN email text;
SELECT column_name, rule FROM privacy.mask_rules WHERE relid = 'mr_cols'::regclass ORDER BY 1;
SELECT count(*) AS email_classified FROM privacy.classifications WHERE relid = 'mr_cols'::regclass;
DROP TABLE mr_cols;

-- 8. An administrator who cannot read a table cannot make its masking
-- view (the view, its own, would fail on every read).
CREATE TABLE mr_closed (id int, secret text);
CREATE ROLE regress_mr_admin IN ROLE privacy_admin;
SET ROLE regress_mr_admin;
SELECT privacy.create_masking_view('mr_closed');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT SELECT ON mr_closed TO regress_mr_admin;
GRANT CREATE ON SCHEMA masked TO regress_mr_admin;
SET ROLE regress_mr_admin;
SELECT privacy.create_masking_view('mr_closed');
SELECT count(*) FROM masked.mr_closed;
RESET ROLE;
DROP TABLE mr_closed CASCADE;
DROP OWNED BY regress_mr_admin;
DROP ROLE regress_mr_admin;

-- 9. A parent that has no masking view while one of its partitions or
-- children (at any level) has one: reading the parent reads that table's
-- rows, so a masked role may not read or change it (ONLY the parent reads
-- none of them); a parent with its own masking view is read through it.
CREATE TABLE mr_pp (id int, region text, email text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE mr_pp_eu PARTITION OF mr_pp FOR VALUES IN ('eu');
CREATE TABLE mr_pp_us PARTITION OF mr_pp FOR VALUES IN ('us');
INSERT INTO mr_pp VALUES (1, 'eu', 'eve@example.com'), (2, 'us', 'sam@example.com');
CREATE TABLE mr_ip (id int, email text);
CREATE TABLE mr_ic () INHERITS (mr_ip);
CREATE TABLE mr_igc () INHERITS (mr_ic);
INSERT INTO mr_ip VALUES (3, 'pat@example.com');
INSERT INTO mr_igc VALUES (4, 'gus@example.com');
CREATE TABLE mr_mp (id int, email text);
CREATE TABLE mr_mc () INHERITS (mr_mp);
INSERT INTO mr_mc VALUES (5, 'max@example.com');
SELECT privacy.set_mask(t, 'email', 'email') FROM unnest(ARRAY['mr_pp_eu', 'mr_igc', 'mr_mp', 'mr_mc']) t;
SELECT privacy.create_masking_view(t::regclass) FROM unnest(ARRAY['mr_pp_eu', 'mr_igc', 'mr_mp', 'mr_mc']) t;
CREATE ROLE regress_mr_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON mr_pp, mr_ip, mr_mp TO regress_mr_reader;
SELECT privacy.mask_role('regress_mr_reader');
SET ROLE regress_mr_reader;
SELECT id, email FROM mr_pp ORDER BY id;                -- mr_pp_eu's rows
\echo :LAST_ERROR_SQLSTATE
SELECT id, email FROM mr_ip ORDER BY id;                -- the grandchild's rows
\echo :LAST_ERROR_SQLSTATE
UPDATE mr_pp SET id = id RETURNING id, email;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
DELETE FROM mr_ip WHERE email LIKE 'g%' RETURNING id, email;
ROLLBACK;
INSERT INTO mr_pp VALUES (1, 'eu', 'x') ON CONFLICT (id, region) DO UPDATE SET id = excluded.id RETURNING id, email;
\echo :LAST_ERROR_SQLSTATE
-- writes reach the partition's rows too (an INSERT is routed to them)
BEGIN;
UPDATE mr_ip SET email = 'x';
ROLLBACK;
INSERT INTO mr_pp VALUES (9, 'us', 'new@example.com');
COPY mr_pp TO STDOUT;
COPY (SELECT id, email FROM mr_ip ORDER BY id) TO STDOUT;
\echo :LAST_ERROR_SQLSTATE
CREATE TEMP VIEW mr_iv AS SELECT id, email FROM mr_ip;  -- the role's own view
SELECT id, email FROM mr_iv ORDER BY id;
-- ONLY the parent reads none of the masked rows
SELECT id, email FROM ONLY mr_pp ORDER BY id;
SELECT id, email FROM ONLY mr_ip ORDER BY id;
COPY mr_ip TO STDOUT;
-- the masking views of the partition and the grandchild
SELECT id, email FROM masked.mr_pp_eu;
SELECT id, email FROM masked.mr_igc;
-- a parent with a masking view is read through it, children included
SELECT id, email FROM mr_mp ORDER BY id;
RESET ROLE;
-- TRUNCATE empties the masked rows through a parent, or of a partition of
-- a masked table, as a DELETE would: refused (ONLY the parent is not)
GRANT TRUNCATE ON mr_pp, mr_pp_eu, mr_ip, mr_ic, mr_igc, mr_mc TO regress_mr_reader;
SET ROLE regress_mr_reader;
TRUNCATE mr_pp;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE mr_ic;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE mr_mc;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
TRUNCATE ONLY mr_ip;
ROLLBACK;
RESET ROLE;
SELECT count(*) AS masked_rows_kept FROM mr_igc;
-- its own rights: a role that is not masked reads the parents
SELECT id, email FROM mr_ip ORDER BY id;
-- ONLY a parent with its own masking view reads the parent's own rows,
-- masked (the view reads its children too), in every form a query takes;
-- COPY of the parent copies its own rows, as COPY of any table does; ONLY
-- a partitioned table reads none
CREATE TABLE mr_op (id int, email text);
CREATE TABLE mr_oc () INHERITS (mr_op);
CREATE TABLE mr_opp (id int, email text) PARTITION BY RANGE (id);
CREATE TABLE mr_opp_1 PARTITION OF mr_opp FOR VALUES FROM (0) TO (100);
INSERT INTO mr_op VALUES (7, 'own@example.com');
INSERT INTO mr_oc VALUES (8, 'kid@example.com');
INSERT INTO mr_opp VALUES (9, 'part@example.com');
SELECT privacy.set_mask(t, 'email', 'email'), privacy.set_mask(t, 'id', 'none')
  FROM unnest(ARRAY['mr_op', 'mr_opp']) t;
SELECT privacy.create_masking_view(t::regclass) FROM unnest(ARRAY['mr_op', 'mr_opp']) t;
GRANT SELECT ON mr_op, mr_opp TO regress_mr_reader;
SET ROLE regress_mr_reader;
SELECT id, email FROM ONLY mr_op;
SELECT id, email FROM mr_op ORDER BY id;
SELECT id, email FROM ONLY masked.mr_op;
SELECT (SELECT count(*) FROM ONLY mr_op) AS own_rows, (SELECT count(*) FROM mr_op) AS with_children,
       EXISTS (SELECT FROM ONLY mr_op WHERE email LIKE 'k%') AS finds_child;
WITH o AS (SELECT id, email FROM ONLY mr_op) SELECT * FROM o;
SELECT o.id, c.id FROM ONLY mr_op o JOIN mr_op c ON c.id > o.id;
COPY mr_op TO STDOUT;
COPY (SELECT id, email FROM ONLY mr_op) TO STDOUT;
COPY masked.mr_op TO STDOUT;   -- the view itself: every row it shows
EXPLAIN (COSTS OFF) SELECT id FROM ONLY mr_op;
BEGIN;
DECLARE mr_only CURSOR FOR SELECT id, email FROM ONLY mr_op;
FETCH ALL mr_only;
COMMIT;
PREPARE mr_only_q AS SELECT id, email FROM ONLY mr_op WHERE id > $1;
EXECUTE mr_only_q(0);
CREATE TEMP TABLE mr_only_copy AS SELECT id, email FROM ONLY mr_op;
SELECT id, email FROM mr_only_copy;
SELECT count(*) AS partitioned_only FROM ONLY mr_opp;
SELECT id, email FROM mr_opp;
RESET ROLE;
SELECT id, email FROM ONLY mr_op;
DROP TABLE mr_op, mr_opp CASCADE;
SELECT privacy.unmask_role('regress_mr_reader');
DROP TABLE mr_pp, mr_ip, mr_mp CASCADE;
DELETE FROM privacy.mask_rules WHERE relid::oid NOT IN (SELECT oid FROM pg_class);
DELETE FROM privacy.masking_views WHERE view_name LIKE '%mr\_%';
DROP OWNED BY regress_mr_reader;
DROP ROLE regress_mr_reader;

-- 10. Objects a masked table uses, owned by a masked role: a domain of its
-- columns (a new constraint is checked against every stored value, the
-- masked table's too) and a function its objects call (others run it over
-- the clear rows) are not the role's to change.
CREATE ROLE regress_mr_app;
GRANT CREATE ON SCHEMA public TO regress_mr_app;
CREATE TABLE mr_loot (v text);
GRANT ALL ON mr_loot TO PUBLIC;
SET ROLE regress_mr_app;
CREATE DOMAIN mr_email AS text;
CREATE DOMAIN mr_email2 AS mr_email;                 -- a domain over it
CREATE DOMAIN mr_tag AS text;
CREATE TYPE mr_contact AS (kind text, tag mr_tag);   -- in a composite type
CREATE DOMAIN mr_free AS text;                       -- no masked table's
CREATE FUNCTION mr_show(text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE
    AS $$BEGIN RAISE NOTICE 'value: %', $1; RETURN true; END$$;
ALTER DOMAIN mr_tag ADD CONSTRAINT later CHECK (mr_show(VALUE)) NOT VALID;
CREATE FUNCTION mr_norm(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower($1)';
CREATE FUNCTION mr_ok(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE FUNCTION mr_eq(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = mr_eq);
CREATE FUNCTION mr_stamp() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE FUNCTION mr_unused(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT $1';
RESET ROLE;
CREATE TABLE mr_cust (id int, email mr_email2, contact mr_contact, note text CHECK (mr_ok(note)));
INSERT INTO mr_cust VALUES (1, 'ann@example.com', ROW('x', 'vip-ann'), 'n');
CREATE INDEX ON mr_cust (mr_norm(email));
CREATE INDEX ON mr_cust ((note === 'n'));
CREATE TRIGGER mr_stamp BEFORE UPDATE ON mr_cust FOR EACH ROW EXECUTE FUNCTION mr_stamp();
SELECT privacy.set_mask('mr_cust', 'email', 'email');
SELECT privacy.create_masking_view('mr_cust');
SELECT privacy.mask_role('regress_mr_app');   -- WARNING: the functions the table's objects call
SET client_min_messages = notice;
SET ROLE regress_mr_app;
ALTER DOMAIN mr_email ADD CONSTRAINT probe CHECK (mr_show(VALUE));
\echo :LAST_ERROR_SQLSTATE
ALTER DOMAIN mr_email ADD CONSTRAINT probe CHECK (VALUE NOT LIKE 'ann%') NOT VALID;
ALTER DOMAIN mr_email2 SET NOT NULL;
ALTER DOMAIN mr_tag VALIDATE CONSTRAINT later;
ALTER DOMAIN mr_tag ADD CONSTRAINT probe CHECK (mr_show(VALUE));
ALTER DOMAIN mr_tag DROP CONSTRAINT later;           -- reads no row: fine
ALTER DOMAIN mr_email SET DEFAULT 'x';
ALTER DOMAIN mr_email DROP DEFAULT;
ALTER DOMAIN mr_free ADD CONSTRAINT c CHECK (VALUE <> '');
-- an index expression, a CHECK constraint, an operator of an index
-- expression, a trigger: others run them over the clear rows
CREATE OR REPLACE FUNCTION mr_norm(text) RETURNS text LANGUAGE plpgsql VOLATILE
    AS $$BEGIN INSERT INTO public.mr_loot VALUES ($1); RETURN lower($1); END$$;
\echo :LAST_ERROR_SQLSTATE
CREATE OR REPLACE FUNCTION public.mr_ok(text) RETURNS boolean LANGUAGE plpgsql VOLATILE
    AS $$BEGIN INSERT INTO public.mr_loot VALUES ($1); RETURN true; END$$;
CREATE OR REPLACE FUNCTION mr_eq(text, text) RETURNS boolean LANGUAGE plpgsql VOLATILE
    AS $$BEGIN INSERT INTO public.mr_loot VALUES ($1); RETURN $1 = $2; END$$;
CREATE OR REPLACE FUNCTION mr_stamp() RETURNS trigger LANGUAGE plpgsql
    AS $$BEGIN INSERT INTO public.mr_loot VALUES (NEW.email); RETURN NEW; END$$;
ALTER FUNCTION mr_norm(text) SECURITY DEFINER;
ALTER ROUTINE mr_norm SET search_path = public;
ALTER FUNCTION mr_norm(text) RENAME TO mr_norm2;      -- harmless: fine
ALTER FUNCTION mr_norm2(text) RENAME TO mr_norm;
CREATE OR REPLACE FUNCTION mr_unused(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT upper($1)';
RESET ROLE;
SET client_min_messages = warning;
-- a superuser's maintenance and writes run the functions as they were
REINDEX TABLE mr_cust;
UPDATE mr_cust SET note = 'm';
SELECT count(*) AS leaked FROM mr_loot;
SELECT privacy.unmask_role('regress_mr_app');
DROP TABLE mr_cust, mr_loot CASCADE;
DELETE FROM privacy.mask_rules WHERE relid::oid NOT IN (SELECT oid FROM pg_class);
DELETE FROM privacy.masking_views WHERE view_name LIKE '%mr\_%';
DROP OWNED BY regress_mr_app;
DROP ROLE regress_mr_app;

-- 11. A foreign key from a masked table checks the deletes and key updates
-- of the table it references: a masked role's would tell the masked keys
-- (the error printed them).
CREATE ROLE regress_mr_app;
CREATE TABLE mr_acct (id int PRIMARY KEY, label text);
INSERT INTO mr_acct SELECT g, 'a' || g FROM generate_series(1, 5) g;
CREATE TABLE mr_pat (id int, account_id int REFERENCES mr_acct (id));
INSERT INTO mr_pat VALUES (1, 4);
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON mr_acct TO regress_mr_app;
SELECT privacy.set_mask('mr_pat', 'account_id', 'redact');
SELECT privacy.create_masking_view('mr_pat');
SELECT privacy.mask_role('regress_mr_app');
SET client_min_messages = notice;
SET ROLE regress_mr_app;
-- deleting a referenced row, or changing its key, fails by the masked keys
BEGIN;
DELETE FROM mr_acct WHERE id = 4;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
UPDATE mr_acct SET id = id + 10;
ROLLBACK;
TRUNCATE mr_acct CASCADE;
UPDATE mr_acct SET label = 'b' WHERE id = 1;         -- not a key: fine
INSERT INTO mr_acct VALUES (6, 'a6');
SELECT count(*) FROM mr_acct;
RESET ROLE;
SET client_min_messages = warning;
BEGIN;
DELETE FROM mr_acct WHERE id = 6;                    -- a role that is not masked
ROLLBACK;
SELECT privacy.unmask_role('regress_mr_app');
DROP TABLE mr_acct, mr_pat CASCADE;
DELETE FROM privacy.mask_rules WHERE relid::oid NOT IN (SELECT oid FROM pg_class);
DELETE FROM privacy.masking_views WHERE view_name LIKE '%mr\_%';
DROP OWNED BY regress_mr_app;
DROP ROLE regress_mr_app;

-- A masked role reads no masked rows by a side door: a masked table's
-- TOAST table (pg_read_all_data reads it; long values lie there in clear),
-- a second, unmasked parent of a masked table's child, or the noise
-- function that would let it invert a noise() rule.  And a foreign
-- table's dropped column takes its rules with it, so a column added later
-- under its name is redacted (privacy by default).
CREATE ROLE regress_mr_side;
GRANT pg_read_all_data TO regress_mr_side;
CREATE TABLE mr_long (id int, body text);
INSERT INTO mr_long VALUES (1, 'mr-long-secret ' || (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 100) g));
SELECT privacy.set_mask('mr_long', 'id', 'none');
SELECT privacy.set_mask('mr_long', 'body', 'redact');
SELECT privacy.create_masking_view('mr_long');
CREATE TABLE mr_unmasked_long (id int, body text);
INSERT INTO mr_unmasked_long SELECT * FROM mr_long;
CREATE TABLE mr_people (id int, email text);
CREATE TABLE mr_contactable (id int, email text);
CREATE TABLE mr_customers () INHERITS (mr_people, mr_contactable);
INSERT INTO mr_customers VALUES (1, 'mr-side-secret@example.com');
SELECT privacy.set_mask('mr_people', 'id', 'none');
SELECT privacy.set_mask('mr_people', 'email', 'email');
SELECT privacy.create_masking_view('mr_people');
SET client_min_messages = error;
SELECT privacy.mask_role('regress_mr_side');
RESET client_min_messages;
SELECT reltoastrelid::regclass AS mr_toast FROM pg_class WHERE oid = 'mr_long'::regclass \gset
SELECT reltoastrelid::regclass AS mr_toast_clear FROM pg_class WHERE oid = 'mr_unmasked_long'::regclass \gset
SET ROLE regress_mr_side;
SELECT id, body FROM mr_long;
\set VERBOSITY sqlstate
SELECT count(*) AS chunks FROM :mr_toast;
\set VERBOSITY default
SELECT count(*) > 0 AS unmasked_table_chunks_readable FROM :mr_toast_clear;
SELECT * FROM mr_people;
SELECT * FROM mr_contactable;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ONLY mr_contactable;
SELECT privacy.mask_noise(100, 0.1);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT privacy.mask_noise(100, 0.1) BETWEEN 90 AND 110 AS admin_may_call;
CREATE EXTENSION IF NOT EXISTS file_fdw;
CREATE SERVER mr_files FOREIGN DATA WRAPPER file_fdw;
-- A masked role reading a foreign table through its masking view: a
-- malformed line of the file is not quoted back to it (file_fdw's CONTEXT
-- "COPY t, line n: "<line>"", or the value in "invalid input syntax").
SELECT current_setting('data_directory') || '/mr_fdw.csv' AS mr_file \gset
COPY (SELECT '1,alice@example.com,ok' UNION ALL SELECT 'bob@secret.org,2,x'
      UNION ALL SELECT '3,carol@secret.org,extra,cols') TO :'mr_file';
CREATE FOREIGN TABLE mr_file_people (id int, email text, note text) SERVER mr_files
    OPTIONS (filename :'mr_file', format 'csv');
SELECT privacy.set_mask('mr_file_people', 'email', 'email');
SELECT privacy.create_masking_view('mr_file_people');
CREATE ROLE regress_mr_files;
SELECT privacy.mask_role('regress_mr_files');
SET ROLE regress_mr_files;
SELECT has_table_privilege('public.mr_file_people', 'SELECT') AS reads_the_table_itself;
SELECT * FROM masked.mr_file_people WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM masked.mr_file_people;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- the owner, who may read the file, is shown the line
SELECT count(*) FROM mr_file_people;
COPY (SELECT '1,alice@example.com,ok' UNION ALL SELECT '3,carol@secret.org,extra,cols') TO :'mr_file';
SET ROLE regress_mr_files;
SELECT count(*) FROM masked.mr_file_people;
RESET ROLE;
SELECT privacy.unmask_role('regress_mr_files');
DROP FOREIGN TABLE mr_file_people CASCADE;
DROP ROLE regress_mr_files;
CREATE FOREIGN TABLE mr_remote (id int, email text, note text) SERVER mr_files OPTIONS (filename '/dev/null');
SELECT privacy.set_mask('mr_remote', 'note', 'none');
ALTER FOREIGN TABLE mr_remote DROP COLUMN note;
SELECT count(*) AS rules_left_for_note FROM privacy.mask_rules WHERE relid = 'mr_remote'::regclass AND column_name = 'note';
SELECT privacy.classify('mr_remote', 'email', 'personal');
ALTER FOREIGN TABLE mr_remote DROP COLUMN email;
SELECT count(*) AS classifications_left FROM privacy.classifications WHERE relid = 'mr_remote'::regclass;
SET client_min_messages = warning;
DROP TABLE mr_long, mr_unmasked_long, mr_customers, mr_people, mr_contactable CASCADE;
DROP SERVER mr_files CASCADE;
DROP EXTENSION file_fdw;
RESET client_min_messages;
SELECT privacy.unmask_role('regress_mr_side');
DROP ROLE regress_mr_side;

-- Unknown names are errors, not silent successes.
SELECT privacy.unmask_role('regress_mr_no_such_role');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.revoke_purpose('regress_mr_no_such_role', 'no_such_purpose');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.check_mask_rule('none', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.detect_sampling(0);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.reencrypt(0::oid::regclass, 'v');
\echo :LAST_ERROR_SQLSTATE

-- A domain's CHECK (its owner's code) does not run when a masking view
-- shows a placeholder or a constant: it ran with the reader's rights (a
-- superuser's), where reading the column runs none, and a CHECK the
-- placeholder fails made every read fail.  Nor when set_mask checks a
-- constant.
CREATE ROLE regress_mr_domowner;
CREATE SCHEMA mr_dom AUTHORIZATION regress_mr_domowner;
SET ROLE regress_mr_domowner;
CREATE FUNCTION mr_dom.chk(text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'domain check runs as %', current_user; RETURN true; END $$;
CREATE DOMAIN mr_dom.dtext AS text CHECK (mr_dom.chk(VALUE));
CREATE DOMAIN mr_dom.at_sign AS text CHECK (VALUE ~ '@');
CREATE TABLE mr_dom.t (id int, note mr_dom.dtext, n2 mr_dom.dtext, n3 mr_dom.dtext, e mr_dom.at_sign);
INSERT INTO mr_dom.t VALUES (1, 'secret', 'b', 'c', 'a@b');
RESET ROLE;
SELECT privacy.set_mask('mr_dom.t', 'id', 'none'), privacy.set_mask('mr_dom.t', 'note', 'redact'),
       privacy.set_mask('mr_dom.t', 'n2', 'value ''x''');
SELECT privacy.create_masking_view('mr_dom.t');
SELECT * FROM masked.t;
DROP VIEW masked.t;
DELETE FROM privacy.masking_views WHERE relid = 'mr_dom.t'::regclass;
DELETE FROM privacy.mask_rules WHERE relid = 'mr_dom.t'::regclass;
DROP SCHEMA mr_dom CASCADE;
DROP ROLE regress_mr_domowner;
