/* The state directory's files: replaced whole (with or without the
 * fsyncs), read back whole, refused past their size; a failed write leaves
 * the file as it was and no temporary file behind, a crash's leftover
 * goes at the next load or save, and a file set aside keeps the one set
 * aside before. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tun/statefile.h"

static char dir[] = "/tmp/slopn-statefile.XXXXXX";

/* fsync, wrapped at the link (-Wl,--wrap=fsync): of a directory, it fails
 * with dir_fsync_errno when that is set. */
static int dir_fsync_errno, dir_fsyncs;
int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		dir_fsyncs++;
		if (dir_fsync_errno) {
			errno = dir_fsync_errno;
			return -1;
		}
	}
	return __real_fsync(fd);
}

static int entries(void)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void written_and_read(void **state)
{
	(void)state;
	char path[64], err[256], *buf;
	size_t len;
	snprintf(path, sizeof(path), "%s/peers.json", dir);
	assert_int_equal(statefile_read(path, 100, &buf, &len, err, sizeof(err)), 0); /* none yet */
	int (*const writers[])(const char *, const void *, size_t, mode_t, char *, size_t) = {
		statefile_write, statefile_write_nosync};
	for (size_t i = 0; i < 2; i++) {
		char text[32];
		snprintf(text, sizeof(text), "{\"run\":%zu}", i);
		assert_int_equal(writers[i](path, text, strlen(text), 0600, err, sizeof(err)), 0);
		assert_int_equal(statefile_read(path, 100, &buf, &len, err, sizeof(err)), 1);
		assert_int_equal(len, strlen(text));
		assert_string_equal(buf, text);
		free(buf);
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(entries(), 1); /* no temporary file left */
	}
	/* Larger than the reader takes: refused, said. */
	assert_int_equal(statefile_read(path, 4, &buf, &len, err, sizeof(err)), -1);
	assert_string_equal(err, "larger than 4 bytes"); /* not "0 MiB" */
	assert_int_equal(errno, EFBIG); /* damaged, not unreadable */
	assert_null(buf);
	assert_int_equal(statefile_read(path, 2 << 20, &buf, &len, err, sizeof(err)), 1);
	free(buf);
	unlink(path);
}

/* The buffer is the file's size, not the limit's: a small file is read
 * where 64 MiB cannot be had (a limit on the address space, strict
 * overcommit), in a child, so that the limit binds no other test. */
