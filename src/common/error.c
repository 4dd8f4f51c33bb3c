/*
 * error.c - per-thread error slot; see error.h.
 */
#include "common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char err_msg[ERR_MSG_MAX];
static _Thread_local char err_hint_buf[ERR_HINT_MAX];
static _Thread_local DdExit err_exit = DD_EXIT_OK;

bool err_set(DdExit code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
    va_end(ap);
    err_hint_buf[0] = '\0';
    err_exit = code == DD_EXIT_OK ? DD_EXIT_FAIL : code;
    return false;
}

bool err_errno(const char *fmt, ...)
{
    int saved = errno;
    char head[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof(head), fmt, ap);
    va_end(ap);
    snprintf(err_msg, sizeof(err_msg), "%s: %s", head, strerror(saved));
    err_hint_buf[0] = '\0';
    err_exit = DD_EXIT_IO;
    /* Say what to do about the errors an operator can fix. */
    if (saved == ENOSPC || saved == EDQUOT)
        err_hint("free space on that file system, or move the repository");
    else if (saved == EACCES || saved == EPERM || saved == EROFS)
        err_hint("check the ownership and mode of that path; drydock runs as \"%s\"",
                 getenv("USER") ? getenv("USER") : "this user");
    errno = saved;
    return false;
}

void err_hint(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_hint_buf, sizeof(err_hint_buf), fmt, ap);
    va_end(ap);
}

bool err_context(const char *fmt, ...)
{
    char head[ERR_MSG_MAX];
    char old[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof(head), fmt, ap);
    va_end(ap);
    memcpy(old, err_msg, sizeof(old));
    snprintf(err_msg, sizeof(err_msg), "%s: %s", head, old);
    return false;
}

const char *err_message(void)
{
    return err_msg;
}

const char *err_hint_text(void)
{
    return err_hint_buf;
}

DdExit err_code(void)
{
    return err_exit;
}

void err_clear(void)
{
    err_msg[0] = '\0';
    err_hint_buf[0] = '\0';
    err_exit = DD_EXIT_OK;
}

ErrSaved err_save(void)
{
    ErrSaved s = {.code = err_exit};
    memcpy(s.message, err_msg, sizeof(s.message));
    memcpy(s.hint, err_hint_buf, sizeof(s.hint));
    return s;
}

bool err_restore(const ErrSaved *saved)
{
    memcpy(err_msg, saved->message, sizeof(err_msg));
    memcpy(err_hint_buf, saved->hint, sizeof(err_hint_buf));
    err_exit = saved->code;
    return false;
}
