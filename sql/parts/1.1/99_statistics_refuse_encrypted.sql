------------------------------------------------------------------------
-- Extended statistics over an encrypted column are refused.  ANALYZE
-- evaluates a statistics expression as the table's owner, so CREATE
-- STATISTICS ... ON (privacy.decrypt(c)) (or (c::text)) stored the
-- decrypted values' most common values and histogram in
-- pg_statistic_ext_data, on disk and in the WAL, where a later revoke or
-- destroy_key does not reach them; and the planner uses them for every
-- role that may read the table, so EXPLAIN's estimates told a role without
-- a grant which plaintexts the column holds and how often.  Statistics
-- over the envelopes themselves would count a deterministic column's equal
-- values.  Indexes over decrypted values are refused already (decrypt is
-- not IMMUTABLE).
------------------------------------------------------------------------
CREATE FUNCTION privacy.statistics_refuse_encrypted() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.object_identity, e.relid, e.column_name
               FROM pg_event_trigger_ddl_commands() c
               JOIN pg_depend d ON d.classid = 'pg_statistic_ext'::regclass AND d.objid = c.objid
                               AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
               JOIN privacy.encrypted_columns e ON e.relid = d.refobjid AND e.attnum = d.refobjsubid
              WHERE c.classid = 'pg_statistic_ext'::regclass
              ORDER BY e.attnum LIMIT 1
    LOOP
        RAISE EXCEPTION 'cannot create statistics % on encrypted column "%" of %',
                        r.object_identity, r.column_name, r.relid
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'ANALYZE would store the values it computes from the column (decrypted ones, for an expression) in pg_statistic_ext_data, and the planner''s estimates would show them to every reader of the table.',
                  HINT = 'Create statistics on the table''s other columns.';
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.statistics_refuse_encrypted() FROM PUBLIC;
CREATE EVENT TRIGGER privacy_statistics_refuse_encrypted ON ddl_command_end
    WHEN TAG IN ('CREATE STATISTICS')
    EXECUTE FUNCTION privacy.statistics_refuse_encrypted();
