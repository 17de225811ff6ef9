-- The key tables are read by key administrators and written only by the
-- key functions (create_key, rotate_key, grant_key, revoke_key,
-- destroy_key, drop_key_version, rewrap_keys), as the extension's owner
-- (src/keys/key_admin.c), each with its audit event.  1.0 let
-- privacy_admin write them by hand: a key granted or revoked with an
-- INSERT or DELETE on privacy.key_grants left no key_grant or key_revoke
-- event.  Superusers still can.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
    ON privacy.data_keys, privacy.data_key_versions, privacy.key_grants, privacy.root_derivation_key
  FROM privacy_admin;
