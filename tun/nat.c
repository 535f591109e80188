/* NAT and isolation for the hub, in a table of our own. The ruleset is
 * built as nft text and run as one transaction, so the table is replaced
 * whole or not at all. */
#include "tun/nat.h"
#include "tun/statefile.h"
#include "proto/natstate.h"
#include "proto/nftnat.h"
#include "tun/nat_iptables.h"
#include "tun/nft.h"
#include "tun/outbuf.h"
#include "proto/ipv6.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"
#define IP6_FORWARD "/proc/sys/net/ipv6/conf/all/forwarding"
/* Before a masquerade rule's copy of the state file (another hub reads it). */
#define NAT_BEFORE_TAG "slopn sysctls before: "
#define IP_REDIRECTS "/proc/sys/net/ipv4/conf/all/accept_redirects"

#define NAT_PREFIX "slopn_"

void nat_table_name(const char *tun, char *buf, size_t len)
{
	nft_table_name(NAT_PREFIX, tun, buf, len);
}

const char *nat_backend_name(enum nat_backend b)
{
	return b == NAT_IPTABLES ? "iptables" : b == NAT_NFTABLES ? "nftables" : "auto";
}

/* Interface names go into the rules: only plain ones, those the state
 * file takes (one of them goes there). */
bool nat_ifname_ok(const char *s)
{
	return natstate_ifname_ok(s);
}

bool nat_forwards6(const struct nat_rules *r)
{
	return r->has6 && (r->egress6 || r->nallow6);
}

void nat_put_set(struct outbuf *o, const struct cidr4 *c4, const struct cidr6 *c6, size_t n)
{
	outbuf_printf(o, "{ ");
	for (size_t i = 0; i < n; i++) {
		char a[INET6_ADDRSTRLEN];
		if (c6) {
			outbuf_printf(o, "%s%s/%u", i ? ", " : "", inet_ntop(AF_INET6, c6[i].net, a, sizeof(a)),
			              c6[i].prefix);
			continue;
		}
		uint32_t v = c4[i].net;
		outbuf_printf(o, "%s%u.%u.%u.%u/%u", i ? ", " : "", v >> 24, (v >> 16) & 255,
		              (v >> 8) & 255, v & 255, c4[i].prefix);
	}
	outbuf_printf(o, " }");
}

/* A route leads to a network of the hub's own when it needs no gateway (a
 * LAN beside the hub with no address of the hub's on it, as a cloud's /32
 * with its subnet on-link), or when its destination is private address
 * space (a VPC or an office network behind a router of the hub's). Routes
 * shorter than /8 (IPv6: /16) are ways out, not networks: a default route,
 * the halves of a full tunnel of another VPN the hub itself goes out by. */
bool nat_route_closes(const struct nl_route *r, int tun_ifindex, bool v6)
{
	if (r->ifindex == tun_ifindex || r->prefix < (v6 ? 16u : 8u))
		return false;
	if (v6)
		return !ipv6_link_scoped(r->dst) && (!r->via || (r->dst[0] & 0xfe) == 0xfc);
	uint32_t h = (uint32_t)r->dst[0] << 24 | (uint32_t)r->dst[1] << 16 | (uint32_t)r->dst[2] << 8 |
	             r->dst[3];
	bool private = h >> 24 == 10 || h >> 20 == 0xac1 || h >> 16 == 0xc0a8 ||
	               h >> 22 == (100u << 2 | 1u); /* 10/8, 172.16/12, 192.168/16, 100.64/10 */
	return h >> 24 != 127 && (!r->via || private);
}

/* Whether network outer holds network inner. */
static bool holds4(const void *outer, const void *inner)
{
	const struct cidr4 *o = outer, *i = inner;
	uint32_t m = o->prefix ? ~0u << (32 - o->prefix) : 0;
	return o->prefix <= i->prefix && (i->net & m) == o->net;
}

static bool holds6(const void *outer, const void *inner)
{
	const struct cidr6 *o = outer, *i = inner;
	return o->prefix <= i->prefix && addr_same_prefix(i->net, o->net, o->prefix);
}

/* Without the networks that lie inside another of the list (the route of
 * an address's own prefix, a /32 inside its LAN): a shorter ruleset, the
 * same closure. Of two equal ones the first stays. The new count. */
