#include "tun/dns.h"
#include "proto/nameserver.h"
#include "tun/statefile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_RESOLV (64 * 1024)

/* One file's content at a time, and ours: the client's control path is
 * single-threaded. */
static char orig[MAX_RESOLV], mine[MAX_RESOLV];

/* What to do when resolv.conf, or our copy of its original, is there but
 * no regular file (a FIFO, a device): neither can be read whole. */
#define RESOLV_TODO "--accept-dns rewrites a regular file only: put one there, or name one " \
                    "with --resolv-conf"
#define BACKUP_TODO "it holds no original of resolv.conf to put back: move it away"

/* All of path into buf (a file that fills cap is too large). 0, or -1
 * with errno and, when err is not NULL, "cannot read PATH: WHY" in it;
 * todo, what to do, after the why of a path that is no regular file. */
static int read_all(const char *path, char *buf, size_t cap, size_t *len, char *err,
                    size_t errlen, const char *todo)
{
	/* Not blocking: the open of a FIFO waits for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	const char *why = NULL;
	int e = 0;
	struct stat st;
	if (fd < 0) {
		why = strerror(e = errno);
		todo = NULL; /* a regular file's advice is not for a permission */
	} else if ((why = statefile_not_regular(fd, &st))) {
		e = errno;
		if (e != EINVAL)
			todo = NULL; /* a directory, or fstat failed: no FIFO to move away */
	} else {
		/* A read that failed halfway is no file: restored from it,
		 * resolv.conf would lose its end, and the backup would be gone. */
		int rv = fd_read_all(fd, buf, cap, len);
		e = rv < 0 ? errno : EFBIG;
		if (rv < 0 || *len == cap)
			why = strerror(e);
		todo = NULL;
	}
	if (fd >= 0)
		close(fd);
	if (!why)
		return 0;
	if (err)
		snprintf(err, errlen, "cannot read %s: %s%s%s", path, why, todo ? "; " : "",
		         todo ? todo : "");
	errno = e;
	return -1;
}

/* resolv.conf in place (O_TRUNC, not rename): a bind-mounted file cannot
 * be replaced. */
static int write_all(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rv = fd_write_all(fd, buf, len) == 0 ? fsync(fd) : -1;
	int e = errno;
	close(fd);
	errno = e;
	return rv;
}

/* The first words of every resolv.conf slopnd writes, whichever instance
 * and version: the mark of a file that is nobody's original. */
#define MARK "# written by slopnd"
#define LINE1 MARK " --accept-dns while connected; the original\n"
#define IN "# is in "
#define BACK " and comes back when slopnd stops\n"

/* Our file's text into mine; its length. */
static size_t ours(const char *bak, uint32_t server, const uint8_t *server6)
{
	char ip[INET_ADDRSTRLEN], ip6[INET6_ADDRSTRLEN];
	int n = snprintf(mine, MAX_RESOLV, LINE1 IN "%s" BACK, bak);
	if (server)
		n += snprintf(mine + n, MAX_RESOLV - (size_t)n, "nameserver %s\n",
		              inet_ntop(AF_INET, &server, ip, sizeof(ip)));
	if (server6)
		n += snprintf(mine + n, MAX_RESOLV - (size_t)n, "nameserver %s\n",
		              inet_ntop(AF_INET6, server6, ip6, sizeof(ip6)));
	return (size_t)n;
}

/* The next bytes at *p are s: past them. */
static bool skip(const char **p, size_t *left, const char *s, size_t n)
{
	if (*left < n || memcmp(*p, s, n))
		return false;
	*p += n;
	*left -= n;
	return true;
}

enum { FOREIGN, OURS, OTHERS };

/* Whose is this content: another program's (an original), ours (the
 * header names our copy, whatever servers follow), or another slopnd's
 * (another TUN or --state-dir: its own copy is the original). */
static int owner(const char *buf, size_t len, const char *bak)
{
	if (len < strlen(MARK) || memcmp(buf, MARK, strlen(MARK)))
		return FOREIGN;
	const char *p = buf;
	size_t left = len;
	return skip(&p, &left, LINE1, strlen(LINE1)) && skip(&p, &left, IN, strlen(IN)) &&
	       skip(&p, &left, bak, strlen(bak)) && skip(&p, &left, BACK, strlen(BACK))
	       ? OURS : OTHERS;
}

