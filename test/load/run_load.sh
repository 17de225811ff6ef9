#!/usr/bin/env bash
# Load test (make load): pgbench, 8 clients on loopback (a unix socket) for
# LOAD_SECONDS (60 by default), mixing encrypted inserts, masked reads,
# consent-filtered reads and consent grants / withdrawals.  Afterwards it
# checks that no transaction failed, that every insert and every consent
# event is there, and prints the backends' private memory early and late.
# make soak (test/load/run_soak.sh) runs the same mix for longer, with two
# hooks: LOAD_DURING, a script run beside pgbench (rotation, re-encryption,
# consent churn), and LOAD_AFTER, a script of further checks run at the end
# whose failure fails the run; LOAD_MEM_EARLY is when the first memory
# sample is taken (seconds, 5 by default).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. test/cluster.sh

SECONDS_TO_RUN=${LOAD_SECONDS:-60}
CLIENTS=${LOAD_CLIENTS:-8}
PORT=${PRIVACY_LOAD_PORT:-54342}
WORK=$(mktemp -d /tmp/privacy_ext_load.XXXXXX)
chmod 755 "$WORK"
trap 'px_cluster_stop "$WORK/cluster"; rm -rf "$WORK"' EXIT

px_cluster_start "$WORK/cluster" "$PORT" "max_connections = 50" "privacy.audit = 'log,table'"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)
"${PSQL[@]}" >/dev/null <<'SQL'
CREATE EXTENSION privacy_ext;
SELECT privacy.create_key('load');
CREATE ROLE loader; CREATE ROLE support; CREATE ROLE crm; CREATE ROLE consent_app IN ROLE privacy_consent_manager;
CREATE TABLE accounts (id bigserial PRIMARY KEY, customer_id text, ssn privacy.encrypted_text('load'));
GRANT INSERT ON accounts TO loader; GRANT USAGE ON SEQUENCE accounts_id_seq TO loader;
CREATE TABLE people (id int PRIMARY KEY, email text, ssn privacy.encrypted_text('load'));
INSERT INTO people SELECT g, 'user' || g || '@example.org', 'ssn-' || g FROM generate_series(1, 10000) g;
SELECT privacy.set_mask('people', 'email', 'email');
SELECT privacy.set_mask('people', 'ssn', 'partial(0, ''***'', 2)');
SELECT privacy.set_mask('people', 'id', 'none');   -- 1.1: clear only by saying so
SELECT privacy.create_masking_view('people');
SELECT privacy.mask_role('support');
SELECT privacy.create_purpose('marketing', 'consent');
SELECT privacy.grant_purpose('crm', 'marketing');
CREATE TABLE subscribers (customer_id text PRIMARY KEY, name text);
INSERT INTO subscribers SELECT 's' || g, 'name ' || g FROM generate_series(1, 10000) g;
GRANT SELECT ON subscribers TO crm;
SELECT privacy.protect_table('subscribers', 'customer_id');
SELECT privacy.grant_consent('s' || g, 'marketing') FROM generate_series(1, 10000, 2) g;
GRANT SELECT ON privacy.consent_state TO crm;   -- for the consistency check below
SQL

cat > "$WORK/insert.pgb" <<'PGB'
\set n random(1, 1000000)
BEGIN;
SET LOCAL ROLE loader;
INSERT INTO accounts (customer_id, ssn) VALUES ('c' || :n, 'ssn-' || :n);
COMMIT;
PGB
cat > "$WORK/masked.pgb" <<'PGB'
\set a random(1, 9900)
BEGIN;
SET LOCAL ROLE support;
SELECT count(*), max(ssn), max(email) FROM masked.people WHERE id BETWEEN :a AND :a + 50;
COMMIT;
PGB
cat > "$WORK/consent_read.pgb" <<'PGB'
\set a random(1, 9000)
BEGIN;
SET LOCAL ROLE crm;
SET LOCAL privacy.purpose = 'marketing';
SELECT count(*) FROM subscribers WHERE customer_id BETWEEN 's' || :a AND 's' || (:a + 50);
COMMIT;
PGB
cat > "$WORK/consent_change.pgb" <<'PGB'
\set n random(1, 10000)
\set w random(0, 1)
BEGIN;
SET LOCAL ROLE consent_app;
SELECT CASE WHEN :w = 0 THEN privacy.grant_consent('s' || :n, 'marketing')::text
            ELSE privacy.withdraw_consent('s' || :n, 'marketing')::text END;
