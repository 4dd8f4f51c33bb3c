#!/bin/bash
# Backups (issue 3): from the standby under pgbench load, incremental storage,
# --json, page checksums, verify, --from primary, the errors a user meets
# (standby down, WAL not archived in time), corruption found by verify, expire.
source "$(dirname "$0")/lib.sh"

pg_primary p
# The repository on a small file system of its own, to fill it at the end.
SMALL_FS=0
backup_small_fs "$REPO" 128m && SMALL_FS=1
rmdir "$REPO" 2>/dev/null || true
dd repo-create >/dev/null 2>&1
# The standby is stopped for a while below: the primary keeps the WAL it needs.
psql_q p "alter system set wal_keep_size = '512MB'" && psql_q p "select pg_reload_conf()" >/dev/null
pg_standby s p
backup_pgbench p -i -s 5 -q >"$T/init.log" 2>&1
psql_q p "checkpoint"

# A light load for the whole test; the harness kills it at the end.
backup_pgbench p -c 2 -j 1 -T 600 -R 5 -n >"$T/load.log" 2>&1 &
PIDS+=($!)

# 1. From the standby (the default), with --json.
dd backup --json >"$T/b1.json" 2>"$T/b1.err"
check "backup from the standby succeeds" test $? -eq 0
check "it reports the standby's lag" grep -qE "standby is streaming; replay is [0-9]+ bytes behind" "$T/b1.err"
sum1=$(grep '"type":"summary"' "$T/b1.json")
check "--json lines all parse" jq_ok . "$T/b1.json"
check_eq "a new repository's chunks are 32 KiB" 32768 "$(jq -r .chunk_size <<<"$sum1")"
check "--json has progress lines" grep -q '"type":"progress","phase":"copy"' "$T/b1.json"
for f in id source bytes_read bytes_new bytes_stored duration read_rate store_rate; do
    check "summary has $f" jq_ok "has(\"$f\")" <<<"$sum1"
done
id1=$(jq -r .id <<<"$sum1")
check_eq "source is the standby" standby "$(jq -r .source <<<"$sum1")"
check "pages were checksum-verified" test "$(jq -r .pages_checked <<<"$sum1")" -gt 1000
check_eq "no bad pages" 0 "$(jq -r .bad_pages <<<"$sum1")"
m1=$(backup_manifest_json "$id1")
check "manifest lists pg_control" jq_ok '.files[] | select(.path == "global/pg_control")' <<<"$m1"
acc=$(psql_q p "select pg_relation_filepath('pgbench_accounts')")
check "manifest lists pgbench_accounts ($acc)" jq_ok ".files[] | select(.path == \"$acc\" and .size > 0)" <<<"$m1"
check "manifest keeps pg_wal empty" test "$(jq '[.files[] | select(.path | startswith("pg_wal/"))] | length' <<<"$m1")" = 1
check "manifest leaves out standby.signal and postmaster.pid" \
    test "$(jq '[.files[] | select(.path == "standby.signal" or .path == "postmaster.pid")] | length' <<<"$m1")" = 0
check "backup_label is recorded" jq_ok '.["backup-label"] | contains("BACKUP FROM: standby")' <<<"$m1"

# 2. More writes, then a second backup stores a small fraction of the first.
backup_pgbench p -c 2 -j 1 -t 25 -n >"$T/more.log" 2>&1
dd backup --json >"$T/b2.json" 2>"$T/b2.err"
check "second backup succeeds" test $? -eq 0
sum2=$(grep '"type":"summary"' "$T/b2.json")
s1=$(jq -r .bytes_stored <<<"$sum1")
s2=$(jq -r .bytes_stored <<<"$sum2")
note "stored: first $s1 bytes, second $s2 bytes"
check "second backup stores under 25% of the first ($s2 vs $s1)" test $((s2 * 4)) -lt "$s1"
note "second backup: $(jq -c '{read, full_read_reason, files_guided, files_read_whole, bytes_read}' <<<"$sum2")"
check_eq "second backup from the standby is WAL-guided (issue 14)" guided "$(jq -r .read <<<"$sum2")"
check "second backup is logically full (WAL-guided: it reads less, issue 14)" \
    test "$(jq -r .bytes_logical <<<"$sum2")" -ge "$(( $(jq -r .bytes_logical <<<"$sum1") * 9 / 10 ))"

