#!/bin/bash
# s3_repo.sh - the repository in an S3 bucket (issue 13), encrypted
# (aes-256-gcm), against a real endpoint: OpenStack Swift with its S3 API on
# loopback (swift-s3-local). repo-create, wal-push through a primary's
# archive_command and wal-fetch, a backup from the standby, no plaintext in
# the bucket, restore with PITR and --standby-of, verify, expire, info,
# repo-copy to a directory and back to another prefix; then the faults: the endpoint stopped in the middle of a
# wal-push and of a backup (the retries carry them through), 503 SlowDown
# answers injected by a proxy (retried), kill -9 in the middle of a
# multipart upload (verify, then expire aborts the upload), and two writers
# racing for a lock.
source "$(dirname "$0")/lib.sh"

# shared/ sits beside the checkout (here and in CI's fresh clone).
S3TOOL=$(dirname "$0")/s3tool.py
BUCKET=drydock-test
PREFIX=cluster1
s3_endpoint
s3() { python3 "$S3TOOL" "$@"; }

# Credentials in a 0600 file the postgres user reads.
CRED=$T/s3.credentials
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" >"$CRED"
chown postgres:postgres "$CRED"
chmod 600 "$CRED"

PASS=$T/cipher.pass
echo "a passphrase for the bucket" >"$PASS"
chown postgres:postgres "$PASS"
chmod 600 "$PASS"

# Every config this test writes points at the bucket (S3_VIA: another endpoint).
# A backup across an outage of the endpoint waits for the archiver, which
# retries a failed push only so often: 60 s is too short on a loaded host.
ARCHIVE_TIMEOUT=300
eval "$(declare -f write_config | sed '1s/write_config/lib_write_config/')"
write_config() {
    lib_write_config "state-dir = $T/state" "$@" "[repository]" "type = s3" "s3-endpoint = ${S3_VIA:-$S3_ENDPOINT}" \
        "s3-bucket = $BUCKET" "s3-region = $S3_REGION" "s3-prefix = ${S3_PREFIX:-$PREFIX}" \
        "s3-credentials-file = $CRED" "s3-lock-lease = 6" "s3-retry-timeout = 240" \
        "cipher = aes-256-gcm" "cipher-pass-file = $PASS"
}

pg_primary p
pg_standby s p
check "repo-create on the bucket" dd repo-create
check "the metadata is an object in the bucket" bash -c "python3 $S3TOOL ls $BUCKET $PREFIX/ | grep -qx $PREFIX/drydock.repo"
check_error "repo-create refuses a non-empty prefix" 4 "repository \"s3://$BUCKET/$PREFIX\" is not empty" dd repo-create

# --- WAL through archive_command, and back --------------------------------
backup_pgbench p -i -s 3 -q >/dev/null 2>&1
MARK=drydock-plaintext-canary-s3-51c0
psql_q p "create table canary as select g, '$MARK' || g as v from generate_series(1, 20000) g"
psql_q p "create table markers (id int primary key, at timestamptz not null)"
marker() { psql_q p "insert into markers values ($1, clock_timestamp())"; sleep 1; }
markers_of() { psql_q "$1" "select string_agg(id::text, ',' order by id) from markers"; }
last=$(psql_q p "select pg_walfile_name(pg_switch_wal())")
check "archive_command pushed $last to the bucket" wait_for "$last archived" 60 dd wal-fetch "$last" "$T/probe"
check "wal-fetch gave a whole segment" test "$(stat -c %s "$T/probe")" -eq $((16 * 1024 * 1024))
check_eq "a missing segment exits 1 quietly" "1:" "$(dd wal-fetch 0000000100000099000000FF "$T/none" 2>&1; echo "$?:")"
check "check sees archiving work" dd check --timeout 60 --quiet

# --- backup from the standby, PITR -----------------------------------------
marker 1
marker 2
check "backup from the standby into the bucket" dd backup --quiet
B1=$(restore_last_backup)
check_eq "no plaintext page or WAL record in the bucket's stored objects" "" \
    "$(grep -rla "$MARK" "$S3DIR/srv" | head -3)"
marker 3
CUT=$(psql_q p "select clock_timestamp()")
sleep 0.5
marker 4
backup_pgbench p -c 2 -t 200 -n >/dev/null 2>&1
marker 5
check "the last WAL is archived" dd check --quiet --timeout 60
EXPECT=$(accounts_digest p)

