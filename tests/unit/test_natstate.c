/* nat-TUN.forward: what write_state writes it reads back, its final
 * newline optional, older slopnd's one to three lines too; anything else is no state at all (both -1), so that
 * forwarding is never "restored" to a value read from damage. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "proto/natstate.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void round_trip(void **state)
{
	(void)state;
	static const struct {
		struct natstate st;
		const char *text;
	} good[] = {
		{{0, -1, -1, -1, ""}, "0\n"},
		{{1, -1, -1, -1, ""}, "1\n"},
		{{0, 0, -1, -1, ""}, "0\n0\n"},
		{{1, 0, -1, -1, ""}, "1\n0\n"},
		{{0, 1, -1, -1, ""}, "0\n1\n"},
		{{1, 1, -1, -1, ""}, "1\n1\n"},
		{{2, 2, -1, -1, ""}, "2\n2\n"}, /* a sysctl's int, whatever it held */
		{{0, -1, 0, -1, ""}, "0\n-\n0\n"}, /* accept_redirects without IPv6 */
		{{0, -1, 1, -1, ""}, "0\n-\n1\n"},
		{{0, 1, 0, -1, ""}, "0\n1\n0\n"},
		{{1, 0, 2, -1, ""}, "1\n0\n2\n"},
		{{INT_MAX, INT_MAX, INT_MAX, -1, ""}, "2147483647\n2147483647\n2147483647\n"},
		/* The IPv6 egress whose accept_ra the hub set to 2. */
		{{1, 0, 0, 1, "wan"}, "1\n0\n0\nwan 1\n"},
		{{0, 0, -1, 1, "eth0.5"}, "0\n0\n-\neth0.5 1\n"}, /* accept_redirects not read */
		{{1, -1, -1, 0, "a"}, "1\n-\n-\na 0\n"},
		{{0, 0, 1, 1, "x_y@z+w-v.12345"}, "0\n0\n1\nx_y@z+w-v.12345 1\n"}, /* 15 characters */
		{{INT_MAX, INT_MAX, INT_MAX, INT_MAX, "abcdefghijklmno"},
		 "2147483647\n2147483647\n2147483647\nabcdefghijklmno 2147483647\n"},
	};
	for (size_t i = 0; i < N(good); i++) {
		char b[NATSTATE_TEXT_MAX];
		int n = natstate_format(b, sizeof(b), &good[i].st);
		assert_int_equal(n, strlen(good[i].text));
		assert_string_equal(b, good[i].text);
		struct natstate st = {7, 7, 7, 7, "x"};
		assert_int_equal(natstate_parse(b, (size_t)n, &st), 0);
		assert_memory_equal(&st, &good[i].st, sizeof(st));
		/* Without the final newline, as an editor might leave it. */
		st = (struct natstate){7, 7, 7, 7, "x"};
		assert_int_equal(natstate_parse(b, (size_t)n - 1, &st), 0);
		assert_memory_equal(&st, &good[i].st, sizeof(st));
	}
}

static void format_refuses(void **state)
{
	(void)state;
	char b[NATSTATE_TEXT_MAX];
	struct natstate none = NATSTATE_NONE, no4 = {-1, 1, 1, -1, ""}, one = {1, -1, -1, -1, ""},
	                two = {1, 0, -1, -1, ""}, three = {1, -1, 0, -1, ""};
	assert_int_equal(natstate_format(b, sizeof(b), &none), -1); /* no IPv4 value */
	assert_int_equal(natstate_format(b, sizeof(b), &no4), -1);
	assert_int_equal(natstate_format(b, 0, &one), -1);
	assert_int_equal(natstate_format(b, 2, &one), -1); /* "1\n" and its NUL need 3 */
	assert_int_equal(natstate_format(b, 3, &one), 2);
	assert_int_equal(natstate_format(b, 4, &two), -1); /* "1\n0\n" and its NUL need 5 */
	assert_int_equal(natstate_format(b, 5, &two), 4);
	assert_int_equal(natstate_format(b, 6, &three), -1); /* "1\n-\n0\n" and its NUL need 7 */
	assert_int_equal(natstate_format(b, 7, &three), 6);
	/* An accept_ra without an interface name of the kind ours are. */
	struct natstate noname = {1, 0, 0, 1, ""}, space = {1, 0, 0, 1, "a b"},
	                slash = {1, 0, 0, 1, "a/b"}, four = {1, 0, 0, 1, "wan"};
	assert_int_equal(natstate_format(b, sizeof(b), &noname), -1);
	assert_int_equal(natstate_format(b, sizeof(b), &space), -1);
	assert_int_equal(natstate_format(b, sizeof(b), &slash), -1);
	assert_int_equal(natstate_format(b, 12, &four), -1); /* "1\n0\n0\nwan 1\n" and its NUL need 13 */
	assert_int_equal(natstate_format(b, 13, &four), 12);
}

