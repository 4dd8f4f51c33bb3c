#!/bin/bash
# The proxy in production dress against real PostgreSQL 15: a test CA made
# here with openssl; psql with sslmode=verify-full through the proxy (and
# SCRAM-SHA-256-PLUS channel binding); servers that accept only TLS
# (hostssl); cleartext password auth to a server refused unless opted in;
# unknown users failing at the same point as known ones (mock SCRAM);
# certificates reloaded on SIGHUP without dropping a session; a cancel
# request sent to the server over TLS, as the sessions are.
source "$(dirname "$0")/lib.sh"

# --- a test CA, the proxy's and the servers' certificates ---------------------
TLS=$T/tls
mkdir -p "$TLS"
# cert NAME CN SAN: a key and a certificate signed by the test CA
cert() {
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
        -keyout "$TLS/$1.key" -out "$TLS/$1.csr" 2>/dev/null &&
        openssl x509 -req -in "$TLS/$1.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial \
            -days 2 -out "$TLS/$1.crt" -extfile <(printf 'subjectAltName=%s\n' "$3") 2>/dev/null
}
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=drydock test CA" -keyout "$TLS/ca.key" -out "$TLS/ca.crt" 2>/dev/null
cert proxy localhost "DNS:localhost,IP:127.0.0.1"
cert proxy2 localhost "DNS:localhost,IP:127.0.0.1" # the one a reload brings
cert server localhost "DNS:localhost,IP:127.0.0.1"
cert client app "DNS:app"                          # a client certificate for user app
chown -R postgres:postgres "$TLS"
chmod 600 "$TLS"/*.key
check "the test CA signs the proxy's certificate" openssl verify -CAfile "$TLS/ca.crt" "$TLS/proxy.crt"

# --- a primary that accepts only TLS, and a standby of it ----------------------
pg_primary p
cat >>"${PG_DATA[p]}/postgresql.conf" <<CONF
ssl = on
ssl_cert_file = '$TLS/server.crt'
ssl_key_file = '$TLS/server.key'
CONF
psql_q p "alter role postgres password 'secret'; create role app login password 'apppw'; create role clear login password 'clearpw'" >/dev/null
{
    echo "local all all trust"
    echo "host replication all 127.0.0.1/32 trust"
    echo "hostssl all clear 127.0.0.1/32 password"
    echo "hostssl all all 127.0.0.1/32 scram-sha-256"
    echo "hostnossl all all 127.0.0.1/32 reject"
} >"${PG_DATA[p]}/pg_hba.conf"
pg_stop p
pg_start p
export PGPASSWORD=secret
check_eq "the server refuses plain connections" 2 \
    "$(as_pg "$PGBIN/psql" "host=127.0.0.1 port=${PG_PORT[p]} user=postgres dbname=postgres sslmode=disable" -XAtc 'select 1' >/dev/null 2>&1; echo $?)"

LPORT=$(free_port)
APORT=$(free_port)
printf '"postgres" "secret"\n"app" "apppw"\n"clear" "clearpw"\n' >"$T/creds"
chown postgres "$T/creds"
chmod 600 "$T/creds"
cp "$TLS/proxy.crt" "$TLS/live.crt"
cp "$TLS/proxy.key" "$TLS/live.key"
chown postgres "$TLS/live.crt" "$TLS/live.key"
PROXY_TLS=("client-tls-mode = require" "client-tls-cert-file = $TLS/live.crt" "client-tls-key-file = $TLS/live.key"
    "client-tls-ca-file = $TLS/ca.crt" "server-tls-mode = verify-full" "server-tls-ca-file = $TLS/ca.crt")
admin_token
proxy_config() { # extra keys
    write_config "[proxy]" "listen = 127.0.0.1:$LPORT" "admin = 127.0.0.1:$APORT" "credentials = $T/creds" \
        "server = host=${SERVER_HOST:-localhost} port=${SERVER_PORT:-${PG_PORT[p]}} user=postgres dbname=postgres" \
        "login-timeout = 5" "admin-read-auth = none" "admin-token-file = $T/admin.token" "${PROXY_TLS[@]}" "$@"
}
# proxy_start: drydock proxy in the background, PROXY_PID its pid
proxy_start() {
    setpriv --reuid=postgres --regid=postgres --init-groups "$DRYDOCK" --config "$CONF" ${PROXY_VERBOSE:-} proxy 2>>"$T/proxy.log" &
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    wait_for "proxy admin API" 20 curl -s -o /dev/null "http://127.0.0.1:$APORT/health" || { tail -5 "$T/proxy.log"; exit 1; }
}
proxy_stop() { kill -TERM "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null; }
proxy_config
proxy_start

# through the proxy, with a conninfo tail
pq() { as_pg "$PGBIN/psql" "host=localhost port=$LPORT user=${PQUSER:-postgres} dbname=postgres $1" -XAtq -v ON_ERROR_STOP=1 -c "$2"; }
VF="sslmode=verify-full sslrootcert=$TLS/ca.crt"

# --- TLS on both legs ----------------------------------------------------------
check_eq "psql sslmode=verify-full through the proxy" 1 "$(pq "$VF" "select 1")"
check_eq "the leg to the server is TLS too (hostssl only)" "t TLSv1.3" \
    "$(pq "$VF" "select ssl, version from pg_stat_ssl where pid = pg_backend_pid()" | tr '|' ' ')"
as_pg "$PGBIN/psql" "host=localhost port=$LPORT user=postgres dbname=postgres $VF" -XAtq -c "select pg_sleep(1.5)" >/dev/null &
bg=$!
sleep 0.5
check_eq "the proxy's status shows the client's session on TLS" True \
    "$(curl -s "http://127.0.0.1:$APORT/status" | python3 -c 'import json,sys; s=json.load(sys.stdin)["sessions"]; print(len(s) > 0 and all(x["tls"] for x in s))')"
wait $bg
check_eq "channel binding required by the client (SCRAM-SHA-256-PLUS)" 1 "$(pq "$VF channel_binding=require" "select 1")"
out=$(pq "sslmode=disable" "select 1" 2>&1)
check "a plain client is refused (client-tls-mode = require)" grep -q "accepts only TLS connections" <<<"$out"
out=$(as_pg "$PGBIN/psql" "host=localhost port=$LPORT user=postgres dbname=postgres sslmode=verify-full sslrootcert=/etc/ssl/certs/ca-certificates.crt" -XAtc 'select 1' 2>&1)
check "a client that does not trust the test CA refuses the proxy" grep -q "certificate verify failed" <<<"$out"
check_eq "a client certificate signed by the CA is accepted" app \
    "$(PQUSER=app PGPASSWORD=apppw pq "$VF sslcert=$TLS/client.crt sslkey=$TLS/client.key" "select current_user")"

# --- cleartext passwords to a server ------------------------------------------------
out=$(PQUSER=clear PGPASSWORD=clearpw pq "$VF" "select current_user" 2>&1)
check "a server asking a cleartext password is refused by default" grep -q "does not allow sending one" <<<"$out"
check "... and the proxy sent no password (the server saw none)" bash -c "! grep -q 'password authentication failed for user \"clear\"' $T/p.log"
proxy_stop
proxy_config "server-auth = password"
proxy_start
check_eq "with server-auth = password, over TLS, it is sent" clear \
    "$(PQUSER=clear PGPASSWORD=clearpw pq "$VF" "select current_user" 2>&1)"

# --- unknown users: the same exchange as known ones ------------------------------------
cat >"$T/sasl.py" <<'PY'
import socket, ssl, struct, sys
port, user = int(sys.argv[1]), sys.argv[2].encode()
raw = socket.create_connection(("127.0.0.1", port))
raw.sendall(struct.pack("!II", 8, 80877103))
assert raw.recv(1) == b"S"
ctx = ssl.create_default_context(cafile=sys.argv[3])
s = ctx.wrap_socket(raw, server_hostname="localhost")
body = struct.pack("!I", 196608) + b"user\0" + user + b"\0database\0postgres\0\0"
s.sendall(struct.pack("!I", len(body) + 4) + body)
t = s.recv(1)
n = struct.unpack("!I", s.recv(4))[0]
data = s.recv(n - 4)
print("R%d" % struct.unpack("!I", data[:4])[0] if t == b"R" else t.decode())
PY
check_eq "a known user is asked for SASL first" R10 "$(python3 "$T/sasl.py" "$LPORT" postgres "$TLS/ca.crt")"
check_eq "an unknown user is asked for SASL first too" R10 "$(python3 "$T/sasl.py" "$LPORT" nosuchuser "$TLS/ca.crt")"
known=$(PGPASSWORD=wrong pq "$VF" "select 1" 2>&1 | sed 's/.*FATAL: *//')
unknown=$(PQUSER=nosuchuser PGPASSWORD=wrong pq "$VF" "select 1" 2>&1 | sed 's/.*FATAL: *//')
check_eq "a wrong password and an unknown user fail alike" \
    "password authentication failed for user \"X\"" \
    "$(echo "$known" | sed 's/"postgres"/"X"/')"
