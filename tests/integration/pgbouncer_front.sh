#!/bin/bash
# drydock beside PgBouncer (issue 15): PgBouncer pools in front of drydock's
# proxy, drydock's proxy moves the traffic. pgbench writes through PgBouncer
# (transaction pooling) while drydock switchover moves the proxy from the
# primary to its standby: no failed transaction, every counted transaction
# on the new primary, and PgBouncer never noticed (no server reconnects).
source "$(dirname "$0")/lib.sh"

command -v pgbouncer >/dev/null || { note "pgbouncer is not installed"; fail "pgbouncer present"; finish; exit 1; }
pg_primary p
pg_standby s p
dd repo-create >/dev/null 2>&1
switchover_proxy_start

BPORT=$(free_port)
printf '"postgres" "postgres"\n' >"$T/userlist.txt"
cat >"$T/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$LPORT dbname=postgres user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BPORT
unix_socket_dir =
auth_type = trust
auth_file = $T/userlist.txt
pool_mode = transaction
default_pool_size = 8
max_client_conn = 100
logfile = $T/pgbouncer.log
pidfile = $T/pgbouncer.pid
INI
chown postgres "$T/pgbouncer.ini" "$T/userlist.txt"
as_pg pgbouncer "$T/pgbouncer.ini" >/dev/null 2>&1 &
PIDS+=($!)
via_bouncer() { as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$BPORT" -U postgres -d postgres -XAtq -v ON_ERROR_STOP=1 -c "$*"; }
wait_for "pgbouncer" 20 via_bouncer "select 1"
check_eq "a query through PgBouncer and drydock's proxy" 2 "$(via_bouncer 'select 1+1')"

psql_q p "create table bl (id bigserial primary key, client int)"
echo 'INSERT INTO bl (client) VALUES (:client_id);' >"$T/insert.sql"
chown postgres "$T/insert.sql"
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$BPORT" -U postgres -n -c 8 -j 2 -R 1000 -T 10 \
    -f "$T/insert.sql" postgres >"$T/bench.out" 2>&1 &
bench=$!
sleep 3
dd switchover >"$T/sw.out" 2>"$T/sw.err"
check_eq "drydock switchover under PgBouncer succeeds" 0 "$?"
sed 's/^/# /' "$T/sw.out" "$T/sw.err" | tail -12
wait "$bench"
check_eq "pgbench through PgBouncer exits 0" 0 "$?"
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$T/bench.out")
check_eq "no failed transaction" 0 "${failed:-0}"
n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$T/bench.out")
check "pgbench committed transactions (${n:-none})" test "${n:-0}" -gt 100
check_eq "every counted transaction is on the new primary" "$n" "$(psql_q s 'select count(*) from bl')"
check "PgBouncer logged no server login failure" bash -c "! grep -qiE 'server login failed|closing because: server conn crashed' '$T/pgbouncer.log'"
check_eq "PgBouncer still serves, now from the new primary" f "$(via_bouncer 'select pg_is_in_recovery()')"
finish
