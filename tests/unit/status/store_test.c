/*
 * store_test.c - the status store and what writes to it: the lifecycle
 * enforced on writes with nothing changed by a refused one, components
 * going to under_maintenance and back by themselves, the outbox rows (one
 * per URL per change, in order, with backoff), the notify API a maintenance
 * uses, the [status] config keys, webhook signing, the postmortem draft.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "status/notify.h"
#include "status/postmortem.h"
#include "status/setup.h"
#include "status/store.h"
#include "status/webhook.h"
#include "unit/testdir.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(testdir_make(dir, sizeof(dir), "status-store"), 0);
    snprintf(path, sizeof(path), "%s/status.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return testdir_remove(dir);
}

static const char *const components[] = {"Database", "Application"};
static const char *const hooks[] = {"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"};

/* Remove the store and its WAL files. */
static void remove_store(void)
{
    char side[160];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

static StatusStore *open_store(size_t nhooks)
{
    remove_store();
    StatusStoreOptions o = {.title = "Acme",
                            .time_zone = "Europe/Paris",
                            .components = components,
                            .ncomponents = 2,
                            .webhooks = hooks,
                            .nwebhooks = nhooks};
    StatusStore *st;
    assert_true(status_store_open(path, &o, &st));
    return st;
}

static const char *component_status(StatusStore *st, const char *name, StatusSnapshot *s)
{
    status_snapshot_free(s);
    assert_true(status_store_snapshot(st, 0, s));
    for (size_t i = 0; i < s->ncomponents; i++)
        if (strcmp(s->components[i].name, name) == 0)
            return s->components[i].status;
    fail_msg("no component %s", name);
    return NULL;
}

static int64_t create_maintenance(StatusStore *st)
{
    const char *db[] = {"Database"};
    StatusNew n = {.kind = STATUS_MAINTENANCE,
                   .title = "Upgrade",
                   .scheduled_for = 1000,
                   .scheduled_until = 4600,
                   .predicted_s = 3600,
                   .components = db,
                   .ncomponents = 1,
                   .at = 900};
    int64_t id = 0;
    assert_int_equal(status_store_create(st, &n, &id), STATUS_WRITE_OK);
    return id;
}

static void test_lifecycle_moves_components(void **state)
{
    (void)state;
    StatusStore *st = open_store(0);
    StatusSnapshot s = {0};
    int64_t id = create_maintenance(st);
    assert_string_equal(component_status(st, "Database", &s), "operational");
    static const struct {
        const char *status;
        const char *db;
    } steps[] = {{"in_progress", "under_maintenance"},
                 {NULL, "under_maintenance"},
                 {"verifying", "under_maintenance"},
                 {"completed", "operational"}};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        StatusPost p = {.status = steps[i].status, .body = "text", .at = 1000 + (int64_t)i};
        assert_int_equal(status_store_post(st, id, &p), STATUS_WRITE_OK);
        assert_string_equal(component_status(st, "Database", &s), steps[i].db);
        assert_string_equal(component_status(st, "Application", &s), "operational");
    }
    /* An open incident shows its component status; the worse one wins; resolved, it goes. */
    const char *app[] = {"Application", "Database"};
    StatusNew inc = {.kind = STATUS_INCIDENT,
                     .title = "Slow",
                     .component_status = "partial_outage",
                     .components = app,
                     .ncomponents = 2};
    int64_t iid;
    assert_int_equal(status_store_create(st, &inc, &iid), STATUS_WRITE_OK);
    assert_string_equal(component_status(st, "Application", &s), "partial_outage");
    assert_string_equal(component_status(st, "Database", &s), "partial_outage");
    StatusPost fixed = {.status = "resolved", .body = "Fixed."};
    assert_int_equal(status_store_post(st, iid, &fixed), STATUS_WRITE_OK);
    assert_string_equal(component_status(st, "Application", &s), "operational");
    StatusEvent e;
    bool found;
    assert_true(status_store_event(st, id, &e, &found));
    assert_true(found);
    assert_int_equal(e.nupdates, 5);
    assert_string_equal(e.updates[0].status, "completed"); /* newest first */
    assert_int_equal(e.started_at, 1000);
    assert_int_equal(e.resolved_at, 1003);
    status_event_free(&e);
    status_snapshot_free(&s);
    status_store_close(st);
}

