#!/bin/bash
# bench/maint_accuracy.sh: how well a maintenance plan predicts its steps.
#   1. a pgbench cluster of SCALE (no data checksums) and its standby; a
#      backup; a rehearsal (enable checksums, raise shared_buffers, a green
#      standby) under a light write load: the rates are measured;
#   2. the database grown to about three times its size (pgbench -i at
#      3 × SCALE), a backup, then the same rehearsal: its predictions come
#      from the rates of round 1 scaled to the new sizes.
# Prints round 2's table (step, predicted, actual, error). The goal: each
# step of 2 s or more within ±25 %, and the total within ±25 %.
#   SCALE=30 bench/maint_accuracy.sh      (SCALE=5 for a quick run)
source "$(dirname "$0")/../tests/integration/lib.sh"
SCALE=${SCALE:-30}
RATE=${RATE:-100} # transactions per second of the write load

die() { echo "bench/maint_accuracy: $*"; exit 1; }

PG_CHECKSUMS= pg_primary p
pg_standby s p
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

# round SCALE OUT: initialise at SCALE, back up, rehearse under load; the last JSON line in OUT.
round() {
    as_pg "$PGBIN/pgbench" -h "$T" -p "${PG_PORT[p]}" -U postgres -i -s "$1" -q postgres >/dev/null 2>&1 ||
        die "pgbench -i failed"
    psql_q p "checkpoint" >/dev/null
    echo "# scale $1: $(psql_q p "select pg_size_pretty(pg_database_size('postgres'))")"
    dd --quiet backup || die "drydock backup failed"
    load_start
    dd --quiet maint rehearse "$T/maint.conf" --json 2>"$T/$2.err" | tail -n 1 >"$T/$2.json"
    load_stop
    [ "$(jq -r .ok "$T/$2.json" 2>/dev/null)" = true ] || die "rehearsal failed: $(tail -1 "$T/$2.err")"
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
echo "(the backup step is predicted, not rehearsed: a rehearsal never writes the repository)"
