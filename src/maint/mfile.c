/*
 * mfile.c - the table of every maintenance-file key, and its validation.
 *
 * The format is described in mfile.h. Rules, as in config/config.c:
 *  1. Every key lives in exactly one row of mfile_keys[]; nothing else in
 *     drydock reads a maintenance file.
 *  2. A key appears at most once, except the [change] keys, which repeat and
 *     keep their order; one setting set twice, or data-checksums given twice,
 *     is an error (which one would win is not obvious to the reader).
 *  3. Errors name the file, the line and the key, say what was expected and
 *     carry a hint; all are DD_EXIT_CONFIG. The first error wins.
 *  4. The window start is a local time with an explicit IANA zone
 *     ("2026-12-05 22:00 Europe/Paris"), converted to UTC with that zone's
 *     rules (TZ + tzset + mktime); a local time that does not exist (a DST
 *     gap) is refused rather than moved.
 *  5. Durations take a unit: s, min, h or d ("90s", "1.5h"); pause-timeout
 *     also takes bare seconds, as [proxy] pause-timeout does.
 *
 * Lines are counted by our own reader, since inih's handler is not given
 * the line number: the handler runs right after the reader returned its line.
 * A line longer than inih's buffer would be cut in two; it is refused.
 */
#include "maint/mfile.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/mem.h"

typedef enum {
    MKEY_STRING,   /* any non-empty text */
    MKEY_PATH,     /* an absolute path */
    MKEY_PORT,     /* 1..65535 */
    MKEY_DURATION, /* a number with a unit */
    MKEY_SECONDS,  /* whole seconds, bare or with a unit (pause-timeout) */
    MKEY_WINDOW,   /* "YYYY-MM-DD HH:MM[:SS] Zone/Name" */
    MKEY_BYTES,    /* a size with a unit: kB, MB, GB, TB */
    MKEY_CHANGE,   /* repeatable [change] key; type in change */
} MKeyType;

typedef struct {
    const char *section;
    const char *key;
    MKeyType type;
    size_t offset;
    MaintChangeType change;
} MKey;

#define MK(s, k, t, f)                                                                             \
    {                                                                                              \
        s, k, t, offsetof(MaintFile, f), 0                                                         \
    }
#define MCHG(k, c)                                                                                 \
    {                                                                                              \
        "change", k, MKEY_CHANGE, 0, c                                                             \
    }

static const MKey mfile_keys[] = {
    MK("maintenance", "title", MKEY_STRING, title),
    MK("maintenance", "description", MKEY_STRING, description),
    MK("maintenance", "window-start", MKEY_WINDOW, window_start),
    MK("maintenance", "window-length", MKEY_DURATION, window_length),
    MK("maintenance", "pause-timeout", MKEY_SECONDS, pause_timeout),
    MK("maintenance", "keep-old-primary", MKEY_DURATION, keep_old_primary),
    MK("maintenance", "standby-lag-limit", MKEY_BYTES, standby_lag_limit),
    MK("maintenance", "text-scheduled", MKEY_STRING, text_scheduled),
    MK("maintenance", "text-in-progress", MKEY_STRING, text_in_progress),
    MK("maintenance", "text-verifying", MKEY_STRING, text_verifying),
    MK("maintenance", "text-completed", MKEY_STRING, text_completed),

    MK("green", "data", MKEY_PATH, green_data),
    MK("green", "port", MKEY_PORT, green_port),
    MK("green", "standby-data", MKEY_PATH, green_standby_data),
    MK("green", "standby-port", MKEY_PORT, green_standby_port),
    MK("green", "tablespace-map", MKEY_STRING, tablespace_map),

    MCHG("set", MCHANGE_SET),
    MCHG("file", MCHANGE_FILE),
    MCHG("data-checksums", MCHANGE_CHECKSUMS),
    MCHG("sql-after", MCHANGE_SQL_AFTER),
};
#define N_MKEYS (sizeof(mfile_keys) / sizeof(mfile_keys[0]))

typedef struct {
    MaintFile *mf;
    const char *name;
    bool seen[N_MKEYS];
    int line; /* the line the reader returned last */
    int error_line;
    char error[768];
    char hint[256];
    /* reader state */
    const char *text; /* string input */
    FILE *file;       /* or file input */
    bool at_line_start;
    bool continuation; /* the last line read is indented: inih continues the previous key */
} MParse;

static const char *const sections[] = {"maintenance", "green", "change"};

