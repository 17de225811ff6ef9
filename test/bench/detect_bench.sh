#!/usr/bin/env bash
# Benchmark of personal-data detection (make bench-detect): one throwaway
# cluster, a table of PRIVACY_BENCH_DETECT_ROWS rows (10M by default; 8
# columns, half personal data), and the time of one
# privacy.detect_personal_data() call over it, median of RUNS calls, next
# to the time of one count(*) of the same table for scale.  Loading is
# bounded: one INSERT ... SELECT from generate_series, unlogged, no index.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. test/cluster.sh

ROWS=${PRIVACY_BENCH_DETECT_ROWS:-10000000}
RUNS=${PRIVACY_BENCH_RUNS:-3}
SAMPLE=${PRIVACY_BENCH_DETECT_SAMPLE:-1000}
PORT=${PRIVACY_BENCH_PORT:-54343}
WORK=$(mktemp -d /tmp/privacy_ext_detect_bench.XXXXXX)
chmod 755 "$WORK"
trap 'px_cluster_stop "$WORK/cluster"; rm -rf "$WORK"' EXIT

px_cluster_start "$WORK/cluster" "$PORT" \
    "shared_buffers = 256MB" "max_parallel_workers_per_gather = 0" "jit = off" "max_wal_size = 4GB"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)

echo "loading $ROWS rows ..."
start=$(date +%s)
"${PSQL[@]}" >/dev/null <<SQL
CREATE EXTENSION privacy_ext;
CREATE UNLOGGED TABLE big_customers (
    id bigint, email text, phone text, first_name text, card_number text,
    order_ref text, product_code text, app_version text);
INSERT INTO big_customers
SELECT g, 'user' || g || '@example.com', '+33 1 23 45 ' || lpad((g % 100)::text, 2, '0') || ' 00',
       (ARRAY['Ann', 'John', 'Marie', 'Hans'])[g % 4 + 1],
       (ARRAY['4111 1111 1111 1111', '5555555555554444'])[g % 2 + 1],
       'ORD-' || g, 'SKU-' || (g % 997), (g % 5) || '.' || (g % 13) || '.0'
  FROM generate_series(1, $ROWS) g;
ANALYZE big_customers;
SQL
echo "loaded in $(( $(date +%s) - start )) s: $("${PSQL[@]}" -Atc "SELECT pg_size_pretty(pg_relation_size('big_customers'))")"

"${PSQL[@]}" -At <<SQL
\\timing on
SELECT count(*) AS findings FROM privacy.detect_personal_data($SAMPLE);
SQL

echo "timing $RUNS calls (sample_rows = $SAMPLE) and $RUNS full counts ..."
"${PSQL[@]}" -At <<SQL
CREATE TEMP TABLE t (what text, ms float8);
DO \$\$
DECLARE
    t0 timestamptz;
    n bigint;
BEGIN
    FOR i IN 1..$RUNS LOOP
        t0 := clock_timestamp();
        PERFORM * FROM privacy.detect_personal_data($SAMPLE);
        INSERT INTO t VALUES ('detect', extract(epoch FROM clock_timestamp() - t0) * 1000);
        t0 := clock_timestamp();
        SELECT count(*) INTO n FROM big_customers;
        INSERT INTO t VALUES ('count', extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
END
\$\$;
SELECT format('detect_personal_data(%s) on %s rows: median %s ms; a count(*) of the table: median %s ms',
              $SAMPLE, $ROWS,
              round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE what = 'detect'))::numeric, 1),
              round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE what = 'count'))::numeric, 1))
  FROM t;
SELECT table_name || '.' || column_name || ': ' || category || ' ' || round(confidence::numeric, 2)
  FROM privacy.detect_personal_data($SAMPLE) ORDER BY 1;
SQL
