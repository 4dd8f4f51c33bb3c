#!/bin/bash
# wal_receive.sh - drydock wal-receive against real PostgreSQL 15 (issue 14):
# WAL streamed through a physical slot into the archive beside
# archive_command; the slot advances and pg_wal stays bounded; a receiver
# killed with -9 resumes without a gap; a synchronous receiver keeps a commit
# through a kill -9 of the primary (flush-partial, then PITR with wal-fetch
# --partial); an asynchronous one loses at most its status interval; a
# promotion is followed onto the new timeline.
source "$(dirname "$0")/lib.sh"

SPOOL=$REPO-state/wal-receive # the default spool, which info and metrics read
recv_start() { # ARGS...: wal-receive in the background, its log in $T/recv.log
    rm -f "$SPOOL/status"
    dd wal-receive --status-interval 1 "$@" >>"$T/recv.log" 2>&1 &
    PIDS+=($!)
    wait_for "wal-receive streaming" 30 grep -q '^state streaming' "$SPOOL/status"
}
recv_pid() { awk '$1 == "pid" {print $2}' "$SPOOL/status"; }
recv_stop() { # SIGTERM, and wait for a clean exit
    local pid
    pid=$(recv_pid)
    kill -TERM "$pid" && wait_for "wal-receive to stop" 30 grep -q '^state stopped' "$SPOOL/status" &&
        wait_for "wal-receive to exit" 10 test ! -d "/proc/$pid"
}
archived() { test -n "$(find "$REPO/wal" -name "$1" 2>/dev/null)"; }
pitr() { # NAME [FETCH-OPTION]: the base backup recovered through wal-fetch to the archive's end
    local dir=$T/$1 port
    port=$(free_port)
    cp -a "$T/base" "$dir"
    sed -i "s/^port = .*/port = $port/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
    echo "restore_command = '$DRYDOCK --config $CONF wal-fetch ${2:-} %f %p'" >>"$dir/postgresql.conf"
    as_pg touch "$dir/recovery.signal"
    restore_start "$1" "$dir" "$port"
}
kill_primary() { # kill -9 of p's postmaster: its children die with it
    kill -9 "$(head -1 "${PG_DATA[p]}/postmaster.pid")"
    wait_for "p to die" 30 bash -c "! psql_q() { :; }; ! $PGBIN/pg_isready -q -h 127.0.0.1 -p ${PG_PORT[p]}"
}
current_segment() { psql_q p "select pg_walfile_name(pg_current_wal_lsn())"; }
lsn_ge() { psql_q p "select '$1'::pg_lsn >= '$2'::pg_lsn" | grep -qx t; }

pg_primary p
dd repo-create >/dev/null || exit 1
psql_q p "create table t (id int primary key, what text)"
as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -D "$T/base" -X none -c fast \
    >"$T/base.log" 2>&1
check "a base backup for the PITRs below" test $? -eq 0

# --- streaming beside archive_command ---------------------------------------
recv_start
check "the slot was created, physical, with WAL reserved" \
    sql_is p "physical true" "select slot_type || ' ' || (restart_lsn is not null) from pg_replication_slots where slot_name = 'drydock'"
psql_q p "insert into t values (1, 'first')"
seg=$(current_segment)
psql_q p "select pg_switch_wal()" >/dev/null
wait_for "$seg in the archive" 30 archived "$seg"
check "a streamed segment reaches the archive ($seg)" archived "$seg"
check "the pushed segment has its WAL summary, as wal-push gives it" \
    test -n "$(find "$REPO" -path "*sum*" -name "$seg*" 2>/dev/null)"
check "the spool keeps no complete segment once it is archived" wait_for "$seg out of the spool" 20 test ! -e "$SPOOL/$seg"
check_eq "pg_stat_replication shows the receiver, asynchronous" "drydock_wal_receive async" \
    "$(psql_q p "select application_name || ' ' || sync_state from pg_stat_replication where application_name = 'drydock_wal_receive'")"
