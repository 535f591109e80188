/* The client's network while connected: the VIPs on the TUN, --full-tunnel
 * routes, --accept-dns; and all of it as it was when the connection ends. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tun/statefile.h"
#include "daemon/client_int.h"
#include "daemon/log.h"
#include "daemon/timer.h"
#include "proto/addr.h"
#include "proto/ipv6.h"
#include "proto/nameserver.h"
#include "tun/dns.h"
#include "tun/netlink.h"

/* A subnet's check, which --no-route (no route to the subnet) skips; not
 * the address's own (a prefix of all bits) where it is the hub's: the
 * kernel makes it the machine's own whatever the flag says. */
static bool route_skipped(const struct client *cl, int family, unsigned prefix)
{
	return cl->cfg->no_route && prefix < (family == AF_INET6 ? 128u : 32u);
}

struct gateway_query {
	uint8_t addr[16];
	int except;  /* the TUN: a gateway through it is the hub's side */
};

static bool gateway_is(const struct nl_route *r, void *data)
{
	const struct gateway_query *q = data;
	return r->via && r->ifindex != q->except && !memcmp(r->gw, q->addr, 16);
}

/* Is addr (4 or 16 bytes) the gateway of one of this machine's routes, its
 * router? With --no-route the client takes an address in its LAN (the way
 * out of a hub's subnet that overlaps it), but not its router's: the
 * machine would answer for it on the LAN. (A gateway of a multipath route
 * is not seen; IPv6 routers are mostly reached at link-local addresses,
 * which no VIP6 is.) */
static bool is_gateway(const struct client *cl, int family, const void *addr)
{
	struct gateway_query q = {.except = cl->ifindex};
	struct nl_route r;
	memcpy(q.addr, addr, family == AF_INET6 ? 16 : 4);
	return nl_route_find(family, gateway_is, &q, &r) > 0;
}

/* Would the subnet's route (prefix bits of net) take the hub's own
 * packets into the TUN? Then nothing would reach the hub again; nor if the
 * address (all bits) were the hub's, as this machine's own. */
static bool holds_hub(const struct client *cl, int family, const void *net, unsigned prefix)
{
	return !route_skipped(cl, family, prefix) && cl->hub_family == family &&
	       addr_same_prefix(net, cl->hub_addr, prefix);
}

