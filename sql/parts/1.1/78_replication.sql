-- Logical replication of the extension's tables to a subscriber: the apply
-- worker fires only row triggers, and only those enabled REPLICA or ALWAYS,
-- so the statement triggers that invalidate the key and purpose caches
-- never ran there, and a key revoked, destroyed or rotated on the
-- publisher stayed in force in the subscriber's backends.  These row
-- triggers fire in the apply worker only (ENABLE REPLICA); local writes
-- keep the statement triggers.
CREATE TRIGGER key_cache_invalidation_replica AFTER INSERT OR UPDATE OR DELETE
    ON privacy.data_keys FOR EACH ROW EXECUTE FUNCTION privacy.key_tables_changed();
CREATE TRIGGER key_cache_invalidation_replica AFTER INSERT OR UPDATE OR DELETE
    ON privacy.data_key_versions FOR EACH ROW EXECUTE FUNCTION privacy.key_tables_changed();
CREATE TRIGGER key_cache_invalidation_replica AFTER INSERT OR UPDATE OR DELETE
    ON privacy.key_grants FOR EACH ROW EXECUTE FUNCTION privacy.key_tables_changed();
CREATE TRIGGER purpose_cache_invalidation_replica AFTER INSERT OR UPDATE OR DELETE
    ON privacy.purposes FOR EACH ROW EXECUTE FUNCTION privacy.key_tables_changed();
CREATE TRIGGER purpose_cache_invalidation_replica AFTER INSERT OR UPDATE OR DELETE
    ON privacy.purpose_grants FOR EACH ROW EXECUTE FUNCTION privacy.key_tables_changed();
CREATE TRIGGER purpose_cache_invalidation_replica AFTER INSERT OR UPDATE OR DELETE
    ON privacy.policy_versions FOR EACH ROW EXECUTE FUNCTION privacy.key_tables_changed();
ALTER TABLE privacy.data_keys ENABLE REPLICA TRIGGER key_cache_invalidation_replica;
ALTER TABLE privacy.data_key_versions ENABLE REPLICA TRIGGER key_cache_invalidation_replica;
ALTER TABLE privacy.key_grants ENABLE REPLICA TRIGGER key_cache_invalidation_replica;
ALTER TABLE privacy.purposes ENABLE REPLICA TRIGGER purpose_cache_invalidation_replica;
ALTER TABLE privacy.purpose_grants ENABLE REPLICA TRIGGER purpose_cache_invalidation_replica;
ALTER TABLE privacy.policy_versions ENABLE REPLICA TRIGGER purpose_cache_invalidation_replica;

-- What a publication of the extension's own tables should list (see the
-- README, "Logical replication"): keys, grants, purposes, consents and
-- their history, masking rules and views, protected tables, classifications.
CREATE FUNCTION privacy.replicated_tables() RETURNS SETOF regclass
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT unnest(ARRAY['privacy.data_keys', 'privacy.data_key_versions', 'privacy.key_grants',
                        'privacy.purposes', 'privacy.purpose_grants', 'privacy.policy_versions',
                        'privacy.consent_state', 'privacy.consent_events',
                        'privacy.mask_rules', 'privacy.masking_views', 'privacy.masked_roles',
                        'privacy.protected_tables', 'privacy.classifications']::regclass[])
$$;
