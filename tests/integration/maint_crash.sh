#!/bin/bash
# maint_crash.sh - kill -9 of "drydock maint run" (and of "maint resume") at
# every step boundary and in the middle of every long step, under a small
# write load through the proxy, on one pair of clusters (scale 1: each run
# takes seconds). maint_run.sh covers the boundaries "maint-start" (abort)
# and "maint-standby" (resume); this covers the rest.
#
#   1. Abort, once per point before the switch: a run killed -9 there; what
#      is left (directories under the green paths, processes running out of
#      them) is what the journal lists (its servers and directories, and a
#      program writing into one of those: pg_basebackup's WAL streamer, a
#      child it forks, outlives the kill until the undo stops it); "maint
#      abort" removes all of it; the proxy serves the old primary, unpaused;
#      the repository verifies.
#      Points: every step boundary before the switch, the backup's "copy",
#      the restore's "restore-write", pg_checksums running, the offline
#      step's catch-up done and pg_checksums not started, the start step's
#      catch-up, pg_basebackup of the new standby running, and
#      "switchover-catchup" (clients held, nothing promoted).
#   2. Resume, one maintenance killed at each point in turn, each "maint
#      resume" killed at the next, the last one completing it; after the
#      promotion "maint abort" is refused.
#   At each kill inside the switch, a client held by the pause (a psql
#   session that begins a transaction through the proxy once the clients are
#   held) gets its answer (on the old primary, before the promotion) or the
#   proxy's 57P01 (after it) within the pause deadline plus the lease; its
#   timestamps are compared with the kill's.
source "$(dirname "$0")/lib.sh"

PAUSE_DEADLINE=5 # the maintenance file's pause-timeout
LEASE=2          # SW_LEASE, maint/switchover.c

PG_CHECKSUMS= pg_primary p
pg_standby s p
dd repo-create >/dev/null 2>&1 || { note "repo-create failed"; exit 1; }
backup_pgbench p -i -s 1 -q >/dev/null 2>&1
switchover_proxy_start
dd backup >/dev/null 2>&1 || { note "backup failed"; exit 1; }

cat >"$T/new_hba.conf" <<'HBA'
# drydock maint crash test
local   all              all                       trust
host    all              all              127.0.0.1/32 trust
host    replication      all              127.0.0.1/32 trust
HBA
chown postgres "$T/new_hba.conf"
# write_maint: the maintenance file, with fresh ports (others' tests share the host).
write_maint() {
    GPORT=$(free_port)
    GSPORT=$(free_port)
    cat >"$T/maint.conf" <<CONF
[maintenance]
title = Crash test: checksums, buffers, pg_hba, a new standby
pause-timeout = $PAUSE_DEADLINE

[green]
data = $T/green
port = $GPORT
standby-data = $T/green-standby
standby-port = $GSPORT

[change]
set = shared_buffers = 48MB
file = pg_hba.conf = $T/new_hba.conf
data-checksums = enable
CONF
    chown postgres "$T/maint.conf"
    register_cluster green "$T/green" "$GPORT"
    register_cluster green_standby "$T/green-standby" "$GSPORT"
}

# A light write load through the proxy, for the whole test.
psql_q p "create table crashlog (id bigserial primary key, at timestamptz default clock_timestamp())"
echo "INSERT INTO crashlog DEFAULT VALUES;" >"$T/insert.sql"
chown postgres "$T/insert.sql"
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$LPORT" -U postgres -n -c 2 -j 1 -R 20 -T 900 \
    -f "$T/insert.sql" postgres >"$T/load.out" 2>&1 &
LOAD=$!
PIDS+=("$LOAD")

RUNNERS="^$DRYDOCK --config $CONF maint (run|resume)"
proxy_port() { acurl -sf "http://127.0.0.1:$APORT/status" | jq -r .server | sed -n 's/.*port=\([0-9]*\).*/\1/p'; }
proxy_paused() { acurl -sf "http://127.0.0.1:$APORT/status" | jq -r .paused; }
now() { date +%s.%N; }

