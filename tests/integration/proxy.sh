#!/bin/bash
# The traffic proxy against real PostgreSQL 15: SCRAM both ways, pgbench,
# COPY, pause (waiting, cancelling), switch to a promoted standby with named
# prepared statements, a server refusing credentials, kill -9 of the server,
# garbage from clients, and the admin API's 4xx answers.
source "$(dirname "$0")/lib.sh"

pg_primary p
psql_q p "alter role postgres password 'secret'; create role app login password 'apppw'; create role bob login password 'bobpw'; grant all on schema public to app" >/dev/null
sed -i 's|^host \+all \+all \+127.0.0.1/32 \+trust|host all all 127.0.0.1/32 scram-sha-256|' "${PG_DATA[p]}/pg_hba.conf"
as_pg "$PGBIN/pg_ctl" -D "${PG_DATA[p]}" reload >/dev/null
export PGPASSWORD=secret
pg_standby s p

LPORT=$(free_port)
APORT=$(free_port)
verifier=$(psql_q p "select rolpassword from pg_authid where rolname = 'app'")
printf '"postgres" "secret"\n; the verifier PostgreSQL stores: SCRAM both ways without the password\n"app" "%s"\n' "$verifier" >"$T/creds"
chown postgres "$T/creds"
chmod 600 "$T/creds"
admin_token
proxy_config() { # extra keys
    write_config "[proxy]" "listen = 127.0.0.1:$LPORT" "admin = 127.0.0.1:$APORT" "credentials = $T/creds" \
        "login-timeout = 2" "pause-timeout = 5" "admin-token-file = $T/admin.token" "$@"
}
proxy_config
API=http://127.0.0.1:$APORT

# api METHOD PATH [BODY]: prints "CODE BODY"
api() {
    local out=$T/api.$$ code
    code=$(acurl -s -o "$out" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} "$API$2")
    echo "$code $(cat "$out")"
    rm -f "$out"
}
# through the proxy
pq() { as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtq -v ON_ERROR_STOP=1 "$@"; }
jfield() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

check_error "credentials file with group access is refused" 3 'credentials file .* has group or world access' \
    bash -c "chmod 640 $T/creds; timeout 10 runuser -u postgres -- $DRYDOCK --config $CONF proxy; rc=\$?; chmod 600 $T/creds; exit \$rc"

# setpriv execs (runuser would stay in between and take the signals).
setpriv --reuid=postgres --regid=postgres --init-groups "$DRYDOCK" --config "$CONF" proxy 2>"$T/proxy.log" &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
wait_for "proxy admin API" 20 acurl -sf "$API/status"

# --- authentication -----------------------------------------------------------
check_eq "query through the proxy with SCRAM" 2 "$(pq -c 'select 1+1')"
out=$(as_pg env PGPASSWORD=wrong "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtc 'select 1' 2>&1)
check "a wrong password is refused" grep -q 'password authentication failed for user "postgres"' <<<"$out"
check_eq "a user with a SCRAM verifier only: client and server authenticated" app \
    "$(as_pg env PGPASSWORD=apppw "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U app -d postgres -XAtc 'select current_user')"
check_eq "the startup parameters reach the server" myapp \
    "$(as_pg env PGAPPNAME=myapp "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtc 'show application_name')"

