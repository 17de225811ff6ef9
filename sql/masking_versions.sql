-- A masked encrypted column whose values are under several key versions, read
-- through its masking view: the per-row path reuses the previous row's key
-- version only for the same envelope header (src/types/encrypted.c).
SELECT privacy.create_key('versions_k') > 0 AS created;
CREATE TABLE versions_people (id int PRIMARY KEY, email privacy.encrypted_text('versions_k'),
                              tag privacy.encrypted_text_det('versions_k'));
INSERT INTO versions_people SELECT g, 'old' || g || '@example.org', 'old-' || g
  FROM generate_series(1, 3) g;
SELECT privacy.rotate_key('versions_k') > 0 AS rotated;
INSERT INTO versions_people SELECT g, 'new' || g || '@example.org', 'new-' || g
  FROM generate_series(4, 6) g;
SELECT privacy.rotate_key('versions_k') > 0 AS rotated;
INSERT INTO versions_people VALUES (7, 'newest7@example.org', 'newest-7');
-- rows of versions 1, 2 and 3 alternate in the scan
UPDATE versions_people SET id = id WHERE id IN (2, 5);
SELECT privacy.set_mask('versions_people', 'id', 'none');
SELECT privacy.set_mask('versions_people', 'email', 'email');
SELECT privacy.set_mask('versions_people', 'tag', 'partial(1, ''**'', 1)');
SELECT privacy.create_masking_view('versions_people');
CREATE ROLE regress_px_versions;
SELECT privacy.mask_role('regress_px_versions');
SET ROLE regress_px_versions;
SELECT * FROM masked.versions_people;
SELECT id, email, tag FROM versions_people ORDER BY id;
RESET ROLE;
SELECT privacy.unmask_role('regress_px_versions');
DROP TABLE versions_people CASCADE;
DROP OWNED BY regress_px_versions;
DROP ROLE regress_px_versions;
