-- Consent policies that compose with the table's own row-level security.
--
-- 1.0 created its consent policies PERMISSIVE.  PostgreSQL ORs permissive
-- policies together, so any permissive policy of the table's own (a tenant
-- policy, say) showed every row of a subject without consent, and every row
-- with no purpose declared; and its INSERT policy, WITH CHECK (true), undid
-- the table's own INSERT checks.  Now the consent policies are RESTRICTIVE
-- (ANDed with whatever else applies), and a permissive policy allowing every
-- row is added for a command only where the table has no permissive policy
-- of its own for it: without one, PostgreSQL would show no row at all.
--
--   privacy_consent_select / _update / _delete   RESTRICTIVE, has_consent(subject)
--   privacy_consent_allow_<command>              PERMISSIVE, true; only where needed
--
-- A permissive policy created on the table later is ORed with
-- privacy_consent_allow_<command> (which allows every row), so after adding
-- one, run protect_table again; privacy.inventory says so.
-- The consent policies of one relation, subject_column one of its
-- columns (checked by the callers): protect_table runs it for the table and
-- each partition and inheritance child, and privacy_protected_tables_follow_ddl
-- (99_protected_tables_follow_ddl.sql) for one attached or created later.
-- The policies come before row level security is switched on, so the
-- ALTER TABLE that does it finds the relation already covered.
CREATE FUNCTION privacy.consent_protect_relation(rel regclass, subject_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    coltype regtype;
    pol record;
    cmd text;
    consent_call text;
BEGIN
    SELECT a.atttypid::regtype INTO coltype FROM pg_attribute a
     WHERE a.attrelid = rel AND a.attname = subject_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', subject_column, rel USING ERRCODE = '42703';
    END IF;
    consent_call := format('privacy.has_consent(%I%s)', subject_column,
                           CASE WHEN coltype = 'varchar'::regtype THEN '::text' ELSE '' END);
    -- Its own policies only, by their exact names: a policy of the
    -- user's named privacy_consent_<something> stays.
    FOR pol IN SELECT p.polname FROM pg_policy p
                WHERE p.polrelid = rel AND p.polname = ANY (privacy.consent_policy_names()) LOOP
        EXECUTE format('DROP POLICY %I ON %s', pol.polname, rel);
    END LOOP;
    EXECUTE format('CREATE POLICY privacy_consent_select ON %s AS RESTRICTIVE FOR SELECT USING (%s)',
                   rel, consent_call);
    -- The rewritten row is checked by the SELECT policy above (UPDATE
    -- reads the row), so WITH CHECK need not repeat it.
    EXECUTE format('CREATE POLICY privacy_consent_update ON %s AS RESTRICTIVE FOR UPDATE USING (%s)',
                   rel, consent_call);
    EXECUTE format('CREATE POLICY privacy_consent_delete ON %s AS RESTRICTIVE FOR DELETE USING (%s)',
                   rel, consent_call);
    -- New subjects can be recorded before they consent: INSERT has no
    -- consent policy, and keeps the table's own checks.
    FOREACH cmd IN ARRAY ARRAY['select', 'insert', 'update', 'delete'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_policy p
                        WHERE p.polrelid = rel AND p.polpermissive
                          AND p.polname <> ALL (privacy.consent_policy_names())
                          AND p.polcmd IN ('*', CASE cmd WHEN 'select' THEN 'r' WHEN 'insert' THEN 'a'
                                                         WHEN 'update' THEN 'w' ELSE 'd' END)) THEN
            EXECUTE format('CREATE POLICY %I ON %s FOR %s %s', 'privacy_consent_allow_' || cmd, rel,
                           upper(cmd), CASE cmd WHEN 'insert' THEN 'WITH CHECK (true)' ELSE 'USING (true)' END);
        END IF;
    END LOOP;
    -- Only when not on yet: an ALTER TABLE rebuilds the table's masking
    -- views (privacy_refresh_masking_views), which views of others built
    -- on them would refuse, and run again (or in an update from 1.0)
    -- nothing about the views changes.
    IF NOT (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = rel) THEN
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', rel);
    END IF;
    IF NOT (SELECT c.relforcerowsecurity FROM pg_class c WHERE c.oid = rel) THEN
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', rel);
    END IF;
    -- The policies made above do not rebuild the masking view as they
    -- come and go (41_): the view follows their end state.
    IF privacy.masking_view_of(rel) IS NOT NULL THEN
        PERFORM privacy.masking_view_follows_policies(rel);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION privacy.consent_protect_relation(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.consent_protect_relation(regclass, name) TO privacy_admin;

-- The relations a table's own registration protects: the table, and its
-- partitions and children at every level, except those under another
-- registration (a partition or child protected itself keeps its own
-- subject column, and so do the partitions and children below it).
CREATE FUNCTION privacy.consent_tree(tbl regclass) RETURNS SETOF regclass
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT t FROM privacy.inheritance_tree(tbl) t
     WHERE t = tbl
        OR NOT EXISTS (SELECT 1 FROM privacy.protected_tables q
                        WHERE q.relid <> tbl::oid
                          AND (q.relid = t::oid
                               OR q.relid IN (SELECT a::oid FROM privacy.inheritance_ancestors(t) a))
                          AND q.relid IN (SELECT d::oid FROM privacy.inheritance_tree(tbl) d))
$$;
REVOKE ALL ON FUNCTION privacy.consent_tree(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.consent_tree(regclass) TO privacy_admin;

-- A protected table's rows are filtered where they are read: through the
-- table, each partition and child (given the same policies), and through
-- every table it is a partition or child of, whose own policies apply
-- there (PostgreSQL applies the policies of the table the query names).
-- So a table under a parent that no protection covers is refused: the
-- parent would show its rows unfiltered.
CREATE OR REPLACE FUNCTION privacy.protect_table(tbl regclass, subject_column name, on_erase text DEFAULT 'delete')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    coltype regtype;
    part record;
    parent regclass;
    conflict record;
BEGIN
    PERFORM privacy.require_admin();
    IF on_erase IS NULL OR on_erase NOT IN ('delete', 'anonymize') THEN
        RAISE EXCEPTION 'invalid on_erase "%"', on_erase USING ERRCODE = '22023',
            HINT = 'One of: delete, anonymize.';
    END IF;
    IF tbl IS NULL OR subject_column IS NULL THEN
        RAISE EXCEPTION 'protect_table needs a table and a subject column' USING ERRCODE = '22004';
    END IF;
    -- Only a table has row-level security: a view, a materialized view, a
    -- sequence, an index or a composite type would be registered with no
    -- policy, and show every row (a foreign table is refused below with
    -- its own message).
    IF (SELECT c.relkind FROM pg_class c WHERE c.oid = tbl) NOT IN ('r', 'p', 'f') THEN
        RAISE EXCEPTION 'cannot protect %: it is not a table', tbl USING ERRCODE = '42809',
            DETAIL = 'Row level security applies to tables only: the relation''s rows would be shown unfiltered by consent.',
            HINT = 'Protect the tables the view reads; a view over them should be security_invoker.';
    END IF;
    SELECT a.atttypid::regtype INTO coltype FROM pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = subject_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', subject_column, tbl USING ERRCODE = '42703';
    END IF;
    IF coltype NOT IN ('text'::regtype, 'varchar'::regtype, 'bigint'::regtype, 'integer'::regtype, 'uuid'::regtype) THEN
        RAISE EXCEPTION 'subject column % has type %', subject_column, coltype USING ERRCODE = '42804',
            HINT = 'Subjects are text, varchar, bigint, integer or uuid.';
    END IF;
    -- Under a parent that no protection covers (a protected parent does:
    -- a partition or child protected itself too is filtered either way,
    -- and its subjects' requests go by its own registration).  A table
    -- registered so already (1.0 allowed it) may be protected again; the
    -- inventory reports it.
    SELECT a INTO parent FROM privacy.inheritance_ancestors(tbl) a
     WHERE NOT EXISTS (SELECT 1 FROM privacy.protected_tables q WHERE q.relid = a)
       AND NOT EXISTS (SELECT 1 FROM privacy.inheritance_ancestors(a) g
                         JOIN privacy.protected_tables q ON q.relid = g)
     LIMIT 1;
    IF FOUND AND NOT EXISTS (SELECT 1 FROM privacy.protected_tables p WHERE p.relid = tbl) THEN
        RAISE EXCEPTION 'cannot protect %: it is a partition or child of %, which is not protected', tbl, parent
            USING ERRCODE = 'invalid_object_definition',
                  DETAIL = 'Reading the parent reads its rows with the parent''s policies, unfiltered by consent.',
                  HINT = 'Protect the table at the top of the tree: its partitions and children are protected with it.';
    END IF;
    -- A tree of tables has one subject column: under a parent protected
    -- by another, this table's rows would be filtered by the parent's
    -- column where the parent is read, and by this one read directly;
    -- and the parent's subjects' requests would pass them by.
    SELECT c.ancestor, c.ancestor_subject_column INTO conflict
      FROM privacy.subject_column_conflicts(tbl, subject_column) c LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot protect % by column "%": it is a partition or child of %, protected by column "%"',
                        tbl, subject_column, conflict.ancestor, conflict.ancestor_subject_column
            USING ERRCODE = 'invalid_object_definition',
                  DETAIL = 'A tree of tables has one subject column: reading the parent filters these rows by its column, and requests for its subjects read them by it.',
                  HINT = format('Protect %s by column "%s", or protect %s by column "%s" (its partitions and children follow).',
                                tbl, conflict.ancestor_subject_column, conflict.ancestor, subject_column);
    END IF;
    -- A foreign partition or child: row-level security does not apply to
    -- it, so read directly it would show every row.
    SELECT f INTO parent FROM privacy.inheritance_foreign_tables(tbl) f LIMIT 1;
    IF FOUND AND NOT EXISTS (SELECT 1 FROM privacy.protected_tables p WHERE p.relid = tbl) THEN
        RAISE EXCEPTION 'cannot protect %: its partition or child % is a foreign table', tbl, parent
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Row level security does not apply to foreign tables: read directly, it would show every row unfiltered by consent.',
                  HINT = 'Detach the foreign table (ALTER TABLE ... DETACH PARTITION or NO INHERIT) first.';
    END IF;
    -- The table and every partition and child (those protected themselves
    -- aside): each read directly is filtered too.  Those added later are
    -- protected as they come (99_protected_tables_follow_ddl.sql).
    FOR part IN SELECT t AS relid FROM privacy.consent_tree(tbl) t LOOP
        PERFORM privacy.consent_protect_relation(part.relid, subject_column);
    END LOOP;
    -- Partitions and children protected themselves under another subject
    -- column (1.0 allowed it) follow the table's: one column per tree.
    FOR part IN SELECT t AS relid FROM privacy.inheritance_tree(tbl) t
                  JOIN privacy.protected_tables q ON q.relid = t::oid
                 WHERE t <> tbl AND q.subject_column <> protect_table.subject_column LOOP
        PERFORM privacy.consent_protect_relation(r, protect_table.subject_column)
           FROM privacy.consent_tree(part.relid) r;
        UPDATE privacy.protected_tables q SET subject_column = protect_table.subject_column
         WHERE q.relid = part.relid;
    END LOOP;
    INSERT INTO privacy.protected_tables VALUES (tbl, subject_column, on_erase)
    ON CONFLICT (relid) DO UPDATE SET subject_column = EXCLUDED.subject_column,
                                      on_erase = EXCLUDED.on_erase;
END
$$;

-- A database updated from 1.0: its protected tables get the new policies
-- now, not when a DBA thinks of running protect_table again.  Tables whose
-- subject column has gone (renamed or dropped) are left for the inventory
-- to report.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT p.relid, p.subject_column, p.on_erase FROM privacy.protected_tables p
               JOIN pg_catalog.pg_attribute a ON a.attrelid = p.relid AND a.attname = p.subject_column
                                            AND a.attnum > 0 AND NOT a.attisdropped LOOP
        PERFORM privacy.consent_protect_relation(r, t.subject_column)
           FROM privacy.consent_tree(t.relid) r;
    END LOOP;
END
$$;
