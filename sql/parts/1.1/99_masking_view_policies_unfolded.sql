-- The table's own row-level security policies are evaluated in the
-- masking view only through masked.row_policies_<table oid>(row), for
-- every policy (41_ did so only for policies reading other relations).  A
-- policy written into the view's WHERE was folded by the planner: a table
-- owner's IMMUTABLE function in a policy ran when a superuser planned a
-- read of the masking view, with the superuser's rights, although
-- PostgreSQL applies no policy to a superuser (ALTER ROLE ... SUPERUSER
-- from the owner's function).  The function is made by its builder as
-- privacy_ext's owner (SECURITY DEFINER, its body taken from pg_policy
-- alone): schema masked holds only masking views for other roles, so a
-- privacy_admin who is not a superuser could not have made it.
CREATE OR REPLACE FUNCTION privacy.masking_view_policy_filter(tbl regclass) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    relname name;
    p record;
    permissive text[] := '{}';
    restrictive text[] := '{}';
    allows_every_row boolean := false;
    term text;
    combined text;
    fn text := format('masked.%I', 'row_policies_' || tbl::oid);
BEGIN
    SELECT c.relname INTO relname FROM pg_class c WHERE c.oid = tbl AND c.relrowsecurity;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    FOR p IN SELECT po.polname, po.polpermissive, po.polroles,
                    pg_get_expr(po.polqual, po.polrelid) AS qual
               FROM pg_policy po
              WHERE po.polrelid = tbl AND po.polcmd IN ('r', '*') AND po.polqual IS NOT NULL
                AND po.polname <> 'privacy_consent_select'
              ORDER BY po.polname
    LOOP
        IF 0::oid = ANY (p.polroles) THEN
            term := format('(%s)', p.qual);
            allows_every_row := allows_every_row OR (p.polpermissive AND p.qual = 'true');
        ELSIF p.polpermissive THEN
            -- lets rows through only for its roles
            term := format('(privacy.policy_applies_to_reader(%L::pg_catalog.regclass, %L::pg_catalog.name) AND (%s))',
                           tbl, p.polname, p.qual);
        ELSE
            -- holds rows back only from its roles
            term := format('(NOT privacy.policy_applies_to_reader(%L::pg_catalog.regclass, %L::pg_catalog.name) OR (%s))',
                           tbl, p.polname, p.qual);
        END IF;
        IF p.polpermissive THEN
            permissive := permissive || term;
        ELSE
            restrictive := restrictive || term;
        END IF;
    END LOOP;
    -- No permissive policy applying: PostgreSQL shows no row.
    combined := array_to_string(
        CASE WHEN allows_every_row THEN '{}'::text[]
             WHEN cardinality(permissive) = 0 THEN ARRAY['false']
             ELSE ARRAY['(' || array_to_string(permissive, ' OR ') || ')'] END || restrictive,
        ' AND ');
    -- Every policy goes through the function (not only those reading
    -- other relations): written into the view, its IMMUTABLE and STABLE
    -- functions with constant arguments were evaluated when the planner
    -- folded or estimated the view's WHERE, as the reader, before
    -- row_security_applies() could say the policy does not apply to it (a
    -- superuser).  The planner neither inlines the function (it has a SET
    -- clause) nor calls it (its argument is the row), so the policy's
    -- code runs only when the function is called, after that test.
    IF combined NOT IN ('', 'false') THEN
        -- Its own search_path: the condition was deparsed under this one
        -- (names outside pg_catalog qualified), and a reader's search_path
        -- must not make its operators and functions resolve to the reader's.
        EXECUTE format('CREATE OR REPLACE FUNCTION %s(%s) RETURNS boolean LANGUAGE sql STABLE '
                       'SET search_path = pg_catalog, pg_temp AS %L',
                       fn, tbl, format('SELECT %s FROM (SELECT ($1).*) AS %I', combined, relname));
        EXECUTE format('COMMENT ON FUNCTION %s(%s) IS %L', fn, tbl,
                       format('The row-level security policies of %s, for its masking view (built by privacy_ext).', tbl));
        combined := format('%s(%I)', fn, relname);
    END IF;
    IF combined = '' THEN
        RETURN NULL;
    END IF;
    RETURN format('(NOT privacy.row_security_applies(%L::pg_catalog.regclass) OR %s)', tbl, combined);
END
$$;
REVOKE ALL ON FUNCTION privacy.masking_view_policy_filter(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.masking_view_policy_filter(regclass) TO privacy_admin;
-- It drops those functions, which privacy_ext's owner now owns.
ALTER FUNCTION privacy.masking_view_drop_unused_policies(regclass) SECURITY DEFINER;

-- Masking views built before with a policy written into their WHERE:
-- rebuilt with their policies in the function.
DO $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT m.relid FROM privacy.masking_views m,
                    LATERAL (SELECT pg_catalog.pg_get_viewdef(privacy.masking_view_of(m.relid)) AS def) d
              WHERE privacy.masking_view_of(m.relid) IS NOT NULL
                AND d.def LIKE '%row_security_applies%' AND d.def NOT LIKE '%row\_policies\_%'
    LOOP
        PERFORM privacy.masking_view_rebuild_outside_extension(v.relid);
    END LOOP;
END
$$;
