/* Connection-ID routing: a hash map checked against a plain model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
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
	assert_ptr_equal(cidmap_get(&m, c1, 1), &b); /* the last hit now */
	assert_ptr_equal(cidmap_del(&m, c1, 1), &b);
	assert_null(cidmap_get(&m, c1, 1));   /* not from the last hit's slot */
	assert_null(cidmap_del(&m, c1, 1));
	uint8_t big[21] = {0};
	assert_int_equal(cidmap_put(&m, big, 0, &a), -1);
	assert_int_equal(cidmap_put(&m, big, 21, &a), -1);
	assert_null(cidmap_get(&m, big, 21));
	assert_null(cidmap_get(&m, big, 0));
	assert_null(cidmap_del(&m, big, 21));
	assert_int_equal(cidmap_put(&m, NULL, 4, &a), -1);
	/* Two maps hash with different keys. */
	struct cidmap m2;
	assert_int_equal(cidmap_init(&m2, 4), 0);
	assert_memory_not_equal(m.key, m2.key, sizeof(m.key));
	cidmap_free(&m2);
	cidmap_free(&m);
}

static void growth(void **state)
{
	(void)state;
	struct cidmap m;
	static int v[5000];
	assert_int_equal(cidmap_init(&m, 0), 0);
	size_t cap0 = m.cap;
	/* The last hit's slot is freed when the table grows (ASan sees a use
	 * after free if it is kept). */
	int first;
	const uint8_t k0[20] = {0xff};
	assert_int_equal(cidmap_put(&m, k0, 20, &first), 0);
	assert_ptr_equal(cidmap_get(&m, k0, 20), &first);
	assert_true(cap0 >= 1 && (cap0 & (cap0 - 1)) == 0);
	/* Keys of every length 1..20; prefixes of one another on purpose. */
	for (int i = 0; i < 5000; i++) {
		uint8_t k[20] = {(uint8_t)(i / 20), (uint8_t)(i / 20 >> 8)}; /* unique per length */
		assert_int_equal(cidmap_put(&m, k, (size_t)(i % 20) + 1, &v[i]), 0);
		assert_true(m.count * 2 <= m.cap);
	}
	assert_true(m.cap > cap0);
	assert_true((m.cap & (m.cap - 1)) == 0);
	assert_int_equal(m.count, 5001);
	assert_ptr_equal(cidmap_get(&m, k0, 20), &first);
	for (int i = 0; i < 5000; i++) {
		uint8_t k[20] = {(uint8_t)(i / 20), (uint8_t)(i / 20 >> 8)};
		assert_ptr_equal(cidmap_get(&m, k, (size_t)(i % 20) + 1), &v[i]);
	}
	cidmap_free(&m);
	/* A freed map is empty, and usable again. */
	const uint8_t k[1] = {1};
	assert_null(cidmap_get(&m, k, 1));
	assert_null(cidmap_del(&m, k, 1));
	assert_int_equal(cidmap_put(&m, k, 1, &v[0]), 0);
	assert_ptr_equal(cidmap_get(&m, k, 1), &v[0]);
	cidmap_free(&m);
}

/* A connection's IDs removed by a scan: all of its own, none of another's,
 * and the other's still found after (the hint of the last hit reset). */
static void del_value(void **state)
{
	(void)state;
	struct cidmap m;
	int a, b;
	assert_int_equal(cidmap_init(&m, 16), 0);
	uint8_t k[8] = {0};
	for (uint8_t i = 0; i < 40; i++) {
		k[0] = i;
		assert_int_equal(cidmap_put(&m, k, 8, i % 4 ? &a : &b), 0);
	}
	k[0] = 4;
	assert_ptr_equal(cidmap_get(&m, k, 8), &b);
	assert_int_equal(cidmap_del_value(&m, &b), 10);
	assert_int_equal(m.count, 30);
	for (uint8_t i = 0; i < 40; i++) {
		k[0] = i;
		assert_ptr_equal(cidmap_get(&m, k, 8), i % 4 ? &a : NULL);
	}
	assert_int_equal(cidmap_del_value(&m, &b), 0);
	cidmap_free(&m);
}

/* Churn (connection IDs come and go all day) must neither grow the table
 * nor fill it with tombstones. */
