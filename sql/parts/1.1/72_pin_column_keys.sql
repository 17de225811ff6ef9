-- CREATE TABLE ... AS and SELECT ... INTO with encrypted expressions: a
-- result column that names no key takes the key its values are already
-- under (privacy.encrypt(v, 'hr') gives an encrypted_text under 'hr'), so
-- the values are kept as they are and the column names their key.  Values
-- under several keys, or none at all with no privacy.default_key, are
-- refused with a hint, and the statement stores nothing.
--
-- Arrays of an encrypted type are pinned like the type (the key applies to
-- the elements).  A domain or a composite type over an encrypted type must
-- name the key itself: its values are stored as typed, so one declared
-- without a key would keep unbound (transit) values that no key's grants
-- protect and no destruction shreds.
CREATE OR REPLACE FUNCTION privacy.pin_column_keys() RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col record;
    default_key text := pg_catalog.current_setting('privacy.default_key', true);
    pinned text;
    key_ids int4[];
BEGIN
    -- Domains over an encrypted type (or an array of one) must name a key.
    FOR col IN
        SELECT t.oid::regtype AS dom, format_type(t.typbasetype, NULL) AS typname
          FROM pg_event_trigger_ddl_commands() cmd
          JOIN pg_type t ON t.oid = cmd.objid
         WHERE cmd.classid = 'pg_type'::regclass AND t.typtype = 'd' AND t.typtypmod < 0
           AND t.typbasetype IN (SELECT e.oid FROM pg_type e
                                  WHERE e.oid IN ('privacy.encrypted_text'::regtype,
                                                  'privacy.encrypted_bytea'::regtype,
                                                  'privacy.encrypted_text_det'::regtype)
                                 UNION ALL
                                 SELECT e.typarray FROM pg_type e
                                  WHERE e.oid IN ('privacy.encrypted_text'::regtype,
                                                  'privacy.encrypted_bytea'::regtype,
                                                  'privacy.encrypted_text_det'::regtype))
    LOOP
        RAISE EXCEPTION 'domain % over % needs an encryption key', col.dom, col.typname
            USING ERRCODE = 'PXK01',
                  HINT = format('Declare it over %s(''keyname'').', regexp_replace(col.typname, '\[\]$', ''));
    END LOOP;
    -- Attributes of a composite type likewise: CREATE TYPE reports the
    -- type, ALTER TYPE ... ADD or ALTER ATTRIBUTE its relation (relkind c).
    FOR col IN
        SELECT c.reltype::regtype AS typ, a.attname
          FROM pg_event_trigger_ddl_commands() cmd
          JOIN pg_class c ON c.relkind = 'c'
                         AND c.oid = CASE WHEN cmd.classid = 'pg_type'::regclass
                                          THEN (SELECT t.typrelid FROM pg_type t
                                                 WHERE t.oid = cmd.objid AND t.typtype = 'c')
                                          WHEN cmd.classid = 'pg_class'::regclass THEN cmd.objid END
          JOIN pg_attribute a ON a.attrelid = c.oid
         WHERE a.attnum > 0 AND NOT a.attisdropped AND a.atttypmod < 0
           AND (a.atttypid IN ('privacy.encrypted_text'::regtype, 'privacy.encrypted_bytea'::regtype,
                               'privacy.encrypted_text_det'::regtype)
                OR a.atttypid IN (SELECT e.typarray FROM pg_type e
                                   WHERE e.oid IN ('privacy.encrypted_text'::regtype,
                                                   'privacy.encrypted_bytea'::regtype,
                                                   'privacy.encrypted_text_det'::regtype)))
    LOOP
        RAISE EXCEPTION 'attribute % of type % needs an encryption key', col.attname, col.typ
            USING ERRCODE = 'PXK01',
                  HINT = 'Declare it as privacy.encrypted_text(''keyname'') (or the type it uses).';
    END LOOP;
    FOR col IN
        SELECT DISTINCT c.oid::regclass AS rel, c.relkind, a.attname,
               format_type(coalesce(nullif(e.typelem, 0), a.atttypid), NULL) AS typname,
               e.typelem <> 0 AS is_array, cmd.command_tag
          FROM pg_event_trigger_ddl_commands() cmd
          JOIN pg_class c ON c.oid = cmd.objid
          JOIN pg_attribute a ON a.attrelid = c.oid
          JOIN pg_type e ON e.oid = a.atttypid
         WHERE cmd.classid = 'pg_class'::regclass
           AND c.relkind IN ('r', 'p', 'm', 'f')
           AND a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypmod < 0
           AND coalesce(nullif(e.typelem, 0), a.atttypid) IN ('privacy.encrypted_text'::regtype,
                                                            'privacy.encrypted_bytea'::regtype,
                                                            'privacy.encrypted_text_det'::regtype)
           AND (e.typelem = 0 OR e.typcategory = 'A')
    LOOP
        pinned := NULL;
        IF col.command_tag IN ('CREATE TABLE AS', 'SELECT INTO', 'CREATE MATERIALIZED VIEW') THEN
            -- The keys the stored values are under (their envelopes say so;
            -- no decryption, no key grant needed).  0 marks an unbound
            -- literal, which the default key binds like any other column's.
            IF col.is_array THEN
                EXECUTE format('SELECT array_agg(DISTINCT privacy.envelope_key_id(v)) FROM %s, unnest(%I) v',
                               col.rel, col.attname) INTO key_ids;
            ELSE
                EXECUTE format('SELECT array_agg(DISTINCT privacy.envelope_key_id(%I)) FROM %s',
                               col.attname, col.rel) INTO key_ids;
            END IF;
            key_ids := array_remove(key_ids, 0);
            IF cardinality(key_ids) > 1 THEN
                RAISE EXCEPTION 'column % of % holds values under % different keys',
                                col.attname, col.rel, cardinality(key_ids)
                    USING ERRCODE = 'PXK03',
                          HINT = format('Cast the expression to %s(''keyname'') in the defining query: '
                                        'privacy.decrypt(value)::%s(''keyname'') re-encrypts under one key.',
                                        col.typname, col.typname);
            ELSIF cardinality(key_ids) = 1 THEN
                SELECT k.name INTO pinned FROM privacy.keys k WHERE k.id = key_ids[1];
            END IF;
        END IF;
        IF pinned IS NULL THEN
            IF coalesce(default_key, '') = '' THEN
                RAISE EXCEPTION 'column % of % needs an encryption key', col.attname, col.rel
                    USING ERRCODE = 'PXK01',
                          HINT = format('Declare it as %s(''keyname''), or set privacy.default_key.',
                                        col.typname);
            END IF;
            pinned := default_key;
        END IF;
        IF col.relkind NOT IN ('r', 'p') THEN
            RAISE EXCEPTION 'column % of % needs an encryption key', col.attname, col.rel
                USING ERRCODE = 'PXK01',
                      HINT = format('Cast the column to %s(%L) in the defining query.',
                                    col.typname, pinned);
        END IF;
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I TYPE %s(%L)%s',
                       col.rel, col.attname, col.typname, pinned,
                       CASE WHEN col.is_array THEN '[]' ELSE '' END);
    END LOOP;
    -- A column (or composite attribute) whose type reaches an encrypted
    -- type that names no key other than as itself or its arrays (pinned
    -- above): through the fields of a relation's row type (a view's: a
    -- view stores nothing, so its columns are not pinned) or a domain over
    -- one.  Its values would be stored as typed, unbound (transit), which
    -- any key holder reads after a cast to their own key.  Also the
    -- columns of the row type of a view the command made or replaced:
    -- CREATE OR REPLACE VIEW adds columns to a row type tables may store.
    -- Runs after the pinning, which may key the fields it would report.
    FOR col IN
        WITH rels AS (
            SELECT k.oid, k.reltype
              FROM pg_event_trigger_ddl_commands() cmd
              JOIN pg_class k ON k.oid = CASE WHEN cmd.classid = 'pg_type'::regclass
                                              THEN (SELECT t.typrelid FROM pg_type t WHERE t.oid = cmd.objid)
                                              WHEN cmd.classid = 'pg_class'::regclass THEN cmd.objid END
        ), cols AS (
            SELECT a.attrelid, a.attname, a.atttypid, a.atttypmod
              FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid
             WHERE a.attnum > 0 AND NOT a.attisdropped
            UNION
            SELECT a.attrelid, a.attname, a.atttypid, a.atttypmod
              FROM rels r
              JOIN pg_type rt ON rt.oid = r.reltype
              JOIN pg_attribute a ON a.atttypid IN (rt.oid, rt.typarray)
             WHERE a.attnum > 0 AND NOT a.attisdropped
        )
        SELECT DISTINCT c.attrelid::regclass AS rel, k.relkind, c.attname,
               format_type(c.atttypid, c.atttypmod) AS typname
          FROM cols c
          JOIN pg_class k ON k.oid = c.attrelid AND k.relkind IN ('r', 'p', 'm', 'f', 'c')
          JOIN pg_type e ON e.oid = c.atttypid
         WHERE coalesce(nullif(e.typelem, 0), c.atttypid) NOT IN ('privacy.encrypted_text'::regtype,
                                                                 'privacy.encrypted_bytea'::regtype,
                                                                 'privacy.encrypted_text_det'::regtype)
           AND EXISTS (SELECT 1 FROM privacy.type_encryption(c.atttypid, c.atttypmod) w WHERE w.key_id < 0)
         ORDER BY 1, 3
         LIMIT 1
    LOOP
        RAISE EXCEPTION '% % of % needs an encryption key',
                        CASE WHEN col.relkind = 'c' THEN 'attribute' ELSE 'column' END, col.attname,
                        CASE WHEN col.relkind = 'c' THEN format('type %s', col.rel) ELSE col.rel::text END
            USING ERRCODE = 'PXK01',
                  DETAIL = format('Its type %s holds an encrypted field that names no key: its values would be stored unbound, readable under any key.',
                                  col.typname),
                  HINT = 'Declare the encrypted fields of the type with their key (for a view''s row type, cast the column to privacy.encrypted_text(''keyname'') in its defining query).';
    END LOOP;
    -- A range over an encrypted type: its bounds are stored encrypted
    -- inside the range, where no key's scans (privacy.encrypted_columns,
    -- drop_key_version, destroy_key) follow them, and with no key of their
    -- own (a range's subtype carries no typmod).
    FOR col IN
        SELECT r.rngtypid::regtype AS typ, r.rngsubtype::regtype AS sub
          FROM pg_event_trigger_ddl_commands() cmd
          JOIN pg_range r ON r.rngtypid = cmd.objid
         WHERE cmd.classid = 'pg_type'::regclass
           AND EXISTS (SELECT 1 FROM privacy.type_encryption(r.rngsubtype, -1))
         LIMIT 1
    LOOP
        RAISE EXCEPTION 'range type % cannot be over encrypted type %', col.typ, col.sub
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Store the bounds in two encrypted columns.';
    END LOOP;
END
$$;
-- CREATE SCHEMA ... CREATE TABLE / CREATE VIEW: the command's tag is
-- CREATE SCHEMA, and pg_event_trigger_ddl_commands() reports each element
-- with its own tag, so the function sees them as if run alone.
DROP EVENT TRIGGER privacy_pin_column_keys;
CREATE EVENT TRIGGER privacy_pin_column_keys ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE',
                 'CREATE MATERIALIZED VIEW', 'CREATE FOREIGN TABLE', 'CREATE DOMAIN', 'CREATE TYPE',
                 'ALTER DOMAIN', 'ALTER TYPE', 'CREATE VIEW', 'CREATE SCHEMA')
    EXECUTE FUNCTION privacy.pin_column_keys();