COMMIT;
PGB

events_before=$("${PSQL[@]}" -At -c 'SELECT count(*) FROM privacy.consent_events')
audit_consent_before=$("${PSQL[@]}" -At -c "SELECT count(*) FROM privacy.audit_log WHERE action IN ('consent_grant', 'consent_withdraw')")
echo "pgbench: $CLIENTS clients, ${SECONDS_TO_RUN}s, weights insert 4, masked read 3, consent read 3, consent change 1"
MEM_EARLY=${LOAD_MEM_EARLY:-5}
( sleep "$MEM_EARLY"; echo "private memory of the pgbench backends after ${MEM_EARLY}s:";
  for p in $(pgrep -f "postgres: postgres postgres \[local\]"); do grep -H RssAnon /proc/$p/status; done ) \
    > "$WORK/mem_early.txt" 2>/dev/null &
# Sample again every 2 s while pgbench runs; the last sample is kept.
touch "$WORK/mem_early.txt" "$WORK/mem_late.txt"
( sleep $((MEM_EARLY - 2 > 3 ? MEM_EARLY - 2 : 3)); while sleep 2; do
    { echo "private memory of the pgbench backends near the end:";
      for p in $(pgrep -f "postgres: postgres postgres \[local\]"); do grep -H RssAnon /proc/$p/status; done; } \
      > "$WORK/mem_sample.txt" 2>/dev/null
    [ "$(wc -l < "$WORK/mem_sample.txt")" -gt 1 ] || break
    mv "$WORK/mem_sample.txt" "$WORK/mem_late.txt"
  done ) &
# One long-lived session checks, four times a second while consents change,
# that the rows visible through the policy (answered from the set the
# backend keeps across statements) are exactly the consenting subjects in
# privacy.consent_state, both counted in one statement, under one snapshot.
{
    echo "SET ROLE crm; SET privacy.purpose = 'marketing';"
    for i in $(seq 1 $(( SECONDS_TO_RUN * 4 ))); do
        echo "SELECT CASE WHEN p = t THEN 'same' ELSE 'DIFF ' || p || ' ' || t END
                FROM (SELECT (SELECT count(*) FROM subscribers) AS p,
                             (SELECT count(*) FROM privacy.consent_state
                               WHERE purpose = 'marketing' AND granted) AS t) x;"
        echo "SELECT pg_sleep(0.25);"
    done
    echo "RESET ROLE;"
    echo "SELECT 'sets kept at the end: ' || count(*) FROM privacy.consent_cache_info();"
} > "$WORK/consistency.sql"
"$PG_BIN/psql" -X -q -At -d postgres -f "$WORK/consistency.sql" > "$WORK/consistency.out" 2>&1 &
if [ -n "${LOAD_DURING:-}" ]; then
    LOAD_WORK="$WORK" LOAD_SECONDS="$SECONDS_TO_RUN" bash "$LOAD_DURING" > "$WORK/during.out" 2>&1 &
fi
"$PG_BIN/pgbench" -n -c "$CLIENTS" -j 2 -T "$SECONDS_TO_RUN" -l --log-prefix="$WORK/txlog" \
    -f "$WORK/insert.pgb@4" -f "$WORK/masked.pgb@3" -f "$WORK/consent_read.pgb@3" \
    -f "$WORK/consent_change.pgb@1" postgres > "$WORK/pgbench.out" 2>&1 || true
wait
grep -E '^(SQL script|number of transactions actually|number of failed|tps)' "$WORK/pgbench.out" | sed 's/^/  /'

