#!/bin/bash
# WAL-guided backups (issue 14): wal-push stores a summary beside each
# segment; a backup with a previous backup and unbroken summaries reads only
# the changed chunks of relation files. The oracle: under a mixed load
# (pgbench, CREATE DATABASE both ways, TRUNCATE, DROP TABLE, VACUUM FULL,
# SET TABLESPACE, an unlogged table, an index build, CLUSTER), a guided backup
# and a full-read backup of the same quiet point are restored and recovered
# to the same end of the archive: every relation file is equal byte for byte
# and pg_dumpall prints the same. Then a summary gap makes the next backup
# read everything whole and say why. The same for a guided backup of the
# standby (the default source) against a full read of the standby. info and
# metrics show how each backup read.
source "$(dirname "$0")/lib.sh"

pg_primary p

dd repo-create >/dev/null 2>&1
as_pg mkdir -p "$T/ts_src"
backup_pgbench p -i -s 5 -q >"$T/init.log" 2>&1
psql_q p "create tablespace ts location '$T/ts_src'"
psql_q p "create table victim (a int); insert into victim select generate_series(1, 5000)"
psql_q p "create table doomed (a int); insert into doomed select generate_series(1, 5000)"
psql_q p "create table moving (a int); insert into moving select generate_series(1, 5000)"
psql_q p "checkpoint; select pg_switch_wal()" >/dev/null

# 1. The first backup has no previous one: everything is read. (64 KiB
#    chunks: the backups after it keep them.)
dd backup --from primary --chunk-size 64 --json >"$T/b1.json" 2>"$T/b1.err"
check "first backup succeeds" test $? -eq 0
sum1=$(grep '"type":"summary"' "$T/b1.json")
check_eq "first backup reads whole" full "$(jq -r .read <<<"$sum1")"
check_eq "and says why" "no previous backup" "$(jq -r .full_read_reason <<<"$sum1")"
check "wal-push stored summaries beside the segments" \
    test "$(find "$REPO/wal" -name '*.sum' | wc -l)" -ge 1

# 2. The mixed load, then a guided backup.
backup_pgbench p -c 2 -j 1 -t 25 -n >"$T/load.log" 2>&1
psql_q p "create database copied template template1 strategy file_copy"
psql_q p "create database logged template template1 strategy wal_log"
psql_q p "truncate victim; insert into victim values (42)"
psql_q p "drop table doomed"
psql_q p "vacuum full pgbench_branches"
psql_q p "alter table moving set tablespace ts"
psql_q p "create unlogged table scratch (a int); insert into scratch select generate_series(1, 1000)"
psql_q p "create index on pgbench_history (mtime)"
psql_q p "cluster pgbench_tellers using pgbench_tellers_pkey"
psql_q p "checkpoint"

dd backup --from primary --json >"$T/b2.json" 2>"$T/b2.err"
check "guided backup succeeds" test $? -eq 0
sum2=$(grep '"type":"summary"' "$T/b2.json")
note "guided: $(jq -c '{read, full_read_reason, wal_segments, changed_blocks, files_guided, files_read_whole, read_whole_because, bytes_read, bytes_logical}' <<<"$sum2")"
check_eq "second backup is guided" guided "$(jq -r .read <<<"$sum2")"
check_eq "it kept the previous backup's chunk size" 65536 "$(jq -r .chunk_size <<<"$sum2")"
check "it read under half of the cluster" \
    test "$(( $(jq -r .bytes_read <<<"$sum2") * 2 ))" -lt "$(jq -r .bytes_logical <<<"$sum2")"
check "files of the copied database were read whole" \
    jq_ok '.read_whole_because["database copied, created or dropped"] > 0' <<<"$sum2"
check "recreated relations were read whole" jq_ok '.read_whole_because.created > 0' <<<"$sum2"
check "guided files were read where changed" jq_ok '.files_guided > 0 and .chunks_reused > 0' <<<"$sum2"
check "maps were read whole" jq_ok '.read_whole_because["free space or visibility map"] > 0' <<<"$sum2"
G=$(jq -r .id <<<"$sum2")
dd verify --compare-full --backup "$G" 2>"$T/cmp.err"
check "verify --compare-full: the guided backup equals a full read of the live cluster" test $? -eq 0
check "it compared pages" grep -qE "equals a full read of .* [1-9][0-9]* pages compared" "$T/cmp.err"

