# test/bench/worker_lines.awk: bench-consent's 0/2-worker lines, printed for
# each server memory setting it times them under.  Loaded after ratios.awk
# (awk -f ratios.awk -f worker_lines.awk -f report.awk OUT); reads the times
# of policy_count, policy_count_w2, open_count, open_count_w2 and m["launch_w2"].
#
# worker_lines(limit, indent)  the consent count(*)'s 0/2-worker speedup,
#                              with PASS or FAIL against limit (none when
#                              limit is ""), the unprotected copy's, and what
#                              launching 2 workers costs
function worker_lines(limit, indent,   r) {
    r = paired("policy_count", "policy_count_w2")
    if (limit == "")
        aside(indent "consent count(*): 0 workers / 2 workers", r)
    else
        printf "%-52s %8.2f %8s  %-5s %.2f..%.2f\n", indent "consent count(*): 0 workers / 2 workers", r,
            ">= " limit, (r >= limit + 0 ? "PASS" : "FAIL"), lo, hi
    r = paired("open_count", "open_count_w2")
    aside(indent "  unprotected count(*): 0 workers / 2 workers", r)
    # what no plan can save: starting the workers (a 2-worker count of
    # a few pages), against the 0-worker consent count it is won on
    printf "%-52s %8.1f ms  (%.0f%% of the 0-worker consent count; runs:%s)\n",
        indent "  launching 2 workers (2-worker count of 10,000 rows)",
        m["launch_w2"], 100 * m["launch_w2"] / m["policy_count"], t["launch_w2"]
}
