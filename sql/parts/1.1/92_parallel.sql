------------------------------------------------------------------------
-- Parallel query (issue 19): every function that may run in a parallel
-- worker is marked PARALLEL SAFE.  test/sql/parallel_safety.sql lists the
-- extension's functions with their marking and the reason for each that
-- is not safe.
------------------------------------------------------------------------

-- The consent policy.  A worker answers from its leader's decisions for
-- the statement -- purpose, grant, time, set of consenting subjects --
-- published in dynamic shared memory (src/consent/parallel.c), so it
-- answers as the leader would.  The forms with an explicit purpose stay
-- PARALLEL RESTRICTED: the leader publishes for the declared purpose only.
ALTER FUNCTION privacy.has_consent(text) PARALLEL SAFE;
ALTER FUNCTION privacy.has_consent(bigint) PARALLEL SAFE;
ALTER FUNCTION privacy.has_consent(integer) PARALLEL SAFE;
ALTER FUNCTION privacy.has_consent(uuid) PARALLEL SAFE;

-- Checks and catalog lookups without side effects or session state.
ALTER FUNCTION privacy.require_admin() PARALLEL SAFE;
ALTER FUNCTION privacy.check_mask_rule(text, regtype) PARALLEL SAFE;
ALTER FUNCTION privacy.view_reads_table(oid, regclass) PARALLEL SAFE;
ALTER FUNCTION privacy.masking_view_of(regclass) PARALLEL SAFE;
ALTER FUNCTION privacy.masking_view_named(regclass) PARALLEL SAFE;
ALTER FUNCTION privacy.masking_view_consent_filter(regclass) PARALLEL SAFE;
ALTER FUNCTION privacy.masking_view_dependents(regclass) PARALLEL SAFE;
ALTER FUNCTION privacy.masking_view_filtered(regclass) PARALLEL SAFE;
ALTER FUNCTION privacy.acts_as_owner(regclass) PARALLEL SAFE;
ALTER FUNCTION privacy.holds_grants(regclass, name) PARALLEL SAFE;

-- Read-only, but answering from the leader's session: RESTRICTED (not
-- UNSAFE), so a query calling them can still scan in parallel.
--  anonymize_value: only inside erase_subject(), a request of the leader's.
ALTER FUNCTION privacy.anonymize_value(anyelement, regclass, name) PARALLEL RESTRICTED;
ALTER FUNCTION privacy.anonymize_value(privacy.encrypted_text, regclass, name) PARALLEL RESTRICTED;
ALTER FUNCTION privacy.anonymize_value(privacy.encrypted_text_det, regclass, name) PARALLEL RESTRICTED;
--  key_versions_in_use: SPI scans of every encrypted column as the
--  extension's owner; privacy.keys calls it per row.
ALTER FUNCTION privacy.key_versions_in_use(integer) PARALLEL RESTRICTED;
--  log_setting_findings: compares settings with the session's reset values.
ALTER FUNCTION privacy.log_setting_findings() PARALLEL RESTRICTED;