restore_case() { # NAME WANT-MARKERS OPTIONS...
    local name=$1 want=$2 port; shift 2
    port=$(free_port)
    if ! dd restore --dest "$T/$name" --port "$port" --quiet "$@" 2>"$T/$name.err"; then
        fail "restore $name ($*): $(head -c 300 "$T/$name.err")"
        return 1
    fi
    if restore_start "$name" "$T/$name" "$port"; then
        check_eq "$name holds markers $want" "$want" "$(markers_of "$name")"
    else
        fail "$name started and finished recovery"
        return 1
    fi
}
restore_case pitr 1,2,3 --target-time "$CUT"
pg_stop pitr immediate
if restore_case latest 1,2,3,4,5; then
    check_eq "restore to the end of the archive equals the primary" "$EXPECT" "$(accounts_digest latest)"
fi
pg_stop latest immediate
rm -rf "$T/pitr" "$T/latest"

SB_PORT=$(free_port)
check "restore --standby-of from the bucket" dd restore --dest "$T/sb" --port "$SB_PORT" --quiet \
    --standby-of "host=127.0.0.1 port=${PG_PORT[p]} user=postgres application_name=drydock_sb"
register_cluster sb "$T/sb" "$SB_PORT"
if pg_start sb; then
    check "the new standby streams from the primary" wait_for "sb streaming" 60 sql_is p 1 \
        "select count(*) from pg_stat_replication where application_name = 'drydock_sb' and state = 'streaming'"
    pg_stop sb immediate
fi
rm -rf "$T/sb"

check "verify reads every object in the bucket" dd verify --quiet
check_eq "info lists the backup" 1 "$(dd info --json | jq '.backups | length')"

# --- faults -----------------------------------------------------------------
# The endpoint stops while PostgreSQL archives: the running wal-push retries
# until it is back, and the archiver records no failure.
failed0=$(psql_q p "select failed_count from pg_stat_archiver")
s3_stop
seg=$(psql_q p "select pg_walfile_name(pg_switch_wal())")
sleep 4
check "endpoint restarted" s3_start
check "$seg archived once the endpoint is back" wait_for "$seg archived" 90 dd wal-fetch "$seg" "$T/probe"
check_eq "the archiver saw no failure (the push retried)" "$failed0" "$(psql_q p "select failed_count from pg_stat_archiver")"

# Enough data that a backup takes a while and its packs go up in parts.
psql_q p "create table noise as select g, md5(random()::text) || md5(random()::text) as v from generate_series(1, 500000) g"
psql_q p "select pg_switch_wal()" >/dev/null
wait_for "standby caught up" 60 sql_is p t "select replay_lsn >= pg_current_wal_lsn() from pg_stat_replication"
uploading() { python3 "$S3TOOL" uploads "$BUCKET" "$PREFIX/" | grep -q packs/; }

# The endpoint stops in the middle of a backup (a pack's upload open). The
# backup pauses once it has stored a part (a test point), so the outage
# comes with an upload open however fast the endpoint is, and it goes on
# (the resume file) while the endpoint is down.
DRYDOCK_TEST_PAUSE_AT=s3-part-stored DRYDOCK_TEST_RESUME_FILE=$T/b2.resume \
    runuser -u postgres -- "$DRYDOCK" --config "$CONF" backup --quiet >/dev/null 2>"$T/b2.err" &
B2PID=$!
PIDS+=("$B2PID")
wait_for "the backup to store a part" 120 grep -q "pausing at s3-part-stored" "$T/b2.err"
check "the backup is uploading a pack" wait_for "an upload" 30 uploading
s3_stop
touch "$T/b2.resume"
sleep 3
check "endpoint restarted" s3_start
wait "$B2PID"
check_eq "the backup across the outage succeeded" "0 " "$? $(grep -v 'pausing at' "$T/b2.err" | head -c 300)"
check_eq "it is listed" 2 "$(dd info --json | jq '.backups | length')"
check "verify after the outage" dd verify --quiet

# 503 SlowDown injected on every 4th request: everything still works.
PROXY_PORT=$(free_port)
python3 "$S3TOOL" proxy "$PROXY_PORT" 4 "$T/proxy.log" &
PIDS+=("$!")
wait_for "fault proxy" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PROXY_PORT"
S3_VIA=http://127.0.0.1:$PROXY_PORT write_config
seg=$(psql_q p "select pg_walfile_name(pg_switch_wal())")
check "$seg archived through injected 503s" wait_for "$seg archived" 60 dd wal-fetch "$seg" "$T/probe"
check "a backup through injected 503s" dd backup --quiet
check "info through injected 503s" bash -c "runuser -u postgres -- '$DRYDOCK' --config '$CONF' info --json >/dev/null"
check "the proxy did inject 503 SlowDown" test "$(grep -c '^503' "$T/proxy.log")" -gt 5
write_config

