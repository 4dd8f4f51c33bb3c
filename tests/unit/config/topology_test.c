/*
 * topology_test.c - the recorded roles laid over the configuration: only
 * while [cluster] is as it was at the last record; [proxy] server follows
 * the primary unless set apart; a damaged file is refused, not guessed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "config/topology.h"
#include "unit/testdir.h"

static char dir[64];

static void load(Config *cfg, const char *primary, const char *standby, const char *extra)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "[repository]\npath = /nonexistent/repo\n[cluster]\nprimary = %s\n%s%s%s"
             "state-dir = %s\n%s",
             primary, standby ? "standby = " : "", standby ? standby : "", standby ? "\n" : "", dir,
             extra ? extra : "");
    assert_true(config_parse_string(text, "test.conf", cfg));
    bool applied;
    assert_true(topology_apply(cfg, &applied));
}

static void test_overlay_rules(void **state)
{
    (void)state;
    assert_int_equal(testdir_make(dir, sizeof(dir), "topology"), 0);
    Config cfg;
    load(&cfg, "port=1", "port=2", NULL);
    assert_string_equal(cfg.primary, "port=1"); /* nothing recorded yet */
    TopologyNode pri = {"port=2", "/d2"}, old = {"port=1", "/d1"};
    assert_true(topology_record(&cfg, "switchover", &pri, &old, NULL));
    config_free(&cfg);

    static const struct {
        const char *title, *primary, *standby, *extra;
        const char *want_primary, *want_standby, *want_server;
    } cases[] = {
        {"the file as recorded: the roles apply", "port=1", "port=2", NULL, "port=2", "port=1",
         "port=2"},
        {"[proxy] server set apart stays", "port=1", "port=2", "[proxy]\nserver = port=9\n",
         "port=2", "port=1", "port=9"},
        {"the primary edited: the file wins", "port=2", "port=2", NULL, "port=2", "port=2",
         "port=2"},
        {"the standby edited: the file wins", "port=1", "port=3", NULL, "port=1", "port=3",
         "port=1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        load(&cfg, cases[i].primary, cases[i].standby, cases[i].extra);
        if (strcmp(cfg.primary, cases[i].want_primary) != 0 ||
            strcmp(cfg.standby, cases[i].want_standby) != 0 ||
            strcmp(cfg.proxy_server, cases[i].want_server) != 0)
            fail_msg("%s: primary %s standby %s server %s", cases[i].title, cfg.primary,
                     cfg.standby, cfg.proxy_server);
        assert_string_equal(cfg.file_primary, cases[i].primary); /* the file's own, kept */
        config_free(&cfg);
    }

    /* The history grows; the data directories come along. */
    Topology t;
    bool found;
    assert_true(topology_load(dir, &t, &found));
    assert_true(found);
    assert_int_equal(t.nhistory, 1);
    assert_string_equal(t.history[0].event, "switchover");
    assert_string_equal(t.primary.data, "/d2");
    assert_string_equal(t.standby.data, "/d1");
    topology_free(&t);

    /* maint finish removed a retired node: it alone leaves the record. */
    load(&cfg, "port=1", "port=2", NULL);
    TopologyNode green = {"port=3", "/d3"}, green_sb = {"port=4", "/d4"};
    assert_true(topology_record(&cfg, "maint run #1", &green, &green_sb, &pri));
    assert_true(topology_forget_retired(&cfg, "/elsewhere")); /* not retired: nothing to do */
    assert_true(topology_load(dir, &t, &found));
    assert_int_equal(t.nretired, 1);
    assert_string_equal(t.retired[0].data, "/d2");
    topology_free(&t);
    assert_true(topology_forget_retired(&cfg, "/d2"));
    config_free(&cfg);
    assert_true(topology_load(dir, &t, &found));
    assert_int_equal(t.nretired, 0);
    assert_int_equal(t.nhistory, 2);
    assert_string_equal(t.primary.data, "/d3");
    assert_string_equal(t.standby.data, "/d4");
    assert_string_equal(t.seen_primary, "port=1");
    topology_free(&t);
    load(&cfg, "port=1", "port=2", NULL);
    assert_string_equal(cfg.primary, "port=3"); /* the overlay still applies */
    config_free(&cfg);

    /* A damaged file is an error naming it, not a silent fallback. */
    char path[128];
    snprintf(path, sizeof(path), "%s/topology.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"version\": 7}", f);
    fclose(f);
    char text[256];
    snprintf(text, sizeof(text), "[cluster]\nprimary = port=1\nstate-dir = %s\n", dir);
    assert_true(config_parse_string(text, "test.conf", &cfg));
    bool applied;
    assert_false(topology_apply(&cfg, &applied));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_non_null(strstr(err_message(), "topology.json"));
    config_free(&cfg);
    assert_int_equal(testdir_remove(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlay_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
