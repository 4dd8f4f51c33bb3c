#!/bin/bash
# bench/wal_receive.sh: what a synchronous drydock wal-receive costs the
# primary's commits. One client commits small inserts (pgbench, 10 s) with
# synchronous_commit = on, first with no synchronous standby, then with
# "drydock wal-receive --synchronous" as synchronous_standby_names, then
# with PostgreSQL's own pg_receivewal --synchronous for comparison; RUNS
# (default 3) alternating rounds. Note: the test clusters run with fsync =
# off, so the local commit costs no fsync and the difference is the
# receiver's round trip plus its fsync of the spool.
#   RUNS=3 bench/wal_receive.sh
source "$(dirname "$0")/../tests/integration/lib.sh"
RUNS=${RUNS:-3}
pg_primary p
dd repo-create >/dev/null || exit 1
psql_q p "create table b (id bigserial primary key, v int)"
echo 'insert into b (v) values (1);' >"$T/insert.sql"
chown postgres "$T/insert.sql"
as_pg mkdir -p "$T/pgrw"
PIDS_SYNC=()

# latency MODE: the mean commit latency (ms) of 10 s of one client's inserts.
latency() {
    as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -n -c 1 -T 10 \
        -f "$T/insert.sql" postgres 2>/dev/null | awk -F' = ' '/latency average/ {print $2+0}'
}
sync_to() { # NAME: synchronous_standby_names, reloaded; "" for none
    psql_q p "alter system set synchronous_standby_names = '$1'" && psql_q p "select pg_reload_conf()" >/dev/null
    [ -z "$1" ] || wait_for "$1 synchronous" 30 sql_is p sync \
        "select sync_state from pg_stat_replication where application_name = '$1'"
}
start_bg() { "$@" >>"$T/bg.log" 2>&1 & PIDS+=($!); PIDS_SYNC+=($!); }

start_bg dd wal-receive --synchronous
as_pg "$PGBIN/pg_receivewal" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres --slot pgrw --create-slot
start_bg as_pg "$PGBIN/pg_receivewal" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -D "$T/pgrw" \
    --synchronous --slot pgrw
sleep 3
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$RUNS"); do
    sync_to "" && none=$(latency)
    sync_to drydock_wal_receive && dd_ms=$(latency)
    sync_to pg_receivewal && pgrw_ms=$(latency)
    printf 'run %d: commit latency  none %s ms  drydock wal-receive --synchronous %s ms  pg_receivewal --synchronous %s ms  (load %s)\n' \
        "$r" "$none" "$dd_ms" "$pgrw_ms" "$(cut -d' ' -f1 /proc/loadavg)"
done
sync_to ""