static void test_refused_write_changes_nothing(void **state)
{
    (void)state;
    StatusStore *st = open_store(2);
    int64_t id = create_maintenance(st);
    StatusOutboxItem *items;
    size_t before, after;
    assert_true(status_store_outbox_recent(st, 100, &items, &before));
    status_outbox_free(items, before);
    StatusPost p = {.status = "verifying", .body = "too early"};
    assert_int_equal(status_store_post(st, id, &p), STATUS_WRITE_REFUSED);
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
    assert_string_equal(err_message(), "maintenance 1 is scheduled: it cannot go to verifying");
    StatusPost q = {.body = "x"};
    assert_int_equal(status_store_post(st, 99, &q), STATUS_WRITE_NOT_FOUND);
    StatusPost empty = {.status = "in_progress", .body = ""};
    assert_int_equal(status_store_post(st, id, &empty), STATUS_WRITE_REFUSED);
    assert_int_equal(err_code(), DD_EXIT_USAGE);
    const char *bad[] = {"Nope"};
    StatusNew n = {.kind = STATUS_INCIDENT, .title = "x", .components = bad, .ncomponents = 1};
    int64_t nid;
    assert_int_equal(status_store_create(st, &n, &nid), STATUS_WRITE_REFUSED);
    assert_string_equal(err_message(), "unknown component \"Nope\"");
    StatusEvent e;
    bool found;
    assert_true(status_store_event(st, id, &e, &found));
    assert_int_equal(e.nupdates, 1);
    assert_string_equal(e.status, "scheduled");
    status_event_free(&e);
    assert_true(status_store_event(st, 2, &e, &found));
    assert_false(found); /* the refused incident left no row */
    assert_true(status_store_outbox_recent(st, 100, &items, &after));
    status_outbox_free(items, after);
    assert_int_equal(after, before);
    status_store_close(st);
}

static void test_outbox_rows_order_and_backoff(void **state)
{
    (void)state;
    StatusStore *st = open_store(2);
    int64_t id = create_maintenance(st);
    StatusPost p = {.status = "in_progress", .body = "go", .at = 1000};
    assert_int_equal(status_store_post(st, id, &p), STATUS_WRITE_OK);
    StatusOutboxItem *items;
    size_t n;
    /* created, updated, component.updated: three changes, two URLs. */
    assert_true(status_store_outbox_recent(st, 100, &items, &n));
    assert_int_equal(n, 6);
    assert_string_equal(items[0].event, "maintenance.updated");
    assert_string_equal(items[2].event, "component.updated");
    assert_string_equal(items[5].event, "maintenance.created");
    json_t *body = json_loads(items[0].body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(body, "scheduled_maintenance"), "status")),
                        "in_progress");
    json_decref(body);
    status_outbox_free(items, n);
    /* Due now: the oldest row per URL only. */
    assert_true(status_store_outbox_due(st, 2000, 100, &items, &n));
    assert_int_equal(n, 2);
    assert_string_equal(items[0].event, "maintenance.created");
    int64_t first = items[0].id;
    status_outbox_free(items, n);
    assert_true(status_store_outbox_done(st, first, 2000, false, "HTTP 500"));
    assert_true(status_store_outbox_due(st, 2000, 100, &items, &n));
    assert_int_equal(n, 1); /* URL a waits for its retry; URL b is still due */
    status_outbox_free(items, n);
    assert_true(status_store_outbox_due(st, 2005, 100, &items, &n));
    assert_int_equal(n, 2);
    assert_int_equal(items[0].id, first);
    assert_int_equal(items[0].attempts, 1);
    assert_string_equal(items[0].last_error, "HTTP 500");
    status_outbox_free(items, n);
    assert_true(status_store_outbox_done(st, first, 2005, true, NULL));
    assert_true(status_store_outbox_due(st, 2005, 100, &items, &n));
    assert_int_equal(n, 2);
    assert_true(items[0].id != first);
    status_outbox_free(items, n);
    status_store_close(st);
}

