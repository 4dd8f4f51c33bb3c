#!/bin/bash
# kill -9 of a backup at known moments (DRYDOCK_TEST_PAUSE_AT holds it there):
# after each, verify passes, no backup was recorded, and the next backup
# succeeds. Then expire collects what the killed backups left.
source "$(dirname "$0")/lib.sh"

pg_primary p
dd repo-create >/dev/null 2>&1
pg_standby s p
backup_pgbench p -i -s 4 -q >"$T/init.log" 2>&1
backup_pgbench p -c 2 -j 1 -T 600 -R 5 -n >"$T/load.log" 2>&1 &
PIDS+=($!)
check "a first backup" dd backup

# backup_kill_at POINT [FROM]: start a backup held at POINT, kill -9 it there.
backup_kill_at() {
    local point=$1 err=$T/kill-$1.err pid
    DRYDOCK_TEST_PAUSE_AT=$point runuser -u postgres -- "$DRYDOCK" --config "$CONF" backup ${2:+--from $2} \
        >/dev/null 2>"$err" &
    local runner=$!
    if ! wait_for "backup paused at $point" 60 grep -q "pausing at $point" "$err"; then
        cat "$err"
        kill -9 "$runner" 2>/dev/null
        return 1
    fi
    pid=$(pgrep -f "^$DRYDOCK --config $CONF backup")
    kill -9 $pid
    wait "$runner" 2>/dev/null
    return 0
}

n0=$(ls "$REPO/backups" | wc -l)
for point in started copy wal-wait manifest; do
    check "backup held and killed at $point" backup_kill_at "$point"
    check_eq "no backup recorded by the kill at $point" "$n0" "$(ls "$REPO/backups" | wc -l)"
    check "verify passes after the kill at $point" dd verify
    check "the next backup succeeds after the kill at $point" dd backup
    n0=$((n0 + 1))
done

# A kill at an arbitrary instant of a primary backup.
runuser -u postgres -- "$DRYDOCK" --config "$CONF" backup --from primary >/dev/null 2>&1 &
runner=$!
sleep 0.3
kill -9 $(pgrep -f "^$DRYDOCK --config $CONF backup") 2>/dev/null
wait "$runner" 2>/dev/null
check "verify passes after a kill at an arbitrary instant" dd verify
check "the next backup from the primary succeeds" dd backup --from primary

# Whether a kill lands while a pack is half written depends on timing, so
# one dead writer's file is planted too (a reaped pid), beside a live one's.
sh -c 'exit 0' &
dead=$!
wait "$dead"
sleep 60 &
alive=$!
PIDS+=("$alive")
as_pg touch "$REPO/packs/planted.pack.dd-tmp.$dead.0" "$REPO/packs/planted.pack.dd-tmp.$alive.0"
check "expire --keep-backups 2 after the kills" dd expire --keep-backups 2
check_eq "expire removed the temporary files of dead writers, and only those" \
    "$REPO/packs/planted.pack.dd-tmp.$alive.0" "$(find "$REPO" -name '*.dd-tmp.*')"
rm -f "$REPO/packs/planted.pack.dd-tmp.$alive.0"
check "verify passes after expire" dd verify
check_eq "two backups left" 2 "$(ls "$REPO/backups" | wc -l)"

# Garbage for expire to collect: a table of random text in one backup only.
psql_q p "create table junk as select md5(random()::text) || md5(random()::text) as t from generate_series(1, 60000)"
psql_q p "checkpoint" >/dev/null
dd backup --from primary >/dev/null 2>&1
psql_q p "drop table junk"
psql_q p "checkpoint" >/dev/null
dd backup --from primary >/dev/null 2>&1

# expire_kill_at POINT: expire --keep-backups 1 held at POINT, killed there.
expire_kill_at() {
    local point=$1 err=$T/expire-$1.err
    DRYDOCK_TEST_PAUSE_AT=$point runuser -u postgres -- "$DRYDOCK" --config "$CONF" expire --keep-backups 1 \
        >/dev/null 2>"$err" &
    local runner=$!
    if ! wait_for "expire paused at $point" 60 grep -q "pausing at $point" "$err"; then
        cat "$err"
        kill -9 "$runner" 2>/dev/null
        return 1
    fi
    kill -9 $(pgrep -f "^$DRYDOCK --config $CONF expire")
    wait "$runner" 2>/dev/null
    return 0
}
for point in expire-manifests gc-copied gc-removing; do
    check "expire held and killed at $point" expire_kill_at "$point"
    check "verify passes after expire was killed at $point" dd verify
done
check "expire completes after the kills" dd expire --keep-backups 1
check "verify passes after it" dd verify
check "a backup after it succeeds" dd backup
check "verify passes at the end" dd verify
finish
