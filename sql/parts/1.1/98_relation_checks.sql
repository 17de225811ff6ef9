-- Which relations take mask rules, classifications and masking views: a
-- user's tables, views, materialized views and foreign tables.  1.0 took
-- any relation: a masking view of a masking view replaced the view with a
-- view of itself (every read then failed with infinite recursion, and
-- create_masking_view of the table was refused), and the system's and the
-- extension's own tables got rules, classifications and views in schema
-- masked (masked.pg_authid, masked.data_key_versions).
CREATE FUNCTION privacy.require_user_relation(tbl regclass, what text) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rel record;
BEGIN
    SELECT c.relkind, n.nspname INTO rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = '42P01';
    END IF;
    IF rel.nspname = 'masked' THEN
        RAISE EXCEPTION 'cannot % %: it is a masking view', what, tbl USING ERRCODE = '42809',
            HINT = 'Name the table it masks.';
    END IF;
    IF rel.nspname IN ('pg_catalog', 'information_schema', 'privacy') OR rel.nspname LIKE 'pg\_toast%' THEN
        RAISE EXCEPTION 'cannot % %: it belongs to the system or to privacy_ext', what, tbl
            USING ERRCODE = '42809';
    END IF;
    IF rel.relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION 'cannot % %: it is not a table, view, materialized view or foreign table', what, tbl
            USING ERRCODE = '42809';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION privacy.require_user_relation(regclass, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.require_user_relation(regclass, text) TO privacy_admin;

CREATE OR REPLACE FUNCTION privacy.set_mask(tbl regclass, col name, rule text, role name DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    att record;
    canonical text;
BEGIN
    PERFORM privacy.require_admin();
    IF tbl IS NULL OR col IS NULL OR rule IS NULL THEN
        RAISE EXCEPTION 'set_mask needs a table, a column and a rule' USING ERRCODE = '22004',
            HINT = 'privacy.drop_mask() removes a rule.';
    END IF;
    PERFORM privacy.require_user_relation(tbl, 'mask');
    SELECT a.attnum, a.atttypid INTO att FROM pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', col, tbl USING ERRCODE = '42703';
    END IF;
    IF role IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
        RAISE EXCEPTION 'role "%" does not exist', role USING ERRCODE = '42704';
    END IF;
    canonical := privacy.check_mask_rule(rule, att.atttypid);
    INSERT INTO privacy.mask_rules AS m (relid, attnum, column_name, role_name, rule)
    VALUES (tbl, att.attnum, col, role, canonical)
    ON CONFLICT (relid, column_name, role_name)
    DO UPDATE SET rule = EXCLUDED.rule, attnum = EXCLUDED.attnum;
    IF EXISTS (SELECT 1 FROM privacy.masking_views v WHERE v.relid = tbl) THEN
        PERFORM privacy.create_masking_view(tbl);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION privacy.classify(tbl regclass, col name, level text, category text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM privacy.require_admin();
    IF tbl IS NULL OR col IS NULL THEN
        RAISE EXCEPTION 'classify needs a table and a column' USING ERRCODE = '22004';
    END IF;
    PERFORM privacy.require_user_relation(tbl, 'classify');
    IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = col
                      AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', col, tbl USING ERRCODE = '42703';
    END IF;
    IF level IS NULL THEN
        RAISE EXCEPTION 'classification level must not be NULL' USING ERRCODE = '22004',
            HINT = 'One of: public, internal, personal, sensitive.';
    END IF;
    IF level NOT IN ('public', 'internal', 'personal', 'sensitive') THEN
        RAISE EXCEPTION 'invalid classification level "%"', level USING ERRCODE = '22023',
            HINT = 'One of: public, internal, personal, sensitive.';
    END IF;
    INSERT INTO privacy.classifications AS c (relid, column_name, level, category)
    VALUES (tbl, col, level, category)
    ON CONFLICT (relid, column_name) DO UPDATE
       SET level = EXCLUDED.level, category = EXCLUDED.category,
           classified_at = EXCLUDED.classified_at, classified_by = EXCLUDED.classified_by;
END
$$;

CREATE OR REPLACE FUNCTION privacy.create_masking_view(tbl regclass)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- With the caller's rights: see 40_masking_views.sql.
    PERFORM privacy.require_admin();
    IF tbl IS NULL THEN
        RAISE EXCEPTION 'create_masking_view needs a table' USING ERRCODE = '22004';
    END IF;
    PERFORM privacy.require_user_relation(tbl, 'create a masking view of');
    -- The view reads the table with its owner's rights, every column.
    IF NOT has_table_privilege(tbl, 'SELECT')
       AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = tbl AND a.attnum > 0
                      AND NOT a.attisdropped AND NOT has_column_privilege(tbl, a.attnum, 'SELECT')) THEN
        RAISE EXCEPTION 'permission denied to create a masking view of %: cannot read it', tbl
            USING ERRCODE = '42501',
                  HINT = 'The view reads the table with its owner''s rights: create it as a role that may read every column.';
    END IF;
    RETURN privacy.masking_view_build(tbl, true);
END
$$;

-- revoke_purpose of a role or purpose that does not exist said nothing
-- (grant_purpose refuses both with 42704): a typo looked like a revoke.  A
-- grant recorded for a role dropped since can still be revoked by name.
CREATE OR REPLACE FUNCTION privacy.revoke_purpose(role name, purpose text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM privacy.require_admin();
    DELETE FROM privacy.purpose_grants g WHERE g.purpose = revoke_purpose.purpose AND g.role_name = role;
    IF FOUND THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM privacy.purposes p WHERE p.name = revoke_purpose.purpose) THEN
        RAISE EXCEPTION 'processing purpose "%" does not exist', revoke_purpose.purpose USING ERRCODE = '42704';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
        RAISE EXCEPTION 'role "%" does not exist', role USING ERRCODE = '42704';
    END IF;
END
$$;

-- The registries keyed by relation forget a relation when it is dropped.
-- Kept, its rows named a dangling OID (shown as a number by the inventory)
-- that a later relation could be given, taking over its mask rules,
-- classification, quasi-identifiers or consent protection.  Only rows of
-- relations (and masking views) that no longer exist are deleted, so
-- anyone may run it: it runs after every DROP (the event trigger below),
-- as the extension's owner (the registries are closed to other roles).
CREATE FUNCTION privacy.forget_dropped_relations() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM privacy.masking_views r WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = r.relid);
    -- and a dropped masking view (DROP VIEW, DROP OWNED BY its owner): kept,
    -- its row would say the table is masked while no view is.  A rebuild
    -- that drops the view writes the row again when it creates the view.
    DELETE FROM privacy.masking_views r WHERE to_regclass(r.view_name) IS NULL;
    DELETE FROM privacy.mask_rules r WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = r.relid);
    DELETE FROM privacy.classifications r WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = r.relid);
    DELETE FROM privacy.quasi_identifiers r WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = r.relid);
    DELETE FROM privacy.protected_tables r WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = r.relid);
