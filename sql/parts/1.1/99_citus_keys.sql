-- Citus: a cluster-wide key store (README, "Running on Citus").  On a Citus
-- coordinator with workers, every change of the extension's replicated
-- tables is shipped, in the same distributed transaction, to every node
-- through the reference table privacy.cluster_sync (created on first need,
-- not by this script: it must be a Citus reference table, and Citus may be
-- created after privacy_ext).  A trigger on each node's placement applies
-- the change to the node's own tables and stores nothing
-- (src/citus/sync_ship.c, src/citus/sync_apply.c).  Without Citus, the
-- capture triggers' WHEN condition is false and nothing else runs.

-- The tables each node needs, in the order a full copy applies them:
-- those of privacy.replicated_tables() but the consent history, which
-- stays at the coordinator (where requests and reports read it).
CREATE FUNCTION privacy.citus_replicated_tables() RETURNS SETOF regclass
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT t FROM privacy.replicated_tables() t
     WHERE t OPERATOR(pg_catalog.<>) 'privacy.consent_events'::regclass
$$;

-- The workers the coordinator has given a full copy of the tables to
-- (pg_dist_node.nodeid); a node missing here gets one with the next change.
CREATE TABLE privacy.citus_synced_nodes (
    nodeid      int4 PRIMARY KEY,
    synced_at   timestamptz NOT NULL DEFAULT pg_catalog.now()
);
REVOKE ALL ON privacy.citus_synced_nodes FROM PUBLIC;

CREATE FUNCTION privacy.citus_ship_here() RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_citus_ship_here' LANGUAGE C VOLATILE;
CREATE FUNCTION privacy.citus_sync_capture() RETURNS trigger
    AS 'MODULE_PATHNAME', 'px_citus_sync_capture' LANGUAGE C;
CREATE FUNCTION privacy.citus_sync_apply() RETURNS trigger
    AS 'MODULE_PATHNAME', 'px_citus_sync_apply' LANGUAGE C;
CREATE FUNCTION privacy.citus_wipe_key_version(key_id int4, version int4) RETURNS void
    AS 'MODULE_PATHNAME', 'px_citus_wipe_key_version' LANGUAGE C STRICT VOLATILE;
-- citus_ship_here() stays callable by everyone: the capture triggers'
-- WHEN condition runs it as whoever writes to the tables.
REVOKE ALL ON FUNCTION privacy.citus_wipe_key_version(int4, int4) FROM PUBLIC;

-- Ships one change: a row of privacy.cluster_sync, which Citus writes to
-- every node's placement.  Run as the extension's owner (the capture
-- trigger switches to it); nobody else may write to that table.
CREATE FUNCTION privacy.citus_ship(table_name text, op text, old_row jsonb, new_row jsonb)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    origin int4 := (SELECT groupid FROM pg_catalog.pg_dist_local_group);
BEGIN
    INSERT INTO privacy.cluster_sync (origin, table_name, op, old_row, new_row)
    VALUES (origin, table_name, op, old_row, new_row);
END
$$;

-- A row image as JSON: regclass columns come out schema-qualified and
-- regrole ones by name (this search_path), for each node to resolve.
CREATE FUNCTION privacy.citus_ship_row(table_name text, op text, old_row anyelement, new_row anyelement)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM privacy.citus_ship(table_name, op, to_jsonb(old_row), to_jsonb(new_row));
END
$$;

-- A full copy of the replicated tables, to every node: each node empties
-- its tables (TRUNCATE: a lock for the rest of the transaction) and refills
-- them (in chunks), except
-- that key material the coordinator no longer has is first overwritten in
-- place there.
CREATE FUNCTION privacy.citus_push_snapshot() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t regclass;
    n bigint;
    chunk jsonb;
BEGIN
    FOR t, n IN SELECT * FROM privacy.citus_replicated_tables() WITH ORDINALITY ORDER BY 2 DESC LOOP
        PERFORM privacy.citus_ship((SELECT relname FROM pg_class WHERE oid = t), 'RESET', NULL,
            CASE WHEN t = 'privacy.data_key_versions'::regclass THEN
                -- The versions that still have material, for each node to
                -- compare with what it holds.
                (SELECT coalesce(jsonb_agg(jsonb_build_object('key_id', v.key_id, 'version', v.version)), '[]')
                   FROM privacy.data_key_versions v WHERE v.wrapped_key IS NOT NULL)
            END);
    END LOOP;
    FOR t IN SELECT * FROM privacy.citus_replicated_tables() LOOP
        FOR chunk IN EXECUTE format(
            'SELECT jsonb_agg(j) FROM (SELECT to_jsonb(r) AS j, (row_number() OVER () - 1) / 2000 AS g'
            ' FROM %s r) s GROUP BY g ORDER BY g', t)
        LOOP
            PERFORM privacy.citus_ship((SELECT relname FROM pg_class WHERE oid = t), 'ROWS', NULL, chunk);
        END LOOP;
    END LOOP;