# 3. The same quiet point read in full.
dd backup --from primary --full --json >"$T/b3.json" 2>"$T/b3.err"
check "--full backup succeeds" test $? -eq 0
sum3=$(grep '"type":"summary"' "$T/b3.json")
check_eq "--full reads whole" "--full" "$(jq -r .full_read_reason <<<"$sum3")"
F=$(jq -r .id <<<"$sum3")
psql_q p "select pg_create_restore_point('same_point')" >/dev/null
psql_q p "checkpoint; select pg_switch_wal()" >/dev/null
wait_for "WAL archived" 60 dd check --quiet

# 4. Restore both, recover both to the same restore point and pause there
#    (read-only: nothing but replay writes), dump, stop, compare the files.
restore_to() { # NAME ID [RESTORE-POINT]
    local port
    port=$(free_port)
    as_pg mkdir -p "$T/ts_$1"
    dd restore --dest "$T/$1" --port "$port" --backup "$2" --tablespace-map "ts=$T/ts_$1" \
        --target-name "${3:-same_point}" --target-action pause >"$T/$1.out" 2>&1 ||
        { fail "restore $1: $(tail -1 "$T/$1.out")"; return 1; }
    register_cluster "$1" "$T/$1" "$port"
    pg_start "$1" && wait_for "$1 paused at the restore point" 120 \
        sql_is "$1" paused "select pg_get_wal_replay_pause_state()"
}
# compare_restores GUIDED FULL: both recovered to the same point print the same
# dump and hold the same relation files, byte for byte (both are stopped).
compare_restores() {
    local g=$1 f=$2 c diffs=0 n=0
    check_eq "$g and $f replayed to the same LSN" "$(psql_q "$g" 'select pg_last_wal_replay_lsn()')" \
        "$(psql_q "$f" 'select pg_last_wal_replay_lsn()')"
    # (the dump's random \restrict key and the mapped tablespace directory differ by design)
    for c in "$g" "$f"; do
        as_pg "$PGBIN/pg_dumpall" -h 127.0.0.1 -p "${PG_PORT[$c]}" -U postgres |
            sed -E '/^\\(un)?restrict /d; s|/ts_'"$c"'|/ts_X|' >"$T/$c.sql"
    done
    diff "$T/$g.sql" "$T/$f.sql" | head -10 | sed 's/^/# /'
    check "$g: pg_dumpall prints the same" cmp -s "$T/$g.sql" "$T/$f.sql"
    check "$g: the dump holds the load" grep -q "COPY public.pgbench_history" "$T/$g.sql"
    pg_stop "$g" && pg_stop "$f"
    while read -r c; do
        n=$((n + 1))
        cmp -s "$T/$g/$c" "$T/$f/$c" || { diffs=$((diffs + 1)); note "differs: $c"; }
    done < <(cd "$T/$f" && find base global pg_tblspc/ -type f -regex '.*/[0-9]+\(_[a-z]+\)?\(\.[0-9]+\)?' | sort)
    check "$g: hundreds of relation files compared ($n)" test "$n" -gt 500
    check_eq "$g: every relation file is equal byte for byte" 0 "$diffs"
    check "$g: the same relation files exist" diff <(cd "$T/$f" && find base global pg_tblspc/ -type f | sort) \
        <(cd "$T/$g" && find base global pg_tblspc/ -type f | sort)
}
if restore_to guided "$G" && restore_to full "$F"; then
    compare_restores guided full
else
    fail "both restores started"
fi

# 4b. The same from the standby, the default source: a standby (its tablespace
#     mapped: one host), a full read of it, a mixed load, a guided backup of
#     the standby and a full read of the same quiet point, both restored and
#     compared. Both guided and full come from the same node: a primary's
#     pages may hold hint bits it set without WAL that its standby lacks.
as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -D "$T/s" -X stream -c fast -R \
    -T "$T/ts_src=$T/ts_standby" >"$T/s.basebackup.log" 2>&1 || cat "$T/s.basebackup.log"
PG_PORT[s]=$(free_port)
PG_DATA[s]=$T/s
sed -i "s/^port = .*/port = ${PG_PORT[s]}/" "$T/s/postgresql.conf"
write_config
pg_start s
wait_for "standby streaming" 60 sql_is p t "select count(*) >= 1 from pg_stat_replication where state = 'streaming'"
dd backup --full --json >"$T/s1.json" 2>"$T/s1.err"
check_eq "a full read of the standby (the default source)" "standby full" \
    "$(grep '"type":"summary"' "$T/s1.json" | jq -r '.source + " " + .read')"
