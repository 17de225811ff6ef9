-- has_consent() answering a scan from the sorted list of a consent set
-- (1.1): when a scan meets its subjects in order, each row is searched
-- from the previous row's place in the list instead of by hash.  Every
-- answer must equal the consent table's: subjects in order, shuffled,
-- descending, repeated, integer subjects, consent that expires, consent to
-- a parent purpose (and to both), withdrawals after the set was read, and
-- a set kept for one statement only.
CREATE ROLE regress_px_ord;
SELECT privacy.create_purpose('ordp', 'consent');
SELECT privacy.create_purpose('ordp.child', 'consent', parent => 'ordp');
SELECT privacy.grant_purpose('regress_px_ord', 'ordp.child');
-- 6000 subjects: a third consent to the child purpose, a third to the
-- parent, some to both; some consents expire tomorrow, some expired
-- yesterday, some are refused.
INSERT INTO privacy.consent_state (subject, purpose, granted, expires_at, policy_ordinal, updated_at)
SELECT 'o' || g, p, hashint4(g * 7 + length(p)) % 5 <> 0,
       CASE WHEN g % 13 = 0 THEN now() + interval '1 day'
            WHEN g % 17 = 0 THEN now() - interval '1 day' END,
       (SELECT coalesce(max(ordinal), 0) FROM privacy.policy_versions), now()
  FROM generate_series(1, 6000) g, unnest(ARRAY['ordp', 'ordp.child']) p
 WHERE (g % 3 = 0 AND p = 'ordp.child') OR (g % 3 = 1 AND p = 'ordp') OR (g % 7 = 0);
-- What the consent table says, for each subject: the truth to compare with.
CREATE FUNCTION ord_truth(s text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM privacy.consent_state c
                    WHERE c.subject = s AND c.purpose IN ('ordp', 'ordp.child') AND c.granted
                      AND (c.expires_at IS NULL OR c.expires_at > now()))
$$;
CREATE TABLE ord_asc (subject text);
INSERT INTO ord_asc SELECT 'o' || g FROM generate_series(1, 6000) g;
CREATE TABLE ord_shuffled (subject text);
INSERT INTO ord_shuffled SELECT 'o' || g FROM generate_series(1, 6000) g ORDER BY md5(g::text);
CREATE TABLE ord_desc (subject text);
INSERT INTO ord_desc SELECT 'o' || g FROM generate_series(6000, 1, -1) g;
-- a child table: each subject three times, in order, and some unknown ones
CREATE TABLE ord_repeated (subject text);
INSERT INTO ord_repeated SELECT 'o' || (g / 3) FROM generate_series(3, 18002) g;
INSERT INTO ord_repeated SELECT 'nobody' || g FROM generate_series(1, 100) g;
CREATE TABLE ord_int (id int);
INSERT INTO ord_int SELECT g FROM generate_series(1, 6000) g;
INSERT INTO privacy.consent_state (subject, purpose, granted, expires_at, policy_ordinal, updated_at)
SELECT g::text, 'ordp', true, NULL, (SELECT coalesce(max(ordinal), 0) FROM privacy.policy_versions), now()
  FROM generate_series(1, 6000) g WHERE g % 4 <> 0;
CREATE TABLE ord_truth_counts AS
SELECT 'ord_asc' AS t, count(*) FILTER (WHERE ord_truth(subject)) AS n,
       sum(hashtext(subject)) FILTER (WHERE ord_truth(subject)) AS h FROM ord_asc
UNION ALL
SELECT 'ord_repeated', count(*) FILTER (WHERE ord_truth(subject)),
       sum(hashtext(subject)) FILTER (WHERE ord_truth(subject)) FROM ord_repeated;
SELECT privacy.protect_table(t, c)
  FROM (VALUES ('ord_asc', 'subject'), ('ord_shuffled', 'subject'), ('ord_desc', 'subject'),
               ('ord_repeated', 'subject'), ('ord_int', 'id')) v(t, c);
