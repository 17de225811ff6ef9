#!/usr/bin/env bash
# Cost growth (make bench-growth): what a statement costs as the number of
# keys and of consent purposes grows, and a decrypt scan as the table grows.
# One throwaway cluster, one backend per measurement, no parallel workers.
#  - keys: 10, 100, 1,000 keys, each with its own table of one encrypted
#    column (10 rows), and as many plain tables.  In a fresh backend every
#    table is read once (for an encrypted one, the key's first use:
#    unwrapping it, its catalog rows) and then once more (warm); the mean
#    time per statement of each pass is printed.  PostgreSQL itself gets
#    slower per statement when a backend cycles through more tables (seen:
#    3-5x from 10 to 300 plain tables), so flatness is judged on the ratio
#    encrypted / plain measured in the same backends.
#  - purposes: 10, 100, 1,000 consent purposes x 10 consenting subjects
#    each (10,000 consents at 1,000), one protected table of 20 subjects.
#    In a fresh backend each purpose is declared and the table counted once
#    (first use) and once more (warm); the baseline declares a setting the
#    extension does not know and counts an unprotected copy.
#  - a decrypt scan of 10M rows against one of 1M: the same cost per row
#    within 10%.
# Each pass runs 3 times (fresh backends); medians.  Flat means: at 1,000
# at most 1.3x what it is at 10 -- for a first use its time, for a warm
# statement its ratio to the baseline.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. test/cluster.sh

STEPS=${PRIVACY_BENCH_STEPS:-"10 100 1000"}
SMALL=${PRIVACY_BENCH_ROWS:-1000000}
BIG=${PRIVACY_BENCH_BIG_ROWS:-10000000}
RUNS=${PRIVACY_BENCH_RUNS:-3}
PORT=${PRIVACY_BENCH_PORT:-54342}
WORK=$(mktemp -d /tmp/privacy_ext_growth_bench.XXXXXX)
chmod 755 "$WORK"
trap 'px_cluster_stop "$WORK/cluster"; rm -rf "$WORK"' EXIT

px_cluster_start "$WORK/cluster" "$PORT" \
    "shared_buffers = 1GB" "max_parallel_workers_per_gather = 0" "jit = off" \
    "max_wal_size = 4GB" "autovacuum = off"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)

"${PSQL[@]}" >/dev/null <<'SQL'
CREATE EXTENSION privacy_ext;
CREATE ROLE growth_app;
CREATE TABLE growth_customers (customer_id text PRIMARY KEY);
INSERT INTO growth_customers SELECT 's' || g FROM generate_series(1, 20) g;
CREATE TABLE growth_open (LIKE growth_customers INCLUDING ALL);
INSERT INTO growth_open SELECT * FROM growth_customers;
GRANT SELECT ON growth_open TO growth_app;
SELECT privacy.protect_table('growth_customers', 'customer_id');
GRANT SELECT ON growth_customers TO growth_app;
-- A key and table used first in every measuring backend, so that what a
-- backend pays once (the root key's use, the extension's catalog) is not
-- counted as the first use of the keys measured.
SELECT privacy.create_key('growth_warm');
CREATE TABLE growth_warm (c privacy.encrypted_text('growth_warm'));
INSERT INTO growth_warm VALUES ('warm');

