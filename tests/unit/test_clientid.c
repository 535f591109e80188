/* The client id file: 32 lower-case hex digits, then only newlines; read,
 * made when missing or damaged, and never written over when it cannot be
 * read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/clientid.h"
#include "tun/statefile.h"

static bool parse(const char *s, char id[CLIENT_ID_LEN + 1])
{
	return client_id_parse(s, strlen(s), id);
}

static void good(void **state)
{
	(void)state;
	char id[CLIENT_ID_LEN + 1];
	assert_true(parse("0123456789abcdef0123456789abcdef\n", id));
	assert_string_equal(id, "0123456789abcdef0123456789abcdef");
	assert_true(parse("ffffffffffffffffffffffffffffffff", id));
	assert_string_equal(id, "ffffffffffffffffffffffffffffffff");
	assert_true(parse("00000000000000000000000000000000\n\n", id));
}

static void bad(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"",
		"\n",
		"0123456789abcdef0123456789abcde\n",   /* 31 digits */
		"0123456789abcdef0123456789abcdef0\n", /* 33 */
		"0123456789ABCDEF0123456789abcdef\n",  /* upper case: not what we write */
		"0123456789abcdef0123456789abcdeg\n",
		" 0123456789abcdef0123456789abcdef",
		"0123456789abcdef0123456789abcdef \n",
		"0123456789abcdef0123456789abcdef\r\n",
		"0123456789abcdef0123456789abcdef\nx",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char id[CLIENT_ID_LEN + 1] = "untouched";
		assert_false(parse(cases[i], id));
		assert_string_equal(id, "untouched");
	}
	/* A NUL inside is not a short string that happens to look right. */
	char id[CLIENT_ID_LEN + 1];
	assert_false(client_id_parse("0123456789abcdef0123456789abcdef\0\n", 34, id));
	assert_false(client_id_parse("0123456789abcdef\0" "123456789abcdef", 32, id));
}

static bool is_id(const char *id)
{
	char again[CLIENT_ID_LEN + 1];
	return strlen(id) == CLIENT_ID_LEN && client_id_parse(id, CLIENT_ID_LEN, again);
}

static void loaded(void **state)
{
	(void)state;
	char dir[] = "/tmp/slopn-clientid.XXXXXX", path[64], err[256], *buf;
	char id[CLIENT_ID_LEN + 1], first[CLIENT_ID_LEN + 1];
	size_t len;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/client-tun0.id", dir);
	/* None: made and kept; then read back. */
	client_id_load(dir, "tun0", first);
	assert_true(is_id(first));
	client_id_load(dir, "tun0", id);
	assert_string_equal(id, first);
	/* Damaged: a new one in its place. */
	assert_int_equal(statefile_write(path, "junk\n", 5, 0600, err, sizeof(err)), 0);
	client_id_load(dir, "tun0", id);
	assert_true(is_id(id));
	assert_int_equal(statefile_read(path, 100, &buf, &len, err, sizeof(err)), 1);
	assert_int_equal(len, CLIENT_ID_LEN + 1);
	assert_memory_equal(buf, id, CLIENT_ID_LEN);
	free(buf);
	/* Too long to be an id: damaged too, a new one in its place. */
	char big[5000];
	memset(big, 'a', sizeof(big));
	assert_int_equal(statefile_write(path, big, sizeof(big), 0600, err, sizeof(err)), 0);
	client_id_load(dir, "tun0", id);
	assert_true(is_id(id));
	assert_int_equal(statefile_read(path, 100, &buf, &len, err, sizeof(err)), 1);
	assert_memory_equal(buf, id, CLIENT_ID_LEN);
	free(buf);
	/* Not readable (a directory: EISDIR): an id for this run, and what
	 * is there stays there. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	char inside[96];
	snprintf(inside, sizeof(inside), "%s/kept", path);
	assert_int_equal(statefile_write(inside, first, CLIENT_ID_LEN, 0600, err, sizeof(err)), 0);
	client_id_load(dir, "tun0", id);
	assert_true(is_id(id));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(statefile_read(inside, 100, &buf, &len, err, sizeof(err)), 1);
	assert_string_equal(buf, first);
	free(buf);
	unlink(inside);
	rmdir(path);
	/* Nor a FIFO, which a save would replace (a rename over it works). */
	assert_int_equal(mkfifo(path, 0600), 0);
	client_id_load(dir, "tun0", id);
	assert_true(is_id(id));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	unlink(path);
	/* Nor a file this user may not read (root may). */
	if (geteuid() != 0) {
		assert_int_equal(statefile_write(path, "x", 1, 0000, err, sizeof(err)), 0);
		client_id_load(dir, "tun0", id);
		assert_true(is_id(id));
		assert_int_equal(lstat(path, &st), 0);
		assert_int_equal(st.st_size, 1);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good),
		cmocka_unit_test(bad),
		cmocka_unit_test(loaded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
