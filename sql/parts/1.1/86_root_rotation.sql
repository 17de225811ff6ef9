-- Changing the root key online (src/keys/root_rotation.c, src/keys/root_key.c;
-- README, "Changing the root key").
--
-- Every wrapped data key version already records the check value of the
-- root key that wrapped it (data_key_versions.root_key_check, since 1.0),
-- so nothing needs filling in on upgrade: readers pick the root key by that
-- value, and privacy.rewrap_keys() moves the versions that are not under the
-- current root key.

-- The root derivation key: what the transit and noise keys are derived
-- from (src/keys/key_store.c), wrapped under the current root key.  Empty
-- until the first rotation; rewrap_keys() stores it so those keys survive
-- a change of root key.  It is not a root key and unwraps no data key.
CREATE TABLE privacy.root_derivation_key (
    one_row         boolean PRIMARY KEY DEFAULT true CHECK (one_row),
    wrapped_key     bytea NOT NULL,
    root_key_check  bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('privacy.root_derivation_key', '');
CREATE TRIGGER key_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON privacy.root_derivation_key FOR EACH STATEMENT EXECUTE FUNCTION privacy.key_tables_changed();
REVOKE ALL ON privacy.root_derivation_key FROM PUBLIC;
-- Key administrators run rewrap_keys(), which locks and writes it.
GRANT SELECT, INSERT, UPDATE, DELETE ON privacy.root_derivation_key TO privacy_admin;

-- privacy.root_key_check() and privacy.previous_root_key_check() are in
-- 20_keys.sql: the inventory (50_inventory.sql) uses them.

-- Rewrap every data key version under the current root key; returns how many.
CREATE FUNCTION privacy.rewrap_keys() RETURNS integer
    AS 'MODULE_PATHNAME', 'px_rewrap_keys' LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION privacy.rewrap_keys() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.rewrap_keys() TO privacy_admin;

-- Which root key wraps each key version, by check value.  Metadata only.
CREATE VIEW privacy.key_versions AS
SELECT k.name,
       v.key_id AS id,
       v.version,
       v.version = k.active_version AS active,
       pg_catalog.encode(v.root_key_check, 'hex') AS root_key_check,
       CASE WHEN v.wrapped_key IS NULL THEN 'destroyed'
            WHEN v.root_key_check = privacy.root_key_check() THEN 'current'
            WHEN v.root_key_check = privacy.previous_root_key_check() THEN 'previous'
            ELSE 'unknown' END AS root_key,
       v.created_at
  FROM privacy.data_key_versions v
  JOIN privacy.data_keys k ON k.key_id = v.key_id;
COMMENT ON VIEW privacy.key_versions IS
    'which root key wraps each data key version: current, previous (rotation under way: run privacy.rewrap_keys()), unknown (a root key the server does not have) or destroyed';
GRANT SELECT ON privacy.key_versions TO PUBLIC;

-- Logical replication (78_replication.sql): the derivation key goes with
-- the key versions it belongs to, and a subscriber's caches follow it.
CREATE TRIGGER key_cache_invalidation_replica AFTER INSERT OR UPDATE OR DELETE
    ON privacy.root_derivation_key FOR EACH ROW EXECUTE FUNCTION privacy.key_tables_changed();
ALTER TABLE privacy.root_derivation_key ENABLE REPLICA TRIGGER key_cache_invalidation_replica;
-- privacy.replicated_tables() lists the derivation key from 88_discovery.sql on
-- (that part redefines it for its own table as well).
