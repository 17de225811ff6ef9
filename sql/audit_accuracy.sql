-- Audit accuracy (issue 22, point 4): events are exact per key and per role
-- whose privileges were used, for call sites that see values under several
-- keys and for functions reached by several roles; the table sink keeps
-- every event of a procedure that commits.  Every test compares the counts
-- with the number of values actually decrypted.
SET privacy.audit = 'table';
SELECT privacy.create_key('aa_ka') > 0 AS created, privacy.create_key('aa_kb') > 0 AS created;
CREATE ROLE regress_aa_definer;
CREATE ROLE regress_aa_caller;
SELECT privacy.grant_key('aa_ka', 'regress_aa_definer'), privacy.grant_key('aa_kb', 'regress_aa_definer'),
       privacy.grant_key('aa_ka', 'regress_aa_caller');
CREATE TABLE aa_a (n int, a privacy.encrypted_text('aa_ka'));
CREATE TABLE aa_b (n int, b privacy.encrypted_text('aa_kb'));
CREATE TABLE aa_ab (n int, a privacy.encrypted_text('aa_ka'), b privacy.encrypted_text('aa_kb'));
INSERT INTO aa_a SELECT g, 'a' || g FROM generate_series(1, 10) g;
INSERT INTO aa_a VALUES (11, NULL);
INSERT INTO aa_b SELECT g, 'b' || g FROM generate_series(1, 10) g;
INSERT INTO aa_ab SELECT g, 'a' || g, 'b' || g FROM generate_series(1, 30) g;
GRANT SELECT ON aa_a, aa_b, aa_ab TO regress_aa_definer, regress_aa_caller;

-- Decrypt events since a mark, per key and role.
CREATE FUNCTION aa_events(since bigint)
RETURNS TABLE (key text, role name, object text, values_counted bigint, events bigint)
LANGUAGE sql AS $$
    SELECT l.detail->>'key', l.current_role_name, l.object, sum(l.count), count(*)
      FROM privacy.audit_log l WHERE l.event_id > since AND l.action = 'decrypt'
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 NULLS FIRST
$$;

-- One call site over a UNION ALL of columns under two keys: 10 and 10.
SELECT coalesce(max(event_id), 0) AS m FROM privacy.audit_log \gset
SELECT count(privacy.decrypt(x)) AS decrypted
  FROM (SELECT a AS x FROM aa_a UNION ALL SELECT b FROM aa_b) s;
SELECT * FROM aa_events(:m);

-- A CASE choosing the key row by row: the site alternates keys every row.
SELECT coalesce(max(event_id), 0) AS m FROM privacy.audit_log \gset
SELECT count(*) FILTER (WHERE n % 3 = 0) AS under_a, count(*) FILTER (WHERE n % 3 <> 0) AS under_b,
       count(privacy.decrypt(CASE WHEN n % 3 = 0 THEN a ELSE b END)) AS decrypted
  FROM aa_ab;
SELECT * FROM aa_events(:m);

