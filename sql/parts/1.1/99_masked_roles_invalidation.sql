-- Whether a role is masked is asked for every relation of every statement
-- (src/masking/transparent.c); each backend keeps the answers while this
-- trigger is enabled: any change to privacy.masked_roles, by mask_role,
-- unmask_role or by hand, invalidates every backend's answers when it
-- commits.  The row trigger does the same in a logical replication apply
-- worker, which fires no statement triggers (as 78_replication.sql does
-- for the key tables).
CREATE TRIGGER masked_roles_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON privacy.masked_roles FOR EACH STATEMENT EXECUTE FUNCTION privacy.key_tables_changed();
CREATE TRIGGER masked_roles_cache_invalidation_replica AFTER INSERT OR UPDATE OR DELETE
    ON privacy.masked_roles FOR EACH ROW EXECUTE FUNCTION privacy.key_tables_changed();
ALTER TABLE privacy.masked_roles ENABLE REPLICA TRIGGER masked_roles_cache_invalidation_replica;
