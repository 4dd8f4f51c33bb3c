#!/bin/bash
# wal_backlog.sh - [repository] archive-queue-max (issue 13): with the
# repository unreachable, wal-push fails and PostgreSQL keeps the WAL, until
# more than archive-queue-max waits; then segments are dropped (reported
# archived, with a warning), so pg_wal stops growing; check says so loudly.
source "$(dirname "$0")/lib.sh"

eval "$(declare -f write_config | sed '1s/write_config/lib_write_config/')"
write_config() { lib_write_config "$@" "[repository]" "archive-queue-max = 40"; }

pg_primary p
check "repo-create" dd repo-create
check "check warns about what archive-queue-max trades away" bash -c \
    "runuser -u postgres -- '$DRYDOCK' --config '$CONF' check --timeout 30 2>&1 | grep -q 'archive-queue-max = 40 MiB: if the repository is unreachable'"

chmod 000 "$REPO" # unreachable
for i in 1 2 3 4 5 6; do
    psql_q p "create table t$i as select g from generate_series(1, 10) g; select pg_switch_wal()" >/dev/null
    sleep 1.5
done
check "the archiver failed while the backlog was small" test "$(psql_q p 'select failed_count from pg_stat_archiver')" -gt 0
check "segments were dropped once more than 40 MiB waited" wait_for "a drop" 90 test -s "${PG_DATA[p]}/pg_wal/drydock-dropped"
check "the backlog stays bounded" wait_for "pg_wal drained" 90 bash -c \
    "test \$(ls '${PG_DATA[p]}/pg_wal/archive_status' | grep -c ready) -le 3"
chmod 750 "$REPO"

err=$T/check.err
runuser -u postgres -- "$DRYDOCK" --config "$CONF" check --timeout 60 >/dev/null 2>"$err"
check_eq "check passes once the repository is back" 0 "$?"
check "and reports the dropped WAL loudly" grep -q "WAL WAS DROPPED: [0-9]* segment(s) were never archived" "$err"

finish
