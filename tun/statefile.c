#include "tun/statefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* All of fd into a buffer with room for a NUL after it, or max + 1 bytes
 * of it (too large). Sized by the file (size + 1), not by max: 64 MiB for
 * every read failed under a limit on the address space or with strict
 * overcommit. The byte more shows a file that grew since its fstat (read
 * on, in a larger buffer) or is past max. NULL with errno. */
static char *read_upto(int fd, off_t size, size_t max, size_t *n)
{
	size_t cap = size >= 0 && (uintmax_t)size < max ? (size_t)size + 1 : max + 1;
	char *b = NULL;
	*n = 0;
	for (;;) {
		char *nb = realloc(b, cap);
		if (!nb) {
			free(b);
			errno = ENOMEM;
			return NULL;
		}
		b = nb;
		size_t got;
		if (fd_read_all(fd, b + *n, cap - *n, &got) < 0) {
			int e = errno;
			free(b);
			errno = e;
			return NULL;
		}
		*n += got;
		if (*n < cap || cap > max)
			return b; /* at its end, or past max: the caller tells which */
		cap = cap <= max / 2 ? cap * 2 : max + 1;
	}
}

/* The six characters mkostemp puts for XXXXXX: A-Z a-z 0-9 (glibc's). */
static bool temp_tail(const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (i == 6 || !((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		                (s[i] >= '0' && s[i] <= '9')))
			return false;
	return i == 6;
}

/* Our temporary files are PATH TEMP_MARK XXXXXX: a mark of their own, so
 * that an administrator's tokens.json.backup (six letters too) is never
 * taken for one. */
#define TEMP_MARK ".slopn-save-"

/* Remove path's temporary files that a crash between mkostemp and rename
 * left: nothing else would, and a file written often (peers.json) could
 * leave one at every crash. Exactly that pattern, of that name, regular
 * files only: never PATH.bad or another file's. Best effort: one left
 * costs only its space. */
static void sweep(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t blen = strlen(base);
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	DIR *d = dir && blen ? opendir(dir) : NULL;
	free(dir);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		struct stat st;
		if (!strncmp(e->d_name, base, blen) &&
		    !strncmp(e->d_name + blen, TEMP_MARK, strlen(TEMP_MARK)) &&
		    temp_tail(e->d_name + blen + strlen(TEMP_MARK)) &&
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

const char *statefile_not_regular(int fd, struct stat *st)
{
	if (fstat(fd, st) < 0) {
		int e = errno;
		const char *why = strerror(e);
		errno = e;
		return why;
	}
	if (S_ISDIR(st->st_mode)) {
		errno = EISDIR;
		return strerror(EISDIR);
	}
	if (!S_ISREG(st->st_mode)) {
		errno = EINVAL;
		return "not a regular file";
	}
	return NULL;
}

static int read_file(const char *path, bool sweep_first, size_t max, char **buf, size_t *len,
                     char *err, size_t errlen)
{
	*buf = NULL;
	*len = 0;
	if (sweep_first)
		sweep(path); /* at a load, which is at a start: also when there is no file */
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
	int e = 0; /* errno for the caller, set on each failure: not a stale one */
	const char *why = statefile_not_regular(fd, &st);
	if (why)
		e = errno;
	size_t n = 0;
	char *b = why ? NULL : read_upto(fd, st.st_size, max, &n);
	if (!why && !b)
		why = strerror(e = errno);
	close(fd);
	if (why || n > max) {
		if (why)
			snprintf(err, errlen, "cannot read: %s", why);
		else if (max >= 1 << 20 && !(max & ((1 << 20) - 1)))
			snprintf(err, errlen, "larger than %zu MiB", max >> 20);
		else
			snprintf(err, errlen, "larger than %zu bytes", max);
		free(b);
		errno = why ? e : EFBIG; /* the content at fault, not its reading */
		return -1;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 1;
}

int statefile_read(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen)
{
	return read_file(path, true, max, buf, len, err, errlen);
}

int statefile_read_nosweep(const char *path, size_t max, char **buf, size_t *len, char *err,
                           size_t errlen)
{
	return read_file(path, false, max, buf, len, err, errlen);
}

int fd_read_all(int fd, void *buf, size_t cap, size_t *len)
{
	*len = 0;
	while (*len < cap) {
		ssize_t n = read(fd, (char *)buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	return 0;
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

const char *statefile_denied_hint(int e, bool write)
{
	if (e != EACCES && e != EPERM)
		return "";
	return write ? " (this user may not write the state directory: run as root, or give --state-dir)"
	             : " (this user may not read the state directory: run as root, or give --state-dir)";
}

/* tmp to path, only if there is no path: EEXIST else. */
static int install_new(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	/* A file system without RENAME_NOREPLACE: a link is never made over
	 * a name either. */
	if (link(tmp, path) < 0)
		return -1;
	unlink(tmp);
	return 0;
}

static int replace(const char *path, const void *data, size_t len, mode_t mode, bool durable,
                   bool noreplace, struct statefile_guard *g, char *err, size_t errlen)
{
	if (g)
		g->replaced = false;
	/* Not at every save without the fsyncs (peers.json, up to ten a
	 * second): its load at the start does. */
	if (durable)
		sweep(path);
	size_t plen = strlen(path);
	size_t tlen = plen + strlen(TEMP_MARK) + 7;
	char *tmp = malloc(tlen), *dir = strdup(path);
	if (!tmp || !dir) {
		snprintf(err, errlen, "out of memory");
		free(tmp), free(dir);
		return -1;
	}
	snprintf(tmp, tlen, "%s" TEMP_MARK "XXXXXX", path);
	/* Messages name the file and its directory, not the temporary copy:
	 * its name means nothing to the reader, and it is gone. */
	const char *d = dirname(dir);
	int rv = -1, fd = mkostemp(tmp, O_CLOEXEC), e;
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot write %s: cannot create a file in %s: %s%s", path, d,
		         strerror(e), statefile_denied_hint(e, true));
		goto out;
	}
	if (fchmod(fd, mode) < 0 || fd_write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
		e = errno;
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		close(fd);
		unlink(tmp);
		goto out;
	}
	/* The new file's identity from its descriptor, not a stat() of path
	 * after the rename: a file put there by another meanwhile would be
	 * taken for ours. Then whether path is still the caller's, as late
	 * as can be. */
	if (g && fstat(fd, &g->st) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (g && g->changed && g->changed(g->arg)) {
		close(fd);
		unlink(tmp);
		rv = -2;
		goto out;
	}
	if (close(fd) < 0 || (noreplace ? install_new(tmp, path) : rename(tmp, path)) < 0) {
		e = errno;
		if (noreplace && e == EEXIST) {
			unlink(tmp);
			rv = 1;
			goto out;
		}
		snprintf(err, errlen, "cannot replace %s: %s%s", path, strerror(e),
		         statefile_denied_hint(e, true));
		unlink(tmp);
		goto out;
	}
	if (g)
		g->replaced = true;
	/* The rename itself must reach the disk before we report success: a
	 * directory that cannot be opened or synced is a failed save (the
	 * file is replaced, but may come back as it was after a machine
	 * crash). EINVAL: a file system that does not sync directories (its
	 * renames are as durable as they get). */
	if (durable) {
		int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || (fsync(dfd) < 0 && errno != EINVAL)) {
			e = errno;
			snprintf(err, errlen, "cannot write %s: cannot sync its directory %s: %s%s", path,
			         d, strerror(e), statefile_denied_hint(e, false));
			if (dfd >= 0)
				close(dfd);
			goto out;
		}
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
	return replace(path, data, len, mode, true, false, NULL, err, errlen);
}

int statefile_write_guarded(const char *path, const void *data, size_t len, mode_t mode,
                            struct statefile_guard *g, char *err, size_t errlen)
{
	return replace(path, data, len, mode, true, false, g, err, errlen);
}

int statefile_create(const char *path, const void *data, size_t len, mode_t mode, char *err,
                     size_t errlen)
{
	return replace(path, data, len, mode, true, true, NULL, err, errlen);
}

int statefile_write_nosync(const char *path, const void *data, size_t len, mode_t mode,
                           char *err, size_t errlen)
{
	return replace(path, data, len, mode, false, false, NULL, err, errlen);
}

int statefile_set_aside(const char *path, char *to, size_t tolen)
{
	for (unsigned i = 1; i <= 99; i++) {
		int n = i == 1 ? snprintf(to, tolen, "%s.bad", path)
		               : snprintf(to, tolen, "%s.bad.%u", path, i);
		if (n < 0 || (size_t)n >= tolen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (renameat2(AT_FDCWD, path, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EINVAL) {
			/* A file system without RENAME_NOREPLACE: look first. */
			struct stat st;
			if (lstat(to, &st) == 0)
				continue;
			if (errno != ENOENT)
				return -1;
			return rename(path, to);
		}
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* The directories above dir (as the links lead): one that another user
 * owns or may write lets them rename dir away and put one of theirs in its
 * place. A sticky one (/tmp) lets no one rename what is not theirs. */
static int parents_check(const char *dir, const char *name, const char *kept, const char *option,
                         char *err, size_t errlen)
{
	char *up = realpath(dir, NULL);
	if (!up)
		return 1; /* not ours to judge: the opens that follow say why */
	uid_t me = geteuid();
	int r = 1;
	for (char *slash; r == 1 && (slash = strrchr(up, '/'));) {
		slash[slash == up] = '\0'; /* "/a" leaves "/" */
		struct stat st;
		if (stat(up, &st) < 0)
			break;
		bool owner_ok = st.st_uid == me || st.st_uid == 0;
		bool mode_ok = !(st.st_mode & (S_IWGRP | S_IWOTH)) || (st.st_mode & S_ISVTX);
		if (!owner_ok || !mode_ok) {
			char what[96];
			if (!owner_ok)
				snprintf(what, sizeof(what), "owned by uid %u", (unsigned)st.st_uid);
			else
				snprintf(what, sizeof(what), "writable by its group or others");
			char fix[48];
			if (owner_ok)
				snprintf(fix, sizeof(fix), "chmod go-w");
			else
				snprintf(fix, sizeof(fix), "chown %u", (unsigned)me);
			snprintf(err, errlen, "%s %s: the directory above it, %s, is %s (mode %04o): another "
			         "user could put a directory of theirs in its place, and so replace %s; %s %s, "
			         "or give another %s", name, dir, up, what, (unsigned)(st.st_mode & 07777),
			         kept, fix, up, option);
			errno = EPERM;
			r = -1;
		}
		if (slash == up)
			break;
	}
	free(up);
	return r;
}

int statefile_dir_check_as(const char *dir, bool any_owner, const char *name, const char *kept,
                           const char *option, char *err, size_t errlen)
{
	/* O_PATH: a user who may not read it (slopnd pin as another user) can
	 * still be told about its owner and mode. A link is followed: the
	 * directory it names is the one checked (StateDirectory= may be one). */
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		int e = errno;
		if (e == ENOTDIR)
			snprintf(err, errlen, "%s %s: not a directory (give a directory with %s)", name,
			         dir, option);
		else
			snprintf(err, errlen, "%s %s: %s", name, dir, strerror(e));
		errno = e;
		return -1;
	}
	struct stat st;
	int r = fstat(fd, &st);
	int e = errno;
	close(fd);
	if (r < 0) {
		snprintf(err, errlen, "%s %s: %s", name, dir, strerror(e));
		errno = e;
		return -1;
	}
	uid_t me = geteuid();
	bool owner_ok = any_owner || st.st_uid == me || st.st_uid == 0;
	bool mode_ok = !(st.st_mode & (S_IWGRP | S_IWOTH));
	if (owner_ok && mode_ok)
		return any_owner ? 1 : parents_check(dir, name, kept, option, err, errlen);
	/* Another user who may write there could put a key of theirs in
	 * hub.key, tokens of theirs in tokens.json, a socket of theirs where
	 * slopnctl looks for the hub's. */
	if (owner_ok && (st.st_mode & S_ISVTX)) {
		/* Sticky (/tmp): shared on purpose, chmod go-w would break it for
		 * everyone. The sticky bit keeps others from renaming ours away
		 * (parents_check takes it above ours), not from putting theirs
		 * where ours is not yet, or is no more. */
		snprintf(err, errlen, "%s %s is writable by its group or others (mode %04o), and "
		         "sticky, shared as /tmp is: the sticky bit keeps another user from removing "
		         "what is ours, not from putting theirs where %s would be; give another %s, "
		         "in a directory of your own (one under %s will do)", name, dir,
		         (unsigned)(st.st_mode & 07777), kept, option, dir);
		errno = EPERM;
		return -1;
	}
	char fix[1200] = "";
	if (!owner_ok)
		snprintf(fix, sizeof(fix), "chown %u %s", (unsigned)me, dir);
	if (!mode_ok)
		snprintf(fix + strlen(fix), sizeof(fix) - strlen(fix), "%schmod go-w %s",
		         *fix ? " and " : "", dir);
	char what[128] = "";
	if (!owner_ok)
		snprintf(what, sizeof(what), "owned by uid %u, not this user's or root's%s",
		         (unsigned)st.st_uid, mode_ok ? "" : ", and ");
	if (!mode_ok)
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
		         "writable by its group or others");
	snprintf(err, errlen, "%s %s is %s (mode %04o): another user could replace %s; %s, or give "
	         "another %s", name, dir, what, (unsigned)(st.st_mode & 07777), kept, fix, option);
	errno = EPERM;
	return -1;
}

int statefile_dir_check(const char *dir, bool any_owner, char *err, size_t errlen)
{
	return statefile_dir_check_as(dir, any_owner, "state directory",
	                              "the files kept there (the hub's key, its tokens)", "--state-dir",
	                              err, errlen);
}

int statefile_dir_make(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(e));
		errno = e;
		return -1;
	}
	return statefile_dir_check(dir, false, err, errlen) < 0 ? -1 : 0;
}

int statefile_lock_wait(int fd, unsigned limit_ms, unsigned step_ms, bool (*stop)(void *arg),
                        void *arg)
{
	for (unsigned waited = 0;; waited += step_ms) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 1;
		if (errno != EWOULDBLOCK)
			return -1;
		if (stop && stop(arg))
			return 0;
		if (waited >= limit_ms) {
			errno = EWOULDBLOCK;
			return -1;
		}
		nanosleep(&(struct timespec){.tv_nsec = (long)step_ms * 1000 * 1000}, NULL);
	}
}
