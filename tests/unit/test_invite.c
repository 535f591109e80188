/* Invite URLs: slopn://TOKEN@HOST:PORT?pin=sha256:HEX */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "proto/invite.h"

#define PIN "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void good(void **state)
{
	(void)state;
	struct invite inv;
	char err[160];
	assert_int_equal(invite_parse("slopn://abc123@vpn.example.org:4433?pin=" PIN, &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.token, "abc123");
	assert_string_equal(inv.server, "vpn.example.org:4433");
	assert_string_equal(inv.pin, PIN);
	/* No port: 4242; no pin: "". A trailing slash is fine. */
	assert_int_equal(invite_parse("slopn://t@192.0.2.1/", &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.server, "192.0.2.1:4242");
	assert_string_equal(inv.pin, "");
	/* IPv6, percent-encoding, upper-case scheme and pin, unknown params. */
	assert_int_equal(invite_parse("SLOPN://a%40b%2Fc@[2001:db8::1]:5000?x=1&pin=SHA256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef&y",
	                              &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.token, "a@b/c");
	assert_string_equal(inv.server, "[2001:db8::1]:5000");
	assert_string_equal(inv.pin, PIN);
	assert_string_equal(inv.unknown, "x"); /* the first, for the caller to say */
	assert_int_equal(invite_parse("slopn://t@h?pin=" PIN, &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.unknown, "");
	/* A misspelt pin: taken as unknown (the caller warns), cut, bytes
	 * that cannot be shown as '?'. */
	assert_int_equal(invite_parse("slopn://t@h?pn=" PIN, &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.pin, "");
	assert_string_equal(inv.unknown, "pn");
	assert_int_equal(invite_parse("slopn://t@h?p%69n=1&&pin", &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.unknown, "p%69n");
	assert_int_equal(invite_parse("slopn://t@h?\x1b[2Jpinpinpinpinpinpinpinpinpinpinpinpin=1", &inv, err,
	                              sizeof(err)), 0);
	assert_string_equal(inv.unknown, "?[2Jpinpinpinpinpinpinpinpinpinp");
	/* An IPv4 address written as IPv6 is reached over IPv4: given as such. */
	assert_int_equal(invite_parse("slopn://t@[::ffff:192.0.2.1]:4243", &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.server, "192.0.2.1:4243");
	assert_int_equal(invite_parse("slopn://t@[::FFFF:c000:201]", &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.server, "192.0.2.1:4242");
	/* A token is text: UTF-8 beyond ASCII is kept. */
	assert_int_equal(invite_parse("slopn://caf%C3%A9@h?Pin=" PIN, &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.token, "caf\xc3\xa9");
	assert_string_equal(inv.pin, PIN);
}

static void bad(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"https://t@h:1", "not an invite"},
		{"slopn://h:1", "no token"},
		{"slopn://@h:1", "token: empty"},
		{"slopn://a%4@h", "bad percent-escape"},
		{"slopn://a%zz@h", "bad percent-escape"},
		{"slopn://a%00@h", "bad percent-escape"},
		{"slopn://a%0a@h", "control character"},
		{"slopn://a%FF@h", "byte 2 of the decoded token (0xff)"},       /* not UTF-8 */
		{"slopn://ab%C3@h", "not UTF-8"},                              /* cut short */
		{"slopn://a%C2%85@h", "control character"},                    /* C1 */
		{"slopn://a\x80" "b@h", "byte 0x80 at position 1 must be percent-encoded"},
		{"slopn://t@h\x01st", "host: byte 0x01 at position 1"},
		{"slopn://t@h?pin=", "pin"},                                   /* empty: not unpinned */
		{"slopn://t@h?pin=" PIN "&pin=" PIN, "pin: given twice"},       /* which one? */
		{"slopn://t@h?PIN=sha256:abc", "pin"},
		{"slopn://a b@h", "must be percent-encoded"},
		{"slopn://t@h:0", "port"},
		{"slopn://t@h:65536", "port"},
		{"slopn://t@h:", "port"},
		{"slopn://t@h:12ab", "port"},
		{"slopn://t@", "host"},
		{"slopn://t@ho st", "host"},
		{"slopn://t@[::1", "'[' without ']'"},
		{"slopn://t@[]:1", "empty IPv6"},
		{"slopn://t@[zz]:1", "not an IPv6"},
		{"slopn://t@[:::::]:1", "not an IPv6 address a hub can have"},
		{"slopn://t@[::]:1", "not an IPv6 address a hub can have"},
		{"slopn://t@[fe80::1]:1", "'fe80::1' is link-local, which needs an interface"},
		{"slopn://t@[1.2.3.4]:1", "not an IPv6 address a hub can have"},
		{"slopn://t@[::1]x", "expected ':PORT'"},
		{"slopn://t@h?pin=sha256:abc", "pin"},
		{"slopn://t@h?pin=md5:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "pin"},
		{"slopn://t@h?pin=sha256:g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "pin"},
		{"slopn://t@h/path", "unexpected text"},
		{"slopn://t@h#frag", "unexpected text"},
		{"slopn://t@h?pin=x#frag", "fragment"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct invite inv;
		char err[160] = "";
		assert_int_equal(invite_parse(cases[i][0], &inv, err, sizeof(err)), -1);
		if (!strstr(err, cases[i][1]))
			fail_msg("%s: error '%s' does not say '%s'", cases[i][0], err, cases[i][1]);
	}
	/* A token longer than a login line, refused; 300 bytes are fine (the
	 * original's tokens have no limit). */
	static char big[SLOPN_TOKEN_MAX + 16] = "slopn://";
	static struct invite inv;
	char err[160];
	memset(big + 8, 'a', 300);
	strcpy(big + 308, "@h");
	assert_int_equal(invite_parse(big, &inv, err, sizeof(err)), 0);
	assert_int_equal(strlen(inv.token), 300);
	memset(big + 8, 'a', SLOPN_TOKEN_MAX);
	strcpy(big + 8 + SLOPN_TOKEN_MAX, "@h");
	assert_int_equal(invite_parse(big, &inv, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
}

static void roundtrip(void **state)
{
	(void)state;
	char buf[600], err[160];
	struct invite inv;
	const char *token = "we!rd to/ken%@";
	ssize_t n = invite_format(buf, sizeof(buf), token, "[2001:db8::2]:4242", PIN);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_int_equal(invite_parse(buf, &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.token, token);
	assert_string_equal(inv.server, "[2001:db8::2]:4242");
	assert_string_equal(inv.pin, PIN);
	assert_int_equal(invite_format(buf, 20, "0123456789abcdef", "h:1", PIN), -1);
	assert_int_equal(invite_format(buf, sizeof(buf), "tok", "h:1", ""), (ssize_t)strlen("slopn://tok@h:1"));
	assert_string_equal(buf, "slopn://tok@h:1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good),
		cmocka_unit_test(bad),
		cmocka_unit_test(roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
