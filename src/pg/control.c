/*
 * control.c - see control.h.
 */
#include "pg/control.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"

bool pg_control_read(const char *data_dir, PgControl *out)
{
    char *path = xasprintf("%s/global/pg_control", data_dir);
    uint8_t buf[16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_errno("could not open control file \"%s\"", path);
        err_hint("check that the data directory in the configuration is right");
        free(path);
        return false;
    }
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n != (ssize_t)sizeof(buf)) {
        err_set(DD_EXIT_CORRUPT, "control file \"%s\" is too short", path);
        free(path);
        return false;
    }
    memcpy(&out->system_id, buf, 8);
    memcpy(&out->control_version, buf + 8, 4);
    memcpy(&out->catalog_version, buf + 12, 4);
    if (out->control_version != PG_CONTROL_VERSION) {
        err_set(DD_EXIT_PG, "control file \"%s\" has version %u, expected %u (PostgreSQL 15)", path,
                out->control_version, PG_CONTROL_VERSION);
        err_hint("drydock supports PostgreSQL 15: point it at a PostgreSQL 15 data directory");
        free(path);
        return false;
    }
    free(path);
    return true;
}