# start VERB POINT: "maint VERB" (run FILE, or resume) stopping at test point POINT.
start() {
    local verb=$1 point=$2 args=(maint "$1")
    [ "$verb" = run ] && args+=("$T/maint.conf")
    rm -f "$T/go" "$T/err" # not an earlier run's "pausing at" line
    DRYDOCK_TEST_PAUSE_AT=$point DRYDOCK_TEST_RESUME_FILE=$T/go \
        runuser -u postgres -- "$DRYDOCK" --config "$CONF" "${args[@]}" >"$T/out" 2>"$T/err" &
    RUNNER=$!
    PIDS+=("$RUNNER")
    if ! wait_for "maint $verb at $point" 300 grep -q "pausing at $point" "$T/err"; then
        sed 's/^/# /' "$T/err" | tail -5
        return 1
    fi
}
kill_runner() {
    KILLED_AT=$(now)
    pkill -9 -f "$RUNNERS"
    wait "$RUNNER" 2>/dev/null
    ! pgrep -f "$RUNNERS" >/dev/null
}
# stop_when_running TOOL: let the step go on, and kill -9 while TOOL runs
# (if TOOL was too quick to be seen, the kill still falls inside the step).
stop_when_running() {
    touch "$T/go"
    local i
    for ((i = 0; i < 2000; i++)); do
        pgrep -f "$1.*$T/green" >/dev/null && break
        pgrep -f "$RUNNERS" >/dev/null || break
        sleep 0.005
    done
    pgrep -f "$1.*$T/green" >/dev/null && note "killed while $1 ran" || note "$1 was not seen running"
    kill_runner
}

# held_client: once the clients are held, a session through the proxy that
# begins a transaction; its answer (server port) or error, with timestamps.
held_client() {
    as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtq \
        -c "begin" -c "select inet_server_port()" -c "commit" >"$T/held.out" 2>&1
    echo "$(now)" >"$T/held.done"
}
held_start() {
    rm -f "$T/held.done"
    HELD_SENT=$(now)
    held_client &
    HELD=$!
    PIDS+=("$HELD")
    sleep 0.3 # it connects and is held
}
# held_check NAME EXPECT: EXPECT "port N" (answered there) or 57P01 (the proxy's error).
held_check() {
    wait "$HELD"
    local done
    done=$(cat "$T/held.done")
    if [ "${2%% *}" = port ]; then
        check_eq "$1: the held client is answered by port ${2#port }" "${2#port }" "$(head -1 "$T/held.out")"
    else
        check "$1: the held client gets the proxy's 57P01" grep -q "switchover holding this session stopped" "$T/held.out"
    fi
    check "$1: ... within the lease (+2 s) of the kill" \
        awk -v a="$KILLED_AT" -v b="$done" -v l="$LEASE" 'BEGIN { exit !(b - a < l + 2) }'
    check "$1: ... held no longer than the pause deadline plus the lease (+2 s)" \
        awk -v a="$HELD_SENT" -v b="$done" -v l="$((PAUSE_DEADLINE + LEASE))" 'BEGIN { exit !(b - a < l + 2) }'
}

