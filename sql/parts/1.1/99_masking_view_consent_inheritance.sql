-- The consent filter of a masking view follows inheritance too
-- (privacy.masking_view_consent_filter, 40_masking_views.sql): the masking
-- view of an inheritance child of a protected table had no filter, and,
-- read as its owner, a superuser, showed every row to every reader.
-- A database updated from 1.0: its masking views of inheritance children
-- get their filter now.
DO $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT m.relid, privacy.masking_view_of(m.relid) AS view FROM privacy.masking_views m LOOP
        CONTINUE WHEN v.view IS NULL OR
            (privacy.masking_view_consent_filter(v.relid) IS NOT NULL) = privacy.masking_view_filtered(v.view);
        PERFORM privacy.masking_view_rebuild_outside_extension(v.relid);
    END LOOP;
END
$$;
