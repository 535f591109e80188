/* slopnctl's units for people. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ctl/format.h"

static void bytes(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(fmt_bytes(0, b, sizeof(b)), "0 B");
	assert_string_equal(fmt_bytes(1023, b, sizeof(b)), "1023 B");
	assert_string_equal(fmt_bytes(1536, b, sizeof(b)), "1.5 KiB");
	assert_string_equal(fmt_bytes(12897485, b, sizeof(b)), "12 MiB");
	assert_string_equal(fmt_bytes(1288490189, b, sizeof(b)), "1.2 GiB");
}

static void durations(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(fmt_duration(45, b, sizeof(b)), "45s");
	assert_string_equal(fmt_duration(192, b, sizeof(b)), "3m12s");
	assert_string_equal(fmt_duration(7500, b, sizeof(b)), "2h05m");
	assert_string_equal(fmt_duration(273600, b, sizeof(b)), "3d04h");
}

static void rtts(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(fmt_rtt(0.85, b, sizeof(b)), "850 us");
	assert_string_equal(fmt_rtt(12.44, b, sizeof(b)), "12.4 ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bytes),
		cmocka_unit_test(durations),
		cmocka_unit_test(rtts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
