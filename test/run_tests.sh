#!/usr/bin/env bash
# What `make test` runs: installs what is missing, builds and installs the
# extension, then runs every suite against throwaway clusters:
#   1. C unit tests of the backend-free core
#   2. pg_regress (sql/, expected/) and the demo script on a cluster started here
#   3. TAP tests (test/t/*.pl), which start their own clusters
# and, between them, a short run of each fuzzer and of SQLsmith.
# Prints "N passed, N failed" and exits non-zero on any failure.  The server
# it started is stopped however the script ends.  Before the suites, the
# include graph of src/ is checked (test/tools/include_graph.py).
set -uo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
. test/cluster.sh

export PG_CONFIG=${PG_CONFIG:-pg_config}
PGXS_DIR=$(dirname "$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")")
PORT=${PRIVACY_TEST_PORT:-54329}
WORK=$(mktemp -d /tmp/privacy_ext_test.XXXXXX)
chmod 755 "$WORK"
CLUSTER="$WORK/cluster"

passed=0
failed=0
broken=0

cleanup() {
    px_cluster_stop "$CLUSTER"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

count() {   # count SUITE PASSED FAILED
    echo "== $1: $2 passed, $3 failed"
    passed=$((passed + $2))
    failed=$((failed + $3))
}

bash test/setup_deps.sh || { echo "could not install dependencies" >&2; exit 1; }

echo "== build and install"
make -s >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; echo "0 passed, 1 failed"; exit 1; }
if [ -w "$("$PG_CONFIG" --pkglibdir)" ]; then
    make -s install >>"$WORK/build.log" 2>&1
else
    sudo make -s install >>"$WORK/build.log" 2>&1
fi || { cat "$WORK/build.log"; echo "0 passed, 1 failed"; exit 1; }

# 0. The include graph of src/: no cycles between modules, no extern
# declarations in .c files (test/tools/include_graph.py).
echo "== include graph"
if /usr/bin/python3 test/tools/include_graph.py --self-test >"$WORK/include_graph.log" 2>&1; then
    count "include graph" 1 0
else
    cat "$WORK/include_graph.log"; count "include graph" 0 1
fi

# 1. Core unit tests (TAP output).
echo "== core unit tests"
if make -s test/unit/test_core >"$WORK/unit.log" 2>&1 && test/unit/test_core >>"$WORK/unit.log" 2>&1; then :; fi
ok=$(grep -c '^ok ' "$WORK/unit.log")
nok=$(grep -c '^not ok ' "$WORK/unit.log")
if [ "$ok" -eq 0 ] && [ "$nok" -eq 0 ]; then
    cat "$WORK/unit.log"; nok=1; broken=1
fi
[ "$nok" -gt 0 ] && grep -E '^not ok|error' "$WORK/unit.log"
count "core unit tests" "$ok" "$nok"

# 1b. The same unit tests under ASan + UBSan, and a short run of each fuzzer.
echo "== core unit tests under sanitizers"
if make -s unit-asan >"$WORK/asan.log" 2>&1; then :; fi
ok=$(grep -c '^ok ' "$WORK/asan.log")
nok=$(grep -c '^not ok ' "$WORK/asan.log")
if grep -qE 'runtime error|AddressSanitizer|LeakSanitizer' "$WORK/asan.log" || [ "$ok" -eq 0 ]; then
    tail -n 30 "$WORK/asan.log"; nok=$((nok + 1))
fi
count "core unit tests (ASan+UBSan)" "$ok" "$nok"

echo "== fuzz smoke (20000 runs per target)"
ok=0; nok=0
for t in $(make -s -f Makefile --eval 'print-fuzz: ; @echo $(FUZZ_TARGETS)' print-fuzz 2>/dev/null); do
    if make -s "test/fuzz/$t" >"$WORK/fuzz_$t.log" 2>&1 &&
       "test/fuzz/$t" -runs=20000 -seed=1 >>"$WORK/fuzz_$t.log" 2>&1; then
        ok=$((ok + 1))
    else
        echo "fuzz target $t failed:"; tail -n 20 "$WORK/fuzz_$t.log"; nok=$((nok + 1))
    fi
done
[ $((ok + nok)) -eq 0 ] && { echo "no fuzz targets found"; nok=1; }
count "fuzz smoke" "$ok" "$nok"

