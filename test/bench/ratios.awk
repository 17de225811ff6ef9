# test/bench/ratios.awk: what the benches' reports share.  Loaded with -f
# before a bench's own END program (awk -f ratios.awk -f report.awk OUT);
# reads psql output where each "@name" line (\echo @name) is followed by its
# query's output and a "Time: N ms" line (\timing on), and collects the
# times of each name, round after round, in t[name].
#
# median(list)       the median of a space-separated list of numbers
# paired(num, den)   the median over rounds of the ratio num/den within each
#                    round (both ran seconds apart, so a slow spell of a
#                    shared machine weighs on both); sets lo and hi to the
#                    lowest and highest ratio of a round (the spread)
# aside(label, r)    prints ratio r without a limit, with the spread (lo..hi)
#                    of the paired() call that gave it
# times(names)       for each space-separated name: sets m[name] to its
#                    median and prints it in ms and ns per row (rows, from
#                    -v) with every run's time
/^@/ { name = substr($1, 2); next }
/^Time: / && name != "" { t[name] = t[name] " " $2; name = "" }
function median(list,   a, n, i, j, x) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function paired(num, den,   a, b, n, i, list, x) {
    n = split(t[num], a, " "); split(t[den], b, " "); list = ""; lo = 1e9; hi = 0
    for (i = 1; i <= n; i++) {
        x = a[i] / b[i]; list = list " " x
        if (x < lo) lo = x
        if (x > hi) hi = x
    }
    return median(list)
}
function times(names,   order, nm, k, n) {
    nm = split(names, order, " ")
    for (k = 1; k <= nm; k++) {
        n = order[k]; m[n] = median(t[n])
        printf "%-18s %12.1f %10.0f  %s\n", n, m[n], m[n] * 1e6 / rows, t[n]
    }
}
function aside(label, r) {
    printf "%-52s %8.2f %8s  %-5s %.2f..%.2f\n", label, r, "", "", lo, hi
}