# kill -9 while a multipart upload is open: nothing half-visible, expire aborts it.
psql_q p "create table noise2 as select g, md5(random()::text) || md5(random()::text) as v from generate_series(1, 500000) g"
psql_q p "select pg_switch_wal()" >/dev/null
wait_for "standby caught up" 60 sql_is p t "select replay_lsn >= pg_current_wal_lsn() from pg_stat_replication"
# The backup pauses once it has stored a part (a test point): the kill comes
# with an upload open however fast the endpoint is.
DRYDOCK_TEST_PAUSE_AT=s3-part-stored runuser -u postgres -- "$DRYDOCK" --config "$CONF" backup --quiet \
    >/dev/null 2>"$T/b3.err" &
B3PID=$!
PIDS+=("$B3PID")
wait_for "the backup to store a part" 120 grep -q "pausing at s3-part-stored" "$T/b3.err"
check "a multipart upload is open" wait_for "an upload" 30 uploading
pkill -9 -P "$B3PID" 2>/dev/null
kill -9 "$B3PID" 2>/dev/null
wait "$B3PID" 2>/dev/null
check_error "its lock holds until its lease ends" 5 "is locked for backup by pid [0-9]+ on host" dd backup
check "verify after kill -9 passes" dd verify --quiet
check_eq "the killed backup left no manifest" 3 "$(dd info --json | jq '.backups | length')"
sleep 7 # the killed backup's lock lease (s3-lock-lease = 6)
check "expire after kill -9" dd expire --keep-backups 2
check_eq "expire aborted the killed upload" "" "$(s3 uploads $BUCKET $PREFIX/)"
check "verify after expire" dd verify --quiet

# Two writers race for the backup lock: exactly one wins, the other is told who holds it.
for i in 1 2; do
    DRYDOCK_TEST_LOCK_HOLD=3 runuser -u postgres -- "$DRYDOCK" --config "$CONF" expire --keep-backups 2 \
        >/dev/null 2>"$T/race$i.err" &
    RACE[$i]=$!
done
wait "${RACE[1]}"; r1=$?
wait "${RACE[2]}"; r2=$?
check_eq "one racer won, one was refused (exit 5)" "0 5" "$(printf '%s\n' $r1 $r2 | sort -n | tr '\n' ' ' | sed 's/ $//')"
check "the loser named the holder" grep -qhE "is locked for backup by pid [0-9]+ on host .*drydock expire" "$T/race1.err" "$T/race2.err"

# Moving a repository: the bucket to a directory, then the directory to another prefix.
DIRCONF=$T/dir.conf
sed -e "s|^type = s3|type = posix|" -e "s|^path = .*|path = $T/moved|" "$CONF" >"$DIRCONF"
chown postgres:postgres "$DIRCONF"
runuser -u postgres -- "$DRYDOCK" --config "$CONF" repo-copy --to "$DIRCONF" >"$T/copy1.out" 2>&1
rc=$?
cat "$T/copy1.out"
check_eq "repo-copy from the bucket to a directory, verified" 0 "$rc"
check_eq "the directory lists the same backups" "$(dd info --json | jq -c '[.backups[].id]')" \
    "$(runuser -u postgres -- "$DRYDOCK" --config "$DIRCONF" info --json | jq -c '[.backups[].id]')"
runuser -u postgres -- "$DRYDOCK" --config "$CONF" repo-copy --to "$DIRCONF" >"$T/copy2.out" 2>&1
cat "$T/copy2.out"
# A second run copies nothing the first one copied. (It may copy WAL that
# the first did not see: a segment pushed since, or one that Swift's
# container listing, updated asynchronously, did not show yet.)
copied1=$(sed -n 's/.*copied \([0-9]*\) object.*, \([0-9]*\) already there.*/\1 \2/p' "$T/copy1.out")
there2=$(sed -n 's/.*copied [0-9]* object.*, \([0-9]*\) already there.*/\1/p' "$T/copy2.out")
check "a second run finds everything the first copied there ($copied1 then $there2 there)" \
    test -n "$there2" -a "$there2" -ge "$(echo $copied1 | awk '{print $1 + $2}')"
sed "s|^s3-prefix = .*|s3-prefix = moved|" "$CONF" >"$T/moved.conf"
chown postgres:postgres "$T/moved.conf"
check "repo-copy from the directory to another prefix, verified" \
    runuser -u postgres -- "$DRYDOCK" --config "$DIRCONF" repo-copy --to "$T/moved.conf"
check_eq "the new prefix lists the same backups" "$(dd info --json | jq -c '[.backups[].id]')" \
    "$(runuser -u postgres -- "$DRYDOCK" --config "$T/moved.conf" info --json | jq -c '[.backups[].id]')"

finish