static void test_config_and_notify(void **state)
{
    (void)state;
    remove_store();
    char *text = NULL;
    assert_true(asprintf(&text,
                         "[status]\nstore = %s\ntime-zone = Europe/Paris\n"
                         "components = Database , Application\n"
                         "webhook = http://127.0.0.1:1/a\nwebhook = http://127.0.0.1:1/b\n",
                         path) > 0);
    Config cfg;
    assert_true(config_parse_string(text, "test.conf", &cfg));
    free(text);
    assert_string_equal(cfg.status_webhooks, "http://127.0.0.1:1/a\nhttp://127.0.0.1:1/b");
    StatusSetup setup;
    assert_true(status_setup(&cfg, &setup));
    assert_int_equal(setup.components.len, 2);
    assert_string_equal(setup.components.items[1], "Application");
    assert_int_equal(setup.webhooks.len, 2);
    status_setup_free(&setup);

    StatusNotifier *n;
    assert_true(status_notify_open(&cfg, NULL, &n));
    assert_true(status_notify_enabled(n));
    StatusTexts texts = {.completed = "All done at last."};
    StatusNotifyPlan plan = {.title = "Upgrade to PostgreSQL 15.8",
                             .window_start = 1796079600, /* 2026-12-01 00:00 Paris */
                             .window_end = 1796083200,
                             .predicted_s = 3600,
                             .low_s = 2400,
                             .high_s = 5400,
                             .description = "Orders may wait a second.",
                             .texts = &texts};
    int64_t id, again, other;
    assert_true(status_notify_scheduled(n, &plan, &id));
    /* "maint run" in another process finds it again by its title. */
    StatusNotifier *run;
    assert_true(status_notify_open(&cfg, NULL, &run));
    assert_true(status_notify_adopt(run, &plan, &again));
    assert_int_equal(again, id);
    StatusNotifyPlan unplanned = plan;
    unplanned.title = "Never planned";
    assert_true(status_notify_adopt(run, &unplanned, &other));
    assert_true(other != id && other > 0);
    assert_true(status_notify_aborted(run, other));
    status_notify_close(run);
    assert_true(status_notify_in_progress(n, id));
    assert_true(status_notify_late(n, id, 1796086800));
    assert_true(status_notify_verifying(n, id));
    assert_true(status_notify_completed(n, id));
    assert_false(status_notify_update(n, id, "too late", 0)); /* completed is final */
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
    status_notify_close(n);

    StatusStore *st;
    StatusSetup s2;
    assert_true(status_setup(&cfg, &s2));
    assert_true(status_setup_open(&s2, &st));
    StatusEvent e;
    bool found;
    assert_true(status_store_event(st, id, &e, &found));
    assert_int_equal(e.nupdates, 5);
    assert_string_equal(e.updates[0].body, "All done at last.");
    assert_non_null(strstr(e.updates[2].body, "by Tue 01 Dec 2026, 02:00 CET"));
    assert_non_null(strstr(e.updates[4].body, "between Tue 01 Dec 2026, 00:00 CET and Tue 01 "
                                              "Dec 2026, 01:00 CET"));
    assert_non_null(strstr(e.updates[4].body, "about 1 h (between 40 min and 1 h 30 min)"));
    /* The file's description follows the window and the prediction, as a paragraph. */
    assert_non_null(strstr(e.updates[4].body, "say so here.\n\nOrders may wait a second."));
    assert_null(strstr(e.updates[4].body, "LSN"));
    assert_int_equal(e.eta, 1796086800);

    json_t *report = json_loads(
        "{\"steps\":[{\"name\":\"backup\",\"predicted_s\":600,\"low_s\":400,\"high_s\":900,"
        "\"basis\":\"3 runs\",\"actual_s\":1500,\"ok\":true},{\"name\":\"switch | pause\","
        "\"predicted_s\":2,\"low_s\":1,\"high_s\":5,\"actual_s\":1.2,\"ok\":false},"
        "{\"name\":\"offline\",\"enabled\":false,\"predicted_s\":9},"
        "{\"name\":\"first-backup\",\"enabled\":true,\"predicted_s\":300,\"low_s\":200,"
        "\"high_s\":400}],\"hold_ms\":1200,\"predicted_hold_ms\":1000,"
        "\"outcome\":\"rolled-back\"}",
        0, NULL);
    Buf md = {0};
    assert_true(postmortem_draft(&e, "Europe/Paris", report, 1796090000, &md));
    buf_append(&md, "", 1);
    const char *m = (const char *)md.data;
    assert_non_null(strstr(m, "# Postmortem: Upgrade to PostgreSQL 15.8"));
    assert_non_null(strstr(m, "| backup | 10 min | 7 min to 15 min | 25 min | 15 min | 3 runs | "
                              "yes |"));
    assert_non_null(strstr(m, "switch \\| pause"));
    assert_non_null(strstr(m, "Steps that ran past their predicted range:\n\n- backup: 25 min"));
    assert_non_null(strstr(m, "Clients were held for 1.200 s during the switch (predicted "
                              "1.000 s)."));
    assert_null(strstr(m, "offline")); /* a step the plan did not need */
    assert_non_null(strstr(m, "| first-backup | 5 min | 3 min to 7 min | not run | - | - | - |"));
    assert_non_null(strstr(m, "The run ended with outcome \"rolled-back\"."));
    assert_non_null(strstr(m, "- Step switch \\| pause failed."));
    assert_non_null(strstr(m, "| Completed | All done at last. |"));
    buf_free(&md);
    json_decref(report);
    status_event_free(&e);
    status_store_close(st);
    status_setup_free(&s2);
    config_free(&cfg);
}

