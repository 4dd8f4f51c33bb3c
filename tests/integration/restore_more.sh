#!/bin/bash
# restore_more.sh - delta restore, a new streaming standby with changed
# settings (--standby-of, --set, --port), tablespaces (--tablespace-map), and
# the refusals: non-empty destination, a server running in it, a tablespace
# location in use, a target outside the window, a damaged chunk.
source "$(dirname "$0")/lib.sh"

pg_primary p
dd repo-create >/dev/null 2>&1 || { fail "repo-create"; finish; exit 1; }
as_pg "$PGBIN/pgbench" -h "$T" -p "${PG_PORT[p]}" -U postgres -i -s 3 -q postgres >/dev/null 2>&1
as_pg mkdir "$T/ts1"
psql_q p "create tablespace ts1 location '$T/ts1'"
psql_q p "create table tsdata tablespace ts1 as select g as id, md5(g::text) as v from generate_series(1, 20000) g"
TS_OID=$(psql_q p "select oid from pg_tablespace where spcname = 'ts1'")
psql_q p "select pg_switch_wal()" >/dev/null
check "backup 1 from the primary" dd backup --from primary --quiet
B1=$(restore_last_backup)

# The recorded tablespace location is the primary's own: refused.
check_error "a tablespace location in use is refused" 2 "location \"$T/ts1\" of tablespace $TS_OID is not empty" \
    dd restore --dest "$T/r1" --quiet
check "the refused restore left no destination" test ! -e "$T/r1/PG_VERSION"

# A restore with the tablespace mapped elsewhere.
R1_PORT=$(free_port)
check "restore with --tablespace-map" dd restore --dest "$T/r1" --port "$R1_PORT" \
    --tablespace-map "$TS_OID=$T/ts1_r1" --quiet
check_eq "tablespace_map names the mapped location" "$TS_OID $T/ts1_r1" "$(cat "$T/r1/tablespace_map")"
if restore_start r1 "$T/r1" "$R1_PORT"; then
    check_eq "the restored tablespace is at the mapped location" "$T/ts1_r1" \
        "$(psql_q r1 "select pg_tablespace_location($TS_OID)")"
    check_eq "tablespace data restored" "$(restore_md5 p tsdata)" "$(restore_md5 r1 tsdata)"
else
    fail "r1 started"
fi

# Refusals: a running server, a non-empty destination, a target outside the window.
check_error "delta over a running server is refused" 2 "a server is running in destination directory" \
    dd restore --dest "$T/r1" --delta --tablespace-map "$TS_OID=$T/ts1_r1"
pg_stop r1
check_error "a non-empty destination is refused" 2 "destination directory \"$T/r1\" is not empty" \
    dd restore --dest "$T/r1" --tablespace-map "$TS_OID=$T/ts1_r1"
check_error "a target before the window is refused" 4 "is before the recoverable window" \
    dd restore --dest "$T/never" --target-time "2000-01-01 00:00:00+00"
check_error "an unknown tablespace in --tablespace-map is refused" 2 "not a tablespace of backup" \
    dd restore --dest "$T/never" --tablespace-map "99999=$T/x"
check_error "a destination inside the repository is refused" 2 "is inside the repository" \
    dd restore --dest "$REPO/data" --tablespace-map "$TS_OID=$T/x"

# Changes, a second backup, and a delta restore over r1.
as_pg "$PGBIN/pgbench" -h "$T" -p "${PG_PORT[p]}" -U postgres -t 40 -c 1 postgres >/dev/null 2>&1
psql_q p "update tsdata set v = 'changed' where id <= 100"
psql_q p "create table after_b1 as select 1 as x"
psql_q p "select pg_switch_wal()" >/dev/null
check "backup 2 from the primary" dd backup --from primary --quiet
B2=$(restore_last_backup)
check "the new WAL is archived" dd check --quiet
dd restore --dest "$T/r1" --delta --json --port "$R1_PORT" --quiet \
    --tablespace-map "$TS_OID=$T/ts1_r1" >"$T/delta.json"
check_eq "delta restore over r1" 0 $?
total=$(restore_json "$T/delta.json" bytes_total)
written=$(restore_json "$T/delta.json" bytes_written)
note "delta: $written of $total bytes rewritten"
check_eq "delta restored backup 2" "$B2" "$(restore_json "$T/delta.json" backup)"
check "delta rewrote less than a quarter of the bytes" test "$written" -gt 0 -a "$((written * 4))" -lt "$total"
if restore_start r1 "$T/r1" "$R1_PORT"; then
    for tbl in pgbench_accounts pgbench_history tsdata after_b1; do
        check_eq "after delta: $tbl as on the primary" "$(restore_md5 p $tbl)" "$(restore_md5 r1 $tbl)"
    done
    pg_stop r1