END
$$;

-- Run by the first change of each transaction on the coordinator: makes
-- the reference table if there is none, and gives every worker not yet
-- given one a full copy.  Returns how many workers got one.
CREATE FUNCTION privacy.citus_sync_prepare() RETURNS int4
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    unsynced int4;
    unplaced text;
    unsafe_triggers text;
BEGIN
    -- One transaction at a time sets up or copies.
    PERFORM pg_advisory_xact_lock(pg_catalog.hashtext('privacy_ext cluster sync'));
    IF to_regclass('privacy.cluster_sync') IS NULL THEN
        CREATE TABLE privacy.cluster_sync (
            origin      int4 NOT NULL,
            table_name  text NOT NULL,
            op          text NOT NULL,
            old_row     jsonb,
            new_row     jsonb
        );
        REVOKE ALL ON privacy.cluster_sync FROM PUBLIC;
        COMMENT ON TABLE privacy.cluster_sync IS
            'privacy_ext: changes of its tables shipped from the Citus coordinator to every node; always empty';
        PERFORM create_reference_table('privacy.cluster_sync');
        -- Citus refuses triggers on reference tables unless told; this one
        -- is the point of the table, and it stores nothing.
        unsafe_triggers := current_setting('citus.enable_unsafe_triggers');
        PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
        CREATE TRIGGER apply_change BEFORE INSERT ON privacy.cluster_sync
            FOR EACH ROW EXECUTE FUNCTION privacy.citus_sync_apply();
        PERFORM set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
    ELSIF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'privacy.cluster_sync'::regclass) THEN
        -- A plain table (a dump restored onto a new coordinator): shipping
        -- into it would reach no node.
        unsafe_triggers := current_setting('citus.enable_unsafe_triggers');
        PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
        PERFORM create_reference_table('privacy.cluster_sync');
        PERFORM set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
    END IF;
    -- A node disabled since its copy may have missed changes.
    DELETE FROM privacy.citus_synced_nodes s
     WHERE NOT EXISTS (SELECT 1 FROM pg_dist_node n
                        WHERE n.nodeid = s.nodeid AND n.isactive AND n.noderole = 'primary');
    SELECT count(*) INTO unsynced FROM pg_dist_node n
     WHERE n.isactive AND n.noderole = 'primary' AND n.groupid <> 0
       AND NOT EXISTS (SELECT 1 FROM privacy.citus_synced_nodes s WHERE s.nodeid = n.nodeid);
    IF unsynced = 0 THEN
        RETURN 0;
    END IF;
    -- A node added after the table was made has no placement of it until
    -- Citus copies the reference tables (replicate_reference_tables(), or
    -- privacy.citus_sync() which runs it).
    SELECT string_agg(format('%s:%s', n.nodename, n.nodeport), ', ') INTO unplaced
      FROM pg_dist_node n
     WHERE n.isactive AND n.noderole = 'primary'
       AND NOT EXISTS (SELECT 1 FROM pg_dist_placement p JOIN pg_dist_shard d ON d.shardid = p.shardid
                        WHERE d.logicalrelid = 'privacy.cluster_sync'::regclass AND p.groupid = n.groupid);
    IF unplaced IS NOT NULL THEN
        RAISE EXCEPTION 'privacy_ext cannot reach Citus node % yet', unplaced
            USING ERRCODE = '55000',
                  DETAIL = 'The node was added after privacy.cluster_sync was made and has no placement of it.',
                  HINT = 'Run SELECT privacy.citus_sync() on the coordinator, outside a transaction block.';
    END IF;
    PERFORM privacy.citus_push_snapshot();
    INSERT INTO privacy.citus_synced_nodes (nodeid)
    SELECT n.nodeid FROM pg_dist_node n
     WHERE n.isactive AND n.noderole = 'primary' AND n.groupid <> 0
    ON CONFLICT (nodeid) DO UPDATE SET synced_at = EXCLUDED.synced_at;
    RETURN unsynced;
END
$$;

-- privacy.citus_sync(): on the coordinator, gives every node a full copy of
-- the replicated tables now (after citus_add_node, or to repair a node);
-- returns how many workers it reached.  Outside a transaction block, so
-- that Citus may first copy the reference table to new nodes.
CREATE FUNCTION privacy.citus_sync() RETURNS int4
    AS 'MODULE_PATHNAME', 'px_citus_sync' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION privacy.citus_sync() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.citus_sync() TO privacy_admin;

