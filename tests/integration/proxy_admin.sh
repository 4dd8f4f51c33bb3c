#!/bin/bash
# The proxy's admin API locked down, its metrics and health endpoints, and a
# switchover through it with TLS on both legs, against PostgreSQL 15 servers
# that accept only TLS: requests without the token (401, nothing changed),
# from a web page (text/plain body, foreign Origin or Host), a /switch to a
# server the configuration does not name (403), the Unix socket with peer
# credentials, a proxy without an admin token file and a non-loopback
# listen without TLS refused at start, the admin certificate reloaded on
# SIGHUP (an HTTPS session open across it keeps working), proxy-ctl token-create; /metrics parsed by promtool while pgbench over TLS runs through
# "drydock switchover" with no failed transaction, the pause histogram
# moved; /health, /primary, /replica as load balancers read them.
source "$(dirname "$0")/lib.sh"

TLS=$T/tls
tls_ca "$TLS" proxy server admin admin2 || { note "could not make the test CA"; exit 1; }
pg_primary p
psql_q p "alter role postgres password 'secret'" >/dev/null
cat >>"${PG_DATA[p]}/postgresql.conf" <<CONF
ssl = on
ssl_cert_file = '$TLS/server.crt'
ssl_key_file = '$TLS/server.key'
CONF
{
    echo "local all all trust"
    echo "host replication all 127.0.0.1/32 trust"
    echo "hostssl all all 127.0.0.1/32 scram-sha-256"
    echo "hostnossl all all 127.0.0.1/32 reject"
} >"${PG_DATA[p]}/pg_hba.conf"
pg_stop p
pg_start p
export PGPASSWORD=secret
pg_standby s p
dd repo-create >/dev/null 2>&1 || { note "repo-create failed"; exit 1; }

LPORT=$(free_port)
APORT=$(free_port)
printf '"postgres" "secret"\n' >"$T/creds"
openssl rand -hex 32 >"$T/token"
openssl rand -hex 32 >"$T/wrong-token"
chown postgres "$T/creds" "$T/token" "$T/wrong-token"
chmod 600 "$T/creds" "$T/token" "$T/wrong-token"
TOKEN=$(cat "$T/token")
PROXY_INI=("[proxy]" "listen = 127.0.0.1:$LPORT" "admin = 127.0.0.1:$APORT" "credentials = $T/creds"
    "pause-timeout = 10" "client-tls-mode = require" "client-tls-cert-file = $TLS/proxy.crt"
    "client-tls-key-file = $TLS/proxy.key" "server-tls-mode = verify-full" "server-tls-ca-file = $TLS/ca.crt"
    "admin-token-file = $T/token" "admin-socket = $T/admin.sock" "probe-interval = 3600")
write_config "${PROXY_INI[@]}"
setpriv --reuid=postgres --regid=postgres --init-groups "$DRYDOCK" --config "$CONF" proxy 2>"$T/proxy.log" &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
API=http://127.0.0.1:$APORT
wait_for "proxy admin API" 20 curl -s -o /dev/null "$API/health" || { tail -5 "$T/proxy.log"; exit 1; }