static size_t minimal(void *list, size_t n, size_t size, bool (*holds)(const void *, const void *))
{
	uint8_t *c = list;
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		bool inside = false;
		for (size_t j = 0; j < n && !inside; j++)
			inside = j != i && holds(c + j * size, c + i * size) &&
			         (j < i || !holds(c + i * size, c + j * size));
		if (!inside)
			memmove(c + out++ * size, c + i * size, size);
	}
	return out;
}

size_t nat_minimal4(struct cidr4 *c, size_t n)
{
	return minimal(c, n, sizeof(*c), holds4);
}

size_t nat_minimal6(struct cidr6 *c, size_t n)
{
	return minimal(c, n, sizeof(*c), holds6);
}

/* One rule a line: "\t\t[iifname|oifname "tun"] ip[6] daddr|saddr SET verdict". */
static void set_rule(struct outbuf *o, const char *dir, const char *tun, const char *match,
                     const struct cidr4 *c4, const struct cidr6 *c6, size_t n, const char *verdict)
{
	if (!n)
		return;
	outbuf_printf(o, "\t\t%s \"%s\" %s ", dir, tun, match);
	nat_put_set(o, c4, c6, n);
	outbuf_printf(o, " %s\n", verdict);
}

/* From the TUN: the VPN's subnets and the --allow-lan networks accepted,
 * the --dns servers at port 53, then the hub's own networks dropped. The
 * forward chain's (other hosts of those networks) and the input chain's
 * (the hub's own addresses there: a service on its LAN address only is not
 * for clients). */
static void closed_rules(struct outbuf *o, const struct nat_rules *r)
{
	const char *tun = r->tun;
	bool six = r->has6;
	/* The VPN's own subnets first: private space, which the drops close. */
	set_rule(o, "iifname", tun, "ip daddr", &r->subnet, NULL, 1, "accept");
	set_rule(o, "iifname", tun, "ip6 daddr", NULL, &r->subnet6, six ? 1 : 0, "accept");
	set_rule(o, "iifname", tun, "ip daddr", r->allow, NULL, r->nallow, "accept");
	set_rule(o, "iifname", tun, "ip6 daddr", NULL, r->allow6, six ? r->nallow6 : 0, "accept");
	set_rule(o, "iifname", tun, "ip daddr", r->dns, NULL, r->ndns,
	         "meta l4proto { tcp, udp } th dport 53 accept");
	set_rule(o, "iifname", tun, "ip6 daddr", NULL, r->dns6, six ? r->ndns6 : 0,
	         "meta l4proto { tcp, udp } th dport 53 accept");
	set_rule(o, "iifname", tun, "ip daddr", r->local, NULL, r->nlocal, "drop");
	set_rule(o, "iifname", tun, "ip6 daddr", NULL, r->local6, six ? r->nlocal6 : 0, "drop");
}

/* Our tables for tun gone, in both families (an ip one is what an older
 * slopnd made), also under the name an older one gave: each added first,
 * so that the delete cannot fail. */
static void put_drop_tables(struct outbuf *o, const char *tun)
{
	char t[NFT_TABLE_NAME_MAX];
	nat_table_name(tun, t, sizeof(t));
	outbuf_printf(o, "add table ip %s\ndelete table ip %s\n", t, t);
	outbuf_printf(o, "add table inet %s\ndelete table inet %s\n", t, t);
	if (nft_table_name_old(NAT_PREFIX, tun, t, sizeof(t))) {
		outbuf_printf(o, "add table ip %s\ndelete table ip %s\n", t, t);
		outbuf_printf(o, "add table inet %s\ndelete table inet %s\n", t, t);
	}
}

/* The state file's text in a comment of the masquerade rule, its lines
 * ended by '/' rather than a newline (values and an interface name of
 * [A-Za-z0-9._@+-]: nothing to quote). Left as it is when the values make
 * no such text. */
static void before_comment(const struct natstate *st, char *verdict, size_t len)
{
	char t[NATSTATE_TEXT_MAX];
	if (natstate_format(t, sizeof(t), st) < 0)
		return;
	for (char *p = t; *p; p++)
		if (*p == '\n')
			*p = '/';
	snprintf(verdict, len, "masquerade comment \"%s%s\"", NAT_BEFORE_TAG, t);
}

