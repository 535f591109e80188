/* ICMP "fragmentation needed" for packets too big for the connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/icmp.h"


static uint16_t sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* A 1280-byte IPv4 packet 10.100.0.2 -> 198.51.100.7 of protocol proto. */
static void packet(uint8_t *p, uint8_t proto, uint16_t frag, uint8_t first_byte)
{
	memset(p, 0, 1280);
	p[0] = 0x45;
	p[2] = 1280 >> 8, p[3] = 1280 & 255;
	p[6] = (uint8_t)(frag >> 8), p[7] = (uint8_t)frag;
	p[8] = 64, p[9] = proto;
	memcpy(p + 12, "\x0a\x64\x00\x02", 4);
	memcpy(p + 16, "\xc6\x33\x64\x07", 4);
	p[20] = first_byte;            /* TCP: source port high byte; ICMP: type */
	for (int i = 21; i < 28; i++)
		p[i] = (uint8_t)i;
}

static void answer_to_tcp_with_df(void **state)
{
	(void)state;
	uint8_t p[1280], out[96];
	uint32_t from;
	memcpy(&from, "\x0a\x64\x00\x01", 4);
	packet(p, 6, 0x4000, 0x9c);
	size_t n = icmp4_frag_needed(p, sizeof(p), from, 1217, out, sizeof(out));
	assert_int_equal(n, 20 + 8 + 28);
	assert_int_equal(out[0], 0x45);
	assert_int_equal(out[2] << 8 | out[3], n);
	assert_int_equal(out[9], 1);
	assert_memory_equal(out + 12, "\x0a\x64\x00\x01", 4);   /* from the router */
	assert_memory_equal(out + 16, "\x0a\x64\x00\x02", 4);   /* to the sender */
	assert_int_equal(sum16(out, 20), 0xffff);               /* header checksum */
	assert_int_equal(out[20], 3);
	assert_int_equal(out[21], 4);
	assert_int_equal(out[26] << 8 | out[27], 1217);         /* next-hop MTU */
	assert_memory_equal(out + 28, p, 28);                   /* header + 8 bytes */
	assert_int_equal(sum16(out + 20, n - 20), 0xffff);      /* ICMP checksum */
	/* An MTU that does not fit the field is sent as the largest that does. */
	assert_int_equal(icmp4_frag_needed(p, sizeof(p), from, 70000, out, sizeof(out)), n);
	assert_int_equal(out[26] << 8 | out[27], 65535);
	/* An echo request is answered too. */
	packet(p, 1, 0x4000, 8);
	assert_int_equal(icmp4_frag_needed(p, sizeof(p), from, 1217, out, sizeof(out)), 56);
}

static void no_answer_due(void **state)
{
	(void)state;
	uint8_t p[1280], out[96];
	packet(p, 6, 0x0000, 0);                                 /* no DF: it may be fragmented */
	assert_int_equal(icmp4_frag_needed(p, sizeof(p), 1, 1217, out, sizeof(out)), 0);
	packet(p, 6, 0x4000 | 0x00b9, 0);                        /* a later fragment */
	assert_int_equal(icmp4_frag_needed(p, sizeof(p), 1, 1217, out, sizeof(out)), 0);
	packet(p, 1, 0x4000, 3);                                 /* an ICMP error itself */
	assert_int_equal(icmp4_frag_needed(p, sizeof(p), 1, 1217, out, sizeof(out)), 0);
	packet(p, 6, 0x4000, 0);
	assert_int_equal(icmp4_frag_needed(p, 19, 1, 1217, out, sizeof(out)), 0);    /* short */
	assert_int_equal(icmp4_frag_needed(p, 1279, 1, 1217, out, sizeof(out)), 0);  /* total > len */
	assert_int_equal(icmp4_frag_needed(p, sizeof(p), 1, 1217, out, 55), 0);      /* no room */
	p[0] = 0x60;                                             /* IPv6 */
	assert_int_equal(icmp4_frag_needed(p, sizeof(p), 1, 1217, out, sizeof(out)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(answer_to_tcp_with_df),
		cmocka_unit_test(no_answer_due),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