# code METHOD PATH [curl options...]: the HTTP status only
code() { local m=$1 p=$2; shift 2; curl -s -o /dev/null -w '%{http_code}' -X "$m" "$@" "$API$p"; }
AUTH=(-H "Authorization: Bearer $TOKEN")
JSON=(-H "Content-Type: application/json")
phase() { curl -s "${AUTH[@]}" "$API/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["phase"])'; }
pq() { as_pg "$PGBIN/psql" "host=localhost port=$LPORT user=postgres dbname=postgres sslmode=verify-full sslrootcert=$TLS/ca.crt" -XAtq -c "$1"; }

# --- the token ---------------------------------------------------------------------
check_eq "GET /status without the token: 401" 401 "$(code GET /status)"
check_eq "GET /metrics without the token: 401" 401 "$(code GET /metrics)"
check_eq "GET /status with the token: 200" 200 "$(code GET /status "${AUTH[@]}")"
check_eq "POST /pause without the token: 401" 401 "$(code POST /pause "${JSON[@]}" -d '{}')"
check_eq "POST /pause with a wrong token: 401" 401 "$(code POST /pause "${JSON[@]}" -H "Authorization: Bearer $(cat "$T/wrong-token")" -d '{}')"
check_eq "... and nothing changed: the proxy runs" running "$(phase)"

# --- what a web page can send ---------------------------------------------------------
check_eq "a text/plain body (a page's simple request): 415" 415 \
    "$(code POST /pause "${AUTH[@]}" -H 'Content-Type: text/plain' -d '{}')"
check_eq "a foreign Origin: 403" 403 "$(code POST /pause "${AUTH[@]}" "${JSON[@]}" -H 'Origin: http://evil.example' -d '{}')"
check_eq "a foreign Host (DNS rebinding): 403" 403 \
    "$(code POST /pause "${AUTH[@]}" "${JSON[@]}" -H "Host: evil.example:$APORT" -d '{}')"
check_eq "no CORS preflight answer" 405 "$(code OPTIONS /pause -H 'Origin: http://evil.example' -H 'Access-Control-Request-Method: POST')"
check "no Access-Control header in any answer" bash -c "! curl -si -H 'Origin: http://evil.example' '$API/health' | grep -qi '^access-control'"
check_eq "... and nothing changed" running "$(phase)"

# --- /switch only to the servers the configuration names -------------------------------
check_eq "pause with the token" 200 "$(code POST /pause "${AUTH[@]}" "${JSON[@]}" -d '{"timeout": 5}')"
FAKE=$(free_port)
check_eq "/switch to a server the configuration does not name: 403" 403 \
    "$(code POST /switch "${AUTH[@]}" "${JSON[@]}" -d "{\"server\": \"host=127.0.0.1 port=$FAKE user=postgres\"}")"
check "... the proxy still points at the primary" bash -c "curl -s -H 'Authorization: Bearer $TOKEN' $API/status | grep -q 'port=${PG_PORT[p]}'"
check_eq "resume" 200 "$(code POST /resume "${AUTH[@]}" "${JSON[@]}")"
check_eq "a dry run (check) for an unknown server: 403, in any phase" 403 \
    "$(code POST /switch "${AUTH[@]}" "${JSON[@]}" -d "{\"server\": \"host=127.0.0.1 port=$FAKE\", \"check\": true}")"
check_eq "a dry run for the configured standby: allowed" '{"allowed":true}' \
    "$(curl -s -X POST "${AUTH[@]}" "${JSON[@]}" -d "{\"server\": \"$(conninfo s)\", \"check\": true}" "$API/switch")"
check_eq "... and nothing changed" running "$(phase)"

# --- the Unix socket: peer credentials instead of the token -----------------------------
check_eq "the admin socket is mode 0600" 600 "$(stat -c %a "$T/admin.sock")"
check_eq "over the socket, the proxy's user needs no token" 200 \
    "$(as_pg curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/admin.sock" http://localhost/status)"
chmod 666 "$T/admin.sock"
check_eq "over the socket, another user is refused (peer credentials)" 403 \
    "$(runuser -u nobody -- curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/admin.sock" http://localhost/status)"
chmod 600 "$T/admin.sock"

# --- proxy-ctl reads the token from the configuration ---------------------------------------
check "proxy-ctl status with the configured token" bash -c "runuser -u postgres -- $DRYDOCK --config $CONF proxy-ctl status | grep -q '^paused: no'"
sed "s|^admin-token-file = .*|admin-token-file = $T/wrong-token|; /^admin-socket/d" "$CONF" >"$T/wrong.conf"
chown postgres "$T/wrong.conf"
check_error "proxy-ctl with a wrong token exits 3" 3 'HTTP 401' \
    runuser -u postgres -- "$DRYDOCK" --config "$T/wrong.conf" proxy-ctl status

# --- health for load balancers -------------------------------------------------------------
wait_for "the probe" 10 bash -c "curl -s $API/primary | grep -q '\"role\":\"primary\"'"
check_eq "/health without a token: 200" 200 "$(code GET /health)"
check_eq "/primary: 200 on the primary" 200 "$(code GET /primary)"
check_eq "/replica: 503 on the primary" 503 "$(code GET /replica)"

# --- /metrics during a switchover, pgbench over TLS through it -------------------------------
curl -s "${AUTH[@]}" "$API/metrics" >"$T/metrics.0"
check "/metrics passes promtool check metrics" bash -c "promtool check metrics <$T/metrics.0"
code POST /pause "${AUTH[@]}" "${JSON[@]}" -d '{"timeout": 5}' >/dev/null
curl -s "${AUTH[@]}" "$API/metrics" >"$T/metrics.paused"
code POST /resume "${AUTH[@]}" "${JSON[@]}" >/dev/null
check "a scrape while paused passes promtool" bash -c "promtool check metrics <$T/metrics.paused"
check "... and shows the phase paused" grep -qx 'drydock_proxy_phase{phase="paused"} 1' "$T/metrics.paused"
holds() { sed -n 's/^drydock_proxy_pause_hold_seconds_count \([0-9]*\)$/\1/p' "$1"; }
curl -s "${AUTH[@]}" "$API/metrics" >"$T/metrics.before"
holds0=$(holds "$T/metrics.before")
check_eq "the two pauses so far are in the hold histogram" 2 "$holds0"
as_pg "$PGBIN/pgbench" -h localhost -p "$LPORT" -U postgres -i -s 1 -q postgres >/dev/null 2>&1
PGSSLMODE=verify-full PGSSLROOTCERT=$TLS/ca.crt as_pg env PGSSLMODE=verify-full PGSSLROOTCERT="$TLS/ca.crt" \
    "$PGBIN/pgbench" -h localhost -p "$LPORT" -U postgres -n -c 4 -j 2 -T 10 postgres >"$T/bench.out" 2>&1 &
bench=$!
(for i in $(seq 1 60); do curl -s "${AUTH[@]}" "$API/metrics" >"$T/scrape.$i"; sleep 0.2; done) &
scraper=$!
sleep 3
dd switchover >"$T/sw.out" 2>"$T/sw.err"
check_eq "drydock switchover through the locked API (token from the config)" 0 $?
wait $bench
check "pgbench over TLS through the switchover: no failed transaction" grep -q "number of failed transactions: 0 " "$T/bench.out"
check "pgbench committed transactions" grep -qE "actually processed: [1-9]" "$T/bench.out"
kill $scraper 2>/dev/null
wait $scraper 2>/dev/null
bad=0
for f in "$T"/scrape.*; do promtool check metrics <"$f" >/dev/null 2>&1 || bad=$((bad + 1)); done
check_eq "every scrape during the switchover passes promtool" 0 "$bad"
curl -s "${AUTH[@]}" "$API/metrics" >"$T/metrics.1"
check_eq "the pause histogram counted the switchover's hold" "$((holds0 + 1))" "$(holds "$T/metrics.1")"
check_eq "one switch counted" 1 "$(sed -n 's/^drydock_proxy_switches_total //p' "$T/metrics.1")"
check "sessions are counted by state" grep -qE '^drydock_proxy_sessions\{state="active"\} [0-9]+$' "$T/metrics.1"
check "bytes are counted" grep -qE '^drydock_proxy_bytes_total\{direction="out"\} [1-9]' "$T/metrics.1"
check_eq "the client sessions after the switch are on TLS to the new primary" "t" "$(pq "select ssl from pg_stat_ssl where pid = pg_backend_pid()")"
# The proxy switches while the promotion ends: its first probe may still see
# recovery. The probe interval is an hour here, so only the proxy's re-probe
# after a switch can show the new primary's role.
wait_for "the probe of the new primary" 15 bash -c "curl -s $API/primary | grep 'port=${PG_PORT[s]}' | grep -q '\"role\":\"primary\"'"
check_eq "/primary: 200 on the new primary, well before the probe interval" 200 "$(code GET /primary)"

# --- HTTPS, and a non-loopback listen with TLS and the token --------------------------------
kill -TERM "$PROXY_PID"
wait "$PROXY_PID"
AP2=$(free_port)
cp -p "$TLS/admin.crt" "$TLS/live.crt"
cp -p "$TLS/admin.key" "$TLS/live.key"
write_config "[proxy]" "listen = 127.0.0.1:$LPORT" "admin = 0.0.0.0:$AP2" "credentials = $T/creds" \
    "admin-token-file = $T/token" "admin-tls-cert-file = $TLS/live.crt" "admin-tls-key-file = $TLS/live.key" \
    "admin-tls-ca-file = $TLS/ca.crt"
setpriv --reuid=postgres --regid=postgres --init-groups "$DRYDOCK" --config "$CONF" proxy 2>"$T/proxy2.log" &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
wait_for "HTTPS admin API" 20 curl -s -o /dev/null --cacert "$TLS/ca.crt" "https://127.0.0.1:$AP2/health" ||
    { tail -5 "$T/proxy2.log"; exit 1; }
check_eq "a non-loopback listen with TLS and the token starts; plain HTTP gets nothing" 000 \
    "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$AP2/health")"
