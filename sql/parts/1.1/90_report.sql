-- The documents a person reads (issue 18): privacy.report(), for the data
-- protection officer (inventory, findings, record of processing, keys,
-- consent figures, masking coverage), and privacy.incident_report(), what
-- one role decrypted or read unmasked in a time window, from the audit
-- trail.  Both come as one self-contained HTML page (inline style, no
-- external asset, no script) or as Markdown, built by the same few helpers
-- below.  Every value goes through privacy.report_escape(), the one place
-- that knows each format's special characters.  Neither document holds a
-- subject id, a value or key bytes: only names, counts and times.

-- 'html' or 'markdown' (any case); anything else is an error.
CREATE FUNCTION privacy.report_format(format text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF format IS NULL THEN
        RAISE EXCEPTION 'report format must not be NULL' USING ERRCODE = '22004',
            HINT = 'One of: html, markdown.';
    END IF;
    IF lower(format) NOT IN ('html', 'markdown') THEN
        RAISE EXCEPTION 'unknown report format "%"', left(format, 64) USING ERRCODE = '22023',
            HINT = 'One of: html, markdown.';
    END IF;
    RETURN lower(format);
END
$$;

-- A value as literal text of the format: HTML escapes & < > " ' (so it is
-- safe in element content and in quoted attributes); Markdown backslash-
-- escapes \ ` * _ [ ] < > | & ~ and writes line breaks as <br>, so a value
-- can neither end a table cell nor start markup.  NULL is the empty string.
CREATE FUNCTION privacy.report_escape(value text, format text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
SELECT CASE privacy.report_format(format)
    WHEN 'html' THEN
        replace(replace(replace(replace(replace(coalesce(value, ''),
            '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
    ELSE
        -- GitHub-flavoured renderers make links of bare URLs (http://,
        -- https://, ftp://, www.): a table or role name could put one in
        -- the DPO's document.  A backslash before the ':' of '://' and the
        -- '.' after 'www' (backslash escapes of punctuation, which render
        -- as the character) breaks the autolink and keeps the text.
        regexp_replace(regexp_replace(
            regexp_replace(regexp_replace(coalesce(value, ''), '([\\`*_\[\]<>|&~])', '\\\1', 'g'),
                           '\r\n|\r|\n', '<br>', 'g'),
            ':(?=//)', '\\:', 'g'),
            '(www)\.', '\1\\.', 'gi')
END
$$;

