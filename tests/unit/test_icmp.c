/* ICMP "fragmentation needed" for packets too big for the connection. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>

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
	/* An MTU below IPv4's 576 (a peer that takes tiny datagrams): no
	 * sender is taught it; 576 itself is answered. */
	packet(p, 6, 0x4000, 0);
	assert_int_equal(icmp4_frag_needed(p, sizeof(p), 1, 61, out, sizeof(out)), 0);
	assert_int_equal(icmp4_frag_needed(p, sizeof(p), 1, 575, out, sizeof(out)), 0);
	assert_int_equal(icmp4_frag_needed(p, sizeof(p), 1, 576, out, sizeof(out)), 56);
	/* A sender no host can be (0/8, 127/8, multicast): no answer. */
	static const char *const srcs[] = {"\x00\x00\x00\x05", "\x7f\x00\x00\x01", "\xe0\x00\x00\x01",
	                                   "\xff\xff\xff\xff"};
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		packet(p, 6, 0x4000, 0);
		memcpy(p + 12, srcs[i], 4);
		assert_int_equal(icmp4_frag_needed(p, sizeof(p), 1, 1217, out, sizeof(out)), 0);
	}
}

/* A 1280-byte IPv6 packet fd00::2 -> 2001:db8::7 whose first header after
 * the fixed one is nh; byte first_byte starts the upper-layer header. */
static void packet6(uint8_t *p, uint8_t nh, uint8_t first_byte)
{
	memset(p, 0, 1280);
	p[0] = 0x60;
	p[4] = (1280 - 40) >> 8, p[5] = (1280 - 40) & 255;
	p[6] = nh, p[7] = 64;
	inet_pton(AF_INET6, "fd00::2", p + 8);
	inet_pton(AF_INET6, "2001:db8::7", p + 24);
	p[40] = first_byte;
	for (int i = 41; i < 1280; i++)
		p[i] = (uint8_t)i;
}

