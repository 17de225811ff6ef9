------------------------------------------------------------------------
-- The masking view registry follows DDL on the views themselves.  A
-- dropped masking view is forgotten (privacy.forget_dropped_relations,
-- 98_relation_checks.sql); a renamed one keeps its row under its new name
-- (its masked roles look for masked.<table>, so a view renamed away fails
-- closed, and the next rebuild renames it back); one made to lose its
-- security barrier is refused.
------------------------------------------------------------------------

-- After ALTER VIEW, ALTER TABLE (which renames views too) and CREATE OR
-- REPLACE VIEW: as the extension's owner (the registry is closed to other
-- roles), but it only renames a row whose view no longer exists under its
-- old name to the view in schema masked that the command altered and that
-- reads the row's table, and refuses a masking view without its barrier.
CREATE FUNCTION privacy.masking_views_follow_renames() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM privacy.masking_views) THEN
        RETURN;
    END IF;
    -- A rename (or SET SCHEMA within masked); a view moved elsewhere is
    -- no masking view any more: its row stays, which the inventory reports.
    FOR v IN SELECT DISTINCT m.relid, k.oid::regclass AS view
               FROM pg_event_trigger_ddl_commands() c
               JOIN pg_class k ON k.oid = c.objid AND k.relkind = 'v'
                              AND k.relnamespace = 'masked'::regnamespace
               JOIN privacy.masking_views m ON to_regclass(m.view_name) IS NULL
              WHERE TG_TAG IN ('ALTER VIEW', 'ALTER TABLE') AND c.classid = 'pg_class'::regclass
                AND privacy.view_reads_table(k.oid, m.relid)
    LOOP
        UPDATE privacy.masking_views m SET view_name = v.view::text WHERE m.relid = v.relid;
    END LOOP;
    FOR v IN SELECT DISTINCT c.objid::regclass AS view
               FROM pg_event_trigger_ddl_commands() c
               JOIN privacy.masking_views m ON to_regclass(m.view_name) = c.objid
              WHERE c.classid = 'pg_class'::regclass
                AND NOT privacy.view_is_security_barrier(c.objid)
    LOOP
        RAISE EXCEPTION 'masking view % must stay a security_barrier view', v.view
            USING ERRCODE = 'invalid_object_definition',
                  DETAIL = 'Without it a reader''s functions in WHERE see the values before they are masked.';
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.masking_views_follow_renames() FROM PUBLIC;
CREATE EVENT TRIGGER privacy_masking_views_follow_renames ON ddl_command_end
    WHEN TAG IN ('ALTER VIEW', 'ALTER TABLE', 'CREATE VIEW')
    EXECUTE FUNCTION privacy.masking_views_follow_renames();
