#!/bin/bash
# maint_plan.sh - "drydock maint plan" against a real primary, its streaming
# standby, the repository and the archive: the reload-only short plan, the
# full plan and its JSON contract, and every lint finding, each triggered by
# setting up its condition (and undone after), with exit 12 where the plan
# must be refused.
source "$(dirname "$0")/lib.sh"

pg_primary p
# Logical slots and prepared transactions need these on the primary (and so
# on the standby, which copies them: a hot standby needs them at least as high).
cat >>"${PG_DATA[p]}/postgresql.conf" <<CONF
wal_level = logical
max_prepared_transactions = 10
CONF
pg_stop p && pg_start p
pg_standby s p
dd repo-create >/dev/null 2>&1 || { fail "repo-create"; finish; exit 1; }
as_pg "$PGBIN/pgbench" -h "$T" -p "${PG_PORT[p]}" -U postgres -i -s 10 -q postgres >/dev/null 2>&1

GREEN_PORT=$(free_port)
GREEN_SPORT=$(free_port)
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n' >"$T/new_hba.conf"
echo "create table after_switch (id int)" >"$T/after.sql"
chmod 644 "$T/new_hba.conf" "$T/after.sql"

# mfile NAME [extra [maintenance] lines...]: a maintenance file $T/NAME.ini
# with the [change] lines in $CHANGES and the [green] lines in $GREEN.
GREEN_DEFAULT="data = $T/green
port = $GREEN_PORT
standby-data = $T/green-standby
standby-port = $GREEN_SPORT"
mfile() {
    local name=$1; shift
    {
        echo "[maintenance]"
        echo "title = test $name"
        printf '%s\n' "$@"
        if [ -n "${GREEN-$GREEN_DEFAULT}" ]; then
            echo "[green]"
            echo "${GREEN-$GREEN_DEFAULT}"
        fi
        echo "[change]"
        echo "$CHANGES"
    } >"$T/$name.ini"
    chmod 644 "$T/$name.ini"
    echo "$T/$name.ini"
}

# plan NAME: run "maint plan --json" on $T/NAME.ini; PLAN_RC, and the JSON in $T/NAME.json.
plan() {
    dd maint plan "$T/$1.ini" --json >"$T/$1.json" 2>"$T/$1.err"
    PLAN_RC=$?
}
# finding NAME CODE: the severity of finding CODE in plan NAME ("" when absent).
finding() { jq -r --arg c "$2" '[.findings[] | select(.code == $c) | .severity] | sort | first // ""' "$T/$1.json"; }
jq_true() { jq -e "$@" >/dev/null; }
codes() { jq -r '[.findings[].code] | join(",")' "$T/$1.json"; }
# expect_finding DESC NAME CODE SEVERITY
expect_finding() {
    local got
    got=$(finding "$2" "$3")
    if [ "$got" = "$4" ]; then pass "$1"; else fail "$1 ($3: expected '$4', got '$got'; findings: $(codes "$2"))"; fi
}

FULL_CHANGES="set = shared_buffers = 256MB
set = max_connections = 200
file = pg_hba.conf = $T/new_hba.conf
data-checksums = disable
sql-after = $T/after.sql"

# --- the reload-only short plan ----------------------------------------------
CHANGES="set = work_mem = 8MB
file = pg_hba.conf = $T/new_hba.conf"
GREEN="" mfile reload >/dev/null
plan reload
check_eq "a reload-only plan exits 0" 0 "$PLAN_RC"
check_eq "it says reload_only" true "$(jq -r .reload_only "$T/reload.json")"
check_eq "its steps are apply-reload and verify" "apply-reload,verify" \
    "$(jq -r '[.steps[] | select(.enabled) | .name] | join(",")' "$T/reload.json")"
check_eq "both changes are reload-kind" "reload,reload" "$(jq -r '[.changes[].kind] | join(",")' "$T/reload.json")"
dd maint plan "$T/reload.ini" >"$T/reload.txt" 2>&1
check "the text plan offers the short plan" grep -q "reload-only: no new cluster is needed" "$T/reload.txt"