/* The ICMPv6 checksum: the pseudo-header and the message sum to 0xffff. */
static uint16_t sum6(const uint8_t *out, size_t n)
{
	uint8_t pseudo[40];
	memcpy(pseudo, out + 8, 32);
	uint32_t len = (uint32_t)(n - 40);
	pseudo[32] = (uint8_t)(len >> 24), pseudo[33] = (uint8_t)(len >> 16);
	pseudo[34] = (uint8_t)(len >> 8), pseudo[35] = (uint8_t)len;
	pseudo[36] = pseudo[37] = pseudo[38] = 0, pseudo[39] = 58;
	uint32_t s = (uint32_t)sum16(pseudo, 40) + sum16(out + 40, n - 40);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void packet_too_big(void **state)
{
	(void)state;
	uint8_t p[1280], out[1280], from[16];
	inet_pton(AF_INET6, "fd00::1", from);
	packet6(p, 6, 0x9c);                                     /* TCP */
	size_t n = icmp6_packet_too_big(p, sizeof(p), from, 1300, out, sizeof(out));
	assert_int_equal(n, 1280);                               /* quotes up to the minimum MTU */
	assert_int_equal(out[0] >> 4, 6);
	assert_int_equal(out[4] << 8 | out[5], 1240);            /* payload length */
	assert_int_equal(out[6], 58);
	assert_memory_equal(out + 8, from, 16);                  /* from the router */
	assert_memory_equal(out + 24, p + 8, 16);                /* to the sender */
	assert_int_equal(out[40], 2);                            /* packet too big */
	assert_int_equal(out[41], 0);
	assert_int_equal((uint32_t)out[44] << 24 | out[45] << 16 | out[46] << 8 | out[47], 1300);
	assert_memory_equal(out + 48, p, 1232);
	assert_int_equal(sum6(out, n), 0xffff);
	/* A smaller buffer: a shorter quote. */
	n = icmp6_packet_too_big(p, sizeof(p), from, 1280, out, 200);
	assert_int_equal(n, 200);
	assert_int_equal(out[4] << 8 | out[5], 160);
	assert_int_equal(sum6(out, n), 0xffff);
	/* A short packet is quoted whole. */
	p[4] = 0, p[5] = 60;
	n = icmp6_packet_too_big(p, sizeof(p), from, 1280, out, sizeof(out));
	assert_int_equal(n, 48 + 100);
	assert_memory_equal(out + 48, p, 100);
	/* An echo request past a hop-by-hop header and a first fragment. */
	packet6(p, 0, 44);                                       /* HBH, next: fragment */
	p[41] = 0;                                               /* 8 bytes */
	p[48] = 58, p[50] = 0, p[51] = 1;                        /* fragment, offset 0, M */
	p[56] = 128;                                             /* echo request */
	n = icmp6_packet_too_big(p, sizeof(p), from, 1280, out, sizeof(out));
	assert_int_equal(n, 1280);
	assert_int_equal(sum6(out, n), 0xffff);
	/* An MTU too large for the field is sent as its largest value. */
	packet6(p, 17, 0);
	assert_int_equal(icmp6_packet_too_big(p, sizeof(p), from, (size_t)1 << 40, out, 100), 100);
	assert_int_equal(out[44] & out[45] & out[46] & out[47], 0xff);
}

static void no_packet_too_big_due(void **state)
{
	(void)state;
	uint8_t p[1280], out[1280], from[16] = {0xfd, [15] = 1};
	packet6(p, 58, 1);                                       /* an ICMPv6 error */
	assert_int_equal(icmp6_packet_too_big(p, sizeof(p), from, 1280, out, sizeof(out)), 0);
	packet6(p, 60, 0);                                       /* dst options, then an error */
	p[40] = 58, p[41] = 0, p[48] = 2;
	assert_int_equal(icmp6_packet_too_big(p, sizeof(p), from, 1280, out, sizeof(out)), 0);
	packet6(p, 44, 17);                                      /* a later fragment */
	p[42] = 0x05, p[43] = 0x00;
	assert_int_equal(icmp6_packet_too_big(p, sizeof(p), from, 1280, out, sizeof(out)), 0);
	packet6(p, 60, 0);                                       /* options past the packet */
	p[4] = 0, p[5] = 8, p[40] = 17, p[41] = 5;
	assert_int_equal(icmp6_packet_too_big(p, 48, from, 1280, out, sizeof(out)), 0);
	packet6(p, 6, 0);
	memset(p + 8, 0, 16);                                    /* from :: */
	assert_int_equal(icmp6_packet_too_big(p, sizeof(p), from, 1280, out, sizeof(out)), 0);
	p[8] = 0xff;                                             /* from a multicast address */
	assert_int_equal(icmp6_packet_too_big(p, sizeof(p), from, 1280, out, sizeof(out)), 0);
	packet6(p, 6, 0);
	assert_int_equal(icmp6_packet_too_big(p, sizeof(p), from, 1217, out, sizeof(out)), 0); /* < 1280 */
	assert_int_equal(icmp6_packet_too_big(p, sizeof(p), from, 1280, out, 87), 0);  /* no room */
	assert_int_equal(icmp6_packet_too_big(p, 1279, from, 1280, out, sizeof(out)), 0); /* cut */
	p[0] = 0x45;                                             /* IPv4 */
	assert_int_equal(icmp6_packet_too_big(p, sizeof(p), from, 1280, out, sizeof(out)), 0);
}

/* Errors from the hub are for the client's own packets only. */
static void foreign_errors(void **state)
{
	(void)state;
	uint8_t p[1280], out[96], own[4] = {10, 100, 0, 2}, other[4] = {10, 100, 0, 3};
	uint32_t from;
	inet_pton(AF_INET, "10.100.0.1", &from);
	packet(p, 6, 0x4000, 0x9c);                              /* TCP from 10.100.0.2, DF */
	size_t n = icmp4_frag_needed(p, sizeof(p), from, 1200, out, sizeof(out));
	assert_true(n > 0);
	assert_false(icmp_error_foreign(out, n, own));          /* about our packet */
	assert_true(icmp_error_foreign(out, n, other));         /* about someone else's */
	out[20] = 11;                                            /* time exceeded: an error too */
	assert_true(icmp_error_foreign(out, n, other));
	out[20] = 0;                                             /* echo reply: not an error */
	assert_false(icmp_error_foreign(out, n, other));
	out[20] = 3;
	out[2] = 0, out[3] = 28 + 12;                            /* quote cut before its source */
	assert_true(icmp_error_foreign(out, 40, own));
	out[2] = 0, out[3] = (uint8_t)n;
	out[7] = 1;                                              /* a later fragment: nothing to judge */
	assert_false(icmp_error_foreign(out, n, other));
	assert_false(icmp_error_foreign(p, sizeof(p), other));  /* not ICMP */
	assert_false(icmp_error_foreign(out, 10, other));       /* not IPv4 at all */

	uint8_t p6[1280], out6[1280], from6[16], own6[16], other6[16];
	inet_pton(AF_INET6, "fd00::1", from6);
	inet_pton(AF_INET6, "fd00::2", own6);
	inet_pton(AF_INET6, "fd00::3", other6);
	packet6(p6, 6, 0x9c);                                    /* TCP from fd00::2 */
	n = icmp6_packet_too_big(p6, sizeof(p6), from6, 1300, out6, sizeof(out6));
	assert_true(n > 0);
	assert_false(icmp_error_foreign(out6, n, own6));
	assert_true(icmp_error_foreign(out6, n, other6));
	out6[40] = 129;                                          /* echo reply */
	assert_false(icmp_error_foreign(out6, n, other6));
	out6[40] = 1;                                            /* unreachable, cut short */
	out6[4] = 0, out6[5] = 8 + 20;
	assert_true(icmp_error_foreign(out6, 40 + 8 + 20, own6));
}

/* The destination of the packet an error quotes: the client holds it
 * against its routes into the tunnel. */
static void quoted_destination(void **state)
{
	(void)state;
	uint8_t p[1280], out[96], dst[16] = {0};
	uint32_t from;
	inet_pton(AF_INET, "10.100.0.1", &from);
	packet(p, 6, 0x4000, 0x9c);                              /* TCP 10.100.0.2 -> 198.51.100.7 */
	size_t n = icmp4_frag_needed(p, sizeof(p), from, 1200, out, sizeof(out));
	assert_true(icmp_error_quoted_dst(out, n, dst));
	assert_memory_equal(dst, "\xc6\x33\x64\x07", 4);
	out[20] = 5;                                             /* a redirect: an error too */
	assert_true(icmp_error_quoted_dst(out, n, dst));
	out[20] = 0;                                             /* echo reply: no quote */
	assert_false(icmp_error_quoted_dst(out, n, dst));
	out[20] = 3;
	out[2] = 0, out[3] = 28 + 19;                            /* quote cut before its end */
	assert_false(icmp_error_quoted_dst(out, 28 + 19, dst));
	out[3] = 28 + 20;
	assert_true(icmp_error_quoted_dst(out, 28 + 20, dst));
	out[2] = 0, out[3] = (uint8_t)n;
	out[7] = 1;                                              /* a later fragment */
	assert_false(icmp_error_quoted_dst(out, n, dst));
	assert_false(icmp_error_quoted_dst(p, sizeof(p), dst));  /* not ICMP */

	uint8_t p6[1280], out6[1280], from6[16], want6[16];
	inet_pton(AF_INET6, "fd00::1", from6);
	packet6(p6, 6, 0x9c);
	memcpy(want6, p6 + 24, 16);
	n = icmp6_packet_too_big(p6, sizeof(p6), from6, 1300, out6, sizeof(out6));
	assert_true(icmp_error_quoted_dst(out6, n, dst));
	assert_memory_equal(dst, want6, 16);
	out6[40] = 129;                                          /* echo reply */
	assert_false(icmp_error_quoted_dst(out6, n, dst));
	out6[40] = 1;                                            /* cut before the destination's end */
	out6[4] = 0, out6[5] = 8 + 39;
	assert_false(icmp_error_quoted_dst(out6, 40 + 8 + 39, dst));
	out6[5] = 8 + 40;
	assert_true(icmp_error_quoted_dst(out6, 40 + 8 + 40, dst));
}

/* pkt (an IPv6 packet of n bytes) with k destination options headers (8
 * bytes, padding only) after its fixed header, into out; its length. */
static size_t behind_dstopts(uint8_t *out, const uint8_t *pkt, size_t n, size_t k)
{
	memcpy(out, pkt, 40);
	out[6] = 60;
	for (size_t i = 0; i < k; i++) {
		uint8_t *h = out + 40 + 8 * i;
		memset(h, 0, 8);
		h[0] = i + 1 < k ? 60 : pkt[6];
		h[2] = 1, h[3] = 4;                                  /* PadN, 4 bytes */
	}
	memcpy(out + 40 + 8 * k, pkt + 40, n - 40);
	size_t pl = n - 40 + 8 * k;
	out[4] = (uint8_t)(pl >> 8), out[5] = (uint8_t)pl;
	return n + 8 * k;
}

/* An ICMPv6 error behind extension headers is judged as one without them,
 * however many there are (Linux walks them all, and a chain it can walk
 * but we could not let another client's forged "packet too big" through),
 * and one whose headers cannot be walked to the end is foreign. */
static void foreign_errors_behind_headers(void **state)
{
	(void)state;
	uint8_t p6[1280], err[200], out[1400], from6[16], own6[16], other6[16];
	inet_pton(AF_INET6, "fd00::1", from6);
	inet_pton(AF_INET6, "fd00::2", own6);
	inet_pton(AF_INET6, "fd00::3", other6);
	packet6(p6, 17, 0x9c);                                   /* UDP from fd00::2 */
	size_t n = icmp6_packet_too_big(p6, sizeof(p6), from6, 1300, err, sizeof(err));
	assert_int_equal(n, 200);
	static const size_t ks[] = {1, 7, 8, 9, 40, 100};
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		size_t m = behind_dstopts(out, err, n, ks[i]);
		assert_false(icmp_error_foreign(out, m, own6));
		assert_true(icmp_error_foreign(out, m, other6));
	}
	/* Behind an authentication header of 24 bytes (length field 4: in
	 * 4-byte units, less 2). */
	memcpy(out, err, 40);
	out[6] = 51;
	memset(out + 40, 0, 24);
	out[40] = 58, out[41] = 4;
	memcpy(out + 64, err + 40, n - 40);
	out[4] = 0, out[5] = (uint8_t)(n - 40 + 24);
	assert_false(icmp_error_foreign(out, n + 24, own6));
	assert_true(icmp_error_foreign(out, n + 24, other6));
	/* An options header that runs past the packet, after 9 that do not:
	 * what follows cannot be seen. */
	size_t m = behind_dstopts(out, err, n, 10);
	out[40 + 8 * 9 + 1] = 200;
	assert_true(icmp_error_foreign(out, m, own6));
	/* A first fragment whose headers go on into the next: the kernel
	 * reassembles them, an error may be behind. */
	memcpy(out, err, 40);
	out[6] = 44;
	memset(out + 40, 0, 16);
	out[40] = 60, out[43] = 1;                               /* offset 0, more to come */
	out[48] = 58, out[49] = 10;                              /* 88 bytes of options */
	out[4] = 0, out[5] = 16;
	assert_true(icmp_error_foreign(out, 56, own6));
	/* ICMPv6 with no header at all. */
	out[6] = 58, out[5] = 0;
	assert_true(icmp_error_foreign(out, 40, own6));
	/* A later fragment: nothing in it to judge (the first was judged). */
	out[6] = 44, out[5] = 16;
	out[40] = 58, out[42] = 0x05, out[43] = 0x00;
	assert_false(icmp_error_foreign(out, 56, other6));
	/* Anything else behind headers is no error: TCP, or no next header. */
	packet6(p6, 6, 0x9c);
	m = behind_dstopts(out, p6, 200, 20);
	assert_false(icmp_error_foreign(out, m, other6));
	packet6(p6, 59, 0);
	m = behind_dstopts(out, p6, 200, 20);
	assert_false(icmp_error_foreign(out, m, other6));
}