/* "NET/PREFIX" of an address (network order, 4 or 16 bytes) into buf. */
static const char *net_str(int family, const void *addr, unsigned prefix, char *buf, size_t len)
{
	uint8_t b[16] = {0};
	memcpy(b, addr, family == AF_INET6 ? 16 : 4);
	for (unsigned i = prefix; i < (family == AF_INET6 ? 128u : 32u); i++)
		b[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	char a[INET6_ADDRSTRLEN];
	snprintf(buf, len, "%s/%u", inet_ntop(family, b, a, sizeof(a)), prefix);
	return buf;
}

struct lan_query {
	int family;
	const void *net;
	unsigned prefix;
	int except;
};

/* An interface with neighbours (ARP, neighbour discovery: Ethernet, Wi-Fi,
 * a bridge), where a router and a DNS server live; not a tunnel (ours, a
 * second instance's, another VPN's), whose subnet another may share. */
static bool has_neighbours(int ifindex)
{
	struct nl_link l;
	if (nl_link_get(ifindex, &l) < 0)
		return errno != ENODEV; /* gone: nobody there; else taken for a LAN */
	return !(l.flags & (IFF_POINTOPOINT | IFF_NOARP | IFF_LOOPBACK));
}

static bool lan_holds(const struct nl_route *r, void *data)
{
	const struct lan_query *q = data;
	return nl_route_lan_holds(r, q->family, q->net, q->prefix, q->except) &&
	       has_neighbours(r->ifindex);
}

/* Would the subnet's route (prefix bits of net) take part of a network
 * beside this machine into the TUN, its router or DNS server say? A hub
 * that gives a subnet inside the client's LAN could answer for them. Then
 * the LAN's route, as "NET/PREFIX on IFACE", in lan. */
static bool in_lan(const struct client *cl, int family, const void *net, unsigned prefix,
                   char *lan, size_t len)
{
	struct lan_query q = {family, net, prefix, cl->ifindex};
	struct nl_route r;
	if (cl->cfg->no_route || nl_route_find(family, lan_holds, &q, &r) <= 0)
		return false;
	char dst[INET6_ADDRSTRLEN + 8], ifname[IF_NAMESIZE] = "?";
	if_indextoname((unsigned)r.ifindex, ifname);
	snprintf(lan, len, "%s on %s", net_str(family, r.dst, r.prefix, dst, sizeof(dst)), ifname);
	return true;
}

struct lan_walk {
	int family, except;
	struct prefix_set *lan, *tun;
};

/* A network the machine reaches another way than the TUN, not a way out
 * (/8, IPv6 /16, or longer): behind its router, through another VPN. Its
 * hosts' packets do not come through the tunnel (the kernel's strict
 * rp_filter would drop them too), as nl_route_wider has them. */
static bool reached_elsewhere(const struct nl_route *r, int family, int except)
{
	return r->table == RT_TABLE_MAIN && r->proto != SLOPN_RTPROT &&
	       !(r->ifindex && r->ifindex == except) && r->prefix >= (family == AF_INET6 ? 16u : 8u) &&
	       (r->via || !has_neighbours(r->ifindex));
}

/* A network beside this machine, as in_lan sees one (not fe80::/64: a
 * link-scoped source is dropped anyway), or one reached elsewhere; or a
 * route into the TUN. */
static void add_lan(const struct nl_route *r, void *data)
{
	struct lan_walk *w = data;
	size_t alen = w->family == AF_INET6 ? 16 : 4;
	if (r->ifindex && r->ifindex == w->except)
		prefix_set_put(w->tun, r->dst, r->prefix, alen);
	else if (!(w->family == AF_INET6 && ipv6_link_scoped(r->dst)) &&
	         ((nl_route_lan_holds(r, w->family, r->dst, r->prefix, w->except) &&
	           has_neighbours(r->ifindex)) || reached_elsewhere(r, w->family, w->except)))
		prefix_set_put(w->lan, r->dst, r->prefix, alen); /* each: the longest is compared */
}

/* Per family, as a packet from the hub is checked against one. */
static void lan_build(struct client *cl, int family, struct prefix_set *lan,
                      struct prefix_set *own, struct prefix_set *tun)
{
	struct prefix_set l = {0}, o = {0}, t = {0};
	struct lan_walk w = {family, cl->ifindex, &l, &t};
	if (nl_route_each(family, add_lan, &w) < 0) {
		log_warn("cannot list this machine's routes (%s): packets from the hub are checked "
		         "against its networks as they were", strerror(errno));
		return;
	}
	/* Its own addresses, on any interface: IPv4's kernel drops a packet
	 * from one of them, IPv6's does not. */
	if (family == AF_INET) {
		struct nl_addr a[256];
		int n = nl_addr_dump(a, 256);
		for (int i = 0; i < n; i++)
			prefix_set_add(&o, &a[i].addr, 32, 4);
	} else {
		struct nl_addr6 a[256];
		int n = nl_addr6_dump(a, 256);
		for (int i = 0; i < n; i++)
			if (!ipv6_link_scoped(a[i].addr))
				prefix_set_add(&o, a[i].addr, 128, 16);
	}
	if ((l.full || o.full || t.full) && !(lan->full || own->full || tun->full))
		log_warn("this machine has more than %d %s networks, addresses or routes into %s: "
		         "packets from the hub are not checked against the others (that they do not "
		         "come from them)", PREFIX_SET_MAX, family == AF_INET6 ? "IPv6" : "IPv4",
		         cl->tunname);
	*lan = l;
	*own = o;
	*tun = t;
}

void client_lan_build(struct client *cl)
{
	lan_build(cl, AF_INET, &cl->lan4, &cl->own4, &cl->tun4);
	lan_build(cl, AF_INET6, &cl->lan6, &cl->own6, &cl->tun6);
}

/* The hub's IPv6 address for us, if it offers one (an old hub, or one
 * without IPv6, does not): a failure leaves the tunnel IPv4 only. */
static void apply_address6(struct client *cl, const struct slopn_login_response *r)
{
	unsigned prefix6 = cl->no6 ? 0 : r->prefix_len6;
	char a[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN + 8], lan[INET6_ADDRSTRLEN + IF_NAMESIZE + 16];
	cl->tun6_err = 0;
	if (prefix6 && holds_hub(cl, AF_INET6, &r->assigned_vip6, prefix6)) {
		log_warn("the hub's IPv6 prefix (%s) holds its own address %s: carrying IPv4 only",
		         net_str(AF_INET6, &r->assigned_vip6, prefix6, net, sizeof(net)),
		         inet_ntop(AF_INET6, cl->hub_addr, a, sizeof(a)));
		prefix6 = 0;
	}
	if (prefix6 && holds_hub(cl, AF_INET6, &r->assigned_vip6, 128)) {
		log_warn("the hub's IPv6 address for this client is the hub's own, %s: carrying IPv4 only",
		         inet_ntop(AF_INET6, cl->hub_addr, a, sizeof(a)));
		prefix6 = 0;
	}
	if (prefix6 && cl->cfg->no_route && is_gateway(cl, AF_INET6, &r->assigned_vip6)) {
		log_warn("the hub's IPv6 address for this client, %s, is this machine's router (a gateway "
		         "of its routes): carrying IPv4 only",
		         inet_ntop(AF_INET6, &r->assigned_vip6, a, sizeof(a)));
		prefix6 = 0;
	}
	/* The address: a network that holds the prefix holds it too. */
	if (prefix6 && in_lan(cl, AF_INET6, &r->assigned_vip6, 128, lan, sizeof(lan))) {
		log_warn("the hub's IPv6 prefix (%s) or address for this client lies in this machine's "
		         "network %s: its route would take that network's hosts into the tunnel, or the "
		         "address one of them. Carrying IPv4 only",
		         net_str(AF_INET6, &r->assigned_vip6, prefix6, net, sizeof(net)), lan);
		prefix6 = 0;
	}
	if (cl->prefix6 == prefix6 && !memcmp(&cl->vip6, &r->assigned_vip6, sizeof(cl->vip6))) {
		if (!prefix6)
			return;
		cl->hub_vip6 = r->server_vip6; /* the hub's may be another */
		/* Again, as IPv4's: someone may have taken it off the TUN. */
		if (nl_addr6_add(cl->ifindex, r->assigned_vip6.s6_addr, prefix6, !cl->cfg->no_route) < 0)
			log_warn("cannot set the IPv6 address %s on %s again: %s; carrying IPv4 only "
			         "until the next login", inet_ntop(AF_INET6, &r->assigned_vip6, a, sizeof(a)),
			         cl->tunname, strerror(errno));
		return;
	}
	if (cl->prefix6)
		nl_addr6_flush(cl->ifindex);
	cl->prefix6 = 0;
	memset(&cl->vip6, 0, sizeof(cl->vip6));
	if (!prefix6)
		return;
	if (nl_addr6_add(cl->ifindex, r->assigned_vip6.s6_addr, prefix6, !cl->cfg->no_route) < 0) {
		log_warn("cannot set the IPv6 address %s on %s: %s; carrying IPv4 only",
		         inet_ntop(AF_INET6, &r->assigned_vip6, a, sizeof(a)), cl->tunname,
		         strerror(errno));
		return;
	}
	cl->vip6 = r->assigned_vip6;
	cl->hub_vip6 = r->server_vip6;
	cl->prefix6 = prefix6;
}

void client_drop_address(struct client *cl)
{
	if (cl->vip)
		nl_addr_flush(cl->ifindex, 0, 0);
	if (cl->prefix6)
		nl_addr6_flush(cl->ifindex);
	cl->vip = 0;
	cl->prefix = cl->prefix6 = 0;
	memset(&cl->vip6, 0, sizeof(cl->vip6));
}

/* A network that holds the subnet holds the address too: one check for
 * both. */
bool client_subnet_in_lan(const struct client *cl, char *lan, size_t len)
{
	return (cl->vip && in_lan(cl, AF_INET, &cl->vip, 32, lan, len)) ||
	       (cl->prefix6 && in_lan(cl, AF_INET6, &cl->vip6, 128, lan, len));
}

int client_apply_address(struct client *cl, const struct slopn_login_response *r)
{
	uint32_t vip = r->assigned_vip.s_addr;
	char net[INET_ADDRSTRLEN + 8], h[INET_ADDRSTRLEN], lan[INET_ADDRSTRLEN + IF_NAMESIZE + 16];
	int refused = 0;
	if (holds_hub(cl, AF_INET, &vip, r->prefix_len)) {
		log_err("the VPN subnet the hub gives (%s) holds the hub's own address %s: its route "
		        "would take the way to the hub into the tunnel. The hub needs another --subnet, "
		        "or this client --no-route; trying again later",
		        net_str(AF_INET, &vip, r->prefix_len, net, sizeof(net)),
		        inet_ntop(AF_INET, cl->hub_addr, h, sizeof(h)));
		refused = CLIENT_SUBNET_HOLDS_HUB;
	} else if (holds_hub(cl, AF_INET, &vip, 32)) {
		/* Only with --no-route: else the subnet holds it too. */
		log_err("the VPN address the hub gives is the hub's own address %s: this machine would "
		        "take it for itself, and nothing would reach the hub again. The hub needs another "
		        "--subnet; trying again later", inet_ntop(AF_INET, cl->hub_addr, h, sizeof(h)));
		refused = CLIENT_VIP_IS_HUB;
	} else if (cl->cfg->no_route && is_gateway(cl, AF_INET, &vip)) {
		log_err("the VPN address the hub gives (%s) is this machine's router, a gateway of its "
		        "routes: this machine would answer for it on that network. The hub needs another "
		        "--subnet, or another --vip for this token; trying again later",
		        inet_ntop(AF_INET, &vip, h, sizeof(h)));
		refused = CLIENT_VIP_IN_LAN;
	} else if (in_lan(cl, AF_INET, &vip, r->prefix_len, lan, sizeof(lan))) {
		log_err("the VPN subnet the hub gives (%s) lies in this machine's network %s: its "
		        "route would take that network's hosts (its router, its DNS server) into the "
		        "tunnel. The hub needs another --subnet, or this client --no-route; trying "
		        "again later", net_str(AF_INET, &vip, r->prefix_len, net, sizeof(net)), lan);
		refused = CLIENT_SUBNET_IN_LAN;
	} else if (in_lan(cl, AF_INET, &vip, 32, lan, sizeof(lan))) {
		/* A subnet wider than the LAN: its route leaves the LAN's hosts
		 * alone, but the address would be this machine's own. */
		log_err("the VPN address the hub gives (%s) lies in this machine's network %s: this "
		        "machine would take that network's host of that address (its router?) for "
		        "itself. The hub needs another --subnet, or another --vip for this token; "
		        "trying again later", inet_ntop(AF_INET, &vip, h, sizeof(h)), lan);
		refused = CLIENT_VIP_IN_LAN;
	}
	if (refused) {
		client_drop_address(cl); /* an earlier connection's, and its route */
		return refused;
	}
	/* The new address before the old one goes: a device left without an
	 * IPv4 address loses every route through it, the administrator's too
	 * (a site's network via the hub). The old one is primary, so its going
	 * must promote the new one, not take it along (set where the TUN is
	 * made). The same address with another prefix is another entry to the
	 * kernel: the old one goes, with its route. Added at every login, even
	 * the same: someone may have taken it off the TUN meanwhile (ip addr
	 * flush), and without it the kernel drops what comes through. */
	bool changed = cl->vip != vip || cl->prefix != r->prefix_len;
	int (*add)(int, uint32_t, unsigned) = cl->cfg->no_route ? nl_addr_add_noroute : nl_addr_add;
	if (add(cl->ifindex, vip, r->prefix_len) < 0 ||
	    (changed && cl->vip && nl_addr_flush(cl->ifindex, vip, r->prefix_len) < 0) ||
	    (changed && cl->vip && add(cl->ifindex, vip, r->prefix_len) < 0)) {
		char a[INET_ADDRSTRLEN];
		log_err("cannot set the VPN address %s/%u on %s: %s", inet_ntop(AF_INET, &vip, a, sizeof(a)),
		        r->prefix_len, cl->tunname, strerror(errno));
		return -1;
	}
	cl->vip = vip;
	cl->prefix = r->prefix_len;
	/* The address brings the route to the VPN subnet with it. */
	if (nl_set_mtu(cl->ifindex, cl->cfg->mtu) < 0) {
		log_err("cannot set %s's MTU to %u: %s (see --mtu)", cl->tunname, cl->cfg->mtu,
		        strerror(errno));
		return -1;
	}
	/* Set down by someone after our first login: theirs to undo, also
	 * across a reconnect (client_tun_link puts back what the up needs). */
	if (!cl->tun_down && nl_set_up(cl->ifindex, 1) < 0) {
		log_err("cannot bring up %s: %s", cl->tunname, strerror(errno));
		return -1;
	}
	apply_address6(cl, r);
	return 0;
}

/* ---- --accept-dns: resolv.conf stays pointed at the hub ----
 * A DHCP client on a new network (the machine roamed) writes the network's
 * servers into resolv.conf, in place or by a rename: the hub's would be
 * gone for the rest of the connection. Watched with inotify: the file
 * itself (a bind mount is written in place) and its directory (a rename
 * replaces it); a change not ours becomes the original to put back, and
 * ours is written again. Not against a program that enforces its own
 * file (another slopnd, a resolv.conf manager): two that each write theirs
 * again whenever the other does would do so for ever, each taking the
 * other's file for the original. */

static void dns_watch_stop(struct client *cl);

/* The file is another's for the rest of this connection (the next one
 * tries again): said once a run, as a warning with what to do. */
static void dns_left(struct client *cl, bool other)
{
	const char *file = cl->cfg->resolv_conf;
	bool *warned = other ? &cl->dns_warned_other : &cl->dns_warned_undone;
	int level = *warned ? LOG_LVL_INFO : LOG_LVL_WARN;
	if (other)
		log_msg(level, "dns: %s holds what another slopnd with --accept-dns wrote (another TUN "
		        "or --state-dir; the file names where it keeps the original): left to it, so "
		        "this connection does not use the hub's DNS server. Give --accept-dns to one "
		        "client only", file);
	else
		log_msg(level, "dns: another program undid the hub's servers in %s %d times within "
		        "%llu s: left to it, so this connection does not use the hub's DNS server. Stop "
		        "that program managing %s, or give it the hub's server, or drop --accept-dns",
		        file, CLIENT_DNS_UNDONE, CLIENT_DNS_UNDONE_USEC / 1000000, file);
	*warned = true;
	cl->dns_set = false;
	dns_watch_stop(cl);
}

static int on_dns_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct client *cl = userdata;
	char err[512];
	if (!cl->dns_set)
		return 0;
	/* A rename brought a new file: watch it too (the same one: no-op). */
	inotify_add_watch(sd_event_source_get_io_fd(cl->dns_watch), cl->cfg->resolv_conf,
	                  IN_CLOSE_WRITE);
	const uint8_t *dns6 = cl->has_dns6 ? cl->dns6 : NULL;
	/* The oldest of the last times ours was undone: undoing it once more
	 * that soon after is another manager's, not a DHCP client's. */
	const unsigned ring = CLIENT_DNS_UNDONE - 1;
	bool keeps = cl->dns_nundone >= ring &&
	             usec - cl->dns_undone[cl->dns_nundone % ring] < CLIENT_DNS_UNDONE_USEC;
	int r = (keeps ? dns_leave : dns_check)(cl->cfg->resolv_conf, cl->resolv_backup, cl->dns4,
	                                        dns6, err, sizeof(err));
	if (r < 0 && errno == EROFS) {
		/* Never writable again in this run: the file is the network's,
		 * as status says; the stop leaves it (it is not ours). */
		log_warn("--accept-dns: %s; this connection does not use the hub's DNS server", err);
		cl->dns_set = false;
		dns_watch_stop(cl);
	} else if (r < 0)
		log_warn("--accept-dns: %s", err);
	else if (r == DNS_OTHER || r == DNS_LEFT)
		dns_left(cl, r == DNS_OTHER);
	else if (r != DNS_OURS) {
		cl->dns_undone[cl->dns_nundone++ % ring] = usec;
		cl->dns_restored++;
		if (r == DNS_REWRITTEN)
			log_info("dns: %s was rewritten (by a DHCP client?): the hub's servers are back "
			         "in it, and the new content is what comes back when the connection ends",
			         cl->cfg->resolv_conf);
		else
			log_info("dns: %s was edited: the hub's servers are back in it", cl->cfg->resolv_conf);
	}
	return 0;
}

