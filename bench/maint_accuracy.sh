#!/bin/bash
# bench/maint_accuracy.sh: how well a maintenance plan predicts its steps.
#   1. a pgbench cluster of SCALE (no data checksums) and its standby; a
#      backup; a rehearsal (enable checksums, raise shared_buffers, a green
#      standby) under a light write load: the rates are measured;
#   2. the database grown to about three times its size (pgbench -i at
#      3 × SCALE), a backup, then the same rehearsal: its predictions come
#      from the rates of round 1 scaled to the new sizes.
# Prints round 2's table (step, predicted, actual, error). The goal: each
# step of 2 s or more within ±25 %, and the total within ±25 %. The rates
# are the machine's at the time they were measured: on a machine shared
# with other work, a round that ran under more load than the other misses
# by that much (the load average is printed with each round).
# Then the rates each round measured, kind by kind (fixed part, budget).
# Each round says how much of its rehearsal's time some task waited for a
# CPU and for I/O (/proc/pressure): a round that waited much more than the
# other ran on a busier machine.
#   SCALE=30 bench/maint_accuracy.sh      (SCALE=5 for a quick run)
#   KEEP=DIR keeps each round's JSON reports and the rates object in DIR.
source "$(dirname "$0")/../tests/integration/lib.sh"
SCALE=${SCALE:-30}
RATE=${RATE:-100} # transactions per second of the write load

die() { echo "bench/maint_accuracy: $*"; exit 1; }

# A virtual machine whose balloon device reports free pages to its host
# (VIRTIO_BALLOON_F_REPORTING, feature bit 5) gives memory freed a few
# seconds ago back to the hypervisor: a write into it then costs a fault on
# the host, several times a write into memory freed just now. A step that
# writes more than the host has of the latter slows down part way, which no
# rate measured on a smaller write can foresee (seen here: pg_basebackup from
# 1.5 GB/s to 0.35 GB/s after about 1 GB). Said, so that a reader knows.
for f in /sys/bus/virtio/drivers/virtio_balloon/virtio*/features; do
    [ -r "$f" ] && [ "$(cut -c6 "$f")" = 1 ] &&
        echo "# host: a virtual machine whose balloon reports free pages to the hypervisor: writes into memory freed a while ago are slower"
done

PG_CHECKSUMS= pg_primary p
pg_standby s p
# The standby streams without a slot or a restore_command: pgbench -i at
# 3 × SCALE writes more WAL than max_wal_size keeps, and a standby that fell
# behind would wait forever for a segment its primary already removed.
psql_q p "alter system set wal_keep_size = '4GB'" >/dev/null && psql_q p "select pg_reload_conf()" >/dev/null
dd repo-create >/dev/null 2>&1 || die "drydock repo-create failed"

GPORT=$(free_port)
cat >"$T/maint.conf" <<CONF
[maintenance]
title = Enable data checksums, more shared_buffers
[green]
data = $T/green
port = $GPORT
standby-data = $T/green-standby
standby-port = $((GPORT + 1))
[change]
set = shared_buffers = 128MB
data-checksums = enable
CONF
chown postgres "$T/maint.conf"

load_start() {
    as_pg "$PGBIN/pgbench" -h "$T" -p "${PG_PORT[p]}" -U postgres -n -c 2 -R "$RATE" -T 3600 \
        postgres >/dev/null 2>&1 &
    LOAD=$!
    PIDS+=($LOAD)
}
load_stop() { pkill -P "$LOAD" 2>/dev/null; kill "$LOAD" 2>/dev/null; wait "$LOAD" 2>/dev/null; }

# Both rounds start alike: the writeback of what came before (pgbench -i, the
# backup) finished, and, as root, the page cache dropped. Otherwise round 1's
# small cluster runs from memory and round 2 pays for round 1's dirty pages,
# which no estimate from sizes and rates can predict.
settle() {
    sync
    [ "$(id -u)" = 0 ] && echo 3 >/proc/sys/vm/drop_caches
    return 0
}

# What the host's other work took from the rehearsal: the share of its time
# some task waited for a CPU, and for I/O (/proc/pressure, Linux 4.20+).
# The load average alone does not say it: it counts the waiting, not for
# how long. The same figures in two rounds make their rates comparable.
pressure_total() { awk '/^some/ { sub("total=", "", $5); print $5 }' "/proc/pressure/$1" 2>/dev/null; }
pressure_start() {
    P_T0=$(date +%s%N) P_CPU0=$(pressure_total cpu) P_IO0=$(pressure_total io)
}
pressure_stop() {
    local t1 cpu1 io1
    t1=$(date +%s%N) cpu1=$(pressure_total cpu) io1=$(pressure_total io)
    if [ -n "$P_CPU0" ] && [ -n "$cpu1" ]; then
        PRESSURE=$(awk -v dt=$(((t1 - P_T0) / 1000)) -v c=$((cpu1 - P_CPU0)) -v i=$((io1 - P_IO0)) \
            'BEGIN { printf "some task waited for a CPU %.0f %% and for I/O %.0f %% of its %.1f s", 100 * c / dt, 100 * i / dt, dt / 1e6 }')
    else
        PRESSURE="no /proc/pressure"
    fi
}

