/*
 * topology.h - which node is the primary now, which streams from which, and
 * how it came to be: drydock's state, not the configuration file's.
 *
 * The configuration names the nodes and their roles at the start; a
 * switchover or a maintenance moves the roles and records them here, in
 * STATE-DIR/topology.json (config_state_dir()). config_load() lays the
 * recorded roles over [cluster] primary / primary-data / standby /
 * standby-data, so that every command (backup, check, switchover, restore
 * --standby-of, info, the proxy when it starts: [proxy] server follows the primary unless it is set
 * to another server) works against the current
 * primary without the file being edited. The file is never rewritten.
 *
 * The overlay applies only while [cluster] primary and standby in the file
 * are what they were at the last record ("seen"): once an operator edits
 * them, the file wins again (until the next record). Commands that act on a node check its
 * role with pg_is_in_recovery() before they trust it (switchover, backup,
 * maint run); "drydock maint status" shows the roles, checked, and the
 * history.
 *
 * Format (JSON, mode 0600: conninfos may hold a password, as the config does):
 *   {"version":1, "seen":{"primary":..., "standby":...|null}  (the file's, at the record)
 *    "primary":{"conninfo":..., "data":...},
 *    "standby":{"conninfo":..., "data":..., "upstream":"primary"} or null,
 *    "retired":[{"conninfo":..., "data":..., "since":T, "why":...}],
 *    "history":[{"at":T, "event":..., "primary":..., "standby":...|null}]}
 * Written atomically and durably (fs_replace_file).
 */
#ifndef DD_CONFIG_TOPOLOGY_H
#define DD_CONFIG_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "config/config.h"

typedef struct {
    char *conninfo;
    char *data; /* or NULL */
} TopologyNode;

typedef struct {
    double at; /* wall clock */
    char *event;
    char *primary, *standby; /* conninfos (standby may be NULL); redact to show */
} TopologyEvent;

typedef struct {
    char *seen_primary, *seen_standby; /* the file's [cluster] at the last record */
    TopologyNode primary, standby;     /* standby.conninfo NULL: none */
    TopologyNode *retired;             /* old primaries, stopped and kept (rollback) */
    size_t nretired;
    TopologyEvent *history;
    size_t nhistory;
} Topology;

/* Read dir/topology.json; *found = false (and out empty) when there is none. */
DD_MUST_CHECK bool topology_load(const char *dir, Topology *out, bool *found);
void topology_free(Topology *t);

/*
 * Record in cfg's state directory that primary (and standby, NULL: none)
 * now hold the roles, after event ("switchover", "maint run #3", ...);
 * retired, when not NULL, is the old primary kept stopped.
 */
DD_MUST_CHECK bool topology_record(const Config *cfg, const char *event,
                                   const TopologyNode *primary, const TopologyNode *standby,
                                   const TopologyNode *retired);

/*
 * The retired node whose data directory is data was removed ("maint
 * finish"): drop it from the record; the roles and history are unchanged.
 * No record, or no such node: nothing to do.
 */
DD_MUST_CHECK bool topology_forget_retired(const Config *cfg, const char *data);

/* Lay the recorded roles over cfg (config_load() calls it); *applied says whether it did. */
DD_MUST_CHECK bool topology_apply(Config *cfg, bool *applied);

#endif