backup_pgbench p -c 2 -j 1 -t 25 -n >>"$T/load.log" 2>&1
psql_q p "create database copied2 template template1 strategy file_copy"
psql_q p "truncate victim; insert into victim values (44)"
psql_q p "vacuum full pgbench_tellers"
psql_q p "create table moving2 tablespace ts as select generate_series(1, 3000) as a"
psql_q p "create index on pgbench_accounts (abalance)"
psql_q p "update pgbench_accounts set abalance = abalance + 1 where aid % 97 = 0"
psql_q p "checkpoint"
dd backup --json >"$T/s2.json" 2>"$T/s2.err"
check "guided backup of the standby succeeds" test $? -eq 0
ssum=$(grep '"type":"summary"' "$T/s2.json")
note "standby guided: $(jq -c '{duration, copy_seconds, wal_wait_seconds, source, read, full_read_reason, wal_segments, changed_blocks, files_guided, files_read_whole, chunks_reused, chunks_rebuilt, bytes_read, bytes_logical}' <<<"$ssum")"
check_eq "it is from the standby, guided" "standby guided" "$(jq -r '.source + " " + .read' <<<"$ssum")"
check "it rebuilt chunks from changed pages and reused others" \
    jq_ok '.chunks_rebuilt > 0 and .chunks_reused > 0' <<<"$ssum"
check "the copied database was read whole" \
    jq_ok '.read_whole_because["database copied, created or dropped"] > 0' <<<"$ssum"
GS=$(jq -r .id <<<"$ssum")
dd backup --full --json >"$T/s3.json" 2>"$T/s3.err"
check "--full of the standby at the same point succeeds" test $? -eq 0
FS=$(grep '"type":"summary"' "$T/s3.json" | jq -r .id)
# nothing changed since: the floor of a guided backup of the standby
dd backup --json >"$T/s4.json" 2>"$T/s4.err"
s4=$(grep '"type":"summary"' "$T/s4.json")
note "standby guided, nothing changed: $(jq -c '{duration, copy_seconds, wal_wait_seconds, bytes_read, chunks_rebuilt, files_read_whole}' <<<"$s4")"
check "with nothing changed it rebuilds no chunk" jq_ok '.read == "guided" and .chunks_rebuilt == 0' <<<"$s4"
psql_q p "select pg_create_restore_point('standby_point')" >/dev/null
psql_q p "checkpoint; select pg_switch_wal()" >/dev/null
wait_for "WAL archived" 60 dd check --quiet
if restore_to sguided "$GS" standby_point && restore_to sfull "$FS" standby_point; then
    compare_restores sguided sfull
else
    fail "both restores of the standby's backups started"
fi

# 4c. info and metrics say how each backup read.
dd info >"$T/info.txt" 2>&1
check "info: the guided backup of the standby read guided, files read whole and why" \
    grep -qE "read     guided by the WAL: [0-9]+ relation files read where changed, [0-9]+ read whole \(.*database copied" "$T/info.txt"
check "info: --full says why it read whole" grep -q "read     every file whole (--full)" "$T/info.txt"
dd info --json >"$T/info.json"
check_eq "info --json: read and the reason, per backup" "guided null full --full" \
    "$(jq -r --arg g "$GS" --arg f "$FS" '.backups[] | select(.id == $g or .id == $f) | "\(.read) \(.full_read_reason)"' "$T/info.json" | tr '\n' ' ' | sed 's/ $//')"
check "info --json: files read whole, by reason" jq -e --arg g "$GS" '.backups[] | select(.id == $g) |
    .files_read_whole > 0 and .read_whole_because["free space or visibility map"] > 0' "$T/info.json" >/dev/null
dd metrics >"$T/metrics.prom"
check_eq "metrics: the newest backup read guided" 1 \
    "$(awk '$1 == "drydock_last_backup_guided" {print $2}' "$T/metrics.prom")"
check "metrics: when the last full read ended" grep -q "^drydock_last_full_read_timestamp_seconds " "$T/metrics.prom"
pg_stop s
unset 'PG_PORT[s]'
write_config # the tests below read the primary

