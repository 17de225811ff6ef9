#!/usr/bin/env bash
# Two builds of privacy_ext side by side: the working tree ("new") and a
# base commit ("base", default HEAD~1), each installed into its own copy of
# the PostgreSQL installation and run by its own cluster, with the same
# data loaded into both.  Rounds alternate between the two clusters (the
# order flipping every round), each round a fresh session per cluster that
# warms up and then times every query pair twice: the decrypt scan against
# the plain scan, and the masked reads of two text and two encrypted columns
# against the owner's read.  Printed per build: the paired ratio (median
# over its timings of the ratio within a pair) with its spread, and the
# medians of its times.
#
# Why: on a shared VM single timings drift by a quarter within minutes (seen
# here: the same plain scan at 83 and 131 ms), so two builds measured one
# after the other, or by restarting one server on each in turn, differ by
# more than most changes do.  Measured a few seconds apart, in alternation,
# both builds see the same spells.
#
#   bash test/bench/ab_bench.sh [base-commit]   (or: make bench-ab BASE=...)
#   PRIVACY_AB_ROUNDS (20), PRIVACY_BENCH_ROWS (1000000)
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. test/cluster.sh

BASE=${1:-HEAD~1}
ROWS=${PRIVACY_BENCH_ROWS:-1000000}
ROUNDS=${PRIVACY_AB_ROUNDS:-20}
PORT_NEW=${PRIVACY_AB_PORT:-54360}
PORT_BASE=$((PORT_NEW + 1))
PG_CONFIG=${PG_CONFIG:-pg_config}
BASE_SHA=$(git rev-parse --verify "$BASE^{commit}")
WORK=$(mktemp -d /tmp/privacy_ext_ab.XXXXXX)
chmod 755 "$WORK"
SYSTEM_BIN=$PG_BIN
cleanup() {
    PG_BIN="$WORK/new/bin" px_cluster_stop "$WORK/new/cluster"
    PG_BIN="$WORK/base/bin" px_cluster_stop "$WORK/base/cluster"
    rm -rf "$WORK"
}
trap cleanup EXIT

BINDIR=$("$PG_CONFIG" --bindir)
LIBDIR=$("$PG_CONFIG" --pkglibdir)
SHAREDIR=$("$PG_CONFIG" --sharedir)

# A copy of the installation (binaries, libraries, share) under ROOT, paths
# kept: PostgreSQL finds its library and share directories relative to its
# binaries, so the copy's server loads the copy's privacy_ext.
copy_installation() {
    local root=$1
    mkdir -p "$root$BINDIR" "$root$LIBDIR" "$root$SHAREDIR"
    cp -a "$BINDIR/." "$root$BINDIR/"
    cp -a "$LIBDIR/." "$root$LIBDIR/"
    cp -a "$SHAREDIR/." "$root$SHAREDIR/"
}

# Build the tree at DIR and install it into ROOT's copy (make's DESTDIR).
build_into() {
    local dir=$1 root=$2
    make -C "$dir" -s -j2 PG_CONFIG="$PG_CONFIG" >"$WORK/build.log" 2>&1 &&
        make -C "$dir" -s install DESTDIR="$root" PG_CONFIG="$PG_CONFIG" >>"$WORK/build.log" 2>&1 || {
        tail -n 20 "$WORK/build.log" >&2
        exit 1
    }
}

echo "building the working tree (new) and $BASE = ${BASE_SHA:0:12} (base) ..."
for b in new base; do
    copy_installation "$WORK/$b/root"
    ln -s "$WORK/$b/root$BINDIR" "$WORK/$b/bin"
done
build_into "$SRC" "$WORK/new/root"
mkdir -p "$WORK/base/src"
git archive "$BASE_SHA" | tar -x -C "$WORK/base/src"
build_into "$WORK/base/src" "$WORK/base/root"
chmod -R a+rX "$WORK"

for b in new base; do
    port=$PORT_NEW
    [ "$b" = base ] && port=$PORT_BASE
    PG_BIN="$WORK/$b/bin" px_cluster_start "$WORK/$b/cluster" "$port" \
        "shared_buffers = 1GB" "max_parallel_workers_per_gather = 0" "jit = off" \
        "max_wal_size = 4GB" "checkpoint_timeout = 30min" "autovacuum = off"
done
unset PGHOST PGPORT
psql_of() {
    local port=$PORT_NEW
    [ "$1" = base ] && port=$PORT_BASE
    "$SYSTEM_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK/$1/cluster/socket" -p "$port" \
        -U postgres -d postgres
}

