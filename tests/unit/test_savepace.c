/* When the hub may rewrite a state file (daemon/savepace.h): the usual
 * delay after a change while saves are cheap, and, once they cost more (a
 * large hub), no sooner than SAVE_PACE times the last save's cost after
 * it ended, so that saves take a bounded share of the event loop however
 * often clients cause changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/savepace.h"

#define MS 1000ull
#define SOON (100 * MS)

static void test_cheap_saves_keep_the_delay(void **state)
{
	(void)state;
	/* No save yet: the delay after the change. */
	assert_int_equal(save_pace_due(10000 * MS, SOON, 0, 0), 10100 * MS);
	/* A save of 3 ms that ended just now: 48 ms of pace, under the delay. */
	assert_int_equal(save_pace_due(10000 * MS, SOON, 10000 * MS, 3 * MS), 10100 * MS);
	/* One of 6 ms: 96 ms, still under it. */
	assert_int_equal(save_pace_due(10000 * MS, SOON, 10000 * MS, 6 * MS), 10100 * MS);
	/* The delays of later saves (a minute) are not shortened. */
	assert_int_equal(save_pace_due(10000 * MS, 60000 * MS, 10000 * MS, 50 * MS), 70000 * MS);
}

static void test_costly_saves_are_spaced(void **state)
{
	(void)state;
	/* peers.json at 4096 sessions: 60 ms, ended now; the next no sooner than
	 * 960 ms after it, not 100 ms. */
	assert_int_equal(save_pace_due(10000 * MS, SOON, 10000 * MS, 60 * MS), 10960 * MS);
	/* A change 500 ms after that save: still 960 ms after it. */
	assert_int_equal(save_pace_due(10500 * MS, SOON, 10000 * MS, 60 * MS), 10960 * MS);
	/* A change 900 ms after it: the delay is the later. */
	assert_int_equal(save_pace_due(10900 * MS, SOON, 10000 * MS, 60 * MS), 11000 * MS);
	/* Long after it: the delay alone. */
	assert_int_equal(save_pace_due(20000 * MS, SOON, 10000 * MS, 60 * MS), 20100 * MS);
	/* leases.json at 65533 leases with its fsync: 250 ms, so 4 s. */
	assert_int_equal(save_pace_due(10000 * MS, SOON, 10000 * MS, 250 * MS), 14000 * MS);
	/* The share of the loop: saves of cost c, each as early as allowed, come
	 * every c * (SAVE_PACE + 1) at least. */
	for (uint64_t c = 1; c <= 1000 * MS; c *= 7) {
		uint64_t end = 10000 * MS, start;
		for (int k = 0; k < 5; k++) {
			start = save_pace_due(end, SOON, end, c);
			assert_true(start - (end - c) >= c * (SAVE_PACE + 1));
			assert_true(start - end >= SOON);
			end = start + c;
		}
	}
}

/* However long the last save took, the next comes within a minute of it
 * (and no product overflows into a wait that is too short). */
static void test_at_most_a_minute(void **state)
{
	(void)state;
	assert_int_equal(save_pace_due(10000 * MS, SOON, 10000 * MS, 4000 * MS), 70000 * MS);
	assert_int_equal(save_pace_due(10000 * MS, SOON, 10000 * MS, UINT64_MAX / 2), 70000 * MS);
	assert_int_equal(save_pace_due(10000 * MS, SOON, 10000 * MS, UINT64_MAX), 70000 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cheap_saves_keep_the_delay),
		cmocka_unit_test(test_costly_saves_are_spaced),
		cmocka_unit_test(test_at_most_a_minute),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
