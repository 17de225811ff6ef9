------------------------------------------------------------------------
-- A `value 'constant'` rule's constant must stay a value of its column's
-- type.  set_mask checks it when the rule is declared (check_mask_rule);
-- an ALTER that changes the column's type afterwards (ALTER TABLE ...
-- TYPE, ALTER TYPE ... ALTER ATTRIBUTE ... CASCADE) to one that does not
-- accept the constant ('abc' for integer) is refused here, before it
-- commits: kept, every read of the masking view, of the table by a masked
-- role and every anonymize_table would fail on the constant's input.  A
-- rule of another kind that no longer fits the new type shows NULL
-- (apply_mask), which needs no refusal.
-- As the extension's owner (mask_rules is closed to table owners); it
-- only reads the rules of the relations the command altered.
------------------------------------------------------------------------

CREATE FUNCTION privacy.mask_constants_fit_columns() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM privacy.mask_rules m WHERE m.rule LIKE 'value %') THEN
        RETURN;
    END IF;
    FOR r IN
        WITH RECURSIVE tree(relid) AS (
            SELECT privacy.relations_changed_with(c.objid) FROM pg_event_trigger_ddl_commands() c
             WHERE c.classid = 'pg_class'::regclass
            UNION SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid)
        SELECT m.relid, m.column_name, m.role_name, m.rule, a.atttypid::regtype AS typ
          FROM privacy.mask_rules m
          JOIN pg_attribute a ON a.attrelid = m.relid AND a.attnum = m.attnum AND NOT a.attisdropped
         WHERE m.relid IN (SELECT t.relid FROM tree t) AND m.rule LIKE 'value %'
         ORDER BY m.relid::text, m.column_name, m.role_name NULLS FIRST
    LOOP
        BEGIN
            PERFORM privacy.check_mask_rule(r.rule, r.typ);
        EXCEPTION
            WHEN datatype_mismatch THEN
                NULL;           -- a type no constant rule is declared for: apply_mask shows NULL
            WHEN data_exception THEN
                RAISE EXCEPTION 'column % of % cannot become %: its masking rule % is not a value of that type',
                                quote_ident(r.column_name), r.relid, r.typ, r.rule
                    USING ERRCODE = 'datatype_mismatch',
                          DETAIL = format('%s: %s.',
                                          CASE WHEN r.role_name IS NULL THEN 'The column''s default rule'
                                               ELSE format('The rule for role %s', quote_ident(r.role_name)) END,
                                          SQLERRM),
                          HINT = 'Declare another rule for the column first (privacy.set_mask) or drop this one '
                                 '(privacy.drop_mask); nothing was changed.';
        END;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.mask_constants_fit_columns() FROM PUBLIC;
CREATE EVENT TRIGGER privacy_mask_constants_fit_columns ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER TYPE', 'ALTER FOREIGN TABLE')
    EXECUTE FUNCTION privacy.mask_constants_fit_columns();
