-- privacy.apply_mask() masks only in the plan of a query (masking/guard.c).
-- In 1.0 a SQL function wrapping it, inlined into a domain or table CHECK
-- constraint, a trigger's WHEN or an index expression, and a call written
-- into the arguments of CALL or EXECUTE or into ALTER TABLE ... USING, ran
-- with no check of where its value came from: a masked role could mask
-- values of its choosing (undoing hash, fake and noise rules by guessing)
-- and a role without the key could have ciphertext decrypted and masked.
-- Now privacy.apply_mask() refuses to run; the planner points each call of
-- a plan, checked as the query is planned, at its twin in privacy_planned,
-- a schema no role but the extension's owner may use, so that nothing
-- outside a plan can name a twin.
CREATE SCHEMA privacy_planned;
REVOKE ALL ON SCHEMA privacy_planned FROM PUBLIC;
COMMENT ON SCHEMA privacy_planned IS
    'privacy_ext: the functions a query plan runs for privacy.apply_mask(); not for direct use';

CREATE FUNCTION privacy_planned.apply_mask(value anyelement, tbl regclass, col name) RETURNS anyelement
    AS 'MODULE_PATHNAME', 'px_apply_mask' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy_planned.apply_mask(value privacy.encrypted_text, tbl regclass, col name) RETURNS text
    AS 'MODULE_PATHNAME', 'px_apply_mask_encrypted_text' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy_planned.apply_mask(value privacy.encrypted_text_det, tbl regclass, col name) RETURNS text
    AS 'MODULE_PATHNAME', 'px_apply_mask_encrypted_text_det' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE FUNCTION privacy_planned.apply_mask(value privacy.encrypted_bytea, tbl regclass, col name) RETURNS bytea
    AS 'MODULE_PATHNAME', 'px_apply_mask_encrypted_bytea' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION privacy.apply_mask(value anyelement, tbl regclass, col name) RETURNS anyelement
    AS 'MODULE_PATHNAME', 'px_apply_mask_outside_plan' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION privacy.apply_mask(value privacy.encrypted_text, tbl regclass, col name) RETURNS text
    AS 'MODULE_PATHNAME', 'px_apply_mask_outside_plan' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION privacy.apply_mask(value privacy.encrypted_text_det, tbl regclass, col name) RETURNS text
    AS 'MODULE_PATHNAME', 'px_apply_mask_outside_plan' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION privacy.apply_mask(value privacy.encrypted_bytea, tbl regclass, col name) RETURNS bytea
    AS 'MODULE_PATHNAME', 'px_apply_mask_outside_plan' LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