static void bad_files(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		const char *why;
	} bad[] = {
		{"", 0, "empty"},
		{"\n", 0, "an empty line"},
		{"\n1\n", 0, "an empty first line"},
		{"1\n\n", 0, "an empty second line"},
		{"1\n0\n\n", 0, "an empty third line"},
		{"1\n0\n1\n1\n", 0, "four values"},
		{"1\n0\n1\n\n", 0, "an empty fourth line"},
		{"1\n0\nx", 0, "junk after the second line"},
		{"1\n0\n1x\n", 0, "junk after the third value"},
		{"1\n-\n", 0, "no IPv6 value and no third line"},
		{"1\n-", 0, "no IPv6 value, the end"},
		{"1\n--\n1\n", 0, "two dashes"},
		{"1\n-1\n1\n", 0, "a dash before a number"},
		{"-\n", 0, "a dash for IPv4"},
		{"1\n0\n-\n", 0, "a dash for accept_redirects"},
		{"1\n0\n-1\n", 0, "negative third value"},
		{"1\n0\n2147483648\n", 0, "third value over INT_MAX"},
		{"x\n", 0, "not a number"},
		{"1x\n", 0, "junk after a number"},
		{"0x1\n", 0, "hexadecimal"},
		{"1.0\n", 0, "not an integer"},
		{"-1\n", 0, "negative"},
		{"1\n-1\n", 0, "negative second value"},
		{"+1\n", 0, "a sign"},
		{"01\n", 0, "a leading zero"},
		{"1\n00\n", 0, "a leading zero in the second value"},
		{" 1\n", 0, "a leading space"},
		{"1 \n", 0, "a trailing space"},
		{"1 0\n", 0, "two values on one line"},
		{"1\r\n", 0, "a CR"},
		{"2147483648\n", 0, "over INT_MAX"},
		{"1\n2147483648\n", 0, "second value over INT_MAX"},
		{"99999999999999999999999\n", 0, "far over INT_MAX"},
		{"1\0\n", 3, "a NUL after the value"},
		{"1\n\0", 3, "a NUL as the second line"},
		{"\0" "1\n", 3, "a NUL before the value"},
		{"1\n0\n1\nwan\n", 0, "an interface without accept_ra"},
		{"1\n0\n1\nwan", 0, "an interface without accept_ra, the end"},
		{"1\n0\n1\nwan \n", 0, "an interface, no accept_ra value"},
		{"1\n0\n1\n 1\n", 0, "accept_ra without an interface"},
		{"1\n0\n1\nwan  1\n", 0, "two spaces"},
		{"1\n0\n1\nwan 1 \n", 0, "a space after accept_ra"},
		{"1\n0\n1\nwan\t1\n", 0, "a tab"},
		{"1\n0\n1\nwan -1\n", 0, "negative accept_ra"},
		{"1\n0\n1\nwan 01\n", 0, "a leading zero in accept_ra"},
		{"1\n0\n1\nwan 2147483648\n", 0, "accept_ra over INT_MAX"},
		{"1\n0\n1\nabcdefghijklmnop 1\n", 0, "an interface name of 16 characters"},
		{"1\n0\n1\nwa/n 1\n", 0, "a slash in the interface name"},
		{"1\n0\n1\nwa:n 1\n", 0, "a colon in the interface name"},
		{"1\n0\n1\nwan 1\n1\n", 0, "five lines"},
		{"1\n0\n1\nwan 1\n\n", 0, "an empty fifth line"},
		{"1\n0\n-\n", 0, "no accept_redirects value and no fourth line"},
		{"1\n0\n-", 0, "no accept_redirects value, the end"},
		{"1\n0\nwan 1\n", 0, "three lines, the third an interface"},
		{"1\n0\n1\nw\0n 1\n", 12, "a NUL in the interface name"},
	};
	for (size_t i = 0; i < N(bad); i++) {
		struct natstate st = {7, 7, 7, 7, "x"};
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
		if (natstate_parse(bad[i].text, len, &st) != -1)
			fail_msg("case %zu (%s) accepted", i, bad[i].why);
		assert_int_equal(st.fwd4, -1);
		assert_int_equal(st.fwd6, -1);
		assert_int_equal(st.redirects4, -1);
		assert_int_equal(st.accept_ra, -1);
		assert_string_equal(st.ra_if, "");
	}
	/* A file longer than any of ours, though it starts like one. */
	char big[NATSTATE_TEXT_MAX];
	memset(big, '\n', sizeof(big));
	memcpy(big, "1\n0\n1\n", 6);
	struct natstate st;
	assert_int_equal(natstate_parse(big, sizeof(big), &st), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(format_refuses),
		cmocka_unit_test(bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
