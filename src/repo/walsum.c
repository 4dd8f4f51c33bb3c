/*
 * walsum.c - WAL summaries (walsum.h): format, building, storing.
 *
 * A summary is stored as one repository object (repo/object.h: compressed,
 * checksummed, encrypted when the repository is). Its raw bytes, little
 * endian:
 *
 *    0  "DDWS"
 *    4  u32 format (1)
 *    8  u64 start_lsn           the segment's first byte
 *   16  u64 end_lsn             records starting before it are summarised
 *   24  u32 timeline
 *   28  u32 flags               1: complete, 2: unknown (cannot vouch)
 *   32  u32 nforks
 *   36  u32 nevents
 *   40  u64 records             records decoded
 *   48  nevents x 32 bytes: u8 kind, u8 fork, u16 0, u32 spc, u32 db, u32 rel,
 *                           u32 block, u32 extra, u64 lsn     (pg/walrec.h)
 *       nforks x 20 bytes:  u32 spc, u32 db, u32 rel, u8 fork, u8[3] 0,
 *                           u32 nblocks
 *       for each fork in that order, nblocks LEB128 varints: the first block
 *       number, then each block minus the one before minus one
 *
 * Invariants:
 *  1. Forks are strictly increasing by (spc, db, rel, fork); fork <= 3.
 *  2. Each fork has at least one block; its blocks strictly increase (the
 *     delta encoding cannot express anything else) and fit in 32 bits.
 *  3. start_lsn <= end_lsn; flag "complete" means end_lsn is the segment's
 *     end (an XLOG_SWITCH, or the last record runs into the next segment).
 *  4. Flag "unknown" is set exactly when an event of kind WALREC_EV_UNKNOWN
 *     is present: the segment holds a record the decoder cannot vouch for.
 *  5. Events are in LSN order; the bytes end exactly after the last varint.
 *  6. A summary is written after its segment and never replaced by other
 *     content; an absent summary means "nothing is known" (a gap), never
 *     "nothing changed". Where an exclusive put costs a request of its own
 *     (a bucket without conditional PUTs), wal-push's put is a plain one:
 *     the push has just proved the archived segment equal to the one
 *     summarised, so what it would replace says the same.
 *     wal-push writes it without fsync (it costs as much as the segment's
 *     own): after a crash it may be missing or torn, which the object's
 *     checksum reveals, and either is a gap.
 * A dense run of changed blocks costs one byte a block before compression.
 */
#include "repo/walsum.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/endian.h"
#include "pg/wal.h"
#include "repo/object.h"

#define SUM_MAGIC     "DDWS"
#define SUM_HDR       48
#define SUM_EVENT     32
#define SUM_FORK      20
#define FLAG_COMPLETE 1u
#define FLAG_UNKNOWN  2u

/* ---- building --------------------------------------------------------- */

typedef struct {
    uint32_t spc, db, rel;
    uint32_t fork_block[2]; /* fork, block: compared as a tuple */
} Ref;

typedef struct {
    Ref *refs;
    size_t nrefs, cap;
    WalEvent *events;
    size_t nevents, evcap;
    bool unknown;
} Collector;

static void collect_block(void *arg, const WalBlockRef *r)
{
    Collector *c = arg;
    if (c->nrefs > 0) { /* records often repeat the block before: skip it before sorting */
        const Ref *last = &c->refs[c->nrefs - 1];
        if (last->fork_block[1] == r->block && last->rel == r->node.rel &&
            last->fork_block[0] == r->fork && last->db == r->node.db && last->spc == r->node.spc)
            return;
    }
    if (c->nrefs == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4096;
        c->refs = xrealloc(c->refs, c->cap * sizeof(Ref));
    }
    c->refs[c->nrefs++] = (Ref){r->node.spc, r->node.db, r->node.rel, {r->fork, r->block}};
}

static void collect_event(void *arg, const WalEvent *e)
{
    Collector *c = arg;
    if (c->nevents == c->evcap) {
        c->evcap = c->evcap ? c->evcap * 2 : 64;
        c->events = xrealloc(c->events, c->evcap * sizeof(WalEvent));
    }
    c->events[c->nevents++] = *e;
    if (e->kind == WALREC_EV_UNKNOWN)
        c->unknown = true;
}

static int cmp_u32(uint32_t a, uint32_t b)
{
    return a < b ? -1 : a > b;
}

