#!/bin/bash
# WAL archive faults (issue 2): kill -9 mid-push, corrupted objects, a
# read-only or full repository, wrong paths, bad configuration, a second
# writer, other content under the same name, another cluster's WAL.
source "$(dirname "$0")/lib.sh"

pg_primary p
dd repo-create >/dev/null 2>&1
psql_q p "create table t as select generate_series(1,200000) g"
seg=$(psql_q p "select pg_walfile_name(pg_switch_wal())")
wait_for "archived $seg" 60 dd wal-fetch "$seg" "$T/seg.probe"
mkdir -p "$T/src" && cp "$T/seg.probe" "$T/src/$seg" && chown -R postgres "$T/src"
obj="$REPO/wal/${seg:0:16}/$seg"

# --- kill -9 in the middle of a push never leaves a partial object ----------
write_config
sed -i "s|^path = .*|path = $T/repo2|" "$CONF"
dd repo-create >/dev/null 2>&1
bad=0
for delay in 0.001 0.005 0.01 0.02 0.03 0.05 0.08; do
    rm -rf "$T/repo2/wal"
    # setpriv execs drydock itself (runuser would fork), so the kill hits it.
    setpriv --reuid=postgres --regid=postgres --init-groups "$DRYDOCK" --config "$CONF" wal-push "$T/src/$seg" 2>/dev/null &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    f="$T/repo2/wal/${seg:0:16}/$seg"
    # Visible means complete and valid.
    if [ -e "$f" ] && ! dd wal-fetch "$seg" "$T/fetched" 2>/dev/null; then bad=$((bad + 1)); fi
    # The retry succeeds and the result is byte-identical.
    dd wal-push "$T/src/$seg" 2>/dev/null && dd wal-fetch "$seg" "$T/fetched" 2>/dev/null &&
        cmp -s "$T/fetched" "$T/src/$seg" || bad=$((bad + 1))
done
check_eq "kill -9 mid-push: no partial object, retry succeeds" 0 "$bad"
write_config

# --- pushing again ------------------------------------------------------
check "same content again succeeds" dd wal-push "$T/src/$seg"
# Flip every bit of one byte, so the copy differs whatever the byte was.
byte=$(od -An -tu1 -j100000 -N1 "$T/src/$seg" | tr -d ' ')
cp "$T/src/$seg" "$T/other" &&
    printf "\\$(printf %03o $((255 - byte)))" | command dd conv=notrunc of="$T/other" bs=1 seek=100000 2>/dev/null
check "the altered copy differs" bash -c "! cmp -s '$T/other' '$T/src/$seg'"
mkdir -p "$T/other.d" && mv "$T/other" "$T/other.d/$seg" && chown -R postgres "$T/other.d"
check_error "different content under the same name is refused" 9 "already archived .* with different content" \
    dd wal-push "$T/other.d/$seg"
dd wal-fetch "$seg" "$T/again" 2>/dev/null
check "the archived object was left as it was" cmp -s "$T/again" "$T/src/$seg"

# --- another cluster's WAL ----------------------------------------------
as_pg "$PGBIN/initdb" -D "$T/other-cluster" -U postgres >/dev/null 2>&1
oseg=$(ls "$T/other-cluster/pg_wal" | grep -E '^[0-9A-F]{24}$' | head -1)
check_error "WAL of another system is refused" 9 "system identifier" dd wal-push "$T/other-cluster/pg_wal/$oseg"

# --- bad names and sizes ------------------------------------------------
as_pg bash -c "head -c 1000 /dev/zero > $T/src/000000010000000000000099"
check_error "a short segment is refused" 10 "is 1000 bytes, expected 16777216" dd wal-push "$T/src/000000010000000000000099"
as_pg touch "$T/src/notwal"
check_error "a file that is not WAL is refused" 2 "is not a WAL file name" dd wal-push "$T/src/notwal"
check_error "a missing source file" 7 "could not open WAL file" dd wal-push "$T/src/000000010000000000000077"
check_error "wal-push without arguments" 2 "expected the path of one WAL file" dd wal-push

# --- fetch ----------------------------------------------------------------
out=$(dd wal-fetch 0000000100000000000000FE "$T/nothing" 2>&1); rc=$?
check_eq "missing segment: exit 1" 1 "$rc"
check_eq "missing segment: quiet" "" "$out"
check "missing segment: nothing written" test ! -e "$T/nothing"
out=$(dd wal-fetch 00000002.history "$T/nothing" 2>&1); rc=$?
check_eq "missing history file: exit 1, quiet" "1:" "$rc:$out"
cp "$obj" "$T/obj.bak"
printf "\x55\x55\x55\x55" | command dd conv=notrunc of="$obj" bs=1 seek=5000 2>/dev/null
check_error "a corrupted object fails naming it" 10 "$seg" dd wal-fetch "$seg" "$T/out"
check "nothing written for a corrupted object" test ! -e "$T/out"
head -c 100 "$T/obj.bak" >"$obj"
check_error "a truncated object fails naming it" 10 "$seg.*truncated" dd wal-fetch "$seg" "$T/out"
cp "$T/obj.bak" "$obj"
check "restored object fetches again" dd wal-fetch "$seg" "$T/out"
# The payload hashes right but the content does not: the last byte of the
# payload is the last zstd frame's checksum of the raw bytes (object.h
# invariant 3). The streamed fetch has written the content by then.
flip_byte "$obj" $(($(stat -c %s "$obj") - 1)) 1
# and the header's SHA-256 of the payload (bytes 24..55 of the 56-byte header) made to match
printf "$(tail -c +57 "$obj" | sha256sum | cut -c1-64 | sed 's/../\\x&/g')" |
    command dd of="$obj" bs=1 seek=24 conv=notrunc status=none
