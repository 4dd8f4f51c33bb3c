/*
 * plan.c - see plan.h.
 */
#include "restore/plan.h"

#include <string.h>
#include <sys/stat.h>

#include "common/hash.h"
#include "common/mem.h"

size_t plan_units(const ManifestFile *files, size_t nfiles, uint64_t max_bytes, PlanUnit **out)
{
    size_t n = 0, cap = 16;
    PlanUnit *u = xmalloc(cap * sizeof(*u));
    for (size_t f = 0; f < nfiles; f++) {
        if (!S_ISREG(files[f].mode))
            continue;
        uint64_t off = 0;
        for (size_t c = 0; c < files[f].nchunks;) {
            if (n == cap) {
                cap *= 2;
                u = xrealloc(u, cap * sizeof(*u));
            }
            PlanUnit *cur = &u[n++];
            *cur = (PlanUnit){f, c, 0, off, 0};
            do {
                cur->bytes += files[f].chunks[c].len;
                cur->nchunks++;
                c++;
            } while (c < files[f].nchunks && cur->bytes + files[f].chunks[c].len <= max_bytes);
            off += cur->bytes;
        }
    }
    *out = u;
    return n;
}

bool plan_chunk_same(const ObjKeys *keys, const ManifestChunk *c, const void *disk, size_t len)
{
    if (len != c->len)
        return false;
    uint8_t h[SHA256_LEN];
    obj_content_id(keys, disk, len, h);
    return memcmp(h, c->sha256, SHA256_LEN) == 0;
}
