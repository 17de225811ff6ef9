# Sourced by the benches (after test/cluster.sh): restarts a bench's server
# with or without the memory settings PostgreSQL's documentation gives for
# parallel queries, so that a bench can time its parallel plans both ways.
#
#   px_parallel_memory_on DIR   shared memory in 2 MB huge pages
#                               (huge_pages = try; the pages are reserved
#                               for the run when this shell may write
#                               /proc/sys/vm/nr_hugepages) and
#                               min_dynamic_shared_memory = 128MB
#   px_parallel_memory_off DIR  4 kB pages and no preallocated dynamic
#                               shared memory: PostgreSQL's defaults
#   px_parallel_memory_restore  hands back the huge pages reserved; call it
#                               after the server has stopped (EXIT trap)
#
# Why it matters for a parallel plan: every worker is a new process, and
# maps each page of shared buffers it reads, and every dynamic shared
# memory segment of the statement (PostgreSQL's own, and the consent set
# the workers read: consent/parallel.c), with a page fault per 4 kB page or
# per 16 of them.  On the 2-core KVM VM of 2026-12-02 that was about 1,150
# faults per worker for a 2-worker count(*) of 1M rows, 1,400 through the
# consent policy; with huge pages, and the segments carved from the
# preallocated region (min_dynamic_shared_memory, which huge_pages covers),
# about 775 for either.  Serial plans hardly notice the settings.

PX_PARALLEL_MIN_DSM=${PRIVACY_BENCH_MIN_DSM:-128MB}
px_parallel_hugepages_before=

# Appends settings to DIR's postgresql.conf (a later line wins) and restarts.
px_parallel_memory_restart() {
    local dir=$1
    shift
    px_as_server_user "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    printf '%s\n' "$@" | px_as_server_user sh -c "cat >> '$dir/data/postgresql.conf'"
    px_parallel_memory_reserve "$dir"
    px_as_server_user "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null || {
        tail -n 20 "$dir/server.log" >&2
        return 1
    }
}

# With huge_pages on or try, reserves the huge pages the stopped server will
# need beyond those free (PostgreSQL computes the count: -C
# shared_memory_size_in_huge_pages), once per run; the value before is kept
# for px_parallel_memory_restore.
px_parallel_memory_reserve() {
    local dir=$1 need free total
    [ "$(px_as_server_user "$PG_BIN/postgres" -D "$dir/data" -C huge_pages)" = off ] && return 0
    [ -w /proc/sys/vm/nr_hugepages ] || return 0
    need=$(px_as_server_user "$PG_BIN/postgres" -D "$dir/data" -C shared_memory_size_in_huge_pages)
    case "$need" in '' | *[!0-9]*) return 0 ;; esac
    free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
    [ "$free" -ge "$need" ] && return 0
    total=$(cat /proc/sys/vm/nr_hugepages)
    [ -z "$px_parallel_hugepages_before" ] && px_parallel_hugepages_before=$total
    echo $((total + need - free)) > /proc/sys/vm/nr_hugepages 2>/dev/null || true
}

px_parallel_memory_restore() {
    if [ -n "$px_parallel_hugepages_before" ]; then
        echo "$px_parallel_hugepages_before" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
        px_parallel_hugepages_before=
    fi
}

# One line saying what the running server's shared memory is in.
px_parallel_memory_report() {
    local dir=$1 pid kb dsm
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    kb=$(awk '/^HugetlbPages:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
    dsm=$(px_as_server_user "$PG_BIN/postgres" -D "$dir/data" -C min_dynamic_shared_memory)
    if [ "${kb:-0}" -gt 0 ]; then
        echo "server memory: shared memory in 2 MB huge pages, min_dynamic_shared_memory = ${dsm}MB"
    else
        echo "server memory: 4 kB pages (no huge pages to be had), min_dynamic_shared_memory = ${dsm}MB"
    fi
}

px_parallel_memory_on() {
    px_parallel_memory_restart "$1" "huge_pages = try" "min_dynamic_shared_memory = $PX_PARALLEL_MIN_DSM"
}

px_parallel_memory_off() {
    px_parallel_memory_restart "$1" "huge_pages = off" "min_dynamic_shared_memory = 0"
}
