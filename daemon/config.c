#include "build.h"
#include "daemon/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>

#include "daemon/log.h"
#include "daemon/pool.h"
#include "proto/addr.h"
#include "proto/conf.h"
#include "proto/invite.h"
#include "proto/ipv4.h"
#include "proto/ipv6.h"
#include "proto/login.h"
#include "proto/size.h"
#include "proto/text.h"
#include "tun/statefile.h"

static const char usage_server[] =
	"Usage: slopnd server [OPTIONS]\n"
	"Run the hub: accept SloPN clients over QUIC and route their packets.\n\n"
	"  --listen ADDR:PORT     UDP address to listen on (default 0.0.0.0:4242)\n"
	"  --subnet CIDR          VPN subnet; the hub takes .1 (default 10.100.0.0/24)\n"
	"  --subnet6 PREFIX/64|none  IPv6 inside the tunnel; the hub takes ::1, a\n"
	"                         client's address mirrors its IPv4 one (default: a\n"
	"                         unique-local /64 derived from the hub's key)\n"
	"  --token TOKEN          shared token every client may log in with\n"
	"  --state-dir DIR        key, certificate and tokens (default /var/lib/slopn)\n"
	"  --tun NAME             TUN interface name (default slopn0)\n"
	"  --mtu N                TUN MTU, 576..1400 (default 1280)\n"
	"  --no-spoke-to-spoke    clients cannot reach each other\n"
	"  --control PATH         control socket (default /run/slopn/slopnd.sock)\n"
	"  --public-address HOST[:PORT]  the address clients reach, for invites\n"
	"                         (default: the --listen address)\n"
	"  --nat                  be the clients' way out: forwarding and\n"
	"                         masquerading (IPv6 too when the hub has an IPv6\n"
	"                         default route), in nftables table inet slopn_TUN\n"
	"  --egress IFACE         where NATed traffic leaves (default: the\n"
	"                         interface of the default route)\n"
	"  --nat-backend auto|nftables|iptables  how (default auto: nftables,\n"
	"                         else iptables chains SLOPN-TUN-FWD/-IN/-NAT)\n"
	"  --allow-lan CIDR       let clients reach this network beyond the VPN,\n"
	"                         IPv4 or IPv6: with --nat one of the hub's or a\n"
	"                         private one; without it any (the host forwards,\n"
	"                         unmasqueraded) (repeatable; by default none)\n"
	"  --dns IP               DNS server offered to clients at login (one IPv4\n"
	"                         and one IPv6 address at most)\n"
	"  --metrics ADDR:PORT    serve Prometheus metrics at http://ADDR:PORT/metrics\n"
	"                         (no authentication: localhost or a private address)\n"
	"  --queue-memory SIZE    memory the sessions' queues of packets waiting to be\n"
	"                         sent may take in all, 384K..64G (default 256M): a\n"
	"                         session refused a queue drops what does not fit its\n"
	"                         congestion window\n"
	"  --config FILE          key = value settings, one per flag (default\n"
	"                         /etc/slopn/slopnd.conf if it exists); flags win\n"
	"  -v, --verbose          more logging (twice for QUIC internals)\n"
	"  -h, --help             this text\n";

static const char usage_client[] =
	"Usage: slopnd client --server HOST:PORT --token TOKEN [OPTIONS]\n"
	"       slopnd client slopn://TOKEN@HOST:PORT?pin=sha256:HEX [OPTIONS]\n"
	"Connect to a hub and carry this machine's VPN traffic through it.\n\n"
	"  --invite URL           an invite from 'slopnctl token add': hub, token and pin\n"
	"  --server HOST:PORT     the hub (port defaults to 4242)\n"
	"  --token TOKEN          login token\n"
	"  --pin sha256:HEX       refuse a hub whose public key does not match\n"
	"  --tun NAME             TUN interface name (default slopn0)\n"
	"  --control PATH         control socket for slopnctl status (default: none)\n"
	"  --mtu N                TUN MTU, 576..1400 (default 1280)\n"
	"  --full-tunnel          send all traffic through the hub (two /1 routes;\n"
	"                         the default route stays, a host route keeps the hub)\n"
	"  --kill-switch          with --full-tunnel: while slopnd runs, nothing leaves\n"
	"                         but through the tunnel or to the hub, also while it\n"
	"                         reconnects (nftables table inet slopnks_TUN)\n"
	"  --kill-switch-only     put the kill switch in and exit, without connecting:\n"
	"                         at boot before the network (slopnd-killswitch@);\n"
	"                         the client's start takes it over\n"
	"  --allow-lan CIDR       with --kill-switch: a network still reached outside\n"
	"                         the tunnel, such as the LAN's printer (repeatable,\n"
	"                         IPv4 or IPv6)\n"
	"  --no-route             leave routing alone, even the VPN subnet's route\n"
	"  --accept-dns           use the hub's DNS server while connected\n"
	"  --resolv-conf FILE     the file --accept-dns rewrites and restores\n"
	"                         (default /etc/resolv.conf)\n"
	"  --state-dir DIR        the client's id (which gets it its addresses back)\n"
	"                         and --accept-dns' copy of resolv.conf\n"
	"                         (default /var/lib/slopn)\n"
	"  --config FILE          key = value settings, one per flag; flags win\n"
	"  --alpn PROTO           offer another ALPN, \"\" for none (protocol tests only)\n"
	"  -v, --verbose          more logging (twice for QUIC internals)\n"
	"  -h, --help             this text\n";

