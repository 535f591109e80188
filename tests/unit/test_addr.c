/* Addresses as settings give them: HOST[:PORT], IPv4 and IPv6 ADDR/N. The
 * forms the daemon's settings document parse; anything else is refused,
 * each case here with why, so that a loosened parser shows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "proto/addr.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void host_port_good(void **state)
{
	(void)state;
	static const struct {
		const char *in, *host, *port;
	} good[] = {
		{"192.0.2.1:443", "192.0.2.1", "443"},
		{"hub.example.org:4433", "hub.example.org", "4433"},
		{"hub.example.org", "hub.example.org", "4242"}, /* no port: the default */
		{"[::1]:443", "::1", "443"},
		{"[2001:db8::1]", "2001:db8::1", "4242"},
		{"[fe80::1%eth0]:1", "fe80::1%eth0", "1"},
		/* The port is the caller's to judge (config.c's check_hostport). */
		{"h:+1", "h", "+1"},
		{"h:0", "h", "0"},
		{"[::1]:1:2", "::1", "1:2"},
	};
	for (size_t i = 0; i < N(good); i++) {
		char *h = NULL, *p = NULL;
		if (host_port_split(good[i].in, "4242", &h, &p) != 0)
			fail_msg("'%s' refused", good[i].in);
		assert_string_equal(h, good[i].host);
		assert_string_equal(p, good[i].port);
		free(h), free(p);
	}
	/* A port of its own, or the default's. */
	assert_true(host_port_has_port("192.0.2.1:443"));
	assert_true(host_port_has_port("[::1]:443"));
	assert_false(host_port_has_port("hub.example.org"));
	assert_false(host_port_has_port("[2001:db8::1]"));
	assert_false(host_port_has_port("[fe80::1%eth0:1]"));
}

static void host_port_bad(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
		{"", "empty"},
		{":4242", "no host"},
		{"[]:4242", "empty brackets"},
		{"[]", "empty brackets, no port"},
		{"h:", "empty port"},
		{"[::1]:", "empty port after ']'"},
		{"::1", "bare IPv6 without brackets"},
		{"2001:db8::1:4242", "bare IPv6 with a port"},
		{"h:1:2", "two colons without brackets"},
		{"[::1", "']' missing"},
		{"[::1:4242", "']' missing, with a port"},
		{"[::1]4242", "no ':' after ']'"},
		{"[::1] :4242", "a space after ']'"},
		{"[a]]:1", "text after the first ']'"},
	};
	for (size_t i = 0; i < N(bad); i++) {
		char *h = NULL, *p = NULL;
		if (host_port_split(bad[i][0], "4242", &h, &p) != -1)
			fail_msg("'%s' (%s) accepted", bad[i][0], bad[i][1]);
		assert_null(h);
		assert_null(p);
	}
}

/* An address to lift a ban by: with its port as sessions list shows it, or
 * without. */
static void ip_port(void **state)
{
	(void)state;
	static const struct {
		const char *in, *addr;
		int family;
	} good[] = {
		{"192.0.2.7", "192.0.2.7", AF_INET},
		{"192.0.2.7:4242", "192.0.2.7", AF_INET},
		{"2001:db8::7", "2001:db8::7", AF_INET6},
		{"[2001:db8::7]", "2001:db8::7", AF_INET6},
		{"[2001:db8::7]:4242", "2001:db8::7", AF_INET6},
		{"::ffff:192.0.2.7", "::ffff:192.0.2.7", AF_INET6},
		{"[::ffff:192.0.2.7]:1", "::ffff:192.0.2.7", AF_INET6},
	};
	for (size_t i = 0; i < N(good); i++) {
		struct sockaddr_storage ss;
		char a[INET6_ADDRSTRLEN];
		if (ip_port_parse(good[i].in, &ss) != 0)
			fail_msg("'%s' refused", good[i].in);
		assert_int_equal(ss.ss_family, good[i].family);
		const void *bits = ss.ss_family == AF_INET
		                       ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
		                       : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
		assert_string_equal(inet_ntop(ss.ss_family, bits, a, sizeof(a)), good[i].addr);
	}
	static const char *const bad[][2] = {
		{"", "empty"},
		{"192.0.2", "three parts"},
		{"192.0.2.7:", "no port after ':'"},
		{"192.0.2.7:0", "port 0"},
		{"192.0.2.7:65536", "port too big"},
		{"192.0.2.7:+1", "a sign"},
		{"[192.0.2.7]", "IPv4 in brackets"},
		{"[2001:db8::7", "']' missing"},
		{"[2001:db8::7]x", "text after ']'"},
		{"2001:db8::7:4242:1:2:3:4:5", "too many groups"},
		{"host.example:4242", "a name"},
		{"2001:db8::/64", "a prefix"},
		{"192.0.2.7 ", "a space"},
	};
	for (size_t i = 0; i < N(bad); i++) {
		struct sockaddr_storage ss;
		if (ip_port_parse(bad[i][0], &ss) != -1)
			fail_msg("'%s' (%s) accepted", bad[i][0], bad[i][1]);
		assert_int_equal(ss.ss_family, AF_UNSPEC);
	}
}

