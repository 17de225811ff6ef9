-- Requests run only the request: during export_subject/erase_subject the
-- consent bypass, anonymize_value() and the suppression of per-value audit
-- counts hold for the request's own statements, never for the code of a
-- table's owner that they fire (issue 22, point 3).
SET privacy.audit = 'table';
SELECT privacy.create_key('rs_k') > 0 AS created;
CREATE ROLE regress_rs_owner;
SELECT privacy.grant_key('rs_k', 'regress_rs_owner');

-- rs_people and rs_other are protected; rs_secrets holds 1,000 encrypted
-- values the owner may decrypt; rs_seen is what the owner's trigger saw.
CREATE TABLE rs_people (id text PRIMARY KEY, name privacy.encrypted_text('rs_k'));
CREATE TABLE rs_other (subject text, note text);
CREATE TABLE rs_secrets (n int, secret privacy.encrypted_text('rs_k'));
CREATE TABLE rs_seen (seq serial, what text, n bigint);
INSERT INTO rs_people VALUES ('s1', 'Ann'), ('s2', 'Bob'), ('s3', 'Cyd');
INSERT INTO rs_other VALUES ('s1', 'about s1'), ('s2', 'about s2'), ('s3', 'about s3');
INSERT INTO rs_secrets SELECT g, 'secret ' || g FROM generate_series(1, 1000) g;
ALTER TABLE rs_people OWNER TO regress_rs_owner;
ALTER TABLE rs_other OWNER TO regress_rs_owner;
ALTER TABLE rs_secrets OWNER TO regress_rs_owner;
ALTER TABLE rs_seen OWNER TO regress_rs_owner;
SELECT privacy.protect_table('rs_people', subject_column => 'id');
SELECT privacy.protect_table('rs_other', subject_column => 'subject');

-- The owner's BEFORE DELETE trigger: SPI statements (a scan decrypting
-- every secret, reads of another protected table) and simple expressions
-- (a decrypt, has_consent) that PL/pgSQL evaluates inside the request's
-- own DELETE.  The erasure runs it as the owner, with search_path pinned.
CREATE FUNCTION rs_before_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    plain text;
    consent boolean;
BEGIN
    SELECT count(privacy.decrypt(s.secret)) INTO n FROM public.rs_secrets s;
    INSERT INTO public.rs_seen (what, n) VALUES ('secrets decrypted', n);
    SELECT count(*) INTO n FROM public.rs_other;
    INSERT INTO public.rs_seen (what, n) VALUES ('rows of rs_other', n);
    SELECT count(*) INTO n FROM public.rs_other o WHERE o.subject = OLD.id;
    INSERT INTO public.rs_seen (what, n) VALUES ('rows of rs_other about the subject', n);
    plain := privacy.decrypt(OLD.name);
    INSERT INTO public.rs_seen (what, n) VALUES ('name decrypted, length', length(plain));
    consent := privacy.has_consent(OLD.id);
    INSERT INTO public.rs_seen (what, n) VALUES ('has_consent(subject)', consent::int);
    RETURN OLD;
END
$$;
ALTER FUNCTION rs_before_delete() OWNER TO regress_rs_owner;
CREATE TRIGGER rs_people_before_delete BEFORE DELETE ON rs_people
    FOR EACH ROW EXECUTE FUNCTION rs_before_delete();

-- Outside a request the owner, with no purpose declared, sees no rows.
SET ROLE regress_rs_owner;
SELECT count(*) AS people, (SELECT count(*) FROM rs_other) AS other FROM rs_people;
RESET ROLE;

-- The request itself still reads all of the subject's rows.
SELECT privacy.export_subject('s1') -> 'tables' -> 'public.rs_people' AS people,
       privacy.export_subject('s1') -> 'tables' -> 'public.rs_other' AS other;

