-- A masking view decrypts an encrypted_bytea column as it does an
-- encrypted_text one: 'none' shows the plaintext (a bytea) to roles granted
-- the column's key only, every other rule masks without the key
-- (src/masking/rules.c).  Before this overload such a column went through
-- apply_mask(anyelement) and 'none' showed its envelope to anyone.  Views
-- built from now on use it; a view made before keeps its column type, and
-- its 'none' now needs the key too.  Not STRICT, as its siblings (48_).
CREATE OR REPLACE FUNCTION privacy.apply_mask(value privacy.encrypted_bytea, tbl regclass, col name)
    RETURNS bytea
    AS 'MODULE_PATHNAME', 'px_apply_mask_encrypted_bytea' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
