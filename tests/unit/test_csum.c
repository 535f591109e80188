/* The Internet checksum: csum_add (whichever loop the CPU gets) against
 * RFC 1071's 16-bit sum, over lengths and alignments on either side of
 * its 32-byte and 64-byte steps, in pieces, and with every carry set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/csum.h"

/* Words in memory order, folded: what csum_fold gives for any sum of them. */
static uint16_t ref_fold(const uint8_t *p, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		uint16_t w;
		memcpy(&w, p + i, 2);
		sum += w;
	}
	if (n & 1) {
		uint16_t w = 0;
		memcpy(&w, p + n - 1, 1);
		sum += w;
	}
	return csum_fold(sum);
}

static uint8_t buf[65536 + 64];

static void lengths_and_alignments(void **state)
{
	(void)state;
	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t off = 0; off < 33; off++)
		for (size_t n = 0; n <= 1600; n++)
			assert_int_equal(csum_fold(csum_add(0, buf + off, n)), ref_fold(buf + off, n));
}

static void pieces(void **state)
{
	(void)state;
	/* As offload.c sums a segment: header, then payload, onto a pseudo-header sum. */
	for (size_t n = 100; n <= 1500; n += 7)
		for (size_t k = 0; k <= n; k += 22) {
			uint64_t whole = csum_add(0x1fffe, buf + 3, n);
			uint64_t two = csum_add(csum_add(0x1fffe, buf + 3, k), buf + 3 + k, n - k);
			assert_int_equal(csum_fold(whole), csum_fold(two));
		}
}

static void all_ones(void **state)
{
	(void)state;
	memset(buf, 0xff, sizeof(buf));
	for (size_t n = 65472; n <= 65536; n++)
		assert_int_equal(csum_fold(csum_add(0, buf, n)), ref_fold(buf, n));
	assert_int_equal(inet_csum(buf, 65536), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lengths_and_alignments),
		cmocka_unit_test(pieces),
		cmocka_unit_test(all_ones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