int nat_ruleset(const struct nat_rules *r, char *buf, size_t len)
{
	if (!nat_ifname_ok(r->tun) || !nat_ifname_ok(r->egress) || len == 0 ||
	    (r->has6 && r->egress6 && !nat_ifname_ok(r->egress6)))
		return -1;
	char t[NFT_TABLE_NAME_MAX];
	nat_table_name(r->tun, t, sizeof(t));
	struct outbuf o = {buf, len, 0, false};
	const char *tun = r->tun;
	bool six = r->has6;
	/* drop + define: replaces a table left by a crash, in one go */
	put_drop_tables(&o, r->tun);
	outbuf_printf(&o, "table inet %s {\n", t);
	outbuf_printf(&o, "\tchain forward {\n"
	                  "\t\ttype filter hook forward priority filter; policy accept;\n");
	/* Client to client through the kernel only when spoke-to-spoke is on. */
	outbuf_printf(&o, "\t\tiifname \"%s\" oifname \"%s\" %s\n", tun, tun,
	              r->spoke_to_spoke ? "accept" : "drop");
	closed_rules(&o, r);
	/* conntrack does not masquerade what it finds invalid (a segment out
	 * of its window, one a hub restart left it no state for): it would
	 * leave with the client's VIP as its source. */
	outbuf_printf(&o, "\t\tiifname \"%s\" oifname \"%s\" ct state invalid drop\n", tun,
	              r->egress);
	outbuf_printf(&o, "\t\tiifname \"%s\" oifname \"%s\" meta nfproto ipv4 accept\n", tun,
	              r->egress);
	if (six && r->egress6 && strcmp(r->egress6, r->egress))
		outbuf_printf(&o, "\t\tiifname \"%s\" oifname \"%s\" ct state invalid drop\n", tun,
		              r->egress6);
	if (six && r->egress6)
		outbuf_printf(&o, "\t\tiifname \"%s\" oifname \"%s\" meta nfproto ipv6 accept\n", tun,
		              r->egress6);
	outbuf_printf(&o, "\t\tiifname \"%s\" drop\n", tun);
	set_rule(&o, "oifname", tun, "ip saddr", r->allow, NULL, r->nallow, "accept");
	set_rule(&o, "oifname", tun, "ip6 saddr", NULL, r->allow6, six ? r->nallow6 : 0, "accept");
	outbuf_printf(&o, "\t\toifname \"%s\" ct state established,related accept\n", tun);
	outbuf_printf(&o, "\t\toifname \"%s\" drop\n", tun);
	outbuf_printf(&o, "\t}\n");
	outbuf_printf(&o, "\tchain input {\n"
	                  "\t\ttype filter hook input priority filter; policy accept;\n");
	closed_rules(&o, r);
	outbuf_printf(&o, "\t}\n");
	outbuf_printf(&o, "\tchain postrouting {\n"
	                  "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	char masq[sizeof(NAT_BEFORE_TAG) + NATSTATE_TEXT_MAX + 32] = "masquerade";
	if (r->before)
		before_comment(r->before, masq, sizeof(masq));
	set_rule(&o, "oifname", r->egress, "ip saddr", &r->subnet, NULL, 1, masq);
	if (six && r->egress6)
		set_rule(&o, "oifname", r->egress6, "ip6 saddr", NULL, &r->subnet6, 1, "masquerade");
	outbuf_printf(&o, "\t}\n}\n");
	return o.full ? -1 : (int)o.used;
}

/* Ours (inet), or an older slopnd's (ip). */
static bool either_family(const char *t)
{
	return nft_table_exists("inet", t) || nft_table_exists("ip", t);
}

static bool table_exists(const char *tun)
{
	char t[NFT_TABLE_NAME_MAX];
	nat_table_name(tun, t, sizeof(t));
	if (either_family(t))
		return true;
	return nft_table_name_old(NAT_PREFIX, tun, t, sizeof(t)) && either_family(t);
}

static int read_int(const char *path)
{
	char b[16] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	int e = n < 0 ? errno : EINVAL; /* the caller's message says why */
	close(fd);
	if (n <= 0 || b[0] < '0' || b[0] > '9') {
		errno = e;
		return -1;
	}
	return atoi(b);
}

/* A sysctl. */
static int write_int(const char *path, int v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
	if (fd < 0)
		return -1;
	char b[16];
	int n = snprintf(b, sizeof(b), "%d\n", v);
	int rv = write(fd, b, (size_t)n) == n ? 0 : -1;
	int e = errno;
	close(fd);
	errno = e;
	return rv;
}

char *nat_rules_text(const struct nat_rules *r, enum nat_backend backend, int gen, char *err,
                     size_t errlen)
{
	char *buf = malloc(NAT_RULES_MAX);
	if (!buf) {
		snprintf(err, errlen, "cannot build the rules: %s", strerror(ENOMEM));
		return NULL;
	}
	int n = backend == NAT_IPTABLES ? ipt_script(r, gen, buf, NAT_RULES_MAX)
	                                : nat_ruleset(r, buf, NAT_RULES_MAX);
	if (n < 0) {
		snprintf(err, errlen, "cannot build the rules (interface '%s' or '%s' has an unusual "
		         "name%s, or too many networks)", r->tun, r->egress,
		         backend == NAT_IPTABLES ? ": iptables takes a '+' as a wildcard" : "");
		free(buf);
		return NULL;
	}
	return buf;
}

static int nft_install(const struct nat_rules *r, char *err, size_t errlen)
{
	char *rules = nat_rules_text(r, NAT_NFTABLES, 0, err, errlen);
	if (!rules)
		return -1;
	int rv = nft_run(rules, err, errlen);
	free(rules);
	return rv;
}

static int nft_remove(const char *tun)
{
	char cmd[512];
	struct outbuf o = {cmd, sizeof(cmd), 0, false};
	put_drop_tables(&o, tun);
	return nft_run(cmd, NULL, 0);
}

/* The state file (proto/natstate.c); every value -1 when there is none:
 * a damaged file is none. */
static int read_state(const char *path, struct natstate *st)
{
	char b[NATSTATE_TEXT_MAX];
	*st = NATSTATE_NONE;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, b, sizeof(b));
	close(fd);
	if (n <= 0)
		return -1;
	return natstate_parse(b, (size_t)n, st);
}

