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

-- A bind parameter whose type the client left open and that only feeds an
-- encrypted column is given this type at parse analysis, so it is sealed
-- once, by the assignment cast to the column's key, instead of in transit
-- by the parameter conversion and again by the cast.  Not a storage type:
-- its output is a placeholder, never the value.
CREATE TYPE privacy.encrypted_input;
CREATE FUNCTION privacy.encrypted_input_in(cstring) RETURNS privacy.encrypted_input
    AS 'MODULE_PATHNAME', 'px_encrypted_input_in' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_input_out(privacy.encrypted_input) RETURNS cstring
    AS 'MODULE_PATHNAME', 'px_encrypted_input_out' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_input_recv(internal) RETURNS privacy.encrypted_input
    AS 'MODULE_PATHNAME', 'px_encrypted_input_recv' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_input_send(privacy.encrypted_input) RETURNS bytea
    AS 'MODULE_PATHNAME', 'px_encrypted_input_send' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE TYPE privacy.encrypted_input (
    INPUT = privacy.encrypted_input_in, OUTPUT = privacy.encrypted_input_out,
    RECEIVE = privacy.encrypted_input_recv, SEND = privacy.encrypted_input_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = int4, STORAGE = extended, CATEGORY = 'U'
);
COMMENT ON TYPE privacy.encrypted_input IS
    'A bind parameter on its way to an encrypted column (set by privacy_ext at parse analysis; not a storage type)';
CREATE FUNCTION privacy.encrypted_text(privacy.encrypted_input, int4, bool)
    RETURNS privacy.encrypted_text
    AS 'MODULE_PATHNAME', 'px_encrypted_input_to_text' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_text_det(privacy.encrypted_input, int4, bool)
    RETURNS privacy.encrypted_text_det
    AS 'MODULE_PATHNAME', 'px_encrypted_input_to_text_det' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_bytea(privacy.encrypted_input, int4, bool)
    RETURNS privacy.encrypted_bytea
    AS 'MODULE_PATHNAME', 'px_encrypted_input_to_bytea' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
CREATE CAST (privacy.encrypted_input AS privacy.encrypted_text)
    WITH FUNCTION privacy.encrypted_text(privacy.encrypted_input, int4, bool) AS ASSIGNMENT;
CREATE CAST (privacy.encrypted_input AS privacy.encrypted_text_det)
    WITH FUNCTION privacy.encrypted_text_det(privacy.encrypted_input, int4, bool) AS ASSIGNMENT;
CREATE CAST (privacy.encrypted_input AS privacy.encrypted_bytea)
    WITH FUNCTION privacy.encrypted_bytea(privacy.encrypted_input, int4, bool) AS ASSIGNMENT;
