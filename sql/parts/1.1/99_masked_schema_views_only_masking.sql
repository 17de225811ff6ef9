------------------------------------------------------------------------
-- Schema masked comes first on a masked role's search_path, and a
-- privacy_admin may create views there (masking views are built with the
-- caller's rights).  Other objects were refused there already
-- (46_masking_guards.sql), but any view was not: a privacy_admin could put
-- masked.jobs, calling a function of its own, in front of a masked role's
-- own jobs table, and the function ran with that role's rights whenever it
-- read "jobs" (COPY ... TO PROGRAM for a member of
-- pg_execute_server_program).  So:
--   * for a role that is not a superuser, a view created or changed in
--     schema masked must be a masking view: it reads one relation, named
--     as the view or registered with it, and calls only privacy_ext's
--     functions (apply_mask, the consent and policy tests, the policy
--     function privacy_ext's owner makes): no built-in function or
--     operator, cast to a domain, subquery or aggregate; and the relation
--     is not the creator's own (nor a role's whose privileges it has),
--     whose triggers, defaults and policies it could change afterwards;
--   * set_masked_search_path (40_masking_views.sql: what mask_role by a
--     privacy_admin who is not a superuser runs) refuses, beside
--     superusers, CREATEROLE roles and administrators, the roles whose
--     rights reach beyond the database's tables: BYPASSRLS roles and
--     members of pg_execute_server_program, pg_read_server_files,
--     pg_write_server_files, pg_read_all_data and pg_write_all_data.  A
--     superuser masks those.
------------------------------------------------------------------------

-- The first call in a stored expression tree (nodeToString text) of code
-- other than privacy_ext's own functions (and its owner's policy
-- functions in schema masked): NULL when there is none.  Node kinds that run
-- code of their own (a cast to a domain runs its CHECK, a cast through
-- text its type's input; a subquery runs whatever it reads) count as
-- calls.  pg_depend cannot tell: built-in functions are pinned, and
-- query_to_xml alone runs any query as the reader.
CREATE FUNCTION privacy.first_foreign_call(tree text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN tree ~ '\{(COERCETODOMAIN|COERCEVIAIO|ARRAYCOERCEEXPR|SUBLINK|TABLEFUNC|XMLEXPR|ROWCOMPARE|AGGREF|WINDOWFUNC) '
            THEN 'an expression that runs code of its own (a subquery, a cast, an aggregate)'
        ELSE (SELECT coalesce(c.fn::regprocedure::text, c.fn::text)
                FROM (SELECT m[1]::oid AS fn
                        FROM regexp_matches(tree, ':(?:funcid|opfuncid|aggfnoid|winfnoid|hashfuncid|negfuncid) ([0-9]+)', 'g') m) c
               WHERE NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.oid = c.fn
                                    AND (p.pronamespace = 'privacy'::regnamespace
                                         OR (p.pronamespace = 'masked'::regnamespace
                                             AND p.proname LIKE 'row\_policies\_%'
                                             AND p.proowner = (SELECT e.extowner FROM pg_extension e
                                                                WHERE e.extname = 'privacy_ext'))))
               ORDER BY 1 LIMIT 1)
        END
$$;
REVOKE ALL ON FUNCTION privacy.first_foreign_call(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.first_foreign_call(text) TO privacy_admin;

-- Why a view of schema masked is not a masking view, or NULL when it is.
-- Its relations come from pg_depend; the code it runs from its stored
-- query (built-in functions are pinned: pg_depend does not list them, and
-- query_to_xml alone runs any query as the reader).
CREATE FUNCTION privacy.not_a_masking_view(v oid) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH rule AS (
        SELECT r.oid, r.ev_action::text AS action FROM pg_rewrite r
         WHERE r.ev_class = v AND r.rulename = '_RETURN'),
    rels AS (
        SELECT DISTINCT d.refobjid FROM pg_depend d, rule
         WHERE d.classid = 'pg_rewrite'::regclass AND d.objid = rule.oid AND d.deptype = 'n'
           AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> v),
    own AS (
        -- the relation read, when it is its creator's (or a role's whose
        -- privileges the creator has): its code (a view's query, its
        -- triggers, defaults and policies, added before or after the view)
        -- would run as the masking view's readers, a superuser's masked
        -- roles among them, and its rows stand in for theirs
        SELECT t.oid, t.relkind FROM rels, pg_class t
         WHERE t.oid = rels.refobjid AND pg_has_role(current_user, t.relowner, 'MEMBER')
           AND NOT (SELECT a.rolsuper FROM pg_roles a WHERE a.rolname = current_user))
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM rule) THEN 'it has no query'
        WHEN (SELECT count(*) FROM rels) <> 1 THEN 'it does not read exactly one relation'
        WHEN NOT EXISTS (SELECT 1 FROM rels, pg_class t, pg_class w
                          WHERE t.oid = rels.refobjid AND w.oid = v
                            AND (t.relname = w.relname
                                 OR EXISTS (SELECT 1 FROM privacy.masking_views m
                                             WHERE m.relid = t.oid AND m.view_name = v::regclass::text)))
            THEN 'it is not named after the relation it reads'
        WHEN EXISTS (SELECT 1 FROM own)
            THEN 'it reads a relation of its creator''s own'
        ELSE (SELECT 'it calls ' || privacy.first_foreign_call(rule.action) FROM rule)
        END
