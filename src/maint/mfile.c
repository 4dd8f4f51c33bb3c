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
 *  6. The syntax is the configuration's (config/inifile.h), with inih's
 *     multi-line values: an indented line continues the text key above it.
 *     A line holds at most MFILE_MAX_LINE bytes (the limit inih's buffer set
 *     when this file was read with inih); a longer one is refused, with a
 *     hint to continue it on an indented line.
 */
#include "maint/mfile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/mem.h"
#include "config/inifile.h"

#define MFILE_MAX_LINE 198

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
    int line; /* the line being read */
    char error[768];
    char hint[256];
} MParse;

static const char *const sections[] = {"maintenance", "green", "change"};

/* ---- values ------------------------------------------------------------- */

typedef struct {
    const char *unit;
    double scale;
} MUnit;

/*
 * A decimal number, blanks, then one of units: *out is the number times the
 * unit's scale. 1 when a unit matched, 0 for a bare number (*out is the
 * number), -1 for anything else.
 */
static int parse_number_unit(const char *v, const MUnit *units, size_t n, double *out)
{
    char *end = NULL;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || !isdigit((unsigned char)v[0]) || !isfinite(x))
        return -1;
    while (*end == ' ')
        end++;
    *out = x;
    if (*end == '\0')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(end, units[i].unit) == 0) {
            *out = x * units[i].scale;
            return 1;
        }
    return -1;
}

/* "90s", "30min", "1.5h", "7d" (bare seconds when allow_bare) into *out seconds. */
static bool parse_duration(const char *v, bool allow_bare, double *out)
{
    static const MUnit units[] = {{"s", 1}, {"min", 60}, {"h", 3600}, {"d", 86400}};
    int r = parse_number_unit(v, units, sizeof(units) / sizeof(units[0]), out);
    return r == 0 ? allow_bare : r == 1 && *out <= 366.0 * 86400;
}

/* "64MB" into bytes (units as PostgreSQL's: kB, MB, GB, TB, powers of 1024). */
static bool parse_bytes(const char *v, uint64_t *out, char *why, size_t len)
{
    static const MUnit units[] = {
        {"kB", 1024.0}, {"MB", 1048576.0}, {"GB", 1073741824.0}, {"TB", 1099511627776.0}};
    double b;
    if (parse_number_unit(v, units, sizeof(units) / sizeof(units[0]), &b) == 1 && b >= 1 &&
        b < 1e18) {
        *out = (uint64_t)b;
        return true;
    }
    snprintf(why, len, "expected a size such as 512kB, 64MB or 2GB, got \"%s\"", v);
    return false;
}

/*
 * A name of letters, digits and the bytes of extra, neither absolute nor
 * with "..": it cannot lead out of the directory it is looked up in.
 */
static bool relative_name_ok(const char *name, const char *extra)
{
    if (!name[0] || name[0] == '/' || strstr(name, ".."))
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(extra, *p))
            return false;
    return true;
}

