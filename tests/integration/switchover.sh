#!/bin/bash
# switchover.sh - drydock switchover under a write load through drydock proxy.
#
# Round 1: pgbench (8 clients, one logged INSERT per transaction, committed
# with synchronous_commit = off) through the proxy; meanwhile the traffic moves from p to its standby s, and p is
# stopped. Round 2: a new standby t of s; under load again, the traffic
# moves to t and s is demoted (pg_rewind) to stream from t. Every
# transaction pgbench counted is in the new primary, none failed. Then the
# failures before the promotion: a target that is down, one that is not a
# standby, and one that cannot catch up while clients are held (the proxy
# resumes on the old primary and clients carry on).
source "$(dirname "$0")/lib.sh"

pg_primary p
pg_standby s p
dd repo-create >/dev/null 2>&1 || { note "repo-create failed"; exit 1; }

switchover_proxy_start
via_proxy() { as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtq -v ON_ERROR_STOP=1 -c "$*"; }
proxy_paused() { acurl -sf "http://127.0.0.1:$APORT/status" | python3 -c 'import json,sys; print(str(json.load(sys.stdin)["paused"]).lower())'; }

psql_q p "create table swlog (id bigserial primary key, client int, at timestamptz default now())"
cat >"$T/insert.sql" <<'SQL'
INSERT INTO swlog (client) VALUES (:client_id);
SQL
chown postgres "$T/insert.sql"

# pgbench_run NAME SECONDS [PGOPTIONS]: the write load through the proxy, in the background.
pgbench_run() {
    as_pg env PGOPTIONS="${3:-}" "$PGBIN/pgbench" -h 127.0.0.1 -p "$LPORT" -U postgres -n -c 8 -j 2 -R 2000 -T "$2" \
        -f "$T/insert.sql" postgres >"$T/$1.out" 2>&1 &
    BENCH_PID=$!
}

check_eq "the proxy passes PGOPTIONS on" off "$(as_pg env PGOPTIONS="-c synchronous_commit=off" "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtq -c "show synchronous_commit")"

# --- round 1: p -> s, p stopped -----------------------------------------
# Commits acknowledged before their WAL is flushed must reach the new primary too.
pgbench_run round1 12 "-c synchronous_commit=off"
sleep 4
dd switchover >"$T/sw1.out" 2>"$T/sw1.err"
rc=$?
cat "$T/sw1.out" | sed 's/^/# /'
check_eq "switchover to the configured standby succeeds" 0 "$rc"
wait "$BENCH_PID"
rc=$?
check_eq "pgbench through the switchover exits 0" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/round1.out" | tail -20
check_eq "pgbench saw no failed transaction" 0 "$(failed_tx round1)"
n1=$(processed round1)
check "pgbench committed transactions (${n1:-none})" test "${n1:-0}" -gt 100
check_eq "every transaction pgbench counted is in the new primary" "$n1" "$(psql_q s 'select count(*) from swlog')"
check "the switchover reported how long clients were held" grep -qE '^clients held: [0-9.]+ ms' "$T/sw1.out"
check "the pause step held the sessions" grep -qE '^  pause .* sessions held' "$T/sw1.out"
check "the held sessions connected ahead to the target (preconnect.c)" \
    grep -qE '^  pause .*; [1-9][0-9]* connecting ahead to the target' "$T/sw1.out"
check "it names the new primary" grep -q "the primary is now: .*port=${PG_PORT[s]}" "$T/sw1.out"
check_eq "the new primary is out of recovery" f "$(psql_q s 'select pg_is_in_recovery()')"
as_pg "$PGBIN/pg_ctl" -D "${PG_DATA[p]}" status >/dev/null 2>&1
check_eq "the old primary is stopped" 3 "$?"
check_eq "the proxy is not paused" false "$(proxy_paused)"

# --- round 2: s -> t, s demoted -----------------------------------------
pg_standby t s
write_config "${PROXY_INI[@]}" # pg_standby rewrote it without the proxy
# The proxy moves clients only to servers its configuration names (read again at each switch).
sed -i "s|^standby = .*|standby = $(conninfo t)|" "$CONF"
pgbench_run round2 10
sleep 3
dd switchover --demote --json --from "$(conninfo s)" --from-data "${PG_DATA[s]}" \
    --to "$(conninfo t)" --to-data "${PG_DATA[t]}" >"$T/sw2.out" 2>"$T/sw2.err"
