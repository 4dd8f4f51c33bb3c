#!/bin/bash
# WAL archiving end to end (issue 2): a primary archives through drydock
# wal-push under pgbench load; every completed segment is in the repository;
# a pg_basebackup taken before the load recovers through drydock wal-fetch to
# the end of the archive and holds exactly the primary's rows.
source "$(dirname "$0")/lib.sh"

pg_primary p
check "repo-create records the cluster" dd repo-create
check "check proves archiving works" dd check --timeout 30

# A base backup before the load, without WAL: recovery must fetch it all.
as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -D "$T/copy" -X none -c fast \
    >"$T/copy.log" 2>&1
check "pg_basebackup without WAL" test -f "$T/copy/PG_VERSION"

as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -i -s 5 -q postgres >"$T/pgbench-init.log" 2>&1
as_pg "$PGBIN/pgbench" -h 127.0.0.1 -p "${PG_PORT[p]}" -U postgres -c 4 -j 2 -t 1500 -n postgres >"$T/pgbench.log" 2>&1
check "pgbench load ran" grep -q "number of failed transactions: 0" "$T/pgbench.log"
psql_q p "create table marker(id int primary key, at timestamptz default now()); insert into marker select generate_series(1,100)"
last=$(psql_q p "select pg_walfile_name(pg_switch_wal())")
wait_for "segment $last archived" 60 dd wal-fetch "$last" "$T/probe"
check_eq "archiver reported no failure" "0" "$(psql_q p 'select failed_count from pg_stat_archiver')"

# Every segment from the first to the last completed one is in the repository.
first_num=1
last_num=$((16#${last:16:8} + 256 * 16#${last:8:8}))
missing=0
for ((n = first_num; n <= last_num; n++)); do
    name=$(printf '00000001%08X%08X' $((n / 256)) $((n % 256)))
    [ -f "$REPO/wal/${name:0:16}/$name" ] || { missing=$((missing + 1)); note "missing $name"; }
done
check_eq "all $last_num completed segments are archived" 0 "$missing"
check "segments are stored compressed" test "$(du -sb "$REPO/wal" | cut -f1)" -lt $((last_num * 16 * 1024 * 1024))

expect=$(accounts_digest p)
expect_hist=$(psql_q p "select count(*) from pgbench_history")

# Recover the early copy through wal-fetch to the end of the archive.
check "recovered cluster promoted at the end of the archive" recover_from_archive r "$T/copy"
check_eq "recovered accounts equal the primary's" "$expect" \
    "$(accounts_digest r)"
check_eq "recovered history rows equal the primary's" "$expect_hist" "$(psql_q r 'select count(*) from pgbench_history')"
check_eq "recovered markers" 100 "$(psql_q r 'select count(*) from marker')"
pg_stop r

finish
