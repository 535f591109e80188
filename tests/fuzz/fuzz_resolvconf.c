/* libFuzzer: --accept-dns on whatever resolv.conf holds (tun/dns.c): its
 * content is read and judged (another program's original, our own text,
 * another slopnd's) and kept, rewritten and put back, on real files in a
 * directory in memory (/dev/shm) that is removed at exit. The first
 * byte says which servers go in (IPv4, IPv6 or both), the rest is the
 * file, its first "@BAK@" replaced by the backup's path (which changes
 * from run to run): our own text, edited or not, can be written. Whatever
 * was there comes back byte for byte: at once when it was not taken, else
 * through the backup; and a backup that holds anything is put back only
 * when it is an original. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tun/dns.h"

static char dir[64], conf[128], bak[128];
static char got[70000];
static uint8_t text[70000];

static void cleanup(void)
{
	unlink(conf);
	unlink(bak);
	rmdir(dir);
}

static void setup(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/slopn-fuzz-dns.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	snprintf(conf, sizeof(conf), "%s/resolv.conf", dir);
	snprintf(bak, sizeof(bak), "%s/resolv-slopn0.orig", dir);
	atexit(cleanup);
}

static void put(const char *p, const uint8_t *data, size_t size)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
}

/* p's content into got: its length, or -1 when there is no file. */
static ssize_t get(const char *p)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, got, sizeof(got));
	close(fd);
	if (n < 0 || (size_t)n == sizeof(got))
		abort();
	return n;
}

static bool holds(const char *p, const uint8_t *data, size_t size)
{
	ssize_t n = get(p);
	return n == (ssize_t)size && !memcmp(got, data, size);
}

/* A plain original, ORIG, that the client has replaced with its text. */
#define ORIG "nameserver 192.0.2.53\n"
static void connected(uint32_t s4, const uint8_t *s6)
{
	char err[512];
	unlink(bak);
	put(conf, (const uint8_t *)ORIG, strlen(ORIG));
	if (dns_apply(conf, bak, s4, s6, err, sizeof(err)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0])
		setup();
	if (!size)
		return 0;
	uint32_t v4 = 0;
	uint8_t v6[16];
	inet_pton(AF_INET, "10.100.0.1", &v4);
	inet_pton(AF_INET6, "fd00:1:2:3::1", v6);
	unsigned which = data[0] % 3; /* IPv4, IPv6, both */
	uint32_t s4 = which == 1 ? 0 : v4;
	const uint8_t *s6 = which == 0 ? NULL : v6;
	data++, size--;
	const uint8_t *at = size >= 5 ? memmem(data, size, "@BAK@", 5) : NULL;
	if (at) {
		size_t pre = (size_t)(at - data), bl = strlen(bak);
		if (size - 5 + bl > sizeof(text))
			return 0;
		memcpy(text, data, pre);
		memcpy(text + pre, bak, bl);
		memcpy(text + pre + bl, at + 5, size - pre - 5);
		size = size - 5 + bl;
	} else {
		if (size > sizeof(text))
			return 0;
		memcpy(text, data, size);
	}
	data = text;
	char err[512];

	/* The file as the client finds it when it connects. */
	unlink(bak);
	put(conf, data, size);
	err[0] = '\0';
	int r = dns_apply(conf, bak, s4, s6, err, sizeof(err));
	if (r < 0) {
		/* Nothing changed, nothing kept, and said. */
		if (!err[0] || !holds(conf, data, size) || get(bak) >= 0)
			abort();
	} else if (r == DNS_OTHER) {
		if (!holds(conf, data, size) || get(bak) >= 0)
			abort();
	} else if (r != 0) {
		abort();
	} else {
		/* Ours now, and as ours it stays at the next look. */
		if (holds(conf, data, size) && get(bak) >= 0)
			abort();
		if (dns_check(conf, bak, s4, s6, err, sizeof(err)) != DNS_OURS)
			abort();
		if (get(bak) >= 0) {
			/* Taken as an original: the backup is it, and goes back. */
			if (!holds(bak, data, size) ||
			    dns_restore(conf, bak, err, sizeof(err)) != DNS_RESTORED ||
			    !holds(conf, data, size) || get(bak) >= 0)
				abort();
		} else if (size < 19 || memcmp(data, "# written by slopnd", 19)) {
			/* Only slopnd's own text is no original to keep. */
			abort();
		}
	}

	/* The same bytes written over ours while connected (a DHCP client's
	 * new file, or an edit of ours), then the stop. */
	connected(s4, s6);
	put(conf, data, size);
	r = dns_check(conf, bak, s4, s6, err, sizeof(err));
	if (r == DNS_REWRITTEN) {
		/* A new original: it goes back at the stop. */
		if (!holds(bak, data, size) || dns_restore(conf, bak, err, sizeof(err)) != DNS_RESTORED ||
		    !holds(conf, data, size))
			abort();
	} else if (r == DNS_OTHER) {
		if (!holds(conf, data, size) || get(bak) >= 0)
			abort();
	} else if (r == DNS_EDITED || r == DNS_OURS) {
		/* Our text: the first original stays the one to put back. */
		if (!holds(bak, (const uint8_t *)ORIG, strlen(ORIG)) ||
		    dns_restore(conf, bak, err, sizeof(err)) != DNS_RESTORED ||
		    !holds(conf, (const uint8_t *)ORIG, strlen(ORIG)))
			abort();
	} else if (r < 0) {
		if (!err[0])
			abort();
	} else {
		abort();
	}

	/* The same bytes as the backup a crash left, over our text: put back
	 * only when they are an original. */
	connected(s4, s6);
	put(bak, data, size);
	ssize_t ours = get(conf);
	char mine[4096];
	if (ours <= 0 || (size_t)ours >= sizeof(mine))
		abort();
	memcpy(mine, got, (size_t)ours);
	r = dns_restore(conf, bak, err, sizeof(err));
	if (r == DNS_RESTORED) {
		if (!holds(conf, data, size) || get(bak) >= 0)
			abort();
	} else if (r == DNS_BAD_BACKUP) {
		if (!err[0] || !holds(conf, (const uint8_t *)mine, (size_t)ours) || get(bak) >= 0)
			abort();
	} else if (r < 0) {
		if (!err[0])
			abort();
	} else {
		abort();
	}
	return 0;
}