check_eq "... the unknown user's message names only the user" \
    "password authentication failed for user \"X\"" "$(echo "$unknown" | sed 's/"nosuchuser"/"X"/')"

# --- certificates reloaded on SIGHUP, sessions kept -------------------------------------
serial() { # the serial of the certificate the proxy presents now
    openssl s_client -starttls postgres -connect 127.0.0.1:"$LPORT" -CAfile "$TLS/ca.crt" </dev/null 2>/dev/null |
        openssl x509 -noout -serial
}
before=$(serial)
check_eq "the proxy presents its first certificate" "$(openssl x509 -noout -serial -in "$TLS/proxy.crt")" "$before"
as_pg "$PGBIN/psql" "host=localhost port=$LPORT user=postgres dbname=postgres $VF" -XAtq \
    -c "select 1" -c "select pg_sleep(3)" -c "select 'still here', ssl from pg_stat_ssl where pid = pg_backend_pid()" >"$T/long.out" 2>&1 &
long=$!
sleep 1
cp "$TLS/proxy2.crt" "$TLS/live.crt"
cp "$TLS/proxy2.key" "$TLS/live.key"
kill -HUP "$PROXY_PID"
wait_for "TLS reloaded" 10 grep -q "TLS certificates reloaded" "$T/proxy.log"
check_eq "after SIGHUP the proxy presents the new certificate" "$(openssl x509 -noout -serial -in "$TLS/proxy2.crt")" "$(serial)"
wait $long
check_eq "a session open across the reload carried on" "1 still here|t" "$(tr -s '\n' ' ' <"$T/long.out" | sed 's/ $//')"
echo "broken" >"$TLS/live.key"
kill -HUP "$PROXY_PID"
wait_for "the failed reload" 10 grep -q "TLS certificates not reloaded" "$T/proxy.log"
check_eq "a broken key on reload keeps the previous certificate" "$(openssl x509 -noout -serial -in "$TLS/proxy2.crt")" "$(serial)"
cp "$TLS/proxy2.key" "$TLS/live.key"

