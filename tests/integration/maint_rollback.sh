#!/bin/bash
# maint_rollback.sh - drydock maint rollback after a maint run, each under
# pgbench -c 8 -j 2 writing through drydock proxy.
#
# The maintenance enables data checksums on a cluster initialised without
# them, raises shared_buffers and max_connections and replaces pg_hba.conf:
# the old primary cannot be rewound, so the rollback rebuilds it from a fresh
# backup of the new primary with its old settings (the plan says so), then
# switches back; it is killed -9 once the backup is restored in place of the
# old directory, and continued. Checked: no failed transaction in either switch; every row
# committed on the new primary is on the old-configuration cluster; the old
# settings are in effect (checksums off, shared_buffers, pg_hba; the raised
# max_connections pending a restart, as lint warns); the proxy serves it;
# check and backup work without the configuration file edited; maint finish
# removes what the run created and the directory kept aside, nothing else.
source "$(dirname "$0")/lib.sh"

maint_setup "Enable data checksums, more buffers and connections" enable-checksums green-standby
conf_before=$(md5sum <"$CONF")
hba_before=$(md5sum <"${PG_DATA[p]}/pg_hba.conf")
auto_before=$(md5sum <"${PG_DATA[p]}/postgresql.auto.conf")

dd maint plan --json "$T/maint.conf" >"$T/plan.json"
check_eq "the plan: the rollback rebuilds (checksums change)" true "$(jq -r .rollback.rebuild "$T/plan.json")"
check "the plan's rollback line names the mechanism" \
    grep -q "rebuilt from a fresh backup" <(jq -r .rollback.mechanism "$T/plan.json")
check_eq "the plan's rollback steps" \
    "rollback-backup rollback-restore rollback-offline rollback-start rollback-switch rollback-settings rollback-green" \
    "$(jq -r '[.rollback.steps[] | select(.enabled) | .name] | join(" ")' "$T/plan.json")"
check "the rollback's prediction is the sum of its steps" \
    test "$(jq '(.rollback.predicted_s - ([.rollback.steps[] | select(.enabled) | .predicted_s] | add)) | fabs < 0.001' "$T/plan.json")" = true

check_error "no rollback before a maintenance" 9 "there is no switched maintenance to roll back" \
    dd maint rollback

# --- the maintenance, under load ----------------------------------------------
rows_before=$(psql_q p "select count(*) from runlog")
load run 25
t0=$SECONDS
dd maint run --json "$T/maint.conf" >"$T/run.json" 2>"$T/run.err"
rc=$?
note "maint run took $((SECONDS - t0)) s (the load runs 25 s)"
check_eq "maint run completes" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/run.err"
wait $BENCH_PID
check_eq "pgbench during the run: no failed transaction" 0 "$(failed_tx run)"
n=$(processed run)
check_eq "every transaction of the run's pgbench is on the new primary" "$((rows_before + n))" \
    "$(psql_q green 'select count(*) from runlog')"
check_eq "the proxy serves the new primary" "$GPORT" "$(proxy_port)"

check "maint status says what a rollback would do: the plan's mechanism" \
    grep -q "rebuilt from a fresh backup" <(dd maint status --json | jq -r .maintenance.next.rollback)

# --- the rollback, under load -----------------------------------------------------
load rollback 25
t0=$SECONDS
sleep 2
# Killed -9 once the old directory is aside and the backup restored in its place: the
# facts would now say "rewind" (the copy has checksums, as the new primary); the journal
# says rebuild, and the rollback goes on as it began.
check "the rollback reaches maint-rollback-offline" \
    pause_at maint-rollback-offline 120 "$T/rb1" maint rollback
kill_paused "maint rollback"
check_eq "maint status: rolling back" "rolling back" "$(state)"
check "the journal knows the directory kept aside" \
    grep -qx "${PG_DATA[p]}.rollback-1" <(dd maint status --json | jq -r '.maintenance.created[].what')
