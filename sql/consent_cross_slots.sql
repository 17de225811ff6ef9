-- The consent sets one backend keeps across statements (four slots, the
-- least recently used given up for a new purpose) must answer each purpose
-- from that purpose's own set.  One statement naming more purposes than
-- there are slots makes its call sites take slots from one another between
-- rows; a call site that then reads its set must not install it in a slot
-- that now belongs to another purpose, or later statements -- policy reads,
-- other roles, parallel workers -- would answer that purpose from the
-- wrong set.  Every answer below is compared with the consent table.
CREATE ROLE regress_px_slots;
SELECT count(privacy.create_purpose('slot' || i, 'consent')) FROM generate_series(1, 6) i;
SELECT count(privacy.grant_purpose('regress_px_slots', 'slot' || i)) FROM generate_series(1, 6) i;
CREATE TABLE slot_people (subject text, v int);
INSERT INTO slot_people SELECT 's' || g, g FROM generate_series(1, 3000) g;
GRANT SELECT ON slot_people TO regress_px_slots;
SELECT privacy.protect_table('slot_people', subject_column => 'subject');
-- slot1: everyone; slot2: the first thousand; slot4: every third;
-- slot3, slot5, slot6: nobody.
SELECT count(privacy.grant_consent('s' || g, 'slot1')) FROM generate_series(1, 3000) g;
SELECT count(privacy.grant_consent('s' || g, 'slot2')) FROM generate_series(1, 1000) g;
SELECT count(privacy.grant_consent('s' || g, 'slot4')) FROM generate_series(3, 3000, 3) g;
-- What the consent table says: the truth each answer is compared with.
CREATE FUNCTION slot_truth(p text) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM privacy.consent_state c
     WHERE c.purpose = p AND c.granted AND c.subject IN (SELECT subject FROM slot_people)
$$;
CREATE TABLE slot_truths AS SELECT 'slot' || i AS purpose, slot_truth('slot' || i) AS consenting
  FROM generate_series(1, 6) i;
SELECT * FROM slot_truths ORDER BY purpose;
GRANT SELECT ON slot_truths TO regress_px_slots;
-- Each purpose's policy read against the truth, in this backend's state.
CREATE FUNCTION slot_policy_reads() RETURNS TABLE (purpose text, sees bigint, ok boolean)
LANGUAGE plpgsql AS $$
DECLARE
    p text;
BEGIN
    FOR p IN SELECT t.purpose FROM slot_truths t ORDER BY t.purpose LOOP
        PERFORM set_config('privacy.purpose', p, true);
        purpose := p;
        SELECT count(*) INTO sees FROM slot_people;
        SELECT sees = t.consenting INTO ok FROM slot_truths t WHERE t.purpose = p;
        RETURN NEXT;
    END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION slot_policy_reads() TO regress_px_slots;
SET ROLE regress_px_slots;
BEGIN;
SET LOCAL privacy.purpose = 'slot3';
SELECT count(*) AS slot3_sees FROM slot_people;
-- Six call sites, five purposes, one statement: slots change hands between rows.
SELECT sum(privacy.has_consent(subject, 'slot2')::int + privacy.has_consent(subject, 'slot2')::int
         + privacy.has_consent(subject, 'slot5')::int + privacy.has_consent(subject, 'slot6')::int
         + privacy.has_consent(subject, 'slot1')::int + privacy.has_consent(subject, 'slot3')::int)
       = (SELECT 2 * consenting FROM slot_truths WHERE purpose = 'slot2')
         + (SELECT sum(consenting) FROM slot_truths WHERE purpose IN ('slot5', 'slot6', 'slot1', 'slot3'))
       AS six_sites_ok
  FROM (SELECT 's' || g AS subject FROM generate_series(1, 3000) g) x;
COMMIT;
-- The policy reads that follow, and single answers, each from its own purpose.
SELECT * FROM slot_policy_reads();
SELECT privacy.has_consent('s1', 'slot3') AS s1_slot3,
       privacy.has_consent('s1', 'slot2') AS s1_slot2,
       privacy.has_consent('s2', 'slot4') AS s2_slot4,
       privacy.has_consent('s3', 'slot4') AS s3_slot4;
