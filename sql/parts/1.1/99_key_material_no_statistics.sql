-- Key material never goes into pg_statistic.  ANALYZE (and autovacuum)
-- would copy sample values of the wrapped keys into histogram_bounds and
-- most_common_vals, where pg_stats shows them to every role that may read
-- the table (privacy_admin), and where destroy_key's in-place overwrite
-- never reaches them.  A statistics target of 0 makes ANALYZE skip the
-- columns; the rows an earlier ANALYZE stored are deleted here (the script
-- runs as a superuser), and destroy_key and drop_key_version delete them
-- again should a target have been set back (src/keys/key_admin.c).
ALTER TABLE privacy.data_key_versions
    ALTER COLUMN wrapped_key SET STATISTICS 0,
    ALTER COLUMN root_key_check SET STATISTICS 0;
ALTER TABLE privacy.root_derivation_key
    ALTER COLUMN wrapped_key SET STATISTICS 0,
    ALTER COLUMN root_key_check SET STATISTICS 0;
DELETE FROM pg_catalog.pg_statistic s
 USING pg_catalog.pg_attribute a
 WHERE a.attrelid OPERATOR(pg_catalog.=) s.starelid
   AND a.attnum OPERATOR(pg_catalog.=) s.staattnum
   AND a.attrelid OPERATOR(pg_catalog.=) ANY (ARRAY['privacy.data_key_versions'::pg_catalog.regclass,
                                                    'privacy.root_derivation_key'::pg_catalog.regclass])
   AND a.attname OPERATOR(pg_catalog.=) ANY (ARRAY['wrapped_key', 'root_key_check']::pg_catalog.name[]);
