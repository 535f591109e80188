/* "key = value" config files: good and bad lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "proto/conf.h"

static char seen[1024];

static int collect(const char *key, const char *value, unsigned line, void *ctx, char *err, size_t errlen)
{
	size_t n = strlen(seen);
	snprintf(seen + n, sizeof(seen) - n, "%u:%s=%s;", line, key, value);
	if (!strcmp(value, "refuse")) {
		snprintf(err, errlen, "not accepted");
		return -1;
	}
	return 0;
}

static unsigned errline;

static int parse(const char *text, char *err, size_t errlen)
{
	seen[0] = '\0';
	err[0] = '\0';
	errline = 0;
	return conf_parse(text, strlen(text), collect, NULL, err, errlen, &errline);
}

static void good_files(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(parse("# comment\n\n  listen = 192.0.2.1:4242  \r\ntoken=a b c\nno_spoke_to_spoke = yes", err, sizeof(err)), 0);
	assert_string_equal(seen, "3:listen=192.0.2.1:4242;4:token=a b c;5:no_spoke_to_spoke=yes;");
	assert_int_equal(parse("", err, sizeof(err)), 0);
	assert_string_equal(seen, "");
	assert_int_equal(parse("empty =\n", err, sizeof(err)), 0); /* the caller decides */
	assert_string_equal(seen, "1:empty=;");
	assert_int_equal(parse("k = a=b\n", err, sizeof(err)), 0);
	assert_string_equal(seen, "1:k=a=b;");
}

static void bad_files(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(parse("listen 1\n", err, sizeof(err)), -1);
	assert_string_equal(err, "expected 'key = value'");
	assert_int_equal(errline, 1);
	assert_int_equal(parse("ok = 1\n = 2\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a key is"));
	assert_int_equal(errline, 2);
	assert_int_equal(parse("Listen = 1\n", err, sizeof(err)), -1);
	assert_int_equal(parse("a b = 1\n", err, sizeof(err)), -1);
	assert_int_equal(parse("mtu = refuse\n", err, sizeof(err)), -1);
	assert_string_equal(err, "mtu: not accepted");
	assert_int_equal(errline, 1);
	char big[CONF_MAX_LINE + 20];
	memset(big, 'x', sizeof(big) - 1);
	big[0] = 'k', big[1] = '=';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big, err, sizeof(err)), -1);
	assert_string_equal(err, "line longer than 8191 bytes");
	/* The longest token a login carries (3736 bytes) is a line. */
	static char token[8 + 3736 + 2];
	memcpy(token, "token = ", 8);
	memset(token + 8, 't', 3736);
	token[8 + 3736] = '\n';
	assert_int_equal(parse(token, err, sizeof(err)), 0);
	const char nul[] = "k = a\0b\n";
	seen[0] = '\0';
	assert_int_equal(conf_parse(nul, sizeof(nul) - 1, collect, NULL, err, sizeof(err), &errline), -1);
	assert_int_equal(errline, 1);
	assert_non_null(strstr(err, "NUL byte"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_files),
		cmocka_unit_test(bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
