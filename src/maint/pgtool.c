/*
 * pgtool.c - see pgtool.h.
 */
#include "maint/pgtool.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PGTOOL_MAX_OUTPUT (256 * 1024)

bool pgtool_owner(const char *path, uid_t *uid, gid_t *gid)
{
    struct stat st;
    char *copy = xstrdup(path);
    bool ok = stat(path, &st) == 0 || stat(dirname(copy), &st) == 0;
    free(copy);
    if (ok) {
        *uid = st.st_uid;
        *gid = st.st_gid;
    }
    return ok;
}

/* In the child: become the owner of o->owner_of when we are root. */
static void pgtool_become_owner(const PgToolOpts *o)
{
    uid_t uid;
    gid_t gid;
    if (!o || !o->owner_of || geteuid() != 0 || !pgtool_owner(o->owner_of, &uid, &gid) || uid == 0)
        return;
    struct passwd *pw = getpwuid(uid);
    if (pw) {
        if (initgroups(pw->pw_name, gid) != 0)
            _exit(126);
        setenv("HOME", pw->pw_dir, 1);
        setenv("USER", pw->pw_name, 1);
    }
    if (setgid(gid) != 0 || setuid(uid) != 0) {
        dprintf(2, "could not become user %u: %s\n", (unsigned)uid, strerror(errno));
        _exit(126);
    }
}

static void pgtool_read_all(int fd, Buf *out)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (out->len < PGTOOL_MAX_OUTPUT)
            buf_append(out, chunk, (size_t)n);
    }
    buf_append(out, "", 1);
    out->len--;
}

bool pgtool_run(char *const argv[], const PgToolOpts *o, Buf *out, int *status)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return err_errno("could not create a pipe to run \"%s\"", argv[0]);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return err_errno("could not fork to run \"%s\"", argv[0]);
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        closefrom(3);
        if (o && o->password)
            setenv("PGPASSWORD", o->password, 1);
        pgtool_become_owner(o);
        execv(argv[0], argv);
        dprintf(2, "could not execute \"%s\": %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    pgtool_read_all(fds[0], out);
    close(fds[0]);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0) {
        if (errno != EINTR)
            return err_errno("could not wait for \"%s\"", argv[0]);
    }
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    return true;
}

/* The last non-empty line of a tool's output. */
static void pgtool_last_line(const Buf *out, char *line, size_t len)
{
    const char *s = out->len ? (const char *)out->data : "";
    const char *end = s + strnlen(s, out->len);
    while (end > s && (end[-1] == '\n' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > s && start[-1] != '\n')
        start--;
    snprintf(line, len, "%.*s", (int)(end - start), start);
    if (!line[0])
        snprintf(line, len, "no output");
}

bool pgtool_must(char *const argv[], const PgToolOpts *o, const char *doing, Buf *out)
{
    int status = 0;
    buf_reset(out);
    if (!pgtool_run(argv, o, out, &status))
        return false;
    if (status == 0)
        return true;
    char line[512];
    pgtool_last_line(out, line, sizeof(line));
    const char *tool = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    return err_set(DD_EXIT_PG, "%s failed (%s exited with status %d): %s", doing, tool, status,
                   line);
}