# 3. verify passes.
check "verify passes" dd verify

# 4. --from primary, and a page with a bad checksum is reported by file and block.
psql_q p "create table damaged(i int, t text); insert into damaged select g, repeat('x', 100) from generate_series(1, 50) g; checkpoint"
rel=$(psql_q p "select pg_relation_filepath('damaged')")
printf '\xff' | command dd of="${PG_DATA[p]}/$rel" bs=1 seek=4000 conv=notrunc status=none
dd backup --from primary --json >"$T/b3.json" 2>"$T/b3.err"
check "backup from the primary succeeds" test $? -eq 0
sum3=$(grep '"type":"summary"' "$T/b3.json")
check_eq "source is the primary" primary "$(jq -r .source <<<"$sum3")"
check_eq "one bad page counted" 1 "$(jq -r .bad_pages <<<"$sum3")"
check "the bad page is named by file and block" grep -q "page checksum mismatch in file \"$rel\", block 0" "$T/b3.err"
psql_q p "drop table damaged"

# 5. Errors: one line each, with their exit codes.
check_error "--from takes standby or primary" 2 'expects "standby" or "primary"' dd backup --from nowhere
pg_stop s
check_error "a stopped standby is named" 6 'could not connect to the standby' dd backup
check_error "--from primary still works without the standby (lock free again)" 0 '.' \
    bash -c "runuser -u postgres -- $DRYDOCK --config $CONF backup --from primary 2>&1 >/dev/null | tail -1 >&2"
sed -i 's/^archive-timeout = .*/archive-timeout = 3/' "$CONF"
psql_q p "alter system set archive_command = 'false'" && psql_q p "select pg_reload_conf()" >/dev/null
sleep 1 # the archiver reloads asynchronously
check_error "WAL not archived in time" 8 'did not reach repository .* within 3 s' dd backup --from primary
psql_q p "alter system reset archive_command" && psql_q p "select pg_reload_conf()" >/dev/null
sleep 1
sed -i 's/^archive-timeout = .*/archive-timeout = 60/' "$CONF"
pg_start s
wait_for "standby streaming" 60 sql_is s streaming "select status from pg_stat_wal_receiver"

# A standby that does not stream (its WAL receiver stopped) is refused.
conninfo=$(psql_q s "show primary_conninfo")
psql_q s "alter system set primary_conninfo = 'host=127.0.0.1 port=1 connect_timeout=1'" &&
    psql_q s "select pg_reload_conf()" >/dev/null
wait_for "WAL receiver gone" 30 sql_is s 0 "select count(*) from pg_stat_wal_receiver where status = 'streaming'"
check_error "a standby that does not stream is refused" 6 'the standby is not streaming from the primary' dd backup
psql_q s "alter system set primary_conninfo = '${conninfo//\'/\'\'}'" && psql_q s "select pg_reload_conf()" >/dev/null
wait_for "standby streaming again" 60 sql_is s streaming "select status from pg_stat_wal_receiver"

# A WAL receiver that reconnects within the backup's wait (10 s) is waited
# for: a backup started while it was down succeeds. (The standby retries
# every wal_retrieve_retry_interval: 1 s here.)
psql_q s "alter system set wal_retrieve_retry_interval = '1s'" && psql_q s "select pg_reload_conf()" >/dev/null
psql_q s "alter system set primary_conninfo = 'host=127.0.0.1 port=1 connect_timeout=1'" &&
    psql_q s "select pg_reload_conf()" >/dev/null
