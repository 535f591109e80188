/* --accept-dns's resolv.conf handling (tun/dns.c) on files in a temporary
 * directory: the round trip, a file rewritten meanwhile, a backup that
 * cannot be written whole (a full disk, here RLIMIT_FSIZE), which must
 * leave resolv.conf and no half backup behind, and a resolv.conf that
 * cannot be written, which must leave no backup either. Two slopnds on one
 * file, and another program that keeps undoing ours: neither is taken for
 * the original. A start after a crash puts the backup back only over
 * slopnd's own text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tun/dns.h"

static char dir[64], conf[128], bak[128], bak2[128];
static char err[512];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *get(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int entries(void)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/slopn-test-dns.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/resolv.conf", dir);
	snprintf(bak, sizeof(bak), "%s/resolv-slopn0.orig", dir);
	snprintf(bak2, sizeof(bak2), "%s/resolv-sb0.orig", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(conf);
	unlink(bak);
	unlink(bak2);
	rmdir(dir);
	return 0;
}

static void round_trip(void **state)
{
	static const char orig[] = "nameserver 192.0.2.53\nsearch example.test\n";
	put(conf, orig);
	uint32_t hub;
	inet_pton(AF_INET, "10.100.0.1", &hub);
	assert_int_equal(dns_apply(conf, bak, hub, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(get(conf), "nameserver 10.100.0.1\n"));
	assert_string_equal(get(bak), orig);
	assert_int_equal(dns_check(conf, bak, hub, NULL, err, sizeof(err)), 0);
	/* A DHCP client writes the new network's servers: they become the
	 * original, and ours is back. */
	put(conf, "nameserver 198.51.100.53\n");
	assert_int_equal(dns_check(conf, bak, hub, NULL, err, sizeof(err)), 1);
	assert_string_equal(get(bak), "nameserver 198.51.100.53\n");
	assert_non_null(strstr(get(conf), "nameserver 10.100.0.1\n"));
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), 1);
	assert_string_equal(get(conf), "nameserver 198.51.100.53\n");
	assert_null(get(bak));
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), 0); /* nothing to do */
}

/* The original is larger than the file size limit: its backup cannot be
 * written whole. resolv.conf stays as it was, no backup (whole or half) is
 * left to be put back over it, and the reason is given. */
static void backup_that_does_not_fit(void **state)
{
	char big[2048];
	size_t n = 0;
	while (n + 32 < sizeof(big))
		n += (size_t)snprintf(big + n, sizeof(big) - n, "nameserver 192.0.2.%zu\n", n % 200);
	put(conf, big);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	uint32_t hub;
	inet_pton(AF_INET, "10.100.0.1", &hub);
	int rv = dns_apply(conf, bak, hub, NULL, err, sizeof(err));
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(rv, -1);
	assert_non_null(strstr(err, "cannot keep the original of"));
	assert_string_equal(get(conf), big);
	assert_null(get(bak));
	assert_int_equal(entries(), 1); /* resolv.conf alone: no temporary file left */
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), 0);
	assert_string_equal(get(conf), big);
}

static const char orig0[] = "nameserver 192.0.2.53\nsearch example.test\n";

static uint32_t addr(const char *s)
{
	uint32_t a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* A second client (its own TUN: another backup) connects while the first
 * has the file: it writes nothing and keeps no backup (before, it kept the
 * first one's text as the original, the two rewrote the file against each
 * other, and the last stop left slopnd's text in it). Either stop order
 * ends with the original. */
static void second_instance(void **state)
{
	for (int order = 0; order < 2; order++) {
		put(conf, orig0);
		assert_int_equal(dns_apply(conf, bak, addr("10.100.0.1"), NULL, err, sizeof(err)), 0);
		char first[4096];
		snprintf(first, sizeof(first), "%s", get(conf));
		assert_int_equal(dns_apply(conf, bak2, addr("10.100.0.1"), NULL, err, sizeof(err)),
		                 DNS_OTHER);
		assert_string_equal(get(conf), first);
		assert_null(get(bak2));
		assert_int_equal(dns_check(conf, bak, addr("10.100.0.1"), NULL, err, sizeof(err)),
		                 DNS_OURS);
		if (order == 0) {
			assert_int_equal(dns_restore(conf, bak2, err, sizeof(err)), DNS_NO_BACKUP);
			assert_string_equal(get(conf), first);
			assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), DNS_RESTORED);
		} else {
			assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), DNS_RESTORED);
			assert_int_equal(dns_restore(conf, bak2, err, sizeof(err)), DNS_NO_BACKUP);
		}
		assert_string_equal(get(conf), orig0);
		assert_null(get(bak));
		assert_null(get(bak2));
	}
}

/* Two clients that both read the original before either wrote: the
 * second writes last. The first, seeing the second's text, keeps no
 * backup and leaves the file to it; the second's backup holds the
 * original. Either stop order ends with it. */
