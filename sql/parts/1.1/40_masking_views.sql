------------------------------------------------------------------------
-- Masking views (1.1): consent filtering inside the view, rebuilds that
-- touch only the altered table's view and keep its owner and grants, and
-- mask_role for administrators who are not superusers.
------------------------------------------------------------------------

-- Views an ALTER TABLE had to drop before it ran (it drops or retypes a
-- column they read), with their owner and grants, for the rebuild at the
-- end of the same command.  Rows live within one transaction only.
CREATE TABLE privacy.masking_view_rebuilds (
    relid       regclass PRIMARY KEY,
    view_name   text NOT NULL,
    view_owner  oid NOT NULL,
    view_acl    pg_catalog.aclitem[]
);
REVOKE ALL ON privacy.masking_view_rebuilds FROM PUBLIC;

-- Whether view v's query reads table tbl (its rule depends on the table).
CREATE FUNCTION privacy.view_reads_table(v oid, tbl regclass) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r
                     JOIN pg_catalog.pg_depend d
                       ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                      AND d.objid = r.oid
                      AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND d.refobjid = tbl
                    WHERE r.ev_class = v)
$$;

-- Whether a view is a security barrier: without it a reader's own
-- functions in WHERE run below the view, on the clear values, before its
-- masks and its consent filter.
CREATE FUNCTION privacy.view_is_security_barrier(v regclass) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT o.option_value::boolean
                       FROM pg_catalog.pg_class c, pg_catalog.pg_options_to_table(c.reloptions) o
                      WHERE c.oid = v AND o.option_name = 'security_barrier'), false)
$$;

-- The masking view of a table, if the registry's name for it really is
-- one: a view in schema masked whose query reads that table.  The registry
-- is writable by administrators, so nothing run with more rights than
-- theirs trusts a name from it without this.
CREATE FUNCTION privacy.masking_view_of(tbl regclass) RETURNS regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::pg_catalog.regclass
      FROM privacy.masking_views m
      JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(m.view_name)
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE m.relid = tbl AND c.relkind = 'v' AND n.nspname = 'masked'
       AND privacy.view_reads_table(c.oid, tbl)
$$;

-- masked.<table>, if it is a view reading that table: the masking view of
-- a table whose registry row is missing (create_masking_view takes it up).
CREATE FUNCTION privacy.masking_view_named(tbl regclass) RETURNS regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::pg_catalog.regclass
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'masked' AND c.relkind = 'v'
       AND c.relname = (SELECT t.relname FROM pg_catalog.pg_class t WHERE t.oid = tbl)
       AND privacy.view_reads_table(c.oid, tbl)
$$;

-- The consent predicate of a protected table (or of a partition or
-- inheritance child of one, at any level: the nearest protected table
-- among the table and its ancestors gives the subject column), the same
-- call its privacy_consent_select policy makes; NULL for a table that is
-- not protected.  A subject column that cannot be found any more
-- gives 'false': the view then shows no rows rather than all of them.
CREATE FUNCTION privacy.masking_view_consent_filter(tbl regclass) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    subject name;
    att record;
BEGIN
    WITH RECURSIVE up(relid, depth) AS (
        SELECT tbl::oid, 0
        UNION ALL
        SELECT i.inhparent, u.depth + 1 FROM pg_catalog.pg_inherits i JOIN up u ON i.inhrelid = u.relid
    )
    SELECT p.subject_column INTO subject
      FROM up a JOIN privacy.protected_tables p ON p.relid = a.relid
     ORDER BY a.depth LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT a.attname, a.atttypid INTO att FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = subject AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        -- Renamed since protect_table: the policy still names it by number.
        SELECT a.attname, a.atttypid INTO att
          FROM pg_catalog.pg_policy po
          JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass
                                     AND d.objid = po.oid AND d.refobjid = tbl AND d.refobjsubid > 0
          JOIN pg_catalog.pg_attribute a ON a.attrelid = tbl AND a.attnum = d.refobjsubid
         WHERE po.polrelid = tbl AND po.polname = 'privacy_consent_select' AND NOT a.attisdropped
         LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        RETURN 'false';
    END IF;
    RETURN CASE att.atttypid
        WHEN 'pg_catalog.text'::pg_catalog.regtype THEN format('privacy.has_consent(%I)', att.attname)
        WHEN 'pg_catalog.varchar'::pg_catalog.regtype THEN format('privacy.has_consent(%I::pg_catalog.text)', att.attname)
        WHEN 'pg_catalog.int8'::pg_catalog.regtype THEN format('privacy.has_consent(%I)', att.attname)
        WHEN 'pg_catalog.int4'::pg_catalog.regtype THEN format('privacy.has_consent(%I)', att.attname)
        WHEN 'pg_catalog.uuid'::pg_catalog.regtype THEN format('privacy.has_consent(%I)', att.attname)
        ELSE 'false' END;
