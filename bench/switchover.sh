#!/bin/bash
# bench/switchover.sh: how long clients are held during a switchover under a
# write load (pgbench -c 8 -j 2, one INSERT per transaction), drydock proxy +
# drydock switchover vs PgBouncer (transaction pooling) + the usual script
# (PAUSE, wait for the standby to replay, promote, point [databases] at the
# new server and RELOAD, RESUME). Ten switchovers back and forth each; the
# old primary is demoted (pg_rewind, restarted as a standby) between them,
# outside the hold, the same way for both.
#   drydock:   hold = POST /pause sent -> POST /resume returned (its report)
#   PgBouncer: hold = PAUSE sent -> RESUME returned
#   ROUNDS=10 SECONDS_PER_ROUND=8 GAP=1 bench/switchover.sh
source "$(dirname "$0")/../tests/integration/lib.sh"
ROUNDS=${ROUNDS:-10}
GAP=${GAP:-1}

pg_primary p
pg_standby s p
dd repo-create >/dev/null 2>&1 || { echo "repo-create failed"; exit 1; }
conninfo() { echo "host=127.0.0.1 port=${PG_PORT[$1]} user=postgres dbname=postgres"; }
other() { [ "$1" = p ] && echo s || echo p; }

psql_q p "create table swlog (id bigserial primary key, client int, at timestamptz default now())"
echo 'INSERT INTO swlog (client) VALUES (:client_id);' >"$T/insert.sql"
chown postgres "$T/insert.sql"