static void two_instances_at_once(void **state)
{
	for (int order = 0; order < 2; order++) {
		put(conf, orig0);
		assert_int_equal(dns_apply(conf, bak, addr("10.100.0.1"), NULL, err, sizeof(err)), 0);
		put(conf, orig0); /* what the second read */
		assert_int_equal(dns_apply(conf, bak2, addr("10.100.0.1"), NULL, err, sizeof(err)), 0);
		char second[4096];
		snprintf(second, sizeof(second), "%s", get(conf));
		/* Before its watch saw the second's text, the first stops: it
		 * leaves that text (the second's to put back). */
		if (order == 1) {
			assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), DNS_DROPPED);
			assert_string_equal(get(conf), second);
		} else {
			assert_int_equal(dns_check(conf, bak, addr("10.100.0.1"), NULL, err, sizeof(err)),
			                 DNS_OTHER);
			assert_string_equal(get(conf), second);
			assert_int_equal(dns_check(conf, bak2, addr("10.100.0.1"), NULL, err, sizeof(err)),
			                 DNS_OURS);
		}
		assert_null(get(bak));
		assert_string_equal(get(bak2), orig0);
		assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), DNS_NO_BACKUP);
		assert_int_equal(dns_restore(conf, bak2, err, sizeof(err)), DNS_RESTORED);
		assert_string_equal(get(conf), orig0);
		assert_null(get(bak2));
	}
}

/* A program that undoes ours whenever we write it: given up, its content
 * stays (the newest), and no backup is left to go over it. While the file
 * is still ours, nothing is given up. */
static void left_to_another_program(void **state)
{
	uint32_t hub = addr("10.100.0.1");
	put(conf, orig0);
	assert_int_equal(dns_apply(conf, bak, hub, NULL, err, sizeof(err)), 0);
	assert_int_equal(dns_leave(conf, bak, hub, NULL, err, sizeof(err)), DNS_OURS);
	assert_string_equal(get(bak), orig0);
	put(conf, "nameserver 198.51.100.77\n");
	assert_int_equal(dns_leave(conf, bak, hub, NULL, err, sizeof(err)), DNS_LEFT);
	assert_string_equal(get(conf), "nameserver 198.51.100.77\n");
	assert_null(get(bak));
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), DNS_NO_BACKUP);
	assert_string_equal(get(conf), "nameserver 198.51.100.77\n");
	/* Our text, edited (a line added): the original back, not our text
	 * left in the file for good. */
	put(conf, orig0);
	assert_int_equal(dns_apply(conf, bak, hub, NULL, err, sizeof(err)), 0);
	char edited[4200];
	snprintf(edited, sizeof(edited), "%snameserver 198.51.100.78\n", get(conf));
	put(conf, edited);
	assert_int_equal(dns_leave(conf, bak, hub, NULL, err, sizeof(err)), DNS_LEFT);
	assert_string_equal(get(conf), orig0);
	assert_null(get(bak));
}

/* Our text, edited while connected: ours is written again, and the
 * original stays the one to put back (not the edited text). */
static void edited(void **state)
{
	uint32_t hub = addr("10.100.0.1");
	put(conf, orig0);
	assert_int_equal(dns_apply(conf, bak, hub, NULL, err, sizeof(err)), 0);
	char text[4096];
	snprintf(text, sizeof(text), "%s", get(conf));
	char more[4200];
	snprintf(more, sizeof(more), "%soptions ndots:2\n", text);
	put(conf, more);
	assert_int_equal(dns_check(conf, bak, hub, NULL, err, sizeof(err)), DNS_EDITED);
	assert_string_equal(get(conf), text);
	assert_string_equal(get(bak), orig0);
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), DNS_RESTORED);
	assert_string_equal(get(conf), orig0);
}

/* A crash (kill -9, a power loss) while connected left the backup; then
 * the network's DHCP client wrote resolv.conf anew. The start puts
 * nothing over that newer content and drops the stale backup; over our
 * own text it puts the backup back; a file gone (a link into an empty
 * /run after a reboot) stays gone. */
static void crash_then_new_network(void **state)
{
	uint32_t hub = addr("10.100.0.1");
	put(conf, orig0);
	assert_int_equal(dns_apply(conf, bak, hub, NULL, err, sizeof(err)), 0);
	put(conf, "nameserver 198.51.100.53\n");
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), DNS_DROPPED);
	assert_string_equal(get(conf), "nameserver 198.51.100.53\n");
	assert_null(get(bak));

	put(conf, orig0);
	assert_int_equal(dns_apply(conf, bak, hub, NULL, err, sizeof(err)), 0);
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), DNS_RESTORED);
	assert_string_equal(get(conf), orig0);

	assert_int_equal(dns_apply(conf, bak, hub, NULL, err, sizeof(err)), 0);
	unlink(conf);
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), DNS_DROPPED);
	assert_null(get(conf));
	assert_null(get(bak));

	/* Empty: a crash between our write's truncation and its text. The
	 * original comes back (it was dropped as if another had written). */
	put(conf, orig0);
	assert_int_equal(dns_apply(conf, bak, hub, NULL, err, sizeof(err)), 0);
	put(conf, "");
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), DNS_RESTORED);
	assert_string_equal(get(conf), orig0);
	assert_null(get(bak));
}

