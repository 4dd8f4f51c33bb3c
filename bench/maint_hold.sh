#!/bin/bash
# bench/maint_hold.sh: how long clients are held by a whole maintenance
# (drydock maint run: backup, restore into a new cluster with a restart-only
# change, its own standby, verify, switchover under the proxy, first backup)
# under a write load through drydock proxy (pgbench -c 8 -j 2, one INSERT
# per transaction). ROUNDS maintenances in a row, each moving the traffic to
# a new cluster; the hold is the run's own hold_ms (POST /pause sent ->
# POST /resume returned). Goal: p99 under 100 ms. Every run is printed.
#   ROUNDS=10 bench/maint_hold.sh
source "$(dirname "$0")/../tests/integration/lib.sh"
ROUNDS=${ROUNDS:-10}

pg_primary p
pg_standby s p
dd repo-create >/dev/null 2>&1 || { echo "repo-create failed"; exit 1; }
switchover_proxy_start
dd backup >/dev/null 2>&1 || { echo "backup failed"; exit 1; }
psql_q p "create table holdlog (id bigserial primary key, client int)"
echo 'INSERT INTO holdlog (client) VALUES (:client_id);' >"$T/insert.sql"
chown postgres "$T/insert.sql"
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$LPORT" -U postgres -n -c 8 -j 2 -T 3600 \
    -f "$T/insert.sql" postgres >"$T/load.pgbench" 2>&1 &
LOAD=$!
PIDS+=("$LOAD")

prev_standby=s
: >"$T/holds"
for i in $(seq 1 "$ROUNDS"); do
    g=g$i
    gp=$(free_port)
    gsp=$(free_port)
    register_cluster "$g" "$T/$g" "$gp"
    register_cluster "${g}s" "$T/${g}s" "$gsp"
    cat >"$T/m$i.conf" <<CONF
[maintenance]
title = Round $i
[green]
data = $T/$g
port = $gp
standby-data = $T/${g}s
standby-port = $gsp
[change]
set = shared_buffers = $((64 + 8 * i))MB
CONF
    chown postgres "$T/m$i.conf"
    if ! dd maint run "$T/m$i.conf" --json >"$T/m$i.json" 2>"$T/m$i.err"; then
        echo "round $i failed:"; cat "$T/m$i.err"; break
    fi
    hold=$(jq -r .hold_ms "$T/m$i.json")
    echo "$hold" >>"$T/holds"
    printf 'round %2d: clients held %7.1f ms (maintenance %.1f s predicted)\n' "$i" "$hold" \
        "$(jq -r .predicted_s "$T/m$i.json")"
    grep -oE '(pause|catchup|promote|switch|resume) +[0-9.]+ ms' "$T/m$i.err" | tr -s ' ' | paste -sd, | sed 's/^/          /'
    # The proxy's own view of the switch (8 sessions reconnected), and the host's load.
    printf '          proxy: %s; load %s\n' \
        "$(grep -oE 'done in [0-9.]+ ms: [0-9]+ sessions moved, [0-9]+ failed' "$T/proxy.log" | tail -1)" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
    dd maint finish >/dev/null 2>&1
    # The old primary is stopped by the run; its standby follows nobody now.
    as_pg "$PGBIN/pg_ctl" -D "${PG_DATA[$prev_standby]}" -m immediate stop >/dev/null 2>&1
    prev_standby=${g}s
done
kill "$LOAD" 2>/dev/null
pkill -P "$LOAD" 2>/dev/null
python3 - "$T/holds" <<'PY'
import math, sys
v = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
if not v:
    sys.exit("no round completed")
rank = lambda p: v[min(len(v) - 1, max(0, math.ceil(p / 100 * len(v)) - 1))]
print(f"maint run hold over {len(v)} runs: min {v[0]:.1f} ms, median {rank(50):.1f} ms, "
      f"p99 {rank(99):.1f} ms, max {v[-1]:.1f} ms (goal: p99 < 100 ms)")
PY
