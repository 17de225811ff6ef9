-- Consent policies that compose with the table's own row-level security.
--
-- 1.0 created its consent policies PERMISSIVE.  PostgreSQL ORs permissive
-- policies together, so any permissive policy of the table's own (a tenant
-- policy, say) showed every row of a subject without consent, and every row
-- with no purpose declared; and its INSERT policy, WITH CHECK (true), undid
-- the table's own INSERT checks.  Now the consent policies are RESTRICTIVE
-- (ANDed with whatever else applies), and a permissive policy allowing every
-- row is added for a command only where the table has no permissive policy
-- of its own for it: without one, PostgreSQL would show no row at all.
--
--   privacy_consent_select / _update / _delete   RESTRICTIVE, has_consent(subject)
--   privacy_consent_allow_<command>              PERMISSIVE, true; only where needed
--
-- A permissive policy created on the table later is ORed with
-- privacy_consent_allow_<command> (which allows every row), so after adding
-- one, run protect_table again; privacy.inventory says so.
CREATE OR REPLACE FUNCTION privacy.protect_table(tbl regclass, subject_column name, on_erase text DEFAULT 'delete')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    coltype regtype;
    pol record;
    part record;
    cmd text;
    consent_call text;
BEGIN
    PERFORM privacy.require_admin();
    IF on_erase IS NULL OR on_erase NOT IN ('delete', 'anonymize') THEN
        RAISE EXCEPTION 'invalid on_erase "%"', on_erase USING ERRCODE = '22023',
            HINT = 'One of: delete, anonymize.';
    END IF;
    IF tbl IS NULL OR subject_column IS NULL THEN
        RAISE EXCEPTION 'protect_table needs a table and a subject column' USING ERRCODE = '22004';
    END IF;
    SELECT a.atttypid::regtype INTO coltype FROM pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = subject_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', subject_column, tbl USING ERRCODE = '42703';
    END IF;
    IF coltype NOT IN ('text'::regtype, 'varchar'::regtype, 'bigint'::regtype, 'integer'::regtype, 'uuid'::regtype) THEN
        RAISE EXCEPTION 'subject column % has type %', subject_column, coltype USING ERRCODE = '42804',
            HINT = 'Subjects are text, varchar, bigint, integer or uuid.';
    END IF;
    consent_call := format('privacy.has_consent(%I%s)', subject_column,
                           CASE WHEN coltype = 'varchar'::regtype THEN '::text' ELSE '' END);
    -- The table and, for a partitioned table, every partition: a partition
    -- read directly is filtered too.  (Partitions added later: run this again.)
    FOR part IN SELECT t.relid FROM pg_partition_tree(tbl) t
                  JOIN pg_class c ON c.oid = t.relid WHERE c.relkind IN ('r', 'p')
                UNION SELECT tbl LOOP
        -- Only when not on yet: an ALTER TABLE rebuilds the table's masking
        -- views (privacy_refresh_masking_views), which views of others built
        -- on them would refuse, and run again (or in an update from 1.0)
        -- nothing about the views changes.
        IF NOT (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = part.relid) THEN
            EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', part.relid);
        END IF;
        IF NOT (SELECT c.relforcerowsecurity FROM pg_class c WHERE c.oid = part.relid) THEN
            EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', part.relid);
        END IF;
        -- Its own policies only, by their exact names: a policy of the
        -- user's named privacy_consent_<something> stays.
        FOR pol IN SELECT p.polname FROM pg_policy p
                    WHERE p.polrelid = part.relid AND p.polname = ANY (privacy.consent_policy_names()) LOOP
            EXECUTE format('DROP POLICY %I ON %s', pol.polname, part.relid);
        END LOOP;
        EXECUTE format('CREATE POLICY privacy_consent_select ON %s AS RESTRICTIVE FOR SELECT USING (%s)',
                       part.relid, consent_call);
        -- The rewritten row is checked by the SELECT policy above (UPDATE
        -- reads the row), so WITH CHECK need not repeat it.
        EXECUTE format('CREATE POLICY privacy_consent_update ON %s AS RESTRICTIVE FOR UPDATE USING (%s)',
                       part.relid, consent_call);
        EXECUTE format('CREATE POLICY privacy_consent_delete ON %s AS RESTRICTIVE FOR DELETE USING (%s)',
                       part.relid, consent_call);
        -- New subjects can be recorded before they consent: INSERT has no
        -- consent policy, and keeps the table's own checks.
        FOREACH cmd IN ARRAY ARRAY['select', 'insert', 'update', 'delete'] LOOP
            IF NOT EXISTS (SELECT 1 FROM pg_policy p
                            WHERE p.polrelid = part.relid AND p.polpermissive
                              AND p.polname <> ALL (privacy.consent_policy_names())
                              AND p.polcmd IN ('*', CASE cmd WHEN 'select' THEN 'r' WHEN 'insert' THEN 'a'
                                                             WHEN 'update' THEN 'w' ELSE 'd' END)) THEN
                EXECUTE format('CREATE POLICY %I ON %s FOR %s %s', 'privacy_consent_allow_' || cmd, part.relid,
                               upper(cmd), CASE cmd WHEN 'insert' THEN 'WITH CHECK (true)' ELSE 'USING (true)' END);
            END IF;
        END LOOP;
        -- The policies made above do not rebuild the masking view as they
        -- come and go (41_): the view follows their end state.
        IF privacy.masking_view_of(part.relid) IS NOT NULL THEN
            PERFORM privacy.masking_view_follows_policies(part.relid);
        END IF;
    END LOOP;
    INSERT INTO privacy.protected_tables VALUES (tbl, subject_column, on_erase)
    ON CONFLICT (relid) DO UPDATE SET subject_column = EXCLUDED.subject_column,
                                      on_erase = EXCLUDED.on_erase;
END
$$;

-- A database updated from 1.0: its protected tables get the new policies
-- now, not when a DBA thinks of running protect_table again.  Tables whose
-- subject column has gone (renamed or dropped) are left for the inventory
-- to report.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT p.relid, p.subject_column, p.on_erase FROM privacy.protected_tables p
               JOIN pg_catalog.pg_attribute a ON a.attrelid = p.relid AND a.attname = p.subject_column
                                            AND a.attnum > 0 AND NOT a.attisdropped LOOP
        PERFORM privacy.protect_table(t.relid, t.subject_column, t.on_erase);
    END LOOP;
END
$$;