check_eq "over HTTPS without the token: 401" 401 \
    "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TLS/ca.crt" "https://127.0.0.1:$AP2/status")"
sed -i "s/^admin = .*/admin = 127.0.0.1:$AP2/" "$CONF"
check "proxy-ctl over HTTPS, checking the CA of admin-tls-ca-file" bash -c "runuser -u postgres -- $DRYDOCK --config $CONF proxy-ctl status | grep -q '^paused: no'"
# admin_serial: the serial of the certificate the admin listener presents now
admin_serial() {
    openssl s_client -connect "127.0.0.1:$AP2" -CAfile "$TLS/ca.crt" </dev/null 2>/dev/null | openssl x509 -noout -serial
}
check_eq "the admin listener presents its first certificate" "$(openssl x509 -noout -serial -in "$TLS/admin.crt")" "$(admin_serial)"
# A client that keeps one HTTPS connection open across both reloads: a GET
# before, after the good one (T/go.1) and after the broken one (T/go.2);
# it prints each status, whether the connection stayed the same, and the
# SHA-256 of the certificate that connection was given.
python3 - "$AP2" "$TLS/ca.crt" "$T" >"$T/open-session.out" 2>&1 <<'PY' &
import hashlib, http.client, os, ssl, sys, time
port, ca, t = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = http.client.HTTPSConnection("127.0.0.1", port, timeout=30,
                                context=ssl.create_default_context(cafile=ca))
