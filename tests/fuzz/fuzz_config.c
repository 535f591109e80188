/* libFuzzer: slopnd's config file, each line's value checked and applied
 * as its flag's would be (daemon/config.c: load_setting, apply), through
 * config_parse as slopnd's start and a SIGHUP's reload call it. The first
 * byte picks the role (server, client, pin), the rest is the file. A file
 * taken must give settings slopnd can run with; one refused must say why,
 * on one line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/pool.h"
#include "proto/login.h"
#include "proto/text.h"

/* The file, in memory: config_parse reads it by its name. */
static int fd = -1;
static char path[64];

static void setup(void)
{
	fd = memfd_create("slopnd.conf", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* Messages for a person, 200000 times over: errors stay in
	 * config_error, checked below. libFuzzer and the sanitizers keep
	 * writing to descriptor 2 of their own. */
	config_quiet = true;
	log_max_level = 0;
	FILE *null = fopen("/dev/null", "w");
	if (!null)
		abort();
	stderr = null; /* the pointer to --help, of the checks of settings together */
}

static void check_taken(const struct config *c)
{
	if (!c->listen || !c->state_dir || !c->tun || !c->resolv_conf || !*c->state_dir)
		abort();
	if (c->mtu < MIN_MTU || c->mtu > MAX_MTU)
		abort();
	if (c->prefix < POOL_MIN_PREFIX || c->prefix > POOL_MAX_PREFIX ||
	    (c->subnet & ~(0xffffffffu << (32 - c->prefix))))
		abort();
	size_t t = strlen(c->tun);
	if (!t || t > 15 || strpbrk(c->tun, "/: "))
		abort();
	if (c->pin && (strncmp(c->pin, "sha256:", 7) || strlen(c->pin) != 71))
		abort();
	if (c->token && (!*c->token || text_plain(c->token, strlen(c->token)) < strlen(c->token) ||
	                 !slopn_login_token_fits(c->token)))
		abort();
	if (c->nallow_lan > MAX_ALLOW_LAN || c->nallow_lan6 > MAX_ALLOW_LAN)
		abort();
	if (c->egress && (!*c->egress || strlen(c->egress) > 15))
		abort();
	if (c->role == ROLE_SERVER && (!c->control || !*c->control))
		abort();
	if (c->role == ROLE_CLIENT && (!c->server || !c->token))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0)
		setup();
	if (!size)
		return 0;
	static char *const roles[] = {"server", "client", "pin"};
	char *role = roles[data[0] % 3];
	data++, size--;
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	char *argv[] = {"slopnd", role, "--config", path, NULL};
	struct config c;
	int r = config_parse(&c, 4, argv);
	if (r == 0 && c.role != ROLE_PIN)
		check_taken(&c);
	else if (r == 0 && (!c.state_dir || !*c.state_dir))
		abort();
	/* Refused: said, on one line and without control characters (a value
	 * is quoted in it, escaped). */
	size_t elen = strlen(config_error);
	if (r < 0 && (!config_error[0] || text_plain(config_error, elen) != elen))
		abort();
	if (r > 0) /* --help or --version: never from a file */
		abort();
	config_free(&c);
	return 0;
}
