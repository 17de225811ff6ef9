-- Inheritance trees, for consent protection (97_consent_policies.sql,
-- 99_protected_tables_follow_ddl.sql) and the inventory (88_discovery.sql):
-- partitions and inheritance children alike, since reading a table reads
-- both, and PostgreSQL applies the policies of the table a query names.

-- The table with its partitions and inheritance children, at every level
-- (pg_partition_tree knows partitions only): reading a table reads them,
-- and each read directly must be filtered too.
CREATE FUNCTION privacy.inheritance_tree(tbl regclass) RETURNS SETOF regclass
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE tree(relid) AS (
        SELECT tbl::oid
        UNION
        SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid
    )
    SELECT t.relid::regclass FROM tree t JOIN pg_class c ON c.oid = t.relid WHERE c.relkind IN ('r', 'p')
$$;
-- and the tables it is a partition or child of, at every level.
CREATE FUNCTION privacy.inheritance_ancestors(tbl regclass) RETURNS SETOF regclass
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE up(relid) AS (
        SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = tbl
        UNION
        SELECT i.inhparent FROM pg_inherits i JOIN up u ON i.inhrelid = u.relid
    )
    SELECT u.relid::regclass FROM up u
$$;
-- The foreign tables among its partitions and children, at every level:
-- row-level security does not apply to a foreign table, so one read
-- directly shows every row.
CREATE FUNCTION privacy.inheritance_foreign_tables(tbl regclass) RETURNS SETOF regclass
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE tree(relid) AS (
        SELECT tbl::oid
        UNION
        SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid
    )
    SELECT t.relid::regclass FROM tree t JOIN pg_class c ON c.oid = t.relid WHERE c.relkind = 'f'
$$;
-- The tables whose columns a DDL command on rel changes with rel's: rel
-- itself and, when rel is a composite type's relation, the tables typed
-- by it (ALTER TYPE ... RENAME/ALTER/DROP ATTRIBUTE ... CASCADE reaches
-- them, and reports the type alone).  Their partitions and inheritance
-- children are the callers' to add.
CREATE FUNCTION privacy.relations_changed_with(rel oid) RETURNS SETOF oid
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT rel
    UNION
    SELECT t.oid FROM pg_class ct JOIN pg_class t ON t.reloftype = ct.reltype
     WHERE ct.oid = rel AND ct.relkind = 'c'
$$;
-- The protected tables above tbl registered under another subject column
-- than subject_column.  A tree of tables has one: reading a parent filters
-- the rows of its partitions and children by the parent's column, and a
-- request for a subject reads the parent's tree by it, passing by a table
-- registered under another (1.0 allowed such a registration).
CREATE FUNCTION privacy.subject_column_conflicts(tbl regclass, subject_column name)
RETURNS TABLE (ancestor regclass, ancestor_subject_column name)
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT q.relid::regclass, q.subject_column
      FROM privacy.inheritance_ancestors(tbl) a
      JOIN privacy.protected_tables q ON q.relid = a::oid
     WHERE q.subject_column <> subject_column_conflicts.subject_column
     ORDER BY (SELECT count(*) FROM privacy.inheritance_ancestors(a)) DESC
$$;
REVOKE ALL ON FUNCTION privacy.subject_column_conflicts(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.subject_column_conflicts(regclass, name) TO privacy_admin;