/* ---- values ------------------------------------------------------------- */

/* "90s", "30min", "1.5h", "7d" (bare seconds when allow_bare) into *out seconds. */
static bool parse_duration(const char *v, bool allow_bare, double *out)
{
    static const struct {
        const char *unit;
        double secs;
    } units[] = {{"s", 1}, {"min", 60}, {"h", 3600}, {"d", 86400}};
    char *end = NULL;
    errno = 0;
    double n = strtod(v, &end);
    if (errno || end == v || !isdigit((unsigned char)v[0]) || !isfinite(n))
        return false;
    while (*end == ' ')
        end++;
    if (*end == '\0') {
        *out = n;
        return allow_bare;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(end, units[i].unit) == 0) {
            *out = n * units[i].secs;
            return *out <= 366.0 * 86400;
        }
    return false;
}

/* "64MB" into bytes (units as PostgreSQL's: kB, MB, GB, TB, powers of 1024). */
static bool parse_bytes(const char *v, uint64_t *out, char *why, size_t len)
{
    static const struct {
        const char *unit;
        double bytes;
    } units[] = {{"kB", 1024.0}, {"MB", 1048576.0}, {"GB", 1073741824.0}, {"TB", 1099511627776.0}};
    char *end = NULL;
    errno = 0;
    double n = strtod(v, &end);
    if (!errno && end != v && isdigit((unsigned char)v[0]) && isfinite(n)) {
        while (*end == ' ')
            end++;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strcmp(end, units[i].unit) == 0 && n * units[i].bytes >= 1 &&
                n * units[i].bytes < 1e18) {
                *out = (uint64_t)(n * units[i].bytes);
                return true;
            }
    }
    snprintf(why, len, "expected a size such as 512kB, 64MB or 2GB, got \"%s\"", v);
    return false;
}

