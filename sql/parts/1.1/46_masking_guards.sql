-- Two guards around the masking views, checked after every DDL command.
--
-- 1. Schema masked holds only masking views.  Masked roles resolve names
--    with masked first on their search_path (mask_role), and
--    privacy_admin may create objects there (masking views are created
--    with the caller's rights): a function or operator placed there would
--    run, as a masked role, whenever that role's query happened to match
--    it, with whatever rights the role has (pg_execute_server_program,
--    say).  Views are what the schema is for; anything else is refused.
--
-- 2. privacy.apply_mask() and privacy.anonymize_value() are checked where
--    a query calls them (src/masking/guard.c): each call must mask the
--    column it names, read from the table it names.  Expressions stored by
--    DDL (a column default, a CHECK or domain constraint, a policy, an
--    index expression, a trigger's WHEN, a BEGIN ATOMIC body, a rule's
--    action) are analyzed outside that check and evaluated later with any
--    argument, which made apply_mask a masking oracle for any ciphertext.
--    Only views may store calls of them (their query is checked when the
--    view is created).
CREATE FUNCTION privacy.masking_guards() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cmd record;
    dep record;
BEGIN
    FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands()
                WHERE schema_name = 'masked' AND object_type <> 'view' LOOP
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            RAISE EXCEPTION 'schema masked holds only masking views, not % %', cmd.object_type, cmd.object_identity
                USING ERRCODE = '42501',
                      HINT = 'Masked roles resolve names in schema masked first; create other objects elsewhere.';
        END IF;
    END LOOP;
    SELECT d.classid::regclass AS catalog, pg_describe_object(d.classid, d.objid, d.objsubid) AS what
      INTO dep
      FROM pg_depend d
     WHERE d.refclassid = 'pg_proc'::regclass
       AND d.refobjid IN (SELECT p.oid FROM pg_proc p
                           WHERE p.pronamespace = 'privacy'::regnamespace
                             AND p.proname IN ('apply_mask', 'anonymize_value'))
       AND d.deptype = 'n'
       AND NOT (d.classid = 'pg_rewrite'::regclass
                AND EXISTS (SELECT 1 FROM pg_rewrite r
                             WHERE r.oid = d.objid AND r.rulename = '_RETURN'))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'privacy.apply_mask() and privacy.anonymize_value() may only be called by queries and views, not stored in %', dep.what
            USING ERRCODE = '42501',
                  HINT = 'Read masked values through the masking view (masked.<table>).';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION privacy.masking_guards() FROM PUBLIC;
CREATE EVENT TRIGGER privacy_masking_guards ON ddl_command_end
    EXECUTE FUNCTION privacy.masking_guards();
