#!/bin/bash
# bench/wal.sh: archiving rate, drydock wal-push vs pgBackRest archive-push,
# on the same real WAL segments (from a pgbench load), each pushed one at a
# time as PostgreSQL's archiver does, same codec (zstd level 3). Then the
# restore rate on those segments: drydock wal-fetch vs pgBackRest archive-get,
# one segment after another as recovery's restore_command asks, from a fake
# data directory (drydock prefetches into pg_wal/drydock-spool; pgBackRest is
# measured synchronous and with archive-async, its prefetching mode).
#   SEGMENTS=48 bench/wal.sh
source "$(dirname "$0")/../tests/integration/lib.sh"
SEGMENTS=${SEGMENTS:-48}

pg_primary p
# Collect completed segments with plain cp, then push them by hand.
as_pg mkdir -p "$T/segs"
sed -i "s|^archive_command = .*|archive_command = 'cp %p $T/segs/%f'|" "${PG_DATA[p]}/postgresql.conf"
psql_q p "select pg_reload_conf()" >/dev/null
# pgbench -i writes about 0.8 segment of WAL per unit of scale.
scale=$(( SEGMENTS * 3 / 2 + 2 ))
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -i -s "$scale" -q postgres >/dev/null 2>&1
psql_q p "checkpoint; select pg_switch_wal()" >/dev/null
wait_for "segments collected" 120 bash -c "[ \$(ls $T/segs | wc -l) -ge $SEGMENTS ]" ||
    { echo "only $(ls "$T/segs" | wc -l) of $SEGMENTS segments were archived"; exit 1; }