static int on_dns_watch(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct client *cl = userdata;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const char *base = strrchr(cl->cfg->resolv_conf, '/');
	base = base ? base + 1 : cl->cfg->resolv_conf;
	bool ours = false;
	/* Directory events name a file: resolv.conf, or the file it links to. */
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const void *)p;
			if (!e->len || !strcmp(e->name, base) || !strcmp(e->name, cl->dns_real))
				ours = true;
			p += sizeof(*e) + e->len;
		}
	if (ours)
		timer_once(cl->dns_timer, 100000);
	return 0;
}

static void dns_watch_stop(struct client *cl)
{
	cl->dns_watch = sd_event_source_disable_unref(cl->dns_watch);
	cl->dns_timer = sd_event_source_disable_unref(cl->dns_timer);
}

/* Watch the directory of path for files written or moved in; the name of
 * path's file into base (when given). */
static int watch_dir(int fd, const char *path, char *base, size_t baselen)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	const char *name = slash ? slash + 1 : dir;
	if (base && strlen(name) < baselen)
		memcpy(base, name, strlen(name) + 1);
	if (slash)
		slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
	else
		snprintf(dir, sizeof(dir), ".");
	return inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
}

static void dns_watch_start(struct client *cl)
{
	/* A link (Debian's resolvconf: /etc/resolv.conf -> /run/resolvconf/
	 * resolv.conf) is replaced where it points. */
	char real[PATH_MAX];
	cl->dns_real[0] = '\0';
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd >= 0 && realpath(cl->cfg->resolv_conf, real) && strcmp(real, cl->cfg->resolv_conf) &&
	    watch_dir(fd, real, cl->dns_real, sizeof(cl->dns_real)) < 0)
		log_debug("--accept-dns: cannot watch where %s links to: %s", cl->cfg->resolv_conf,
		          strerror(errno));
	if (fd < 0 || watch_dir(fd, cl->cfg->resolv_conf, NULL, 0) < 0 ||
	    inotify_add_watch(fd, cl->cfg->resolv_conf, IN_CLOSE_WRITE) < 0 ||
	    sd_event_add_io(cl->ev, &cl->dns_watch, fd, EPOLLIN, on_dns_watch, cl) < 0 ||
	    sd_event_add_time(cl->ev, &cl->dns_timer, CLOCK_MONOTONIC, UINT64_MAX, 10000,
	                      on_dns_timer, cl) < 0) {
		log_warn("--accept-dns: cannot watch %s (%s): if something else rewrites it, the hub's "
		         "servers are gone from it until the next connection", cl->cfg->resolv_conf,
		         strerror(errno));
		dns_watch_stop(cl);
		if (fd >= 0 && !cl->dns_watch)
			close(fd);
		return;
	}
	sd_event_source_set_io_fd_own(cl->dns_watch, 1);
	sd_event_source_set_enabled(cl->dns_timer, SD_EVENT_OFF);
	cl->dns_nundone = 0;
}

