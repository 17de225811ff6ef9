-- The personal-data inventory in 1.1, and what it needs from the log
-- redaction (src/log_redact.c): a protected table whose owner turned row
-- level security (or FORCE ROW LEVEL SECURITY) off is a finding; so is a
-- server setting that writes statement text, bound parameters or plans to
-- the server log, and privacy_ext not being preloaded (sessions that have
-- not used it write the log without its redaction).  Server findings are
-- one row with no table or column.

-- SQL text as the server log gets it from privacy_ext: string and numeric
-- constants replaced by '***' and *** (also useful on pg_stat_activity.query).
CREATE OR REPLACE FUNCTION privacy.redact_literals(sql text) RETURNS text
    AS 'MODULE_PATHNAME', 'px_redact_literals' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Whether every session has the log redaction from its start.
CREATE OR REPLACE FUNCTION privacy.log_redaction_preloaded() RETURNS boolean
    AS 'MODULE_PATHNAME', 'px_log_redaction_preloaded' LANGUAGE C STABLE PARALLEL SAFE;

-- The logging settings that write statement text (with its constants),
-- bound parameters or plans to the server log: this session's value, the
-- value sessions start with, and per-role and per-database settings.
CREATE OR REPLACE FUNCTION privacy.log_setting_findings() RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
WITH vals AS (
    SELECT s.name, s.setting AS value,
           CASE WHEN s.setting IS DISTINCT FROM s.reset_val THEN ' (set in this session)' ELSE '' END AS scope,
           0 AS scope_order
      FROM pg_catalog.pg_settings s
    UNION ALL
    SELECT s.name, s.reset_val, ' (at session start)', 1
      FROM pg_catalog.pg_settings s
     WHERE s.reset_val IS DISTINCT FROM s.setting
    UNION ALL
    SELECT 'auto_explain.log_min_duration',
           pg_catalog.current_setting('auto_explain.log_min_duration', true), '', 0
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_settings s WHERE s.name = 'auto_explain.log_min_duration')
    UNION ALL
    SELECT pg_catalog.split_part(c.cfg, '=', 1),
           pg_catalog.substr(c.cfg, pg_catalog.strpos(c.cfg, '=') + 1),
           CASE WHEN d.setrole <> 0 AND d.setdatabase <> 0
                THEN pg_catalog.format(' (for role %I in database %I)', r.rolname, db.datname)
                WHEN d.setrole <> 0 THEN pg_catalog.format(' (for role %I)', r.rolname)
                ELSE pg_catalog.format(' (in database %I)', db.datname) END,
           2
      FROM pg_catalog.pg_db_role_setting d
      CROSS JOIN LATERAL pg_catalog.unnest(d.setconfig) AS c(cfg)
      LEFT JOIN pg_catalog.pg_roles r ON r.oid = d.setrole
      LEFT JOIN pg_catalog.pg_database db ON db.oid = d.setdatabase
), risky AS (
    SELECT v.name, v.value, v.scope, v.scope_order,
           CASE
             WHEN v.name = 'log_statement' AND v.value <> 'none'
               THEN 'writes statement text to the server log'
             WHEN v.name = 'log_min_duration_statement' AND v.value !~ '^\s*-'
               THEN 'writes the text of slow statements to the server log'
             WHEN v.name = 'log_min_duration_sample' AND v.value !~ '^\s*-'
               THEN 'writes the text of sampled statements to the server log'
             WHEN v.name = 'log_transaction_sample_rate'
                  AND v.value ~ '^\s*[0-9.]+\s*$' AND v.value::float8 > 0
               THEN 'writes the text of sampled transactions'' statements to the server log'
             WHEN v.name = 'log_parameter_max_length_on_error' AND v.value !~ '^\s*0\s*[A-Za-z]*\s*$'
               THEN 'writes the bound parameters of failing statements to the server log'
             WHEN v.name = 'log_min_error_statement'
                  AND v.value IN ('debug5', 'debug4', 'debug3', 'debug2', 'debug1', 'info', 'notice', 'warning')
               THEN 'writes the statement of reports below ERROR to the server log'
             WHEN v.name IN ('debug_print_parse', 'debug_print_rewritten', 'debug_print_plan')
                  AND v.value IN ('on', 'true', 'yes', '1')
               THEN 'writes query trees with their constants to the server log'
             WHEN v.name = 'auto_explain.log_min_duration' AND v.value !~ '^\s*-'
               THEN 'writes query plans and their text to the server log'
             WHEN v.name = 'privacy.log_statement_literals' AND v.value = 'shown'
               THEN 'keeps the constants of statements in STATEMENT lines'
           END AS why
      FROM vals v
     WHERE v.value IS NOT NULL
)
SELECT f.finding FROM (
    SELECT pg_catalog.format('%s = %s %s%s', r.name, pg_catalog.quote_literal(r.value), r.why, r.scope) AS finding,
           r.scope_order, r.name
      FROM risky r WHERE r.why IS NOT NULL
    UNION ALL
    -- bound parameters are written with the statements logged above
    SELECT pg_catalog.format('%s = %s writes bound parameters with logged statements%s',
                             v.name, pg_catalog.quote_literal(v.value), v.scope), v.scope_order, v.name
      FROM vals v
     WHERE v.name = 'log_parameter_max_length' AND v.value !~ '^\s*0\s*[A-Za-z]*\s*$'
       AND EXISTS (SELECT 1 FROM risky r
                    WHERE r.why IS NOT NULL
                      AND r.name IN ('log_statement', 'log_min_duration_statement',
                                     'log_min_duration_sample', 'log_transaction_sample_rate'))
    UNION ALL
    SELECT 'privacy_ext is not in shared_preload_libraries or session_preload_libraries: '
           || 'sessions that have not used it write the server log without its redaction', -1, ''
     WHERE NOT privacy.log_redaction_preloaded()
) f
ORDER BY f.scope_order, f.name, f.finding
$$;

