-- Keys (src/keys/key_store.c, src/types/det_ops.c, src/keys/key_usage.c).

-- A deterministic literal compared with a column is bound to the column's
-- key when the query is planned (det_ops.c) and the envelope kept in the
-- plan.  The planner wraps it in this check, evaluated once per scan: a
-- plan held across a destroy_key (a prepared statement, PL/pgSQL) fails
-- with PXK02 at its next execution instead of finding rows by an envelope
-- the destroyed key made.  EXPLAIN shows only the envelope.
CREATE FUNCTION privacy.encrypted_text_det_bound(value privacy.encrypted_text_det, key_id int4)
    RETURNS privacy.encrypted_text_det
    AS 'MODULE_PATHNAME', 'px_det_bound' LANGUAGE C STRICT STABLE PARALLEL SAFE;

-- privacy.keys.versions_in_use is NULL for roles other than key
-- administrators: the scan behind it reads tables they may not read
-- (src/keys/key_usage.c).
COMMENT ON FUNCTION privacy.key_versions_in_use(int4) IS
    'versions found in the encrypted columns under a key (scans them); NULL unless superuser or privacy_admin';

-- Root key check values (first 8 bytes of an HMAC under the root key, never
-- the key): the current root key's, and during a root key rotation the
-- previous one's, else NULL (src/keys/root_rotation.c; the rest of the
-- rotation is in 86_root_rotation.sql).  Volatile: a reload can change them.
CREATE FUNCTION privacy.root_key_check() RETURNS bytea
    AS 'MODULE_PATHNAME', 'px_root_key_check_sql' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
CREATE FUNCTION privacy.previous_root_key_check() RETURNS bytea
    AS 'MODULE_PATHNAME', 'px_previous_root_key_check_sql' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
