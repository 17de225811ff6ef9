#!/usr/bin/env bash
# Soak test (make soak): the load mix of make load (test/load/run_load.sh:
# 8 pgbench clients over a unix socket) for SOAK_SECONDS (600 by default),
# with a key rotation, a re-encryption of every encrypted column and a bulk
# of consent changes every SOAK_CHURN_SECONDS (30) beside it
# (soak_during.sh); then make load's checks and soak_after.sh's: every
# value decrypts, consent answers equal consent_state, amcheck passes, no
# backend memory growth.  Then the crash test (test/t/018_crash_points.pl)
# with SOAK_CRASH_ROWS rows (1000000 by default, 0 to skip): its reencrypt
# crash points on a 1M-row table.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. test/cluster.sh
export PG_CONFIG=${PG_CONFIG:-pg_config} PG_BIN

SOAK=${SOAK_SECONDS:-600}
if [ "$SOAK" -gt 7200 ]; then echo "SOAK_SECONDS is bounded to 7200"; SOAK=7200; fi
fail=0
echo "== soak: ${SOAK}s of make load's mix with rotation, re-encryption and consent churn"
LOAD_SECONDS=$SOAK LOAD_MEM_EARLY=30 LOAD_DURING="$SRC/test/load/soak_during.sh" \
    LOAD_AFTER="$SRC/test/load/soak_after.sh" PRIVACY_LOAD_PORT=${PRIVACY_SOAK_PORT:-54344} \
    bash test/load/run_load.sh || fail=1

ROWS=${SOAK_CRASH_ROWS:-1000000}
if [ "$ROWS" -gt 0 ]; then
    echo "== crash points with $ROWS rows (test/t/018_crash_points.pl)"
    PGXS_DIR=$(dirname "$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")")
    TAPDIR=$(mktemp -d /tmp/privacy_ext_soak_tap.XXXXXX)
    chmod 755 "$TAPDIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$TAPDIR"
    px_as_server_user env PATH="$PG_BIN:$PATH" PERL5LIB="$PGXS_DIR/src/test/perl" \
        PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" TESTDIR="$TAPDIR" PRIVACY_SRC="$SRC" \
        CRASH_ROWS="$ROWS" prove -v test/t/018_crash_points.pl > "$TAPDIR/018.out" 2>&1
    if [ $? -eq 0 ]; then
        grep -E '^(ok|not ok) |^# crash points' "$TAPDIR/018.out" | tail -n 5
        rm -rf "$TAPDIR"
    else
        grep -E '^not ok|Bail' "$TAPDIR/018.out"; echo "(kept $TAPDIR)"; fail=1
    fi
fi
[ $fail -eq 0 ] && echo "soak: 0 failures" || echo "soak: FAILED"
exit $fail