# load PORT NAME SECONDS: pgbench through a pooler, in the background.
load() {
    as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$1" -U postgres -n -c 8 -j 2 -T "$3" \
        -f "$T/insert.sql" postgres >"$T/$2.pgbench" 2>&1 &
    LOAD_PID=$!
}
processed() { sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$T/$1.pgbench"; }
failed_tx() { sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$T/$1.pgbench"; }
now() { date +%s.%N; }
ms_since() { echo "($(now) - $1) * 1000" | bc; }

# stats FILE: min median p99 max of the numbers in FILE (nearest rank).
stats() {
    python3 - "$1" <<'PY'
import math, sys
v = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
if not v:
    print("n/a n/a n/a n/a"); sys.exit()
rank = lambda q: v[max(0, math.ceil(q * len(v)) - 1)]
med = (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2
print("%.1f %.1f %.1f %.1f" % (v[0], med, rank(0.99), v[-1]))
PY
}

# Round length: a switchover with demotion takes a few seconds on this machine.
SECS=${SECONDS_PER_ROUND:-8}
DURATION=$((ROUNDS * SECS + 10))

# --- drydock -----------------------------------------------------------------
LPORT=$(free_port)
APORT=$(free_port)
printf '"postgres" "postgres"\n' >"$T/credentials"
chown postgres:postgres "$T/credentials"
chmod 600 "$T/credentials"
admin_token || exit 1
write_config "[proxy]" "listen = 127.0.0.1:$LPORT" "admin = 127.0.0.1:$APORT" "auth = trust" \
    "credentials = $T/credentials" "admin-token-file = $T/admin.token"
dd proxy >"$T/proxy.log" 2>&1 &
PIDS+=($!)
disown # the harness kills it at the end; no job notice in the output
wait_for "the proxy" 20 acurl -sf "http://127.0.0.1:$APORT/status" || { cat "$T/proxy.log"; exit 1; }

load "$LPORT" drydock "$DURATION"
sleep 3
cur=p
: >"$T/drydock.holds"
dd_fail=0
for i in $(seq 1 "$ROUNDS"); do
    nxt=$(other $cur)
    dd switchover --demote --json --from "$(conninfo $cur)" --from-data "${PG_DATA[$cur]}" \
        --to "$(conninfo $nxt)" --to-data "${PG_DATA[$nxt]}" >"$T/sw.$i.json" 2>"$T/sw.$i.err"
    if [ $? -ne 0 ]; then
        echo "drydock switchover $i failed: $(cat "$T/sw.$i.err")"
        dd_fail=$((dd_fail + 1))
        break
    fi
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['hold_ms'])" "$T/sw.$i.json" >>"$T/drydock.holds"
    python3 - "$T/sw.$i.json" >>"$T/drydock.steps" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ms = {s["name"]: s["ms"] for s in r["steps"]}
print("%.0f (pause %.0f, catchup %.0f, promote %.0f, switch %.0f, resume %.0f)" % (r["hold_ms"],
      ms["pause"], ms["catchup"], ms["promote"], ms["switch"], ms["resume"]))
PY
    cur=$nxt
    kill -0 "$LOAD_PID" 2>/dev/null || { echo "warning: the load ended during switchover $i (raise SECONDS_PER_ROUND)"; break; }
    sleep "$GAP"
done
wait "$LOAD_PID"
dd_rc=$?
dd_rows=$(psql_q $cur "select count(*) from swlog")

# --- PgBouncer ------------------------------------------------------------------
BPORT=$(free_port)
base_rows=$dd_rows
printf '"postgres" ""\n' >"$T/userlist.txt"
write_bouncer_ini() { # NODE
    cat >"$T/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=${PG_PORT[$1]} dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BPORT
unix_socket_dir =
auth_type = trust
auth_file = $T/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = 20
max_client_conn = 200
logfile = $T/pgbouncer.log
pidfile = $T/pgbouncer.pid
INI
    chown postgres "$T/pgbouncer.ini" "$T/userlist.txt"
}
write_bouncer_ini $cur
as_pg pgbouncer -d "$T/pgbouncer.ini" || { echo "pgbouncer did not start"; exit 1; }
bouncer() { as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$BPORT" -U postgres -XAtq pgbouncer -c "$1"; }
wait_for "pgbouncer" 20 bouncer "SHOW VERSION" || { cat "$T/pgbouncer.log"; exit 1; }

# demote OLD NEW: the old primary becomes a standby of the new one (outside the hold).
demote() {
    local old=$1 new=$2
    pg_stop "$old"
    psql_q "$new" "checkpoint"
    mkdir -p "$T/keep"
    sed -i '/^primary_conninfo/d; /^restore_command/d' "${PG_DATA[$old]}/postgresql.auto.conf"
    echo "primary_conninfo = '$(conninfo "$new")'" >>"${PG_DATA[$old]}/postgresql.auto.conf"
    echo "restore_command = '$DRYDOCK --config $CONF wal-fetch %f %p'" >>"${PG_DATA[$old]}/postgresql.auto.conf"
    cp "${PG_DATA[$old]}"/{postgresql.conf,postgresql.auto.conf,pg_hba.conf,pg_ident.conf} "$T/keep/"
    # As drydock does: the WAL before the fork may only be in the archive any more.
    as_pg "$PGBIN/pg_rewind" -D "${PG_DATA[$old]}" --restore-target-wal --source-server="$(conninfo "$new")" \
        >"$T/rewind.log" 2>&1 || { echo "pg_rewind failed: $(tail -1 "$T/rewind.log")"; return 1; }
    cp "$T/keep"/* "${PG_DATA[$old]}/"
    chown postgres "${PG_DATA[$old]}"/*.conf
    as_pg touch "${PG_DATA[$old]}/standby.signal"
    pg_start "$old"
    wait_for "$old streaming" 60 sql_is "$old" streaming "select status from pg_stat_wal_receiver"
}

# The scripted switchover around PgBouncer; prints the hold in ms.
bouncer_switchover() {
    local old=$1 new=$2 t0 flush
    t0=$(now)
    bouncer "PAUSE" >/dev/null || return 1
    flush=$(psql_q "$old" "select pg_current_wal_flush_lsn()")
    until sql_is "$new" t "select pg_last_wal_replay_lsn() >= '$flush'"; do sleep 0.005; done
    psql_q "$new" "select pg_promote(wait => false)" >/dev/null
    until sql_is "$new" f "select pg_is_in_recovery()"; do sleep 0.005; done
    write_bouncer_ini "$new"
    bouncer "RELOAD" >/dev/null || return 1
    bouncer "RESUME" >/dev/null || return 1
    ms_since "$t0"
}

load "$BPORT" pgbouncer "$DURATION"
sleep 3
: >"$T/pgbouncer.holds"
pb_fail=0
for i in $(seq 1 "$ROUNDS"); do
    nxt=$(other $cur)
    hold=$(bouncer_switchover $cur $nxt) || { echo "pgbouncer switchover $i failed"; pb_fail=1; break; }
    echo "$hold" >>"$T/pgbouncer.holds"
    demote $cur $nxt || { pb_fail=1; break; }
    cur=$nxt
    kill -0 "$LOAD_PID" 2>/dev/null || { echo "warning: the load ended during switchover $i (raise SECONDS_PER_ROUND)"; break; }
    sleep "$GAP"
done
wait "$LOAD_PID"
pb_rc=$?
pb_rows=$(($(psql_q $cur "select count(*) from swlog") - base_rows))

# --- report --------------------------------------------------------------------
read -r d_min d_med d_p99 d_max < <(stats "$T/drydock.holds")
read -r b_min b_med b_p99 b_max < <(stats "$T/pgbouncer.holds")
echo "write load: pgbench -c 8 -j 2, one INSERT per transaction; $ROUNDS switchovers each, demoting the old primary in between"
printf '%-34s %5s %9s %9s %9s %9s   %s\n' "clients held (ms)" n min median p99 max "pgbench"
printf '%-34s %5s %9s %9s %9s %9s   exit %s, %s failed, %s processed, %s rows\n' "drydock proxy + switchover" \
    "$(grep -c . "$T/drydock.holds")" "$d_min" "$d_med" "$d_p99" "$d_max" "$dd_rc" "$(failed_tx drydock)" "$(processed drydock)" "$dd_rows"
printf '%-34s %5s %9s %9s %9s %9s   exit %s, %s failed, %s processed, %s rows\n' "PgBouncer 1.18 (transaction) script" \
    "$(grep -c . "$T/pgbouncer.holds")" "$b_min" "$b_med" "$b_p99" "$b_max" "$pb_rc" "$(failed_tx pgbouncer)" "$(processed pgbouncer)" "$pb_rows"
if [ "$d_p99" != n/a ] && [ "$b_p99" != n/a ]; then
    echo "ratio drydock/PgBouncer: median $(echo "scale=2; $d_med / $b_med" | bc)x, p99 $(echo "scale=2; $d_p99 / $b_p99" | bc)x  (lower is better; goal: drydock p99 < 250 ms and below PgBouncer's)"
fi
echo "drydock holds, ms (steps as drydock timed them; promote and switch overlap):"
sed 's/^/  /' "$T/drydock.steps"
echo "PgBouncer holds (ms): $(tr '\n' ' ' <"$T/pgbouncer.holds")"
[ "$dd_fail" -eq 0 ] && [ "$pb_fail" -eq 0 ]
