#!/bin/bash
# bench/s3.sh: drydock vs pgBackRest (Debian's 2.45) on one local S3 endpoint
# (OpenStack Swift's s3api, swift-s3-local), same data, in one run:
#   - wal-push / archive-push of SEGMENTS real segments, one at a time;
#   - a full backup (time, bytes in the bucket), then after pgbench -t 2000
#     the next backup (drydock: another backup; pgBackRest: --type=incr);
#   - a restore of the latest backup to a new directory;
# each unencrypted and encrypted (drydock aes-256-gcm, pgBackRest
# aes-256-cbc), RUNS times, the tools alternating which goes first; every
# run is printed with the load average, then the ratios of the medians.
# Each tool has its own archive: during a tool's phase archive_command is
# that tool's alone, and the phase starts once the archiver is idle, so that
# neither tool's backup waits on the other's pushes.
# drydock's key cache (src/repo/keycache.h) lives in a state-dir of the
# bench's own, as on a host with [cluster] state-dir set.
# pgBackRest speaks S3 only over https: both tools go through one TLS
# terminator in front of Swift (s3tool.py tls), and both verify its
# certificate. Same codec and level (zstd 3), same process count (JOBS).
#   SCALE=20 RUNS=3 SEGMENTS=16 JOBS=2 bench/s3.sh
source "$(dirname "$0")/../tests/integration/lib.sh"
SCALE=${SCALE:-20}
RUNS=${RUNS:-3}
SEGMENTS=${SEGMENTS:-16}
JOBS=${JOBS:-$(nproc)}
# shared/ sits beside the checkout (here and in CI's fresh clone).
SWIFT=${SWIFT_S3_LOCAL:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/tools/swift-s3-local}
S3TOOL=$(dirname "$0")/../tests/integration/s3tool.py
BUCKET=bench

secs() { echo "$(date +%s.%N) - $1" | bc; }
# cpu_mark VAR: the CPU seconds (user + system) of this shell's finished children, into VAR.
# drydock's CPU time is a steadier measure of the encryption's cost than wall time on a
# loaded host (commands run in the foreground, so their time is counted when they end).
cpu_mark() {
    times >"$T/cpu.times"
    printf -v "$1" '%s' "$(tail -1 "$T/cpu.times" | awk '{ s = 0; for (i = 1; i <= 2; i++) {
        split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] } print s }')"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { echo "scale=3; $1 / $2" | bc; }

# --- the endpoint, behind TLS ---------------------------------------------
while :; do
    S3PORT=$(free_port)
    ss -Htan | awk '{print $4}' | grep -qE "[:.]($((S3PORT + 1))|$((S3PORT + 2))|$((S3PORT + 3)))\$" || break
done
"$SWIFT" start "$T/swift" "$S3PORT" >"$T/s3.env" 2>"$T/s3.log" || { cat "$T/s3.log"; exit 1; }
trap 'rc=$?; "$SWIFT" stop "$T/swift" >/dev/null 2>&1; (exit $rc); cleanup' EXIT
set -a
. "$T/s3.env"
set +a
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.crt" -days 1 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1
chmod 644 "$T/tls.crt"
TLSPORT=$(free_port)
python3 "$S3TOOL" tls "$TLSPORT" "$T/tls.crt" "$T/tls.key" &
PIDS+=("$!")
wait_for "TLS terminator" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$TLSPORT"
CRED=$T/s3.credentials
printf 'aws_access_key_id = %s\naws_secret_access_key = %s\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" >"$CRED"
echo "bench cipher passphrase" >"$T/cipher.pass"
chown postgres:postgres "$CRED" "$T/cipher.pass"
chmod 600 "$CRED" "$T/cipher.pass"

