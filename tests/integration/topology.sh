#!/bin/bash
# topology.sh - the roles follow the switch, the configuration file does not
# change: after "drydock switchover --demote" (p -> s, p rewound to stream
# from s) every command works against the new primary with the same file:
# check, backup (from the new standby), info, maint status (roles checked
# with pg_is_in_recovery), a second switchover back (s -> p) without --from
# or --to, and a restarted proxy connects to the current primary.
source "$(dirname "$0")/lib.sh"

pg_primary p
pg_standby s p
dd repo-create >/dev/null 2>&1 || { note "repo-create failed"; exit 1; }
switchover_proxy_start
STATE=$REPO-state
conf_sum() { md5sum "$CONF" | cut -d' ' -f1; }
role_of() { # ROLE: the port of the node maint status names for ROLE, and its live check
    dd maint status --json | jq -r --arg r "$1" '.roles[] | select(.role == $r) | "\(.conninfo | capture("port=(?<p>[0-9]+)").p) \(.live)"'
}
proxy_server_port() { acurl -sf "http://127.0.0.1:$APORT/status" | jq -r '.server' | sed -n 's/.*port=\([0-9]*\).*/\1/p'; }

before=$(conf_sum)
check_eq "before: maint status names p the primary, checked" "${PG_PORT[p]} primary" "$(role_of primary)"
check "switchover --demote p -> s" dd switchover --demote
check_eq "the configuration file is untouched" "$before" "$(conf_sum)"
check "the roles are recorded in the state directory" test -s "$STATE/topology.json"
check_eq "topology.json is mode 0600" 600 "$(stat -c %a "$STATE/topology.json")"
check_eq "maint status: s is the primary, checked live" "${PG_PORT[s]} primary" "$(role_of primary)"
check_eq "maint status: p is its standby, checked live" "${PG_PORT[p]} standby" "$(role_of standby)"
check "maint status shows the history" grep -q "^history:" <(dd maint status)
check "check works against the new primary" dd check
psql_q s "create table after_switch as select generate_series(1, 1000) i"
check "backup works (from the new standby)" dd backup
check "info works" dd info

# A restarted proxy connects to the current primary.
kill $(pgrep -f "^$DRYDOCK --config $CONF proxy\$") 2>/dev/null
check "the proxy stops" wait_for "the proxy to stop" 10 sh -c "! curl -s -o /dev/null http://127.0.0.1:$APORT/health"
dd proxy >"$T/proxy2.log" 2>&1 &
PIDS+=($!)
wait_for "the proxy again" 20 acurl -sf "http://127.0.0.1:$APORT/status"
check "it is a new proxy process" grep -q "listening on" "$T/proxy2.log"
check_eq "a restarted proxy points at the current primary s" "${PG_PORT[s]}" "$(proxy_server_port)"
check_eq "... and serves it" f "$(as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtqc 'select pg_is_in_recovery()')"

check "a second switchover, with no --from or --to, goes back s -> p" dd switchover --demote
check_eq "maint status: p is the primary again" "${PG_PORT[p]} primary" "$(role_of primary)"
check_eq "maint status: s is its standby" "${PG_PORT[s]} standby" "$(role_of standby)"
check_eq "the configuration file is still untouched" "$before" "$(conf_sum)"
check_eq "the rows written on s are on p" 1000 "$(psql_q p 'select count(*) from after_switch')"

finish
