------------------------------------------------------------------------
-- Consent protection follows DDL on the protected tables.  The rows of a
-- protected table are read through the table, through each of its
-- partitions and inheritance children, and through every table it is a
-- partition or child of (whose own policies then apply: PostgreSQL uses
-- the policies of the table a query names).  So:
--   * a partition or child attached or created under a protected table is
--     given its consent policies at once (as protect_table would);
--   * a protected table put under a parent that is not protected (ATTACH
--     PARTITION, INHERIT) is refused: the parent would show its rows
--     unfiltered, and a subject's request would not look there; so is one
--     put under a parent protected by another subject column (a tree has
--     one: see privacy.subject_column_conflicts);
--   * a renamed subject column keeps its table protected under the new
--     name (export_subject and erase_subject look for it by name), also
--     when ALTER TYPE ... RENAME ATTRIBUTE ... CASCADE renames it on a
--     typed table;
--   * a partition or child detached from a protected table (DETACH
--     PARTITION, NO INHERIT) stays protected, registered in its own right:
--     its rows are still filtered and still found by a subject's request;
--   * dropping the subject column is refused: DROP COLUMN ... CASCADE took
--     the consent policies with it and left the allow policies, which show
--     every row.
-- The triggers run as the extension's owner: the registry is closed to the
-- roles whose DDL they follow.
------------------------------------------------------------------------

CREATE FUNCTION privacy.protected_tables_follow_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    touched oid[];
    family oid[];
    links boolean;
    r record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM privacy.protected_tables) THEN
        RETURN;
    END IF;
    SELECT array_agg(DISTINCT t), bool_or(privacy.ddl_command_links_tables(c.command))
      INTO touched, links
      FROM pg_event_trigger_ddl_commands() c, privacy.relations_changed_with(c.objid) t
     WHERE c.classid = 'pg_class'::regclass;
    IF touched IS NULL THEN
        RETURN;
    END IF;
    -- The relations the command touched, their ancestors and descendants.
    SELECT array_agg(DISTINCT f::oid) INTO family FROM (
        SELECT t::regclass AS f FROM unnest(touched) t WHERE EXISTS (SELECT 1 FROM pg_class k WHERE k.oid = t)
        UNION SELECT a FROM unnest(touched) t, privacy.inheritance_ancestors(t::regclass) a
        UNION SELECT d FROM unnest(touched) t, privacy.inheritance_tree(t::regclass) d
        UNION SELECT d FROM unnest(touched) t, privacy.inheritance_foreign_tables(t::regclass) d) s;
    IF family IS NULL THEN
        RETURN;
    END IF;

    -- A renamed subject column: the consent policy names the column by
    -- number, so it tells the new name.
    UPDATE privacy.protected_tables p SET subject_column = a.attname
      FROM pg_policy po
      JOIN pg_depend d ON d.classid = 'pg_policy'::regclass AND d.objid = po.oid
                      AND d.refclassid = 'pg_class'::regclass AND d.refobjid = po.polrelid
                      AND d.refobjsubid > 0
      JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid AND NOT a.attisdropped
     WHERE p.relid = ANY (family) AND po.polrelid = p.relid AND po.polname = 'privacy_consent_select'
       AND NOT EXISTS (SELECT 1 FROM pg_attribute s WHERE s.attrelid = p.relid AND s.attname = p.subject_column
                          AND s.attnum > 0 AND NOT s.attisdropped);

    -- A partition or child detached from a protected tree (DETACH
    -- PARTITION, NO INHERIT) keeps its consent policies, but no
    -- registration covers it any more: export_subject and erase_subject
    -- would pass its rows by.  It is registered in its own right, under the
    -- subject column its policy filters on (by number: it may have been
    -- renamed) and with what the tree it left does on erase (the nearest
    -- registration over the table it left).
    -- Only after such a command: protect_table itself gives a partition its
    -- policies (by DDL that fires this trigger) before its table's row is in.
    INSERT INTO privacy.protected_tables (relid, subject_column, on_erase)
    SELECT DISTINCT ON (po.polrelid) po.polrelid, a.attname,
           coalesce((SELECT q.on_erase
                       FROM pg_event_trigger_ddl_commands() c,
                            LATERAL (SELECT privacy.ddl_command_unlinked_parent(c.command) AS parent) u
                       JOIN privacy.protected_tables q
                         ON q.relid = u.parent OR q.relid IN (SELECT privacy.inheritance_ancestors(u.parent))
                      WHERE u.parent IS NOT NULL
                      ORDER BY q.relid = u.parent DESC
                      LIMIT 1), 'delete')
      FROM pg_policy po
      JOIN pg_class k ON k.oid = po.polrelid AND k.relkind IN ('r', 'p')
      JOIN pg_depend d ON d.classid = 'pg_policy'::regclass AND d.objid = po.oid
                      AND d.refclassid = 'pg_class'::regclass AND d.refobjid = po.polrelid
                      AND d.refobjsubid > 0
      JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid AND NOT a.attisdropped
     WHERE po.polname = 'privacy_consent_select'
       AND EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() c
                    WHERE privacy.ddl_command_unlinked_parent(c.command) IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM privacy.protected_tables p WHERE p.relid = po.polrelid)
       AND NOT EXISTS (SELECT 1 FROM privacy.inheritance_ancestors(po.polrelid::regclass) g
                         JOIN privacy.protected_tables q ON q.relid = g)
     ORDER BY po.polrelid, a.attnum;

    IF NOT links THEN
        RETURN;
    END IF;

    -- A protected table under a parent that no protection covers, as a
    -- first or a second parent: privacy.protected_trees_follow_ddl()
    -- (99_consent_tree_second_parents.sql) refuses it, after this trigger.

    -- A protected table put under a parent protected by another subject
    -- column: one tree, one column (privacy.subject_column_conflicts).
    FOR r IN SELECT p.relid::regclass AS protected, p.subject_column, c.ancestor, c.ancestor_subject_column
               FROM privacy.protected_tables p, privacy.subject_column_conflicts(p.relid, p.subject_column) c
              WHERE p.relid = ANY (family)
              LIMIT 1
    LOOP
        RAISE EXCEPTION 'consent-protected table % cannot be a partition or child of %: they are protected by different subject columns',
                        r.protected, r.ancestor
            USING ERRCODE = 'invalid_object_definition',
                  DETAIL = format('%s is protected by column "%s", %s by column "%s": reading %s would filter the rows of %s by "%s", and requests for its subjects would read them by it.',
                                  r.protected, r.subject_column, r.ancestor, r.ancestor_subject_column,
                                  r.ancestor, r.protected, r.ancestor_subject_column),
                  HINT = format('Protect %s by column "%s" first (privacy.protect_table).',
                                r.protected, r.ancestor_subject_column);
    END LOOP;

    -- A foreign table made a partition or child of a protected table:
    -- row-level security does not apply to it.
    FOR r IN SELECT d::regclass AS rel, a AS protected
               FROM unnest(family) d
               JOIN privacy.inheritance_ancestors(d::regclass) a ON true
               JOIN privacy.protected_tables q ON q.relid = a
              WHERE (SELECT k.relkind FROM pg_class k WHERE k.oid = d) = 'f'
              LIMIT 1
    LOOP
        RAISE EXCEPTION 'foreign table % cannot be a partition or child of consent-protected table %', r.rel, r.protected
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Row level security does not apply to foreign tables: read directly, it would show every row unfiltered by consent.';
    END LOOP;

    -- A partition or child of a protected table without its policies yet.
    FOR r IN SELECT DISTINCT ON (d) d::regclass AS rel, q.subject_column
               FROM unnest(family) d
               JOIN privacy.inheritance_ancestors(d::regclass) a ON true
               JOIN privacy.protected_tables q ON q.relid = a
              WHERE NOT EXISTS (SELECT 1 FROM privacy.protected_tables p WHERE p.relid = d)
                AND NOT EXISTS (SELECT 1 FROM pg_policy po
                                 WHERE po.polrelid = d AND po.polname = 'privacy_consent_select')
                AND (SELECT k.relkind FROM pg_class k WHERE k.oid = d) IN ('r', 'p')
              -- the nearest registration: the one with the most ancestors
              ORDER BY d, (SELECT count(*) FROM privacy.inheritance_ancestors(a)) DESC
    LOOP
        PERFORM privacy.consent_protect_relation(r.rel, r.subject_column);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.protected_tables_follow_ddl() FROM PUBLIC;