-- A heading of the given level (1-6).
CREATE FUNCTION privacy.report_heading(format text, level int, title text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
SELECT CASE privacy.report_format(format)
    WHEN 'html' THEN pg_catalog.format('<h%s>%s</h%s>', least(greatest(level, 1), 6),
                                       privacy.report_escape(title, format), least(greatest(level, 1), 6)) || E'\n'
    ELSE repeat('#', least(greatest(level, 1), 6)) || ' ' || privacy.report_escape(title, format) || E'\n\n'
END
$$;

-- A paragraph of text.
CREATE FUNCTION privacy.report_paragraph(format text, body text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
SELECT CASE privacy.report_format(format)
    WHEN 'html' THEN '<p>' || privacy.report_escape(body, format) || E'</p>\n'
    ELSE privacy.report_escape(body, format) || E'\n\n'
END
$$;

-- A table: headers, and rows as a JSON array of arrays (strings, numbers,
-- booleans or nulls; a null is an empty cell).  The id names the HTML
-- table (for readers and tests); no rows: the paragraph "None.".
CREATE FUNCTION privacy.report_table(format text, id text, headers text[], rows jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fmt text := privacy.report_format(format);
    head text;
    body text;
BEGIN
    IF rows IS NULL OR jsonb_typeof(rows) <> 'array' OR jsonb_array_length(rows) = 0 THEN
        RETURN privacy.report_paragraph(fmt, 'None.');
    END IF;
    IF fmt = 'html' THEN
        SELECT string_agg('<th>' || privacy.report_escape(h, fmt) || '</th>', '' ORDER BY o)
          INTO head FROM unnest(headers) WITH ORDINALITY u(h, o);
        SELECT string_agg('<tr>' || (SELECT string_agg('<td>' || privacy.report_escape(c, fmt) || '</td>', ''
                                                       ORDER BY co)
                                       FROM jsonb_array_elements_text(r) WITH ORDINALITY v(c, co))
                          || '</tr>', E'\n' ORDER BY ro)
          INTO body FROM jsonb_array_elements(rows) WITH ORDINALITY u(r, ro);
        RETURN '<table id="' || privacy.report_escape(id, fmt) || '"><thead><tr>' || head
               || E'</tr></thead>\n<tbody>\n' || body || E'\n</tbody></table>\n';
    END IF;
    SELECT '| ' || string_agg(privacy.report_escape(h, fmt), ' | ' ORDER BY o) || E' |\n|'
           || string_agg(' --- ', '|') || '|'
      INTO head FROM unnest(headers) WITH ORDINALITY u(h, o);
    SELECT string_agg('| ' || (SELECT string_agg(privacy.report_escape(c, fmt), ' | ' ORDER BY co)
                                 FROM jsonb_array_elements_text(r) WITH ORDINALITY v(c, co)) || ' |',
                      E'\n' ORDER BY ro)
      INTO body FROM jsonb_array_elements(rows) WITH ORDINALITY u(r, ro);
    RETURN head || E'\n' || body || E'\n\n';
END
$$;

-- The whole document around a body made of the helpers above.
CREATE FUNCTION privacy.report_document(format text, title text, body text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
SELECT CASE privacy.report_format(format)
    WHEN 'html' THEN
        E'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        || '<title>' || privacy.report_escape(title, format) || E'</title>\n'
        || E'<style>\n'
        || E'body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 2em; color: #222; background: #fff; }\n'
        || E'h1 { font-size: 1.5em; border-bottom: 2px solid #2f4f6f; padding-bottom: .2em; }\n'
        || E'h2 { font-size: 1.2em; margin-top: 1.6em; color: #2f4f6f; }\n'
        || E'h3 { font-size: 1em; color: #2f4f6f; }\n'
        || E'table { border-collapse: collapse; margin: .4em 0 1em; font-size: .85em; }\n'
        || E'th, td { border: 1px solid #b8c2cc; padding: .25em .6em; text-align: left; vertical-align: top; white-space: pre-wrap; }\n'
        || E'th { background: #e4ebf2; }\n'
        || E'tbody tr:nth-child(even) { background: #f5f7f9; }\n'
        || E'p { max-width: 60em; }\n'
        || E'</style>\n</head>\n<body>\n'
        || privacy.report_heading(format, 1, title) || body
        || E'</body>\n</html>\n'
    ELSE privacy.report_heading(format, 1, title) || body
END
$$;

-- A time as the documents show it: UTC, to the second.
CREATE FUNCTION privacy.report_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')
$$;

------------------------------------------------------------------------
-- privacy.report(): the data protection officer's document.
------------------------------------------------------------------------
-- jit is off for both documents: their many small queries over small, often
-- never analyzed tables get estimates that would have each one JIT-compiled,
-- for far longer than it runs (seconds per document).  report() is volatile
-- because it calls privacy.detect_personal_data, whatever that does.
CREATE FUNCTION privacy.report(format text DEFAULT 'html') RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    fmt text;
    body text := '';
    summary jsonb := '[]';
    r jsonb;
    n bigint;
    detection_available boolean;
    detected jsonb;
    inv jsonb;
BEGIN
    PERFORM privacy.require_admin();
    fmt := privacy.report_format(format);

    -- The inventory once (it checks every role's privileges on every
    -- column): each section reads this copy.
    SELECT coalesce(jsonb_agg(to_jsonb(i)), '[]') INTO inv FROM privacy.inventory i;

    -- The detection's findings, when privacy.detect_personal_data is installed.
    detection_available := to_regprocedure('privacy.detect_personal_data(integer)') IS NOT NULL;
    IF detection_available THEN
        EXECUTE $q$
            SELECT coalesce(jsonb_agg(jsonb_build_array(
                       d.table_name::text, pg_catalog.quote_ident(d.column_name), d.category,
                       round(d.confidence::numeric, 2), d.suggested_level, d.suggested_rule,
                       coalesce(k.level, 'not classified'))
                     ORDER BY d.table_name::text, d.column_name, d.category), '[]'::jsonb)
              FROM privacy.detect_personal_data(1000) d
              LEFT JOIN privacy.classifications k
                     ON k.relid = d.table_name AND k.column_name = d.column_name
        $q$ INTO detected;
    END IF;

    -- Summary
    SELECT jsonb_build_array(
        jsonb_build_array('Database', current_database()),
        jsonb_build_array('Generated at', privacy.report_time(now())),
        jsonb_build_array('Tables in the inventory',
            (SELECT count(DISTINCT (i.schema_name, i.table_name)) FROM jsonb_populate_recordset(NULL::privacy.inventory, inv) i WHERE i.table_name IS NOT NULL)),
        jsonb_build_array('Columns in the inventory',
            (SELECT count(*) FROM jsonb_populate_recordset(NULL::privacy.inventory, inv) i WHERE i.table_name IS NOT NULL)),
        jsonb_build_array('Personal or sensitive columns',
            (SELECT count(*) FROM jsonb_populate_recordset(NULL::privacy.inventory, inv) i WHERE i.level IN ('personal', 'sensitive'))),
        jsonb_build_array('Sensitive columns stored in clear',
            (SELECT count(*) FROM jsonb_populate_recordset(NULL::privacy.inventory, inv) i WHERE i.level = 'sensitive' AND NOT i.encrypted)),
        jsonb_build_array('Findings on columns',
            (SELECT count(*) FROM jsonb_populate_recordset(NULL::privacy.inventory, inv) i, unnest(i.findings) f WHERE i.table_name IS NOT NULL)),
        jsonb_build_array('Server findings',
            (SELECT count(*) FROM jsonb_populate_recordset(NULL::privacy.inventory, inv) i, unnest(i.findings) f WHERE i.table_name IS NULL)),
        jsonb_build_array('Columns detected as personal data',
            -- findings only: not the rows saying a column is handled already
            CASE WHEN detection_available
                 THEN (SELECT count(*) FROM jsonb_array_elements(detected) e
                        WHERE e->3 <> 'null'::jsonb)::text
                 ELSE 'detection not available' END),
        jsonb_build_array('Purposes',
            (SELECT count(*) || ' (' || count(*) FILTER (WHERE p.legal_basis = 'consent') || ' based on consent)'
               FROM privacy.purposes p)),
        jsonb_build_array('Keys',
            (SELECT count(*) FILTER (WHERE k.destroyed_at IS NULL) || ' active, '
                    || count(*) FILTER (WHERE k.destroyed_at IS NOT NULL) || ' destroyed'
               FROM privacy.data_keys k)),
        jsonb_build_array('Consents that count now',
            (SELECT count(*) FROM privacy.consents c WHERE c.valid)),
        jsonb_build_array('Masking coverage',
            (SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM privacy.mask_rules m
                                                    WHERE m.relid = k.relid AND m.column_name = k.column_name
                                                      AND m.rule <> 'none'))
                    || ' of ' || count(*) || ' personal or sensitive columns have a mask rule'
               FROM privacy.classifications k
               JOIN pg_class c ON c.oid = k.relid
              WHERE k.level IN ('personal', 'sensitive'))))
      INTO summary;
    body := body || privacy.report_heading(fmt, 2, 'Summary')
                 || privacy.report_table(fmt, 'summary', ARRAY['Item', 'Value'], summary);

    -- Inventory, by table and by category
    body := body || privacy.report_heading(fmt, 2, 'Personal-data inventory')
                 || privacy.report_paragraph(fmt, 'Every column that is classified, encrypted, masked or in a '
                                                  || 'consent-protected table (privacy.inventory).');
    SELECT coalesce(jsonb_agg(jsonb_build_array(
               pg_catalog.format('%I.%I', i.schema_name, i.table_name), pg_catalog.quote_ident(i.column_name), i.level, i.category,
               i.data_type,
               CASE WHEN i.encrypted THEN 'yes, key ' || coalesce(i.key_name, 'unknown') ELSE 'no' END,
               array_to_string(i.mask_rules, '; '),
               CASE WHEN NOT i.consent_protected THEN 'no'
                    WHEN i.is_subject_column THEN 'yes (subject column)' ELSE 'yes' END)
             ORDER BY i.schema_name, i.table_name, i.column_name), '[]')
      INTO r FROM jsonb_populate_recordset(NULL::privacy.inventory, inv) i WHERE i.table_name IS NOT NULL;
    body := body || privacy.report_heading(fmt, 3, 'By table')
                 || privacy.report_table(fmt, 'inventory',
                        ARRAY['Table', 'Column', 'Level', 'Category', 'Type', 'Encrypted', 'Mask rules',
                              'Consent-protected'], r);
    SELECT coalesce(jsonb_agg(jsonb_build_array(s.category, s.levels, s.columns, s.tables, s.encrypted)
                              ORDER BY s.category NULLS LAST), '[]')
      INTO r
      FROM (SELECT coalesce(i.category, '(no category)') AS category,
                   string_agg(DISTINCT i.level, ', ') AS levels,
                   count(*) AS columns,
                   count(DISTINCT (i.schema_name, i.table_name)) AS tables,
                   count(*) FILTER (WHERE i.encrypted) AS encrypted
              FROM jsonb_populate_recordset(NULL::privacy.inventory, inv) i
             WHERE i.table_name IS NOT NULL AND i.level IS NOT NULL
             GROUP BY 1) s;
    body := body || privacy.report_heading(fmt, 3, 'By data category')
                 || privacy.report_table(fmt, 'categories',
                        ARRAY['Category', 'Levels', 'Columns', 'Tables', 'Encrypted columns'], r);

    -- Findings: the inventory's, then the detection's
    body := body || privacy.report_heading(fmt, 2, 'Findings');
    SELECT coalesce(jsonb_agg(jsonb_build_array(f.tbl, f.col, f.finding)
                              ORDER BY f.is_server, f.tbl, f.col, f.ord), '[]')
      INTO r
      FROM (SELECT i.table_name IS NULL AS is_server,
                   CASE WHEN i.table_name IS NULL THEN '(server)'
                        ELSE pg_catalog.format('%I.%I', i.schema_name, i.table_name) END AS tbl,
                   coalesce(pg_catalog.quote_ident(i.column_name), '') AS col, x.finding, x.ord
              FROM jsonb_populate_recordset(NULL::privacy.inventory, inv) i
             CROSS JOIN LATERAL unnest(i.findings) WITH ORDINALITY x(finding, ord)) f;
    body := body || privacy.report_heading(fmt, 3, 'Inventory findings')
                 || privacy.report_table(fmt, 'findings', ARRAY['Table', 'Column', 'Finding'], r);
    body := body || privacy.report_heading(fmt, 3, 'Detected personal data');
    IF detection_available THEN
        body := body || privacy.report_paragraph(fmt, 'Columns whose names and sampled values (up to 1000 '
                                                      || 'rows per table) look like personal data '
                                                      || '(privacy.detect_personal_data).')
                     || privacy.report_table(fmt, 'detected',
                            ARRAY['Table', 'Column', 'Category', 'Confidence', 'Suggested level',
                                  'Suggested rule', 'Classified as'], detected);
    ELSE
        body := body || privacy.report_paragraph(fmt, 'detection not available (privacy.detect_personal_data '
                                                      || 'is not installed).');
    END IF;

    -- Record of processing
    body := body || privacy.report_heading(fmt, 2, 'Record of processing');
    SELECT coalesce(jsonb_agg(jsonb_build_array(p.name, p.legal_basis, p.parent,
               (SELECT string_agg(g.role_name::text, ', ' ORDER BY g.role_name)
                  FROM privacy.purpose_grants g WHERE g.purpose = p.name),
               (SELECT count(*) FROM privacy.processing_record pr WHERE pr.purpose = p.name),
               p.description) ORDER BY p.name), '[]')
      INTO r FROM privacy.purposes p;
    body := body || privacy.report_heading(fmt, 3, 'Purposes')
                 || privacy.report_table(fmt, 'purposes',
                        ARRAY['Purpose', 'Legal basis', 'Parent', 'Roles', 'Tables', 'Description'], r);
    SELECT coalesce(jsonb_agg(jsonb_build_array(pr.purpose, pr.legal_basis, pr.table_name::text,
               array_to_string(pr.data_categories, ', '),
               CASE WHEN pr.consent_checked THEN 'yes' ELSE 'no' END,
               array_to_string(pr.roles, ', '))
             ORDER BY pr.purpose, pr.table_name::text), '[]')
      INTO r FROM privacy.processing_record pr;
    body := body || privacy.report_heading(fmt, 3, 'Processing')
                 || privacy.report_paragraph(fmt, 'For each purpose, the tables of personal data that the '
                                                  || 'roles granted it can read (privacy.processing_record).')
                 || privacy.report_table(fmt, 'processing',
                        ARRAY['Purpose', 'Legal basis', 'Table', 'Data categories', 'Rows consent-checked',
                              'Roles'], r);

    -- Keys: metadata only (privacy.data_keys and the versions' dates)
    body := body || privacy.report_heading(fmt, 2, 'Keys');
    SELECT coalesce(jsonb_agg(jsonb_build_array(s.status, s.keys, s.oldest, s.longest_unrotated)
                              ORDER BY s.status), '[]')
      INTO r
      FROM (SELECT CASE WHEN k.destroyed_at IS NULL THEN 'active' ELSE 'destroyed' END AS status,
                   count(*) AS keys,
                   max(date_part('day', now() - k.created_at))::int || ' days' AS oldest,
                   CASE WHEN bool_and(k.destroyed_at IS NULL)
                        THEN max(date_part('day', now() - v.created_at))::int || ' days' END AS longest_unrotated
              FROM privacy.data_keys k
              LEFT JOIN privacy.data_key_versions v ON v.key_id = k.key_id AND v.version = k.active_version
             GROUP BY 1) s;
    body := body || privacy.report_heading(fmt, 3, 'By status')
                 || privacy.report_table(fmt, 'keys_by_status',
                        ARRAY['Status', 'Keys', 'Oldest key', 'Longest since rotation'], r);
    SELECT coalesce(jsonb_agg(jsonb_build_array(k.name,
               CASE WHEN k.destroyed_at IS NULL THEN 'active' ELSE 'destroyed' END,
               k.active_version,
               (SELECT count(*) FROM privacy.data_key_versions v WHERE v.key_id = k.key_id),
               date_part('day', now() - k.created_at)::int || ' days',
               (SELECT date_part('day', now() - v.created_at)::int || ' days'
                  FROM privacy.data_key_versions v WHERE v.key_id = k.key_id AND v.version = k.active_version),
               privacy.report_time(k.created_at),
               privacy.report_time(k.destroyed_at),
               (SELECT string_agg(g.grantee_name::text, ', ' ORDER BY g.grantee_name)
                  FROM privacy.key_grants g WHERE g.key_id = k.key_id))
             ORDER BY k.name), '[]')
      INTO r FROM privacy.data_keys k;
    body := body || privacy.report_heading(fmt, 3, 'Each key')
                 || privacy.report_table(fmt, 'keys',
                        ARRAY['Key', 'Status', 'Active version', 'Versions', 'Age', 'Active version age',
                              'Created', 'Destroyed', 'Granted to'], r);

    -- Consent figures per purpose
    body := body || privacy.report_heading(fmt, 2, 'Consent')
                 || privacy.report_paragraph(fmt, 'Subjects per purpose by the state of their consent now: '
                                                  || 'given (counts now), withdrawn, expired, and given under '
                                                  || 'a policy version that requires consent again; then the '
                                                  || 'recorded grants and withdrawals.');
    SELECT coalesce(jsonb_agg(jsonb_build_array(p.name, p.legal_basis,
               (SELECT count(*) FROM privacy.consents c WHERE c.purpose = p.name AND c.valid),
               (SELECT count(*) FROM privacy.consents c WHERE c.purpose = p.name AND NOT c.granted),
               (SELECT count(*) FROM privacy.consents c
                 WHERE c.purpose = p.name AND c.granted AND c.expires_at <= now()),
               (SELECT count(*) FROM privacy.consents c
                 WHERE c.purpose = p.name AND c.granted AND NOT c.valid
                   AND (c.expires_at IS NULL OR c.expires_at > now())),
               (SELECT count(*) FROM privacy.consent_events e WHERE e.purpose = p.name AND e.action = 'grant'),
               (SELECT count(*) FROM privacy.consent_events e WHERE e.purpose = p.name AND e.action = 'withdraw'))
             ORDER BY p.name), '[]')
      INTO r FROM privacy.purposes p;
    body := body || privacy.report_table(fmt, 'consent',
                        ARRAY['Purpose', 'Legal basis', 'Given', 'Withdrawn', 'Expired', 'Needs consent again',
                              'Grants recorded', 'Withdrawals recorded'], r);

    -- Masking coverage: per table, its personal and sensitive columns and
    -- those with a rule, for everyone (default) or for some roles only ('none'
    -- shows the column in clear: no masking rule)
    body := body || privacy.report_heading(fmt, 2, 'Masking coverage');
    SELECT coalesce(jsonb_agg(jsonb_build_array(s.tbl, s.personal, s.with_default, s.role_only, s.without_rule,
               s.encrypted, s.view_name,
               CASE WHEN s.personal > 0 THEN round(100.0 * (s.with_default + s.role_only) / s.personal) || ' %' END)
             ORDER BY s.tbl), '[]')
      INTO r
      FROM (SELECT k.relid::text AS tbl,
                   count(*) AS personal,
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM privacy.mask_rules m
                                                   WHERE m.relid = k.relid AND m.column_name = k.column_name AND m.rule <> 'none'
                                                     AND m.role_name IS NULL)) AS with_default,
                   count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM privacy.mask_rules m
                                                       WHERE m.relid = k.relid AND m.column_name = k.column_name AND m.rule <> 'none'
                                                         AND m.role_name IS NULL)
                                      AND EXISTS (SELECT 1 FROM privacy.mask_rules m
                                                   WHERE m.relid = k.relid AND m.column_name = k.column_name AND m.rule <> 'none'))
                       AS role_only,
                   count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM privacy.mask_rules m
                                                       WHERE m.relid = k.relid AND m.column_name = k.column_name AND m.rule <> 'none'))
                       AS without_rule,
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM privacy.encrypted_columns e
                                                   WHERE e.relid = k.relid AND e.attnum = a.attnum
                                                     AND e.shape IN ('value', 'array'))) AS encrypted,
                   (SELECT v.view_name FROM privacy.masking_views v WHERE v.relid = k.relid) AS view_name
              FROM privacy.classifications k
              JOIN pg_attribute a ON a.attrelid = k.relid AND a.attname = k.column_name
                                 AND a.attnum > 0 AND NOT a.attisdropped
             WHERE k.level IN ('personal', 'sensitive')
             GROUP BY k.relid) s;
    body := body || privacy.report_table(fmt, 'masking',
                        ARRAY['Table', 'Personal columns', 'Rule for everyone', 'Rules for some roles only',
                              'No rule', 'Encrypted', 'Masking view', 'Coverage'], r);
    SELECT coalesce(jsonb_agg(jsonb_build_array(m.role_name::text,
               (SELECT string_agg(v.view_name, ', ' ORDER BY v.view_name)
                  FROM privacy.masking_views v
                  JOIN pg_roles ro ON ro.rolname = m.role_name
                 WHERE to_regclass(v.view_name) IS NOT NULL
                   AND has_table_privilege(ro.oid, to_regclass(v.view_name), 'SELECT')))
             ORDER BY m.role_name), '[]')
      INTO r FROM privacy.masked_roles m;
    body := body || privacy.report_heading(fmt, 3, 'Masked roles')
                 || privacy.report_table(fmt, 'masked_roles', ARRAY['Role', 'Masking views it reads'], r);

    RETURN privacy.report_document(fmt, 'Personal data report: ' || current_database(), body);