out = []
for step in ("", "go.1", "go.2"):
    end = time.time() + 60
    while step and not os.path.exists(os.path.join(t, step)) and time.time() < end:
        time.sleep(0.05)
    c.request("GET", "/health")
    r = c.getresponse()
    r.read()
    out.append(str(r.status))
    if not step:
        sock = c.sock
        open(os.path.join(t, "open-session.ready"), "w").close()
print(" ".join(out), "same" if c.sock is sock else "reconnected",
      hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest())
PY
SESSION_PID=$!
wait_for "the open HTTPS session" 20 test -e "$T/open-session.ready"
cp -p "$TLS/admin2.crt" "$TLS/live.crt"
cp -p "$TLS/admin2.key" "$TLS/live.key"
kill -HUP "$PROXY_PID"
wait_for "the admin certificate reloaded" 10 grep -q "admin API certificate reloaded" "$T/proxy2.log"
touch "$T/go.1"
check_eq "after SIGHUP the admin listener presents the new certificate" \
    "$(openssl x509 -noout -serial -in "$TLS/admin2.crt")" "$(admin_serial)"
echo broken >"$TLS/live.key"
kill -HUP "$PROXY_PID"
wait_for "the failed admin reload" 10 grep -q "admin API certificate not reloaded" "$T/proxy2.log"
touch "$T/go.2"
check_eq "a broken admin key on reload keeps the previous certificate" \
    "$(openssl x509 -noout -serial -in "$TLS/admin2.crt")" "$(admin_serial)"