static void dns_outside_warn(const struct client *cl, const char *out, const char *dev)
{
	if (!cl->cfg->full_tunnel)
		log_warn("dns: the hub's DNS server %s is not reached through the tunnel but out of %s: "
		         "the machine's names are asked there, unencrypted (give --full-tunnel, or ask "
		         "the hub's admin for a server inside the VPN subnet)", out, dev);
	else /* a network beside the machine holds it: its route beats the tunnel's halves */
		log_warn("dns: the hub's DNS server %s lies in a network of this machine, on %s: the "
		         "machine's names are asked there, not through the tunnel%s (ask the hub's admin "
		         "for a server inside the VPN subnet)", out, dev,
		         cl->cfg->kill_switch ? ", and the kill switch drops them unless --allow-lan "
		                                "lets that network through: lookups fail"
		                              : ", unencrypted");
}

/* While connected: --full-tunnel routes and --accept-dns. */
/* Another route of this machine in the VPN subnet at its prefix or longer
 * (another VPN's on the same subnet, a route by hand into part of it)
 * takes what goes to the hub and the clients there out another way: said
 * at each login, as nothing else would say why they cannot be reached. */
static void subnet_shadowed(const struct client *cl)
{
	uint8_t net[16] = {0};
	unsigned prefix;
	for (int family = AF_INET; family; family = family == AF_INET && cl->prefix6 ? AF_INET6 : 0) {
		if (family == AF_INET) {
			prefix = cl->prefix;
			memcpy(net, &cl->vip, 4);
		} else {
			prefix = cl->prefix6;
			memcpy(net, &cl->vip6, 16);
		}
		struct nl_route r;
		char sub[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8], dev[IF_NAMESIZE] = "";
		/* A wider route of the machine's that the subnet cuts into (a
		 * network behind its router, another VPN's): what went there to
		 * the subnet's hosts goes to the hub now. A network beside the
		 * machine (no gateway) was refused before. */
		if (nl_route_wider(family, net, prefix, cl->ifindex, &r) > 0) {
			char gw[INET6_ADDRSTRLEN + 8] = "";
			if (!r.ifindex || !if_indextoname((unsigned)r.ifindex, dev))
				snprintf(dev, sizeof(dev), "%s", r.ifindex ? "?" : "several");
			if (r.via && r.ifindex)
				snprintf(gw, sizeof(gw), " via %s", inet_ntop(family, r.gw, dst, sizeof(dst)));
			log_warn("this machine routes %s out of %s%s, and the VPN subnet the hub gives, %s, "
			         "takes that part of it into %s: what went to hosts there goes to the hub "
			         "now (a network behind a router, another VPN's?). Ask the hub's admin for "
			         "another --subnet%s, or give this client --no-route",
			         net_str(family, r.dst, r.prefix, sub, sizeof(sub)), dev, gw,
			         net_str(family, net, prefix, dst, sizeof(dst)), cl->tunname,
			         family == AF_INET6 ? "6" : "");
		}
		if (nl_route_shadowing(family, net, prefix, cl->ifindex, &r) <= 0)
			continue;
		dev[0] = '\0';
		if (!r.ifindex || !if_indextoname((unsigned)r.ifindex, dev))
			snprintf(dev, sizeof(dev), "%s", r.ifindex ? "?" : "several");
		log_warn("this machine routes %s, in the VPN subnet %s, out of %s, not into %s: what "
		         "goes to the hub or clients there leaves that way (another VPN on the same "
		         "subnet? a route by hand?). Take that route away, or give the hub another "
		         "--subnet%s", net_str(family, r.dst, r.prefix, dst, sizeof(dst)),
		         net_str(family, net, prefix, sub, sizeof(sub)), dev, cl->tunname,
		         family == AF_INET6 ? "6" : "");
	}
}

