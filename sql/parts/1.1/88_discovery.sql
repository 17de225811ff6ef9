-- Discovery of personal data and re-identification risk (issue 18):
-- privacy.detect_personal_data() samples the text-like columns of every
-- user table and judges each by its values (recognisers in C,
-- src/core/detect.c, called through src/discovery/recognise.c) and its
-- name; privacy.adopt_finding() / adopt_findings() turn findings into
-- classify and set_mask declarations; privacy.k_anonymity() measures a
-- table or masking view, and the inventory shows k for each table whose
-- quasi-identifiers are declared with privacy.set_quasi_identifiers().

-- The per-value and per-column pieces, in C.  They return category bits
-- and counts only, never a value.
CREATE FUNCTION privacy.detect_value_categories(value text) RETURNS integer
    AS 'MODULE_PATHNAME', 'px_detect_value_categories' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy.detect_number_categories(value text) RETURNS integer
    AS 'MODULE_PATHNAME', 'px_detect_number_categories' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy.detect_jsonb_categories(value jsonb) RETURNS integer
    AS 'MODULE_PATHNAME', 'px_detect_jsonb_categories' LANGUAGE C STABLE STRICT PARALLEL SAFE;
-- json read as json text, dates written in C: no cast that one valid
-- value can fail (json's \u0000 to jsonb, a date past timestamp's range).
CREATE FUNCTION privacy.detect_json_categories(value json) RETURNS integer
    AS 'MODULE_PATHNAME', 'px_detect_json_categories' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy.detect_date_categories(value date) RETURNS integer
    AS 'MODULE_PATHNAME', 'px_detect_date_categories' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy.detect_sampling(column_type regtype) RETURNS text
    AS 'MODULE_PATHNAME', 'px_detect_sampling' LANGUAGE C STABLE STRICT PARALLEL SAFE;