# --- the full plan, no backup yet ---------------------------------------------
CHANGES=$FULL_CHANGES
mfile full >/dev/null
plan full
check_eq "the full plan without a backup exits 0 (warnings only)" 0 "$PLAN_RC"
check_eq "JSON: the steps in PlanStepId order" \
    "preflight,apply-reload,backup,restore,offline,start,standby,verify,switchover,sql-after,old-primary,first-backup" \
    "$(jq -r '[.steps[].name] | join(",")' "$T/full.json")"
check_eq "JSON: the enabled steps" \
    "preflight,backup,restore,offline,start,standby,verify,switchover,sql-after,old-primary,first-backup" \
    "$(jq -r '[.steps[] | select(.enabled) | .name] | join(",")' "$T/full.json")"
check_eq "JSON: every enabled step has a prediction, a range and a basis" 0 \
    "$(jq '[.steps[] | select(.enabled) | select((.predicted_s > 0 and .low_s <= .predicted_s and .high_s >= .predicted_s and (.basis | length) > 0 and (.low_confidence | type) == "boolean") | not)] | length' "$T/full.json")"
check_eq "JSON: the total is the sum of the enabled steps" true \
    "$(jq '(([.steps[] | select(.enabled) | .predicted_s] | add) - .predicted_s | fabs) < 0.01' "$T/full.json")"
check_eq "JSON: a predicted hold and a rollback with its mechanism" true \
    "$(jq '.predicted_hold_ms > 0 and (.rollback.mechanism | length) > 0 and .rollback.predicted_s > 0' "$T/full.json")"
check_eq "JSON: the kinds of the changes" "restart,restart,reload,offline,post-switch" \
    "$(jq -r '[.changes[].kind] | join(",")' "$T/full.json")"
check_eq "JSON: every change has a type, name, value and reason" 0 \
    "$(jq '[.changes[] | select((.type and .name and .value and .reason) | not)] | length' "$T/full.json")"
check_eq "JSON: every finding has severity, code, message and hint" 0 \
    "$(jq '[.findings[] | select(((.severity == "error" or .severity == "warning") and (.code | length) > 0 and (.message | length) > 0 and (.hint | length) > 0) | not)] | length' "$T/full.json")"
check "pg_hba.conf rides along on the new cluster" \
    jq_true '.changes[2].reason | test("applied on the new cluster")' "$T/full.json"
expect_finding "no backup yet: warned, with how long the backup would take" full no-backup warning
check "the no-backup message says how long" jq_true '.findings[] | select(.code == "no-backup") | .message | test("about .* up to")' "$T/full.json"
expect_finding "checksums changed: the old primary cannot be rewound" full checksums-no-rewind warning
expect_finding "max_connections raised: the old primary keeps it after a rollback" full rollback-keeps-minimum warning
check "the checksums finding says what rollback does" jq_true '.findings[] | select(.code == "checksums-no-rewind") | .hint | test("rebuilds")' "$T/full.json"
dd maint plan "$T/full.ini" >"$T/full.txt" 2>&1
sed 's/^/# /' "$T/full.txt"
check "the text plan shows each step with its basis" grep -qE '^ +[0-9]+\. restore ' "$T/full.txt"
check "the text plan shows the total and the hold" grep -q "clients held at the switch" "$T/full.txt"
check "the text plan shows the rollback" grep -q "^rollback: " "$T/full.txt"

check "a backup from the standby" dd backup --quiet
plan full
expect_finding "after a backup: no no-backup finding" full no-backup ""
expect_finding "after a backup: no full-backup finding" full full-backup ""
# The next backup can follow the WAL: predicted from the changes since the last backup, not
# the cluster; while no guided backup has been measured, at the full read's rate.
check "after a backup: the next one is predicted as guided, by the changes since it" jq_true \
    '.steps[] | select(.name == "backup") | (.basis | test("^guided \\(no guided backup measured yet\\): the changed pages, at most: .* rate measured by the backup")) and .low_confidence' "$T/full.json"
dd maint plan "$T/full.ini" >"$T/full.txt" 2>&1
check "the text plan says the next backup follows the WAL" grep -q "next backup follows the WAL since the last backup (guided)" "$T/full.txt"