/* A DNS server of resolv.conf's inside a VPN subnet (one the machine
 * reached out of its own interfaces, through its router say, before the
 * subnet's route): the machine's queries to it go to the hub now, which
 * may answer them as it likes, without --accept-dns. Said at each login;
 * not the hub's address there, nor a server the hub names (a resolv.conf
 * pointed at the hub's DNS on purpose). */
static void dns_in_subnet(const struct client *cl, const struct slopn_login_response *r)
{
	struct nameserver ns[8];
	size_t count = dns_servers(cl->cfg->resolv_conf, ns, 8);
	for (size_t i = 0; i < count && i < 8; i++) {
		bool v6 = ns[i].family == AF_INET6;
		unsigned prefix = v6 ? cl->prefix6 : cl->prefix;
		const void *net = v6 ? (const void *)&cl->vip6 : &cl->vip;
		const void *hub = v6 ? (const void *)&cl->hub_vip6 : &r->server_vip;
		const void *given = v6 ? (const void *)&r->dns6 : &r->dns;
		size_t alen = v6 ? 16 : 4;
		if (!prefix || !addr_same_prefix(ns[i].addr, net, prefix) || !memcmp(ns[i].addr, hub, alen) ||
		    !memcmp(ns[i].addr, given, alen))
			continue;
		char a[INET6_ADDRSTRLEN], sub[INET6_ADDRSTRLEN + 8];
		log_warn("dns: %s names %s as a DNS server, and the VPN subnet the hub gives (%s) holds it: "
		         "this machine's queries to it go through the tunnel to the hub now, which can "
		         "answer them as it likes. Ask the hub's admin for another --subnet%s, or give this "
		         "client --no-route", cl->cfg->resolv_conf,
		         inet_ntop(ns[i].family, ns[i].addr, a, sizeof(a)),
		         net_str(ns[i].family, net, prefix, sub, sizeof(sub)), v6 ? "6" : "");
	}
}

