/* peers.json: what the hub writes it reads back; anything else is refused
 * with the place named. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/peerfile.h"

static char err[256];

static int parse(const char *s, struct peer_entry **v, size_t *n)
{
	err[0] = '\0';
	return peerfile_parse(s, strlen(s), v, n, err, sizeof(err));
}

static void round_trip(void **state)
{
	(void)state;
	struct peer_entry in[2] = {0};
	assert_int_equal(peer_addr_parse("192.0.2.11:40000", &in[0].remote, &in[0].remotelen), 0);
	in[0].ncid = 2;
	in[0].cid[0] = (struct peer_cid){.len = 16, .data = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xff}};
	in[0].cid[1] = (struct peer_cid){.len = 1, .data = {0x00}};
	assert_int_equal(peer_addr_parse("[2001:db8::7]:4242", &in[1].remote, &in[1].remotelen), 0);
	/* The hub's own address the client uses, when it has several. */
	assert_int_equal(peer_addr_parse("[2001:db8::2]:4242", &in[1].local, &in[1].locallen), 0);
	char *text = peerfile_format(in, 2);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"192.0.2.11:40000\""));
	assert_non_null(strstr(text, "\"deadbeef0102030405060708090a0bff\""));
	assert_non_null(strstr(text, "\"[2001:db8::7]:4242\""));
	assert_non_null(strstr(text, "\"local\": \"[2001:db8::2]:4242\""));
	assert_null(strstr(strstr(text, "\"local\"") + 1, "\"local\"")); /* none without one */
	struct peer_entry *out;
	size_t n;
	assert_int_equal(parse(text, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, in, sizeof(in));
	free(out);
	free(text);
	text = peerfile_format(NULL, 0);
	assert_int_equal(parse(text, &out, &n), 0);
	assert_int_equal(n, 0);
	assert_null(out);
	free(text);
}

/* A link-local client's zone goes with it: without, no reset reaches it
 * after a crash (sendto refuses fe80:: with no interface). */
static void zones(void **state)
{
	(void)state;
	struct sockaddr_storage sa;
	socklen_t len;
	char text[PEER_ADDR_TEXT_MAX];
	unsigned lo = if_nametoindex("lo");
	assert_true(lo > 0);
	assert_int_equal(peer_addr_parse("[fe80::7%lo]:4242", &sa, &len), 0);
	assert_int_equal(((struct sockaddr_in6 *)&sa)->sin6_scope_id, lo);
	peer_addr_text(&sa, text, sizeof(text));
	assert_string_equal(text, "[fe80::7%lo]:4242");
	char num[32];
	snprintf(num, sizeof(num), "[fe80::7%%%u]:1", lo);
	assert_int_equal(peer_addr_parse(num, &sa, &len), 0);
	peer_addr_text(&sa, text, sizeof(text));
	assert_string_equal(text, "[fe80::7%lo]:1");
	/* Its interface gone: by number; a name no interface has: no zone. */
	assert_int_equal(peer_addr_parse("[fe80::7%4000000000]:1", &sa, &len), 0);
	peer_addr_text(&sa, text, sizeof(text));
	assert_string_equal(text, "[fe80::7%4000000000]:1");
	assert_int_equal(peer_addr_parse("[fe80::7%nosuchif9]:1", &sa, &len), 0);
	assert_int_equal(((struct sockaddr_in6 *)&sa)->sin6_scope_id, 0);
	/* The longest text fits. */
	assert_int_equal(peer_addr_parse("[fe80::ffff:ffff:ffff:ffff%4294967295]:65535", &sa, &len), 0);
	peer_addr_text(&sa, text, sizeof(text));
	assert_string_equal(text, "[fe80::ffff:ffff:ffff:ffff%4294967295]:65535");
	const char *bad[] = {"[fe80::1%]:1", "[fe80::1%a/b]:1", "[fe80::1%a b]:1", "[fe80::1%0123456789abcdef]:1",
	                     "[2001:db8::1%lo]:1", "[fe80::1%4294967296]:1", "[fe80::1%lo%lo]:1", "[%lo]:1", "[fe80::1%a]b]:1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (peer_addr_parse(bad[i], &sa, &len) != -1)
			fail_msg("'%s' was taken", bad[i]);
}

/* Ports are digits, addresses whole. */
static void bad_addresses(void **state)
{
	(void)state;
	struct sockaddr_storage sa;
	socklen_t len;
	const char *bad[] = {"192.0.2.1: 80", "192.0.2.1:+80", "192.0.2.1:0", "192.0.2.1:65536",
	                     "192.0.2.1:080000", "192.0.2.1:", ":80", "192.0.2.1", "[2001:db8::1]: 80",
	                     "[2001:db8::x]:80", "2001:db8::1:80x", "host.example:80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (peer_addr_parse(bad[i], &sa, &len) != -1)
			fail_msg("'%s' was taken", bad[i]);
	assert_int_equal(peer_addr_parse("192.0.2.1:00080", &sa, &len), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&sa)->sin_port), 80);
}

static void bad_files(void **state)
{
	(void)state;
	static const struct {
		const char *text, *why;
	} bad[] = {
		{"", "line 1"},
		{"[]", "expected a JSON object"},
		{"{\"version\":2,\"peers\":[]}", "version 2: expected 1"},
		{"{\"version\":1}", "peers: expected an array"},
		{"{\"version\":1,\"peers\":[7]}", "peers[0]: expected an object"},
		{"{\"version\":1,\"peers\":[{\"cids\":[]}]}", "peers[0].remote"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"192.0.2.1\",\"cids\":[]}]}", "peers[0].remote"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"192.0.2.1:0\",\"cids\":[]}]}", "peers[0].remote"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"192.0.2.1:65536\",\"cids\":[]}]}", "peers[0].remote"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"2001:db8::1:4242\",\"cids\":[]}]}", "peers[0].remote"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"host.example:4242\",\"cids\":[]}]}", "peers[0].remote"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"192.0.2.1:4242\"}]}", "peers[0].cids"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"192.0.2.1:4242\",\"cids\":[\"\"]}]}", "peers[0].cids[0]"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"192.0.2.1:4242\",\"cids\":[\"abc\"]}]}", "peers[0].cids[0]"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"192.0.2.1:4242\",\"cids\":[\"zz\"]}]}", "peers[0].cids[0]: not hex"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"192.0.2.1:4242\",\"cids\":[\"0011223344556677889900112233445566778899aa\"]}]}", "peers[0].cids[0]"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"192.0.2.1:4242\",\"cids\":[\"00\",\"00\",\"00\",\"00\",\"00\",\"00\",\"00\",\"00\",\"00\"]}]}", "at most 8"},
		{"{\"version\":1,\"version\":1,\"peers\":[]}", "duplicate"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"192.0.2.1:4242\",\"local\":7,\"cids\":[]}]}", "peers[0].local"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"192.0.2.1:4242\",\"local\":\"192.0.2.2\",\"cids\":[]}]}", "peers[0].local"},
		{"{\"version\":1,\"peers\":[{\"remote\":\"192.0.2.1:4242\",\"local\":\"[2001:db8::2]:4242\",\"cids\":[]}]}", "of the remote's family"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct peer_entry *out = (void *)1;
		size_t n = 99;
		assert_int_equal(parse(bad[i].text, &out, &n), -1);
		assert_null(out);
		assert_int_equal(n, 0);
		if (!strstr(err, bad[i].why))
			fail_msg("%s: error '%s' lacks '%s'", bad[i].text, err, bad[i].why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(bad_addresses),
		cmocka_unit_test(zones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
