#!/bin/bash
# maint_reload.sh - "drydock maint run" of a reload-only plan: the changes
# (a setting, pg_hba.conf) are made on the live primary and its standby,
# reloaded and verified there, journalled; no new cluster. Also:
#   - kill -9 at the test point "maint-apply-reload" (nothing changed yet)
#     and inside the step after the copies ("maint-verify": applied, not
#     verified), then "maint abort": both nodes have their files back;
#   - kill -9 at "maint-verify", then "maint resume" completes;
#   - a node whose data directory is not configured is refused, naming it.
source "$(dirname "$0")/lib.sh"

pg_primary p
pg_standby s p
dd repo-create >/dev/null 2>&1 || { note "repo-create failed"; exit 1; }

cat >"$T/new_hba.conf" <<'HBA'
# drydock reload-only test
local   all              all                       trust
host    all              reload_marker    127.0.0.1/32 reject
host    all              all              127.0.0.1/32 trust
host    replication      all              127.0.0.1/32 trust
HBA
cat >"$T/maint.conf" <<CONF
[maintenance]
title = More memory for sorts, a new pg_hba.conf

[change]
set = work_mem = 12MB
set = log_min_duration_statement = 250ms
file = pg_hba.conf = $T/new_hba.conf
CONF
chown postgres "$T/new_hba.conf" "$T/maint.conf"
STATE=$REPO-state

setting() { psql_q "$1" "select current_setting('work_mem') || '|' || current_setting('log_min_duration_statement')"; }
marker() { psql_q "$1" "select count(*) from pg_hba_file_rules where 'reload_marker' = any(user_name)"; }
hba_p=$(md5sum <"${PG_DATA[p]}/pg_hba.conf")
hba_s=$(md5sum <"${PG_DATA[s]}/pg_hba.conf")
auto_p=$(md5sum <"${PG_DATA[p]}/postgresql.auto.conf")
auto_s=$(md5sum <"${PG_DATA[s]}/postgresql.auto.conf")
before_p=$(setting p)
before_s=$(setting s)

as_before() { # NAME: both nodes as they were
    check_eq "$1: the primary's settings are back" "$before_p" "$(setting p)"
    check_eq "$1: the standby's settings are back" "$before_s" "$(setting s)"
    check_eq "$1: the primary's pg_hba.conf is back" "$hba_p" "$(md5sum <"${PG_DATA[p]}/pg_hba.conf")"
    check_eq "$1: the standby's pg_hba.conf is back" "$hba_s" "$(md5sum <"${PG_DATA[s]}/pg_hba.conf")"
    check_eq "$1: the primary's postgresql.auto.conf is back" "$auto_p" "$(md5sum <"${PG_DATA[p]}/postgresql.auto.conf")"
    check_eq "$1: the standby's postgresql.auto.conf is back" "$auto_s" "$(md5sum <"${PG_DATA[s]}/postgresql.auto.conf")"
    check_eq "$1: the primary reads its old pg_hba.conf" 0 "$(marker p)"
    check "$1: no copy is left" test -z "$(ls -d "$STATE"/maint-*-before 2>/dev/null)"
}
RUNNERS="^$DRYDOCK --config $CONF maint (run|resume)"
# killed_at VERB POINT: maint VERB stopped at POINT, killed -9.
killed_at() {
    local args=(maint "$1")
    [ "$1" = run ] && args+=("$T/maint.conf")
    rm -f "$T/err" # not an earlier run's "pausing at" line
    DRYDOCK_TEST_PAUSE_AT=$2 runuser -u postgres -- "$DRYDOCK" --config "$CONF" "${args[@]}" \
        >"$T/out" 2>"$T/err" &
    local runner=$!
    PIDS+=("$runner")
    wait_for "maint $1 at $2" 60 grep -q "pausing at $2" "$T/err" || { sed 's/^/# /' "$T/err"; return 1; }
    pkill -9 -f "$RUNNERS"
    wait "$runner" 2>/dev/null
    ! pgrep -f "$RUNNERS" >/dev/null
}

# --- killed before and after the changes, then aborted --------------------------
for point in maint-apply-reload maint-verify; do
    check "$point: maint run killed -9 there" killed_at run "$point"
    check_eq "$point: maint status: running" running "$(dd maint status --json | jq -r .maintenance.state)"
    if [ "$point" = maint-verify ]; then
        check_eq "$point: the change was made on the primary" "12MB|250ms" "$(setting p)"
        check "$point: the journal knows the copies" \
            grep -q "$STATE/maint-.*-before" <(dd maint status --json | jq -r '.maintenance.created[].what')
    fi
    check "$point: maint abort" dd maint abort
    as_before "$point"
done

# --- killed at verify, then resumed ---------------------------------------------
check "killed -9 at maint-verify" killed_at run maint-verify
dd maint resume --json >"$T/resume.json" 2>"$T/resume.err"
rc=$?
check_eq "maint resume completes" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/resume.err"
check_eq "JSON: outcome completed, no hold" "completed null" "$(jq -r '"\(.outcome) \(.hold_ms)"' "$T/resume.json")"
check_eq "JSON: apply-reload and verify succeeded" "apply-reload verify" \
    "$(jq -r '[.steps[] | select(.enabled and .ok) | .name] | join(" ")' "$T/resume.json")" ||
    note "$(jq -c '[.steps[] | select(.enabled)]' "$T/resume.json")"
check_eq "the primary has the settings" "12MB|250ms" "$(setting p)"
check_eq "the standby has the settings" "12MB|250ms" "$(setting s)"
check_eq "the primary reads the new pg_hba.conf" 1 "$(marker p)"
check_eq "the standby reads the new pg_hba.conf" 1 "$(marker s)"
check_eq "nothing was restarted: the primary is still the primary" f "$(psql_q p 'select pg_is_in_recovery()')"
check_eq "the standby still streams" streaming "$(psql_q p 'select state from pg_stat_replication')"
check_eq "maint status: completed" completed "$(dd maint status --json | jq -r .maintenance.state)"

# --- a plain run, back to the old values ----------------------------------------
cp "$T/maint.conf" "$T/back.conf"
sed -i 's/^set = work_mem = .*/set = work_mem = 4MB/; s/^set = log_min_duration_statement = .*/set = log_min_duration_statement = -1/; /^file = /d' "$T/back.conf"
chown postgres "$T/back.conf"
check "maint finish" dd maint finish
dd maint run "$T/back.conf" >"$T/back.out" 2>"$T/back.err"
rc=$?
check_eq "a reload-only maint run completes" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/back.err"
check "it prints its steps" grep -q "^apply-reload .*done" "$T/back.out"
check_eq "the settings are the new ones on both nodes" "4MB|-1 4MB|-1" "$(setting p) $(setting s)"

# --- a node without its data directory ------------------------------------------
check "maint finish" dd maint finish
sed -i '/^standby-data/d' "$CONF"
check_error "a standby without its data directory is refused" 3 \
    'a reload-only maintenance needs the standby.s data directory: \[cluster\] standby-data is not set.*HINT' \
    dd maint run "$T/maint.conf"
check "and the abort after it changes nothing" dd maint abort
check_eq "the settings stay as they were" "4MB|-1" "$(setting p)"

finish
