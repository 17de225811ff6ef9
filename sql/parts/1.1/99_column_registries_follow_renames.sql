------------------------------------------------------------------------
-- The registries that name columns follow ALTER ... RENAME COLUMN and
-- ALTER TYPE ... RENAME ATTRIBUTE ... CASCADE: a mask rule, a
-- classification and a declared quasi-identifier move to the column's new
-- name, on the relation renamed, on the tables typed by a renamed type and
-- on their inheritance children and partitions (renamed with it).  A mask
-- rule must move at once, masking view or not: apply_mask, static masking
-- and a view built later find rules by name, so names swapped in three
-- renames would otherwise hand one column's rule to the other (a `none`
-- rule to the sensitive column).  The inventory, the processing record and
-- k-anonymity keep reporting the column.  (A consent-protected table's
-- subject column follows in 99_protected_tables_follow_ddl.sql; dropped
-- columns are forgotten in 98_relation_checks.sql.)
-- As the extension's owner (the registries are closed to the table owners
-- whose DDL this follows); it only moves rows of the relations the rename
-- renamed a column of.
------------------------------------------------------------------------

CREATE FUNCTION privacy.column_registries_follow_renames() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    moved oid[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM privacy.classifications)
       AND NOT EXISTS (SELECT 1 FROM privacy.quasi_identifiers)
       AND NOT EXISTS (SELECT 1 FROM privacy.mask_rules) THEN
        RETURN;
    END IF;
    FOR r IN SELECT c.objid AS relid, privacy.ddl_command_renamed_column(c.command) AS old_name,
                    a.attname AS new_name
               FROM pg_event_trigger_ddl_commands() c
               JOIN pg_attribute a ON a.attrelid = c.objid AND a.attnum = c.objsubid AND NOT a.attisdropped
              WHERE c.classid = 'pg_class'::regclass AND c.objsubid > 0
    LOOP
        CONTINUE WHEN r.old_name IS NULL OR r.old_name = r.new_name;
        -- The relation (or the type's typed tables) and those of their
        -- descendants whose column was renamed with it (an inherited
        -- column has its parent's name).
        WITH RECURSIVE tree(relid) AS (
            SELECT privacy.relations_changed_with(r.relid)
            UNION
            SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid
        )
        SELECT array_agg(t.relid) INTO moved FROM tree t
         WHERE EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.relid AND a.attname = r.new_name
                          AND a.attnum > 0 AND NOT a.attisdropped)
           AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.relid AND a.attname = r.old_name
                              AND a.attnum > 0 AND NOT a.attisdropped);
        CONTINUE WHEN moved IS NULL;
        -- A row under the new name can only be stale (no such column until
        -- now): the renamed column's classification replaces it.
        DELETE FROM privacy.classifications c
         WHERE c.relid = ANY (moved) AND c.column_name = r.new_name
           AND EXISTS (SELECT 1 FROM privacy.classifications o
                        WHERE o.relid = c.relid AND o.column_name = r.old_name);
        UPDATE privacy.classifications c SET column_name = r.new_name
         WHERE c.relid = ANY (moved) AND c.column_name = r.old_name;
        DELETE FROM privacy.mask_rules m
         WHERE m.relid = ANY (moved) AND m.column_name = r.new_name;
        UPDATE privacy.mask_rules m SET column_name = r.new_name, attnum = a.attnum
          FROM pg_attribute a
         WHERE m.relid = ANY (moved) AND m.column_name = r.old_name
           AND a.attrelid = m.relid AND a.attname = r.new_name AND NOT a.attisdropped;
        UPDATE privacy.quasi_identifiers q
           SET columns = ARRAY(SELECT x.name
                                 FROM unnest(array_replace(q.columns, r.old_name, r.new_name))
                                      WITH ORDINALITY AS x(name, n)
                                GROUP BY x.name ORDER BY min(x.n))
         WHERE q.relid = ANY (moved) AND r.old_name = ANY (q.columns);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.column_registries_follow_renames() FROM PUBLIC;
CREATE EVENT TRIGGER privacy_column_registries_follow_renames ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER VIEW', 'ALTER MATERIALIZED VIEW', 'ALTER FOREIGN TABLE', 'ALTER TYPE')
    EXECUTE FUNCTION privacy.column_registries_follow_renames();
