/* Test-only settings from the environment: a value in range, or 0 for
 * anything else. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "daemon/testenv.h"

#define V "SLOPN_TEST_UNIT_VALUE"

static void in_range(void **state)
{
	(void)state;
	setenv(V, "1200", 1);
	assert_int_equal(testenv_get(V, 1200, 16382), 1200);
	setenv(V, "16382", 1);
	assert_int_equal(testenv_get(V, 1200, 16382), 16382);
}

static void unset_or_empty(void **state)
{
	(void)state;
	unsetenv(V);
	assert_int_equal(testenv_get(V, 1, 10), 0);
	setenv(V, "", 1);
	assert_int_equal(testenv_get(V, 1, 10), 0);
}

static void bad(void **state)
{
	(void)state;
	const char *bad[] = {"0", "11", "-5", "5s", " 5", "x", "99999999999999999999999", "18446744073709551617"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv(V, bad[i], 1);
		assert_int_equal(testenv_get(V, 1, 10), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(in_range),
		cmocka_unit_test(unset_or_empty),
		cmocka_unit_test(bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
