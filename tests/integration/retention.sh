#!/bin/bash
# Retention frees space (issue 16): ten rounds of a small pgbench change (80
# transactions: each touches a few chunks, so packs mix live and dead ones), a
# backup and "expire --keep-backups 2". After the last round the repository
# holds what the two kept backups need, computed here from their manifests
# and the pack indexes (chunks, closed over delta bases, and the WAL from the
# oldest kept backup's start), within the bound the README states: the packs
# at most twice the chunks needed (a pack at least half alive stays whole).
# Before the fix, dead deltas kept their bases' packs: 3 packs less than half
# needed after the last round, and the .backup files of expired WAL stayed.
source "$(dirname "$0")/lib.sh"

pg_primary p
dd repo-create >/dev/null 2>&1
pg_standby s p
backup_pgbench p -i -s 5 -q >"$T/init.log" 2>&1
psql_q p "checkpoint"

# retention_needs ID...: "<chunk bytes needed> <pack bytes> <wal bytes needed>
# <wal bytes stored> <packs less than half needed>" for the kept backups ID...
# (the indexes and manifests as drydock debug reads them).
retention_needs() {
    local id lsn seg oldest= f n size wal_need=0 wal_all=0 chunk_bytes pack_bytes thin
    : >"$T/needs.manifests"
    for id in "$@"; do
        dd debug manifest "$id" --json >>"$T/needs.manifests"
        lsn=$(jq -r '.["start-lsn"]' <<<"$(tail -1 "$T/needs.manifests")")
        seg=$((((16#${lsn%/*} << 32) | 16#${lsn#*/}) / (16 << 20)))
        [ -z "$oldest" ] || [ "$seg" -lt "$oldest" ] && oldest=$seg
    done
    stat -c '%n %s' "$REPO"/packs/*.pack |
        jq -Rn '[inputs | split(" ") | {(.[0] | sub(".*/"; "") | sub("\\.pack$"; "")): (.[1] | tonumber)}] | add // {}' >"$T/needs.sizes"
    dd debug index --json >"$T/needs.index"
    # A delta needs its base, transitively; a chunk listed twice counts once.
    jq -rn --slurpfile idx "$T/needs.index" --slurpfile sz "$T/needs.sizes" --slurpfile ms "$T/needs.manifests" '
        def closure($e): . as $set
            | ([keys[] | $e[.] | select(. != null and .kind == "delta") | .base | select($set[.] | not)] | unique) as $new
            | if ($new | length) == 0 then $set else ($set + ($new | map({(.): true}) | add)) | closure($e) end;
        (reduce $idx[0][] as $x ({}; if has($x.sha256) then . else .[$x.sha256] = $x end)) as $e
        | ([$ms[] | .files[] | (.chunks // [])[] | {(.[0]): true}] | add // {} | closure($e)) as $need
        | [$need | keys[] | $e[.] | select(. != null)] as $have
        | ($have | group_by(.pack) | map({(.[0].pack): (map(.stored_len) | add)}) | add // {}) as $per_pack
        | "\([$have[].stored_len] | add // 0) \([$sz[0][]] | add // 0) \($sz[0] | to_entries | map(select(2 * ($per_pack[.key] // 0) < .value)) | length)"' >"$T/needs.out"
    for f in "$REPO"/wal/*/*; do
        [ -e "$f" ] || continue
        n=$(basename "$f")
        size=$(stat -c %s "$f")
        wal_all=$((wal_all + size))
        if [[ "$f" == */history/* ]] || (((16#${n:8:8}) * 256 + 16#${n:16:8} >= oldest)); then
            wal_need=$((wal_need + size))
        fi
    done
    read -r chunk_bytes pack_bytes thin <"$T/needs.out"
    echo "$chunk_bytes $pack_bytes $wal_need $wal_all $thin"
}

thin_rounds=0
for round in $(seq 1 10); do
    backup_pgbench p ${RETENTION_LOAD:--c 2 -j 1 -t 40} -n >>"$T/rounds.log" 2>&1
    dd backup >/dev/null 2>>"$T/rounds.log" || fail "backup of round $round"
    dd expire --keep-backups 2 >"$T/expire.$round" 2>>"$T/rounds.log" || fail "expire of round $round"
    read -r need packs wal_need wal_all thin < <(retention_needs $(ls "$REPO/backups" | sed 's/\.manifest$//'))
    [ "$thin" -gt 0 ] && thin_rounds=$((thin_rounds + 1))
    note "round $round: packs $packs bytes for $need needed; WAL $wal_all bytes for $wal_need needed; $thin packs less than half needed; repository $(du -sb "$REPO" | cut -f1) bytes"
done

check_eq "two backups are kept" 2 "$(ls "$REPO/backups" | wc -l)"
check "the packs hold at most twice the chunks the kept backups need ($packs vs $need)" \
    test "$packs" -le $((2 * need))
check_eq "after every expire, every pack is at least half needed by the kept backups" 0 "$thin_rounds"
check_eq "the WAL archive holds only what the kept backups need" "$wal_need" "$wal_all"
check "verify passes" dd verify
finish
