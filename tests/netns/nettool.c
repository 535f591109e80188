/* A small traffic tool for the namespace tests (IPv4):
 *   nettool tcp-sink BIND PORT        one connection's bytes to stdout
 *   nettool tcp-source ADDR PORT      stdin to a connection
 *   nettool udp-echo BIND PORT        echo every datagram back, until killed
 *   nettool udp-sizes ADDR PORT MIN MAX
 *       one datagram of each size MIN..MAX to an echo, each answered
 *       byte for byte (3 tries a size); exit 1 naming what failed.
 *   nettool udp-burst ADDR PORT COUNT SIZE
 *       COUNT datagrams of SIZE bytes back to back to an echo, then every
 *       echo, each checked byte for byte; exit 1 unless all came back.
 *   nettool udp-df ADDR PORT COUNT SIZE
 *       COUNT datagrams of SIZE bytes with DF set, whatever the path MTU
 *       (IP_PMTUDISC_PROBE: "too big" answers change nothing), no wait. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "nettool: %s: %s\n", what, strerror(errno));
	exit(2);
}

static struct sockaddr_in addr_of(const char *ip, const char *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "nettool: '%s' is not an IPv4 address\n", ip);
		exit(2);
	}
	return a;
}

static void copy(int from, int to)
{
	static char buf[1 << 16];
	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf));
		if (n == 0)
			return;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(to, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR)
				die("write");
			off += w > 0 ? w : 0;
		}
	}
}

static int tcp_sink(struct sockaddr_in a)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0)
		die("listen");
	int c = accept(s, NULL, NULL);
	if (c < 0)
		die("accept");
	copy(c, 1);
	return 0;
}

static int tcp_source(struct sockaddr_in a)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	copy(0, s);
	return close(s) < 0;
}

/* Room for a whole burst (root may go past rmem_max). */
static void big_buffers(int s)
{
	int buf = 8 << 20;
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
}

static _Noreturn void udp_echo(struct sockaddr_in a)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	big_buffers(s);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind");
	static char buf[1 << 16];
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n >= 0)
			sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}

/* Byte i of the datagram of size n: different for every size and place. */
static char pattern(size_t n, size_t i)
{
	return (char)(n * 31 + i * 7 + (i >> 8));
}

static int udp_sizes(struct sockaddr_in a, size_t min, size_t max)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	static char out[1 << 16], in[1 << 16];
	unsigned retries = 0;
	for (size_t n = min; n <= max; n++) {
		for (size_t i = 0; i < n; i++)
			out[i] = pattern(n, i);
		int tries = 0;
		for (;;) {
			if (tries++ == 3) {
				fprintf(stderr, "nettool: no intact echo of a %zu-byte datagram in 3 tries\n", n);
				return 1;
			}
			if (send(s, out, n, 0) < 0)
				die("send");
			struct pollfd p = {.fd = s, .events = POLLIN};
			ssize_t got = -1;
			/* Skip late echoes of earlier tries. */
			while (poll(&p, 1, 1000) == 1 && (got = recv(s, in, sizeof(in), 0)) >= 0 &&
			       (size_t)got != n)
				got = -1;
			if ((size_t)got == n) {
				if (memcmp(in, out, n) != 0) {
					fprintf(stderr, "nettool: the echo of a %zu-byte datagram differs\n", n);
					return 1;
				}
				break;
			}
			retries++;
			fprintf(stderr, "nettool: resending the %zu-byte datagram\n", n);
		}
	}
	printf("%zu datagrams of %zu to %zu bytes echoed intact (%u resent)\n", max - min + 1, min, max,
	       retries);
	return 0;
}

static int udp_burst(struct sockaddr_in a, unsigned count, size_t size)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	big_buffers(s);
	if (size < 4 || size > 65000 || count > 100000 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("udp-burst: SIZE 4..65000, COUNT at most 100000, or connect");
	static char out[1 << 16], in[1 << 16];
	char *seen = calloc(count, 1);
	for (unsigned i = 0; i < count; i++) {
		memcpy(out, &i, 4);
		for (size_t k = 4; k < size; k++)
			out[k] = pattern(size + i, k);
		if (send(s, out, size, 0) < 0)
			die("send");
	}
	unsigned got = 0, bad = 0;
	struct pollfd p = {.fd = s, .events = POLLIN};
	while (got < count && poll(&p, 1, 2000) == 1) {
		ssize_t n = recv(s, in, sizeof(in), 0);
		unsigned i;
		if (n < 4)
			continue;
		memcpy(&i, in, 4);
		bool ok = (size_t)n == size && i < count && !seen[i];
		for (size_t k = 4; ok && k < size; k++)
			ok = in[k] == pattern(size + i, k);
		if (!ok) {
			bad++;
			continue;
		}
		seen[i] = 1;
		got++;
	}
	free(seen);
	printf("%u of %u datagrams of %zu bytes echoed intact (%u lost, %u bad)\n", got, count, size,
	       count - got, bad);
	return got == count && !bad ? 0 : 1;
}

static int udp_df(struct sockaddr_in a, unsigned count, size_t size)
{
	static char out[1 << 16];
	int s = socket(AF_INET, SOCK_DGRAM, 0), probe = IP_PMTUDISC_PROBE;
	big_buffers(s);
	if (size > 65000 || setsockopt(s, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe)) < 0)
		die("udp-df: SIZE at most 65000, or IP_MTU_DISCOVER");
	memset(out, 'x', size);
	/* Unconnected: an ICMP answer is no error of a later send. */
	for (unsigned i = 0; i < count; i++)
		if (sendto(s, out, size, 0, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("sendto");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "tcp-sink"))
		return tcp_sink(addr_of(argv[2], argv[3]));
	if (argc >= 4 && !strcmp(argv[1], "tcp-source"))
		return tcp_source(addr_of(argv[2], argv[3]));
	if (argc >= 4 && !strcmp(argv[1], "udp-echo"))
		udp_echo(addr_of(argv[2], argv[3]));
	if (argc >= 6 && !strcmp(argv[1], "udp-sizes"))
		return udp_sizes(addr_of(argv[2], argv[3]), (size_t)atol(argv[4]), (size_t)atol(argv[5]));
	if (argc >= 6 && !strcmp(argv[1], "udp-burst"))
		return udp_burst(addr_of(argv[2], argv[3]), (unsigned)atol(argv[4]), (size_t)atol(argv[5]));
	if (argc >= 6 && !strcmp(argv[1], "udp-df"))
		return udp_df(addr_of(argv[2], argv[3]), (unsigned)atol(argv[4]), (size_t)atol(argv[5]));
	fputs("usage: nettool tcp-sink|tcp-source|udp-echo ADDR PORT | udp-sizes ADDR PORT MIN MAX |\n"
	      "       udp-burst|udp-df ADDR PORT COUNT SIZE\n", stderr);
	return 2;
}
