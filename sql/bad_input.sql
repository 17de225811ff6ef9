-- Bad input, on purpose: each case has a clear, tested result.
CREATE TABLE bad (id int, t privacy.encrypted_text('hr'), b privacy.encrypted_bytea('hr'));

-- NULL in, NULL out.
INSERT INTO bad VALUES (1, NULL, NULL);
SELECT t IS NULL AS t_null, privacy.decrypt(t) IS NULL AS dec_null,
       privacy.decrypt(b) IS NULL AS decb_null, privacy.encrypt(NULL::text, 'hr') IS NULL AS enc_null
  FROM bad WHERE id = 1;

-- Empty string and empty bytea.
INSERT INTO bad VALUES (2, '', '\x');
SELECT privacy.decrypt(t) = '' AS empty_text, octet_length(privacy.decrypt(b)) AS empty_bytea,
       octet_length(privacy.encrypted_text_out(t)::text) AS armor_len
  FROM bad WHERE id = 2;

-- A 1 MB value (stored out of line, uncompressed) round-trips.
INSERT INTO bad SELECT 3, repeat('0123456789abcdef', 65536), decode(repeat('ab', 1048576), 'hex');
SELECT octet_length(privacy.decrypt(t)) AS text_len, md5(privacy.decrypt(t)) = md5(repeat('0123456789abcdef', 65536)) AS text_ok,
       octet_length(privacy.decrypt(b)) AS bytea_len
  FROM bad WHERE id = 3;
SELECT pg_column_size(t) > 1048576 AS not_compressed FROM bad WHERE id = 3;

-- Multibyte UTF-8: characters, not bytes, survive unchanged.
INSERT INTO bad VALUES (4, 'Zoë Ångström – 東京 – 🙂', NULL);
SELECT privacy.decrypt(t), length(privacy.decrypt(t)) AS chars, octet_length(privacy.decrypt(t)) AS bytes
  FROM bad WHERE id = 4;

-- Helpers: the envelope's bytes, its armor, and feeding text to the type's
-- input function exactly as a literal does, reporting SQLSTATE and message.
CREATE FUNCTION env(privacy.encrypted_text) RETURNS bytea LANGUAGE sql IMMUTABLE
  AS $$ SELECT decode(substr(privacy.encrypted_text_out($1)::text, 6), 'base64') $$;
CREATE FUNCTION armor(bytea) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT 'pxe1:' || translate(encode($1, 'base64'), E'\n', '') $$;
CREATE FUNCTION try_input(literal text, typ text DEFAULT 'privacy.encrypted_text') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format('SELECT privacy.decrypt(%L::%s)::text', literal, typ) INTO r;
  RETURN 'accepted, decrypts to: ' || r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE TABLE sample AS SELECT env(t) AS e FROM bad WHERE id = 4;

-- Malformed armor: plaintext that starts like armor must be a valid envelope.
SELECT try_input('pxe1:');
SELECT try_input('pxe1:not base64!');
SELECT try_input('pxe1:AAAA');
SELECT try_input(armor(e) || ' ') FROM sample;
SELECT try_input(armor(e) || 'AAAA') FROM sample;
-- ... while a value typed as text is always plaintext and gets encrypted.
INSERT INTO bad (id, t) VALUES (5, 'pxe1:AAAA'::text);
SELECT privacy.decrypt(t) FROM bad WHERE id = 5;