mapfile -t segs < <(ls "$T/segs" | grep -E '^[0-9A-F]{24}$' | sort | head -n "$SEGMENTS")
# pgbench -i leaves about a GiB of dirty pages: write them out now, so that
# no tool's pushes (drydock's always come first) wait behind them.
sync
n=${#segs[@]}
echo "segments: $n real WAL segments of 16 MiB from pgbench -i -s $scale"

# drydock, with WAL summaries (as configured) and without (DRYDOCK_WALSUM=off,
# to measure their cost), each into an empty archive. The order alternates
# from run to run (WAL_ORDER=sum-first|nosum-first): the first push of a run
# met the disk still busy with pgbench's writes before the sync above.
dd repo-create >/dev/null 2>&1
push_all() { # VAR=VALUE: seconds to push every segment, as postgres
    local start s
    start=$(date +%s.%N)
    for s in "${segs[@]}"; do
        runuser -u postgres -- env "$1" "$DRYDOCK" --config "$CONF" wal-push "$T/segs/$s" >/dev/null 2>&1 ||
            { echo "drydock wal-push failed on $s" >&2; return 1; }
    done
    echo "$(date +%s.%N) - $start" | bc
}
sum_stats() {
    echo "$(find "$REPO/wal" -name '*.sum' | wc -l) of $n segments ($(find "$REPO/wal" -name '*.sum' -printf '%s\n' | awk '{s+=$1} END {print s+0}') bytes)"
}
if [ "${WAL_ORDER:-sum-first}" = sum-first ]; then
    dd_secs=$(push_all DRYDOCK_WALSUM=on) || exit 1
    dd_bytes=$(du -sb "$REPO/wal" | cut -f1)
    sums=$(sum_stats)
    rm -rf "$REPO/wal"
    nosum_secs=$(push_all DRYDOCK_WALSUM=off) || exit 1
else
    nosum_secs=$(push_all DRYDOCK_WALSUM=off) || exit 1
    rm -rf "$REPO/wal"
    dd_secs=$(push_all DRYDOCK_WALSUM=on) || exit 1
    dd_bytes=$(du -sb "$REPO/wal" | cut -f1)
    sums=$(sum_stats)
fi
echo "WAL summaries stored by wal-push: $sums; order ${WAL_ORDER:-sum-first}"

# pgBackRest, same data, same codec and level, synchronous push
bench_pgbackrest_conf
as_pg pgbackrest --config="$T/pgbackrest.conf" --stanza=bench stanza-create >/dev/null || { echo "pgbackrest stanza-create failed"; exit 1; }
start=$(date +%s.%N)
for s in "${segs[@]}"; do
    as_pg pgbackrest --config="$T/pgbackrest.conf" --stanza=bench archive-push "$T/segs/$s" >/dev/null ||
        { echo "pgbackrest archive-push failed on $s"; exit 1; }
done
br_secs=$(echo "$(date +%s.%N) - $start" | bc)
br_bytes=$(du -sb "$T/pgbr-repo/archive" | cut -f1)

dd_rate=$(echo "scale=2; $n / $dd_secs" | bc)
br_rate=$(echo "scale=2; $n / $br_secs" | bc)
printf '%-28s %8s s  %8s seg/s  %10s bytes stored\n' "drydock wal-push" "$dd_secs" "$dd_rate" "$dd_bytes"
printf '%-28s %8s s  %8s seg/s  %10s bytes stored\n' "pgBackRest archive-push" "$br_secs" "$br_rate" "$br_bytes"
printf '%-28s %8s s  %8s seg/s\n' "drydock wal-push, no summary" "$nosum_secs" "$(echo "scale=2; $n / $nosum_secs" | bc)"
echo "ratio drydock/pgBackRest (segments per second): $(echo "scale=2; $dd_rate / $br_rate" | bc)x  (goal >= 1.5x)"

# --- fetch: one segment after another, as recovery calls restore_command ---
# fetch_loop DIR CMD...: for each segment, remove pg_wal/RECOVERYXLOG (as
# PostgreSQL does) and run CMD SEG pg_wal/RECOVERYXLOG from DIR; prints seconds.
fetch_loop() {
    local dir=$1; shift
    as_pg mkdir -p "$dir/pg_wal" "$dir/global"
    # pgBackRest checks that the directory is a data directory (pg1-path).
    as_pg cp "${PG_DATA[p]}/global/pg_control" "${PG_DATA[p]}/PG_VERSION" "$dir/global/"
    as_pg cp "${PG_DATA[p]}/PG_VERSION" "$dir/"
    local t0 s
    t0=$(date +%s.%N)
    for s in "${segs[@]}"; do
        rm -f "$dir/pg_wal/RECOVERYXLOG"
        (cd "$dir" && "$@" "$s" pg_wal/RECOVERYXLOG) >/dev/null 2>&1 || { echo "fetch failed on $s: $*" >&2; return 1; }
    done
    echo "$(date +%s.%N) - $t0" | bc
}
# Every fetch must have restored the right bytes: check the last one.
fetched_ok() { cmp -s "$1/pg_wal/RECOVERYXLOG" "$T/segs/${segs[-1]}" || { echo "$2 restored wrong bytes" >&2; exit 1; }; }

# drydock with the spool (a data directory) and without (no pg_wal: a plain fetch)
dd_fetch=$(fetch_loop "$T/dd-data" dd wal-fetch) || exit 1
fetched_ok "$T/dd-data" "drydock wal-fetch"
as_pg mkdir -p "$T/dd-plain"
t0=$(date +%s.%N)
for s in "${segs[@]}"; do
    # PostgreSQL removes the target first; renaming over a file would make
    # ext4 write the new one out before the rename (auto_da_alloc).
    rm -f "$T/dd-plain/RECOVERYXLOG"
    dd wal-fetch "$s" "$T/dd-plain/RECOVERYXLOG" >/dev/null 2>&1 || { echo "drydock wal-fetch failed on $s"; exit 1; }
done
dd_plain=$(echo "$(date +%s.%N) - $t0" | bc)
br=(as_pg pgbackrest --config="$T/pgbackrest.conf" --stanza=bench)
br_fetch=$(fetch_loop "$T/br-data" "${br[@]}" --pg1-path="$T/br-data" archive-get) || exit 1
fetched_ok "$T/br-data" "pgbackrest archive-get"
br_async=$(fetch_loop "$T/br-async" "${br[@]}" --pg1-path="$T/br-async" --archive-async --archive-get-queue-max=128MiB archive-get) || exit 1
fetched_ok "$T/br-async" "pgbackrest archive-get --archive-async"

rate() { echo "scale=2; $n / $1" | bc; }
printf '%-40s %8s s  %8s seg/s\n' "drydock wal-fetch (prefetch spool)" "$dd_fetch" "$(rate "$dd_fetch")"
printf '%-40s %8s s  %8s seg/s\n' "drydock wal-fetch (no spool)" "$dd_plain" "$(rate "$dd_plain")"
printf '%-40s %8s s  %8s seg/s\n' "pgBackRest archive-get" "$br_fetch" "$(rate "$br_fetch")"
printf '%-40s %8s s  %8s seg/s\n' "pgBackRest archive-get (async)" "$br_async" "$(rate "$br_async")"
echo "ratio drydock/pgBackRest fetch, both prefetching (segments per second): $(echo "scale=2; $br_async / $dd_fetch" | bc)x"
br_best=$(echo "if ($br_fetch < $br_async) $br_fetch else $br_async" | bc)
echo "ratio drydock (prefetch) / pgBackRest's faster mode (segments per second): $(echo "scale=2; $br_best / $dd_fetch" | bc)x"
echo "ratio drydock/pgBackRest fetch, no prefetch (segments per second): $(echo "scale=2; $br_fetch / $dd_plain" | bc)x"
