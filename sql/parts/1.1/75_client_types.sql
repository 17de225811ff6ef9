-- Typed string parameters, as drivers send them: pgJDBC's setString()
-- binds varchar, psycopg 3's binary parameters text.
--
-- Inserting varchar into an encrypted column encrypts it like text does.
CREATE CAST (varchar AS privacy.encrypted_text)
    WITH FUNCTION privacy.encrypted_text(text, int4, bool) AS ASSIGNMENT;
CREATE CAST (varchar AS privacy.encrypted_text_det)
    WITH FUNCTION privacy.encrypted_text_det(text, int4, bool) AS ASSIGNMENT;

-- det = text (and varchar, relabelled as text): the plaintext is sealed
-- under the other operand's key (src/types/det_text_ops.c).  With the column's
-- key in its type, the planner turns the clause into the (det, det)
-- equality, which the column's indexes match.
CREATE FUNCTION privacy.det_text_eq_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'px_det_text_eq_support' LANGUAGE C STRICT;
CREATE FUNCTION privacy.encrypted_text_det_eq_text(privacy.encrypted_text_det, text) RETURNS bool
    AS 'MODULE_PATHNAME', 'px_det_eq_text'
    LANGUAGE C STRICT STABLE PARALLEL SAFE SUPPORT privacy.det_text_eq_support;
CREATE FUNCTION privacy.encrypted_text_det_ne_text(privacy.encrypted_text_det, text) RETURNS bool
    AS 'MODULE_PATHNAME', 'px_det_ne_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy.text_eq_encrypted_text_det(text, privacy.encrypted_text_det) RETURNS bool
    AS 'MODULE_PATHNAME', 'px_text_eq_det'
    LANGUAGE C STRICT STABLE PARALLEL SAFE SUPPORT privacy.det_text_eq_support;
CREATE FUNCTION privacy.text_ne_encrypted_text_det(text, privacy.encrypted_text_det) RETURNS bool
    AS 'MODULE_PATHNAME', 'px_text_ne_det' LANGUAGE C STRICT STABLE PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (
    LEFTARG = privacy.encrypted_text_det, RIGHTARG = text,
    FUNCTION = privacy.encrypted_text_det_eq_text,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR pg_catalog.= (
    LEFTARG = text, RIGHTARG = privacy.encrypted_text_det,
    FUNCTION = privacy.text_eq_encrypted_text_det,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = privacy.encrypted_text_det, RIGHTARG = text,
    FUNCTION = privacy.encrypted_text_det_ne_text,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = text, RIGHTARG = privacy.encrypted_text_det,
    FUNCTION = privacy.text_ne_encrypted_text_det,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
    RESTRICT = neqsel, JOIN = neqjoinsel);