static const char usage_pin[] =
	"Usage: slopnd pin [--state-dir DIR] [--config FILE]\n"
	"Print the hub's public-key pin (sha256:HEX), creating the key if needed.\n"
	"The state directory is the hub's: --state-dir, else state_dir in its\n"
	"config file (default /etc/slopn/slopnd.conf if it exists), else\n"
	"/var/lib/slopn.\n";

static const char usage_top[] =
	"Usage: slopnd server|client|pin [OPTIONS]   (slopnd ROLE --help for details)\n"
	"       slopnd --version\n";

enum {
	OPT_LISTEN = 256, OPT_SUBNET, OPT_SUBNET6, OPT_TOKEN, OPT_STATE_DIR, OPT_TUN, OPT_MTU,
	OPT_NO_S2S, OPT_SERVER, OPT_PIN, OPT_ALPN, OPT_CONTROL, OPT_CONFIG,
	OPT_PUBLIC_ADDRESS, OPT_INVITE, OPT_NAT, OPT_EGRESS, OPT_NAT_BACKEND, OPT_ALLOW_LAN, OPT_DNS,
	OPT_FULL_TUNNEL, OPT_KILL_SWITCH, OPT_KILL_SWITCH_ONLY, OPT_NO_ROUTE, OPT_ACCEPT_DNS,
	OPT_RESOLV_CONF, OPT_METRICS, OPT_QUEUE_MEMORY,
};

/* The values of --nat-backend, by enum nat_backend: for the parser and
 * for shell completion (__flags). */
static const char *const nat_backends[] = {[NAT_AUTO] = "auto", [NAT_NFTABLES] = "nftables",
                                           [NAT_IPTABLES] = "iptables"};
#define NAT_BACKENDS (sizeof(nat_backends) / sizeof(*nat_backends))

