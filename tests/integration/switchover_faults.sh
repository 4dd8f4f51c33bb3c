#!/bin/bash
# switchover_faults.sh - the switchover's failures after the promotion, each
# under a write load through drydock proxy (pgbench, 4 clients, one logged
# INSERT per transaction), following the README's recovery steps:
#
#   1. p -> s, kill -9 after the promotion, before the switch: the pause's
#      lease (2 s) runs out; the proxy cannot know which server is the primary:
#      its held clients get 57P01 (pgbench's clients abort, within the lease of
#      the kill) and it stays paused on p, fenced; proxy-ctl switch to s +
#      proxy-ctl resume.
#   2. s -> t, kill -9 after the switch, before the resume: likewise, the
#      proxy fenced on t; proxy-ctl resume alone.
#   3. t -> u with an old primary that pg_ctl cannot stop (its postmaster.pid
#      unreadable): the fence fails with exit 6 and one line, clients run on u.
#
# Each time every transaction pgbench counted is in the new primary; in case 3
# pgbench exits 0 with no failed transaction.
source "$(dirname "$0")/lib.sh"

pg_primary p
pg_standby s p
dd repo-create >/dev/null 2>&1 || { note "repo-create failed"; exit 1; }

switchover_proxy_start
swf_ctl() { dd proxy-ctl "$@" >/dev/null; } # its answer, not the TAP lines, to /dev/null
load_table swlog

# swf_pgbench NAME SECONDS: the write load through the proxy, in the background.
swf_pgbench() {
    as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$LPORT" -U postgres -n -c 4 -j 2 -R 400 -T "$2" \
        -f "$T/insert.sql" postgres >"$T/$1.out" 2>&1 &
    BENCH_PID=$!
    PIDS+=("$BENCH_PID")
}

# swf_bench_done NAME BEFORE NEW: pgbench NAME ends well, and the new primary
# NEW holds BEFORE rows (those of the rounds before) plus every transaction
# pgbench NAME counted.
swf_bench_done() { load_done "$1" "$2" "$3" "in the new primary"; }

# swf_bench_fenced NAME BEFORE NEW KILLED_AT: pgbench NAME's held clients were
# ended by the lease with 57P01 within 4 s (lease 2 s + 2) of KILLED_AT, and
# every transaction it counted is in the new primary NEW.
swf_bench_fenced() {
    wait "$BENCH_PID"
    local rc=$? n ended
    ended=$(date +%s.%N)
    check_eq "$1: pgbench's held clients were ended (exit 2)" 2 "$rc"
    check "$1: ... by the proxy's 57P01 after the lease" grep -q "the switchover holding this session stopped" "$T/$1.out"
    check "$1: ... within the lease + 2 s of the kill" awk -v a="$4" -v b="$ended" 'BEGIN { exit !(b - a < 4) }'
    n=$(processed "$1")
    check_eq "$1: every transaction pgbench counted is in the new primary" "$(($2 + ${n:-0}))" "$(count_rows "$3")"
}

# swf_kill_at POINT ARGS...: start a switchover that stops at test point
# POINT, wait there until TARGET_DONE (a command) holds, then kill -9 it.
swf_kill_at() {
    local point=$1
    shift
    pause_at "$point" 60 "$T/kill-$point" switchover "$@" || return 1
    KILLED_AT=$(date +%s.%N)
    kill_paused switchover
}

# swf_name_standby NAME: the configuration names cluster NAME as the standby
# (the proxy switches only to servers its configuration names).
swf_name_standby() {
    sed -i "s|^standby = .*|standby = $(conninfo "$1")|; s|^standby-data = .*|standby-data = ${PG_DATA[$1]}|" "$CONF"
}

# --- 1: kill -9 after the promotion, before the switch ---------------------
swf_pgbench case1 20
sleep 2
check "case 1: switchover held at switchover-switch and killed once s promoted" \
    swf_kill_at switchover-switch
