/*
 * pgsetting.c - see pgsetting.h.
 */
#include "maint/pgsetting.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *unit;
    double factor; /* to bytes or milliseconds */
} pgsetting_units[] = {
    {"B", 1},        {"kB", 1024},       {"8kB", 8192},           {"16kB", 16384},
    {"MB", 1048576}, {"GB", 1073741824}, {"TB", 1099511627776.0}, {"us", 0.001},
    {"ms", 1},       {"s", 1000},        {"min", 60000},          {"h", 3600000},
    {"d", 86400000},
};

static bool unit_factor(const char *unit, double *f)
{
    for (size_t i = 0; i < sizeof(pgsetting_units) / sizeof(pgsetting_units[0]); i++)
        if (strcmp(unit, pgsetting_units[i].unit) == 0) {
            *f = pgsetting_units[i].factor;
            return true;
        }
    return false;
}

/* A value as the file gives it, without quotes and surrounding blanks, into out. */
void pgsetting_unquote(const char *v, char *out, size_t len)
{
    while (isspace((unsigned char)*v))
        v++;
    size_t n = strlen(v);
    while (n && isspace((unsigned char)v[n - 1]))
        n--;
    if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'') {
        v++;
        n -= 2;
    }
    snprintf(out, len, "%.*s", (int)n, v);
}

static int pgsetting_bool(const char *v)
{
    static const char *const on[] = {"on", "true", "yes", "1", "t", "y"};
    static const char *const off[] = {"off", "false", "no", "0", "f", "n"};
    for (size_t i = 0; i < 6; i++) {
        if (strcasecmp(v, on[i]) == 0)
            return 1;
        if (strcasecmp(v, off[i]) == 0)
            return 0;
    }
    return -1;
}

/* Whether want (the file's value) means the server's setting (in unit, of vartype). */
bool pgsetting_matches(const char *want, const char *setting, const char *unit, const char *vartype)
{
    if (strcmp(vartype, "bool") == 0)
        return pgsetting_bool(want) >= 0 && pgsetting_bool(want) == pgsetting_bool(setting);
    if (strcmp(vartype, "integer") != 0 && strcmp(vartype, "real") != 0)
        return strcasecmp(want, setting) == 0;
    char *end;
    double w = strtod(want, &end), base = 1, wf = 1;
    while (isspace((unsigned char)*end))
        end++;
    if (unit[0] && !unit_factor(unit, &base))
        return strcasecmp(want, setting) == 0;
    if (*end && !unit_factor(end, &wf))
        return false;
    double want_base = *end ? w * wf : w * base;
    double have_base = strtod(setting, NULL) * base;
    return fabs(want_base - have_base) <= 1e-9 * fmax(1, fabs(have_base));
}
