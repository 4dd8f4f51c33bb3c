#!/bin/bash
# s3_push.sh - wal-push into an S3 bucket without the archive lock (issue
# 13; repo/walpush.h), against Swift's S3 API on loopback (swift-s3-local):
#  - a warm push makes no lock request and 3 requests (HEAD, PUT, summary
#    PUT) on a service without conditional PUTs, which is found out once
#    and remembered in the state directory, as is drydock.repo (a copy
#    older than 60 s is read again);
#  - through a front that honours If-None-Match: * (s3cond.py, standing for
#    AWS S3), a warm push is 2 requests, and of two pushes of one name with
#    different content at the same moment exactly one wins; the other exits
#    9 and the archive holds the winner;
#  - the same segment pushed twice at once: both succeed;
#  - another segment under an archived name: exit 9, the archive unchanged;
#  - encrypted: the push that must create its WAL period's data key takes
#    the lock; the next one of that period (key cached) does not.
source "$(dirname "$0")/lib.sh"

HERE=$(dirname "$0")
BUCKET=drydock-push
s3_endpoint
CRED=$T/s3.credentials
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" >"$CRED"
chown postgres:postgres "$CRED"
chmod 600 "$CRED"
PASS=$T/cipher.pass
echo "a passphrase for the push test" >"$PASS"
chown postgres:postgres "$PASS"
chmod 600 "$PASS"

FPORT=$(free_port)
python3 "$HERE/s3cond.py" "$FPORT" "$T/front.log" 2>"$T/front.err" &
PIDS+=($!)

pg_primary p
# Segments are pushed by hand here: the cluster's own archiver stays out.
psql_q p "alter system set archive_command = 'true'" >/dev/null
psql_q p "select pg_reload_conf()" >/dev/null

# conf NAME ENDPOINT PREFIX [lines...]: a configuration file for the bucket.
conf() {
    local name=$1 ep=$2 prefix=$3; shift 3
    write_config "state-dir = $T/state-$name" "[repository]" "type = s3" "s3-endpoint = $ep" \
        "s3-bucket = $BUCKET" "s3-region = $S3_REGION" "s3-prefix = $prefix" \
        "s3-credentials-file = $CRED" "s3-retry-timeout = 60" "$@"
    cp "$CONF" "$T/$name.conf"
    chown postgres "$T/$name.conf"
}
conf swift "$S3_ENDPOINT" plain
conf front "http://127.0.0.1:$FPORT" cond
conf enc "$S3_ENDPOINT" enc "cipher = aes-256-gcm" "cipher-pass-file = $PASS"
ddc() { local c=$1; shift; runuser -u postgres -- "$DRYDOCK" --config "$T/$c.conf" "$@"; }
for c in swift front enc; do
    check "repo-create ($c)" ddc $c repo-create
done

# seg: a completed segment of the primary, copied to $T/segs; prints its path.
mkdir -p "$T/segs"
chown postgres "$T/segs"
seg() {
    local name
    psql_q p "create table if not exists filler as select 1 as g; insert into filler select generate_series(1, 2000)" >/dev/null
    name=$(psql_q p "select pg_walfile_name(pg_current_wal_lsn())")
    psql_q p "select pg_switch_wal()" >/dev/null
    cp "${PG_DATA[p]}/pg_wal/$name" "$T/segs/$name"
    chown postgres "$T/segs/$name"
    echo "$T/segs/$name"
}
# other PATH: the same name with one byte changed past the header, in $T/other/.
mkdir -p "$T/other"
chown postgres "$T/other"
other() {
    local o
    o=$T/other/$(basename "$1")
    cp "$1" "$o"
    flip_byte "$o" $((8 * 1024 * 1024)) 0x5a
    chown postgres "$o"
    echo "$o"
}
# pushv CONF PATH: a verbose push; its S3 requests in $T/req.log, one a line.
pushv() {
    ddc "$1" --verbose wal-push "$2" 2>"$T/push.err"
    local rc=$?
    grep -oE "S3 (GET|PUT|HEAD|DELETE|POST) [^:]*" "$T/push.err" >"$T/req.log"
    return $rc
}
fetched_is() { # CONF NAME FILE: the archive holds FILE's bytes under NAME
    rm -f "$T/fetched"
    ddc "$1" wal-fetch "$2" "$T/fetched" && cmp -s "$T/fetched" "$3"
}

