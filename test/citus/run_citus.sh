#!/usr/bin/env bash
# make test-citus: the Citus suite (test/citus/t/*.pl); each test file starts
# a coordinator and two workers on 127.0.0.1 (test/perl/CitusCluster.pm).
# It needs Citus 12.1 installed beside the PostgreSQL 15 under test (Citus
# is not in Debian's archive: README, "Running on Citus"); without it the
# suite says so and exits 0.  make test runs it too, and skips it the same way.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. test/cluster.sh
export PG_CONFIG=${PG_CONFIG:-pg_config}
PKGLIB=$("$PG_CONFIG" --pkglibdir)
SHARE=$("$PG_CONFIG" --sharedir)
if [ ! -f "$PKGLIB/citus.so" ] || [ ! -f "$SHARE/extension/citus.control" ]; then
    echo "test-citus: SKIPPED: Citus is not installed for this server ($PKGLIB/citus.so not found)"
    exit 0
fi
if [ -z "${PRIVACY_CITUS_NO_BUILD:-}" ]; then
    bash test/setup_deps.sh || exit 1
    make -s >/dev/null || exit 1
    if [ -w "$PKGLIB" ]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi || exit 1
fi
PGXS_DIR=$(dirname "$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")")
WORK=$(mktemp -d /tmp/privacy_ext_citus.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" -eq 0 ] && chown postgres: "$WORK"
trap 'rm -rf "$WORK"' EXIT
shopt -s nullglob
tests=(${PRIVACY_CITUS_TESTS:-test/citus/t/*.pl})
passed=0; failed=0
for t in "${tests[@]}"; do
    log="$WORK/$(basename "$t" .pl).log"
    px_as_server_user env PATH="$PG_BIN:$PATH" PG_CONFIG="$PG_CONFIG" \
        PERL5LIB="$PGXS_DIR/src/test/perl" PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
        TESTDIR="$WORK" PRIVACY_SRC="$SRC" prove -v "$t" >"$log" 2>&1
    rc=$?
    ok=$(grep -cE '^ok [0-9]' "$log"); nok=$(grep -cE '^not ok [0-9]' "$log")
    [ $rc -ne 0 ] && [ "$nok" -eq 0 ] && nok=1
    if [ "$nok" -gt 0 ]; then
        tail -n 60 "$log"
        for f in "$WORK"/tmp_check/log/*; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
    fi
    echo "== $(basename "$t"): $ok passed, $nok failed"
    passed=$((passed + ok)); failed=$((failed + nok))
done
echo "test-citus: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
