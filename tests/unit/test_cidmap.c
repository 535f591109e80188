/* Connection-ID routing: a hash map checked against a plain model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "daemon/cidmap.h"

static void basics(void **state)
{
	(void)state;
	struct cidmap m;
	int a, b;
	assert_int_equal(cidmap_init(&m, 4), 0);
	const uint8_t c1[1] = {7}, c20[20] = {1, 2, 3};
	assert_int_equal(cidmap_put(&m, c1, 1, &a), 0);
	assert_int_equal(cidmap_put(&m, c20, 20, &b), 0);
	assert_ptr_equal(cidmap_get(&m, c1, 1), &a);
	assert_ptr_equal(cidmap_get(&m, c20, 20), &b);
	assert_null(cidmap_get(&m, c20, 19)); /* a prefix is another CID */
	assert_int_equal(cidmap_put(&m, c1, 1, &b), 0); /* replace */
	assert_ptr_equal(cidmap_get(&m, c1, 1), &b);
	assert_int_equal(m.count, 2);
	assert_ptr_equal(cidmap_del(&m, c1, 1), &b);
	assert_null(cidmap_get(&m, c1, 1));
	assert_null(cidmap_del(&m, c1, 1));
	uint8_t big[21] = {0};
	assert_int_equal(cidmap_put(&m, big, 0, &a), -1);
	assert_int_equal(cidmap_put(&m, big, 21, &a), -1);
	assert_null(cidmap_get(&m, big, 21));
	cidmap_free(&m);
}

#define N 512

static void against_a_model(void **state)
{
	(void)state;
	struct cidmap m;
	static uint8_t keys[N][16];
	static int present[N];
	assert_int_equal(cidmap_init(&m, 16), 0);
	srand(1);
	for (int i = 0; i < N; i++)
		for (int j = 0; j < 16; j++)
			keys[i][j] = (uint8_t)rand();
	for (int step = 0; step < 10000; step++) {
		int k = rand() % N;
		if (rand() % 3) {
			assert_int_equal(cidmap_put(&m, keys[k], 16, &present[k]), 0);
			present[k] = 1;
		} else {
			void *v = cidmap_del(&m, keys[k], 16);
			assert_ptr_equal(v, present[k] ? &present[k] : NULL);
			present[k] = 0;
		}
		if (step % 500 == 0) {
			size_t live = 0;
			for (int i = 0; i < N; i++) {
				live += (size_t)present[i];
				assert_ptr_equal(cidmap_get(&m, keys[i], 16), present[i] ? &present[i] : NULL);
			}
			assert_int_equal(m.count, live);
		}
	}
	/* Load stays at most half, tombstones included. */
	assert_true((m.count + m.tombs) * 2 <= m.cap);
	cidmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basics),
		cmocka_unit_test(against_a_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
