/* Text from outside made fit for logs, events and terminals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "proto/text.h"

static void clean(const char *in, size_t len, const char *want)
{
	char buf[64];
	memcpy(buf, in, len);
	buf[len] = '\0';
	text_clean(buf, len);
	if (memcmp(buf, want, len) != 0 || strlen(want) != len)
		fail_msg("'%s' cleaned to '%.*s', expected '%s'", in, (int)len, buf, want);
	/* What jansson takes as a string. */
	json_t *j = json_stringn(buf, len);
	assert_non_null(j);
	json_decref(j);
}
#define CLEAN(in, want) clean(in, sizeof(in) - 1, want)

static void cleaning(void **state)
{
	(void)state;
	CLEAN("client exit", "client exit");
	CLEAN("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	CLEAN("a\nb\rc\td\x1b[2J\x7f", "a?b?c?d?[2J?");
	CLEAN("\xc2\x9b" "31m", "??31m");                   /* C1 CSI */
	CLEAN("\xff\xfe", "??");
	CLEAN("\xc3", "?");                                 /* cut short */
	CLEAN("\xe2\x82", "??");
	CLEAN("\xc0\xaf", "??");                            /* overlong '/' */
	CLEAN("\xe0\x80\xaf", "???");                       /* overlong */
	CLEAN("\xed\xa0\x80", "???");                       /* a surrogate */
	CLEAN("\xf4\x90\x80\x80", "????");                  /* above U+10FFFF */
	CLEAN("\x80x", "?x");
	CLEAN("a\0b", "a?b");
	/* Line separators and bidirectional controls; their neighbours kept. */
	CLEAN("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "a???b???c");       /* U+2028, U+2029 */
	CLEAN("\xe2\x80\xae" "exe.txt", "???exe.txt");                /* U+202E */
	CLEAN("\xe2\x81\xa6" "x\xe2\x81\xa9", "???x???");            /* U+2066, U+2069 */
	CLEAN("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "????????");        /* LRM, RLM, ALM */
	CLEAN("\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa",
	      "\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa");   /* U+2027, U+202F, U+2065, U+206A */
}

static void cutting(void **state)
{
	(void)state;
	const char *s = "ab\xc3\xa9\xe2\x82\xac";      /* a b é € : 2 + 2 + 3 bytes */
	assert_int_equal(text_cut(s, 7, 10), 7);
	assert_int_equal(text_cut(s, 7, 7), 7);
	assert_int_equal(text_cut(s, 7, 6), 4);         /* not inside € */
	assert_int_equal(text_cut(s, 7, 5), 4);
	assert_int_equal(text_cut(s, 7, 4), 4);
	assert_int_equal(text_cut(s, 7, 3), 2);         /* not inside é */
	assert_int_equal(text_cut(s, 7, 0), 0);
	/* Not UTF-8: at most three bytes back. */
	assert_int_equal(text_cut("\x80\x80\x80\x80\x80\x80", 6, 5), 2);
}

/* text_plain: how much text_clean would leave as it is. */
static void plain(void **state)
{
	(void)state;
	assert_int_equal(text_plain("ab\xc3\xa9\xe2\x82\xac", 7), 7);
	assert_int_equal(text_plain("", 0), 0);
	assert_int_equal(text_plain("ab\xff", 3), 2);               /* not UTF-8 */
	assert_int_equal(text_plain("ab\xc3", 3), 2);               /* cut short */
	assert_int_equal(text_plain("a\xc0\xaf", 3), 1);           /* overlong */
	assert_int_equal(text_plain("a\xed\xa0\x80", 4), 1);       /* a surrogate */
	assert_int_equal(text_plain("ab\ncd", 5), 2);              /* C0 */
	assert_int_equal(text_plain("a\x7f", 2), 1);                /* DEL */
	assert_int_equal(text_plain("\xc3\xa9\xc2\x85", 4), 2);    /* C1: NEL */
	assert_int_equal(text_plain("a\0b", 3), 1);
}

static void escape(const char *in, size_t len, size_t outlen, const char *want)
{
	char out[64];
	memset(out, 'x', sizeof(out));
	size_t n = text_escape(out, outlen, in, len);
	if (strcmp(out, want) != 0 || n != strlen(want))
		fail_msg("escaped to '%s' (%zu), expected '%s'", out, n, want);
}
#define ESCAPE(in, want) escape(in, sizeof(in) - 1, 64, want)

static void escaping(void **state)
{
	(void)state;
	ESCAPE("", "");
	ESCAPE("caf\xc3\xa9 a\\b", "caf\xc3\xa9 a\\b");                  /* '\\' stays */
	ESCAPE("a\x1b[2J\r\n\x7f", "a\\x1b[2J\\x0d\\x0a\\x7f");
	ESCAPE("\xc2\x9b" "31m", "\\xc2\\x9b31m");                         /* C1 CSI */
	ESCAPE("\xe2\x80\xae!", "\\xe2\\x80\\xae!");                     /* RLO */
	ESCAPE("\xff\xc3", "\\xff\\xc3");                                   /* not UTF-8 */
	ESCAPE("a\0b", "a\\x00b");
	/* Cut at what fits whole, the NUL counted. */
	escape("ab\x1b", 3, 6, "ab");
	escape("ab\x1b", 3, 7, "ab\\x1b");
	escape("a\xc3\xa9", 3, 3, "a");
	escape("abc", 3, 1, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cleaning),
		cmocka_unit_test(cutting),
		cmocka_unit_test(plain),
		cmocka_unit_test(escaping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
