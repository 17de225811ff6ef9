-- Restores in any order (pg_restore -j, a reordered --list, --data-only):
-- the references between the extension's tables are checked by triggers
-- that let a restore load rows before what they refer to, instead of
-- foreign keys that failed such restores (src/config_refs.c).
CREATE FUNCTION privacy.config_reference_check() RETURNS trigger
    AS 'MODULE_PATHNAME', 'px_config_reference_check' LANGUAGE C;
CREATE FUNCTION privacy.config_reference_parent() RETURNS trigger
    AS 'MODULE_PATHNAME', 'px_config_reference_parent' LANGUAGE C;
REVOKE ALL ON FUNCTION privacy.config_reference_check(), privacy.config_reference_parent() FROM PUBLIC;

ALTER TABLE privacy.data_key_versions DROP CONSTRAINT data_key_versions_key_id_fkey;
ALTER TABLE privacy.key_grants DROP CONSTRAINT key_grants_key_id_fkey;
ALTER TABLE privacy.purposes DROP CONSTRAINT purposes_parent_fkey;
ALTER TABLE privacy.purpose_grants DROP CONSTRAINT purpose_grants_purpose_fkey;
ALTER TABLE privacy.consent_state DROP CONSTRAINT consent_state_purpose_fkey;

CREATE TRIGGER key_exists BEFORE INSERT OR UPDATE OF key_id ON privacy.data_key_versions
    FOR EACH ROW EXECUTE FUNCTION privacy.config_reference_check('data_keys', 'key_id', 'key_id');
CREATE TRIGGER key_exists BEFORE INSERT OR UPDATE OF key_id ON privacy.key_grants
    FOR EACH ROW EXECUTE FUNCTION privacy.config_reference_check('data_keys', 'key_id', 'key_id');
CREATE TRIGGER versions_and_grants AFTER DELETE OR UPDATE OF key_id ON privacy.data_keys
    FOR EACH ROW EXECUTE FUNCTION privacy.config_reference_parent('data_key_versions', 'key_id', 'key_id', 'cascade');
CREATE TRIGGER grants AFTER DELETE OR UPDATE OF key_id ON privacy.data_keys
    FOR EACH ROW EXECUTE FUNCTION privacy.config_reference_parent('key_grants', 'key_id', 'key_id', 'cascade');

CREATE TRIGGER parent_exists BEFORE INSERT OR UPDATE OF parent ON privacy.purposes
    FOR EACH ROW EXECUTE FUNCTION privacy.config_reference_check('purposes', 'name', 'parent');
CREATE TRIGGER purpose_exists BEFORE INSERT OR UPDATE OF purpose ON privacy.purpose_grants
    FOR EACH ROW EXECUTE FUNCTION privacy.config_reference_check('purposes', 'name', 'purpose');
CREATE TRIGGER purpose_exists BEFORE INSERT OR UPDATE OF purpose ON privacy.consent_state
    FOR EACH ROW EXECUTE FUNCTION privacy.config_reference_check('purposes', 'name', 'purpose');
CREATE TRIGGER children AFTER DELETE OR UPDATE OF name ON privacy.purposes
    FOR EACH ROW EXECUTE FUNCTION privacy.config_reference_parent('purposes', 'parent', 'name', 'restrict');
CREATE TRIGGER grants AFTER DELETE OR UPDATE OF name ON privacy.purposes
    FOR EACH ROW EXECUTE FUNCTION privacy.config_reference_parent('purpose_grants', 'purpose', 'name', 'cascade');
CREATE TRIGGER consents AFTER DELETE OR UPDATE OF name ON privacy.purposes
    FOR EACH ROW EXECUTE FUNCTION privacy.config_reference_parent('consent_state', 'purpose', 'name', 'restrict');