# dd_conf MODE PREFIX: a drydock config for the bucket (MODE plain | enc).
dd_conf() {
    local extra=()
    [ "$1" = enc ] && extra=("cipher = aes-256-gcm" "cipher-pass-file = $T/cipher.pass")
    lib_write_config "state-dir = $T/dd-state" "[repository]" "type = s3" \
        "s3-endpoint = https://127.0.0.1:$TLSPORT" "s3-bucket = $BUCKET" "s3-region = $S3_REGION" \
        "s3-prefix = $2" "s3-credentials-file = $CRED" "s3-ca-file = $T/tls.crt" "${extra[@]}"
}
eval "$(declare -f write_config | sed '1s/write_config/lib_write_config/')"
write_config() { dd_conf "${DD_MODE:-plain}" "${DD_PREFIX:-dd-setup}"; }

# br_conf MODE PATH: $T/pgbackrest.conf for the bucket.
br_conf() {
    {
        printf '%s\n' "[global]" "repo1-type=s3" "repo1-path=/$2" "repo1-s3-bucket=$BUCKET" \
            "repo1-s3-endpoint=localhost" "repo1-storage-port=$TLSPORT" \
            "repo1-s3-region=$S3_REGION" "repo1-s3-key=$S3_ACCESS_KEY" \
            "repo1-s3-key-secret=$S3_SECRET_KEY" "repo1-s3-uri-style=path" \
            "repo1-storage-ca-file=$T/tls.crt" "log-path=$T/pgbr-log" "lock-path=$T/pgbr-lock" \
            "spool-path=$T/pgbr-spool" "compress-type=zst" "compress-level=3" \
            "log-level-console=warn" "log-level-file=off" "start-fast=y" "process-max=$JOBS"
        [ "$1" = enc ] && printf '%s\n' "repo1-cipher-type=aes-256-cbc" \
            "repo1-cipher-pass=bench cipher passphrase"
        printf '%s\n' "" "[bench]" "pg1-path=${PG_DATA[p]}" "pg1-port=${PG_PORT[p]}" \
            "pg1-socket-path=$T"
    } >"$T/pgbackrest.conf"
    chown postgres "$T/pgbackrest.conf"
}
br() { as_pg pgbackrest --config="$T/pgbackrest.conf" --stanza=bench "$@"; }

as_pg mkdir -p "$T/pgbr-log" "$T/pgbr-lock" "$T/pgbr-spool" "$T/segs"
pg_primary p
runuser -u postgres -- "$DRYDOCK" --config "$CONF" repo-create >/dev/null 2>&1 # creates the bucket
psql_q p "alter system set max_wal_size = '2GB'" >/dev/null
# First collect real segments for the push test, then archive to both tools.
psql_q p "alter system set archive_command = 'cp %p $T/segs/%f'" >/dev/null
psql_q p "select pg_reload_conf()" >/dev/null
echo "pgbench -i -s $SCALE ..."
backup_pgbench p -i -s "$SCALE" -q >"$T/init.log" 2>&1
psql_q p "checkpoint; select pg_switch_wal()" >/dev/null
wait_for "segments" 120 bash -c "[ \$(ls $T/segs | grep -cE '^[0-9A-F]{24}\$') -ge $SEGMENTS ]" ||
    { echo "too few segments"; exit 1; }
mapfile -t SEGS < <(ls "$T/segs" | grep -E '^[0-9A-F]{24}$' | sort | head -n "$SEGMENTS")
size=$(psql_q p "select pg_database_size('postgres')")
echo "cluster: pgbench scale $SCALE, $((size / 1048576)) MiB; $SEGMENTS segments; jobs $JOBS; $RUNS runs"

# archive_to TOOL: archive_command feeds TOOL's current repository alone; returns once every
# segment before now is archived (by whichever command was set), so the phase starts idle.
archive_to() {
    local cmd
    if [ "$1" = dd ]; then cmd="$DRYDOCK --config $T/dd-cur.conf wal-push %p"
    else cmd="pgbackrest --config=$T/br-cur.conf --stanza=bench archive-push %p"; fi
    psql_q p "alter system set archive_command = '$cmd'" >/dev/null
    psql_q p "select pg_reload_conf()" >/dev/null
    psql_q p "select pg_switch_wal()" >/dev/null
    wait_for "an idle archiver" 300 bash -c "! ls ${PG_DATA[p]}/pg_wal/archive_status | grep -q ready" ||
        { echo "the archiver did not catch up"; exit 1; }
}