# pgbench's per-script summary can be short by a few transactions; its
# per-transaction log (-l: client, transaction, latency, script number, ...)
# is exact, so the counts come from there.
completed() { cat "$WORK"/txlog.* | awk -v n="$1" '$4 == n && $3 ~ /^[0-9]+$/' | wc -l; }
inserts=$(completed 0)
changes=$(completed 3)
rows=$("${PSQL[@]}" -At -c 'SELECT count(*) FROM accounts')
# (less those a LOAD_DURING hook made itself, which it counts in this file)
extra_events=$(cat "$WORK/extra_consent_events" 2>/dev/null || echo 0)
events=$(( $("${PSQL[@]}" -At -c 'SELECT count(*) FROM privacy.consent_events') - events_before - extra_events ))
masked_reads=$(completed 1)
consent_reads=$(completed 2)
audit() { "${PSQL[@]}" -At -c "SELECT count(*) FROM privacy.audit_log WHERE action $1"; }
audit_consent=$(( $(audit "IN ('consent_grant', 'consent_withdraw')") - audit_consent_before - extra_events ))
audit_masked=$(audit "= 'masked_read'")
audit_purpose=$(audit "= 'purpose_declared'")
audit_lines=$(grep -c 'privacy_audit: ' "$WORK/cluster/server.log" || true)
audit_rows=$("${PSQL[@]}" -At -c 'SELECT count(*) FROM privacy.audit_log')
readable=$("${PSQL[@]}" -At -c "SELECT count(*) FROM accounts WHERE privacy.decrypt(ssn) = 'ssn-' || substr(customer_id, 2)")
errors=$(grep -cE 'ERROR|FATAL' "$WORK/cluster/server.log" || true)
cat "$WORK/mem_early.txt" "$WORK/mem_late.txt" | sed 's/^/  /'

fail=0
check() { if [ "$2" = "$3" ]; then echo "ok: $1 ($2)"; else echo "FAILED: $1: $2 != $3"; fail=1; fi; }
check "pgbench's log has every processed transaction" "$(cat "$WORK"/txlog.* | wc -l)" \
    "$(awk '/^number of transactions actually processed/ { print $NF }' "$WORK/pgbench.out")"
# At the deadline pgbench stops waiting for the transactions under way, but a
# COMMIT already sent still commits: up to one more per client than logged.
within() { if [ "$2" -ge "$3" ] && [ "$2" -le $(( $3 + CLIENTS )) ]; then echo "ok: $1 ($2; pgbench logged $3)";
           else echo "FAILED: $1: $2, pgbench logged $3 (at most $CLIENTS more expected)"; fail=1; fi; }
within "every committed insert is there" "$rows" "$inserts"
check "every insert decrypts to what was written" "$readable" "$rows"
within "every consent change left its event" "$events" "$changes"
check "every consent change has its audit event" "$audit_consent" "$events"
# A masked read reads 51 rows of two masked columns: two events per statement.
within "every masked read has its audit events (two per statement)" "$(( audit_masked / 2 ))" "$masked_reads"
within "every declared purpose has its audit event" "$audit_purpose" "$consent_reads"
check "every audit_log event is also in the server log" "$(( audit_lines >= audit_rows ))" "1"
check "no error in the server log" "$errors" "0"
grep -h '^sets kept' "$WORK/consistency.out" | sed 's/^/  /' || true
check "consent reads through the kept set match consent_state ($(grep -c '^same' "$WORK/consistency.out") checks)" \
    "$(grep -vc -e '^same' -e '^sets kept' -e '^$' "$WORK/consistency.out")" "0"
# Growth per backend between the two samples, for backends in both (kB);
# 1 MB of slack for caches that fill late (catalog, plan, key caches).
growth=$(awk 'FNR == 1 { file++ } /RssAnon/ { split($1, a, "/"); if (file == 1) early[a[3]] = $2;
              else if (a[3] in early && $2 - early[a[3]] > max) max = $2 - early[a[3]] }
              END { print max + 0 }' "$WORK/mem_early.txt" "$WORK/mem_late.txt")
if [ "$(grep -c RssAnon "$WORK/mem_late.txt")" -gt 0 ] && [ "$growth" -le 1024 ]; then
    echo "ok: no backend memory growth (largest: $growth kB)"
else
    echo "FAILED: backend memory growth $growth kB (or no late sample)"; fail=1
fi
grep -q 'number of failed transactions: 0' "$WORK/pgbench.out" && echo "ok: no failed transaction" \
    || { echo "FAILED: failed transactions"; fail=1; }
if [ -n "${LOAD_AFTER:-}" ]; then
    sed 's/^/  /' "$WORK/during.out" 2>/dev/null || true
    LOAD_WORK="$WORK" bash "$LOAD_AFTER" || fail=1
fi
exit $fail
