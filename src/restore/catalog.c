/*
 * catalog.c - see catalog.h.
 */
#include "restore/catalog.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "pg/wal.h"

void catalog_compute(Catalog *c, const WindowSegment *segs, size_t nsegs, uint32_t seg_size)
{
    free(c->wb);
    c->wb = xcalloc(c->nbackups ? c->nbackups : 1, sizeof(*c->wb));
    for (size_t i = 0; i < c->nbackups; i++) {
        const CatalogBackup *b = &c->backups[i];
        c->wb[i] =
            (WindowBackup){b->id, b->tli, b->start_lsn, b->stop_lsn, b->start_time, b->stop_time};
    }
    window_free(&c->window);
    window_runs(segs, nsegs, &c->window);
    window_compute(&c->window, c->wb, c->nbackups, seg_size);
    c->nsegments = nsegs;
}

void catalog_free(Catalog *c)
{
    for (size_t i = 0; i < c->nbackups; i++) {
        free(c->backups[i].id);
        free(c->backups[i].source_node);
        free(c->backups[i].full_read_reason);
        for (size_t k = 0; k < c->backups[i].nread_whole; k++)
            free(c->backups[i].read_whole[k].name);
        free(c->backups[i].read_whole);
    }
    free(c->backups);
    free(c->wb);
    window_free(&c->window);
    strlist_free(&c->damaged);
    memset(c, 0, sizeof(*c));
}