# One run of one tool in one mode: fresh repository (prefix), push, full, next, restore.
declare -A R
run_drydock() { # MODE RUN
    local m=$1 r=$2 start c0 c1
    archive_to dd
    cpu_mark c0
    start=$(date +%s.%N)
    for s in "${SEGS[@]}"; do dd wal-push "$T/segs/$s" 2>/dev/null || { echo "wal-push $s failed"; exit 1; }; done
    R[dd,$m,$r,push]=$(secs "$start")
    cpu_mark c1
    R[dd,$m,$r,pushcpu]=$(echo "$c1 - $c0" | bc)
    start=$(date +%s.%N)
    dd backup --jobs "$JOBS" --json >"$T/dd-full.json" 2>"$T/dd.err" || { cat "$T/dd.err"; exit 1; }
    R[dd,$m,$r,full]=$(secs "$start")
    cpu_mark c0
    R[dd,$m,$r,fullcpu]=$(echo "$c0 - $c1" | bc)
    R[dd,$m,$r,fullb]=$(grep '"type":"summary"' "$T/dd-full.json" | jq -r .bytes_stored)
    backup_pgbench p -n -t 2000 >/dev/null 2>&1
    cpu_mark c0
    start=$(date +%s.%N)
    dd backup --jobs "$JOBS" --json >"$T/dd-next.json" 2>"$T/dd.err" || { cat "$T/dd.err"; exit 1; }
    R[dd,$m,$r,next]=$(secs "$start")
    cpu_mark c1
    R[dd,$m,$r,nextcpu]=$(echo "$c1 - $c0" | bc)
    R[dd,$m,$r,nextb]=$(grep '"type":"summary"' "$T/dd-next.json" | jq -r .bytes_stored)
    # Where the backups' time went (copy, waiting for the last WAL), for the report.
    for b in full next; do
        R[dd,$m,$r,${b}parts]=$(grep '"type":"summary"' "$T/dd-$b.json" |
            jq -r '"copy \(.copy_seconds) s, wal-wait \(.wal_wait_seconds) s"')
    done
    cpu_mark c1
    start=$(date +%s.%N)
    dd restore --dest "$T/dd-restore" --quiet || { echo "drydock restore failed"; exit 1; }
    R[dd,$m,$r,restore]=$(secs "$start")
    cpu_mark c0
    R[dd,$m,$r,restorecpu]=$(echo "$c0 - $c1" | bc)
    rm -rf "$T/dd-restore"
    sync # the next restore should not pay for these deletions (ext4 searches past them)
}
run_pgbackrest() { # MODE RUN
    local m=$1 r=$2 start before
    archive_to br
    start=$(date +%s.%N)
    for s in "${SEGS[@]}"; do br archive-push "$T/segs/$s" >/dev/null || { echo "archive-push $s failed"; exit 1; }; done
    R[br,$m,$r,push]=$(secs "$start")
    start=$(date +%s.%N)
    br --type=full backup >"$T/br.log" 2>&1 || { cat "$T/br.log"; exit 1; }
    R[br,$m,$r,full]=$(secs "$start")
    R[br,$m,$r,fullb]=$(python3 "$S3TOOL" du "$BUCKET" "br-$m-$r/backup/")
    backup_pgbench p -n -t 2000 >/dev/null 2>&1
    start=$(date +%s.%N)
    br --type=incr backup >"$T/br.log" 2>&1 || { cat "$T/br.log"; exit 1; }
    R[br,$m,$r,next]=$(secs "$start")
    R[br,$m,$r,nextb]=$(( $(python3 "$S3TOOL" du "$BUCKET" "br-$m-$r/backup/") - R[br,$m,$r,fullb] ))
    as_pg mkdir -p "$T/br-restore"
    start=$(date +%s.%N)
    br restore --pg1-path="$T/br-restore" >"$T/br.log" 2>&1 || { cat "$T/br.log"; exit 1; }
    R[br,$m,$r,restore]=$(secs "$start")
    rm -rf "$T/br-restore"
    sync
}

