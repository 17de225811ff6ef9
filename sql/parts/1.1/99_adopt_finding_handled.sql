-- adopt_finding refuses a column already handled by what the column is
-- (classified, masked or of an encrypted type), not only by the category
-- passed: adopting a finding never overwrites a classification or a rule
-- (a 'public' / 'none' adoption would have undone a mask).
CREATE OR REPLACE FUNCTION privacy.adopt_finding(tbl regclass, col name, category text,
                                                 level text, rule text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    handled text;
BEGIN
    PERFORM privacy.require_admin();
    IF tbl IS NULL OR col IS NULL THEN
        RAISE EXCEPTION 'a finding names a table and a column' USING ERRCODE = '22004';
    END IF;
    IF category IN ('encrypted', 'classified', 'masked') THEN
        handled := category;
    ELSE
        SELECT CASE
                 WHEN a.atttypid IN ('privacy.encrypted_text'::regtype, 'privacy.encrypted_bytea'::regtype,
                                     'privacy.encrypted_text_det'::regtype)
                      OR coalesce(bt.typbasetype, 0) IN ('privacy.encrypted_text'::regtype,
                                                         'privacy.encrypted_bytea'::regtype,
                                                         'privacy.encrypted_text_det'::regtype)
                   THEN 'encrypted'
                 WHEN EXISTS (SELECT 1 FROM privacy.classifications k
                               WHERE k.relid = tbl AND k.column_name = col) THEN 'classified'
                 WHEN EXISTS (SELECT 1 FROM privacy.mask_rules m
                               WHERE m.relid = tbl AND m.column_name = col) THEN 'masked'
               END
          INTO handled
          FROM pg_attribute a
          LEFT JOIN pg_type bt ON bt.oid = a.atttypid AND bt.typtype = 'd'
         WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    END IF;
    IF handled IS NOT NULL THEN
        RAISE EXCEPTION 'column "%" of relation % is already %', col, tbl, handled
            USING ERRCODE = '22023', HINT = 'Only new findings are adopted; use classify and set_mask to change it.';
    END IF;
    PERFORM privacy.classify(tbl, col, level, category);
    IF rule IS NOT NULL THEN
        PERFORM privacy.set_mask(tbl, col, rule);
    END IF;
END
$$;
