#!/bin/bash
# make_walrec_segment.sh - regenerate walrec_segment.zst and walrec_expected.txt,
# the real PostgreSQL 15 WAL that tests/unit/pg/walrec_test.c decodes.
# Runs a throwaway cluster (as user postgres) through a mixed load that
# touches every record kind the decoder treats specially, switches WAL,
# and keeps one segment plus pg_waldump's view of it as the expected answer.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
OUT=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
chown postgres "$T"
trap 'runuser -u postgres -- $PGBIN/pg_ctl -D $T/d -m immediate stop >/dev/null 2>&1; rm -rf $T' EXIT
pg() { runuser -u postgres -- "$@"; }
pg "$PGBIN/initdb" -D "$T/d" -U postgres -A trust --data-checksums >/dev/null
PORT=$((20000 + RANDOM % 20000))
pg "$PGBIN/pg_ctl" -D "$T/d" -o "-p $PORT -k $T -c listen_addresses='' -c wal_keep_size=1GB -c wal_compression=zstd" -w start >/dev/null
psql() { pg "$PGBIN/psql" -h "$T" -p "$PORT" -U postgres -qAtX -v ON_ERROR_STOP=1 "$@"; }
mkdir "$T/ts" && chown postgres "$T/ts"
psql -c "CHECKPOINT" -c "SELECT pg_switch_wal()" >/dev/null
SEG=$(psql -c "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
psql <<SQL >/dev/null
CREATE TABLE t (id int PRIMARY KEY, v text);
INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g;
CREATE INDEX t_v ON t (v);
UPDATE t SET v = 'y' WHERE id % 7 = 0;
DELETE FROM t WHERE id % 11 = 0;
VACUUM t;
CREATE TABLE gone (a int); INSERT INTO gone VALUES (1);
DROP TABLE gone;
CREATE TABLE tr (a int); INSERT INTO tr SELECT generate_series(1, 1000);
TRUNCATE tr;
CREATE TABLE shrink (a int); INSERT INTO shrink SELECT generate_series(1, 3000);
DELETE FROM shrink WHERE a > 100; VACUUM shrink;
CREATE UNLOGGED TABLE u (a int); INSERT INTO u VALUES (1);
CREATE TABLESPACE ts LOCATION '$T/ts';
ALTER TABLE tr SET TABLESPACE ts;
VACUUM FULL t;
CLUSTER t USING t_pkey;
CREATE DATABASE copydb TEMPLATE template1 STRATEGY FILE_COPY;
DROP DATABASE copydb;
BEGIN; CREATE TABLE rolled (a int); INSERT INTO rolled VALUES (1); ROLLBACK;
VACUUM FULL pg_class;
SQL
LAST=$(psql -c "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
psql -c "SELECT pg_switch_wal()" >/dev/null
[ "$SEG" = "$LAST" ] || { echo "the load spans $SEG..$LAST: make it smaller" >&2; exit 1; }
zstd -q -19 -f "$T/d/pg_wal/$SEG" -o "$OUT/walrec_segment.zst"
# Expected: one "B spc/db/rel fork blk" line per distinct block reference,
# then "E rmgr desc" for each record of the rmgrs that change files outside
# block references, as pg_waldump describes them.
pg "$PGBIN/pg_waldump" "$T/d/pg_wal/$SEG" >"$T/dump" 2>/dev/null || true
grep -o 'blkref #[0-9]*: rel [0-9/]*\( fork [a-z]*\)\? blk [0-9]*' "$T/dump" |
    sed -E 's/blkref #[0-9]+: rel ([0-9/]+)( fork ([a-z]+))? blk ([0-9]+)/B \1 \3 \4/; s/  / main /' |
    sort -u >"$OUT/walrec_expected.txt"
grep -E '^rmgr: (Storage|Database|Tablespace|RelMap) |^rmgr: Transaction .*rels: ' "$T/dump" |
    sed -E 's/^rmgr: ([A-Za-z]+) .*desc: (.*)$/E \1 \2/; s/(rels: [^;]*);.*/\1/' |
    sed -E 's/^E Transaction [A-Z_]+ .*(rels: .*)$/E Transaction \1/; s/^(E Tablespace [A-Z]+ [0-9]+).*/\1/;
            s/^(E RelMap UPDATE database [0-9]+ tablespace [0-9]+).*/\1/' >>"$OUT/walrec_expected.txt"
echo "$SEG" >"$OUT/walrec_segment.name"
