-- Whether a role is masked (privacy.masked_roles) and whether a table has a
-- masking view (privacy.masking_views) are asked for every relation of
-- every statement (src/masking/transparent.c, src/log_redact.c); each
-- backend keeps the answers while these triggers are enabled: any change
-- to either table, by the extension's functions or by hand, invalidates
-- every backend's answers when it commits.  The row triggers do the same
-- in a logical replication apply worker, which fires no statement
-- triggers (as 78_replication.sql does for the key tables).
CREATE TRIGGER masked_roles_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON privacy.masked_roles FOR EACH STATEMENT EXECUTE FUNCTION privacy.key_tables_changed();
CREATE TRIGGER masked_roles_cache_invalidation_replica AFTER INSERT OR UPDATE OR DELETE
    ON privacy.masked_roles FOR EACH ROW EXECUTE FUNCTION privacy.key_tables_changed();
ALTER TABLE privacy.masked_roles ENABLE REPLICA TRIGGER masked_roles_cache_invalidation_replica;
CREATE TRIGGER masking_views_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON privacy.masking_views FOR EACH STATEMENT EXECUTE FUNCTION privacy.key_tables_changed();
CREATE TRIGGER masking_views_cache_invalidation_replica AFTER INSERT OR UPDATE OR DELETE
    ON privacy.masking_views FOR EACH ROW EXECUTE FUNCTION privacy.key_tables_changed();
ALTER TABLE privacy.masking_views ENABLE REPLICA TRIGGER masking_views_cache_invalidation_replica;
