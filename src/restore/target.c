/*
 * target.c - see target.h.
 */
#include "restore/target.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"

/* The option that sets each kind, for messages. */
static const char *const kind_option[] = {
    [TARGET_END] = "",
    [TARGET_TIME] = "--target-time",
    [TARGET_LSN] = "--target-lsn",
    [TARGET_XID] = "--target-xid",
    [TARGET_NAME] = "--target-name",
    [TARGET_IMMEDIATE] = "--target immediate",
};

static const char *const action_name[] = {
    [TARGET_ACTION_PROMOTE] = "promote",
    [TARGET_ACTION_PAUSE] = "pause",
    [TARGET_ACTION_SHUTDOWN] = "shutdown",
};

bool target_parse_lsn(const char *s, uint64_t *lsn)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || slash - s > 8 || slash[1] == '\0' || strlen(slash + 1) > 8)
        return false;
    for (const char *p = s; *p; p++)
        if (p != slash && !isxdigit((unsigned char)*p))
            return false;
    uint64_t hi = strtoull(s, NULL, 16);
    uint64_t lo = strtoull(slash + 1, NULL, 16);
    *lsn = (hi << 32) | lo;
    return true;
}

void target_format_lsn(uint64_t lsn, char *out, size_t len)
{
    snprintf(out, len, "%X/%X", (unsigned)(lsn >> 32), (unsigned)(lsn & 0xFFFFFFFFu));
}

static bool parse_xid(const char *s, uint32_t *xid)
{
    if (!isdigit((unsigned char)s[0]) || strlen(s) > 10)
        return false;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    /* 0, 1 and 2 are the invalid, bootstrap and frozen ids: no commit carries them. */
    if (errno != 0 || v < 3 || v > UINT32_MAX)
        return false;
    *xid = (uint32_t)v;
    return true;
}

static bool name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TARGET_NAME_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (iscntrl((unsigned char)*p))
            return false;
    return true;
}

static bool set_kind(RecoveryTarget *t, TargetKind kind)
{
    if (t->kind != TARGET_END && t->kind != kind)
        return err_set(DD_EXIT_USAGE, "only one recovery target may be given, got %s and %s",
                       kind_option[t->kind], kind_option[kind]);
    if (t->kind == kind)
        return err_set(DD_EXIT_USAGE, "%s was given twice", kind_option[kind]);
    t->kind = kind;
    return true;
}

static bool target_value(RecoveryTarget *t, const char *option, const char *v)
{
    if (strcmp(option, "target-time") == 0) {
        if (!time_parse(v, &t->time))
            return err_set(DD_EXIT_USAGE,
                           "invalid --target-time \"%s\": expected \"YYYY-MM-DD HH:MM:SS[.ffffff]"
                           "[+HH[:MM]]\" (no zone means UTC)",
                           v);
        return set_kind(t, TARGET_TIME);
    }
    if (strcmp(option, "target-lsn") == 0) {
        if (!target_parse_lsn(v, &t->lsn))
            return err_set(DD_EXIT_USAGE,
                           "invalid --target-lsn \"%s\": expected an LSN such as \"0/3000028\"", v);
        return set_kind(t, TARGET_LSN);
    }
    if (strcmp(option, "target-xid") == 0) {
        if (!parse_xid(v, &t->xid))
            return err_set(DD_EXIT_USAGE,
                           "invalid --target-xid \"%s\": expected a transaction id from 3 to "
                           "4294967295",
                           v);
        return set_kind(t, TARGET_XID);
    }
    if (strcmp(option, "target-name") == 0) {
        if (!name_valid(v))
            return err_set(DD_EXIT_USAGE,
                           "invalid --target-name \"%s\": expected a restore point name of 1 to "
                           "%d printable bytes",
                           v, TARGET_NAME_MAX);
        snprintf(t->name, sizeof(t->name), "%s", v);
        return set_kind(t, TARGET_NAME);
    }
    if (strcmp(option, "target") == 0) {
        if (strcmp(v, "immediate") != 0)
            return err_set(DD_EXIT_USAGE,
                           "invalid --target \"%s\": the only value is \"immediate\"", v);
        return set_kind(t, TARGET_IMMEDIATE);
    }
    if (strcmp(option, "target-action") == 0) {
        for (size_t i = 0; i < sizeof(action_name) / sizeof(action_name[0]); i++) {
            if (strcmp(v, action_name[i]) == 0) {
                t->action = (TargetAction)i;
                t->action_set = true;
                return true;
            }
        }
        return err_set(DD_EXIT_USAGE,
                       "invalid --target-action \"%s\": expected promote, pause or shutdown", v);
    }
    return err_set(DD_EXIT_USAGE, "unknown target option \"--%s\"", option);
}

