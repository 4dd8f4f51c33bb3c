#!/bin/bash
# crypt_repo.sh - a repository encrypted at rest (issue 13), in a directory:
# no plaintext page or WAL record is in it; a flipped bit in any kind of
# object is found; a wrong or missing key is refused in one line naming the
# key source; repo-rekey under a running archiver loses no segment, and the
# old passphrase stops working; backup, PITR restore and verify through it.
source "$(dirname "$0")/lib.sh"

PASS=$T/cipher.pass
NEWPASS=$T/cipher.newpass
echo "the first passphrase" >"$PASS"
echo "the second passphrase" >"$NEWPASS"
chown postgres:postgres "$PASS" "$NEWPASS"
chmod 600 "$PASS" "$NEWPASS"
eval "$(declare -f write_config | sed '1s/write_config/lib_write_config/')"
write_config() {
    lib_write_config "$@" "[repository]" "cipher = aes-256-gcm" "cipher-pass-file = $PASS"
}

pg_primary p
pg_standby s p
check "repo-create with cipher = aes-256-gcm" dd repo-create
check "the metadata records the cipher" grep -q '"cipher": "aes-256-gcm"' "$REPO/drydock.repo"
check "the key hierarchy is there" test -f "$REPO/keys/current" -a -f "$REPO/keys/g1/kdf" -a -f "$REPO/keys/g1/name"

# A known string in a table and in the WAL.
MARK=drydock-plaintext-canary-7f3a9c
psql_q p "create table canary as select g, '$MARK' || g as v from generate_series(1, 20000) g"
psql_q p "create table markers (id int primary key, at timestamptz not null)"
psql_q p "insert into markers values (1, clock_timestamp())"
check "the string is in the primary's WAL" bash -c "grep -rqa '$MARK' '${PG_DATA[p]}/pg_wal'"
seg=$(psql_q p "select pg_walfile_name(pg_switch_wal())")
check "$seg archived, encrypted" wait_for "$seg archived" 60 dd wal-fetch "$seg" "$T/probe"
check "wal-fetch decrypts it" grep -qa "$MARK" "$T/probe"
check "backup from the standby, encrypted" dd backup --quiet
check_eq "no plaintext page or WAL record in the repository" "" "$(grep -rla "$MARK" "$REPO")"
check "verify passes" dd verify --quiet
B1=$(restore_last_backup)
psql_q p "insert into markers values (2, clock_timestamp())"
CUT=$(psql_q p "select clock_timestamp()")
sleep 0.5
psql_q p "insert into markers values (3, clock_timestamp())"
check "the last WAL is archived" dd check --quiet --timeout 60

# A wrong or missing key: one line naming the key source, never "corrupted".
echo "not the passphrase" >"$T/wrong.pass"
chown postgres:postgres "$T/wrong.pass"
chmod 600 "$T/wrong.pass"
cp "$CONF" "$T/right.conf"
sed -i "s|^cipher-pass-file = .*|cipher-pass-file = $T/wrong.pass|" "$CONF"
check_error "a wrong passphrase is refused, naming its file" 3 \
    "the passphrase from cipher-pass-file \"$T/wrong.pass\" does not unlock repository" dd verify
sed -i "s|^cipher = .*|cipher = none|" "$CONF"
check_error "a missing cipher setting is refused" 3 "is encrypted \\(aes-256-gcm\\), but \\[repository\\] cipher is none" \
    dd info
cp "$T/right.conf" "$CONF"

# PITR through the encrypted archive and backup.
port=$(free_port)
check "restore to a point in time" dd restore --dest "$T/pitr" --port "$port" --quiet --target-time "$CUT"
if restore_start pitr "$T/pitr" "$port"; then
    check_eq "the clone holds markers 1,2" "1,2" "$(psql_q pitr "select string_agg(id::text, ',' order by id) from markers")"
    check_eq "and the canary table" 20000 "$(psql_q pitr "select count(*) from canary where v like '$MARK%'")"
    pg_stop pitr immediate
fi

# Rekey under a running archiver: every segment ends up archived.
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -i -s 2 -q postgres >/dev/null 2>&1
( for i in $(seq 1 30); do psql_q p "insert into markers values (100 + $i, clock_timestamp()); select pg_switch_wal()" >/dev/null; sleep 0.2; done ) &
SWITCHER=$!
PIDS+=("$SWITCHER")
sleep 1
check "repo-rekey while WAL is being archived" dd repo-rekey --new-pass-file "$NEWPASS"
# The operator points the configuration at the new passphrase.
sed -i "s|^cipher-pass-file = .*|cipher-pass-file = $NEWPASS|" "$CONF"
wait "$SWITCHER"
last=$(psql_q p "select pg_walfile_name(pg_switch_wal())")
check "archiving catches up after the rekey" wait_for "$last archived" 120 dd wal-fetch "$last" "$T/probe"
first_num=$((16#${seg:16:8}))
last_num=$((16#${last:16:8}))
missing=0
for ((n = first_num; n <= last_num; n++)); do
    name=$(printf '00000001%08X%08X' 0 "$n")
    dd wal-fetch "$name" "$T/probe" >/dev/null 2>&1 || { missing=$((missing + 1)); note "missing $name"; }
done
check_eq "no segment lost across the rekey ($first_num..$last_num)" 0 "$missing"
check "the rotation is recorded" jq -e '.generation == 2 and (.rotations | length) == 2' "$REPO/keys/current"
cp "$CONF" "$T/new.conf"
sed -i "s|^cipher-pass-file = .*|cipher-pass-file = $PASS|" "$CONF"
check_error "the old passphrase no longer works" 3 "the passphrase from cipher-pass-file \"$PASS\" does not unlock" dd info
cp "$T/new.conf" "$CONF"
check "backups taken before the rekey verify with the new passphrase" dd verify --quiet

# drydock debug reads the encrypted formats with the passphrase.
did=$(ls "$REPO/backups" | head -1 | sed 's/\.manifest$//')
check_eq "debug manifest decrypts a manifest" "$did" "$(dd debug manifest "$did" --json | jq -r .id)"
check_eq "debug object --header says it is encrypted (92-byte header)" "true 92" \
    "$(dd debug object "backups/$did.manifest" --header | jq -r '"\(.encrypted) \(.header_len)"')"
check "debug index lists the packs' chunks" test "$(dd debug index | wc -l)" -gt 0

# A flipped bit in each kind of object is found.
flip() { # FILE: flip one bit in the middle of the payload (after the 92-byte header, object.h)
    local size
    size=$(stat -c %s "$1")
    flip_byte "$1" $((92 + (size - 92) / 2)) 0x04
}
segfile=$(find "$REPO/wal" -name "$seg")
flip "$segfile"
check_error "a flipped bit in a WAL segment is refused" 10 "failed authentication" dd wal-fetch "$seg" "$T/probe"
manifest=$(ls "$REPO/backups/"* | head -1)
flip "$manifest"
pack=$(ls -S "$REPO/packs/"*.pack | head -1)
flip "$pack"
dd verify >"$T/verify.out" 2>"$T/verify.err"
check_eq "verify fails on the damaged repository" 10 "$?"
check "verify names the damaged manifest" grep -q "failed authentication" "$T/verify.err"
check "verify reports the damaged chunk" grep -qE "chunk .* (is damaged|failed authentication)" "$T/verify.err"

finish
