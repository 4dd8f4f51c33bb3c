/*
 * archcheck.c - the archiving checks (archcheck.h).
 */
#include "backup/archcheck.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pg/conn.h"
#include "pg/node.h"

bool archcheck_cluster(PGconn *conn, Repo *repo)
{
    PgNode node;
    if (!pg_node_identify(conn, &node))
        return false;
    char *mode = pg_node_setting(conn, "archive_mode");
    char *command = mode ? pg_node_setting(conn, "archive_command") : NULL;
    if (!command) {
        free(mode);
        return false;
    }
    uint64_t sysid = node.system_id;
    bool recovery = node.in_recovery;
    bool archive_on = strcmp(mode, "off") != 0;
    bool has_drydock = strstr(command, "drydock") != NULL;
    free(mode);
    free(command);
    if (sysid != repo_system_id(repo)) {
        err_set(DD_EXIT_CONFLICT,
                "the primary has system identifier %" PRIu64 ", the repository \"%s\" %" PRIu64,
                sysid, repo_path(repo), repo_system_id(repo));
        err_hint("[cluster] primary points at another cluster than the one the repository "
                 "was created for");
        return false;
    }
    if (recovery) {
        err_set(DD_EXIT_PG, "the server at [cluster] primary is in recovery");
        err_hint("point [cluster] primary at the primary, not a standby");
        return false;
    }
    if (!archive_on) {
        err_set(DD_EXIT_PG, "archive_mode is off on the primary");
        err_hint("set archive_mode = on and archive_command = 'drydock wal-push %%p', then "
                 "restart the primary");
        return false;
    }
    if (!has_drydock)
        log_warn("the primary's archive_command does not mention drydock");
    return true;
}

bool archcheck_archiver(PGconn *conn)
{
    PGresult *res = pg_query(conn,
                             "SELECT last_failed_wal, last_failed_time::text, failed_count "
                             "FROM pg_stat_archiver WHERE last_failed_time IS NOT NULL AND "
                             "(last_archived_time IS NULL OR last_failed_time > "
                             "last_archived_time)",
                             0, NULL);
    if (!res)
        return false;
    bool failing = PQntuples(res) > 0;
    if (failing) {
        err_set(DD_EXIT_PG,
                "the primary's archiver is failing: WAL segment %s last failed at %s (%s "
                "failures)",
                PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
        err_hint("read the primary's log for the drydock wal-push error, fix it, then run "
                 "\"drydock check\"");
    }
    PQclear(res);
    return !failing;
}