END
$$;

-- What other objects depend on a masking view, for an error message:
-- views by name, anything else as pg_describe_object says it.
CREATE FUNCTION privacy.masking_view_dependents(v regclass) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.string_agg(DISTINCT
               CASE WHEN d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                    THEN 'view ' || r.ev_class::pg_catalog.regclass::text
                    ELSE pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) END, ', ')
      FROM pg_catalog.pg_depend d
      LEFT JOIN pg_catalog.pg_rewrite r
             ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND r.oid = d.objid
     WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = v
       AND d.deptype = 'n' AND r.ev_class IS DISTINCT FROM v
$$;

-- Brings masked.<table> up to date with the table, its rules and its
-- protection.  The view is changed in place when it can be (CREATE OR
-- REPLACE VIEW keeps its owner, its grants and the objects built on it;
-- renamed columns and a renamed table are renamed in the view); it is
-- dropped and created again only when a column it shows changed type, and
-- then comes back with the owner and grants it had (restore_owner and
-- restore_acl, when an ALTER TABLE dropped it before running).  Objects of
-- other roles built on the view stop that with an error naming them.
-- regrant: give every masked role SELECT (create_masking_view does).
CREATE FUNCTION privacy.masking_view_build(tbl regclass, regrant boolean,
                                           restore_owner oid DEFAULT NULL,
                                           restore_acl pg_catalog.aclitem[] DEFAULT NULL,
                                           in_place_only boolean DEFAULT false)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    relname name := (SELECT k.relname FROM pg_class k WHERE k.oid = tbl);
    target text := format('masked.%I', relname);
    existing regclass := coalesce(privacy.masking_view_of(tbl),
                                  CASE WHEN restore_owner IS NULL THEN privacy.masking_view_named(tbl) END);
    view_oid oid;
    query text;
    cols text := '';
    filter text := privacy.masking_view_consent_filter(tbl);
    old_cols name[];
    new_cols name[] := '{}';
    replaced boolean := false;
    owner_oid oid := restore_owner;
    acl pg_catalog.aclitem[] := restore_acl;
    dependents text;
    c record;
    r record;
    i int;
