-- One seal per value (src/types/literal_binding.c, pending_literal.c).
-- A literal INSERTed or UPDATEd into an encrypted column is sealed once,
-- under the column's key, when the statement is analysed; in the plan it
-- stands as privacy.bound_literal(<sealed value>, 'privacy.data_key_versions'),
-- whose second argument makes cached plans depend on the key tables, so a
-- rotation re-seals a prepared statement's literal under the new version.
CREATE FUNCTION privacy.bound_literal(value anyelement, key_table regclass)
    RETURNS anyelement
    AS 'MODULE_PATHNAME', 'px_bound_literal' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION privacy.bound_literal(anyelement, regclass) IS
    'A literal already sealed under its column''s key (put in plans by privacy_ext; returns its first argument)';

-- How many seals and opens this backend has made: lets tests (and curious
-- DBAs) check that a write path encrypts each value once.
CREATE FUNCTION privacy.crypto_counters(OUT seals bigint, OUT opens bigint)
    AS 'MODULE_PATHNAME', 'px_crypto_counters' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION privacy.crypto_counters() IS
    'Values this backend has sealed (encrypted) and opened (decrypted) since it started';
