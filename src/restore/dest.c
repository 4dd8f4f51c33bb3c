/*
 * dest.c - see dest.h.
 */
#include "restore/dest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/fsutil.h"

/* Whether dir has entries; *exists=false when it does not exist. */
static bool dir_state(const char *dir, bool *exists, bool *empty)
{
    struct stat st;
    *exists = false;
    *empty = true;
    if (stat(dir, &st) != 0)
        return errno == ENOENT ? true : err_errno("could not stat \"%s\"", dir);
    *exists = true;
    if (!S_ISDIR(st.st_mode)) {
        err_set(DD_EXIT_USAGE, "\"%s\" exists and is not a directory", dir);
        err_hint("give the path of a directory, new or empty");
        return false;
    }
    DIR *d = opendir(dir);
    if (!d)
        return err_errno("could not open directory \"%s\"", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            *empty = false;
    closedir(d);
    return true;
}

/* A server runs in dir when postmaster.pid names a live process. */
static bool server_running(const char *dir, long *pid_out)
{
    char *path = xasprintf("%s/postmaster.pid", dir);
    Buf b = {0};
    bool found = false;
    bool ok = fs_read_file(path, &b, &found);
    free(path);
    *pid_out = 0;
    if (!ok)
        err_clear();
    if (ok && found && b.len > 0) {
        buf_append(&b, "", 1);
        long pid = strtol((char *)b.data, NULL, 10);
        if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
            *pid_out = pid;
    }
    buf_free(&b);
    return *pid_out != 0;
}

/* The path of the symlink of tablespace i: DIR/pg_tblspc/<oid>. */
static char *ts_link(const RestoreDest *d, size_t i)
{
    return xasprintf("%s/pg_tblspc/%" PRIu32, d->dir, d->m->tablespaces[i].oid);
}

/* Whether DIR/pg_tblspc/<oid> of tablespace i already points at its location. */
static bool ts_link_ok(const RestoreDest *d, size_t i)
{
    char *link = ts_link(d, i);
    char target[4096];
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    free(link);
    if (n < 0)
        return false;
    target[n] = '\0';
    return strcmp(target, d->tsloc[i]) == 0;
}

static bool check_tablespaces(const RestoreDest *d)
{
    for (size_t i = 0; i < d->m->ntablespaces; i++) {
        bool exists, empty;
        if (!dir_state(d->tsloc[i], &exists, &empty))
            return err_context("tablespace %" PRIu32, d->m->tablespaces[i].oid);
        if (!exists || empty || (d->delta && ts_link_ok(d, i)))
            continue;
        err_set(DD_EXIT_USAGE,
                "location \"%s\" of tablespace %" PRIu32 " is not empty: it may be in use by "
                "another cluster",
                d->tsloc[i], d->m->tablespaces[i].oid);
        err_hint("give --tablespace-map %" PRIu32 "=DIR with a new or empty directory",
                 d->m->tablespaces[i].oid);
        return false;
    }
    return true;
}

bool dest_check(const RestoreDest *d)
{
    bool exists, empty;
    if (!dir_state(d->dir, &exists, &empty))
        return false;
    if (exists && !empty && !d->delta) {
        err_set(DD_EXIT_USAGE, "destination directory \"%s\" is not empty", d->dir);
        err_hint("give a new or empty directory, or --delta to rewrite only what differs");
        return false;
    }
    long pid;
    if (exists && !empty && server_running(d->dir, &pid)) {
        err_set(DD_EXIT_USAGE, "a server is running in destination directory \"%s\" (pid %ld)",
                d->dir, pid);
        err_hint("stop it first: pg_ctl stop -D %s", d->dir);
        return false;
    }
    return check_tablespaces(d);
}

/* ---- delta cleanup -------------------------------------------------- */

static int idx_cmp(const void *a, const void *b, void *files)
{
    const ManifestFile *f = files;
    return strcmp(f[*(const size_t *)a].path, f[*(const size_t *)b].path);
}

typedef struct {
    const RestoreDest *d;
    size_t *idx; /* indices of the backup's files, sorted by path */
    size_t removed;
} Cleaner;

/* The manifest entry for rel, or NULL. */
static const ManifestFile *lookup(const Cleaner *c, const char *rel)
{
    const ManifestFile *files = c->d->m->files;
    for (size_t lo = 0, hi = c->d->m->nfiles; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(files[c->idx[mid]].path, rel);
        if (r == 0)
            return &files[c->idx[mid]];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

/* Remove a path without following symlinks (a directory with its contents). */
static bool remove_tree(const char *path, bool is_dir)
{
    int rc = is_dir ? nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) : unlink(path);
    if (rc != 0 && errno != ENOENT)
        return err_errno("could not remove \"%s\"", path);
    return true;
}

/* The index of the tablespace whose symlink rel is ("pg_tblspc/<oid>"), or -1. */
static long ts_of(const RestoreDest *d, const char *rel)
{
    if (strncmp(rel, "pg_tblspc/", 10) != 0 || strchr(rel + 10, '/'))
        return -1;
    for (size_t i = 0; i < d->m->ntablespaces; i++) {
        char oid[16];
        snprintf(oid, sizeof(oid), "%" PRIu32, d->m->tablespaces[i].oid);
        if (strcmp(rel + 10, oid) == 0)
            return (long)i;
    }
    return -1;
}

static bool clean_dir(Cleaner *c, const char *abs, const char *rel);

static bool clean_entry(Cleaner *c, const char *abs, const char *rel)
{
    struct stat st;
    if (lstat(abs, &st) != 0)
        return errno == ENOENT ? true : err_errno("could not stat \"%s\"", abs);
    long ts = ts_of(c->d, rel);
    if (ts >= 0) {
        if (S_ISLNK(st.st_mode) && ts_link_ok(c->d, (size_t)ts))
            return clean_dir(c, abs, rel);
    } else {
        const ManifestFile *f = lookup(c, rel);
        if (f && S_ISDIR(f->mode) && S_ISDIR(st.st_mode))
            return clean_dir(c, abs, rel);
        if (f && S_ISREG(f->mode) && S_ISREG(st.st_mode))
            return true;
    }
    c->removed++;
    return remove_tree(abs, S_ISDIR(st.st_mode));
}

static bool clean_dir(Cleaner *c, const char *abs, const char *rel)
{
    DIR *dir = opendir(abs);
    if (!dir)
        return err_errno("could not open directory \"%s\"", abs);
    StrList names = {0};
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            strlist_push(&names, e->d_name);
    closedir(dir);
    bool ok = true;
    for (size_t i = 0; ok && i < names.len; i++) {
        char *a = xasprintf("%s/%s", abs, names.items[i]);
        char *r = rel ? xasprintf("%s/%s", rel, names.items[i]) : xstrdup(names.items[i]);
        ok = clean_entry(c, a, r);
        free(a);
        free(r);
    }
    strlist_free(&names);
    return ok;
}

bool dest_clean(const RestoreDest *d, size_t *removed)
{
    Cleaner c = {d, xcalloc(d->m->nfiles ? d->m->nfiles : 1, sizeof(size_t)), 0};
    for (size_t i = 0; i < d->m->nfiles; i++)
        c.idx[i] = i;
    qsort_r(c.idx, d->m->nfiles, sizeof(*c.idx), idx_cmp, d->m->files);
    bool exists, empty;
    bool ok = dir_state(d->dir, &exists, &empty);
    if (ok && exists)
        ok = clean_dir(&c, d->dir, NULL);
    free(c.idx);
    *removed = c.removed;
    return ok;
}

/* ---- layout --------------------------------------------------------- */

/* mkdir -p with mode for the directories it creates. */
static bool mkdir_p(const char *path, mode_t mode)
{
    char *p = xstrdup(path);
    bool ok = true;
    for (char *s = p + 1; ok; s++) {
        bool end = *s == '\0';
        if (*s != '/' && !end)
            continue;
        *s = '\0';
        struct stat st;
        if (mkdir(p, mode) != 0 && errno != EEXIST)
            ok = err_errno("could not create directory \"%s\"", p);
        else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            ok = err_set(DD_EXIT_IO, "\"%s\" is not a directory", p);
        if (end)
            break;
        *s = '/';
    }
    free(p);
    return ok;
}

static bool make_ts_links(const RestoreDest *d)
{
    char *tblspc = xasprintf("%s/pg_tblspc", d->dir);
    bool ok = mkdir_p(tblspc, 0700);
    free(tblspc);
    for (size_t i = 0; ok && i < d->m->ntablespaces; i++) {
        ok = mkdir_p(d->tsloc[i], 0700);
        if (ok && chmod(d->tsloc[i], 0700) != 0)
            ok = err_errno("could not set the mode of \"%s\"", d->tsloc[i]);
        if (!ok || ts_link_ok(d, i))
            continue;
        char *link = ts_link(d, i);
        if (symlink(d->tsloc[i], link) != 0)
            ok = err_errno("could not create symbolic link \"%s\"", link);
        free(link);
    }
    return ok;
}

bool dest_open_file(const char *path, const ManifestFile *f, bool first, int *fd)
{
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (*fd < 0)
        return err_errno("could not create file \"%s\"", path);
    bool ok = true;
    if (first && fchmod(*fd, (f->mode & 0777) | 0600) != 0)
        ok = err_errno("could not set the mode of file \"%s\"", path);
    else if (first && ftruncate(*fd, (off_t)f->size) != 0)
        ok = err_errno("could not size file \"%s\"", path);
    if (!ok) {
        close(*fd);
        *fd = -1;
    }
    return ok;
}

static bool make_file(const char *path, const ManifestFile *f)
{
    int fd;
    if (!dest_open_file(path, f, true, &fd))
        return false;
    /* No data to sync: the fsync of its directory (dest_finish) makes it durable. */
    close(fd);
    return true;
}

bool dest_layout(const RestoreDest *d, size_t *dirs, size_t *files)
{
    *dirs = *files = 0;
    bool ok = mkdir_p(d->dir, 0700);
    if (ok && chmod(d->dir, 0700) != 0)
        ok = err_errno("could not set the mode of directory \"%s\"", d->dir);
    ok = ok && make_ts_links(d);
    for (size_t i = 0; ok && i < d->m->nfiles; i++) {
        const ManifestFile *f = &d->m->files[i];
        if (ts_of(d, f->path) >= 0 || strcmp(f->path, "pg_tblspc") == 0)
            continue;
        char *path = xasprintf("%s/%s", d->dir, f->path);
        if (S_ISDIR(f->mode)) {
            ok = mkdir_p(path, 0700);
            (*dirs)++;
        } else if (S_ISREG(f->mode)) {
            /* Files with chunks are created by the workers, in parallel (creating is slow). */
            if (f->nchunks == 0)
                ok = make_file(path, f);
            (*files)++;
        }
        free(path);
    }
    return ok;
}

/* fsync a directory (or a file) by path. */
static bool fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_errno("could not open \"%s\"", path);
    bool ok = fsync(fd) == 0 || err_errno("could not fsync \"%s\"", path);
    close(fd);
    return ok;
}

bool dest_finish(const RestoreDest *d)
{
    static const char *const needed[] = {
        "pg_wal",     "pg_wal/archive_status", "pg_commit_ts",        "pg_dynshmem",
        "pg_logical", "pg_logical/snapshots",  "pg_logical/mappings", "pg_multixact",
        "pg_notify",  "pg_replslot",           "pg_serial",           "pg_snapshots",
        "pg_stat",    "pg_stat_tmp",           "pg_subtrans",         "pg_tblspc",
        "pg_twophase"};
    bool ok = true;
    for (size_t i = 0; ok && i < sizeof(needed) / sizeof(needed[0]); i++) {
        char *p = xasprintf("%s/%s", d->dir, needed[i]);
        ok = mkdir_p(p, 0700);
        free(p);
    }
    if (ok && chmod(d->dir, 0700) != 0)
        ok = err_errno("could not set the mode of directory \"%s\"", d->dir);
    /*
     * Files were synced by the workers (syncfs would also wait for whatever
     * else the machine writes); the directories remain, so that the names
     * are durable too.
     */
    ok = ok && fsync_path(d->dir);
    for (size_t i = 0; ok && i < d->m->ntablespaces; i++) {
        char *parent = xstrdup(d->tsloc[i]);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent)
            *slash = '\0';
        ok = fsync_path(d->tsloc[i]) && fsync_path(parent);
        free(parent);
    }
    for (size_t i = 0; ok && i < d->m->nfiles; i++) {
        if (!S_ISDIR(d->m->files[i].mode))
            continue;
        char *p = xasprintf("%s/%s", d->dir, d->m->files[i].path);
        ok = fsync_path(p);
        free(p);
    }
    return ok;
}
