/* Newline framing with a hard bound, fed in pieces of any size. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "proto/linebuf.h"

static struct linebuf lb;
static char storage[LINEBUF_CAP + 1];

static void several_lines_in_one_chunk(void **state)
{
	(void)state;
	const char *d = "one\ntwo\n\nthree";
	size_t len = strlen(d), off = 0, used;
	const char *want[] = {"one", "two", ""};
	linebuf_init(&lb, storage, LINEBUF_CAP);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(linebuf_feed(&lb, (const uint8_t *)d + off, len - off, &used), LINEBUF_LINE);
		assert_string_equal(lb.buf, want[i]);
		assert_int_equal(lb.len, strlen(want[i]));
		/* While a line is ready nothing more is taken. */
		size_t none;
		assert_int_equal(linebuf_feed(&lb, (const uint8_t *)"x", 1, &none), LINEBUF_LINE);
		assert_int_equal(none, 0);
		off += used;
		linebuf_next(&lb);
	}
	assert_int_equal(linebuf_feed(&lb, (const uint8_t *)d + off, len - off, &used), LINEBUF_NEED_MORE);
	assert_int_equal(used, 5);
	assert_int_equal(linebuf_feed(&lb, (const uint8_t *)"\n", 1, &used), LINEBUF_LINE);
	assert_string_equal(lb.buf, "three");
}

static void line_split_across_chunks(void **state)
{
	(void)state;
	size_t used;
	linebuf_init(&lb, storage, LINEBUF_CAP);
	assert_int_equal(linebuf_feed(&lb, (const uint8_t *)"hel", 3, &used), LINEBUF_NEED_MORE);
	assert_int_equal(used, 3);
	assert_int_equal(linebuf_feed(&lb, NULL, 0, &used), LINEBUF_NEED_MORE); /* an empty read */
	assert_int_equal(used, 0);
	assert_int_equal(linebuf_feed(&lb, (const uint8_t *)"lo", 2, &used), LINEBUF_NEED_MORE);
	/* The end of one line and the start of the next in one chunk. */
	assert_int_equal(linebuf_feed(&lb, (const uint8_t *)" you\nwor", 8, &used), LINEBUF_LINE);
	assert_int_equal(used, 5);
	assert_string_equal(lb.buf, "hello you");
	assert_int_equal(lb.len, 9);
	linebuf_next(&lb);
	assert_int_equal(linebuf_feed(&lb, (const uint8_t *)"wor", 3, &used), LINEBUF_NEED_MORE);
	assert_int_equal(linebuf_feed(&lb, (const uint8_t *)"ld\n", 3, &used), LINEBUF_LINE);
	assert_int_equal(used, 3);
	assert_string_equal(lb.buf, "world");
	/* A line may hold any byte but '\n', NUL included: len counts them. */
	linebuf_next(&lb);
	assert_int_equal(linebuf_feed(&lb, (const uint8_t *)"a\0b\r\n", 5, &used), LINEBUF_LINE);
	assert_int_equal(lb.len, 4);
	assert_memory_equal(lb.buf, "a\0b\r", 5);
}

static void exact_capacity_and_overflow(void **state)
{
	(void)state;
	uint8_t *d = malloc(LINEBUF_CAP + 2);
	size_t used;
	memset(d, 'a', LINEBUF_CAP + 1);
	d[LINEBUF_CAP] = '\n';
	linebuf_init(&lb, storage, LINEBUF_CAP);
	assert_int_equal(linebuf_feed(&lb, d, LINEBUF_CAP + 1, &used), LINEBUF_LINE);
	assert_int_equal(lb.len, LINEBUF_CAP);
	assert_int_equal(used, LINEBUF_CAP + 1);

	/* One byte more, in two pieces: refused, and nothing is written past the buffer. */
	memset(d, 'b', LINEBUF_CAP + 1);
	linebuf_init(&lb, storage, LINEBUF_CAP);
	assert_int_equal(linebuf_feed(&lb, d, LINEBUF_CAP, &used), LINEBUF_NEED_MORE);
	assert_int_equal(linebuf_feed(&lb, d, 1, &used), LINEBUF_OVERFLOW);
	assert_int_equal(used, 0);
	assert_int_equal(lb.len, LINEBUF_CAP);

	/* Overflow within a single chunk. */
	linebuf_init(&lb, storage, LINEBUF_CAP);
	assert_int_equal(linebuf_feed(&lb, d, LINEBUF_CAP + 1, &used), LINEBUF_OVERFLOW);
	assert_int_equal(lb.len, 0);

	/* Exactly the cap, arriving in pieces, then its newline alone. */
	linebuf_init(&lb, storage, LINEBUF_CAP);
	assert_int_equal(linebuf_feed(&lb, d, 1000, &used), LINEBUF_NEED_MORE);
	assert_int_equal(linebuf_feed(&lb, d, LINEBUF_CAP - 1000, &used), LINEBUF_NEED_MORE);
	assert_int_equal(linebuf_feed(&lb, (const uint8_t *)"\n", 1, &used), LINEBUF_LINE);
	assert_int_equal(lb.len, LINEBUF_CAP);
	assert_int_equal(lb.buf[LINEBUF_CAP], '\0');
	free(d);
}

