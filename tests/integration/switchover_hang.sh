#!/bin/bash
# switchover_hang.sh - the pause is bounded when a server hangs or the
# switchover itself dies, under a write load through drydock proxy (pgbench,
# 4 clients, one INSERT per transaction, every transaction's latency logged).
#
#   1. SIGSTOP of the switchover's own backend on the primary while clients
#      are held (a hung disk or a partition looks the same from drydock): the
#      switchover fails at "catchup" with exit 8 once --pause-timeout has
#      passed, the proxy resumes on the old primary, pgbench sees no failed
#      transaction and no transaction took longer than the pause deadline plus
#      the margin the README states (2 s).
#   2. kill -9 of the switchover while clients are held, before the promotion:
#      the pause's lease (2 s) runs out and the proxy resumes on the old
#      primary by itself; no transaction took longer than the lease plus 2 s
#      past the kill.
source "$(dirname "$0")/lib.sh"

pg_primary p
pg_standby s p
dd repo-create >/dev/null 2>&1 || { note "repo-create failed"; exit 1; }
switchover_proxy_start
load_table swlog

# hang_pgbench NAME SECONDS: the write load through the proxy, each
# transaction's latency logged in $T/NAME.log.*, in the background.
hang_pgbench() {
    (cd "$T" && as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$LPORT" -U postgres -n -c 4 -j 2 -R 200 -T "$2" \
        -l --log-prefix="$T/$1.log" -f "$T/insert.sql" postgres >"$T/$1.out" 2>&1) &
    BENCH_PID=$!
    PIDS+=("$BENCH_PID")
}
# The longest transaction of run NAME, in whole milliseconds (field 3: latency in us).
max_latency_ms() { cat "$T/$1".log* | awk '$3 > m { m = $3 } END { print int(m / 1000) }'; }

# hang_bench_done NAME ROWS_BEFORE: pgbench ends well and every transaction it
# counted is on p.
hang_bench_done() { load_done "$1" "$2" p "on the old primary"; }

# start_at POINT ARGS...: a switchover stopping at test point POINT until
# $T/go exists, in the background (RUNNER its pid); true once it is there.
start_at() {
    local point=$1
    shift
    rm -f "$T/go"
    DRYDOCK_TEST_RESUME_FILE=$T/go pause_at "$point" 60 "$T/$point" switchover "$@"
}

# --- 1: the primary's backend of the switchover stopped during the pause -----
hang_pgbench hang1 16
sleep 2
check "case 1: the switchover is paused before its catch-up" \
    start_at switchover-catchup --pause-timeout 5 --json
bpid=$(psql_q p "select pid from pg_stat_activity where application_name = 'drydock' and backend_type = 'client backend'")
check "case 1: its backend on the primary is found (${bpid:-none})" test -n "$bpid"
kill -STOP $bpid
touch "$T/go"
wait_for "the switchover to end" 30 sh -c "! kill -0 $RUNNER 2>/dev/null"
kill -CONT $bpid
kill -9 "$RUNNER" 2>/dev/null
wait "$RUNNER"
rc=$?
check_eq "case 1: the switchover fails with exit 8 (timeout)" 8 "$rc"
check_eq "case 1: one line on stderr after the test point's" 1 "$(grep -vc 'pausing at' "$T/switchover-catchup.err")"
check "case 1: ... naming the step, the hung server and the state left" \
    grep -qE 'drydock switchover: ERROR: switchover aborted at step "catchup": reading the primary.s WAL position: the primary did not answer before the deadline; the proxy serves the old primary again' \
    "$T/switchover-catchup.err"
hold=$(jq -r '.hold_ms' "$T/switchover-catchup.out")
check "case 1: the clients were held ${hold} ms: under --pause-timeout (5 s) + 2 s" \
    awk -v h="$hold" 'BEGIN { exit !(h > 0 && h < 7000) }'
check_eq "case 1: the proxy is not paused" false "$(proxy_json paused)"
check "case 1: the proxy points at the old primary" grep -qE "port=${PG_PORT[p]}( |\$)" <<<"$(proxy_json server)"
check_eq "case 1: the target was not promoted" t "$(psql_q s 'select pg_is_in_recovery()')"
hang_bench_done hang1 0
lat=$(max_latency_ms hang1)
check "case 1: no transaction took longer than 7 s (longest: ${lat} ms)" test "$lat" -lt 7000
check "case 1: some transaction was held by the pause (longest: ${lat} ms)" test "$lat" -ge 1000
n1=$(count_rows p)

# --- 2: kill -9 of the switchover while clients are held, before the promotion ---
wait_for "s caught up" 60 sql_is p t "select replay_lsn = pg_current_wal_lsn() from pg_stat_replication"
hang_pgbench hang2 12
sleep 2
check "case 2: the switchover is paused before its catch-up" start_at switchover-catchup --pause-timeout 5
sleep 0.5
kill_paused switchover
check "case 2: the lease ran out and the proxy resumed by itself" \
    wait_for "the proxy resumed" 10 sh -c "curl -sf -H 'Authorization: Bearer $(cat "$T/admin.token")' http://127.0.0.1:$APORT/status | jq -e '.paused == false' >/dev/null"
check "case 2: the proxy says why" grep -q "lease expired .* before any promotion: resuming" "$T/proxy.log"
check "case 2: the proxy points at the old primary" grep -qE "port=${PG_PORT[p]}( |\$)" <<<"$(proxy_json server)"
hang_hold=$(max_latency_ms hang2)
hang_bench_done hang2 "$n1"
check "case 2: no transaction took longer than the lease + 2 s after the kill (longest: ${hang_hold} ms)" \
    test "$hang_hold" -lt 5000
check_eq "case 2: the target was not promoted" t "$(psql_q s 'select pg_is_in_recovery()')"

finish
