------------------------------------------------------------------------
-- A table under a protected parent and, by multiple inheritance, under a
-- second parent: its rows are read through either.  The checks that a
-- protected table is under no unprotected parent, and that a tree has one
-- subject column, looked at registered tables only, so a child covered by
-- its protected parent's registration passed them:
--   * CREATE TABLE c () INHERITS (protected, plain), or ALTER TABLE c
--     INHERIT plain, made plain show c's rows unfiltered by consent (with
--     no purpose declared too);
--   * a child of two parents protected by different subject columns got
--     the first one's policies, and requests for the second one's subjects
--     passed its rows by;
--   * protect_table of a parent whose child has another, unprotected,
--     parent left that parent showing the child's rows.
-- privacy.consent_tree_gaps() finds both in any set of relations: those a
-- DDL command touched (protected_tables_follow_ddl) and every table under
-- a registration being made (a trigger on privacy.protected_tables).
------------------------------------------------------------------------

-- Whether a relation is covered by a registration: its own or an ancestor's.
CREATE FUNCTION privacy.consent_covered(rel oid) RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM privacy.protected_tables q WHERE q.relid = rel)
        OR EXISTS (SELECT 1 FROM privacy.inheritance_ancestors(rel::regclass) g
                     JOIN privacy.protected_tables q ON q.relid = g)
$$;

-- For each covered relation of rels: a parent (at any level) that no
-- registration covers ('unprotected parent'), or two registrations over it
-- by different subject columns ('subject columns').
CREATE FUNCTION privacy.consent_tree_gaps(rels oid[])
RETURNS TABLE (rel regclass, other regclass, gap text, detail text)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT d::regclass, a, 'unprotected parent', NULL::text
      FROM unnest(rels) d, privacy.inheritance_ancestors(d::regclass) a
     WHERE EXISTS (SELECT 1 FROM pg_class k WHERE k.oid = d)
       AND privacy.consent_covered(d) AND NOT privacy.consent_covered(a::oid)
    UNION ALL
    SELECT d::regclass, min(q.relid::regclass::text)::regclass, 'subject columns',
           string_agg(format('%s by column "%s"', q.relid::regclass, q.subject_column), ', '
                      ORDER BY q.relid::regclass::text)
      FROM unnest(rels) d
      JOIN LATERAL (SELECT d AS r UNION SELECT g::oid FROM privacy.inheritance_ancestors(d::regclass) g) s ON true
      JOIN privacy.protected_tables q ON q.relid = s.r
     WHERE EXISTS (SELECT 1 FROM pg_class k WHERE k.oid = d)
     GROUP BY d
    HAVING count(DISTINCT q.subject_column) > 1
$$;
REVOKE ALL ON FUNCTION privacy.consent_covered(oid), privacy.consent_tree_gaps(oid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.consent_covered(oid), privacy.consent_tree_gaps(oid[]) TO privacy_admin;

-- parents_only: the unprotected parents alone, of relations other than
-- except_rel (a registration changed in place, below).
CREATE FUNCTION privacy.refuse_consent_tree_gaps(rels oid[], parents_only boolean DEFAULT false,
                                                 except_rel oid DEFAULT NULL) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM privacy.consent_tree_gaps(rels) g
              WHERE NOT parents_only OR (g.gap = 'unprotected parent' AND g.rel::oid IS DISTINCT FROM except_rel)
              ORDER BY g.gap DESC, g.rel::text LIMIT 1 LOOP
        IF r.gap = 'unprotected parent' THEN
            RAISE EXCEPTION 'consent-protected table % cannot be a partition or child of %', r.rel, r.other
                USING ERRCODE = 'invalid_object_definition',
                      DETAIL = format('%s is not protected: reading it would show the rows of %s unfiltered by consent.',
                                      r.other, r.rel),
                      HINT = format('Protect %s first (privacy.protect_table): its partitions and children are protected with it.',
                                    r.other);
        ELSE
            RAISE EXCEPTION 'consent-protected table % is under tables protected by different subject columns', r.rel
                USING ERRCODE = 'invalid_object_definition',
                      DETAIL = format('Protected: %s. A tree of tables has one subject column: reading each parent filters the rows by its column, and requests for its subjects read them by it.', r.detail),
                      HINT = 'Protect the parents by one subject column, or take the table from under one of them (ALTER TABLE ... NO INHERIT).';
        END IF;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.refuse_consent_tree_gaps(oid[], boolean, oid) FROM PUBLIC;

-- DDL that links tables (CREATE TABLE ... INHERITS / PARTITION OF, ALTER
-- TABLE ... INHERIT / ATTACH PARTITION): the relations it touched, their
-- ancestors and descendants.  Runs beside protected_tables_follow_ddl
-- (which gives new children their policies); both fail the command.
CREATE FUNCTION privacy.protected_trees_follow_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    touched oid[];
    family oid[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM privacy.protected_tables) THEN
        RETURN;
    END IF;
    SELECT array_agg(DISTINCT t) INTO touched
      FROM pg_event_trigger_ddl_commands() c, privacy.relations_changed_with(c.objid) t
     WHERE c.classid = 'pg_class'::regclass AND privacy.ddl_command_links_tables(c.command);
    IF touched IS NULL THEN
        RETURN;
    END IF;
    SELECT array_agg(DISTINCT f::oid) INTO family FROM (
        SELECT t::regclass AS f FROM unnest(touched) t WHERE EXISTS (SELECT 1 FROM pg_class k WHERE k.oid = t)
        UNION SELECT d FROM unnest(touched) t, privacy.inheritance_tree(t::regclass) d) s;
    PERFORM privacy.refuse_consent_tree_gaps(family);
END
$$;
REVOKE ALL ON FUNCTION privacy.protected_trees_follow_ddl() FROM PUBLIC;
-- CREATE SCHEMA too: its CREATE TABLE elements (INHERITS, PARTITION OF)
-- run under that tag, and are reported with their own.
CREATE EVENT TRIGGER privacy_protected_trees_follow_ddl ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE', 'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE', 'CREATE SCHEMA')
    EXECUTE FUNCTION privacy.protected_trees_follow_ddl();

-- A registration made (protect_table, or the registry written by hand):
-- every table under it.  A registration changed in place is checked for
-- the unprotected parents of the tables under it other than itself (a
-- table registered under an unprotected parent by 1.0 may be protected
-- again: the inventory reports it), and, when no registration is above
-- it, for subject columns too: protect_table moves a tree to a new subject
-- column one registration at a time, the ones under it first, so the
-- tree is whole again when the top's own registration changes.
CREATE FUNCTION privacy.consent_tree_follow_registration() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tree oid[] := (SELECT array_agg(t::oid) FROM privacy.inheritance_tree(NEW.relid) t);
BEGIN
    PERFORM privacy.refuse_consent_tree_gaps(tree, TG_OP = 'UPDATE', NEW.relid);
    IF TG_OP = 'UPDATE' AND NOT EXISTS (SELECT 1 FROM privacy.inheritance_ancestors(NEW.relid) a
                                          JOIN privacy.protected_tables q ON q.relid = a) THEN
        PERFORM privacy.refuse_consent_tree_gaps(
            (SELECT array_agg(t) FROM unnest(tree) t WHERE t <> NEW.relid::oid));
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION privacy.consent_tree_follow_registration() FROM PUBLIC;
CREATE TRIGGER consent_tree_follow_registration AFTER INSERT OR UPDATE ON privacy.protected_tables
    FOR EACH ROW EXECUTE FUNCTION privacy.consent_tree_follow_registration();
