#!/bin/bash
# bench/restore.sh: restore time, drydock vs pgBackRest (Debian's 2.45), of
# the same state of a pgbench cluster, same codec (zstd level 3), pgBackRest
# process-max = drydock --jobs:
#   1. plain restore of the latest backup (laying the files down);
#   2. point-in-time recovery end to end: restore to a target time after the
#      backup, start the cluster, until it has promoted and accepts
#      connections; pgBackRest with --type=time to the same target.
#   SCALE=100 JOBS=2 bench/restore.sh        (SCALE=5 for a quick run)
source "$(dirname "$0")/../tests/integration/lib.sh"
SCALE=${SCALE:-100}
JOBS=${JOBS:-$(nproc)}
BR="pgbackrest --config=$T/pgbackrest.conf --stanza=bench"

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
die() { echo "bench/restore: $*"; exit 1; }

pg_primary p
bench_pgbackrest_conf "repo1-retention-full=99" "process-max=$JOBS"
# Every segment goes to both repositories.
sed -i "s|^archive_command = .*|archive_command = '$DRYDOCK --config $CONF wal-push %p \&\& pgbackrest --config=$T/pgbackrest.conf --stanza=bench archive-push %p'|" \
    "${PG_DATA[p]}/postgresql.conf"
psql_q p "select pg_reload_conf()" >/dev/null
dd repo-create >/dev/null 2>&1 || die "drydock repo-create failed"
as_pg $BR stanza-create >/dev/null || die "pgbackrest stanza-create failed"

echo "pgbench -i -s $SCALE ..."
as_pg "$PGBIN/pgbench" -h "$T" -p "${PG_PORT[p]}" -U postgres -i -s "$SCALE" -q postgres >/dev/null 2>&1 || die "pgbench -i failed"
psql_q p "checkpoint" >/dev/null
echo "cluster: $(psql_q p "select pg_size_pretty(pg_database_size('postgres'))"), jobs $JOBS"

dd backup --from primary --jobs "$JOBS" --quiet || die "drydock backup failed"
as_pg $BR backup --type=full >/dev/null || die "pgbackrest backup failed"

# WAL after the backups, with the PITR target in the middle of it.
as_pg "$PGBIN/pgbench" -h "$T" -p "${PG_PORT[p]}" -U postgres -c 2 -T 10 postgres >/dev/null 2>&1
TARGET=$(psql_q p "select clock_timestamp()")
as_pg "$PGBIN/pgbench" -h "$T" -p "${PG_PORT[p]}" -U postgres -c 2 -T 10 postgres >/dev/null 2>&1
psql_q p "select pg_switch_wal()" >/dev/null
dd check --quiet || die "drydock check failed"
as_pg $BR check >/dev/null || die "pgbackrest check failed"
echo "PITR target: $TARGET"

# Each measurement runs twice, in the order drydock, pgBackRest, pgBackRest,
# drydock, and the better time counts: the machine is shared, and whichever
# runs first after the backups pays for the writeback they left behind.
min() { if [ "$(echo "$1 < $2" | bc)" = 1 ]; then echo "$1"; else echo "$2"; fi; }

dd_plain_run() {
    sync; local start; start=$(now)
    dd restore --dest "$T/dd_plain" --jobs "$JOBS" --quiet || die "drydock restore failed"
    since "$start"
    rm -rf "$T/dd_plain"
}
br_plain_run() {
    sync; local start; start=$(now)
    as_pg $BR restore --pg1-path="$T/br_plain" >/dev/null || die "pgbackrest restore failed"
    since "$start"
    rm -rf "$T/br_plain"
}

wait_promoted() { # NAME
    wait_for "$1 promoted" 600 sql_is "$1" f "select pg_is_in_recovery()"
}
# dd_pitr_run / br_pitr_run: restore to the target, start, until promoted;
# print the seconds, leave the row count in $T/<name>.rows.
dd_pitr_run() {
    local port start; port=$(free_port)
    sync; start=$(now)
    dd restore --dest "$T/dd_pitr" --jobs "$JOBS" --target-time "$TARGET" --port "$port" --quiet ||
        die "drydock PITR restore failed"
    register_cluster dd_pitr "$T/dd_pitr" "$port"
    pg_start dd_pitr || die "the drydock-restored cluster did not start"
    wait_promoted dd_pitr || die "the drydock-restored cluster did not promote"
    since "$start"
    psql_q dd_pitr "select count(*) from pgbench_history" >"$T/dd_pitr.rows"
    pg_stop dd_pitr immediate
    rm -rf "$T/dd_pitr"
}
br_pitr_run() {
    local port start; port=$(free_port)
    sync; start=$(now)
    as_pg $BR restore --pg1-path="$T/br_pitr" --type=time "--target=$TARGET" --target-action=promote >/dev/null ||
        die "pgbackrest PITR restore failed"
    printf "port = %s\narchive_mode = off\n" "$port" >>"$T/br_pitr/postgresql.auto.conf"
    register_cluster br_pitr "$T/br_pitr" "$port"
    pg_start br_pitr || die "the pgBackRest-restored cluster did not start"
    wait_promoted br_pitr || die "the pgBackRest-restored cluster did not promote"
    since "$start"
    psql_q br_pitr "select count(*) from pgbench_history" >"$T/br_pitr.rows"
    pg_stop br_pitr immediate
    rm -rf "$T/br_pitr"
}

# 1. Plain restore of the latest backup (after one untimed run: on a VM the
# first touch of fresh memory is slow, for whichever tool comes first).
dd_plain_run >/dev/null
d1=$(dd_plain_run); b1=$(br_plain_run); b2=$(br_plain_run); d2=$(dd_plain_run)
echo "plain restore runs: drydock $d1 $d2, pgBackRest $b1 $b2"
dd_plain=$(min "$d1" "$d2"); br_plain=$(min "$b1" "$b2")

# 2. PITR end to end, until promoted and accepting connections.
d1=$(dd_pitr_run); b1=$(br_pitr_run); b2=$(br_pitr_run); d2=$(dd_pitr_run)
echo "PITR runs: drydock $d1 $d2, pgBackRest $b1 $b2"
dd_pitr=$(min "$d1" "$d2"); br_pitr=$(min "$b1" "$b2")
dd_rows=$(cat "$T/dd_pitr.rows"); br_rows=$(cat "$T/br_pitr.rows")

ratio() { echo "scale=2; $1 / $2" | bc; }
printf '%-44s %8.2f s\n' "drydock restore (latest backup, best of 2)" "$dd_plain"
printf '%-44s %8.2f s\n' "pgBackRest restore (latest backup)" "$br_plain"
printf '%-44s %8.2f s\n' "drydock PITR, until promoted" "$dd_pitr"
printf '%-44s %8.2f s\n' "pgBackRest PITR --type=time, until promoted" "$br_pitr"
echo "same target reached: pgbench_history rows drydock $dd_rows, pgBackRest $br_rows"
echo "ratio drydock/pgBackRest restore time: $(ratio "$dd_plain" "$br_plain")x  (goal <= 0.8x)"
echo "ratio drydock/pgBackRest PITR time:    $(ratio "$dd_pitr" "$br_pitr")x"
