#!/usr/bin/env bash
# Benchmark of the randomized encrypted type against plain text and pgcrypto.
# One throwaway cluster, one backend, no JIT, no autovacuum; 1M rows of
# 22-character e-mails.  Every measurement runs 15 times, interleaved, in ONE
# psql session; the median is reported, with ratios against the plain-text
# baseline measured in the same session and the spread of those ratios over
# the rounds.  Scans run with no parallel workers, and the decrypt scans and
# masked reads once more with 2 (parallel plans forced, "_w2").  The plain
# scan runs again over rows as large as the envelopes' ("plain_sized"), so
# that a reader can tell what of the decrypt ratio is the larger rows.
# Static masking (anonymize_table on 1M rows, two rules) runs
# PRIVACY_BENCH_ANON_RUNS times (3), each on a fresh copy, alternating with
# the same rewrite as one SQL UPDATE; its ns/row is printed.
#
#   bash test/bench/run_bench.sh        (or: make bench)
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. test/cluster.sh

ROWS=${PRIVACY_BENCH_ROWS:-1000000}
RUNS=${PRIVACY_BENCH_RUNS:-15}
ANON_RUNS=${PRIVACY_BENCH_ANON_RUNS:-3}
PORT=${PRIVACY_BENCH_PORT:-54340}
WORK=$(mktemp -d /tmp/privacy_ext_bench.XXXXXX)
chmod 755 "$WORK"
cleanup() {
    px_cluster_stop "$WORK/cluster"
    # the bench's roles live in the throwaway cluster only
    rm -rf "$WORK"
}
trap cleanup EXIT

# No autovacuum: the bench vacuums and analyzes its tables itself, and a
# worker vacuuming the last round's million inserted rows would compete with
# whichever query runs next (seen: it vacuumed each insert table every round).
px_cluster_start "$WORK/cluster" "$PORT" \
    "shared_buffers = 1GB" "max_parallel_workers_per_gather = 0" "jit = off" \
    "max_wal_size = 4GB" "checkpoint_timeout = 30min" "autovacuum = off"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)

