#!/bin/bash
# maint_status.sh - the maintenance posts its own lifecycle to the status page.
# One primary + standby (pgbench scale 1), pgbench writing through drydock
# proxy, a [status] section and "drydock status serve" running; the page is
# read through /api/v2/*.json with jq.
#
#   1. Ctrl-C (SIGINT) while maint run is paused at a test point: the run
#      undoes itself and posts an Update ("stopped") then Completed.
#   2. kill -9 at a test point, then "maint abort" (another process): it
#      posts to the same maintenance (the journal links them).
#   3. "maint plan" posts Scheduled with the window, the predicted duration
#      and its range; "maint run" takes that maintenance over: In progress
#      (components under maintenance), a step held at a test point past its
#      predicted high bound posts an Update with a new ETA, Verifying after
#      the switch, Completed at the end (components operational again).
# Every text is read: written for the people affected, no LSN, no step name.
source "$(dirname "$0")/lib.sh"

pg_primary p
pg_standby s p
dd repo-create >/dev/null 2>&1 || { note "repo-create failed"; exit 1; }
backup_pgbench p -i -s 1 -q >/dev/null 2>&1
switchover_proxy_start

SPORT=$(free_port)
URL=http://127.0.0.1:$SPORT
openssl rand -hex 24 >"$T/token"
chown postgres "$T/token"
chmod 600 "$T/token"
write_config "${PROXY_INI[@]}" "[status]" "listen = 127.0.0.1:$SPORT" "store = $T/status.db" \
    "token-file = $T/token" "title = Acme status" "time-zone = Europe/Paris" \
    "components = Database, Application"
dd backup >/dev/null 2>&1 || { note "backup failed"; exit 1; }
dd status serve 2>"$T/serve.log" &
PIDS+=($!)
wait_for "status page up" 20 curl -sf "$URL/api/v2/status.json" || { cat "$T/serve.log"; exit 1; }

TITLE="More shared buffers"
new_maint_file() { # fresh green port each time: others' tests share the host
    GPORT=$(free_port)
    register_cluster green "$T/green" "$GPORT"
    cat >"$T/maint.conf" <<CONF
[maintenance]
title = $TITLE
description = Orders placed during the switch may take a second longer.
window-start = $(date -u '+%Y-%m-%d %H:%M') UTC
window-length = 2h
pause-timeout = 10

[green]
data = $T/green
port = $GPORT

[change]
set = shared_buffers = 96MB
CONF
    chown postgres "$T/maint.conf"
}
load() { # NAME SECONDS: pgbench -c 4 through the proxy, in the background
    as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$LPORT" -U postgres -n -c 4 -j 2 -R 200 -T "$2" \
        postgres >"$T/$1.out" 2>&1 &
    BENCH_PID=$!
    PIDS+=("$BENCH_PID")
}
maints() { curl -sf "$URL/api/v2/scheduled-maintenances.json"; }
# m JQ: the jq filter applied to the newest maintenance.
m() { maints | jq -r ".scheduled_maintenances | max_by(.id) | $1"; }
# updates of the newest maintenance, oldest first: "status<TAB>body" lines
updates() { m '.incident_updates | reverse | .[] | "\(.status)\t\(.body | gsub("\n+"; " "))"'; }
comps() { curl -sf "$URL/api/v2/components.json" | jq -r '[.components[].status] | unique | join(",")'; }
# runner POINT [RESUME]: maint run in the background, paused at test point POINT.
runner() {
    DRYDOCK_TEST_PAUSE_AT=$1 DRYDOCK_TEST_RESUME_FILE=${2:-} runuser -u postgres -- \
        "$DRYDOCK" --config "$CONF" maint run "$T/maint.conf" >"$T/run.out" 2>"$T/run.err" &
    RUNNER=$!
    PIDS+=("$RUNNER")
    wait_for "maint run at $1" 120 grep -q "pausing at $1" "$T/run.err" || { sed 's/^/# /' "$T/run.err"; return 1; }
    RUN_PID=$(pgrep -f "^$DRYDOCK --config $CONF maint run")
}
# Texts for the people affected: no LSN, no step or server words.
plain() { ! updates | grep -qiE '[0-9A-F]+/[0-9A-F]{2,}|lsn|wal|pg_|standby|primary|first-backup|preflight|testpoint'; }

