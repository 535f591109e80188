#include "daemon/config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/pool.h"

static const char usage_server[] =
	"Usage: slopnd server [OPTIONS]\n"
	"Run the hub: accept SloPN clients over QUIC and route their packets.\n\n"
	"  --listen ADDR:PORT     UDP address to listen on (default 0.0.0.0:4242)\n"
	"  --subnet CIDR          VPN subnet; the hub takes .1 (default 10.100.0.0/24)\n"
	"  --token TOKEN          shared token every client may log in with\n"
	"  --state-dir DIR        key, certificate and tokens (default /var/lib/slopn)\n"
	"  --tun NAME             TUN interface name (default slopn0)\n"
	"  --mtu N                TUN MTU, 576..1400 (default 1280)\n"
	"  --no-spoke-to-spoke    clients cannot reach each other\n"
	"  --control PATH         control socket (default /run/slopn/slopnd.sock)\n"
	"  -v, --verbose          more logging (twice for QUIC internals)\n"
	"  -h, --help             this text\n";

static const char usage_client[] =
	"Usage: slopnd client --server HOST:PORT --token TOKEN [OPTIONS]\n"
	"Connect to a hub and carry this machine's VPN traffic through it.\n\n"
	"  --server HOST:PORT     the hub (port defaults to 4242)\n"
	"  --token TOKEN          login token\n"
	"  --pin sha256:HEX       refuse a hub whose public key does not match\n"
	"  --tun NAME             TUN interface name (default slopn0)\n"
	"  --control PATH         control socket for slopnctl status (default: none)\n"
	"  --alpn PROTO           offer another ALPN, \"\" for none (protocol tests only)\n"
	"  -v, --verbose          more logging (twice for QUIC internals)\n"
	"  -h, --help             this text\n";

static const char usage_pin[] =
	"Usage: slopnd pin [--state-dir DIR]\n"
	"Print the hub's public-key pin (sha256:HEX), creating the key if needed.\n";

static const char usage_top[] =
	"Usage: slopnd server|client|pin [OPTIONS]   (slopnd ROLE --help for details)\n";

enum {
	OPT_LISTEN = 256, OPT_SUBNET, OPT_TOKEN, OPT_STATE_DIR, OPT_TUN, OPT_MTU,
	OPT_NO_S2S, OPT_SERVER, OPT_PIN, OPT_ALPN, OPT_CONTROL,
};

static const struct option server_opts[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"subnet", required_argument, NULL, OPT_SUBNET},
	{"token", required_argument, NULL, OPT_TOKEN},
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"tun", required_argument, NULL, OPT_TUN},
	{"mtu", required_argument, NULL, OPT_MTU},
	{"no-spoke-to-spoke", no_argument, NULL, OPT_NO_S2S},
	{"control", required_argument, NULL, OPT_CONTROL},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static const struct option client_opts[] = {
	{"server", required_argument, NULL, OPT_SERVER},
	{"token", required_argument, NULL, OPT_TOKEN},
	{"pin", required_argument, NULL, OPT_PIN},
	{"tun", required_argument, NULL, OPT_TUN},
	{"alpn", required_argument, NULL, OPT_ALPN},
	{"control", required_argument, NULL, OPT_CONTROL},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static const struct option pin_opts[] = {
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = strdup(src);
}

static int bad(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "slopnd: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n%s", usage);
	va_end(ap);
	return -1;
}

int split_host_port(const char *s, char **host, char **port)
{
	const char *h = s, *colon;
	size_t hlen;
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end)
			return -1;
		h = s + 1;
		hlen = (size_t)(end - h);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return -1;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			return -1; /* bare IPv6 needs brackets */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0 || (colon && colon[1] == '\0'))
		return -1;
	*host = strndup(h, hlen);
	*port = strdup(colon ? colon + 1 : DEFAULT_PORT);
	return 0;
}

static int check_hostport(const char *usage, const char *opt, const char *v)
{
	char *h, *p;
	if (split_host_port(v, &h, &p) < 0)
		return bad(usage, "%s: expected HOST:PORT", opt);
	char *end;
	long port = strtol(p, &end, 10);
	bool ok = *p && !*end && port >= 1 && port <= 65535;
	free(h);
	free(p);
	if (!ok)
		return bad(usage, "%s: port must be 1..65535", opt);
	return 0;
}