echo "loading $ROWS rows ..."
# 38 zero bytes in hex, an envelope's overhead (header, nonce, tag): the
# padding that makes a plain row as large as an encrypted one
ENVELOPE_PAD_HEX=$(printf '00%.0s' $(seq 38))
PGC_KEY='\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'
"${PSQL[@]}" -v pgc_key="$PGC_KEY" >/dev/null <<SQL
CREATE EXTENSION privacy_ext;
CREATE EXTENSION pgcrypto;
SELECT privacy.create_key('bench');
-- 'u' || 9 digits || '@example.org' = 22 characters, all distinct
CREATE TABLE plain (c text);
INSERT INTO plain SELECT 'u' || lpad(g::text, 9, '0') || '@example.org' FROM generate_series(1, $ROWS) g;
CREATE TABLE enc (c privacy.encrypted_text('bench'));
INSERT INTO enc SELECT c FROM plain;
CREATE TABLE pgc (c bytea);
INSERT INTO pgc SELECT encrypt(convert_to(c, 'UTF8'), :'pgc_key', 'aes') FROM plain;
CREATE TABLE plain2 (c text);
CREATE TABLE enc2 (c privacy.encrypted_text('bench'));
CREATE TABLE sized2 (c bytea);   -- plaintext padded to an envelope's size
CREATE TABLE det (c privacy.encrypted_text_det('bench'));
INSERT INTO det SELECT c FROM plain;
-- plain's values in rows as large as enc's (a 38-byte column after them, the
-- envelope's overhead, never read): the same scan over as many pages as enc
CREATE TABLE plain_sized (c text, pad bytea);
INSERT INTO plain_sized SELECT c, '\\x$ENVELOPE_PAD_HEX'::bytea FROM plain;
-- point lookups by e-mail: plain text vs deterministic encryption, both indexed
CREATE TABLE plain_idx (id int, email text UNIQUE);
INSERT INTO plain_idx SELECT row_number() OVER (), c FROM plain;
CREATE TABLE det_idx (id int, email privacy.encrypted_text_det('bench') UNIQUE);
INSERT INTO det_idx SELECT row_number() OVER (), c FROM plain;
VACUUM ANALYZE det; VACUUM ANALYZE plain_idx; VACUUM ANALYZE det_idx;
-- masking: two masked text columns, read through masked.people by a masked
-- role, against the owner reading people, and a masking view in plain SQL
-- with a per-row role CASE
CREATE TABLE people (id int, email text, phone text);
INSERT INTO people SELECT g, 'u' || lpad(g::text, 9, '0') || '@example.org',
                          '+31 6 ' || lpad(g::text, 8, '0') FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE people;
SELECT privacy.set_mask('people', 'email', 'email');
SELECT privacy.set_mask('people', 'phone', 'partial(0, ''*******'', 4)');
SELECT privacy.create_masking_view('people');
-- the same values in two encrypted columns, masked alike: the masked role
-- decrypts and masks both, against the owner reading people in clear
CREATE TABLE people_enc (id int, email privacy.encrypted_text('bench'), phone privacy.encrypted_text('bench'));
INSERT INTO people_enc SELECT id, email, phone FROM people;
VACUUM ANALYZE people_enc;
SELECT privacy.set_mask('people_enc', 'email', 'email');
SELECT privacy.set_mask('people_enc', 'phone', 'partial(0, ''*******'', 4)');
SELECT privacy.create_masking_view('people_enc');
CREATE ROLE bench_support;
CREATE ROLE bench_clear;
SELECT privacy.grant_key('bench', 'bench_support');
SELECT privacy.mask_role('bench_support');
CREATE VIEW sql_masked WITH (security_barrier) AS
SELECT id,
       CASE WHEN pg_has_role(current_user, 'bench_clear', 'MEMBER') THEN email
            ELSE left(split_part(email, '@', 1), 1) || '***@' || left(split_part(email, '@', 2), 1)
                 || '***.' || reverse(split_part(reverse(email), '.', 1)) END AS email,
       CASE WHEN pg_has_role(current_user, 'bench_clear', 'MEMBER') THEN phone
            ELSE '*******' || right(phone, 4) END AS phone
  FROM people;
GRANT SELECT ON sql_masked TO bench_support;
-- static masking: people's rows, rewritten by privacy.anonymize_table() with
-- two rules, against the same rewrite as one plain SQL UPDATE
CREATE TABLE people_anon (id int, email text, phone text);
SELECT privacy.set_mask('people_anon', 'email', 'email');
SELECT privacy.set_mask('people_anon', 'phone', 'partial(0, ''*******'', 4)');
VACUUM ANALYZE plain; VACUUM ANALYZE enc; VACUUM ANALYZE pgc; VACUUM ANALYZE plain_sized;
SQL

# The plans of the 2-worker runs: each must have a Gather with 2 workers.
PARALLEL_ON='SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;'
PARALLEL_OFF='RESET max_parallel_workers_per_gather; RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;'
echo "plans with 2 workers (a Gather each):"
"${PSQL[@]}" -At <<SQL | grep -E 'Gather|Workers Planned' | sort | uniq -c | sed 's/^/  /'
$PARALLEL_ON
EXPLAIN SELECT sum(length(c)) FROM plain;
EXPLAIN SELECT sum(length(privacy.decrypt(c))) FROM enc;
EXPLAIN SELECT sum(length(privacy.decrypt(c))) FROM det;
SET ROLE bench_support;
EXPLAIN SELECT sum(length(email) + length(phone)) FROM masked.people;
EXPLAIN SELECT sum(length(email) + length(phone)) FROM masked.people_enc;
SQL

# The timed session: rounds interleave every measurement so that drift and
# checkpoints affect all of them alike.
{
    echo '\timing on'
    echo 'SELECT count(*) FROM plain; SELECT count(*) FROM enc; SELECT count(*) FROM pgc;'
    for r in $(seq 1 "$RUNS"); do
        echo '\echo @plain_scan'
        echo 'SELECT sum(length(c)) FROM plain;'
        echo '\echo @decrypt_scan'
        echo 'SELECT sum(length(privacy.decrypt(c))) FROM enc;'
        echo '\echo @plain_sized_scan'
        echo 'SELECT sum(length(c)) FROM plain_sized;'
        echo '\echo @det_decrypt_scan'
        echo 'SELECT sum(length(privacy.decrypt(c))) FROM det;'
        echo '\echo @pgcrypto_scan'
        echo "SELECT sum(length(convert_from(decrypt(c, :'pgc_key', 'aes'), 'UTF8'))) FROM pgc;"
        echo '\echo @owner_read'
        echo 'SELECT sum(length(email) + length(phone)) FROM people;'
        echo 'SET ROLE bench_support;'
        echo '\echo @masked_read'
        echo 'SELECT sum(length(email) + length(phone)) FROM masked.people;'
        echo '\echo @masked_enc_read'
        echo 'SELECT sum(length(email) + length(phone)) FROM masked.people_enc;'
        echo '\echo @transparent_read'
        echo 'SELECT sum(length(email) + length(phone)) FROM people;'
        echo '\echo @sql_case_read'
        echo 'SELECT sum(length(email) + length(phone)) FROM sql_masked;'
        echo 'RESET ROLE;'
        # the same scans with 2 workers (parallel plans forced)
        echo "$PARALLEL_ON"
        echo '\echo @plain_scan_w2'
        echo 'SELECT sum(length(c)) FROM plain;'
        echo '\echo @decrypt_scan_w2'
        echo 'SELECT sum(length(privacy.decrypt(c))) FROM enc;'
        echo '\echo @det_decrypt_scan_w2'
        echo 'SELECT sum(length(privacy.decrypt(c))) FROM det;'
        echo 'SET ROLE bench_support;'
        echo '\echo @masked_read_w2'
        echo 'SELECT sum(length(email) + length(phone)) FROM masked.people;'
        echo '\echo @masked_enc_read_w2'
        echo 'SELECT sum(length(email) + length(phone)) FROM masked.people_enc;'
        echo 'RESET ROLE;'
        echo "$PARALLEL_OFF"
        echo 'TRUNCATE plain2; CHECKPOINT;'
        echo '\echo @insert_plain'
        echo 'INSERT INTO plain2 SELECT c FROM plain;'
        echo 'TRUNCATE enc2; CHECKPOINT;'
        echo '\echo @insert_encrypted'
        echo 'INSERT INTO enc2 SELECT c FROM plain;'
        echo 'TRUNCATE sized2; CHECKPOINT;'
        echo '\echo @insert_sized_bytea'
        echo "INSERT INTO sized2 SELECT convert_to(c, 'UTF8') || '\\x$ENVELOPE_PAD_HEX'::bytea FROM plain;"
    done
    # Static masking rewrites 1M rows: fewer rounds, each on a fresh copy.
    for r in $(seq 1 "$ANON_RUNS"); do
        echo 'TRUNCATE people_anon; INSERT INTO people_anon SELECT * FROM people; VACUUM ANALYZE people_anon; CHECKPOINT;'
        echo '\echo @anonymize_table'
        echo "SELECT privacy.anonymize_table('people_anon');"
        echo 'TRUNCATE people_anon; INSERT INTO people_anon SELECT * FROM people; VACUUM ANALYZE people_anon; CHECKPOINT;'
        echo '\echo @sql_update'
        echo "UPDATE people_anon SET email = privacy.mask_email(email), phone = privacy.mask_partial(phone, 0, '*******', 4);"
    done
} > "$WORK/timed.sql"
echo "timing $RUNS rounds ..."
"${PSQL[@]}" -v pgc_key="$PGC_KEY" -f "$WORK/timed.sql" > "$WORK/timed.out"

# Each "@name" marker is followed by the query's output and its "Time:" line.
# A ratio is the median over rounds of the ratio within each round: the two
# queries of a round ran seconds apart, so a slow spell of this shared VM
# (which moved single timings by 50%) weighs on both.  The ratio of the two
# medians is printed beside it.
awk -v rows="$ROWS" -f "$SRC/test/bench/ratios.awk" -f /dev/stdin "$WORK/timed.out" <<'AWK'
    # the paired median, the ratio of the medians, the limit, the verdict,
    # and the spread: the lowest and highest ratio of a round
    function line(label, num, den, target, le,   r) {
        r = paired(num, den)
        printf "%-48s %8.2f %9.2f %8s  %-7s %5.2f..%-5.2f\n", label, r, m[num] / m[den], target,
            target == "" ? "" : ((le ? r <= target + 0 : r >= target + 0) ? "PASS" : "FAIL"), lo, hi
    }
    END {
        nm = split("plain_scan plain_sized_scan decrypt_scan det_decrypt_scan pgcrypto_scan insert_plain insert_encrypted insert_sized_bytea owner_read masked_read masked_enc_read transparent_read sql_case_read plain_scan_w2 decrypt_scan_w2 det_decrypt_scan_w2 masked_read_w2 masked_enc_read_w2 anonymize_table sql_update", order, " ")
        printf "%-19s %12s %10s   %s\n", "measurement", "median ms", "ns/row", "all runs (ms)"
        for (k = 1; k <= nm; k++) {
            n = order[k]; m[n] = median(t[n])
            printf "%-19s %12.1f %10.0f  %s\n", n, m[n], m[n] * 1e6 / rows, t[n]
        }
        printf "\n%-48s %8s %9s %8s  %-7s %s\n", "ratio (0 workers unless noted)", "paired", "of medians", "limit", "verdict", "spread"
        line("decrypt scan / plain scan", "decrypt_scan", "plain_scan", "1.8", 1)
        line("deterministic decrypt scan / plain scan", "det_decrypt_scan", "plain_scan", "2.0", 1)
        line("INSERT..SELECT encrypted / text", "insert_encrypted", "insert_plain", "1.4", 1)
        line("masked.people_enc (2 encrypted cols) / owner", "masked_enc_read", "owner_read", "2.2", 1)
        line("masked.people (2 text cols) / owner read", "masked_read", "owner_read", "1.3", 1)
        line("people read by the masked role (transparent) / owner", "transparent_read", "owner_read", "1.35", 1)
        line("pgcrypto decrypt scan / decrypt scan", "pgcrypto_scan", "decrypt_scan", "4", 0)
        line("  (same-size plain bytea / text, for scale)", "insert_sized_bytea", "insert_plain", "", 1)
        line("  decrypt scan / plain scan of rows as large", "decrypt_scan", "plain_sized_scan", "", 1)
        line("  (plain scan of rows as large / plain scan)", "plain_sized_scan", "plain_scan", "", 1)
        line("  SQL CASE masking view / owner read", "sql_case_read", "owner_read", "", 1)
        line("  SQL CASE view / masked.people", "sql_case_read", "masked_read", "", 1)
        printf "\n%-48s %8s %9s %8s  %-7s %s\n", "0 workers / 2 workers (speedup)", "paired", "of medians", "", "", "spread"
        line("plain scan", "plain_scan", "plain_scan_w2", "", 0)
        line("decrypt scan", "decrypt_scan", "decrypt_scan_w2", "", 0)
        line("deterministic decrypt scan", "det_decrypt_scan", "det_decrypt_scan_w2", "", 0)
        line("masked.people", "masked_read", "masked_read_w2", "", 0)
        line("masked.people_enc", "masked_enc_read", "masked_enc_read_w2", "", 0)
        printf "\n%-48s %8s %9s %8s  %-7s %s\n", "static masking", "paired", "of medians", "", "", "spread"
        line("anonymize_table (2 rules) / same SQL UPDATE", "anonymize_table", "sql_update", "", 1)
        printf "%-48s %8.0f ns/row\n", "anonymize_table, " rows " rows, 2 rules", m["anonymize_table"] * 1e6 / rows
    }
AWK

# Point lookups through an index, prepared statements, pgbench: TPS of the
# deterministic column against the plain one, alternating runs, medians.
cat > "$WORK/plain.pgb" <<'PGB'
\set n random(1, :rows)
SELECT id FROM plain_idx WHERE email = 'u' || lpad(:n::text, 9, '0') || '@example.org';
PGB
cat > "$WORK/det.pgb" <<'PGB'
\set n random(1, :rows)
SELECT id FROM det_idx WHERE email = ('u' || lpad(:n::text, 9, '0') || '@example.org')::privacy.encrypted_text_det('bench');
PGB
LOOKUP_SECONDS=${PRIVACY_BENCH_LOOKUP_SECONDS:-8}
echo
echo "pgbench point lookups, -M prepared -c 2 -j 2, ${LOOKUP_SECONDS}s per run, 3 runs each ..."
tps() {
    "$PG_BIN/pgbench" -n -M prepared -c 2 -j 2 -T "$LOOKUP_SECONDS" -D rows="$ROWS" \
        -f "$1" postgres 2>/dev/null | awk '/^tps/ { print $3; exit }'
}
plain_tps=(); det_tps=()
for r in 1 2 3; do
    plain_tps+=("$(tps "$WORK/plain.pgb")")
    det_tps+=("$(tps "$WORK/det.pgb")")
done
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
pm=$(median3 "${plain_tps[@]}"); dm=$(median3 "${det_tps[@]}")
printf "%-44s %10s   %s\n" "lookup by plain text (tps, median)" "$pm" "${plain_tps[*]}"
printf "%-44s %10s   %s\n" "lookup by encrypted_text_det (tps, median)" "$dm" "${det_tps[*]}"
awk -v p="$pm" -v d="$dm" 'BEGIN { r = d / p; printf "%-44s %8.2f %8s  %s\n", "det lookup tps / plain lookup tps", r, ">= 0.75", (r >= 0.75 ? "PASS" : "FAIL") }'

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "server:  $("${PSQL[@]}" -At -c 'SHOW server_version')"
echo "openssl: $(openssl version)"
