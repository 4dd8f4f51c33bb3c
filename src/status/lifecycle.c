/*
 * lifecycle.c - the transition table and the component rules (lifecycle.h).
 */
#include "status/lifecycle.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    StatusKind kind;
    const char *from;
    const char *to;
} Transition;

/* Every allowed change of status; posting the same status again is rule 1. */
static const Transition transitions[] = {
    {STATUS_MAINTENANCE, "scheduled", "in_progress"},
    {STATUS_MAINTENANCE, "scheduled", "completed"},
    {STATUS_MAINTENANCE, "in_progress", "verifying"},
    {STATUS_MAINTENANCE, "in_progress", "completed"},
    {STATUS_MAINTENANCE, "verifying", "in_progress"},
    {STATUS_MAINTENANCE, "verifying", "completed"},
    {STATUS_INCIDENT, "investigating", "identified"},
    {STATUS_INCIDENT, "investigating", "monitoring"},
    {STATUS_INCIDENT, "investigating", "resolved"},
    {STATUS_INCIDENT, "identified", "investigating"},
    {STATUS_INCIDENT, "identified", "monitoring"},
    {STATUS_INCIDENT, "identified", "resolved"},
    {STATUS_INCIDENT, "monitoring", "investigating"},
    {STATUS_INCIDENT, "monitoring", "identified"},
    {STATUS_INCIDENT, "monitoring", "resolved"},
};
#define N_TRANSITIONS (sizeof(transitions) / sizeof(transitions[0]))

static const char *const maintenance_statuses[] = {"scheduled", "in_progress", "verifying",
                                                   "completed", NULL};
static const char *const incident_statuses[] = {"investigating", "identified", "monitoring",
                                                "resolved", NULL};

/* Best to worst (rule 3). */
static const char *const component_statuses[] = {"operational",          "under_maintenance",
                                                 "degraded_performance", "partial_outage",
                                                 "major_outage",         NULL};

static const struct {
    const char *status;
    const char *label;
} labels[] = {
    {"scheduled", "Scheduled"},
    {"in_progress", "In progress"},
    {"verifying", "Verifying"},
    {"completed", "Completed"},
    {"investigating", "Investigating"},
    {"identified", "Identified"},
    {"monitoring", "Monitoring"},
    {"resolved", "Resolved"},
    {"postmortem", "Postmortem"},
    {"operational", "Operational"},
    {"under_maintenance", "Under maintenance"},
    {"degraded_performance", "Degraded performance"},
    {"partial_outage", "Partial outage"},
    {"major_outage", "Major outage"},
};

const char *lifecycle_kind_name(StatusKind kind)
{
    return kind == STATUS_MAINTENANCE ? "maintenance" : "incident";
}

const char *lifecycle_initial(StatusKind kind)
{
    return kind == STATUS_MAINTENANCE ? "scheduled" : "investigating";
}

static int index_in(const char *const *list, const char *s)
{
    for (int i = 0; s && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return i;
    return -1;
}

bool lifecycle_status_valid(StatusKind kind, const char *status)
{
    return index_in(kind == STATUS_MAINTENANCE ? maintenance_statuses : incident_statuses,
                    status) >= 0;
}

bool lifecycle_is_final(StatusKind kind, const char *status)
{
    return strcmp(status, kind == STATUS_MAINTENANCE ? "completed" : "resolved") == 0;
}

bool lifecycle_holds_components(StatusKind kind, const char *status)
{
    if (kind == STATUS_MAINTENANCE)
        return strcmp(status, "in_progress") == 0 || strcmp(status, "verifying") == 0;
    return !lifecycle_is_final(kind, status);
}

static void allowed_next(StatusKind kind, const char *from, char *out, size_t len)
{
    snprintf(out, len, "%s (an update)", from);
    for (size_t i = 0; i < N_TRANSITIONS; i++)
        if (transitions[i].kind == kind && strcmp(transitions[i].from, from) == 0)
            snprintf(out + strlen(out), len - strlen(out), ", %s", transitions[i].to);
}

bool lifecycle_check(StatusKind kind, long long id, const char *from, const char *to)
{
    const char *what = lifecycle_kind_name(kind);
    if (!lifecycle_status_valid(kind, to)) {
        const char *a = kind == STATUS_MAINTENANCE ? "a" : "an";
        err_set(DD_EXIT_USAGE, "\"%s\" is not a status of %s %s", to, a, what);
        err_hint("%s %s is one of %s", a, what,
                 kind == STATUS_MAINTENANCE ? "scheduled, in_progress, verifying, completed"
                                            : "investigating, identified, monitoring, resolved");
        return false;
    }
    if (lifecycle_is_final(kind, from)) {
        err_set(DD_EXIT_CONFLICT, "%s %lld is %s: it takes no more updates", what, id, from);
        err_hint("post a new %s, or attach a postmortem", what);
        return false;
    }
    if (strcmp(from, to) == 0)
        return true;
    for (size_t i = 0; i < N_TRANSITIONS; i++)
        if (transitions[i].kind == kind && strcmp(transitions[i].from, from) == 0 &&
            strcmp(transitions[i].to, to) == 0)
            return true;
    char next[256];
    allowed_next(kind, from, next, sizeof(next));
    err_set(DD_EXIT_CONFLICT, "%s %lld is %s: it cannot go to %s", what, id, from, to);
    err_hint("from %s it may go to %s", from, next);
    return false;
}

bool lifecycle_check_postmortem(StatusKind kind, long long id, const char *status)
{
    if (lifecycle_is_final(kind, status))
        return true;
    err_set(DD_EXIT_CONFLICT, "%s %lld is %s: a postmortem is attached only after it ended",
            lifecycle_kind_name(kind), id, status);
    err_hint("complete it first");
    return false;
}

bool lifecycle_component_status_valid(const char *status)
{
    return index_in(component_statuses, status) >= 0;
}

const char *lifecycle_component_worse(const char *a, const char *b)
{
    return index_in(component_statuses, b) > index_in(component_statuses, a) ? b : a;
}

void lifecycle_indicator(const StatusSnapshot *s, const char **indicator, const char **description)
{
    const char *worst = "operational";
    for (size_t i = 0; i < s->ncomponents; i++)
        worst = lifecycle_component_worse(worst, s->components[i].status);
    static const struct {
        const char *component, *indicator, *description;
    } rows[] = {
        {"operational", "none", "All Systems Operational"},
        {"under_maintenance", "maintenance", "Service Under Maintenance"},
        {"degraded_performance", "minor", "Minor Service Outage"},
        {"partial_outage", "major", "Partial System Outage"},
        {"major_outage", "critical", "Major System Outage"},
    };
    *indicator = rows[0].indicator;
    *description = rows[0].description;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (strcmp(rows[i].component, worst) == 0) {
            *indicator = rows[i].indicator;
            *description = rows[i].description;
        }
}

const char *lifecycle_status_label(const char *status)
{
    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
        if (strcmp(labels[i].status, status) == 0)
            return labels[i].label;
    return status;
}

const char *lifecycle_update_label(const StatusEvent *e, size_t i)
{
    const char *status = e->updates[i].status;
    if (i + 1 < e->nupdates && strcmp(e->updates[i + 1].status, status) == 0)
        return "Update";
    return lifecycle_status_label(status);
}
