-- Fake data and the jsonb rule (issue 16, points 4-6).
--
-- The rules fake('kind') and jsonb('path' rule, ...) need no SQL: they are
-- parsed and checked in C (src/core/rule_parser.c, src/masking/rules.c) by
-- privacy.check_mask_rule(), and applied by privacy.apply_mask().
--
-- privacy.mask_fake(value, kind): a fake of the kind ('first_name',
-- 'last_name', 'email', 'phone', 'city', 'country', 'company', 'iban') that
-- is never the value; NULL for NULL or an unknown kind (src/masking/fake.c).
-- Its key is derived from the root key: STABLE, like mask_noise.  Only
-- privacy_admin may call it: a role that can compute the fakes of guessed
-- values could read through the fakes a masking view shows it.
CREATE FUNCTION privacy.mask_fake(value text, kind text) RETURNS text
    AS 'MODULE_PATHNAME', 'px_mask_fake_fn' LANGUAGE C STRICT STABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION privacy.mask_fake(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.mask_fake(text, text) TO privacy_admin;
