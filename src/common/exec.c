/*
 * exec.c - see exec.h.
 *
 * Everything that may allocate (the PATH search, the environment, the
 * user's groups) is done before the fork: in a threaded program the child
 * may only call async-signal-safe functions until it executes.
 */
#include "common/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/timeutil.h"

extern char **environ;

#define EXEC_MAX_GROUPS 64

/* What the child needs, prepared by the parent. */
typedef struct {
    char *path;   /* the program's path */
    char **envp;  /* the whole environment */
    bool as_user; /* switch to uid/gid/groups below */
    uid_t uid;
    gid_t gid;
    gid_t groups[EXEC_MAX_GROUPS];
    int ngroups;
    int log_fd;   /* detach: where the output goes */
    pid_t parent; /* attached: our pid, which the child must not outlive */
} ExecPrep;

/* The tail: the last line that is not blank, built as the output streams by. */
typedef struct {
    char cur[EXEC_TAIL_MAX];
    size_t cur_len;
    char *last; /* ExecResult.tail */
} ExecTail;

static bool exec_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

static void exec_tail_end_line(ExecTail *t)
{
    size_t len = t->cur_len;
    while (len > 0 &&
           (t->cur[len - 1] == ' ' || t->cur[len - 1] == '\t' || t->cur[len - 1] == '\r'))
        len--;
    if (!exec_blank(t->cur, len)) {
        memcpy(t->last, t->cur, len);
        t->last[len] = '\0';
    }
    t->cur_len = 0;
}

static void exec_tail_feed(ExecTail *t, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n')
            exec_tail_end_line(t);
        else if (t->cur_len < sizeof(t->cur) - 1)
            t->cur[t->cur_len++] = data[i];
    }
}

/* argv[0] itself when it holds a '/', else its first match in PATH. */
static char *exec_find(const char *name)
{
    if (strchr(name, '/'))
        return xstrdup(name);
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char *cand = xasprintf("%.*s/%s", (int)n, n ? path : ".", name);
        if (access(cand, X_OK) == 0)
            return cand;
        free(cand);
        path += n;
        if (*path == ':')
            path++;
    }
    return xstrdup(name); /* execve fails with ENOENT, reported as usual */
}

/* Set NAME=value in a NULL-terminated, malloc'ed environment, replacing one of the same name. */
static void exec_env_set(char ***envp, size_t *n, const char *entry)
{
    size_t name_len = strcspn(entry, "=");
    for (size_t i = 0; i < *n; i++) {
        if (strncmp((*envp)[i], entry, name_len) == 0 && (*envp)[i][name_len] == '=') {
            free((*envp)[i]);
            (*envp)[i] = xstrdup(entry);
            return;
        }
    }
    *envp = xrealloc(*envp, (*n + 2) * sizeof(char *));
    (*envp)[(*n)++] = xstrdup(entry);
    (*envp)[*n] = NULL;
}

static void exec_prep_free(ExecPrep *p)
{
    free(p->path);
    for (char **e = p->envp; e && *e; e++)
        free(*e);
    free(p->envp);
    if (p->log_fd >= 0)
        close(p->log_fd);
}

static bool exec_prep_user(const char *user, ExecPrep *p, char ***envp, size_t *n)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        err_set(DD_EXIT_CONFIG, "user \"%s\" does not exist", user);
        err_hint("name the operating system user that owns the cluster, e.g. postgres");
        return false;
    }
    p->as_user = true;
    p->uid = pw->pw_uid;
    p->gid = pw->pw_gid;
    p->ngroups = EXEC_MAX_GROUPS;
    if (getgrouplist(pw->pw_name, pw->pw_gid, p->groups, &p->ngroups) < 0)
        p->ngroups = 0; /* more than we keep: its primary group only */
    char *kv[3] = {xasprintf("HOME=%s", pw->pw_dir), xasprintf("USER=%s", pw->pw_name),
                   xasprintf("LOGNAME=%s", pw->pw_name)};
    for (size_t i = 0; i < 3; i++) {
        exec_env_set(envp, n, kv[i]);
        free(kv[i]);
    }
    return true;
}

