-- Paths to a protected table's rows that its consent policies do not judge,
-- for the inventory's findings (88_discovery.sql).
--
-- Row-level security applies to the role a table reference is checked as.
-- A view's own table references are checked as its owner unless it is
-- security_invoker: a view owned by a superuser or a BYPASSRLS role that
-- reads the table shows its readers every row, consented or not.  Only the
-- views reading a table of the tree themselves count: a security_invoker
-- view's tables are checked as the current user even under another view
-- (PostgreSQL's rule), and a view over a view is judged at the inner one.
-- A materialized view holds the rows its last REFRESH saw, through any
-- views: consent is judged then, not when it is read.  A view that calls privacy.has_consent() is
-- taken to filter by consent itself, as masking views do (40_masking_views.sql,
-- also when one was moved out of schema masked, a finding of its own).
--
-- TRUNCATE is not subject to row-level security: a role that may TRUNCATE a
-- table of the tree removes rows it could never see.

CREATE FUNCTION privacy.view_is_security_invoker(rel oid) RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT o.option_value::boolean
                       FROM pg_class c, pg_options_to_table(c.reloptions) o
                      WHERE c.oid = rel AND o.option_name = 'security_invoker'), false)
$$;
REVOKE ALL ON FUNCTION privacy.view_is_security_invoker(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.view_is_security_invoker(oid) TO privacy_admin;

CREATE FUNCTION privacy.consent_unjudged_readers(tbl regclass)
RETURNS TABLE (relation regclass, owner name, kind text)
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE readers(relid, direct) AS (
        SELECT r.ev_class, true
          FROM privacy.inheritance_tree(tbl) t
          JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = t::oid
                          AND d.classid = 'pg_rewrite'::regclass
          JOIN pg_rewrite r ON r.oid = d.objid
         WHERE r.ev_class <> t::oid
        UNION
        SELECT r.ev_class, false
          FROM readers x
          JOIN pg_class xc ON xc.oid = x.relid AND xc.relkind = 'v'
          JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = x.relid
                          AND d.classid = 'pg_rewrite'::regclass
          JOIN pg_rewrite r ON r.oid = d.objid
         WHERE r.ev_class <> x.relid
    )
    SELECT u.* FROM (
    SELECT DISTINCT c.oid::regclass AS relation, o.rolname AS owner,
           CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END AS kind
      FROM readers x
      JOIN pg_class c ON c.oid = x.relid
      JOIN pg_roles o ON o.oid = c.relowner
     WHERE (c.relkind = 'm'
            OR (c.relkind = 'v' AND x.direct AND (o.rolsuper OR o.rolbypassrls)
                AND NOT privacy.view_is_security_invoker(c.oid)
                AND NOT privacy.view_calls(c.oid::regclass, 'has_consent')))
    ) u ORDER BY u.relation::text
$$;
COMMENT ON FUNCTION privacy.consent_unjudged_readers(regclass) IS
    'Views and materialized views through which a protected table''s rows are read without its consent policies judging them for the reader.';
REVOKE ALL ON FUNCTION privacy.consent_unjudged_readers(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.consent_unjudged_readers(regclass) TO privacy_admin;

-- Roles other than superusers and the owners (and roles with an owner's
-- privileges) that may TRUNCATE a table of the tree.
CREATE FUNCTION privacy.consent_truncating_roles(tbl regclass) RETURNS SETOF name
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT r.rolname
      FROM privacy.inheritance_tree(tbl) t
      JOIN pg_class c ON c.oid = t::oid
      JOIN pg_roles r ON NOT r.rolsuper AND r.rolname !~ '^pg_'
     WHERE NOT pg_has_role(r.oid, c.relowner, 'USAGE')
       AND has_table_privilege(r.oid, c.oid, 'TRUNCATE')
     ORDER BY r.rolname
$$;
COMMENT ON FUNCTION privacy.consent_truncating_roles(regclass) IS
    'Roles, other than superusers and owners, that may TRUNCATE a table of a protected tree (row-level security does not apply to TRUNCATE).';
REVOKE ALL ON FUNCTION privacy.consent_truncating_roles(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.consent_truncating_roles(regclass) TO privacy_admin;
-- The inventory's readers call it through consent_unjudged_readers().
GRANT EXECUTE ON FUNCTION privacy.view_calls(regclass, name) TO privacy_admin;
