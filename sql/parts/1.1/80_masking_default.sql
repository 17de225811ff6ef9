------------------------------------------------------------------------
-- Masking 2.0, privacy by default (1.1): to a masked role, a column of a
-- masked table that has no rule is redacted (its type's placeholder, NULL
-- where none fits; privacy.apply_mask() does it, src/masking/rules.c);
-- clear needs an explicit 'none'.  The masking views therefore mask every
-- column, including columns added later by ALTER TABLE (the rebuild after
-- it appends them, masked).
--
-- The upgrade from 1.0 keeps what every existing masking view showed: a
-- column of a table with a masking view that has no rule at all was shown
-- in clear by 1.0, and is given the default rule 'none' here, before any
-- view is built with the new code (part 40 already brought the views 1.0
-- made up to date with its own, 1.0-compatible build).  A WARNING (an
-- extension script shows nothing less) says how many columns that was.  A
-- fresh install has no views: nothing is done.
------------------------------------------------------------------------
DO $$
DECLARE
    n integer;
BEGIN
    WITH shown AS (
        SELECT m.relid, a.attnum, a.attname
          FROM privacy.masking_views m
          JOIN pg_catalog.pg_attribute a ON a.attrelid = m.relid
         WHERE privacy.masking_view_of(m.relid) IS NOT NULL
           AND a.attnum > 0 AND NOT a.attisdropped
           AND NOT EXISTS (SELECT 1 FROM privacy.mask_rules r
                            WHERE r.relid = m.relid AND r.column_name = a.attname)),
    declared AS (
        INSERT INTO privacy.mask_rules (relid, attnum, column_name, role_name, rule, created_by)
        SELECT s.relid, s.attnum, s.attname, NULL, 'none', 'privacy_ext 1.1 upgrade' FROM shown s
        RETURNING 1)
    SELECT pg_catalog.count(*) INTO n FROM declared;
    IF n > 0 THEN
        RAISE WARNING 'privacy by default: % column(s) of masking views that privacy_ext 1.0 showed in clear keep being shown in clear, through rule none', n
            USING HINT = 'They are the rules of privacy.mask_rules created by ''privacy_ext 1.1 upgrade''; '
                         'replace them (privacy.set_mask) or drop them (privacy.drop_mask) to mask those columns.';
    END IF;
END
$$;

-- Brings masked.<table> up to date with the table, its rules and its
-- protection.  The view is changed in place when it can be (CREATE OR
-- REPLACE VIEW keeps its owner, its grants and the objects built on it;
-- renamed columns and a renamed table are renamed in the view); it is
-- dropped and created again only when a column it shows changed type, and
-- then comes back with the owner and grants it had (restore_owner and
-- restore_acl, when an ALTER TABLE dropped it before running).  Objects of
-- other roles built on the view stop that with an error naming them.
-- regrant: give every masked role SELECT (create_masking_view does).
-- Privacy by default (1.1, this part): every column goes through
-- privacy.apply_mask(), which redacts a column without rules.
CREATE OR REPLACE FUNCTION privacy.masking_view_build(tbl regclass, regrant boolean,
                                           restore_owner oid DEFAULT NULL,
                                           restore_acl pg_catalog.aclitem[] DEFAULT NULL,
                                           in_place_only boolean DEFAULT false)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    relname name := (SELECT k.relname FROM pg_class k WHERE k.oid = tbl);
    target text := format('masked.%I', relname);
    existing regclass := coalesce(privacy.masking_view_of(tbl),
                                  CASE WHEN restore_owner IS NULL THEN privacy.masking_view_named(tbl) END);
    view_oid oid;
    query text;
    cols text := '';
    filter text := privacy.masking_view_filter(tbl);
    old_cols name[];
    new_cols name[] := '{}';
    replaced boolean := false;
    owner_oid oid := restore_owner;
    acl pg_catalog.aclitem[] := restore_acl;
    dependents text;
    c record;
    r record;
    i int;