# 2. pg_regress against a throwaway cluster.
echo "== pg_regress"
if px_cluster_start "$CLUSTER" "$PORT"; then
    rm -rf test/regress_out
    make -s installcheck PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres >"$WORK/regress.log" 2>&1
    ok=$(grep -cE '^(test|ok) .*\.\.\. ok' "$WORK/regress.log")
    nok=$(grep -cE '\.\.\. (FAILED|failed)' "$WORK/regress.log")
    if [ "$ok" -eq 0 ] && [ "$nok" -eq 0 ]; then
        cat "$WORK/regress.log"; nok=1; broken=1
    fi
    grep -E '\.\.\. ' "$WORK/regress.log"
    if [ "$nok" -gt 0 ] && [ -f test/regress_out/regression.diffs ]; then
        head -n 300 test/regress_out/regression.diffs
    fi
    count "pg_regress" "$ok" "$nok"
    # What `make demo` shows runs here too, in a database of its own.
    if "$PG_BIN/psql" -X -q -d postgres -c 'CREATE DATABASE demo' >"$WORK/demo.log" 2>&1 &&
       "$PG_BIN/psql" -X -q -d demo -c 'CREATE EXTENSION privacy_ext' >>"$WORK/demo.log" 2>&1 &&
       "$PG_BIN/psql" -X -d demo -v ON_ERROR_STOP=1 -f test/demo.sql >>"$WORK/demo.log" 2>&1; then
        count "demo script" 1 0
    else
        tail -n 20 "$WORK/demo.log"; count "demo script" 0 1
    fi
    px_cluster_stop "$CLUSTER"
else
    echo "could not start the test cluster" >&2
    count "pg_regress" 0 1
fi

# 2a. Random SQL: a short SQLsmith run (make sqlsmith is the long one), a
# fixed number of queries per role with a time bound, about 60 s in all.
echo "== sqlsmith smoke"
if SQLSMITH_QUERIES=${PRIVACY_SQLSMITH_SMOKE_QUERIES:-400} SQLSMITH_TIMEOUT=40 \
   PRIVACY_SQLSMITH_PORT=$((PORT + 4)) bash test/sqlsmith/run_sqlsmith.sh >"$WORK/sqlsmith.log" 2>&1; then
    count "sqlsmith smoke" 1 0
else
    tail -n 40 "$WORK/sqlsmith.log"
    count "sqlsmith smoke" 0 1
fi
grep -E '^sqlsmith' "$WORK/sqlsmith.log" || true

# 2b. The same suites against the extension built with AddressSanitizer.
echo "== pg_regress and isolation under AddressSanitizer"
if PRIVACY_ASAN_PORT=$((PORT + 2)) bash test/asan/run_regress_asan.sh >"$WORK/asan_regress.log" 2>&1; then
    count "suites under ASan" 1 0
else
    tail -n 40 "$WORK/asan_regress.log"
    count "suites under ASan" 0 1
fi
grep -E '^suites under ASan|^AddressSanitizer reports' "$WORK/asan_regress.log" || true

# 3. TAP tests: PostgreSQL::Test::Cluster runs initdb as the current user,
# so as root they run as the postgres OS user.
echo "== TAP tests"
shopt -s nullglob
tap_files=(test/t/*.pl)
if [ ${#tap_files[@]} -eq 0 ]; then
    echo "no TAP tests"
else
    TAPDIR="$WORK/tap"
    mkdir -p "$TAPDIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$TAPDIR"
    # Artefacts tests keep (020's screenshot and PDF of the report), git-ignored.
    mkdir -p test/artifacts
    [ "$(id -u)" -eq 0 ] && chown postgres: test/artifacts
    for t in "${tap_files[@]}"; do
        log="$TAPDIR/$(basename "$t" .pl).log"
        px_as_server_user env \
            PATH="$PG_BIN:$PATH" \
            PERL5LIB="$PGXS_DIR/src/test/perl" \
            PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
            TESTDIR="$TAPDIR" PRIVACY_SRC="$SRC" \
            prove -v "$t" >"$log" 2>&1
        rc=$?
        ok=$(grep -cE '^ok [0-9]' "$log")
        nok=$(grep -cE '^not ok [0-9]' "$log")
        if [ $rc -ne 0 ] && [ "$nok" -eq 0 ]; then nok=1; fi
        if [ "$nok" -gt 0 ]; then
            tail -n 40 "$log"
            for f in "$TAPDIR"/tmp_check/log/*; do
                [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
            done
        fi
        count "$(basename "$t")" "$ok" "$nok"
    done
fi

# 4. The Citus suite (make test-citus) when Citus is installed: here only
# its first file, a smoke; without Citus it says it was skipped.
echo "== Citus"
citus_out=$(PRIVACY_CITUS_NO_BUILD=1 PRIVACY_CITUS_TESTS="${PRIVACY_CITUS_SMOKE:-test/citus/t/001_setup.pl}" \
    bash test/citus/run_citus.sh 2>&1)
echo "$citus_out" | tail -n 40
if echo "$citus_out" | grep -q '^test-citus: SKIPPED'; then
    :
else
    ok=$(echo "$citus_out" | sed -n 's/^test-citus: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    nok=$(echo "$citus_out" | sed -n 's/^test-citus: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    count "Citus smoke" "${ok:-0}" "${nok:-1}"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$broken" -eq 0 ]
