-- Which columns hold values under which key: the one definition of "this
-- column is encrypted" (px_walk_encrypted_type() in src/catalog.c, which
-- drop_key_version and privacy.keys.versions_in_use call directly), for
-- the inventory, discovery and the report.
--
-- A column's type is followed down to the encrypted type at the bottom:
-- through domains (to any depth; the key is the typmod the domain gives its
-- base type), arrays (an array's typmod is its elements') and the fields of
-- composite types (a table's row type too), each field with its own typmod.
-- shape says how the values are reached: 'value' (the column's own,
-- through domains), 'array' (the elements, after array_depth unnests: an
-- array of a domain over an array needs two) or 'composite' (under a field
-- of a composite type: no scan follows those, so a key's version under one
-- counts as in use).  key_id is -1 for a type that names no key.
CREATE FUNCTION privacy.type_encryption(typid oid, typmod int4,
                                        OUT value_type regtype, OUT key_id int4,
                                        OUT shape text, OUT array_depth int4)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'px_type_encryption' LANGUAGE C STRICT STABLE PARALLEL SAFE;

-- The fields of a standalone composite type are listed too (relkind 'c',
-- shape 'composite'): while the type exists, values of it may be stored.
CREATE VIEW privacy.encrypted_columns AS
SELECT a.attrelid::pg_catalog.regclass AS relid, a.attname AS column_name, a.attnum,
       w.value_type, w.key_id,
       CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'c' THEN 'composite' ELSE w.shape END AS shape,
       w.array_depth
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid
 CROSS JOIN LATERAL privacy.type_encryption(a.atttypid, a.atttypmod) w
 WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
   AND c.relkind IN ('r', 'p', 'm', 'f', 'c');

COMMENT ON VIEW privacy.encrypted_columns IS
    'columns (and composite type fields) holding encrypted values, followed through domains, arrays and composite fields, with the key at the bottom';

-- Nothing here that pg_attribute and pg_type do not already show everyone.
GRANT SELECT ON privacy.encrypted_columns TO PUBLIC;