BEGIN
    -- Follow the table: rules keep their column through renames, and go
    -- with a dropped column.  After a restore the name is what counts.
    UPDATE privacy.mask_rules m SET attnum = a.attnum
      FROM pg_attribute a
     WHERE m.relid = tbl AND a.attrelid = tbl AND a.attname = m.column_name
       AND a.attnum > 0 AND NOT a.attisdropped AND m.attnum <> a.attnum;
    UPDATE privacy.mask_rules m SET column_name = a.attname
      FROM pg_attribute a
     WHERE m.relid = tbl AND a.attrelid = tbl AND a.attnum = m.attnum
       AND NOT a.attisdropped AND a.attname <> m.column_name
       AND NOT EXISTS (SELECT 1 FROM pg_attribute a2 WHERE a2.attrelid = tbl
                          AND a2.attname = m.column_name AND NOT a2.attisdropped);
    DELETE FROM privacy.mask_rules m
     WHERE m.relid = tbl AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = tbl
             AND a.attname = m.column_name AND a.attnum > 0 AND NOT a.attisdropped);

    FOR c IN SELECT a.attname,
                    EXISTS (SELECT 1 FROM privacy.mask_rules m
                             WHERE m.relid = tbl AND m.column_name = a.attname) AS masked
               FROM pg_attribute a
              WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum
    LOOP
        cols := cols || CASE WHEN cols = '' THEN '' ELSE ', ' END ||
                CASE WHEN c.masked
                     THEN format('privacy.apply_mask(%I, %L::pg_catalog.regclass, %L::pg_catalog.name) AS %I',
                                 c.attname, tbl::text, c.attname, c.attname)
                     ELSE format('%I', c.attname) END;
        new_cols := new_cols || c.attname;
    END LOOP;
    -- The consent filter is the view's own: inside the security barrier, so
    -- the predicates and functions of a reader see only rows it lets
    -- through, and whoever owns the view (a superuser bypasses the table's
    -- policies) its readers see the rows the policy would show them.
    query := format('SELECT %s FROM %s', cols, tbl)
             || CASE WHEN filter IS NULL THEN '' ELSE ' WHERE ' || filter END;

    IF existing IS NOT NULL THEN
        -- A renamed table: the view follows, unless the name is taken.
        IF existing::text <> target AND to_regclass(target) IS NULL THEN
            EXECUTE format('ALTER VIEW %s RENAME TO %I', existing, relname);
        ELSIF existing::text <> target THEN
            RAISE WARNING 'masking view % keeps its name: % already exists', existing, target;
            target := existing::text;
        END IF;
        view_oid := existing;
        SELECT array_agg(a.attname ORDER BY a.attnum) INTO old_cols FROM pg_attribute a
         WHERE a.attrelid = view_oid AND a.attnum > 0 AND NOT a.attisdropped;
        -- Columns keep their places: a column of the view whose name is not
        -- the table's column at that place was renamed (in two steps, so
        -- that names can trade places).  Only appended columns are new.
        BEGIN
            IF cardinality(old_cols) <= cardinality(new_cols) THEN
                FOR i IN 1 .. cardinality(old_cols) LOOP
                    IF old_cols[i] <> new_cols[i] THEN
                        EXECUTE format('ALTER VIEW %s RENAME COLUMN %I TO %I',
                                       target, old_cols[i], 'px_renaming_' || i);
                    END IF;
                END LOOP;
                FOR i IN 1 .. cardinality(old_cols) LOOP
                    IF old_cols[i] <> new_cols[i] THEN
                        EXECUTE format('ALTER VIEW %s RENAME COLUMN %I TO %I',
                                       target, 'px_renaming_' || i, new_cols[i]);
                    END IF;
                END LOOP;
                EXECUTE format('CREATE OR REPLACE VIEW %s WITH (security_barrier = true) AS %s',
                               target, query);
                replaced := true;
            END IF;
        EXCEPTION WHEN invalid_table_definition OR datatype_mismatch OR feature_not_supported THEN
            replaced := false;      -- a column changed type: rebuild below
        END;
        IF NOT replaced AND in_place_only THEN
            RAISE EXCEPTION 'masking view % cannot be changed in place', target
                USING ERRCODE = 'invalid_table_definition';
        END IF;
        IF NOT replaced THEN
            SELECT k.relowner, k.relacl INTO owner_oid, acl FROM pg_class k WHERE k.oid = view_oid;
            dependents := privacy.masking_view_dependents(view_oid);
            IF dependents IS NOT NULL THEN
                RAISE EXCEPTION 'cannot rebuild masking view %: other objects depend on it', target
                    USING ERRCODE = 'dependent_objects_still_exist',
                          DETAIL = format('Depending on it: %s.', dependents),
                          HINT = 'Drop the dependent objects (they can be created again afterwards), then repeat the command; nothing was changed.';
            END IF;
            EXECUTE format('DROP VIEW %s', target);
        END IF;
    ELSIF to_regclass(target) IS NOT NULL THEN
        RAISE EXCEPTION 'relation % already exists', target USING ERRCODE = 'duplicate_table',
            HINT = 'Masking views are named after their tables, in schema masked: a table of the same name in another schema has it.';
    END IF;

    IF NOT replaced THEN
        EXECUTE format('CREATE VIEW %s WITH (security_barrier = true) AS %s', target, query);
        -- Back with the owner and the grants it had (the owner's own first).
        IF owner_oid IS NOT NULL THEN
            IF owner_oid <> (SELECT k.relowner FROM pg_class k WHERE k.oid = to_regclass(target)) THEN
                EXECUTE format('ALTER VIEW %s OWNER TO %s', target, owner_oid::regrole);
            END IF;
            IF acl IS NOT NULL THEN
                EXECUTE format('REVOKE ALL ON %s FROM %s', target, owner_oid::regrole);
                FOR r IN SELECT x.grantee, x.is_grantable,
                                string_agg(x.privilege_type, ', ') AS privs, min(u.ord) AS ord
                           FROM unnest(acl) WITH ORDINALITY u(item, ord),
                                LATERAL aclexplode(ARRAY[u.item]) x
                          GROUP BY x.grantee, x.is_grantable ORDER BY min(u.ord), x.is_grantable
                LOOP
                    EXECUTE format('GRANT %s ON %s TO %s%s', r.privs, target,
                                   CASE WHEN r.grantee = 0 THEN 'PUBLIC'
                                        ELSE r.grantee::regrole::text END,
                                   CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
                END LOOP;
            END IF;
        END IF;
    END IF;

    INSERT INTO privacy.masking_views (relid, view_name) VALUES (tbl, target)
    ON CONFLICT (relid) DO UPDATE SET view_name = EXCLUDED.view_name;
    IF regrant OR (existing IS NULL AND restore_owner IS NULL) THEN
        FOR r IN SELECT m.role_name FROM privacy.masked_roles m LOOP
            EXECUTE format('GRANT SELECT ON %s TO %I', target, r.role_name);
        END LOOP;
    END IF;
    RETURN target;
END
$$;
REVOKE ALL ON FUNCTION privacy.masking_view_of(regclass), privacy.masking_view_named(regclass),
    privacy.masking_view_consent_filter(regclass),
    privacy.masking_view_dependents(regclass),
    privacy.masking_view_build(regclass, boolean, oid, pg_catalog.aclitem[], boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.masking_view_of(regclass), privacy.masking_view_named(regclass),
    privacy.masking_view_consent_filter(regclass),
    privacy.masking_view_dependents(regclass),
    privacy.masking_view_build(regclass, boolean, oid, pg_catalog.aclitem[], boolean) TO privacy_admin;

-- masked.<table>: a security_barrier view with one C call per masked
-- column, filtered by consent when the table is protected.
CREATE OR REPLACE FUNCTION privacy.create_masking_view(tbl regclass)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- With the caller's rights: a new view belongs to the caller, who must
    -- be able to read the table (a view owned by the extension's owner
    -- would read any table for whoever asked for it).  The rebuilds after
    -- DDL (privacy.masking_view_rebuild) run as the extension's owner, but
    -- only on a view that exists (or one their command had to drop), which
    -- keeps its owner and grants: a new view is only made by calling this.
    PERFORM privacy.require_admin();
    RETURN privacy.masking_view_build(tbl, true);
END
$$;

-- The extension's own rebuild, after DDL by anyone: as the extension's
-- owner, but only of a view that exists (or that the command itself had to
-- drop), which keeps its owner; a view dropped by hand is not re-created.
CREATE FUNCTION privacy.masking_view_rebuild(tbl regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    saved record;
BEGIN
    DELETE FROM privacy.masking_view_rebuilds p WHERE p.relid = tbl RETURNING p.* INTO saved;
    IF saved.relid IS NOT NULL THEN
        PERFORM privacy.masking_view_build(tbl, false, saved.view_owner, saved.view_acl);
    ELSIF privacy.masking_view_of(tbl) IS NOT NULL THEN
        PERFORM privacy.masking_view_build(tbl, false);
    END IF;
END
$$;

-- Before an ALTER TABLE that drops or retypes columns (called from C, by
-- privacy.masking_views_before_alter()): drop the masking views of the
-- table, and of the partitions and children the command recurses to, that
-- read one of those columns; remember their owners and grants.  A view
-- other objects depend on stops the command here, naming them.
CREATE FUNCTION privacy.masking_views_detach(tbl regclass, columns text[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
    dependents text;
    n integer := 0;
BEGIN
    FOR v IN
        WITH RECURSIVE tree(relid) AS (
            SELECT tbl::oid
            UNION SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid)
        SELECT t.relid::regclass AS relid, privacy.masking_view_of(t.relid) AS view
          FROM tree t JOIN privacy.masking_views m ON m.relid = t.relid
    LOOP
        CONTINUE WHEN v.view IS NULL OR NOT EXISTS (
            SELECT 1 FROM pg_rewrite r
              JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
              JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
             WHERE r.ev_class = v.view AND d.refobjid = v.relid AND a.attname = ANY (columns));
        dependents := privacy.masking_view_dependents(v.view);
        IF dependents IS NOT NULL THEN
            RAISE EXCEPTION 'cannot drop or change a column of %: masking view % must be rebuilt, and other objects depend on it',
                            v.relid, v.view
                USING ERRCODE = 'dependent_objects_still_exist',
                      DETAIL = format('Depending on %s: %s.', v.view, dependents),
                      HINT = 'Drop the dependent objects (they can be created again afterwards), then repeat the command; nothing was changed.';
        END IF;
        INSERT INTO privacy.masking_view_rebuilds (relid, view_name, view_owner, view_acl)
        SELECT v.relid, v.view::text, c.relowner, c.relacl FROM pg_class c WHERE c.oid = v.view
        ON CONFLICT (relid) DO NOTHING;
        EXECUTE format('DROP VIEW %s', v.view);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION privacy.masking_view_rebuild(regclass),
    privacy.masking_views_detach(regclass, text[]) FROM PUBLIC;

-- The event triggers.  Before: only a command that drops or retypes a
-- column, and only the views that read it (C, it reads the parse tree).
-- After: only the views of the tables the command altered (a type's typed
-- tables for ALTER TYPE), and of their partitions; named to run after
-- privacy_pin_column_keys, whose own ALTER COLUMN TYPE of a new column the
-- view does not read yet, and after privacy_column_registries_follow_renames,
-- which moves the rules of a renamed column to its new name first (the
-- view is rebuilt with the names of the columns and of their rules).
-- Every command that can rename a column of a masked relation is one.
CREATE OR REPLACE FUNCTION privacy.masking_views_before_alter() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'px_masking_views_before_alter' LANGUAGE C;
CREATE OR REPLACE FUNCTION privacy.masking_views_after_alter() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM privacy.masking_views)
       AND NOT EXISTS (SELECT 1 FROM privacy.masking_view_rebuilds) THEN
        RETURN;
    END IF;
    FOR v IN
        WITH RECURSIVE tree(relid) AS (
            SELECT privacy.relations_changed_with(c.objid) FROM pg_event_trigger_ddl_commands() c
             WHERE c.classid = 'pg_class'::regclass
            UNION SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid)
        SELECT m.relid FROM privacy.masking_views m WHERE m.relid IN (SELECT t.relid FROM tree t)
        UNION SELECT p.relid FROM privacy.masking_view_rebuilds p
    LOOP
        PERFORM privacy.masking_view_rebuild(v.relid);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.masking_views_before_alter(), privacy.masking_views_after_alter() FROM PUBLIC;
DROP EVENT TRIGGER privacy_masking_views_create;
CREATE EVENT TRIGGER privacy_refresh_masking_views ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER VIEW', 'ALTER MATERIALIZED VIEW', 'ALTER FOREIGN TABLE', 'ALTER TYPE')
    EXECUTE FUNCTION privacy.masking_views_after_alter();

-- protect_table (and a protection removed from the registry) changes the
-- consent filter of the table's masking views and of its partitions'.  A
-- view that already is as it should be (filtered or not) is left alone:
-- protect_table run again, or a restore loading the registry under views
-- it restored already, costs nothing and cannot rebuild a view from rules
-- not loaded yet.
-- Whether a view calls a function of this extension of the given name.
CREATE FUNCTION privacy.view_calls(v regclass, fname name) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r
                     JOIN pg_catalog.pg_depend d
                       ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid
                      AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                     JOIN pg_catalog.pg_proc f ON f.oid = d.refobjid
                    WHERE r.ev_class = v AND f.proname = fname
                      AND f.pronamespace = 'privacy'::pg_catalog.regnamespace)
$$;
REVOKE ALL ON FUNCTION privacy.view_calls(regclass, name) FROM PUBLIC;
CREATE FUNCTION privacy.masking_view_filtered(v regclass) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT privacy.view_calls(v, 'has_consent')
$$;
REVOKE ALL ON FUNCTION privacy.masking_view_filtered(regclass) FROM PUBLIC;
CREATE FUNCTION privacy.masking_views_follow_protection() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
    roots oid[] := '{}';
    moved boolean := false;     -- another table or subject column: always rebuild
BEGIN
    IF TG_OP = 'UPDATE' THEN
        moved := (NEW.relid, NEW.subject_column) IS DISTINCT FROM (OLD.relid, OLD.subject_column);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        roots := roots || NEW.relid::oid;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        roots := roots || OLD.relid::oid;
    END IF;
    FOR v IN
        WITH RECURSIVE tree(relid) AS (
            SELECT r FROM unnest(roots) r
            UNION SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid)
        SELECT m.relid, privacy.masking_view_of(m.relid) AS view FROM privacy.masking_views m
         WHERE TG_OP = 'TRUNCATE' OR m.relid IN (SELECT t.relid FROM tree t)
    LOOP
        CONTINUE WHEN v.view IS NULL OR (NOT moved AND
            (privacy.masking_view_consent_filter(v.relid) IS NOT NULL) = privacy.masking_view_filtered(v.view));
        PERFORM privacy.masking_view_rebuild(v.relid);
    END LOOP;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION privacy.masking_views_follow_protection() FROM PUBLIC;
CREATE TRIGGER masking_views_follow AFTER INSERT OR UPDATE OR DELETE ON privacy.protected_tables
    FOR EACH ROW EXECUTE FUNCTION privacy.masking_views_follow_protection();
CREATE TRIGGER masking_views_follow_truncate AFTER TRUNCATE ON privacy.protected_tables
    FOR EACH STATEMENT EXECUTE FUNCTION privacy.masking_views_follow_protection();

------------------------------------------------------------------------
-- mask_role and unmask_role for administrators who are not superusers.
-- ALTER ROLE ... SET needs CREATEROLE, which key administrators need not
-- have; this helper does that one step and nothing else: it sets (or
-- resets) the search_path mask_role gives, on a role that mask_role has
-- just recorded as masked (or unmask_role is about to forget), and only if
-- the role is not one whose name resolution an administrator must not
-- steer (masked comes first, and administrators may create objects in it):
-- not a superuser, not a role with CREATEROLE or BYPASSRLS, not a member
-- of privacy_admin nor of the roles whose rights reach beyond the
-- database's tables (pg_execute_server_program, pg_read_server_files,
-- pg_write_server_files, pg_read_all_data, pg_write_all_data).
------------------------------------------------------------------------
CREATE FUNCTION privacy.set_masked_search_path(role name, masked boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    SELECT a.oid, a.rolsuper, a.rolcreaterole, a.rolbypassrls INTO r FROM pg_authid a WHERE a.rolname = role;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'role "%" does not exist', role USING ERRCODE = '42704';
    END IF;
    -- The role itself or any role it is a member of (SET ROLE reaches it).
    IF pg_has_role(r.oid, 'privacy_admin', 'MEMBER')
       OR EXISTS (SELECT 1 FROM pg_authid g
                   WHERE (g.rolsuper OR g.rolcreaterole OR g.rolbypassrls
                          OR g.rolname IN ('pg_execute_server_program', 'pg_read_server_files',
                                           'pg_write_server_files', 'pg_read_all_data', 'pg_write_all_data'))
                     AND pg_has_role(r.oid, g.oid, 'MEMBER')) THEN
        RAISE EXCEPTION 'permission denied to set the search_path of role "%"', role
            USING ERRCODE = '42501',
                  DETAIL = 'Schema masked, where administrators create views, comes first on that path: its names would run with the rights of the role, which reach beyond what masking shows it.',
                  HINT = 'Only a superuser masks a superuser-like role: one with SUPERUSER, CREATEROLE or BYPASSRLS, or a member of such a role, of privacy_admin, or of pg_execute_server_program, pg_read_server_files, pg_write_server_files, pg_read_all_data or pg_write_all_data.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM privacy.masked_roles m WHERE m.role_name = role) THEN
        RAISE EXCEPTION 'role "%" is not masked', role USING ERRCODE = '42501';
    END IF;
    IF masked THEN
        EXECUTE format('ALTER ROLE %I SET search_path = masked, "$user", public', role);
    ELSE
        EXECUTE format('ALTER ROLE %I RESET search_path', role);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION privacy.set_masked_search_path(name, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.set_masked_search_path(name, boolean) TO privacy_admin;

-- Whether the current user acts as the owner of a relation in GRANT and
-- REVOKE (a superuser, or a member of the owning role).
CREATE FUNCTION privacy.acts_as_owner(rel regclass) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT (SELECT a.rolsuper FROM pg_catalog.pg_roles a WHERE a.rolname = current_user)
           OR pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = rel), 'USAGE')
$$;
-- Whether a role holds privileges granted to it by name on a relation or
-- one of its columns (what REVOKE ALL ... FROM role takes away).
CREATE FUNCTION privacy.holds_grants(rel regclass, role name) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) x
                    WHERE c.oid = rel AND x.grantee = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = role))
        OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a, pg_catalog.aclexplode(a.attacl) x
                    WHERE a.attrelid = rel AND x.grantee = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = role))
