#!/bin/bash
# make_walrec_cut.sh - regenerate walrec_cut_a.zst, walrec_cut_b.zst and
# walrec_cut.txt: two consecutive 1 MiB segments of real PostgreSQL 15 WAL
# where the commit of a DROP TABLE starts 48 bytes before the first
# segment's end, so that its header is in the first segment and its dropped
# relation list in the second (tests/unit/pg/walrec_test.c). The WAL before
# it is padded with pg_logical_emit_message() (compresses to almost nothing);
# the table is created in the segment before.
# walrec_cut.txt: the commit's LSN (hex) and the dropped table's relfilenode.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
OUT=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
chown postgres "$T"
trap 'runuser -u postgres -- $PGBIN/pg_ctl -D $T/d -m immediate stop >/dev/null 2>&1; rm -rf $T' EXIT
pg() { runuser -u postgres -- "$@"; }
pg "$PGBIN/initdb" -D "$T/d" -U postgres -A trust --wal-segsize=1 >/dev/null
PORT=$((20000 + RANDOM % 20000))
pg "$PGBIN/pg_ctl" -D "$T/d" -o "-p $PORT -k $T -c listen_addresses='' -c autovacuum=off -c wal_keep_size=1GB" -w start >/dev/null
psql() { pg "$PGBIN/psql" -h "$T" -p "$PORT" -U postgres -qAtX -v ON_ERROR_STOP=1 "$@"; }
SEG=1048576
for try in 1 2 3 4 5; do
    psql -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS gone" -c "CREATE TABLE gone (a int)" -c "INSERT INTO gone VALUES (1)" >/dev/null
    REL=$(psql -c "SELECT pg_relation_filenode('gone')")
    # The first segment then holds nothing else that reads files whole.
    psql -c "SELECT pg_switch_wal()" >/dev/null
    FROM=$(psql -c "SELECT pg_current_wal_insert_lsn()")
    # In one transaction: drop, pad until the insert position is 48 bytes
    # before a segment's end, commit. The last message's record is
    # 24 + 5 + 24 + 2 + n bytes (header, long main data header,
    # xl_logical_message, prefix "p\0", message).
    psql >/dev/null <<SQL
BEGIN;
DROP TABLE gone;
DO \$\$
DECLARE rem bigint;
BEGIN
  LOOP
    rem := $SEG - ((pg_current_wal_insert_lsn() - '0/0') % $SEG);
    EXIT WHEN rem BETWEEN 400 AND 8000;
    PERFORM pg_logical_emit_message(false, 'p', repeat('x', GREATEST(300, LEAST(rem - 4000, 200000))::int));
  END LOOP;
  PERFORM pg_logical_emit_message(false, 'p', repeat('x', (rem - 48 - 55)::int));
END \$\$;
COMMIT;
SQL
    psql -c "SELECT pg_switch_wal()" >/dev/null
    pg "$PGBIN/pg_waldump" -p "$T/d/pg_wal" -s "$FROM" 2>/dev/null |
        grep -E "rmgr: Transaction .*COMMIT.*rels:.*/$REL\b" >"$T/commit" || true
    LSN=$(sed -nE 's/.*lsn: ([0-9A-F]+\/[0-9A-F]+),.*/\1/p' "$T/commit" | head -1)
    [ -n "$LSN" ] || continue
    HI=$((16#${LSN%/*})) LO=$((16#${LSN#*/}))
    ABS=$(((HI << 32) + LO))
    [ $((SEG - ABS % SEG)) -eq 48 ] || continue
    SEGNO=$((ABS / SEG))
    A=$(printf '%08X%08X%08X' 1 $((SEGNO / 4096)) $((SEGNO % 4096)))
    B=$(printf '%08X%08X%08X' 1 $(((SEGNO + 1) / 4096)) $(((SEGNO + 1) % 4096)))
    zstd -q -19 -f "$T/d/pg_wal/$A" -o "$OUT/walrec_cut_a.zst"
    zstd -q -19 -f "$T/d/pg_wal/$B" -o "$OUT/walrec_cut_b.zst"
    chown --reference="$OUT" "$OUT"/walrec_cut_?.zst
    chmod 644 "$OUT"/walrec_cut_?.zst
    echo "$LSN $REL" >"$OUT/walrec_cut.txt"
    cat "$T/commit"
    exit 0
done
echo "the commit never landed 48 bytes before a segment's end" >&2
exit 1
