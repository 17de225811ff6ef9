-- Static masking (masking/static.c): rewrite a table's rows in place with
-- each column's default masking rule, for development copies, never for
-- production.  All or nothing, in batches; superuser or privacy_admin
-- (checked in C, like the data-subject requests), refused during
-- recovery; one audit event per table.
CREATE FUNCTION privacy.anonymize_table("table" regclass) RETURNS bigint
    AS 'MODULE_PATHNAME', 'px_anonymize_table' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION privacy.anonymize_database() RETURNS bigint
    AS 'MODULE_PATHNAME', 'px_anonymize_database' LANGUAGE C VOLATILE;
