#!/bin/bash
# restore_pitr.sh - point-in-time recovery from backups of the standby, under
# pgbench load, checked on marker rows inserted at known times; a restore to
# the end of the archive compared table by table with the primary; targets
# by time, LSN, restore point and "immediate"; info.
source "$(dirname "$0")/lib.sh"

pg_primary p
pg_standby s p
dd repo-create >/dev/null 2>&1 || { fail "repo-create"; finish; exit 1; }
as_pg "$PGBIN/pgbench" -h "$T" -p "${PG_PORT[p]}" -U postgres -i -s 2 -q postgres >/dev/null 2>&1
psql_q p "create table markers (id int primary key, at timestamptz not null)"

# A light load for the whole test (bounded, so it ends by itself).
as_pg "$PGBIN/pgbench" -h "$T" -p "${PG_PORT[p]}" -U postgres -c 2 -T 40 -R 40 postgres >/dev/null 2>&1 &
LOAD=$!
PIDS+=("$LOAD")

marker() { # N: insert marker N, then a second passes
    psql_q p "insert into markers values ($1, clock_timestamp())"
    sleep 1
}
markers_of() { psql_q "$1" "select string_agg(id::text, ',' order by id) from markers"; }

marker 1
marker 2
psql_q p "select pg_switch_wal()" >/dev/null
check "backup 1 from the standby" dd backup --quiet
B1=$(restore_last_backup)
marker 3
marker 4
CUT=$(psql_q p "select clock_timestamp()")
sleep 0.5
XID5=$(psql_q p "insert into markers values (5, clock_timestamp()) returning txid_current()")
LSN5=$(psql_q p "select pg_current_wal_lsn()")
sleep 1
marker 6
check "backup 2 from the standby" dd backup --quiet
B2=$(restore_last_backup)
marker 7
psql_q p "select pg_create_restore_point('after_seven')" >/dev/null
marker 8
wait "$LOAD"
check "the last WAL is archived" dd check --quiet
note "backups $B1 $B2; cut at $CUT; marker 5 at LSN $LSN5"

# restore_case NAME EXPECTED-MARKERS EXPECTED-BACKUP RESTORE-OPTIONS...
restore_case() {
    local name=$1 want=$2 want_backup=$3 port; shift 3
    port=$(free_port)
    if ! dd restore --dest "$T/$name" --port "$port" --json "$@" >"$T/$name.json" 2>"$T/$name.err"; then
        fail "restore $name ($*): $(head -c 300 "$T/$name.err")"
        return
    fi
    check_eq "restore $name chose backup $want_backup" "$want_backup" "$(restore_json "$T/$name.json" backup)"
    check_eq "restored $name is mode 0700, owned by postgres" "700 postgres" "$(stat -c '%a %U' "$T/$name")"
    if restore_start "$name" "$T/$name" "$port"; then
        check_eq "$name holds markers $want" "$want" "$(markers_of "$name")"
    else
        fail "$name started and finished recovery"
    fi
}

restore_case pitr_time 1,2,3,4 "$B1" --target-time "$CUT"
pg_stop pitr_time immediate
check_eq "a PITR clone does not archive" "off" "$(grep -h "^archive_mode" "$T/pitr_time/postgresql.auto.conf" | tail -1 | cut -d"'" -f2)"
restore_case pitr_lsn 1,2,3,4,5 "$B1" --target-lsn "$LSN5"
pg_stop pitr_lsn immediate
restore_case pitr_xid 1,2,3,4,5 "$B1" --target-xid "$XID5" --backup "$B1"
pg_stop pitr_xid immediate
restore_case pitr_name 1,2,3,4,5,6,7 "$B2" --target-name after_seven
pg_stop pitr_name immediate
restore_case pitr_immediate 1,2,3,4,5,6 "$B2" --target immediate
pg_stop pitr_immediate immediate
rm -rf "$T"/pitr_*

# The end of the archive holds what the (quiet, archived) primary holds.
restore_case end 1,2,3,4,5,6,7,8 "$B2"
for tbl in pgbench_accounts pgbench_branches pgbench_tellers pgbench_history markers; do
    check_eq "end of the archive: $tbl as on the primary" "$(restore_md5 p $tbl)" "$(restore_md5 end $tbl)"
done
# recovery_end_command (wal-fetch --cleanup) removed the prefetch spool.
check "recovery fetched WAL through restore_command" grep -q "restored log file .* from archive" "$T/end.log"
check "the prefetch spool is gone after recovery" test ! -e "$T/end/pg_wal/drydock-spool"
check_eq "recovery_end_command did not fail" 0 "$(grep -c 'recovery_end_command' "$T/end.log")"
pg_stop end immediate

# info: both backups and a window; JSON that parses.
dd info >"$T/info.txt"
check "info lists backup 1" grep -q "backup $B1" "$T/info.txt"
check "info lists backup 2" grep -q "backup $B2" "$T/info.txt"
check "info shows the window" grep -q "^recoverable window" "$T/info.txt"
check_eq "info --json: 2 backups, a window" "2 true" \
    "$(dd info --json | jq -r '"\(.backups | length) \(.window != null)"')"
check_eq "info --json: backup 1 from the standby" "standby" "$(dd info --json | jq -r '.backups[0].source')"

# A WAL gap: the segment holding backup 2's stop goes missing from the archive.
b2stop=$(dd info --json | jq -r '.backups[1].stop_lsn')
gapseg=$(psql_q p "select pg_walfile_name('$b2stop')")
LSN_END=$(psql_q p "select pg_current_wal_lsn()")
mv "$REPO/wal/${gapseg:0:16}/$gapseg" "$T/gapseg.object"
check_eq "info --json names the segment backup 2 now misses" "$gapseg" \
    "$(dd info --json | jq -r '.backups[1].missing_segment')"
check "info --json lists a gap" test "$(dd info --json | jq '.wal.gaps | length')" -ge 1
check_error "a backup whose WAL has a gap is refused" 4 "WAL segment $gapseg is missing from the archive" \
    dd restore --quiet --dest "$T/gap1" --backup "$B2"
check_error "a target past the gap is refused" 4 "(after the recoverable window|falls in a gap)" \
    dd restore --quiet --dest "$T/gap2" --target-lsn "$LSN_END"
mv "$T/gapseg.object" "$REPO/wal/${gapseg:0:16}/$gapseg"
finish