/* The control socket's lines are longer, the cap is the caller's: here a
 * small one, in storage with guard bytes after it. */
static void a_cap_of_the_callers(void **state)
{
	(void)state;
	char small[5 + 8];
	struct linebuf b;
	size_t used;
	memset(small, 'G', sizeof(small));
	linebuf_init(&b, small, 4);
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"abcd\nabcde\n", 11, &used), LINEBUF_LINE);
	assert_int_equal(used, 5);
	assert_string_equal(b.buf, "abcd");
	linebuf_next(&b);
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"abcde\n", 6, &used), LINEBUF_OVERFLOW);
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"ab", 2, &used), LINEBUF_NEED_MORE);
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"cde", 3, &used), LINEBUF_OVERFLOW);
	assert_int_equal(b.len, 2);
	for (size_t i = 5; i < sizeof(small); i++)
		assert_int_equal(small[i], 'G');
}

/* Once asked (a logged-in peer, whose unknown lines are ignored), a line
 * over the cap is dropped up to its '\n' and the stream goes on. */
static void long_lines_skipped(void **state)
{
	(void)state;
	char small[5 + 8];
	struct linebuf b;
	size_t used;
	memset(small, 'G', sizeof(small));
	linebuf_init(&b, small, 4);
	linebuf_skip_long(&b);
	/* In one chunk: skipped, '\n' and all, then the next line. */
	const char *d = "abcdefg\nok\n";
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)d, strlen(d), &used), LINEBUF_SKIPPED);
	assert_int_equal(used, 8);
	assert_int_equal(b.len, 0);
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)d + 8, strlen(d) - 8, &used), LINEBUF_LINE);
	assert_string_equal(b.buf, "ok");
	linebuf_next(&b);
	/* In pieces: what fitted of it goes too; all is taken until its end. */
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"abc", 3, &used), LINEBUF_NEED_MORE);
	assert_int_equal(b.len, 3);
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"defgh", 5, &used), LINEBUF_NEED_MORE);
	assert_int_equal(used, 5);
	assert_int_equal(b.len, 0);
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"ij", 2, &used), LINEBUF_NEED_MORE);
	assert_int_equal(used, 2);
	assert_int_equal(linebuf_feed(&b, NULL, 0, &used), LINEBUF_NEED_MORE);
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"k\nxy\n", 5, &used), LINEBUF_SKIPPED);
	assert_int_equal(used, 2);
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"xy\n", 3, &used), LINEBUF_LINE);
	assert_string_equal(b.buf, "xy");
	linebuf_next(&b);
	/* A line of exactly the cap is a line still; an empty one too. */
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"abcd\n", 5, &used), LINEBUF_LINE);
	assert_string_equal(b.buf, "abcd");
	linebuf_next(&b);
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"\n", 1, &used), LINEBUF_LINE);
	assert_string_equal(b.buf, "");
	linebuf_next(&b);
	/* The '\n' right after the cap's bytes ends the skipped line. */
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"abcde", 5, &used), LINEBUF_NEED_MORE);
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"\nz\n", 3, &used), LINEBUF_SKIPPED);
	assert_int_equal(used, 1);
	for (size_t i = 5; i < sizeof(small); i++)
		assert_int_equal(small[i], 'G');
	/* A new start forgets it: an overflow again. */
	linebuf_init(&b, small, 4);
	assert_int_equal(linebuf_feed(&b, (const uint8_t *)"abcde\n", 6, &used), LINEBUF_OVERFLOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(several_lines_in_one_chunk),
		cmocka_unit_test(line_split_across_chunks),
		cmocka_unit_test(exact_capacity_and_overflow),
		cmocka_unit_test(a_cap_of_the_callers),
		cmocka_unit_test(long_lines_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
