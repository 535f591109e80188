/* slopnd's config file (daemon/config.c): what its errors show of the
 * file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"

/* config_parse of a server whose config file holds text: its return, c
 * filled in (config_free it). */
static int parsed(const char *text, struct config *c)
{
	char path[] = "/tmp/slopn-test-config.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char *argv[] = {"slopnd", "server", "--config", path, NULL};
	int rv = config_parse(c, 4, argv);
	unlink(path);
	return rv;
}

/* config_parse's error for a server whose config file holds text. */
static const char *refused(const char *text)
{
	struct config c;
	assert_int_equal(parsed(text, &c), -1);
	config_free(&c);
	return config_error;
}

/* Each byte of a control character, or of no UTF-8 character, is shown
 * as \xNN: a config file's escape sequence reaches no terminal or
 * journal, and a person sees what the file holds. */
static void escaped(void **state)
{
	(void)state;
	config_quiet = true;
	const char *err = refused("mtu = 1\x1b[2J4\x07\n");
	assert_non_null(strstr(err, "mtu '1\\x1b[2J4\\x07': "));
	err = refused("subnet = \xc2\x9b" "31m\xff\n");      /* C1 CSI, not UTF-8 */
	assert_non_null(strstr(err, "subnet '\\xc2\\x9b31m\\xff': "));
	err = refused("nat = y\res\n");                          /* said by the parser's caller */
	assert_non_null(strstr(err, "not 'y\\x0des'"));
	err = refused("mtu = caf\xc3\xa9\n");                  /* UTF-8 text stays */
	assert_non_null(strstr(err, "'caf\xc3\xa9'"));
	for (const char *p = err; *p; p++)
		assert_false((unsigned char)*p < 0x20 || *p == 0x7f);
}

/* A state directory whose files' paths would not fit PATH_MAX is refused
 * at start, from the command line or the file: not cut short when a file
 * in it is made (tokens.js instead of tokens.json). */
static void state_dir_bounded(void **state)
{
	(void)state;
	config_quiet = true;
	char dir[STATE_DIR_MAX + 2];
	memset(dir, 'd', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	char *argv[] = {"slopnd", "server", "--state-dir", dir, NULL};
	struct config c;
	assert_int_equal(config_parse(&c, 4, argv), -1);
	config_free(&c);
	assert_non_null(strstr(config_error, "3073 characters long, more than the 3072"));
	char line[sizeof(dir) + 32];
	snprintf(line, sizeof(line), "state_dir = %s\n", dir);
	assert_non_null(strstr(refused(line), "3073 characters long"));
	dir[STATE_DIR_MAX] = '\0'; /* at the bound: taken */
	argv[3] = dir;
	assert_int_equal(config_parse(&c, 4, argv), 0);
	config_free(&c);
}

/* A switch takes yes, true or 1, and no, false or 0; its error names
 * them all. */
static void switches(void **state)
{
	(void)state;
	config_quiet = true;
	const char *on[] = {"yes", "true", "1"}, *off[] = {"no", "false", "0"};
	char line[32];
	struct config c;
	for (size_t i = 0; i < 3; i++) {
		snprintf(line, sizeof(line), "nat = %s\n", on[i]);
		assert_int_equal(parsed(line, &c), 0);
		assert_true(c.nat);
		config_free(&c);
		snprintf(line, sizeof(line), "nat = %s\n", off[i]);
		assert_int_equal(parsed(line, &c), 0);
		assert_false(c.nat);
		config_free(&c);
	}
	assert_non_null(strstr(refused("nat = on\n"),
	                       "nat: expected yes or no (or true or false, 1 or 0), not 'on'"));
}

/* config_parse's error for a client given these arguments after its role. */
static const char *client_refused(int n, char **args)
{
	char *argv[8] = {"slopnd", "client"};
	assert_true(n <= 6);
	for (int i = 0; i < n; i++)
		argv[2 + i] = args[i];
	struct config c;
	assert_int_equal(config_parse(&c, 2 + n, argv), -1);
	config_free(&c);
	return config_error;
}

/* An argument after the invite is named, not the invite, which is right;
 * a link of another scheme where the invite goes says what an invite is. */
static void stray_arguments(void **state)
{
	(void)state;
	config_quiet = true;
	char *extra[] = {"slopn://abc@192.0.2.1:4242", "extra"};
	assert_string_equal(client_refused(2, extra), "unexpected argument 'extra' after the invite");
	char *hub[] = {"slopn://abc@192.0.2.1:4242", "192.0.2.1:4242"};
	assert_string_equal(client_refused(2, hub), "unexpected argument '192.0.2.1:4242' after the "
	                    "invite (the hub? give --server 192.0.2.1:4242)");
	char *https[] = {"https://abc@192.0.2.1:4242"};
	assert_string_equal(client_refused(1, https), "unexpected argument 'https://abc@192.0.2.1:4242' "
	                    "(an invite starts with slopn://)");
	char *alone[] = {"extra"};
	assert_string_equal(client_refused(1, alone), "unexpected argument 'extra'");
}

/* An option before the role is said to be one, and where the role is
 * when it comes later: not an unknown role. */
static void option_before_role(void **state)
{
	(void)state;
	config_quiet = true;
	struct config c;
	char *late[] = {"slopnd", "-v", "server", NULL};
	assert_int_equal(config_parse(&c, 3, late), -1);
	config_free(&c);
	assert_string_equal(config_error, "option '-v' before the role: the role comes first (slopnd "
	                    "server -v ...)");
	char *none[] = {"slopnd", "--mtu", "1300", NULL};
	assert_int_equal(config_parse(&c, 3, none), -1);
	config_free(&c);
	assert_string_equal(config_error, "option '--mtu' where the role goes: give the role first");
	char *bogus[] = {"slopnd", "hub", NULL};
	assert_int_equal(config_parse(&c, 2, bogus), -1);
	config_free(&c);
	assert_string_equal(config_error, "unknown role 'hub'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escaped),
		cmocka_unit_test(state_dir_bounded),
		cmocka_unit_test(switches),
		cmocka_unit_test(stray_arguments),
		cmocka_unit_test(option_before_role),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