$$;
REVOKE ALL ON FUNCTION privacy.not_a_masking_view(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.not_a_masking_view(oid) TO privacy_admin;

-- As the role whose DDL it follows (a role that may create in schema
-- masked is an administrator: privacy.not_a_masking_view() is theirs to
-- run; another role's DDL fails on it).
CREATE FUNCTION privacy.masked_views_are_masking_views() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    why text;
BEGIN
    IF (SELECT a.rolsuper FROM pg_roles a WHERE a.rolname = current_user) THEN
        RETURN;
    END IF;
    -- Every relation of schema masked the command created or changed,
    -- itself or through an object on it: a view (CREATE/ALTER VIEW, ALTER
    -- TABLE ... SET SCHEMA or RENAME), its rules (CREATE RULE "_RETURN"
    -- replaces its query), triggers (INSTEAD OF) and column defaults.
    FOR r IN SELECT DISTINCT k.oid AS rel, k.relkind,
                    format('%I.%I', n.nspname, k.relname) AS name
               FROM pg_event_trigger_ddl_commands() c
               JOIN LATERAL (SELECT privacy.ddl_object_relation(c.classid, c.objid) AS rel) t ON true
               JOIN pg_class k ON k.oid = t.rel
               JOIN pg_namespace n ON n.oid = k.relnamespace
              WHERE n.nspname = 'masked'
    LOOP
        why := CASE
            WHEN r.relkind <> 'v' THEN 'it is not a view'
            WHEN EXISTS (SELECT 1 FROM pg_rewrite w WHERE w.ev_class = r.rel AND w.rulename <> '_RETURN')
                THEN 'it has a rule'
            WHEN EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = r.rel) THEN 'it has a trigger'
            WHEN EXISTS (SELECT 1 FROM pg_attrdef d WHERE d.adrelid = r.rel) THEN 'a column has a default'
            ELSE privacy.not_a_masking_view(r.rel) END;
        IF why IS NOT NULL THEN
            RAISE EXCEPTION 'schema masked holds only masking views: % is not one (%)', r.name, why
                USING ERRCODE = '42501',
                      HINT = 'Masked roles resolve names in schema masked first; create masking views with privacy.create_masking_view(), other objects elsewhere.';
        END IF;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.masked_views_are_masking_views() FROM PUBLIC;
CREATE EVENT TRIGGER privacy_masked_views_are_masking_views ON ddl_command_end
    EXECUTE FUNCTION privacy.masked_views_are_masking_views();