check_eq "... and HTTPS still answers" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TLS/ca.crt" "https://127.0.0.1:$AP2/health")"
wait "$SESSION_PID"
check_eq "an HTTPS session open across both reloads answers on the same connection, with its first certificate" \
    "200 200 200 same $(openssl x509 -in "$TLS/admin.crt" -outform DER | sha256sum | cut -d' ' -f1)" \
    "$(cat "$T/open-session.out")"

# --- refused at start ------------------------------------------------------------------------
kill -TERM "$PROXY_PID"
wait "$PROXY_PID"
write_config "[proxy]" "listen = 127.0.0.1:$LPORT" "admin = 127.0.0.1:$APORT" "credentials = $T/creds" \
    "admin-socket = $T/admin.sock"
check_error "no admin-token-file: refused at start (exit 3), even on loopback with a socket" 3 \
    'the proxy needs an admin token: \[proxy\] admin-token-file is not set.*HINT: create one with "drydock proxy-ctl token-create FILE"' \
    runuser -u postgres -- "$DRYDOCK" --config "$CONF" proxy
check "... and it did not start listening" bash -c "! curl -s -o /dev/null $API/health"
write_config "[proxy]" "listen = 127.0.0.1:$LPORT" "admin = 0.0.0.0:$APORT" "credentials = $T/creds" \
    "admin-token-file = $T/token"
check_error "a non-loopback admin listen with a token but without TLS is refused at start" 3 \
    'the admin API may listen on "0.0.0.0:[0-9]+", not a loopback address, only with TLS and a token' \
    runuser -u postgres -- "$DRYDOCK" --config "$CONF" proxy
chmod 644 "$T/token"
write_config "[proxy]" "listen = 127.0.0.1:$LPORT" "admin = 127.0.0.1:$APORT" "credentials = $T/creds" \
    "admin-token-file = $T/token"
check_error "a token file readable by others is refused" 3 'admin token file .* has group or world access' \
    runuser -u postgres -- "$DRYDOCK" --config "$CONF" proxy
chmod 600 "$T/token"

# --- proxy-ctl token-create --------------------------------------------------------------
check "proxy-ctl token-create writes a new token" runuser -u postgres -- "$DRYDOCK" proxy-ctl token-create "$T/new.token"
check_eq "... mode 0600, owned by the caller" "600 postgres" "$(stat -c '%a %U' "$T/new.token")"
check "... 64 hex digits (32 random bytes)" grep -qxE '[0-9a-f]{64}' "$T/new.token"
check "... unlike another one" bash -c "runuser -u postgres -- $DRYDOCK proxy-ctl token-create $T/new2.token && ! cmp -s $T/new.token $T/new2.token"
check_error "... an existing file is refused and kept (exit 7)" 7 'could not create admin token file ".*new.token": File exists' \
    runuser -u postgres -- "$DRYDOCK" proxy-ctl token-create "$T/new.token"
write_config "[proxy]" "listen = 127.0.0.1:$LPORT" "admin = 127.0.0.1:$APORT" "credentials = $T/creds" \
    "admin-token-file = $T/new.token"
setpriv --reuid=postgres --regid=postgres --init-groups "$DRYDOCK" --config "$CONF" proxy 2>"$T/proxy3.log" &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
wait_for "the proxy with the new token" 20 curl -sf -H "Authorization: Bearer $(cat "$T/new.token")" "$API/status" ||
    { tail -5 "$T/proxy3.log"; exit 1; }
check_eq "the proxy accepts the token token-create made" 200 \
    "$(code GET /status -H "Authorization: Bearer $(cat "$T/new.token")")"
check_eq "... and not the old one" 401 "$(code GET /status "${AUTH[@]}")"
kill -TERM "$PROXY_PID"
wait "$PROXY_PID"
finish