# 5. A gap: a segment archived without a summary (another tool, or a deleted
#    one) makes the next backup read everything whole, and say why.
backup_pgbench p -c 1 -j 1 -t 50 -n >>"$T/load.log" 2>&1
psql_q p "select pg_switch_wal()" >/dev/null
wait_for "WAL archived" 60 dd check --quiet
last=$(find "$REPO/wal" -name '*.sum' | sort | tail -1)
rm -f "$last"
dd backup --from primary 2>"$T/b4.err"
check "backup after a gap succeeds" test $? -eq 0
check "it reads whole and names the missing summary" \
    grep -q "read: every file whole (the WAL summary of segment $(basename "$last" .sum) is missing)" "$T/b4.err"
# and the next one is guided again, from the backup after the gap
psql_q p "insert into victim values (43); checkpoint" >/dev/null
dd backup --from primary 2>"$T/b5.err"
check "the next backup is guided again" grep -q "read: guided by" "$T/b5.err"
check "verify passes" dd verify

# 5b. A commit cut by a segment boundary: its header at the end of one
#     segment, its dropped-relation list in the next. That segment's summary
#     cannot vouch for it alone; the guide decodes it from both segments, and
#     the backup stays guided. The WAL is padded with logical messages until
#     the commit starts 48 bytes before a segment's end (retried when
#     something else writes WAL in between).
cut_at=
for try in 1 2 3 4 5; do
    psql_q p "create table crossdrop (a int); insert into crossdrop values (1)"
    psql_q p "begin; drop table crossdrop; do \$\$
        declare rem bigint; seg bigint := 16 * 1024 * 1024;
        begin
          loop
            rem := seg - ((pg_current_wal_insert_lsn() - '0/0') % seg);
            exit when rem between 400 and 8000;
            perform pg_logical_emit_message(false, 'p', repeat('x', greatest(300, least(rem - 4000, 1000000))::int));
          end loop;
          perform pg_logical_emit_message(false, 'p', repeat('x', (rem - 48 - 55)::int));
        end \$\$; commit" >/dev/null
    lsn=$(psql_q p "select pg_current_wal_insert_lsn() - ((pg_current_wal_insert_lsn() - '0/0') % (16 * 1024 * 1024)) - 48")
    if as_pg "$PGBIN/pg_waldump" -p "${PG_DATA[p]}/pg_wal" -s "$lsn" -n 1 2>/dev/null |
        grep -q "rmgr: Transaction .*COMMIT.*rels:"; then
        cut_at=$lsn
        break
    fi
done
check "a commit dropping a table starts 48 bytes before a segment's end ($cut_at)" test -n "$cut_at"
cut_seg=$(psql_q p "select pg_walfile_name('$cut_at')")
psql_q p "select pg_switch_wal()" >/dev/null
next_seg=$(psql_q p "select pg_walfile_name('$cut_at'::pg_lsn + 56)")
wait_for "both segments' summaries stored" 60 test -f "$REPO/wal/${next_seg:0:16}/$next_seg.sum" -a \
    -f "$REPO/wal/${cut_seg:0:16}/$cut_seg.sum"
cut_flags=$(dd debug object "wal/${cut_seg:0:16}/$cut_seg.sum" | od -An -tu4 -j28 -N4 | tr -d ' ')
check_eq "the summary of $cut_seg cannot vouch for it alone (flags: complete, unknown)" 3 "$cut_flags"
psql_q p "checkpoint" >/dev/null
dd backup --from primary 2>"$T/b6.err"
check "a backup over the cut commit succeeds" test $? -eq 0
check "it is guided" grep -q "read: guided by" "$T/b6.err"
grep -q "read: guided by" "$T/b6.err" || note "what it said: $(grep 'read:' "$T/b6.err")"

# 6. The comparison can fail: a page changed behind PostgreSQL's back (no WAL)
#    since the newest backup is found.
acc=$(psql_q p "select pg_relation_filepath('pgbench_accounts')")
pg_stop p
flip_byte "${PG_DATA[p]}/$acc" $((3 * 8192 + 5000)) 0xFF
dd --verbose verify --compare-full 2>"$T/cmp2.err"
rc=$?
check_eq "verify --compare-full finds it (exit 10)" 10 $rc
[ "$rc" = 10 ] || note "what it said: $(grep -E 'ERROR|block|skipp|newer' "$T/cmp2.err" | tail -5 | tr '\n' '|')"
check "and names the file and block" grep -q "file \"$acc\" block 3 differs from backup" "$T/cmp2.err"

finish