/* Whole or not at all: a crash while writing must not lose the values to
 * put back (the file is rewritten when IPv6 joins). */
static int write_state(const char *path, const struct natstate *st, char *err, size_t errlen)
{
	char b[NATSTATE_TEXT_MAX];
	int n = natstate_format(b, sizeof(b), st);
	if (n < 0) {
		snprintf(err, errlen, "cannot write %s: bad values", path);
		return -1;
	}
	return statefile_write(path, b, (size_t)n, 0600, err, errlen);
}

int nat_state_read(const char *state_file, struct natstate *st)
{
	return read_state(state_file, st);
}

/* Forwarding on at a start without a record of ours: another SloPN hub's
 * doing, maybe (started first, running or crashed). Its table's record of
 * what was before it is taken for ours where it says forwarding was off,
 * with what goes with that (accept_redirects; accept_ra on the IPv6 egress
 * it set): whichever hub stops last puts them back. Without this, the
 * second hub recorded the first one's "on" and left forwarding on for good
 * after both stopped. */
static void before_of_other_hub(const char *tun, struct natstate *before)
{
	bool on6 = read_int(IP6_FORWARD) == 1;
	if (before->fwd4 != 1 && !on6)
		return; /* off: nobody's doing, and no listing asked for */
	char own[NFT_TABLE_NAME_MAX], t[NATSTATE_TEXT_MAX];
	nat_table_name(tun, own, sizeof(own));
	char *json = nft_json("list ruleset");
	int found = json ? nft_rule_comment_find(json, strlen(json), NAT_PREFIX, own, NAT_BEFORE_TAG,
	                                         t, sizeof(t))
	                 : -1;
	free(json);
	if (found != 1)
		return;
	for (char *p = t; *p; p++)
		if (*p == '/')
			*p = '\n';
	struct natstate other;
	if (natstate_parse(t, strlen(t), &other) < 0)
		return;
	if (before->fwd4 == 1 && other.fwd4 == 0) {
		before->fwd4 = 0;
		before->redirects4 = other.redirects4;
	}
	if (on6 && other.fwd6 == 0) {
		before->fwd6 = 0;
		if (other.accept_ra >= 0 && before->accept_ra < 0) {
			before->accept_ra = other.accept_ra;
			snprintf(before->ra_if, sizeof(before->ra_if), "%s", other.ra_if);
		}
	}
}

