/* privacy_ext 1.0 */

\echo Use "CREATE EXTENSION privacy_ext" to load this file. \quit

/*
 * The key administrator role: members may create, grant, revoke and rotate
 * keys without being superuser.  Roles are cluster-wide, so another database
 * may have created it already.
 */
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'privacy_admin') THEN
        CREATE ROLE privacy_admin NOLOGIN;
    END IF;
    -- Members may record and withdraw consents (an application's sign-up
    -- and preference pages), and nothing else.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'privacy_consent_manager') THEN
        CREATE ROLE privacy_consent_manager NOLOGIN;
    END IF;
END
$$;

------------------------------------------------------------------------
-- Key tables.  Wrapped keys only: the root key that unwraps them never
-- enters the database.  The C code reads these by column position
-- (src/keys.c, Anum_*): append new columns at the end.
------------------------------------------------------------------------
CREATE TABLE privacy.data_keys (
    key_id          int4 PRIMARY KEY CHECK (key_id > 0),
    name            text NOT NULL UNIQUE,
    active_version  int4 NOT NULL CHECK (active_version > 0),
    destroyed_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by      name NOT NULL DEFAULT CURRENT_USER
);

CREATE TABLE privacy.data_key_versions (
    key_id          int4 NOT NULL REFERENCES privacy.data_keys ON DELETE CASCADE,
    version         int4 NOT NULL CHECK (version > 0),
    wrapped_key     bytea,      -- NULL once the key is destroyed
    root_key_check  bytea,      -- identifies the root key that wrapped it
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (key_id, version)
);

CREATE TABLE privacy.key_grants (
    key_id          int4 NOT NULL REFERENCES privacy.data_keys ON DELETE CASCADE,
    grantee         regrole NOT NULL,
    -- The grantee's name when granted: a grant whose role was dropped and
    -- whose OID was reused by another role no longer matches.
    grantee_name    name NOT NULL,
    granted_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    granted_by      name NOT NULL DEFAULT CURRENT_USER,
    PRIMARY KEY (key_id, grantee)
);

-- pg_dump carries keys (wrapped) and grants with the database.
SELECT pg_catalog.pg_extension_config_dump('privacy.data_keys', '');
SELECT pg_catalog.pg_extension_config_dump('privacy.data_key_versions', '');
SELECT pg_catalog.pg_extension_config_dump('privacy.key_grants', '');

-- Any change to a key table, by the key functions or by hand, invalidates
-- every backend's key caches when it commits.
CREATE FUNCTION privacy.key_tables_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'px_key_tables_changed' LANGUAGE C;
CREATE TRIGGER key_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON privacy.data_keys FOR EACH STATEMENT EXECUTE FUNCTION privacy.key_tables_changed();
CREATE TRIGGER key_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON privacy.data_key_versions FOR EACH STATEMENT EXECUTE FUNCTION privacy.key_tables_changed();
CREATE TRIGGER key_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON privacy.key_grants FOR EACH STATEMENT EXECUTE FUNCTION privacy.key_tables_changed();

REVOKE ALL ON privacy.data_keys, privacy.data_key_versions, privacy.key_grants FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON privacy.data_keys, privacy.data_key_versions, privacy.key_grants TO privacy_admin;

------------------------------------------------------------------------
-- Key management
------------------------------------------------------------------------
CREATE FUNCTION privacy.create_key(name text) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_create_key' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION privacy.rotate_key(name text) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_rotate_key' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION privacy.grant_key(name text, role text) RETURNS void
    AS 'MODULE_PATHNAME', 'px_grant_key' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION privacy.revoke_key(name text, role text) RETURNS void
    AS 'MODULE_PATHNAME', 'px_revoke_key' LANGUAGE C STRICT VOLATILE;

-- Crypto-shredding: confirm must read 'destroy <name>'.  Not in a transaction block.
CREATE FUNCTION privacy.destroy_key(name text, confirm text DEFAULT NULL) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_destroy_key' LANGUAGE C CALLED ON NULL INPUT VOLATILE;
CREATE FUNCTION privacy.drop_key_version(name text, version int4) RETURNS void
    AS 'MODULE_PATHNAME', 'px_drop_key_version' LANGUAGE C STRICT VOLATILE;
-- Versions found in the encrypted columns under a key (scans those columns).
CREATE FUNCTION privacy.key_versions_in_use(key_id int4) RETURNS int4[]
    AS 'MODULE_PATHNAME', 'px_key_versions_in_use' LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION privacy.create_key(text), privacy.rotate_key(text),
    privacy.grant_key(text, text), privacy.revoke_key(text, text),
    privacy.destroy_key(text, text), privacy.drop_key_version(text, int4) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.create_key(text), privacy.rotate_key(text),
    privacy.grant_key(text, text), privacy.revoke_key(text, text),
    privacy.destroy_key(text, text), privacy.drop_key_version(text, int4) TO privacy_admin;

-- Metadata only: never key bytes.
CREATE VIEW privacy.keys AS
SELECT k.name,
       k.key_id AS id,
       k.active_version,
       (SELECT pg_catalog.array_agg(v.version ORDER BY v.version)
          FROM privacy.data_key_versions v WHERE v.key_id = k.key_id) AS versions,
       CASE WHEN k.destroyed_at IS NULL THEN 'active' ELSE 'destroyed' END AS status,
       privacy.key_versions_in_use(k.key_id) AS versions_in_use,
       (SELECT pg_catalog.array_agg(g.grantee ORDER BY g.grantee::text)
          FROM privacy.key_grants g WHERE g.key_id = k.key_id) AS granted_to,
       k.created_at,
       k.created_by,
       k.destroyed_at
  FROM privacy.data_keys k;

GRANT USAGE ON SCHEMA privacy TO PUBLIC;
GRANT SELECT ON privacy.keys TO PUBLIC;

------------------------------------------------------------------------
-- Encrypted types
------------------------------------------------------------------------
CREATE TYPE privacy.encrypted_text;
CREATE TYPE privacy.encrypted_bytea;
CREATE TYPE privacy.encrypted_text_det;

