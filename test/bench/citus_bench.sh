#!/usr/bin/env bash
# Benchmark on Citus (issue 21, point 7): a decrypt scan and a masked read of
# 1M rows on a distributed table, and deterministic point lookups through
# the coordinator, against the same on a local table of the coordinator.
# A coordinator and two workers on THIS machine: they share its cores, so
# the ratios show Citus's overhead, never a scale-out.
# Rounds interleave the local and the distributed query in ONE psql
# session; the ratio reported is the median over rounds of the ratio within
# a round (as test/bench/run_bench.sh does).
# Skips (exit 0) when Citus is not installed for the server under test.
#
#   bash test/bench/citus_bench.sh        (or: make bench-citus)
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. test/cluster.sh
PG_CONFIG=${PG_CONFIG:-pg_config}
if [ ! -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ]; then
    echo "bench-citus: SKIPPED: Citus is not installed for this server"
    exit 0
fi

ROWS=${PRIVACY_BENCH_ROWS:-1000000}
RUNS=${PRIVACY_BENCH_RUNS:-7}
PORT=${PRIVACY_BENCH_PORT:-54350}
LOOKUP_SECONDS=${PRIVACY_BENCH_LOOKUP_SECONDS:-8}
WORK=$(mktemp -d /tmp/privacy_ext_citus_bench.XXXXXX)
chmod 755 "$WORK"
cleanup() {
    for i in 2 1 0; do px_cluster_stop "$WORK/n$i"; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Three nodes, the same root key (the coordinator's file), citus first.
for i in 0 1 2; do
    extra=()
    [ "$i" -gt 0 ] && extra=("privacy.root_key_file = '$WORK/n0/root.key'")
    px_cluster_start "$WORK/n$i" $((PORT + i)) \
        "listen_addresses = '127.0.0.1'" "shared_preload_libraries = 'citus,privacy_ext'" \
        "max_prepared_transactions = 50" "citus.shard_count = 4" \
        "shared_buffers = 512MB" "max_parallel_workers_per_gather = 0" "jit = off" \
        "max_wal_size = 4GB" "checkpoint_timeout = 30min" "autovacuum = off" "${extra[@]}"
    "$PG_BIN/psql" -X -q -h 127.0.0.1 -p $((PORT + i)) -U postgres -d postgres -c 'CREATE EXTENSION citus'
done
C=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres)
"${C[@]}" -c "SELECT citus_set_coordinator_host('127.0.0.1', $PORT)" >/dev/null
for i in 1 2; do "${C[@]}" -c "SELECT citus_add_node('127.0.0.1', $((PORT + i)))" >/dev/null; done

echo "loading $ROWS rows into a local and a distributed table (coordinator + 2 workers on one machine) ..."
"${C[@]}" >/dev/null <<SQL
CREATE EXTENSION privacy_ext;
SELECT privacy.create_key('bench');
SQL
"${C[@]}" >/dev/null <<SQL
CREATE TABLE src (id int, email text, phone text);
INSERT INTO src SELECT g, 'u' || lpad(g::text, 9, '0') || '@example.org',
                       '+31 6 ' || lpad(g::text, 8, '0') FROM generate_series(1, $ROWS) g;
CREATE TABLE enc_local (id int, email privacy.encrypted_text('bench'), phone privacy.encrypted_text('bench'));
CREATE TABLE enc_dist (id int, email privacy.encrypted_text('bench'), phone privacy.encrypted_text('bench'));
SELECT create_distributed_table('enc_dist', 'id');
CREATE INDEX ON enc_dist (id);   -- for the int lookups (Citus's own cost of routing)
INSERT INTO enc_local SELECT id, email, phone FROM src;
INSERT INTO enc_dist SELECT id, email, phone FROM src;
CREATE TABLE det_local (id int, email privacy.encrypted_text_det('bench') UNIQUE);
CREATE TABLE det_dist (id int, email privacy.encrypted_text_det('bench') UNIQUE);
SELECT create_distributed_table('det_dist', 'email');
INSERT INTO det_local SELECT id, email FROM src;
INSERT INTO det_dist SELECT id, email FROM src;
SELECT privacy.set_mask(t, 'email', 'email') FROM unnest(ARRAY['enc_local', 'enc_dist']::regclass[]) t;
SELECT privacy.set_mask(t, 'phone', 'partial(0, ''*******'', 4)') FROM unnest(ARRAY['enc_local', 'enc_dist']::regclass[]) t;
CREATE ROLE bench_support LOGIN;  -- Citus connects to the workers as the role
GRANT SELECT ON enc_local, enc_dist TO bench_support;
SELECT privacy.grant_key('bench', 'bench_support');
SELECT privacy.mask_role('bench_support');
VACUUM ANALYZE enc_local; VACUUM ANALYZE enc_dist; VACUUM ANALYZE det_local; VACUUM ANALYZE det_dist;
SQL
# The masking views, local and distributed; should the distributed one
# fail, the masked read is reported missing with the error, not timed.
"${C[@]}" -c "SELECT privacy.create_masking_view('enc_local')" >/dev/null 2>&1
MASKED_DIST=1
if ! "${C[@]}" -c "SELECT privacy.create_masking_view('enc_dist')" >/dev/null 2>"$WORK/mv.err" ||
   ! "${C[@]}" -c "SET ROLE bench_support; SELECT count(*) FROM masked.enc_dist" >/dev/null 2>>"$WORK/mv.err"; then
    MASKED_DIST=0
    echo "masked read of the distributed table not measured: $(grep -m1 ERROR "$WORK/mv.err" || true)"
fi
echo "plans: $("${C[@]}" -At -c 'EXPLAIN SELECT sum(length(privacy.decrypt(email))) FROM enc_dist' | grep -m1 'Task Count')" \
     "for the distributed scan; $("${C[@]}" -At -c "EXPLAIN SELECT id FROM det_dist WHERE email = 'u000000001@example.org'" | grep -m1 'Task Count')" \
     "for a lookup"

{
    echo '\timing on'
    for r in $(seq 1 "$RUNS"); do
        echo '\echo @decrypt_local'
        echo 'SELECT sum(length(privacy.decrypt(email))) FROM enc_local;'
        echo '\echo @decrypt_dist'
        echo 'SELECT sum(length(privacy.decrypt(email))) FROM enc_dist;'
        echo 'SET ROLE bench_support;'
        echo '\echo @masked_local'
        echo 'SELECT sum(length(email) + length(phone)) FROM masked.enc_local;'
        if [ "$MASKED_DIST" = 1 ]; then
            echo '\echo @masked_dist'
            echo 'SELECT sum(length(email) + length(phone)) FROM masked.enc_dist;'
        fi
        echo 'RESET ROLE;'
    done
} > "$WORK/timed.sql"
echo "timing $RUNS rounds ..."
"${C[@]}" -f "$WORK/timed.sql" > "$WORK/timed.out"

awk -v rows="$ROWS" -v masked="$MASKED_DIST" -f "$SRC/test/bench/ratios.awk" -f /dev/stdin "$WORK/timed.out" <<'AWK'
    function line(label, num, den,   r) {
        r = paired(num, den)
        printf "%-44s %8.2f %9.2f  %5.2f..%-5.2f\n", label, r, m[num] / m[den], lo, hi
    }
    END {
        nm = split("decrypt_local decrypt_dist masked_local masked_dist", order, " ")
        printf "%-19s %12s %10s   %s\n", "measurement", "median ms", "ns/row", "all runs (ms)"
        for (k = 1; k <= nm; k++) {
            n = order[k]; if (t[n] == "") continue; m[n] = median(t[n])
            printf "%-19s %12.1f %10.0f  %s\n", n, m[n], m[n] * 1e6 / rows, t[n]
        }
        printf "\n%-44s %8s %9s  %s\n", "ratio distributed / local (one machine)", "paired", "of medians", "spread"
        line("decrypt scan of " rows " rows", "decrypt_dist", "decrypt_local")
        if (masked == 1) line("masked read (masking view, 2 columns)", "masked_dist", "masked_local")
    }
AWK

# Point lookups on the deterministic column, prepared statements, through
# the coordinator: the distributed lookup is routed to one shard.
cat > "$WORK/local.pgb" <<'PGB'
\set n random(1, :rows)
SELECT id FROM det_local WHERE email = ('u' || lpad(:n::text, 9, '0') || '@example.org')::text;
PGB
sed 's/det_local/det_dist/' "$WORK/local.pgb" > "$WORK/dist.pgb"
# Citus's own cost of a routed lookup: by an int distribution column.
cat > "$WORK/int.pgb" <<'PGB'
\set n random(1, :rows)
SELECT id FROM enc_dist WHERE id = :n;
PGB
echo
echo "pgbench point lookups by deterministic column, -M prepared -c 2 -j 2, ${LOOKUP_SECONDS}s per run, 3 runs each ..."
tps() {
    "$PG_BIN/pgbench" -n -M prepared -c 2 -j 2 -T "$LOOKUP_SECONDS" -D rows="$ROWS" \
        -h 127.0.0.1 -p "$PORT" -U postgres -f "$1" postgres 2>/dev/null | awk '/^tps/ { print $3; exit }'
}
local_tps=(); dist_tps=(); int_tps=()
for r in 1 2 3; do
    local_tps+=("$(tps "$WORK/local.pgb")")
    dist_tps+=("$(tps "$WORK/dist.pgb")")
    int_tps+=("$(tps "$WORK/int.pgb")")
done
med() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
lt=$(med "${local_tps[@]}"); dt=$(med "${dist_tps[@]}"); it=$(med "${int_tps[@]}")
printf '%-50s %10.0f tps  (runs: %s)\n' "det lookup, local table" "$lt" "${local_tps[*]}"
printf '%-50s %10.0f tps  (runs: %s)\n' "det lookup, distributed on it (one shard)" "$dt" "${dist_tps[*]}"
printf '%-50s %10.0f tps  (runs: %s)\n' "int lookup, distributed on it (one shard)" "$it" "${int_tps[*]}"
awk -v l="$lt" -v d="$dt" -v i="$it" 'BEGIN {
    printf "%-50s %8.2f\n", "lookup time distributed / local (det)", l / d
    printf "%-50s %8.2f\n", "lookup time det / int, both distributed", i / d }'
echo
echo "One machine: the coordinator and both workers share its cores, so these"
echo "ratios show what Citus adds per query, not what more machines would gain."
