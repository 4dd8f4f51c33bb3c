#!/bin/bash
# Run as the right user (issue 15): commands that write the repository
# refuse to run as anyone but its owner (root above all), with one line
# naming the user to run as; readers may run as anyone who can read; a file
# that cannot be read is reported as a permission problem (exit 7), never as
# damage.
source "$(dirname "$0")/lib.sh"

pg_primary p
dd repo-create >/dev/null 2>&1
check_eq "the repository belongs to postgres" postgres "$(stat -c %U "$REPO")"
dd backup --from primary >/dev/null 2>&1
check "a backup as postgres" test "$(ls "$REPO/backups" | wc -l)" -eq 1

asroot() { "$DRYDOCK" --config "$CONF" "$@"; }
check_error "a backup as root is refused" 7 \
    'belongs to postgres, and this command would write it as root.*HINT: run it as postgres' \
    asroot backup --from primary
check_error "expire as root is refused" 7 'belongs to postgres' asroot expire --keep-backups 1
seg=$(ls "${PG_DATA[p]}/pg_wal" | grep -E '^[0-9A-F]{24}$' | head -1)
check_error "wal-push as root is refused" 7 'belongs to postgres' asroot wal-push "${PG_DATA[p]}/pg_wal/$seg"
check "nothing root-owned was left in the repository" test -z "$(find "$REPO" -user root | head -1)"
check "verify (a reader) runs as root" asroot verify
check "info (a reader) runs as root" asroot info
check "what the readers run as root wrote belongs to postgres" test -z "$(find "$REPO" -user root | head -1)"
check "verify as postgres after verify as root" dd verify

# A file the verifier cannot read: a permission problem, not damage.
pack=$(ls "$REPO"/packs/*.pack | head -1)
chmod 000 "$pack"
check_error "verify on an unreadable pack says permission" 7 'Permission denied' dd verify
manifest=$(ls "$REPO"/backups/*.manifest | head -1)
chmod 644 "$pack"
chmod 000 "$manifest"
check_error "info on an unreadable manifest says permission" 7 'Permission denied' dd info
chmod 640 "$manifest"
check "verify passes again" dd verify
finish