static void small_file_little_memory(void **state)
{
	(void)state;
	char path[64], err[256], *buf;
	size_t len;
	snprintf(path, sizeof(path), "%s/leases.json", dir);
	assert_int_equal(statefile_write_nosync(path, "{}", 2, 0600, err, sizeof(err)), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned long pages = 0;
		FILE *f = fopen("/proc/self/statm", "r");
		if (!f || fscanf(f, "%lu", &pages) != 1)
			_exit(2);
		fclose(f);
		rlim_t lim = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (32 << 20);
		if (setrlimit(RLIMIT_AS, &(struct rlimit){lim, lim}) < 0)
			_exit(2);
		int r = statefile_read(path, 64 << 20, &buf, &len, err, sizeof(err));
		if (r != 1)
			fprintf(stderr, "statefile_read: %d, %s\n", r, err);
		_exit(r == 1 && len == 2 && !strcmp(buf, "{}") ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	unlink(path);
}

/* A file whose size says nothing (those of /proc say 0) or that grows
 * while read: read to its end all the same, and still refused past the
 * limit. */
static void size_not_known(void **state)
{
	(void)state;
	char err[256], *buf;
	size_t len;
	assert_int_equal(statefile_read("/proc/self/status", 1 << 20, &buf, &len, err, sizeof(err)), 1);
	assert_true(len > 100);
	assert_int_equal(strlen(buf), len);
	assert_non_null(strstr(buf, "\nPid:"));
	free(buf);
	assert_int_equal(statefile_read("/proc/self/status", 100, &buf, &len, err, sizeof(err)), -1);
	assert_string_equal(err, "larger than 100 bytes");
	assert_null(buf);
}

static bool exists(const char *sub, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	return access(path, F_OK) == 0;
}

static void make(const char *sub, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

/* A crash between the temporary file's creation and its rename leaves
 * NAME.slopn-save-XXXXXX behind: gone at the file's next load, or its next
 * save that waits for the disk. Only that pattern, only that name's: an
 * administrator's NAME.backup (six letters) stays. */
static void leftovers_removed(void **state)
{
	(void)state;
	static const char *const kept[] = {
		"leases.json.bad", "leases.json.backup", "leases.json.AbC123",
		"leases.json.slopn-save-AbC12", "leases.json.slopn-save-AbC1234",
		"leases.json.slopn-save-AbC-23", "leases.jsonslopn-save-AbC123",
		"other.json.slopn-save-AbC123", "xleases.json.slopn-save-AbC123", "leases.json",
	};
	char sub[96], path[128], err[256], *buf;
	size_t len;
	snprintf(sub, sizeof(sub), "%s/sweep", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	for (size_t i = 0; i < sizeof(kept) / sizeof(*kept); i++)
		make("sweep", kept[i]);
	make("sweep", "leases.json.slopn-save-AbC123");
	make("sweep", "leases.json.slopn-save-zz9ZZ0");
	snprintf(path, sizeof(path), "%s/leases.json.slopn-save-Dir123", sub);
	assert_int_equal(mkdir(path, 0700), 0); /* not a file: not ours */

	snprintf(path, sizeof(path), "%s/leases.json", sub);
	assert_int_equal(statefile_read(path, 100, &buf, &len, err, sizeof(err)), 1);
	free(buf);
	assert_false(exists("sweep", "leases.json.slopn-save-AbC123"));
	assert_false(exists("sweep", "leases.json.slopn-save-zz9ZZ0"));
	for (size_t i = 0; i < sizeof(kept) / sizeof(*kept); i++)
		if (!exists("sweep", kept[i]))
			fail_msg("%s removed", kept[i]);
	assert_true(exists("sweep", "leases.json.slopn-save-Dir123"));

	/* Also when there is no file to load (peers.json after a clean stop),
	 * and at a save. */
	unlink(path);
	make("sweep", "leases.json.slopn-save-AbC123");
	assert_int_equal(statefile_read(path, 100, &buf, &len, err, sizeof(err)), 0);
	assert_false(exists("sweep", "leases.json.slopn-save-AbC123"));
	make("sweep", "leases.json.slopn-save-AbC123");
	assert_int_equal(statefile_write(path, "{}", 2, 0600, err, sizeof(err)), 0);
	assert_false(exists("sweep", "leases.json.slopn-save-AbC123"));

	for (size_t i = 0; i < sizeof(kept) / sizeof(*kept); i++) {
		snprintf(path, sizeof(path), "%s/%s", sub, kept[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/leases.json.slopn-save-Dir123", sub);
	rmdir(path);
	assert_int_equal(rmdir(sub), 0);
}

/* Not a file: said at once, not waited on (a FIFO), and with the reason. */
static void not_a_file(void **state)
{
	(void)state;
	char path[64], err[256], *buf;
	size_t len;
	snprintf(path, sizeof(path), "%s/tokens.json", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(statefile_read(path, 100, &buf, &len, err, sizeof(err)), -1);
	assert_string_equal(err, "cannot read: not a regular file");
	assert_null(buf);
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(statefile_read(path, 100, &buf, &len, err, sizeof(err)), -1);
	assert_string_equal(err, "cannot read: Is a directory");
	rmdir(path);
	/* A character device: no endless read into the limit's buffer. */
	assert_int_equal(statefile_read("/dev/zero", 100, &buf, &len, err, sizeof(err)), -1);
	assert_string_equal(err, "cannot read: not a regular file");
}

static void failed_write(void **state)
{
	(void)state;
	char path[96], err[256];
	snprintf(path, sizeof(path), "%s/no-such-dir/peers.json", dir);
	assert_int_equal(statefile_write_nosync(path, "x", 1, 0600, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no-such-dir"));
	assert_int_equal(statefile_write(path, "x", 1, 0600, err, sizeof(err)), -1);
	/* Over a directory: the rename fails, the temporary file goes. */
	snprintf(path, sizeof(path), "%s/adir", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	char inside[128];
	snprintf(inside, sizeof(inside), "%s/f", path);
	assert_int_equal(statefile_write(inside, "x", 1, 0600, err, sizeof(err)), 0);
	assert_int_equal(statefile_write_nosync(path, "y", 1, 0600, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot replace"));
	assert_int_equal(entries(), 1); /* adir only */
	unlink(inside);
	rmdir(path);
}

/* The directory's fsync, after the rename, is part of the save: its
 * failure (EIO) is the save's, said with the directory; EINVAL (a file
 * system that does not sync directories) is not. Without the fsyncs, it
 * is not made. */
static void directory_not_synced(void **state)
{
	(void)state;
	char path[64], err[256];
	snprintf(path, sizeof(path), "%s/leases.json", dir);
	dir_fsyncs = 0;
	assert_int_equal(statefile_write(path, "a", 1, 0600, err, sizeof(err)), 0);
	assert_int_equal(dir_fsyncs, 1);
	dir_fsync_errno = EIO;
	assert_int_equal(statefile_write(path, "b", 1, 0600, err, sizeof(err)), -1);
	char want[160];
	snprintf(want, sizeof(want), "cannot write %s: cannot sync its directory %s: %s", path, dir,
	         strerror(EIO));
	assert_string_equal(err, want);
	assert_int_equal(statefile_write_nosync(path, "c", 1, 0600, err, sizeof(err)), 0);
	assert_int_equal(dir_fsyncs, 2);
	dir_fsync_errno = EINVAL;
	assert_int_equal(statefile_write(path, "d", 1, 0600, err, sizeof(err)), 0);
	dir_fsync_errno = 0;
	assert_int_equal(entries(), 1); /* no temporary file left */
	unlink(path);
}

/* A guarded save: the caller's check comes after the file is written and
 * synced, just before the rename (true: nothing replaced, -2); the new
 * file's identity is its own (fstat), the one stat() of path finds after. */
static int checks;
static bool edited_meanwhile(void *arg)
{
	checks++;
	return *(bool *)arg;
}

static void guarded(void **state)
{
	(void)state;
	char path[64], err[256], *buf;
	size_t len;
	snprintf(path, sizeof(path), "%s/tokens.json", dir);
	bool edited = false;
	struct statefile_guard g = {.changed = edited_meanwhile, .arg = &edited};
	assert_int_equal(statefile_write_guarded(path, "one", 3, 0600, &g, err, sizeof(err)), 0);
	assert_true(g.replaced);
	assert_int_equal(checks, 1);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(g.st.st_ino, st.st_ino);
	assert_int_equal(g.st.st_dev, st.st_dev);
	assert_int_equal(g.st.st_size, 3);
	assert_int_equal(g.st.st_mtim.tv_sec, st.st_mtim.tv_sec);
	assert_int_equal(g.st.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
	edited = true;
	assert_int_equal(statefile_write_guarded(path, "two", 3, 0600, &g, err, sizeof(err)), -2);
	assert_false(g.replaced);
	assert_int_equal(checks, 2);
	assert_int_equal(statefile_read(path, 100, &buf, &len, err, sizeof(err)), 1);
	assert_string_equal(buf, "one");
	free(buf);
	assert_int_equal(entries(), 1); /* no temporary file left */
	unlink(path);
}

/* A file set aside keeps what was set aside before: .bad, then .bad.2. */
static void set_aside(void **state)
{
	(void)state;
	char path[64], to[96], err[256], *buf;
	size_t len;
	snprintf(path, sizeof(path), "%s/leases.json", dir);
	assert_int_equal(statefile_write(path, "first", 5, 0600, err, sizeof(err)), 0);
	assert_int_equal(statefile_set_aside(path, to, sizeof(to)), 0);
	assert_string_equal(strrchr(to, '/'), "/leases.json.bad");
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(statefile_write(path, "second", 6, 0600, err, sizeof(err)), 0);
	assert_int_equal(statefile_set_aside(path, to, sizeof(to)), 0);
	assert_string_equal(strrchr(to, '/'), "/leases.json.bad.2");
	assert_int_equal(statefile_read(to, 100, &buf, &len, err, sizeof(err)), 1);
	assert_string_equal(buf, "second");
	free(buf);
	snprintf(to, sizeof(to), "%s/leases.json.bad", dir);
	assert_int_equal(statefile_read(to, 100, &buf, &len, err, sizeof(err)), 1);
	assert_string_equal(buf, "first");
	free(buf);
	/* Nothing there: said, nothing made. */
	assert_int_equal(statefile_set_aside(path, to, sizeof(to)), -1);
	assert_int_equal(errno, ENOENT);
	/* No room for the name: path stays. */
	assert_int_equal(statefile_write(path, "third", 5, 0600, err, sizeof(err)), 0);
	assert_int_equal(statefile_set_aside(path, to, strlen(path) + 4), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(entries(), 3);
	unlink(path);
	snprintf(to, sizeof(to), "%s/leases.json.bad", dir);
	unlink(to);
	snprintf(to, sizeof(to), "%s/leases.json.bad.2", dir);
	unlink(to);
}

/* A state directory of ours under one that others may write: they could
 * rename ours away and put theirs there. Sticky (/tmp's 1777), it may be. */
static void parent_open_to_others(void **state)
{
	(void)state;
	char open_dir[128], sub[160], link[160], err[1024];
	snprintf(open_dir, sizeof(open_dir), "%s/open", dir);
	snprintf(sub, sizeof(sub), "%s/state", open_dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(mkdir(open_dir, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(symlink(sub, link), 0);
	assert_int_equal(statefile_dir_check(sub, false, err, sizeof(err)), 1);
	assert_int_equal(chmod(open_dir, 0777), 0);
	assert_int_equal(statefile_dir_check(sub, false, err, sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	char want[1024];
	snprintf(want, sizeof(want), "state directory %s: the directory above it, %s, is writable by its "
	         "group or others (mode 0777): another user could put a directory of theirs in its "
	         "place, and so replace the files kept there (the hub's key, its tokens); chmod go-w "
	         "%s, or give another --state-dir", sub, open_dir, open_dir);
	assert_string_equal(err, want);
	/* Through a link: where it leads is what counts. */
	assert_int_equal(statefile_dir_check(link, false, err, sizeof(err)), -1);
	/* Only read (slopnd pin): any directory will do. */
	assert_int_equal(statefile_dir_check(sub, true, err, sizeof(err)), 1);
	assert_int_equal(chmod(open_dir, 01777), 0);
	assert_int_equal(statefile_dir_check(sub, false, err, sizeof(err)), 1);
	unlink(link);
	rmdir(sub);
	rmdir(open_dir);
}

/* A directory all share (/tmp, 1777): others may put files of theirs
 * there, so it is refused, but chmod go-w would break it for everyone:
 * the way out is another directory. */
static void sticky_shared(void **state)
{
	(void)state;
	char shared[128], err[1024], want[1024];
	snprintf(shared, sizeof(shared), "%s/shared", dir);
	assert_int_equal(mkdir(shared, 0700), 0);
	assert_int_equal(chmod(shared, 01777), 0);
	assert_int_equal(statefile_dir_check_as(shared, false, "control socket's directory",
	                                        "the control socket in it", "--control", err,
	                                        sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	snprintf(want, sizeof(want), "control socket's directory %s is writable by its group or "
	         "others (mode 1777), and sticky, shared as /tmp is: the sticky bit keeps another "
	         "user from removing what is ours, not from putting theirs where the control socket "
	         "in it would be; give another --control, in a directory of your own (one under %s "
	         "will do)", shared, shared);
	assert_string_equal(err, want);
	assert_null(strstr(err, "chmod"));
	/* Not sticky: chmod go-w is the fix. */
	assert_int_equal(chmod(shared, 0777), 0);
	assert_int_equal(statefile_dir_check(shared, false, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod go-w"));
	rmdir(shared);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(written_and_read),
		cmocka_unit_test(failed_write),
		cmocka_unit_test(not_a_file),
		cmocka_unit_test(small_file_little_memory),
		cmocka_unit_test(size_not_known),
		cmocka_unit_test(leftovers_removed),
		cmocka_unit_test(set_aside),
		cmocka_unit_test(directory_not_synced),
		cmocka_unit_test(guarded),
		cmocka_unit_test(parent_open_to_others),
		cmocka_unit_test(sticky_shared),
	};
	int rv = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rv;
}
