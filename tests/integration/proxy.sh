#!/bin/bash
# The traffic proxy against real PostgreSQL 15: SCRAM both ways, pgbench,
# COPY, pause (waiting, cancelling), switch to a promoted standby with named
# prepared statements, a server refusing credentials, kill -9 of the server,
# garbage from clients, and the admin API's 4xx answers.
source "$(dirname "$0")/lib.sh"

pg_primary p
psql_q p "alter role postgres password 'secret'; create role app login password 'apppw'; grant all on schema public to app" >/dev/null
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
proxy_config() { # extra keys
    write_config "[proxy]" "listen = 127.0.0.1:$LPORT" "admin = 127.0.0.1:$APORT" "credentials = $T/creds" \
        "login-timeout = 2" "pause-timeout = 5" "$@"
}
proxy_config
API=http://127.0.0.1:$APORT

# api METHOD PATH [BODY]: prints "CODE BODY"
api() {
    local out=$T/api.$$ code
    code=$(curl -s -o "$out" -w '%{http_code}' -X "$1" ${3:+-d "$3"} "$API$2")
    echo "$code $(cat "$out")"
    rm -f "$out"
}
# through the proxy
pq() { as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtq -v ON_ERROR_STOP=1 "$@"; }
jfield() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

check_error "credentials file with group access is refused" 3 'credentials file .* has group or world access' \
    bash -c "chmod 640 $T/creds; timeout 10 runuser -u postgres -- $DRYDOCK --config $CONF proxy; rc=\$?; chmod 600 $T/creds; exit \$rc"

dd proxy 2>"$T/proxy.log" &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
wait_for "proxy admin API" 20 curl -sf "$API/status"

# --- authentication -----------------------------------------------------------
check_eq "query through the proxy with SCRAM" 2 "$(pq -c 'select 1+1')"
out=$(as_pg env PGPASSWORD=wrong "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtc 'select 1' 2>&1)
check "a wrong password is refused" grep -q 'password authentication failed for user "postgres"' <<<"$out"
check_eq "a user with a SCRAM verifier only: client and server authenticated" app \
    "$(as_pg env PGPASSWORD=apppw "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U app -d postgres -XAtc 'select current_user')"
check_eq "the startup parameters reach the server" myapp \
    "$(as_pg env PGAPPNAME=myapp "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtc 'show application_name')"

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

# --- pause ------------------------------------------------------------------------
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
check_eq "status says paused" True "$(curl -s "$API/status" | jfield "['paused']")"
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
check_eq "after a 408 the proxy is not paused" False "$(curl -s "$API/status" | jfield "['paused']")"
wait $tx2
check "the transaction still open at the deadline went on" test $? -eq 0

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
finish
