#!/usr/bin/env bash
# make soak's checks after the load (run by test/load/run_load.sh as
# LOAD_AFTER): the invariants of the crash test (test/t/018_crash_points.pl)
# after the long run - every value decrypts, the consent answers equal
# privacy.consent_state, amcheck passes on the deterministic index - and no
# growth of any client backend's private memory between its first and
# last sample (1 MB of slack, as make load allows), with the figures.
set -uo pipefail
PG_BIN=${PG_BIN:-$("${PG_CONFIG:-pg_config}" --bindir)}
PSQL=("$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d postgres)
MEM="$LOAD_WORK/soak_mem.txt"
fail=0
check() { if [ "$2" = "$3" ]; then echo "ok: $1 ($2)"; else echo "FAILED: $1: $2 != $3"; fail=1; fi; }

rounds=$(cat "$LOAD_WORK/soak_rounds" 2>/dev/null || echo 0)
[ "$rounds" -gt 0 ] && echo "ok: $rounds rounds of rotation, re-encryption and consent churn" ||
    { echo "FAILED: no churn round completed"; fail=1; }
check "every people row decrypts to what was written" \
    "$("${PSQL[@]}" -c "SELECT count(*) FROM people WHERE privacy.decrypt(ssn) = 'ssn-' || id")" 10000
check "every soak_det row decrypts" \
    "$("${PSQL[@]}" -c "SELECT count(*) FROM soak_det WHERE privacy.decrypt(ssn) = 'ssn-' || id AND privacy.decrypt(email) LIKE '%@example.net'")" 20000
check "has_consent equals consent_state" \
    "$("${PSQL[@]}" -c "SELECT count(*) FROM subscribers WHERE privacy.has_consent(customer_id, 'marketing')")" \
    "$("${PSQL[@]}" -c "SELECT count(*) FROM privacy.consent_state WHERE purpose = 'marketing' AND granted")"
versions=$("${PSQL[@]}" -c "SELECT active_version FROM privacy.keys WHERE name = 'load'")
check "the key was rotated every round" "$versions" "$((rounds + 1))"
"${PSQL[@]}" -c "CREATE EXTENSION IF NOT EXISTS amcheck" >/dev/null
check "bt_index_check (heapallindexed) on the deterministic index" \
    "$("${PSQL[@]}" -c "SELECT count(*) FROM (SELECT bt_index_check('soak_det_email'::regclass, true)) c" 2>&1)" "1"
check "an equality lookup through the index finds its row" \
    "$("${PSQL[@]}" -c "SET enable_seqscan = off; SELECT count(*) FROM soak_det WHERE email = 'd7@example.net' OR id = 7")" 1

# Memory: each client backend's first and last sample (kB), over the run.
awk '{ if (!($2 in first)) { first[$2] = $3; t0[$2] = $1 } last[$2] = $3; t1[$2] = $1 }
     END { for (p in first) if (t1[p] - t0[p] > 0)
             printf "  backend %s: RssAnon %d kB at %ds -> %d kB at %ds (%+d kB)\n", p, first[p], t0[p], last[p], t1[p], last[p] - first[p] }' \
    "$MEM" | sort -t'(' -k2 -n | tail -n 12
growth=$(awk '{ if (!($2 in first)) first[$2] = $3; last[$2] = $3 }
              END { m = 0; for (p in first) if (last[p] - first[p] > m) m = last[p] - first[p]; print m }' "$MEM")
long_lived=$(awk '{ n[$2]++ } END { c = 0; for (p in n) if (n[p] >= 3) c++; print c }' "$MEM")
if [ "$long_lived" -gt 0 ] && [ "$growth" -le 1024 ]; then
    echo "ok: no backend memory growth over the run ($long_lived long-lived backends sampled, largest growth $growth kB)"
else
    echo "FAILED: backend memory growth $growth kB ($long_lived long-lived backends sampled)"; fail=1
fi
exit $fail