static void ports(void **state)
{
	(void)state;
	assert_int_equal(port_parse("4242", 4), 4242);
	assert_int_equal(port_parse("65535", 5), 65535);
	assert_int_equal(port_parse("000080", 6), 80);
	assert_int_equal(port_parse("80/x", 2), 80); /* only the len bytes */
	const char *bad[] = {"", "0", "65536", "99999999999999999999", "+80", " 80", "80 ", "8a", "-1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (port_parse(bad[i], strlen(bad[i])) != -1)
			fail_msg("'%s' was taken as a port", bad[i]);
}

static void cidr4_good(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		uint32_t net;
		unsigned prefix;
	} good[] = {
		{"10.100.0.0/24", 0x0a640000u, 24},
		{"192.0.2.1/32", 0xc0000201u, 32},
		{"10.100.7.9/16", 0x0a640000u, 16}, /* host bits cleared */
		{"1.2.3.4/0", 0, 0},
		{"0.0.0.0/0", 0, 0},
		{"255.255.255.255/31", 0xfffffffeu, 31},
		{"10.0.0.0/8", 0x0a000000u, 8},
	};
	for (size_t i = 0; i < N(good); i++) {
		uint32_t n = 1;
		unsigned pl = 99;
		if (parse_cidr(good[i].in, &n, &pl) != 0)
			fail_msg("'%s' refused", good[i].in);
		assert_int_equal(n, good[i].net);
		assert_int_equal(pl, good[i].prefix);
	}
	uint32_t n;
	unsigned pl;
	assert_int_equal(parse_cidr(NULL, &n, &pl), -1);
}

static void cidr4_bad(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
		{"", "empty"},
		{"10.100.0.0", "no prefix"},
		{"10.100.0.0/", "empty prefix"},
		{"/24", "no address"},
		{"10.100.0.0/33", "prefix too long"},
		{"10.100.0.0/999", "prefix of three digits"},
		{"10.100.0.0/024", "prefix with a leading zero"},
		{"10.100.0.0/08", "prefix with a leading zero"},
		{"10.100.0.0/00", "prefix with a leading zero"},
		{"10.100.0.0/+4", "prefix with a sign"},
		{"10.100.0.0/-1", "prefix with a sign"},
		{"10.100.0.0/2a", "prefix not decimal"},
		{"10.100.0.0/1e1", "prefix not decimal"},
		{"10.100.0.0/24x", "text after the prefix"},
		{"10.100.0.0/24/24", "two prefixes"},
		{"10.100.0.0//24", "two slashes"},
		{"10.100.0.0/24\n", "newline after the prefix"},
		{"10.100.0.0/ 24", "space before the prefix"},
		{" 10.100.0.0/24", "leading space"},
		{"10.100.0.0 /24", "space before '/'"},
		{"10.100.0.0/24 ", "trailing space"},
		{"+10.100.0.0/24", "address with a sign"},
		{"010.100.0.0/24", "address part with a leading zero"},
		{"0x0a.100.0.0/24", "hexadecimal part"},
		{"10.100.0/24", "three parts"},
		{"167772160/8", "one number"},
		{"10.100.0.256/24", "part over 255"},
		{"10.100.0.0.0/24", "five parts"},
		{"255.255.255.255.255.255/8", "overlong address"},
		{"::1/64", "IPv6"},
	};
	for (size_t i = 0; i < N(bad); i++) {
		uint32_t n = 7;
		unsigned pl = 7;
		if (parse_cidr(bad[i][0], &n, &pl) != -1)
			fail_msg("'%s' (%s) accepted", bad[i][0], bad[i][1]);
		assert_int_equal(n, 7); /* nothing written */
		assert_int_equal(pl, 7);
	}
}