SELECT coalesce(max(event_id), 0) AS rs_mark FROM privacy.audit_log \gset
SELECT privacy.erase_subject('s1') - 'subject' -> 'tables' AS erased;
-- The trigger decrypted 1,000 secrets and the name; it saw no row of
-- rs_other (its own purpose: none), not even the subject's, and
-- has_consent() answered for it as for anyone.
SELECT what, n FROM rs_seen ORDER BY seq;
-- Every value it decrypted is on record, charged to the owner whose key
-- was used; the erasure's own reads are its one event.
SELECT action, object, count, detail->>'key' AS key, current_role_name
  FROM privacy.audit_log WHERE event_id > :rs_mark ORDER BY action DESC, object NULLS FIRST;
SELECT sum(count) = (SELECT sum(n) FROM rs_seen WHERE what = 'secrets decrypted') + 1 AS counts_match
  FROM privacy.audit_log WHERE event_id > :rs_mark AND action = 'decrypt';
SELECT id FROM rs_people ORDER BY id;

-- An export fires the owner's code too: a restrictive policy calling the
-- owner's function.  Its reads are audited and filtered like any other.
TRUNCATE rs_seen;
CREATE FUNCTION rs_policy_probe(subject text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    SELECT count(privacy.decrypt(s.secret)) INTO n FROM public.rs_secrets s WHERE s.n <= 10;
    INSERT INTO public.rs_seen (what, n) VALUES ('policy: secrets decrypted', n);
    SELECT count(*) INTO n FROM public.rs_other;
    INSERT INTO public.rs_seen (what, n) VALUES ('policy: rows of rs_other', n);
    INSERT INTO public.rs_seen (what, n) VALUES ('policy: has_consent(subject)', privacy.has_consent(subject)::int);
    RETURN true;
END
$$;
ALTER FUNCTION rs_policy_probe(text) OWNER TO regress_rs_owner;
CREATE POLICY rs_probe ON rs_people AS RESTRICTIVE FOR SELECT USING (rs_policy_probe(id));
SELECT coalesce(max(event_id), 0) AS rs_mark FROM privacy.audit_log \gset
SELECT privacy.export_subject('s2') -> 'tables' -> 'public.rs_people' AS people;
SELECT what, count(*) >= 1 AS called, min(n), max(n) FROM rs_seen GROUP BY what ORDER BY what;
SELECT sum(count) = (SELECT sum(n) FROM rs_seen WHERE what = 'policy: secrets decrypted') AS counts_match,
       array_agg(DISTINCT current_role_name) AS roles
  FROM privacy.audit_log WHERE event_id > :rs_mark AND action = 'decrypt';
DROP POLICY rs_probe ON rs_people;

-- anonymize_value() is the erasure's own: a trigger it fires may not call it.
CREATE FUNCTION rs_steal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.rs_seen (what, n)
    VALUES ('anonymized', length(privacy.anonymize_value(OLD.name, 'public.rs_people', 'name')));
    RETURN OLD;
END
$$;
ALTER FUNCTION rs_steal() OWNER TO regress_rs_owner;
CREATE TRIGGER rs_people_steal BEFORE DELETE ON rs_people FOR EACH ROW EXECUTE FUNCTION rs_steal();
SELECT privacy.erase_subject('s2');
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER rs_people_steal ON rs_people;
-- Nothing was erased, and nothing stays switched on after the failure.
SELECT id FROM rs_people ORDER BY id;
SELECT privacy.anonymize_value('x'::text, 'rs_other', 'note');
\echo :LAST_ERROR_SQLSTATE

-- A request cannot be started from code another request fired, even by a
-- function of an administrator's.
CREATE FUNCTION rs_nested() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM privacy.export_subject(OLD.id);
    RETURN OLD;
END
$$;
CREATE TRIGGER rs_people_nested BEFORE DELETE ON rs_people FOR EACH ROW EXECUTE FUNCTION rs_nested();
SELECT privacy.erase_subject('s2');
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER rs_people_nested ON rs_people;
DROP FUNCTION rs_nested();
SELECT (privacy.erase_subject('s2') -> 'rows')::int AS rows_erased;

-- Complete exports (issue 22, point 5): inheritance children with their
-- own columns, partitions, domains over encrypted types and arrays of
-- encrypted values are exported decrypted; a value that cannot be opened
-- is flagged {"unreadable": reason}, never passed off as data.
CREATE DOMAIN rs_secret_text AS privacy.encrypted_text('rs_k');
CREATE DOMAIN rs_secret_list AS privacy.encrypted_text('rs_k')[];
CREATE TABLE rs_base (subject text, label text, code privacy.encrypted_text('rs_k'));
CREATE TABLE rs_child (extra text, hidden privacy.encrypted_bytea('rs_k')) INHERITS (rs_base);
CREATE TABLE rs_grandchild (deeper rs_secret_text) INHERITS (rs_child);
CREATE TABLE rs_typed (subject text,
                       via_domain rs_secret_text,
                       list privacy.encrypted_text('rs_k')[],
                       domain_list rs_secret_list,
                       grid privacy.encrypted_text_det('rs_k')[],
                       det privacy.encrypted_text_det('rs_k'));
CREATE TABLE rs_parted (subject text, at int, code privacy.encrypted_text('rs_k')) PARTITION BY RANGE (at);
CREATE TABLE rs_parted_1 PARTITION OF rs_parted FOR VALUES FROM (0) TO (10);
CREATE TABLE rs_parted_2 (code privacy.encrypted_text('rs_k'), at int, subject text);
ALTER TABLE rs_parted ATTACH PARTITION rs_parted_2 FOR VALUES FROM (10) TO (20);
INSERT INTO rs_base VALUES ('s9', 'base row', 'B-1'), ('s8', 'other subject', 'B-2');
INSERT INTO rs_child VALUES ('s9', 'child row', 'C-1', 'child extra', '\xdead');
INSERT INTO rs_grandchild VALUES ('s9', 'grandchild row', 'G-1', 'gc extra', '\xbeef', 'deep secret');
INSERT INTO rs_typed VALUES ('s9', 'through a domain', ARRAY['one', NULL, 'three'], ARRAY['d1', 'd2'],
                             ARRAY[ARRAY['a', 'b'], ARRAY['c', 'd']]::privacy.encrypted_text_det('rs_k')[],
                             'deterministic');
INSERT INTO rs_typed VALUES ('s9', NULL, '{}', NULL, NULL, NULL);
INSERT INTO rs_parted VALUES ('s9', 1, 'P-1'), ('s9', 15, 'P-15'), ('s8', 2, 'P-2');
SELECT privacy.protect_table('rs_base', subject_column => 'subject');
SELECT privacy.protect_table('rs_typed', subject_column => 'subject');
SELECT privacy.protect_table('rs_parted', subject_column => 'subject');
SELECT jsonb_pretty(jsonb_object_agg(k, v)) AS tables
  FROM jsonb_each(privacy.export_subject('s9') -> 'tables') e(k, v)
 WHERE k LIKE 'public.rs\_%';
-- A child protected itself is exported once, under its own registration.
SELECT privacy.protect_table('rs_grandchild', subject_column => 'subject');
SELECT k, jsonb_array_length(v) AS rows
  FROM jsonb_each(privacy.export_subject('s9') -> 'tables') e(k, v)
 WHERE k LIKE 'public.rs\_%' ORDER BY k;
DELETE FROM privacy.protected_tables WHERE relid = 'rs_grandchild'::regclass;

-- Values that cannot be opened: under a destroyed key, in a column, a
-- domain and an array.  The export flags them and goes on.
SELECT privacy.create_key('rs_gone') > 0 AS created;
CREATE DOMAIN rs_gone_text AS privacy.encrypted_text('rs_gone');
CREATE TABLE rs_lost (subject text, kept privacy.encrypted_text('rs_k'),
                      gone privacy.encrypted_text('rs_gone'), gone_domain rs_gone_text,
                      gone_list privacy.encrypted_text('rs_gone')[]);
INSERT INTO rs_lost VALUES ('s9', 'still here', 'shredded', 'shredded too', ARRAY['x', NULL]);
SELECT privacy.protect_table('rs_lost', subject_column => 'subject');
SELECT privacy.destroy_key('rs_gone', 'destroy rs_gone');
SELECT jsonb_pretty(privacy.export_subject('s9') -> 'tables' -> 'public.rs_lost') AS lost;
-- Erasure still reaches every child and partition.
SELECT privacy.erase_subject('s9') -> 'rows' AS rows_erased;
SELECT (SELECT count(*) FROM rs_base) AS base, (SELECT count(*) FROM rs_parted) AS parted,
       (SELECT count(*) FROM rs_typed) AS typed;

-- Clean up.
DELETE FROM privacy.protected_tables
 WHERE relid IN ('rs_people'::regclass, 'rs_other'::regclass, 'rs_base'::regclass,
                 'rs_typed'::regclass, 'rs_parted'::regclass, 'rs_lost'::regclass);
-- A DO ALSO rule of the owner's: its action is a query of its own, added
-- to the request's statement, and the owner's code like a trigger: what it
-- decrypts is counted (static masking), and it sees the protected table's
-- rows as outside a request (an erasure: no subject's row without consent).
CREATE TABLE rs_ruled (id text PRIMARY KEY, note text);
CREATE TABLE rs_devcopy (id int, name text);
CREATE TABLE rs_loot (v text);
INSERT INTO rs_ruled VALUES ('s1', 'x');
INSERT INTO rs_devcopy VALUES (1, 'Ann');
ALTER TABLE rs_ruled OWNER TO regress_rs_owner;
ALTER TABLE rs_devcopy OWNER TO regress_rs_owner;
ALTER TABLE rs_loot OWNER TO regress_rs_owner;
SELECT privacy.protect_table('rs_ruled', subject_column => 'id');
SELECT privacy.set_mask('rs_devcopy', 'name', 'redact');
SELECT privacy.set_mask('rs_devcopy', 'id', 'none');
SET ROLE regress_rs_owner;
CREATE RULE rs_steal_on_erase AS ON DELETE TO public.rs_ruled DO ALSO
    INSERT INTO public.rs_loot SELECT 'erase: ' || privacy.decrypt(s.secret) FROM public.rs_secrets s WHERE s.n <= 3;
CREATE RULE rs_steal_on_anonymize AS ON UPDATE TO public.rs_devcopy DO ALSO
    INSERT INTO public.rs_loot SELECT 'anonymize: ' || privacy.decrypt(s.secret) FROM public.rs_secrets s WHERE s.n <= 3;
RESET ROLE;
SELECT coalesce(max(event_id), 0) AS rs_mark FROM privacy.audit_log \gset
SELECT (privacy.erase_subject('s1'))->'rows' AS erased;
SELECT privacy.anonymize_table('rs_devcopy');
SELECT v FROM rs_loot ORDER BY v;
SELECT action, object, count, current_role_name
  FROM privacy.audit_log WHERE event_id > :rs_mark ORDER BY event_id;
DROP TABLE rs_ruled, rs_devcopy, rs_loot;

DROP TABLE rs_people, rs_other, rs_secrets, rs_seen, rs_grandchild, rs_child, rs_base, rs_typed,
           rs_parted, rs_lost;
DROP DOMAIN rs_gone_text;
DROP DOMAIN rs_secret_list;
DROP DOMAIN rs_secret_text;
DROP FUNCTION rs_before_delete();
DROP FUNCTION rs_policy_probe(text);
DROP FUNCTION rs_steal();
SELECT privacy.revoke_key('rs_k', 'regress_rs_owner');
DROP ROLE regress_rs_owner;
RESET privacy.audit;