-- A row image shipped by the coordinator, as this node names things: NULL
-- when it names a relation this node does not have (nothing to apply) or
-- a dropped role; regclass[] elements this node lacks are left out, and a
-- masking rule's attnum is this node's.
CREATE FUNCTION privacy.citus_local_row(rel regclass, r jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    n int2;
BEGIN
    IF r IS NULL THEN
        RETURN NULL;
    END IF;
    FOR a IN SELECT attname, atttypid FROM pg_attribute
              WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped
                AND atttypid IN ('regclass'::regtype, 'regclass[]'::regtype, 'regrole'::regtype)
    LOOP
        CONTINUE WHEN r->a.attname IS NULL OR jsonb_typeof(r->a.attname) = 'null';
        IF a.atttypid = 'regclass'::regtype THEN
            IF to_regclass(r->>a.attname) IS NULL OR r->>a.attname ~ '^[0-9]+$' THEN
                RETURN NULL;
            END IF;
        ELSIF a.atttypid = 'regrole'::regtype THEN
            IF r->>a.attname ~ '^[0-9]+$' THEN
                RETURN NULL;
            END IF;
        ELSE
            r := jsonb_set(r, ARRAY[a.attname::text],
                           (SELECT coalesce(jsonb_agg(e), '[]') FROM jsonb_array_elements_text(r->a.attname) e
                             WHERE to_regclass(e) IS NOT NULL AND e !~ '^[0-9]+$'));
        END IF;
    END LOOP;
    IF rel = 'privacy.mask_rules'::regclass THEN
        SELECT attnum INTO n FROM pg_attribute
         WHERE attrelid = to_regclass(r->>'relid') AND attname = r->>'column_name' AND NOT attisdropped;
        IF n IS NULL THEN
            RETURN NULL;
        END IF;
        r := jsonb_set(r, '{attnum}', to_jsonb(n));
    END IF;
    RETURN r;
END
$$;

-- Applies one shipped change to this node's table (run by the trigger on
-- privacy.cluster_sync's placement, src/citus/sync_apply.c).  Rows are
-- found by the table's primary key (its unique key for mask_rules); an
-- insert of a row the node has, or an update of one it lacks, leaves the
-- node with the coordinator's row.  The references between the tables
-- (config_refs.c) were checked at the coordinator: a node loads rows in
-- the order they come, as a restore does (check_function_bodies off, for
-- an owner that is superuser).
CREATE FUNCTION privacy.citus_apply_change(table_name text, op text, old_row jsonb, new_row jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp SET check_function_bodies = off AS $$
DECLARE
    rel regclass;
    keys text[];
    cols text[];
    match text;
    upsert text;
    r jsonb;
    o jsonb;
    v record;
    done bigint;
BEGIN
    SELECT t INTO rel FROM privacy.citus_replicated_tables() t
     WHERE t = to_regclass('privacy.' || quote_ident(citus_apply_change.table_name));
    IF rel IS NULL THEN
        RAISE EXCEPTION 'privacy_ext does not replicate table "%"', citus_apply_change.table_name
            USING ERRCODE = '22023';
    END IF;
    SELECT array_agg(a.attname::text ORDER BY k.ord),
           string_agg(format(CASE WHEN a.attnotnull THEN 't.%1$I = o.%1$I'
                                  ELSE 't.%1$I IS NOT DISTINCT FROM o.%1$I' END, a.attname),
                      ' AND ' ORDER BY k.ord)
      INTO keys, match
      FROM (SELECT i.indkey FROM pg_index i WHERE i.indrelid = rel AND i.indisunique
             ORDER BY i.indisprimary DESC, i.indexrelid LIMIT 1) i,
           unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
      JOIN pg_attribute a ON a.attrelid = rel AND a.attnum = k.attnum;
    SELECT array_agg(attname::text ORDER BY attnum) INTO cols FROM pg_attribute
     WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped;
    upsert := format('INSERT INTO %s SELECT * FROM jsonb_populate_record(NULL::%s, $1)'
                     ' ON CONFLICT (%s) DO UPDATE SET (%s) = ROW(%s)',
                     rel, rel,
                     (SELECT string_agg(quote_ident(c), ', ') FROM unnest(keys) c),
                     (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) c),
                     (SELECT string_agg('EXCLUDED.' || quote_ident(c), ', ') FROM unnest(cols) c));

    IF op = 'INSERT' THEN
        r := privacy.citus_local_row(rel, new_row);
        IF r IS NOT NULL THEN
            EXECUTE upsert USING r;
        END IF;
    ELSIF op IN ('UPDATE', 'DELETE') THEN
        o := privacy.citus_local_row(rel, old_row);
        r := privacy.citus_local_row(rel, new_row);
        IF o IS NOT NULL THEN
            -- Key material going away is overwritten in place first, as
            -- destroy_key and drop_key_version do on the coordinator.
            IF rel = 'privacy.data_key_versions'::regclass AND o->>'wrapped_key' IS NOT NULL
               AND (op = 'DELETE' OR r->>'wrapped_key' IS NULL) THEN
                PERFORM privacy.citus_wipe_key_version((o->>'key_id')::int4, (o->>'version')::int4);
            END IF;
            IF op = 'DELETE' THEN
                EXECUTE format('DELETE FROM %s t USING jsonb_populate_record(NULL::%s, $1) o WHERE %s',
                               rel, rel, match) USING o;
            ELSE
                EXECUTE format('UPDATE %s t SET (%s) = (SELECT %s FROM jsonb_populate_record(NULL::%s, $2) n)'
                               ' FROM jsonb_populate_record(NULL::%s, $1) o WHERE %s',
                               rel,
                               (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) c),
                               (SELECT string_agg('n.' || quote_ident(c), ', ') FROM unnest(cols) c),
                               rel, rel, match) USING o, r;
                GET DIAGNOSTICS done = ROW_COUNT;
                IF done = 0 AND r IS NOT NULL THEN
                    EXECUTE upsert USING r;
                END IF;
            END IF;
        ELSIF op = 'UPDATE' AND r IS NOT NULL THEN
            EXECUTE upsert USING r;
        END IF;
    ELSIF op = 'WIPE' THEN
        PERFORM privacy.citus_wipe_key_version((new_row->>'key_id')::int4, (new_row->>'version')::int4);
    ELSIF op = 'TRUNCATE' THEN
        EXECUTE format('TRUNCATE %s', rel);
    ELSIF op = 'RESET' THEN
        IF rel = 'privacy.data_key_versions'::regclass THEN
            -- Material this node holds that the coordinator no longer has.
            FOR v IN SELECT l.key_id, l.version FROM privacy.data_key_versions l
                      WHERE l.wrapped_key IS NOT NULL
                        AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(new_row) e
                                         WHERE (e->>'key_id')::int4 = l.key_id
                                           AND (e->>'version')::int4 = l.version)
            LOOP
                PERFORM privacy.citus_wipe_key_version(v.key_id, v.version);
            END LOOP;
        END IF;
        -- TRUNCATE: no row triggers, so no reference checks between tables
        -- that are all being refilled; the statement triggers invalidate
        -- the caches.
        EXECUTE format('TRUNCATE %s', rel);
    ELSIF op = 'ROWS' THEN
        FOR r IN SELECT e FROM jsonb_array_elements(new_row) e LOOP
            r := privacy.citus_local_row(rel, r);
            IF r IS NOT NULL THEN
                EXECUTE upsert USING r;
            END IF;
        END LOOP;
    ELSE
        RAISE EXCEPTION 'unknown privacy_ext change "%"', op USING ERRCODE = '22023';
    END IF;
END
$$;

REVOKE ALL ON FUNCTION privacy.citus_ship(text, text, jsonb, jsonb),
    privacy.citus_ship_row(text, text, anyelement, anyelement),
    privacy.citus_push_snapshot(), privacy.citus_sync_prepare(),
    privacy.citus_local_row(regclass, jsonb),
    privacy.citus_apply_change(text, text, jsonb, jsonb) FROM PUBLIC;

-- The capture triggers: on every replicated table; their WHEN condition
-- (a Citus coordinator with workers, not applying a shipped change) keeps
-- them out of the way everywhere else.
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT * FROM privacy.citus_replicated_tables() LOOP
        EXECUTE format('CREATE TRIGGER citus_sync AFTER INSERT OR UPDATE OR DELETE ON %s'
                       ' FOR EACH ROW WHEN (privacy.citus_ship_here())'
                       ' EXECUTE FUNCTION privacy.citus_sync_capture()', t);
        EXECUTE format('CREATE TRIGGER citus_sync_truncate AFTER TRUNCATE ON %s'
                       ' FOR EACH STATEMENT WHEN (privacy.citus_ship_here())'
                       ' EXECUTE FUNCTION privacy.citus_sync_capture()', t);
    END LOOP;
END
$$;