/* A source NAT rule of someone else's (ours are gone by now): Docker or
 * libvirt, started after us, found forwarding on and did not turn it on
 * themselves; turned off, their networks would lose their way out. */
static bool other_router(char *where, size_t len)
{
	char *json = nft_json("list ruleset");
	int found = json ? nft_nat_rule_find(json, strlen(json), where, len) : -1;
	free(json);
	return found == 1;
}

/* An interface's accept_ra sysctl. */
static void ra_path(char *buf, size_t len, const char *ifname)
{
	snprintf(buf, len, "/proc/sys/net/ipv6/conf/%s/accept_ra", ifname);
}

/* Turning IPv6 forwarding on makes the kernel drop the default routes it
 * learnt from router advertisements on every interface whose accept_ra is
 * not 2, and take no more (a router ignores them): the hub would lose its
 * own IPv6 way out, at once or when the route runs out. So before it goes
 * on (it is off now), accept_ra 1 on the IPv6 egress becomes 2, as for a
 * router that takes its way out from advertisements. True when st now
 * holds the value from before, for the state file (written first), and
 * ra_set is due. */
static bool ra_before(struct natstate *st, const char *egress6)
{
	char path[64];
	if (!egress6 || !nat_ifname_ok(egress6) || st->accept_ra >= 0 || read_int(IP6_FORWARD) != 0)
		return false;
	ra_path(path, sizeof(path), egress6);
	if (read_int(path) != 1)
		return false;
	st->accept_ra = 1;
	snprintf(st->ra_if, sizeof(st->ra_if), "%s", egress6);
	return true;
}

/* A failure leaves it at 1: the hub warns (hub_nat.c). */
static void ra_set(const struct natstate *st)
{
	char path[64];
	ra_path(path, sizeof(path), st->ra_if);
	write_int(path, 2);
}

/* Forwarding as the state file says it was, and the file gone; but left on
 * while another router's NAT is in the kernel (kept: where its rule is,
 * else empty). Turning IPv4's off makes the kernel accept ICMP redirects on
 * every interface (conf.all.accept_redirects 1): that goes back to what it
 * was too. */
static void restore_forwarding(const char *state_file, char *kept, size_t keptlen)
{
	struct natstate st;
	read_state(state_file, &st);
	if (keptlen)
		kept[0] = '\0';
	bool off4 = st.fwd4 == 0 && read_int(IP_FORWARD) > 0,
	     off6 = st.fwd6 == 0 && read_int(IP6_FORWARD) > 0;
	char where[128];
	if ((off4 || off6) && other_router(where, sizeof(where))) {
		if (keptlen)
			snprintf(kept, keptlen, "%s", where);
		off4 = off6 = false;
	}
	/* Only what we turned on and is on still: one on before us stays as
	 * it is now (turned off meanwhile by its administrator: off). */
	if (off4) {
		write_int(IP_FORWARD, 0);
		if (st.redirects4 >= 0)
			write_int(IP_REDIRECTS, st.redirects4);
	}
	if (off6)
		write_int(IP6_FORWARD, 0);
	/* accept_ra back once IPv6 forwarding is off (while it stays on, the
	 * machine routes, and needs 2 to keep a default route learnt from
	 * advertisements), unless its administrator changed it meanwhile. */
	char path[64];
	if (st.accept_ra >= 0 && read_int(IP6_FORWARD) == 0) {
		ra_path(path, sizeof(path), st.ra_if);
		if (read_int(path) == 2)
			write_int(path, st.accept_ra);
	}
	unlink(state_file);
}