echo "loading $ROWS rows into each ..."
for b in new base; do
    psql_of "$b" >/dev/null <<SQL
CREATE EXTENSION privacy_ext;
SELECT privacy.create_key('bench');
CREATE TABLE plain (c text);
INSERT INTO plain SELECT 'u' || lpad(g::text, 9, '0') || '@example.org' FROM generate_series(1, $ROWS) g;
CREATE TABLE enc (c privacy.encrypted_text('bench'));
INSERT INTO enc SELECT c FROM plain;
CREATE TABLE people (id int, email text, phone text);
INSERT INTO people SELECT g, 'u' || lpad(g::text, 9, '0') || '@example.org',
                          '+31 6 ' || lpad(g::text, 8, '0') FROM generate_series(1, $ROWS) g;
CREATE TABLE people_enc (id int, email privacy.encrypted_text('bench'), phone privacy.encrypted_text('bench'));
INSERT INTO people_enc SELECT id, email, phone FROM people;
VACUUM ANALYZE plain; VACUUM ANALYZE enc; VACUUM ANALYZE people; VACUUM ANALYZE people_enc;
SELECT privacy.set_mask(t, 'email', 'email'), privacy.set_mask(t, 'phone', 'partial(0, ''*******'', 4)'),
       privacy.create_masking_view(t)
  FROM unnest(ARRAY['people', 'people_enc']::regclass[]) t;
CREATE ROLE bench_support;
SELECT privacy.grant_key('bench', 'bench_support');
SELECT privacy.mask_role('bench_support');
SQL
done

# One round of one build: warm-up, then each pair twice, marked @<build>_<name>.
round() {
    local b=$1 k
    {
        echo "SELECT sum(length(c)) FROM plain; SELECT sum(length(privacy.decrypt(c))) FROM enc;"
        echo "SET ROLE bench_support; SELECT sum(length(email) + length(phone)) FROM masked.people;"
        echo "SELECT sum(length(email) + length(phone)) FROM masked.people_enc; RESET ROLE;"
        echo "SELECT sum(length(email) + length(phone)) FROM people;"
        echo '\timing on'
        for k in 1 2; do
            echo "\\echo @${b}_plain"
            echo "SELECT sum(length(c)) FROM plain;"
            echo "\\echo @${b}_decrypt"
            echo "SELECT sum(length(privacy.decrypt(c))) FROM enc;"
            echo "\\echo @${b}_owner"
            echo "SELECT sum(length(email) + length(phone)) FROM people;"
            echo "SET ROLE bench_support;"
            echo "\\echo @${b}_masked"
            echo "SELECT sum(length(email) + length(phone)) FROM masked.people;"
            echo "RESET ROLE;"
            echo "\\echo @${b}_owner2"
            echo "SELECT sum(length(email) + length(phone)) FROM people;"
            echo "SET ROLE bench_support;"
            echo "\\echo @${b}_masked_enc"
            echo "SELECT sum(length(email) + length(phone)) FROM masked.people_enc;"
            echo "RESET ROLE;"
        done
    } | psql_of "$b"
}

echo "timing $ROUNDS rounds, alternating ..."
for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then round new; round base; else round base; round new; fi
done >"$WORK/timed.out"

awk -v rows="$ROWS" -v base="${BASE_SHA:0:12}" -f test/bench/ratios.awk -f /dev/stdin "$WORK/timed.out" <<'AWK'
function line(label, num, den,   rn, rb, lon, hin) {
    rn = paired("new_" num, "new_" den); lon = lo; hin = hi
    rb = paired("base_" num, "base_" den)
    printf "%-40s %6.3f (%.2f..%.2f)  %6.3f (%.2f..%.2f)  %+6.3f\n", label, rn, lon, hin, rb, lo, hi, rn - rb
}
END {
    printf "%-40s %-20s %-20s %s\n", "paired ratio", "new", "base " base, "new - base"
    line("decrypt scan / plain scan", "decrypt", "plain")
    line("masked.people / owner read", "masked", "owner")
    line("masked.people_enc / owner read", "masked_enc", "owner2")
    print ""
    printf "%-40s %10s %10s  (medians, ns/row)\n", "time", "new", "base"
    split("plain decrypt owner masked masked_enc", names, " ")
    for (i = 1; i <= 5; i++)
        printf "%-40s %10.0f %10.0f\n", names[i], median(t["new_" names[i]]) * 1e6 / rows,
               median(t["base_" names[i]]) * 1e6 / rows
}
AWK
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
