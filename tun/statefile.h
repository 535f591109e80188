/* The state directory's files: read whole, replaced whole or not at all. */
#ifndef SLOPN_STATEFILE_H
#define SLOPN_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Read all of path (at most max bytes) into *buf (malloc'd, NUL-terminated)
 * and *len. 1 when read, 0 when there is no such file, -1 with err (errno
 * EFBIG when it is larger than max: damaged, not unreadable). First,
 * in any case, the temporary files of path's a crash left are removed. */
int statefile_read(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen);

/* The same without the removal of temporary files: for a reader that does
 * not hold the lock of the files' writer (one of them may be its live
 * one). */
int statefile_read_nosweep(const char *path, size_t max, char **buf, size_t *len, char *err,
                           size_t errlen);

/* For a message about a file in the state directory: when e is EACCES or
 * EPERM, " (this user may not read|write the state directory: run as root,
 * or give --state-dir)", else "". */
const char *statefile_denied_hint(int e, bool write);

/* What makes the open file fd no file to read whole, for a message: NULL
 * for a regular file (*st filled in); else fstat's error, strerror(EISDIR),
 * or "not a regular file" (a FIFO, a device, a socket: a read may wait for
 * a writer, or never end), with errno set (fstat's, EISDIR, EINVAL). */
const char *statefile_not_regular(int fd, struct stat *st);

/* All of data into fd (again after EINTR or a short write). 0 or -1 with
 * errno. */
int fd_write_all(int fd, const void *data, size_t len);
/* From fd into buf until its end or cap bytes (again after EINTR): 0 with
 * *len, or -1 with errno when a read failed (what came before it is no
 * whole file). */
int fd_read_all(int fd, void *buf, size_t cap, size_t *len);

/* Write data to path through a temporary file in the same directory
 * (PATH.slopn-save-XXXXXX): write, fsync, rename over path, fsync of the directory.
 * 0, or -1 with err naming the step and the file; path is then as it was
 * (or, when only the directory could not be opened or synced, replaced but
 * maybe not on the disk: as failed, not durable), and no temporary file is
 * left. EINVAL from the directory's fsync (a file system that does not
 * sync directories) is no failure. Those a crash left, of path's, are
 * removed first. */
int statefile_write(const char *path, const void *data, size_t len, mode_t mode,
                    char *err, size_t errlen);
/* statefile_write for a file that others may edit (tokens.json): just
 * before the rename, changed(arg) is asked whether path is still the one
 * the caller knows; true: -2, nothing written, err not set. g->st is the
 * new file's identity (an fstat of it before the rename: dev, ino, size,
 * mtime), and g->replaced whether path is now it (also when the directory
 * could not be synced after). */
struct statefile_guard {
	bool (*changed)(void *arg);
	void *arg;
	struct stat st;
	bool replaced;
};
int statefile_write_guarded(const char *path, const void *data, size_t len, mode_t mode,
                            struct statefile_guard *g, char *err, size_t errlen);

/* The same, but path is made only where there is none: 1, and path as it
 * was, when there is one (a file never to be written over: hub.key). */
int statefile_create(const char *path, const void *data, size_t len, mode_t mode, char *err,
                     size_t errlen);
/* The same without the fsyncs, for a file written often whose loss in a
 * machine crash costs nothing (peers.json): still whole or not at all for
 * a crash of slopnd, and no wait for the disk in the event loop. A crash's
 * temporary files are left to the file's next statefile_read(). */
int statefile_write_nosync(const char *path, const void *data, size_t len, mode_t mode,
                           char *err, size_t errlen);

/* Move path aside for a look, as PATH.bad, or PATH.bad.2 ... PATH.bad.99
 * when that is taken: one set aside before is never written over. 0 with
 * the new name in to, or -1 with errno (ENOENT: no path; EEXIST: every
 * name taken); path is then where it was. */
int statefile_set_aside(const char *path, char *to, size_t tolen);

/* Whether the state directory dir may be trusted: a directory (a link to
 * one is followed) owned by this user or root (any owner if any_owner: one
 * who only reads it, slopnd pin), not writable by its group or others
 * (another user could put a key or tokens of theirs there), and under
 * directories no other user owns or may write (sticky ones aside), unless
 * any_owner. 1 when so, 0
 * when there is none, -1 with err naming it and saying what to do (chown,
 * chmod go-w; for a sticky one, shared as /tmp, another directory), errno
 * EPERM (or the open's). */
int statefile_dir_check(const char *dir, bool any_owner, char *err, size_t errlen);
/* The same for another directory of ours, its messages in words of its
 * own: name ("control socket's directory"), what another user could
 * replace there ("the control socket in it"), and the option that gives
 * another (--control). */
int statefile_dir_check_as(const char *dir, bool any_owner, const char *name, const char *kept,
                           const char *option, char *err, size_t errlen);
/* mkdir(dir, 0700), or statefile_dir_check of the one there. 0 or -1 with
 * err. */
int statefile_dir_make(const char *dir, char *err, size_t errlen);

/* flock(fd, LOCK_EX), tried every step_ms while another holds it: 1 once
 * had; 0 when stop(arg) (if not NULL) says, after a try, that it is no use
 * waiting on; -1 with errno EWOULDBLOCK when it is still held after
 * limit_ms, or flock's own error. For hub.lock, which the hub holds for
 * its life and slopnd pin while it makes the key. */
int statefile_lock_wait(int fd, unsigned limit_ms, unsigned step_ms, bool (*stop)(void *arg),
                        void *arg);

#endif