static bool exec_prep(const ExecOpts *o, ExecPrep *p)
{
    memset(p, 0, sizeof(*p));
    p->log_fd = -1;
    if (!o->argv || !o->argv[0])
        return err_set(DD_EXIT_FAIL, "no program to run");
    p->path = exec_find(o->argv[0]);
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    p->envp = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        p->envp[i] = xstrdup(environ[i]);
    for (const char *const *e = o->env; e && *e; e++)
        exec_env_set(&p->envp, &n, *e);
    if (o->user && geteuid() == 0 && !exec_prep_user(o->user, p, &p->envp, &n))
        return false;
    if (o->log_path) {
        p->log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (p->log_fd < 0)
            return err_errno("could not open log file \"%s\"", o->log_path);
        /* The child writes it itself when detached, as that user. */
        if (p->as_user && o->detach && fchown(p->log_fd, p->uid, p->gid) != 0)
            return err_errno("could not change the owner of log file \"%s\"", o->log_path);
    }
    return true;
}

/*
 * In the child: descriptors, directory, identity, then the program. Only
 * async-signal-safe calls. out is the descriptor for stdout and stderr;
 * keep (or -1) a descriptor to carry past the close of the others, moved to 3.
 */
static void exec_child(const ExecOpts *o, const ExecPrep *p, int out, int keep)
{
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(out >= 0 ? out : devnull, 1);
    dup2(out >= 0 ? out : devnull, 2);
    if (keep >= 0 && keep != 3) {
        dup2(keep, 3);
        fcntl(3, F_SETFD, FD_CLOEXEC);
    }
    /* Nothing of ours (libpq or curl sockets, the repository lock) may live on in a child. */
    closefrom(keep >= 0 ? 4 : 3);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (o->cwd && chdir(o->cwd) != 0) {
        int e = errno;
        dprintf(2, "could not change directory to \"%s\": %s\n", o->cwd, strerror(e));
        _exit(127);
    }
    if (p->as_user && (setgroups((size_t)(p->ngroups > 0 ? p->ngroups : 1),
                                 p->ngroups > 0 ? p->groups : &p->gid) != 0 ||
                       setgid(p->gid) != 0 || setuid(p->uid) != 0)) {
        int e = errno;
        dprintf(2, "could not switch to user \"%s\": %s\n", o->user, strerror(e));
        _exit(127);
    }
    /* An attached child dies with us (after the user switch, which clears the setting): a
     * pg_checksums or pg_basebackup left running by a drydock killed -9 would race the next
     * run that redoes its step. */
    if (keep < 0 && (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != p->parent))
        _exit(127);
    execve(p->path, (char *const *)o->argv, p->envp);
    int e = errno;
    if (keep >= 0) {
        ssize_t w = write(3, &e, sizeof(e));
        (void)w;
    }
    dprintf(2, "could not execute \"%s\": %s\n", p->path, strerror(e));
    _exit(127);
}

/* Keep a chunk of output: log, buffer (bounded), tail. */
static bool exec_keep(const ExecOpts *o, ExecPrep *p, ExecTail *t, const char *data, size_t n)
{
    if (p->log_fd >= 0) {
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(p->log_fd, data + done, n - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return err_errno("could not write to log file \"%s\"", o->log_path);
            done += (size_t)w;
        }
    }
    if (o->output && o->output->len < EXEC_MAX_OUTPUT)
        buf_append(o->output, data, n);
    exec_tail_feed(t, data, n);
    return true;
}

/* Read what is there without blocking; *eof when the last writer closed. */
static bool exec_drain(const ExecOpts *o, ExecPrep *p, ExecTail *t, int fd, bool *eof)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n > 0) {
            if (!exec_keep(o, p, t, chunk, (size_t)n))
                return false;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            *eof = true;
        return true;
    }
}

static int exec_status(int ws)
{
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/*
 * Collect the output until the child exits. A grandchild that keeps the
 * pipe open (a server started without a log) does not hold us past the
 * child's exit: what was written by then is read, and we stop.
 */
static bool exec_collect(const ExecOpts *o, ExecPrep *p, ExecTail *t, int fd, pid_t pid, int *ws)
{
    double deadline = o->timeout_ms > 0 ? time_mono() + o->timeout_ms / 1000.0 : 0;
    bool eof = false, exited = false, ok = true;
    while (!exited) {
        int wait_ms = 100;
        if (deadline) {
            double now = time_mono();
            if (now >= deadline) {
                kill(-pid, SIGKILL);
                while (waitpid(pid, ws, 0) < 0 && errno == EINTR)
                    ;
                err_set(DD_EXIT_TIMEOUT, "\"%s\" did not finish within %d ms", o->argv[0],
                        o->timeout_ms);
                err_hint("see its output%s%s%s, or allow it more time", o->log_path ? " in \"" : "",
                         o->log_path ? o->log_path : "", o->log_path ? "\"" : "");
                return false;
            }
            if ((deadline - now) * 1000 < wait_ms)
                wait_ms = (int)((deadline - now) * 1000) + 1;
        }
        if (!eof) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            if (poll(&pfd, 1, wait_ms) > 0)
                ok = exec_drain(o, p, t, fd, &eof) && ok;
        } else if (deadline == 0) {
            while (waitpid(pid, ws, 0) < 0)
                if (errno != EINTR)
                    return err_errno("could not wait for \"%s\"", o->argv[0]);
            break;
        } else {
            time_sleep(0.01);
        }
        pid_t w = waitpid(pid, ws, WNOHANG);
        if (w < 0 && errno != EINTR)
            return err_errno("could not wait for \"%s\"", o->argv[0]);
        exited = w == pid;
    }
    if (!eof)
        ok = exec_drain(o, p, t, fd, &eof) && ok;
    return ok;
}

