/* hub-TUN.json: what the client writes it reads back; anything else is
 * refused with the place named, and nothing of it kept. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/hubfile.h"
#include "proto/peerfile.h"

static char err[256];

static int parse(const char *s, struct hubfile *h)
{
	err[0] = '\0';
	return hubfile_parse(s, strlen(s), h, err, sizeof(err));
}

static void round_trip(void **state)
{
	(void)state;
	struct hubfile in = {.server = "hub.example.org:4242", .n = 2};
	assert_int_equal(peer_addr_parse("[2001:db8::1]:4242", &in.addr[0], &in.len[0]), 0);
	assert_int_equal(peer_addr_parse("192.0.2.1:4242", &in.addr[1], &in.len[1]), 0);
	char *text = hubfile_format(&in);
	assert_non_null(text);
	assert_string_equal(text, "{\n  \"version\": 1,\n  \"server\": \"hub.example.org:4242\",\n"
	                          "  \"addresses\": [\n    \"[2001:db8::1]:4242\",\n    \"192.0.2.1:4242\"\n"
	                          "  ]\n}\n");
	struct hubfile out;
	assert_int_equal(parse(text, &out), 0);
	assert_memory_equal(&out, &in, sizeof(in));
	free(text);
}

static void bad_files(void **state)
{
	(void)state;
	static const struct {
		const char *text, *why;
	} bad[] = {
		{"", "line 1"},
		{"{\"version\":1,", "line 1"},
		{"[]", "expected a JSON object"},
		{"{\"version\":2,\"server\":\"h:1\",\"addresses\":[\"192.0.2.1:1\"]}", "version 2: expected 1"},
		{"{\"version\":\"1\",\"server\":\"h:1\",\"addresses\":[\"192.0.2.1:1\"]}", "version: expected the number 1"},
		{"{\"version\":1,\"addresses\":[\"192.0.2.1:1\"]}", "server: expected"},
		{"{\"version\":1,\"server\":\"\",\"addresses\":[\"192.0.2.1:1\"]}", "server: expected"},
		{"{\"version\":1,\"server\":7,\"addresses\":[\"192.0.2.1:1\"]}", "server: expected"},
		{"{\"version\":1,\"server\":\"h\\u0000x:1\",\"addresses\":[\"192.0.2.1:1\"]}", "is not allowed"},
		{"{\"version\":1,\"server\":\"h:1\"}", "addresses: expected an array of 1-8"},
		{"{\"version\":1,\"server\":\"h:1\",\"addresses\":[]}", "addresses: expected an array of 1-8"},
		{"{\"version\":1,\"server\":\"h:1\",\"addresses\":{}}", "addresses: expected an array"},
		{"{\"version\":1,\"server\":\"h:1\",\"addresses\":[\"1.2.3.4:1\",\"1.2.3.4:1\",\"1.2.3.4:1\","
		 "\"1.2.3.4:1\",\"1.2.3.4:1\",\"1.2.3.4:1\",\"1.2.3.4:1\",\"1.2.3.4:1\",\"1.2.3.4:1\"]}",
		 "addresses: expected an array of 1-8"},
		{"{\"version\":1,\"server\":\"h:1\",\"addresses\":[7]}", "addresses[0]: expected ADDR:PORT"},
		{"{\"version\":1,\"server\":\"h:1\",\"addresses\":[\"192.0.2.1:1\",\"192.0.2.1\"]}", "addresses[1]"},
		{"{\"version\":1,\"server\":\"h:1\",\"addresses\":[\"hub.example:4242\"]}", "addresses[0]"},
		{"{\"version\":1,\"server\":\"h:1\",\"addresses\":[\"2001:db8::1:4242\"]}", "addresses[0]"},
		{"{\"version\":1,\"server\":\"h:1\",\"addresses\":[\"192.0.2.1:0\"]}", "addresses[0]"},
		{"{\"version\":1,\"version\":1,\"server\":\"h:1\",\"addresses\":[\"192.0.2.1:1\"]}", "duplicate"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hubfile out;
		memset(&out, 0x55, sizeof(out));
		assert_int_equal(parse(bad[i].text, &out), -1);
		assert_int_equal(out.n, 0);
		assert_int_equal(out.server[0], 0);
		if (!strstr(err, bad[i].why))
			fail_msg("%s: error '%s' lacks '%s'", bad[i].text, err, bad[i].why);
	}
	/* A server name of 255 characters is kept; one of 256 is not. */
	char text[600], name[300];
	memset(name, 'a', 255);
	strcpy(name + 255, ":1");
	snprintf(text, sizeof(text), "{\"version\":1,\"server\":\"%s\",\"addresses\":[\"192.0.2.1:1\"]}",
	         name + 2);
	struct hubfile out;
	assert_int_equal(parse(text, &out), 0);
	assert_int_equal(strlen(out.server), 255);
	snprintf(text, sizeof(text), "{\"version\":1,\"server\":\"%s\",\"addresses\":[\"192.0.2.1:1\"]}",
	         name + 1);
	assert_int_equal(parse(text, &out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
