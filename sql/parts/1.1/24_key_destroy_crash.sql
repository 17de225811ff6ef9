-- Keys: a destruction cut short by a crash (src/keys/key_admin.c,
-- src/keys/key_store.c).  destroy_key overwrites the key material in
-- place, version 1 first, before its transaction commits; the overwrite
-- survives a crash that comes before the commit, while destroyed_at and
-- the removal of the grants do not.  The C code counts a key whose
-- version 1 is overwritten (all zero bytes) as destroyed, and so does this
-- view: such a key reads 'destroyed', with no grants, and no version of it
-- opens.  Running destroy_key again completes the catalog.
CREATE OR REPLACE VIEW privacy.keys AS
SELECT k.name,
       k.key_id AS id,
       k.active_version,
       (SELECT pg_catalog.array_agg(v.version ORDER BY v.version)
          FROM privacy.data_key_versions v WHERE v.key_id = k.key_id) AS versions,
       CASE WHEN k.destroyed_at IS NULL AND NOT w.wiped THEN 'active' ELSE 'destroyed' END AS status,
       privacy.key_versions_in_use(k.key_id) AS versions_in_use,
       CASE WHEN k.destroyed_at IS NULL AND NOT w.wiped THEN
       (SELECT pg_catalog.array_agg(g.grantee ORDER BY g.grantee::text)
          FROM privacy.key_grants g WHERE g.key_id = k.key_id) END AS granted_to,
       k.created_at,
       k.created_by,
       k.destroyed_at
  FROM privacy.data_keys k,
       LATERAL (SELECT EXISTS (SELECT 1 FROM privacy.data_key_versions v
                                WHERE v.key_id = k.key_id AND v.version = 1
                                  AND v.wrapped_key = pg_catalog.decode(pg_catalog.repeat('00', 60), 'hex'))
               AS wiped) w;
