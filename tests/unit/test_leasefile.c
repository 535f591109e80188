/* leases.json: what the hub writes it reads back; what it did not write
 * is refused with the place named. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "proto/leasefile.h"

static char err[256];

static int parse(const char *s, struct lease_entry **v, size_t *n)
{
	return leasefile_parse(s, strlen(s), v, n, err, sizeof(err));
}

static void round_trip(void **state)
{
	(void)state;
	struct lease_entry in[3] = {
		{.token = "alice", .client_id = "0123456789abcdef0123456789abcdef", .vip = 0x0a640005,
		 .last_seen = 1764000000},
		{.token = "bob", .vip = 0x0a640006, .last_seen = 1},   /* an old client: by token */
		{.token = "shared", .client_id = "x", .vip = 0x0a6400fe, .held = true},
	};
	inet_pton(AF_INET6, "fd12:3456:789a::5", &in[0].vip6);
	char *text = leasefile_format(in, 3);
	assert_non_null(text);
	/* One lease a line. */
	assert_non_null(strstr(text, "\n{\"token\":\"alice\",\"client_id\":\"0123456789abcdef0123456789abcdef\","
	                             "\"vip\":\"10.100.0.5\",\"vip6\":\"fd12:3456:789a::5\",\"last_seen\":1764000000},\n"));
	assert_non_null(strstr(text, "{\"token\":\"bob\",\"client_id\":null,\"vip\":\"10.100.0.6\",\"vip6\":null,"));
	assert_non_null(strstr(text, ",\"last_seen\":0,\"held\":true}\n")); /* only when true */
	assert_int_equal(text[strlen(text) - 1], '\n');
	struct lease_entry *out;
	size_t n;
	assert_int_equal(parse(text, &out, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(out[i].token, in[i].token);
		assert_string_equal(out[i].client_id, in[i].client_id);
		assert_int_equal(out[i].vip, in[i].vip);
		assert_memory_equal(&out[i].vip6, &in[i].vip6, 16);
		assert_int_equal(out[i].last_seen, in[i].last_seen);
		assert_int_equal(out[i].held, in[i].held);
	}
	free(out);
	free(text);
	/* None at all. */
	text = leasefile_format(NULL, 0);
	assert_int_equal(parse(text, &out, &n), 0);
	assert_int_equal(n, 0);
	assert_null(out);
	free(text);
}

static void bad_files(void **state)
{
	(void)state;
	static const struct {
		const char *text, *why;
	} bad[] = {
		{"", "line 1 column 0: "},
		{"{\"version\":1,\n\"leases\":[{", "line 2 column "},
		{"[]", "expected a JSON object"},
		{"{\"leases\":[]}", "version: missing (expected 1)"},
		{"{\"version\":2,\"leases\":[]}", "version 2: expected 1"},
		{"{\"version\":1}", "leases: expected an array"},
		{"{\"version\":1,\"leases\":{}}", "leases: expected an array"},
		{"{\"version\":1,\"leases\":[7]}", "leases[0]: expected an object"},
		{"{\"version\":1,\"leases\":[{\"vip\":\"10.1.1.1\",\"last_seen\":0}]}", "leases[0].token"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"vip\":\"10.1.1.1\",\"last_seen\":253402300800}]}",
		 "leases[0].last_seen: expected a Unix time"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a b\",\"vip\":\"10.1.1.1\",\"last_seen\":0}]}", "leases[0].token"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"client_id\":\"\",\"vip\":\"10.1.1.1\",\"last_seen\":0}]}",
		 "leases[0].client_id"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"vip\":\"10.1.1.1\",\"last_seen\":0,\"held\":1}]}",
		 "leases[0].held: expected true or false"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"client_id\":5,\"vip\":\"10.1.1.1\",\"last_seen\":0}]}",
		 "leases[0].client_id"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"client_id\":\"a\\u0000b\",\"vip\":\"10.1.1.1\",\"last_seen\":0}]}",
		 "line 1 column"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"last_seen\":0}]}", "leases[0].vip"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"vip\":\"0.0.0.0\",\"last_seen\":0}]}", "leases[0].vip"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"vip\":\"fd00::2\",\"last_seen\":0}]}", "leases[0].vip"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"vip\":\"10.1.1.1\",\"vip6\":\"10.1.1.1\",\"last_seen\":0}]}",
		 "leases[0].vip6"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"vip\":\"10.1.1.1\",\"vip6\":\"::\",\"last_seen\":0}]}",
		 "leases[0].vip6"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"vip\":\"10.1.1.1\"}]}", "leases[0].last_seen"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"vip\":\"10.1.1.1\",\"last_seen\":-1}]}", "leases[0].last_seen"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"vip\":\"10.1.1.1\",\"last_seen\":1.5}]}", "leases[0].last_seen"},
		{"{\"version\":1,\"leases\":[{\"token\":\"a\",\"vip\":\"10.1.1.1\",\"last_seen\":1},"
		 "{\"token\":\"b\",\"vip\":7,\"last_seen\":1}]}", "leases[1].vip"},
		{"{\"version\":1,\"version\":1,\"leases\":[]}", "duplicate"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lease_entry *v = (void *)1;
		size_t n = 99;
		err[0] = '\0';
		assert_int_equal(parse(bad[i].text, &v, &n), -1);
		if (!strstr(err, bad[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].why);
		assert_null(v);
		assert_int_equal(n, 0);
	}
	/* Unknown fields and a null client id or vip6 are fine. */
	struct lease_entry *v;
	size_t n;
	assert_int_equal(parse("{\"version\":1,\"x\":0,\"leases\":[{\"token\":\"a\",\"vip\":\"10.1.1.1\","
	                       "\"client_id\":null,\"vip6\":null,\"last_seen\":3,\"y\":[]}]}", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].client_id, "");
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
