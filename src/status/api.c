/*
 * api.c - Statuspage-shaped JSON (api.h).
 */
#include "status/api.h"

#include <stdio.h>
#include <string.h>

#include "status/lifecycle.h"
#include "status/tz.h"

#define API_PAGE_ID   "drydock"
#define API_LIST_SIZE 50

static const char *const doc_paths[API_COUNT] = {
    [API_SUMMARY] = "api/v2/summary.json",
    [API_STATUS] = "api/v2/status.json",
    [API_COMPONENTS] = "api/v2/components.json",
    [API_INCIDENTS] = "api/v2/incidents.json",
    [API_INCIDENTS_UNRESOLVED] = "api/v2/incidents/unresolved.json",
    [API_MAINTENANCES] = "api/v2/scheduled-maintenances.json",
    [API_MAINTENANCES_UPCOMING] = "api/v2/scheduled-maintenances/upcoming.json",
    [API_MAINTENANCES_ACTIVE] = "api/v2/scheduled-maintenances/active.json",
};

const char *api_doc_path(ApiDoc doc)
{
    return doc < API_COUNT ? doc_paths[doc] : "";
}

static json_t *time_or_null(int64_t t)
{
    if (!t)
        return json_null();
    char iso[32];
    tz_iso_utc(t, iso, sizeof(iso));
    return json_string(iso);
}

static json_t *id_json(int64_t id)
{
    char s[32];
    snprintf(s, sizeof(s), "%lld", (long long)id);
    return json_string(s);
}

json_t *api_page_json(const StatusSnapshot *s)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", API_PAGE_ID, "name", s->title ? s->title : "",
                     "url", s->url ? s->url : "", "time_zone", s->time_zone ? s->time_zone : "UTC",
                     "updated_at", time_or_null(s->updated_at ? s->updated_at : s->now));
}

json_t *api_component_json(const StatusComponent *c)
{
    return json_pack("{s:o,s:s,s:s,s:o,s:o,s:i,s:n,s:b,s:n,s:n,s:s,s:b,s:b}", "id", id_json(c->id),
                     "name", c->name, "status", c->status, "created_at",
                     time_or_null(c->created_at), "updated_at", time_or_null(c->updated_at),
                     "position", c->position, "description", "showcase", false, "start_date",
                     "group_id", "page_id", API_PAGE_ID, "group", false, "only_show_if_degraded",
                     false);
}

static json_t *updates_json(const StatusEvent *e)
{
    json_t *a = json_array();
    for (size_t i = 0; i < e->nupdates; i++) {
        const StatusUpdate *u = &e->updates[i];
        json_array_append_new(
            a, json_pack("{s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:n,s:b,s:n,s:n}", "id", id_json(u->id),
                         "status", u->status, "body", u->body, "incident_id", id_json(e->id),
                         "created_at", time_or_null(u->at), "updated_at", time_or_null(u->at),
                         "display_at", time_or_null(u->at), "affected_components",
                         "deliver_notifications", true, "custom_tweet", "tweet_id"));
    }
    return a;
}

json_t *api_event_json(const StatusSnapshot *s, const StatusEvent *e)
{
    json_t *comps = json_array();
    for (size_t i = 0; i < e->ncomponents; i++)
        for (size_t j = 0; j < s->ncomponents; j++)
            if (strcmp(s->components[j].name, e->components[i]) == 0)
                json_array_append_new(comps, api_component_json(&s->components[j]));
    char shortlink[512];
    snprintf(shortlink, sizeof(shortlink), "%s#event-%lld", s->url ? s->url : "", (long long)e->id);
    json_t *o =
        json_pack("{s:o,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:s,s:s,s:o,s:o}", "id", id_json(e->id),
                  "name", e->title, "status", e->status, "impact", e->impact, "created_at",
                  time_or_null(e->created_at), "updated_at", time_or_null(e->updated_at),
                  "started_at", time_or_null(e->started_at ? e->started_at : e->created_at),
                  "monitoring_at", time_or_null(e->monitoring_at), "resolved_at",
                  time_or_null(e->resolved_at), "shortlink", shortlink, "page_id", API_PAGE_ID,
                  "incident_updates", updates_json(e), "components", comps);
    if (e->kind == STATUS_MAINTENANCE) {
        json_object_set_new(o, "scheduled_for", time_or_null(e->scheduled_for));
        json_object_set_new(o, "scheduled_until", time_or_null(e->scheduled_until));
    }
    json_object_set_new(o, "postmortem_body",
                        e->postmortem ? json_string(e->postmortem) : json_null());
    json_object_set_new(o, "postmortem_published_at", time_or_null(e->postmortem_at));
    json_object_set_new(o, "drydock",
                        json_pack("{s:s,s:f,s:f,s:f,s:o}", "kind", lifecycle_kind_name(e->kind),
                                  "predicted_s", e->predicted_s, "low_s", e->low_s, "high_s",
                                  e->high_s, "eta", time_or_null(e->eta)));
    return o;
}

