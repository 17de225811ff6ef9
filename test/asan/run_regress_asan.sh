#!/usr/bin/env bash
# make asan: every pg_regress suite and isolation spec against the extension
# built with AddressSanitizer (the runtime loaded into every server process
# with the extension at server start).  valgrind's memcheck does not see reads past the end of
# a stack buffer; ASan does.  The build and the server use a private copy of
# the PostgreSQL installation, so the extension installed for the other
# suites is not touched.  Fails on any AddressSanitizer report.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
. test/cluster.sh

PORT=${PRIVACY_ASAN_PORT:-54344}
WORK=$(mktemp -d /tmp/privacy_ext_asan.XXXXXX)
chmod 755 "$WORK"
DIR="$WORK/cluster"
cleanup() { [ -n "${PG_BIN:-}" ] && px_cluster_stop "$DIR"; [ -n "${PRIVACY_ASAN_KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT

CC=${CC:-gcc}
ASAN_LIB=$("$CC" -print-file-name=libasan.so)
[ -f "$ASAN_LIB" ] || { echo "the AddressSanitizer runtime ($CC's libasan) is missing" >&2; exit 1; }

# A private copy of the PostgreSQL installation (binaries find their
# libraries and share directory relative to themselves).
ORIG_PG_CONFIG=${PG_CONFIG:-pg_config}
BINDIR=$("$ORIG_PG_CONFIG" --bindir)
PKGLIB=$("$ORIG_PG_CONFIG" --pkglibdir)
SHARE=$("$ORIG_PG_CONFIG" --sharedir)
INC=$("$ORIG_PG_CONFIG" --includedir)
ROOT="$WORK/pg"
for d in "$(dirname "$BINDIR")" "$SHARE" "$INC"; do
    mkdir -p "$ROOT$(dirname "$d")"
    cp -a "$d" "$ROOT$(dirname "$d")/"
done
[ -d "$ROOT$PKGLIB" ] || { echo "unexpected PostgreSQL layout ($PKGLIB)" >&2; exit 1; }
export PG_CONFIG="$ROOT$BINDIR/pg_config"
PG_BIN="$ROOT$BINDIR"

# The extension, built apart with the sanitizer (no bitcode: LLVM's JIT is off).
BUILD="$WORK/build"
mkdir -p "$BUILD"
cp -a Makefile privacy_ext.control src sql expected test data bin "$BUILD/"
make -s -C "$BUILD" PG_CONFIG="$PG_CONFIG" clean >/dev/null 2>&1 || true
make -s -C "$BUILD" PG_CONFIG="$PG_CONFIG" with_llvm=no \
    PG_CFLAGS="-Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -fsanitize=address -fno-omit-frame-pointer -g" \
    SHLIB_LINK="-lcrypto -fsanitize=address" >"$WORK/build.log" 2>&1 ||
    { tail -n 30 "$WORK/build.log"; exit 1; }
make -s -C "$BUILD" PG_CONFIG="$PG_CONFIG" with_llvm=no install >>"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log"; exit 1; }
nm -D "$ROOT$PKGLIB/privacy_ext.so" | grep __asan_init >/dev/null || { echo "privacy_ext.so is not instrumented" >&2; exit 1; }

# The runtime comes in with privacy_ext.so (linked against libasan), loaded
# by every server process at start (shared_preload_libraries).  Preloading
# it into the server binary instead (LD_PRELOAD) deadlocks Debian's postgres
# in bindtextdomain() before main() gets anywhere; the compiled-in checks,
# stack and global redzones among them, work without it, and palloc'd memory
# is not malloc's anyway.  PRIVACY_ASAN_PRELOAD=1 tries the preload.
mkdir -p "$WORK/asan" && [ "$(id -u)" -eq 0 ] && chown postgres: "$WORK/asan"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:verify_asan_link_order=0:log_path=$WORK/asan/asan:detect_stack_use_after_return=0"
px_cluster_start "$DIR" "$PORT" "max_connections = 30" "jit = off"
px_cluster_stop "$DIR"
px_as_server_user env ${PRIVACY_ASAN_PRELOAD:+LD_PRELOAD="$ASAN_LIB"} ASAN_OPTIONS="$ASAN_OPTIONS" \
    "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 120 start >/dev/null
export PGHOST="$DIR/socket" PGPORT="$PORT" PGUSER=postgres

print_var() { make -s -f Makefile --eval "print-var: ; @echo \$($1)" print-var; }
status=0
make -s -C "$BUILD" PG_CONFIG="$PG_CONFIG" with_llvm=no installcheck PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres \
    REGRESS="$(print_var REGRESS)" ISOLATION="$(print_var ISOLATION)" > "$WORK/regress.log" 2>&1 || status=$?
ok=$(grep -cE '\.\.\. ok' "$WORK/regress.log" || true)
bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$WORK/regress.log" || true)
echo "suites under ASan: $ok ok, $bad failed"
[ "$status" -eq 0 ] || { grep -E '\.\.\. ' "$WORK/regress.log" | grep -v ' ok ' || true; head -n 80 "$BUILD/test/regress_out/regression.diffs" 2>/dev/null || true; }
px_cluster_stop "$DIR"
reports=$(cat "$WORK"/asan/asan.* 2>/dev/null | grep -c 'ERROR: AddressSanitizer' || true)
if [ "$reports" -gt 0 ]; then
    echo "AddressSanitizer reports: $reports"
    cat "$WORK"/asan/asan.* | head -n 80
    status=1
fi
grep -q 'AddressSanitizer' "$DIR/server.log" && { grep -A30 AddressSanitizer "$DIR/server.log" | head -40; status=1; }
[ "$ok" -gt 0 ] || status=1
echo "AddressSanitizer reports: $reports"
exit $status
