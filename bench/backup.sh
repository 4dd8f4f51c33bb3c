#!/bin/bash
# bench/backup.sh: drydock backup vs pgBackRest backup vs pg_basebackup, in one
# run, on one pgbench cluster (primary + streaming standby, both tools reading
# the standby):
#   - full backup: time and stored bytes;
#   - after pgbench -t 5000: the next backup (drydock: just another backup;
#     pgBackRest: --type=incr): stored bytes and time;
#   - peak RSS of the drydock backup process at scale 10 and at SCALE.
# pgBackRest: backup-standby=y, compress-type=zst level 3, process-max = JOBS.
# pg_basebackup: from the standby, -c fast, tar format compressed client-side
# with zstd level 3 (-Z client-zstd:3; it has one compression thread), WAL
# from the archive (-X none), like the other two.
# Both archives are fed by one archive_command, so both tools wait for WAL.
#   SCALE=100 JOBS=2 CHUNK_KIB=128 bench/backup.sh   (SCALE=10 for a quick check)
source "$(dirname "$0")/../tests/integration/lib.sh"
SCALE=${SCALE:-100}
JOBS=${JOBS:-$(nproc)}
CHUNK_KIB=${CHUNK_KIB:-128} # drydock --chunk-size, to compare sizes
TIME=/usr/bin/time

secs() { echo "$(date +%s.%N) - $1" | bc; }
ratio() { echo "scale=3; $1 / $2" | bc; }
rss_mib() { echo "scale=1; $(tail -1 "$1") / 1024" | bc; }

# drydock_backup LABEL: one drydock backup from the standby; sets DD_SECS,
# DD_STORED (bytes written to packs) and DD_RSS (MiB).
drydock_backup() {
    local out=$T/dd-$1.json
    local start
    start=$(date +%s.%N)
    runuser -u postgres -- $TIME -f %M -o "$T/dd-$1.rss" "$DRYDOCK" --config "$CONF" backup \
        --jobs "$JOBS" --chunk-size "$CHUNK_KIB" --json >"$out" 2>"$T/dd-$1.err" || { cat "$T/dd-$1.err"; exit 1; }
    DD_SECS=$(secs "$start")
    DD_STORED=$(grep '"type":"summary"' "$out" | jq -r .bytes_stored)
    DD_RSS=$(rss_mib "$T/dd-$1.rss")
}

pg_primary p
psql_q p "alter system set max_wal_size = '4GB'" >/dev/null
psql_q p "select pg_reload_conf()" >/dev/null

# Peak RSS at scale 10, in a repository of its own.
dd repo-create >/dev/null 2>&1
backup_pgbench p -i -s 10 -q >"$T/init10.log" 2>&1
pg_standby s p
drydock_backup s10
RSS10=$DD_RSS
echo "scale 10: drydock backup ${DD_SECS}s, peak RSS ${RSS10} MiB"

# The measured cluster: a fresh repository, both archives fed.
rm -rf "$REPO"
dd repo-create >/dev/null 2>&1
bench_pgbackrest_conf "process-max=$JOBS" "backup-standby=y"
psql_q p "alter system set archive_command = '$DRYDOCK --config $CONF wal-push %p && pgbackrest --config=$T/pgbackrest.conf --stanza=bench archive-push %p'" >/dev/null
psql_q p "select pg_reload_conf()" >/dev/null
as_pg pgbackrest --config="$T/pgbackrest.conf" --stanza=bench stanza-create >/dev/null ||
    { echo "pgbackrest stanza-create failed"; exit 1; }

echo "pgbench -i -s $SCALE ..."
backup_pgbench p -i -s "$SCALE" -q >"$T/init.log" 2>&1
psql_q p "checkpoint" >/dev/null
lsn=$(psql_q p "select pg_current_wal_lsn()")
wait_for "standby caught up" 600 sql_is s t "select pg_last_wal_replay_lsn() >= '$lsn'"
size=$(psql_q p "select pg_database_size('postgres')")
echo "cluster: pgbench scale $SCALE, database $((size / 1048576)) MiB, jobs $JOBS, $(nproc) cores, drydock chunks $CHUNK_KIB KiB"

# Full backups.
start=$(date +%s.%N)
as_pg pgbackrest --config="$T/pgbackrest.conf" --stanza=bench --type=full backup >"$T/br-full.log" 2>&1 ||
    { cat "$T/br-full.log"; exit 1; }
BR_FULL=$(secs "$start")
BR_FULL_BYTES=$(du -sb "$T/pgbr-repo/backup" | cut -f1)

drydock_backup full
DD_FULL=$DD_SECS
DD_FULL_BYTES=$DD_STORED
RSS100=$DD_RSS

start=$(date +%s.%N)
as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "${PG_PORT[s]}" -U postgres -D "$T/pgbb" -Ft -X none -c fast \
    -Z client-zstd:3 >"$T/pgbb.log" 2>&1 || { cat "$T/pgbb.log"; exit 1; }
BB_FULL=$(secs "$start")
BB_BYTES=$(du -sb "$T/pgbb" | cut -f1)

# Changes, then the next backups.
echo "pgbench -t 5000 ..."
backup_pgbench p -n -t 5000 >"$T/run.log" 2>&1
lsn=$(psql_q p "select pg_current_wal_lsn()")
wait_for "standby caught up" 600 sql_is s t "select pg_last_wal_replay_lsn() >= '$lsn'"

before=$(du -sb "$T/pgbr-repo/backup" | cut -f1)
start=$(date +%s.%N)
as_pg pgbackrest --config="$T/pgbackrest.conf" --stanza=bench --type=incr backup >"$T/br-incr.log" 2>&1 ||
    { cat "$T/br-incr.log"; exit 1; }
BR_INCR=$(secs "$start")
BR_INCR_BYTES=$(( $(du -sb "$T/pgbr-repo/backup" | cut -f1) - before ))

drydock_backup incr
DD_INCR=$DD_SECS
DD_INCR_BYTES=$DD_STORED

printf '\n%-34s %9s %14s\n' "" "seconds" "stored bytes"
printf '%-34s %9.2f %14s\n' "drydock full (standby)" "$DD_FULL" "$DD_FULL_BYTES"
printf '%-34s %9.2f %14s\n' "pgBackRest full (backup-standby)" "$BR_FULL" "$BR_FULL_BYTES"
printf '%-34s %9.2f %14s\n' "pg_basebackup (standby, tar+zstd)" "$BB_FULL" "$BB_BYTES"
printf '%-34s %9.2f %14s\n' "drydock next backup" "$DD_INCR" "$DD_INCR_BYTES"
printf '%-34s %9.2f %14s\n' "pgBackRest incr" "$BR_INCR" "$BR_INCR_BYTES"
echo
echo "full time    drydock/pgBackRest:    $(ratio "$DD_FULL" "$BR_FULL")x  (goal <= 0.5x)"
echo "full time    drydock/pg_basebackup: $(ratio "$DD_FULL" "$BB_FULL")x"
echo "full bytes   drydock/pgBackRest:    $(ratio "$DD_FULL_BYTES" "$BR_FULL_BYTES")x"
echo "next bytes   drydock/pgBackRest:    $(ratio "$DD_INCR_BYTES" "$BR_INCR_BYTES")x  (goal <= 0.1x)"
echo "next time    drydock/pgBackRest:    $(ratio "$DD_INCR" "$BR_INCR")x  (goal <= 0.5x)"
echo "peak RSS of drydock backup: scale 10 ${RSS10} MiB, scale $SCALE ${RSS100} MiB (goal < 100 MiB, flat)"
