-- drop_mask(NULL, 'c') and drop_mask('t', NULL) deleted nothing and
-- answered false, as if there were simply no such rule: a caller that
-- lost its table or column name on the way believed the rule gone.  Like
-- set_mask, it now refuses a NULL table or column with 22004 (a NULL role
-- still names the column's default rule).
CREATE OR REPLACE FUNCTION privacy.drop_mask(tbl regclass, col name, role name DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_rule boolean;
BEGIN
    PERFORM privacy.require_admin();
    IF tbl IS NULL OR col IS NULL THEN
        RAISE EXCEPTION 'drop_mask needs a table and a column' USING ERRCODE = '22004',
            HINT = 'A NULL role names the column''s default rule.';
    END IF;
    DELETE FROM privacy.mask_rules m
     WHERE m.relid = tbl AND m.column_name = col AND m.role_name IS NOT DISTINCT FROM role;
    found_rule := FOUND;
    IF found_rule AND EXISTS (SELECT 1 FROM privacy.masking_views v WHERE v.relid = tbl) THEN
        PERFORM privacy.create_masking_view(tbl);
    END IF;
    RETURN found_rule;
END
$$;
