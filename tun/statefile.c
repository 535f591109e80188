#include "tun/statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A limit as a person writes it: "16 MiB", "4096 bytes". */
static void say_size(char *s, size_t n, size_t max)
{
	if (max >= 1 << 20 && !(max & ((1 << 20) - 1)))
		snprintf(s, n, "%zu MiB", max >> 20);
	else
		snprintf(s, n, "%zu bytes", max);
}

int statefile_read(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen)
{
	*buf = NULL;
	*len = 0;
	/* Not blocking: a FIFO put there would hold the start, or a reload
	 * (the event loop) until the watchdog. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	char limit[32];
	const char *why = NULL;
	if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (S_ISDIR(st.st_mode))
		why = strerror(EISDIR);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	if (why) {
		snprintf(err, errlen, "cannot read: %s", why);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		say_size(limit, sizeof(limit), max);
		snprintf(err, errlen, "larger than %s", limit);
		close(fd);
		return -1;
	}
	char *b = malloc(max + 1);
	size_t n = 0;
	int bad = b ? 0 : ENOMEM;
	while (b && n <= max) { /* past max: it grew since the fstat */
		ssize_t r = read(fd, b + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			bad = errno;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (bad || n > max) {
		say_size(limit, sizeof(limit), max);
		if (bad)
			snprintf(err, errlen, "cannot read: %s", strerror(bad));
		else
			snprintf(err, errlen, "larger than %s", limit);
		free(b);
		return -1;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 1;
}

int fd_write_all(int fd, const void *data, size_t len)
{
	const char *s = data;
	while (len) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

static int replace(const char *path, const void *data, size_t len, mode_t mode, bool durable,
                   char *err, size_t errlen)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 8), *dir = strdup(path);
	if (!tmp || !dir) {
		snprintf(err, errlen, "out of memory");
		free(tmp), free(dir);
		return -1;
	}
	snprintf(tmp, plen + 8, "%s.XXXXXX", path);
	int rv = -1, fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) < 0 || fd_write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	/* The rename itself must reach the disk before we report success. */
	int dfd = durable ? open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rv = 0;
out:
	free(tmp), free(dir);
	return rv;
}

int statefile_write(const char *path, const void *data, size_t len, mode_t mode,
                    char *err, size_t errlen)
{
	return replace(path, data, len, mode, true, err, errlen);
}

int statefile_write_nosync(const char *path, const void *data, size_t len, mode_t mode,
                           char *err, size_t errlen)
{
	return replace(path, data, len, mode, false, err, errlen);
}