-- More orderings: each purpose once, all six, forwards and backwards,
-- and one site per purpose repeated.
SELECT sum(privacy.has_consent(subject, 'slot1')::int + privacy.has_consent(subject, 'slot2')::int
         + privacy.has_consent(subject, 'slot3')::int + privacy.has_consent(subject, 'slot4')::int
         + privacy.has_consent(subject, 'slot5')::int + privacy.has_consent(subject, 'slot6')::int)
       = (SELECT sum(consenting) FROM slot_truths) AS forwards_ok
  FROM (SELECT 's' || g AS subject FROM generate_series(1, 3000) g) x;
SELECT * FROM slot_policy_reads();
SELECT sum(privacy.has_consent(subject, 'slot6')::int + privacy.has_consent(subject, 'slot5')::int
         + privacy.has_consent(subject, 'slot4')::int + privacy.has_consent(subject, 'slot3')::int
         + privacy.has_consent(subject, 'slot2')::int + privacy.has_consent(subject, 'slot1')::int)
       = (SELECT sum(consenting) FROM slot_truths) AS backwards_ok
  FROM (SELECT 's' || g AS subject FROM generate_series(3000, 1, -1) g) x;
SELECT * FROM slot_policy_reads();
SELECT sum(privacy.has_consent(subject, 'slot4')::int + privacy.has_consent(subject, 'slot1')::int
         + privacy.has_consent(subject, 'slot4')::int + privacy.has_consent(subject, 'slot6')::int
         + privacy.has_consent(subject, 'slot2')::int + privacy.has_consent(subject, 'slot5')::int
         + privacy.has_consent(subject, 'slot4')::int)
       = 3 * (SELECT consenting FROM slot_truths WHERE purpose = 'slot4')
         + (SELECT sum(consenting) FROM slot_truths WHERE purpose IN ('slot1', 'slot6', 'slot2', 'slot5'))
       AS repeated_ok
  FROM (SELECT 's' || g AS subject FROM generate_series(1, 3000) g) x;
SELECT * FROM slot_policy_reads();
-- The same with parallel plans: the leader shares its set with the workers.
-- The rows are the table's under slot1 (everyone), so the policy's own
-- call site takes part too.
SET privacy.purpose = 'slot1';
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT count(*) FROM slot_people;
SELECT sum(privacy.has_consent(subject, 'slot2')::int + privacy.has_consent(subject, 'slot2')::int
         + privacy.has_consent(subject, 'slot5')::int + privacy.has_consent(subject, 'slot6')::int
         + privacy.has_consent(subject, 'slot1')::int + privacy.has_consent(subject, 'slot3')::int)
       = (SELECT 2 * consenting FROM slot_truths WHERE purpose = 'slot2')
         + (SELECT sum(consenting) FROM slot_truths WHERE purpose IN ('slot5', 'slot6', 'slot1', 'slot3'))
       AS six_sites_parallel_ok
  FROM slot_people;
SELECT * FROM slot_policy_reads();
SELECT sum(privacy.has_consent(subject, 'slot3')::int + privacy.has_consent(subject, 'slot4')::int
         + privacy.has_consent(subject, 'slot5')::int + privacy.has_consent(subject, 'slot6')::int
         + privacy.has_consent(subject, 'slot1')::int + privacy.has_consent(subject, 'slot2')::int)
       = (SELECT sum(consenting) FROM slot_truths) AS rotated_parallel_ok
  FROM slot_people;
SELECT * FROM slot_policy_reads();
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET privacy.purpose;
RESET ROLE;
-- The slots this backend holds (as the administrator sees them) name the purposes whose sets they hold.
SELECT bool_and(k.subjects = t.consenting) AS kept_sets_ok
  FROM privacy.consent_cache_info() k JOIN slot_truths t USING (purpose);
DROP FUNCTION slot_policy_reads();
DROP FUNCTION slot_truth(text);
DROP TABLE slot_people, slot_truths;
DELETE FROM privacy.consent_state WHERE purpose LIKE 'slot_';
DROP OWNED BY regress_px_slots;
DROP ROLE regress_px_slots;
