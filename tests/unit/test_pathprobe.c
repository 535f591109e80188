/* Path probes: the sizes tried, the packets written, and which Version
 * Negotiation answers name one of them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proto/pathprobe.h"

static const uint8_t ID[PATHPROBE_ID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};

/* The answer a server gives to probe i: Version Negotiation echoing the
 * probe's connection IDs, swapped, and listing QUIC v1. */
static size_t answer(const uint8_t *probe, uint8_t *out)
{
	size_t dl = probe[5], sl = probe[6 + dl];
	uint8_t *w = out;
	*w++ = 0x80 | 0x3f;
	memset(w, 0, 4), w += 4;
	*w++ = (uint8_t)sl;
	memcpy(w, probe + 7 + dl, sl), w += sl;
	*w++ = (uint8_t)dl;
	memcpy(w, probe + 6, dl), w += dl;
	memcpy(w, "\x00\x00\x00\x01", 4), w += 4;
	return (size_t)(w - out);
}

static void sizes(void **state)
{
	(void)state;
	struct pathprobe p;
	pathprobe_init(&p, ID, 1452);
	assert_int_equal(p.n, 6);
	static const size_t want[] = {1452, 1392, 1352, 1320, 1232, 1200};
	for (int i = 0; i < 6; i++)
		assert_int_equal(p.size[i], want[i]);
	pathprobe_init(&p, ID, 1372); /* a 1400-byte link: only what is smaller */
	assert_int_equal(p.n, 5);
	assert_int_equal(p.size[0], 1372);
	assert_int_equal(p.size[1], 1352);
	pathprobe_init(&p, ID, 1200);
	assert_int_equal(p.n, 1);
	pathprobe_init(&p, ID, 900); /* never below QUIC's minimum */
	assert_int_equal(p.n, 1);
	assert_int_equal(p.size[0], 1200);
}

static void write_and_match(void **state)
{
	(void)state;
	struct pathprobe p;
	pathprobe_init(&p, ID, 1452);
	uint8_t buf[1500], vn[64];
	for (int i = 0; i < p.n; i++) {
		size_t n = pathprobe_write(&p, i, buf, sizeof(buf));
		assert_int_equal(n, p.size[i]);
		assert_true(buf[0] & 0x80);
		assert_memory_equal(buf + 1, "\x1a\x2a\x3a\x4a", 4);
		/* The probe is not an answer to itself. */
		assert_int_equal(pathprobe_match(&p, buf, n), -1);
		size_t vl = answer(buf, vn);
		assert_int_equal(pathprobe_match(&p, vn, vl), i);
	}
	assert_int_equal(pathprobe_write(&p, 0, buf, 1451), 0); /* no room */
	assert_int_equal(pathprobe_write(&p, 6, buf, sizeof(buf)), 0);
	assert_int_equal(pathprobe_write(&p, -1, buf, sizeof(buf)), 0);
	/* Another attempt's probes (another id) do not match. */
	struct pathprobe q;
	uint8_t other[PATHPROBE_ID_LEN] = {1, 2, 3, 4, 5, 6, 7, 9};
	pathprobe_init(&q, other, 1452);
	pathprobe_write(&p, 1, buf, sizeof(buf));
	assert_int_equal(pathprobe_match(&q, vn, answer(buf, vn)), -1);
}

static void bad(void **state)
{
	(void)state;
	struct pathprobe p;
	pathprobe_init(&p, ID, 1372);
	uint8_t probe[1500], vn[64], b[64];
	pathprobe_write(&p, 2, probe, sizeof(probe));
	size_t vl = answer(probe, vn);
	assert_int_equal(pathprobe_match(&p, vn, vl), 2);
	/* Every truncation. */
	for (size_t n = 0; n < vl; n++)
		assert_int_equal(pathprobe_match(&p, vn, n), -1);
	/* Versions not a whole number of 4 bytes, or none. */
	memcpy(b, vn, vl);
	b[vl] = 0;
	assert_int_equal(pathprobe_match(&p, b, vl + 1), -1);
	assert_int_equal(pathprobe_match(&p, b, vl - 4), -1);
	/* Short header; a version other than 0; connection IDs of other lengths
	 * or contents; an index beyond the probes sent. */
	struct { size_t at; uint8_t v; } edits[] = {
		{0, 0x40}, {4, 1}, {5, 7}, {5, 9}, {5, 255}, {6, 2}, {13, 9},
		{14, 7}, {14, 0}, {15, 0}, {22, 5}, {22, 255},
	};
	for (size_t k = 0; k < sizeof(edits) / sizeof(edits[0]); k++) {
		memcpy(b, vn, vl);
		b[edits[k].at] = edits[k].v;
		assert_int_equal(pathprobe_match(&p, b, vl), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(write_and_match),
		cmocka_unit_test(bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
