#!/bin/bash
# What a hostile or careless user found (issue 16), each against real
# PostgreSQL 15 and failing before its fix:
#  1. wal-push checks history and .backup files; verify checks archived ones;
#  2. verify checks what restore relies on in a hand-edited manifest (and a
#     stop LSN of FFFFFFFF/FFFFFFFF no longer loops until out of memory);
#     restore --backup of a damaged manifest says damaged;
#  3. a truncated pack is one line of verify, not one per chunk;
#  4. a lock held shared (verify) is named by the holder's pid;
#  5. connection strings never show a password: proxy-ctl switch's log line
#     and GET /status; --config DIR says it is a directory;
#  6. libpq's WARNING notices do not break "one line on stderr", and a failed
#     query names its server.
source "$(dirname "$0")/lib.sh"

pg_primary p
dd repo-create >/dev/null 2>&1
backup_pgbench p -i -s 1 -q >"$T/init.log" 2>&1
check "a backup" dd backup --from primary --quiet
B=$(restore_last_backup)

# harden_put_object PATH: write stdin as a repository object at $REPO/PATH, as
# a drydock that did not check it would have (drydock debug object --put).
harden_put_object() {
    dd debug object "$1" --put
}

# --- 1. WAL side files ---------------------------------------------------------
as_pg mkdir -p "$T/side"
printf 'garbage\n' >"$T/side/00000002.history"
printf 'garbage\n' >"$T/side/000000010000000000000002.00000028.backup"
chown postgres "$T/side"/*
check_error "wal-push refuses a garbage history file" 10 \
    'history file of timeline 2, line 1: expected a numeric timeline ID.*HINT' \
    dd wal-push "$T/side/00000002.history"
check_error "wal-push refuses a garbage .backup file" 10 \
    'backup history file "000000010000000000000002.00000028.backup" does not start with' \
    dd wal-push "$T/side/000000010000000000000002.00000028.backup"
check "the garbage history file was not archived" test ! -e "$REPO/wal/history/00000002.history"
as_pg mkdir -p "$REPO/wal/history"
printf 'garbage\n' | harden_put_object wal/history/00000007.history
dd verify >"$T/v1.out" 2>&1
check_eq "verify exits 10 on an archived garbage history file" 10 $?
check "verify names it" grep -q "archived history file of timeline 7, line 1: expected a numeric timeline ID" "$T/v1.out"
rm -f "$REPO/wal/history/00000007.history"

# --- 2. hand-edited manifests ------------------------------------------------------
# harden_manifest NEWID JQ: backup B's manifest as backup NEWID, edited by the
# jq filter JQ.
harden_manifest() {
    backup_manifest_json "$B" | jq -c --arg id "$1" ".id = \$id | $2 | .files |= sort_by(.path)" |
        harden_put_object "backups/$1.manifest"
}
one_chunk='(first(.files | to_entries[] | select((.value.chunks // [] | length) == 1 and .value.size > 1) | .key)) as $i'
cases=(
    "20000101T000001Z#$one_chunk | .files[\$i].chunks[0][1] -= 1 | .files[\$i].size -= 1#bytes, not"
    "20000101T000002Z#$one_chunk | .files += [{path: (.files[\$i].path + \"/x\"), mode: 16832, size: 0, mtime: 0}]#which is a file"
    "20000101T000003Z#.[\"system-identifier\"] = \"1\"#system identifier 1, the repository"
    "20000101T000004Z#.files = []#it lists no file"
    "20000101T000005Z#.tablespaces = [{oid: 99999, location: \"rel/ts\"}]#not an absolute path"
    "20000101T000006Z#.[\"stop-lsn\"] = \"0/1\"#is not a range"
)
for c in "${cases[@]}"; do
    IFS='#' read -r id edit want <<<"$c"
    harden_manifest "$id" "$edit"
    timeout 120 runuser -u postgres -- "$DRYDOCK" --config "$CONF" verify >"$T/v.$id" 2>&1
    rc=$?
    check_eq "verify exits 10 on manifest $id ($want)" 10 "$rc"
    check "verify says backup $id cannot be restored: $want" \
        bash -c "grep '$id' '$T/v.$id' | grep -q -- '$want'"
    if [ "$id" = 20000101T000001Z ]; then # the manifest loads: restore fails on the chunk
        check_error "restore --backup $id refuses it" 10 'a chunk of [0-9]+ bytes is [0-9]+ in the manifest' \
            dd restore --dest "$T/r.$id" --backup "$id" --quiet
    else
        check_error "restore --backup $id says its manifest is damaged" 10 \
            "backup \"$id\" cannot be restored: its manifest is damaged: .*$want" \
            dd restore --dest "$T/r.$id" --backup "$id" --quiet
    fi
    rm -f "$REPO/backups/$id.manifest"
done
harden_manifest 20000101T000009Z '.["stop-lsn"] = "FFFFFFFF/FFFFFFFF"'
timeout 120 runuser -u postgres -- "$DRYDOCK" --config "$CONF" verify >"$T/v.ff" 2>&1
rc=$?
check_eq "verify of a stop LSN FFFFFFFF/FFFFFFFF ends with exit 10 (not 124 or 134)" 10 "$rc"
check "it counts the missing WAL instead of listing it" grep -q "backup 20000101T000009Z: [0-9]* more WAL segments missing" "$T/v.ff"
check "it lists at most a thousand problems" test "$(wc -l <"$T/v.ff")" -lt 1010
rm -f "$REPO/backups/20000101T000009Z.manifest"
check "verify passes again" dd verify

# --- 3. a truncated pack: one line -----------------------------------------------
pack=$(ls "$REPO/packs" | grep '\.pack$' | head -1)
cp "$REPO/packs/$pack" "$T/pack.saved"
truncate -s 100000 "$REPO/packs/$pack"
dd verify >"$T/v.trunc" 2>&1
check_eq "verify exits 10 on a truncated pack" 10 $?
check_eq "the truncated pack is one line" 1 "$(grep -c "pack \"packs/$pack\" is 100000 bytes, its index says" "$T/v.trunc")"
cp "$T/pack.saved" "$REPO/packs/$pack"

# --- 4. a shared lock is named by its holder's pid ---------------------------------
DRYDOCK_TEST_PAUSE_AT=verify-indexes DRYDOCK_TEST_RESUME_FILE=$T/resume \
    runuser -u postgres -- "$DRYDOCK" --config "$CONF" verify >/dev/null 2>"$T/vlock.err" &
runner=$!
if wait_for "verify paused" 60 grep -q "pausing at verify-indexes" "$T/vlock.err"; then
    vpid=$(pgrep -f "^$DRYDOCK --config $CONF verify")
    check_error "expire names the verify holding the chunks lock by its pid" 5 \
        "is locked for chunks by pid $vpid\\." dd expire --keep-backups 1
fi
touch "$T/resume"
wait "$runner"

# --- 5. secrets -------------------------------------------------------------------
check_error "--config DIR says it is a directory" 3 "configuration file \"$T\" \\(from --config\\) is a directory" \
    runuser -u postgres -- "$DRYDOCK" --config "$T" info
switchover_proxy_start
check "proxy-ctl pause" dd proxy-ctl pause --timeout 5
check_error "a malformed URI's error hides it" 2 'invalid connection string for the server: .*"\.\.\."' \
    dd proxy-ctl switch "postgresql://u:SECRET2@[::1/db"
url="postgresql://postgres@127.0.0.1:${PG_PORT[p]}/postgres?sslpassword=x&password=SECRET1"
check "proxy-ctl switch with a URI holding two passwords" dd proxy-ctl switch "$url"
check "proxy-ctl resume" dd proxy-ctl resume
acurl -s "http://127.0.0.1:$APORT/status" >"$T/status.json"
check "GET /status shows the server without its password" \
    bash -c "grep -q 'password=\*\*\*\*\*\*\*\*' '$T/status.json' && ! grep -q SECRET '$T/status.json'"
check "the proxy's log never shows the password" bash -c "grep -q 'switching' '$T/proxy.log' && ! grep -q SECRET '$T/proxy.log'"
sed -i "s|^primary = .*|primary = host=127.0.0.1 port=${PG_PORT[p]} password=my SECRET3|" "$CONF"
check_error "a conninfo libpq cannot parse: no secret in the error" 3 'invalid connection string for the primary: missing "=" after "\.\.\."' \
    dd backup --from primary
check "no secret in the proxy's log at all" bash -c "! grep -q SECRET '$T/proxy.log'"
write_config "${PROXY_INI[@]}"

# --- 6. a server that goes away mid-command ---------------------------------------
DRYDOCK_TEST_PAUSE_AT=copy DRYDOCK_TEST_RESUME_FILE=$T/resume2 \
    runuser -u postgres -- "$DRYDOCK" --config "$CONF" backup --from primary --quiet >/dev/null 2>"$T/bk.err" &
runner=$!
if wait_for "backup paused" 60 grep -q "pausing at copy" "$T/bk.err"; then
    pg_stop p immediate
    touch "$T/resume2"
    wait "$runner"
    check "the backup fails" test $? -ne 0
    check "libpq's WARNING notice is not printed raw" bash -c "! grep -q '^WARNING:' '$T/bk.err'"
    check_eq "one error line (besides the test point's)" 1 "$(grep -vc 'pausing at' "$T/bk.err")"
    check "the failed query names its server" grep -q "on server \"127.0.0.1:${PG_PORT[p]}\"" "$T/bk.err"
else
    fail "backup paused"
fi
finish
