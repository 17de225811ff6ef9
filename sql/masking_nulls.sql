-- NULL values read through masking views (1.1: privacy.apply_mask() is no
-- longer STRICT; it answers NULL for a NULL value itself, uncounted).  Rows
-- alternate, so NULLs arrive both before and after a call site has taken
-- its per-row path.
SET privacy.audit = 'table';
SELECT privacy.create_key('nulls_k') > 0 AS created;
CREATE TABLE nulls_people (id int PRIMARY KEY, email text, phone varchar(20), card text,
                           note text, age int, secret privacy.encrypted_text('nulls_k'),
                           tag privacy.encrypted_text_det('nulls_k'));
INSERT INTO nulls_people
SELECT g,
       CASE WHEN g % 2 = 0 THEN NULL ELSE 'user' || g || '@example.org' END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE '+31 6 1234 56' || g END,
       CASE WHEN g % 2 = 1 THEN NULL ELSE '4111-1111-1111-11' || g END,
       CASE WHEN g % 2 = 0 THEN NULL ELSE 'note ' || g END,
       CASE WHEN g % 2 = 0 THEN NULL ELSE 30 + g END,
       CASE WHEN g % 2 = 0 THEN NULL ELSE 'secret-' || g || '@example.org' END,
       CASE WHEN g % 3 = 1 THEN NULL ELSE 'tag-' || g END
  FROM generate_series(1, 6) g;
SELECT privacy.set_mask('nulls_people', 'id', 'none');
SELECT privacy.set_mask('nulls_people', 'email', 'email');
SELECT privacy.set_mask('nulls_people', 'phone', 'partial(0, ''*****'', 2)');
SELECT privacy.set_mask('nulls_people', 'card', 'credit_card');
SELECT privacy.set_mask('nulls_people', 'note', 'redact');
SELECT privacy.set_mask('nulls_people', 'age', 'generalize(10)');
SELECT privacy.set_mask('nulls_people', 'secret', 'email');
SELECT privacy.set_mask('nulls_people', 'tag', 'partial(1, ''**'', 1)');
SELECT privacy.create_masking_view('nulls_people');
CREATE ROLE regress_px_nulls;
SELECT privacy.mask_role('regress_px_nulls');

SELECT coalesce(max(event_id), 0) AS mark FROM privacy.audit_log \gset
SET ROLE regress_px_nulls;
SELECT * FROM masked.nulls_people ORDER BY id;
-- transparent masking: the same through the table's own name
SELECT id, email IS NULL AS no_email, secret, tag FROM nulls_people ORDER BY id;
RESET ROLE;
-- NULLs are not counted as values read: 3 e-mails, 4 phones, 3 secrets, 4 tags per read
SELECT action, object, count FROM privacy.audit_log
 WHERE event_id > :mark AND action = 'masked_read' AND object LIKE '%nulls_people%'
   AND object ~ '(email|phone|secret|tag)$'
 ORDER BY object, event_id;

SELECT privacy.unmask_role('regress_px_nulls');
DROP TABLE nulls_people CASCADE;
DROP OWNED BY regress_px_nulls;
DROP ROLE regress_px_nulls;
RESET privacy.audit;