/* A zone name that is a file under /usr/share/zoneinfo. */
static bool zone_known(const char *zone)
{
    if (!relative_name_ok(zone, "/_-+"))
        return false;
    char path[512];
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Switch the process to zone (TZ, tzset); zone_leave() puts back what zone_enter() returns. */
static char *zone_enter(const char *zone)
{
    char *saved = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
    setenv("TZ", zone, 1);
    tzset();
    return saved;
}

static void zone_leave(char *saved)
{
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else
        unsetenv("TZ");
    tzset();
}

/*
 * Local time tm in zone to seconds since the epoch, with the zone's rules:
 * TZ is switched for the call and restored. false for a time that the zone
 * skips (mktime would move it).
 */
static bool zone_mktime(const char *zone, struct tm *tm, double *out)
{
    char *saved = zone_enter(zone);
    struct tm want = *tm;
    tm->tm_isdst = -1;
    time_t t = mktime(tm);
    bool ok = t != (time_t)-1 && tm->tm_hour == want.tm_hour && tm->tm_min == want.tm_min &&
              tm->tm_mday == want.tm_mday;
    zone_leave(saved);
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
static bool setting_name_check(MParse *st, char *name, char *why, size_t len)
{
    (void)st;
    bool ok = isalpha((unsigned char)name[0]) || name[0] == '_';
    for (char *p = name; ok && *p; p++) {
        *p = (char)tolower((unsigned char)*p);
        ok = isalnum((unsigned char)*p) || *p == '_' || *p == '.';
    }
    if (!ok)
        snprintf(why, len, "\"%s\" is not a setting name", name);
    return ok;
}

/* A configuration file relative to the data directory ("pg_hba.conf", "server.crt"). */
static bool file_name_check(MParse *st, char *name, char *why, size_t len)
{
    if (!relative_name_ok(name, "._-/")) {
        snprintf(why, len, "\"%s\" is not a file name relative to the data directory", name);
        return false;
    }
    if (strcmp(name, "postgresql.conf") == 0 || strcmp(name, "postgresql.auto.conf") == 0) {
        snprintf(why, len, "\"%s\" cannot be replaced", name);
        snprintf(st->hint, sizeof(st->hint),
                 "change settings one by one with \"set = NAME = VALUE\"");
        return false;
    }
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

static bool enable_disable(const char *v, char *why, size_t len)
{
    if (strcmp(v, "enable") == 0 || strcmp(v, "disable") == 0)
        return true;
    snprintf(why, len, "expected enable or disable, got \"%s\"", v);
    return false;
}

/*
 * How each [change] key's value is read, in this order: split as
 * "NAME = VALUE" when form is set (else the name is fixed_name and the
 * value is the whole value), the name checked, the value checked, and a
 * change whose type and name were already given refused when what names it.
 */
typedef struct {
    const char *form;       /* "NAME = VALUE"; NULL: one value */
    const char *example;    /* the hint when the form is wrong */
    const char *fixed_name; /* the name of a one-value change */
    bool (*name_ok)(MParse *st, char *name, char *why, size_t len); /* NULL: any */
    bool (*value_ok)(const char *value, char *why, size_t len);     /* NULL: any */
    const char *what; /* "setting": named in "changed twice"; NULL: may repeat */
} ChangeRule;

static const ChangeRule change_rules[] = {
    [MCHANGE_SET] = {"NAME = VALUE", "e.g. \"set = shared_buffers = 256MB\"", NULL,
                     setting_name_check, NULL, "setting"},
    [MCHANGE_FILE] = {"NAME = PATH", "e.g. \"file = pg_hba.conf = /etc/drydock/hba\"", NULL,
                      file_name_check, readable_file, "file"},
    [MCHANGE_CHECKSUMS] = {NULL, NULL, "data_checksums", NULL, enable_disable, "data-checksums"},
    [MCHANGE_SQL_AFTER] = {NULL, NULL, "sql-after", NULL, readable_file, NULL},
};

static const MaintChange *find_change(const MaintFile *mf, MaintChangeType type, const char *name)
{
    for (size_t i = 0; i < mf->nchanges; i++)
        if (mf->changes[i].type == type && strcmp(mf->changes[i].name, name) == 0)
            return &mf->changes[i];
    return NULL;
}

static bool add_change(MParse *st, MaintChangeType type, const char *v, char *why, size_t len)
{
    const ChangeRule *r = &change_rules[type];
    char *name = NULL, *value = NULL;
    if (r->form && !split_pair(v, &name, &value)) {
        snprintf(why, len, "expected \"%s\", got \"%s\"", r->form, v);
        snprintf(st->hint, sizeof(st->hint), "%s", r->example);
        return false;
    }
    if (!r->form) {
        name = xstrdup(r->fixed_name);
        value = xstrdup(v);
    }
    const MaintChange *dup = NULL;
    bool ok = (!r->name_ok || r->name_ok(st, name, why, len)) &&
              (!r->value_ok || r->value_ok(value, why, len)) &&
              !(r->what && (dup = find_change(st->mf, type, name)));
    if (dup) {
        snprintf(why, len, "%s \"%s\" is changed twice (also line %d)", r->what, name, dup->line);
        snprintf(st->hint, sizeof(st->hint), "keep one of the two lines");
    }
    if (!ok) {
        free(name);
        free(value);
        return false;
    }
    MaintFile *mf = st->mf;
    mf->changes = xrealloc(mf->changes, (mf->nchanges + 1) * sizeof(*mf->changes));
    mf->changes[mf->nchanges++] =
        (MaintChange){.type = type, .name = name, .value = value, .line = st->line};
    return true;
}

/* ---- the handler and reader ------------------------------------------------ */

static bool section_known(const char *s)
{
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        if (strcmp(sections[i], s) == 0)
            return true;
    return false;
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

/* The row of [section] key, or NULL with the error set. */
static const MKey *mfile_key(MParse *st, const char *section, const char *key, size_t *row)
{
    if (!section[0]) {
        snprintf(st->error, sizeof(st->error), "key \"%s\" is outside any section", key);
        snprintf(st->hint, sizeof(st->hint), "put it under [maintenance], [green] or [change]");
        return NULL;
    }
    if (!section_known(section)) {
        snprintf(st->error, sizeof(st->error), "unknown section [%s]", section);
        snprintf(st->hint, sizeof(st->hint),
                 "the sections are [maintenance], [green] and [change]");
        return NULL;
    }
    for (*row = 0; *row < N_MKEYS; (*row)++)
        if (strcmp(mfile_keys[*row].section, section) == 0 &&
            strcmp(mfile_keys[*row].key, key) == 0)
            return &mfile_keys[*row];
    snprintf(st->error, sizeof(st->error), "unknown key \"%s\" in [%s]", key, section);
    snprintf(st->hint, sizeof(st->hint),
             "see \"Maintenance files and plans\" in README.md for the keys");
    return NULL;
}

static bool mfile_handler(void *user, const char *section, const char *key, const char *value,
                          const InifileLine *line)
{
    MParse *st = user;
    st->line = line->lineno;
    size_t row;
    const MKey *k = mfile_key(st, section, key, &row);
    if (!k)
        return false;
    if (line->continuation) /* an indented line continues the previous key's value */
        return mfile_continue(st, k, value);
    if (k->type != MKEY_CHANGE && st->seen[row]) {
        snprintf(st->error, sizeof(st->error), "key \"%s\" in [%s] is set twice", key, section);
        snprintf(st->hint, sizeof(st->hint), "keep one of the two lines");
        return false;
    }
    st->seen[row] = true;
    char why[512];
    bool ok = k->type == MKEY_CHANGE ? add_change(st, k->change, value, why, sizeof(why))
                                     : set_field(st, k, value, why, sizeof(why));
    if (!ok) {
        snprintf(st->error, sizeof(st->error), "key \"%s\" in [%s]: %s", key, section, why);
        if (!st->hint[0])
            snprintf(st->hint, sizeof(st->hint),
                     "README.md (\"Maintenance files and plans\") describes \"%s\"", key);
    }
    return ok;
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

/* Parse text (len bytes) into st->mf; on failure the error is set and st->mf freed. */
static bool mfile_parse(MParse *st, const char *text, size_t len)
{
    InifileResult r;
    inifile_parse_with(text, len,
                       &(InifileOptions){.max_line = MFILE_MAX_LINE, .continuation = true},
                       mfile_handler, st, &r);
    if (r.status == INIFILE_TOO_LONG) {
        snprintf(st->error, sizeof(st->error), "line longer than %d characters", MFILE_MAX_LINE);
        snprintf(st->hint, sizeof(st->hint), "continue a text value on the next line, indented");
    } else if (r.status == INIFILE_SYNTAX) {
        snprintf(st->error, sizeof(st->error), "%s", r.why);
        snprintf(st->hint, sizeof(st->hint), "a line is a [section], a key = value or a ; comment");
    }
    if (r.status != INIFILE_OK) {
        char shown[4 * sizeof(st->error)]; /* what the file says, escaped, never raw */
        inifile_escape(st->error, sizeof(st->error), shown, sizeof(shown));
        err_set(DD_EXIT_CONFIG, "maintenance file \"%s\", line %d: %s", st->name, r.lineno, shown);
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
    MParse st = {.mf = out, .name = name};
    return mfile_parse(&st, text, strlen(text));
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
    Buf text = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&text, chunk, n);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (read_errno) {
        buf_free(&text);
        err_set(DD_EXIT_CONFIG, "could not read maintenance file \"%s\": %s", path,
                strerror(read_errno));
        err_hint("give the path of a readable file");
        return false;
    }
    out->file = xstrdup(path);
    MParse st = {.mf = out, .name = path};
    bool ok = mfile_parse(&st, text.len ? (const char *)text.data : "", text.len);
    buf_free(&text);
    return ok;
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
    char *saved = zone_enter(m->window_zone);
    time_t t = (time_t)m->window_start;
    struct tm local, utc;
    localtime_r(&t, &local);
    gmtime_r(&t, &utc);
    zone_leave(saved);
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