int client_apply_network(struct client *cl, const struct slopn_login_response *r)
{
	char err[512];
	int rv;
	cl->hub_egress6 = r->egress6;
	if (!cl->cfg->no_route)
		subnet_shadowed(cl);
	if (!cl->cfg->full_tunnel &&
	    fulltunnel_flush_stale(fulltunnel_metric(cl->tunname), cl->hub_family, cl->hub_addr) > 0)
		log_info("removed a host route to the hub left by a run that did not stop cleanly");
	if (cl->cfg->full_tunnel && cl->tun_down) {
		/* No route takes a down device: they come with its up. */
		log_info("full tunnel: %s is down: its routes come when it is up", cl->tunname);
	} else if (cl->cfg->full_tunnel) {
		/* IPv6 too when the hub takes it on to the internet: else it
		 * would go nowhere through the TUN, and is unreachable instead
		 * (fail closed: the machine's own IPv6 default route would take
		 * it out beside the tunnel). */
		bool six = cl->prefix6 && r->egress6;
		if (fulltunnel_up(&cl->ft, cl->ifindex, fulltunnel_metric(cl->tunname), cl->hub_family,
		                  cl->hub_addr, six, err, sizeof(err)) < 0) {
			log_err("--full-tunnel: %s", err);
			return -1;
		}
		static const uint8_t none[16];
		char gw[INET6_ADDRSTRLEN] = "", dev[IFNAMSIZ + 16] = "on-link dev ?";
		if (memcmp(cl->ft.hub_gw, none, sizeof(none)))
			inet_ntop(cl->hub_family, cl->ft.hub_gw, gw, sizeof(gw));
		char name[IFNAMSIZ];
		if (!cl->ft.hub_oif) /* not looked up: the hub's own family stays out of the tunnel */
			snprintf(dev, sizeof(dev), "its own route");
		else if (if_indextoname((unsigned)cl->ft.hub_oif, name))
			snprintf(dev, sizeof(dev), "on-link dev %s", name);
		const char *how = six ? " (IPv4 and IPv6)"
		                  : !cl->ft.high6_blocked ? " (IPv4; this machine has no IPv6)"
		                  : cl->prefix6 ? " (IPv4; IPv6 beyond the VPN subnet and this "
		                                  "machine's networks unreachable: the hub offers no "
		                                  "IPv6 way out)"
		                  : " (IPv4; IPv6 beyond this machine's networks unreachable: the tunnel "
		                    "carries none)";
		log_info("full tunnel: everything through %s%s; the hub %s%s via %s", cl->tunname, how,
		         cl->host, cl->ft.host_added || !cl->ft.hub_oif ? "" : " (its route was there)",
		         *gw ? gw : dev);
	}
	if (cl->cfg->accept_dns) {
		/* An IPv6 server is only of use with an IPv6 address to ask from. */
		const uint8_t *dns6 = cl->prefix6 && !IN6_IS_ADDR_UNSPECIFIED(&r->dns6)
		                      ? r->dns6.s6_addr : NULL;
		if (!r->dns.s_addr && !dns6)
			log_info("--accept-dns: the hub offers no DNS server; %s unchanged",
			         cl->cfg->resolv_conf);
		else if (statefile_dir_make(cl->cfg->state_dir, err, sizeof(err)) < 0)
			log_warn("--accept-dns: %s: not keeping the original %s there", err,
			         cl->cfg->resolv_conf);
		else if ((rv = dns_apply(cl->cfg->resolv_conf, cl->resolv_backup, r->dns.s_addr, dns6,
		                         err, sizeof(err))) < 0)
			log_warn("--accept-dns: %s", err);
		else if (rv == DNS_OTHER)
			dns_left(cl, true);
		else {
			char d[INET_ADDRSTRLEN] = "", d6[INET6_ADDRSTRLEN] = "";
			if (r->dns.s_addr)
				inet_ntop(AF_INET, &r->dns, d, sizeof(d));
			if (dns6)
				inet_ntop(AF_INET6, dns6, d6, sizeof(d6));
			cl->dns_set = true;
			cl->dns4 = r->dns.s_addr;
			cl->has_dns6 = dns6 != NULL;
			if (dns6)
				memcpy(cl->dns6, dns6, 16);
			log_info("dns: %s now points to %s%s%s", cl->cfg->resolv_conf, d,
			         *d && *d6 ? " and " : "", d6);
			dns_watch_start(cl);
			char out[INET6_ADDRSTRLEN], dev[IFNAMSIZ];
			if (client_dns_outside(cl, out, sizeof(out), dev))
				dns_outside_warn(cl, out, dev);
		}
	}
	if (!cl->cfg->no_route && !cl->dns_set)
		dns_in_subnet(cl, r);
	return 0;
}