static int ref_cmp(const void *pa, const void *pb)
{
    const Ref *a = pa, *b = pb;
    int c = cmp_u32(a->spc, b->spc);
    if (!c)
        c = cmp_u32(a->db, b->db);
    if (!c)
        c = cmp_u32(a->rel, b->rel);
    if (!c)
        c = cmp_u32(a->fork_block[0], b->fork_block[0]);
    if (!c)
        c = cmp_u32(a->fork_block[1], b->fork_block[1]);
    return c;
}

static bool same_fork(const Ref *a, const Ref *b)
{
    return a->spc == b->spc && a->db == b->db && a->rel == b->rel &&
           a->fork_block[0] == b->fork_block[0];
}

/* Sorted, deduplicated refs grouped into forks (invariants 1 and 2). */
static void group_forks(Collector *c, WalSum *out)
{
    if (c->nrefs > 0) /* qsort of NULL is undefined, even for no elements */
        qsort(c->refs, c->nrefs, sizeof(Ref), ref_cmp);
    size_t nforks = 0;
    for (size_t i = 0; i < c->nrefs; i++)
        if (i == 0 || !same_fork(&c->refs[i], &c->refs[i - 1]))
            nforks++;
    out->forks = xcalloc(nforks ? nforks : 1, sizeof(WalSumFork));
    WalSumFork *f = NULL;
    for (size_t i = 0; i < c->nrefs; i++) {
        const Ref *r = &c->refs[i];
        if (i == 0 || !same_fork(r, &c->refs[i - 1])) {
            f = &out->forks[out->nforks++];
            f->node = (WalRelNode){r->spc, r->db, r->rel};
            f->fork = (uint8_t)r->fork_block[0];
            size_t n = 0;
            for (size_t j = i; j < c->nrefs && same_fork(&c->refs[j], r); j++)
                n++;
            f->blocks = xmalloc(n * sizeof(uint32_t));
        } else if (r->fork_block[1] == f->blocks[f->nblocks - 1])
            continue;
        f->blocks[f->nblocks++] = r->fork_block[1];
    }
}

bool walsum_from_segment(const uint8_t *seg, size_t len, uint32_t seg_size, uint32_t tli,
                         WalSum *out)
{
    memset(out, 0, sizeof(*out));
    Collector c = {0};
    WalRecSink sink = {collect_block, collect_event, &c};
    WalRecResult r;
    if (!walrec_decode_segment(seg, len, seg_size, &sink, &r)) {
        free(c.refs);
        free(c.events);
        return false;
    }
    out->start_lsn = r.start_lsn;
    out->end_lsn = r.end_lsn;
    out->tli = tli;
    out->complete = r.complete;
    out->records = r.records;
    out->unknown = c.unknown;
    out->events = c.events;
    out->nevents = c.nevents;
    group_forks(&c, out);
    free(c.refs);
    return true;
}

void walsum_free(WalSum *s)
{
    for (size_t i = 0; i < s->nforks; i++)
        free(s->forks[i].blocks);
    free(s->forks);
    free(s->events);
    memset(s, 0, sizeof(*s));
}

/* ---- bytes ------------------------------------------------------------ */

static void put_varint(Buf *b, uint32_t v)
{
    uint8_t tmp[5];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    buf_append(b, tmp, n);
}

void walsum_encode(const WalSum *s, Buf *out)
{
    uint8_t h[SUM_HDR] = {0};
    memcpy(h, SUM_MAGIC, 4);
    le_put32(h + 4, WALSUM_FORMAT);
    le_put64(h + 8, s->start_lsn);
    le_put64(h + 16, s->end_lsn);
    le_put32(h + 24, s->tli);
    le_put32(h + 28, (s->complete ? FLAG_COMPLETE : 0) | (s->unknown ? FLAG_UNKNOWN : 0));
    le_put32(h + 32, (uint32_t)s->nforks);
    le_put32(h + 36, (uint32_t)s->nevents);
    le_put64(h + 40, s->records);
    buf_append(out, h, sizeof(h));
    for (size_t i = 0; i < s->nevents; i++) {
        const WalEvent *e = &s->events[i];
        uint8_t ev[SUM_EVENT] = {(uint8_t)e->kind, e->fork};
        le_put32(ev + 4, e->node.spc);
        le_put32(ev + 8, e->node.db);
        le_put32(ev + 12, e->node.rel);
        le_put32(ev + 16, e->block);
        le_put32(ev + 20, e->extra);
        le_put64(ev + 24, e->lsn);
        buf_append(out, ev, sizeof(ev));
    }
    for (size_t i = 0; i < s->nforks; i++) {
        const WalSumFork *f = &s->forks[i];
        uint8_t fk[SUM_FORK] = {0};
        le_put32(fk, f->node.spc);
        le_put32(fk + 4, f->node.db);
        le_put32(fk + 8, f->node.rel);
        fk[12] = f->fork;
        le_put32(fk + 16, f->nblocks);
        buf_append(out, fk, sizeof(fk));
    }
    for (size_t i = 0; i < s->nforks; i++)
        for (uint32_t j = 0; j < s->forks[i].nblocks; j++)
            put_varint(out, j == 0 ? s->forks[i].blocks[0]
                                   : s->forks[i].blocks[j] - s->forks[i].blocks[j - 1] - 1);
}