bob() { as_pg env PGPASSWORD=bobpw "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U bob -d postgres -XAtc 'select current_user' 2>&1; }
check "a user missing from the credentials file is refused" grep -q 'password authentication failed for user "bob"' <<<"$(bob)"
echo '"bob" "bobpw"' >>"$T/creds"
kill -HUP "$PROXY_PID"
wait_for "credentials reloaded" 10 grep -q "credentials reloaded" "$T/proxy.log"
check_eq "SIGHUP reloads the credentials" bob "$(bob)"

# A CancelRequest (psql sends one on SIGINT) reaches the right server with the real key.
setpriv --reuid=postgres --regid=postgres --init-groups "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres \
    -d postgres -XAtc 'select pg_sleep(30)' >/dev/null 2>"$T/cancel.err" &
victim=$!
sleep 1
kill -INT $victim
wait $victim
check "a cancel request through the proxy cancels the query" grep -q "canceling statement due to user request" "$T/cancel.err"

# --- load, COPY -----------------------------------------------------------------
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$LPORT" -U postgres -i -s 2 -q postgres >"$T/init.log" 2>&1
check "pgbench -i through the proxy" grep -q "done in" "$T/init.log"
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$LPORT" -U postgres -c 4 -j 2 -T 5 postgres >"$T/bench1.log" 2>&1
check "pgbench -c 4 -j 2 -T 5: no failed transaction" grep -q "number of failed transactions: 0 " "$T/bench1.log"
check "pgbench committed transactions" grep -qE "actually processed: [1-9]" "$T/bench1.log"

pq -c "create table t (a int, b text)"
seq 1 20000 | sed 's/$/\tsome text for the copy/' | pq -c "\\copy t from stdin"
check_eq "COPY FROM STDIN through the proxy" 20000 "$(pq -c 'select count(*) from t')"
pq -c "\\copy (select a, repeat(b, 20) from t) to '$T/out.copy'"
check_eq "COPY TO STDOUT through the proxy (a large result)" 20000 "$(wc -l <"$T/out.copy")"

out=$(pq -c "listen chan" -c "select pg_notify('chan', 'hello')")
check "notifications are forwarded" grep -q 'notification "chan" with payload "hello"' <<<"$out"

# --- pause ------------------------------------------------------------------------
# Pipelined extended protocol (several Syncs in flight): pauses land only on real boundaries.
cat >"$T/pipe.sql" <<'SQL'
\set aid random(1, 200000)
\startpipeline
select abalance from pgbench_accounts where aid = :aid;
update pgbench_accounts set abalance = abalance - 1 where aid = :aid;
select 1;
\endpipeline
SQL
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$LPORT" -U postgres -M prepared -f "$T/pipe.sql" -c 2 -j 1 -T 4 postgres >"$T/pipe.log" 2>&1 &
bench=$!
for i in 1 2 3; do
    sleep 0.8
    api POST /pause '{"timeout": 10}' >>"$T/pipe.api"
    api POST /resume >>"$T/pipe.api"
done
wait $bench
check_eq "three pauses during a pipelined load" 6 "$(grep -c '^200 ' "$T/pipe.api")"
check "pipelined pgbench through pauses: no failed transaction" grep -q "number of failed transactions: 0 " "$T/pipe.log"

pq -c "create table marks (id int)"
# A transaction open for about 2 s: the pause waits for its end.
pq -c "begin" -c "insert into marks values (1)" -c "select pg_sleep(2)" -c "commit" >/dev/null 2>"$T/tx1.err" &
tx1=$!
sleep 0.7
res=$(api POST /pause '{"timeout": 20}')
check_eq "pause waits for the open transaction, then holds everything" "200 true" \
    "$(echo "$res" | cut -d' ' -f1) $(echo "${res#* }" | jfield "['paused']" | tr T t)"
wait $tx1
check_eq "the transaction open at the pause committed" 1 "$(psql_q p 'select count(*) from marks where id = 1')"
pq -c "select 42" >"$T/held.out" 2>&1 &
held=$!
sleep 1
check "a query during the pause waits" kill -0 $held
check_eq "status says paused" True "$(acurl -s "$API/status" | jfield "['paused']")"
check_eq "pausing again answers with the current state" 200 "$(api POST /pause | cut -d' ' -f1)"
res=$(api POST /resume)
check_eq "resume" 200 "${res%% *}"
wait $held
check_eq "the held query completes after resume" 42 "$(cat "$T/held.out")"

# Deadline with on_timeout=resume: 408 with the open session.
pq -c "begin" -c "select pg_sleep(3)" -c "commit" >/dev/null 2>&1 &
tx2=$!
sleep 0.5
res=$(api POST /pause '{"timeout": 0.5}')
check_eq "pause deadline with on_timeout=resume: 408" 408 "${res%% *}"
check "the 408 lists the open session" grep -qE '"open":\[[0-9]+\]' <<<"$res"
check_eq "after a 408 the proxy is not paused" False "$(acurl -s "$API/status" | jfield "['paused']")"
wait $tx2
check "the transaction still open at the deadline went on" test $? -eq 0

# A caller that hangs up before its pause completes releases it (nobody would resume).
pq -c "begin" -c "select pg_sleep(2)" -c "commit" >/dev/null 2>&1 &
tx2=$!
sleep 0.5
acurl -s -m 0.5 -X POST -H 'Content-Type: application/json' -d '{"timeout": 20}' "$API/pause" >/dev/null
sleep 0.3
check_eq "an abandoned pause is released" "False False" \
    "$(acurl -s "$API/status" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['paused'], d['pausing'])")"
wait $tx2

# Deadline with on_timeout=cancel: a running query and an idle transaction are cancelled.
pq -c "begin" -c "insert into marks values (2)" -c "select pg_sleep(30)" -c "commit" >/dev/null 2>"$T/tx3.err" &
tx3=$!
pq -c "begin" -c "insert into marks values (3)" -c "\\! sleep 3" -c "commit" >/dev/null 2>"$T/tx4.err" &
tx4=$!
sleep 0.7
res=$(api POST /pause '{"timeout": 1, "on_timeout": "cancel"}')
check_eq "pause with on_timeout=cancel succeeds" "200 2" "${res%% *} $(echo "${res#* }" | jfield "['cancelled']")"
check_eq "resume after cancel" 200 "$(api POST /resume | cut -d' ' -f1)"
wait $tx3
rc3=$?
wait $tx4
rc4=$?
check "the running query was cancelled" grep -q "canceling statement due to user request" "$T/tx3.err"
check "the idle transaction got an error at its next statement" grep -q "terminated by the proxy" "$T/tx4.err"
check "both clients saw their transaction fail" test "$rc3" -ne 0 -a "$rc4" -ne 0
check_eq "neither cancelled transaction committed" 0 "$(psql_q p 'select count(*) from marks where id in (2, 3)')"
check_eq "the proxy serves after a cancelling pause" 1 "$(pq -c 'select 1')"

# --- switch to the promoted standby, under load, with named prepared statements -------
cat >"$T/prep.sql" <<'SQL'
\set aid random(1, 200000)
select abalance from pgbench_accounts where aid = :aid;
update pgbench_accounts set abalance = abalance + 1 where aid = :aid;
SQL
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$LPORT" -U postgres -M prepared -f "$T/prep.sql" -c 3 -j 1 -T 6 postgres >"$T/bench2.log" 2>&1 &
bench=$!
sleep 2
res=$(api POST /pause '{"timeout": 10}')
check_eq "pause under pgbench -M prepared" 200 "${res%% *}"
lsn=$(psql_q p "select pg_current_wal_flush_lsn()")
wait_for "standby replay" 30 sql_is s t "select pg_last_wal_replay_lsn() >= '$lsn'"
as_pg "$PGBIN/pg_ctl" -D "${PG_DATA[s]}" -w promote >/dev/null
res=$(api POST /switch "{\"server\": \"host=127.0.0.1 port=${PG_PORT[s]} user=postgres dbname=postgres\"}")
check_eq "switch to the promoted standby: every session moved" "200 3 0" \
    "${res%% *} $(echo "${res#* }" | jfield "['switched']") $(echo "${res#* }" | jfield "['failed']")"
check_eq "resume after the switch" 200 "$(api POST /resume | cut -d' ' -f1)"
wait $bench
check "pgbench -M prepared across the switch: no failed transaction" grep -q "number of failed transactions: 0 " "$T/bench2.log"
check "the prepared statements were there on the new server" bash -c "! grep -q 'does not exist' $T/bench2.log"
check_eq "new sessions go to the new server" "${PG_PORT[s]} f" "$(pq -c 'select inet_server_port(), pg_is_in_recovery()' | tr '|' ' ')"

# --- a new server that refuses the credentials ---------------------------------------
psql_q p "alter role postgres password 'changed'" >/dev/null
pq -c "select 1" -c "\\! sleep 3" -c "\\set VERBOSITY verbose" -c "select 2" >/dev/null 2>"$T/refused.err" &
victim=$!
sleep 0.7
check_eq "pause before switching to a refusing server" 200 "$(api POST /pause | cut -d' ' -f1)"
res=$(api POST /switch "{\"server\": \"host=127.0.0.1 port=${PG_PORT[p]}\"}")
check_eq "switch to a server refusing the credentials: the session failed" "200 0 1" \
    "${res%% *} $(echo "${res#* }" | jfield "['switched']") $(echo "${res#* }" | jfield "['failed']")"
api POST /resume >/dev/null
wait $victim
check "the session that could not move gets 08006" grep -q "08006" "$T/refused.err"
check "the proxy survived" kill -0 "$PROXY_PID"
api POST /pause >/dev/null
api POST /switch "{\"server\": \"host=127.0.0.1 port=${PG_PORT[s]}\"}" >/dev/null
api POST /resume >/dev/null
check_eq "switched back, the proxy serves" 1 "$(pq -c 'select 1')"

# --- kill -9 of the server under load ---------------------------------------------------
pq -c "\\set VERBOSITY verbose" -c "select pg_sleep(20)" >/dev/null 2>"$T/kill.err" &
victim=$!
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$LPORT" -U postgres -c 2 -T 3 postgres >/dev/null 2>&1 &
bench=$!
sleep 1
pm=$(head -1 "${PG_DATA[s]}/postmaster.pid")
kids=$(pgrep -P "$pm" | tr '\n' ' ')
kill -9 "$pm"
pkill -9 -P "$pm"
wait $victim
wait $bench
# Every killed process gone (or a zombie): a backend still exiting holds the
# shared memory, and the restart would refuse it. Once the postmaster is
# dead its children are no longer its children, so they are named by pid.
server_gone() {
    local p
    for p in $pm $kids; do
        ps -o stat= -p "$p" | grep -qv Z && return 1
    done
    return 0
}
wait_for "the killed server's processes to go" 60 server_gone
# (the dead postmaster may linger as a zombie here: its lock file would stop the restart)
rm -f "${PG_DATA[s]}/postmaster.pid" "$T/.s.PGSQL.${PG_PORT[s]}.lock"
check "clients of a killed server get 08006" grep -q "08006" "$T/kill.err"
check "the proxy survived the server's death" kill -0 "$PROXY_PID"
pg_start s
check_eq "the proxy serves again once the server is back" 1 "$(pq -c 'select 1')"

# --- bad clients ------------------------------------------------------------------------
cat >"$T/raw.py" <<'PY'
import socket, struct, sys
port, what = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(15)
def startup(user):
    body = struct.pack("!I", 196608) + b"user\0" + user + b"\0\0"
    return struct.pack("!I", len(body) + 4) + body
if what == "garbage":
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
elif what == "oversized":
    s.sendall(struct.pack("!II", 20000, 196608) + b"x" * 100)
elif what == "badframe":
    s.sendall(startup(b"postgres"))
    s.recv(100)
    s.sendall(b"p" + struct.pack("!I", 2))
elif what == "truncated":
    s.sendall(struct.pack("!II", 100, 196608) + b"user\0")
    s.shutdown(socket.SHUT_WR)
data = b""
try:
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    print("still open")
    sys.exit(0)
print("closed", "with error" if b"E\0\0" in data and b"SFATAL" in data else "silently")
PY
check_eq "garbage instead of a startup packet: dropped with an error" "closed with error" "$(python3 "$T/raw.py" "$LPORT" garbage)"
check_eq "an oversized startup packet: dropped with an error" "closed with error" "$(python3 "$T/raw.py" "$LPORT" oversized)"
check_eq "a malformed message length: dropped with an error" "closed with error" "$(python3 "$T/raw.py" "$LPORT" badframe)"
check_eq "a truncated packet: dropped" "closed silently" "$(python3 "$T/raw.py" "$LPORT" truncated)"
python3 "$T/raw.py" "$LPORT" silent >"$T/silent.out" &
silent=$!
sleep 0.5
check_eq "another client works while a silent one is connected" 1 "$(pq -c 'select 1')"
wait $silent
check_eq "a client that never finishes its startup is dropped at login-timeout" "closed with error" "$(cat "$T/silent.out")"

# --- admin API: bad requests --------------------------------------------------------------
check_eq "GET /pause: 405" 405 "$(api GET /pause | cut -d' ' -f1)"
check_eq "POST /status: 405" 405 "$(api POST /status | cut -d' ' -f1)"
check_eq "unknown path: 404" 404 "$(api GET /nope | cut -d' ' -f1)"
check_eq "invalid JSON: 400" 400 "$(api POST /pause '{' | cut -d' ' -f1)"
check_eq "a timeout that is not a number: 400" 400 "$(api POST /pause '{"timeout": "x"}' | cut -d' ' -f1)"
check_eq "an unknown on_timeout: 400" 400 "$(api POST /pause '{"on_timeout": "maybe"}' | cut -d' ' -f1)"
check_eq "switch while not paused: 409" 409 "$(api POST /switch '{"server": "host=127.0.0.1"}' | cut -d' ' -f1)"
check_eq "resume while not paused: 409" 409 "$(api POST /resume | cut -d' ' -f1)"
api POST /pause >/dev/null
check_eq "switch without a server: 400" 400 "$(api POST /switch '{}' | cut -d' ' -f1)"
check_eq "switch to an invalid conninfo: 400" 400 "$(api POST /switch '{"server": "host=127.0.0.1 port=x"}' | cut -d' ' -f1)"
api POST /resume >/dev/null

# --- proxy-ctl ------------------------------------------------------------------------------
check_eq "proxy-ctl status --json" 3 "$(dd proxy-ctl status --json | jfield "['counters']['switches']")"
check "proxy-ctl pause" bash -c "runuser -u postgres -- $DRYDOCK --config $CONF proxy-ctl pause --timeout 5 | grep -q 'sessions held'"
check "proxy-ctl resume" bash -c "runuser -u postgres -- $DRYDOCK --config $CONF proxy-ctl resume | grep -q 'resumed after'"
check_error "proxy-ctl resume when not paused exits 9" 9 "not paused" dd proxy-ctl resume

kill -TERM "$PROXY_PID"
wait "$PROXY_PID"
check_eq "SIGTERM stops the proxy cleanly" 0 $?
finish