check_eq "the forged object's header is what drydock debug reads" "56 true" \
    "$(dd debug object "${obj#"$REPO"/}" --header | jq -r '"\(.header_len) \(.payload_sum)"')"
rm -f "$T/out"
check_error "content that fails zstd's checksum fails naming it" 10 "$seg.*checksum" dd wal-fetch "$seg" "$T/out"
check "nothing written when the content checksum fails" test ! -e "$T/out"
check_eq "no temporary file left beside the destination" "" "$(ls "$T" | grep dd-tmp)"
cp "$obj" "$T/obj.forged"
check_error "pushing onto a damaged object fails naming it" 10 "archived WAL file \"$seg\"" dd wal-push "$T/src/$seg"
check "the damaged object is left for the user to look at" cmp -s "$obj" "$T/obj.forged"
cp "$T/obj.bak" "$obj"

# --- the repository directory -------------------------------------------
cp "$T/src/$seg" "$T/src/$seg.partial"; chown postgres "$T/src/$seg.partial"
chmod 500 "$REPO/wal/${seg:0:16}"
check_error "read-only repository: one line, exit 7" 7 "could not create file .*Permission denied" \
    dd wal-push "$T/src/$seg.partial"
chmod 750 "$REPO/wal/${seg:0:16}"

if mkdir -p "$T/small" && mount -t tmpfs -o size=4m tmpfs "$T/small" 2>/dev/null; then
    chown postgres "$T/small"
    write_config
    sed -i "s|^path = .*|path = $T/small/repo|; s|^compress = .*|compress = none|" "$CONF"
    dd repo-create >/dev/null 2>&1
    check_error "full repository: one line, exit 7" 7 "No space left on device" dd wal-push "$T/src/$seg"
    check "full repository: no partial object left visible" test ! -e "$T/small/repo/wal/${seg:0:16}/$seg"
    umount "$T/small"
    write_config
else
    echo "ok - full repository # SKIP cannot mount a tmpfs here"
fi

# --- configuration and repository paths ---------------------------------
sed -i "s|^path = .*|path = $T/nowhere|" "$CONF"
check_error "a wrong repository path" 4 "repository \".*nowhere\" does not exist" dd wal-push "$T/src/$seg"
as_pg mkdir "$T/emptydir"
sed -i "s|^path = .*|path = $T/emptydir|" "$CONF"
check_error "a directory that is not a repository" 4 "is not a drydock repository" dd wal-push "$T/src/$seg"
write_config
check_error "repo-create refuses an existing repository" 4 "is not empty" dd repo-create
echo "[repository]
path = $REPO
colour = blue" >"$T/bad.conf"
chown postgres "$T/bad.conf"
check_error "an unknown key" 3 "bad.conf\", line 3: unknown key \"colour\" in \\[repository\\]" \
    runuser -u postgres -- "$DRYDOCK" --config "$T/bad.conf" wal-push "$T/src/$seg"
check_error "a missing configuration file" 3 "could not open configuration file" \
    runuser -u postgres -- "$DRYDOCK" --config "$T/none.conf" wal-push "$T/src/$seg"
check_error "an unknown command" 2 "unknown command" dd wal-pull
check_error "an unknown option" 2 "unknown option \"--bogus\"" dd backup --bogus
check_error "an option given without its value" 2 "option \"--jobs\" needs a value" dd backup --jobs
check_error "an option value out of range" 2 "--jobs expects a number from 1 to 256" dd backup --jobs 0

# --- a second writer --------------------------------------------------------
# wal-push waits up to 10 s for a held archive lock (walpush.h), then fails.
cp "$T/src/$seg" "$T/src/$seg.held"
hold_push() { # SECONDS: a wal-push holding the archive lock that long, in the background
    runuser -u postgres -- env DRYDOCK_TEST_LOCK_HOLD=$1 "$DRYDOCK" --config "$CONF" \
        wal-push "$T/src/$seg" 2>/dev/null &
    holder=$!
    wait_for "lock taken" 10 lock_held "$REPO/locks/archive.lock"
}
hold_push 14
check_error "a second writer waits 10 s, then fails naming the holder" 5 \
    "locked for archive by pid [0-9]+ on host .*wal-push" dd wal-push "$T/src/$seg"
check "the holder itself succeeded" wait "$holder"
hold_push 3
check "a second writer waits for a lock held 3 s, then succeeds" dd wal-push "$T/src/$seg"
wait "$holder"
check "after the holder exits the lock is free" dd wal-push "$T/src/$seg"

# --- check against a cluster that does not archive here ------------------
sed -i "s|^archive_command = .*|archive_command = '/bin/false drydock'|" "${PG_DATA[p]}/postgresql.conf"
psql_q p "select pg_reload_conf()" >/dev/null
sleep 0.5
check_error "check times out with the archiver's state" 8 "did not reach repository" dd check --timeout 2

finish
