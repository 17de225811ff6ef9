-- Clear errors for empty and NULL arguments found by review of 1.0:
-- create_purpose('') reported an invalid legal basis, and a NULL legal
-- basis surfaced as a NOT NULL violation from the purposes table.
CREATE OR REPLACE FUNCTION privacy.create_purpose(name text, legal_basis text, parent text DEFAULT NULL,
                                                  description text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM privacy.require_admin();
    IF create_purpose.name IS NULL OR create_purpose.legal_basis IS NULL THEN
        RAISE EXCEPTION 'a purpose needs a name and a legal basis' USING ERRCODE = '22004';
    END IF;
    IF btrim(create_purpose.name) = '' THEN
        RAISE EXCEPTION 'a purpose name must not be empty' USING ERRCODE = '22023';
    END IF;
    -- The server keeps purposes by names of at most 63 bytes (privacy.purpose
    -- and the registry, as identifiers): a longer one would be cut to the
    -- name of another purpose.
    IF octet_length(create_purpose.name) >= 64 THEN
        RAISE EXCEPTION 'a purpose name must be at most 63 bytes (% given)', octet_length(create_purpose.name)
            USING ERRCODE = '42622';
    END IF;
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

-- ssn::varchar decrypts like ssn::text (it printed the envelope through the
-- I/O conversion); needs the same grant and is audited the same way.
CREATE FUNCTION privacy.decrypt_to_varchar(privacy.encrypted_text) RETURNS varchar
    AS 'MODULE_PATHNAME', 'px_decrypt_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.decrypt_to_varchar(privacy.encrypted_text_det) RETURNS varchar
    AS 'MODULE_PATHNAME', 'px_decrypt_text_det' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE CAST (privacy.encrypted_text AS varchar)
    WITH FUNCTION privacy.decrypt_to_varchar(privacy.encrypted_text);
CREATE CAST (privacy.encrypted_text_det AS varchar)
    WITH FUNCTION privacy.decrypt_to_varchar(privacy.encrypted_text_det);

-- ssn::char(n) (bpchar) likewise: through the I/O conversion it gave the
-- envelope cut to n characters, which read like a value.  text and bpchar
-- share their representation, so the decryption functions serve as they
-- are; char(n)'s length coercion then applies as for any text.
CREATE FUNCTION privacy.decrypt_to_bpchar(privacy.encrypted_text) RETURNS bpchar
    AS 'MODULE_PATHNAME', 'px_decrypt_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.decrypt_to_bpchar(privacy.encrypted_text_det) RETURNS bpchar
    AS 'MODULE_PATHNAME', 'px_decrypt_text_det' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE CAST (privacy.encrypted_text AS bpchar)
    WITH FUNCTION privacy.decrypt_to_bpchar(privacy.encrypted_text);
CREATE CAST (privacy.encrypted_text_det AS bpchar)
    WITH FUNCTION privacy.decrypt_to_bpchar(privacy.encrypted_text_det);

-- A policy version is named by the consents recorded under it: a NULL or
-- empty one (a NULL once failed on the table's NOT NULL constraint, its
-- DETAIL showing the row; '' was stored) is refused.
CREATE OR REPLACE FUNCTION privacy.set_policy_version(version text, requires_reconsent boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM privacy.require_admin();
    IF version IS NULL OR requires_reconsent IS NULL THEN
        RAISE EXCEPTION 'policy version and requires_reconsent must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF btrim(version) = '' THEN
        RAISE EXCEPTION 'policy version must not be empty' USING ERRCODE = '22023';
    END IF;
    IF octet_length(version) > 1024 THEN
        RAISE EXCEPTION 'policy version is too long' USING ERRCODE = '54000',
            DETAIL = 'A policy version is at most 1024 bytes.';
    END IF;
    INSERT INTO privacy.policy_versions (version, requires_reconsent)
    VALUES (set_policy_version.version, set_policy_version.requires_reconsent);
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'policy version "%" already exists', version USING ERRCODE = '42710';
END
$$;