bool client_dns_outside(const struct client *cl, char *buf, size_t len, char dev[IFNAMSIZ])
{
	int oif;
	uint32_t gw4;
	uint8_t gw6[16];
	if (!cl->dns_set)
		return false;
	bool out4 = cl->dns4 && nl_route_get(cl->dns4, &oif, &gw4) == 0 && oif != cl->ifindex;
	if (out4)
		inet_ntop(AF_INET, &cl->dns4, buf, (socklen_t)len);
	else if (cl->has_dns6 && nl_route6_get(cl->dns6, &oif, gw6) == 0 && oif != cl->ifindex)
		inet_ntop(AF_INET6, cl->dns6, buf, (socklen_t)len);
	else
		return false;
	if (!if_indextoname((unsigned)oif, dev))
		snprintf(dev, IFNAMSIZ, "?");
	return true;
}

void client_full_tunnel_again(struct client *cl)
{
	if (!cl->cfg->full_tunnel || cl->state != C_UP || cl->tun_down)
		return;
	char err[512];
	/* Most calls follow a change that leaves the hub's way as it was:
	 * taking the routes down and up then would let traffic out beside
	 * the tunnel for that moment. */
	enum ft_way way = fulltunnel_way(&cl->ft);
	if (way == FT_WAY_HOLDS) {
		if (fulltunnel_repair(&cl->ft, err, sizeof(err)) < 0)
			log_warn("--full-tunnel after a network change: %s", err);
		return;
	}
	/* A better way beside one that works: the host route moves over in
	 * one step, the tunnel's routes stay. */
	if (way == FT_WAY_BETTER) {
		if (fulltunnel_repin(&cl->ft, err, sizeof(err)) == 0) {
			char ifname[IF_NAMESIZE] = "?";
			if_indextoname((unsigned)cl->ft.hub_oif, ifname);
			log_info("full tunnel: the hub is reached through %s now, the machine's better way",
			         ifname);
			return;
		}
		log_debug("full tunnel: %s; its routes made again", err);
	}
	bool was = cl->ft.high_added;
	fulltunnel_down(&cl->ft);
	if (fulltunnel_up(&cl->ft, cl->ifindex, fulltunnel_metric(cl->tunname), cl->hub_family,
	                  cl->hub_addr, cl->prefix6 && cl->hub_egress6, err, sizeof(err)) < 0) {
		/* Most likely no network at all for the moment: the next change
		 * of the machine's routes tries again. */
		if (was)
			log_warn("--full-tunnel after a network change: %s; its routes come back with a "
			         "way to the hub", err);
		return;
	}
	if (!was)
		log_info("full tunnel: everything through %s again", cl->tunname);
}

/* The hub opened IPv6's way out after our login: a full tunnel takes
 * IPv6 in now (unless the TUN is down: its up does it). */
static void full_tunnel6_late(struct client *cl)
{
	char err[256];
	if (!cl->cfg->full_tunnel || !cl->prefix6 || !cl->hub_egress6 || cl->tun_down ||
	    cl->ft.high6_added || !cl->ft.high_added)
		return;
	if (fulltunnel_add6(&cl->ft, err, sizeof(err)) < 0)
		log_warn("the hub takes IPv6 on to the internet now, but --full-tunnel: %s", err);
	else
		log_info("full tunnel: the hub takes IPv6 on to the internet now: IPv6 through %s too "
		         "(no longer unreachable)", cl->tunname);
}

/* Someone set the TUN down: the kernel dropped the routes through it (the
 * full tunnel's too, so traffic takes the machine's own routes) and its
 * IPv6 address, without a word. That down is theirs to undo; once the TUN
 * is up again, what the connection had comes back. */
void client_tun_link(struct client *cl, bool up)
{
	if (!up) {
		/* Only once we brought it up (the first login does): before, it
		 * is down because it is new. */
		if (!cl->vip || cl->tun_down)
			return;
		cl->tun_down = true;
		if (cl->state == C_UP)
			log_warn("%s was set down: nothing passes through the tunnel until it is up again%s",
			         cl->tunname, cl->ft.high_added ? "; the full tunnel's routes went with it, "
			                                          "so traffic takes the machine's own routes"
			                                        : "");
		return;
	}
	if (!cl->tun_down)
		return;
	cl->tun_down = false;
	cl->tun6_err = 0;
	/* The IPv4 address stays with a down link, and its subnet route comes
	 * back with the up; not so for IPv6. */
	if (cl->prefix6 && nl_addr6_add(cl->ifindex, cl->vip6.s6_addr, cl->prefix6,
	                                !cl->cfg->no_route) < 0 && errno != EEXIST) {
		char a[INET6_ADDRSTRLEN];
		log_warn("%s is up again, but its IPv6 address %s cannot be set: %s", cl->tunname,
		         inet_ntop(AF_INET6, &cl->vip6, a, sizeof(a)), strerror(errno));
	}
	char err[256];
	if (fulltunnel_repair(&cl->ft, err, sizeof(err)) < 0)
		log_warn("%s is up again, but --full-tunnel: %s", cl->tunname, err);
	else if (cl->state == C_UP)
		log_info("%s is up again: its addresses and routes are back", cl->tunname);
	if (cl->state == C_UP && !cl->ft.high_added)
		client_full_tunnel_again(cl); /* lost while the TUN was down */
	if (cl->state == C_UP)
		full_tunnel6_late(cl);
}

