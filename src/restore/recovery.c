/*
 * recovery.c - see recovery.h.
 */
#include "restore/recovery.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/timeutil.h"
#include "common/fsutil.h"

#define AUTO_CONF "postgresql.auto.conf"

/* The length of the parameter name at the start of "name=value", 0 if it is not one. */
static size_t name_len(const char *s)
{
    size_t i = 0;
    for (;;) {
        if (!(isalpha((unsigned char)s[i]) || s[i] == '_'))
            return 0;
        i++;
        while (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '$')
            i++;
        if (s[i] != '.')
            return i;
        i++; /* a custom parameter: extension.name */
    }
}

bool recovery_set_check(const char *arg)
{
    size_t n = name_len(arg);
    if (n == 0 || arg[n] != '=')
        return err_set(DD_EXIT_USAGE,
                       "invalid --set \"%s\": expected NAME=VALUE with a parameter name such as "
                       "work_mem=64MB",
                       arg);
    if (strpbrk(arg + n + 1, "\r\n"))
        return err_set(DD_EXIT_USAGE, "invalid --set \"%.*s\": the value must be one line", (int)n,
                       arg);
    return true;
}

/* Whether a --set names this parameter (case-insensitive, as PostgreSQL's are). */
static bool set_names(const StrList *sets, const char *name, size_t len)
{
    for (size_t i = 0; sets && i < sets->len; i++) {
        const char *s = sets->items[i];
        if (name_len(s) == len && strncasecmp(s, name, len) == 0)
            return true;
    }
    return false;
}

static void setting(Buf *out, const RecoveryOpts *o, const char *name, const char *value)
{
    if (!set_names(o->sets, name, strlen(name)))
        target_conf_setting(out, name, value);
}

/* Quote a path for the shell that runs restore_command, when it needs it. */
static void shell_word(Buf *out, const char *s)
{
    if (s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+-=:,@")] ==
        '\0') {
        buf_append_str(out, s);
        return;
    }
    buf_append_str(out, "'");
    for (const char *p = s; *p; p++)
        buf_append_str(out, *p == '\'' ? "'\\''" : (char[]){*p, '\0'});
    buf_append_str(out, "'");
}

void recovery_render(const RecoveryOpts *o, Buf *out)
{
    char now[64];
    time_format(time_wall(), now, sizeof(now));
    buf_printf(out, "# Added by drydock restore at %s (%s).\n", now,
               o->standby_of ? "streaming standby" : "point-in-time recovery");
    Buf cmd = {0};
    shell_word(&cmd, o->drydock_path);
    buf_append_str(&cmd, " --config ");
    shell_word(&cmd, o->config_path);
    size_t base = cmd.len;
    buf_append_str(&cmd, " wal-fetch %f %p");
    buf_append(&cmd, "", 1);
    setting(out, o, "restore_command", (char *)cmd.data);
    /* At the end of recovery (a PITR's end, a standby's promotion): drop the spool. */
    cmd.len = base;
    buf_append_str(&cmd, " wal-fetch --cleanup");
    buf_append(&cmd, "", 1);
    setting(out, o, "recovery_end_command", (char *)cmd.data);
    buf_free(&cmd);
    if (o->standby_of) {
        setting(out, o, "primary_conninfo", o->standby_of);
        setting(out, o, "recovery_target_timeline", "latest");
    } else {
        Buf t = {0};
        target_render(o->target, o->timeline, &t);
        buf_append(&t, "", 1);
        /* Line by line, so that a --set of a recovery_target_* wins alone. */
        for (char *line = (char *)t.data, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
            size_t n = name_len(line);
            if (!set_names(o->sets, line, n))
                buf_append(out, line, (size_t)(nl - line) + 1);
        }
        buf_free(&t);
        setting(out, o, "archive_mode", "off");
    }
    if (o->port > 0) {
        char port[16];
        snprintf(port, sizeof(port), "%d", o->port);
        setting(out, o, "port", port);
    }
    for (size_t i = 0; o->sets && i < o->sets->len; i++) {
        const char *s = o->sets->items[i];
        size_t n = name_len(s);
        char *name = xstrndup(s, n);
        target_conf_setting(out, name, s + n + 1);
        free(name);
    }
}

/* Whether a line of the old file sets something the new block replaces (rule 2). */
static bool line_replaced(const char *line, size_t len, const Buf *block)
{
    while (len > 0 && isspace((unsigned char)*line)) {
        line++;
        len--;
    }
    size_t n = name_len(line);
    if (n == 0 || n > len)
        return false;
    static const char *const always[] = {
        "primary_conninfo",       "primary_slot_name",       "restore_command",
        "recovery_target",        "recovery_target_time",    "recovery_target_lsn",
        "recovery_target_xid",    "recovery_target_name",    "recovery_target_inclusive",
        "recovery_target_action", "recovery_target_timeline"};
    for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
        if (strlen(always[i]) == n && strncasecmp(line, always[i], n) == 0)
            return true;
    /* Anything the block sets: look for "\nname = " in it. */
    const char *b = (const char *)block->data;
    for (const char *p = b; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncasecmp(p, line, n) == 0 && p[n] == ' ' && p[n + 1] == '=')
            return true;
    return false;
}

bool recovery_write(const char *datadir, const RecoveryOpts *o)
{
    char *path = xasprintf("%s/%s", datadir, AUTO_CONF);
    Buf old = {0}, block = {0}, out = {0};
    bool found = false;
    bool ok = fs_read_file(path, &old, &found);
    recovery_render(o, &block);
    buf_append(&block, "", 1);
    for (size_t i = 0; ok && i < old.len;) {
        const char *line = (const char *)old.data + i;
        const char *nl = memchr(line, '\n', old.len - i);
        size_t len = nl ? (size_t)(nl - line) + 1 : old.len - i;
        if (!line_replaced(line, len, &block)) {
            buf_append(&out, line, len);
            if (!nl)
                buf_append_str(&out, "\n");
        }
        i += len;
    }
    if (!found)
        buf_append_str(&out, "# Do not edit this file manually!\n"
                             "# It will be overwritten by the ALTER SYSTEM command.\n");
    buf_append(&out, block.data, block.len - 1);
    if (ok)
        ok = fs_write_file(path, out.data, out.len, 0600);
    char *signal =
        xasprintf("%s/%s", datadir, o->standby_of ? "standby.signal" : "recovery.signal");
    char *other = xasprintf("%s/%s", datadir, o->standby_of ? "recovery.signal" : "standby.signal");
    if (ok)
        ok = fs_remove(other) && fs_write_file(signal, "", 0, 0600);
    free(signal);
    free(other);
    free(path);
    buf_free(&old);
    buf_free(&block);
    buf_free(&out);
    return ok;
}
