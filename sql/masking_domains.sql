-- Rules on columns of a domain type mask as on the domain's base type: the
-- masking view, transparent masking and static masking dispatch on the
-- base type (a domain over smallint generalized as an int8 used to wrap
-- its lowest bucket; noise and generalize over float8, date, timestamptz
-- showed NULL).
CREATE DOMAIN mdom_small AS smallint;
CREATE DOMAIN mdom_int AS integer;
CREATE DOMAIN mdom_big AS bigint;
CREATE DOMAIN mdom_f8 AS float8;
CREATE DOMAIN mdom_date AS date;
CREATE DOMAIN mdom_tstz AS timestamptz;
CREATE TABLE mdom_t (id int PRIMARY KEY,
                     s smallint, ds mdom_small, di mdom_int, db mdom_big,
                     nf mdom_f8, gf mdom_f8, ni mdom_int, nb mdom_big,
                     dd mdom_date, dt mdom_tstz);
INSERT INTO mdom_t VALUES
  (1, -32001, -32001, -2147483001, 123456, 1000, 1234.5, 1000, 100000,
   '1987-06-15', '2021-03-04 05:06:07+00'),
  (2, 1500, 1500, 2500, 3500, -50, -0.5, -7000, 9000000000,
   '2001-12-31', '1999-12-31 23:59:59+00');
SELECT privacy.set_mask('mdom_t', 'id', 'none');
SELECT privacy.set_mask('mdom_t', 's', 'generalize(1000)');
SELECT privacy.set_mask('mdom_t', 'ds', 'generalize(1000)');
SELECT privacy.set_mask('mdom_t', 'di', 'generalize(1000)');
SELECT privacy.set_mask('mdom_t', 'db', 'generalize(1000)');
SELECT privacy.set_mask('mdom_t', 'nf', 'noise(0.1)');
SELECT privacy.set_mask('mdom_t', 'gf', 'generalize(10)');
SELECT privacy.set_mask('mdom_t', 'ni', 'noise(0.1)');
SELECT privacy.set_mask('mdom_t', 'nb', 'noise(0.1)');
SELECT privacy.set_mask('mdom_t', 'dd', 'generalize(''decade'')');
SELECT privacy.set_mask('mdom_t', 'dt', 'generalize(''year'')');
SELECT privacy.create_masking_view('mdom_t');
CREATE ROLE mdom_reader;
SELECT privacy.mask_role('mdom_reader');
GRANT SELECT ON mdom_t TO mdom_reader;

SET ROLE mdom_reader;
-- the domain column shows what the plain smallint column shows
SELECT id, s, ds, di, db, gf, dd, dt FROM masked.mdom_t ORDER BY id;
-- noise: not NULL, within the ratio, and not the value itself
SELECT m.id,
       m.nf IS NOT NULL AND abs(m.nf - t.nf) <= 0.1 * abs(t.nf) AS nf_ok,
       m.ni IS NOT NULL AND abs(m.ni - t.ni) <= 0.1 * abs(t.ni) AS ni_ok,
       m.nb IS NOT NULL AND abs(m.nb - t.nb) <= 0.1 * abs(t.nb) AS nb_ok
  FROM masked.mdom_t m
  JOIN (VALUES (1, 1000::float8, 1000, 100000::bigint),
               (2, -50::float8, -7000, 9000000000::bigint)) t(id, nf, ni, nb)
    ON t.id = m.id
 ORDER BY m.id;
-- transparent masking: the table itself, read by the masked role
SELECT id, s, ds, di, db, gf, dd, dt FROM public.mdom_t ORDER BY id;
RESET ROLE;

-- static masking stores the same values, not wrapped ones or NULLs
SELECT privacy.anonymize_table('mdom_t') AS rows_rewritten;
SELECT id, s, ds, di, db, gf, dd, dt,
       nf IS NOT NULL AS nf, ni IS NOT NULL AS ni, nb IS NOT NULL AS nb
  FROM mdom_t ORDER BY id;

DELETE FROM privacy.mask_rules WHERE relid = 'mdom_t'::regclass;
DROP VIEW masked.mdom_t;
DROP TABLE mdom_t;
DROP DOMAIN mdom_small, mdom_int, mdom_big, mdom_f8, mdom_date, mdom_tstz;
DROP ROLE mdom_reader;