int nat_forward6_on(const char *state_file, const char *egress6, char *err, size_t errlen)
{
	struct natstate st;
	if (read_state(state_file, &st) < 0) {
		snprintf(err, errlen, "cannot read %s", state_file);
		return -1;
	}
	bool save = st.fwd6 < 0;
	if (st.fwd6 < 0 && (st.fwd6 = read_int(IP6_FORWARD)) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", IP6_FORWARD, strerror(errno));
		return -1;
	}
	bool ra = ra_before(&st, egress6);
	if ((save || ra) && write_state(state_file, &st, err, errlen) < 0)
		return -1;
	if (ra)
		ra_set(&st);
	if (write_int(IP6_FORWARD, 1) < 0) {
		snprintf(err, errlen, "cannot turn on forwarding (%s): %s", IP6_FORWARD, strerror(errno));
		return -1;
	}
	return 0;
}

int nat_update(const struct nat_rules *r, enum nat_backend used, char *err, size_t errlen)
{
	return used == NAT_IPTABLES ? ipt_install(r, err, errlen) : nft_install(r, err, errlen);
}

int nat_start(const struct nat_rules *r, enum nat_backend want, enum nat_backend *used,
              const char *state_file, char *err, size_t errlen)
{
	/* Rules of ours already there mean the last run did not stop cleanly:
	 * the state file then still holds the settings from before it. */
	bool stale_nft = table_exists(r->tun), stale_ipt = ipt_exists(r->tun);
	struct natstate before = NATSTATE_NONE;
	/* A run's state file, with its rules or without (a crash before them,
	 * or rules its stop could not remove): it holds what was before. */
	if (stale_nft || stale_ipt || access(state_file, F_OK) == 0)
		read_state(state_file, &before);
	if (before.fwd4 < 0) {
		before.fwd4 = read_int(IP_FORWARD);
		if (before.fwd4 < 0) {
			snprintf(err, errlen, "cannot read %s: %s", IP_FORWARD, strerror(errno));
			return -1;
		}
		/* A kernel without the setting has no redirects to put back. */
		before.redirects4 = read_int(IP_REDIRECTS);
		before_of_other_hub(r->tun, &before);
	}
	if (before.fwd6 < 0 && nat_forwards6(r) && (before.fwd6 = read_int(IP6_FORWARD)) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", IP6_FORWARD, strerror(errno));
		return -1;
	}
	bool ra = nat_forwards6(r) && ra_before(&before, r->egress6);
	if (write_state(state_file, &before, err, errlen) < 0)
		return -1;
	/* What a crash left with the other backend goes; the same one is replaced. */
	if (stale_nft && want == NAT_IPTABLES)
		nft_remove(r->tun);
	if (stale_ipt && want != NAT_IPTABLES)
		ipt_remove(r->tun);
	if (ra)
		ra_set(&before);
	const char *fwd = write_int(IP_FORWARD, 1) < 0 ? IP_FORWARD
	                : nat_forwards6(r) && write_int(IP6_FORWARD, 1) < 0 ? IP6_FORWARD : NULL;
	if (fwd) {
		snprintf(err, errlen, "cannot turn on forwarding (%s): %s", fwd, strerror(errno));
		restore_forwarding(state_file, NULL, 0);
		return -1;
	}
	char e[256] = "", e2[256] = "";
	/* The rules carry what was before, for another hub (before_of_other_hub). */
	struct nat_rules with = *r;
	with.before = &before;
	*used = want == NAT_IPTABLES ? NAT_IPTABLES : NAT_NFTABLES;
	int rv = nat_update(&with, *used, e, sizeof(e));
	if (rv < 0 && want == NAT_AUTO) {
		if (stale_ipt)
			ipt_remove(r->tun);
		*used = NAT_IPTABLES;
		rv = nat_update(&with, *used, e2, sizeof(e2));
		if (rv >= 0)
			snprintf(err, errlen, "nftables refused the rules (%s): using iptables", e);
	}
	if (rv < 0) {
		if (want == NAT_AUTO)
			snprintf(err, errlen, "nftables refused the rules: %s; iptables too: %s "
			         "(--nat needs nf_tables in the kernel, or iptables)", e, e2);
		else
			snprintf(err, errlen, "%s refused the rules: %s", nat_backend_name(want), e);
		restore_forwarding(state_file, NULL, 0);
		return -1;
	}
	if (*used == NAT_NFTABLES || want == NAT_IPTABLES)
		err[0] = '\0';
	return rv;
}