-- CREATE SCHEMA too: its CREATE TABLE elements (INHERITS, PARTITION OF)
-- run under that tag, and are reported with their own.
CREATE EVENT TRIGGER privacy_protected_tables_follow_ddl ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE', 'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE', 'CREATE SCHEMA', 'ALTER TYPE')
    EXECUTE FUNCTION privacy.protected_tables_follow_ddl();

CREATE FUNCTION privacy.protected_tables_before_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.relid::regclass AS tbl, p.subject_column
               FROM pg_event_trigger_dropped_objects() o
               JOIN privacy.protected_tables p
                 ON p.relid = o.objid AND p.subject_column = o.address_names[cardinality(o.address_names)]
              WHERE o.classid = 'pg_class'::regclass AND o.objsubid > 0 AND o.object_type IN ('table column', 'foreign table column')
              LIMIT 1
    LOOP
        RAISE EXCEPTION 'cannot drop column % of consent-protected table %: it is its subject column',
                        r.subject_column, r.tbl
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Its consent policies filter on it; without them every row would show.',
                  HINT = 'Protect the table with another subject column first (privacy.protect_table).';
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.protected_tables_before_drop() FROM PUBLIC;
CREATE EVENT TRIGGER privacy_protected_tables_before_drop ON sql_drop
    EXECUTE FUNCTION privacy.protected_tables_before_drop();
