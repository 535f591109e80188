/* IPv4 header checks: every packet from the network is suspect. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "proto/ipv4.h"

static void make(uint8_t *p, size_t len, unsigned ihl_words, unsigned total)
{
	memset(p, 0, len);
	p[0] = (uint8_t)(0x40 | ihl_words);
	p[2] = (uint8_t)(total >> 8);
	p[3] = (uint8_t)total;
	p[9] = 1; /* ICMP */
	uint32_t src = htonl(0x0a640002), dst = htonl(0x0a640003);
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
}

static void good_packet(void **state)
{
	(void)state;
	uint8_t p[84];
	struct ipv4_info ip;
	make(p, sizeof(p), 5, 84);
	assert_int_equal(ipv4_parse(p, sizeof(p), &ip), IPV4_OK);
	assert_int_equal(ip.header_len, 20);
	assert_int_equal(ip.total_len, 84);
	assert_int_equal(ip.protocol, 1);
	assert_int_equal(ntohl(ip.src), 0x0a640002);
	assert_int_equal(ntohl(ip.dst), 0x0a640003);
}

static void options_and_trailing_bytes(void **state)
{
	(void)state;
	uint8_t p[100];
	struct ipv4_info ip;
	make(p, sizeof(p), 6, 60); /* 24-byte header, 40 bytes of padding after the packet */
	assert_int_equal(ipv4_parse(p, sizeof(p), &ip), IPV4_OK);
	assert_int_equal(ip.header_len, 24);
	assert_int_equal(ip.total_len, 60);
}

static void short_packets(void **state)
{
	(void)state;
	uint8_t p[20];
	struct ipv4_info ip;
	make(p, sizeof(p), 5, 20);
	for (size_t n = 0; n < 20; n++)
		assert_int_equal(ipv4_parse(p, n, &ip), IPV4_SHORT);
	assert_int_equal(ipv4_parse(p, 20, &ip), IPV4_OK);
}

static void not_ipv4(void **state)
{
	(void)state;
	uint8_t p[48] = {0x60}; /* an IPv6 header, e.g. a router solicitation */
	struct ipv4_info ip;
	assert_int_equal(ipv4_parse(p, sizeof(p), &ip), IPV4_NOT_V4);
	p[0] = 0x00;
	assert_int_equal(ipv4_parse(p, sizeof(p), &ip), IPV4_NOT_V4);
}

static void bad_ihl(void **state)
{
	(void)state;
	uint8_t p[40];
	struct ipv4_info ip;
	make(p, sizeof(p), 4, 40);
	assert_int_equal(ipv4_parse(p, sizeof(p), &ip), IPV4_BAD_IHL);
	make(p, sizeof(p), 15, 40); /* 60-byte header in a 40-byte buffer */
	assert_int_equal(ipv4_parse(p, sizeof(p), &ip), IPV4_BAD_IHL);
}

static void bad_total_length(void **state)
{
	(void)state;
	uint8_t p[40];
	struct ipv4_info ip;
	make(p, sizeof(p), 5, 19);
	assert_int_equal(ipv4_parse(p, sizeof(p), &ip), IPV4_BAD_LENGTH);
	make(p, sizeof(p), 5, 41); /* claims more than arrived */
	assert_int_equal(ipv4_parse(p, sizeof(p), &ip), IPV4_BAD_LENGTH);
	assert_string_equal(ipv4_result_str(IPV4_BAD_LENGTH), "bad total length");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_packet),
		cmocka_unit_test(options_and_trailing_bytes),
		cmocka_unit_test(short_packets),
		cmocka_unit_test(not_ipv4),
		cmocka_unit_test(bad_ihl),
		cmocka_unit_test(bad_total_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
