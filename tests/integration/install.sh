#!/bin/bash
# Installing and running drydock as a service (issue 15): make install lays
# out the binary, man page, units and completion; the units pass
# systemd-analyze verify; the proxy runs with the unit's command line, tells
# a (stand-in) service manager it is ready, and reloads on SIGHUP without
# dropping a session; logs carry time, zone and pid off a terminal; wal-push
# is quiet on success; expire takes its retention from the configuration.
source "$(dirname "$0")/lib.sh"

# --- make install ----------------------------------------------------------
P=$T/prefix
make -s install BUILD="$BUILD" PREFIX="$P" SYSCONFDIR="$P/etc" >"$T/install.log" 2>&1
check "make install succeeds" test $? -eq 0
for f in bin/drydock share/man/man1/drydock.1 lib/systemd/system/drydock-proxy.service \
    lib/systemd/system/drydock-backup.service lib/systemd/system/drydock-backup.timer \
    lib/systemd/system/drydock-verify.service lib/systemd/system/drydock-verify.timer \
    lib/systemd/system/drydock-wal-receive.service \
    share/bash-completion/completions/drydock etc/logrotate.d/drydock share/doc/drydock/LICENSE; do
    check "installed $f" test -s "$P/$f"
done
check_eq "the binary is 0755" 755 "$(stat -c %a "$P/bin/drydock")"
check "the units name the installed binary" grep -q "^ExecStart=$P/bin/drydock proxy\$" \
    "$P/lib/systemd/system/drydock-proxy.service"
rm -rf "$T/staged"
make -s install BUILD="$BUILD" DESTDIR="$T/staged" PREFIX=/usr >/dev/null 2>&1
check "DESTDIR stages under the given root" test -x "$T/staged/usr/bin/drydock"
check "DESTDIR keeps the final paths in the units" grep -q '^ExecStart=/usr/bin/drydock proxy$' \
    "$T/staged/usr/lib/systemd/system/drydock-proxy.service"
(cd "$T" && MANPATH=$P/share/man systemd-analyze verify "$P"/lib/systemd/system/drydock-*) >"$T/verify.log" 2>&1
check "systemd-analyze verify passes on every unit" test $? -eq 0
man --warnings -l "$P/share/man/man1/drydock.1" >"$T/man.txt" 2>"$T/man.err"
check "the man page renders without warnings" test ! -s "$T/man.err"
check "the man page has every command's help" grep -q 'drydock expire \[--keep-backups N' "$T/man.txt"
check_eq "drydock help CMD is CMD --help" "$("$DRYDOCK" expire --help)" "$("$DRYDOCK" help expire)"
check "-V prints the version" grep -qE '^drydock [0-9]+\.[0-9]+' <<<"$("$DRYDOCK" -V)"

# bash completion, with the installed binary first on PATH.
complete_words() { # WORDS...: what completion offers for the last word
    PATH=$P/bin:$PATH bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _drydock; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$P/share/bash-completion/completions/drydock" "$@"
}
check_eq "completion of a command" expire "$(complete_words drydock expi)"
check "completion of a command's options" grep -qx -- '--keep-backups' <<<"$(complete_words drydock expire --keep)"
check "completion of maint's subcommands" grep -qx rehearse <<<"$(complete_words drydock maint re)"

# --- logs ------------------------------------------------------------------
"$DRYDOCK" --config "$T/none.conf" info 2>"$T/log.err"
check "off a terminal a line has an ISO-8601 time with zone and the pid" \
    grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} \[[0-9]+\] drydock info: ERROR: ' "$T/log.err"

# --- a cluster, its archive, retention from the configuration -----------------
pg_primary p
write_config "[global]" "log-destination = stderr" "[repository]" "keep-backups = 1"
# (the [repository] above repeats the section: the reader merges it)
dd repo-create --json >"$T/create.json" 2>/dev/null
check "repo-create --json names the system" jq -e '.system_identifier | test("^[0-9]+$")' "$T/create.json"
# Push a segment the archiver has already archived: same content, success.
seg=$(psql_q p "select pg_walfile_name(pg_current_wal_lsn())")
psql_q p "select pg_switch_wal()" >/dev/null
wait_for "segment archived" 60 sql_is p "$seg" "select last_archived_wal from pg_stat_archiver"
out=$(dd wal-push "${PG_DATA[p]}/pg_wal/$seg" 2>&1)
check_eq "wal-push says nothing on success" "" "$out"
check "wal-push --verbose says what it did" grep -q "already archived" <<<"$(dd --verbose wal-push "${PG_DATA[p]}/pg_wal/$seg" 2>&1)"
dd backup --from primary >/dev/null 2>>"$T/backup.err"
dd backup --from primary >/dev/null 2>>"$T/backup.err"
check_eq "two backups" 2 "$(ls "$REPO/backups" | wc -l)"
dd expire --json >"$T/expire.json" 2>"$T/expire.err"
check "expire with no flags uses [repository] keep-backups" test $? -eq 0
check_eq "one backup left" 1 "$(ls "$REPO/backups" | wc -l)"
check_eq "expire --json reports it" 1 "$(jq -r .backups_removed "$T/expire.json")"
dd check --json >"$T/check.json" 2>/dev/null
check "check --json names the archived segment" jq -e '.segment | test("^[0-9A-F]{24}$")' "$T/check.json"

