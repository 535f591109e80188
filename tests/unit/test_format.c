/* slopnctl's units for people. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

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
	/* At a unit's edges, by the value as printed: no "1024 KiB", and
	 * one decimal only below 10 as printed. */
	assert_string_equal(fmt_bytes(1048575, b, sizeof(b)), "1.0 MiB");
	assert_string_equal(fmt_bytes(1048064, b, sizeof(b)), "1.0 MiB"); /* 1023.5 KiB */
	assert_string_equal(fmt_bytes(1048063, b, sizeof(b)), "1023 KiB");
	assert_string_equal(fmt_bytes(10239, b, sizeof(b)), "10 KiB");
	assert_string_equal(fmt_bytes(10188, b, sizeof(b)), "9.9 KiB");
	assert_string_equal(fmt_bytes(10189, b, sizeof(b)), "10 KiB");
	assert_string_equal(fmt_bytes(1073741823, b, sizeof(b)), "1.0 GiB");
	assert_string_equal(fmt_bytes(UINT64_MAX, b, sizeof(b)), "16384 PiB");
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

static void since(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(fmt_since((int64_t)time(NULL) + 3600, b, sizeof(b)), "0s"); /* the future */
	assert_non_null(strstr(fmt_since((int64_t)time(NULL) - 192, b, sizeof(b)), "3m1"));
}

static void rtts(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(fmt_rtt(0.85, b, sizeof(b)), "850 us");
	assert_string_equal(fmt_rtt(12.44, b, sizeof(b)), "12.4 ms");
	assert_string_equal(fmt_rtt(0.9994, b, sizeof(b)), "999 us");
	assert_string_equal(fmt_rtt(0.9996, b, sizeof(b)), "1.0 ms"); /* not "1000 us" */
	assert_string_equal(fmt_rtt(1, b, sizeof(b)), "1.0 ms");
}

static void parse_durations(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(parse_duration("30d", &v), 0);
	assert_int_equal(v, 30 * 86400);
	assert_int_equal(parse_duration("1w2d", &v), 0);
	assert_int_equal(v, 9 * 86400);
	assert_int_equal(parse_duration("90m", &v), 0);
	assert_int_equal(v, 5400);
	assert_int_equal(parse_duration("12h30m5s", &v), 0);
	assert_int_equal(v, 12 * 3600 + 30 * 60 + 5);
	assert_int_equal(parse_duration("3600", &v), 0);
	assert_int_equal(v, 3600);
	const char *bad[] = {"", "d", "30x", "-5m", "5 m", "1.5h", "m30", "99999999999999999999w", "30dd"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_duration(bad[i], &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bytes),
		cmocka_unit_test(since),
		cmocka_unit_test(durations),
		cmocka_unit_test(rtts),
		cmocka_unit_test(parse_durations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