# --- the next backup would store the whole cluster --------------------------------
as_pg "$PGBIN/pgbench" -h "$T" -p "${PG_PORT[p]}" -U postgres -i -s 10 -q postgres >/dev/null 2>&1
plan full
expect_finding "much WAL since the backup: full-backup" full full-backup warning
check "a second backup" dd backup --quiet
plan full
check "after a guided backup: the next is predicted from its measured rate" jq_true \
    '.steps[] | select(.name == "backup") | (.basis | test("^guided: .* of WAL since the last backup at .* rate measured by the backup [0-9T]+Z")) and (.low_confidence | not)' "$T/full.json"

# --- impossible changes -------------------------------------------------------
CHANGES="set = max_connections = 50"
mfile lower >/dev/null
plan lower
check_eq "lowering max_connections: exit 12" 12 "$PLAN_RC"
expect_finding "lowering max_connections: hot-standby-minimum" lower hot-standby-minimum error
check_eq "the change is impossible" impossible "$(jq -r '.changes[0].kind' "$T/lower.json")"
check_error "the refusal is one line on stderr" 12 'drydock maint: ERROR: the plan of .*lower.ini" has 1 error finding\(s\): refused\. HINT: ' \
    dd maint plan "$T/lower.ini"

CHANGES="set = shared_bufers = 256MB"
mfile unknown >/dev/null
plan unknown
check_eq "an unknown setting: exit 12" 12 "$PLAN_RC"
expect_finding "an unknown setting: unknown-setting" unknown unknown-setting error
check "it suggests the right name" jq_true '.findings[0].hint | test("shared_buffers")' "$T/unknown.json"

CHANGES="set = shared_buffers = 256ms
set = wal_level = archive"
mfile invalid >/dev/null
plan invalid
check_eq "values the server would refuse: exit 12" 12 "$PLAN_RC"
check_eq "both are invalid-value" "invalid-value,invalid-value" \
    "$(jq -r '[.findings[] | select(.severity == "error") | .code] | join(",")' "$T/invalid.json")"

CHANGES="set = work_mem = 4MB
set = shared_buffers = 256MB"
mfile noop >/dev/null
plan noop
expect_finding "a value the primary already has: change-no-op" noop change-no-op warning

psql_q p "alter system set max_wal_senders = 12" && psql_q p "select pg_reload_conf()" >/dev/null
wait_for "pending_restart" 10 sql_is p t "select pending_restart from pg_settings where name = 'max_wal_senders'"
plan noop
expect_finding "a restart pending on the primary: pending-restart" noop pending-restart warning
psql_q p "alter system reset max_wal_senders" && psql_q p "select pg_reload_conf()" >/dev/null

# --- the green directories ------------------------------------------------------
CHANGES="set = shared_buffers = 256MB"
GREEN="data = ${PG_DATA[p]}
port = ${PG_PORT[s]}" mfile live >/dev/null
plan live
check_eq "green on the live primary's directory: exit 12" 12 "$PLAN_RC"
check_eq "green-is-live, for the directory and the port" 2 \
    "$(jq '[.findings[] | select(.code == "green-is-live" and .severity == "error")] | length' "$T/live.json")"
expect_finding "the live directory is not empty: green-not-empty" live green-not-empty error

BUSY_PORT=$(free_port)
python3 -c "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', $BUSY_PORT)); s.listen(); time.sleep(120)" &
PIDS+=($!)
wait_for "the busy port" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$BUSY_PORT"
GREEN="data = $T/green
port = $BUSY_PORT" mfile busy >/dev/null
plan busy
expect_finding "a [green] port in use: green-port-in-use" busy green-port-in-use error
kill "${PIDS[-1]}"

GREEN="" mfile nogreen >/dev/null
plan nogreen
check_eq "a restart change without [green]: exit 12" 12 "$PLAN_RC"
expect_finding "green-missing" nogreen green-missing error

as_pg mkdir -p "$T/green" && as_pg touch "$T/green/leftover"
mfile full >/dev/null
plan full
expect_finding "a leftover file in [green] data: green-not-empty" full green-not-empty error
check_eq "it refuses the plan" 12 "$PLAN_RC"
rm -rf "$T/green"

if backup_small_fs "$T/small" 4m; then
    GREEN="data = $T/small/green
