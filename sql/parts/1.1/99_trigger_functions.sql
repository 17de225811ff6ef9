-- Trigger functions are for the extension's own tables.  PostgreSQL checks
-- EXECUTE on a trigger's function only when the trigger is created, so
-- without it no role can attach one to a table of its own (where
-- audit_consent_event would write consent events as anyone, and
-- citus_sync_capture ship the table's rows to every node as the
-- extension's owner); the extension's triggers fire as before.  Each also
-- checks the table it fires on.
REVOKE ALL ON FUNCTION privacy.audit_consent_event(), privacy.key_tables_changed(),
    privacy.append_only(), privacy.citus_sync_capture(), privacy.citus_sync_apply() FROM PUBLIC;