/* Every type and code of both families: the kind, and a reason exactly
 * for unreachables, cut to any room. */
static void error_kinds(void **state)
{
	(void)state;
	char why[200];
	for (int v6 = 0; v6 < 2; v6++)
		for (int type = 0; type < 256; type++)
			for (int code = 0; code < 256; code++) {
				memset(why, 'x', sizeof(why));
				enum icmp_kind k = icmp_error_kind(v6, (uint8_t)type, (uint8_t)code, why,
				                                   sizeof(why));
				bool unreach = type == (v6 ? 1 : 3) && !(!v6 && code == 4);
				bool too_big = v6 ? type == 2 : type == 3 && code == 4;
				assert_int_equal(k, unreach ? ICMP_KIND_UNREACHABLE
				                            : too_big ? ICMP_KIND_TOO_BIG : ICMP_KIND_OTHER);
				assert_true(memchr(why, 0, sizeof(why)) != NULL);
				assert_int_equal(strlen(why) > 0, unreach);
			}
	/* The ones an attempt meets, in words. */
	icmp_error_kind(false, 3, 3, why, sizeof(why));
	assert_true(strncmp(why, "port unreachable: ", 18) == 0);
	icmp_error_kind(true, 1, 4, why, sizeof(why));
	assert_true(strncmp(why, "port unreachable: ", 18) == 0);
	icmp_error_kind(false, 3, 1, why, sizeof(why));
	assert_true(strncmp(why, "host unreachable: ", 18) == 0);
	icmp_error_kind(true, 1, 3, why, sizeof(why));
	assert_true(strncmp(why, "host unreachable: ", 18) == 0);
	icmp_error_kind(true, 1, 0, why, sizeof(why));
	assert_true(strncmp(why, "network unreachable: ", 21) == 0);
	icmp_error_kind(false, 3, 13, why, sizeof(why));
	assert_true(strncmp(why, "communication prohibited: ", 26) == 0);
	icmp_error_kind(true, 1, 1, why, sizeof(why));
	assert_true(strncmp(why, "communication prohibited: ", 26) == 0);
	icmp_error_kind(false, 3, 200, why, sizeof(why));
	assert_string_equal(why, "destination unreachable (code 200)");
	/* No room, or little. */
	why[0] = 'x';
	assert_int_equal(icmp_error_kind(false, 3, 3, why, 0), ICMP_KIND_UNREACHABLE);
	assert_int_equal(why[0], 'x');
	assert_int_equal(icmp_error_kind(false, 3, 3, why, 5), ICMP_KIND_UNREACHABLE);
	assert_string_equal(why, "port");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(answer_to_tcp_with_df),
		cmocka_unit_test(no_answer_due),
		cmocka_unit_test(packet_too_big),
		cmocka_unit_test(no_packet_too_big_due),
		cmocka_unit_test(foreign_errors),
		cmocka_unit_test(quoted_destination),
		cmocka_unit_test(foreign_errors_behind_headers),
		cmocka_unit_test(error_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