wait_for "WAL receiver gone" 30 sql_is s 0 "select count(*) from pg_stat_wal_receiver where status = 'streaming'"
dd --verbose backup >/dev/null 2>"$T/b5.err" &
bpid=$!
wait_for "the backup waiting for the WAL receiver" 30 grep -q "waiting up to 10 s for the standby's WAL receiver" "$T/b5.err"
psql_q s "alter system set primary_conninfo = '${conninfo//\'/\'\'}'" && psql_q s "select pg_reload_conf()" >/dev/null
wait "$bpid"
check_eq "a backup waits for a WAL receiver that reconnects, and succeeds" 0 $?
check "it said what it waited for" grep -q "waiting up to 10 s for the standby's WAL receiver" "$T/b5.err"

# 6. expire keeps the newest backup, and verify still passes.
nb=$(ls "$REPO/backups" | wc -l)
check "five backups before expire" test "$nb" -eq 5
check_error "expire needs exactly one retention option" 2 'give exactly one of --keep-backups' \
    dd expire --keep-backups 1 --keep-days 3
check "expire --keep-days 1 keeps every recent backup" dd expire --keep-days 1
check_eq "five backups after expire --keep-days 1" 5 "$(ls "$REPO/backups" | wc -l)"
check "expire --keep-backups 1" dd expire --keep-backups 1
check_eq "one backup left" 1 "$(ls "$REPO/backups" | wc -l)"
check "verify passes after expire" dd verify
last=$(ls "$REPO/backups" | sed 's/\.manifest$//')

# 7. A flipped byte in a chunk the kept backup references (pgbench_accounts'
# first chunk, found through the pack indexes) is found by verify.
want=$(backup_manifest_json "$last" | jq -r ".files[] | select(.path == \"$acc\") | .chunks[0][0]")
pack=$(backup_locate_chunk "$want")
check "the chunk is in a pack" test -n "$pack"
dd verify >"$T/verify.out" 2>"$T/verify.err"
check_eq "verify exits 10 on a damaged chunk" 10 $?
check "verify names the damaged chunk's pack" grep -q "${pack%% *}" "$T/verify.err"
check "verify names the affected backup" grep -qE "backup $last: file .* is damaged" "$T/verify.err"

# 8. A tablespace (the standby is stopped first: on one host it would share the directory).
pg_stop s
as_pg mkdir -p "$T/ts1"
psql_q p "create tablespace ts1 location '$T/ts1'"
psql_q p "create table in_ts1 tablespace ts1 as select generate_series(1, 1000) as i"
tsoid=$(psql_q p "select oid from pg_tablespace where spcname = 'ts1'")
dd backup --from primary --json >"$T/b9.json" 2>/dev/null
check "backup of a cluster with a tablespace" test $? -eq 0
m9=$(backup_manifest_json "$(grep '"type":"summary"' "$T/b9.json" | jq -r .id)")
check_eq "the tablespace and its location are recorded" "$tsoid $T/ts1" \
    "$(jq -r '.tablespaces[] | "\(.oid) \(.location)"' <<<"$m9")"
tsfile=$(psql_q p "select pg_relation_filepath('in_ts1')")
check "its files are listed through pg_tblspc ($tsfile)" \
    jq_ok ".files[] | select(.path == \"$tsfile\" and .size > 0)" <<<"$m9"
check "tablespace_map is recorded" jq_ok ".[\"tablespace-map\"] | contains(\"$T/ts1\")" <<<"$m9"

# 9. A full repository file system: one line, exit 7.
if [ "$SMALL_FS" = 1 ]; then
    command dd if=/dev/zero of="$REPO/filler" bs=1M status=none 2>/dev/null
    check_error "a full disk is one line with exit 7" 7 'No space left on device' dd backup --from primary
    rm -f "$REPO/filler"
else
    echo "ok - a full disk is one line with exit 7 # SKIP cannot mount a tmpfs here"
fi

finish
