/* Log budgets (daemon/log.h): at most so many lines a minute of one kind
 * (or of one kind and key: a client's address), every line held back
 * counted (log_suppressed), and the minute summed up in one line when it is
 * over, whether or not more of its kind come (log_budget_flush), or when
 * the budget goes (log_budget_forget). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/log.h"

#define S 1000000ull
#define T0 (1000 * S) /* any time well after the clock's start */

/* stderr into a file (appended to), read back by said(). */
static char path[] = "/tmp/test_logbudget.XXXXXX";

static int setup(void **state)
{
	(void)state;
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0 || dup2(fd, 2) < 0)
		return -1;
	close(fd);
	setvbuf(stderr, NULL, _IONBF, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

/* What was logged since the last call. */
static char *said(void)
{
	static char buf[4096];
	size_t n = 0;
	FILE *f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	if (ftruncate(2, 0) < 0)
		buf[0] = '?';
	return buf;
}

static unsigned lines(const char *s)
{
	unsigned n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_a_minute_summed_up_without_more(void **state)
{
	(void)state;
	struct log_budget b = {0};
	unsigned long long before = log_suppressed;
	bool last;
	said();
	for (int i = 0; i < 3; i++) {
		assert_true(log_budget_take_at(&b, 3, LOG_LVL_INFO, "pings", &last, T0 + i));
		assert_int_equal(last, i == 2);
	}
	for (int i = 0; i < 5; i++)
		assert_false(log_budget_take_at(&b, 3, LOG_LVL_INFO, "pings", &last, T0 + 10 * S));
	assert_int_equal(log_suppressed - before, 5);
	/* Due when its minute is over, not before. */
	assert_int_equal(log_budget_due(), T0 + 60 * S);
	log_budget_flush(T0 + 59 * S);
	assert_string_equal(said(), "");
	/* No more pings: the flush says it all the same, once. */
	log_budget_flush(T0 + 61 * S);
	assert_non_null(strstr(said(), "5 more pings in the last minute were not logged"));
	assert_int_equal(log_budget_due(), 0);
	log_budget_flush(T0 + 200 * S);
	assert_string_equal(said(), "");
	/* A new minute: lines again. */
	assert_true(log_budget_take_at(&b, 3, LOG_LVL_INFO, "pings", &last, T0 + 62 * S));
}

static void test_next_one_says_it_too(void **state)
{
	(void)state;
	struct log_budget b = {0};
	bool last;
	said();
	assert_true(log_budget_take_at(&b, 1, LOG_LVL_INFO, "pongs", &last, T0));
	assert_false(log_budget_take_at(&b, 1, LOG_LVL_INFO, "pongs", &last, T0 + S));
	assert_false(log_budget_take_at(&b, 1, LOG_LVL_INFO, "pongs", &last, T0 + 2 * S));
	/* The next one after the minute says them before its own line... */
	assert_true(log_budget_take_at(&b, 1, LOG_LVL_INFO, "pongs", &last, T0 + 70 * S));
	assert_non_null(strstr(said(), "2 more pongs in the last minute"));
	/* ... and the flush has nothing left to say. */
	assert_int_equal(log_budget_due(), 0);
	log_budget_flush(T0 + 300 * S);
	assert_string_equal(said(), "");
}

static void test_forget_says_it(void **state)
{
	(void)state;
	struct log_budget *b = calloc(1, sizeof(*b));
	bool last;
	said();
	assert_true(log_budget_take_at(b, 1, LOG_LVL_INFO, "moves", &last, T0));
	assert_false(log_budget_take_at(b, 1, LOG_LVL_INFO, "moves", &last, T0));
	log_budget_forget(b);
	assert_non_null(strstr(said(), "1 more moves"));
	free(b); /* not in the list any more: the flush would find it there */
	assert_int_equal(log_budget_due(), 0);
	log_budget_flush(T0 + 300 * S);
	assert_string_equal(said(), "");
}

static void test_keys_have_budgets_of_their_own(void **state)
{
	(void)state;
	struct log_keyed t;
	assert_int_equal(log_keyed_init(&t, 64), 0);
	const uint8_t a[4] = {192, 0, 2, 1}, c[4] = {192, 0, 2, 2};
	bool last;
	said();
	for (int i = 0; i < 2; i++) {
		assert_true(log_keyed_take_at(&t, a, 4, 2, LOG_LVL_INFO, "logins from a", &last, T0));
		assert_true(log_keyed_take_at(&t, c, 4, 2, LOG_LVL_INFO, "logins from c", &last, T0));
	}
	for (int i = 0; i < 7; i++)
		assert_false(log_keyed_take_at(&t, a, 4, 2, LOG_LVL_INFO, "logins from a", &last, T0 + S));
	assert_false(log_keyed_take_at(&t, c, 4, 2, LOG_LVL_INFO, "logins from c", &last, T0 + S));
	log_budget_flush(T0 + 61 * S);
	char *s = said();
	assert_non_null(strstr(s, "7 more logins from a in the last minute"));
	assert_non_null(strstr(s, "1 more logins from c in the last minute"));
	assert_int_equal(lines(s), 2);
	/* Freed with a summary still due: said then. */
	assert_false(log_keyed_take_at(&t, a, 4, 0, LOG_LVL_INFO, "logins from a", &last, T0 + 62 * S));
	log_keyed_free(&t);
	assert_non_null(strstr(said(), "1 more logins from a"));
	assert_int_equal(log_budget_due(), 0);
}

static void test_a_full_table_lets_through(void **state)
{
	(void)state;
	struct log_keyed t;
	assert_int_equal(log_keyed_init(&t, 8), 0);
	bool last;
	said();
	/* Eight keys fill it for a minute; a ninth is let through, uncounted. */
	unsigned long long before = log_suppressed;
	for (uint8_t k = 0; k < 9; k++)
		assert_true(log_keyed_take_at(&t, &k, 1, 1, LOG_LVL_INFO, "k", &last, T0));
	uint8_t k = 8;
	assert_true(log_keyed_take_at(&t, &k, 1, 1, LOG_LVL_INFO, "k", &last, T0));
	assert_int_equal(log_suppressed, before);
	/* A minute on, slots are free again: the ninth has a budget. */
	assert_true(log_keyed_take_at(&t, &k, 1, 1, LOG_LVL_INFO, "k", &last, T0 + 61 * S));
	assert_false(log_keyed_take_at(&t, &k, 1, 1, LOG_LVL_INFO, "k", &last, T0 + 61 * S));
	log_keyed_free(&t);
	assert_non_null(strstr(said(), "1 more k"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_minute_summed_up_without_more),
		cmocka_unit_test(test_next_one_says_it_too),
		cmocka_unit_test(test_forget_says_it),
		cmocka_unit_test(test_keys_have_budgets_of_their_own),
		cmocka_unit_test(test_a_full_table_lets_through),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