# --- health for alerts: info --json and the metrics textfile ------------------
check "verify passes" dd verify
dd info --json >"$T/info.json" 2>/dev/null
check_eq "info --json: the last verify was good" true "$(jq -r .health.last_verify.ok "$T/info.json")"
check "info --json: the newest backup's age" jq -e '.health.last_backup_age_s >= 0' "$T/info.json"
check "info --json: the archive's lag behind the primary" jq -e '.health.archive_lag_bytes >= 0' "$T/info.json"
check "info --json: the archiver's failures" jq -e '.health.archiver_failed_count >= 0' "$T/info.json"
check "info --json: the repository's size" jq -e '.health.repository_bytes > 100000' "$T/info.json"
dd metrics --output "$T/drydock.prom"
check "metrics --output writes the textfile" test -s "$T/drydock.prom"
check_eq "the textfile is 0644" 644 "$(stat -c %a "$T/drydock.prom")"
if command -v promtool >/dev/null; then
    check "promtool accepts the metrics" promtool check metrics <"$T/drydock.prom"
fi
check "the metrics say the last verify was good" grep -qx 'drydock_last_verify_ok 1' "$T/drydock.prom"
check "the metrics have the archive lag" grep -qE '^drydock_archive_lag_bytes [0-9]' "$T/drydock.prom"
write_config "[repository]" "keep-backups = 1" "keep-days = 3"
check_error "both retention keys refused" 3 'keep-backups.*keep-days.*both set' dd expire
write_config "[global]" "log-destination = file"
check_error "a bad log-destination is refused" 3 'log-destination.*expected stderr or syslog' dd info

# --- Patroni owns promotion: switchover refuses, with a hint -----------------
touch "${PG_DATA[p]}/patroni.dynamic.json"
write_config "[cluster]" "standby = host=127.0.0.1 port=1 user=postgres"
sed -i '0,/^\[cluster\]$/!{/^\[cluster\]$/d}' "$CONF" # one [cluster] section
check_error "switchover refuses a Patroni-managed cluster (data directory)" 2 \
    'managed by Patroni .*patroni.dynamic.json.*HINT: run "patronictl switchover"' dd switchover
sed -i '/^primary-data = /d' "$CONF"
check_error "switchover refuses a Patroni-managed cluster (asked through SQL)" 2 \
    'managed by Patroni' dd switchover
check_error "--ignore-patroni goes on to the switchover's own checks" 3 'step "checks"' \
    dd switchover --ignore-patroni
rm -f "${PG_DATA[p]}/patroni.dynamic.json"

# --- the proxy under its unit's command line --------------------------------
LPORT=$(free_port)
APORT=$(free_port)
printf '"postgres" "secret"\n' >"$T/creds"
chown postgres "$T/creds"
chmod 600 "$T/creds"
admin_token
write_config "[proxy]" "listen = 127.0.0.1:$LPORT" "admin = 127.0.0.1:$APORT" "credentials = $T/creds" \
    "auth = trust" "stats-period = 1" "admin-token-file = $T/admin.token"
unit=$P/lib/systemd/system/drydock-proxy.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
exec_reload=$(sed -n 's/^ExecReload=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
check_eq "the proxy unit runs as postgres" postgres "$user"
# A stand-in for systemd's notify socket: prints each datagram it gets.
python3 - "$T/notify.sock" >"$T/notify.log" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
import os
os.chmod(sys.argv[1], 0o777)
s.settimeout(60)
while True:
    data = s.recv(4096)
    print(data.decode(), flush=True)
PY
PIDS+=($!)
wait_for "notify socket" 10 test -S "$T/notify.sock"
# shellcheck disable=SC2086
setpriv --reuid="$user" --regid="$user" --init-groups env DRYDOCK_CONFIG="$CONF" NOTIFY_SOCKET="$T/notify.sock" \
    ${exec_start/$P\/bin\/drydock/$DRYDOCK} 2>"$T/proxy.log" &
MAINPID=$!
PIDS+=("$MAINPID")
wait_for "READY=1 from the proxy" 20 grep -qx 'READY=1' "$T/notify.log"
check "the proxy tells the service manager it is ready" grep -qx 'READY=1' "$T/notify.log"
# A session held open across the reload.
coproc PSQL { as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$LPORT" -U postgres -d postgres -XAtq 2>&1; }
PIDS+=("$PSQL_PID")
echo "select 'before';" >&"${PSQL[1]}"
read -r -t 10 line <&"${PSQL[0]}"
check_eq "a session through the proxy" before "$line"
eval "${exec_reload//\$MAINPID/$MAINPID}"
wait_for "reload logged" 10 grep -q "credentials reloaded" "$T/proxy.log"
check "ExecReload reloads the proxy" grep -q "credentials reloaded" "$T/proxy.log"
echo "select 'after';" >&"${PSQL[1]}"
read -r -t 10 line <&"${PSQL[0]}"
check_eq "the session survives the reload" after "$line"
check "proxy log lines carry time and pid" grep -qE '^[0-9-]{10}T[0-9:.]{12}[+-][0-9:]{5} \[[0-9]+\] drydock proxy: LOG: listening' "$T/proxy.log"
wait_for "a stats line" 10 grep -q "drydock proxy: LOG: stats: " "$T/proxy.log"
check "the proxy logs a periodic summary (stats-period)" \
    grep -qE 'LOG: stats: [0-9]+ sessions \([0-9]+ active, [0-9]+ held\), [0-9]+ xacts/s, [0-9]+ queries/s' "$T/proxy.log"
kill "$MAINPID"
finish
