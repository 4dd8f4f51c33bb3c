#!/bin/bash
# bench/proxy_tls.sh: the traffic proxy against PgBouncer 1.18 (Debian's,
# session mode) with TLS on both legs (client -> proxy, proxy -> server),
# same PostgreSQL (ssl = on, hostssl only), same data, in one run:
# pgbench -S -c 8 -j 2 with sslmode=require, RUNS rounds of SECS seconds
# each, alternating drydock and PgBouncer (ABAB... then the order reversed
# every other round), every run printed with the proxy's CPU time per
# transaction and the load average, then the means and the ratios.
#   RUNS=4 SECS=10 bench/proxy_tls.sh
source "$(dirname "$0")/../tests/integration/lib.sh"
source "$(dirname "$0")/lib/proxy.sh"
RUNS=${RUNS:-4}
SECS=${SECS:-10}

TLS=$T/tls
tls_ca "$TLS" proxy server || { echo "could not make the test CA"; exit 1; }
pg_primary p
cat >>"${PG_DATA[p]}/postgresql.conf" <<CONF
ssl = on
ssl_cert_file = '$TLS/server.crt'
ssl_key_file = '$TLS/server.key'
CONF
{
    echo "local all all trust"
    echo "hostssl all all 127.0.0.1/32 trust"
    echo "hostnossl all all 127.0.0.1/32 reject"
} >"${PG_DATA[p]}/pg_hba.conf"
pg_stop p
pg_start p
export PGSSLMODE=require
as_pg env PGSSLMODE=require "$PGBIN/pgbench" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -i -s 10 -q postgres >/dev/null 2>&1

bench_proxies 200 "$TLS"
check_tls() { # both legs encrypted: the server sees TLS, the client's sslmode=require succeeded
    [ "$(bench_sql "$1" "select ssl from pg_stat_ssl where pid = pg_backend_pid()")" = t ]
}
check_tls "$DPORT" || { echo "drydock: the server leg is not TLS"; exit 1; }
check_tls "$BPORT" || { echo "pgbouncer: the server leg is not TLS"; exit 1; }

SUM_drydock=0 SUM_pgbouncer=0 CPU_drydock=0 CPU_pgbouncer=0 TX_drydock=0 TX_pgbouncer=0
PID_drydock=$DD_PID PID_pgbouncer=$PGB_PID
run() { # NAME PORT ROUND
    local pid=PID_$1 c0 c1
    c0=$(bench_cpu_ms "${!pid}")
    bench_pgbench "$1" "$2" "$SECS"
    c1=$(bench_cpu_ms "${!pid}")
    printf '  run %d %-10s %10.1f tps  %6.1f us CPU/tx   (load average %s)\n' "$3" "$1" "$TPS" \
        "$(echo "scale=3; ($c1 - $c0) * 1000 / $NTX" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
    local v=SUM_$1 vc=CPU_$1 vt=TX_$1
    printf -v "$v" '%s' "$(echo "scale=1; ${!v} + $TPS" | bc)"
    printf -v "$vc" '%s' "$((${!vc} + c1 - c0))"
    printf -v "$vt" '%s' "$((${!vt} + NTX))"
}
echo "pgbench -S -c 8 -j 2 over TLS on both legs (sslmode=require; server ssl, hostssl only),"
echo "$RUNS rounds of ${SECS} s each, drydock and PgBouncer $(pgbouncer --version | head -1 | cut -d' ' -f2) alternating"
for i in $(seq 1 "$RUNS"); do
    if [ $((i % 2)) -eq 1 ]; then
        run drydock "$DPORT" "$i"
        run pgbouncer "$BPORT" "$i"
    else
        run pgbouncer "$BPORT" "$i"
        run drydock "$DPORT" "$i"
    fi
done
mean_d=$(echo "scale=1; $SUM_drydock / $RUNS" | bc)
mean_b=$(echo "scale=1; $SUM_pgbouncer / $RUNS" | bc)
printf '  mean      drydock %10.1f tps   pgbouncer %10.1f tps\n' "$mean_d" "$mean_b"
printf '  ratio drydock/pgbouncer with TLS on both legs: %.3f (TPS; goal >= 1.0)\n' \
    "$(echo "scale=3; $mean_d / $mean_b" | bc)"
# CPU per transaction: the proxy's own cost, less swayed by the machine's load than TPS.
cpu_d=$(echo "scale=3; $CPU_drydock * 1000 / $TX_drydock" | bc)
cpu_b=$(echo "scale=3; $CPU_pgbouncer * 1000 / $TX_pgbouncer" | bc)
printf '  CPU per transaction: drydock %.1f us, pgbouncer %.1f us; pgbouncer/drydock %.3f (>= 1.0: drydock cheaper)\n' \
    "$cpu_d" "$cpu_b" "$(echo "scale=3; $cpu_b / $cpu_d" | bc)"