rc=$?
sed 's/^/# /' "$T/sw2.out" "$T/sw2.err"
check_eq "switchover --demote to a new standby succeeds" 0 "$rc"
wait "$BENCH_PID"
check_eq "pgbench through the second switchover exits 0" 0 "$?"
check_eq "pgbench saw no failed transaction (round 2)" 0 "$(failed_tx round2)"
n2=$(processed round2)
check_eq "every transaction of both rounds is in the new primary" "$((n1 + n2))" "$(psql_q t 'select count(*) from swlog')"
check "the JSON report has the hold" python3 -c "import json,sys; r=json.load(open('$T/sw2.out')); sys.exit(0 if r['ok'] and r['hold_ms'] > 0 and r['held'] >= 1 else 1)"
check_eq "the new primary is out of recovery" f "$(psql_q t 'select pg_is_in_recovery()')"
wait_for "s streaming from t" 30 sql_is s "t|streaming" "select pg_is_in_recovery(), status from pg_stat_wal_receiver"
check_eq "the old primary is a standby streaming from the new one" "t|streaming" \
    "$(psql_q s 'select pg_is_in_recovery(), status from pg_stat_wal_receiver')"
wait_for "s replays" 30 sql_is s "$((n1 + n2))" "select count(*) from swlog"
check_eq "the demoted primary has every row" "$((n1 + n2))" "$(psql_q s 'select count(*) from swlog')"

# --- failures before the promotion -----------------------------------------
T_ARGS=(--from "$(conninfo t)" --from-data "${PG_DATA[t]}")
check_error "a target that is down: exit 6, one line" 6 'aborted at step "checks": could not connect to the target.*nothing was changed' \
    dd switchover "${T_ARGS[@]}" --to "$(conninfo p)"
check_error "a target that is not a standby: exit 6, one line" 6 'aborted at step "checks": the target .* is not in recovery' \
    dd switchover "${T_ARGS[@]}" --to "$(conninfo t)"
check_error "a --from-data that is not the primary's: exit 3" 3 'data directory is' \
    dd switchover --from "$(conninfo t)" --from-data "${PG_DATA[s]}" --to "$(conninfo s)"
sed "s/^admin = .*/admin = 127.0.0.1:$(free_port)/" "$CONF" >"$T/noproxy.conf"
chown postgres "$T/noproxy.conf"
check_error "a proxy that cannot be reached: exit 1, nothing changed" 1 \
    'aborted at step "checks": could not reach the proxy.s admin API.*nothing was changed' \
    as_pg "$DRYDOCK" --config "$T/noproxy.conf" switchover "${T_ARGS[@]}" --to "$(conninfo s)"
check_error "a bad option: exit 2" 2 'unknown option' dd switchover --bogus
check_error "a bad --max-lag: exit 2" 2 'max-lag expects bytes' dd switchover --max-lag lots
# A transaction that stays open past the pause deadline: the proxy resumes, nothing changes.
as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtq \
    -c "begin" -c "select pg_sleep(6)" -c "commit" >/dev/null 2>&1 &
LONG_PID=$!
wait_for "the open transaction" 10 sql_is t 1 "select count(*) from pg_stat_activity where query like '%pg_sleep(6)%' and pid <> pg_backend_pid()"
check_error "a transaction open past --pause-timeout: exit 8, nothing changed" 8 \
    'aborted at step "pause": .*HTTP 408.*; the proxy serves the old primary again' \
    dd switchover "${T_ARGS[@]}" --to "$(conninfo s)" --pause-timeout 1
check_eq "the standby is still a standby" t "$(psql_q s 'select pg_is_in_recovery()')"
wait "$LONG_PID"
check_eq "the long transaction committed through the proxy" 0 "$?"
# A standby that stops replaying: the pause holds, the catch-up times out, the proxy resumes on t.
psql_q s "select pg_wal_replay_pause()" >/dev/null
via_proxy "insert into swlog (client) values (-1)"
wait_for "s received the row" 20 sql_is s t "select pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"
check_error "a standby that cannot catch up: exit 8, resumed on the old primary" 8 \
    'aborted at step "catchup": the target did not replay .* within 1 s; the proxy serves the old primary again' \
    dd switchover "${T_ARGS[@]}" --to "$(conninfo s)" --pause-timeout 1
check_eq "the proxy is not paused after the abort" false "$(proxy_paused)"
check_eq "the target is still a standby" t "$(psql_q s 'select pg_is_in_recovery()')"
check_eq "clients keep working on the old primary" 1 "$(via_proxy "insert into swlog (client) values (-2) returning 1")"
check_eq "their rows are on t" 2 "$(psql_q t 'select count(*) from swlog where client < 0')"
psql_q s "select pg_wal_replay_resume()" >/dev/null
# The demotion gave s drydock's restore_command; the switchover cleared it for its hold (swquiet.h).
check_eq "the target's restore_command is drydock's again after the abort" " wal-fetch %f %p" \
    "$(psql_q s "select right(current_setting('restore_command'), 16)")"

finish
