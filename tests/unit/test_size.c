/* Amounts of memory in settings (--queue-memory): what parses, and what
 * must not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>

#include "proto/size.h"

static uint64_t size_of(const char *s)
{
	uint64_t v = 12345;
	assert_int_equal(size_parse(s, &v), 0);
	return v;
}

static void good_sizes(void **state)
{
	(void)state;
	assert_int_equal(size_of("0"), 0);
	assert_int_equal(size_of("393216"), 393216);
	assert_int_equal(size_of("384K"), 384 << 10);
	assert_int_equal(size_of("384k"), 384 << 10);
	assert_int_equal(size_of("384KiB"), 384 << 10);
	assert_int_equal(size_of("256M"), 256 << 20);
	assert_int_equal(size_of("256MiB"), 256 << 20);
	assert_int_equal(size_of("1G"), 1ULL << 30);
	assert_int_equal(size_of("64GiB"), 64ULL << 30);
	assert_int_equal(size_of("0256M"), 256 << 20); /* leading zeros: still decimal */
	assert_int_equal(size_of("18446744073709551615"), UINT64_MAX);
	assert_int_equal(size_of("17179869183G"), (UINT64_MAX >> 30) << 30);
}

static void bad_sizes(void **state)
{
	(void)state;
	const char *bad[] = {
		"", "M", "K", "iB", "-1", "+1", " 1M", "1M ", "1 M", "1.5M", "1,5M", "0x100",
		"1e6", "12X", "1T", "1B", "1MB", "1Mi", "1MiBx", "1mib", "1MIB", "1KM", "256M\n",
		"18446744073709551616",  /* one over UINT64_MAX */
		"99999999999999999999999",
		"17179869184G",          /* 2^34 GiB = 2^64 bytes */
		"18014398509481984K",    /* 2^54 KiB */
		"none", "unlimited",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		uint64_t v = 7;
		if (size_parse(bad[i], &v) != -1)
			fail_msg("'%s' parsed as %llu", bad[i], (unsigned long long)v);
		assert_int_equal(v, 7); /* untouched */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_sizes),
		cmocka_unit_test(bad_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
