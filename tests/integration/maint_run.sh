#!/bin/bash
# maint_run.sh - drydock maint run on the live clusters, under pgbench
# -c 8 -j 2 writing through drydock proxy: a maintenance that enables data
# checksums on a cluster initialised without them, raises shared_buffers and
# max_connections, replaces pg_hba.conf and builds a new standby.
#
#   1. kill -9 at the test point "maint-start" (backup, restore, offline
#      done): maint status shows where it is; maint abort undoes it: no
#      directory and no server left, the roles as they were, nothing changed
#      for the clients.
#   2. a second run killed at "maint-standby"; a second "maint run" meanwhile
#      fails at once naming the first; maint resume completes it under load:
#      pgbench sees no failed transaction, every transaction it counted is on
#      the new primary, the changes are in effect, the new standby streams
#      from the new primary, the configuration file is untouched, and backup
#      and check work right after.
source "$(dirname "$0")/lib.sh"

maint_setup "Enable data checksums, more buffers and connections" enable-checksums green-standby
conf_before=$(md5sum <"$CONF")
# The [change] section is the file's last: a sql-after file joins it.
echo "CREATE TABLE sql_after_marker AS SELECT 1 AS x;" >"$T/after.sql"
echo "sql-after = $T/after.sql" >>"$T/maint.conf"
chown postgres "$T/after.sql"
step_state() { dd maint status --json | jq -r --arg s "$1" '.maintenance.steps[] | select(.name == $s) | .state'; }

# run_until POINT: maint run stopped at test point POINT, then killed -9.
run_until() {
    pause_at "$1" 300 "$T/run-$1" maint run "$T/maint.conf" || return 1
    RUN_PID=$(pgrep -f "^$DRYDOCK --config $CONF maint run")
}
kill_run() { kill_paused "maint run"; }

check "maint plan accepts the file" dd maint plan "$T/maint.conf"

# --- 1: killed at "maint-start", then aborted -----------------------------------
load abort 30
check "run 1 reaches maint-start" run_until maint-start
check "run 1 killed -9" kill_run
check_eq "maint status: the run is running (its process died)" running "$(state)"
check_eq "maint status: restore is done" done "$(step_state restore)"
check_eq "maint status: start was cut short" running "$(step_state start)"
check "the journal knows the green directory" \
    grep -q "$T/green" <(dd maint status --json | jq -r '.maintenance.created[].what')
check "maint abort" dd maint abort
check_eq "maint status: aborted" aborted "$(state)"
check "the green directory is gone" test ! -e "$T/green"
check "no server runs on the green port" sh -c "! pg_isready -q -h 127.0.0.1 -p $GPORT"
check_eq "p is still the primary" f "$(psql_q p 'select pg_is_in_recovery()')"
check_eq "the proxy still serves p" "${PG_PORT[p]}" \
    "$(acurl -sf "http://127.0.0.1:$APORT/status" | jq -r .server | sed -n 's/.*port=\([0-9]*\).*/\1/p')"
wait $BENCH_PID
check_eq "pgbench while it ran and was undone exits 0" 0 "$?"
check_eq "no failed transaction while it ran and was undone" 0 "$(failed_tx abort)"

# --- 2: killed at "maint-standby", a second run refused, then resumed under load ---
# Fresh ports (others' tests share the host: a port picked minutes ago may be taken).
GPORT=$(free_port)
GSPORT=$(free_port)
sed -i "s/^port = .*/port = $GPORT/; s/^standby-port = .*/standby-port = $GSPORT/" "$T/maint.conf"
register_cluster green "$T/green" "$GPORT"
register_cluster green_standby "$T/green-standby" "$GSPORT"
rows_before=$(psql_q p "select count(*) from runlog")
check "run 2 reaches maint-standby" run_until maint-standby
check_error "a second maint run at the same time fails at once, naming the first" 5 \
    "another maintenance command is running: pid $RUN_PID \\(drydock maint run\\)" \
    dd maint run "$T/maint.conf"
check "run 2 killed -9" kill_run
load resume 90
sleep 2
dd maint resume --json >"$T/resume.json" 2>"$T/resume.err"
rc=$?
check_eq "maint resume completes" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/resume.err"
check_eq "JSON: outcome completed" completed "$(jq -r .outcome "$T/resume.json")"
hold=$(jq -r .hold_ms "$T/resume.json")
note "clients held ${hold} ms at the switch"
check "JSON: a hold was measured" test "$(jq -r '.hold_ms > 0' "$T/resume.json")" = true
check_eq "JSON: every step ran or was done before, and succeeded" \
    "preflight backup restore offline start standby verify switchover sql-after old-primary first-backup" \
    "$(jq -r '[.steps[] | select(.enabled and .ok) | .name] | join(" ")' "$T/resume.json")"
