/* The client id file: 32 lower-case hex digits, then only newlines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proto/clientid.h"

static bool parse(const char *s, char id[CLIENT_ID_LEN + 1])
{
	return client_id_parse(s, strlen(s), id);
}

static void good(void **state)
{
	(void)state;
	char id[CLIENT_ID_LEN + 1];
	assert_true(parse("0123456789abcdef0123456789abcdef\n", id));
	assert_string_equal(id, "0123456789abcdef0123456789abcdef");
	assert_true(parse("ffffffffffffffffffffffffffffffff", id));
	assert_string_equal(id, "ffffffffffffffffffffffffffffffff");
	assert_true(parse("00000000000000000000000000000000\n\n", id));
}

static void bad(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"",
		"\n",
		"0123456789abcdef0123456789abcde\n",   /* 31 digits */
		"0123456789abcdef0123456789abcdef0\n", /* 33 */
		"0123456789ABCDEF0123456789abcdef\n",  /* upper case: not what we write */
		"0123456789abcdef0123456789abcdeg\n",
		" 0123456789abcdef0123456789abcdef",
		"0123456789abcdef0123456789abcdef \n",
		"0123456789abcdef0123456789abcdef\r\n",
		"0123456789abcdef0123456789abcdef\nx",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char id[CLIENT_ID_LEN + 1] = "untouched";
		assert_false(parse(cases[i], id));
		assert_string_equal(id, "untouched");
	}
	/* A NUL inside is not a short string that happens to look right. */
	char id[CLIENT_ID_LEN + 1];
	assert_false(client_id_parse("0123456789abcdef0123456789abcdef\0\n", 34, id));
	assert_false(client_id_parse("0123456789abcdef\0" "123456789abcdef", 32, id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good),
		cmocka_unit_test(bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
