/*
 * walbacklog.c - see walbacklog.h.
 */
#include "repo/walbacklog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/timeutil.h"

bool walbacklog_waiting(const char *wal_dir, uint64_t seg_size, size_t *count, uint64_t *bytes)
{
    *count = 0;
    *bytes = 0;
    char *dir = xasprintf("%s/archive_status", wal_dir);
    DIR *d = opendir(dir);
    if (!d) {
        bool ok = errno == ENOENT || err_errno("could not open directory \"%s\"", dir);
        free(dir);
        return ok;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 6 && strcmp(e->d_name + n - 6, ".ready") == 0)
            (*count)++;
    }
    closedir(d);
    free(dir);
    *bytes = (uint64_t)*count * seg_size;
    return true;
}

bool walbacklog_record_drop(const char *wal_dir, const char *name)
{
    char *path = xasprintf("%s/%s", wal_dir, WALBACKLOG_DROPPED);
    char when[64];
    time_format(time_wall(), when, sizeof(when));
    char *line = xasprintf("%s %s\n", when, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    bool ok = fd >= 0 || err_errno("could not open \"%s\"", path);
    ok = ok && fs_write_all(fd, line, strlen(line), path);
    if (fd >= 0)
        close(fd);
    free(line);
    free(path);
    return ok;
}

bool walbacklog_dropped(const char *wal_dir, StrList *out)
{
    char *path = xasprintf("%s/%s", wal_dir, WALBACKLOG_DROPPED);
    Buf b = {0};
    bool found = false;
    bool ok = fs_read_file(path, &b, &found);
    free(path);
    if (!ok || !found) {
        buf_free(&b);
        return ok;
    }
    buf_append(&b, "", 1);
    char *save = NULL;
    for (char *l = strtok_r((char *)b.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        strlist_push(out, l);
    buf_free(&b);
    return true;
}