wait $BENCH_PID
rc=$?
check_eq "pgbench exits 0" 0 "$rc"
[ "$rc" = 0 ] || tail -5 "$T/resume.out" | sed 's/^/# /'
check_eq "pgbench saw no failed transaction" 0 "$(failed_tx resume)"
n=$(processed resume)
check "pgbench committed transactions (${n:-none})" test "${n:-0}" -gt 100
check_eq "every transaction pgbench counted is on the new primary" "$((rows_before + n))" \
    "$(psql_q green 'select count(*) from runlog')"

check_eq "the new primary is out of recovery" f "$(psql_q green 'select pg_is_in_recovery()')"
# The switchover cleared the green's recovery_end_command for its hold (swquiet.h), put it back and ran it.
check_eq "its recovery_end_command is drydock's again" t \
    "$(psql_q green "select current_setting('recovery_end_command') like '% wal-fetch --cleanup'")"
check "its WAL prefetch spool is gone" test ! -e "$T/green/pg_wal/drydock-spool"
check_eq "it has data checksums" on "$(psql_q green 'show data_checksums')"
check_eq "it has the new shared_buffers" 96MB "$(psql_q green 'show shared_buffers')"
check_eq "it has the new max_connections" 150 "$(psql_q green 'show max_connections')"
check_eq "the sql-after file ran on it, after the switch" 1 "$(psql_q green 'select x from sql_after_marker')"
check_eq "it reads the new pg_hba.conf" "{run_marker}|reject" \
    "$(psql_q green "select user_name, auth_method from pg_hba_file_rules where 'run_marker' = any(user_name)")"
check_eq "its standby streams from it" streaming "$(psql_q green 'select state from pg_stat_replication')"
check_eq "the standby has the changes too" "on|150" "$(psql_q green_standby "select current_setting('data_checksums') || '|' || current_setting('max_connections')")"
as_pg "$PGBIN/pg_ctl" -D "${PG_DATA[p]}" status >/dev/null 2>&1
check_eq "the old primary is stopped" 3 "$?"
check "the old primary's data directory is kept" test -f "${PG_DATA[p]}/PG_VERSION"
check_eq "the proxy serves the new primary" "$GPORT" \
    "$(acurl -sf "http://127.0.0.1:$APORT/status" | jq -r .server | sed -n 's/.*port=\([0-9]*\).*/\1/p')"
check_eq "the configuration file is untouched" "$conf_before" "$(md5sum <"$CONF")"
check_eq "maint status: completed" completed "$(state)"
check "check works right after, against the new primary" dd check
check "backup works right after" dd backup
# keep-old-primary: "maint finish --expired" (for a timer) keeps the old primary until it passed.
check "maint finish --expired: no keep-old-primary, so kept" \
    sh -c "runuser -u postgres -- $DRYDOCK --config $CONF maint finish --expired | grep -q 'sets no keep-old-primary'"
sed -i 's/^pause-timeout = 10$/pause-timeout = 10\nkeep-old-primary = 1d/' "$T/maint.conf"
check "maint finish --expired: keep-old-primary = 1d, kept until tomorrow" \
    sh -c "runuser -u postgres -- $DRYDOCK --config $CONF maint finish --expired | grep -q 'kept for rollback until'"
check "... the old primary's directory is still there" test -f "${PG_DATA[p]}/PG_VERSION"
check_eq "... and the run is still completed" completed "$(state)"
retired() { dd maint status --json | jq -r '[.roles[] | select(.role == "retired") | .data] | join(" ")'; }
check_eq "maint status: the old primary is retired, kept for rollback" "${PG_DATA[p]}" "$(retired)"
check "maint finish" dd maint finish
check_eq "maint status: finished" finished "$(state)"
check "maint finish removed the old primary's directory" test ! -e "${PG_DATA[p]}"
check_eq "maint status: no retired node left" "" "$(retired)"
check "... and its text says nothing is kept for rollback" bash -c "! runuser -u postgres -- $DRYDOCK --config $CONF maint status | grep -q 'kept for rollback'"
check "and nothing of the new cluster" test -f "$T/green/PG_VERSION" -a -f "$T/green-standby/PG_VERSION"

finish
