#!/bin/bash
# maint_rollback_rewind.sh - drydock maint rollback by rewind, killed -9 in
# the middle and resumed, under pgbench -c 8 -j 2 through drydock proxy.
#
# The cluster has data checksums and the maintenance does not change them
# (it raises shared_buffers and max_connections and replaces pg_hba.conf;
# no green standby): the plan says the old primary is rewound. The rollback
# is killed -9 at "maint-rollback-switch" (rewound, streaming from the new
# primary, the switch not begun): maint status shows it rolling back, a
# "maint abort" meanwhile is refused, and "maint resume" completes it: no
# failed transaction, every row on the old primary, its old settings; the
# status page shows the rollback as a maintenance of its own, completed.
source "$(dirname "$0")/lib.sh"

maint_setup "More buffers and connections"
SPORT=$(free_port)
write_config "${PROXY_INI[@]}" "[status]" "listen = 127.0.0.1:$SPORT" "store = $T/status.db" \
    "title = Acme status" "components = Database"
dd status serve 2>"$T/serve.log" &
PIDS+=($!)
wait_for "status page up" 20 curl -sf "http://127.0.0.1:$SPORT/api/v2/status.json" || { cat "$T/serve.log"; exit 1; }
conf_before=$(md5sum <"$CONF")
hba_before=$(md5sum <"${PG_DATA[p]}/pg_hba.conf")
auto_before=$(md5sum <"${PG_DATA[p]}/postgresql.auto.conf")

dd maint plan --json "$T/maint.conf" >"$T/plan.json"
check_eq "the plan: the rollback rewinds" false "$(jq -r .rollback.rebuild "$T/plan.json")"
check "the plan's rollback line names pg_rewind" \
    grep -q "rewound (pg_rewind)" <(jq -r .rollback.mechanism "$T/plan.json")
check_eq "the plan's rollback steps" "rollback-follow rollback-switch rollback-settings rollback-green" \
    "$(jq -r '[.rollback.steps[] | select(.enabled) | .name] | join(" ")' "$T/plan.json")"

rows_before=$(psql_q p "select count(*) from runlog")
load run 30
dd maint run "$T/maint.conf" >"$T/run.out" 2>"$T/run.err"
rc=$?
check_eq "maint run completes" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/run.err"
wait $BENCH_PID
n=$(processed run)
check_eq "pgbench during the run: no failed transaction" 0 "$(failed_tx run)"

# --- the rollback, killed -9 before its switch, then resumed ---------------------
load rollback 30
check "the rollback reaches maint-rollback-switch" \
    pause_at maint-rollback-switch 120 "$T/rb1" maint rollback
kill_paused "maint rollback"
check_eq "maint status: rolling back" "rolling back" "$(state)"
check_eq "maint status: the follow step is done" done \
    "$(dd maint status --json | jq -r '.maintenance.steps[] | select(.name == "rollback-follow") | .state')"
check_eq "the old primary streams from the new one" streaming \
    "$(psql_q p 'select status from pg_stat_wal_receiver')"
check_eq "the proxy still serves the new primary" "$GPORT" "$(proxy_port)"
check_error "maint abort is refused meanwhile" 9 "has switched: it cannot be aborted" dd maint abort
dd maint resume --json >"$T/resume.json" 2>"$T/resume.err"
rc=$?
check_eq "maint resume completes the rollback" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/resume.err"
check_eq "JSON: outcome rolled back" "rolled back" "$(jq -r .outcome "$T/resume.json")"
note "clients held $(jq -r .hold_ms "$T/resume.json") ms at the switch back"
check_eq "JSON: the steps" "rollback-follow rollback-switch rollback-settings rollback-green" \
    "$(jq -r '[.steps[] | select(.enabled and .ok) | .name] | join(" ")' "$T/resume.json")"
wait $BENCH_PID
check_eq "pgbench during the rollback: no failed transaction" 0 "$(failed_tx rollback)"
n2=$(processed rollback)
check_eq "every committed row is on the old primary" "$((rows_before + n + n2))" \
    "$(psql_q p 'select count(*) from runlog')"
check_eq "p is the primary again" f "$(psql_q p 'select pg_is_in_recovery()')"
check_eq "its data checksums are on, as before" on "$(psql_q p 'show data_checksums')"
check_eq "its old shared_buffers" 64MB "$(psql_q p 'show shared_buffers')"
check_eq "its old pg_hba.conf" "$hba_before" "$(md5sum <"${PG_DATA[p]}/pg_hba.conf")"
check_eq "its old postgresql.auto.conf" "$auto_before" "$(md5sum <"${PG_DATA[p]}/postgresql.auto.conf")"
check_eq "the proxy serves p" "${PG_PORT[p]}" "$(proxy_port)"
check "the green primary is stopped" sh -c "! pg_isready -q -h 127.0.0.1 -p $GPORT"
check_eq "the configuration file is untouched" "$conf_before" "$(md5sum <"$CONF")"
check "check works right after" dd check
check "backup works right after" dd backup
newest() { curl -sf "http://127.0.0.1:$SPORT/api/v2/scheduled-maintenances.json" | jq -r ".scheduled_maintenances | max_by(.id) | $1"; }
check_eq "status page: the rollback, resumed by another process, posted its own maintenance, completed" \
    "Switching back: More buffers and connections|completed" "$(newest '"\(.name)|\(.status)"')"
check_eq "status page: the run's maintenance stays completed" "completed" \
    "$(curl -sf "http://127.0.0.1:$SPORT/api/v2/scheduled-maintenances.json" | jq -r '.scheduled_maintenances | min_by(.id) | .status')"
check "maint finish" dd maint finish
check "the green directory is removed" test ! -e "$T/green"
check "p's data directory stays" test -f "${PG_DATA[p]}/PG_VERSION"

finish