/* Someone took the TUN's addresses (ip addr flush, a network manager that
 * removes what it does not know, IPv6 disabled and enabled again): the
 * kernel drops what comes through the tunnel, and with the last IPv4
 * address went every route through the TUN, the full tunnel's too (traffic
 * then takes the machine's own routes), while status said all was well.
 * Put back, with a warning, as the hub does its own; a TUN set down is
 * client_tun_link's. Only what the connection set: an administrator's own
 * routes through the TUN are theirs to add again. */
int client_on_tun_check(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct client *cl = userdata;
	struct nl_link l;
	if (cl->state != C_UP || cl->tun_down || !cl->vip || nl_link_get(cl->ifindex, &l) < 0 ||
	    !(l.flags & IFF_UP))
		return 0;
	char what[INET6_ADDRSTRLEN * 2 + 16] = "", a[INET6_ADDRSTRLEN];
	int (*add)(int, uint32_t, unsigned) = cl->cfg->no_route ? nl_addr_add_noroute : nl_addr_add;
	if (!nl_has_addr4(cl->ifindex, cl->vip)) {
		if (add(cl->ifindex, cl->vip, cl->prefix) < 0 && errno != EEXIST) {
			log_err("%s lost its VPN address %s/%u (removed from outside), and it cannot be put "
			        "back: %s; reconnecting", cl->tunname, inet_ntop(AF_INET, &cl->vip, a, sizeof(a)),
			        cl->prefix, strerror(errno));
			client_close_to_reconnect(cl, "the TUN's address could not be put back");
			client_settle(cl);
			return 0;
		}
		snprintf(what, sizeof(what), "%s/%u", inet_ntop(AF_INET, &cl->vip, a, sizeof(a)),
		         cl->prefix);
	}
	/* IPv6 disabled on the TUN takes its address; enabled again, it comes
	 * with no event: tried again each second meanwhile, said once. */
	if (cl->prefix6 && !nl_has_addr6(cl->ifindex, cl->vip6.s6_addr)) {
		/* Enabled again, the TUN would make a link-local address too.
		 * Set only when it is not none: a set is a change of the link,
		 * which brings this check back. */
		if (l.addr_gen >= 0 && l.addr_gen != IN6_ADDR_GEN_MODE_NONE)
			nl_set_addr_gen_none(cl->ifindex);
		if (nl_addr6_add(cl->ifindex, cl->vip6.s6_addr, cl->prefix6, !cl->cfg->no_route) < 0 &&
		    errno != EEXIST) {
			int e = errno;
			char why[IFNAMSIZ + 128] = "";
			if (cl->tun6_err != e && nl_ipv6_disabled(cl->tunname))
				snprintf(why, sizeof(why), " (IPv6 is disabled on it: 'sysctl -w net.ipv6.conf.%s."
				         "disable_ipv6=0' enables it, and the address comes back then)", cl->tunname);
			if (cl->tun6_err != e)
				log_warn("%s lost its VPN address %s/%u, and it cannot be put back: %s%s; IPv6 "
				         "does not pass the tunnel meanwhile", cl->tunname,
				         inet_ntop(AF_INET6, &cl->vip6, a, sizeof(a)), cl->prefix6, strerror(e), why);
			cl->tun6_err = e;
			timer_once(cl->tun_check, 1000000);
		} else {
			size_t used = strlen(what);
			snprintf(what + used, sizeof(what) - used, "%s%s/%u", used ? " and " : "",
			         inet_ntop(AF_INET6, &cl->vip6, a, sizeof(a)), cl->prefix6);
			cl->tun6_err = 0;
		}
	}
	if (!what[0])
		return 0;
	char err[256];
	bool routes = fulltunnel_repair(&cl->ft, err, sizeof(err)) == 0;
	bool last;
	if (log_budget_take(&cl->tun_check_log, 10, LOG_LVL_WARN, "changes to the TUN undone", &last))
		log_warn("%s lost its VPN address %s (removed from outside): put back%s%s%s", cl->tunname,
		         what, cl->ft.high_added ? ", with the full tunnel's routes" : "",
		         routes ? "" : "; but --full-tunnel: ", routes ? log_budget_more(last) : err);
	if (cl->ft.high_added)
		full_tunnel6_late(cl);
	return 0;
}

void client_hub_network(struct client *cl, const struct slopn_network *n)
{
	if (!n->egress6 || cl->hub_egress6)
		return;
	cl->hub_egress6 = true;
	full_tunnel6_late(cl);
}

/* Disconnected or stopping: routing and resolv.conf as they were. */
void client_restore_network(struct client *cl)
{
	bool routes = cl->ft.high_added || cl->ft.low_added || cl->ft.host_added ||
	              cl->ft.high6_added || cl->ft.low6_added || cl->ft.low6_blocked ||
	              cl->ft.high6_blocked;
	fulltunnel_down(&cl->ft);
	if (routes)
		log_info("full tunnel: routes removed");
	char err[512];
	dns_watch_stop(cl); /* the restore is ours */
	if (cl->dns_set || cl->cfg->accept_dns) {
		int r = dns_restore(cl->cfg->resolv_conf, cl->resolv_backup, err, sizeof(err));
		if (r < 0)
			log_err("--accept-dns: %s", err);
		else if (r == DNS_RESTORED)
			log_info("dns: %s restored", cl->cfg->resolv_conf);
		else if (r == DNS_DROPPED)
			log_info("dns: %s was rewritten by another program since the hub's servers went "
			         "in: left as it is", cl->cfg->resolv_conf);
		else if (r == DNS_BAD_BACKUP)
			log_warn("--accept-dns: %s", err);
		cl->dns_set = false;
	}
}