# --- Swift: no conditional PUT -------------------------------------------------
S1=$(seg)
S2=$(seg)
check "a first push to Swift" pushv swift "$S1"
check_eq "Swift's answer to a conditional PUT is remembered" "conditional-put no" \
    "$(cat "$T"/state-swift/s3-caps/* 2>/dev/null)"
check "a warm push to Swift" pushv swift "$S2"
n2=$(basename "$S2")
check_eq "it made 3 requests (no lock, no metadata: HEAD, segment, summary)" \
    "S3 HEAD wal/${n2:0:16}/$n2|S3 PUT wal/${n2:0:16}/$n2|S3 PUT wal/${n2:0:16}/$n2.sum" \
    "$(tr '\n' '|' <"$T/req.log" | sed 's/|$//')"
check "the segment is archived" fetched_is swift "$n2" "$S2"
S2b=$(seg)
touch -d '2 minutes ago' "$T"/state-swift/repo-meta/*
check "a push with a copy of the metadata older than 60 s" pushv swift "$S2b"
check "reads drydock.repo again" grep -qx "S3 GET drydock.repo" "$T/req.log"
caps=$(ls "$T"/state-swift/s3-caps/*)
echo "conditional-put yes" >"$caps"
touch -d '2 days ago' "$caps"
check "a push with a remembered verdict older than a day" pushv swift "$(seg)"
check_eq "asks the service again: the stale yes becomes Swift's no" "conditional-put no" "$(cat "$caps")"

S3=$(seg)
ddc swift wal-push "$S3" 2>"$T/same1.err" &
a=$!
ddc swift wal-push "$S3" 2>"$T/same2.err" &
b=$!
wait $a
ra=$?
wait $b
rb=$?
check_eq "the same segment pushed twice at once: both succeed" "0 0" "$ra $rb"
check "and it is archived" fetched_is swift "$(basename "$S3")" "$S3"
O3=$(other "$S3")
check_error "another segment under an archived name is refused" 9 \
    "WAL file \"$(basename "$S3")\" is already archived in .* with different content" ddc swift wal-push "$O3"
check "the archive still holds the first" fetched_is swift "$(basename "$S3")" "$S3"

# --- a service that honours If-None-Match --------------------------------------
check "a first push through the conditional front" pushv front "$S1"
check_eq "its answer is remembered" "conditional-put yes" "$(cat "$T"/state-front/s3-caps/* 2>/dev/null)"
check "a warm push through it" pushv front "$S2"
check_eq "it took no lock" "" "$(grep locks/ "$T/req.log")"
check_eq "it made 2 requests (segment, summary)" \
    "S3 PUT wal/${n2:0:16}/$n2|S3 PUT wal/${n2:0:16}/$n2.sum" \
    "$(tr '\n' '|' <"$T/req.log" | sed 's/|$//')"
for i in 1 2 3; do
    Sx=$(seg)
    Ox=$(other "$Sx")
    ddc front wal-push "$Sx" 2>"$T/race1.err" &
    a=$!
    ddc front wal-push "$Ox" 2>"$T/race2.err" &
    b=$!
    wait $a
    ra=$?
    wait $b
    rb=$?
    winner=$Sx
    [ "$rb" = 0 ] && winner=$Ox
    check_eq "race $i: two different segments under one name: one wins, one exits 9" "0 9" \
        "$(printf '%s\n' "$ra" "$rb" | sort | tr '\n' ' ' | sed 's/ $//')"
    check "race $i: the loser says why" grep -qh "with different content" "$T/race1.err" "$T/race2.err"
    check "race $i: the archive holds the winner" fetched_is front "$(basename "$Sx")" "$winner"
done
Sy=$(seg)
ddc front wal-push "$Sy" &
a=$!
ddc front wal-push "$Sy" &
b=$!
wait $a
ra=$?
wait $b
rb=$?
check_eq "through the front too, the same segment twice at once: both succeed" "0 0" "$ra $rb"

# --- encrypted: the lock only to create a data key ----------------------------
check "an encrypted first push of a WAL period" pushv enc "$S1"
check "it took the archive lock to create the period's data key" grep -q "locks/archive" "$T/req.log"
check "the next push of that period" pushv enc "$S2"
check_eq "it took no lock (the key is cached)" "" "$(grep locks/ "$T/req.log")"
check "the encrypted segment comes back" fetched_is enc "$(basename "$S2")" "$S2"
check "verify passes on the encrypted repository" ddc enc verify --quiet

finish