static void cidr6_good(void **state)
{
	(void)state;
	static const struct {
		const char *in, *net;
		unsigned prefix;
		int rv;
	} good[] = {
		{"::/0", "::", 0, 0},
		{"2001:db8::1/0", "::", 0, 1},
		{"::1/128", "::1", 128, 0},
		{"2001:db8:1::/48", "2001:db8:1::", 48, 0},
		{"fd00:1:2:3::/64", "fd00:1:2:3::", 64, 0},
		/* Host bits set: 1, and the network as it should have been written. */
		{"2001:db8::1/64", "2001:db8::", 64, 1},
		{"2001:db8::ff/121", "2001:db8::80", 121, 1},
		{"::ffff:192.0.2.1/96", "::ffff:0.0.0.0", 96, 1},
		{"0000:0000:0000:0000:0000:ffff:255.255.255.255/128", "::ffff:255.255.255.255", 128, 0},
	};
	for (size_t i = 0; i < N(good); i++) {
		struct cidr6 c;
		uint8_t want[16];
		assert_int_equal(inet_pton(AF_INET6, good[i].net, want), 1);
		int rv = parse_cidr6(good[i].in, &c);
		if (rv != good[i].rv)
			fail_msg("'%s': %d, not %d", good[i].in, rv, good[i].rv);
		assert_memory_equal(c.net, want, 16);
		assert_int_equal(c.prefix, good[i].prefix);
	}
}

static void cidr6_bad(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
		{"", "empty"},
		{"2001:db8::", "no prefix"},
		{"2001:db8::/", "empty prefix"},
		{"/64", "no address"},
		{"2001:db8::/129", "prefix too long"},
		{"2001:db8::/1000", "prefix of four digits"},
		{"2001:db8::/064", "prefix with a leading zero"},
		{"2001:db8::/00", "prefix with a leading zero"},
		{"2001:db8::/+64", "prefix with a sign"},
		{"2001:db8::/-1", "prefix with a sign"},
		{"2001:db8::/0x40", "prefix not decimal"},
		{"2001:db8::/64x", "text after the prefix"},
		{"2001:db8::/64/64", "two prefixes"},
		{"2001:db8::/64\n", "newline after the prefix"},
		{"2001:db8::/ 64", "space before the prefix"},
		{" 2001:db8::/64", "leading space"},
		{"2001:db8:: /64", "space before '/'"},
		{"2001:db8::/64 ", "trailing space"},
		{"[2001:db8::]/64", "brackets"},
		{"fe80::1%eth0/64", "a zone"},
		{"2001:db8:::/64", "three colons"},
		{"2001:db8::g/64", "not hexadecimal"},
		{"1:2:3:4:5:6:7:8:9/64", "nine groups"},
		{"10.0.0.0/8", "IPv4"},
		{"0000:0000:0000:0000:0000:0000:0000:0000:0000/64", "nine groups, 44 characters"},
	};
	for (size_t i = 0; i < N(bad); i++) {
		struct cidr6 c;
		if (parse_cidr6(bad[i][0], &c) != -1)
			fail_msg("'%s' (%s) accepted", bad[i][0], bad[i][1]);
	}
	/* Longer than any IPv6 address (45 characters at most): refused before
	 * inet_pton, the copy never overruns. */
	char big[300];
	memset(big, '0', sizeof(big));
	memcpy(big + sizeof(big) - 5, "::/0", 5);
	struct cidr6 c;
	assert_int_equal(parse_cidr6(big, &c), -1);
}

static void v4(const char *a, uint8_t out[4])
{
	assert_int_equal(inet_pton(AF_INET, a, out), 1);
}

static void v6(const char *a, uint8_t out[16])
{
	assert_int_equal(inet_pton(AF_INET6, a, out), 1);
}

static void prefix_set_v4(void **state)
{
	(void)state;
	struct prefix_set s = {0};
	uint8_t a[4];
	v4("198.51.100.2", a);
	assert_false(prefix_set_holds(&s, a));
	v4("198.51.100.0", a);
	prefix_set_add(&s, a, 24, 4);
	v4("192.0.2.11", a);
	prefix_set_add(&s, a, 32, 4);
	const char *in[] = {"198.51.100.0", "198.51.100.2", "198.51.100.255", "192.0.2.11"};
	const char *out[] = {"198.51.101.1", "198.51.99.255", "192.0.2.12", "10.100.0.1", "8.8.8.8"};
	for (size_t i = 0; i < N(in); i++) {
		v4(in[i], a);
		if (!prefix_set_holds(&s, a))
			fail_msg("%s not held", in[i]);
	}
	for (size_t i = 0; i < N(out); i++) {
		v4(out[i], a);
		if (prefix_set_holds(&s, a))
			fail_msg("%s held", out[i]);
	}
	/* An address of a network already there takes no room. */
	v4("198.51.100.7", a);
	prefix_set_add(&s, a, 32, 4);
	assert_int_equal(s.n, 2);
	/* A wider network whose first address a narrower one holds is added
	 * all the same, and takes the narrower's place. */
	v4("198.51.0.0", a);
	prefix_set_add(&s, a, 16, 4);
	assert_int_equal(s.n, 2);
	v4("198.51.5.1", a);
	assert_true(prefix_set_holds(&s, a));
	v4("198.51.100.2", a);
	assert_true(prefix_set_holds(&s, a));
	/* The narrower first, at the wider's start (10.0.0.0/24, then /16). */
	struct prefix_set t = {0};
	v4("10.0.0.0", a);
	prefix_set_add(&t, a, 24, 4);
	prefix_set_add(&t, a, 16, 4);
	assert_int_equal(t.n, 1);
	v4("10.0.5.1", a);
	assert_true(prefix_set_holds(&t, a));
	/* An odd prefix: 10.0.0.0/9 is 10.0.0.0 to 10.127.255.255. */
	v4("10.0.0.0", a);
	prefix_set_add(&s, a, 9, 4);
	v4("10.127.255.255", a);
	assert_true(prefix_set_holds(&s, a));
	v4("10.128.0.0", a);
	assert_false(prefix_set_holds(&s, a));
}