GRANT SELECT ON ord_asc, ord_shuffled, ord_desc, ord_repeated, ord_int, ord_truth_counts TO regress_px_ord;
GRANT SELECT ON privacy.consent_state TO regress_px_ord;
SELECT t, n FROM ord_truth_counts ORDER BY t;
SET ROLE regress_px_ord;
SET privacy.purpose = 'ordp.child';
-- Each table read three times: the first statement reads the set, the
-- next ones answer from the set kept.
CREATE TEMP VIEW ord_checks AS
SELECT 'asc' AS scan, (SELECT (count(*), sum(hashtext(subject))) FROM ord_asc) =
                      (SELECT (n, h) FROM ord_truth_counts WHERE t = 'ord_asc') AS exact
UNION ALL
SELECT 'shuffled', (SELECT (count(*), sum(hashtext(subject))) FROM ord_shuffled) =
                   (SELECT (n, h) FROM ord_truth_counts WHERE t = 'ord_asc')
UNION ALL
SELECT 'desc', (SELECT (count(*), sum(hashtext(subject))) FROM ord_desc) =
               (SELECT (n, h) FROM ord_truth_counts WHERE t = 'ord_asc')
UNION ALL
SELECT 'repeated', (SELECT (count(*), sum(hashtext(subject))) FROM ord_repeated) =
                   (SELECT (n, h) FROM ord_truth_counts WHERE t = 'ord_repeated');
SELECT * FROM ord_checks ORDER BY scan;  -- a Parallel Append may emit the branches in any order
SELECT * FROM ord_checks ORDER BY scan;  -- a Parallel Append may emit the branches in any order
SELECT * FROM ord_checks ORDER BY scan;  -- a Parallel Append may emit the branches in any order
SELECT count(*) AS int_visible FROM ord_int;
SELECT count(*) AS int_visible FROM ord_int;
RESET ROLE;
SELECT purpose, subjects, expiring FROM privacy.consent_cache_info() ORDER BY purpose;
-- Withdrawals and a new consent after the set was read: in force at once.
SELECT privacy.withdraw_consent('o3', 'ordp.child'), privacy.withdraw_consent('o4', 'ordp'),
       privacy.withdraw_consent('o3000', 'ordp.child');
SELECT privacy.grant_consent('o2', 'ordp.child');
SELECT privacy.withdraw_consent('1', 'ordp');
UPDATE ord_truth_counts SET n = q.n, h = q.h
  FROM (SELECT count(*) FILTER (WHERE ord_truth(subject)) AS n,
               sum(hashtext(subject)) FILTER (WHERE ord_truth(subject)) AS h FROM ord_asc) q
 WHERE t = 'ord_asc';
UPDATE ord_truth_counts SET n = q.n, h = q.h
  FROM (SELECT count(*) FILTER (WHERE ord_truth(subject)) AS n,
               sum(hashtext(subject)) FILTER (WHERE ord_truth(subject)) AS h FROM ord_repeated) q
 WHERE t = 'ord_repeated';
SELECT t, n FROM ord_truth_counts ORDER BY t;
SET ROLE regress_px_ord;
SET privacy.purpose = 'ordp.child';
SELECT * FROM ord_checks ORDER BY scan;  -- a Parallel Append may emit the branches in any order
SELECT count(*) AS int_visible_after_withdrawal FROM ord_int;
-- Parallel workers answer from the leader's set and its sorted list, copied
-- to shared memory; with the leader not scanning, only workers answer.
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT count(*), sum(hashtext(subject)) FROM ord_asc;
SELECT * FROM ord_checks ORDER BY scan;  -- a Parallel Append may emit the branches in any order
SELECT count(*) AS int_visible_in_workers FROM ord_int;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
-- A set for one statement only (no sets kept): the same answers.
SET privacy.consent_cache_size = 0;
SELECT * FROM ord_checks ORDER BY scan;  -- a Parallel Append may emit the branches in any order
SELECT count(*) AS int_visible_after_withdrawal FROM ord_int;
RESET privacy.consent_cache_size;
RESET ROLE;
DROP VIEW ord_checks;
DROP TABLE ord_asc, ord_shuffled, ord_desc, ord_repeated, ord_int, ord_truth_counts;
DROP FUNCTION ord_truth(text);
DELETE FROM privacy.consent_state WHERE purpose IN ('ordp', 'ordp.child');
DROP OWNED BY regress_px_ord;
DROP ROLE regress_px_ord;
