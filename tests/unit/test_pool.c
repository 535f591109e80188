/* The VIP pool: never the network, the hub or the broadcast address. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "daemon/pool.h"

#define NET 0x0a640000u /* 10.100.0.0 */

static void slash29_holds_five(void **state)
{
	(void)state;
	struct pool p;
	assert_int_equal(pool_init(&p, NET, 29), 0);
	assert_int_equal(pool_capacity(&p), 5);
	assert_int_equal(pool_hub_addr(&p), NET + 1);
	uint32_t seen = 0;
	for (int i = 0; i < 5; i++) {
		uint32_t a = pool_alloc(&p);
		assert_true(a >= NET + 2 && a <= NET + 6);
		assert_false(seen & (1u << (a - NET)));
		seen |= 1u << (a - NET);
	}
	assert_int_equal(seen, 0x7cu); /* .2 to .6: never .0, .1 or .7 */
	assert_int_equal(pool_alloc(&p), 0); /* the 6th */
	assert_int_equal(p.used, 5);
	pool_release(&p, NET + 4);
	pool_release(&p, NET + 4); /* twice: a no-op */
	assert_int_equal(p.used, 4);
	assert_int_equal(pool_alloc(&p), NET + 4);
	assert_int_equal(pool_alloc(&p), 0);
	pool_free(&p);
	/* After pool_free the pool is empty and full, never a crash. */
	assert_int_equal(pool_alloc(&p), 0);
	assert_false(pool_take(&p, NET + 2));
	pool_release(&p, NET + 2);
}

/* Released addresses go to the back of the line. */
static void round_robin(void **state)
{
	(void)state;
	struct pool p;
	assert_int_equal(pool_init(&p, NET, 24), 0);
	assert_int_equal(pool_alloc(&p), NET + 2);
	assert_int_equal(pool_alloc(&p), NET + 3);
	pool_release(&p, NET + 2);
	assert_int_equal(pool_alloc(&p), NET + 4);
	pool_free(&p);
}

static void reserved_addresses(void **state)
{
	(void)state;
	struct pool p;
	assert_int_equal(pool_init(&p, NET + 77, 24), 0); /* host bits cleared */
	assert_int_equal(p.network, NET);
	assert_int_equal(pool_capacity(&p), 253);
	assert_false(pool_take(&p, NET));
	assert_false(pool_take(&p, NET + 1));
	assert_false(pool_take(&p, NET + 255));
	assert_false(pool_take(&p, NET + 256)); /* outside */
	/* Releasing reserved or free addresses changes nothing. */
	pool_release(&p, NET + 1);
	pool_release(&p, NET + 9);
	assert_int_equal(p.used, 0);
	for (int i = 0; i < 253; i++) {
		uint32_t a = pool_alloc(&p);
		assert_true(a > NET + 1 && a < NET + 255);
	}
	assert_int_equal(pool_alloc(&p), 0);
	pool_free(&p);
}

static void fixed_vip(void **state)
{
	(void)state;
	struct pool p;
	assert_int_equal(pool_init(&p, NET, 24), 0);
	assert_true(pool_take(&p, NET + 2));
	assert_false(pool_take(&p, NET + 2));
	assert_int_equal(pool_alloc(&p), NET + 3);
	assert_true(pool_contains(&p, NET + 200));
	assert_false(pool_contains(&p, NET - 1));
	pool_free(&p);
}

static void prefixes(void **state)
{
	(void)state;
	struct pool p;
	assert_int_equal(pool_init(&p, NET, 15), -1);
	assert_int_equal(pool_init(&p, NET, 30), -1);
	assert_int_equal(pool_init(&p, NET, 0), -1);
	assert_int_equal(pool_init(&p, NET, 32), -1);
	assert_int_equal(pool_init(&p, NET, 16), 0);
	assert_int_equal(pool_capacity(&p), 65533);
	/* Every client address of a /16, none of the three reserved ones. */
	for (uint32_t i = 0; i < 65533; i++) {
		uint32_t a = pool_alloc(&p);
		assert_true(a >= NET + 2 && a <= NET + 65534);
	}
	assert_int_equal(pool_alloc(&p), 0);
	assert_int_equal(p.used, 65533);
	pool_free(&p);
}