BEGIN
    -- Follow the table: rules keep their column through renames, and go
    -- with a dropped column.  After a restore the name is what counts.
    UPDATE privacy.mask_rules m SET attnum = a.attnum
      FROM pg_attribute a
     WHERE m.relid = tbl AND a.attrelid = tbl AND a.attname = m.column_name
       AND a.attnum > 0 AND NOT a.attisdropped AND m.attnum <> a.attnum;
    UPDATE privacy.mask_rules m SET column_name = a.attname
      FROM pg_attribute a
     WHERE m.relid = tbl AND a.attrelid = tbl AND a.attnum = m.attnum
       AND NOT a.attisdropped AND a.attname <> m.column_name
       AND NOT EXISTS (SELECT 1 FROM pg_attribute a2 WHERE a2.attrelid = tbl
                          AND a2.attname = m.column_name AND NOT a2.attisdropped);
    DELETE FROM privacy.mask_rules m
     WHERE m.relid = tbl AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = tbl
             AND a.attname = m.column_name AND a.attnum > 0 AND NOT a.attisdropped);

    -- Every column is masked: one without rules is redacted by apply_mask,
    -- so a column added later is never shown in clear by accident.
    FOR c IN SELECT a.attname
               FROM pg_attribute a
              WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum
    LOOP
        cols := cols || CASE WHEN cols = '' THEN '' ELSE ', ' END ||
                format('privacy.apply_mask(%I, %L::pg_catalog.regclass, %L::pg_catalog.name) AS %I',
                       c.attname, tbl::text, c.attname, c.attname);
        new_cols := new_cols || c.attname;
    END LOOP;
    -- The consent filter and the table's own policies (41_) are the view's
    -- own: inside the security barrier, so the predicates and functions of
    -- a reader see only rows they let through, and whoever owns the view (a
    -- superuser bypasses the table's policies) its readers see the rows the
    -- policies would show them.
    query := format('SELECT %s FROM %s', cols, tbl)
             || CASE WHEN filter IS NULL THEN '' ELSE ' WHERE ' || filter END;

    IF existing IS NOT NULL THEN
        -- A renamed table: the view follows, unless the name is taken.
        IF existing::text <> target AND to_regclass(target) IS NULL THEN
            EXECUTE format('ALTER VIEW %s RENAME TO %I', existing, relname);
        ELSIF existing::text <> target THEN
            RAISE WARNING 'masking view % keeps its name: % already exists', existing, target;
            target := existing::text;
        END IF;
        view_oid := existing;
        SELECT array_agg(a.attname ORDER BY a.attnum) INTO old_cols FROM pg_attribute a
         WHERE a.attrelid = view_oid AND a.attnum > 0 AND NOT a.attisdropped;
        -- Columns keep their places: a column of the view whose name is not
        -- the table's column at that place was renamed (in two steps, so
        -- that names can trade places).  Only appended columns are new.
        BEGIN
            IF cardinality(old_cols) <= cardinality(new_cols) THEN
                FOR i IN 1 .. cardinality(old_cols) LOOP
                    IF old_cols[i] <> new_cols[i] THEN
                        EXECUTE format('ALTER VIEW %s RENAME COLUMN %I TO %I',
                                       target, old_cols[i], 'px_renaming_' || i);
                    END IF;
                END LOOP;
                FOR i IN 1 .. cardinality(old_cols) LOOP
                    IF old_cols[i] <> new_cols[i] THEN
                        EXECUTE format('ALTER VIEW %s RENAME COLUMN %I TO %I',
                                       target, 'px_renaming_' || i, new_cols[i]);
                    END IF;
                END LOOP;
                EXECUTE format('CREATE OR REPLACE VIEW %s WITH (security_barrier = true) AS %s',
                               target, query);
                replaced := true;
            END IF;
        EXCEPTION WHEN invalid_table_definition OR datatype_mismatch OR feature_not_supported THEN
            replaced := false;      -- a column changed type: rebuild below
        END;
        IF NOT replaced AND in_place_only THEN
            RAISE EXCEPTION 'masking view % cannot be changed in place', target
                USING ERRCODE = 'invalid_table_definition';
        END IF;
        IF NOT replaced THEN
            SELECT k.relowner, k.relacl INTO owner_oid, acl FROM pg_class k WHERE k.oid = view_oid;
            dependents := privacy.masking_view_dependents(view_oid);
            IF dependents IS NOT NULL THEN
                RAISE EXCEPTION 'cannot rebuild masking view %: other objects depend on it', target
                    USING ERRCODE = 'dependent_objects_still_exist',
                          DETAIL = format('Depending on it: %s.', dependents),
                          HINT = 'Drop the dependent objects (they can be created again afterwards), then repeat the command; nothing was changed.';
            END IF;
            EXECUTE format('DROP VIEW %s', target);
        END IF;
    ELSIF to_regclass(target) IS NOT NULL THEN
        RAISE EXCEPTION 'relation % already exists', target USING ERRCODE = 'duplicate_table',
            HINT = 'Masking views are named after their tables, in schema masked: a table of the same name in another schema has it.';
    END IF;

    IF NOT replaced THEN
        EXECUTE format('CREATE VIEW %s WITH (security_barrier = true) AS %s', target, query);
        -- Back with the owner and the grants it had (the owner's own first).
        IF owner_oid IS NOT NULL THEN
            IF owner_oid <> (SELECT k.relowner FROM pg_class k WHERE k.oid = to_regclass(target)) THEN
                EXECUTE format('ALTER VIEW %s OWNER TO %s', target, owner_oid::regrole);
            END IF;
            IF acl IS NOT NULL THEN
                EXECUTE format('REVOKE ALL ON %s FROM %s', target, owner_oid::regrole);
                FOR r IN SELECT x.grantee, x.is_grantable,
                                string_agg(x.privilege_type, ', ') AS privs, min(u.ord) AS ord
                           FROM unnest(acl) WITH ORDINALITY u(item, ord),
                                LATERAL aclexplode(ARRAY[u.item]) x
                          GROUP BY x.grantee, x.is_grantable ORDER BY min(u.ord), x.is_grantable
                LOOP
                    EXECUTE format('GRANT %s ON %s TO %s%s', r.privs, target,
                                   CASE WHEN r.grantee = 0 THEN 'PUBLIC'
                                        ELSE r.grantee::regrole::text END,
                                   CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
                END LOOP;
            END IF;
        END IF;
    END IF;

    INSERT INTO privacy.masking_views (relid, view_name) VALUES (tbl, target)
    ON CONFLICT (relid) DO UPDATE SET view_name = EXCLUDED.view_name;
    PERFORM privacy.masking_view_drop_unused_policies(tbl);
    IF regrant OR (existing IS NULL AND restore_owner IS NULL) THEN
        FOR r IN SELECT m.role_name FROM privacy.masked_roles m LOOP
            EXECUTE format('GRANT SELECT ON %s TO %I', target, r.role_name);
        END LOOP;
    END IF;
    RETURN target;
END
$$;