# known NAME: what runs or lies under the green paths is what the journal lists:
# its servers, its directories, and programs writing into those directories
# (a child killed with its parent, PR_SET_PDEATHSIG, gets a moment to die).
known() {
    local i
    for ((i = 0; i < 20; i++)); do
        strays && break
        sleep 0.1
    done
    check "$1: everything left is in the journal${STRAY:+ (not: ${STRAY[*]})}" test ${#STRAY[@]} = 0
}
strays() {
    local js created pid cmd d
    STRAY=()
    js=$(dd maint status --json)
    created=$(echo "$js" | jq -r '.maintenance.created[] | select(.removed | not) | "\(.type) \(.what)"')
    for pid in $(pgrep -f "$T/green"); do
        cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
        d=$(echo "$cmd" | sed -n 's|^[^ ]*/postgres -D \([^ ]*\) *$|\1|p')
        [ -n "$d" ] && grep -qxF "server $d" <<<"$created" && continue
        # A program writing into a directory the journal lists (pg_basebackup's WAL
        # streamer, which it forks, outlives the kill): the step's undo stops it.
        d=$(echo "$cmd" | grep -oE "(--pgdata=| -D )$T/green[^ ]*" | sed -E 's/^(--pgdata=| -D )//')
        [ -n "$d" ] && grep -qxF "dir $d" <<<"$created" && continue
        STRAY+=("$pid:$cmd")
    done
    for d in "$T"/green*; do
        [ -e "$d" ] || continue
        grep -qxF "dir $d" <<<"$created" || STRAY+=("dir $d")
    done
    [ ${#STRAY[@]} = 0 ]
}

# nothing_left NAME: no directory, no process, the proxy on p, unpaused.
nothing_left() {
    check "$1: no green directory is left" test -z "$(ls -d "$T"/green* 2>/dev/null)"
    check "$1: no process runs out of them" test -z "$(pgrep -f "$T/green")"
    check_eq "$1: the proxy serves p" "${PG_PORT[p]}" "$(proxy_port)"
    check_eq "$1: the proxy is not paused" false "$(proxy_paused)"
    check_eq "$1: p is the primary" f "$(psql_q p 'select pg_is_in_recovery()')"
}

# --- 1: kill -9 at each point before the switch, then maint abort ---------------
abort_at() { # POINT [TOOL]: killed at POINT (or while TOOL runs after it), then aborted
    local point=$1 name=${2:-$1}
    note "$name: at ${SECONDS} s"
    write_maint
    if ! start run "$point"; then
        fail "$name: maint run did not reach $point"
        dd maint abort >/dev/null 2>&1
        return
    fi
    if [ "$point" = switchover-catchup ]; then
        held_start
        check "$name: clients are held" test "$(proxy_paused)" = true
    fi
    if [ -n "${2:-}" ]; then
        check "$name: maint run killed -9" stop_when_running "$2"
    else
        check "$name: maint run killed -9" kill_runner
    fi
    [ "$point" = switchover-catchup ] && held_check "$name" "port ${PG_PORT[p]}"
    known "$name"
    dd maint abort >"$T/abort.out" 2>"$T/abort.err"
    local rc=$?
    check_eq "$name: maint abort succeeds" 0 "$rc"
    [ "$rc" = 0 ] || sed 's/^/# /' "$T/abort.err"
    nothing_left "$name"
}
for point in maint-preflight maint-backup copy maint-restore restore-write maint-offline \
    maint-offline-checksums maint-start-catch-up maint-verify maint-switchover switchover-catchup; do
    abort_at "$point"
done
abort_at maint-offline-checksums pg_checksums
abort_at maint-standby pg_basebackup
check "the repository verifies after the aborts" dd verify
check_eq "the load saw no failed transaction so far" "" "$(grep -i 'abort\|error' "$T/load.out" | head -1)"

# --- 2: one maintenance, killed at each point in turn, resumed each time -------
write_maint
resume_points=(maint-preflight copy maint-backup restore-write maint-restore maint-offline
    maint-offline-checksums pg_checksums maint-start maint-start-catch-up pg_basebackup maint-verify
    maint-switchover switchover-catchup switchover-switch maint-old-primary maint-first-backup copy)
verb=run
for point in "${resume_points[@]}"; do
    tool=
    case $point in
    pg_checksums) tool=pg_checksums point=maint-offline ;;
    pg_basebackup) tool=pg_basebackup point=maint-standby ;;
    esac
    name="resume chain: ${tool:-$point}"
    note "$name: at ${SECONDS} s"
    if ! start "$verb" "$point"; then
        fail "$name: maint $verb did not reach $point"
        break
    fi
    case $point in switchover-*) held_start ;; esac
    if [ -n "$tool" ]; then
        check "$name: maint $verb killed -9" stop_when_running "$tool"
    else
        check "$name: maint $verb killed -9" kill_runner
    fi
    case $point in
    switchover-catchup) held_check "$name" "port ${PG_PORT[p]}" ;;
    switchover-switch) held_check "$name" 57P01 ;;
    esac
    known "$name"
    verb=resume
done
check_error "after the promotion, maint abort is refused" 9 'cannot be aborted.*HINT' dd maint abort
dd maint resume --json >"$T/resume.json" 2>"$T/resume.err"
rc=$?
check_eq "the last maint resume completes" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/resume.err" | tail -5
check_eq "maint status: completed" completed "$(dd maint status --json | jq -r .maintenance.state)"
check_eq "the proxy serves the new primary" "$GPORT" "$(proxy_port)"
check_eq "the proxy is not paused" false "$(proxy_paused)"
check_eq "the new primary has data checksums" on "$(psql_q green 'show data_checksums')"
check_eq "its standby streams from it" streaming "$(psql_q green 'select state from pg_stat_replication')"
as_pg "$PGBIN/pg_ctl" -D "${PG_DATA[p]}" status >/dev/null 2>&1
check_eq "the old primary is stopped" 3 "$?"
check "the repository verifies" dd verify
check "a query through the proxy works" \
    as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtqc "select 1"
check_eq "no maint process is left" "" "$(pgrep -f "$RUNNERS")"
kill "$LOAD" 2>/dev/null

finish