static const struct option server_opts[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"subnet", required_argument, NULL, OPT_SUBNET},
	{"subnet6", required_argument, NULL, OPT_SUBNET6},
	{"token", required_argument, NULL, OPT_TOKEN},
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"tun", required_argument, NULL, OPT_TUN},
	{"mtu", required_argument, NULL, OPT_MTU},
	{"no-spoke-to-spoke", no_argument, NULL, OPT_NO_S2S},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"control", required_argument, NULL, OPT_CONTROL},
	{"public-address", required_argument, NULL, OPT_PUBLIC_ADDRESS},
	{"nat", no_argument, NULL, OPT_NAT},
	{"egress", required_argument, NULL, OPT_EGRESS},
	{"nat-backend", required_argument, NULL, OPT_NAT_BACKEND},
	{"allow-lan", required_argument, NULL, OPT_ALLOW_LAN},
	{"dns", required_argument, NULL, OPT_DNS},
	{"metrics", required_argument, NULL, OPT_METRICS},
	{"queue-memory", required_argument, NULL, OPT_QUEUE_MEMORY},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static const struct option client_opts[] = {
	{"invite", required_argument, NULL, OPT_INVITE},
	{"server", required_argument, NULL, OPT_SERVER},
	{"token", required_argument, NULL, OPT_TOKEN},
	{"pin", required_argument, NULL, OPT_PIN},
	{"tun", required_argument, NULL, OPT_TUN},
	{"alpn", required_argument, NULL, OPT_ALPN},
	{"mtu", required_argument, NULL, OPT_MTU},
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"full-tunnel", no_argument, NULL, OPT_FULL_TUNNEL},
	{"kill-switch", no_argument, NULL, OPT_KILL_SWITCH},
	{"kill-switch-only", no_argument, NULL, OPT_KILL_SWITCH_ONLY},
	{"allow-lan", required_argument, NULL, OPT_ALLOW_LAN},
	{"no-route", no_argument, NULL, OPT_NO_ROUTE},
	{"accept-dns", no_argument, NULL, OPT_ACCEPT_DNS},
	{"resolv-conf", required_argument, NULL, OPT_RESOLV_CONF},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"control", required_argument, NULL, OPT_CONTROL},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static const struct option pin_opts[] = {
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = strdup(src);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Where the setting being applied came from, for messages: NULL for the
 * command line, else "FILE:LINE"; what it is called there ("--mtu" or
 * "mtu"), NULL when the message is not about one setting; and the role,
 * for the pointer to its help. */
static const char *origin, *setting;
static const char *role_name = "server";
/* The config file, for errors about settings together (--kill-switch
 * without --full-tunnel): either may have come from it. */
static const char *both_from;

char config_error[512];
bool config_quiet;

/* A message into out with its control characters escaped (text_escape):
 * it quotes values from the config file or the command line, and goes to
 * a terminal or the journal, where an escape sequence would act. */
static void escaped(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void escaped(char *out, size_t size, const char *fmt, ...)
{
	char raw[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	text_escape(out, size, raw, strlen(raw));
}

/* A config error: kept in config_error and said on stderr. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char msg[sizeof(config_error)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	text_escape(config_error, sizeof(config_error), msg, strlen(msg));
	if (!config_quiet)
		log_err("%s", config_error);
}

/* One line, "slopnd: [FILE:LINE: ][SETTING ]problem", and on the command
 * line a pointer to the help. Returns -1. */
static int bad(const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	escaped(config_error, sizeof(config_error), "%s%s%s%s%s", origin ? origin : "",
	        origin ? ": " : "", setting ? setting : "",
	        !setting ? "" : fmt[0] == '\'' ? " " : ": ", msg);
	/* Through the logger: "error:", and the priority the journal files
	 * it under (journalctl -p err); the pointer to help is no error. */
	if (!config_quiet)
		log_err("%s", config_error);
	if (!origin && both_from)
		fprintf(stderr, "Settings come from %s and the command line; try 'slopnd %s --help'.\n",
		        both_from, role_name);
	else if (!origin)
		fprintf(stderr, "Try 'slopnd %s --help'.\n", role_name);
	return -1;
}

/* Said once, at start, of a setting that works but may not be what was meant. */
static void warn_setting(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn_setting(const char *fmt, ...)
{
	char msg[400], line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	escaped(line, sizeof(line), "%s%s%s%s%s", origin ? origin : "", origin ? ": " : "",
	        setting ? setting : "", setting ? " " : "", msg);
	log_warn("%s", line);
}

int split_host_port(const char *s, char **host, char **port)
{
	return host_port_split(s, DEFAULT_PORT, host, port);
}

/* IPv6 literals that cannot serve as written. [::ffff:192.0.2.1] reaches
 * the hub over IPv4, but the host route, the kill switch and the path
 * checks would be made for IPv6: none would hold (and a hub told so would
 * listen and write invites in the form it refuses). fe80::1 (link) is on
 * every link: without its interface ([fe80::1%eth0]) no packet can leave
 * for it (EINVAL at each attempt). */
static int check_v6_literal(const char *v, bool link)
{
	char *h, *p;
	struct in6_addr a;
	if (split_host_port(v, &h, &p) < 0)
		return 0;
	int rv = 0;
	char v4[INET_ADDRSTRLEN];
	bool v6 = inet_pton(AF_INET6, h, &a) == 1;
	if (v6 && IN6_IS_ADDR_V4MAPPED(&a))
		rv = bad("'%s': an IPv4 address written as IPv6; give it as IPv4 (%s)", v,
		         inet_ntop(AF_INET, a.s6_addr + 12, v4, sizeof(v4)));
	else if (v6 && link && IN6_IS_ADDR_LINKLOCAL(&a))
		rv = bad("'%s': a link-local address, on every link: give the interface it is on "
		         "too, such as [%s%%eth0]:%s", v, h, p);
	free(h);
	free(p);
	return rv;
}

/* HOST:PORT that did not split: an IPv6 address without its brackets is
 * the likely mistake (its colons read as the port's). Only for what is
 * an IPv6 address: a URL or an invite has colons too. */
static int bad_hostport(const char *v, const char *expected)
{
	struct in6_addr a;
	if (*v == '[' || inet_pton(AF_INET6, v, &a) != 1)
		return bad("'%s': expected %s", v, expected);
	/* 2001:db8::1:4242 is an address too: its last group may be meant as
	 * the port. */
	const char *colon = strrchr(v, ':'), *last = colon + 1;
	char head[INET6_ADDRSTRLEN];
	size_t hl = (size_t)(colon - v);
	if (*last && strspn(last, "0123456789") == strlen(last) && hl < sizeof(head)) {
		memcpy(head, v, hl);
		head[hl] = '\0';
		if (inet_pton(AF_INET6, head, &a) == 1)
			return bad("'%s': an IPv6 address goes in brackets: [%s]:%s if %s is the port, "
			           "else [%s]:PORT", v, head, last, last, v);
	}
	return bad("'%s': an IPv6 address goes in brackets: [%s]:PORT", v, v);
}

static int check_hostport(const char *v)
{
	char *h, *p;
	if (split_host_port(v, &h, &p) < 0)
		return bad_hostport(v, "HOST:PORT");
	/* Digits only: strtol's sign and spaces would reach getaddrinfo. */
	bool ok = port_parse(p, strlen(p)) > 0;
	free(h);
	free(p);
	if (!ok)
		return bad("'%s': the port must be a number from 1 to 65535, digits only", v);
	return 0;
}

/* A TUN name the kernel takes (its dev_valid_name(), and one %d for the
 * number it picks): what it refuses comes back from TUNSETIFF as EINVAL,
 * which also means a name in use by an interface of another kind. */
static int check_ifname(const char *v)
{
	if (!*v || strlen(v) >= 16)
		return bad("'%s': interface names are 1..15 bytes", v);
	if (!strcmp(v, ".") || !strcmp(v, ".."))
		return bad("'%s': not an interface name (. and .. are not)", v);
	/* The kernel's isspace() also takes 0xa0 (in UTF-8: NBSP, à, ...). */
	for (const char *p = v; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) || (unsigned char)*p == 0xa0)
			return bad("'%s': interface names cannot hold '/', ':' or spaces", v);
	const char *pct = strchr(v, '%');
	if (pct && (strncmp(pct, "%d", 2) || strchr(pct + 2, '%')))
		return bad("'%s': '%%' only as one %%d, for the number the kernel picks (such as "
		           "slopn%%d)", v);
	return 0;
}

/* One setting, from the command line or the config file. 0 or -1. */
/* A token a login of ours can carry, whole: the client's own, or the
 * hub's shared one (which its clients must send). Never cut short. */
static int check_token(const char *t)
{
	size_t len = strlen(t), plain = text_plain(t, len);
	if (!len)
		return bad("must not be empty");
	/* A login carries it as a JSON string: text, or no login ever goes. */
	if (plain < len)
		return bad("byte %zu is a control character or not UTF-8 text", plain + 1);
	if (!slopn_login_token_fits(t))
		return bad("%zu bytes, more than a login carries: at most %zu (each \" or \\ "
		           "counts twice)", len, slopn_login_token_room());
	return 0;
}

static int apply(struct config *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_LISTEN:
		if (check_hostport(arg) < 0 || check_v6_literal(arg, false) < 0)
			return -1;
		if (host_port_has_port(arg)) {
			set_str(&c->listen, arg);
			break;
		}
		warn_setting("'%s' has no port: listening on port %s", arg, DEFAULT_PORT);
		free(c->listen);
		if (asprintf(&c->listen, "%s:%s", arg, DEFAULT_PORT) < 0)
			c->listen = NULL;
		break;
	case OPT_SUBNET: {
		_Static_assert(POOL_MIN_PREFIX >= SLOPN_PREFIX_MIN && POOL_MAX_PREFIX <= 30,
		               "clients take what --subnet gives");
		if (parse_cidr(arg, &c->subnet, &c->prefix) < 0 ||
		    c->prefix < POOL_MIN_PREFIX || c->prefix > POOL_MAX_PREFIX)
			return bad("'%s': expected an IPv4 CIDR from /16 to /29", arg);
		/* parse_cidr keeps the network part: 10.100.0.5/24 would quietly be
		 * 10.100.0.0/24, likely not what was meant. */
		char given[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];
		struct in_addr a, n = {htonl(c->subnet)};
		snprintf(given, sizeof(given), "%.*s", (int)strcspn(arg, "/"), arg);
		if (inet_pton(AF_INET, given, &a) == 1 && ntohl(a.s_addr) != c->subnet)
			return bad("'%s': host bits are set (the network is %s/%u)", arg,
			           inet_ntop(AF_INET, &n, net, sizeof(net)), c->prefix);
		/* Clients refuse VIPs there (proto/login.c). */
		if (!ipv4_unicast(htonl(c->subnet)))
			return bad("'%s': not a unicast network (0/8, 127/8 and 224/3 cannot hold VPN "
			           "addresses)", arg);
		break;
	}
	case OPT_SUBNET6: {
		struct cidr6 c6;
		char fix[INET6_ADDRSTRLEN];
		if (!strcmp(arg, "none")) {
			c->subnet6_mode = SUBNET6_NONE;
			break;
		}
		int r = parse_cidr6(arg, &c6);
		if (r < 0 || c6.prefix != 64)
			return bad("'%s': expected an IPv6 /64 such as fd00:1:2:3::/64, or none", arg);
		if (r > 0)
			return bad("'%s': host bits are set (the network is %s/64)", arg,
			           inet_ntop(AF_INET6, c6.net, fix, sizeof(fix)));
		if (ipv6_link_scoped(c6.net)) /* multicast, fe80::/10, or ::/64 */
			return bad("'%s': not a unicast network for global or unique local addresses "
			           "(such as fd00:1:2:3::/64)", arg);
		c->subnet6_mode = SUBNET6_GIVEN;
		memcpy(c->subnet6, c6.net, 8);
		break;
	}
	case OPT_TOKEN:
		if (check_token(arg) < 0)
			return -1;
		set_str(&c->token, arg);
		c->token_set = !origin;
		break;
	case OPT_STATE_DIR:
		if (!*arg)
			return bad("needs a directory");
		set_str(&c->state_dir, arg);
		break;
	case OPT_TUN:
		if (check_ifname(arg) < 0)
			return -1;
		set_str(&c->tun, arg);
		break;
	case OPT_MTU: {
		char *end;
		long v = strtol(arg, &end, 10);
		if (*end || v < MIN_MTU || v > MAX_MTU)
			return bad("'%s': must be 576..1400", arg);
		c->mtu = (unsigned)v;
		break;
	}
	case OPT_CONTROL:
		if (!*arg)
			return bad("needs a socket's path");
		set_str(&c->control, arg);
		break;
	case OPT_NO_S2S:
		c->spoke_to_spoke = false;
		break;
	case OPT_SERVER:
		if (check_hostport(arg) < 0 || check_v6_literal(arg, true) < 0)
			return -1;
		set_str(&c->server, arg);
		c->server_set = !origin;
		break;
	case OPT_PIN:
		if (strncmp(arg, "sha256:", 7) || strlen(arg) != 7 + 64 ||
		    strspn(arg + 7, "0123456789abcdefABCDEF") != 64)
			return bad("'%s': expected sha256: and 64 hex digits (see 'slopnd pin' on the hub)", arg);
		set_str(&c->pin, arg);
		c->pin_set = !origin;
		break;
	case OPT_ALPN:
		set_str(&c->alpn, arg);
		break;
	case OPT_PUBLIC_ADDRESS: {
		/* A port is optional here: the listen port is the default. What is
		 * given must make an invite that clients can read back. */
		char *h, *p, inv[INVITE_HOST_MAX + 128], e[160] = "";
		struct invite back;
		if (split_host_port(arg, &h, &p) < 0)
			return bad_hostport(arg, "HOST or HOST:PORT ([V6]:PORT)");
		if (check_v6_literal(arg, false) < 0) {
			free(h), free(p);
			return -1;
		}
		bool v6 = strchr(h, ':') != NULL;
		snprintf(inv, sizeof(inv), "%s%s%s:%s", v6 ? "[" : "", h, v6 ? "]" : "", p);
		free(h), free(p);
		char url[sizeof(inv) + 64];
		if (invite_format(url, sizeof(url), "t", inv, "") < 0 ||
		    invite_parse(url, &back, e, sizeof(e)) < 0)
			return bad("'%s': not usable in an invite: %s", arg,
			           e[0] ? e : "too long");
		set_str(&c->public_address, arg);
		break;
	}
	case OPT_INVITE: {
		struct invite inv;
		char err[160];
		if (invite_parse(arg, &inv, err, sizeof(err)) < 0)
			return bad("%s", err);
		/* Flags given separately win over the invite's parts. */
		if (!c->server_set)
			set_str(&c->server, inv.server);
		if (!c->token_set && check_token(inv.token) < 0) {
			gnutls_memset(inv.token, 0, sizeof(inv.token));
			return -1;
		}
		if (!c->token_set)
			set_str(&c->token, inv.token);
		if (!c->pin_set && inv.pin[0])
			set_str(&c->pin, inv.pin);
		if (inv.unknown[0])
			warn_setting("parameter '%s' is not one this slopnd knows, and is "
			             "skipped%s", inv.unknown, inv.pin[0] ? "" : " (a misspelt pin? the "
			             "hub's key is then not checked)");
		gnutls_memset(inv.token, 0, sizeof(inv.token));
		break;
	}
	case OPT_NAT:
		c->nat = true;
		break;
	case OPT_EGRESS:
		if (!*arg || strlen(arg) >= 16)
			return bad("'%s': interface names are 1..15 bytes", arg);
		set_str(&c->egress, arg);
		break;
	case OPT_NAT_BACKEND: {
		size_t i = 0;
		while (i < NAT_BACKENDS && strcmp(arg, nat_backends[i]))
			i++;
		if (i == NAT_BACKENDS)
			return bad("'%s': expected auto, nftables or iptables", arg);
		c->nat_backend = (enum nat_backend)i;
		break;
	}
	case OPT_ALLOW_LAN:
		/* A list: the command line's replaces the file's, as for other keys. */
		if (!origin && !c->allow_lan_cmdline)
			c->nallow_lan = c->nallow_lan6 = 0;
		if (!origin)
			c->allow_lan_cmdline = true;
		if (strchr(arg, ':')) {
			if (c->nallow_lan6 == MAX_ALLOW_LAN)
				return bad("at most %d IPv6 networks", MAX_ALLOW_LAN);
			/* Host bits are forgiven, as for IPv4: the network is meant. */
			if (parse_cidr6(arg, &c->allow_lan6[c->nallow_lan6]) < 0)
				return bad("'%s': expected an IPv6 CIDR such as 2001:db8:1::/48", arg);
			c->nallow_lan6++;
			break;
		}
		if (c->nallow_lan == MAX_ALLOW_LAN)
			return bad("at most %d networks", MAX_ALLOW_LAN);
		if (parse_cidr(arg, &c->allow_lan[c->nallow_lan].net,
		               &c->allow_lan[c->nallow_lan].prefix) < 0)
			return bad("'%s': expected a CIDR such as 192.168.1.0/24 or 2001:db8:1::/48", arg);
		c->nallow_lan++;
		break;
	case OPT_DNS: {
		/* A list too: one address of each family. */
		if (!origin && !c->dns_cmdline) {
			c->dns = 0;
			memset(&c->dns6, 0, sizeof(c->dns6));
		}
		if (!origin)
			c->dns_cmdline = true;
		struct in_addr a;
		struct in6_addr a6;
		bool v4 = inet_pton(AF_INET, arg, &a) == 1, v6 = !v4 && inet_pton(AF_INET6, arg, &a6) == 1;
		if ((v4 && !slopn_dns_ok4(a.s_addr)) || (v6 && !slopn_dns_ok6(&a6)))
			return bad("'%s': clients cannot ask a DNS server there (loopback would be their "
			           "own; link-local, multicast and unspecified addresses do not do): give one "
			           "they reach through the tunnel, such as the hub's VPN address", arg);
		if (v4) {
			if (c->dns)
				return bad("'%s': one IPv4 address only (and one IPv6)", arg);
			c->dns = a.s_addr;
		} else if (v6) {
			if (!IN6_IS_ADDR_UNSPECIFIED(&c->dns6))
				return bad("'%s': one IPv6 address only (and one IPv4)", arg);
			c->dns6 = a6;
		} else {
			return bad("'%s': expected an IPv4 or IPv6 address", arg);
		}
		break;
	}
	case OPT_METRICS: {
		if (check_hostport(arg) < 0)
			return -1;
		/* What the endpoint binds: a number, so that no name lookup
		 * decides which interface serves unauthenticated metrics. */
		char *h, *p;
		if (split_host_port(arg, &h, &p) < 0)
			return -1;
		struct in6_addr a;
		bool numeric = inet_pton(AF_INET, h, &a) == 1 || inet_pton(AF_INET6, h, &a) == 1;
		free(h), free(p);
		if (!numeric)
			return bad("'%s': expected an IP address and a port, such as 127.0.0.1:9342 or "
			           "[::1]:9342 (not a host name)", arg);
		if (!host_port_has_port(arg))
			return bad("'%s': give the port too, such as %s:9342", arg, arg);
		set_str(&c->metrics, arg);
		break;
	}
	case OPT_QUEUE_MEMORY: {
		uint64_t v;
		if (size_parse(arg, &v) < 0)
			return bad("'%s': expected an amount of memory such as 256M (a number of bytes, "
			           "or of K, M or G: KiB, MiB, GiB), 384K..64G", arg);
		if (v < MIN_QUEUE_MEMORY || v > MAX_QUEUE_MEMORY)
			return bad("'%s': must be 384K..64G (the least holds one session's queue: 384000 "
			           "bytes)", arg);
		c->queue_memory = v;
		break;
	}
	case OPT_FULL_TUNNEL:
		c->full_tunnel = true;
		break;
	case OPT_KILL_SWITCH:
		c->kill_switch = true;
		break;
	case OPT_KILL_SWITCH_ONLY:
		c->kill_switch_only = true;
		break;
	case OPT_NO_ROUTE:
		c->no_route = true;
		break;
	case OPT_ACCEPT_DNS:
		c->accept_dns = true;
		break;
	case OPT_RESOLV_CONF:
		if (!*arg)
			return bad("needs a file's path");
		set_str(&c->resolv_conf, arg);
		break;
	case OPT_CONFIG:
		break; /* read before everything else */
	default:
		return -1;
	}
	return 0;
}

struct load_ctx {
	struct config *c;
	const struct option *opts;
	const char *file;
	bool reported;
	bool secret; /* it sets a token or an invite */
};

static int load_setting(const char *key, const char *value, unsigned line, void *ctx,
                        char *err, size_t errlen)
{
	struct load_ctx *l = ctx;
	char name[64], where[4200];
	snprintf(name, sizeof(name), "%s", key);
	for (char *p = name; *p; p++)
		if (*p == '_')
			*p = '-';
	const struct option *o = l->opts;
	while (o->name && strcmp(o->name, name) != 0)
		o++;
	if (o->name && o->val == OPT_KILL_SWITCH_ONLY) {
		/* What one run does, not a setting: from the file, every start
		 * of the client would end at once. */
		snprintf(err, errlen, "a flag only (a run with it puts in the kill switch and exits)");
		return -1;
	}
	if (!o->name || o->val == OPT_CONFIG || o->val == 'h') {
		snprintf(err, errlen, "unknown key (the keys are the long flags of 'slopnd %s --help')",
		         l->c->role == ROLE_SERVER ? "server" : "client");
		return -1;
	}
	snprintf(where, sizeof(where), "%s:%u", l->file, line);
	if (o->val == OPT_TOKEN || o->val == OPT_INVITE)
		l->secret = true;
	if (o->has_arg == no_argument) {
		bool yes = !strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1");
		bool no = !strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0");
		if (!yes && !no) {
			snprintf(err, errlen, "expected yes or no (or true or false, 1 or 0), not '%s'",
			         value);
			return -1;
		}
		if (yes && o->val == 'v')
			l->c->verbose++;
		else if (yes && apply(l->c, o->val, NULL) < 0)
			return -1;
		return 0;
	}
	if (!*value) {
		snprintf(err, errlen, "needs a value");
		return -1;
	}
	origin = where, setting = key;
	/* Only a line that starts with '#' is a comment: one after a value is
	 * the value's, which for a token is a token that no client has. A
	 * secret is not shown. */
	const char *hash = strchr(value, '#');
	if (hash && hash > value && (hash[-1] == ' ' || hash[-1] == '\t'))
		warn_setting("'%s': the '#' and what follows are part of the value, not a comment (a "
		             "comment goes on a line of its own)",
		             o->val == OPT_TOKEN || o->val == OPT_INVITE ? "..." : value);
	int rv = apply(l->c, o->val, value);
	origin = setting = NULL;
	if (rv < 0)
		l->reported = true;
	return rv;
}

/* FILE's text into buf (64 KiB at most), its mode into *mode. 0, or -1
 * said on stderr. */
static int config_read(const char *file, char *buf, size_t size, size_t *len, mode_t *mode)
{
	/* Not blocking: the open of a FIFO waits for a writer, which held the
	 * start, and a SIGHUP's reload held the hub's event loop. */
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	const char *why = fd < 0 ? strerror(errno) : statefile_not_regular(fd, &st);
	if (why) {
		/* A directory reads as an error, a FIFO may never end. */
		if (fd >= 0 && (errno == EISDIR || errno == EINVAL))
			say("config %s is not a file (%s): give the file of settings", file,
			    errno == EISDIR ? "a directory" : "a device, pipe or socket");
		else
			say("cannot read config %s: %s", file, why);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ssize_t n = 0;
	*len = 0;
	while (*len < size && (n = read(fd, buf + *len, size - *len)) > 0)
		*len += (size_t)n;
	int e = errno;
	close(fd);
	if (n < 0) {
		say("cannot read config %s: %s", file, strerror(e));
		return -1;
	}
	if (*len == size) {
		say("config %s is larger than 64 KiB", file);
		return -1;
	}
	*mode = st.st_mode;
	return 0;
}

/* Read FILE into c. Errors name the file, the line and the key. */
static int config_load(struct config *c, const char *file)
{
	char buf[64 * 1024];
	size_t len;
	mode_t mode;
	if (config_read(file, buf, sizeof(buf), &len, &mode) < 0)
		return -1;
	struct load_ctx l = {.c = c, .file = file,
	                     .opts = c->role == ROLE_SERVER ? server_opts : client_opts};
	char err[512];
	unsigned line;
	if (conf_parse(buf, len, load_setting, &l, err, sizeof(err), &line) < 0) {
		if (!l.reported)
			say("%s:%u: %s", file, line, err);
		return -1;
	}
	/* A token is a password: said at each start, not refused, so that a
	 * machine set up before this check still connects. */
	if (l.secret && (mode & (S_IRGRP | S_IROTH)))
		log_warn("%s holds a token and %s may read it (mode %04o): chmod 600 %s", file,
		         mode & S_IROTH ? "every user" : "its group", (unsigned)(mode & 07777), file);
	return 0;
}

/* slopnd pin: the hub's state directory from its config file, its one
 * setting that matters here; the rest is the hub's to check. */
static int pin_setting(const char *key, const char *value, unsigned line, void *ctx, char *err,
                       size_t errlen)
{
	(void)line, (void)err, (void)errlen;
	if (!strcmp(key, "state_dir") || !strcmp(key, "state-dir"))
		set_str(ctx, value);
	return 0;
}

static int config_load_pin(struct config *c, const char *file)
{
	char buf[64 * 1024], err[512];
	size_t len;
	mode_t mode;
	unsigned line;
	if (config_read(file, buf, sizeof(buf), &len, &mode) < 0)
		return -1;
	if (conf_parse(buf, len, pin_setting, &c->state_dir, err, sizeof(err), &line) < 0) {
		say("%s:%u: %s", file, line, err);
		return -1;
	}
	if (!*c->state_dir) {
		say("%s: state_dir needs a value", file);
		return -1;
	}
	return 0;
}

/* For shell completion, from the tables getopt uses, so that completions
 * never drift from the code: after a flag of ROLE that takes a value, that
 * flag's fixed values (none for a free one, such as an address); after
 * anything else, ROLE's long flags; without a role, the roles. */
static void print_flags(const char *role, const char *prev)
{
	const struct option *opts = !strcmp(role, "server") ? server_opts
	                          : !strcmp(role, "client") ? client_opts
	                          : !strcmp(role, "pin") ? pin_opts : NULL;
	if (!opts) {
		puts("server\nclient\npin\n--help\n--version");
		return;
	}
	const struct option *o = opts;
	while (o->name && (strncmp(prev, "--", 2) || strcmp(prev + 2, o->name)))
		o++;
	if (o->name && o->has_arg != no_argument) {
		if (o->val == OPT_NAT_BACKEND)
			for (size_t i = 0; i < NAT_BACKENDS; i++)
				puts(nat_backends[i]);
		else if (o->val == OPT_SUBNET6)
			puts("none");
		return;
	}
	for (o = opts; o->name; o++)
		printf("--%s\n", o->name);
}

int config_parse(struct config *c, int argc, char **argv)
{
	memset(c, 0, sizeof(*c));
	both_from = NULL;
	config_error[0] = '\0';
	c->spoke_to_spoke = true;
	c->mtu = DEFAULT_MTU;
	c->queue_memory = DEFAULT_QUEUE_MEMORY;
	/* For a kernel without TUN offloads or UDP GSO/GRO, and for testing
	 * the paths without them (slopnd(8), ENVIRONMENT). */
	const char *off = getenv("SLOPN_OFFLOADS");
	c->offloads = !off || strcmp(off, "off") != 0;
	const char *ring = getenv("SLOPN_URING");
	c->tun_ring = !ring || strcmp(ring, "off") != 0;
	set_str(&c->listen, "0.0.0.0:" DEFAULT_PORT);
	set_str(&c->state_dir, DEFAULT_STATE_DIR);
	set_str(&c->tun, DEFAULT_TUN);
	set_str(&c->resolv_conf, DEFAULT_RESOLV_CONF);
	parse_cidr(DEFAULT_SUBNET, &c->subnet, &c->prefix);

	c->argc = argc;
	c->argv = argv;
	if (argc < 2) {
		fputs(usage_top, stderr);
		return -1;
	}
	const char *role = argv[1];
	const struct option *opts;
	const char *usage;
	role_name = role;
	if (!strcmp(role, "server")) {
		c->role = ROLE_SERVER, opts = server_opts, usage = usage_server;
	} else if (!strcmp(role, "client")) {
		c->role = ROLE_CLIENT, opts = client_opts, usage = usage_client;
	} else if (!strcmp(role, "pin")) {
		c->role = ROLE_PIN, opts = pin_opts, usage = usage_pin;
	} else if (!strcmp(role, "-h") || !strcmp(role, "--help") || !strcmp(role, "help")) {
		fputs(usage_top, stdout);
		return 1;
	} else if (!strcmp(role, "__flags")) {
		print_flags(argc > 2 ? argv[2] : "", argc > 3 ? argv[3] : "");
		return 1;
	} else if (!strcmp(role, "--version")) {
		puts("slopnd " SLOPN_VERSION " (build " SLOPN_BUILD ")");
		return 1;
	} else if (role[0] == '-') {
		/* An option before the role (slopnd -v server): where it goes. */
		const char *later = NULL;
		for (int i = 2; i < argc && !later; i++)
			if (!strcmp(argv[i], "server") || !strcmp(argv[i], "client") || !strcmp(argv[i], "pin"))
				later = argv[i];
		if (later)
			say("option '%s' before the role: the role comes first (slopnd %s %s ...)", role,
			    later, role);
		else
			say("option '%s' where the role goes: give the role first", role);
		fputs(usage_top, stderr);
		return -1;
	} else {
		say("unknown role '%s'", role);
		fputs(usage_top, stderr);
		return -1;
	}

	/* getopt sees the role as its argv[0]; it reports nothing itself:
	 * its messages would be "server: ...". */
	char **av = argv + 1;
	int opt, idx;
	opterr = 0;

	/* The config file first, so that the command line wins: a first pass
	 * finds --config as getopt does (--conf FILE too) and --help, which a
	 * broken file must not hide; the second reports what is wrong. */
	const char *file = NULL;
	optind = 0; /* a full restart: SIGHUP parses again */
	while ((opt = getopt_long(argc - 1, av, ":vh", opts, &idx)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (opt == OPT_CONFIG)
			file = optarg;
	}
	if (!file && c->role != ROLE_CLIENT && access(DEFAULT_CONFIG, F_OK) == 0)
		file = DEFAULT_CONFIG;
	if (file && c->role == ROLE_PIN && config_load_pin(c, file) < 0)
		return -1;
	if (file && c->role != ROLE_PIN) {
		set_str(&c->config, file);
		if (config_load(c, file) < 0)
			return -1;
	}

	optind = 0;
	while ((opt = getopt_long(argc - 1, av, ":vh", opts, &idx)) != -1) {
		if (opt == '?' && optopt > ' ' && optopt < 127)
			return bad("unknown option '-%c'", optopt);
		if (opt == '?')
			return bad("unknown option '%s'", av[optind - 1]);
		if (opt == ':')
			return bad("%s needs a value", av[optind - 1]);
		/* "--control --help": a forgotten value, unless written --control=--help. */
		if (optarg && av[optind - 1] == optarg &&
		    (!strncmp(optarg, "--", 2) || !strcmp(optarg, "-h") || !strcmp(optarg, "-v")))
			return bad("%s needs a value, not the option '%s' (write %s=VALUE to mean it)",
			           av[optind - 2], optarg, av[optind - 2]);
		if (opt == 'v') {
			c->verbose++;
		} else if (opt == 'h') {
			fputs(usage, stdout);
			return 1;
		} else {
			char word[64];
			snprintf(word, sizeof(word), "--%s", opts[idx].name);
			setting = word;
			int rv = apply(c, opt, optarg);
			setting = NULL;
			if (rv < 0)
				return -1;
		}
	}
	/* slopnd client slopn://...: the invite as the one argument. */
	if (c->role == ROLE_CLIENT && optind == argc - 2 &&
	    !strncasecmp(argv[optind + 1], INVITE_SCHEME, strlen(INVITE_SCHEME))) {
		setting = "invite";
		int rv = apply(c, OPT_INVITE, argv[optind + 1]);
		setting = NULL;
		if (rv < 0)
			return -1;
		optind++;
	}
	if (optind < argc - 1) {
		/* A client's hub given without its flag: say which flag. */
		const char *a = argv[optind + 1];
		/* An invite with more after it: the more is what is wrong, not
		 * the invite. */
		bool after = c->role == ROLE_CLIENT && optind < argc - 2 &&
		             !strncasecmp(a, INVITE_SCHEME, strlen(INVITE_SCHEME));
		if (after)
			a = argv[optind + 2];
		const char *where = after ? " after the invite" : "";
		char *h, *p;
		bool hub = c->role == ROLE_CLIENT && *a != '-' && split_host_port(a, &h, &p) == 0;
		if (hub) {
			hub = strchr(h, '.') || strchr(h, ':') || host_port_has_port(a);
			free(h), free(p);
		}
		if (hub)
			return bad("unexpected argument '%s'%s (the hub? give --server %s)", a, where, a);
		/* A link of another scheme where the invite goes. */
		if (c->role == ROLE_CLIENT && !after && strstr(a, "://"))
			return bad("unexpected argument '%s' (an invite starts with %s)", a, INVITE_SCHEME);
		return bad("unexpected argument '%s'%s", a, where);
	}
	both_from = c->config;
	/* Room for the names of the files in it (client-TUN.id, a .tmp beside
	 * tokens.json) within PATH_MAX, where they are made. */
	if (c->state_dir && strlen(c->state_dir) > STATE_DIR_MAX)
		return bad("the state directory's path is %zu characters long, more than the %d that "
		           "leave room for its files' names: choose a shorter one (--state-dir)",
		           strlen(c->state_dir), STATE_DIR_MAX);
	if (c->role == ROLE_SERVER && !c->control)
		set_str(&c->control, "/run/slopn/slopnd.sock");
	if (c->role == ROLE_CLIENT && !c->server && !c->token)
		return bad("no hub given: give an invite (slopnd client 'slopn://...') or --server "
		           "HOST:PORT and --token TOKEN");
	if (c->role == ROLE_CLIENT && !c->token)
		return bad("no --token TOKEN for the hub %s (or give an invite: slopnd client "
		           "'slopn://...')", c->server);
	if (c->role == ROLE_CLIENT && !c->server)
		return bad("--token but no hub: give --server HOST:PORT (or an invite: slopnd client "
		           "'slopn://...')");
	if (c->role == ROLE_CLIENT && c->full_tunnel && c->no_route)
		return bad("--full-tunnel and --no-route contradict each other: choose one");
	/* Without the full tunnel's routes, traffic beyond the VPN would only
	 * ever leave outside it: the switch would cut the machine off. */
	if (c->role == ROLE_CLIENT && c->kill_switch && !c->full_tunnel)
		return bad("--kill-switch needs --full-tunnel (it drops what does not go through the "
		           "tunnel, and without --full-tunnel only the VPN subnet does)");
	if (c->role == ROLE_CLIENT && c->kill_switch_only && !c->kill_switch)
		return bad("--kill-switch-only puts in the kill switch of a client with --kill-switch "
		           "(and --full-tunnel): this one has none");
	if (c->role == ROLE_CLIENT && !c->kill_switch && (c->nallow_lan || c->nallow_lan6))
		return bad("--allow-lan on a client only means something with --kill-switch (without "
		           "it, the machine's own networks are reached outside the tunnel anyway)");
	if (c->role == ROLE_SERVER && !c->nat && (c->egress || c->nat_backend))
		return bad("--egress and --nat-backend only mean something with --nat");
	return 0;
}

void config_free(struct config *c)
{
	free(c->listen);
	free(c->state_dir);
	free(c->control);
	free(c->config);
	free(c->server);
	free(c->pin);
	free(c->alpn);
	free(c->token);
	free(c->tun);
	free(c->public_address);
	free(c->egress);
	free(c->resolv_conf);
	free(c->metrics);
}
