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
--     operator, cast to a domain, subquery or aggregate;
--   * set_masked_search_path (40_masking_views.sql: what mask_role by a
--     privacy_admin who is not a superuser runs) refuses, beside
--     superusers, CREATEROLE roles and administrators, the roles whose
--     rights reach beyond the database's tables: BYPASSRLS roles and
--     members of pg_execute_server_program, pg_read_server_files,
--     pg_write_server_files, pg_read_all_data and pg_write_all_data.  A
--     superuser masks those.
------------------------------------------------------------------------

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
    calls AS (
        SELECT m[1]::oid AS fn FROM rule,
               regexp_matches(rule.action, ':(?:funcid|opfuncid|aggfnoid|winfnoid|hashfuncid|negfuncid) ([0-9]+)', 'g') m)
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM rule) THEN 'it has no query'
        WHEN (SELECT count(*) FROM rels) <> 1 THEN 'it does not read exactly one relation'
        WHEN NOT EXISTS (SELECT 1 FROM rels, pg_class t, pg_class w
                          WHERE t.oid = rels.refobjid AND w.oid = v
                            AND (t.relname = w.relname
                                 OR EXISTS (SELECT 1 FROM privacy.masking_views m
                                             WHERE m.relid = t.oid AND m.view_name = v::regclass::text)))
            THEN 'it is not named after the relation it reads'
        WHEN (SELECT rule.action ~ '\{(COERCETODOMAIN|COERCEVIAIO|ARRAYCOERCEEXPR|SUBLINK|TABLEFUNC|XMLEXPR|ROWCOMPARE|AGGREF|WINDOWFUNC) '
                FROM rule)
            THEN 'it evaluates more than a masking view does'
        ELSE (SELECT 'it calls ' || coalesce(c.fn::regprocedure::text, c.fn::text)
                FROM calls c
               WHERE NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.oid = c.fn
                                    AND (p.pronamespace = 'privacy'::regnamespace
                                         OR (p.pronamespace = 'masked'::regnamespace
                                             AND p.proname LIKE 'row\_policies\_%'
                                             AND p.proowner = (SELECT e.extowner FROM pg_extension e
                                                                WHERE e.extname = 'privacy_ext'))))
               ORDER BY 1 LIMIT 1)
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
    cmd record;
    why text;
BEGIN
    IF (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
        RETURN;
    END IF;
    FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands() c
                WHERE c.schema_name = 'masked' AND c.object_type = 'view'
                  AND c.classid = 'pg_class'::regclass LOOP
        why := privacy.not_a_masking_view(cmd.objid);
        IF why IS NOT NULL THEN
            RAISE EXCEPTION 'schema masked holds only masking views: % is not one (%)', cmd.object_identity, why
                USING ERRCODE = '42501',
                      HINT = 'Masked roles resolve names in schema masked first; create masking views with privacy.create_masking_view(), other views elsewhere.';
        END IF;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.masked_views_are_masking_views() FROM PUBLIC;
CREATE EVENT TRIGGER privacy_masked_views_are_masking_views ON ddl_command_end
    WHEN TAG IN ('CREATE VIEW', 'ALTER VIEW')
    EXECUTE FUNCTION privacy.masked_views_are_masking_views();
