-- CREATE TABLE ... AS and SELECT ... INTO with encrypted expressions: a
-- result column that names no key takes the key its values are already
-- under (privacy.encrypt(v, 'hr') gives an encrypted_text under 'hr'), so
-- the values are kept as they are and the column names their key.  Values
-- under several keys, or none at all with no privacy.default_key, are
-- refused with a hint, and the statement stores nothing.
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
    FOR col IN
        SELECT DISTINCT c.oid::regclass AS rel, c.relkind, a.attname,
               format_type(a.atttypid, NULL) AS typname, cmd.command_tag
          FROM pg_event_trigger_ddl_commands() cmd
          JOIN pg_class c ON c.oid = cmd.objid
          JOIN pg_attribute a ON a.attrelid = c.oid
         WHERE cmd.classid = 'pg_class'::regclass
           AND c.relkind IN ('r', 'p', 'm', 'f')
           AND a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypmod < 0
           AND a.atttypid IN ('privacy.encrypted_text'::regtype,
                              'privacy.encrypted_bytea'::regtype,
                              'privacy.encrypted_text_det'::regtype)
    LOOP
        pinned := NULL;
        IF col.command_tag IN ('CREATE TABLE AS', 'SELECT INTO', 'CREATE MATERIALIZED VIEW') THEN
            -- The keys the stored values are under (their envelopes say so;
            -- no decryption, no key grant needed).  0 marks an unbound
            -- literal, which the default key binds like any other column's.
            EXECUTE format('SELECT array_agg(DISTINCT privacy.envelope_key_id(%I)) FROM %s',
                           col.attname, col.rel) INTO key_ids;
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
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I TYPE %s(%L)',
                       col.rel, col.attname, col.typname, pinned);
    END LOOP;
END
$$;
