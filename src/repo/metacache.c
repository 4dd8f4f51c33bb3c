/*
 * metacache.c - see metacache.h.
 */
#include "repo/metacache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/fsutil.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/timeutil.h"

static char *cache_path(const Config *cfg, const char *root, char **dir_out)
{
    uint8_t h[SHA256_LEN];
    sha256(root, strlen(root), h);
    char hex[2 * SHA256_LEN + 1];
    sha256_hex(h, hex);
    char *state = config_state_dir(cfg);
    char *dir = xasprintf("%s/repo-meta", state);
    char *path = xasprintf("%s/%.16s", dir, hex);
    if (dir_out)
        *dir_out = state;
    else
        free(state);
    free(dir);
    return path;
}

bool metacache_get(const Config *cfg, const char *root, double max_age, Buf *out)
{
    char *path = cache_path(cfg, root, NULL);
    struct stat st;
    bool found = false;
    bool hit = stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
               time_wall() - (double)st.st_mtime < max_age && fs_read_file(path, out, &found) &&
               found && out->len > 0;
    if (!hit) {
        err_clear();
        out->len = 0;
    }
    free(path);
    return hit;
}

void metacache_put(const Config *cfg, const char *root, const Buf *raw)
{
    char *state = NULL;
    char *path = cache_path(cfg, root, &state);
    char *dir = xasprintf("%s/repo-meta", state);
    if ((mkdir(state, 0700) != 0 && errno != EEXIST) ||
        (mkdir(dir, 0700) != 0 && errno != EEXIST) ||
        !fs_replace_file(path, raw->data, raw->len, 0600, false)) {
        log_debug("could not keep the repository metadata in \"%s\"", path);
        err_clear();
    }
    free(dir);
    free(state);
    free(path);
}