bool nat_in_force(const char *tun)
{
	char t[NFT_TABLE_NAME_MAX];
	nat_table_name(tun, t, sizeof(t));
	return nft_table_exists("inet", t);
}

int nat_rule_count(const char *tun)
{
	char t[NFT_TABLE_NAME_MAX];
	nat_table_name(tun, t, sizeof(t));
	return nft_table_rule_count("inet", t);
}

/* After a removal that failed (nft, ipt): what of the rules may still be
 * in the kernel (iptables held by another program's lock, say), and how
 * to remove it by hand; false when nothing is. iptables is not asked
 * again: a lock held that long would hold the question too. */
static bool left_behind(const char *tun, bool nft, bool ipt, char *err, size_t errlen)
{
	char t[NFT_TABLE_NAME_MAX];
	nat_table_name(tun, t, sizeof(t));
	if (nft && table_exists(tun)) {
		snprintf(err, errlen, "the nftables table %s is still there ('nft list tables' shows it, "
		         "'nft delete table inet %s' removes it)", t, t);
		return true;
	}
	if (ipt) {
		snprintf(err, errlen, "the iptables chains SLOPN-%s-* may still be there ('iptables -S' and "
		         "'iptables -t nat -S' show them and the jumps to them)", tun);
		return true;
	}
	return false;
}

int nat_stop(const char *tun, enum nat_backend used, const char *state_file, char *kept,
             size_t keptlen, char *err, size_t errlen)
{
	bool ipt = used == NAT_IPTABLES && ipt_remove(tun) < 0;
	bool nft = used != NAT_IPTABLES && nft_remove(tun) < 0;
	if (keptlen)
		kept[0] = '\0';
	/* Rules left: forwarding stays as they need it, and the state file for
	 * the next start, which removes what a run left (nat_stop_stale). */
	if (left_behind(tun, nft, ipt, err, errlen))
		return -1;
	restore_forwarding(state_file, kept, keptlen);
	return 0;
}

/* A file this slopnd cannot read (a newer one's, with a line it does not
 * know, after a rollback; or damaged) says nothing of what was there
 * before: forwarding stays as it is, said, and the file is kept for a look.
 * Removed in silence, the next --nat start took the forwarding the crashed
 * run had turned on for the setting from before, and its stop left it on. */
bool nat_state_unreadable(const char *state_file, char *err, size_t errlen)
{
	struct natstate st;
	if (access(state_file, F_OK) != 0 || read_state(state_file, &st) == 0)
		return false;
	char to[4096];
	bool aside = statefile_set_aside(state_file, to, sizeof(to)) == 0;
	snprintf(err, errlen, "%s, left by a run that did not stop cleanly, could not be read (a "
	         "newer slopnd's, or damaged): IP forwarding "
	         "is left as it is (net.ipv4.ip_forward %d, net.ipv6.conf.all.forwarding %d); "
	         "turn it off with sysctl if it was off before the hub%s%s", state_file,
	         read_int(IP_FORWARD), read_int(IP6_FORWARD), aside ? "; the file is now " : "",
	         aside ? to : "");
	return true;
}

int nat_stop_stale(const char *tun, const char *state_file, char *kept, size_t keptlen, char *err,
                   size_t errlen)
{
	/* A --nat run writes the state file before any rule and removes it
	 * last: without it there is nothing to clean, and no nft or iptables
	 * needs asking at every start. */
	if (keptlen)
		kept[0] = '\0';
	if (access(state_file, F_OK) != 0)
		return 0;
	bool nft = table_exists(tun), ipt = ipt_exists(tun);
	ipt = ipt && ipt_remove(tun) < 0;
	nft = nft && nft_remove(tun) < 0;
	if (left_behind(tun, nft, ipt, err, errlen))
		return -1;
	if (nat_state_unreadable(state_file, err, errlen))
		return 2;
	/* Also when a crash came before the rules: forwarding was on already. */
	restore_forwarding(state_file, kept, keptlen);
	return 1;
}