for ((r = 1; r <= RUNS; r++)); do
    for m in plain enc; do
        DD_MODE=$m DD_PREFIX=dd-$m-$r write_config
        cp "$CONF" "$T/dd-cur.conf"
        br_conf "$m" "br-$m-$r"
        cp "$T/pgbackrest.conf" "$T/br-cur.conf"
        chown postgres "$T/dd-cur.conf" "$T/br-cur.conf"
        dd repo-create >/dev/null 2>&1 || { echo "drydock repo-create failed"; exit 1; }
        br stanza-create >/dev/null || { echo "pgbackrest stanza-create failed"; exit 1; }
        if (( r % 2 )); then run_drydock $m $r; run_pgbackrest $m $r; else run_pgbackrest $m $r; run_drydock $m $r; fi
        load=$(cut -d' ' -f1-3 /proc/loadavg)
        for t in dd br; do
            printf 'run %d %-5s %-10s push %6.2fs  full %6.2fs %11s B  next %6.2fs %10s B  restore %6.2fs  load %s\n' \
                "$r" "$m" "$([ $t = dd ] && echo drydock || echo pgBackRest)" "${R[$t,$m,$r,push]}" \
                "${R[$t,$m,$r,full]}" "${R[$t,$m,$r,fullb]}" "${R[$t,$m,$r,next]}" \
                "${R[$t,$m,$r,nextb]}" "${R[$t,$m,$r,restore]}" "$load"
        done
        printf '      drydock full: %s; next: %s\n' "${R[dd,$m,$r,fullparts]}" "${R[dd,$m,$r,nextparts]}"
        printf '      drydock CPU: push %s s, full %s s, next %s s, restore %s s\n' "${R[dd,$m,$r,pushcpu]}" \
            "${R[dd,$m,$r,fullcpu]}" "${R[dd,$m,$r,nextcpu]}" "${R[dd,$m,$r,restorecpu]}"
    done
done

echo
echo "medians over $RUNS runs; drydock/pgBackRest (< 1: drydock faster or smaller):"
for m in plain enc; do
    for f in push full fullb next nextb restore; do
        d=() b=()
        for ((r = 1; r <= RUNS; r++)); do d+=("${R[dd,$m,$r,$f]}"); b+=("${R[br,$m,$r,$f]}"); done
        printf '  %-5s %-8s drydock %12s  pgBackRest %12s  ratio %s\n' "$m" "$f" "$(median "${d[@]}")" \
            "$(median "${b[@]}")" "$(ratio "$(median "${d[@]}")" "$(median "${b[@]}")")"
    done
done
echo "encryption cost, drydock enc/plain:"
for f in push full next restore; do
    p=() e=()
    for ((r = 1; r <= RUNS; r++)); do p+=("${R[dd,plain,$r,$f]}"); e+=("${R[dd,enc,$r,$f]}"); done
    printf '  %-8s %s (goal < 1.10)\n' "$f" "$(ratio "$(median "${e[@]}")" "$(median "${p[@]}")")"
done
echo "encryption cost in drydock's CPU time, enc/plain of the medians:"
for f in push full next restore; do
    p=() e=()
    for ((r = 1; r <= RUNS; r++)); do p+=("${R[dd,plain,$r,${f}cpu]}"); e+=("${R[dd,enc,$r,${f}cpu]}"); done
    printf '  %-8s %s\n' "$f" "$(ratio "$(median "${e[@]}")" "$(median "${p[@]}")")"
done