/* pool_alloc_in: the original's clients take their address as a /24, so a
 * wider pool gives them the hub's /24 only, .2 to .254 (the hub's .1 and
 * the /24's .0 and .255 never). */
static void in_a_range(void **state)
{
	(void)state;
	struct pool p;
	for (unsigned prefix = 16; prefix <= 23; prefix += 7) {
		assert_int_equal(pool_init(&p, NET, prefix), 0);
		uint32_t seen[8] = {0};
		for (int i = 0; i < 253; i++) {
			uint32_t a = pool_alloc_in(&p, NET + 2, NET + 254);
			assert_true(a >= NET + 2 && a <= NET + 254);
			assert_false(seen[(a - NET) / 32] >> (a - NET) % 32 & 1);
			seen[(a - NET) / 32] |= 1u << (a - NET) % 32;
		}
		/* The hub's /24 full: refused, though the pool has room. */
		assert_int_equal(pool_alloc_in(&p, NET + 2, NET + 254), 0);
		assert_int_equal(p.used, 253);
		assert_int_equal(pool_alloc(&p), NET + 255); /* a client of ours may have it */
		pool_release(&p, NET + 100);
		assert_int_equal(pool_alloc_in(&p, NET + 2, NET + 254), NET + 100);
		assert_int_equal(pool_alloc_in(&p, NET + 2, NET + 254), 0);
		pool_free(&p);
	}
	/* Its own round robin: an address just released waits its turn, and
	 * pool_alloc's turns elsewhere do not move it. */
	assert_int_equal(pool_init(&p, NET, 23), 0);
	assert_int_equal(pool_alloc_in(&p, NET + 2, NET + 254), NET + 2);
	for (int i = 0; i < 300; i++)
		assert_true(pool_alloc(&p) != 0);
	assert_int_equal(p.next, 303);
	assert_int_equal(pool_alloc_in(&p, NET + 2, NET + 254), 0); /* 3 to 254 went to pool_alloc */
	pool_release(&p, NET + 2);
	pool_release(&p, NET + 9);
	pool_release(&p, NET + 7);
	assert_int_equal(pool_alloc_in(&p, NET + 2, NET + 254), NET + 7);
	assert_int_equal(pool_alloc_in(&p, NET + 2, NET + 254), NET + 9);
	assert_int_equal(pool_alloc_in(&p, NET + 2, NET + 254), NET + 2);
	pool_free(&p);
	/* A range wider than the pool is cut to it; reserved addresses are
	 * never given, nor is anything outside. */
	assert_int_equal(pool_init(&p, NET, 29), 0);
	assert_int_equal(pool_alloc_in(&p, NET + 8, NET + 300), 0);
	assert_int_equal(pool_alloc_in(&p, NET - 20, NET - 1), 0);
	assert_int_equal(pool_alloc_in(&p, NET + 5, NET + 3), 0);
	for (uint32_t i = 2; i <= 6; i++)
		assert_int_equal(pool_alloc_in(&p, NET - 20, NET + 255), NET + i);
	assert_int_equal(pool_alloc_in(&p, NET - 20, NET + 255), 0);
	pool_free(&p);
	assert_int_equal(pool_alloc_in(&p, NET, NET + 255), 0); /* freed: empty and full */
	/* A /24 and its own .0 and .255 asked for: never given. */
	assert_int_equal(pool_init(&p, NET, 24), 0);
	for (int i = 0; i < 253; i++) {
		uint32_t a = pool_alloc_in(&p, NET, NET + 255);
		assert_true(a >= NET + 2 && a <= NET + 254);
	}
	assert_int_equal(pool_alloc_in(&p, NET, NET + 255), 0);
	pool_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slash29_holds_five),
		cmocka_unit_test(round_robin),
		cmocka_unit_test(reserved_addresses),
		cmocka_unit_test(fixed_vip),
		cmocka_unit_test(prefixes),
		cmocka_unit_test(in_a_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