-- Input draws a fresh nonce per call, but PostgreSQL requires type input
-- functions to be non-volatile; every result decrypts to the same value.
CREATE FUNCTION privacy.encrypted_text_in(cstring, oid, int4) RETURNS privacy.encrypted_text
    AS 'MODULE_PATHNAME', 'px_encrypted_text_in' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_text_out(privacy.encrypted_text) RETURNS cstring
    AS 'MODULE_PATHNAME', 'px_encrypted_out' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_text_recv(internal, oid, int4) RETURNS privacy.encrypted_text
    AS 'MODULE_PATHNAME', 'px_encrypted_text_recv' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_text_send(privacy.encrypted_text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'px_encrypted_send' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION privacy.encrypted_bytea_in(cstring, oid, int4) RETURNS privacy.encrypted_bytea
    AS 'MODULE_PATHNAME', 'px_encrypted_bytea_in' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_bytea_out(privacy.encrypted_bytea) RETURNS cstring
    AS 'MODULE_PATHNAME', 'px_encrypted_out' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_bytea_recv(internal, oid, int4) RETURNS privacy.encrypted_bytea
    AS 'MODULE_PATHNAME', 'px_encrypted_bytea_recv' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_bytea_send(privacy.encrypted_bytea) RETURNS bytea
    AS 'MODULE_PATHNAME', 'px_encrypted_send' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION privacy.encrypted_text_det_in(cstring, oid, int4) RETURNS privacy.encrypted_text_det
    AS 'MODULE_PATHNAME', 'px_encrypted_text_det_in' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_text_det_out(privacy.encrypted_text_det) RETURNS cstring
    AS 'MODULE_PATHNAME', 'px_encrypted_out' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_text_det_recv(internal, oid, int4) RETURNS privacy.encrypted_text_det
    AS 'MODULE_PATHNAME', 'px_encrypted_text_det_recv' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_text_det_send(privacy.encrypted_text_det) RETURNS bytea
    AS 'MODULE_PATHNAME', 'px_encrypted_send' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

-- The type modifier names the key; stored as the key's id.
CREATE FUNCTION privacy.encrypted_typmod_in(cstring[]) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_encrypted_typmod_in' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_typmod_out(int4) RETURNS cstring
    AS 'MODULE_PATHNAME', 'px_encrypted_typmod_out' LANGUAGE C STRICT STABLE PARALLEL SAFE;

-- Ciphertext does not compress: store it out of line without trying.
CREATE TYPE privacy.encrypted_text (
    INPUT = privacy.encrypted_text_in, OUTPUT = privacy.encrypted_text_out,
    RECEIVE = privacy.encrypted_text_recv, SEND = privacy.encrypted_text_send,
    TYPMOD_IN = privacy.encrypted_typmod_in, TYPMOD_OUT = privacy.encrypted_typmod_out,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = int4, STORAGE = external, CATEGORY = 'U'
);
CREATE TYPE privacy.encrypted_bytea (
    INPUT = privacy.encrypted_bytea_in, OUTPUT = privacy.encrypted_bytea_out,
    RECEIVE = privacy.encrypted_bytea_recv, SEND = privacy.encrypted_bytea_send,
    TYPMOD_IN = privacy.encrypted_typmod_in, TYPMOD_OUT = privacy.encrypted_typmod_out,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = int4, STORAGE = external, CATEGORY = 'U'
);

CREATE TYPE privacy.encrypted_text_det (
    INPUT = privacy.encrypted_text_det_in, OUTPUT = privacy.encrypted_text_det_out,
    RECEIVE = privacy.encrypted_text_det_recv, SEND = privacy.encrypted_text_det_send,
    TYPMOD_IN = privacy.encrypted_typmod_in, TYPMOD_OUT = privacy.encrypted_typmod_out,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = int4, STORAGE = external, CATEGORY = 'U'
);

-- Binding a value to the column's key (length-coercion casts).
CREATE FUNCTION privacy.encrypted_text(privacy.encrypted_text, int4, bool)
    RETURNS privacy.encrypted_text
    AS 'MODULE_PATHNAME', 'px_encrypted_text_coerce' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_bytea(privacy.encrypted_bytea, int4, bool)
    RETURNS privacy.encrypted_bytea
    AS 'MODULE_PATHNAME', 'px_encrypted_bytea_coerce' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
CREATE CAST (privacy.encrypted_text AS privacy.encrypted_text)
    WITH FUNCTION privacy.encrypted_text(privacy.encrypted_text, int4, bool) AS IMPLICIT;
CREATE CAST (privacy.encrypted_bytea AS privacy.encrypted_bytea)
    WITH FUNCTION privacy.encrypted_bytea(privacy.encrypted_bytea, int4, bool) AS IMPLICIT;
-- Deterministic: the result depends on the input and the key's version 1 only.
CREATE FUNCTION privacy.encrypted_text_det(privacy.encrypted_text_det, int4, bool)
    RETURNS privacy.encrypted_text_det
    AS 'MODULE_PATHNAME', 'px_encrypted_text_det_coerce' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE CAST (privacy.encrypted_text_det AS privacy.encrypted_text_det)
    WITH FUNCTION privacy.encrypted_text_det(privacy.encrypted_text_det, int4, bool) AS IMPLICIT;

-- Plaintext in: assignment casts that encrypt under the target's key.
CREATE FUNCTION privacy.encrypted_text(text, int4, bool) RETURNS privacy.encrypted_text
    AS 'MODULE_PATHNAME', 'px_text_to_encrypted' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_bytea(bytea, int4, bool) RETURNS privacy.encrypted_bytea
    AS 'MODULE_PATHNAME', 'px_bytea_to_encrypted' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
CREATE CAST (text AS privacy.encrypted_text)
    WITH FUNCTION privacy.encrypted_text(text, int4, bool) AS ASSIGNMENT;
CREATE CAST (bytea AS privacy.encrypted_bytea)
    WITH FUNCTION privacy.encrypted_bytea(bytea, int4, bool) AS ASSIGNMENT;
CREATE FUNCTION privacy.encrypted_text_det(text, int4, bool) RETURNS privacy.encrypted_text_det
    AS 'MODULE_PATHNAME', 'px_text_to_encrypted_det' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE CAST (text AS privacy.encrypted_text_det)
    WITH FUNCTION privacy.encrypted_text_det(text, int4, bool) AS ASSIGNMENT;

CREATE FUNCTION privacy.encrypt(plaintext text, key_name text) RETURNS privacy.encrypted_text
    AS 'MODULE_PATHNAME', 'px_encrypt_text' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypt(plaintext bytea, key_name text) RETURNS privacy.encrypted_bytea
    AS 'MODULE_PATHNAME', 'px_encrypt_bytea' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

-- Plaintext out: only for roles granted the key.  STABLE: grants may change.
CREATE FUNCTION privacy.decrypt(privacy.encrypted_text) RETURNS text
    AS 'MODULE_PATHNAME', 'px_decrypt_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.decrypt(privacy.encrypted_bytea) RETURNS bytea
    AS 'MODULE_PATHNAME', 'px_decrypt_bytea' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE CAST (privacy.encrypted_text AS text)
    WITH FUNCTION privacy.decrypt(privacy.encrypted_text);
CREATE CAST (privacy.encrypted_bytea AS bytea)
    WITH FUNCTION privacy.decrypt(privacy.encrypted_bytea);
CREATE FUNCTION privacy.decrypt(privacy.encrypted_text_det) RETURNS text
    AS 'MODULE_PATHNAME', 'px_decrypt_text_det' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE CAST (privacy.encrypted_text_det AS text)
    WITH FUNCTION privacy.decrypt(privacy.encrypted_text_det);

-- The same plaintext under the key's active version: privacy.reencrypt()'s worker.
CREATE FUNCTION privacy.reseal(privacy.encrypted_text) RETURNS privacy.encrypted_text
    AS 'MODULE_PATHNAME', 'px_reseal_text' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
CREATE FUNCTION privacy.reseal(privacy.encrypted_bytea) RETURNS privacy.encrypted_bytea
    AS 'MODULE_PATHNAME', 'px_reseal_bytea' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
CREATE FUNCTION privacy.reencrypt(tbl regclass, col name, batch_size int4 DEFAULT 10000)
    RETURNS int8 AS 'MODULE_PATHNAME', 'px_reencrypt' LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION privacy.reseal(privacy.encrypted_text), privacy.reseal(privacy.encrypted_bytea),
    privacy.reencrypt(regclass, name, int4) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.reseal(privacy.encrypted_text), privacy.reseal(privacy.encrypted_bytea),
    privacy.reencrypt(regclass, name, int4) TO privacy_admin;

-- Envelope header fields, readable by anyone: they are not secret.
CREATE FUNCTION privacy.envelope_key_id(privacy.encrypted_text) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_envelope_key_id' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.envelope_key_id(privacy.encrypted_bytea) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_envelope_key_id' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.envelope_key_version(privacy.encrypted_text) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_envelope_key_version' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.envelope_key_version(privacy.encrypted_bytea) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_envelope_key_version' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.envelope_key_id(privacy.encrypted_text_det) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_envelope_key_id' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.envelope_key_version(privacy.encrypted_text_det) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_envelope_key_version' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

------------------------------------------------------------------------
-- Equality on encrypted_text_det: bytewise on the envelopes (same key,
-- same plaintext, same bytes).  Values under different keys are never
-- equal.  The order is the ciphertext's, useful to btree indexes, sorts and
-- merge joins, meaningless as an order of plaintexts.  IMMUTABLE: stored
-- values compare by their bytes; a literal is bound under a key's version
-- 1, which never changes while the key exists.
------------------------------------------------------------------------
CREATE FUNCTION privacy.det_eq_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'px_det_eq_support' LANGUAGE C STRICT;
CREATE FUNCTION privacy.encrypted_text_det_eq(privacy.encrypted_text_det, privacy.encrypted_text_det)
    RETURNS bool AS 'MODULE_PATHNAME', 'px_det_eq'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE SUPPORT privacy.det_eq_support;
CREATE FUNCTION privacy.encrypted_text_det_ne(privacy.encrypted_text_det, privacy.encrypted_text_det)
    RETURNS bool AS 'MODULE_PATHNAME', 'px_det_ne' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_text_det_cmp(privacy.encrypted_text_det, privacy.encrypted_text_det)
    RETURNS int4 AS 'MODULE_PATHNAME', 'px_det_cmp' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_text_det_lt(privacy.encrypted_text_det, privacy.encrypted_text_det)
    RETURNS bool LANGUAGE sql STRICT IMMUTABLE PARALLEL SAFE
    RETURN privacy.encrypted_text_det_cmp($1, $2) < 0;
CREATE FUNCTION privacy.encrypted_text_det_le(privacy.encrypted_text_det, privacy.encrypted_text_det)
    RETURNS bool LANGUAGE sql STRICT IMMUTABLE PARALLEL SAFE
    RETURN privacy.encrypted_text_det_cmp($1, $2) <= 0;
CREATE FUNCTION privacy.encrypted_text_det_gt(privacy.encrypted_text_det, privacy.encrypted_text_det)
    RETURNS bool LANGUAGE sql STRICT IMMUTABLE PARALLEL SAFE
    RETURN privacy.encrypted_text_det_cmp($1, $2) > 0;
CREATE FUNCTION privacy.encrypted_text_det_ge(privacy.encrypted_text_det, privacy.encrypted_text_det)
    RETURNS bool LANGUAGE sql STRICT IMMUTABLE PARALLEL SAFE
    RETURN privacy.encrypted_text_det_cmp($1, $2) >= 0;
CREATE FUNCTION privacy.encrypted_text_det_hash(privacy.encrypted_text_det) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_det_hash' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_text_det_hash_extended(privacy.encrypted_text_det, int8) RETURNS int8
    AS 'MODULE_PATHNAME', 'px_det_hash_extended' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

-- The operators live in pg_catalog, which every search_path includes first,
-- so "email = 'x'" works without the privacy schema in search_path and can
-- not be shadowed by an operator someone creates in another schema.  Their
-- argument types are privacy's own, so they cannot clash with built-ins.
CREATE OPERATOR pg_catalog.= (
    LEFTARG = privacy.encrypted_text_det, RIGHTARG = privacy.encrypted_text_det,
    FUNCTION = privacy.encrypted_text_det_eq,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = privacy.encrypted_text_det, RIGHTARG = privacy.encrypted_text_det,
    FUNCTION = privacy.encrypted_text_det_ne,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (
    LEFTARG = privacy.encrypted_text_det, RIGHTARG = privacy.encrypted_text_det,
    FUNCTION = privacy.encrypted_text_det_lt, COMMUTATOR = OPERATOR(pg_catalog.>),
    NEGATOR = OPERATOR(pg_catalog.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (
    LEFTARG = privacy.encrypted_text_det, RIGHTARG = privacy.encrypted_text_det,
    FUNCTION = privacy.encrypted_text_det_le, COMMUTATOR = OPERATOR(pg_catalog.>=),
    NEGATOR = OPERATOR(pg_catalog.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (
    LEFTARG = privacy.encrypted_text_det, RIGHTARG = privacy.encrypted_text_det,
    FUNCTION = privacy.encrypted_text_det_gt, COMMUTATOR = OPERATOR(pg_catalog.<),
    NEGATOR = OPERATOR(pg_catalog.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (
    LEFTARG = privacy.encrypted_text_det, RIGHTARG = privacy.encrypted_text_det,
    FUNCTION = privacy.encrypted_text_det_ge, COMMUTATOR = OPERATOR(pg_catalog.<=),
    NEGATOR = OPERATOR(pg_catalog.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS privacy.encrypted_text_det_ops
    DEFAULT FOR TYPE privacy.encrypted_text_det USING btree AS
        OPERATOR 1 pg_catalog.<, OPERATOR 2 pg_catalog.<=, OPERATOR 3 pg_catalog.=,
        OPERATOR 4 pg_catalog.>=, OPERATOR 5 pg_catalog.>,
        FUNCTION 1 privacy.encrypted_text_det_cmp(privacy.encrypted_text_det, privacy.encrypted_text_det);
CREATE OPERATOR CLASS privacy.encrypted_text_det_hash_ops
    DEFAULT FOR TYPE privacy.encrypted_text_det USING hash AS
        OPERATOR 1 pg_catalog.=,
        FUNCTION 1 privacy.encrypted_text_det_hash(privacy.encrypted_text_det),
        FUNCTION 2 privacy.encrypted_text_det_hash_extended(privacy.encrypted_text_det, int8);

------------------------------------------------------------------------
-- Every stored encrypted column names its key.  A column declared
-- without one gets privacy.default_key, pinned into its type at DDL
-- time, so a later change of the setting never changes existing columns.
------------------------------------------------------------------------
CREATE FUNCTION privacy.pin_column_keys() RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col record;
    default_key text := pg_catalog.current_setting('privacy.default_key', true);
BEGIN
    FOR col IN
        SELECT DISTINCT c.oid::regclass AS rel, c.relkind, a.attname,
               format_type(a.atttypid, NULL) AS typname
          FROM pg_event_trigger_ddl_commands() cmd
          JOIN pg_class c ON c.oid = cmd.objid
          JOIN pg_attribute a ON a.attrelid = c.oid
         WHERE cmd.classid = 'pg_class'::regclass
           AND c.relkind IN ('r', 'p', 'm', 'f')
           AND a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypmod < 0
           AND a.atttypid IN ('privacy.encrypted_text'::regtype,
                              'privacy.encrypted_bytea'::regtype,
                              'privacy.encrypted_text_det'::regtype)
    LOOP
        IF coalesce(default_key, '') = '' THEN
            RAISE EXCEPTION 'column % of % needs an encryption key', col.attname, col.rel
                USING ERRCODE = 'PXK01',
                      HINT = format('Declare it as %s(''keyname''), or set privacy.default_key.',
                                    col.typname);
        END IF;
        IF col.relkind NOT IN ('r', 'p') THEN
            RAISE EXCEPTION 'column % of % needs an encryption key', col.attname, col.rel
                USING ERRCODE = 'PXK01',
                      HINT = format('Cast the column to %s(%L) in the defining query.',
                                    col.typname, default_key);
        END IF;
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I TYPE %s(%L)',
                       col.rel, col.attname, col.typname, default_key);
    END LOOP;
END
$$;

CREATE EVENT TRIGGER privacy_pin_column_keys ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE',
                 'CREATE MATERIALIZED VIEW', 'CREATE FOREIGN TABLE')
    EXECUTE FUNCTION privacy.pin_column_keys();

------------------------------------------------------------------------
-- Masking functions (C).  None raises an error for any value; NULL in,
-- NULL out; a parameter a rule declaration would reject gives NULL.
------------------------------------------------------------------------
CREATE FUNCTION privacy.mask_partial(value text, prefix int4, padding text, suffix int4) RETURNS text
    AS 'MODULE_PATHNAME', 'px_mask_partial_fn' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.mask_email(value text) RETURNS text
    AS 'MODULE_PATHNAME', 'px_mask_email_fn' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.mask_credit_card(value text) RETURNS text
    AS 'MODULE_PATHNAME', 'px_mask_credit_card_fn' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
-- Keyed pseudonym: depends on the key tables and grants, hence STABLE.
CREATE FUNCTION privacy.mask_hash(value text, key text) RETURNS text
    AS 'MODULE_PATHNAME', 'px_mask_hash_fn' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.mask_generalize(value int4, step int4) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_generalize_int4' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.mask_generalize(value int8, step int8) RETURNS int8
    AS 'MODULE_PATHNAME', 'px_generalize_int8' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.mask_generalize(value float8, step float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'px_generalize_float8' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.mask_generalize(value numeric, step numeric) RETURNS numeric
    AS 'MODULE_PATHNAME', 'px_generalize_numeric' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.mask_generalize(value date, unit text) RETURNS date
    AS 'MODULE_PATHNAME', 'px_generalize_date' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.mask_generalize(value timestamp, unit text) RETURNS timestamp
    AS 'MODULE_PATHNAME', 'px_generalize_timestamp' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
-- timestamptz truncation follows the session's TimeZone: STABLE.
CREATE FUNCTION privacy.mask_generalize(value timestamptz, unit text) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'px_generalize_timestamptz' LANGUAGE C STRICT STABLE PARALLEL SAFE;
-- Deterministic noise under a key derived from the root key: STABLE.
CREATE FUNCTION privacy.mask_noise(value int4, ratio float8) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_noise_int4' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.mask_noise(value int8, ratio float8) RETURNS int8
    AS 'MODULE_PATHNAME', 'px_noise_int8' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.mask_noise(value float8, ratio float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'px_noise_float8' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.mask_noise(value numeric, ratio float8) RETURNS numeric
    AS 'MODULE_PATHNAME', 'px_noise_numeric' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.mask_redact(value anyelement) RETURNS anyelement
    AS 'MODULE_PATHNAME', 'px_mask_redact_fn' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

------------------------------------------------------------------------
-- Masking rules and masking views
------------------------------------------------------------------------
CREATE SCHEMA masked;
GRANT USAGE ON SCHEMA masked TO PUBLIC;

-- One rule per table column and role (NULL role: everyone else).  Rules
-- are stored in canonical form after validation (privacy.check_mask_rule).
CREATE TABLE privacy.mask_rules (
    relid       regclass NOT NULL,
    attnum      int2 NOT NULL,          -- to follow RENAME COLUMN
    column_name name NOT NULL,          -- what lookups use; survives dump/restore
    role_name   name,
    rule        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  name NOT NULL DEFAULT CURRENT_USER,
    UNIQUE NULLS NOT DISTINCT (relid, column_name, role_name)
);
CREATE TABLE privacy.masking_views (
    relid       regclass PRIMARY KEY,
    view_name   text NOT NULL
);
CREATE TABLE privacy.masked_roles (
    role_name   name PRIMARY KEY,
    revoked     regclass[] NOT NULL DEFAULT '{}'   -- direct SELECT grants mask_role took away
);
SELECT pg_catalog.pg_extension_config_dump('privacy.mask_rules', '');
SELECT pg_catalog.pg_extension_config_dump('privacy.masking_views', '');
SELECT pg_catalog.pg_extension_config_dump('privacy.masked_roles', '');
REVOKE ALL ON privacy.mask_rules, privacy.masking_views, privacy.masked_roles FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON privacy.mask_rules, privacy.masking_views,
    privacy.masked_roles TO privacy_admin;
GRANT CREATE ON SCHEMA masked TO privacy_admin;

CREATE FUNCTION privacy.require_admin() RETURNS void
    AS 'MODULE_PATHNAME', 'px_require_admin' LANGUAGE C STRICT STABLE;
CREATE FUNCTION privacy.check_mask_rule(rule text, column_type regtype) RETURNS text
    AS 'MODULE_PATHNAME', 'px_check_mask_rule' LANGUAGE C STRICT STABLE;
CREATE FUNCTION privacy.apply_mask(value anyelement, tbl regclass, col name) RETURNS anyelement
    AS 'MODULE_PATHNAME', 'px_apply_mask' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.apply_mask(value privacy.encrypted_text, tbl regclass, col name) RETURNS text
    AS 'MODULE_PATHNAME', 'px_apply_mask_encrypted_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.apply_mask(value privacy.encrypted_text_det, tbl regclass, col name) RETURNS text
    AS 'MODULE_PATHNAME', 'px_apply_mask_encrypted_text_det' LANGUAGE C STRICT STABLE PARALLEL SAFE;

CREATE FUNCTION privacy.set_mask(tbl regclass, col name, rule text, role name DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    att record;
    canonical text;
BEGIN
    PERFORM privacy.require_admin();
    SELECT a.attnum, a.atttypid INTO att FROM pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', col, tbl USING ERRCODE = '42703';
    END IF;
    IF role IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
        RAISE EXCEPTION 'role "%" does not exist', role USING ERRCODE = '42704';
    END IF;
    canonical := privacy.check_mask_rule(rule, att.atttypid);
    INSERT INTO privacy.mask_rules AS m (relid, attnum, column_name, role_name, rule)
    VALUES (tbl, att.attnum, col, role, canonical)
    ON CONFLICT (relid, column_name, role_name)
    DO UPDATE SET rule = EXCLUDED.rule, attnum = EXCLUDED.attnum;
    IF EXISTS (SELECT 1 FROM privacy.masking_views v WHERE v.relid = tbl) THEN
        PERFORM privacy.create_masking_view(tbl);
    END IF;
END
$$;

CREATE FUNCTION privacy.drop_mask(tbl regclass, col name, role name DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_rule boolean;
BEGIN
    PERFORM privacy.require_admin();
    DELETE FROM privacy.mask_rules m
     WHERE m.relid = tbl AND m.column_name = col AND m.role_name IS NOT DISTINCT FROM role;
    found_rule := FOUND;
    IF found_rule AND EXISTS (SELECT 1 FROM privacy.masking_views v WHERE v.relid = tbl) THEN
        PERFORM privacy.create_masking_view(tbl);
    END IF;
    RETURN found_rule;
END
$$;

-- masked.<table>: a security_barrier view with one C call per masked column.
CREATE FUNCTION privacy.create_masking_view(tbl regclass)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    relname name := (SELECT c.relname FROM pg_class c WHERE c.oid = tbl);
    view_name text := format('masked.%I', relname);
    cols text := '';
    c record;
    r record;
BEGIN
    PERFORM privacy.require_admin();
    -- Follow the table: rules keep their column through renames, and go
    -- with a dropped column.  After a restore the name is what counts.
    UPDATE privacy.mask_rules m SET attnum = a.attnum
      FROM pg_attribute a
     WHERE m.relid = tbl AND a.attrelid = tbl AND a.attname = m.column_name
       AND a.attnum > 0 AND NOT a.attisdropped AND m.attnum <> a.attnum;
    UPDATE privacy.mask_rules m SET column_name = a.attname
      FROM pg_attribute a
     WHERE m.relid = tbl AND a.attrelid = tbl AND a.attnum = m.attnum
       AND NOT a.attisdropped AND a.attname <> m.column_name
       AND NOT EXISTS (SELECT 1 FROM pg_attribute a2 WHERE a2.attrelid = tbl
                          AND a2.attname = m.column_name AND NOT a2.attisdropped);
    DELETE FROM privacy.mask_rules m
     WHERE m.relid = tbl AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = tbl
             AND a.attname = m.column_name AND a.attnum > 0 AND NOT a.attisdropped);

    FOR c IN SELECT a.attname,
                    EXISTS (SELECT 1 FROM privacy.mask_rules m
                             WHERE m.relid = tbl AND m.column_name = a.attname) AS masked
               FROM pg_attribute a
              WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum
    LOOP
        cols := cols || CASE WHEN cols = '' THEN '' ELSE ', ' END ||
                CASE WHEN c.masked
                     THEN format('privacy.apply_mask(%I, %L::pg_catalog.regclass, %L::pg_catalog.name) AS %I',
                                 c.attname, tbl::text, c.attname, c.attname)
                     ELSE format('%I', c.attname) END;
    END LOOP;
    IF to_regclass(view_name) IS NOT NULL THEN
        EXECUTE format('DROP VIEW %s', view_name);
    END IF;
    EXECUTE format('CREATE VIEW %s WITH (security_barrier = true) AS SELECT %s FROM %s',
                   view_name, cols, tbl);
    INSERT INTO privacy.masking_views (relid, view_name) VALUES (tbl, view_name)
    ON CONFLICT (relid) DO UPDATE SET view_name = EXCLUDED.view_name;
    FOR r IN SELECT m.role_name FROM privacy.masked_roles m LOOP
        EXECUTE format('GRANT SELECT ON %s TO %I', view_name, r.role_name);
    END LOOP;
    RETURN view_name;
END
$$;

-- A masked role reads masked.* by default and loses direct access to the tables.
CREATE FUNCTION privacy.mask_role(role name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
BEGIN
    PERFORM privacy.require_admin();
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
        RAISE EXCEPTION 'role "%" does not exist', role USING ERRCODE = '42704';
    END IF;
    INSERT INTO privacy.masked_roles (role_name) VALUES (role) ON CONFLICT DO NOTHING;
    FOR v IN SELECT m.relid, m.view_name FROM privacy.masking_views m LOOP
        EXECUTE format('GRANT SELECT ON %s TO %I', v.view_name, role);
        -- Remember a direct SELECT grant, for unmask_role to give back.
        IF EXISTS (SELECT 1 FROM pg_class c, aclexplode(c.relacl) a
                    WHERE c.oid = v.relid AND a.privilege_type = 'SELECT'
                      AND a.grantee = (SELECT r.oid FROM pg_roles r WHERE r.rolname = role)) THEN
            UPDATE privacy.masked_roles m SET revoked = array_append(m.revoked, v.relid)
             WHERE m.role_name = role AND NOT v.relid = ANY (m.revoked);
        END IF;
        EXECUTE format('REVOKE ALL ON %s FROM %I', v.relid, role);
        IF has_table_privilege(role, v.relid, 'SELECT') THEN
            RAISE WARNING 'role % can still read % through PUBLIC or a role it belongs to', role, v.relid;
        END IF;
    END LOOP;
    EXECUTE format('ALTER ROLE %I SET search_path = masked, "$user", public', role);
END
$$;

CREATE FUNCTION privacy.unmask_role(role name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
BEGIN
    PERFORM privacy.require_admin();
    FOR v IN SELECT m.view_name FROM privacy.masking_views m LOOP
        EXECUTE format('REVOKE ALL ON %s FROM %I', v.view_name, role);
    END LOOP;
    -- Give back the direct SELECT grants mask_role took away.
    FOR v IN SELECT t.relid FROM privacy.masked_roles m, unnest(m.revoked) t(relid)
              WHERE m.role_name = role AND to_regclass(t.relid::text) IS NOT NULL LOOP
        EXECUTE format('GRANT SELECT ON %s TO %I', v.relid, role);
    END LOOP;
    DELETE FROM privacy.masked_roles m WHERE m.role_name = role;
    IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
        EXECUTE format('ALTER ROLE %I RESET search_path', role);
    END IF;
END
$$;

-- Masking views follow ALTER TABLE: they are dropped before the command
-- (a view would block DROP COLUMN or a type change) and generated again
-- after it, in the same transaction.  SECURITY DEFINER because the views
-- belong to the key administrator, not to whoever alters a table.
CREATE FUNCTION privacy.masking_views_before_alter() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT m.view_name FROM privacy.masking_views m LOOP
        IF to_regclass(v.view_name) IS NOT NULL THEN
            EXECUTE format('DROP VIEW %s', v.view_name);
        END IF;
    END LOOP;
END
$$;
CREATE FUNCTION privacy.masking_views_after_alter() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT m.relid FROM privacy.masking_views m LOOP
        PERFORM privacy.create_masking_view(v.relid);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.masking_views_before_alter(), privacy.masking_views_after_alter() FROM PUBLIC;
CREATE EVENT TRIGGER privacy_masking_views_drop ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION privacy.masking_views_before_alter();
CREATE EVENT TRIGGER privacy_masking_views_create ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION privacy.masking_views_after_alter();

------------------------------------------------------------------------
-- Purposes and consent
------------------------------------------------------------------------
CREATE TABLE privacy.purposes (
    name        text COLLATE "C" PRIMARY KEY CHECK (name <> ''),
    legal_basis text NOT NULL CHECK (legal_basis IN ('consent', 'contract', 'legal_obligation',
                     'vital_interests', 'public_task', 'legitimate_interests')),
    parent      text COLLATE "C" REFERENCES privacy.purposes (name),
    description text,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE TABLE privacy.purpose_grants (
    purpose     text COLLATE "C" NOT NULL REFERENCES privacy.purposes ON DELETE CASCADE,
    role_name   name NOT NULL,
    PRIMARY KEY (purpose, role_name)
);
CREATE TABLE privacy.policy_versions (
    ordinal     serial PRIMARY KEY,
    version     text NOT NULL UNIQUE,
    requires_reconsent boolean NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
-- Current state, one row per subject and purpose; the C code reads it by
-- column position and through its primary key.
CREATE TABLE privacy.consent_state (
    subject     text COLLATE "C" NOT NULL,
    purpose     text COLLATE "C" NOT NULL REFERENCES privacy.purposes,
    granted     boolean NOT NULL,
    expires_at  timestamptz,
    policy_ordinal int4 NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT consent_state_pkey PRIMARY KEY (subject, purpose)
);
-- The history: every grant and withdrawal, append-only.
CREATE TABLE privacy.consent_events (
    event_id    bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    subject     text NOT NULL,
    purpose     text NOT NULL,
    action      text NOT NULL CHECK (action IN ('grant', 'withdraw')),
    expires_at  timestamptz,
    policy_version text,
    evidence    jsonb,
    session_user_name name NOT NULL DEFAULT SESSION_USER,
    current_role_name name NOT NULL DEFAULT CURRENT_USER
);
CREATE TABLE privacy.protected_tables (
    relid          regclass PRIMARY KEY,
    subject_column name NOT NULL,
    -- What privacy.erase_subject() does to the subject's rows.
    on_erase       text NOT NULL DEFAULT 'delete' CHECK (on_erase IN ('delete', 'anonymize'))
);
SELECT pg_catalog.pg_extension_config_dump('privacy.purposes', '');
SELECT pg_catalog.pg_extension_config_dump('privacy.purpose_grants', '');
SELECT pg_catalog.pg_extension_config_dump('privacy.policy_versions', '');
SELECT pg_catalog.pg_extension_config_dump('privacy.policy_versions_ordinal_seq', '');
SELECT pg_catalog.pg_extension_config_dump('privacy.consent_state', '');
SELECT pg_catalog.pg_extension_config_dump('privacy.consent_events', '');
SELECT pg_catalog.pg_extension_config_dump('privacy.consent_events_event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('privacy.protected_tables', '');

-- The registry is cached per backend: any change invalidates the caches.
CREATE TRIGGER purpose_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON privacy.purposes FOR EACH STATEMENT EXECUTE FUNCTION privacy.key_tables_changed();
CREATE TRIGGER purpose_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON privacy.purpose_grants FOR EACH STATEMENT EXECUTE FUNCTION privacy.key_tables_changed();
CREATE TRIGGER purpose_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON privacy.policy_versions FOR EACH STATEMENT EXECUTE FUNCTION privacy.key_tables_changed();

-- Every change to a subject's consent is recorded in shared memory before it
-- commits, so a backend's cached set of consenting subjects stays exact
-- (src/consent_cache.c).  ENABLE ALWAYS: logical replication's apply and
-- session_replication_role = replica run it too.
CREATE FUNCTION privacy.consent_state_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'px_consent_state_changed' LANGUAGE C;
REVOKE ALL ON FUNCTION privacy.consent_state_changed() FROM PUBLIC;
CREATE TRIGGER consent_cache_invalidation BEFORE INSERT OR UPDATE OR DELETE
    ON privacy.consent_state FOR EACH ROW EXECUTE FUNCTION privacy.consent_state_changed();
CREATE TRIGGER consent_cache_invalidation_truncate BEFORE TRUNCATE
    ON privacy.consent_state FOR EACH STATEMENT EXECUTE FUNCTION privacy.consent_state_changed();
ALTER TABLE privacy.consent_state ENABLE ALWAYS TRIGGER consent_cache_invalidation;
ALTER TABLE privacy.consent_state ENABLE ALWAYS TRIGGER consent_cache_invalidation_truncate;
-- This backend's cached sets of consenting subjects (privacy.consent_cache_size).
CREATE FUNCTION privacy.consent_cache_info(OUT purpose text, OUT subjects bigint,
    OUT expiring bigint, OUT changed bigint, OUT bytes bigint)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'px_consent_cache_info'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
REVOKE ALL ON FUNCTION privacy.consent_cache_info() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.consent_cache_info() TO privacy_admin;

-- Append-only: UPDATE, DELETE and TRUNCATE fail for everyone but a superuser.
CREATE FUNCTION privacy.append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = SESSION_USER) THEN
        RAISE EXCEPTION 'privacy.% is append-only', TG_TABLE_NAME USING ERRCODE = '42501';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON privacy.consent_events
    FOR EACH ROW EXECUTE FUNCTION privacy.append_only();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON privacy.consent_events
    FOR EACH STATEMENT EXECUTE FUNCTION privacy.append_only();

REVOKE ALL ON privacy.purposes, privacy.purpose_grants, privacy.policy_versions,
    privacy.consent_state, privacy.consent_events, privacy.protected_tables FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON privacy.purposes, privacy.purpose_grants,
    privacy.policy_versions, privacy.consent_state, privacy.protected_tables TO privacy_admin;
GRANT SELECT, INSERT ON privacy.consent_events TO privacy_admin;
GRANT USAGE ON SEQUENCE privacy.consent_events_event_id_seq, privacy.policy_versions_ordinal_seq
    TO privacy_admin;
GRANT SELECT ON privacy.purposes, privacy.policy_versions TO privacy_consent_manager;
GRANT SELECT, INSERT, UPDATE ON privacy.consent_state TO privacy_consent_manager;
GRANT INSERT ON privacy.consent_events TO privacy_consent_manager;
GRANT USAGE ON SEQUENCE privacy.consent_events_event_id_seq TO privacy_consent_manager;

-- Key administrators, and members of privacy_consent_manager, record consents.
CREATE FUNCTION privacy.require_consent_manager() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (pg_has_role('privacy_consent_manager', 'USAGE') OR pg_has_role('privacy_admin', 'USAGE')
            OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)) THEN
        RAISE EXCEPTION 'permission denied to record consent' USING ERRCODE = '42501',
            HINT = 'Recording consent requires membership in privacy_consent_manager or privacy_admin.';
    END IF;
END
$$;

CREATE FUNCTION privacy.create_purpose(name text, legal_basis text, parent text DEFAULT NULL,
                                       description text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM privacy.require_admin();
    IF create_purpose.parent IS NOT NULL AND NOT EXISTS
           (SELECT 1 FROM privacy.purposes p WHERE p.name = create_purpose.parent) THEN
        RAISE EXCEPTION 'processing purpose "%" does not exist', create_purpose.parent USING ERRCODE = '42704';
    END IF;
    INSERT INTO privacy.purposes (name, legal_basis, parent, description)
    VALUES (create_purpose.name, create_purpose.legal_basis, create_purpose.parent,
            create_purpose.description);
EXCEPTION
    WHEN check_violation THEN
        RAISE EXCEPTION 'invalid legal basis "%"', legal_basis USING ERRCODE = '22023',
            HINT = 'One of: consent, contract, legal_obligation, vital_interests, public_task, legitimate_interests.';
    WHEN unique_violation THEN
        RAISE EXCEPTION 'processing purpose "%" already exists', name USING ERRCODE = '42710';
END
$$;

CREATE FUNCTION privacy.grant_purpose(role name, purpose text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM privacy.require_admin();
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
        RAISE EXCEPTION 'role "%" does not exist', role USING ERRCODE = '42704';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM privacy.purposes p WHERE p.name = purpose) THEN
        RAISE EXCEPTION 'processing purpose "%" does not exist', purpose USING ERRCODE = '42704';
    END IF;
    INSERT INTO privacy.purpose_grants VALUES (purpose, role) ON CONFLICT DO NOTHING;
END
$$;

CREATE FUNCTION privacy.revoke_purpose(role name, purpose text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM privacy.require_admin();
    DELETE FROM privacy.purpose_grants g WHERE g.purpose = revoke_purpose.purpose AND g.role_name = role;
END
$$;

CREATE FUNCTION privacy.set_policy_version(version text, requires_reconsent boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM privacy.require_admin();
    INSERT INTO privacy.policy_versions (version, requires_reconsent)
    VALUES (set_policy_version.version, set_policy_version.requires_reconsent);
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'policy version "%" already exists', version USING ERRCODE = '42710';
END
$$;

CREATE FUNCTION privacy.grant_consent(subject text, purpose text, expires_at timestamptz DEFAULT NULL,
                                      policy_version text DEFAULT NULL, evidence jsonb DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_ordinal int4;
    v_version text := policy_version;
BEGIN
    PERFORM privacy.require_consent_manager();
    IF subject IS NULL OR purpose IS NULL THEN
        RAISE EXCEPTION 'subject and purpose must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM privacy.purposes p WHERE p.name = purpose) THEN
        RAISE EXCEPTION 'processing purpose "%" does not exist', purpose USING ERRCODE = '42704';
    END IF;
    IF expires_at IS NOT NULL AND expires_at <= now() THEN
        RAISE EXCEPTION 'consent cannot expire in the past' USING ERRCODE = '22023';
    END IF;
    IF v_version IS NULL THEN
        SELECT pv.version, pv.ordinal INTO v_version, v_ordinal
          FROM privacy.policy_versions pv ORDER BY pv.ordinal DESC LIMIT 1;
        v_ordinal := coalesce(v_ordinal, 0);
    ELSE
        SELECT pv.ordinal INTO v_ordinal FROM privacy.policy_versions pv WHERE pv.version = v_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'policy version "%" does not exist', v_version USING ERRCODE = '42704';
        END IF;
    END IF;
    INSERT INTO privacy.consent_events (subject, purpose, action, expires_at, policy_version, evidence)
    VALUES (subject, purpose, 'grant', expires_at, v_version, evidence);
    INSERT INTO privacy.consent_state AS c (subject, purpose, granted, expires_at, policy_ordinal, updated_at)
    VALUES (subject, purpose, true, expires_at, v_ordinal, clock_timestamp())
    ON CONFLICT ON CONSTRAINT consent_state_pkey DO UPDATE
       SET granted = true, expires_at = EXCLUDED.expires_at,
           policy_ordinal = EXCLUDED.policy_ordinal, updated_at = EXCLUDED.updated_at;
END
$$;

CREATE FUNCTION privacy.withdraw_consent(subject text, purpose text, evidence jsonb DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM privacy.require_consent_manager();
    IF NOT EXISTS (SELECT 1 FROM privacy.purposes p WHERE p.name = purpose) THEN
        RAISE EXCEPTION 'processing purpose "%" does not exist', purpose USING ERRCODE = '42704';
    END IF;
    INSERT INTO privacy.consent_events (subject, purpose, action, evidence)
    VALUES (subject, purpose, 'withdraw', evidence);
    UPDATE privacy.consent_state c SET granted = false, updated_at = clock_timestamp()
     WHERE c.subject = withdraw_consent.subject AND c.purpose = withdraw_consent.purpose AND c.granted;
    RETURN FOUND;                  -- false: there was no consent to withdraw
END
$$;

-- Whether the subject's data may be processed for the purpose (the declared
-- one when omitted): its legal basis covers it, or a valid consent does.
CREATE FUNCTION privacy.has_consent(subject text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_has_consent_text' LANGUAGE C STABLE PARALLEL RESTRICTED;
CREATE FUNCTION privacy.has_consent(subject text, purpose text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_has_consent_text' LANGUAGE C STABLE PARALLEL RESTRICTED;
CREATE FUNCTION privacy.has_consent(subject bigint) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_has_consent_int8' LANGUAGE C STABLE PARALLEL RESTRICTED;
CREATE FUNCTION privacy.has_consent(subject bigint, purpose text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_has_consent_int8' LANGUAGE C STABLE PARALLEL RESTRICTED;
CREATE FUNCTION privacy.has_consent(subject integer) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_has_consent_int4' LANGUAGE C STABLE PARALLEL RESTRICTED;
CREATE FUNCTION privacy.has_consent(subject integer, purpose text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_has_consent_int4' LANGUAGE C STABLE PARALLEL RESTRICTED;
CREATE FUNCTION privacy.has_consent(subject uuid) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_has_consent_uuid' LANGUAGE C STABLE PARALLEL RESTRICTED;
CREATE FUNCTION privacy.has_consent(subject uuid, purpose text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_has_consent_uuid' LANGUAGE C STABLE PARALLEL RESTRICTED;

-- Current state, with whether each consent counts now.
CREATE VIEW privacy.consents AS
SELECT c.subject, c.purpose, c.granted, c.expires_at, pv.version AS policy_version, c.updated_at,
       c.granted AND (c.expires_at IS NULL OR c.expires_at > pg_catalog.now())
         AND c.policy_ordinal >= coalesce((SELECT max(r.ordinal) FROM privacy.policy_versions r
                                            WHERE r.requires_reconsent), 0) AS valid
  FROM privacy.consent_state c
  LEFT JOIN privacy.policy_versions pv ON pv.ordinal = c.policy_ordinal;
GRANT SELECT ON privacy.consents TO privacy_admin;

-- Row-level security on a table with one row per subject (or many).
CREATE FUNCTION privacy.protect_table(tbl regclass, subject_column name, on_erase text DEFAULT 'delete')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    coltype regtype;
    pol record;
    part record;
BEGIN
    PERFORM privacy.require_admin();
    IF on_erase IS NULL OR on_erase NOT IN ('delete', 'anonymize') THEN
        RAISE EXCEPTION 'invalid on_erase "%"', on_erase USING ERRCODE = '22023',
            HINT = 'One of: delete, anonymize.';
    END IF;
    SELECT a.atttypid::regtype INTO coltype FROM pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = subject_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', subject_column, tbl USING ERRCODE = '42703';
    END IF;
    IF coltype NOT IN ('text'::regtype, 'varchar'::regtype, 'bigint'::regtype, 'integer'::regtype, 'uuid'::regtype) THEN
        RAISE EXCEPTION 'subject column % has type %', subject_column, coltype USING ERRCODE = '42804',
            HINT = 'Subjects are text, varchar, bigint, integer or uuid.';
    END IF;
    -- The table and, for a partitioned table, every partition: a partition
    -- read directly is filtered too.  (Partitions added later: run this again.)
    FOR part IN SELECT t.relid FROM pg_partition_tree(tbl) t
                  JOIN pg_class c ON c.oid = t.relid WHERE c.relkind IN ('r', 'p')
                UNION SELECT tbl LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', part.relid);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', part.relid);
        FOR pol IN SELECT p.polname FROM pg_policy p
                    WHERE p.polrelid = part.relid AND p.polname LIKE 'privacy\_consent\_%' LOOP
            EXECUTE format('DROP POLICY %I ON %s', pol.polname, part.relid);
        END LOOP;
        EXECUTE format('CREATE POLICY privacy_consent_select ON %s FOR SELECT USING (privacy.has_consent(%I%s))',
                       part.relid, subject_column, CASE WHEN coltype = 'varchar'::regtype THEN '::text' ELSE '' END);
        EXECUTE format('CREATE POLICY privacy_consent_update ON %s FOR UPDATE USING (privacy.has_consent(%I%s))',
                       part.relid, subject_column, CASE WHEN coltype = 'varchar'::regtype THEN '::text' ELSE '' END);
        EXECUTE format('CREATE POLICY privacy_consent_delete ON %s FOR DELETE USING (privacy.has_consent(%I%s))',
                       part.relid, subject_column, CASE WHEN coltype = 'varchar'::regtype THEN '::text' ELSE '' END);
        -- New subjects can be recorded before they consent.
        EXECUTE format('CREATE POLICY privacy_consent_insert ON %s FOR INSERT WITH CHECK (true)', part.relid);
    END LOOP;
    INSERT INTO privacy.protected_tables VALUES (tbl, subject_column, on_erase)
    ON CONFLICT (relid) DO UPDATE SET subject_column = EXCLUDED.subject_column,
                                      on_erase = EXCLUDED.on_erase;
END
$$;

------------------------------------------------------------------------
-- Audit trail.  privacy.audit = 'table' writes here, as the extension's
-- owner: nobody else inserts, and only a superuser may change or delete.
------------------------------------------------------------------------
CREATE TABLE privacy.audit_log (
    event_id          bigserial PRIMARY KEY,
    at                timestamptz NOT NULL,
    session_user_name name NOT NULL,
    current_role_name name NOT NULL,
    purpose           text,
    action            text NOT NULL,
    object            text,
    count             int8 NOT NULL,
    detail            jsonb
);
CREATE INDEX audit_log_at ON privacy.audit_log USING brin (at);
SELECT pg_catalog.pg_extension_config_dump('privacy.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('privacy.audit_log_event_id_seq', '');
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON privacy.audit_log
    FOR EACH ROW EXECUTE FUNCTION privacy.append_only();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON privacy.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION privacy.append_only();
REVOKE ALL ON privacy.audit_log FROM PUBLIC;
GRANT SELECT ON privacy.audit_log TO privacy_admin;

-- Every recorded grant and withdrawal of consent is an audit event.
CREATE FUNCTION privacy.audit_consent_event() RETURNS trigger
    AS 'MODULE_PATHNAME', 'px_audit_consent_event' LANGUAGE C;
CREATE TRIGGER audit AFTER INSERT ON privacy.consent_events
    FOR EACH ROW EXECUTE FUNCTION privacy.audit_consent_event();

------------------------------------------------------------------------
-- Data-subject requests
------------------------------------------------------------------------
CREATE FUNCTION privacy.export_subject(subject text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'px_export_subject' LANGUAGE C CALLED ON NULL INPUT VOLATILE;
CREATE FUNCTION privacy.erase_subject(subject text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'px_erase_subject' LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- A value under its column's default masking rule: the anonymizing
-- erasure's worker, run as each table's owner; refuses to run outside one.
CREATE FUNCTION privacy.anonymize_value(value anyelement, tbl regclass, col name) RETURNS anyelement
    AS 'MODULE_PATHNAME', 'px_anonymize_value' LANGUAGE C STRICT STABLE;
CREATE FUNCTION privacy.anonymize_value(value privacy.encrypted_text, tbl regclass, col name) RETURNS text
    AS 'MODULE_PATHNAME', 'px_anonymize_encrypted_text' LANGUAGE C STRICT STABLE;
CREATE FUNCTION privacy.anonymize_value(value privacy.encrypted_text_det, tbl regclass, col name) RETURNS text
    AS 'MODULE_PATHNAME', 'px_anonymize_encrypted_text_det' LANGUAGE C STRICT STABLE;

------------------------------------------------------------------------
-- Personal-data inventory
------------------------------------------------------------------------
CREATE TABLE privacy.classifications (
    relid         regclass NOT NULL,
    column_name   name NOT NULL,
    level         text NOT NULL CHECK (level IN ('public', 'internal', 'personal', 'sensitive')),
    category      text,
    classified_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    classified_by name NOT NULL DEFAULT CURRENT_USER,
    PRIMARY KEY (relid, column_name)
);
SELECT pg_catalog.pg_extension_config_dump('privacy.classifications', '');
REVOKE ALL ON privacy.classifications FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON privacy.classifications TO privacy_admin;

CREATE FUNCTION privacy.classify(tbl regclass, col name, level text, category text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM privacy.require_admin();
    IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = col
                      AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', col, tbl USING ERRCODE = '42703';
    END IF;
    IF level IS NULL OR level NOT IN ('public', 'internal', 'personal', 'sensitive') THEN
        RAISE EXCEPTION 'invalid classification level "%"', level USING ERRCODE = '22023',
            HINT = 'One of: public, internal, personal, sensitive.';
    END IF;
    INSERT INTO privacy.classifications AS c (relid, column_name, level, category)
    VALUES (tbl, col, level, category)
    ON CONFLICT (relid, column_name) DO UPDATE
       SET level = EXCLUDED.level, category = EXCLUDED.category,
           classified_at = EXCLUDED.classified_at, classified_by = EXCLUDED.classified_by;
END
$$;

-- One row per column that is classified, encrypted, masked or in a
-- consent-protected table, with what is wrong with it.
CREATE VIEW privacy.inventory AS
WITH cols AS (
    SELECT a.attrelid AS relid, a.attname AS column_name, a.atttypid, a.atttypmod
      FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
     WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
       AND (EXISTS (SELECT 1 FROM privacy.classifications k
                     WHERE k.relid = a.attrelid AND k.column_name = a.attname)
            OR a.atttypid IN ('privacy.encrypted_text'::pg_catalog.regtype,
                              'privacy.encrypted_bytea'::pg_catalog.regtype,
                              'privacy.encrypted_text_det'::pg_catalog.regtype)
            OR EXISTS (SELECT 1 FROM privacy.mask_rules m
                        WHERE m.relid = a.attrelid AND m.column_name = a.attname)
            OR EXISTS (SELECT 1 FROM privacy.protected_tables p WHERE p.relid = a.attrelid))
), facts AS (
    SELECT cols.*,
           k.level, k.category,
           cols.atttypid IN ('privacy.encrypted_text'::pg_catalog.regtype,
                             'privacy.encrypted_bytea'::pg_catalog.regtype,
                             'privacy.encrypted_text_det'::pg_catalog.regtype) AS encrypted,
           dk.key_id, dk.name AS key_name, dk.destroyed_at,
           p.subject_column, p.relid IS NOT NULL AS consent_protected,
           (SELECT pg_catalog.array_agg(coalesce(m.role_name::text, 'default') || ': ' || m.rule
                                        ORDER BY m.role_name NULLS FIRST)
              FROM privacy.mask_rules m
             WHERE m.relid = cols.relid AND m.column_name = cols.column_name) AS mask_rules
      FROM cols
      LEFT JOIN privacy.classifications k ON k.relid = cols.relid AND k.column_name = cols.column_name
      LEFT JOIN privacy.data_keys dk
             ON dk.key_id = cols.atttypmod
            AND cols.atttypid IN ('privacy.encrypted_text'::pg_catalog.regtype,
                                  'privacy.encrypted_bytea'::pg_catalog.regtype,
                                  'privacy.encrypted_text_det'::pg_catalog.regtype)
      LEFT JOIN privacy.protected_tables p ON p.relid = cols.relid
), clear_readers AS (
    -- Roles that read a personal column in clear with no masking rule of
    -- their own for it (owners and superusers aside): straight from the
    -- table (and, if it is encrypted, holding its key), or through the
    -- masking view, which shows a column without any rule as it is.
    SELECT f.relid, f.column_name,
           pg_catalog.array_agg(DISTINCT r.rolname::text ORDER BY r.rolname::text) AS roles
      FROM facts f
      JOIN pg_catalog.pg_roles r
        ON NOT r.rolsuper AND r.rolname !~ '^pg_'
       AND r.oid <> (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = f.relid)
      LEFT JOIN privacy.masking_views v ON v.relid = f.relid
     WHERE f.level IN ('personal', 'sensitive')
       AND NOT EXISTS (SELECT 1 FROM privacy.mask_rules m
                        WHERE m.relid = f.relid AND m.column_name = f.column_name
                          AND m.role_name = r.rolname)
       AND ((pg_catalog.has_column_privilege(r.oid, f.relid, f.column_name, 'SELECT')
             AND (NOT f.encrypted OR EXISTS (
                     SELECT 1 FROM privacy.key_grants g
                      WHERE g.key_id = f.key_id AND pg_catalog.pg_has_role(r.oid, g.grantee, 'USAGE'))))
            OR (v.view_name IS NOT NULL AND NOT f.encrypted
                AND pg_catalog.to_regclass(v.view_name) IS NOT NULL
                AND pg_catalog.has_table_privilege(r.oid, pg_catalog.to_regclass(v.view_name), 'SELECT')
                AND NOT EXISTS (SELECT 1 FROM privacy.mask_rules m
                                 WHERE m.relid = f.relid AND m.column_name = f.column_name)))
     GROUP BY f.relid, f.column_name
)
SELECT n.nspname AS schema_name,
       c.relname AS table_name,
       f.column_name,
       pg_catalog.format_type(f.atttypid, f.atttypmod) AS data_type,
       f.level,
       f.category,
       f.encrypted,
       f.key_name,
       f.mask_rules,
       f.consent_protected,
       f.subject_column = f.column_name AS is_subject_column,
       pg_catalog.array_remove(ARRAY[
           CASE WHEN f.level = 'sensitive' AND NOT f.encrypted
                THEN 'sensitive column stored in clear' END,
           CASE WHEN cr.roles IS NOT NULL
                THEN 'personal data readable in clear, with no mask rule, by: '
                     || pg_catalog.array_to_string(cr.roles, ', ') END,
           CASE WHEN f.subject_column = f.column_name AND NOT EXISTS (
                    SELECT 1 FROM pg_catalog.pg_index i
                     WHERE i.indrelid = f.relid AND i.indkey[0] = (
                           SELECT a.attnum FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = f.relid AND a.attname = f.column_name))
                THEN 'protected table has no index on its subject column' END,
           CASE WHEN f.subject_column = f.column_name AND EXISTS (
                    SELECT 1 FROM pg_catalog.pg_partition_tree(f.relid) t
                      JOIN pg_catalog.pg_class pc ON pc.oid = t.relid
                     WHERE pc.relkind IN ('r', 'p')
                       AND NOT (pc.relrowsecurity AND pc.relforcerowsecurity
                                AND EXISTS (SELECT 1 FROM pg_catalog.pg_policy po
                                             WHERE po.polrelid = pc.oid
                                               AND po.polname = 'privacy_consent_select')))
                THEN 'partition not protected: run privacy.protect_table() again' END,
           CASE WHEN f.encrypted AND f.destroyed_at IS NOT NULL
                THEN 'column under a destroyed key' END,
           CASE WHEN f.encrypted AND f.key_id IS NULL
                THEN 'column under an unknown key' END
       ], NULL) AS findings
  FROM facts f
  JOIN pg_catalog.pg_class c ON c.oid = f.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN clear_readers cr ON cr.relid = f.relid AND cr.column_name = f.column_name;
GRANT SELECT ON privacy.inventory TO privacy_admin;

-- The record of processing: for each purpose, the tables of personal data
-- the roles granted it can read, their data categories and legal basis.
CREATE VIEW privacy.processing_record AS
WITH personal_tables AS (
    SELECT p.relid FROM privacy.protected_tables p
    UNION
    SELECT k.relid FROM privacy.classifications k WHERE k.level IN ('personal', 'sensitive')
)
SELECT pu.name AS purpose,
       pu.legal_basis,
       pu.parent AS parent_purpose,
       t.relid::pg_catalog.regclass AS table_name,
       (SELECT pg_catalog.array_agg(DISTINCT k.category ORDER BY k.category)
          FROM privacy.classifications k
         WHERE k.relid = t.relid AND k.category IS NOT NULL) AS data_categories,
       EXISTS (SELECT 1 FROM privacy.protected_tables p WHERE p.relid = t.relid) AS consent_checked,
       pg_catalog.array_agg(DISTINCT g.role_name ORDER BY g.role_name) AS roles
  FROM privacy.purposes pu
  JOIN privacy.purpose_grants g ON g.purpose = pu.name
  JOIN personal_tables t ON pg_catalog.has_table_privilege(
           (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = g.role_name), t.relid, 'SELECT')
 GROUP BY pu.name, pu.legal_basis, pu.parent, t.relid;
GRANT SELECT ON privacy.processing_record TO privacy_admin;