END
$$;
REVOKE ALL ON FUNCTION privacy.forget_dropped_relations() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.forget_dropped_relations() TO PUBLIC;
-- A dropped column's classification and mask rules go with it: kept, a
-- column added later under the same name would take them over.  Only for a
-- column that really is gone (anyone may run it, like the above).  Mask
-- rules name their column by number, which a dropped column keeps in
-- pg_attribute; classifications by name.
CREATE FUNCTION privacy.forget_dropped_column(rel oid, col name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM privacy.mask_rules m USING pg_attribute a
     WHERE m.relid = rel AND a.attrelid = rel AND a.attnum = m.attnum AND a.attisdropped;
    IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = col
                      AND a.attnum > 0 AND NOT a.attisdropped) THEN
        DELETE FROM privacy.classifications c WHERE c.relid = rel AND c.column_name = col;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION privacy.forget_dropped_column(oid, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.forget_dropped_column(oid, name) TO PUBLIC;
CREATE FUNCTION privacy.registries_after_drop() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dropped record;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() d
                WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0
                  AND d.object_type IN ('table', 'view', 'materialized view', 'foreign table')) THEN
        PERFORM privacy.forget_dropped_relations();
    END IF;
    FOR dropped IN SELECT o.objid, o.address_names[cardinality(o.address_names)] AS col
                     FROM pg_event_trigger_dropped_objects() o
                    WHERE o.classid = 'pg_class'::regclass AND o.objsubid > 0 AND o.object_type IN ('table column', 'foreign table column')
    LOOP
        PERFORM privacy.forget_dropped_column(dropped.objid, dropped.col);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy.registries_after_drop() FROM PUBLIC;
CREATE EVENT TRIGGER privacy_registries_after_drop ON sql_drop
    EXECUTE FUNCTION privacy.registries_after_drop();
