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
--
-- 3. A masked role changes no masked table (nor a partition or inheritance
--    child of one) and ties nothing to one: DDL attaches code that runs
--    over the clear rows (a CHECK constraint or an index expression is
--    evaluated on every row, a trigger sees each row written) or probes
--    them (a foreign key to a masked table says whether a value exists).
--    A masked role that owns the table, or holds TRIGGER or REFERENCES
--    on it (through PUBLIC, say), could otherwise read what its queries
--    only see masked.
CREATE FUNCTION privacy.masked_relation(rel oid) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE up(relid) AS (
        SELECT rel UNION SELECT i.inhparent FROM pg_catalog.pg_inherits i JOIN up ON i.inhrelid = up.relid)
    SELECT EXISTS (SELECT 1 FROM up WHERE privacy.masking_view_of(up.relid::pg_catalog.regclass) IS NOT NULL)
$$;
-- Run by the event trigger below as its caller's role: SECURITY DEFINER to
-- read the registry (closed to other roles), for the role it is given.
CREATE FUNCTION privacy.refuse_masked_ddl(role name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cmd record;
    dep record;
    target oid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM privacy.masked_roles m WHERE m.role_name = role) THEN
        RETURN;
    END IF;
    FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
        target := privacy.ddl_object_relation(cmd.classid, cmd.objid);
        CONTINUE WHEN target IS NULL;
        IF privacy.masked_relation(target) THEN
            RAISE EXCEPTION 'permission denied to change masked table %', target::regclass
                USING ERRCODE = '42501',
                      DETAIL = format('Role "%s" is masked: DDL on the table would run code over the rows it reads masked.', role),
                      HINT = 'Change masked tables as a role that is not masked.';
        END IF;
        SELECT c.confrelid INTO dep FROM pg_constraint c
         WHERE c.conrelid = target AND c.contype = 'f' AND privacy.masked_relation(c.confrelid) LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'permission denied to reference masked table %', dep.confrelid::regclass
                USING ERRCODE = '42501',
                      DETAIL = format('Role "%s" is masked: a foreign key would tell which values the table holds.', role),
                      HINT = 'Create the foreign key as a role that is not masked.';
        END IF;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.masked_relation(oid), privacy.refuse_masked_ddl(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.refuse_masked_ddl(name) TO PUBLIC;
-- A view's "_RETURN" rule may call apply_mask (the view's query passed the
-- parse-analysis check, masking/guard.c), unless CREATE RULE "_RETURN" made
-- a table a view: that action never did.
CREATE FUNCTION privacy.masking_guards() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cmd record;
    dep record;
BEGIN
    PERFORM privacy.refuse_masked_ddl(current_user);
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
                             AND p.proname IN ('apply_mask', 'anonymize_value')) AND d.deptype = 'n'
       AND NOT (d.classid = 'pg_rewrite'::regclass
                AND EXISTS (SELECT 1 FROM pg_rewrite r
                             WHERE r.oid = d.objid AND r.rulename = '_RETURN')
                AND NOT EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() c WHERE c.command_tag = 'CREATE RULE' AND c.objid = d.objid))
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