/* A close-on-exec pipe and a fork; in the child *pid is 0. */
static bool exec_fork(const ExecOpts *o, int fds[2], pid_t *pid)
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        return err_errno("could not create a pipe to run \"%s\"", o->argv[0]);
    fflush(NULL); /* or the child's exit would write our buffered output again */
    *pid = fork();
    if (*pid >= 0)
        return true;
    close(fds[0]);
    close(fds[1]);
    return err_errno("could not fork to run \"%s\"", o->argv[0]);
}

static bool exec_attached(const ExecOpts *o, ExecPrep *p, ExecResult *r)
{
    int fds[2];
    pid_t pid;
    if (!exec_fork(o, fds, &pid))
        return false;
    if (pid == 0) {
        if (o->timeout_ms > 0)
            setpgid(0, 0);
        exec_child(o, p, fds[1], -1);
    }
    if (o->timeout_ms > 0)
        setpgid(pid, pid); /* as the child does: whichever runs first */
    close(fds[1]);
    r->pid = pid;
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    ExecTail t = {.last = r->tail};
    int ws = 0;
    bool ok = exec_collect(o, p, &t, fds[0], pid, &ws);
    close(fds[0]);
    exec_tail_end_line(&t);
    if (o->output) {
        buf_append(o->output, "", 1); /* a terminator past len, for strstr and printing */
        o->output->len--;
    }
    r->status = exec_status(ws);
    return ok;
}

/*
 * Double fork: the middle child sets up a new session, starts the program,
 * learns from it whether execve worked (its errno through a close-on-exec
 * pipe, nothing when it did) and exits, so that init reaps the program. The
 * middle child sends us the program's pid and that errno.
 */
static bool exec_detached(const ExecOpts *o, ExecPrep *p, ExecResult *r)
{
    int fds[2];
    pid_t mid;
    if (!exec_fork(o, fds, &mid))
        return false;
    if (mid == 0) {
        int ex[2], msg[2] = {-1, 0};
        setsid();
        if (pipe2(ex, O_CLOEXEC) == 0) {
            pid_t pid = fork();
            if (pid == 0)
                exec_child(o, p, p->log_fd, ex[1]);
            close(ex[1]);
            msg[0] = (int)pid;
            while (pid > 0 && read(ex[0], &msg[1], sizeof(msg[1])) < 0 && errno == EINTR)
                ;
        }
        ssize_t w = write(fds[1], msg, sizeof(msg));
        (void)w;
        _exit(0);
    }
    close(fds[1]);
    while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
        ;
    int msg[2] = {-1, 0};
    ssize_t n = read(fds[0], msg, sizeof(msg));
    close(fds[0]);
    if (n != (ssize_t)sizeof(msg) || msg[0] <= 0)
        return err_set(DD_EXIT_FAIL, "could not start \"%s\" in the background", o->argv[0]);
    if (msg[1] != 0) {
        errno = msg[1];
        return err_errno("could not execute \"%s\"", p->path);
    }
    r->pid = (pid_t)msg[0];
    return true;
}

bool exec_run(const ExecOpts *o, ExecResult *r)
{
    memset(r, 0, sizeof(*r));
    ExecPrep p;
    bool ok = exec_prep(o, &p) && (p.parent = getpid(), true) &&
              (o->detach ? exec_detached(o, &p, r) : exec_attached(o, &p, r));
    exec_prep_free(&p);
    return ok;
}

bool exec_check(const ExecOpts *o, DdExit fail, const char *doing, ExecResult *r)
{
    if (!exec_run(o, r))
        return false;
    if (r->status == 0)
        return true;
    const char *name = strrchr(o->argv[0], '/') ? strrchr(o->argv[0], '/') + 1 : o->argv[0];
    return err_set(fail, "%s failed (%s exited with status %d): %s", doing, name, r->status,
                   r->tail[0] ? r->tail : "no output");
}
