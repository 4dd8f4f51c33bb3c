#!/bin/bash
# bench/proxy.sh: the traffic proxy against PgBouncer (Debian's, session
# mode), same PostgreSQL, same data, in one run:
#   1. pgbench -S -c 8 -j 2, 20 s each (scale 10): direct, through drydock
#      proxy, through PgBouncer: TPS and average latency, ratios;
#   2. RSS of each with 1,000 idle clients logged in (trust), read from
#      /proc/PID/status (VmRSS).
#   SECS=20 CLIENTS=1000 bench/proxy.sh
source "$(dirname "$0")/../tests/integration/lib.sh"
source "$(dirname "$0")/lib/proxy.sh"
SECS=${SECS:-20}
CLIENTS=${CLIENTS:-1000}

pg_primary p
# drydock opens its server connection at login (session mode): room for the idle clients.
echo "max_connections = $((CLIENTS + 50))" >>"${PG_DATA[p]}/postgresql.conf"
pg_stop p
pg_start p
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -i -s 10 -q postgres >/dev/null 2>&1

bench_proxies $((CLIENTS + 100))

# run NAME PORT SECS: pgbench -S; adds to TPS_NAME and LAT_NAME (halves, see below)
TPS_direct=0 TPS_drydock=0 TPS_pgbouncer=0 LAT_direct=0 LAT_drydock=0 LAT_pgbouncer=0
run() {
    bench_pgbench "$@"
    local vt=TPS_$1 vl=LAT_$1
    printf -v "$vt" '%s' "$(echo "scale=1; ${!vt} + $TPS / 2" | bc)"
    printf -v "$vl" '%s' "$(echo "scale=3; ${!vl} + $LAT / 2" | bc)"
}
# The machine is shared: each target runs SECS in two halves, in the order
# direct, drydock, pgbouncer, then backwards, so that a drift in the load
# weighs on all three alike. Figures are the means of the halves.
half=$((SECS / 2))
echo "pgbench -S -c 8 -j 2, ${SECS} s each (2 x ${half} s, ABC CBA), scale 10 (read-only, simple protocol)"
run direct "${PG_PORT[p]}" $half
run drydock "$DPORT" $half
run pgbouncer "$BPORT" $half
run pgbouncer "$BPORT" $half
run drydock "$DPORT" $half
run direct "${PG_PORT[p]}" $half
printf '  %-10s %10.1f tps  %7.3f ms avg latency\n' direct "$TPS_direct" "$LAT_direct" \
    drydock "$TPS_drydock" "$LAT_drydock" pgbouncer "$TPS_pgbouncer" "$LAT_pgbouncer"
printf '  ratio drydock/pgbouncer: %.3f (TPS)   drydock/direct: %.3f (TPS)\n' \
    "$(echo "scale=3; $TPS_drydock / $TPS_pgbouncer" | bc)" "$(echo "scale=3; $TPS_drydock / $TPS_direct" | bc)"

# --- memory with idle clients ---------------------------------------------------------
cat >"$T/idle.py" <<'PY'
# Open N connections, log each in (trust), wait for ReadyForQuery, then hold
# them until stdin closes.
import socket, struct, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
body = struct.pack("!I", 196608) + b"user\0postgres\0database\0postgres\0\0"
packet = struct.pack("!I", len(body) + 4) + body
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(packet)
    socks.append(s)
for s in socks:
    s.settimeout(120)
    buf = b""
    done = False
    while not done:
        d = s.recv(65536)
        if not d:
            sys.exit("connection closed during login")
        buf += d
        while len(buf) >= 5:
            t, ln = buf[0], struct.unpack("!I", buf[1:5])[0]
            if len(buf) < 1 + ln:
                break
            if t == ord("E"):
                sys.exit("error during login: %r" % buf[:200])
            if t == ord("Z"):
                done = True
            buf = buf[1 + ln:]
print("ready", flush=True)
sys.stdin.read()
PY
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# idle NAME PORT PID: sets RSS_NAME (kB) with CLIENTS idle clients connected
idle() {
    local fifo=$T/idle.$1 out=$T/idle.$1.out
    mkfifo "$fifo"
    python3 "$T/idle.py" "$2" "$CLIENTS" <"$fifo" >"$out" 2>&1 &
    local py=$!
    exec 7>"$fifo"
    if ! wait_for "$CLIENTS idle clients on $1" 180 grep -q ready "$out"; then
        cat "$out"
        exit 1
    fi
    printf -v "RSS_$1" '%s' "$(rss_kb "$3")"
    echo "  ($1: $(ls /proc/"$3"/fd | wc -l) open files, pid $3)"
    exec 7>&-
    wait $py
}
RSS0_drydock=$(rss_kb "$DD_PID")
RSS0_pgbouncer=$(rss_kb "$PGB_PID")
idle drydock "$DPORT" "$DD_PID"
sleep 2 # let the server connections of the drydock clients go
idle pgbouncer "$BPORT" "$PGB_PID"
echo "RSS with $CLIENTS idle clients logged in (before: drydock $RSS0_drydock kB, pgbouncer $RSS0_pgbouncer kB)"
printf '  drydock   %8s kB\n  pgbouncer %8s kB\n' "$RSS_drydock" "$RSS_pgbouncer"
printf '  ratio drydock/pgbouncer: %.3f (RSS; drydock also holds one server connection per client)\n' \
    "$(echo "scale=3; $RSS_drydock / $RSS_pgbouncer" | bc)"