else
    fail "r1 started after the delta restore"
fi

# A new streaming standby of the primary with changed settings.
SB_PORT=$(free_port)
check "restore --standby-of" dd restore --dest "$T/sb" --port "$SB_PORT" --quiet \
    --standby-of "host=127.0.0.1 port=${PG_PORT[p]} user=postgres application_name=drydock_sb" \
    --set "work_mem=7MB" --tablespace-map "ts1=$T/ts1_sb"
check "standby.signal is written" test -f "$T/sb/standby.signal"
check_eq "the tablespace mapped by its name" "$T/ts1_sb" "$(readlink "$T/sb/pg_tblspc/$TS_OID")"
register_cluster sb "$T/sb" "$SB_PORT"
if pg_start sb; then
    check "the new standby streams from the primary" wait_for "sb streaming" 60 sql_is p 1 \
        "select count(*) from pg_stat_replication where application_name = 'drydock_sb' and state = 'streaming'"
    check_eq "the new standby runs with work_mem = 7MB" "7MB" "$(psql_q sb "show work_mem")"
    check_eq "the new standby is in recovery" "t" "$(psql_q sb "select pg_is_in_recovery()")"
    psql_q p "create table after_standby as select 42 as x"
    check "a change on the primary reaches the new standby" wait_for "replicated" 30 sql_is sb 42 "select x from after_standby"
    pg_stop sb
else
    fail "the new standby started"
fi

# A damaged manifest: left out (with a warning); the other backup is still restored.
man="$REPO/backups/$B2.manifest"
cp -p "$man" "$T/manifest.orig"
printf '\xff\xff\xff\xff' | command dd of="$man" bs=1 seek=$(($(stat -c %s "$man") / 2)) conv=notrunc status=none
check_eq "info lists the damaged manifest" "$B2" "$(dd info --json 2>/dev/null | jq -r '.damaged[0]')"
dd restore --dest "$T/r2" --json --quiet --target immediate --tablespace-map "$TS_OID=$T/ts1_r2" >"$T/r2.json"
check_eq "a damaged manifest does not stop a restore of another backup" "$B1" "$(restore_json "$T/r2.json" backup)"
# The summary splits its copy: the small files' per-file work, which the
# rate it records counts as fixed with the rest outside the copy.
SUM=$(jq -c 'select(.type == "summary")' "$T/r2.json")
check "the summary: small files within the copy, the copy within the duration" test "$(echo "$SUM" |
    jq '.small_files_seconds > 0 and .small_files_seconds <= .copy_seconds and .copy_seconds < .duration')" = true
check "the restore-write rate's fixed part counts the small files" test "$(dd debug object rates.json |
    jq --argjson s "$SUM" '.rates["restore-write"][-1] |
        (.seconds - $s.duration | fabs) < 0.001 and
        (.fixed - ($s.duration - $s.copy_seconds + $s.small_files_seconds) | fabs) < 0.001')" = true
cp -p "$T/manifest.orig" "$man"

# Readers and expire: a verify holding the chunks lock makes expire fail at
# once (the lock test hook keeps verify's lock for 4 s); verify itself passes.
runuser -u postgres -- env DRYDOCK_TEST_LOCK_HOLD=4 "$DRYDOCK" --config "$CONF" verify >/dev/null 2>&1 &
vpid=$!
wait_for "verify to hold the chunks lock" 30 lock_held "$REPO/locks/chunks.lock"
check_error "expire while a verify reads the chunks: locked" 5 "locked for chunks" dd expire --keep-backups 1
wait "$vpid"
check_eq "the verify that held the lock passes" 0 "$?"
check_eq "both backups are still there" 2 "$(dd info --json 2>/dev/null | jq '.backups | length')"

# A damaged chunk: the restore fails naming the file it was restoring.
pack=$(ls -S "$REPO"/packs/*.pack | head -1)
size=$(stat -c %s "$pack")
printf '\xff\xff\xff\xff\xff\xff\xff\xff' | command dd of="$pack" bs=1 seek=$((size / 2)) conv=notrunc status=none
check_error "a damaged chunk fails the restore, naming the file" 10 "restoring file \"[^\"]+\" of the backup: chunk [0-9a-f]+ in pack" \
    dd restore --quiet --dest "$T/bad" --tablespace-map "$TS_OID=$T/ts1_bad"
finish
