/* The UDP socket's receive drops (daemon/udp.h): the kernel counts a
 * socket's queue overflows in 32 bits (SO_RXQ_OVFL, socket(7)) and the
 * count wraps; the total kept beside it grows past 2^32 all the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/udp.h"

static void test_ovfl_total(void **state)
{
	(void)state;
	/* From a new socket's 0, and on. */
	assert_int_equal(udp_ovfl_total(0, 0, 0), 0);
	assert_int_equal(udp_ovfl_total(0, 0, 7), 7);
	assert_int_equal(udp_ovfl_total(7, 7, 7), 7);
	assert_int_equal(udp_ovfl_total(7, 7, 10), 10);
	/* A new socket (udp_reconnect) counts from 0 again: the total goes on. */
	assert_int_equal(udp_ovfl_total(10, 0, 3), 13);
	/* The kernel's count wraps: 5 before 2^32 to 4 after it are 9 drops. */
	assert_int_equal(udp_ovfl_total(UINT32_MAX - 4, UINT32_MAX - 4, 4), (uint64_t)UINT32_MAX + 5);
	assert_int_equal(udp_ovfl_total((uint64_t)UINT32_MAX - 4, UINT32_MAX - 4, UINT32_MAX), UINT32_MAX);
	assert_int_equal(udp_ovfl_total(UINT32_MAX, UINT32_MAX, 0), (uint64_t)UINT32_MAX + 1);
	/* A total already past 2^32 (an earlier wrap, or earlier sockets). */
	assert_int_equal(udp_ovfl_total(3ull << 32, 100, 4000000000u), (3ull << 32) + 3999999900u);
	assert_int_equal(udp_ovfl_total((3ull << 32) + 10, 4294967000u, 200), (3ull << 32) + 10 + 296 + 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ovfl_total),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