-- One table's sample counts, read as the table's owner in a
-- security-restricted operation (src/discovery/recognise.c): the caller
-- must administer privacy_ext and may read the columns.
CREATE FUNCTION privacy.detect_sample(relation regclass, columns smallint[], sample_rows integer,
                                      percent double precision) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'px_detect_sample' LANGUAGE C VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION privacy.detect_sample(regclass, smallint[], integer, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.detect_sample(regclass, smallint[], integer, double precision) TO privacy_admin;
CREATE FUNCTION privacy.detect_column_score(column_name name, column_type regtype, sampled bigint,
                                            matched bigint[], OUT category text, OUT confidence real)
    AS 'MODULE_PATHNAME', 'px_detect_column_score' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- What a finding's category should be classified as.
CREATE FUNCTION privacy.detect_suggested_level(category text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN category IN ('payment_card', 'iban', 'us_ssn') THEN 'sensitive' ELSE 'personal' END
$$;

-- The masking rule suggested for a finding, one that set_mask accepts for
-- the column's type (privacy.check_mask_rule), else 'null'.  Where the
-- rule kind fake(kind) exists (another branch of 1.1), fake('first_name'),
-- fake('last_name'), fake('email'), fake('phone'), fake('iban') are the
-- better suggestion for names, e-mails, phones and IBANs (realistic and
-- joinable), and jsonb(path rule, ...) for jsonb columns.
CREATE FUNCTION privacy.detect_suggested_rule(category text, column_type regtype) RETURNS text
LANGUAGE plpgsql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sampling text := privacy.detect_sampling(column_type);
    rule text;
BEGIN
    rule := CASE
        WHEN sampling = 'jsonb' THEN 'null'
        WHEN sampling = 'date' THEN 'generalize(''decade'')'
        WHEN sampling = 'number' AND category = 'postal_code' THEN 'generalize(100)'
        WHEN sampling IN ('number', 'inet') THEN 'redact'
        WHEN category = 'email' THEN 'email'
        WHEN category = 'payment_card' THEN 'credit_card'
        WHEN category = 'iban' THEN 'partial(4, ''****'', 4)'
        WHEN category = 'us_ssn' THEN 'partial(0, ''***-**-'', 4)'
        WHEN category = 'phone' THEN 'partial(0, ''******'', 4)'
        WHEN category = 'person_name' THEN 'partial(1, ''***'', 0)'
        WHEN category = 'postal_code' THEN 'partial(2, ''***'', 0)'
        ELSE 'redact' END;
    BEGIN
        RETURN privacy.check_mask_rule(rule, column_type);
    EXCEPTION WHEN invalid_parameter_value OR datatype_mismatch OR invalid_text_representation THEN
        RETURN 'null';
    END;
END
$$;

-- One row per column of a user table that looks like personal data, and
-- one per column already encrypted, classified or masked (category
-- 'encrypted', 'classified' or 'masked', confidence NULL, the column's
-- current level and default rule; encrypted columns are never read).
-- The caller must administer privacy_ext; a column the caller may not
-- select is judged by its name only.  The sample is read as the table's
-- owner in a security-restricted operation (privacy.detect_sample), as
-- ANALYZE reads it: a policy or function of the owner's runs with the
-- owner's rights, not the administrator's, and row level security applies
-- as to the owner (forced policies, the consent policies among them).
CREATE FUNCTION privacy.detect_personal_data(sample_rows integer DEFAULT 1000)
RETURNS TABLE (table_name regclass, column_name name, category text, confidence real,
               suggested_level text, suggested_rule text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rel record;
    col record;
    est float8;
    pct float8;
    attnums smallint[];
    counts jsonb;
    sampled bigint;
    matched bigint[];
    score record;
BEGIN
    PERFORM privacy.require_admin();
    IF sample_rows IS NULL OR sample_rows < 1 THEN
        RAISE EXCEPTION 'sample_rows must be a positive number of rows'
            USING ERRCODE = CASE WHEN sample_rows IS NULL THEN '22004' ELSE '22023' END;
    END IF;
    FOR rel IN
        SELECT c.oid, c.oid::regclass AS relid, c.relkind, c.relispopulated,
               has_schema_privilege(n.oid, 'USAGE') AS reachable
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
           AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'privacy', 'masked')
           AND n.nspname !~ '^pg_toast'
           AND (n.nspname !~ '^pg_temp_' OR n.oid = pg_my_temp_schema())
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
         ORDER BY n.nspname, c.relname
    LOOP
        -- The columns to sample: of a type detection reads, readable by the
        -- caller, and not encrypted, classified or masked already.
        attnums := ARRAY(
            SELECT a.attnum
              FROM pg_attribute a
             WHERE a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
               AND privacy.detect_sampling(a.atttypid) IS NOT NULL
               AND has_column_privilege(rel.oid, a.attnum, 'SELECT')
               AND NOT EXISTS (SELECT 1 FROM privacy.classifications k
                                WHERE k.relid = rel.oid AND k.column_name = a.attname)
               AND NOT EXISTS (SELECT 1 FROM privacy.mask_rules m
                                WHERE m.relid = rel.oid AND m.column_name = a.attname)
             ORDER BY a.attnum);

        counts := '{}';
        -- a materialized view never refreshed has nothing to read; a table
        -- in a schema the caller may not use is judged by names
        IF cardinality(attnums) > 0 AND rel.reachable AND (rel.relkind <> 'm' OR rel.relispopulated) THEN
            -- Block sampling sized from the planner's row estimate (3 times
            -- the rows wanted, for the variance of whole blocks); small
            -- tables are read from the start.
            SELECT coalesce(sum(CASE WHEN pc.reltuples >= 0 THEN pc.reltuples
                                     ELSE pg_relation_size(pc.oid) / 8192.0 * 50 END), 0)
              INTO est
              FROM pg_partition_tree(rel.oid) pt JOIN pg_class pc ON pc.oid = pt.relid
             WHERE pt.isleaf;
            pct := CASE WHEN est <= 10.0 * sample_rows THEN 100
                        ELSE least(100, 300.0 * sample_rows / est) END;
            BEGIN
                counts := privacy.detect_sample(rel.oid, attnums, sample_rows, pct);
            EXCEPTION WHEN OTHERS THEN
                -- the SQLSTATE only: a message could quote a value.  An
                -- error of the sampled read itself (the owner's policies
                -- and casts, which can raise query_canceled or
                -- assert_failure, uncaught here) detect_sample turns into
                -- this WARNING itself; what comes here is its own checks'.
                RAISE WARNING 'could not sample table %, judging its columns by name only (SQLSTATE %)',
                    rel.relid, SQLSTATE;
                counts := '{}';
            END;
            counts := coalesce(counts, '{}');
        END IF;

        FOR col IN
            SELECT a.attnum, a.attname, a.atttypid,
                   EXISTS (SELECT 1 FROM privacy.encrypted_columns e
                            WHERE e.relid = rel.oid AND e.attnum = a.attnum
                              AND e.shape IN ('value', 'array')) AS encrypted,
                   k.level, k.category IS NOT NULL OR k.level IS NOT NULL AS classified,
                   (SELECT m.rule FROM privacy.mask_rules m
                     WHERE m.relid = rel.oid AND m.column_name = a.attname AND m.role_name IS NULL) AS default_rule,
                   EXISTS (SELECT 1 FROM privacy.mask_rules m
                            WHERE m.relid = rel.oid AND m.column_name = a.attname) AS masked
              FROM pg_attribute a
              LEFT JOIN privacy.classifications k ON k.relid = rel.oid AND k.column_name = a.attname
             WHERE a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum
        LOOP
            table_name := rel.relid;
            column_name := col.attname;
            IF col.encrypted OR col.classified OR col.masked THEN
                category := CASE WHEN col.encrypted THEN 'encrypted'
                                 WHEN col.classified THEN 'classified' ELSE 'masked' END;
                confidence := NULL;
                suggested_level := col.level;
                suggested_rule := col.default_rule;
                RETURN NEXT;
                CONTINUE;
            END IF;
            IF privacy.detect_sampling(col.atttypid) IS NULL THEN
                CONTINUE;
            END IF;
            IF counts ? col.attnum::text THEN
                sampled := (counts -> col.attnum::text ->> 0)::bigint;
                matched := ARRAY(SELECT jsonb_array_elements_text(counts -> col.attnum::text -> 1)::bigint);
            ELSE
                sampled := 0;
                matched := '{}';
            END IF;
            score := privacy.detect_column_score(col.attname, col.atttypid, sampled, matched);
            IF score.category IS NOT NULL THEN
                category := score.category;
                confidence := score.confidence;
                suggested_level := privacy.detect_suggested_level(score.category);
                suggested_rule := privacy.detect_suggested_rule(score.category, col.atttypid);
                RETURN NEXT;
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- Adopting a finding: the column classified at the level given (the
-- finding's suggestion by default) and, when a rule is given, masked by
-- default with it.  Findings about columns already handled (classified,
-- masked or of an encrypted type, whatever category the call names) are
-- refused: an adoption never replaces a classification or a rule.
CREATE FUNCTION privacy.adopt_finding(tbl regclass, col name, category text,
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
                 WHEN EXISTS (SELECT 1 FROM privacy.encrypted_columns e
                               WHERE e.relid = tbl AND e.attnum = a.attnum
                                 AND e.shape IN ('value', 'array'))
                   THEN 'encrypted'
                 WHEN EXISTS (SELECT 1 FROM privacy.classifications k
                               WHERE k.relid = tbl AND k.column_name = col) THEN 'classified'
                 WHEN EXISTS (SELECT 1 FROM privacy.mask_rules m
                               WHERE m.relid = tbl AND m.column_name = col) THEN 'masked'
               END
          INTO handled
          FROM pg_attribute a
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

-- Every new finding of at least min_confidence adopted with its
-- suggestions, in one call; returns how many were.
CREATE FUNCTION privacy.adopt_findings(min_confidence real DEFAULT 0.8, sample_rows integer DEFAULT 1000)
RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    f record;
    adopted integer := 0;
BEGIN
    PERFORM privacy.require_admin();
    IF min_confidence IS NULL OR min_confidence < 0 OR min_confidence > 1 THEN
        RAISE EXCEPTION 'min_confidence must be between 0 and 1' USING ERRCODE = '22023';
    END IF;
    FOR f IN SELECT * FROM privacy.detect_personal_data(sample_rows) d
              WHERE d.confidence >= min_confidence
                AND d.category NOT IN ('encrypted', 'classified', 'masked')
    LOOP
        PERFORM privacy.adopt_finding(f.table_name, f.column_name, f.category,
                                      f.suggested_level, f.suggested_rule);
        adopted := adopted + 1;
    END LOOP;
    RETURN adopted;
END
$$;

-- The count behind k_anonymity (src/discovery/group_size.c): the smallest
-- group's size, 0 for no rows, counted as the caller, with code of other
-- roles PostgreSQL runs meanwhile (a partial index predicate the planner
-- folds) run as its owner when the caller is a superuser.
CREATE FUNCTION privacy.min_group_size(relation regclass, columns name[]) RETURNS bigint
    AS 'MODULE_PATHNAME', 'px_min_group_size' LANGUAGE C STRICT VOLATILE;

-- k-anonymity: the size of the smallest group of rows sharing the same
-- values of the quasi-identifiers (NULL is a value like any other), 0 for
-- no rows.  Runs as the caller, on the rows and values the caller sees:
-- through a masking view, the masked (generalized) values; on a table
-- with row level security, the rows its policies show.  NULL for a NULL
-- relation; no columns (a NULL array included) are refused.
CREATE FUNCTION privacy.k_anonymity(relation regclass, quasi_identifiers text[]) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    kind "char";
    populated boolean;
    qi text;
    qtype regtype;
    group_by text := '';
    k bigint;
BEGIN
    IF relation IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT c.relkind, c.relispopulated INTO kind, populated FROM pg_class c WHERE c.oid = relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', relation::oid USING ERRCODE = '42P01';
    END IF;
    IF kind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION '"%" is not a table or view', relation USING ERRCODE = '42809';
    END IF;
    IF NOT has_any_column_privilege(relation, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for relation %', relation USING ERRCODE = '42501';
    END IF;
    IF quasi_identifiers IS NULL THEN
        RAISE EXCEPTION 'quasi_identifiers must not be NULL' USING ERRCODE = '22004',
            HINT = 'Name at least one quasi-identifier column.';
    END IF;
    IF cardinality(quasi_identifiers) = 0 THEN
        RAISE EXCEPTION 'at least one quasi-identifier column is needed' USING ERRCODE = '22023';
    END IF;
    FOREACH qi IN ARRAY quasi_identifiers LOOP
        IF qi IS NULL THEN
            RAISE EXCEPTION 'a quasi-identifier column name is NULL' USING ERRCODE = '22004';
        END IF;
        SELECT a.atttypid INTO qtype FROM pg_attribute a
         WHERE a.attrelid = relation AND a.attname::text = qi AND a.attnum > 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'column "%" of relation % does not exist', qi, relation USING ERRCODE = '42703';
        END IF;
        IF NOT has_column_privilege(relation, qi, 'SELECT') THEN
            RAISE EXCEPTION 'permission denied for column "%" of relation %', qi, relation USING ERRCODE = '42501';
        END IF;
        -- Grouping needs the type's equality operator, looked up as GROUP BY
        -- looks it up, on a NULL of the type: nothing of the relation's runs.
        -- A domain groups by its base type's operator; a NULL of the domain
        -- itself would run its CHECK constraints, code of the domain's
        -- owner, with the caller's rights.
        WHILE (SELECT t.typtype FROM pg_type t WHERE t.oid = qtype) = 'd' LOOP
            SELECT t.typbasetype INTO qtype FROM pg_type t WHERE t.oid = qtype;
        END LOOP;
        BEGIN
            EXECUTE format('SELECT 1 FROM (SELECT NULL::%s AS c) x GROUP BY c', qtype);
        EXCEPTION WHEN undefined_function THEN
            RAISE EXCEPTION 'column "%" of relation % is of type %, which has no equality operator', qi, relation, qtype
                USING ERRCODE = '42883',
                      HINT = 'Rows cannot be grouped by such a column (json, point, ...); choose other quasi-identifiers.';
        END;
        group_by := group_by || CASE WHEN group_by = '' THEN '' ELSE ', ' END || format('%I', qi);
    END LOOP;
    IF kind = 'm' AND NOT populated THEN
        RAISE EXCEPTION 'materialized view % has not been populated', relation USING ERRCODE = '55000',
            HINT = 'Refresh it with REFRESH MATERIALIZED VIEW: k-anonymity counts its rows.';
    END IF;
    RETURN privacy.min_group_size(relation, quasi_identifiers::name[]);
END
$$;

-- Declared quasi-identifiers: per table, the columns that together could
-- single a person out (zip code, birth year, gender...), whose k the
-- inventory shows for the table and its masking view.
CREATE TABLE privacy.quasi_identifiers (
    relid       regclass PRIMARY KEY,
    columns     name[] NOT NULL CHECK (pg_catalog.cardinality(columns) > 0),
    declared_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    declared_by name NOT NULL DEFAULT CURRENT_USER
);
SELECT pg_catalog.pg_extension_config_dump('privacy.quasi_identifiers', '');
REVOKE ALL ON privacy.quasi_identifiers FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON privacy.quasi_identifiers TO privacy_admin;

-- Declares (replacing any earlier declaration) or, with NULL or an empty
-- array, removes a table's quasi-identifiers.  Each must be a column of
-- the table the caller may read, of a type rows can be grouped by.
CREATE FUNCTION privacy.set_quasi_identifiers(tbl regclass, columns name[])
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    kind "char";
    qi name;
    kept name[] := '{}';
BEGIN
    PERFORM privacy.require_admin();
    IF tbl IS NULL THEN
        RAISE EXCEPTION 'table must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT c.relkind INTO kind FROM pg_class c WHERE c.oid = tbl;
    IF NOT FOUND OR kind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', tbl USING ERRCODE = '42809';
    END IF;
    IF columns IS NULL OR cardinality(columns) = 0 THEN
        DELETE FROM privacy.quasi_identifiers q WHERE q.relid = tbl;
        RETURN;
    END IF;
    FOREACH qi IN ARRAY columns LOOP
        IF qi IS NULL THEN
            RAISE EXCEPTION 'a quasi-identifier column name is NULL' USING ERRCODE = '22004';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = qi
                          AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of relation % does not exist', qi, tbl USING ERRCODE = '42703';
        END IF;
        IF NOT has_column_privilege(tbl, qi, 'SELECT') THEN
            RAISE EXCEPTION 'permission denied for column "%" of relation %', qi, tbl USING ERRCODE = '42501';
        END IF;
        IF NOT qi = ANY (kept) THEN
            kept := kept || qi;
        END IF;
    END LOOP;
    -- grouping needs an equality operator: planned, not run
    BEGIN
        EXECUTE format('SELECT 1 FROM %s GROUP BY %s LIMIT 0', tbl,
                       (SELECT string_agg(format('%I', c), ', ') FROM unnest(kept) c));
    EXCEPTION WHEN undefined_function THEN
        RAISE EXCEPTION 'quasi-identifiers of % must be of types rows can be grouped by', tbl
            USING ERRCODE = '42883', HINT = 'A column without an equality operator (json, point, ...) cannot be one.';
    END;
    INSERT INTO privacy.quasi_identifiers AS q (relid, columns) VALUES (tbl, kept)
    ON CONFLICT (relid) DO UPDATE
       SET columns = EXCLUDED.columns, declared_at = EXCLUDED.declared_at, declared_by = EXCLUDED.declared_by;
END
$$;

-- k for the inventory: NULL rather than an error when the relation is
-- gone, a declared column no longer exists, the reader may not read them,
-- the rows cannot be grouped any more (a column retyped), or a value cannot
-- be read (a masking view decrypting under a destroyed or unknown key, a
-- damaged value): the inventory and the report must still be made, and
-- they flag such columns themselves.
CREATE FUNCTION privacy.k_anonymity_if_readable(relation regclass, columns name[]) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF relation IS NULL OR columns IS NULL
       OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = relation) THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(columns) qc
                WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = relation
                                     AND a.attname = qc AND a.attnum > 0 AND NOT a.attisdropped)
                   OR NOT has_column_privilege(relation, qc::text, 'SELECT')) THEN
        RETURN NULL;
    END IF;
    RETURN privacy.k_anonymity(relation, columns::text[]);
EXCEPTION WHEN undefined_function OR insufficient_privilege
          OR SQLSTATE 'PXK01' OR SQLSTATE 'PXK02' OR SQLSTATE 'PXK03' OR SQLSTATE 'PXK04'
          OR SQLSTATE 'PXA01' OR SQLSTATE 'PXE01' OR SQLSTATE 'PXE02' OR SQLSTATE 'PXR02' THEN
    RETURN NULL;
END
$$;

-- The replicated extension tables (sql/parts/1.1/78_replication.sql, and
-- the root derivation key of 86_root_rotation.sql) now include the declared
-- quasi-identifiers.
CREATE OR REPLACE FUNCTION privacy.replicated_tables() RETURNS SETOF regclass
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT unnest(ARRAY['privacy.data_keys', 'privacy.data_key_versions', 'privacy.key_grants',
                        'privacy.root_derivation_key',
                        'privacy.purposes', 'privacy.purpose_grants', 'privacy.policy_versions',
                        'privacy.consent_state', 'privacy.consent_events',
                        'privacy.mask_rules', 'privacy.masking_views', 'privacy.masked_roles',
                        'privacy.protected_tables', 'privacy.classifications',
                        'privacy.quasi_identifiers']::regclass[])
$$;

-- The inventory of sql/parts/1.1/50_inventory.sql, with the columns
-- declared as quasi-identifiers and three more columns: whether the row's
-- column is one, and k for its table and the table's masking view (as
-- the reader sees them; computed once per table each time the view is
-- read, so each read scans those tables), and a finding when the
-- quasi-identifiers single a row out.
-- The policies protect_table creates (97_consent_policies.sql), and 1.0's
-- privacy_consent_insert, which it replaces: by their exact names.  Only
-- these are the extension's: a policy of the user's own named
-- privacy_consent_<something> is neither dropped nor taken for one of them.
CREATE FUNCTION privacy.consent_policy_names() RETURNS name[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY['privacy_consent_select', 'privacy_consent_update', 'privacy_consent_delete',
                 'privacy_consent_insert', 'privacy_consent_allow_select',
                 'privacy_consent_allow_insert', 'privacy_consent_allow_update',
                 'privacy_consent_allow_delete']::pg_catalog.name[]
$$;

-- Whether the consent policies of one table (or partition) are still those
-- protect_table creates: privacy_consent_select, _update and _delete, each
-- RESTRICTIVE, for its command, for every role, with no WITH CHECK and the
-- condition privacy.has_consent(<subject column>).  The names alone say
-- nothing: ALTER POLICY ... USING (true) keeps a name and filters nothing,
-- and ALTER POLICY ... TO one_role leaves every other role unfiltered.  The
-- condition is compared as deparsed under a pinned search_path, where
-- privacy.has_consent is always named with its schema (and a has_consent of
-- another schema never is privacy's).
CREATE FUNCTION privacy.consent_policies_intact(tbl regclass, subject_column name) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) = 3
      FROM pg_policy po
      JOIN pg_attribute a ON a.attrelid = po.polrelid AND a.attname = subject_column
                         AND a.attnum > 0 AND NOT a.attisdropped
     WHERE po.polrelid = tbl
       AND (po.polname, po.polcmd) IN (('privacy_consent_select', 'r'), ('privacy_consent_update', 'w'),
                                       ('privacy_consent_delete', 'd'))
       AND NOT po.polpermissive
       AND po.polroles = '{0}'::oid[]
       AND po.polwithcheck IS NULL
       AND pg_get_expr(po.polqual, po.polrelid)
           = format('privacy.has_consent(%s)',
                    CASE WHEN a.atttypid = 'varchar'::regtype
                         THEN '(' || quote_ident(subject_column) || ')::text'
                         ELSE quote_ident(subject_column) END)
$$;

CREATE OR REPLACE VIEW privacy.inventory AS
WITH enc AS MATERIALIZED (
    -- Columns whose values are encrypted, through domains and arrays too
    -- (10_encrypted_columns.sql): one key each.  A composite column with
    -- an encrypted field holds clear fields as well: not an encrypted
    -- column.
    SELECT e.relid, e.attnum, e.key_id
      FROM privacy.encrypted_columns e
     WHERE e.shape IN ('value', 'array')
), cols AS (
    SELECT a.attrelid AS relid, a.attname AS column_name, a.attnum, a.atttypid, a.atttypmod
      FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
     -- tables and what else holds rows (materialized views, foreign tables)
     WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'm', 'f')
       AND (EXISTS (SELECT 1 FROM privacy.classifications k
                     WHERE k.relid = a.attrelid AND k.column_name = a.attname)
            OR EXISTS (SELECT 1 FROM enc WHERE enc.relid = a.attrelid AND enc.attnum = a.attnum)
            OR EXISTS (SELECT 1 FROM privacy.mask_rules m
                        WHERE m.relid = a.attrelid AND m.column_name = a.attname)
            OR EXISTS (SELECT 1 FROM privacy.protected_tables p WHERE p.relid = a.attrelid)
            OR EXISTS (SELECT 1 FROM privacy.quasi_identifiers q
                        WHERE q.relid = a.attrelid AND a.attname = ANY (q.columns)))
), kq AS MATERIALIZED (
    -- k-anonymity of each table declaring quasi-identifiers, and of its
    -- masking view, computed once per table, as the reader sees them
    -- (NULL where the reader may not read them).
    -- Only a table's (a registered relation turned into a view since,
    -- CREATE RULE "_RETURN", is not read) and only its verified masking
    -- view (masking_view_of: a view of schema masked reading the table),
    -- whatever the registry rows say.
    SELECT q.relid, q.columns,
           CASE WHEN qc.relkind IN ('r', 'p') THEN privacy.k_anonymity_if_readable(q.relid, q.columns) END AS k,
           CASE WHEN qc.relkind IN ('r', 'p')
                THEN privacy.k_anonymity_if_readable(privacy.masking_view_of(q.relid), q.columns) END AS masked_k
      FROM privacy.quasi_identifiers q
      JOIN pg_catalog.pg_class qc ON qc.oid = q.relid
), facts AS (
    SELECT cols.*,
           k.level, k.category,
           enc.relid IS NOT NULL AS encrypted,
           dk.key_id, dk.name AS key_name, dk.destroyed_at,
           p.subject_column, p.relid IS NOT NULL AS consent_protected,
           coalesce(cols.column_name = ANY (kq.columns), false) AS quasi_identifier,
           kq.columns AS quasi_identifiers, kq.k, kq.masked_k,
           (SELECT pg_catalog.array_agg(coalesce(m.role_name::text, 'default') || ': ' || m.rule
                                        ORDER BY m.role_name NULLS FIRST)
              FROM privacy.mask_rules m
             WHERE m.relid = cols.relid AND m.column_name = cols.column_name) AS mask_rules
      FROM cols
      LEFT JOIN privacy.classifications k ON k.relid = cols.relid AND k.column_name = cols.column_name
      LEFT JOIN enc ON enc.relid = cols.relid AND enc.attnum = cols.attnum
      LEFT JOIN privacy.data_keys dk ON dk.key_id = enc.key_id
      LEFT JOIN privacy.protected_tables p ON p.relid = cols.relid
      LEFT JOIN kq ON kq.relid = cols.relid
), clear_readers AS (
    -- Roles that read a personal column in clear with no masking rule of
    -- their own for it (owners and superusers aside): straight from the
    -- table (and, if it is encrypted, holding its key), or through the
    -- masking view when the column's default rule is none (a column
    -- without any rule is redacted there: privacy by default, 80_...).
    SELECT f.relid, f.column_name,
           pg_catalog.array_agg(DISTINCT pg_catalog.quote_ident(r.rolname) ORDER BY pg_catalog.quote_ident(r.rolname)) AS roles
      FROM facts f
      JOIN pg_catalog.pg_roles r
        ON NOT r.rolsuper AND r.rolname !~ '^pg_'
       AND r.oid <> (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = f.relid)
      LEFT JOIN privacy.masking_views v ON v.relid = f.relid
     WHERE f.level IN ('personal', 'sensitive')
       AND NOT EXISTS (SELECT 1 FROM privacy.mask_rules m
                        WHERE m.relid = f.relid AND m.column_name = f.column_name
                          AND m.role_name = r.rolname)
       AND ((pg_catalog.has_column_privilege(r.oid, f.relid, f.column_name, 'SELECT')
             AND (NOT f.encrypted OR EXISTS (
                     SELECT 1 FROM privacy.key_grants g
                      WHERE g.key_id = f.key_id AND pg_catalog.pg_has_role(r.oid, g.grantee, 'USAGE'))))
            OR (v.view_name IS NOT NULL AND NOT f.encrypted
                AND pg_catalog.to_regclass(v.view_name) IS NOT NULL
                AND pg_catalog.has_table_privilege(r.oid, pg_catalog.to_regclass(v.view_name), 'SELECT')
                AND EXISTS (SELECT 1 FROM privacy.mask_rules m
                             WHERE m.relid = f.relid AND m.column_name = f.column_name
                               AND m.role_name IS NULL AND m.rule = 'none')))
     GROUP BY f.relid, f.column_name
)
SELECT n.nspname AS schema_name,
       c.relname AS table_name,
       f.column_name,
       pg_catalog.format_type(f.atttypid, f.atttypmod) AS data_type,
       f.level,
       f.category,
       f.encrypted,
       f.key_name,
       f.mask_rules,
       f.consent_protected,
       f.subject_column = f.column_name AS is_subject_column,
       pg_catalog.array_remove(ARRAY[
           CASE WHEN f.level = 'sensitive' AND NOT f.encrypted
                THEN 'sensitive column stored in clear' END,
           CASE WHEN cr.roles IS NOT NULL
                THEN 'personal data readable in clear, with no mask rule, by: '
                     || pg_catalog.array_to_string(cr.roles, ', ') END,
           CASE WHEN f.subject_column = f.column_name AND NOT EXISTS (
                    SELECT 1 FROM pg_catalog.pg_index i
                     WHERE i.indrelid = f.relid AND i.indkey[0] = (
                           SELECT a.attnum FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = f.relid AND a.attname = f.column_name))
                THEN 'protected table has no index on its subject column' END,
           CASE WHEN f.subject_column = f.column_name AND NOT tc.relrowsecurity
                THEN 'row level security is off on a protected table: run privacy.protect_table() again' END,
           CASE WHEN f.subject_column = f.column_name AND NOT tc.relforcerowsecurity
                THEN 'FORCE ROW LEVEL SECURITY is off on a protected table (its owner reads every row): '
                     || 'run privacy.protect_table() again' END,
           CASE WHEN f.subject_column = f.column_name AND NOT EXISTS (
                    SELECT 1 FROM pg_catalog.pg_policy po
                     WHERE po.polrelid = f.relid AND po.polname = 'privacy_consent_select')
                THEN 'protected table has no consent policy: run privacy.protect_table() again' END,
           -- 1.0's consent policies were permissive: any permissive policy
           -- of the table's own showed every row (updates run protect_table
           -- again; a restore of an older dump brings them back).
           CASE WHEN f.subject_column = f.column_name AND EXISTS (
                    SELECT 1 FROM pg_catalog.pg_policy po
                     WHERE po.polrelid = f.relid AND po.polname = 'privacy_consent_select' AND po.polpermissive)
                THEN 'consent policy is permissive, so other permissive policies undo it: '
                     || 'run privacy.protect_table() again' END,
           -- ALTER POLICY keeps the names (the 1.0 permissive kind is the
           -- finding above).
           CASE WHEN f.subject_column = f.column_name AND EXISTS (
                    SELECT 1 FROM pg_catalog.pg_policy po
                     WHERE po.polrelid = f.relid AND po.polname = 'privacy_consent_select'
                       AND NOT po.polpermissive)
                 AND NOT privacy.consent_policies_intact(f.relid, f.subject_column)
                THEN 'consent policies differ from those protect_table creates (condition, roles, '
                     || 'command or kind): run privacy.protect_table() again' END,
           -- On the table and on each partition (a partition read directly
           -- is filtered by its own policies).
           CASE WHEN f.subject_column = f.column_name AND EXISTS (
                    SELECT 1 FROM pg_catalog.pg_policy a
                      JOIN pg_catalog.pg_policy u ON u.polrelid = a.polrelid
                     WHERE a.polrelid IN (SELECT t FROM privacy.inheritance_tree(f.relid) t)
                       AND a.polname LIKE 'privacy\_consent\_allow\_%'
                       AND a.polname OPERATOR(pg_catalog.=) ANY (privacy.consent_policy_names())
                       AND u.polpermissive
                       AND u.polname OPERATOR(pg_catalog.<>) ALL (privacy.consent_policy_names())
                       AND (u.polcmd = '*' OR u.polcmd = a.polcmd))
                THEN 'a permissive policy created after protect_table is undone by privacy_consent_allow_*: '
                     || 'run privacy.protect_table() again' END,
           CASE WHEN f.subject_column = f.column_name AND EXISTS (
                    SELECT 1 FROM privacy.inheritance_tree(f.relid) t
                      JOIN pg_catalog.pg_class pc ON pc.oid = t
                     WHERE t OPERATOR(pg_catalog.<>) f.relid
                       AND NOT (pc.relrowsecurity AND pc.relforcerowsecurity
                                AND privacy.consent_policies_intact(pc.oid, f.subject_column)))
                THEN 'partition or inheritance child not protected: run privacy.protect_table() again' END,
           -- Reading a parent applies the parent's policies to the rows of
           -- its partitions and children (1.0 could protect one alone).
           CASE WHEN f.subject_column = f.column_name AND EXISTS (
                    SELECT 1 FROM privacy.inheritance_ancestors(f.relid) a
                     WHERE NOT EXISTS (SELECT 1 FROM privacy.protected_tables q WHERE q.relid = a)
                       AND NOT EXISTS (SELECT 1 FROM privacy.inheritance_ancestors(a) g
                                         JOIN privacy.protected_tables q ON q.relid = g))
                THEN 'protected table is a partition or child of '
                     || (SELECT pg_catalog.string_agg(a::text, ', ')
                           FROM privacy.inheritance_ancestors(f.relid) a
                          WHERE NOT EXISTS (SELECT 1 FROM privacy.protected_tables q WHERE q.relid = a))
                     || ', not protected, which shows its rows unfiltered: protect the table at the top' END,
           -- One tree, one subject column (1.0 let a partition or child
           -- be protected by its own).
           CASE WHEN f.subject_column = f.column_name
                 AND EXISTS (SELECT 1 FROM privacy.subject_column_conflicts(f.relid, f.subject_column))
                THEN 'protected by column "' || f.subject_column || '" but a partition or child of '
                     || (SELECT pg_catalog.string_agg(c.ancestor::text || ' (protected by column "'
                                                      || c.ancestor_subject_column || '")', ', ')
                           FROM privacy.subject_column_conflicts(f.relid, f.subject_column) c)
                     || ': reading the parent filters its rows by the parent''s column, and requests for '
                     || 'the parent''s subjects pass them by; run privacy.protect_table() with the parent''s column' END,
           -- Row-level security does not apply to a foreign table.
           CASE WHEN f.subject_column = f.column_name
                 AND EXISTS (SELECT 1 FROM privacy.inheritance_foreign_tables(f.relid))
                THEN 'foreign table ' || (SELECT pg_catalog.string_agg(t::text, ', ')
                                            FROM privacy.inheritance_foreign_tables(f.relid) t)
                     || ' is a partition or child of a protected table: row level security does not apply '
                     || 'to it, and read directly it shows every row' END,
           -- Views and materialized views whose readers get rows the
           -- consent policies did not judge for them (87_...).
           CASE WHEN f.subject_column = f.column_name
                 AND EXISTS (SELECT 1 FROM privacy.consent_unjudged_readers(f.relid) u WHERE u.kind = 'view')
                THEN 'view ' || (SELECT pg_catalog.string_agg(u.relation::text || ' (owned by '
                                                             || pg_catalog.quote_ident(u.owner) || ')', ', ')
                                   FROM privacy.consent_unjudged_readers(f.relid) u WHERE u.kind = 'view')
                     || ' reads this protected table as a role that bypasses row level security: its readers '
                     || 'see every row, consented or not; make it security_invoker or give it another owner' END,
           CASE WHEN f.subject_column = f.column_name
                 AND EXISTS (SELECT 1 FROM privacy.consent_unjudged_readers(f.relid) u
                              WHERE u.kind = 'materialized view')
                THEN 'materialized view ' || (SELECT pg_catalog.string_agg(u.relation::text, ', ')
                                                FROM privacy.consent_unjudged_readers(f.relid) u
                                               WHERE u.kind = 'materialized view')
                     || ' holds rows of this protected table: its readers see the rows its last REFRESH saw, '
                     || 'whatever consent says now' END,
           CASE WHEN f.subject_column = f.column_name
                 AND EXISTS (SELECT 1 FROM privacy.consent_truncating_roles(f.relid))
                THEN 'TRUNCATE is not filtered by row level security: '
                     || (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(t), ', ')
                           FROM privacy.consent_truncating_roles(f.relid) t)
                     || ' may remove every row of this protected table, rows it cannot see included' END,
           -- A subject column dropped or renamed behind the extension's back
           -- (1.0 did not follow DDL): said once, on the table's first column.
           CASE WHEN f.consent_protected
                 AND f.attnum = (SELECT pg_catalog.min(a.attnum) FROM pg_catalog.pg_attribute a
                                  WHERE a.attrelid = f.relid AND a.attnum > 0 AND NOT a.attisdropped)
                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                                  WHERE a.attrelid = f.relid AND a.attname = f.subject_column
                                    AND a.attnum > 0 AND NOT a.attisdropped)
                THEN 'subject column "' || f.subject_column || '" of a protected table is gone: rows are '
                     || 'not filtered by consent and requests fail; run privacy.protect_table() with its subject column' END,
           -- Logical replication's initial copy runs the consent policy on
           -- the publisher: a replication role without BYPASSRLS copies no
           -- row of a protected table (privacy_ext makes that copy fail).
           CASE WHEN f.subject_column = f.column_name AND EXISTS (
                    SELECT 1 FROM pg_catalog.pg_publication_tables pt
                     WHERE pt.schemaname = n.nspname AND pt.tablename = c.relname)
                 AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                              WHERE r.rolreplication AND NOT r.rolsuper AND NOT r.rolbypassrls)
                THEN 'protected table in publication '
                     || (SELECT pg_catalog.string_agg(DISTINCT pt.pubname::text, ', ')
                           FROM pg_catalog.pg_publication_tables pt
                          WHERE pt.schemaname = n.nspname AND pt.tablename = c.relname)
                     || ': a subscription connecting as a replication role without BYPASSRLS ('
                     || (SELECT pg_catalog.string_agg(r.rolname::text, ', ' ORDER BY r.rolname)
                           FROM pg_catalog.pg_roles r
                          WHERE r.rolreplication AND NOT r.rolsuper AND NOT r.rolbypassrls)
                     || ') would copy none of its rows' END,
           -- The registered masking view, on each masked column: gone (a
           -- registry row restored without it), moved out of schema masked,
           -- not reading this table, or without its security barrier.
           CASE WHEN f.mask_rules IS NOT NULL AND mv.relid IS NOT NULL AND mvc.oid IS NULL
                THEN 'masking view ' || mv.view_name || ' does not exist or is not this table''s '
                     || 'masking view: run privacy.create_masking_view() again' END,
           CASE WHEN f.mask_rules IS NOT NULL AND mvc.oid IS NOT NULL
                 AND NOT privacy.view_is_security_barrier(mvc.oid)
                THEN 'masking view ' || mv.view_name || ' is not a security_barrier view (a reader''s '
                     || 'functions see the values before they are masked): run privacy.create_masking_view() again' END,
           CASE WHEN f.encrypted AND f.destroyed_at IS NOT NULL
                THEN 'column under a destroyed key' END,
           CASE WHEN f.encrypted AND f.key_id IS NULL
                THEN 'column under an unknown key' END,
           CASE WHEN f.encrypted AND EXISTS (
                    SELECT 1 FROM privacy.data_key_versions kv
                     WHERE kv.key_id = f.key_id AND kv.wrapped_key IS NOT NULL
                       AND kv.root_key_check IS DISTINCT FROM privacy.root_key_check())
                THEN 'key versions wrapped under an old root key: run privacy.rewrap_keys() '
                     || '(see privacy.key_versions)' END,
           -- unique combinations of quasi-identifiers, unless the masking
           -- view's rules generalize them away (a view that shows this
           -- reader no row, its consent filter with no purpose declared,
           -- says nothing about its rules)
           CASE WHEN f.quasi_identifier AND f.k = 1 AND coalesce(f.masked_k, 1) IN (0, 1)
                THEN 'quasi-identifiers (' || pg_catalog.array_to_string(f.quasi_identifiers, ', ')
                     || ') single out at least one row (k-anonymity 1'
                     || CASE WHEN f.masked_k = 1 THEN ', also through the masking view' ELSE '' END
                     || ')' END
       ], NULL) AS findings,
       f.quasi_identifier,
       f.k AS k_anonymity,
       f.masked_k AS masked_k_anonymity
  FROM facts f
  JOIN pg_catalog.pg_class c ON c.oid = f.relid
  JOIN pg_catalog.pg_class tc ON tc.oid = f.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN clear_readers cr ON cr.relid = f.relid AND cr.column_name = f.column_name
  LEFT JOIN privacy.masking_views mv ON mv.relid = f.relid
  LEFT JOIN pg_catalog.pg_class mvc
         ON mvc.oid = pg_catalog.to_regclass(mv.view_name) AND mvc.relkind = 'v'
        AND mvc.relnamespace = 'masked'::pg_catalog.regnamespace
        AND privacy.view_reads_table(mvc.oid, f.relid)
UNION ALL
-- The server's findings: one row, with no table or column, when there are any.
SELECT NULL::name, NULL::name, NULL::name, NULL::text, NULL::text, NULL::text, NULL::boolean,
       NULL::text, NULL::text[] COLLATE "C", NULL::boolean, NULL::boolean, s.findings COLLATE "C",
       NULL::boolean, NULL::bigint, NULL::bigint
  FROM (SELECT pg_catalog.array_agg(l.finding ORDER BY l.ord) AS findings
          FROM privacy.log_setting_findings() WITH ORDINALITY AS l(finding, ord)) s
 WHERE s.findings IS NOT NULL;
GRANT SELECT ON privacy.inventory TO privacy_admin;
