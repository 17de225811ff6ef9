#!/usr/bin/env bash
# make soak's churn beside the load mix (run by test/load/run_load.sh as
# LOAD_DURING, with the cluster's PGHOST/PGPORT/PGUSER, LOAD_WORK and
# LOAD_SECONDS): a table with a deterministic column and its btree index,
# then every SOAK_CHURN_SECONDS (30 by default) until the load ends a key
# rotation, a re-encryption of every encrypted column, and a transaction
# of 200 consent changes; and every round a sample of the private memory
# (RssAnon) of this cluster's client backends, for soak_after.sh.
set -uo pipefail
PG_BIN=${PG_BIN:-$("${PG_CONFIG:-pg_config}" --bindir)}
CHURN=${SOAK_CHURN_SECONDS:-30}
PSQL=("$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d postgres)
MEM="$LOAD_WORK/soak_mem.txt"
postmaster=$(head -n 1 "$LOAD_WORK/cluster/data/postmaster.pid")

"${PSQL[@]}" >/dev/null <<'SQL' || { echo "soak setup failed"; exit 1; }
CREATE TABLE soak_det (id int PRIMARY KEY, email privacy.encrypted_text_det('load'),
                       ssn privacy.encrypted_text('load'));
INSERT INTO soak_det SELECT g, 'd' || g || '@example.net', 'ssn-' || g FROM generate_series(1, 20000) g;
CREATE INDEX soak_det_email ON soak_det (email);
SQL

sample_memory() {
    local now=$1 p
    for p in $(pgrep -P "$postmaster"); do
        # Client backends only: their title is "postgres: user db [local] ...".
        grep -q '\[local\]' "/proc/$p/cmdline" 2>/dev/null || continue
        awk -v t="$now" -v p="$p" '/^RssAnon/ { print t, p, $2 }' "/proc/$p/status" 2>/dev/null
    done >> "$MEM"
}

start=$(date +%s)
rounds=0
rewritten=0
changes=0
: > "$MEM"
while :; do
    now=$(( $(date +%s) - start ))
    [ "$now" -ge $(( LOAD_SECONDS - CHURN / 2 )) ] && break
    sleep "$CHURN"
    now=$(( $(date +%s) - start ))
    sample_memory "$now"
    out=$("${PSQL[@]}" <<'SQL'
SELECT privacy.rotate_key('load');
SELECT privacy.reencrypt('accounts', 'ssn') + privacy.reencrypt('people', 'ssn')
       + privacy.reencrypt('soak_det', 'ssn');
BEGIN;
SELECT count(*) FROM (
  SELECT CASE WHEN random() < 0.5 THEN privacy.grant_consent('s' || n, 'marketing')::text
              ELSE privacy.withdraw_consent('s' || n, 'marketing')::text END
    FROM (SELECT (1 + floor(random() * 10000))::int AS n FROM generate_series(1, 200)) g) x;
COMMIT;
UPDATE soak_det SET email = 'e' || id || '-' || (random() * 1000)::int || '@example.net'
 WHERE id % 97 = (random() * 96)::int;
SQL
    ) || { echo "FAILED: soak churn round $((rounds + 1)): $out"; exit 1; }
    rounds=$((rounds + 1))
    rewritten=$((rewritten + $(echo "$out" | sed -n 2p)))
    changes=$((changes + 200))
    # Each leaves a consent event that is not pgbench's: run_load.sh subtracts them.
    echo "$changes" > "$LOAD_WORK/extra_consent_events"
done
sample_memory "$(( $(date +%s) - start ))"
echo "soak churn: $rounds rounds (key rotations), $rewritten values re-encrypted, $changes consent changes in bulk transactions"
echo "$rounds" > "$LOAD_WORK/soak_rounds"
