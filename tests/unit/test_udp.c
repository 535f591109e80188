/* The UDP socket's receive drops (daemon/udp.h): the kernel counts a
 * socket's queue overflows in 32 bits (SO_RXQ_OVFL, socket(7)) and the
 * count wraps; the total kept beside it grows past 2^32 all the same.
 * And a receive of GRO batches as large as the kernel makes them (over
 * loopback, as a local sender's UDP GSO sends arrive). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/udp.h"

static void test_ovfl_total(void **state)
{
	(void)state;
	/* From a new socket's 0, and on. */
	assert_int_equal(udp_ovfl_total(0, 0, 0), 0);
	assert_int_equal(udp_ovfl_total(0, 0, 7), 7);
	assert_int_equal(udp_ovfl_total(7, 7, 7), 7);
	assert_int_equal(udp_ovfl_total(7, 7, 10), 10);
	/* A new socket (udp_reconnect) counts from 0 again: the total goes on. */
	assert_int_equal(udp_ovfl_total(10, 0, 3), 13);
	/* The kernel's count wraps: 5 before 2^32 to 4 after it are 9 drops. */
	assert_int_equal(udp_ovfl_total(UINT32_MAX - 4, UINT32_MAX - 4, 4), (uint64_t)UINT32_MAX + 5);
	assert_int_equal(udp_ovfl_total((uint64_t)UINT32_MAX - 4, UINT32_MAX - 4, UINT32_MAX), UINT32_MAX);
	assert_int_equal(udp_ovfl_total(UINT32_MAX, UINT32_MAX, 0), (uint64_t)UINT32_MAX + 1);
	/* A total already past 2^32 (an earlier wrap, or earlier sockets). */
	assert_int_equal(udp_ovfl_total(3ull << 32, 100, 4000000000u), (3ull << 32) + 3999999900u);
	assert_int_equal(udp_ovfl_total((3ull << 32) + 10, 4294967000u, 200), (3ull << 32) + 10 + 296 + 200);
}

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

/* A local sender's GSO send reaches a socket with UDP_GRO whole: one
 * message of up to UDP_MAX_SEGMENTS packets, 128 since Linux 6.? (64
 * before). A full recvmmsg of such messages: every packet is given, in
 * order, none lost without a count. */
static void test_gro_batch(void **state)
{
	(void)state;
	enum { SEG = 16, NSEG = 128, MSGS = UDP_GRO_MSGS };
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct udp u;
	if (udp_open(&u, (const struct sockaddr *)&lo, sizeof(lo), false) < 0)
		skip(); /* no loopback here */
	if (!u.gro) {
		udp_close(&u);
		skip();
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	uint8_t buf[SEG * NSEG];
	for (int m = 0; m < MSGS; m++) {
		for (int i = 0; i < NSEG; i++) {
			memset(buf + i * SEG, 0, SEG);
			buf[i * SEG] = (uint8_t)m;
			buf[i * SEG + 1] = (uint8_t)i;
		}
		uint16_t seg = SEG;
		union {
			char b[CMSG_SPACE(sizeof(seg))];
			struct cmsghdr align;
		} ctl = {0};
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr mh = {.msg_name = &u.local, .msg_namelen = u.locallen,
		                    .msg_iov = &iov, .msg_iovlen = 1,
		                    .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(seg));
		memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
		if (sendmsg(fd, &mh, 0) < 0) {
			int e = errno;
			close(fd);
			udp_close(&u);
			if (m == 0 && (e == EINVAL || e == EIO || e == EOPNOTSUPP))
				skip(); /* a kernel with fewer segments a send, or no GSO */
			fail_msg("send: %s", strerror(e));
		}
	}
	close(fd);
	int got = 0;
	for (int round = 0; round < 4 * MSGS; round++) {
		int n = udp_recv(&u);
		assert_true(n >= 0);
		for (int i = 0; i < n; i++, got++) {
			assert_int_equal(u.rx[i].len, SEG);
			assert_int_equal(u.rx[i].data[0], got / NSEG);
			assert_int_equal(u.rx[i].data[1], got % NSEG);
		}
		if (!n && !u.rx_more)
			break;
	}
	assert_int_equal(u.rx_dropped, 0);
	assert_int_equal(got, MSGS * NSEG);
	udp_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ovfl_total),
		cmocka_unit_test(test_gro_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