-- One row per column that is classified, encrypted, masked or in a
-- consent-protected table, with what is wrong with it, and one row for the
-- server when its settings are findings.
CREATE OR REPLACE VIEW privacy.inventory AS
WITH cols AS (
    SELECT a.attrelid AS relid, a.attname AS column_name, a.atttypid, a.atttypmod
      FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
     WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
       AND (EXISTS (SELECT 1 FROM privacy.classifications k
                     WHERE k.relid = a.attrelid AND k.column_name = a.attname)
            OR a.atttypid IN ('privacy.encrypted_text'::pg_catalog.regtype,
                              'privacy.encrypted_bytea'::pg_catalog.regtype,
                              'privacy.encrypted_text_det'::pg_catalog.regtype)
            OR EXISTS (SELECT 1 FROM privacy.mask_rules m
                        WHERE m.relid = a.attrelid AND m.column_name = a.attname)
            OR EXISTS (SELECT 1 FROM privacy.protected_tables p WHERE p.relid = a.attrelid))
), facts AS (
    SELECT cols.*,
           k.level, k.category,
           cols.atttypid IN ('privacy.encrypted_text'::pg_catalog.regtype,
                             'privacy.encrypted_bytea'::pg_catalog.regtype,
                             'privacy.encrypted_text_det'::pg_catalog.regtype) AS encrypted,
           dk.key_id, dk.name AS key_name, dk.destroyed_at,
           p.subject_column, p.relid IS NOT NULL AS consent_protected,
           (SELECT pg_catalog.array_agg(coalesce(m.role_name::text, 'default') || ': ' || m.rule
                                        ORDER BY m.role_name NULLS FIRST)
              FROM privacy.mask_rules m
             WHERE m.relid = cols.relid AND m.column_name = cols.column_name) AS mask_rules
      FROM cols
      LEFT JOIN privacy.classifications k ON k.relid = cols.relid AND k.column_name = cols.column_name
      LEFT JOIN privacy.data_keys dk
             ON dk.key_id = cols.atttypmod
            AND cols.atttypid IN ('privacy.encrypted_text'::pg_catalog.regtype,
                                  'privacy.encrypted_bytea'::pg_catalog.regtype,
                                  'privacy.encrypted_text_det'::pg_catalog.regtype)
      LEFT JOIN privacy.protected_tables p ON p.relid = cols.relid
), clear_readers AS (
    -- Roles that read a personal column in clear with no masking rule of
    -- their own for it (owners and superusers aside): straight from the
    -- table (and, if it is encrypted, holding its key), or through the
    -- masking view, which shows a column without any rule as it is.
    SELECT f.relid, f.column_name,
           pg_catalog.array_agg(DISTINCT r.rolname::text ORDER BY r.rolname::text) AS roles
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
                AND NOT EXISTS (SELECT 1 FROM privacy.mask_rules m
                                 WHERE m.relid = f.relid AND m.column_name = f.column_name)))
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
           CASE WHEN f.subject_column = f.column_name AND tc.relrowsecurity AND NOT tc.relforcerowsecurity
                THEN 'FORCE ROW LEVEL SECURITY is off on a protected table (its owner reads every row): '
                     || 'run privacy.protect_table() again' END,
           CASE WHEN f.subject_column = f.column_name AND NOT EXISTS (
                    SELECT 1 FROM pg_catalog.pg_policy po
                     WHERE po.polrelid = f.relid AND po.polname = 'privacy_consent_select')
                THEN 'protected table has no consent policy: run privacy.protect_table() again' END,
           CASE WHEN f.subject_column = f.column_name AND EXISTS (
                    SELECT 1 FROM pg_catalog.pg_partition_tree(f.relid) t
                      JOIN pg_catalog.pg_class pc ON pc.oid = t.relid
                     WHERE pc.relkind IN ('r', 'p') AND t.relid OPERATOR(pg_catalog.<>) f.relid
                       AND NOT (pc.relrowsecurity AND pc.relforcerowsecurity
                                AND EXISTS (SELECT 1 FROM pg_catalog.pg_policy po
                                             WHERE po.polrelid = pc.oid
                                               AND po.polname = 'privacy_consent_select')))
                THEN 'partition not protected: run privacy.protect_table() again' END,
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
           CASE WHEN f.encrypted AND f.destroyed_at IS NOT NULL
                THEN 'column under a destroyed key' END,
           CASE WHEN f.encrypted AND f.key_id IS NULL
                THEN 'column under an unknown key' END
       ], NULL) AS findings
  FROM facts f
  JOIN pg_catalog.pg_class c ON c.oid = f.relid
  JOIN pg_catalog.pg_class tc ON tc.oid = f.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN clear_readers cr ON cr.relid = f.relid AND cr.column_name = f.column_name