-- Keys 1..n and their tables (those not made yet).
CREATE FUNCTION growth_make_keys(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN (SELECT count(*) + 1 FROM pg_catalog.pg_class WHERE relname LIKE 'growth\_k%' AND relkind = 'r')::int .. n LOOP
        PERFORM privacy.create_key('growth_k' || i);
        EXECUTE format('CREATE TABLE growth_k%s (c privacy.encrypted_text(%L))', i, 'growth_k' || i);
        EXECUTE format('INSERT INTO growth_k%s SELECT ''value '' || g FROM generate_series(1, 10) g', i);
        EXECUTE format('CREATE TABLE growth_t%s (c text)', i);
        EXECUTE format('INSERT INTO growth_t%s SELECT ''value '' || g FROM generate_series(1, 10) g', i);
    END LOOP;
END $$;
-- Purposes 1..n, each with 10 consenting subjects of the 20.
CREATE FUNCTION growth_make_purposes(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN (SELECT count(*) + 1 FROM privacy.purposes WHERE name LIKE 'growth\_p%')::int .. n LOOP
        PERFORM privacy.create_purpose('growth_p' || i, 'consent');
        PERFORM privacy.grant_purpose('growth_app', 'growth_p' || i);
        INSERT INTO privacy.consent_state (subject, purpose, granted, expires_at, policy_ordinal, updated_at)
        SELECT 's' || g, 'growth_p' || i, true, NULL, 0, now()
          FROM generate_series(1, 20) g WHERE (g + i) % 2 = 0;
    END LOOP;
END $$;
-- Mean microseconds per statement reading each of the n key tables, reps
-- times: the first call (reps 1) is each key's first use in this backend,
-- the second (warm) repeats the pass to at least 2,000 statements.
CREATE FUNCTION growth_keys_pass(n int, reps int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    s bigint;
BEGIN
    FOR j IN 1 .. reps LOOP FOR i IN 1 .. n LOOP
        EXECUTE format('SELECT sum(length(privacy.decrypt(c))) FROM growth_k%s', i) INTO s;
    END LOOP; END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / (n * reps);
END $$;
-- The baseline: plain tables.
CREATE FUNCTION growth_plain_pass(n int, reps int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    s bigint;
BEGIN
    FOR j IN 1 .. reps LOOP FOR i IN 1 .. n LOOP
        EXECUTE format('SELECT sum(length(c)) FROM growth_t%s', i) INTO s;
    END LOOP; END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / (n * reps);
END $$;
-- The same for declaring each of n purposes and counting the protected table.
CREATE FUNCTION growth_purposes_pass(n int, reps int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    c bigint;
BEGIN
    FOR j IN 1 .. reps LOOP FOR i IN 1 .. n LOOP
        PERFORM set_config('privacy.purpose', 'growth_p' || i, false);
        EXECUTE 'SELECT count(*) FROM growth_customers' INTO c;
        IF c <> 10 THEN
            RAISE EXCEPTION 'purpose growth_p%: % rows visible, expected 10', i, c;
        END IF;
    END LOOP; END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / (n * reps);
END $$;
-- The baseline: a setting the extension does not know, an unprotected table.
CREATE FUNCTION growth_open_pass(n int, reps int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    c bigint;
BEGIN
    FOR j IN 1 .. reps LOOP FOR i IN 1 .. n LOOP
        PERFORM set_config('growth.purpose', 'growth_p' || i, false);
        EXECUTE 'SELECT count(*) FROM growth_open' INTO c;
    END LOOP; END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / (n * reps);
END $$;
GRANT EXECUTE ON FUNCTION growth_purposes_pass(int, int), growth_open_pass(int, int) TO growth_app;
SQL

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "per statement, microseconds (median of $RUNS fresh backends each); ratio = warm / baseline warm"
printf "%-9s %6s %11s %10s %15s %15s %7s\n" "" "n" "first use" "warm" "baseline first" "baseline warm" "ratio"
declare -A KR PR KF PF
for n in $STEPS; do
    "${PSQL[@]}" -c "SELECT growth_make_keys($n)" >/dev/null
    "${PSQL[@]}" -c "SELECT growth_make_purposes($n)" >/dev/null
    "${PSQL[@]}" -c "VACUUM ANALYZE privacy.consent_state" >/dev/null
    kf=(); kw=(); bf=(); bw=(); pf=(); pw=(); of=(); ow=()
    reps=$(( (2000 + n - 1) / n ))   # warm passes of at least 2,000 statements
    for r in $(seq 1 "$RUNS"); do
        read -r a b < <("${PSQL[@]}" -At -F ' ' -c "SELECT count(*) FROM growth_warm, LATERAL privacy.decrypt(c) d" \
            -c "SELECT growth_keys_pass($n, 1), growth_keys_pass($n, $reps)" | tail -1)
        kf+=("$a"); kw+=("$b")
        read -r a b < <("${PSQL[@]}" -At -F ' ' -c "SELECT count(*) FROM growth_warm, LATERAL privacy.decrypt(c) d" \
            -c "SELECT growth_plain_pass($n, 1), growth_plain_pass($n, $reps)" | tail -1)
        bf+=("$a"); bw+=("$b")
        read -r a b < <("${PSQL[@]}" -At -F ' ' -c "SET ROLE growth_app" -c "SELECT growth_purposes_pass($n, 1), growth_purposes_pass($n, $reps)" | tail -1)
        pf+=("$a"); pw+=("$b")
        read -r a b < <("${PSQL[@]}" -At -F ' ' -c "SET ROLE growth_app" -c "SELECT growth_open_pass($n, 1), growth_open_pass($n, $reps)" | tail -1)
        of+=("$a"); ow+=("$b")
    done
    k1=$(median "${kf[@]}"); k2=$(median "${kw[@]}"); b1=$(median "${bf[@]}"); b2=$(median "${bw[@]}")
    p1=$(median "${pf[@]}"); p2=$(median "${pw[@]}"); o1=$(median "${of[@]}"); o2=$(median "${ow[@]}")
    KR[$n]=$(awk -v a="$k2" -v b="$b2" 'BEGIN { print a / b }'); PR[$n]=$(awk -v a="$p2" -v b="$o2" 'BEGIN { print a / b }')
    KF[$n]=$k1; PF[$n]=$p1
    printf "%-9s %6s %11.1f %10.1f %15.1f %15.1f %7.2f\n" "keys" "$n" "$k1" "$k2" "$b1" "$b2" "${KR[$n]}"
    printf "%-9s %6s %11.1f %10.1f %15.1f %15.1f %7.2f\n" "purposes" "$n" "$p1" "$p2" "$o1" "$o2" "${PR[$n]}"
done
first=$(echo $STEPS | awk '{ print $1 }'); last=$(echo $STEPS | awk '{ print $NF }')
echo
flat() {
    awk -v label="$1" -v a="$2" -v b="$3" -v f="$first" -v l="$last" 'BEGIN {
        r = b / a; printf "%-52s %8.2f %8s  %s\n", label " at " l " / at " f, r, "<= 1.3", (r <= 1.3 ? "PASS" : "FAIL") }'
}
flat "key first use (us)" "${KF[$first]}" "${KF[$last]}"
flat "key warm statement (ratio to plain)" "${KR[$first]}" "${KR[$last]}"
flat "purpose first use (us)" "${PF[$first]}" "${PF[$last]}"
flat "purpose warm statement (ratio to baseline)" "${PR[$first]}" "${PR[$last]}"

# Decrypt scans: SMALL and BIG rows, alternating, the same cost per row.
echo
echo "decrypt scan, $SMALL and $BIG rows: loading ..."
"${PSQL[@]}" >/dev/null <<SQL
SELECT privacy.create_key('growth_scan');
CREATE TABLE growth_small (c privacy.encrypted_text('growth_scan'));
INSERT INTO growth_small SELECT 'u' || lpad(g::text, 9, '0') || '@example.org' FROM generate_series(1, $SMALL) g;
CREATE TABLE growth_big (c privacy.encrypted_text('growth_scan'));
INSERT INTO growth_big SELECT 'u' || lpad(g::text, 9, '0') || '@example.org' FROM generate_series(1, $BIG) g;
VACUUM ANALYZE growth_small; VACUUM ANALYZE growth_big;
SQL
{
    echo '\timing on'
    echo 'SELECT count(*) FROM growth_small; SELECT count(*) FROM growth_big;'
    for r in $(seq 1 "$RUNS"); do
        echo '\echo @small'
        echo 'SELECT sum(length(privacy.decrypt(c))) FROM growth_small;'
        echo '\echo @big'
        echo 'SELECT sum(length(privacy.decrypt(c))) FROM growth_big;'
    done
} > "$WORK/scan.sql"
"${PSQL[@]}" -f "$WORK/scan.sql" > "$WORK/scan.out"
awk -v small="$SMALL" -v big="$BIG" -f "$SRC/test/bench/ratios.awk" -f /dev/stdin "$WORK/scan.out" <<'AWK'
    END {
        s = median(t["small"]) * 1e6 / small; b = median(t["big"]) * 1e6 / big
        printf "%-44s %8.0f   %s\n", "decrypt scan, " small " rows (ns/row)", s, t["small"]
        printf "%-44s %8.0f   %s\n", "decrypt scan, " big " rows (ns/row)", b, t["big"]
        r = b / s
        printf "%-44s %8.2f %8s  %s\n", "per row: big / small", r, "0.9..1.1", (r >= 0.9 && r <= 1.1 ? "PASS" : "FAIL")
    }
AWK

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "server:  $("${PSQL[@]}" -At -c 'SHOW server_version')"