# --- 1: Ctrl-C ----------------------------------------------------------------------
new_maint_file
load sigint 30
check "run 1 reaches maint-backup" runner maint-backup "$T/resume1"
check_eq "run 1: in progress on the page" in_progress "$(m .status)"
check_eq "run 1: titled from the maintenance file" "$TITLE" "$(m .name)"
check_eq "run 1: both components under maintenance" under_maintenance "$(comps)"
kill -INT "$RUN_PID"
touch "$T/resume1"
wait "$RUNNER"
check_eq "run 1: Ctrl-C ends maint run with exit 1" 1 "$?"
check "run 1: it says it undid everything" grep -q 'interrupted: every step done was undone' "$T/run.err"
check_eq "run 1: the page says completed" completed "$(m .status)"
check_eq "run 1: updates In progress, Update (stopping), Completed (nothing changed)" \
    "scheduled in_progress in_progress completed" "$(updates | cut -f1 | xargs)"
check "run 1: the Update says it was stopped" grep -q 'We have stopped the maintenance' <(updates | sed -n 3p)
check "run 1: Completed says nothing changed" grep -q 'nothing has changed' <(updates | sed -n 4p)
check_eq "run 1: components operational again" operational "$(comps)"
check "run 1: plain texts" plain
RUN1=$(m .id)

# --- 2: kill -9, then maint abort from another process -----------------------------------
new_maint_file
check "run 2 reaches maint-restore" runner maint-restore
kill -9 "$RUN_PID"
wait "$RUNNER" 2>/dev/null
check "run 2: a new maintenance on the page" test "$(m .id)" -gt "$RUN1"
check_eq "run 2: in progress after the kill" in_progress "$(m .status)"
check "maint abort" dd maint abort
check_eq "run 2: maint abort posted to the same maintenance" \
    "scheduled in_progress in_progress completed" "$(updates | cut -f1 | xargs)"
check "run 2: the abort's Update" grep -q 'putting everything back as it was' <(updates | sed -n 3p)
check_eq "run 2: components operational again" operational "$(comps)"
wait "$BENCH_PID"
check_eq "runs 1-2: pgbench exits 0" 0 "$?"
check_eq "runs 1-2: no failed transaction" 0 "$(failed_tx sigint)"
RUN2=$(m .id)

# --- 3: maint plan, then a run with a late step, to the end -------------------------------
new_maint_file
dd maint plan --json "$T/maint.conf" >"$T/plan.json" 2>"$T/plan.err"
check_eq "maint plan exits 0" 0 "$?"
check "maint plan says it posted" grep -qE '^status page: maintenance [0-9]+ is scheduled$' "$T/plan.err"
check "maint plan --json stays JSON" jq -e .steps "$T/plan.json"
check "run 3: a new maintenance" test "$(m .id)" -gt "$RUN2"
PLANNED=$(m .id)
check_eq "run 3: scheduled" scheduled "$(m .status)"
dd maint plan "$T/maint.conf" >/dev/null 2>&1
check_eq "planning again posts nothing new" "$PLANNED" "$(m .id)"
dur() { # as the page words a duration (status/tz.c)
    local s
    s=$(printf '%.0f' "$1")
    if [ "$s" -lt 60 ]; then echo "$s s"; elif [ "$s" -lt 3600 ]; then echo "$(((s + 30) / 60)) min"
    else echo "$(((s + 30) / 3600)) h"; fi
}
start=$(sed -n 's/^window-start = \(.*\) UTC$/\1/p' "$T/maint.conf")
when() { LC_ALL=C TZ=Europe/Paris date -d "$1" '+%a %d %b %Y, %H:%M %Z'; }
sched=$(updates | sed -n 1p | cut -f2)
note "Scheduled: $sched"
check "Scheduled names the window's start, in the page's zone" grep -qF "between $(when "$start UTC")" <<<"$sched"
check "Scheduled names the window's end" grep -qF "and $(when "$start UTC + 2 hours")." <<<"$sched"
check "Scheduled names the predicted duration" grep -qF "about $(dur "$(jq .predicted_s "$T/plan.json")")" <<<"$sched"
check "Scheduled ends with the file's description" grep -qF 'so here. Orders placed during the switch may take a second longer.' <<<"$sched"
check "Scheduled names the range" grep -qF "(between $(dur "$(jq .low_s "$T/plan.json")") and $(dur "$(jq .high_s "$T/plan.json")"))" <<<"$sched"
check_eq "the window is the file's" "$(date -u -d "$start UTC" +%Y-%m-%dT%H:%M:%SZ)" "$(m .scheduled_for)"
check_eq "components operational while only scheduled" operational "$(comps)"

