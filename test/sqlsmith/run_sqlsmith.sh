#!/usr/bin/env bash
# Random SQL (make sqlsmith): Debian's sqlsmith against a throwaway cluster
# whose database has every feature of privacy_ext in use
# (test/sqlsmith/fixture.sql), once as a superuser and once as a masked
# role, SQLSMITH_QUERIES queries each (20000 by default; see README for how
# long that takes), each pass bounded by SQLSMITH_TIMEOUT seconds (default
# 1800).  Fails on
#   - a server crash: "terminated by signal" in the server log, or sqlsmith
#     losing its connection;
#   - an assertion failure ("TRAP:");
#   - an error with SQLSTATE XX000 (internal error) or XX001 / XX002
#     (corruption) raised from the extension: the log line prefix carries
#     the SQLSTATE (%e) and log_error_verbosity = verbose adds the source
#     location, which names one of src/**/*.c.  Such errors raised by
#     PostgreSQL itself are counted and listed, not failed on.
# Queries use the fixture's relations (--exclude-catalog: not the system
# catalogs), so they reach the extension's tables, views and types.
# Prints the figures: queries generated per pass, errors by SQLSTATE.
#
# What keeps the run meaningful: sqlsmith reads the functions it may call
# from "pg_proc" without a schema, so each sqlsmith role's search_path
# starts with a schema smith_guard whose view pg_proc leaves out the few
# functions that would end the run or reach outside the throwaway
# database: pg_terminate_backend / pg_cancel_backend (its own backend),
# lo_import / lo_export and the server file functions, replication slots
# and origins, pg_promote, backup control, and privacy.destroy_key /
# drop_key_version.  Everything else, the extension's whole API included,
# stays callable.  sqlsmith rolls back every statement it sends, so the
# fixture stays as it is through the run.
set -uo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. test/cluster.sh