int dns_apply(const char *path, const char *bak, uint32_t server, const uint8_t *server6,
              char *err, size_t errlen)
{
	char real[PATH_MAX];
	if (realpath(path, real) && strncmp(real, "/run/systemd/resolve/", 21) == 0) {
		snprintf(err, errlen, "%s is managed by systemd-resolved (it points to %s): "
		         "not changed; use resolvectl dns on the TUN instead", path, real);
		return -1;
	}
	size_t len = 0;
	if (read_all(path, orig, MAX_RESOLV, &len, err, errlen, RESOLV_TODO) < 0)
		return -1;
	int who = owner(orig, len, bak);
	if (who == OTHERS)
		return DNS_OTHER;
	/* Ours already: a connection before this one could not put the
	 * original back, and its copy still holds it. Else the file is the
	 * original, newer than any copy. */
	bool made = who == FOREIGN;
	if (made) {
		/* Whole or not at all: half of it would be put over resolv.conf. */
		char e[256];
		if (statefile_write(bak, orig, len, 0600, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "cannot keep the original of %s: %s", path, e);
			return -1;
		}
	}
	size_t n = ours(bak, server, server6);
	if (write_all(path, mine, n) == 0)
		return 0;
	int e = errno;
	/* The backup would stay to be put back, at every disconnect and at
	 * the next start, over whatever the file holds by then. Gone, once
	 * the file holds the original again (the open may have emptied it). */
	size_t now = 0;
	bool kept = made;
	if (made && ((read_all(path, mine, MAX_RESOLV, &now, NULL, 0, NULL) == 0 && now == len &&
	              !memcmp(mine, orig, len)) || write_all(path, orig, len) == 0)) {
		unlink(bak);
		kept = false;
	}
	snprintf(err, errlen, "cannot write %s: %s%s%s", path, strerror(e),
	         kept ? "; its original is in " : "", kept ? bak : "");
	return -1;
}

int dns_check(const char *path, const char *bak, uint32_t server, const uint8_t *server6,
              char *err, size_t errlen)
{
	size_t len = 0, n = ours(bak, server, server6);
	if (read_all(path, orig, MAX_RESOLV, &len, err, errlen, RESOLV_TODO) < 0)
		return errno == ENOENT ? DNS_OURS : -1; /* missing: on its way, a rename brings it */
	if (len == n && !memcmp(orig, mine, n))
		return DNS_OURS;
	int who = owner(orig, len, bak);
	if (who == OTHERS) {
		/* Its copy holds the original; ours is no longer to be put back. */
		unlink(bak);
		return DNS_OTHER;
	}
	/* Only the file as written last is put back: it goes over the copy.
	 * Our own text, edited, is no original. */
	char e[256];
	if (who == FOREIGN && statefile_write(bak, orig, len, 0600, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "cannot keep the new %s: %s", path, e);
		return -1;
	}
	if (write_all(path, mine, n) < 0) {
		/* Read-only where the file was writable at the start: a
		 * sandbox that allowed the file alone (slopnd-client@'s
		 * ReadWritePaths), whose mount went with the file a rename
		 * replaced. */
		int we = errno;
		snprintf(err, errlen, "cannot write %s: %s%s", path, strerror(we),
		         we == EROFS ? " (only the file itself was writable here, and a rename, by a "
		                      "DHCP client say, replaced it: under slopnd-client@.service a "
		                      "restart of the client makes the new one writable, a drop-in "
		                      "with ReadWritePaths=/etc does for good)" : "");
		errno = we;
		return -1;
	}
	return who == FOREIGN ? DNS_REWRITTEN : DNS_EDITED;
}

int dns_leave(const char *path, const char *bak, uint32_t server, const uint8_t *server6,
              char *err, size_t errlen)
{
	size_t len = 0, n = ours(bak, server, server6);
	if (read_all(path, orig, MAX_RESOLV, &len, NULL, 0, NULL) == 0) {
		if (len == n && !memcmp(orig, mine, n))
			return DNS_OURS;
		if (owner(orig, len, bak) == OTHERS) {
			unlink(bak);
			return DNS_OTHER;
		}
	}
	return dns_restore(path, bak, err, errlen) < 0 ? -1 : DNS_LEFT;
}

int dns_restore(const char *path, const char *bak, char *err, size_t errlen)
{
	size_t len = 0, now = 0;
	if (read_all(bak, orig, MAX_RESOLV, &len, err, errlen, BACKUP_TODO) < 0)
		return errno == ENOENT ? DNS_NO_BACKUP : -1;
	/* An older slopnd took another's file for the original: putting it
	 * back would leave slopnd's servers in for good. */
	if (owner(orig, len, bak) != FOREIGN) {
		unlink(bak);
		snprintf(err, errlen, "the backup of %s in %s holds slopnd's own text, not an original: "
		         "removed, and %s left as it is", path, bak, path);
		return DNS_BAD_BACKUP;
	}
	/* Only over our own text: anything else was written after it (a DHCP
	 * client's after a crash, another slopnd's) and is newer than the copy. */
	bool gone = false;
	if (read_all(path, mine, MAX_RESOLV, &now, err, errlen, RESOLV_TODO) < 0) {
		if (errno != ENOENT)
			return -1;
		gone = true;
	}
	/* Empty: our write cut short by a crash (it truncates, then writes),
	 * which is no one's newer text: the original goes back. */
	if ((gone || now > 0) && owner(mine, now, bak) != OURS) {
		unlink(bak);
		return DNS_DROPPED;
	}
	if (write_all(path, orig, len) < 0) {
		snprintf(err, errlen, "cannot put %s back from %s: %s", path, bak, strerror(errno));
		return -1;
	}
	unlink(bak);
	return DNS_RESTORED;
}

size_t dns_servers(const char *path, struct nameserver *out, size_t max)
{
	static char text[MAX_RESOLV];
	size_t len;
	if (read_all(path, text, sizeof(text), &len, NULL, 0, NULL) < 0)
		return 0;
	return nameservers_parse(text, len, out, max);
}
