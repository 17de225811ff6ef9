-- The purpose tree stays a tree has_consent() follows to the top: no cycle
-- (a purpose its own ancestor, or its own parent), and no purpose with more
-- than 15 ancestors (has_consent follows 16 names, src/consent/policy.c).
-- create_purpose and every INSERT, UPDATE or COPY of privacy.purposes are
-- checked once the statement's rows are in place, so rows may come in any
-- order (src/config_refs.c).  A parent that does not exist is refused by the
-- parent_exists trigger (70_restore.sql).
CREATE FUNCTION privacy.purpose_tree_check() RETURNS trigger
    LANGUAGE C SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'px_purpose_tree_check';
REVOKE ALL ON FUNCTION privacy.purpose_tree_check() FROM PUBLIC;
CREATE TRIGGER purpose_tree AFTER INSERT OR UPDATE OF name, parent ON privacy.purposes
    FOR EACH ROW EXECUTE FUNCTION privacy.purpose_tree_check();
