/*
 * guide.c - see guide.h.
 *
 * The summaries of the range are merged into three sorted arrays: every
 * changed block (relation node, fork, block), the relation nodes to read
 * whole with their reason, and the databases and tablespaces to read whole.
 * Lookups are binary searches, so workers share the guide read-only.
 */
#include "backup/guide.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "pg/wal.h"
#include "repo/walarchive.h"
#include "repo/walsum.h"

#define GLOBAL_SPC  1664u
#define DEFAULT_SPC 1663u

typedef struct {
    uint32_t k[5]; /* spc, db, rel, fork, block */
} Key;

typedef struct {
    uint32_t k[3]; /* spc, db, rel (rel 0: the whole database; db and rel 0: the tablespace) */
    GuideReason reason;
} Whole;

struct BackupGuide {
    Key *blocks;
    size_t nblocks, cap;
    Whole *whole;
    size_t nwhole, wcap;
    uint64_t segments;
};

static const char *const reason_names[GUIDE_WHOLE_COUNT] = {"changed",
                                                            "new file",
                                                            "shrank",
                                                            "free space or visibility map",
                                                            "created",
                                                            "truncated",
                                                            "dropped",
                                                            "database copied, created or dropped",
                                                            "tablespace created or dropped"};

const char *guide_reason_name(GuideReason r)
{
    return r < GUIDE_WHOLE_COUNT ? reason_names[r] : "?";
}

