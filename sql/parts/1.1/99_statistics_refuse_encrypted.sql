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
--
-- Statistics made before a column was encrypted are refused likewise:
-- ALTER TABLE ... ALTER COLUMN ... TYPE rebuilds a table's statistics
-- objects over the new type, so CREATE STATISTICS ... ON ((ssn)::varchar)
-- on a text column, then the column encrypted, had the next ANALYZE store
-- its decrypted values.  After ALTER TABLE (and ALTER TYPE ... ALTER
-- ATTRIBUTE ... CASCADE, which changes typed tables; CREATE TABLE ... LIKE
-- ... INCLUDING STATISTICS; CREATE SCHEMA's CREATE TABLE elements) the
-- statistics objects of the tables changed, with their partitions and
-- children, are checked too.
CREATE FUNCTION privacy.statistics_refuse_encrypted() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    FOR r IN WITH stats AS (
                 SELECT c.objid AS stxoid, true AS created
                   FROM pg_event_trigger_ddl_commands() c
                  WHERE c.classid = 'pg_statistic_ext'::regclass
                 UNION
                 SELECT s.oid, false
                   FROM pg_event_trigger_ddl_commands() c
                  CROSS JOIN LATERAL privacy.relations_changed_with(c.objid) t
                  CROSS JOIN LATERAL (SELECT t AS rel
                                      UNION SELECT d::oid FROM privacy.inheritance_tree(t::regclass) d
                                      UNION SELECT d::oid FROM privacy.inheritance_foreign_tables(t::regclass) d) f
                   JOIN pg_statistic_ext s ON s.stxrelid = f.rel
                  WHERE c.classid = 'pg_class'::regclass)
             SELECT DISTINCT ON (st.stxoid) format('%I.%I', n.nspname, x.stxname) AS object_identity,
                    e.relid, e.column_name, st.created
               FROM stats st
               JOIN pg_statistic_ext x ON x.oid = st.stxoid
               JOIN pg_namespace n ON n.oid = x.stxnamespace
               JOIN pg_depend d ON d.classid = 'pg_statistic_ext'::regclass AND d.objid = st.stxoid
                               AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
               JOIN privacy.encrypted_columns e ON e.relid = d.refobjid AND e.attnum = d.refobjsubid
              ORDER BY st.stxoid, e.attnum LIMIT 1
    LOOP
        IF r.created THEN
            RAISE EXCEPTION 'cannot create statistics % on encrypted column "%" of %',
                            r.object_identity, r.column_name, r.relid
                USING ERRCODE = 'feature_not_supported',
                      DETAIL = 'ANALYZE would store the values it computes from the column (decrypted ones, for an expression) in pg_statistic_ext_data, and the planner''s estimates would show them to every reader of the table.',
                      HINT = 'Create statistics on the table''s other columns.';
        END IF;
        RAISE EXCEPTION 'statistics % would cover encrypted column "%" of %',
                        r.object_identity, r.column_name, r.relid
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'ANALYZE would store the values it computes from the column (decrypted ones, for an expression) in pg_statistic_ext_data, and the planner''s estimates would show them to every reader of the table.',
                  HINT = format('Drop the statistics first (DROP STATISTICS %s).', r.object_identity);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.statistics_refuse_encrypted() FROM PUBLIC;
CREATE EVENT TRIGGER privacy_statistics_refuse_encrypted ON ddl_command_end
    WHEN TAG IN ('CREATE STATISTICS', 'ALTER TABLE', 'ALTER FOREIGN TABLE', 'ALTER TYPE',
                 'CREATE TABLE', 'CREATE SCHEMA')
    EXECUTE FUNCTION privacy.statistics_refuse_encrypted();