UNION ALL
-- The server's findings: one row, with no table or column, when there are any.
SELECT NULL::name, NULL::name, NULL::name, NULL::text, NULL::text, NULL::text, NULL::boolean,
       NULL::text, NULL::text[] COLLATE "C", NULL::boolean, NULL::boolean, s.findings COLLATE "C"
  FROM (SELECT pg_catalog.array_agg(l.finding ORDER BY l.ord) AS findings
          FROM privacy.log_setting_findings() WITH ORDINALITY AS l(finding, ord)) s
 WHERE s.findings IS NOT NULL;
GRANT SELECT ON privacy.inventory TO privacy_admin;

-- The record of processing: a role reads a table of personal data when it
-- may select a personal or sensitive column of it, or any column of a
-- consent-protected table (whose rows are data subjects'), whether by a
-- privilege on the table or on those columns alone.  1.0 tested the
-- table's SELECT only, so a role granted SELECT (id, email) was left out
-- of the record though the inventory listed it reading email in clear.
CREATE OR REPLACE VIEW privacy.processing_record AS
WITH personal_tables AS (
    SELECT p.relid FROM privacy.protected_tables p
    UNION
    SELECT k.relid FROM privacy.classifications k WHERE k.level IN ('personal', 'sensitive')
)
SELECT pu.name AS purpose,
       pu.legal_basis,
       pu.parent AS parent_purpose,
       t.relid::pg_catalog.regclass AS table_name,
       (SELECT pg_catalog.array_agg(DISTINCT k.category ORDER BY k.category)
          FROM privacy.classifications k
         WHERE k.relid = t.relid AND k.category IS NOT NULL) AS data_categories,
       EXISTS (SELECT 1 FROM privacy.protected_tables p WHERE p.relid = t.relid) AS consent_checked,
       pg_catalog.array_agg(DISTINCT g.role_name ORDER BY g.role_name) AS roles
  FROM privacy.purposes pu
  JOIN privacy.purpose_grants g ON g.purpose = pu.name
  JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name
  JOIN personal_tables t
    ON (EXISTS (SELECT 1 FROM privacy.protected_tables p WHERE p.relid = t.relid)
        AND pg_catalog.has_any_column_privilege(r.oid, t.relid, 'SELECT'))
    OR EXISTS (SELECT 1 FROM privacy.classifications k
                 JOIN pg_catalog.pg_attribute a
                   ON a.attrelid = k.relid AND a.attname = k.column_name
                  AND a.attnum > 0 AND NOT a.attisdropped
                WHERE k.relid = t.relid AND k.level IN ('personal', 'sensitive')
                  AND pg_catalog.has_column_privilege(r.oid, t.relid, a.attnum, 'SELECT'))
 GROUP BY pu.name, pu.legal_basis, pu.parent, t.relid;
