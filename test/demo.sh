#!/usr/bin/env bash
# What `make demo` runs: installs what is missing, builds and installs the
# extension, starts a throwaway cluster in /tmp/privacy_ext_demo and runs
# test/demo.sql there.  The cluster is left running for you to explore.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
. test/cluster.sh

export PG_CONFIG=${PG_CONFIG:-pg_config}
DIR=${PRIVACY_DEMO_DIR:-/tmp/privacy_ext_demo}
PORT=${PRIVACY_DEMO_PORT:-54330}

bash test/setup_deps.sh
make -s
if [ -w "$("$PG_CONFIG" --pkglibdir)" ]; then make -s install; else sudo make -s install; fi >/dev/null

px_cluster_start "$DIR" "$PORT"
"$PG_BIN/psql" -X -q -d postgres -c 'CREATE EXTENSION privacy_ext'
echo
"$PG_BIN/psql" -X -d postgres -v ON_ERROR_STOP=1 -e -f test/demo.sql

stop="$PG_BIN/pg_ctl -D $DIR/data stop"
[ "$(id -u)" -eq 0 ] && stop="runuser -u postgres -- $stop"
cat <<MSG

The demo cluster is still running.
  connect:  $PG_BIN/psql -h $DIR/socket -p $PORT -U postgres postgres
  stop:     $stop
MSG
