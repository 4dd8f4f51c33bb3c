# bench/lib/proxy.sh: what bench/proxy.sh and bench/proxy_tls.sh share,
# sourced after tests/integration/lib.sh (not a bench itself: bench/run
# looks only at bench/*.sh). Cluster p must be running.
#
# bench_proxies MAXCLIENTS [TLSDIR]: drydock proxy and PgBouncer (Debian's,
#   session mode, trust, pool 20) side by side in front of cluster p; with
#   TLSDIR (tls_ca's proxy.crt/.key in it), both with TLS on both legs
#   (client-tls-mode and server-tls-mode = require, as PgBouncer's
#   client_tls_sslmode and server_tls_sslmode). Sets DPORT, BPORT (their
#   listen ports), APORT (drydock's admin API, token in $T/admin.token),
#   DD_PID and PGB_PID. Exits when either does not come up.
# bench_pgbench NAME PORT SECS: pgbench -S -c 8 -j 2 for SECS through PORT
#   (PGSSLMODE as exported); sets TPS, LAT (ms) and NTX (transactions);
#   exits on a failed run.
# bench_cpu_ms PID: the CPU time (user + system, all threads) PID has used,
#   in ms: what a proxy costs per transaction, which the load of a shared
#   machine does not change as much as it changes TPS.

bench_proxies() {
    local max=$1 tls=${2:-}
    DPORT=$(free_port)
    APORT=$(free_port)
    BPORT=$(free_port)
    printf '"postgres" ""\n' >"$T/creds"
    chown postgres "$T/creds"
    chmod 600 "$T/creds"
    admin_token || exit 1
    local dd_tls=() pgb_tls=()
    if [ -n "$tls" ]; then
        dd_tls=("client-tls-mode = require" "client-tls-cert-file = $tls/proxy.crt"
            "client-tls-key-file = $tls/proxy.key" "server-tls-mode = require")
        pgb_tls=("client_tls_sslmode = require" "client_tls_cert_file = $tls/proxy.crt"
            "client_tls_key_file = $tls/proxy.key" "server_tls_sslmode = require")
    fi
    write_config "[proxy]" "listen = 127.0.0.1:$DPORT" "admin = 127.0.0.1:$APORT" "auth = trust" \
        "credentials = $T/creds" "max-clients = $max" "admin-token-file = $T/admin.token" "${dd_tls[@]}"
    {
        printf '%s\n' "[databases]" "postgres = host=127.0.0.1 port=${PG_PORT[p]} dbname=postgres" \
            "[pgbouncer]" "listen_addr = 127.0.0.1" "listen_port = $BPORT" "unix_socket_dir =" \
            "auth_type = trust" "auth_file = $T/creds" "pool_mode = session" "max_client_conn = $max" \
            "default_pool_size = 20" "listen_backlog = 4096" "logfile = $T/pgbouncer.log" \
            "pidfile = $T/pgbouncer.pid" "${pgb_tls[@]}"
    } >"$T/pgbouncer.ini"
    chown postgres "$T/pgbouncer.ini"
    # setpriv execs (so $! is the daemon) and keeps the open-files limit (runuser's PAM lowers it).
    local as_user=(setpriv --reuid=postgres --regid=postgres --init-groups)
    "${as_user[@]}" "$DRYDOCK" --config "$CONF" --quiet proxy 2>"$T/proxy.log" &
    DD_PID=$!
    PIDS+=("$DD_PID")
    "${as_user[@]}" pgbouncer -q "$T/pgbouncer.ini" &
    PGB_PID=$!
    PIDS+=("$PGB_PID")
    wait_for "drydock proxy" 20 bench_sql "$DPORT" "select 1" || { cat "$T/proxy.log"; exit 1; }
    wait_for "pgbouncer" 20 bench_sql "$BPORT" "select 1" || { cat "$T/pgbouncer.log"; exit 1; }
}

# bench_sql PORT SQL: one statement through PORT, as postgres (PGSSLMODE kept).
bench_sql() {
    as_pg env PGSSLMODE="${PGSSLMODE:-prefer}" "$PGBIN/psql" -h 127.0.0.1 -p "$1" -U postgres -d postgres -XAtc "$2"
}

bench_pgbench() {
    local out
    out=$(as_pg env PGSSLMODE="${PGSSLMODE:-prefer}" "$PGBIN/pgbench" -h 127.0.0.1 -p "$2" -U postgres \
        -S -c 8 -j 2 -T "$3" postgres 2>&1)
    if ! grep -q "number of failed transactions: 0 " <<<"$out"; then
        echo "pgbench through $1 failed:"
        echo "$out" | tail -5
        exit 1
    fi
    TPS=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
    LAT=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out")
    NTX=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
}

bench_cpu_ms() {
    # fields 14 and 15 of /proc/PID/stat, after the ")" that ends the command name
    awk -v tck="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print int(($12 + $13) * 1000 / tck) }' "/proc/$1/stat"
}