port = $GREEN_PORT" mfile small >/dev/null
    plan small
    expect_finding "a filesystem without room for the cluster: green-no-room" small green-no-room error
else
    echo "ok - green-no-room # SKIP mounting a tmpfs is not allowed here"
fi

# --- the standby ------------------------------------------------------------------
pg_stop s
plan full
expect_finding "the standby down: standby-down" full standby-down error
check_eq "it refuses the plan" 12 "$PLAN_RC"
pg_start s
wait_for "s streaming" 60 sql_is p 1 "select count(*) from pg_stat_replication where state = 'streaming'"

conninfo_s=$(psql_q s "show primary_conninfo")
psql_q s "alter system set primary_conninfo = ''" && psql_q s "select pg_reload_conf()" >/dev/null
wait_for "s not streaming" 30 sql_is s 0 "select count(*) from pg_stat_wal_receiver"
plan full
expect_finding "the standby not streaming: standby-not-streaming" full standby-not-streaming error
psql_q s "alter system set primary_conninfo = \$q\$$conninfo_s\$q\$" && psql_q s "select pg_reload_conf()" >/dev/null
wait_for "s streaming again" 60 sql_is s streaming "select status from pg_stat_wal_receiver"

CHANGES="set = shared_buffers = 256MB"
mfile lag "standby-lag-limit = 1MB" >/dev/null
psql_q s "select pg_wal_replay_pause()" >/dev/null
psql_q p "create table lagfill as select g, md5(g::text) from generate_series(1, 100000) g"
wait_for "the standby received the WAL" 30 sql_is s t \
    "select pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) > 2*1024*1024"
plan lag
expect_finding "replay paused, 1MB limit: standby-lag" lag standby-lag error
psql_q s "select pg_wal_replay_resume()" >/dev/null
wait_for "the standby caught up" 60 sql_is p t \
    "select coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0) < 1048576 from pg_stat_replication"
plan lag
expect_finding "caught up: no standby-lag" lag standby-lag ""
# The standby streams without a slot and has no restore_command: only what
# the primary keeps (wal_keep_size) stands between it and a wait for good.
expect_finding "no slot, no restore_command: standby-wal-source" lag standby-wal-source warning
check "it says how much the primary keeps" jq_true \
    '[.findings[] | select(.code == "standby-wal-source")][0].message | test("wal_keep_size \\([^)]+\\) behind")' "$T/lag.json"
psql_q s "alter system set restore_command = 'false'" && psql_q s "select pg_reload_conf()" >/dev/null
wait_for "the standby's restore_command" 30 sql_is s false "show restore_command"
plan lag
expect_finding "with a restore_command: no standby-wal-source" lag standby-wal-source ""
psql_q s "alter system reset restore_command" && psql_q s "select pg_reload_conf()" >/dev/null

# --- no standby configured: the backup would read the primary ---------------------
grep -v '^standby' "$CONF" >"$T/nostandby.conf"
chown postgres "$T/nostandby.conf"
runuser -u postgres -- "$DRYDOCK" --config "$T/nostandby.conf" maint plan "$T/full.ini" --json >"$T/nostandby.json" 2>/dev/null
check_eq "no standby configured: exit 12" 12 "$?"
expect_finding "no standby: backup-from-primary" nostandby backup-from-primary error

# --- archiving -----------------------------------------------------------------------
psql_q p "alter system set archive_command = '$DRYDOCK --config /nonexistent/drydock.conf wal-push %p'"
psql_q p "select pg_reload_conf()" >/dev/null
psql_q p "insert into lagfill values (0, 'x')" && psql_q p "select pg_switch_wal()" >/dev/null
wait_for "an archive failure" 30 sql_is p t "select failed_count > 0 from pg_stat_archiver"
plan full
expect_finding "archive_command failing: archive-failing" full archive-failing error
check_eq "it refuses the plan" 12 "$PLAN_RC"
psql_q p "alter system reset archive_command" && psql_q p "select pg_reload_conf()" >/dev/null
wait_for "archiving again" 60 sql_is p t \
    "select last_archived_time > coalesce(last_failed_time, '-infinity') from pg_stat_archiver"
plan full
expect_finding "archiving again: no archive-failing" full archive-failing ""