check "case 1: the target promoted on its own" wait_for "s promoted" 30 sql_is s f "select pg_is_in_recovery()"
swf_bench_fenced case1 0 s "$KILLED_AT"
as_pg "$DRYDOCK" --config "$CONF" proxy-ctl status >"$T/status1.out" 2>&1
check "case 1: proxy-ctl status shows the proxy paused" grep -qx "paused: yes" "$T/status1.out"
check "case 1: ... pointing at the old primary" grep -qE "^server: .*port=${PG_PORT[p]}( |\$)" "$T/status1.out"
check_eq "case 1: ... fenced" true "$(proxy_json fenced)"
check "case 1: proxy-ctl switch to the new primary" swf_ctl switch "$(conninfo s)"
check "case 1: proxy-ctl resume" swf_ctl resume
before=$(count_rows s)
swf_pgbench case1b 3
swf_bench_done case1b "$before" s
n1=$(count_rows s)
check_eq "case 1: the proxy is not paused" false "$(proxy_json paused)"
check_eq "case 1: the old primary still runs: nothing fenced it" 1 "$(psql_q p 'select 1')"
pg_stop p

# --- 2: kill -9 after the switch, before the resume --------------------------
pg_standby t s
write_config "${PROXY_INI[@]}" # pg_standby rewrote it without the proxy
swf_name_standby t
swf_pgbench case2 20
sleep 2
check "case 2: switchover held at switchover-resume and killed" \
    swf_kill_at switchover-resume --from "$(conninfo s)" --from-data "${PG_DATA[s]}" \
    --to "$(conninfo t)" --to-data "${PG_DATA[t]}"
check_eq "case 2: the target is the new primary" f "$(psql_q t 'select pg_is_in_recovery()')"
swf_bench_fenced case2 "$n1" t "$KILLED_AT"
as_pg "$DRYDOCK" --config "$CONF" proxy-ctl status >"$T/status2.out" 2>&1
check "case 2: proxy-ctl status shows the proxy paused" grep -qx "paused: yes" "$T/status2.out"
check "case 2: ... pointing at the new primary" grep -qE "^server: .*port=${PG_PORT[t]}( |\$)" "$T/status2.out"
check "case 2: proxy-ctl resume" swf_ctl resume
before=$(count_rows t)
swf_pgbench case2b 3
swf_bench_done case2b "$before" t
n2=$(count_rows t)
check_eq "case 2: the old primary still runs: nothing fenced it" 1 "$(psql_q s 'select 1')"
pg_stop s

# --- 3: a fence that fails: pg_ctl cannot read the old primary's pid file ---
pg_standby u t
write_config "${PROXY_INI[@]}"
swf_name_standby u
swf_pgbench case3 5
sleep 2
chmod 000 "${PG_DATA[t]}/postmaster.pid"
check_error "case 3: a failing fence: exit 6, one line naming the step, the state and what to do" 6 \
    "switchover done, clients are on the new primary \(.*port=${PG_PORT[u]}\), but fencing the old primary failed: stopping the old primary failed \(pg_ctl exited with status 1\): .*PID file.*HINT: make sure the old primary \(data directory \"${PG_DATA[t]}\"\) is stopped" \
    dd switchover --from "$(conninfo t)" --from-data "${PG_DATA[t]}" --to "$(conninfo u)" --to-data "${PG_DATA[u]}"
check_eq "case 3: the proxy is not paused" false "$(proxy_json paused)"
check "case 3: the proxy points at the new primary" grep -qE "port=${PG_PORT[u]}( |\$)" <<<"$(proxy_json server)"
swf_bench_done case3 "$n2" u
check_eq "case 3: the old primary still runs, as the error says" 1 "$(psql_q t 'select 1')"
chmod 600 "${PG_DATA[t]}/postmaster.pid"
check "case 3: stopping it by hand, as the hint says" pg_stop t

finish
