#!/bin/bash
# A repository a careless or hostile hand touched (issue 16):
#  - a verify overlapping a backup is no false alarm (it read the indexes,
#    then listed a manifest committed in between: "cannot be restored");
#  - a damaged pack index costs that pack, not the repository: a restore of a
#    backup that does not need it succeeds and matches its source, a new
#    backup succeeds, verify names the pack and the backup it breaks, and
#    expire removes it. (Before: every restore, backup and expire exit 10.)
source "$(dirname "$0")/lib.sh"

pg_primary p
dd repo-create >/dev/null 2>&1
pg_standby s p
backup_pgbench p -i -s 2 -q >"$T/init.log" 2>&1
psql_q p "checkpoint"
check "backup A" dd backup --quiet
A=$(restore_last_backup)
digest_a=$(accounts_digest p)

# 1. verify held after reading the indexes while backup B commits.
psql_q p "create table only_b as select g as id, md5(g::text) as v from generate_series(1, 100000) g"
psql_q p "checkpoint"
ls "$REPO/packs" | grep '\.index$' | sort >"$T/packs.before"
DRYDOCK_TEST_PAUSE_AT=verify-indexes DRYDOCK_TEST_RESUME_FILE=$T/resume \
    runuser -u postgres -- "$DRYDOCK" --config "$CONF" verify >"$T/verify1.out" 2>"$T/verify1.err" &
vpid=$!
if wait_for "verify paused" 60 grep -q "pausing at verify-indexes" "$T/verify1.err"; then
    check "backup B while verify runs" dd backup --quiet
    touch "$T/resume"
    wait "$vpid"
    check_eq "verify overlapping backup B passes" 0 $?
    check "verify overlapping backup B reports no backup as unrestorable" \
        bash -c "! grep -q 'cannot be restored' '$T/verify1.out' '$T/verify1.err'"
else
    fail "verify paused"
    kill "$vpid"
    dd backup --quiet
fi
B=$(restore_last_backup)
check "B is a new backup" test "$A" != "$B"
pb=$(comm -13 "$T/packs.before" <(ls "$REPO/packs" | grep '\.index$' | sort) | head -1)
pb=${pb%.index}
check "backup B wrote a pack of its own" test -n "$pb"

# 2. Truncate B's pack index.
truncate -s 100 "$REPO/packs/$pb.index"
dd verify >"$T/verify2.out" 2>"$T/verify2.err"
check_eq "verify exits 10 on the damaged index" 10 $?
check "verify names the damaged index" grep -q "pack index \"$pb\": .*$pb.index.*treated as missing" "$T/verify2.out" "$T/verify2.err"
check "verify names backup B as broken by that pack" \
    grep -q "backup $B cannot be restored: it needs chunks of pack \"$pb\", whose index is damaged" "$T/verify2.out" "$T/verify2.err"
check "verify does not blame backup A" bash -c "! grep -q 'backup $A' '$T/verify2.out' '$T/verify2.err'"

R_PORT=$(free_port)
dd restore --dest "$T/ra" --backup "$A" --target immediate --port "$R_PORT" --quiet 2>"$T/ra.err"
check_eq "restore of A (not using the pack) succeeds" 0 $?
check "restore of A warns once about the damaged index" test "$(grep -c "$pb.index" "$T/ra.err")" -eq 1
if restore_start ra "$T/ra" "$R_PORT"; then
    check_eq "restored A matches its source" "$digest_a" "$(accounts_digest ra)"
    pg_stop ra
else
    fail "restored A starts"
fi
check_error "restore of B (needing the pack) fails naming a missing chunk" 10 'chunk [0-9a-f]{64} is not in any pack' \
    bash -c "runuser -u postgres -- $DRYDOCK --config $CONF restore --dest $T/rb --backup $B --target immediate --quiet 2>&1 >/dev/null | grep -v WARNING >&2; exit \${PIPESTATUS[0]}"

check "a new backup C succeeds despite the damaged index" dd backup --quiet
C=$(restore_last_backup)
check "expire --keep-backups 1 succeeds" dd expire --keep-backups 1
check "expire removed the damaged pack's index" test ! -e "$REPO/packs/$pb.index"
check "expire removed the damaged pack" test ! -e "$REPO/packs/$pb.pack"
check "verify passes after expire" dd verify
rm -rf "$T/rc"
R_PORT=$(free_port)
check "restore of C succeeds" dd restore --dest "$T/rc" --backup "$C" --port "$R_PORT" --quiet
if restore_start rc "$T/rc" "$R_PORT"; then
    check_eq "restored C has B's table" "$(restore_md5 p only_b)" "$(restore_md5 rc only_b)"
else
    fail "restored C starts"
fi
finish