static int key_cmp(const uint32_t *a, const uint32_t *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

static int block_cmp(const void *a, const void *b)
{
    return key_cmp(((const Key *)a)->k, ((const Key *)b)->k, 5);
}

static int whole_cmp(const void *a, const void *b)
{
    return key_cmp(((const Whole *)a)->k, ((const Whole *)b)->k, 3);
}

static void add_whole(BackupGuide *g, uint32_t spc, uint32_t db, uint32_t rel, GuideReason r)
{
    if (g->nwhole == g->wcap) {
        g->wcap = g->wcap ? g->wcap * 2 : 64;
        g->whole = xrealloc(g->whole, g->wcap * sizeof(Whole));
    }
    g->whole[g->nwhole++] = (Whole){{spc, db, rel}, r};
}

static void merge_event(BackupGuide *g, const WalEvent *e)
{
    const WalRelNode *n = &e->node;
    switch (e->kind) {
    case WALREC_EV_CREATE:
        add_whole(g, n->spc, n->db, n->rel, GUIDE_WHOLE_CREATED);
        break;
    case WALREC_EV_TRUNCATE:
        add_whole(g, n->spc, n->db, n->rel, GUIDE_WHOLE_TRUNCATED);
        break;
    case WALREC_EV_DROP:
        add_whole(g, n->spc, n->db, n->rel, GUIDE_WHOLE_DROPPED);
        break;
    case WALREC_EV_DB_COPY:
    case WALREC_EV_DB_CREATE:
    case WALREC_EV_DB_DROP:
        add_whole(g, n->spc, n->db, 0, GUIDE_WHOLE_DATABASE);
        break;
    case WALREC_EV_TBLSPC_CREATE:
    case WALREC_EV_TBLSPC_DROP:
        add_whole(g, n->spc, 0, 0, GUIDE_WHOLE_TABLESPACE);
        break;
    default: /* relmap: pg_filenode.map is not a relation file; unknown: refused earlier */
        break;
    }
}

/* Merge one segment's summary. */
void backup_guide_merge(BackupGuide *g, const WalSum *s)
{
    for (size_t i = 0; i < s->nforks; i++) {
        const WalSumFork *f = &s->forks[i];
        if (g->nblocks + f->nblocks > g->cap) {
            g->cap = (g->nblocks + f->nblocks) * 2;
            g->blocks = xrealloc(g->blocks, g->cap * sizeof(Key));
        }
        for (uint32_t j = 0; j < f->nblocks; j++)
            g->blocks[g->nblocks++] =
                (Key){{f->node.spc, f->node.db, f->node.rel, f->fork, f->blocks[j]}};
    }
    for (size_t i = 0; i < s->nevents; i++)
        merge_event(g, &s->events[i]);
}

/*
 * Summarise pg_wal's copy of a segment, mapped rather than read: the decoder
 * stops at the end of the WAL written so far (or at a switch), and only the
 * pages it reaches are read. upto (0: all): only the first upto bytes, for
 * the segment of this backup's start, whose records before the start are
 * all the guide needs. *found=false when the file is missing or unreadable.
 */
static void summarise_pg_wal(const char *path, size_t upto, uint32_t seg_size, uint32_t tli,
                             WalSum *s, bool *found)
{
    *found = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return;
    *found = walsum_from_segment(map, upto && upto < len ? upto : len, seg_size, tli, s);
    if (!*found)
        err_clear();
    munmap(map, len);
}

/* A segment's summary from the archive, else from pg_wal (not archived yet). */
static bool load_summary(Repo *repo, const GuideOpts *o, uint64_t segno, const char *name,
                         WalSum *s, bool *found)
{
    double t0 = time_mono();
    if (!walsum_load(repo, name, s, found))
        return false;
    if (!*found && o->datadir) {
        uint32_t seg_size = repo_wal_seg_size(repo);
        size_t upto = 0;
        if (segno == o->start_lsn / seg_size) /* up to the end of the start's page */
            upto = (size_t)(o->start_lsn % seg_size / PG_BLCKSZ + 1) * PG_BLCKSZ;
        char *path = xasprintf("%s/pg_wal/%s", o->datadir, name);
        summarise_pg_wal(path, upto, seg_size, o->tli, s, found);
        free(path);
    }
    /*
     * wal-push stores a summary just after its segment (walarchive.c): one
     * archived a moment ago may have it in flight. Wait a second for it
     * before calling it a gap.
     */
    for (int i = 0; !*found && i < 100; i++) {
        time_sleep(0.01);
        if (!walsum_load(repo, name, s, found))
            return false;
    }
    log_debug("summary of WAL segment %s: %s in %.3f s", name, *found ? "found" : "missing",
              time_mono() - t0);
    return true;
}

const char *backup_guide_refusal(const GuideOpts *o, char *buf, size_t len)
{
    const Manifest *p = o->prev;
    if (o->full)
        return "--full";
    if (!p)
        return "no previous backup";
    if (p->data_checksums < 0)
        return "the previous backup predates WAL-guided backups";
    if ((p->data_checksums != 0) != o->data_checksums)
        return "data checksums were enabled or disabled since the previous backup";
    if (p->tli != o->tli)
        return "the timeline changed since the previous backup";
    if (p->start_lsn > o->start_lsn)
        return "the previous backup starts after this one";
    if (o->full_every > 0 && p->guided_since_full + 1 >= o->full_every) {
        snprintf(buf, len, "a full read every %u backups (backup-full-every)", o->full_every);
        return buf;
    }
    if (o->full_days > 0 && o->now - p->full_read_time > o->full_days * 86400) {
        snprintf(buf, len, "the last full read is older than %g days (backup-full-days)",
                 o->full_days);
        return buf;
    }
    return NULL;
}

/* ---- records a summary could not vouch for ------------------------------ */

/* A segment's bytes: the archive's copy, else pg_wal's; false (no error) when neither is there. */
static bool segment_bytes(Repo *repo, const GuideOpts *o, const char *name, Buf *out)
{
    WalFileName wn;
    bool found = false;
    char *path = wal_name_parse(name, &wn) ? walarchive_path(&wn, name) : NULL;
    bool ok = path && repo_object_get(repo, path, out, &found);
    free(path);
    if (ok && !found && o->datadir) {
        path = xasprintf("%s/pg_wal/%s", o->datadir, name);
        ok = fs_read_file(path, out, &found);
        free(path);
    }
    if (!ok) {
        log_debug("WAL segment %s cannot be read for the guide: %s", name, err_message());
        err_clear();
    }
    return ok && found;
}

/*
 * The last two segments read: the next segment read for one segment's cut
 * record is the segment of the next cut record, which most segments have.
 */
typedef struct {
    uint64_t segno;
    bool have;
    Buf bytes;
} SegCache;

static const Buf *seg_cached(Repo *repo, const GuideOpts *o, SegCache c[2], uint64_t segno)
{
    for (int k = 0; k < 2; k++)
        if (c[k].have && c[k].segno == segno)
            return &c[k].bytes;
    int k = !c[0].have ? 0 : !c[1].have ? 1 : c[0].segno < c[1].segno ? 0 : 1;
    char name[WAL_NAME_LEN + 1];
    wal_segment_name(o->tli, segno, repo_wal_seg_size(repo), name);
    buf_free(&c[k].bytes);
    c[k] = (SegCache){segno, false, {0}};
    c[k].have = segment_bytes(repo, o, name, &c[k].bytes);
    return c[k].have ? &c[k].bytes : NULL;
}

typedef struct {
    BackupGuide *g;
    bool unknown;
} AcrossSink;

static void across_block(void *arg, const WalBlockRef *r)
{
    BackupGuide *g = ((AcrossSink *)arg)->g;
    if (g->nblocks == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->blocks = xrealloc(g->blocks, g->cap * sizeof(Key));
    }
    g->blocks[g->nblocks++] = (Key){{r->node.spc, r->node.db, r->node.rel, r->fork, r->block}};
}

static void across_event(void *arg, const WalEvent *e)
{
    AcrossSink *a = arg;
    if (e->kind == WALREC_EV_UNKNOWN)
        a->unknown = true;
    else
        merge_event(a->g, e);
}

/*
 * Whether every unknown record of segment segno (summary s) is vouched for.
 *
 * An unknown record before the previous backup's start does not matter: what
 * it changed was on disk at the checkpoint that start is the redo point of,
 * before the previous backup read the files, and this backup takes only that
 * copy's chunks for what the summaries say is unchanged. Nor does one at or
 * after this backup's start: every restore of this backup replays the WAL
 * from its start, which redoes it (from a full-page image for a block), as
 * for any change made while a backup reads the files.
 *
 * One in between is almost always the segment's last record, cut at its end
 * with its headers or main data in the next segment (a pgbench load leaves
 * one in most segments): it is decoded whole from the two segments' bytes
 * (archived, else in pg_wal), and its blocks and events join the guide. Any
 * other, or one whose next segment cannot be read, leaves the segment unvouched.
 */
static bool vouch_unknowns(BackupGuide *g, Repo *repo, const GuideOpts *o, uint64_t segno,
                           const WalSum *s, SegCache cache[2])
{
    uint32_t seg_size = repo_wal_seg_size(repo);
    const Buf *a = NULL, *b = NULL;
    bool ok = true, loaded = false;
    for (size_t i = 0; ok && i < s->nevents; i++) {
        const WalEvent *e = &s->events[i];
        if (e->kind != WALREC_EV_UNKNOWN || e->lsn < o->prev->start_lsn || e->lsn >= o->start_lsn)
            continue;
        if (!loaded) {
            loaded = true;
            a = seg_cached(repo, o, cache, segno);
            b = a ? seg_cached(repo, o, cache, segno + 1) : NULL;
            ok = a && b;
        }
        AcrossSink as = {g, false};
        WalRecSink sink = {across_block, across_event, &as};
        ok = ok &&
             walrec_decode_across(a->data, a->len, b->data, b->len, seg_size, e->lsn, &sink) &&
             !as.unknown;
    }
    return ok;
}

/* Merge the summaries of every segment from prev's start to this start; false: a gap. */
static bool guide_load(BackupGuide *g, Repo *repo, const GuideOpts *o, char *why, size_t whylen)
{
    uint32_t seg_size = repo_wal_seg_size(repo);
    uint64_t first = o->prev->start_lsn / seg_size, last = o->start_lsn / seg_size;
    SegCache cache[2] = {{0}};
    const char *gap = NULL;
    for (uint64_t segno = first; !gap && segno <= last; segno++) {
        char name[WAL_NAME_LEN + 1];
        wal_segment_name(o->tli, segno, seg_size, name);
        WalSum s;
        bool found = false;
        if (!load_summary(repo, o, segno, name, &s, &found)) {
            snprintf(why, whylen, "the summary of WAL segment %s cannot be read: %s", name,
                     err_message());
            err_clear();
            gap = why;
            break;
        }
        gap = !found ? "is missing"
              : s.unknown && !vouch_unknowns(g, repo, o, segno, &s, cache)
                  ? "has a record drydock cannot vouch for"
              : segno < last && !s.complete               ? "does not reach the end of the segment"
              : segno == last && s.end_lsn < o->start_lsn ? "ends before this backup's start"
                                                          : NULL;
        if (gap)
            snprintf(why, whylen, "the WAL summary of segment %s %s", name, gap);
        else {
            backup_guide_merge(g, &s);
            g->segments++;
        }
        if (found)
            walsum_free(&s);
    }
    buf_free(&cache[0].bytes);
    buf_free(&cache[1].bytes);
    return gap == NULL;
}

BackupGuide *backup_guide_open(Repo *repo, const GuideOpts *o, char *why, size_t whylen)
{
    const char *refusal = backup_guide_refusal(o, why, whylen);
    if (refusal) {
        if (refusal != why)
            snprintf(why, whylen, "%s", refusal);
        return NULL;
    }
    BackupGuide *g = backup_guide_new();
    if (!guide_load(g, repo, o, why, whylen)) {
        backup_guide_free(g);
        return NULL;
    }
    backup_guide_seal(g);
    return g;
}

BackupGuide *backup_guide_new(void)
{
    return xcalloc(1, sizeof(BackupGuide));
}

void backup_guide_seal(BackupGuide *g)
{
    if (g->nblocks > 0) /* qsort of NULL is undefined, even for no elements */
        qsort(g->blocks, g->nblocks, sizeof(Key), block_cmp);
    size_t n = 0;
    for (size_t i = 0; i < g->nblocks; i++)
        if (n == 0 || block_cmp(&g->blocks[i], &g->blocks[n - 1]) != 0)
            g->blocks[n++] = g->blocks[i];
    g->nblocks = n;
    if (g->nwhole > 0)
        qsort(g->whole, g->nwhole, sizeof(Whole), whole_cmp);
}

void backup_guide_free(BackupGuide *g)
{
    if (!g)
        return;
    free(g->blocks);
    free(g->whole);
    free(g);
}

void backup_guide_stats(const BackupGuide *g, uint64_t *segments, uint64_t *blocks)
{
    *segments = g ? g->segments : 0;
    *blocks = g ? g->nblocks : 0;
}

/* ---- relation file paths ---------------------------------------------- */

static bool parse_oid(const char **p, uint32_t *out)
{
    char *end;
    if (**p < '0' || **p > '9')
        return false;
    unsigned long v = strtoul(*p, &end, 10);
    if (v == 0 || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    *p = end;
    return true;
}

/* "base/5/16384_vm.2" -> node (1663, 5, 16384), fork 2; false for anything else. */
static bool relation_of(const char *path, uint32_t k[4])
{
    const char *p = path;
    if (strncmp(p, "global/", 7) == 0) {
        k[0] = GLOBAL_SPC, k[1] = 0, p += 7;
    } else if (strncmp(p, "base/", 5) == 0) {
        p += 5;
        if (!parse_oid(&p, &k[1]) || *p++ != '/')
            return false;
        k[0] = DEFAULT_SPC;
    } else if (strncmp(p, "pg_tblspc/", 10) == 0) {
        p += 10;
        if (!parse_oid(&p, &k[0]) || *p++ != '/' || !(p = strchr(p, '/')) || !*++p ||
            !parse_oid(&p, &k[1]) || *p++ != '/')
            return false;
    } else
        return false;
    if (!parse_oid(&p, &k[2]))
        return false;
    k[3] = WALREC_FORK_MAIN;
    static const char *const forks[] = {"", "_fsm", "_vm", "_init"};
    for (uint32_t f = 1; f < 4; f++)
        if (strncmp(p, forks[f], strlen(forks[f])) == 0) {
            k[3] = f;
            p += strlen(forks[f]);
        }
    return *p == '\0' || *p == '.';
}

static const Whole *find_whole(const BackupGuide *g, uint32_t spc, uint32_t db, uint32_t rel)
{
    Whole key = {{spc, db, rel}, 0};
    return g->nwhole ? bsearch(&key, g->whole, g->nwhole, sizeof(Whole), whole_cmp) : NULL;
}

bool backup_guide_file(const BackupGuide *g, const DatadirEntry *e, const ManifestFile *pf,
                       GuideReason *reason)
{
    uint32_t k[4];
    const Whole *w;
    *reason = GUIDE_READ_CHANGED;
    if (!relation_of(e->path, k))
        return false; /* not a relation file: read as always, not counted */
    if ((w = find_whole(g, k[0], 0, 0)) || (w = find_whole(g, k[0], k[1], 0)) ||
        (w = find_whole(g, k[0], k[1], k[2])))
        *reason = w->reason;
    else if (!pf || !S_ISREG(pf->mode))
        *reason = GUIDE_WHOLE_NEW;
    else if (e->size < pf->size)
        *reason = GUIDE_WHOLE_SHRANK;
    else if (k[3] == WALREC_FORK_FSM || k[3] == WALREC_FORK_VM)
        *reason = GUIDE_WHOLE_MAPS;
    return *reason == GUIDE_READ_CHANGED;
}

/* The index of the first changed block at or after block first of e's fork; false: not a relation.
 */
static bool first_block_at(const BackupGuide *g, const DatadirEntry *e, uint32_t first, size_t *at,
                           Key *lo)
{
    uint32_t k[4];
    if (!relation_of(e->path, k))
        return false;
    *lo = (Key){{k[0], k[1], k[2], k[3], first}};
    size_t a = 0, b = g->nblocks; /* first entry >= lo */
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (block_cmp(&g->blocks[m], lo) < 0)
            a = m + 1;
        else
            b = m;
    }
    *at = a;
    return true;
}

bool backup_guide_chunk_changed(const BackupGuide *g, const DatadirEntry *e, uint64_t offset,
                                uint32_t len)
{
    uint32_t first = e->segno * PG_RELSEG_BLOCKS + (uint32_t)(offset / PG_BLCKSZ);
    uint32_t last = first + (len + PG_BLCKSZ - 1) / PG_BLCKSZ; /* exclusive */
    size_t a;
    Key lo;
    if (!first_block_at(g, e, first, &a, &lo))
        return true;
    return a < g->nblocks && key_cmp(g->blocks[a].k, lo.k, 4) == 0 && g->blocks[a].k[4] < last;
}

uint32_t backup_guide_chunk_pages(const BackupGuide *g, const DatadirEntry *e, uint64_t offset,
                                  uint32_t len, uint64_t pages[GUIDE_CHUNK_PAGES_MAX / 64])
{
    uint32_t npages = (len + PG_BLCKSZ - 1) / PG_BLCKSZ;
    if (npages > GUIDE_CHUNK_PAGES_MAX)
        npages = GUIDE_CHUNK_PAGES_MAX;
    memset(pages, 0, GUIDE_CHUNK_PAGES_MAX / 8);
    uint32_t first = e->segno * PG_RELSEG_BLOCKS + (uint32_t)(offset / PG_BLCKSZ);
    size_t a;
    Key lo;
    if (!first_block_at(g, e, first, &a, &lo)) { /* not a relation: all of it */
        for (uint32_t i = 0; i < npages; i++)
            pages[i / 64] |= 1ull << (i % 64);
        return npages;
    }
    uint32_t n = 0;
    for (; a < g->nblocks && key_cmp(g->blocks[a].k, lo.k, 4) == 0; a++) {
        uint32_t i = g->blocks[a].k[4] - first;
        if (i >= npages)
            break;
        pages[i / 64] |= 1ull << (i % 64);
        n++;
    }
    return n;
}
