/* The hub's tagged connection IDs (cidtag.h): each one made carries the
 * tag of its secret and of no other; an ID of the wrong length, any byte
 * changed, or random IDs do not pass (but for the one in 65536 that may). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <gnutls/crypto.h>
#include <string.h>

#include "daemon/cidtag.h"

static const uint8_t secret[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const uint8_t other[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11};

static void made_ones_pass(void **state)
{
	(void)state;
	for (int i = 0; i < 1000; i++) {
		uint8_t cid[CIDTAG_LEN];
		assert_int_equal(cidtag_make(secret, cid), 0);
		assert_true(cidtag_ok(secret, cid, sizeof(cid)));
	}
}

static void wrong_length_or_secret(void **state)
{
	(void)state;
	uint8_t cid[CIDTAG_LEN + 1];
	assert_int_equal(cidtag_make(secret, cid), 0);
	cid[CIDTAG_LEN] = 0;
	assert_false(cidtag_ok(secret, cid, CIDTAG_LEN - 1));
	assert_false(cidtag_ok(secret, cid, CIDTAG_LEN + 1));
	assert_false(cidtag_ok(secret, cid, 0));
	assert_false(cidtag_ok(secret, NULL, 0));
	/* Another hub's key: not its tag, but for a chance pass in 65536. */
	int passed = 0;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(cidtag_make(secret, cid), 0);
		passed += cidtag_ok(other, cid, CIDTAG_LEN);
	}
	assert_true(passed <= 3); /* about 0.015 expected */
}

static void any_byte_changed_fails(void **state)
{
	(void)state;
	uint8_t cid[CIDTAG_LEN];
	assert_int_equal(cidtag_make(secret, cid), 0);
	int passed = 0;
	for (size_t i = 0; i < CIDTAG_LEN; i++)
		for (int bit = 0; bit < 8; bit++) {
			uint8_t c[CIDTAG_LEN];
			memcpy(c, cid, sizeof(c));
			c[i] ^= (uint8_t)(1 << bit);
			/* A flipped bit of the tag never passes; one of the random
			 * part makes another tag, which may match by chance (one
			 * in 65536). */
			if (i >= CIDTAG_RANDOM)
				assert_false(cidtag_ok(secret, c, sizeof(c)));
			else
				passed += cidtag_ok(secret, c, sizeof(c));
		}
	assert_true(passed <= 1);
}

static void random_ids_fail(void **state)
{
	(void)state;
	int passed = 0;
	for (int i = 0; i < 20000; i++) {
		uint8_t cid[CIDTAG_LEN];
		gnutls_rnd(GNUTLS_RND_NONCE, cid, sizeof(cid));
		passed += cidtag_ok(secret, cid, sizeof(cid));
	}
	assert_true(passed <= 5); /* about 0.3 expected */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(made_ones_pass),
		cmocka_unit_test(wrong_length_or_secret),
		cmocka_unit_test(any_byte_changed_fails),
		cmocka_unit_test(random_ids_fail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