# --- cancel requests over TLS ------------------------------------------------------------
# A relay between the proxy and the server logs the first request code of
# every connection: 80877103 SSLRequest, 80877102 CancelRequest (in clear).
cat >"$T/relay.py" <<'PY'
import socket, struct, sys, threading
lport, sport, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def pipe(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def serve(c):
    head = b""
    while len(head) < 8 and (d := c.recv(8 - len(head))):
        head += d
    with open(log, "a") as f:
        print(struct.unpack("!I", head[4:8])[0] if len(head) == 8 else "short", file=f, flush=True)
    s = socket.create_connection(("127.0.0.1", sport))
    s.sendall(head)
    threading.Thread(target=pipe, args=(s, c), daemon=True).start()
    pipe(c, s)
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", lport))
l.listen(16)
while True:
    threading.Thread(target=serve, args=(l.accept()[0],), daemon=True).start()
PY
RELAY=$(free_port)
python3 "$T/relay.py" "$RELAY" "${PG_PORT[p]}" "$T/relay.log" &
PIDS+=($!)
wait_for "the relay" 10 bash -c "ss -Htln | grep -q ':$RELAY '"
proxy_stop
SERVER_HOST=127.0.0.1 SERVER_PORT=$RELAY proxy_config # server-tls-mode = verify-full
proxy_start
check_eq "a session through the relay, on TLS (hostssl only)" t \
    "$(pq "$VF" "select ssl from pg_stat_ssl where pid = pg_backend_pid()")"
: >"$T/relay.log"
# psql sends its cancel request to the proxy on SIGINT; the proxy forwards it to the server.
out=$(timeout -s INT 2 "$PGBIN/psql" "host=localhost port=$LPORT user=postgres dbname=postgres $VF" -XAtq \
    -v VERBOSITY=verbose -c "select pg_sleep(30)" 2>&1)
check "pg_sleep(30) cancelled through the proxy: 57014" grep -q "57014: canceling statement due to user request" <<<"$out"
# The proxy's health probe may connect through the relay too (with an SSLRequest as well).
check_eq "no connection to the server began with a CancelRequest in clear" 0 "$(grep -c '^80877102$' "$T/relay.log")"
check "... every one began with an SSLRequest (the cancel's too: it arrived, 57014 above)" \
    bash -c "[ \$(grep -c '^80877103$' $T/relay.log) -ge 2 ] && ! grep -qv '^80877103$' $T/relay.log"
proxy_stop
check_error "client-tls-mode = require without a certificate is refused at start" 3 \
    'client-tls-mode = require needs client-tls-cert-file and client-tls-key-file' \
    bash -c "sed -i '/^client-tls-cert-file/d' $CONF; runuser -u postgres -- $DRYDOCK --config $CONF proxy"
finish