dd info >"$T/info.txt"
check "info shows the receiver's position and lag" grep -qE '^wal-receive: streaming, timeline 1, flushed to [0-9A-F]+/[0-9A-F]+, [0-9]+ bytes behind' "$T/info.txt"
check_eq "info --json: wal_receive.state" streaming "$(dd info --json | jq -r .health.wal_receive.state)"
dd metrics >"$T/metrics.txt"
check "metrics: drydock_wal_receive_up 1" grep -qx 'drydock_wal_receive_up 1' "$T/metrics.txt"
check "metrics: drydock_wal_receive_lag_bytes" grep -qE '^drydock_wal_receive_lag_bytes [0-9]' "$T/metrics.txt"
check_error "a second receiver on the same spool is refused" 5 'spool .* is in use by another wal-receive' \
    dd wal-receive
check_error "--flush-partial is refused while a receiver runs on the spool" 5 'spool .* is in use by another wal-receive' \
    dd wal-receive --flush-partial
check_error "run as root it refuses at once: the repository belongs to postgres" 7 \
    'repository .* belongs to postgres, and this command would write it as root' \
    "$DRYDOCK" --config "$CONF" wal-receive --spool "$T/root-spool"
check_error "a bad slot name is a usage error" 2 '--slot must be 1 to 63' dd wal-receive --slot 'Bad-Name'

# --- (c) the slot advances; pg_wal stays bounded ------------------------------
r1=$(psql_q p "select restart_lsn from pg_replication_slots where slot_name = 'drydock'")
for i in $(seq 1 20); do
    psql_q p "insert into t select g, 'load' from generate_series($i * 1000, $i * 1000 + 999) g; select pg_switch_wal()" >/dev/null
done
last=$(psql_q p "select pg_current_wal_lsn()")
wait_for "the slot past $last" 60 sql_is p t "select restart_lsn >= '$last' from pg_replication_slots where slot_name = 'drydock'"
r2=$(psql_q p "select restart_lsn from pg_replication_slots where slot_name = 'drydock'")
check "the slot's restart_lsn moved ($r1 -> $r2) past the last switch ($last)" lsn_ge "$r2" "$last"
# archive_command must have caught up too: pg_wal keeps what it has not archived.
wait_for "archive_command to catch up" 60 test -z "$(ls "${PG_DATA[p]}/pg_wal/archive_status" | grep ready)"
psql_q p "checkpoint"
# Segments before the current one that pg_wal still holds (recycled ones are
# renamed ahead of it): a slot that did not advance would keep all 20.
cur=$(current_segment)
nold=$(ls "${PG_DATA[p]}/pg_wal" | grep -E '^[0-9A-F]{24}$' | awk -v c="$cur" '$1 < c' | wc -l)
check "pg_wal keeps $nold segments before the current one after 20 switches and a checkpoint (at most 2)" \
    test "$nold" -le 2

check_eq "archive_command never failed beside the receiver (same segments, identical)" 0 \
    "$(psql_q p "select failed_count from pg_stat_archiver")"

# --- (d) kill -9 of the receiver, a restart: it resumes without a gap --------
# From here on archive_command archives nothing ('true'): only the receiver does.
psql_q p "alter system set archive_command = 'true'"
psql_q p "select pg_reload_conf()" >/dev/null
kill -9 "$(recv_pid)"
for i in 1 2 3; do
    psql_q p "insert into t select g, 'while down' from generate_series(100000 + $i * 1000, 100999 + $i * 1000) g; select pg_switch_wal()" >/dev/null
done
recv_start
psql_q p "insert into t values (3, 'after the restart')"
seg=$(current_segment)
psql_q p "select pg_switch_wal()" >/dev/null
wait_for "$seg in the archive" 60 archived "$seg"
check "after kill -9 and a restart, the receiver archived up to $seg" archived "$seg"
dd info --json >"$T/info.json"
check_eq "info: no gap in the archived WAL" 0 "$(jq '.wal.gaps | length' "$T/info.json")"
check_eq "info: one unbroken run of segments" 1 "$(jq '.wal.runs | length' "$T/info.json")"
check "verify passes" dd verify

# --- (b) asynchronous: what was flushed before the primary died is kept ------
psql_q p "insert into t values (101, 'an interval before the kill')"
lsn=$(psql_q p "select pg_current_wal_lsn()")
wait_for "the receiver to report $lsn flushed" 30 sql_is p t \
    "select flush_lsn >= '$lsn' from pg_stat_replication where application_name = 'drydock_wal_receive'"
check "within its status interval the receiver reported $lsn flushed" sql_is p t \
    "select flush_lsn >= '$lsn' from pg_stat_replication where application_name = 'drydock_wal_receive'"
