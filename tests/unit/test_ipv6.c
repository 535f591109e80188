/* IPv6 header checks: every packet from the network is suspect. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "proto/ipv6.h"

/* fd00::2 -> fd00::3, payload bytes of next header 58 (ICMPv6). */
static void make(uint8_t *p, size_t len, unsigned payload)
{
	memset(p, 0, len);
	p[0] = 0x60;
	p[4] = (uint8_t)(payload >> 8);
	p[5] = (uint8_t)payload;
	p[6] = 58;
	p[7] = 64;
	inet_pton(AF_INET6, "fd00::2", p + 8);
	inet_pton(AF_INET6, "fd00::3", p + 24);
}

static void good_packet(void **state)
{
	(void)state;
	uint8_t p[104];
	struct ipv6_info ip;
	make(p, sizeof(p), 64);
	assert_int_equal(ipv6_parse(p, sizeof(p), &ip), IPV6_OK);
	assert_int_equal(ip.total_len, 104);
	assert_int_equal(ip.next_header, 58);
	assert_ptr_equal(ip.src, p + 8);
	assert_ptr_equal(ip.dst, p + 24);
	/* Trailing bytes past the packet are allowed, and not counted. */
	make(p, sizeof(p), 24);
	assert_int_equal(ipv6_parse(p, sizeof(p), &ip), IPV6_OK);
	assert_int_equal(ip.total_len, 64);
	/* No payload at all (next header 59). */
	make(p, sizeof(p), 0);
	assert_int_equal(ipv6_parse(p, 40, &ip), IPV6_OK);
	assert_int_equal(ip.total_len, 40);
}

static void bad_packets(void **state)
{
	(void)state;
	uint8_t p[104];
	struct ipv6_info ip;
	make(p, sizeof(p), 64);
	for (size_t n = 0; n < 40; n++)
		assert_int_equal(ipv6_parse(p, n, &ip), IPV6_SHORT);
	assert_int_equal(ipv6_parse(NULL, 100, &ip), IPV6_SHORT);
	assert_int_equal(ipv6_parse(p, 103, &ip), IPV6_BAD_LENGTH); /* one byte missing */
	make(p, sizeof(p), 65535);
	assert_int_equal(ipv6_parse(p, sizeof(p), &ip), IPV6_BAD_LENGTH);
	make(p, sizeof(p), 64);
	p[0] = 0x45;
	assert_int_equal(ipv6_parse(p, sizeof(p), &ip), IPV6_NOT_V6);
	p[0] = 0x00;
	assert_int_equal(ipv6_parse(p, sizeof(p), &ip), IPV6_NOT_V6);
	assert_string_equal(ipv6_result_str(IPV6_NOT_V6), "not IPv6");
	assert_string_equal(ipv6_result_str((enum ipv6_result)99), "unknown result");
}

static void link_scope(void **state)
{
	(void)state;
	struct {
		const char *a;
		bool link;
	} cases[] = {
		{"ff02::2", true},      /* all routers: a router solicitation's */
		{"ff02::16", true},     /* MLDv2 reports */
		{"ff0e::1", true},      /* multicast of any scope */
		{"fe80::1", true},
		{"febf::1", true},      /* still fe80::/10 */
		{"::", true},
		{"fec0::1", false},
		{"fd00::2", false},
		{"2001:db8::1", false},
		{"::1", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t a[16];
		assert_int_equal(inet_pton(AF_INET6, cases[i].a, a), 1);
		assert_int_equal(ipv6_link_scoped(a), cases[i].link);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_packet),
		cmocka_unit_test(bad_packets),
		cmocka_unit_test(link_scope),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
