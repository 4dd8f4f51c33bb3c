#!/bin/bash
# wal-fetch with prefetch (pg_wal/drydock-spool): a fetch from a data
# directory spools the next segments, verified; the next fetch is served
# from the spool, byte-identical to the archive; a damaged segment is never
# spooled and fails loudly (exit 10, named); a missing one exits 1 quietly;
# a pg_basebackup recovers through restore_command with the spool in use.
source "$(dirname "$0")/lib.sh"

seg() { printf '00000001%08X%08X' $(($1 / 256)) $(($1 % 256)); }
# fetch DIR NAME DEST: wal-fetch run from DIR, as PostgreSQL runs it from the data directory.
fetch() { (cd "$1" && dd wal-fetch "$2" "$3"); }
spool=$T/fake/pg_wal/drydock-spool
prefetch_idle() { [ -f "$spool/prefetch.lock" ] && ! lock_held "$spool/prefetch.lock"; }

pg_primary p
dd repo-create >/dev/null 2>&1
as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -D "$T/copy" -X none -c fast \
    >"$T/copy.log" 2>&1
check "pg_basebackup without WAL" test -f "$T/copy/PG_VERSION"
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -i -s 5 -q postgres >"$T/pgbench-init.log" 2>&1
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -c 4 -j 2 -t 1000 -n postgres >"$T/pgbench.log" 2>&1
last=$(psql_q p "select pg_walfile_name(pg_switch_wal())")
wait_for "segment $last archived" 60 test -f "$REPO/wal/${last:0:16}/$last"
L=$((16#${last:16:8} + 256 * 16#${last:8:8}))
check "at least 6 segments archived" test "$L" -ge 6
note "archived segments 1..$L"

# Damage segment D = L - 1 (kept aside, put back for the recovery below).
D=$((L - 1))
dobj=$REPO/wal/$(seg $D | cut -c1-16)/$(seg $D)
cp -p "$dobj" "$T/good-object"
size=$(stat -c %s "$dobj")
printf '\xff\xfe\xfd\xfc' | command dd of="$dobj" bs=1 seek=$((size / 2)) conv=notrunc status=none

# A fake data directory: restore_command runs in the data directory.
as_pg mkdir -p "$T/fake/pg_wal" "$T/direct"
as_pg mkdir -p "$spool"
as_pg touch "$spool/$(seg 1)" "$spool/$(seg 2).dd-tmp.99999"
check "fetch of segment 2 from the archive" fetch "$T/fake" "$(seg 2)" pg_wal/RECOVERYXLOG
check "the prefetch ran and ended" wait_for "prefetch ended" 60 prefetch_idle
want=""
for ((n = 3; n < D && n <= 2 + 8; n++)); do want+="$(seg $n) "; done
check_eq "spool holds the segments after 2 up to the damaged one" "$want" \
    "$(ls "$spool" | grep -vx prefetch.lock | tr '\n' ' ')"
check "damaged segment $(seg $D) was never spooled" test ! -e "$spool/$(seg $D)"
check "the segment before 2 was pruned, the temporary file removed" \
    test ! -e "$spool/$(seg 1)" -a ! -e "$spool/$(seg 2).dd-tmp.99999"

# Segment 3 comes from the spool (it leaves the spool) and equals the archived one.
check "fetch of segment 3" fetch "$T/fake" "$(seg 3)" pg_wal/RECOVERYXLOG
check "segment 3 left the spool" test ! -e "$spool/$(seg 3)"
check "a fetch outside a data directory bypasses the spool" fetch "$T" "$(seg 3)" "$T/direct/seg3"
check "the spooled segment 3 is byte-identical to the archived one" \
    cmp "$T/fake/pg_wal/RECOVERYXLOG" "$T/direct/seg3"
check "no spool outside a data directory" test ! -e "$T/pg_wal"

# Fetching along empties the spool up to the damaged segment, which fails loudly.
for ((n = 4; n < D; n++)); do fetch "$T/fake" "$(seg $n)" pg_wal/RECOVERYXLOG || fail "fetch of $n"; done
check "prefetch idle before the damaged segment" wait_for "prefetch ended" 60 prefetch_idle
check_error "the damaged segment fails with exit 10, named" 10 "$(seg $D)" \
    fetch "$T/fake" "$(seg $D)" pg_wal/RECOVERYXLOG
check "the damaged segment is not in pg_wal nor in the spool" \
    test ! -e "$spool/$(seg $D)" -a "$(ls "$T/fake/pg_wal" | grep -c "$(seg $D)")" = 0
rc=0; fetch "$T/fake" "$(seg 4000)" pg_wal/X 2>"$T/missing.err" || rc=$?
check_eq "a missing segment exits 1" 1 "$rc"
check_eq "a missing segment prints nothing" "" "$(cat "$T/missing.err")"
rc=0; fetch "$T/fake" 00000002.history pg_wal/X 2>"$T/missing.err" || rc=$?
check_eq "a missing history file exits 1 quietly" "1:" "$rc:$(cat "$T/missing.err")"
check "a history file never starts a prefetch" test ! -e "$spool/00000002.history"

# Put the good object back; recover the early copy through wal-fetch.
cp -p "$T/good-object" "$dobj"
expect=$(accounts_digest p)
expect_hist=$(psql_q p "select count(*) from pgbench_history")
check "recovered cluster promoted at the end of the archive" recover_from_archive r "$T/copy"
check "recovery used the spool" test -f "$T/copy/pg_wal/drydock-spool/prefetch.lock"
check_eq "recovered accounts equal the primary's" "$expect" \
    "$(accounts_digest r)"
check_eq "recovered history rows equal the primary's" "$expect_hist" "$(psql_q r 'select count(*) from pgbench_history')"
pg_stop r

# --cleanup (recovery_end_command) in the fake data directory, spool and all.
check "the fake data directory has a spool" test -d "$spool"
check "wal-fetch --cleanup succeeds" bash -c "cd '$T/fake' && runuser -u postgres -- '$DRYDOCK' --config '$CONF' wal-fetch --cleanup"
check "wal-fetch --cleanup removed the spool" test ! -e "$spool"
check_error "wal-fetch --cleanup takes no arguments" 2 "expected no arguments with --cleanup" \
    dd wal-fetch --cleanup "$(seg 1)" "$T/x"
finish
