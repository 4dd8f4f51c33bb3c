# tests/integration/lib.sh - the harness every integration test sources.
#
# It gives a test its own temporary directory (owned by the postgres user,
# since PostgreSQL refuses to run as root), starts PostgreSQL 15 clusters on
# loopback ports of their own, runs drydock as postgres, and reports TAP-style
# "ok"/"not ok" lines. Everything it started is stopped on exit, whatever the
# exit: failure, signal or success.
#
#   source "$(dirname "$0")/lib.sh"
#   pg_primary p                    # initdb + start, archiving to the repo
#   pg_standby s p                  # streaming standby of p
#   dd repo-create                  # drydock as postgres, with the test config
#   check "what is true" test "$(psql_q p 'select 1')" = 1
#   finish

set -u
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DRYDOCK=${DRYDOCK:-$(realpath "$(dirname "${BASH_SOURCE[0]}")/../../build/drydock")}
T=$(mktemp -d "${DRYDOCK_TMP:-/tmp}/drydock-test.XXXXXX")
chmod 755 "$T"
chown postgres:postgres "$T"
CONF=$T/drydock.conf
REPO=$T/repo
declare -A PG_PORT PG_DATA
PIDS=()
T_PASS=0
T_FAIL=0

cleanup() {
    local rc=$?
    for name in "${!PG_DATA[@]}"; do
        if [ -f "${PG_DATA[$name]}/postmaster.pid" ]; then
            runuser -u postgres -- "$PGBIN/pg_ctl" -D "${PG_DATA[$name]}" -m immediate -w stop >/dev/null 2>&1
        fi
    done
    for pid in "${PIDS[@]}"; do
        pkill -9 -P "$pid" 2>/dev/null # what runuser started, e.g. a pgbench
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null # no "Killed" notice from bash
    done
    # Anything else still running out of our directory (a crashed postmaster's children).
    pkill -9 -f "$T" 2>/dev/null
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "# kept $T"
    else
        rm -rf "$T"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- reporting ----------------------------------------------------------

note() { echo "# $*"; }

pass() { T_PASS=$((T_PASS + 1)); echo "ok $((T_PASS + T_FAIL)) - $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "not ok $((T_PASS + T_FAIL)) - $1"; }

# check DESC CMD...: passes when CMD succeeds.
check() {
    local desc=$1; shift
    if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# jq_ok FILTER [FILE]: true when jq -e finds FILTER true in FILE (or stdin),
# quietly. For check: "check DESC jq -e ... >/dev/null" would swallow the
# check's own ok line with jq's output.
jq_ok() { jq -e "$@" >/dev/null; }

# check_eq DESC EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (expected '$2', got '$3')"; fi
}

# check_error DESC CODE PATTERN CMD...: CMD must exit CODE and print exactly one
# line on stderr matching PATTERN (an extended regex).
check_error() {
    local desc=$1 code=$2 pattern=$3; shift 3
    local err=$T/stderr.$$ rc lines
    "$@" >/dev/null 2>"$err"
    rc=$?
    lines=$(grep -c '' "$err")
    if [ "$rc" -eq "$code" ] && [ "$lines" -eq 1 ] && grep -qE -- "$pattern" "$err"; then
        pass "$desc"
    else
        fail "$desc (exit $rc, expected $code; $lines stderr lines: $(head -c 300 "$err" | tr '\n' '|'))"
    fi
    rm -f "$err"
}

finish() {
    echo "# $T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ]
}

# --- processes ----------------------------------------------------------

as_pg() { runuser -u postgres -- "$@"; }

# drydock as postgres with the test configuration. (It shadows coreutils dd:
# write "command dd" for that one.)
dd() { runuser -u postgres -- "$DRYDOCK" --config "$CONF" "$@"; }

# A port nothing listens on. tests/run gives each script it runs at the same
# time a slot of its own (TEST_SLOT of TEST_SLOTS), and each slot its own
# share of 10000-29999, so that two scripts never pick the same port. The
# range stays below the kernel's ephemeral ports (32768 and up), which any
# outgoing connection may take, and below the 2000 ports a rehearsal picks
# its clones' ports from. The port is even: a script may take PORT + 1 for
# a second server without asking, and no later call can hand that one out.
free_port() {
    local port span=$((20000 / ${TEST_SLOTS:-1}))
    while :; do
        port=$((10000 + ${TEST_SLOT:-0} * span + RANDOM % (span / 2) * 2))
        # not listened on, and not handed out before by this script (two
        # calls in a row, before either server listens, must differ)
        grep -qx "$port" "$T/.ports-given" 2>/dev/null && continue
        if ! ss -Htan | awk '{print $4}' | grep -qE "[:.]$port\$"; then
            echo "$port" >>"$T/.ports-given"
            echo "$port"
            return
        fi
    done
}

# wait_for DESC SECONDS CMD...: poll CMD until it succeeds; false on timeout.
# CMD is run again on every poll, but its arguments were expanded once, by
# the caller: to poll a query, use sql_is, not "test $(psql_q ...)".
wait_for() {
    local desc=$1 secs=$2; shift 2
    local end=$((SECONDS + secs))
    while [ $SECONDS -lt $end ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    note "timed out after ${secs}s waiting for $desc"
    return 1
}

# --- configuration --------------------------------------------------------

# write_config [extra ini text]: the test's drydock.conf, from the clusters started.
write_config() {
    {
        echo "[repository]"
        echo "path = $REPO"
        echo "compress = ${COMPRESS:-zstd}"
        echo "archive-timeout = ${ARCHIVE_TIMEOUT:-60}"
        echo "[cluster]"
        if [ -n "${PG_PORT[p]:-}" ]; then
            echo "primary = host=127.0.0.1 port=${PG_PORT[p]} user=postgres dbname=postgres"
            echo "primary-data = ${PG_DATA[p]}"
        fi
        if [ -n "${PG_PORT[s]:-}" ]; then
            echo "standby = host=127.0.0.1 port=${PG_PORT[s]} user=postgres dbname=postgres"
            echo "standby-data = ${PG_DATA[s]}"
        fi
        echo "bin = $PGBIN"
        [ $# -gt 0 ] && printf '%s\n' "$@"
    } >"$CONF"
    chown postgres:postgres "$CONF"
    chmod 600 "$CONF"
}

# --- PostgreSQL -----------------------------------------------------------

psql_q() { # NAME SQL...: run SQL on cluster NAME, unaligned tuples only
    local name=$1; shift
    as_pg "$PGBIN/psql" -h 127.0.0.1 -p "${PG_PORT[$name]}" -U postgres -d postgres -XAtq -v ON_ERROR_STOP=1 -c "$*"
}

# sql_is NAME EXPECTED SQL: true when SQL on cluster NAME returns EXPECTED
# (for wait_for: the query runs on every poll).
sql_is() {
    local name=$1 expected=$2; shift 2
    [ "$(psql_q "$name" "$@" 2>/dev/null)" = "$expected" ]
}

pg_conf_common() { # DATA PORT
    cat >>"$1/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$T'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
fsync = off
synchronous_commit = on
full_page_writes = on
shared_buffers = 64MB
checkpoint_timeout = 30min
max_wal_size = 1GB
log_min_messages = warning
logging_collector = off
CONF
}

pg_start() { # NAME
    as_pg "$PGBIN/pg_ctl" -D "${PG_DATA[$1]}" -l "$T/$1.log" -w -t 60 start >/dev/null
}

pg_stop() { # NAME [mode]
    as_pg "$PGBIN/pg_ctl" -D "${PG_DATA[$1]}" -m "${2:-fast}" -w -t 60 stop >/dev/null
}

# pg_primary NAME: initdb (with data checksums, unless PG_CHECKSUMS= is set empty) and start a primary that
# archives through drydock wal-push into $REPO.
pg_primary() {
    local name=$1 port
    port=$(free_port)
    PG_PORT[$name]=$port
    PG_DATA[$name]=$T/$name
    as_pg "$PGBIN/initdb" -D "${PG_DATA[$name]}" -U postgres -A trust ${PG_CHECKSUMS---data-checksums} >"$T/$name.initdb.log" 2>&1 || {
        cat "$T/$name.initdb.log"; return 1; }
    pg_conf_common "${PG_DATA[$name]}" "$port"
    cat >>"${PG_DATA[$name]}/postgresql.conf" <<CONF
archive_mode = on
archive_command = '$DRYDOCK --config $CONF wal-push %p'
CONF
    echo "host replication all 127.0.0.1/32 trust" >>"${PG_DATA[$name]}/pg_hba.conf"
    write_config
    pg_start "$name"
}

# pg_standby NAME PRIMARY: pg_basebackup of PRIMARY, streaming from it.
pg_standby() {
    local name=$1 primary=$2 port
    port=$(free_port)
    PG_PORT[$name]=$port
    PG_DATA[$name]=$T/$name
    as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "${PG_PORT[$primary]}" -U postgres -D "${PG_DATA[$name]}" \
        -X stream -c fast -R >"$T/$name.basebackup.log" 2>&1 || { cat "$T/$name.basebackup.log"; return 1; }
    sed -i "s/^port = .*/port = $port/" "${PG_DATA[$name]}/postgresql.conf"
    write_config
    pg_start "$name"
    wait_for "$name streaming" 60 sql_is "$primary" t "select count(*) >= 1 from pg_stat_replication where state = 'streaming'"
}

# recover_from_archive NAME DIR: start the copy of a data directory in DIR as
# cluster NAME, on a port of its own, recovering through drydock wal-fetch to
# the end of the archive; true once it has promoted.
recover_from_archive() {
    local name=$1 dir=$2 port
    port=$(free_port)
    register_cluster "$name" "$dir" "$port"
    sed -i "s/^port = .*/port = $port/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
    cat >>"$dir/postgresql.conf" <<CONF
restore_command = '$DRYDOCK --config $CONF wal-fetch %f %p'
recovery_target_timeline = 'latest'
CONF
    as_pg touch "$dir/recovery.signal"
    pg_start "$name" && wait_for "$name promoted" 120 sql_is "$name" f "select pg_is_in_recovery()"
}

# accounts_digest NAME: a digest of pgbench_accounts on cluster NAME.
accounts_digest() {
    psql_q "$1" "select md5(string_agg(aid::text || ':' || abalance, ',' order by aid)) from pgbench_accounts"
}

# register_cluster NAME DATA PORT: let the harness stop a cluster made by a test.
register_cluster() {
    PG_DATA[$1]=$2
    PG_PORT[$1]=$3
}

# --- backup (issue 3) -------------------------------------------------------

# backup_manifest_json ID: the manifest of backup ID as JSON text, as drydock reads it.
backup_manifest_json() {
    dd debug manifest "$1" --json
}

# backup_pgbench NAME ARGS...: pgbench against cluster NAME.
backup_pgbench() {
    local name=$1; shift
    as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "${PG_PORT[$name]}" -U postgres "$@" postgres
}

# backup_locate_chunk SHA: flip one payload byte of chunk SHA in its pack and
# print "<pack name> <offset>" (drydock debug index reads the indexes).
backup_locate_chunk() {
    local pack off slen
    read -r pack off slen < <(dd debug index --json |
        jq -r --arg s "$1" 'first(.[] | select(.sha256 == $s)) | "\(.pack) \(.offset) \(.stored_len)"')
    [ -n "$pack" ] || return 1
    flip_byte "$REPO/packs/$pack.pack" $((off + 56 + slen / 2 - 28)) 0x20
    echo "$pack $off"
}

# flip_byte FILE OFFSET MASK: XOR the byte at OFFSET of FILE with MASK.
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ $3)))" | command dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# --- restore helpers (restore_*) --------------------------------------------

# restore_start NAME DIR PORT: start a restored cluster, wait until it
# accepts connections and its recovery has ended (promoted).
restore_start() {
    register_cluster "$1" "$2" "$3"
    pg_start "$1" || { note "$1 did not start:"; tail -5 "$T/$1.log" | sed 's/^/# /'; return 1; }
    wait_for "$1 promoted" 120 sql_is "$1" f "select pg_is_in_recovery()"
}

# restore_md5 NAME TABLE: a digest of a table's whole contents.
restore_md5() {
    psql_q "$1" "select md5(coalesce(string_agg(t::text, ',' order by t::text), '')) from $2 t"
}

# restore_json FILE KEY: KEY of the JSON summary line (type "summary") in FILE. (jq)
restore_json() {
    grep '^{' "$1" | jq -r "select(.type == \"summary\") | .$2" | tail -1
}

# restore_last_backup: the id of the newest backup (from drydock info --json).
restore_last_backup() {
    dd info --json | jq -r '.backups[-1].id'
}

# backup_small_fs DIR SIZE: mount a tmpfs of SIZE at DIR (owned by postgres),
# unmounted when the test exits; false when mounting is not allowed here.
backup_small_fs() {
    mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0750" tmpfs "$1" 2>/dev/null || return 1
    chown postgres:postgres "$1"
    BACKUP_MOUNTS+=("$1")
    trap 'rc=$?; for m in "${BACKUP_MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done; (exit $rc); cleanup' EXIT
}

# --- benchmarks (bench/*.sh) -------------------------------------------------

# bench_pgbackrest_conf [KEY=VALUE]...: $T/pgbackrest.conf for Debian's
# pgBackRest with drydock's codec and level (zstd 3), the given extra global
# settings, and a [bench] stanza for cluster p (and s as pg2, when started).
bench_pgbackrest_conf() {
    as_pg mkdir -p "$T/pgbr-repo" "$T/pgbr-log" "$T/pgbr-lock" "$T/pgbr-spool"
    {
        printf '%s\n' "[global]" "repo1-path=$T/pgbr-repo" "log-path=$T/pgbr-log" \
            "lock-path=$T/pgbr-lock" "spool-path=$T/pgbr-spool" "compress-type=zst" \
            "compress-level=3" "log-level-console=warn" "log-level-file=off" "start-fast=y" "$@"
        printf '%s\n' "" "[bench]" "pg1-path=${PG_DATA[p]}" "pg1-port=${PG_PORT[p]}" \
            "pg1-host-user=postgres" "pg1-socket-path=$T"
        if [ -n "${PG_PORT[s]:-}" ]; then
            printf '%s\n' "pg2-path=${PG_DATA[s]}" "pg2-port=${PG_PORT[s]}" "pg2-socket-path=$T"
        fi
    } >"$T/pgbackrest.conf"
    chown postgres "$T/pgbackrest.conf"
}

# lock_held FILE: some process holds a flock(2) on FILE. Reads /proc/locks
# rather than probing with flock(1), whose own brief lock would make the
# process under test fail to take it.
lock_held() {
    local ino
    ino=$(stat -c %i "$1" 2>/dev/null) || return 1
    grep -qE "FLOCK .*:$ino " /proc/locks
}

# switchover_proxy_start: the configuration with a [proxy] section (trust,
# pause-timeout 10; LPORT and APORT its ports, PROXY_INI its lines) and
# drydock proxy running, for the switchover tests; conninfo NAME prints a
# cluster's connection string.
switchover_proxy_start() {
    LPORT=$(free_port)
    APORT=$(free_port)
    printf '"postgres" "postgres"\n' >"$T/credentials"
    chown postgres:postgres "$T/credentials"
    chmod 600 "$T/credentials"
    admin_token || exit 1
    PROXY_INI=("[proxy]" "listen = 127.0.0.1:$LPORT" "admin = 127.0.0.1:$APORT" "auth = trust"
        "credentials = $T/credentials" "pause-timeout = 10" "admin-token-file = $T/admin.token")
    write_config "${PROXY_INI[@]}"
    dd proxy >"$T/proxy.log" 2>&1 &
    PIDS+=($!)
    wait_for "the proxy" 20 acurl -sf "http://127.0.0.1:$APORT/status" || { cat "$T/proxy.log"; exit 1; }
}

# admin_token: the proxy's mandatory admin token, $T/admin.token (made once by
# drydock proxy-ctl token-create, as postgres, 0600) for [proxy]
# admin-token-file; acurl ARGS... is curl with its Authorization header.
admin_token() {
    [ -f "$T/admin.token" ] || runuser -u postgres -- "$DRYDOCK" proxy-ctl token-create "$T/admin.token"
}
acurl() { curl -H "Authorization: Bearer $(cat "$T/admin.token")" "$@"; }
conninfo() { echo "host=127.0.0.1 port=${PG_PORT[$1]} user=postgres dbname=postgres"; }

# tls_ca DIR NAME...: a test CA in DIR (ca.crt, ca.key) and, for each NAME, a
# key and a certificate it signs for localhost and 127.0.0.1 (NAME.key,
# NAME.crt), owned by postgres, keys 0600. EC P-256: quick to make.
tls_ca() {
    local dir=$1 name
    shift
    mkdir -p "$dir"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=drydock test CA" -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null || return 1
    for name in "$@"; do
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
            -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null &&
            openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
                -days 2 -out "$dir/$name.crt" -extfile <(echo "subjectAltName=DNS:localhost,IP:127.0.0.1") \
                2>/dev/null || return 1
    done
    chown -R postgres:postgres "$dir"
    chmod 600 "$dir"/*.key
}

# --- maint run and rollback (maint_run, maint_rollback, maint_rollback_rewind)

# maint_setup TITLE [enable-checksums] [green-standby]: primary p (initialised
# without data checksums when the maintenance enables them) and its standby
# s, the repository with pgbench's tables (scale 2) and a backup, drydock
# proxy (switchover_proxy_start); $T/maint.conf, a maintenance titled TITLE
# that raises shared_buffers and max_connections and replaces pg_hba.conf
# with $T/new_hba.conf (a "run_marker" reject line), and enables checksums,
# into green $T/green on GPORT (with a green standby $T/green-standby on
# GSPORT), the green clusters registered; table runlog and $T/insert.sql
# (load_table). Then: load NAME SECONDS (pgbench -c 8 -j 2 -R 400 through
# the proxy in the background, BENCH_PID), proxy_port, state.
maint_setup() {
    local title=$1 checksums=0 gstandby=0 a
    shift
    for a in "$@"; do
        case $a in
        enable-checksums) checksums=1 ;;
        green-standby) gstandby=1 ;;
        *) note "maint_setup: unknown option $a"; exit 1 ;;
        esac
    done
    if [ $checksums = 1 ]; then PG_CHECKSUMS= pg_primary p; else pg_primary p; fi
    pg_standby s p
    dd repo-create >/dev/null 2>&1 || { note "repo-create failed"; exit 1; }
    backup_pgbench p -i -s 2 -q >/dev/null 2>&1
    switchover_proxy_start
    dd backup >/dev/null 2>&1 || { note "backup failed"; exit 1; }
    printf '%s\n' "# drydock maint test" "local   all   all                 trust" \
        "host    all   run_marker   127.0.0.1/32 reject" "host    all   all   127.0.0.1/32 trust" \
        "host    replication   all   127.0.0.1/32 trust" >"$T/new_hba.conf"
    GPORT=$(free_port)
    GSPORT=$(free_port)
    {
        printf '%s\n' "[maintenance]" "title = $title" "pause-timeout = 10" "" "[green]" \
            "data = $T/green" "port = $GPORT"
        [ $gstandby = 1 ] && printf '%s\n' "standby-data = $T/green-standby" "standby-port = $GSPORT"
        printf '%s\n' "" "[change]" "set = shared_buffers = 96MB" "set = max_connections = 150" \
            "file = pg_hba.conf = $T/new_hba.conf"
        [ $checksums = 1 ] && echo "data-checksums = enable"
    } >"$T/maint.conf"
    chown postgres "$T/new_hba.conf" "$T/maint.conf"
    register_cluster green "$T/green" "$GPORT"
    [ $gstandby = 1 ] && register_cluster green_standby "$T/green-standby" "$GSPORT"
    load_table runlog
    # The helpers (defined here: only the maint tests have them).
    load() { # NAME SECONDS: pgbench -c 8 -j 2 through the proxy, in the background
        as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "$LPORT" -U postgres -n -c 8 -j 2 -R 400 -T "$2" \
            -f "$T/insert.sql" postgres >"$T/$1.out" 2>&1 &
        BENCH_PID=$!
        PIDS+=("$BENCH_PID")
    }
    proxy_port() { acurl -sf "http://127.0.0.1:$APORT/status" | jq -r .server | sed -n 's/.*port=\([0-9]*\).*/\1/p'; }
    state() { dd maint status --json | jq -r '.maintenance.state'; }
}

# --- a write load, and drydock stopped at a test point (maint, switchover) ---

# load_table TABLE: table TABLE (id bigserial, client int) on cluster p and
# $T/insert.sql, one INSERT into it per transaction, for pgbench's write load
# (-f "$T/insert.sql"); count_rows NAME counts its rows on cluster NAME;
# processed NAME and failed_tx NAME read pgbench's summary in $T/NAME.out.
load_table() {
    LOAD_TABLE=$1
    psql_q p "create table $1 (id bigserial primary key, client int)"
    echo "INSERT INTO $1 (client) VALUES (:client_id);" >"$T/insert.sql"
    chown postgres "$T/insert.sql"
}
count_rows() { psql_q "$1" "select count(*) from $LOAD_TABLE"; }
processed() { sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$T/$1.out"; }
failed_tx() { sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$T/$1.out"; }
# proxy_json KEY: KEY of the proxy's admin status (switchover_proxy_start).
proxy_json() { acurl -sf "http://127.0.0.1:$APORT/status" | jq -r ".$1"; }

# load_done NAME BEFORE CLUSTER WHERE: pgbench NAME (BENCH_PID) ends well:
# exit 0, no failed transaction, some committed; and CLUSTER holds BEFORE
# rows plus every transaction it counted (that check says "... is WHERE").
load_done() {
    wait "$BENCH_PID"
    local rc=$? n
    check_eq "$1: pgbench exits 0" 0 "$rc"
    [ "$rc" -eq 0 ] || tail -20 "$T/$1.out" | sed 's/^/# /'
    check_eq "$1: no failed transaction" 0 "$(failed_tx "$1")"
    n=$(processed "$1")
    check "$1: pgbench committed transactions (${n:-none})" test "${n:-0}" -gt 0
    check_eq "$1: every transaction pgbench counted is $4" "$(($2 + ${n:-0}))" "$(count_rows "$3")"
}

# pause_at POINT SECONDS OUT ARGS...: drydock ARGS... as postgres in the
# background (RUNNER its pid), told to stop at test point POINT
# (common/testpoint.h; DRYDOCK_TEST_RESUME_FILE set by the caller passes
# on); its output in OUT.out and OUT.err. True once it has stopped there,
# within SECONDS; else false, its output shown.
pause_at() {
    local point=$1 secs=$2 out=$3
    shift 3
    DRYDOCK_TEST_PAUSE_AT=$point runuser -u postgres -- "$DRYDOCK" --config "$CONF" "$@" \
        >"$out.out" 2>"$out.err" &
    RUNNER=$!
    PIDS+=("$RUNNER")
    wait_for "drydock $1 at $point" "$secs" grep -q "pausing at $point" "$out.err" && return 0
    sed 's/^/# /' "$out.out" "$out.err"
    return 1
}

# kill_paused COMMAND: kill -9 the drydock COMMAND ("maint run") pause_at
# started, and wait for it; true when no such command runs any more.
kill_paused() {
    local pid
    pid=$(pgrep -f "^$DRYDOCK --config $CONF $1")
    [ -n "$pid" ] && kill -9 $pid
    wait "$RUNNER" 2>/dev/null
    ! pgrep -f "^$DRYDOCK --config $CONF $1" >/dev/null
}

# --- a real S3 endpoint ----------------------------------------------------

SWIFT=${SWIFT_S3_LOCAL:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/shared/tools/swift-s3-local}

# s3_endpoint: swift-s3-local in $T/swift (S3DIR) on S3PORT, its
# S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY and S3_REGION exported, stopped
# when the script exits; the script ends (one failure) if it cannot start.
s3_endpoint() {
    S3DIR=$T/swift
    while :; do # the proxy's port and the three after it must be free
        S3PORT=$(free_port)
        ss -Htan | awk '{print $4}' | grep -qE "[:.]($((S3PORT + 1))|$((S3PORT + 2))|$((S3PORT + 3)))\$" || break
    done
    trap 'rc=$?; s3_stop; (exit $rc); cleanup' EXIT
    if ! s3_start; then
        fail "swift-s3-local started: $(tail -3 "$T/s3.start.log" | tr '\n' '|')"
        finish
        exit 1
    fi
    set -a
    . "$T/s3.env"
    set +a
}
s3_stop() { "$SWIFT" stop "$S3DIR" >/dev/null 2>&1; }
# Swift on a loaded host sometimes fails its first restart (a server slow to
# come back): stop what is left and try again, as an operator would.
s3_start() {
    local i
    for i in 1 2 3; do
        "$SWIFT" start "$S3DIR" "$S3PORT" >"$T/s3.env" 2>"$T/s3.start.log" && return 0
        note "swift-s3-local start failed (try $i): $(tail -1 "$T/s3.start.log")"
        s3_stop
        sleep 2
    done
    return 1
}