/* A zone name that is a file under /usr/share/zoneinfo, without ".." or a leading '/'. */
static bool zone_known(const char *zone)
{
    if (!zone[0] || zone[0] == '/' || strstr(zone, ".."))
        return false;
    for (const char *p = zone; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
            return false;
    char path[512];
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * Local time tm in zone to seconds since the epoch, with the zone's rules:
 * TZ is switched for the call and restored. false for a time that the zone
 * skips (mktime would move it).
 */
static bool zone_mktime(const char *zone, struct tm *tm, double *out)
{
    char *saved = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
    setenv("TZ", zone, 1);
    tzset();
    struct tm want = *tm;
    tm->tm_isdst = -1;
    time_t t = mktime(tm);
    bool ok = t != (time_t)-1 && tm->tm_hour == want.tm_hour && tm->tm_min == want.tm_min &&
              tm->tm_mday == want.tm_mday;
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else
        unsetenv("TZ");
    tzset();
    *out = (double)t;
    return ok;
}

static bool parse_window(MParse *st, const char *v, char *why, size_t len)
{
    int y, mo, d, h, mi, s = 0, n = 0;
    char zone[128];
    if (sscanf(v, "%4d-%2d-%2d %2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5 || n == 0)
        goto bad;
    const char *rest = v + n;
    if (rest[0] == ':') {
        int n2 = 0;
        if (sscanf(rest, ":%2d%n", &s, &n2) != 1)
            goto bad;
        rest += n2;
    }
    if (rest[0] != ' ')
        goto bad;
    while (*rest == ' ')
        rest++;
    if (!rest[0] || strlen(rest) >= sizeof(zone) || strchr(rest, ' '))
        goto bad;
    strcpy(zone, rest);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || y < 1970)
        goto bad;
    if (!zone_known(zone)) {
        snprintf(why, len, "unknown time zone \"%s\"", zone);
        snprintf(st->hint, sizeof(st->hint),
                 "use an IANA zone name as in /usr/share/zoneinfo, e.g. Europe/Paris or UTC");
        return false;
    }
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    if (!zone_mktime(zone, &tm, &st->mf->window_start)) {
        snprintf(why, len, "%04d-%02d-%02d %02d:%02d does not exist in %s", y, mo, d, h, mi, zone);
        snprintf(st->hint, sizeof(st->hint),
                 "the clocks skip that time (daylight saving): pick "
                 "another start");
        return false;
    }
    free(st->mf->window_zone);
    st->mf->window_zone = xstrdup(zone);
    return true;
bad:
    snprintf(why, len, "expected \"YYYY-MM-DD HH:MM Zone/Name\", got \"%s\"", v);
    snprintf(st->hint, sizeof(st->hint),
             "give the local time and its IANA zone, e.g. \"2026-12-05 22:00 Europe/Paris\"");
    return false;
}

static bool set_field(MParse *st, const MKey *k, const char *v, char *why, size_t len)
{
    void *field = (char *)st->mf + k->offset;
    switch (k->type) {
    case MKEY_STRING:
    case MKEY_PATH:
        if (!v[0]) {
            snprintf(why, len, "expected a non-empty value");
            return false;
        }
        if (k->type == MKEY_PATH && v[0] != '/') {
            snprintf(why, len, "expected an absolute path, got \"%s\"", v);
            return false;
        }
        free(*(char **)field);
        *(char **)field = xstrdup(v);
        return true;
    case MKEY_PORT: {
        char *end = NULL;
        errno = 0;
        long p = strtol(v, &end, 10);
        if (errno || end == v || *end || p < 1 || p > 65535) {
            snprintf(why, len, "expected a port from 1 to 65535, got \"%s\"", v);
            return false;
        }
        *(int *)field = (int)p;
        return true;
    }
    case MKEY_DURATION:
    case MKEY_SECONDS: {
        double secs;
        bool bare = k->type == MKEY_SECONDS;
        if (!parse_duration(v, bare, &secs) || secs <= 0 ||
            (bare && (secs != floor(secs) || secs > 86400))) {
            snprintf(why, len, "expected a duration such as 90s, 30min, 2h or 7d%s, got \"%s\"",
                     bare ? " (whole seconds, at most 1d)" : " (at most 366d)", v);
            return false;
        }
        if (bare)
            *(int *)field = (int)secs;
        else
            *(double *)field = secs;
        return true;
    }
    case MKEY_WINDOW:
        return parse_window(st, v, why, len);
    case MKEY_BYTES:
        return parse_bytes(v, (uint64_t *)field, why, len);
    case MKEY_CHANGE:
        break;
    }
    return false;
}

/* ---- [change] ----------------------------------------------------------- */

/* Split "NAME = VALUE": both trimmed and non-empty. */
static bool split_pair(const char *v, char **name, char **value)
{
    const char *eq = strchr(v, '=');
    if (!eq)
        return false;
    const char *ne = eq;
    while (ne > v && isspace((unsigned char)ne[-1]))
        ne--;
    const char *vs = eq + 1;
    while (isspace((unsigned char)*vs))
        vs++;
    if (ne == v || !*vs)
        return false;
    *name = xstrndup(v, (size_t)(ne - v));
    *value = xstrdup(vs);
    return true;
}

/* A setting name as PostgreSQL takes it (custom ones have a dot); lower-cased in place. */
static bool setting_name_ok(char *name)
{
    if (!isalpha((unsigned char)name[0]) && name[0] != '_')
        return false;
    for (char *p = name; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.')
            return false;
    }
    return true;
}

/* A configuration file name relative to the data directory, e.g. "pg_hba.conf", "server.crt". */
static bool file_name_ok(const char *name)
{
    if (!name[0] || name[0] == '/' || strstr(name, ".."))
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-/", *p))
            return false;
    return true;
}

static bool readable_file(const char *path, char *why, size_t len)
{
    struct stat st;
    if (path[0] != '/') {
        snprintf(why, len, "expected an absolute path, got \"%s\"", path);
        return false;
    }
    if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
        snprintf(why, len, "could not read \"%s\": %s", path, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, len, "\"%s\" is not a regular file", path);
        return false;
    }
    return true;
}

static const MaintChange *find_change(const MaintFile *mf, MaintChangeType type, const char *name)
{
    for (size_t i = 0; i < mf->nchanges; i++)
        if (mf->changes[i].type == type && strcmp(mf->changes[i].name, name) == 0)
            return &mf->changes[i];
    return NULL;
}

static bool add_change(MParse *st, MaintChangeType type, const char *v, char *why, size_t len)
{
    char *name = NULL, *value = NULL;
    const char *what = NULL;
    switch (type) {
    case MCHANGE_SET:
        if (!split_pair(v, &name, &value)) {
            snprintf(why, len, "expected \"NAME = VALUE\", got \"%s\"", v);
            snprintf(st->hint, sizeof(st->hint), "e.g. \"set = shared_buffers = 256MB\"");
            goto fail;
        }
        if (!setting_name_ok(name)) {
            snprintf(why, len, "\"%s\" is not a setting name", name);
            goto fail;
        }
        what = "setting";
        break;
    case MCHANGE_FILE:
        if (!split_pair(v, &name, &value)) {
            snprintf(why, len, "expected \"NAME = PATH\", got \"%s\"", v);
            snprintf(st->hint, sizeof(st->hint), "e.g. \"file = pg_hba.conf = /etc/drydock/hba\"");
            goto fail;
        }
        if (!file_name_ok(name)) {
            snprintf(why, len, "\"%s\" is not a file name relative to the data directory", name);
            goto fail;
        }
        if (strcmp(name, "postgresql.conf") == 0 || strcmp(name, "postgresql.auto.conf") == 0) {
            snprintf(why, len, "\"%s\" cannot be replaced", name);
            snprintf(st->hint, sizeof(st->hint),
                     "change settings one by one with \"set = NAME = "
                     "VALUE\"");
            goto fail;
        }
        if (!readable_file(value, why, len))
            goto fail;
        what = "file";
        break;
    case MCHANGE_CHECKSUMS:
        if (strcmp(v, "enable") != 0 && strcmp(v, "disable") != 0) {
            snprintf(why, len, "expected enable or disable, got \"%s\"", v);
            goto fail;
        }
        name = xstrdup("data_checksums");
        value = xstrdup(v);
        what = "data-checksums";
        break;
    case MCHANGE_SQL_AFTER:
        if (!readable_file(v, why, len))
            goto fail;
        name = xstrdup("sql-after");
        value = xstrdup(v);
        break;
    }
    const MaintChange *dup = what ? find_change(st->mf, type, name) : NULL;
    if (dup) {
        snprintf(why, len, "%s \"%s\" is changed twice (also line %d)", what, name, dup->line);
        snprintf(st->hint, sizeof(st->hint), "keep one of the two lines");
        goto fail;
    }
    MaintFile *mf = st->mf;
    mf->changes = xrealloc(mf->changes, (mf->nchanges + 1) * sizeof(*mf->changes));
    mf->changes[mf->nchanges++] =
        (MaintChange){.type = type, .name = name, .value = value, .line = st->line};
    return true;
fail:
    free(name);
    free(value);
    return false;
}

/* ---- the handler and reader ------------------------------------------------ */

static bool section_known(const char *s)
{
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        if (strcmp(sections[i], s) == 0)
            return true;
    return false;
}

static int mfile_fail(MParse *st)
{
    if (!st->error_line)
        st->error_line = st->line ? st->line : 1;
    return 0;
}

/* Append an indented continuation line to a text key; other keys take one line. */
static bool mfile_continue(MParse *st, const MKey *k, const char *value)
{
    if (k->type != MKEY_STRING) {
        snprintf(st->error, sizeof(st->error), "key \"%s\" in [%s] continues on an indented line",
                 k->key, k->section);
        snprintf(st->hint, sizeof(st->hint),
                 "only text keys (title, description, text-*) may continue; unindent the line");
        return false;
    }
    char **field = (char **)((char *)st->mf + k->offset);
    char *joined = xasprintf("%s %s", *field, value);
    free(*field);
    *field = joined;
    return true;
}

static int mfile_handler(void *user, const char *section, const char *key, const char *value)
{
    MParse *st = user;
    if (st->error[0]) /* inih goes on after an error; the first one is the one reported */
        return 0;
    if (!section[0]) {
        snprintf(st->error, sizeof(st->error), "key \"%s\" is outside any section", key);
        snprintf(st->hint, sizeof(st->hint), "put it under [maintenance], [green] or [change]");
        return mfile_fail(st);
    }
    if (!section_known(section)) {
        snprintf(st->error, sizeof(st->error), "unknown section [%s]", section);
        snprintf(st->hint, sizeof(st->hint),
                 "the sections are [maintenance], [green] and [change]");
        return mfile_fail(st);
    }
    for (size_t i = 0; i < N_MKEYS; i++) {
        const MKey *k = &mfile_keys[i];
        if (strcmp(k->section, section) != 0 || strcmp(k->key, key) != 0)
            continue;
        char why[512];
        if (st->continuation) /* an indented line continues the previous key's value */
            return mfile_continue(st, k, value) ? 1 : mfile_fail(st);
        if (k->type != MKEY_CHANGE && st->seen[i]) {
            snprintf(st->error, sizeof(st->error), "key \"%s\" in [%s] is set twice", key, section);
            snprintf(st->hint, sizeof(st->hint), "keep one of the two lines");
            return mfile_fail(st);
        }
        st->seen[i] = true;
        bool ok = k->type == MKEY_CHANGE ? add_change(st, k->change, value, why, sizeof(why))
                                         : set_field(st, k, value, why, sizeof(why));
        if (!ok) {
            snprintf(st->error, sizeof(st->error), "key \"%s\" in [%s]: %s", key, section, why);
            if (!st->hint[0])
                snprintf(st->hint, sizeof(st->hint),
                         "README.md (\"Maintenance files and plans\") describes \"%s\"", key);
            return mfile_fail(st);
        }
        return 1;
    }
    snprintf(st->error, sizeof(st->error), "unknown key \"%s\" in [%s]", key, section);
    snprintf(st->hint, sizeof(st->hint),
             "see \"Maintenance files and plans\" in README.md for the keys");
    return mfile_fail(st);
}

/* inih's reader: one line at a time (or num - 1 bytes of a longer one), counting lines. */
static char *mfile_reader(char *str, int num, void *stream)
{
    MParse *st = stream;
    size_t cap = (size_t)num - 1, n = 0;
    if (st->file) {
        if (!fgets(str, num, st->file))
            return NULL;
        n = strlen(str);
    } else {
        if (!*st->text)
            return NULL;
        while (n < cap && st->text[n] && st->text[n] != '\n')
            n++;
        if (n < cap && st->text[n] == '\n')
            n++;
        memcpy(str, st->text, n);
        str[n] = '\0';
        st->text += n;
    }
    bool eol = n > 0 && str[n - 1] == '\n';
    if (st->at_line_start) {
        size_t sp = strspn(str, " \t");
        st->line++;
        st->continuation = sp > 0 && str[sp] && !strchr(";#\r\n", str[sp]);
    } else if (!st->error[0]) {
        snprintf(st->error, sizeof(st->error), "line longer than %d characters", num - 2);
        snprintf(st->hint, sizeof(st->hint), "continue a text value on the next line, indented");
        mfile_fail(st);
    }
    /* A cut line: at EOF with no newline the next call returns NULL anyway. */
    st->at_line_start = eol || n < cap;
    return str;
}

/* ---- whole-file checks ---------------------------------------------------- */

static bool mfile_check(MParse *st)
{
    const MaintFile *mf = st->mf;
    const char *f = st->name;
    if (!mf->title) {
        err_set(DD_EXIT_CONFIG,
                "maintenance file \"%s\": key \"title\" in [maintenance] is "
                "required",
                f);
        err_hint("add \"title = ...\": it names the maintenance in plans and on the status page");
        return false;
    }
    if (mf->nchanges == 0) {
        err_set(DD_EXIT_CONFIG, "maintenance file \"%s\": no change", f);
        err_hint("add a [change] section with \"set = NAME = VALUE\", \"file = NAME = PATH\", "
                 "\"data-checksums = enable\" or \"sql-after = PATH\"");
        return false;
    }
    if (mf->window_length > 0 && mf->window_start == 0) {
        err_set(DD_EXIT_CONFIG,
                "maintenance file \"%s\": key \"window-length\" in [maintenance] needs "
                "window-start",
                f);
        err_hint("add \"window-start = YYYY-MM-DD HH:MM Zone/Name\"");
        return false;
    }
    if (!mf->green_data != !mf->green_port) {
        err_set(DD_EXIT_CONFIG, "maintenance file \"%s\": [green] needs both data and port", f);
        err_hint("give the new primary's data directory and port together");
        return false;
    }
    if (!mf->green_standby_data != !mf->green_standby_port) {
        err_set(DD_EXIT_CONFIG,
                "maintenance file \"%s\": [green] needs both standby-data and standby-port", f);
        err_hint("give the new standby's data directory and port together, or neither");
        return false;
    }
    if (mf->green_standby_data && !mf->green_data) {
        err_set(DD_EXIT_CONFIG, "maintenance file \"%s\": [green] has a standby but no data", f);
        err_hint("add \"data = DIR\" and \"port = N\" for the new primary");
        return false;
    }
    if (mf->green_standby_port && mf->green_standby_port == mf->green_port) {
        err_set(DD_EXIT_CONFIG,
                "maintenance file \"%s\": [green] port and standby-port are both %d", f,
                mf->green_port);
        err_hint("give the new standby a port of its own");
        return false;
    }
    if (mf->green_standby_data && strcmp(mf->green_standby_data, mf->green_data) == 0) {
        err_set(DD_EXIT_CONFIG,
                "maintenance file \"%s\": [green] data and standby-data are both \"%s\"", f,
                mf->green_data);
        err_hint("give the new standby a directory of its own");
        return false;
    }
    return true;
}

static bool mfile_finish(MParse *st, int rc)
{
    if (rc != 0 || st->error[0]) {
        int line = st->error_line ? st->error_line : rc;
        if (!st->error[0]) {
            snprintf(st->error, sizeof(st->error), "expected \"[section]\" or \"key = value\"");
            snprintf(st->hint, sizeof(st->hint),
                     "a line is a [section], a key = value or a "
                     "; comment");
        }
        err_set(DD_EXIT_CONFIG, "maintenance file \"%s\", line %d: %s", st->name, line, st->error);
        if (st->hint[0])
            err_hint("%s", st->hint);
        mfile_free(st->mf);
        return false;
    }
    if (!mfile_check(st)) {
        mfile_free(st->mf);
        return false;
    }
    return true;
}

bool mfile_parse_string(const char *text, const char *name, MaintFile *out)
{
    memset(out, 0, sizeof(*out));
    out->file = xstrdup(name);
    MParse st = {.mf = out, .name = name, .text = text, .at_line_start = true};
    int rc = ini_parse_stream(mfile_reader, &st, mfile_handler, &st);
    return mfile_finish(&st, rc);
}

bool mfile_load(const char *path, MaintFile *out)
{
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "r");
    if (!f) {
        err_set(DD_EXIT_CONFIG, "could not open maintenance file \"%s\": %s", path,
                strerror(errno));
        err_hint("README.md (\"Maintenance files and plans\") has an example");
        return false;
    }
    out->file = xstrdup(path);
    MParse st = {.mf = out, .name = path, .file = f, .at_line_start = true};
    int rc = ini_parse_stream(mfile_reader, &st, mfile_handler, &st);
    bool read_error = ferror(f) != 0;
    fclose(f);
    if (read_error && rc == 0)
        rc = -1, snprintf(st.error, sizeof(st.error), "could not read the file");
    return mfile_finish(&st, rc);
}

void mfile_free(MaintFile *m)
{
    for (size_t i = 0; i < N_MKEYS; i++) {
        MKeyType t = mfile_keys[i].type;
        if (t == MKEY_STRING || t == MKEY_PATH) {
            char **field = (char **)((char *)m + mfile_keys[i].offset);
            free(*field);
            *field = NULL;
        }
    }
    for (size_t i = 0; i < m->nchanges; i++) {
        free(m->changes[i].name);
        free(m->changes[i].value);
        free(m->changes[i].reason);
        free(m->changes[i].current);
    }
    free(m->changes);
    free(m->window_zone);
    free(m->file);
    memset(m, 0, sizeof(*m));
}

void mfile_window_local(const MaintFile *m, char *out, size_t len)
{
    if (m->window_start <= 0 || !m->window_zone) {
        snprintf(out, len, "none");
        return;
    }
    char *saved = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
    setenv("TZ", m->window_zone, 1);
    tzset();
    time_t t = (time_t)m->window_start;
    struct tm local, utc;
    localtime_r(&t, &local);
    gmtime_r(&t, &utc);
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else
        unsetenv("TZ");
    tzset();
    snprintf(out, len, "%04d-%02d-%02d %02d:%02d %s (%04d-%02d-%02d %02d:%02d UTC)",
             local.tm_year + 1900, local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min,
             m->window_zone, utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
             utc.tm_min);
}

const char *mfile_kind_name(MaintChangeKind k)
{
    static const char *const names[] = {
        [MKIND_UNKNOWN] = "unknown",         [MKIND_RELOAD] = "reload",
        [MKIND_RESTART] = "restart",         [MKIND_OFFLINE] = "offline",
        [MKIND_POST_SWITCH] = "post-switch", [MKIND_IMPOSSIBLE] = "impossible",
    };
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

const char *mfile_change_type_name(MaintChangeType t)
{
    static const char *const names[] = {[MCHANGE_SET] = "set",
                                        [MCHANGE_FILE] = "file",
                                        [MCHANGE_CHECKSUMS] = "data-checksums",
                                        [MCHANGE_SQL_AFTER] = "sql-after"};
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}