# round SCALE OUT: initialise at SCALE, back up, rehearse under load; the last JSON line in OUT.
round() {
    as_pg "$PGBIN/pgbench" -h "$T" -p "${PG_PORT[p]}" -U postgres -i -s "$1" -q postgres >/dev/null 2>&1 ||
        die "pgbench -i failed"
    psql_q p "checkpoint" >/dev/null
    # The backup reads the standby: after pgbench -i's burst of WAL its WAL
    # receiver may be reconnecting (the backup refuses a standby that does
    # not stream), so wait until it streams again and has replayed the checkpoint.
    wait_for "the standby streaming" 600 sql_is s t \
        "select status = 'streaming' from pg_stat_wal_receiver" || die "the standby does not stream"
    local lsn
    lsn=$(psql_q p "select pg_current_wal_lsn()")
    wait_for "the standby replaying the checkpoint" 300 sql_is s t \
        "select pg_last_wal_replay_lsn() >= '$lsn'" || die "the standby does not replay"
    echo "# scale $1: $(psql_q p "select pg_size_pretty(pg_database_size('postgres'))"), load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
    # The plan's prediction of the backup, then the backup: a step a rehearsal does not run.
    settle
    dd --quiet maint plan "$T/maint.conf" --json >"$T/$2.plan.json" 2>/dev/null
    dd --quiet backup --json | tail -n 1 >"$T/$2.backup.json" || die "drydock backup failed"
    settle
    load_start
    pressure_start
    dd --quiet maint rehearse "$T/maint.conf" --json 2>"$T/$2.err" | tail -n 1 >"$T/$2.json"
    pressure_stop
    load_stop
    echo "# rehearsal at scale $1: load average $(cut -d' ' -f1-3 /proc/loadavg) after it; $PRESSURE"
    [ "$(jq -r .ok "$T/$2.json" 2>/dev/null)" = true ] || die "rehearsal failed: $(tail -1 "$T/$2.err")"
    # KEEP=DIR keeps the raw reports and the rates for a closer look.
    if [ -n "${KEEP:-}" ]; then
        mkdir -p "$KEEP" && cp "$T/$2.json" "$T/$2.plan.json" "$T/$2.backup.json" "$KEEP/"
        dd debug object rates.json >"$KEEP/$2.rates.json" 2>/dev/null
    fi
}

table() {
jq -r '
  def err(p; a): if p > 0 then (100 * (a - p) / p) else 0 end;
  def verdict(p; a): if a < 2 and p < 2 then "(under 2 s)"
                     elif (err(p; a) | fabs) <= 25 then "within 25 %" else "MISSED" end;
  (["step", "predicted_s", "actual_s", "error", ""] | @tsv),
  (.steps[] | select(.actual_s != null) |
     [.name, (.predicted_s * 10 | round / 10), (.actual_s * 10 | round / 10),
      "\(err(.predicted_s; .actual_s) | round) %", verdict(.predicted_s; .actual_s)] | @tsv),
  ([.steps[] | select(.actual_s != null) | .actual_s] | add) as $a |
     ["total", (.predicted_s * 10 | round / 10), ($a * 10 | round / 10),
      "\(err(.predicted_s; $a) | round) %", verdict(.predicted_s; $a)] | @tsv
' "$1" | column -t -s $'\t'
}

round "$SCALE" round1
echo "round 1 (rates measured; predictions from defaults or earlier runs):"
table "$T/round1.json"
round $((SCALE * 3)) round2
echo "round 2 (grown three times), predicted from round 1's rates:"
table "$T/round2.json"
P=$(jq -r '.steps[] | select(.name == "backup") | .predicted_s' "$T/round2.plan.json" 2>/dev/null)
A=$(jq -r .duration "$T/round2.backup.json" 2>/dev/null)
if [ -n "$P" ] && [ -n "$A" ]; then
    echo "backup (not rehearsed: a rehearsal never writes the repository), predicted by \"maint plan\":"
    awk -v p="$P" -v a="$A" 'BEGIN { e = p > 0 ? 100 * (a - p) / p : 0;
        printf "backup      %.1f s predicted, %.1f s actual, %+.0f %% %s\n", p, a, e,
               (a < 2 && p < 2) ? "(under 2 s)" : (e <= 25 && e >= -25) ? "within 25 %" : "MISSED" }'
fi
# What each round measured, kind by kind: a rate that moved between the
# rounds by more than 25 % makes a 25 % prediction impossible, whatever the
# model (fixed = the part measured as not growing with size; budget = the
# host's dirty-page budget the write ran under).
echo "rates measured (MB/s of the part that grows with size; the last two of each kind):"
dd debug object rates.json 2>/dev/null | jq -r '
  .rates | to_entries[] | select(.key | test("restore-write|checksum|basebackup|wal-replay|backup-read|backup-guided")) |
  .key as $k | (.value[-2:])[] |
  [$k, "\(.size / 1e6 | round) MB", "\(.seconds * 100 | round / 100) s",
   "fixed \((.fixed // 0) * 100 | round / 100) s",
   "\(.size / (.seconds - (.fixed // 0)) / 1e6 | round) MB/s",
   (if .budget then "budget \(.budget / 1e6 | round) MB" else "" end)] | @tsv' | column -t -s $'\t'
