-- The current role changing between the rows of one statement: the key check
-- of each decrypt call site's per-row path (src/types/encrypted.c reuses the
-- previous row's header and permission only for the same user) must deny the
-- row read as a role without the key, after rows it allowed.
SELECT privacy.create_key('switch_k') > 0 AS created;
CREATE TABLE switch_rows (id int PRIMARY KEY, c privacy.encrypted_text('switch_k'),
                          d privacy.encrypted_text_det('switch_k'));
INSERT INTO switch_rows SELECT g, 'secret-' || g, 'det-' || g FROM generate_series(1, 6) g;
CREATE ROLE regress_px_switch_key;
CREATE ROLE regress_px_switch_nokey;
GRANT USAGE ON SCHEMA privacy TO regress_px_switch_key, regress_px_switch_nokey;
GRANT SELECT ON switch_rows TO regress_px_switch_key, regress_px_switch_nokey;
SELECT privacy.grant_key('switch_k', 'regress_px_switch_key');
-- odd ids are read as the role with the key, even ids as the one without.
-- set_config() is called in the scan's own target list, before the decrypt
-- call, so no nested statement starts a new statement epoch between rows
-- (which would drop the per-row cache anyway, hiding a missing user check).
CREATE VIEW switch_plan AS
  SELECT s.id, s.c, s.d,
         CASE WHEN s.id % 2 = 1 THEN 'regress_px_switch_key' ELSE 'regress_px_switch_nokey' END AS reader
    FROM (SELECT * FROM switch_rows ORDER BY id OFFSET 0) s;
-- only rows of the role with the key: every one decrypts
SELECT id, pg_catalog.set_config('role', reader, false) AS reader, privacy.decrypt(c), privacy.decrypt(d)
  FROM switch_plan WHERE id % 2 = 1;
RESET ROLE;
-- row 1 decrypts, row 2 (read as the role without the key) is refused
SELECT id, pg_catalog.set_config('role', reader, false) AS reader, privacy.decrypt(c)
  FROM switch_plan;
RESET ROLE;
SELECT id, pg_catalog.set_config('role', reader, false) AS reader, privacy.decrypt(d)
  FROM switch_plan;
RESET ROLE;
SELECT id, pg_catalog.set_config('role', reader, false) AS reader, c::text
  FROM switch_plan;
RESET ROLE;
-- the same through a plpgsql function switching the role (a nested statement)
CREATE FUNCTION switch_role_for(i int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.set_config('role',
    CASE WHEN i % 2 = 1 THEN 'regress_px_switch_key' ELSE 'regress_px_switch_nokey' END, false);
  RETURN i;
END $$;
SELECT id, switch_role_for(id), privacy.decrypt(c) FROM switch_plan;
RESET ROLE;
DROP VIEW switch_plan;
DROP FUNCTION switch_role_for(int);
DROP TABLE switch_rows;
DROP OWNED BY regress_px_switch_key, regress_px_switch_nokey;
DROP ROLE regress_px_switch_key, regress_px_switch_nokey;