static void tombstones(void **state)
{
	(void)state;
	struct cidmap m;
	int a, b;
	assert_int_equal(cidmap_init(&m, 64), 0);
	size_t cap = m.cap;
	uint8_t k[8] = {0}, keep[3] = {9, 9, 9};
	assert_int_equal(cidmap_put(&m, keep, 3, &b), 0);
	for (uint32_t i = 0; i < 100000; i++) {
		memcpy(k, &i, sizeof(i));
		assert_int_equal(cidmap_put(&m, k, 8, &a), 0);
		assert_ptr_equal(cidmap_del(&m, k, 8), &a);
		assert_true((m.count + m.tombs) * 2 <= m.cap);
	}
	assert_int_equal(m.cap, cap);
	assert_int_equal(m.count, 1);
	assert_ptr_equal(cidmap_get(&m, keep, 3), &b);

	/* Deleting from the middle of a probe chain keeps the rest reachable,
	 * and a put of a deleted key reuses a slot. */
	int v[8];
	for (int i = 0; i < 8; i++) {
		k[0] = (uint8_t)(0xa0 + i);
		assert_int_equal(cidmap_put(&m, k, 1, &v[i]), 0);
	}
	for (int i = 0; i < 8; i += 2) {
		k[0] = (uint8_t)(0xa0 + i);
		assert_ptr_equal(cidmap_del(&m, k, 1), &v[i]);
	}
	for (int i = 1; i < 8; i += 2) {
		k[0] = (uint8_t)(0xa0 + i);
		assert_ptr_equal(cidmap_get(&m, k, 1), &v[i]);
	}
	size_t tombs = m.tombs;
	k[0] = 0xa0;
	assert_int_equal(cidmap_put(&m, k, 1, &v[0]), 0);
	assert_true(m.tombs <= tombs);
	assert_int_equal(m.cap, cap);
	cidmap_free(&m);
}

/* A table grown for a peak goes back once the crowd has gone, by deletes
 * one at a time and by a connection's IDs at once; not below its first
 * size, and every entry left still found. */
static void shrinks_after_a_peak(void **state)
{
	(void)state;
	struct cidmap m;
	static int v[20000];
	assert_int_equal(cidmap_init(&m, 256), 0);
	uint8_t k[8] = {0};
	for (uint32_t i = 0; i < 20000; i++) {
		memcpy(k, &i, sizeof(i));
		assert_int_equal(cidmap_put(&m, k, 8, &v[i % 100]), 0);
	}
	size_t peak = m.cap;
	assert_true(peak >= 40000);
	for (uint32_t i = 0; i < 19000; i++) {
		memcpy(k, &i, sizeof(i));
		assert_ptr_equal(cidmap_del(&m, k, 8), &v[i % 100]);
		assert_true(m.count * 32 >= m.cap || m.cap == 256); /* never far below a sixteenth */
	}
	assert_true(m.cap < peak / 8);
	for (uint32_t i = 19000; i < 20000; i++) {
		memcpy(k, &i, sizeof(i));
		assert_ptr_equal(cidmap_get(&m, k, 8), &v[i % 100]);
	}
	/* The rest, ten IDs a value at a time, as connections close. */
	for (int j = 0; j < 100; j++)
		assert_int_equal(cidmap_del_value(&m, &v[j]), 10);
	assert_int_equal(m.count, 0);
	assert_int_equal(m.cap, 256);
	cidmap_free(&m);
}

#define N 512

/* 10 000 random puts and deletes, checked against a plain array. */
static void against_a_model(void **state)
{
	(void)state;
	struct cidmap m;
	static uint8_t keys[N][CIDMAP_MAXLEN];
	static size_t lens[N];
	static int present[N];
	assert_int_equal(cidmap_init(&m, 16), 0);
	srand(1);
	for (int i = 0; i < N; i++) {
		bool dup;
		int tries = 0;
		do {
			lens[i] = 1 + (size_t)rand() % CIDMAP_MAXLEN;
			for (int j = 0; j < CIDMAP_MAXLEN; j++)
				keys[i][j] = (uint8_t)rand();
			/* Some keys equal another in everything but length. */
			if (i > 0 && i % 7 == 0 && tries++ == 0) {
				memcpy(keys[i], keys[i - 1], CIDMAP_MAXLEN);
				lens[i] = lens[i - 1] % CIDMAP_MAXLEN + 1;
			}
			/* The model needs distinct keys (short ones repeat by chance). */
			dup = false;
			for (int j = 0; j < i && !dup; j++)
				dup = lens[j] == lens[i] && memcmp(keys[j], keys[i], lens[i]) == 0;
		} while (dup);
	}
	for (int step = 0; step < 10000; step++) {
		int k = rand() % N;
		if (rand() % 3) {
			assert_int_equal(cidmap_put(&m, keys[k], lens[k], &present[k]), 0);
			present[k] = 1;
		} else {
			void *v = cidmap_del(&m, keys[k], lens[k]);
			assert_ptr_equal(v, present[k] ? &present[k] : NULL);
			present[k] = 0;
		}
		/* Load stays at most half, tombstones included. */
		assert_true((m.count + m.tombs) * 2 <= m.cap);
		if (step % 500 == 0 || step == 9999) {
			size_t live = 0;
			for (int i = 0; i < N; i++) {
				live += (size_t)present[i];
				assert_ptr_equal(cidmap_get(&m, keys[i], lens[i]), present[i] ? &present[i] : NULL);
			}
			assert_int_equal(m.count, live);
		}
	}
	cidmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basics),
		cmocka_unit_test(growth),
		cmocka_unit_test(tombstones),
		cmocka_unit_test(del_value),
		cmocka_unit_test(shrinks_after_a_peak),
		cmocka_unit_test(against_a_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
