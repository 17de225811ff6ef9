-- Masking views evaluate every table policy through their policy function
-- (41_masking_view_row_security.sql); a policy written into the view's
-- WHERE was folded by the planner, and a table owner's IMMUTABLE function
-- in it ran when a superuser planned a read of the view.
-- A masking view made earlier in the update with a policy written into its
-- WHERE is rebuilt with its policies in the function.
DO $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT m.relid FROM privacy.masking_views m,
                    LATERAL (SELECT pg_catalog.pg_get_viewdef(privacy.masking_view_of(m.relid)) AS def) d
              WHERE privacy.masking_view_of(m.relid) IS NOT NULL
                AND d.def LIKE '%row_security_applies%' AND d.def NOT LIKE '%row\_policies\_%'
    LOOP
        PERFORM privacy.masking_view_rebuild_outside_extension(v.relid);
    END LOOP;
END
$$;