QUERIES=${SQLSMITH_QUERIES:-20000}
PASS_TIMEOUT=${SQLSMITH_TIMEOUT:-1800}
SEED=${SQLSMITH_SEED:-1}
PORT=${PRIVACY_SQLSMITH_PORT:-54339}
SQLSMITH=${SQLSMITH:-sqlsmith}
WORK=$(mktemp -d /tmp/privacy_ext_sqlsmith.XXXXXX)
chmod 755 "$WORK"
KEEP=${SQLSMITH_KEEP:-}
cleanup() {
    px_cluster_stop "$WORK/cluster"
    if [ -n "$KEEP" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$SQLSMITH" = sqlsmith ] && ! command -v sqlsmith >/dev/null && bash test/setup_deps.sh
command -v "$SQLSMITH" >/dev/null || { echo "sqlsmith is not installed (apt-get install sqlsmith)" >&2; exit 1; }

px_cluster_start "$WORK/cluster" "$PORT" \
    "log_line_prefix = '%m [%p] %e '" \
    "log_error_verbosity = verbose" \
    "log_min_messages = warning" \
    "privacy.audit = 'table'" \
    "restart_after_crash = off" || exit 1
LOG="$WORK/cluster/server.log"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1)

"${PSQL[@]}" -d postgres >/dev/null <<'SQL' || exit 1
CREATE ROLE smith_super SUPERUSER LOGIN;
CREATE DATABASE smith OWNER smith_super;
SQL
"${PSQL[@]}" -d smith -U smith_super -f test/sqlsmith/fixture.sql >"$WORK/fixture.log" 2>&1 ||
    { cat "$WORK/fixture.log"; exit 1; }
"${PSQL[@]}" -d smith -U smith_super >/dev/null <<'SQL' || exit 1
CREATE SCHEMA smith_guard;
CREATE VIEW smith_guard.pg_proc AS
SELECT * FROM pg_catalog.pg_proc p
 WHERE p.proname NOT IN ('pg_terminate_backend', 'pg_cancel_backend', 'pg_promote',
                         'lo_import', 'lo_export', 'pg_file_write', 'pg_file_rename', 'pg_file_unlink',
                         'pg_read_file', 'pg_read_binary_file',
                         'pg_create_physical_replication_slot', 'pg_create_logical_replication_slot',
                         'pg_copy_physical_replication_slot', 'pg_copy_logical_replication_slot',
                         'pg_replication_origin_create', 'pg_backup_start', 'pg_backup_stop',
                         'pg_start_backup', 'pg_stop_backup', 'pg_wal_replay_pause')
   AND NOT (p.pronamespace = 'privacy'::regnamespace
            AND p.proname IN ('destroy_key', 'drop_key_version'));
GRANT USAGE ON SCHEMA smith_guard TO PUBLIC;
GRANT SELECT ON smith_guard.pg_proc TO PUBLIC;
ALTER ROLE smith_super IN DATABASE smith SET search_path = smith_guard, pg_catalog, public, privacy;
ALTER ROLE smith_masked IN DATABASE smith SET search_path = smith_guard, pg_catalog, public, masked, privacy;
ALTER ROLE smith_masked IN DATABASE smith SET privacy.purpose = 'marketing';
SQL

failed=0
total=0
# Statements the server ran in the database (sqlsmith sends each in a
# transaction of its own and rolls it back): the count that holds also for
# a pass stopped by the time bound, which prints no report.
executed() {
    "$PG_BIN/psql" -X -At -d postgres -c "SELECT pg_stat_force_next_flush()" \
        -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'smith'"
}
for role in smith_super smith_masked; do
    before=$(executed | tail -n 1)
    start=$(date +%s)
    timeout "$PASS_TIMEOUT" "$SQLSMITH" --verbose --exclude-catalog --seed="$SEED" --max-queries="$QUERIES" \
        --target="host=$PGHOST port=$PGPORT dbname=smith user=$role application_name=sqlsmith" \
        >"$WORK/$role.out" 2>"$WORK/$role.err"
    rc=$?
    secs=$(( $(date +%s) - start ))
    # sqlsmith's last progress line reports the queries generated so far.
    generated=$(grep -aoE 'queries: [0-9]+' "$WORK/$role.err" | tail -n 1 | grep -oE '[0-9]+')
    generated=${generated:-0}
    sleep 1    # the backend's statistics reach shared memory as it exits
    ran=$(( $(executed | tail -n 1) - before ))
    echo "sqlsmith as $role: exit $rc after ${secs}s, $generated queries generated (of $QUERIES), $ran transactions run"
    if [ "$ran" -lt 1 ]; then
        echo "sqlsmith as $role ran nothing"; failed=1
    fi
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
        echo "sqlsmith as $role did not finish cleanly:"; tail -n 15 "$WORK/$role.err"; failed=1
    fi
    [ "$rc" -eq 124 ] && echo "  (stopped by the ${PASS_TIMEOUT}s bound)"
    total=$((total + (generated > 0 ? generated : ran)))
    # Each pass gets the same number of queries: a pass that could not
    # connect or died early is a failure, not a short run.
    if [ "$generated" -lt $((QUERIES / 2)) ] && [ "$rc" -ne 124 ]; then
        echo "sqlsmith as $role generated too few queries"; failed=1
    fi
done

# The server log: crashes, assertions, internal errors from the extension.
ours=$(cd src && find . -name '*.c' -printf '%f\n' | sort -u | paste -sd'|')
if grep -aE 'terminated by signal|was terminated by exception' "$LOG"; then
    echo "FAIL: a server process crashed"; failed=1
fi
if grep -a 'TRAP:' "$LOG"; then
    echo "FAIL: an assertion failed"; failed=1
fi
# An XX00x error line, then (verbose) its LOCATION line naming the source
# file; it is the extension's if that file is one of src/**/*.c, or if a
# CONTEXT line between them names one of the extension's functions (core
# code reached through the extension's SPI statements or PL/pgSQL).
awk -v ours="^($ours)$" '
    / (XX000|XX001|XX002) (ERROR|FATAL|PANIC):/ { pending = $0; ctx = 0; next }
    pending != "" && /CONTEXT:/ && /privacy\./ { ctx = 1 }
    pending != "" && /LOCATION:/ {
        n = split($0, parts, ", ")
        file = parts[n]; sub(/:[0-9]+$/, "", file)
        if (file ~ ours || ctx) print "EXTENSION " pending " @ " file; else print "CORE " pending " @ " file
        pending = ""
    }' "$LOG" >"$WORK/internal_errors.txt"
ext_internal=$(grep -c '^EXTENSION' "$WORK/internal_errors.txt")
core_internal=$(grep -c '^CORE' "$WORK/internal_errors.txt")
if [ "$ext_internal" -gt 0 ]; then
    echo "FAIL: internal or corruption errors raised from privacy_ext:"
    grep '^EXTENSION' "$WORK/internal_errors.txt" | sort | uniq -c | sort -rn | head -n 20
    failed=1
fi
if [ "$core_internal" -gt 0 ]; then
    echo "internal errors raised by PostgreSQL itself (not failed on):"
    grep '^CORE' "$WORK/internal_errors.txt" | sed 's/^CORE [^]]*\] //' | sort | uniq -c | sort -rn | head -n 10
fi
echo "errors by SQLSTATE (top 12):"
grep -aoE '^[0-9-]+ [0-9:.]+ [A-Z]+ \[[0-9]+\] [0-9A-Z]{5} ERROR' "$LOG" | awk '{print $5}' |
    sort | uniq -c | sort -rn | head -n 12
# The fixture is intact afterwards: its deterministic indexes check out.
"${PSQL[@]}" -d smith -U smith_super -At -c "
    SELECT count(bt_index_check(i.indexrelid, true))
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
     WHERE am.amname = 'btree' AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid
           AND a.attnum = ANY (i.indkey) AND a.atttypid = 'privacy.encrypted_text_det'::regtype)" \
    >"$WORK/amcheck.out" 2>&1 || { cat "$WORK/amcheck.out"; echo "FAIL: amcheck"; failed=1; }
echo "amcheck: $(cat "$WORK/amcheck.out") deterministic-column btree indexes pass bt_index_check"

echo "sqlsmith: $total queries, $ext_internal internal errors from the extension, $([ $failed -eq 0 ] && echo 0 || echo 1) failures"
exit $failed