-- A join whose two columns go through one PL/pgSQL call site (the
-- function's decrypt is compiled once): keys alternate within the row.
CREATE FUNCTION aa_dec(e privacy.encrypted_text) RETURNS text LANGUAGE plpgsql STABLE
    AS $$BEGIN RETURN privacy.decrypt(e); END$$;
SELECT coalesce(max(event_id), 0) AS m FROM privacy.audit_log \gset
SELECT count(aa_dec(x.a)) AS from_a, count(aa_dec(y.b)) AS from_b
  FROM aa_a x JOIN aa_b y ON y.n = x.n;
SELECT * FROM aa_events(:m);
-- ... and a COALESCE over a full join.
SELECT coalesce(max(event_id), 0) AS m FROM privacy.audit_log \gset
SELECT count(privacy.decrypt(coalesce(x.a, y.b))) AS decrypted,
       count(*) FILTER (WHERE x.a IS NOT NULL) AS under_a
  FROM aa_a x FULL JOIN aa_b y ON y.n = x.n + 5;
SELECT * FROM aa_events(:m);

-- Several roles: a SECURITY DEFINER function reaches aa_dec() with its
-- owner's grant; the caller reaches it with its own.  Each decrypt is
-- charged to the role whose privileges it used, in one statement and
-- across statements (the definer first, then the caller directly).
CREATE FUNCTION aa_dec_as_definer(e privacy.encrypted_text) RETURNS text LANGUAGE plpgsql STABLE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$BEGIN RETURN public.aa_dec(e); END$$;
ALTER FUNCTION aa_dec_as_definer(privacy.encrypted_text) OWNER TO regress_aa_definer;
GRANT EXECUTE ON FUNCTION aa_dec_as_definer(privacy.encrypted_text) TO regress_aa_caller;
SELECT coalesce(max(event_id), 0) AS m FROM privacy.audit_log \gset
SET ROLE regress_aa_caller;
SELECT count(aa_dec_as_definer(b)) AS as_definer FROM aa_ab WHERE n <= 7;
SELECT count(aa_dec(a)) AS as_caller FROM aa_ab WHERE n <= 4;
SELECT count(aa_dec_as_definer(a)) AS as_definer, count(aa_dec(a)) AS as_caller FROM aa_ab WHERE n <= 9;
-- A key the caller lacks stays refused on the caller's own path.
SELECT count(aa_dec(b)) FROM aa_ab;
RESET ROLE;
SELECT * FROM aa_events(:m);

-- A procedure that decrypts and COMMITs in a loop: every event is in the
-- table, each in the transaction that did the reads.
CREATE PROCEDURE aa_commit_loop() LANGUAGE plpgsql AS $$
DECLARE
    v privacy.encrypted_text;
    p text;
BEGIN
    SELECT a INTO v FROM public.aa_a WHERE n = 1;
    FOR i IN 1..4 LOOP
        p := privacy.decrypt(v);                               -- a simple expression
        COMMIT;
    END LOOP;
    FOR i IN 1..4 LOOP
        PERFORM count(privacy.decrypt(b)) FROM public.aa_b;    -- a statement
        p := privacy.decrypt(v);
        COMMIT;
    END LOOP;
    p := privacy.decrypt(v);                                   -- after the last COMMIT
END
$$;
SELECT coalesce(max(event_id), 0) AS m FROM privacy.audit_log \gset
CALL aa_commit_loop();
SELECT * FROM aa_events(:m);
SELECT count(DISTINCT xmin::text) AS transactions FROM privacy.audit_log
 WHERE event_id > :m AND action = 'decrypt';
-- A procedure that rolls back: with the table sink alone the rolled-back
-- reads leave the table with the rollback (as documented: 'log,table'
-- keeps them in the log); what it read after the rollback is in the table.
CREATE PROCEDURE aa_rollback() LANGUAGE plpgsql AS $$
BEGIN
    PERFORM count(privacy.decrypt(a)) FROM public.aa_a;
    ROLLBACK;
    PERFORM count(privacy.decrypt(b)) FROM public.aa_b WHERE n <= 3;
END
$$;
SELECT coalesce(max(event_id), 0) AS m FROM privacy.audit_log \gset
CALL aa_rollback();
SELECT * FROM aa_events(:m);

-- A consent recorded by a consent manager is the manager's event, in the
-- audit trail as in privacy.consent_events (the writers behind
-- grant_consent run as the extension's owner).
CREATE ROLE regress_aa_manager;
GRANT privacy_consent_manager TO regress_aa_manager;
SELECT privacy.create_purpose('aa_purpose', 'consent');
SET ROLE regress_aa_manager;
SELECT privacy.grant_consent('aa-subject', 'aa_purpose');
-- check_function_bodies = off is what restores set; for anyone but a
-- superuser it does not make a consent change pass for one
SET check_function_bodies = off;
SELECT privacy.withdraw_consent('aa-subject', 'aa_purpose');
RESET check_function_bodies;
RESET ROLE;
SELECT action, current_role_name, session_user_name = session_user AS session_user_kept
  FROM privacy.audit_log WHERE object = 'aa_purpose' ORDER BY event_id;
SELECT action, current_role_name FROM privacy.consent_events WHERE purpose = 'aa_purpose' ORDER BY event_id;

-- Parallel workers hand their counts to the leader: the table has the
-- statement's whole count, also when the leader reads no row itself.
CREATE TABLE aa_par (id int, s privacy.encrypted_text('aa_ka'));
INSERT INTO aa_par SELECT g, 'p' || g FROM generate_series(1, 20000) g;
ANALYZE aa_par;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT max(event_id) AS m FROM privacy.audit_log \gset
EXPLAIN (COSTS OFF) SELECT count(privacy.decrypt(s)) FROM aa_par;
SELECT count(privacy.decrypt(s)) FROM aa_par;
SELECT action, object, count FROM privacy.audit_log WHERE event_id > :m ORDER BY event_id;
SET parallel_leader_participation = off;
SELECT max(event_id) AS m FROM privacy.audit_log \gset
SELECT count(*) FROM aa_par WHERE privacy.decrypt(s) LIKE 'p1%';
SELECT action, object, count FROM privacy.audit_log WHERE event_id > :m ORDER BY event_id;
RESET parallel_leader_participation;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE aa_par;

-- A DO block or a procedure: one event per column, key and role, written
-- when the DO or CALL ends, so also for reads inside an exception block
-- that caught an error (its subtransaction rolled back).
SELECT max(event_id) AS m FROM privacy.audit_log \gset
DO $$
DECLARE v text;
BEGIN
    SELECT string_agg(privacy.decrypt(a), ',') INTO v FROM aa_a;
    SELECT string_agg(privacy.decrypt(a), ',') INTO v FROM aa_a WHERE n <= 5;
    BEGIN
        SELECT string_agg(privacy.decrypt(a), ',') INTO v FROM aa_a WHERE n <= 3;
        RAISE EXCEPTION 'discarded';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
END
$$;
SELECT * FROM aa_events(:m);
CREATE PROCEDURE aa_caught() LANGUAGE plpgsql AS $$
DECLARE v text;
BEGIN
    BEGIN
        SELECT string_agg(privacy.decrypt(b), ',') INTO v FROM aa_b;
        RAISE EXCEPTION 'discarded';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
END
$$;
SELECT max(event_id) AS m FROM privacy.audit_log \gset
CALL aa_caught();
SELECT * FROM aa_events(:m);
DROP PROCEDURE aa_caught();

-- privacy.audit_consent_event() is privacy.consent_events' trigger, on no
-- other table: attached to a table of one's own it would write consent
-- events as anyone (and read NULLs it was never given).
CREATE TABLE aa_forge (subject text, purpose text, action text, session_user_name text, current_role_name text);
CREATE TRIGGER aa_forge AFTER INSERT ON aa_forge FOR EACH ROW EXECUTE FUNCTION privacy.audit_consent_event();
INSERT INTO aa_forge VALUES ('cust-42', 'marketing', 'withdraw', 'dpo_alice', 'postgres');
INSERT INTO aa_forge VALUES (NULL, NULL, NULL, NULL, NULL);
SELECT count(*) AS forged FROM privacy.audit_log WHERE session_user_name = 'dpo_alice';
DROP TABLE aa_forge;

DROP PROCEDURE aa_rollback();
DROP PROCEDURE aa_commit_loop();
DROP FUNCTION aa_dec_as_definer(privacy.encrypted_text);
DROP FUNCTION aa_dec(privacy.encrypted_text);
DROP FUNCTION aa_events(bigint);
DROP TABLE aa_a, aa_b, aa_ab;
SELECT privacy.revoke_key('aa_ka', 'regress_aa_definer'), privacy.revoke_key('aa_kb', 'regress_aa_definer'),
       privacy.revoke_key('aa_ka', 'regress_aa_caller');
DROP ROLE regress_aa_definer;
DROP ROLE regress_aa_caller;
DROP ROLE regress_aa_manager;
RESET privacy.audit;
-- A purpose declared by a role's setting (or by the connection's options,
-- a pooler's, PGOPTIONS: the same path) is audited as declared, as SET is.
SELECT privacy.create_purpose('aa_startup', 'consent');
CREATE ROLE regress_aa_startup LOGIN;
SELECT privacy.grant_purpose('regress_aa_startup', 'aa_startup');
ALTER ROLE regress_aa_startup SET privacy.audit = 'table';
ALTER ROLE regress_aa_startup SET privacy.purpose = 'aa_startup';
SELECT coalesce(max(event_id), 0) AS aa_before FROM privacy.audit_log \gset
\c - regress_aa_startup
SELECT current_setting('privacy.purpose') AS from_role_setting;
\c - postgres
SELECT action, object, session_user_name FROM privacy.audit_log
 WHERE event_id > :aa_before AND action = 'purpose_declared' ORDER BY event_id;
SELECT privacy.revoke_purpose('regress_aa_startup', 'aa_startup');
DROP ROLE regress_aa_startup;
