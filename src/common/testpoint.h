/*
 * testpoint.h - fault injection for integration tests.
 *
 * With DRYDOCK_TEST_PAUSE_AT=<point> in the environment, the process says
 * "pausing at <point>" on stderr when it reaches that point and sleeps there
 * (up to 10 minutes), so that a test can kill -9 it at a known moment. With
 * DRYDOCK_TEST_RESUME_FILE=<path> too, the pause ends once that file exists
 * (a test that lets something happen in the middle, then goes on).
 * Without the variable a test point costs one getenv().
 */
#ifndef DD_COMMON_TESTPOINT_H
#define DD_COMMON_TESTPOINT_H

void testpoint_pause(const char *point);

#endif
