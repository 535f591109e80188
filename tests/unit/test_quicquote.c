/* ICMP errors' quotes of our QUIC packets: what matches the packet sent,
 * what is too short to tell, and what is about another packet or none. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proto/pathprobe.h"
#include "proto/quicquote.h"

/* An Initial as ngtcp2 sends it: version 1, an 18-byte DCID, then the
 * rest (SCID, token, length, the protected packet number and payload). */
static const struct quicquote_sent INITIAL = {
	.version = 1, .dcidlen = 18,
	.dcid = {0xd1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0xd2},
};
static size_t initial(uint8_t *out)
{
	uint8_t *w = out;
	*w++ = 0xc3; /* long header, fixed bit, Initial, protected bits */
	memcpy(w, "\x00\x00\x00\x01", 4), w += 4;
	*w++ = 18;
	memcpy(w, INITIAL.dcid, 18), w += 18;
	*w++ = 8;
	memset(w, 0x5c, 8 + 31), w += 8 + 31; /* 64 bytes in all, as udp.c reads */
	return (size_t)(w - out);
}

static void match(void **state)
{
	(void)state;
	uint8_t q[64];
	size_t n = initial(q);
	assert_int_equal(quicquote_check(q, n, &INITIAL), QUICQUOTE_MATCH);
	/* Up to the DCID's end is enough; the protected bits are not compared. */
	assert_int_equal(quicquote_check(q, 24, &INITIAL), QUICQUOTE_MATCH);
	q[0] = 0x80;
	assert_int_equal(quicquote_check(q, n, &INITIAL), QUICQUOTE_MATCH);
	/* A zero-length DCID: the header up to its length byte. */
	struct quicquote_sent none = {.version = 1, .dcidlen = 0};
	assert_int_equal(quicquote_check(q, 6, &none), QUICQUOTE_OTHER); /* 18 here */
	q[5] = 0;
	assert_int_equal(quicquote_check(q, 6, &none), QUICQUOTE_MATCH);
}

static void short_quote(void **state)
{
	(void)state;
	uint8_t q[64];
	initial(q);
	/* None of the UDP payload (RFC 792: 8 bytes past the IP header, the
	 * UDP header alone), the first byte, the version, all but the ID's
	 * last byte: nothing contradicts, nothing confirms. */
	for (size_t n = 0; n < 24; n++)
		assert_int_equal(quicquote_check(q, n, &INITIAL), QUICQUOTE_SHORT);
	/* But what a short quote has must be ours. */
	uint8_t b[64];
	memcpy(b, q, sizeof(b));
	b[0] = 0x43; /* short header */
	assert_int_equal(quicquote_check(b, 1, &INITIAL), QUICQUOTE_OTHER);
	memcpy(b, q, sizeof(b));
	b[2] = 0xff;
	assert_int_equal(quicquote_check(b, 3, &INITIAL), QUICQUOTE_OTHER);
	assert_int_equal(quicquote_check(b, 2, &INITIAL), QUICQUOTE_SHORT);
	memcpy(b, q, sizeof(b));
	b[10] ^= 1;
	assert_int_equal(quicquote_check(b, 12, &INITIAL), QUICQUOTE_OTHER);
}

static void other(void **state)
{
	(void)state;
	uint8_t q[64], b[64];
	size_t n = initial(q);
	/* Short header; other versions (version negotiation's 0, v2, a probe's);
	 * other ID lengths; each byte of the ID. */
	struct { size_t at; uint8_t v; } edits[] = {
		{0, 0x40}, {0, 0x00}, {0, 0x7f}, {4, 0}, {1, 0x6b}, {1, 0x1a}, {4, 2},
		{5, 0}, {5, 8}, {5, 17}, {5, 19}, {5, 20}, {5, 255},
	};
	for (size_t k = 0; k < sizeof(edits) / sizeof(edits[0]); k++) {
		memcpy(b, q, n);
		b[edits[k].at] = edits[k].v;
		assert_int_equal(quicquote_check(b, n, &INITIAL), QUICQUOTE_OTHER);
	}
	for (size_t at = 6; at < 24; at++) {
		memcpy(b, q, n);
		b[at] ^= 0x80;
		assert_int_equal(quicquote_check(b, n, &INITIAL), QUICQUOTE_OTHER);
	}
	/* Garbage: bytes of a simple generator, never the header. */
	uint32_t x = 12345;
	for (int round = 0; round < 1000; round++) {
		for (size_t i = 0; i < sizeof(b); i++) {
			x = x * 1103515245u + 12345u;
			b[i] = (uint8_t)(x >> 16);
		}
		assert_int_equal(quicquote_check(b, sizeof(b), &INITIAL), QUICQUOTE_OTHER);
	}
	/* Another attempt's Initial (another ID). */
	struct quicquote_sent prev = INITIAL;
	prev.dcid[17] ^= 1;
	assert_int_equal(quicquote_check(q, n, &prev), QUICQUOTE_OTHER);
	/* A sent packet with an ID too long to be v1's matches nothing. */
	struct quicquote_sent bad = {.version = 1, .dcidlen = 21};
	memset(b, 0, sizeof(b));
	b[0] = 0xc0, b[4] = 1, b[5] = 21;
	assert_int_equal(quicquote_check(b, sizeof(b), &bad), QUICQUOTE_OTHER);
}

static void probe(void **state)
{
	(void)state;
	static const uint8_t id[PATHPROBE_ID_LEN] = {9, 8, 7, 6, 5, 4, 3, 2};
	struct pathprobe p;
	pathprobe_init(&p, id, 1452);
	uint8_t pkt[1452];
	struct quicquote_sent s;
	size_t n = pathprobe_write(&p, 3, pkt, sizeof(pkt));
	assert_true(quicquote_sent_of(pkt, n, &s));
	assert_int_equal(s.version, 0x1a2a3a4a);
	assert_int_equal(s.dcidlen, PATHPROBE_ID_LEN);
	assert_memory_equal(s.dcid, pkt + 6, PATHPROBE_ID_LEN);
	/* A router's quote of it, as much as fits in 576 bytes. */
	assert_int_equal(quicquote_check(pkt, 576 - 28, &s), QUICQUOTE_MATCH);
	/* Not the Initial, and the Initial not it. */
	uint8_t q[64];
	size_t qn = initial(q);
	assert_int_equal(quicquote_check(pkt, n, &INITIAL), QUICQUOTE_OTHER);
	assert_int_equal(quicquote_check(q, qn, &s), QUICQUOTE_OTHER);
	/* Another probe of the same attempt: another ID's last byte. */
	struct quicquote_sent s1;
	uint8_t pkt1[1452];
	assert_true(quicquote_sent_of(pkt1, pathprobe_write(&p, 1, pkt1, sizeof(pkt1)), &s1));
	assert_int_equal(quicquote_check(pkt, n, &s1), QUICQUOTE_OTHER);
	/* Not a long header to begin with. */
	for (size_t k = 0; k < 14; k++)
		assert_false(quicquote_sent_of(pkt, k, &s));
	assert_true(quicquote_sent_of(pkt, 14, &s));
	pkt[0] = 0x40;
	assert_false(quicquote_sent_of(pkt, n, &s));
	pkt[0] = 0xc0, pkt[5] = 21;
	assert_false(quicquote_sent_of(pkt, n, &s));
	pkt[5] = 20;
	assert_true(quicquote_sent_of(pkt, n, &s));
	assert_false(quicquote_sent_of(pkt, 25, &s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(match),
		cmocka_unit_test(short_quote),
		cmocka_unit_test(other),
		cmocka_unit_test(probe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
