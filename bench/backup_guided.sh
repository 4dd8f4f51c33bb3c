#!/bin/bash
# bench/backup_guided.sh: the backup after 1 % of the pages changed (issue 14):
# drydock WAL-guided vs drydock --full (reads everything) vs pgBackRest 2.45
# --type=incr, on one pgbench cluster, from the primary, in one run. Time and
# bytes read (drydock: its summary's bytes_read; pgBackRest: the size of the
# files its incremental copied, "delta" in its info). Goals: guided reads
# under 5 % of the cluster and takes under 0.1x pgBackRest's incremental.
# Only changed pages are read, but every chunk holding one is rebuilt (hash,
# base, delta): 32 KiB chunks (the default) rebuild 4 pages a change,
# CHUNK_KIB=128 sixteen.
#   SCALE=100 JOBS=2 CHUNK_KIB=32 bench/backup_guided.sh
source "$(dirname "$0")/../tests/integration/lib.sh"
SCALE=${SCALE:-100}
JOBS=${JOBS:-$(nproc)}
CHUNK_KIB=${CHUNK_KIB:-32}
PERF=${PERF:-} # a file: the guided backup runs under `perf record -g -o $PERF`

secs() { echo "$(date +%s.%N) - $1" | bc; }

pg_primary p
psql_q p "alter system set max_wal_size = '4GB'" >/dev/null
dd repo-create >/dev/null 2>&1
bench_pgbackrest_conf "process-max=$JOBS"
psql_q p "alter system set archive_command = '$DRYDOCK --config $CONF wal-push %p && pgbackrest --config=$T/pgbackrest.conf --stanza=bench archive-push %p'" >/dev/null
psql_q p "select pg_reload_conf()" >/dev/null
as_pg pgbackrest --config="$T/pgbackrest.conf" --stanza=bench stanza-create >/dev/null ||
    { echo "pgbackrest stanza-create failed"; exit 1; }
echo "pgbench -i -s $SCALE ..."
backup_pgbench p -i -s "$SCALE" -q >"$T/init.log" 2>&1
psql_q p "checkpoint" >/dev/null

# dd_backup LABEL ARGS...: sets DD_SECS and DD_READ (bytes read), DD_LOGICAL, DD_MODE.
dd_backup() {
    local label=$1 start; shift
    start=$(date +%s.%N)
    dd backup --from primary --jobs "$JOBS" --chunk-size "$CHUNK_KIB" --json "$@" >"$T/dd-$label.json" 2>"$T/dd-$label.err" ||
        { cat "$T/dd-$label.err"; exit 1; }
    DD_SECS=$(secs "$start")
    local s
    s=$(grep '"type":"summary"' "$T/dd-$label.json")
    DD_READ=$(jq -r .bytes_read <<<"$s")
    DD_LOGICAL=$(jq -r .bytes_logical <<<"$s")
    DD_MODE=$(jq -r '.read + (if .full_read_reason != "" then " (" + .full_read_reason + ")" else "" end)' <<<"$s")
    DD_PHASES=$(jq -r '"in the process \(.duration) s: copy \(.copy_seconds) s (\(.chunks_rebuilt) chunks rebuilt, \(.chunks_reused) reused), WAL wait \(.wal_wait_seconds) s"' <<<"$s")
}
br_backup() { # TYPE: sets BR_SECS and BR_READ
    local start
    start=$(date +%s.%N)
    as_pg pgbackrest --config="$T/pgbackrest.conf" --stanza=bench --type="$1" backup >"$T/br-$1.log" 2>&1 ||
        { cat "$T/br-$1.log"; exit 1; }
    BR_SECS=$(secs "$start")
    BR_READ=$(as_pg pgbackrest --config="$T/pgbackrest.conf" --stanza=bench info --output=json |
        jq -r '.[0].backup[-1].info.delta')
}

dd_backup first
echo "first drydock backup: ${DD_SECS}s, read $DD_READ bytes ($DD_MODE)"
br_backup full
echo "pgBackRest full: ${BR_SECS}s"

# 1 % of the pages of every pgbench table: pgbench_accounts holds 61 rows a page.
pages=$(psql_q p "select pg_relation_size('pgbench_accounts') / 8192")
psql_q p "update pgbench_accounts set abalance = abalance + 1 where aid % 6100 = 1" >/dev/null
psql_q p "checkpoint" >/dev/null
size=$(psql_q p "select sum(pg_database_size(oid)) from pg_database")
echo "cluster: pgbench scale $SCALE, $((size / 1048576)) MiB, pgbench_accounts $pages pages, ~1 % of them updated; jobs $JOBS, $(nproc) cores, drydock chunks $CHUNK_KIB KiB"

if [ -n "$PERF" ]; then
    dd() { runuser -u postgres -- perf record -q -g -o "$T/perf.data" "$DRYDOCK" --config "$CONF" "$@"; }
fi
dd_backup guided
if [ -n "$PERF" ]; then
    unset -f dd
    dd() { runuser -u postgres -- "$DRYDOCK" --config "$CONF" "$@"; }
    cp "$T/perf.data" "$PERF"
fi
G_SECS=$DD_SECS G_READ=$DD_READ G_MODE=$DD_MODE G_PHASES=$DD_PHASES
dd_backup full --full
F_SECS=$DD_SECS F_READ=$DD_READ
br_backup incr

pct() { echo "scale=2; 100 * $1 / $2" | bc; }
printf '%-34s %9s s  %13s bytes read (%s %% of %s)\n' "drydock WAL-guided [$G_MODE]" "$G_SECS" "$G_READ" "$(pct "$G_READ" "$DD_LOGICAL")" "$DD_LOGICAL"
echo "  (guided: $G_PHASES)"
printf '%-34s %9s s  %13s bytes read (%s %%)\n' "drydock --full" "$F_SECS" "$F_READ" "$(pct "$F_READ" "$DD_LOGICAL")"
printf '%-34s %9s s  %13s bytes read (%s %%)\n' "pgBackRest --type=incr" "$BR_SECS" "$BR_READ" "$(pct "$BR_READ" "$DD_LOGICAL")"
echo "guided / pgBackRest incr time: $(echo "scale=3; $G_SECS / $BR_SECS" | bc)x (goal < 0.1x); guided reads $(pct "$G_READ" "$DD_LOGICAL") % (goal < 5 %)"
