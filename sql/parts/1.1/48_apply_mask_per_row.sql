-- privacy.apply_mask() is called once per row and masked column of a masking
-- view.  As a STRICT function each call first has the executor test its
-- three arguments for NULL; the table and column are non-NULL constants
-- (masking/guard.c refuses anything else), so the C functions test the
-- value themselves and answer NULL for a NULL argument exactly as STRICT
-- did (src/masking/rules.c).  Masking views are security barriers and are
-- never pulled up into the query reading them, so strictness plays no part
-- in how their columns are planned.
ALTER FUNCTION privacy.apply_mask(anyelement, regclass, name) CALLED ON NULL INPUT;
ALTER FUNCTION privacy.apply_mask(privacy.encrypted_text, regclass, name) CALLED ON NULL INPUT;
ALTER FUNCTION privacy.apply_mask(privacy.encrypted_text_det, regclass, name) CALLED ON NULL INPUT;
