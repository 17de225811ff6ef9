#!/usr/bin/env bash
# make valgrind: the pg_regress suites against a server running under
# valgrind (memcheck), so that the extension's C code is checked where it
# really runs, inside backends, not only in the backend-free unit tests.
# Every server process writes its own valgrind log; the script fails if any
# error report has a frame in privacy_ext.so or one of its source files.  Reports without one belong to
# the Debian server build (no USE_VALGRIND, no suppressions: PostgreSQL
# writes struct padding to WAL and files on purpose) and are listed but not
# judged.  With --track-origins, a report whose uninitialised bytes came from
# our code names our frame in its origin stack, so it is counted as ours;
# our hooks' frames that only pass a statement on to PostgreSQL are not.  Slow (several minutes), so not part of `make test`.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. test/cluster.sh
command -v valgrind >/dev/null || apt-get install -y -q valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }

PORT=${PRIVACY_VALGRIND_PORT:-54343}
WORK=$(mktemp -d /tmp/privacy_ext_valgrind.XXXXXX)
chmod 755 "$WORK"
DIR="$WORK/cluster"
trap 'px_cluster_stop "$DIR"; rm -rf "$WORK"' EXIT

# A normal cluster first (initdb, configuration), then restarted under valgrind.
px_cluster_start "$DIR" "$PORT" "max_connections = 20" "max_parallel_workers_per_gather = 0"
px_cluster_stop "$DIR"
mkdir -p "$WORK/vg" && [ "$(id -u)" -eq 0 ] && chown postgres: "$WORK/vg"
px_as_server_user sh -c "valgrind --quiet --trace-children=yes --track-origins=yes \
    --read-var-info=no --num-callers=30 --log-file='$WORK/vg/%p.log' \
    '$PG_BIN/postgres' -D '$DIR/data' > '$DIR/server.log' 2>&1 &"
for _ in $(seq 1 120); do
    "$PG_BIN/pg_isready" -q -h "$DIR/socket" -p "$PORT" && break
    sleep 1
done
export PGHOST="$DIR/socket" PGPORT="$PORT" PGUSER=postgres

# Every suite the Makefile lists (REGRESS and ISOLATION), read from it, so a
# suite added there is run here too; PRIVACY_VALGRIND_SUITES="a b" narrows
# the pg_regress suites for a quicker look (the isolation specs are then skipped).
print_var() { make -s -f Makefile --eval "print-var: ; @echo \$($1)" print-var; }
ALL_REGRESS=$(print_var REGRESS)
SUITES=${PRIVACY_VALGRIND_SUITES:-$ALL_REGRESS}
if [ -n "${PRIVACY_VALGRIND_SUITES:-}" ]; then SPECS=""; else SPECS=$(print_var ISOLATION); fi
# The suites after the first share its database: keys creates the extension.
case " $SUITES " in *" keys "*) ;; *) SUITES="keys $SUITES" ;; esac
[ -n "$SUITES" ] || { echo "no pg_regress suites found in the Makefile" >&2; exit 1; }
echo "suites: $SUITES${SPECS:+; isolation: $SPECS}"

status=0
make -s installcheck PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres \
    REGRESS="$SUITES" ISOLATION="$SPECS" > "$WORK/regress.log" 2>&1 || status=$?
grep -E '^(ok|not ok|test |#)' "$WORK/regress.log" | sed 's/^/  /' || true
# Each listed suite must have run (and passed): none silently left out.
for s in $SUITES $SPECS; do
    grep -Eq "^(ok [0-9]+ +[-+] |test )$s( |$)" "$WORK/regress.log" ||
        { echo "suite $s did not run under valgrind"; status=1; }
done
px_cluster_stop "$DIR"

total=$(cat "$WORK"/vg/*.log | grep -c '^==[0-9]*== [A-Z][a-z].*\(Invalid\|uninitialised\|Mismatched\|overlap\|Source and destination\)' || true)
# Frames of ours: "(in .../privacy_ext.so)" without debug info, "(file.c:N)" with it.
OUR_FILES=$(ls src/*.c src/*/*.c | xargs -n1 basename | sed 's/\.c$//' | paste -sd'|')
OURS="privacy_ext[.]so|[(]($OUR_FILES)[.]c:[0-9]+[)]"
ours=0
for f in "$WORK"/vg/*.log; do
    # one error report = the lines up to the next blank "==pid== " line
    # A frame of ours whose callee is standard_ProcessUtility or
    # standard_Executor* is a hook passing the statement on: PostgreSQL's own
    # work below it (an index build, COMMIT PREPARED's WAL flush) is not ours;
    # nor is a hook of ours whose callee is such a frame (hooks chain).
    n=$(awk -v re="$OURS" '
            /^==[0-9]+== $/ { c += mine; mine = 0; passing = 0; next }
            { if ($0 ~ /standard_(ProcessUtility|Executor(Start|Run|Finish|End))/) passing = 1
              else if ($0 ~ re) { if (!passing) mine = 1 }
              else passing = 0 }
            END { c += mine; print c + 0 }' "$f")
    if [ "$n" -gt 0 ]; then
        ours=$((ours + n)); cp "$f" "$SRC/test/valgrind/last_report_$(basename "$f")"
    fi
done
echo "valgrind reports outside privacy_ext, by kind and first named frame:"
cat "$WORK"/vg/*.log | awk '/^==[0-9]+== [A-Z]/ && !/HEAP|LEAK|All heap|in use at exit|total heap/ { kind = $0; sub(/^==[0-9]+== /, "", kind); want = 1; next }
    want && /(at|by) 0x[0-9A-F]+: [A-Za-z_]/ { fn = $4; if (fn !~ /^(write|__libc|send|memcpy|__GI)/) { print "  " kind " <- " fn; want = 0 } }
    /^==[0-9]+== $/ { want = 0 }' | sort | uniq -c | sort -rn | head -n 12
echo "valgrind: $(ls "$WORK"/vg | wc -l) server processes, $total error reports, $ours with a frame of privacy_ext"
[ "$status" -eq 0 ] || { echo "FAILED: pg_regress under valgrind (see $WORK/regress.log)"; tail -n 30 "$WORK/regress.log"; exit 1; }
[ "$ours" -eq 0 ] || { echo "FAILED: valgrind errors in privacy_ext (copied to test/valgrind/last_report_*)"; exit 1; }
echo "ok: pg_regress passes under valgrind with no error in privacy_ext"