# The step to make late: the shortest-predicted one before the switch.
LATE=$(jq -r '[.steps[] | select(.enabled and .name != "switchover" and .name != "old-primary" and .name != "first-backup")] | min_by(.high_s) | .name' "$T/plan.json")
HIGH=$(jq -r --arg s "$LATE" '.steps[] | select(.name == $s) | .high_s' "$T/plan.json")
# Held long enough that the whole run's end moves past the range announced
# (a step a little late in a run on time posts nothing: run 2 has those).
HOLD=$(jq -r --argjson h "$HIGH" '[$h, .high_s - .predicted_s] | max + 8 | ceil' "$T/plan.json")
note "holding step $LATE (high bound $HIGH s) for $HOLD s"
load run3 $((HOLD + 40))
check "run 3 reaches maint-$LATE" runner "maint-$LATE" "$T/resume3"
check_eq "run 3: the planned maintenance is in progress" "$PLANNED in_progress" "$(m '"\(.id) \(.status)"')"
check_eq "run 3: components under maintenance" under_maintenance "$(comps)"
sleep "$HOLD"
touch "$T/resume3"
wait "$RUNNER"
rc=$?
check_eq "run 3: maint run completes" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/# /' "$T/run.err"
check "run 3: maint run says the step was late" grep -qE "^$LATE +done .*later than predicted" "$T/run.out"
updates | sed 's/^/# /'
check_eq "run 3: Scheduled, In progress, Update (late), Verifying, Completed" \
    "scheduled in_progress in_progress verifying completed" "$(updates | cut -f1 | xargs)"
late=$(updates | sed -n 3p | cut -f2)
check "the late Update says so" grep -q 'taking longer than we predicted' <<<"$late"
eta=$(sed -n 's/.*done by \(.*\)\. The service.*/\1/p' <<<"$late")
check "the late Update names a new ETA in the page's zone (${eta:-none})" grep -qE '^[A-Z][a-z]{2} [0-9]{2} [A-Z][a-z]{2} 20[0-9]{2}, [0-9]{2}:[0-9]{2} CES?T$' <<<"$eta"
check "Verifying asks for patience with slow requests" grep -q 'slower requests' <(updates | sed -n 4p)
check "Completed says all is well" grep -q 'everything works normally' <(updates | sed -n 5p)
check_eq "run 3: components operational again" operational "$(comps)"
check_eq "the journal links the run to the page" "$PLANNED" \
    "$(sqlite3 "$(dirname "$(find "$T" -name journal.db | head -1)")/journal.db" 'select status_id from runs order by id desc limit 1')"
check "run 3: plain texts" plain
check_eq "active.json is empty after" 0 "$(curl -sf "$URL/api/v2/scheduled-maintenances/active.json" | jq '.scheduled_maintenances | length')"
wait "$BENCH_PID"
check_eq "run 3: pgbench exits 0" 0 "$?"
check_eq "run 3: no failed transaction" 0 "$(failed_tx run3)"
check_eq "the new primary serves" f "$(psql_q green 'select pg_is_in_recovery()')"

# --- the postmortem draft, from the journal of the run that posted it --------------------
dd status postmortem "$PLANNED" >"$T/pm.md" 2>"$T/pm.err"
check_eq "status postmortem exits 0" 0 "$?"
check "the draft is written from the journal" grep -q 'and the maintenance journal' "$T/pm.md"
check "it lists what drydock did, step by step" grep -qE "^\| .* \| $LATE \| do \| done \|" "$T/pm.md"
check "it names the step that ran late" grep -qE "^- $LATE: .*predicted at most" "$T/pm.md"
check "it gives the client hold" grep -qE '^Clients were held for [0-9.]+ s during the switch' "$T/pm.md"
check "it has the page's timeline" grep -q 'taking longer than we predicted' "$T/pm.md"
check "the aborted run's draft names its outcome" grep -q 'outcome "aborted"' <(dd status postmortem "$RUN2")
check "the interrupted run's draft says what failed" grep -q 'interrupted during backup' <(dd status postmortem "$RUN1")

finish