static void prefix_set_v6(void **state)
{
	(void)state;
	struct prefix_set s = {0};
	uint8_t a[16];
	v6("2001:db8:5::", a);
	prefix_set_add(&s, a, 64, 16);
	v6("2001:db8:77::7", a);
	prefix_set_add(&s, a, 128, 16);
	v6("2001:db8:5::1", a);
	assert_true(prefix_set_holds(&s, a));
	v6("2001:db8:5:0:ffff:ffff:ffff:ffff", a);
	assert_true(prefix_set_holds(&s, a));
	v6("2001:db8:77::7", a);
	assert_true(prefix_set_holds(&s, a));
	v6("2001:db8:77::8", a);
	assert_false(prefix_set_holds(&s, a));
	v6("2001:db8:5:1::1", a);
	assert_false(prefix_set_holds(&s, a));
	v6("fd00:1:2:3::1", a);
	assert_false(prefix_set_holds(&s, a));
}

/* put keeps networks one inside another (the longest match is what
 * counts); longest gives the longest that holds an address. */
static void prefix_set_longest_match(void **state)
{
	(void)state;
	struct prefix_set s = {0};
	uint8_t a[4];
	v4("0.0.0.0", a);
	prefix_set_put(&s, a, 1, 4);
	v4("198.51.100.128", a);
	prefix_set_put(&s, a, 25, 4);
	prefix_set_put(&s, a, 25, 4); /* the same twice: one */
	v4("198.51.0.0", a);
	prefix_set_put(&s, a, 16, 4);
	assert_int_equal(s.n, 3);
	v4("198.51.100.200", a);
	assert_int_equal(prefix_set_longest(&s, a), 25);
	v4("198.51.100.2", a);
	assert_int_equal(prefix_set_longest(&s, a), 16);
	v4("10.0.0.1", a);
	assert_int_equal(prefix_set_longest(&s, a), 1);
	v4("200.0.0.1", a);
	assert_int_equal(prefix_set_longest(&s, a), -1);
	for (unsigned i = 0; i < PREFIX_SET_MAX; i++) {
		uint8_t n[4] = {10, (uint8_t)i, 0, 0};
		prefix_set_put(&s, n, 16, 4);
	}
	assert_true(s.full);
	assert_int_equal(s.n, PREFIX_SET_MAX);
}

/* Past PREFIX_SET_MAX networks, the rest are left out (and said so):
 * nothing is written beyond the table. */
static void prefix_set_full(void **state)
{
	(void)state;
	struct prefix_set s = {0};
	uint8_t a[4] = {10, 0, 0, 0};
	for (unsigned i = 0; i < PREFIX_SET_MAX; i++) {
		a[1] = (uint8_t)i;
		prefix_set_add(&s, a, 16, 4);
	}
	assert_int_equal(s.n, PREFIX_SET_MAX);
	assert_false(s.full);
	a[1] = PREFIX_SET_MAX;
	prefix_set_add(&s, a, 16, 4);
	assert_int_equal(s.n, PREFIX_SET_MAX);
	assert_true(s.full);
	assert_false(prefix_set_holds(&s, a));
	a[1] = PREFIX_SET_MAX - 1;
	assert_true(prefix_set_holds(&s, a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_port_good),
		cmocka_unit_test(host_port_bad),
		cmocka_unit_test(ports),
		cmocka_unit_test(ip_port),
		cmocka_unit_test(cidr4_good),
		cmocka_unit_test(cidr4_bad),
		cmocka_unit_test(cidr6_good),
		cmocka_unit_test(cidr6_bad),
		cmocka_unit_test(prefix_set_v4),
		cmocka_unit_test(prefix_set_v6),
		cmocka_unit_test(prefix_set_full),
		cmocka_unit_test(prefix_set_longest_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