static bool get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (*pos >= len)
            return false;
        uint8_t b = p[(*pos)++];
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

static bool corrupt(WalSum *out, const char *what)
{
    walsum_free(out);
    err_set(DD_EXIT_CORRUPT, "WAL summary is damaged: %s", what);
    err_hint("remove the summary: the next backup then reads the files it covered whole");
    return false;
}

static bool decode_forks(const uint8_t *data, size_t len, size_t pos, WalSum *out)
{
    for (size_t i = 0; i < out->nforks; i++) {
        const uint8_t *fk = data + pos + i * SUM_FORK;
        WalSumFork *f = &out->forks[i];
        f->node = (WalRelNode){le_get32(fk), le_get32(fk + 4), le_get32(fk + 8)};
        f->fork = fk[12];
        f->nblocks = le_get32(fk + 16);
        if (f->fork > WALREC_FORK_INIT || f->nblocks == 0 || f->nblocks > len)
            return corrupt(out, "bad fork entry");
        if (i > 0) {
            const WalSumFork *p = &out->forks[i - 1];
            uint32_t a[4] = {p->node.spc, p->node.db, p->node.rel, p->fork};
            uint32_t b[4] = {f->node.spc, f->node.db, f->node.rel, f->fork};
            int c = 0;
            for (int k = 0; k < 4 && !c; k++)
                c = cmp_u32(a[k], b[k]);
            if (c >= 0)
                return corrupt(out, "forks out of order");
        }
    }
    pos += out->nforks * SUM_FORK;
    for (size_t i = 0; i < out->nforks; i++) {
        WalSumFork *f = &out->forks[i];
        f->blocks = xmalloc(f->nblocks * sizeof(uint32_t));
        uint64_t prev = 0;
        for (uint32_t j = 0; j < f->nblocks; j++) {
            uint64_t v;
            if (!get_varint(data, len, &pos, &v))
                return corrupt(out, "truncated block list");
            uint64_t blk = j == 0 ? v : prev + v + 1;
            if (blk > UINT32_MAX)
                return corrupt(out, "block number out of range");
            f->blocks[j] = (uint32_t)blk;
            prev = blk;
        }
    }
    if (pos != len)
        return corrupt(out, "trailing bytes");
    return true;
}

bool walsum_decode(const uint8_t *data, size_t len, WalSum *out)
{
    memset(out, 0, sizeof(*out));
    if (len < SUM_HDR || memcmp(data, SUM_MAGIC, 4) != 0)
        return corrupt(out, "not a summary");
    if (le_get32(data + 4) != WALSUM_FORMAT)
        return corrupt(out, "unknown format");
    out->start_lsn = le_get64(data + 8);
    out->end_lsn = le_get64(data + 16);
    out->tli = le_get32(data + 24);
    uint32_t flags = le_get32(data + 28);
    out->complete = flags & FLAG_COMPLETE;
    out->unknown = flags & FLAG_UNKNOWN;
    uint64_t nforks = le_get32(data + 32), nevents = le_get32(data + 36);
    out->records = le_get64(data + 40);
    if (out->end_lsn < out->start_lsn || (flags & ~3u))
        return corrupt(out, "bad header");
    if (nevents * SUM_EVENT + nforks * SUM_FORK > len - SUM_HDR)
        return corrupt(out, "counts larger than the summary");
    out->nevents = nevents;
    out->nforks = nforks;
    out->events = xcalloc(nevents ? nevents : 1, sizeof(WalEvent));
    out->forks = xcalloc(nforks ? nforks : 1, sizeof(WalSumFork));
    bool any_unknown = false;
    for (size_t i = 0; i < nevents; i++) {
        const uint8_t *ev = data + SUM_HDR + i * SUM_EVENT;
        WalEvent *e = &out->events[i];
        e->kind = ev[0];
        e->fork = ev[1];
        e->node = (WalRelNode){le_get32(ev + 4), le_get32(ev + 8), le_get32(ev + 12)};
        e->block = le_get32(ev + 16);
        e->extra = le_get32(ev + 20);
        e->lsn = le_get64(ev + 24);
        if (e->kind < WALREC_EV_CREATE || e->kind > WALREC_EV_UNKNOWN ||
            (i > 0 && e->lsn < out->events[i - 1].lsn))
            return corrupt(out, "bad event");
        any_unknown |= e->kind == WALREC_EV_UNKNOWN;
    }
    if (any_unknown != out->unknown)
        return corrupt(out, "unknown flag disagrees with the events");
    return decode_forks(data, len, SUM_HDR + nevents * SUM_EVENT, out);
}