-- Truncated envelopes: shorter than a header, and missing tag bytes.
SELECT try_input(armor(substr(e, 1, 20))) FROM sample;
SELECT try_input(armor(substr(e, 1, length(e) - 1))) FROM sample;
SELECT try_input(armor(substr(e, 1, 38))) FROM sample;
-- One flipped bit: in the ciphertext, the tag, the nonce, the key version.
SELECT try_input(armor(set_bit(e, 8 * 30, 1 - get_bit(e, 8 * 30)))) FROM sample;
SELECT try_input(armor(set_bit(e, 8 * (length(e) - 1), 1 - get_bit(e, 8 * (length(e) - 1))))) FROM sample;
SELECT try_input(armor(set_bit(e, 8 * 12, 1 - get_bit(e, 8 * 12)))) FROM sample;
SELECT try_input(armor(set_byte(e, 9, 1))) FROM sample;
SELECT try_input(armor(set_byte(e, 9, 9))) FROM sample;
-- A format version this release does not know; an unknown type byte.
SELECT try_input(armor(set_byte(e, 0, 2))) FROM sample;
SELECT try_input(armor(set_byte(e, 1, 9))) FROM sample;
-- A text envelope relabelled as bytea, or pasted into the bytea type.
SELECT try_input(armor(set_byte(e, 1, 2)), 'privacy.encrypted_bytea') FROM sample;
SELECT try_input(armor(e), 'privacy.encrypted_bytea') FROM sample;
-- An envelope under a key id that does not exist.
SELECT try_input(armor(set_byte(e, 2, 1))) FROM sample;
-- An envelope under another existing key, relabelled: authentication fails.
SELECT try_input(armor(overlay(e placing int4send((SELECT id FROM privacy.keys WHERE name = 'pay')) || int4send(1) from 3 for 8)))
  FROM sample;
-- The untouched envelope is accepted.
SELECT try_input(armor(e)) FROM sample;

-- Unknown key in an envelope restored while check_function_bodies is off
-- (as in pg_dump output): accepted, then refused at decryption.
SET check_function_bodies = off;
CREATE TABLE restored (t privacy.encrypted_text('ghost'));
DO $$ BEGIN
  EXECUTE format('INSERT INTO restored VALUES (%L)',
                 (SELECT armor(overlay(e placing int4send(a.atttypmod) from 3 for 4))
                    FROM sample, pg_attribute a
                   WHERE a.attrelid = 'restored'::regclass AND a.attname = 't'));
END $$;
RESET check_function_bodies;
SELECT privacy.decrypt(t) FROM restored;
\echo :LAST_ERROR_SQLSTATE
-- ... but still malformed envelopes are refused even then.
SET check_function_bodies = off;
SELECT try_input('pxe1:AAAA');
-- ... and so is a version the key does not have (any role may turn the
-- setting off: only a key not restored yet is taken on trust).
SELECT privacy.encrypted_text_in(armor(overlay(e placing int4send(9) from 7 for 4))::cstring, 0, -1) IS NOT NULL
  AS stored FROM sample;
RESET check_function_bodies;

-- Binary I/O carries the raw envelope: send() output equals the envelope bytes.
SELECT privacy.encrypted_text_send(t) = env(t) AS send_is_envelope FROM bad WHERE id = 4;

-- type_encryption of an OID that names no type: no rows, not an internal
-- error ("cache lookup failed", XX000).
SELECT count(*) FROM privacy.type_encryption(0, -1);
SELECT count(*) FROM privacy.type_encryption('bad'::regclass::oid, -1);
SELECT count(*) FROM privacy.type_encryption(4294967295, 7);
SELECT value_type, shape FROM privacy.type_encryption('privacy.encrypted_text'::regtype, -1);

-- drop_mask with a NULL table or column is refused (22004), not "no such
-- rule"; a NULL role is the default rule.
SELECT privacy.set_mask('bad', 'id', 'redact');
SELECT privacy.drop_mask(NULL, 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.drop_mask('bad', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT privacy.drop_mask('bad', 'id', NULL);
SELECT privacy.drop_mask('bad', 'id');

-- An unknown purpose is named in its error cut to 64 bytes, as unknown key
-- names are: has_consent is open to every role, and quoted whole, a 1 MB
-- argument put 1 MB lines in the server log at each call.
SELECT privacy.has_consent('s', repeat('y', 1048576));
SELECT set_config('privacy.purpose', repeat('é', 100), false);
SELECT privacy.has_consent('s', 'no_such_purpose');

DROP TABLE bad, sample, restored;
DROP FUNCTION env(privacy.encrypted_text), armor(bytea), try_input(text, text);