$$;
REVOKE ALL ON FUNCTION privacy.acts_as_owner(regclass), privacy.holds_grants(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.acts_as_owner(regclass), privacy.holds_grants(regclass, name) TO privacy_admin;

-- Each masked table with its partitions and inheritance children (at every
-- level), which hold its rows and have no masking view of their own; root:
-- the masked table itself.  mask_role's loops walk it.  Only a registry
-- row naming a view of schema masked that reads the table counts
-- (masking_view_of): mask_role grants the view and revokes the table, as
-- a superuser too, so a row written by hand naming any other relation
-- must not make it grant that relation.
CREATE FUNCTION privacy.masked_relations(OUT relid regclass, OUT root boolean, OUT view regclass)
RETURNS SETOF record LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT d.relid::pg_catalog.regclass, d.relid = m.relid::pg_catalog.oid, mv.view
      FROM privacy.masking_views m
      CROSS JOIN LATERAL (SELECT privacy.masking_view_of(m.relid) AS view) mv
      CROSS JOIN LATERAL (WITH RECURSIVE tree(relid) AS (
               SELECT m.relid::pg_catalog.oid
               UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree t ON i.inhparent = t.relid)
           SELECT tree.relid FROM tree) d
     WHERE mv.view IS NOT NULL
     ORDER BY m.view_name, d.relid
$$;
REVOKE ALL ON FUNCTION privacy.masked_relations() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.masked_relations() TO privacy_admin;

-- A masked role reads masked.* by default and loses direct access to the
-- tables.  A superuser cannot be masked: it reads every table anyway.  An
-- administrator who is not a superuser masks a role when it may grant
-- every masking view and take back the role's grants on their tables;
-- otherwise it is refused before anything changes.
CREATE OR REPLACE FUNCTION privacy.mask_role(role name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
    f record;
BEGIN
    PERFORM privacy.require_admin();
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
        RAISE EXCEPTION 'role "%" does not exist', role USING ERRCODE = '42704';
    END IF;
    IF (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = role) THEN
        RAISE EXCEPTION 'cannot mask superuser "%"', role USING ERRCODE = '42501',
            HINT = 'A superuser reads every table whatever it is granted; mask a role without SUPERUSER.';
    END IF;
    FOR v IN SELECT * FROM privacy.masked_relations() LOOP
        IF v.root AND NOT has_table_privilege(v.view, 'SELECT WITH GRANT OPTION') THEN
            RAISE EXCEPTION 'permission denied to mask role "%": cannot grant SELECT on %', role, v.view
                USING ERRCODE = '42501',
                      HINT = 'Run mask_role as a superuser, or as a member of the role that owns the masking views.';
        END IF;
        IF privacy.holds_grants(v.relid, role) AND NOT privacy.acts_as_owner(v.relid) THEN
            RAISE EXCEPTION 'permission denied to mask role "%": cannot revoke its privileges on %', role, v.relid
                USING ERRCODE = '42501',
                      HINT = 'Run mask_role as a superuser, or as a member of the role that owns the table.';
        END IF;
    END LOOP;
    INSERT INTO privacy.masked_roles (role_name) VALUES (role) ON CONFLICT DO NOTHING;
    FOR v IN SELECT * FROM privacy.masked_relations() LOOP
        IF v.root THEN
            EXECUTE format('GRANT SELECT ON %s TO %I', v.view, role);
        END IF;
        -- Remember a direct SELECT grant, for unmask_role to give back.
        IF EXISTS (SELECT 1 FROM pg_class c, aclexplode(c.relacl) a
                    WHERE c.oid = v.relid AND a.privilege_type = 'SELECT'
                      AND a.grantee = (SELECT r.oid FROM pg_roles r WHERE r.rolname = role)) THEN
            UPDATE privacy.masked_roles m SET revoked = array_append(m.revoked, v.relid)
             WHERE m.role_name = role AND NOT v.relid = ANY (m.revoked);
        END IF;
        IF privacy.holds_grants(v.relid, role) THEN
            EXECUTE format('REVOKE ALL ON %s FROM %I', v.relid, role);
        END IF;
        IF pg_has_role(role, (SELECT c.relowner FROM pg_class c WHERE c.oid = v.relid), 'USAGE') THEN
            RAISE WARNING 'role % owns % (or is a member of its owner): it reads the table masked, and its DDL on the table is refused',
                role, v.relid;
        ELSIF has_table_privilege(role, v.relid, 'SELECT') THEN
            RAISE WARNING 'role % can still read % through PUBLIC or a role it belongs to', role, v.relid;
        END IF;
        -- A function an object of the table calls (an index or statistics
        -- expression, a constraint, a trigger, a default, a policy, a rule)
        -- runs over the clear rows for others; its owner may not redefine
        -- it once masked (transparent.c), but should not own it.
        FOR f IN SELECT DISTINCT d.refobjid::regprocedure AS func
                   FROM pg_depend d JOIN pg_proc p ON p.oid = d.refobjid
                  WHERE d.refclassid = 'pg_proc'::regclass
                    AND pg_has_role(role, p.proowner, 'USAGE')
                    AND v.relid::oid IN (
                        SELECT i.indrelid FROM pg_index i WHERE d.classid = 'pg_class'::regclass AND i.indexrelid = d.objid
                        UNION ALL SELECT c.conrelid FROM pg_constraint c WHERE d.classid = 'pg_constraint'::regclass AND c.oid = d.objid
                        UNION ALL SELECT t.tgrelid FROM pg_trigger t WHERE d.classid = 'pg_trigger'::regclass AND t.oid = d.objid
                        UNION ALL SELECT a.adrelid FROM pg_attrdef a WHERE d.classid = 'pg_attrdef'::regclass AND a.oid = d.objid
                        UNION ALL SELECT o.polrelid FROM pg_policy o WHERE d.classid = 'pg_policy'::regclass AND o.oid = d.objid
                        UNION ALL SELECT r.ev_class FROM pg_rewrite r WHERE d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
                        UNION ALL SELECT s.stxrelid FROM pg_statistic_ext s WHERE d.classid = 'pg_statistic_ext'::regclass AND s.oid = d.objid)
                  ORDER BY 1 LOOP
            RAISE WARNING 'role % owns function % (or is a member of its owner), which an object of % calls: it may not redefine it, and should not own it',
                role, f.func, v.relid;
        END LOOP;
    END LOOP;
    IF (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
        EXECUTE format('ALTER ROLE %I SET search_path = masked, "$user", public', role);
    ELSE
        PERFORM privacy.set_masked_search_path(role, true);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION privacy.unmask_role(role name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
BEGIN
    PERFORM privacy.require_admin();
    -- A role that neither exists nor is recorded as masked: a typo, not an
    -- unmasking (a dropped role's record is still forgotten by name).
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role)
       AND NOT EXISTS (SELECT 1 FROM privacy.masked_roles m WHERE m.role_name = role) THEN
        RAISE EXCEPTION 'role "%" does not exist', role USING ERRCODE = '42704';
    END IF;
    FOR v IN SELECT privacy.masking_view_of(m.relid) AS view FROM privacy.masking_views m
              WHERE privacy.masking_view_of(m.relid) IS NOT NULL ORDER BY m.view_name LOOP
        IF privacy.holds_grants(v.view, role) AND NOT privacy.acts_as_owner(v.view) THEN
            RAISE EXCEPTION 'permission denied to unmask role "%": cannot revoke its privileges on %', role, v.view
                USING ERRCODE = '42501',
                      HINT = 'Run unmask_role as a superuser, or as a member of the role that owns the masking views.';
        END IF;
    END LOOP;
    FOR v IN SELECT t.relid FROM privacy.masked_roles m, unnest(m.revoked) t(relid)
              WHERE m.role_name = role AND to_regclass(t.relid::text) IS NOT NULL LOOP
        IF NOT has_table_privilege(v.relid, 'SELECT WITH GRANT OPTION') THEN
            RAISE EXCEPTION 'permission denied to unmask role "%": cannot give back SELECT on %', role, v.relid
                USING ERRCODE = '42501',
                      HINT = 'Run unmask_role as a superuser, or as a member of the role that owns the table.';
        END IF;
    END LOOP;
    FOR v IN SELECT privacy.masking_view_of(m.relid) AS view FROM privacy.masking_views m
              WHERE privacy.masking_view_of(m.relid) IS NOT NULL LOOP
        IF privacy.holds_grants(v.view, role) THEN
            EXECUTE format('REVOKE ALL ON %s FROM %I', v.view, role);
        END IF;
    END LOOP;
    -- Give back the direct SELECT grants mask_role took away.
    FOR v IN SELECT t.relid FROM privacy.masked_roles m, unnest(m.revoked) t(relid)
              WHERE m.role_name = role AND to_regclass(t.relid::text) IS NOT NULL LOOP
        EXECUTE format('GRANT SELECT ON %s TO %I', v.relid, role);
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
        IF (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
            EXECUTE format('ALTER ROLE %I RESET search_path', role);
        ELSIF EXISTS (SELECT 1 FROM privacy.masked_roles m WHERE m.role_name = role) THEN
            PERFORM privacy.set_masked_search_path(role, false);
        END IF;
    END IF;
    DELETE FROM privacy.masked_roles m WHERE m.role_name = role;
END
$$;

-- Masking views made by 1.0 over protected tables get their consent filter
-- now, in place (so they stay what they were: with their owners, grants and
-- dependents, and not part of the extension: the C wrapper sets the
-- script's extension context aside for it).  One that cannot be changed in
-- place is left as it was, with a warning.
CREATE FUNCTION privacy.masking_views_add_consent_filters() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
    n integer := 0;
BEGIN
    FOR v IN SELECT m.relid FROM privacy.masking_views m
              WHERE privacy.masking_view_of(m.relid) IS NOT NULL
                AND privacy.masking_view_consent_filter(m.relid) IS NOT NULL
                AND pg_catalog.strpos(pg_catalog.pg_get_viewdef(privacy.masking_view_of(m.relid)),
                                      'privacy.has_consent(') = 0 LOOP
        BEGIN
            PERFORM privacy.masking_view_build(v.relid, false, in_place_only => true);
            n := n + 1;
        EXCEPTION WHEN invalid_table_definition THEN
            RAISE WARNING 'masking view of % is not filtered by consent yet', v.relid
                USING HINT = 'Run privacy.create_masking_view() for it.';
        END;
    END LOOP;
    RETURN n;
END
$$;
CREATE FUNCTION privacy.masking_views_outside_extension() RETURNS integer
    AS 'MODULE_PATHNAME', 'px_masking_views_outside_extension' LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION privacy.masking_views_add_consent_filters(),
    privacy.masking_views_outside_extension() FROM PUBLIC;
SELECT privacy.masking_views_outside_extension() >= 0 AS masking_views_filtered;
