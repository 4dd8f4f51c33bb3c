/*
 * inifile_test.c - inifile_parse_with(): line numbers, the caller's line
 * limit, and inih's multi-line values when asked for (maint/mfile.c uses
 * them; the configuration does not).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "config/inifile.h"

/* Each call of the handler as "LINE[+] [section] key=value;", + for a continuation. */
static bool record(void *user, const char *section, const char *key, const char *value,
                   const InifileLine *line)
{
    char *out = user;
    size_t n = strlen(out);
    snprintf(out + n, 1024 - n, "%d%s [%s] %s=%s;", line->lineno, line->continuation ? "+" : "",
             section, key, value);
    return strcmp(value, "refuse") != 0;
}

typedef struct {
    const char *title;
    const char *text;
    InifileOptions opts;
    InifileStatus status;
    int lineno;
    const char *calls;
} IniCase;

static void test_parse_with(void **state)
{
    (void)state;
    const IniCase cases[] = {
        {"line numbers, comments and blank lines counted",
         "[a]\n; c\n\nk = v\r\nj: w ; note\n",
         {0},
         INIFILE_OK,
         0,
         "4 [a] k=v;5 [a] j=w;"},
        {"without continuation an indented key line is a line of its own",
         "[a]\nk = v\n  j = w\n",
         {0},
         INIFILE_OK,
         0,
         "2 [a] k=v;3 [a] j=w;"},
        {"without continuation an indented text line is a syntax error",
         "[a]\nk = v\n  more\n",
         {0},
         INIFILE_SYNTAX,
         3,
         "2 [a] k=v;"},
        {"a continuation continues the key above it",
         "[a]\nk = v\n  more ; note\n  ; a comment\n\tand more\n",
         {.continuation = true},
         INIFILE_OK,
         0,
         "2 [a] k=v;3+ [a] k=more;5+ [a] k=and more;"},
        {"an indented line after a section header is a key line",
         "[a]\nk = v\n[b]\n  j = w\n",
         {.continuation = true},
         INIFILE_OK,
         0,
         "2 [a] k=v;4 [b] j=w;"},
        {"the caller's line limit",
         "[a]\nk = 0123456789\n",
         {.max_line = 10},
         INIFILE_TOO_LONG,
         2,
         ""},
        {"the handler refuses: its line, and no later call",
         "[a]\nk = refuse\nj = w\n",
         {0},
         INIFILE_HANDLER,
         2,
         "2 [a] k=refuse;"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char calls[1024] = "";
        InifileResult r;
        inifile_parse_with(cases[i].text, strlen(cases[i].text), &cases[i].opts, record, calls, &r);
        if (r.status != cases[i].status || r.lineno != cases[i].lineno ||
            strcmp(calls, cases[i].calls) != 0)
            fail_msg("case \"%s\": status %d line %d calls \"%s\" (%s); expected %d, %d, \"%s\"",
                     cases[i].title, r.status, r.lineno, calls, r.why, cases[i].status,
                     cases[i].lineno, cases[i].calls);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse_with)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
