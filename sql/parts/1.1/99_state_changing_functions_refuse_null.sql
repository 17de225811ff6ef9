-- The key and re-encryption functions of 1.0 (and anonymize_table) were
-- STRICT: create_key(NULL), grant_key('hr', NULL), reencrypt(t, NULL)
-- did nothing and answered NULL, which reads like success.  Like
-- destroy_key, they now check their arguments and refuse a NULL one with
-- 22004, naming it.
ALTER FUNCTION privacy.create_key(text) CALLED ON NULL INPUT;
ALTER FUNCTION privacy.rotate_key(text) CALLED ON NULL INPUT;
ALTER FUNCTION privacy.grant_key(text, text) CALLED ON NULL INPUT;
ALTER FUNCTION privacy.revoke_key(text, text) CALLED ON NULL INPUT;
ALTER FUNCTION privacy.drop_key_version(text, int4) CALLED ON NULL INPUT;
ALTER FUNCTION privacy.reencrypt(regclass, name, int4) CALLED ON NULL INPUT;
ALTER FUNCTION privacy.anonymize_table(regclass) CALLED ON NULL INPUT;