static void test_disabled_notifier(void **state)
{
    (void)state;
    Config cfg;
    assert_true(config_parse_string("[status]\ntitle = x\n", "t.conf", &cfg));
    StatusNotifier *n;
    assert_true(status_notify_open(&cfg, NULL, &n));
    assert_false(status_notify_enabled(n));
    StatusNotifyPlan plan = {.title = "x", .window_start = 1, .window_end = 2};
    int64_t id;
    assert_true(status_notify_scheduled(n, &plan, &id));
    assert_int_equal(id, 0);
    assert_true(status_notify_in_progress(n, id));
    status_notify_close(n);
    config_free(&cfg);
}

static void test_bad_status_config(void **state)
{
    (void)state;
    static const struct {
        const char *text, *message;
    } rows[] = {
        {"[status]\nstore = /tmp/x.db\ntime-zone = Mars/Base\n",
         "key \"time-zone\" in [status]: unknown time zone \"Mars/Base\""},
        {"[status]\nstore = /tmp/x.db\ncomponents = A,,B\n",
         "key \"components\" in [status]: a component name is empty"},
        {"[status]\nstore = /tmp/x.db\nwebhook = ftp://x/\n",
         "key \"webhook\" in [status]: expected an http:// or https:// URL"},
        {"[status]\ntitle = t\n", "key \"store\" in [status] is required here"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        Config cfg;
        assert_true(config_parse_string(rows[i].text, "t.conf", &cfg));
        StatusSetup s;
        err_clear();
        assert_false(status_setup(&cfg, &s));
        assert_int_equal(err_code(), DD_EXIT_CONFIG);
        if (!strstr(err_message(), rows[i].message))
            fail_msg("row %zu: %s", i, err_message());
        config_free(&cfg);
    }
    Config cfg;
    assert_false(config_parse_string("[status]\ntitle = a\ntitle = b\n", "t.conf", &cfg));
}

static void test_webhook_signature(void **state)
{
    (void)state;
    /* RFC 4231 test case 2. */
    char sig[WEBHOOK_SIGNATURE_LEN];
    const char *data = "what do ya want for nothing?";
    webhook_sign("Jefe", data, strlen(data), sig);
    assert_string_equal(sig,
                        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    webhook_sign("Jefe", "what do ya want for nothing!", strlen(data), sig);
    assert_string_not_equal(
        sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle_moves_components),
        cmocka_unit_test(test_refused_write_changes_nothing),
        cmocka_unit_test(test_outbox_rows_order_and_backoff),
        cmocka_unit_test(test_config_and_notify),
        cmocka_unit_test(test_disabled_notifier),
        cmocka_unit_test(test_bad_status_config),
        cmocka_unit_test(test_webhook_signature),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