bool target_option(RecoveryTarget *t, const char *option, const char *value)
{
    if (strcmp(option, "target-exclusive") == 0) {
        t->exclusive = true;
        return true;
    }
    if (!value)
        return err_set(DD_EXIT_USAGE, "option --%s needs a value", option);
    return target_value(t, option, value);
}

bool target_validate(const RecoveryTarget *t)
{
    if (t->action_set && t->kind == TARGET_END)
        return err_set(DD_EXIT_USAGE, "--target-action needs a recovery target (--target-time, "
                                      "--target-lsn, --target-xid, --target-name or --target "
                                      "immediate)");
    if (t->exclusive && t->kind != TARGET_TIME && t->kind != TARGET_LSN && t->kind != TARGET_XID)
        return err_set(DD_EXIT_USAGE, "--target-exclusive applies only to --target-time, "
                                      "--target-lsn and --target-xid");
    return true;
}

void target_describe(const RecoveryTarget *t, char *out, size_t len)
{
    char v[64];
    switch (t->kind) {
    case TARGET_END:
        snprintf(out, len, "end of the archive");
        break;
    case TARGET_TIME:
        time_format(t->time, v, sizeof(v));
        snprintf(out, len, "time %s", v);
        break;
    case TARGET_LSN:
        target_format_lsn(t->lsn, v, sizeof(v));
        snprintf(out, len, "LSN %s", v);
        break;
    case TARGET_XID:
        snprintf(out, len, "transaction %" PRIu32, t->xid);
        break;
    case TARGET_NAME:
        snprintf(out, len, "restore point \"%s\"", t->name);
        break;
    case TARGET_IMMEDIATE:
        snprintf(out, len, "the end of the backup (immediate)");
        break;
    }
}

void target_conf_setting(Buf *out, const char *name, const char *value)
{
    buf_printf(out, "%s = '", name);
    for (const char *p = value; *p; p++) {
        if (*p == '\'')
            buf_append_str(out, "''");
        else if (*p == '\\')
            buf_append_str(out, "\\\\");
        else
            buf_append(out, p, 1);
    }
    buf_append_str(out, "'\n");
}

/* Full precision for the time: time_format() keeps milliseconds only. */
static void format_time_us(double epoch, char *out, size_t len)
{
    char base[64];
    double secs = (double)(int64_t)epoch;
    if (secs > epoch)
        secs -= 1;
    time_format(secs, base, sizeof(base));
    char *dot = strchr(base, '.');
    if (dot)
        *dot = '\0';
    long us = (long)((epoch - secs) * 1e6 + 0.5);
    if (us >= 1000000)
        us = 999999;
    snprintf(out, len, "%s.%06ld+00", base, us);
}

void target_render(const RecoveryTarget *t, TargetTimeline timeline, Buf *out)
{
    char v[64];
    switch (t->kind) {
    case TARGET_END:
        break;
    case TARGET_TIME:
        format_time_us(t->time, v, sizeof(v));
        target_conf_setting(out, "recovery_target_time", v);
        break;
    case TARGET_LSN:
        target_format_lsn(t->lsn, v, sizeof(v));
        target_conf_setting(out, "recovery_target_lsn", v);
        break;
    case TARGET_XID:
        snprintf(v, sizeof(v), "%" PRIu32, t->xid);
        target_conf_setting(out, "recovery_target_xid", v);
        break;
    case TARGET_NAME:
        target_conf_setting(out, "recovery_target_name", t->name);
        break;
    case TARGET_IMMEDIATE:
        target_conf_setting(out, "recovery_target", "immediate");
        break;
    }
    if (t->kind == TARGET_TIME || t->kind == TARGET_LSN || t->kind == TARGET_XID)
        target_conf_setting(out, "recovery_target_inclusive", t->exclusive ? "off" : "on");
    if (t->kind != TARGET_END)
        target_conf_setting(out, "recovery_target_action", action_name[t->action]);
    target_conf_setting(out, "recovery_target_timeline",
                        timeline == TARGET_TIMELINE_CURRENT ? "current" : "latest");
}