int config_parse(struct config *c, int argc, char **argv)
{
	memset(c, 0, sizeof(*c));
	c->spoke_to_spoke = true;
	c->mtu = DEFAULT_MTU;
	set_str(&c->listen, "0.0.0.0:" DEFAULT_PORT);
	set_str(&c->state_dir, DEFAULT_STATE_DIR);
	set_str(&c->tun, DEFAULT_TUN);
	parse_cidr(DEFAULT_SUBNET, &c->subnet, &c->prefix);

	if (argc < 2) {
		fputs(usage_top, stderr);
		return -1;
	}
	const char *role = argv[1];
	const struct option *opts;
	const char *usage;
	if (!strcmp(role, "server")) {
		c->role = ROLE_SERVER, opts = server_opts, usage = usage_server;
	} else if (!strcmp(role, "client")) {
		c->role = ROLE_CLIENT, opts = client_opts, usage = usage_client;
	} else if (!strcmp(role, "pin")) {
		c->role = ROLE_PIN, opts = pin_opts, usage = usage_pin;
	} else if (!strcmp(role, "-h") || !strcmp(role, "--help") || !strcmp(role, "help")) {
		fputs(usage_top, stdout);
		return 1;
	} else if (!strcmp(role, "--version")) {
		puts("slopnd " SLOPN_VERSION);
		return 1;
	} else {
		fprintf(stderr, "slopnd: unknown role '%s'\n%s", role, usage_top);
		return -1;
	}

	optind = 1;
	int opt;
	while ((opt = getopt_long(argc - 1, argv + 1, "vh", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_LISTEN:
			if (check_hostport(usage, "--listen", optarg) < 0)
				return -1;
			set_str(&c->listen, optarg);
			break;
		case OPT_SUBNET:
			if (parse_cidr(optarg, &c->subnet, &c->prefix) < 0 ||
			    c->prefix < POOL_MIN_PREFIX || c->prefix > POOL_MAX_PREFIX)
				return bad(usage, "--subnet '%s': expected an IPv4 CIDR from /16 to /29", optarg);
			break;
		case OPT_TOKEN:
			if (!*optarg || strlen(optarg) > 255)
				return bad(usage, "--token: must be 1..255 characters");
			set_str(&c->token, optarg);
			break;
		case OPT_STATE_DIR:
			set_str(&c->state_dir, optarg);
			break;
		case OPT_TUN:
			if (!*optarg || strlen(optarg) >= 16)
				return bad(usage, "--tun '%s': interface names are 1..15 characters", optarg);
			set_str(&c->tun, optarg);
			break;
		case OPT_MTU: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < MIN_MTU || v > MAX_MTU)
				return bad(usage, "--mtu '%s': must be 576..1400", optarg);
			c->mtu = (unsigned)v;
			break;
		}
		case OPT_CONTROL:
			set_str(&c->control, optarg);
			break;
		case OPT_NO_S2S:
			c->spoke_to_spoke = false;
			break;
		case OPT_SERVER:
			if (check_hostport(usage, "--server", optarg) < 0)
				return -1;
			set_str(&c->server, optarg);
			break;
		case OPT_PIN:
			if (strncmp(optarg, "sha256:", 7) || strlen(optarg) != 7 + 64 ||
			    strspn(optarg + 7, "0123456789abcdefABCDEF") != 64)
				return bad(usage, "--pin '%s': expected sha256: and 64 hex digits (see 'slopnd pin' on the hub)", optarg);
			set_str(&c->pin, optarg);
			break;
		case OPT_ALPN:
			set_str(&c->alpn, optarg);
			break;
		case 'v':
			c->verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (optind < argc - 1)
		return bad(usage, "unexpected argument '%s'", argv[optind + 1]);
	if (c->role == ROLE_SERVER && !c->control)
		set_str(&c->control, "/run/slopn/slopnd.sock");
	if (c->role == ROLE_CLIENT && (!c->server || !c->token))
		return bad(usage, "client: --server and --token are required");
	return 0;
}

void config_free(struct config *c)
{
	free(c->listen);
	free(c->state_dir);
	free(c->control);
	free(c->server);
	free(c->pin);
	free(c->alpn);
	free(c->token);
	free(c->tun);
}
