-- Masking views apply the table's own row-level security as the reader.
--
-- PostgreSQL applies a table's policies for the role a view's table
-- reference is checked as, the view's owner: a masking view made by a
-- superuser (or owned by the table's owner, without FORCE) showed every row
-- to every reader, whatever the table's tenant policies said.  So the view
-- carries the table's SELECT policies in its WHERE, inside the security
-- barrier, each for the roles it names, and applied only when
-- privacy.row_security_applies() says PostgreSQL would apply them to the
-- reader's own read of the table (src/masking/row_security.c).  The consent
-- policy is left out: the view's consent filter is its own (40_).
--
-- The policies are evaluated in a SQL function, masked.row_policies_<table
-- oid>(row), with the reader's rights, as PostgreSQL evaluates a policy:
-- written into the view, a policy's subqueries would read with the view
-- owner's rights, and its IMMUTABLE and STABLE functions with constant
-- arguments were evaluated when the planner folded or estimated the
-- view's WHERE, as the reader, before row_security_applies() could say
-- the policy does not apply to it (an owner's function ran as a superuser
-- reading the view).  The planner neither inlines the function (it has a
-- SET clause) nor calls it (its argument is the row).  It is made as
-- privacy_ext's owner, its body taken from pg_policy alone: schema masked
-- holds only masking views for other roles (46_, 99_masked_schema_...).
-- The views follow CREATE, ALTER and DROP POLICY and ALTER TABLE ... ROW
-- LEVEL SECURITY.

CREATE FUNCTION privacy.row_security_applies(tbl regclass) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_row_security_applies'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION privacy.row_security_applies(regclass) IS
    'Whether the table''s row-level security policies apply to the current user''s read of it.';
CREATE FUNCTION privacy.policy_applies_to_reader(tbl regclass, policy name) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_policy_applies_to_reader'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION privacy.policy_applies_to_reader(regclass, name) IS
    'Whether the table''s policy of this name is for the current user (PUBLIC or a role it has the privileges of).';

-- The table's SELECT policies as a predicate over its row, NULL when they
-- let every reader see every row.  Builds the function (so not STABLE).
CREATE FUNCTION privacy.masking_view_policy_filter(tbl regclass) RETURNS text
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
                    pg_get_expr(po.polqual, po.polrelid) AS qual,
                    (SELECT k.oid::regclass FROM pg_depend d JOIN pg_class k ON k.oid = d.refobjid
                      WHERE d.classid = 'pg_policy'::regclass AND d.objid = po.oid
                        AND d.refclassid = 'pg_class'::regclass AND k.relpersistence = 't'
                      LIMIT 1) AS temporary
               FROM pg_policy po
              WHERE po.polrelid = tbl AND po.polcmd IN ('r', '*') AND po.polqual IS NOT NULL
                AND po.polname <> 'privacy_consent_select'
              ORDER BY po.polname
    LOOP
        -- Deparsed, a temporary table's name is unqualified, and each
        -- reader's session would find its own temporary table by it.
        IF p.temporary IS NOT NULL THEN
            RAISE EXCEPTION 'cannot build the masking view of %: its policy % reads temporary table %',
                            tbl, p.polname, p.temporary
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'Make the policy read a permanent table.';
        END IF;
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

-- After the view was built: the policies' functions of the table (a restore
-- brings one named after the table's former OID) that no view calls any more
-- (dropped before, the view would still have depended on it).
CREATE FUNCTION privacy.masking_view_drop_unused_policies(tbl regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_proc p
              WHERE p.pronamespace = 'masked'::regnamespace AND p.proname LIKE 'row\_policies\_%'
                AND p.pronargs = 1 AND p.proargtypes[0] = (SELECT c.reltype FROM pg_class c WHERE c.oid = tbl)
                AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                 WHERE d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
                                   AND d.classid = 'pg_rewrite'::regclass)
    LOOP
        EXECUTE format('DROP FUNCTION %s', f);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.masking_view_drop_unused_policies(regclass) FROM PUBLIC;

-- Everything the view's WHERE holds: the consent filter and the policies.
CREATE FUNCTION privacy.masking_view_filter(tbl regclass) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT nullif(concat_ws(' AND ', privacy.masking_view_consent_filter(tbl),
                            privacy.masking_view_policy_filter(tbl)), '')
$$;
REVOKE ALL ON FUNCTION privacy.masking_view_filter(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.masking_view_policy_filter(regclass),
    privacy.masking_view_drop_unused_policies(regclass),
    privacy.masking_view_filter(regclass) TO privacy_admin;

-- After CREATE POLICY and ALTER POLICY (ddl_command_end) and DROP POLICY
-- (sql_drop): the masking view of the policy's table is rebuilt, unless
-- the policies let every reader see every row before and after.  The
-- consent policies protect_table makes and drops are left to it: it
-- brings the view up to date once they are all in place (97_), as the
-- states in between (no permissive policy for a moment) would rebuild
-- views that cannot be (a 1.0 view that other views are built on).
-- privacy.consent_policy_names() is defined with the inventory (88_).
-- privacy.masking_view_rebuild(tbl), also from the update script from 1.0
-- (protect_table there, 98_), which may not replace the users' views
-- (src/masking/views.c).
CREATE FUNCTION privacy.masking_view_rebuild_outside_extension(tbl regclass) RETURNS void
    AS 'MODULE_PATHNAME', 'px_masking_view_rebuild_outside_extension' LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION privacy.masking_view_rebuild_outside_extension(regclass) FROM PUBLIC;
-- As the extension's owner, like the event trigger below: it only rebuilds
-- a view that exists, keeping its owner (protect_table calls it as a
-- privacy administrator).
CREATE FUNCTION privacy.masking_view_follows_policies(tbl regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF privacy.masking_view_policy_filter(tbl) IS NOT NULL
       OR privacy.view_calls(privacy.masking_view_of(tbl), 'row_security_applies') THEN
        PERFORM privacy.masking_view_rebuild_outside_extension(tbl);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION privacy.masking_view_follows_policies(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.masking_view_follows_policies(regclass) TO privacy_admin;
CREATE FUNCTION privacy.masking_views_follow_policies() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM privacy.masking_views) THEN
        RETURN;
    END IF;
    IF TG_EVENT = 'sql_drop' THEN
        FOR v IN SELECT DISTINCT m.relid
                   FROM pg_event_trigger_dropped_objects() d
                   JOIN privacy.masking_views m
                     ON m.relid = to_regclass(format('%I.%I', d.address_names[1], d.address_names[2]))
                  WHERE d.object_type = 'policy' AND cardinality(d.address_names) = 3
                    AND d.address_names[3] <> ALL (privacy.consent_policy_names())
        LOOP
            PERFORM privacy.masking_view_follows_policies(v.relid);
        END LOOP;
    ELSE
        -- A consent policy too when the view was built while the table had
        -- row-level security on and no permissive policy yet (its filter
        -- then says false): a parallel pg_restore enables row-level
        -- security before it creates the allow policies.
        FOR v IN SELECT DISTINCT m.relid
                   FROM pg_event_trigger_ddl_commands() c
                   JOIN pg_policy po ON c.classid = 'pg_policy'::regclass AND po.oid = c.objid
                   JOIN privacy.masking_views m ON m.relid = po.polrelid
                  WHERE po.polname <> ALL (privacy.consent_policy_names())
                     OR (po.polpermissive AND pg_catalog.pg_get_viewdef(privacy.masking_view_of(m.relid))
                                              LIKE '%row_security_applies(%) OR false)%')
        LOOP
            PERFORM privacy.masking_view_follows_policies(v.relid);
        END LOOP;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION privacy.masking_views_follow_policies() FROM PUBLIC;
CREATE EVENT TRIGGER privacy_masking_views_follow_policies ON ddl_command_end
    WHEN TAG IN ('CREATE POLICY', 'ALTER POLICY')
    EXECUTE FUNCTION privacy.masking_views_follow_policies();
CREATE EVENT TRIGGER privacy_masking_views_follow_dropped_policies ON sql_drop
    WHEN TAG IN ('DROP POLICY')
    EXECUTE FUNCTION privacy.masking_views_follow_policies();