/* A backup an older slopnd kept of another slopnd's text: not put back
 * (it named a hub's server), removed, and said. */
static void backup_of_slopnds_text(void **state)
{
	uint32_t hub = addr("10.100.0.1");
	put(conf, orig0);
	assert_int_equal(dns_apply(conf, bak2, hub, NULL, err, sizeof(err)), 0);
	char other[4096];
	snprintf(other, sizeof(other), "%s", get(conf));
	put(conf, orig0);
	assert_int_equal(dns_apply(conf, bak, hub, NULL, err, sizeof(err)), 0);
	char text[4096];
	snprintf(text, sizeof(text), "%s", get(conf));
	put(bak, other);
	unlink(bak2);
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), DNS_BAD_BACKUP);
	assert_non_null(strstr(err, "holds slopnd's own text"));
	assert_string_equal(get(conf), text);
	assert_null(get(bak));
}

/* resolv.conf cannot be written (here: the file size limit lets the small
 * backup through, not our text; EPERM of an immutable file fails the same
 * way, before a byte). dns_apply fails, the file holds the original, and
 * no backup is left to be put back later over newer content. */
static void resolv_conf_not_writable(void **state)
{
	put(conf, "nameserver 192.0.2.53\n");
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rv = dns_apply(conf, bak, addr("10.100.0.1"), NULL, err, sizeof(err));
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(rv, -1);
	assert_non_null(strstr(err, "cannot write"));
	assert_null(strstr(err, "its original is in"));
	assert_string_equal(get(conf), "nameserver 192.0.2.53\n");
	assert_null(get(bak));
	assert_int_equal(entries(), 1);
	/* Writable again, and rewritten meanwhile: nothing old goes over it. */
	put(conf, "nameserver 198.51.100.53\n");
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), DNS_NO_BACKUP);
	assert_string_equal(get(conf), "nameserver 198.51.100.53\n");
}

/* A FIFO as resolv.conf or as its backup: refused at once, not waited on
 * (the open waited for a writer, in the client's event loop). alarm: the
 * test dies if one blocks. The error names the file, says it is not a
 * regular file (it said "Invalid argument") and what to do. */
static void fifo(void **state)
{
	uint32_t hub;
	char want[512];
	inet_pton(AF_INET, "10.100.0.1", &hub);
	assert_int_equal(mkfifo(conf, 0600), 0);
	alarm(5);
	assert_int_equal(dns_apply(conf, bak, hub, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "cannot read %s: not a regular file; --accept-dns rewrites a "
	         "regular file only: put one there, or name one with --resolv-conf", conf);
	assert_string_equal(err, want);
	assert_null(get(bak));
	/* The same while connected, and at the restore. */
	assert_int_equal(dns_check(conf, bak, hub, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	put(bak, "nameserver 192.0.2.53\n");
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_string_equal(get(bak), "nameserver 192.0.2.53\n");
	unlink(bak);
	unlink(conf);
	put(conf, "nameserver 192.0.2.53\n");
	assert_int_equal(mkfifo(bak, 0600), 0);
	assert_int_equal(dns_restore(conf, bak, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "cannot read %s: not a regular file; it holds no original of "
	         "resolv.conf to put back: move it away", bak);
	assert_string_equal(err, want);
	alarm(0);
	assert_string_equal(get(conf), "nameserver 192.0.2.53\n");
}

/* A directory there: said as one, with no word of a FIFO to move away. */
static void directory(void **state)
{
	uint32_t hub;
	char want[512];
	inet_pton(AF_INET, "10.100.0.1", &hub);
	assert_int_equal(mkdir(conf, 0700), 0);
	assert_int_equal(dns_apply(conf, bak, hub, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "cannot read %s: Is a directory", conf);
	assert_string_equal(err, want);
	assert_null(get(bak));
	rmdir(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(backup_that_does_not_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(second_instance, setup, teardown),
		cmocka_unit_test_setup_teardown(two_instances_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(left_to_another_program, setup, teardown),
		cmocka_unit_test_setup_teardown(edited, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_then_new_network, setup, teardown),
		cmocka_unit_test_setup_teardown(backup_of_slopnds_text, setup, teardown),
		cmocka_unit_test_setup_teardown(resolv_conf_not_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(directory, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
