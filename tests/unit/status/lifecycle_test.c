/*
 * lifecycle_test.c - the transition table, the component rule and the
 * overall indicator (status/lifecycle.h), table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "status/lifecycle.h"

typedef struct {
    const char *title;
    StatusKind kind;
    const char *from, *to;
    bool ok;
    DdExit code;
    const char *message;
} TransitionCase;

static const TransitionCase transitions[] = {
    {"scheduled starts", STATUS_MAINTENANCE, "scheduled", "in_progress", true, 0, NULL},
    {"an update keeps the status", STATUS_MAINTENANCE, "in_progress", "in_progress", true, 0, NULL},
    {"in progress verifies", STATUS_MAINTENANCE, "in_progress", "verifying", true, 0, NULL},
    {"verifying completes", STATUS_MAINTENANCE, "verifying", "completed", true, 0, NULL},
    {"verifying goes back (rollback)", STATUS_MAINTENANCE, "verifying", "in_progress", true, 0,
     NULL},
    {"an abort completes from in progress", STATUS_MAINTENANCE, "in_progress", "completed", true, 0,
     NULL},
    {"cancelled before it began", STATUS_MAINTENANCE, "scheduled", "completed", true, 0, NULL},
    {"scheduled cannot verify", STATUS_MAINTENANCE, "scheduled", "verifying", false,
     DD_EXIT_CONFLICT, "maintenance 7 is scheduled: it cannot go to verifying"},
    {"no going back to scheduled", STATUS_MAINTENANCE, "in_progress", "scheduled", false,
     DD_EXIT_CONFLICT, "maintenance 7 is in_progress: it cannot go to scheduled"},
    {"completed is final", STATUS_MAINTENANCE, "completed", "in_progress", false, DD_EXIT_CONFLICT,
     "maintenance 7 is completed: it takes no more updates"},
    {"no update after completed", STATUS_MAINTENANCE, "completed", "completed", false,
     DD_EXIT_CONFLICT, "maintenance 7 is completed: it takes no more updates"},
    {"an incident word is not a maintenance status", STATUS_MAINTENANCE, "scheduled", "resolved",
     false, DD_EXIT_USAGE, "\"resolved\" is not a status of a maintenance"},
    {"incident identified", STATUS_INCIDENT, "investigating", "identified", true, 0, NULL},
    {"incident back to investigating", STATUS_INCIDENT, "monitoring", "investigating", true, 0,
     NULL},
    {"incident resolved", STATUS_INCIDENT, "monitoring", "resolved", true, 0, NULL},
    {"resolved is final", STATUS_INCIDENT, "resolved", "monitoring", false, DD_EXIT_CONFLICT,
     "incident 7 is resolved: it takes no more updates"},
    {"a maintenance word is not an incident status", STATUS_INCIDENT, "investigating", "completed",
     false, DD_EXIT_USAGE, "\"completed\" is not a status of an incident"},
};

static void test_transitions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++) {
        const TransitionCase *c = &transitions[i];
        err_clear();
        bool ok = lifecycle_check(c->kind, 7, c->from, c->to);
        if (ok != c->ok)
            fail_msg("%s: expected %s", c->title, c->ok ? "allowed" : "refused");
        if (!ok && (err_code() != c->code || strcmp(err_message(), c->message) != 0))
            fail_msg("%s: got %d \"%s\"", c->title, err_code(), err_message());
    }
}

static void test_hint_lists_next(void **state)
{
    (void)state;
    assert_false(lifecycle_check(STATUS_MAINTENANCE, 3, "scheduled", "verifying"));
    assert_string_equal(
        err_hint_text(),
        "from scheduled it may go to scheduled (an update), in_progress, completed");
}

static void test_postmortem_only_when_final(void **state)
{
    (void)state;
    assert_true(lifecycle_check_postmortem(STATUS_MAINTENANCE, 1, "completed"));
    assert_true(lifecycle_check_postmortem(STATUS_INCIDENT, 1, "resolved"));
    assert_false(lifecycle_check_postmortem(STATUS_MAINTENANCE, 1, "verifying"));
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
}

static void test_holds_components(void **state)
{
    (void)state;
    static const struct {
        StatusKind kind;
        const char *status;
        bool holds;
    } rows[] = {
        {STATUS_MAINTENANCE, "scheduled", false}, {STATUS_MAINTENANCE, "in_progress", true},
        {STATUS_MAINTENANCE, "verifying", true},  {STATUS_MAINTENANCE, "completed", false},
        {STATUS_INCIDENT, "investigating", true}, {STATUS_INCIDENT, "resolved", false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (lifecycle_holds_components(rows[i].kind, rows[i].status) != rows[i].holds)
            fail_msg("%s", rows[i].status);
}

static void test_worse_and_indicator(void **state)
{
    (void)state;
    assert_string_equal(lifecycle_component_worse("operational", "under_maintenance"),
                        "under_maintenance");
    assert_string_equal(lifecycle_component_worse("major_outage", "under_maintenance"),
                        "major_outage");
    StatusComponent comps[2] = {{.name = "Database", .status = "operational"},
                                {.name = "Application", .status = "operational"}};
    StatusSnapshot s = {.components = comps, .ncomponents = 2};
    const char *ind, *desc;
    lifecycle_indicator(&s, &ind, &desc);
    assert_string_equal(ind, "none");
    assert_string_equal(desc, "All Systems Operational");
    comps[1].status = "under_maintenance";
    lifecycle_indicator(&s, &ind, &desc);
    assert_string_equal(ind, "maintenance");
    comps[0].status = "partial_outage";
    lifecycle_indicator(&s, &ind, &desc);
    assert_string_equal(ind, "major");
}

static void test_update_label(void **state)
{
    (void)state;
    StatusUpdate u[3] = {
        {3, "in_progress", "late", 3}, {2, "in_progress", "go", 2}, {1, "scheduled", "plan", 1}};
    StatusEvent e = {.updates = u, .nupdates = 3};
    assert_string_equal(lifecycle_update_label(&e, 0), "Update");
    assert_string_equal(lifecycle_update_label(&e, 1), "In progress");
    assert_string_equal(lifecycle_update_label(&e, 2), "Scheduled");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_hint_lists_next),
        cmocka_unit_test(test_postmortem_only_when_final),
        cmocka_unit_test(test_holds_components),
        cmocka_unit_test(test_worse_and_indicator),
        cmocka_unit_test(test_update_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