END
$$;
REVOKE ALL ON FUNCTION privacy.report(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.report(text) TO privacy_admin;

------------------------------------------------------------------------
-- privacy.incident_report(): what one role was shown, from the audit trail
------------------------------------------------------------------------

-- The schema, table and column of an audit event's object
-- ("schema.table.column", each quoted as needed); NULL for any other form.
CREATE FUNCTION privacy.report_audit_column(object text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    parts text[];
BEGIN
    parts := parse_ident(object);
    RETURN CASE WHEN cardinality(parts) = 3 THEN parts END;
EXCEPTION WHEN invalid_parameter_value OR syntax_error THEN
    RETURN NULL;
END
$$;

-- The audit events of a role in a time window: as session user (a login
-- that may have SET ROLE) or as the role whose privileges were used; with
-- the column an event names, and the key of a read.
CREATE FUNCTION privacy.report_incident_events(role_name text, from_time timestamptz, to_time timestamptz)
RETURNS TABLE (at timestamptz, session_user_name name, current_role_name name, purpose text,
               action text, object text, count int8, parts text[], key_name text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
SELECT a.at, a.session_user_name, a.current_role_name, a.purpose, a.action, a.object, a.count,
       CASE WHEN a.action IN ('decrypt', 'unmask', 'masked_read') AND a.object IS NOT NULL
            THEN privacy.report_audit_column(a.object) END,
       CASE WHEN jsonb_typeof(a.detail) = 'object' THEN a.detail ->> 'key' END
  FROM privacy.audit_log a
 WHERE a.at >= from_time AND a.at < to_time
   AND (a.session_user_name = role_name OR a.current_role_name = role_name)
$$;
REVOKE ALL ON FUNCTION privacy.report_incident_events(text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.report_incident_events(text, timestamptz, timestamptz) TO privacy_admin;

CREATE FUNCTION privacy.incident_report(role_name text, from_time timestamptz,
                                        to_time timestamptz DEFAULT now(), format text DEFAULT 'html')
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    fmt text;
    body text := '';
    r jsonb;
    role_state text;
    all_events bigint;
BEGIN
    PERFORM privacy.require_admin();
    fmt := privacy.report_format(format);
    IF role_name IS NULL OR from_time IS NULL OR to_time IS NULL THEN
        RAISE EXCEPTION 'role and time window must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF role_name = '' THEN
        RAISE EXCEPTION 'role name must not be empty' USING ERRCODE = '22023';
    END IF;
    IF from_time >= to_time THEN
        RAISE EXCEPTION 'time window is empty: it must start before it ends' USING ERRCODE = '22023';
    END IF;

    SELECT count(*) INTO all_events FROM privacy.audit_log a WHERE a.at >= from_time AND a.at < to_time;
    SELECT CASE WHEN ro.rolname IS NULL THEN 'no such role now'
                ELSE 'exists' || CASE WHEN ro.rolcanlogin THEN ', can log in' ELSE ', cannot log in' END
                     || CASE WHEN ro.rolsuper THEN ', superuser' ELSE '' END END
      INTO role_state
      FROM (SELECT 1) one LEFT JOIN pg_roles ro ON ro.rolname = role_name;

    -- Summary
    SELECT jsonb_build_array(
        jsonb_build_array('Role', role_name),
        jsonb_build_array('Role now', role_state),
        jsonb_build_array('From', privacy.report_time(from_time)),
        jsonb_build_array('To', privacy.report_time(to_time)),
        jsonb_build_array('Generated at', privacy.report_time(now())),
        jsonb_build_array('Audit events in the window (all roles)', all_events),
        jsonb_build_array('Audit events of the role', (SELECT count(*) FROM privacy.report_incident_events(role_name, from_time, to_time))),
        jsonb_build_array('Columns decrypted',
            (SELECT count(DISTINCT e.parts) FROM privacy.report_incident_events(role_name, from_time, to_time) e
              WHERE e.action = 'decrypt' AND e.parts IS NOT NULL)),
        jsonb_build_array('Values decrypted',
            (SELECT coalesce(sum(e.count), 0) FROM privacy.report_incident_events(role_name, from_time, to_time) e WHERE e.action = 'decrypt')),
        jsonb_build_array('Columns read unmasked',
            (SELECT count(DISTINCT e.parts) FROM privacy.report_incident_events(role_name, from_time, to_time) e
              WHERE e.action = 'unmask' AND e.parts IS NOT NULL)),
        jsonb_build_array('Values read unmasked',
            (SELECT coalesce(sum(e.count), 0) FROM privacy.report_incident_events(role_name, from_time, to_time) e WHERE e.action = 'unmask')),
        jsonb_build_array('Values read masked',
            (SELECT coalesce(sum(e.count), 0) FROM privacy.report_incident_events(role_name, from_time, to_time) e WHERE e.action = 'masked_read')),
        jsonb_build_array('Subjects exported',
            (SELECT count(*) FROM privacy.report_incident_events(role_name, from_time, to_time) e WHERE e.action = 'export')),
        jsonb_build_array('Subjects erased',
            (SELECT count(*) FROM privacy.report_incident_events(role_name, from_time, to_time) e WHERE e.action = 'erase')))
      INTO r;
    body := body || privacy.report_heading(fmt, 2, 'Summary')
                 || privacy.report_table(fmt, 'summary', ARRAY['Item', 'Value'], r)
                 || privacy.report_paragraph(fmt, 'From privacy.audit_log: events written only to the server '
                                                  || 'log (privacy.audit = ''log'') are not in it, and a read of '
                                                  || 'a column stored in clear straight from its table is not '
                                                  || 'an audit event.');
    IF all_events = 0 THEN
        body := body || privacy.report_paragraph(fmt, 'No audit event at all was recorded in this window: '
                                                      || 'check that privacy.audit included ''table'' then.');
    END IF;

    -- Every column decrypted or read unmasked, with counts
    SELECT coalesce(jsonb_agg(jsonb_build_array(x.tbl, x.col, x.how, x.values_read, x.statements,
               x.first_at, x.last_at, x.keys, x.acting_roles, x.purposes, x.level, x.category)
             ORDER BY x.tbl, x.col, x.how), '[]')
      INTO r
      FROM (SELECT CASE WHEN e.parts IS NULL THEN '(not a column)'
                        ELSE pg_catalog.format('%I.%I', e.parts[1], e.parts[2]) END AS tbl,
                   coalesce(pg_catalog.quote_ident(e.parts[3]), '') AS col,
                   CASE e.action WHEN 'decrypt' THEN 'decrypted' ELSE 'read unmasked' END AS how,
                   sum(e.count) AS values_read, count(*) AS statements,
                   privacy.report_time(min(e.at)) AS first_at, privacy.report_time(max(e.at)) AS last_at,
                   string_agg(DISTINCT e.key_name, ', ') AS keys,
                   string_agg(DISTINCT e.current_role_name::text, ', ') AS acting_roles,
                   string_agg(DISTINCT coalesce(e.purpose, '(none)'), ', ') AS purposes,
                   max(k.level) AS level, max(k.category) AS category
              FROM privacy.report_incident_events(role_name, from_time, to_time) e
              LEFT JOIN LATERAL (
                   SELECT c.level, c.category FROM privacy.classifications c
                     JOIN pg_class rel ON rel.oid = c.relid
                     JOIN pg_namespace ns ON ns.oid = rel.relnamespace
                    WHERE ns.nspname = e.parts[1] AND rel.relname = e.parts[2]
                      AND c.column_name = e.parts[3]) k ON true
             WHERE e.action IN ('decrypt', 'unmask')
             GROUP BY 1, 2, 3) x;
    body := body || privacy.report_heading(fmt, 2, 'Columns exposed')
                 || privacy.report_paragraph(fmt, 'Every column the role decrypted or read unmasked through '
                                                  || 'a masking view, with the number of values and of '
                                                  || 'statements, and the data category from the inventory. '
                                                  || '"(not a column)": values decrypted from an expression.')
                 || privacy.report_table(fmt, 'exposed',
                        ARRAY['Table', 'Column', 'How', 'Values', 'Statements', 'First', 'Last', 'Keys',
                              'Acting roles', 'Purposes declared', 'Level', 'Category'], r);

    -- Per table: its exposed columns and their data categories
    SELECT coalesce(jsonb_agg(jsonb_build_array(x.tbl, x.cols, x.values_read, x.categories) ORDER BY x.tbl), '[]')
      INTO r
      FROM (SELECT pg_catalog.format('%I.%I', e.parts[1], e.parts[2]) AS tbl,
                   string_agg(DISTINCT pg_catalog.quote_ident(e.parts[3]), ', ') AS cols,
                   sum(e.count) AS values_read,
                   (SELECT string_agg(DISTINCT c.category, ', ')
                      FROM privacy.classifications c
                      JOIN pg_class rel ON rel.oid = c.relid
                      JOIN pg_namespace ns ON ns.oid = rel.relnamespace
                     WHERE ns.nspname = min(e.parts[1]) AND rel.relname = min(e.parts[2])
                       AND c.column_name IN (SELECT e2.parts[3] FROM privacy.report_incident_events(role_name, from_time, to_time) e2
                                              WHERE e2.action IN ('decrypt', 'unmask')
                                                AND e2.parts[1] = min(e.parts[1])
                                                AND e2.parts[2] = min(e.parts[2]))) AS categories
              FROM privacy.report_incident_events(role_name, from_time, to_time) e
             WHERE e.action IN ('decrypt', 'unmask') AND e.parts IS NOT NULL
             GROUP BY e.parts[1], e.parts[2]) x;
    body := body || privacy.report_heading(fmt, 2, 'Tables exposed')
                 || privacy.report_table(fmt, 'tables',
                        ARRAY['Table', 'Columns', 'Values', 'Data categories'], r);

    -- Purposes the role declared (and those its reads ran under)
    SELECT coalesce(jsonb_agg(jsonb_build_array(x.purpose, x.legal_basis, x.declared, x.values_exposed)
                              ORDER BY x.purpose), '[]')
      INTO r
      FROM (SELECT coalesce(e.purpose, '(none)') AS purpose, min(p.legal_basis) AS legal_basis,
                   count(*) FILTER (WHERE e.action = 'purpose_declared') AS declared,
                   coalesce(sum(e.count) FILTER (WHERE e.action IN ('decrypt', 'unmask')), 0) AS values_exposed
              FROM privacy.report_incident_events(role_name, from_time, to_time) e
              LEFT JOIN privacy.purposes p ON p.name = e.purpose
             WHERE e.action IN ('purpose_declared', 'decrypt', 'unmask', 'masked_read')
             GROUP BY 1) x;
    body := body || privacy.report_heading(fmt, 2, 'Purposes declared')
                 || privacy.report_table(fmt, 'purposes',
                        ARRAY['Purpose', 'Legal basis', 'Statements declaring it', 'Values exposed under it'], r);

    -- Keys involved
    SELECT coalesce(jsonb_agg(jsonb_build_array(x.key_name, x.values_read, x.cols,
               CASE WHEN k.key_id IS NULL THEN 'no such key now'
                    WHEN k.destroyed_at IS NOT NULL THEN 'destroyed' ELSE 'active' END,
               -- Whether the role can still decrypt with the key, as
               -- decryption decides it (src/keys/key_store.c): a superuser,
               -- or a grant to a role whose privileges it has, itself or
               -- through membership with INHERIT (a grant whose role was
               -- dropped and its name reused does not count).
               CASE WHEN k.key_id IS NULL OR ro.oid IS NULL THEN 'no'
                    WHEN EXISTS (SELECT 1 FROM privacy.key_grants g
                                   JOIN pg_roles gr ON gr.oid = g.grantee AND gr.rolname = g.grantee_name
                                  WHERE g.key_id = k.key_id AND gr.oid = ro.oid)
                    THEN 'yes'
                    WHEN ro.rolsuper THEN 'yes, as a superuser'
                    ELSE coalesce((SELECT 'yes, through membership in '
                                          || string_agg(quote_ident(gr.rolname), ', ' ORDER BY gr.rolname)
                                     FROM privacy.key_grants g
                                     JOIN pg_roles gr ON gr.oid = g.grantee AND gr.rolname = g.grantee_name
                                    WHERE g.key_id = k.key_id AND pg_has_role(ro.oid, gr.oid, 'USAGE')
                                   HAVING count(*) > 0), 'no') END)
             ORDER BY x.key_name), '[]')
      INTO r
      FROM (SELECT e.key_name, sum(e.count) AS values_read,
                   count(DISTINCT e.parts) AS cols
              FROM privacy.report_incident_events(role_name, from_time, to_time) e
             WHERE e.action IN ('decrypt', 'unmask', 'masked_read') AND e.key_name IS NOT NULL
             GROUP BY e.key_name) x
      LEFT JOIN privacy.data_keys k ON k.name = x.key_name
      LEFT JOIN pg_roles ro ON ro.rolname = role_name;
    body := body || privacy.report_heading(fmt, 2, 'Keys involved')
                 || privacy.report_table(fmt, 'keys',
                        ARRAY['Key', 'Values opened with it', 'Columns', 'Key now', 'Still granted to the role'], r);

    -- Masked reads: seen, but not in clear
    SELECT coalesce(jsonb_agg(jsonb_build_array(x.tbl, x.col, x.values_read, x.statements) ORDER BY x.tbl, x.col), '[]')
      INTO r
      FROM (SELECT CASE WHEN e.parts IS NULL THEN '(not a column)'
                        ELSE pg_catalog.format('%I.%I', e.parts[1], e.parts[2]) END AS tbl,
                   coalesce(pg_catalog.quote_ident(e.parts[3]), '') AS col, sum(e.count) AS values_read, count(*) AS statements
              FROM privacy.report_incident_events(role_name, from_time, to_time) e
             WHERE e.action = 'masked_read'
             GROUP BY 1, 2) x;
    body := body || privacy.report_heading(fmt, 2, 'Columns read masked')
                 || privacy.report_table(fmt, 'masked', ARRAY['Table', 'Column', 'Values', 'Statements'], r);

    -- Everything else the role did, by action (no objects: an export's or
    -- a consent's object is a subject or carries one)
    SELECT coalesce(jsonb_agg(jsonb_build_array(x.action, x.events, x.total) ORDER BY x.action), '[]')
      INTO r
      FROM (SELECT e.action, count(*) AS events, sum(e.count) AS total
              FROM privacy.report_incident_events(role_name, from_time, to_time) e
             WHERE e.action NOT IN ('decrypt', 'unmask', 'masked_read', 'purpose_declared')
             GROUP BY e.action) x;
    body := body || privacy.report_heading(fmt, 2, 'Other events')
                 || privacy.report_table(fmt, 'other', ARRAY['Action', 'Events', 'Count'], r);

    RETURN privacy.report_document(fmt, 'Incident report: ' || role_name, body);
END
$$;
REVOKE ALL ON FUNCTION privacy.incident_report(text, timestamptz, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.incident_report(text, timestamptz, timestamptz, text) TO privacy_admin;