/* ---- the repository --------------------------------------------------- */

char *walsum_path(const char *segment_name)
{
    return xasprintf("wal/%.16s/%s%s", segment_name, segment_name, WALSUM_SUFFIX);
}

bool walsum_store(Repo *repo, const char *segment_name, const uint8_t *seg, size_t len)
{
    WalFileName wn;
    if (!wal_name_parse(segment_name, &wn))
        return false;
    WalSum s;
    if (!walsum_from_segment(seg, len, repo_wal_seg_size(repo), wn.tli, &s))
        return err_context("summarising WAL segment \"%s\"", segment_name);
    Buf raw = {0};
    walsum_encode(&s, &raw);
    walsum_free(&s);
    char *path = walsum_path(segment_name);
    bool ok = repo_object_put(repo, path, raw.data, raw.len, (StoragePutOpts){.exclusive = true});
    if (!ok && err_code() == DD_EXIT_CONFLICT)
        err_clear(), ok = true; /* invariant 6: a summary of the same segment is there */
    buf_free(&raw);
    free(path);
    return ok;
}

/*
 * wal-push summarises on a thread of its own while it compresses and stores
 * the segment, so that the summary costs little more than its own write.
 */
struct WalSumJob {
    pthread_t thread;
    Repo *repo;
    char *name;
    const uint8_t *seg;
    size_t len;
    uint32_t seg_size;
    Buf raw;
    bool ok;
    ErrSaved err;
};

static void *job_run(void *arg)
{
    WalSumJob *j = arg;
    WalFileName wn;
    WalSum s;
    j->ok = wal_name_parse(j->name, &wn) &&
            walsum_from_segment(j->seg, j->len, j->seg_size, wn.tli, &s);
    if (j->ok) {
        walsum_encode(&s, &j->raw);
        walsum_free(&s);
    } else
        j->err = err_save();
    return NULL;
}

WalSumJob *walsum_begin(Repo *repo, const char *segment_name, const uint8_t *seg, size_t len)
{
    WalSumJob *j = xcalloc(1, sizeof(*j));
    *j = (WalSumJob){.repo = repo,
                     .name = xstrdup(segment_name),
                     .seg = seg,
                     .len = len,
                     .seg_size = repo_wal_seg_size(repo)};
    if (pthread_create(&j->thread, NULL, job_run, j) != 0)
        job_run(j), j->thread = 0;
    return j;
}

bool walsum_finish(WalSumJob *j, bool store)
{
    if (j->thread)
        pthread_join(j->thread, NULL);
    bool ok = j->ok;
    if (!ok)
        err_restore(&j->err), err_context("summarising WAL segment \"%s\"", j->name);
    if (ok && store) {
        char *path = walsum_path(j->name);
        bool excl = storage_exclusive_atomic(repo_storage(j->repo));
        ok = repo_object_put(j->repo, path, j->raw.data, j->raw.len,
                             (StoragePutOpts){.exclusive = excl, .not_durable = true});
        if (!ok && err_code() == DD_EXIT_CONFLICT)
            err_clear(), ok = true; /* invariant 6: a summary of the same segment is there */
        free(path);
    }
    buf_free(&j->raw);
    free(j->name);
    free(j);
    return ok;
}

bool walsum_load(Repo *repo, const char *segment_name, WalSum *out, bool *found)
{
    memset(out, 0, sizeof(*out));
    char *path = walsum_path(segment_name);
    Buf raw = {0};
    bool ok = repo_object_get(repo, path, &raw, found);
    if (ok && *found && !walsum_decode(raw.data, raw.len, out))
        ok = err_context("repository object \"%s\"", path);
    buf_free(&raw);
    free(path);
    return ok;
}
