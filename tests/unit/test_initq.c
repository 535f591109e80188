/* The hub's queues of admitted Initials: copies in order, at most their
 * capacity, round the ring; a datagram larger than a slot, or one more
 * than it holds, is refused and the queue stays as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/initq.h"

static uint8_t buf[UDP_RX_BUF + 1];

static struct udp_rx rx_of(uint8_t tag, size_t len)
{
	struct udp_rx rx = {.data = buf, .len = len, .fromlen = 16, .tolen = 16};
	memset(buf, tag, len);
	rx.from.ss_family = AF_INET;
	((uint8_t *)&rx.from)[4] = tag;
	return rx;
}

static void test_order_and_ring(void **state)
{
	(void)state;
	struct initq q;
	assert_int_equal(initq_init(&q, INITQ_MAX), 0);
	assert_null(initq_head(&q));
	/* Three times round the ring, half full at a time. */
	unsigned next_in = 0, next_out = 0;
	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < INITQ_MAX / 2; i++, next_in++) {
			struct udp_rx rx = rx_of((uint8_t)next_in, 1200 + next_in % 100);
			struct initq_slot *sl = initq_push(&q, &rx);
			assert_non_null(sl);
			assert_ptr_equal(sl->rx.data, sl->data);
			assert_false(sl->validated);
		}
		memset(buf, 0xee, sizeof(buf)); /* the queue holds copies */
		for (struct initq_slot *sl; (sl = initq_head(&q)); next_out++) {
			assert_int_equal(sl->rx.len, 1200 + next_out % 100);
			assert_int_equal(sl->rx.data[0], (uint8_t)next_out);
			assert_int_equal(sl->rx.data[sl->rx.len - 1], (uint8_t)next_out);
			assert_int_equal(((uint8_t *)&sl->rx.from)[4], (uint8_t)next_out);
			assert_int_equal(sl->rx.fromlen, 16);
			initq_pop(&q);
		}
	}
	assert_int_equal(next_out, next_in);
	initq_pop(&q); /* empty: nothing happens */
	assert_int_equal(q.n, 0);
	initq_free(&q);
}

static void test_limits(void **state)
{
	(void)state;
	struct initq q;
	assert_int_equal(initq_init(&q, INITQ_FIRST_MAX), 0);
	struct udp_rx big = rx_of(1, UDP_RX_BUF + 1);
	assert_null(initq_push(&q, &big));
	assert_int_equal(q.n, 0);
	for (int i = 0; i < INITQ_FIRST_MAX; i++) {
		struct udp_rx rx = rx_of((uint8_t)i, UDP_RX_BUF);
		assert_non_null(initq_push(&q, &rx));
	}
	struct udp_rx one = rx_of(0xaa, 1200);
	assert_null(initq_push(&q, &one));
	assert_int_equal(q.n, INITQ_FIRST_MAX);
	assert_int_equal(initq_head(&q)->rx.data[0], 0);
	/* One out, one in, round the end of a ring of this size. */
	initq_pop(&q);
	assert_non_null(initq_push(&q, &one));
	for (int i = 1; i < INITQ_FIRST_MAX; i++) {
		assert_int_equal(initq_head(&q)->rx.data[0], i);
		initq_pop(&q);
	}
	assert_int_equal(initq_head(&q)->rx.data[0], 0xaa);
	/* A dcid is found while its slot is queued, and not after. */
	ngtcp2_cid a = {.datalen = 8, .data = "12345678"}, b = {.datalen = 8, .data = "12345679"};
	initq_head(&q)->dcid = a;
	assert_true(initq_has(&q, &a));
	assert_false(initq_has(&q, &b));
	initq_pop(&q);
	assert_false(initq_has(&q, &a));
	initq_free(&q);
	assert_null(initq_head(&q));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_ring),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
