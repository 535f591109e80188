/* How long a hub session sheds, again and again (daemon/shedlevel.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "daemon/shedlevel.h"

#define S 1000000000ULL
#define BASE (1 * S)
#define MAX (16 * S)
#define FORGET (60 * S)

/* Again within a minute: twice as long each time, up to the most. */
static void doubles(void **state)
{
	(void)state;
	struct shed_level l = {0};
	uint64_t t = 100 * S;
	const uint64_t want[] = {1, 2, 4, 8, 16, 16, 16};
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		uint64_t p = shed_period(&l, t, BASE, MAX, FORGET);
		assert_int_equal(p, want[i] * S);
		t += p + 2 * S; /* it holds again soon after */
	}
}

/* A minute without: back to a second. */
static void forgets(void **state)
{
	(void)state;
	struct shed_level l = {0};
	assert_int_equal(shed_period(&l, 10 * S, BASE, MAX, FORGET), 1 * S);
	assert_int_equal(shed_period(&l, 20 * S, BASE, MAX, FORGET), 2 * S);
	assert_int_equal(shed_period(&l, 79 * S, BASE, MAX, FORGET), 4 * S);
	assert_int_equal(shed_period(&l, 79 * S + FORGET, BASE, MAX, FORGET), 1 * S);
}

/* Taking turns: however many sessions do, each holds at most 25 ms per
 * period, and the periods grow: over ten minutes one session that holds
 * whenever it may holds the TUN for well under a per cent of the time. */
static void turns_cost_little(void **state)
{
	(void)state;
	struct shed_level l = {0};
	uint64_t held = 0, t = 0, end = 600 * S, hold = 25 * 1000000ULL;
	while (t < end) {
		held += hold;
		t += hold;
		t += shed_period(&l, t, BASE, MAX, FORGET) + 100 * 1000000ULL; /* then drains, holds */
	}
	assert_true(held * 100 < end / 2); /* under 0.5 % (fixed 1 s periods: about 2 %) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(doubles),
		cmocka_unit_test(forgets),
		cmocka_unit_test(turns_cost_little),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
