/*
 * model.c - freeing the status page's structs (model.h).
 */
#include "status/model.h"

#include <stdlib.h>

void status_event_free(StatusEvent *e)
{
    if (!e)
        return;
    free(e->title);
    free(e->status);
    free(e->impact);
    free(e->postmortem);
    for (size_t i = 0; i < e->nupdates; i++) {
        free(e->updates[i].status);
        free(e->updates[i].body);
    }
    free(e->updates);
    for (size_t i = 0; i < e->ncomponents; i++)
        free(e->components[i]);
    free(e->components);
    *e = (StatusEvent){0};
}

void status_snapshot_free(StatusSnapshot *s)
{
    for (size_t i = 0; i < s->ncomponents; i++)
        free(s->components[i].name), free(s->components[i].status);
    free(s->components);
    for (size_t i = 0; i < s->nevents; i++)
        status_event_free(&s->events[i]);
    free(s->events);
    free(s->title);
    free(s->time_zone);
    free(s->url);
    *s = (StatusSnapshot){0};
}

const StatusEvent *status_event_find(const StatusSnapshot *s, int64_t id)
{
    for (size_t i = 0; i < s->nevents; i++)
        if (s->events[i].id == id)
            return &s->events[i];
    return NULL;
}
