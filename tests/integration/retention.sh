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
# (index layout: chunkstore.c).
retention_needs() {
    python3 - "$REPO" "$@" <<'PY'
import json, os, struct, subprocess, sys
repo, ids = sys.argv[1], sys.argv[2:]
def payload(path):
    obj = open(path, "rb").read()
    return obj[56:] if obj[5] == 0 else subprocess.run(["zstd", "-dcq"], input=obj[56:], capture_output=True).stdout
entries, pack_bytes = {}, 0
for f in os.listdir(repo + "/packs"):
    if f.endswith(".pack"):
        pack_bytes += os.path.getsize(f"{repo}/packs/{f}")
    if not f.endswith(".index"):
        continue
    idx = payload(f"{repo}/packs/{f}")
    for i in range(struct.unpack_from("<Q", idx, 8)[0]):
        sha, off, slen, rlen, kind, depth, _, base = struct.unpack_from("<32sQIIBBH32s", idx, 24 + 84 * i)
        entries.setdefault(sha, (slen, kind, base, f[:-6]))
need, oldest = set(), None
for bid in ids:
    m = json.loads(payload(f"{repo}/backups/{bid}.manifest"))
    hi, lo = (int(x, 16) for x in m["start-lsn"].split("/"))
    seg = ((hi << 32) | lo) // (16 << 20)
    oldest = seg if oldest is None else min(oldest, seg)
    for f in m["files"]:
        for sha, _ in f.get("chunks", []):
            need.add(bytes.fromhex(sha))
todo = list(need)
while todo:  # a delta needs its base, transitively
    e = entries.get(todo.pop())
    if e and e[1] == 1 and e[2] not in need:
        need.add(e[2])
        todo.append(e[2])
chunk_bytes = sum(entries[s][0] for s in need if s in entries)
per_pack = {}
for s in need:
    if s in entries:
        per_pack[entries[s][3]] = per_pack.get(entries[s][3], 0) + entries[s][0]
thin = sum(1 for f in os.listdir(repo + "/packs") if f.endswith(".pack") and
           2 * per_pack.get(f[:-5], 0) < os.path.getsize(f"{repo}/packs/{f}"))
wal_need = wal_all = 0
for d in os.listdir(repo + "/wal"):
    for f in os.listdir(f"{repo}/wal/{d}"):
        size = os.path.getsize(f"{repo}/wal/{d}/{f}")
        wal_all += size
        if d == "history" or int(f[8:16], 16) * 256 + int(f[16:24], 16) >= oldest:
            wal_need += size
print(chunk_bytes, pack_bytes, wal_need, wal_all, thin)
PY
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
