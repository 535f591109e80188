/* Batched reads through io_uring (tun/ring.c), on a socket that keeps
 * packet boundaries as a TUN does: every packet comes once, whole and in
 * order, also when more wait than the ring has buffers (the read ends and
 * is made again) and when it stops and starts again between read(2)s; an
 * end of file is an error, not a busy loop. Skipped on
 * a kernel without multishot reads (before 6.7). */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "tun/ring.h"

#define BUFSZ 2048
#define COUNT 300 /* more than the ring's 64 buffers */

static size_t len_of(unsigned i)
{
	return 1 + (i * 37) % 1500;
}

static void fill(uint8_t *p, unsigned i, size_t len)
{
	for (size_t k = 0; k < len; k++)
		p[k] = (uint8_t)(i * 7 + k);
}

static int setup(void **state)
{
	int *sv = malloc(2 * sizeof(int));
	if (!sv || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv) < 0)
		return -1;
	int big = 4 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	*state = sv;
	return 0;
}

static int teardown(void **state)
{
	int *sv = *state;
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	free(sv);
	return 0;
}

/* The next packet, waiting on the ring's fd for it: its length. */
static ssize_t next(struct tun_ring *r, uint8_t **buf)
{
	for (int tries = 0; tries < 100; tries++) {
		ssize_t n = tun_ring_next(r, buf);
		if (n != 0)
			return n;
		struct pollfd pfd = {.fd = tun_ring_fd(r), .events = POLLIN};
		poll(&pfd, 1, 50);
	}
	return 0;
}

static void test_every_packet_in_order(void **state)
{
	int *sv = *state;
	struct tun_ring *r = tun_ring_open(sv[0], BUFSZ);
	if (!r)
		skip(); /* errno: EOPNOTSUPP before 6.7, EPERM or ENOSYS with io_uring off */
	uint8_t pkt[BUFSZ];
	uint8_t *buf;
	assert_int_equal(tun_ring_next(r, &buf), 0); /* nothing yet */
	/* All at once, before any is taken: the read runs out of buffers. */
	for (unsigned i = 0; i < COUNT; i++) {
		fill(pkt, i, len_of(i));
		assert_int_equal(write(sv[1], pkt, len_of(i)), (ssize_t)len_of(i));
	}
	for (unsigned i = 0; i < COUNT; i++) {
		ssize_t n = next(r, &buf);
		assert_int_equal(n, (ssize_t)len_of(i));
		fill(pkt, i, len_of(i));
		assert_memory_equal(buf, pkt, len_of(i));
	}
	assert_int_equal(tun_ring_next(r, &buf), 0);
	/* And one at a time, taken as they come. */
	for (unsigned i = 0; i < COUNT; i++) {
		fill(pkt, i, len_of(i));
		assert_int_equal(write(sv[1], pkt, len_of(i)), (ssize_t)len_of(i));
		assert_int_equal(next(r, &buf), (ssize_t)len_of(i));
		assert_memory_equal(buf, pkt, len_of(i));
	}
	/* Stopped with packets waiting: those it read come first, then
	 * read(2) has the rest, and none is lost or comes twice. */
	for (unsigned i = 0; i < COUNT; i++) {
		fill(pkt, i, len_of(i));
		assert_int_equal(write(sv[1], pkt, len_of(i)), (ssize_t)len_of(i));
	}
	unsigned i = 0;
	for (; i < 10; i++)
		assert_int_equal(next(r, &buf), (ssize_t)len_of(i));
	tun_ring_stop(r);
	ssize_t n;
	while ((n = tun_ring_next(r, &buf)) > 0) {
		assert_int_equal(n, (ssize_t)len_of(i));
		fill(pkt, i, len_of(i));
		assert_memory_equal(buf, pkt, len_of(i));
		i++;
	}
	assert_int_equal(n, 0);
	assert_false(tun_ring_active(r));
	uint8_t got[BUFSZ];
	while ((n = read(sv[0], got, sizeof(got))) > 0) {
		assert_int_equal(n, (ssize_t)len_of(i));
		fill(pkt, i, len_of(i));
		assert_memory_equal(got, pkt, len_of(i));
		i++;
	}
	assert_int_equal(i, COUNT);
	/* Started again, it reads what comes next. */
	assert_int_equal(tun_ring_start(r), 0);
	assert_true(tun_ring_active(r));
	for (i = 0; i < 10; i++) {
		fill(pkt, i, len_of(i));
		assert_int_equal(write(sv[1], pkt, len_of(i)), (ssize_t)len_of(i));
		assert_int_equal(next(r, &buf), (ssize_t)len_of(i));
		assert_memory_equal(buf, pkt, len_of(i));
	}
	/* The other end gone: an error, every time. */
	close(sv[1]);
	sv[1] = -1;
	assert_int_equal(next(r, &buf), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(tun_ring_next(r, &buf), -1);
	tun_ring_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_packet_in_order, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
