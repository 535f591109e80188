/* resolv.conf's nameserver lines (proto/nameserver.c), as glibc reads
 * them: what the client checks against a hub's VPN subnet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "proto/nameserver.h"

static void assert_ns(const struct nameserver *ns, int family, const char *addr)
{
	uint8_t want[16] = {0};
	assert_int_equal(ns->family, family);
	assert_int_equal(inet_pton(family, addr, want), 1);
	assert_memory_equal(ns->addr, want, family == AF_INET6 ? 16 : 4);
}

static void test_servers(void **state)
{
	(void)state;
	static const char text[] = "# a comment\n"
	                           "search example.com\n"
	                           "nameserver 198.51.100.53\n"
	                           "nameserver\t 2001:db8::53%eth0 # a zone and a comment\n"
	                           "nameserver 192.0.2.1\r\n"
	                           "options edns0\n"
	                           "nameserver 203.0.113.9"; /* no '\n' at the end */
	struct nameserver ns[8];
	assert_int_equal(nameservers_parse(text, strlen(text), ns, 8), 4);
	assert_ns(&ns[0], AF_INET, "198.51.100.53");
	assert_ns(&ns[1], AF_INET6, "2001:db8::53");
	assert_ns(&ns[2], AF_INET, "192.0.2.1");
	assert_ns(&ns[3], AF_INET, "203.0.113.9");
}

static void test_not_servers(void **state)
{
	(void)state;
	static const char text[] = " nameserver 198.51.100.1\n"   /* not at the line's start */
	                           "#nameserver 198.51.100.2\n"
	                           ";nameserver 198.51.100.3\n"
	                           "nameservers 198.51.100.4\n"
	                           "nameserver\n"
	                           "nameserver   \n"
	                           "nameserver 198.51.100.256\n"
	                           "nameserver dns.example.com\n"
	                           "nameserver 198.51.100.5x\n"
	                           "NAMESERVER 198.51.100.6\n"
	                           "nameserver 1111:2222:3333:4444:5555:6666:7777:8888:9999\n";
	struct nameserver ns[8];
	assert_int_equal(nameservers_parse(text, strlen(text), ns, 8), 0);
	assert_int_equal(nameservers_parse(NULL, 0, ns, 8), 0);
}

/* More than max: counted, only max written; a NUL inside a line is no
 * address's end. */
static void test_bounds(void **state)
{
	(void)state;
	static const char text[] = "nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n";
	struct nameserver ns[3] = {{0}};
	assert_int_equal(nameservers_parse(text, strlen(text), ns, 2), 3);
	assert_ns(&ns[1], AF_INET, "10.0.0.2");
	assert_int_equal(ns[2].family, 0);
	static const char nul[] = "nameserver 10.0.0.1\0junk\nnameserver 10.0.0.9\n";
	assert_int_equal(nameservers_parse(nul, sizeof(nul) - 1, ns, 2), 1);
	assert_ns(&ns[0], AF_INET, "10.0.0.9");
	/* Cut short: the address ends with the text. */
	assert_int_equal(nameservers_parse(text, 18, ns, 2), 0);
	assert_int_equal(nameservers_parse(text, 19, ns, 2), 1);
	assert_ns(&ns[0], AF_INET, "10.0.0.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_servers),
		cmocka_unit_test(test_not_servers),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
