-- The consent filter of a masking view follows inheritance too.  The
-- predicate was found through pg_partition_ancestors() alone, so the
-- masking view of an inheritance child of a protected table (which has
-- the parent's consent policies) had no filter: read as its owner, a
-- superuser, it showed every row to every reader, with a purpose declared
-- or none.  Now the nearest protected table among the table, its
-- partition ancestors and its inheritance parents (at every level) gives
-- the subject column.
CREATE OR REPLACE FUNCTION privacy.masking_view_consent_filter(tbl regclass) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    subject name;
    att record;
BEGIN
    WITH RECURSIVE up(relid, depth) AS (
        SELECT tbl::oid, 0
        UNION ALL
        SELECT i.inhparent, u.depth + 1 FROM pg_catalog.pg_inherits i JOIN up u ON i.inhrelid = u.relid
    )
    SELECT p.subject_column INTO subject
      FROM up a JOIN privacy.protected_tables p ON p.relid = a.relid
     ORDER BY a.depth LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT a.attname, a.atttypid INTO att FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = subject AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        -- Renamed since protect_table: the policy still names it by number.
        SELECT a.attname, a.atttypid INTO att
          FROM pg_catalog.pg_policy po
          JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass
                                     AND d.objid = po.oid AND d.refobjid = tbl AND d.refobjsubid > 0
          JOIN pg_catalog.pg_attribute a ON a.attrelid = tbl AND a.attnum = d.refobjsubid
         WHERE po.polrelid = tbl AND po.polname = 'privacy_consent_select' AND NOT a.attisdropped
         LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        RETURN 'false';
    END IF;
    RETURN CASE att.atttypid
        WHEN 'pg_catalog.text'::pg_catalog.regtype THEN format('privacy.has_consent(%I)', att.attname)
        WHEN 'pg_catalog.varchar'::pg_catalog.regtype THEN format('privacy.has_consent(%I::pg_catalog.text)', att.attname)
        WHEN 'pg_catalog.int8'::pg_catalog.regtype THEN format('privacy.has_consent(%I)', att.attname)
        WHEN 'pg_catalog.int4'::pg_catalog.regtype THEN format('privacy.has_consent(%I)', att.attname)
        WHEN 'pg_catalog.uuid'::pg_catalog.regtype THEN format('privacy.has_consent(%I)', att.attname)
        ELSE 'false' END;
END
$$;

-- A database updated from an earlier 1.1 build: masking views of
-- inheritance children get their filter now.
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