check_eq "the proxy still serves the new primary" "$GPORT" "$(proxy_port)"
dd maint rollback --json >"$T/rollback.json" 2>"$T/rollback.err"
rc=$?
check_eq "maint rollback continues and succeeds" 0 "$rc"
note "the rollback, killed and continued, took $((SECONDS - t0)) s (the load runs 25 s)"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/rollback.err"
rows_green=$(psql_q green 'select count(*) from runlog' 2>/dev/null) # stopped: empty
check_eq "JSON: outcome rolled back" "rolled back" "$(jq -r .outcome "$T/rollback.json")"
note "clients held $(jq -r .hold_ms "$T/rollback.json") ms at the switch back"
check "JSON: a hold was measured" test "$(jq -r '.hold_ms > 0' "$T/rollback.json")" = true
check_eq "JSON: every rollback step ran and succeeded" \
    "rollback-backup rollback-restore rollback-offline rollback-start rollback-switch rollback-settings rollback-green" \
    "$(jq -r '[.steps[] | select(.enabled and .ok and (.actual_s >= 0)) | .name] | join(" ")' "$T/rollback.json")"
wait $BENCH_PID
rc=$?
check_eq "pgbench during the rollback exits 0" 0 "$rc"
[ "$rc" = 0 ] || tail -5 "$T/rollback.out" | sed 's/^/# /'
check_eq "pgbench during the rollback: no failed transaction" 0 "$(failed_tx rollback)"
n2=$(processed rollback)
check "pgbench committed transactions during the rollback (${n2:-none})" test "${n2:-0}" -gt 100
check_eq "every committed row is on the old-configuration cluster" "$((rows_before + n + n2))" \
    "$(psql_q p 'select count(*) from runlog')"

check_eq "p is the primary again" f "$(psql_q p 'select pg_is_in_recovery()')"
check_eq "its data checksums are off again" off "$(psql_q p 'show data_checksums')"
check_eq "its old shared_buffers" 64MB "$(psql_q p 'show shared_buffers')"
check_eq "its raised max_connections runs on, the old one pending a restart" "150|true" \
    "$(psql_q p "select setting || '|' || pending_restart from pg_settings where name = 'max_connections'")"
check_eq "its old pg_hba.conf" "$hba_before" "$(md5sum <"${PG_DATA[p]}/pg_hba.conf")"
check_eq "no rule of the new pg_hba.conf is loaded" 0 \
    "$(psql_q p "select count(*) from pg_hba_file_rules where 'run_marker' = any(user_name)")"
check_eq "its old postgresql.auto.conf" "$auto_before" "$(md5sum <"${PG_DATA[p]}/postgresql.auto.conf")"
check_eq "the proxy serves p" "${PG_PORT[p]}" "$(proxy_port)"
check "the green primary is stopped" sh -c "! pg_isready -q -h 127.0.0.1 -p $GPORT"
check "the green standby is stopped" sh -c "! pg_isready -q -h 127.0.0.1 -p $GSPORT"
check "the old directory is kept aside" test -f "${PG_DATA[p]}.rollback-1/PG_VERSION"
check_eq "maint status: rolled back" "rolled back" "$(state)"
check_eq "maint status: the green primary is retired, p no longer" "$T/green" \
    "$(dd maint status --json | jq -r '[.roles[] | select(.role == "retired") | .data] | join(" ")')"
check_eq "the configuration file is untouched" "$conf_before" "$(md5sum <"$CONF")"
check "check works right after, against p" dd check
check "backup works right after" dd backup
check_eq "a new row on p through a restarted connection" 1 \
    "$(as_pg psql -h 127.0.0.1 -p "$LPORT" -U postgres -Atqc "insert into runlog (client) values (0) returning 1" postgres)"

# --- maint finish: what the run created and the directory kept aside -----------------
check "maint finish" dd maint finish
check "the green directory is removed" test ! -e "$T/green"
check "the green standby's directory is removed" test ! -e "$T/green-standby"
check "the directory kept aside is removed" test ! -e "${PG_DATA[p]}.rollback-1"
check "p's data directory stays" test -f "${PG_DATA[p]}/PG_VERSION"
check "the old standby's directory stays" test -f "${PG_DATA[s]}/PG_VERSION"

finish
