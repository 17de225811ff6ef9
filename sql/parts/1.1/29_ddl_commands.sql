-- What a DDL command given to an event trigger did, where
-- pg_event_trigger_ddl_commands() does not say (src/ddl_commands.c).

-- Whether it makes a table a partition or child (CREATE [FOREIGN] TABLE
-- ... PARTITION OF / INHERITS, ALTER TABLE ... ATTACH PARTITION /
-- INHERIT).  Only such commands protect new children or refuse a parent
-- (99_protected_tables_follow_ddl.sql): a restore's ALTER TABLE ... ENABLE
-- ROW LEVEL SECURITY, run before the dumped policies of the children come
-- back, must do neither.
CREATE FUNCTION privacy.ddl_command_links_tables(command pg_ddl_command) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_ddl_command_links_tables' LANGUAGE C STRICT STABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION privacy.ddl_command_links_tables(pg_ddl_command) FROM PUBLIC;
CREATE FUNCTION privacy.ddl_command_unlinked_parent(command pg_ddl_command) RETURNS regclass
    AS 'MODULE_PATHNAME', 'px_ddl_command_unlinked_parent' LANGUAGE C STRICT STABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION privacy.ddl_command_unlinked_parent(pg_ddl_command) FROM PUBLIC;

-- A renamed column's old name (NULL for any other command): the command's
-- address gives the column's number, hence its new name
-- (99_column_registries_follow_renames.sql).
CREATE FUNCTION privacy.ddl_command_renamed_column(command pg_ddl_command) RETURNS name
    AS 'MODULE_PATHNAME', 'px_ddl_command_renamed_column' LANGUAGE C STRICT STABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION privacy.ddl_command_renamed_column(pg_ddl_command) FROM PUBLIC;

-- The relation an object a DDL command created or changed belongs to: the
-- relation itself (an index: its table), or the table of a trigger, rule,
-- policy, constraint or column default; NULL for other objects.  For the
-- guards that judge a command by the relation it touches (46_, 99_masked_).
CREATE FUNCTION privacy.ddl_object_relation(classid oid, objid oid) RETURNS oid
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE classid
        WHEN 'pg_class'::regclass THEN
            coalesce((SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = objid), objid)
        WHEN 'pg_trigger'::regclass THEN (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = objid)
        WHEN 'pg_rewrite'::regclass THEN (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = objid)
        WHEN 'pg_policy'::regclass THEN (SELECT p.polrelid FROM pg_policy p WHERE p.oid = objid)
        WHEN 'pg_constraint'::regclass THEN (SELECT c.conrelid FROM pg_constraint c WHERE c.oid = objid)
        WHEN 'pg_attrdef'::regclass THEN (SELECT d.adrelid FROM pg_attrdef d WHERE d.oid = objid)
        END
$$;