# A gap: three segments after the newest backup, the middle one removed.
check "a third backup" dd backup --quiet
segs=()
for i in 1 2 3; do
    psql_q p "insert into lagfill values ($i, 'x')"
    segs+=("$(psql_q p "select pg_walfile_name(pg_switch_wal())")")
done
wait_for "the last segment archived" 30 sql_is p "${segs[2]}" "select last_archived_wal from pg_stat_archiver"
gap=$(find "$REPO/wal" -name "${segs[1]}" | head -1)
check "the middle segment is in the archive" test -n "$gap"
rm -f "$gap" "$gap.sum" # the segment, and its block summary (repo/walsum.h)
plan full
expect_finding "a segment missing after the newest backup: wal-gap" full wal-gap error
check "wal-gap names the segment" jq_true --arg s "${segs[1]}" '.findings[] | select(.code == "wal-gap") | .message | contains($s)' "$T/full.json"
check "a fourth backup, past the gap" dd backup --quiet
plan full
expect_finding "the gap before the newest backup: only a warning" full wal-gap warning

# --- the primary's sessions and objects -----------------------------------------------
CHANGES="set = shared_buffers = 256MB"
mfile sessions "pause-timeout = 1" >/dev/null
# First: creating a logical slot waits for every open transaction to end.
psql_q p "select pg_create_logical_replication_slot('maint_plan_sub', 'pgoutput')" >/dev/null
as_pg "$PGBIN/psql" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -d postgres -Xq \
    -c "begin; select txid_current(); select pg_sleep(60); commit" >/dev/null 2>&1 &
PIDS+=($!)
wait_for "a transaction open 2 s" 20 sql_is p t \
    "select count(*) > 0 from pg_stat_activity where xact_start < now() - interval '2 s' and query like '%pg_sleep(60)%'"
psql_q p "begin; create table prep (id int); prepare transaction 'maint_plan_test'"
psql_q p "create database other"
as_pg "$PGBIN/psql" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -d other -XAtq -c "create unlogged table scratch (id int)"
plan sessions
expect_finding "a transaction open longer than the pause timeout: long-transaction" sessions long-transaction warning
expect_finding "a prepared transaction: prepared-transactions" sessions prepared-transactions warning
expect_finding "a logical slot: logical-slots" sessions logical-slots error
expect_finding "an unlogged table in another database: unlogged-tables" sessions unlogged-tables warning
check "unlogged-tables names the database" jq_true '.findings[] | select(.code == "unlogged-tables") | .message | test("database other")' "$T/sessions.json"
check_eq "the logical slot refuses the plan" 12 "$PLAN_RC"
psql_q p "commit prepared 'maint_plan_test'"
psql_q p "select pg_drop_replication_slot('maint_plan_sub')" >/dev/null
psql_q p "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()" >/dev/null

# --- the window -------------------------------------------------------------------
tomorrow=$(date -u -d tomorrow '+%Y-%m-%d 12:00')
mfile window "window-start = $tomorrow UTC" "window-length = 1s" >/dev/null
plan window
expect_finding "a window shorter than the plan: window-too-short" window window-too-short error
check_eq "it refuses the plan" 12 "$PLAN_RC"
mfile window "window-start = $tomorrow Europe/Paris" "window-length = 30d" >/dev/null
plan window
expect_finding "a long enough window: no window-too-short" window window-too-short ""
expect_finding "a future window: no window-past" window window-past ""
mfile window "window-start = 2020-01-01 00:00 UTC" "window-length = 30d" >/dev/null
plan window
expect_finding "a window in the past: window-past" window window-past warning

# --- a bad maintenance file: exit 3, one line ---------------------------------------
printf '[maintenance]\ntitle = t\n[change]\nset = shared_buffers\n' >"$T/bad.ini"
chmod 644 "$T/bad.ini"
check_error "a malformed file: exit 3 naming the line and key" 3 \
    "maintenance file \"$T/bad.ini\", line 4: key \"set\" in \[change\]" dd maint plan "$T/bad.ini"
check_error "no file: usage" 2 "a maintenance file is needed" dd maint plan
check "--help describes it" sh -c "runuser -u postgres -- $DRYDOCK maint plan --help | grep -q 'Exit 12'"

finish