/* Does e belong in doc's list? */
static bool event_in(const StatusEvent *e, ApiDoc doc)
{
    bool maint = e->kind == STATUS_MAINTENANCE;
    switch (doc) {
    case API_SUMMARY:
        return maint ? strcmp(e->status, "completed") != 0 : strcmp(e->status, "resolved") != 0;
    case API_INCIDENTS:
        return !maint;
    case API_INCIDENTS_UNRESOLVED:
        return !maint && strcmp(e->status, "resolved") != 0;
    case API_MAINTENANCES:
        return maint;
    case API_MAINTENANCES_UPCOMING:
        return maint && strcmp(e->status, "scheduled") == 0;
    case API_MAINTENANCES_ACTIVE:
        return maint && lifecycle_holds_components(e->kind, e->status);
    default:
        return false;
    }
}

static json_t *events_json(const StatusSnapshot *s, ApiDoc doc, bool maint)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->nevents && json_array_size(a) < API_LIST_SIZE; i++) {
        const StatusEvent *e = &s->events[i];
        if ((e->kind == STATUS_MAINTENANCE) == maint && event_in(e, doc))
            json_array_append_new(a, api_event_json(s, e));
    }
    return a;
}

static json_t *status_json(const StatusSnapshot *s)
{
    const char *indicator, *description;
    lifecycle_indicator(s, &indicator, &description);
    return json_pack("{s:s,s:s}", "indicator", indicator, "description", description);
}

json_t *api_doc(const StatusSnapshot *s, ApiDoc doc)
{
    json_t *o = json_pack("{s:o}", "page", api_page_json(s));
    if (doc == API_SUMMARY || doc == API_COMPONENTS) {
        json_t *comps = json_array();
        for (size_t i = 0; i < s->ncomponents; i++)
            json_array_append_new(comps, api_component_json(&s->components[i]));
        json_object_set_new(o, "components", comps);
    }
    if (doc == API_SUMMARY || doc == API_INCIDENTS || doc == API_INCIDENTS_UNRESOLVED)
        json_object_set_new(o, "incidents", events_json(s, doc, false));
    if (doc == API_SUMMARY || doc == API_MAINTENANCES || doc == API_MAINTENANCES_UPCOMING ||
        doc == API_MAINTENANCES_ACTIVE)
        json_object_set_new(o, "scheduled_maintenances", events_json(s, doc, true));
    if (doc == API_SUMMARY || doc == API_STATUS)
        json_object_set_new(o, "status", status_json(s));
    return o;
}

static json_t *meta_json(const char *event, int64_t at)
{
    return json_pack("{s:s,s:o}", "event", event, "generated_at", time_or_null(at));
}

json_t *api_webhook_event(const StatusSnapshot *s, const StatusEvent *e, const char *event,
                          int64_t at)
{
    return json_pack("{s:o,s:o,s:o}", "meta", meta_json(event, at), "page", api_page_json(s),
                     e->kind == STATUS_MAINTENANCE ? "scheduled_maintenance" : "incident",
                     api_event_json(s, e));
}

json_t *api_webhook_component(const StatusSnapshot *s, const StatusComponent *c,
                              const char *old_status, int64_t at)
{
    return json_pack("{s:o,s:o,s:{s:s,s:s,s:o,s:o},s:o}", "meta",
                     meta_json("component.updated", at), "page", api_page_json(s),
                     "component_update", "old_status", old_status, "new_status", c->status,
                     "created_at", time_or_null(at), "component_id", id_json(c->id), "component",
                     api_component_json(c));
}
