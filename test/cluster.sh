# Sourced library: a throwaway PostgreSQL 15 cluster for tests and the demo.
#   px_cluster_start DIR PORT [extra postgresql.conf lines...]
#   px_cluster_stop DIR
# PostgreSQL refuses to run as root, so as root the server runs as the
# postgres OS user in a directory it owns; clients connect over a socket in
# DIR/socket.  Exports PGHOST, PGPORT and PGUSER for the caller's clients.

# The server binaries: those of PG_CONFIG (or the pg_config on PATH).
PG_BIN=${PG_BIN:-$("${PG_CONFIG:-pg_config}" --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}

px_as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

px_cluster_start() {
    local dir=$1 port=$2
    shift 2
    px_cluster_stop "$dir"
    rm -rf "$dir"
    mkdir -p "$dir/socket"
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
    px_as_server_user "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        return 1
    }
    px_as_server_user sh -c "umask 077; openssl rand -hex 32 > '$dir/root.key'"
    local preload="shared_preload_libraries = 'privacy_ext'"
    [ -n "${PX_NO_PRELOAD:-}" ] && preload="# shared_preload_libraries disabled by PX_NO_PRELOAD"
    {
        echo "port = $port"
        echo "unix_socket_directories = '$dir/socket'"
        echo "listen_addresses = ''"
        echo "$preload"
        echo "privacy.root_key_file = '$dir/root.key'"
        echo "fsync = off"
        echo "max_prepared_transactions = 10"
        for line in "$@"; do echo "$line"; done
    } | px_as_server_user sh -c "cat >> '$dir/data/postgresql.conf'"
    px_as_server_user "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null || {
        tail -n 20 "$dir/server.log" >&2
        return 1
    }
    export PGHOST="$dir/socket" PGPORT="$port" PGUSER=postgres
}

px_cluster_stop() {
    local dir=$1
    if [ -f "$dir/data/postmaster.pid" ]; then
        px_as_server_user "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
}
