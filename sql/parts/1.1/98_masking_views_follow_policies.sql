-- A database updated from 1.0: the masking views of tables with row-level
-- security get the table's own policies now (41_), as views made by 1.1
-- have them, not at the table's next policy change.  A view that cannot be
-- rebuilt in place (a 1.0 view that other objects are built on) is left as
-- it was, with a WARNING saying how to bring it up to date.
DO $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT m.relid FROM privacy.masking_views m
               JOIN pg_catalog.pg_class c ON c.oid = m.relid
              WHERE c.relrowsecurity ORDER BY m.relid LOOP
        BEGIN
            PERFORM privacy.masking_view_follows_policies(v.relid);
        EXCEPTION WHEN dependent_objects_still_exist OR invalid_table_definition THEN
            RAISE WARNING 'the masking view of % does not apply the table''s row-level security policies yet: %',
                v.relid::regclass, SQLERRM
                USING HINT = 'Drop the objects built on the view, run privacy.create_masking_view() for the table, then create them again.';
        END;
    END LOOP;
END
$$;
