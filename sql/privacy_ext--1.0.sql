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

REVOKE ALL ON FUNCTION privacy.create_key(text), privacy.rotate_key(text),
    privacy.grant_key(text, text), privacy.revoke_key(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.create_key(text), privacy.rotate_key(text),
    privacy.grant_key(text, text), privacy.revoke_key(text, text) TO privacy_admin;

-- Metadata only: never key bytes.
CREATE VIEW privacy.keys AS
SELECT k.name,
       k.key_id AS id,
       k.active_version,
       (SELECT pg_catalog.array_agg(v.version ORDER BY v.version)
          FROM privacy.data_key_versions v WHERE v.key_id = k.key_id) AS versions,
       CASE WHEN k.destroyed_at IS NULL THEN 'active' ELSE 'destroyed' END AS status,
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

-- Plaintext in: assignment casts that encrypt under the target's key.
CREATE FUNCTION privacy.encrypted_text(text, int4, bool) RETURNS privacy.encrypted_text
    AS 'MODULE_PATHNAME', 'px_text_to_encrypted' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
CREATE FUNCTION privacy.encrypted_bytea(bytea, int4, bool) RETURNS privacy.encrypted_bytea
    AS 'MODULE_PATHNAME', 'px_bytea_to_encrypted' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
CREATE CAST (text AS privacy.encrypted_text)
    WITH FUNCTION privacy.encrypted_text(text, int4, bool) AS ASSIGNMENT;
CREATE CAST (bytea AS privacy.encrypted_bytea)
    WITH FUNCTION privacy.encrypted_bytea(bytea, int4, bool) AS ASSIGNMENT;

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

-- Envelope header fields, readable by anyone: they are not secret.
CREATE FUNCTION privacy.envelope_key_id(privacy.encrypted_text) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_envelope_key_id' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.envelope_key_id(privacy.encrypted_bytea) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_envelope_key_id' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.envelope_key_version(privacy.encrypted_text) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_envelope_key_version' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION privacy.envelope_key_version(privacy.encrypted_bytea) RETURNS int4
    AS 'MODULE_PATHNAME', 'px_envelope_key_version' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

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
                              'privacy.encrypted_bytea'::regtype)
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