psql_q p "insert into t values (102, 'just before the kill')"
kill_primary
check "SIGTERM stops the receiver cleanly (state stopped)" recv_stop
dd wal-receive --flush-partial >"$T/flush.out" 2>&1
check "--flush-partial archives the unfinished segment: $(cat "$T/flush.out")" grep -q '^archived .*\.partial' "$T/flush.out"
check "PITR of the base backup through wal-fetch --partial" pitr b --partial
check_eq "PITR: the row flushed an interval before the kill is there" 1 "$(psql_q b "select count(*) from t where id = 101")"
note "asynchronous: the row committed just before the kill is $( [ "$(psql_q b "select count(*) from t where id = 102")" = 1 ] && echo there || echo lost)"
pg_stop b immediate

# --- (a) synchronous: an acknowledged commit survives kill -9 of the primary --
# After kill -9 the old backends may hold the shared memory a moment longer: retry.
wait_for "p to restart after kill -9" 60 pg_start p
psql_q p "alter system set synchronous_standby_names = 'drydock_wal_receive'"
psql_q p "alter system set synchronous_commit = 'remote_write'"
psql_q p "select pg_reload_conf()" >/dev/null
psql_q p "select pg_switch_wal()" >/dev/null # (b)'s .partial stays that segment's alone
recv_start --synchronous
wait_for "a synchronous standby" 30 sql_is p sync \
    "select sync_state from pg_stat_replication where application_name = 'drydock_wal_receive'"
check_eq "pg_stat_replication: the receiver is the synchronous standby" sync \
    "$(psql_q p "select sync_state from pg_stat_replication where application_name = 'drydock_wal_receive'")"
# A cancelled wait (statement_timeout) would warn: an acknowledgement is a quiet commit.
ack=$(psql_q p "set statement_timeout = '60s'; insert into t values (201, 'acknowledged')" 2>&1)
check "the commit was acknowledged (remote_write) ${ack:+: $ack}" test -z "$ack"
kill_primary
check "SIGTERM stops the synchronous receiver cleanly" recv_stop
dd wal-receive --flush-partial >"$T/flush.out" 2>&1
check "--flush-partial archives the unfinished segment: $(cat "$T/flush.out")" grep -q '^archived .*\.partial' "$T/flush.out"
check "PITR of the base backup through wal-fetch --partial" pitr a --partial
check_eq "PITR: the acknowledged commit is there" 1 "$(psql_q a "select count(*) from t where id = 201")"
pg_stop a immediate
# The control: without the streamed .partial the archive ends before that commit.
check "PITR of the base backup through plain wal-fetch" pitr a2
check_eq "PITR without --partial: the commit is not there" 0 "$(psql_q a2 "select count(*) from t where id = 201")"
pg_stop a2 immediate

# --- (e) a promotion is followed onto the new timeline -----------------------
wait_for "p to restart after kill -9" 60 pg_start p
psql_q p "alter system reset synchronous_standby_names"
psql_q p "select pg_reload_conf()" >/dev/null
pg_standby s p
SPOOL=$T/spool-e # a receiver of the standby: its own spool and slot
dd wal-receive --source standby --slot drydock_e --spool "$SPOOL" --status-interval 1 >>"$T/recv-e.log" 2>&1 &
PIDS+=($!)
wait_for "wal-receive streaming from the standby" 30 grep -q '^state streaming' "$SPOOL/status"
pg_stop p
as_pg "$PGBIN/pg_ctl" -D "${PG_DATA[s]}" -w promote >/dev/null
wait_for "the receiver on timeline 2" 60 grep -q '^timeline 2' "$SPOOL/status"
check "the receiver follows the promotion onto timeline 2" grep -q '^timeline 2' "$SPOOL/status"
check "its log says so" grep -q 'following timeline 2' "$T/recv-e.log"
PG_PORT[p]=${PG_PORT[s]} # current_segment and psql_q p: the new primary
psql_q s "insert into t values (301, 'timeline 2')"
seg=$(current_segment)
psql_q s "select pg_switch_wal()" >/dev/null
wait_for "$seg in the archive" 60 archived "$seg"
check "a segment of timeline 2 reaches the archive ($seg)" archived "$seg"
check "the timeline history file is archived" archived 00000002.history
recv_stop
finish
