/* Batched reads through io_uring (tun/ring.c), on a socket that keeps
 * packet boundaries as a TUN does: every packet comes once, whole and in
 * order, also when more wait than the ring has buffers (the read ends and
 * is made again) and when it stops and starts again between read(2)s; an
 * end of file is an error, not a busy loop; a kernel that refuses to make
 * the read again stops the ring, with nothing lost, and is no error of the
 * TUN's. Skipped on a kernel without multishot reads (before 6.7). */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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

/* What the ring left in the TUN's queue, read(2) from fd: packets i, i+1,
 * ... in order, each as sent, until none is left. The next one's number. */
static unsigned read_rest(int fd, unsigned i)
{
	uint8_t got[BUFSZ], pkt[BUFSZ];
	ssize_t n;
	while ((n = read(fd, got, sizeof(got))) > 0) {
		assert_int_equal(n, (ssize_t)len_of(i));
		fill(pkt, i, len_of(i));
		assert_memory_equal(got, pkt, len_of(i));
		i++;
	}
	return i;
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
	i = read_rest(sv[0], i);
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

/* From now on, in this process, the kernel refuses every submission to
 * an io_uring with EAGAIN (as it does when short of memory for a moment):
 * io_uring_enter with something to submit fails, the waits for
 * completions (nothing to submit) go through. For good: the last test. */
static void refuse_submissions(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_enter, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* to_submit, the second argument (its low half, on little endian) */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAGAIN),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	assert_int_equal(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	assert_int_equal(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
}

/* A burst larger than the ring ends its read (out of buffers), and the
 * kernel refuses to make it again: the ring stops, says why, and is no
 * error (the daemon exited "cannot read the TUN device" on one); the
 * packets it did not read are in the socket's queue for read(2), none lost
 * and none twice. */
static void test_refused_rearm(void **state)
{
#if !defined(__x86_64__)
	skip(); /* the filter above knows x86-64's system calls */
#endif
	int *sv = *state;
	struct tun_ring *r = tun_ring_open(sv[0], BUFSZ);
	if (!r)
		skip();
	uint8_t pkt[BUFSZ];
	uint8_t *buf;
	for (unsigned i = 0; i < COUNT; i++) {
		fill(pkt, i, len_of(i));
		assert_int_equal(write(sv[1], pkt, len_of(i)), (ssize_t)len_of(i));
	}
	refuse_submissions();
	unsigned i = 0;
	ssize_t n;
	for (int tries = 0; tries < 100;) {
		n = tun_ring_next(r, &buf);
		if (n > 0) {
			assert_int_equal(n, (ssize_t)len_of(i));
			fill(pkt, i, len_of(i));
			assert_memory_equal(buf, pkt, len_of(i));
			i++;
			continue;
		}
		if (n < 0 || !tun_ring_active(r))
			break;
		struct pollfd pfd = {.fd = tun_ring_fd(r), .events = POLLIN};
		poll(&pfd, 1, 50);
		tries++;
	}
	assert_int_equal(n, 0); /* not -1: the TUN is fine */
	assert_false(tun_ring_active(r));
	assert_int_equal(tun_ring_refused(r), EAGAIN);
	assert_true(i > 0 && i < COUNT); /* the first through the ring, until it ran out */
	assert_int_equal(tun_ring_next(r, &buf), 0);
	i = read_rest(sv[0], i);
	assert_int_equal(i, COUNT);
	tun_ring_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_packet_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_rearm, setup, teardown), /* the last: see refuse_submissions */
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
