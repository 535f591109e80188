/* rtnetlink requests over libmnl. Not per packet, but not only at
 * start-up either: the hub asks per handshake, per session on a route
 * change, and every 10 ms while a session holds its TUN (the TUN's drops).
 * So the main thread keeps one socket open (a socket per request cost
 * twice the time: socket, bind, close); other threads (the hub's NAT
 * renewal) open one per request. */
#include "tun/netlink.h"
#include "proto/addr.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct mnl_socket *nl_open(void)
{
	/* Close-on-exec: the hub spawns iptables from a thread meanwhile. */
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(nl);
		errno = e;
		return NULL;
	}
	return nl;
}

/* The main thread's socket; closed after any failure, so that no reply to
 * a request given up can be taken for the next one's. A request made
 * while a dump is read (from nl_route_each's callback) takes a socket of
 * its own: the dump's replies are still coming on this one. */
static struct mnl_socket *kept;
static bool kept_busy;

/* Send one request and wait for its ack; cb, if given, sees every reply of a dump. */
static int nl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	static unsigned seq;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	bool keep = gettid() == getpid() && !kept_busy; /* kept_busy: the main thread's alone */
	struct mnl_socket *nl = keep ? kept : NULL;
	if (!nl && !(nl = nl_open()))
		return -1;
	if (keep)
		kept_busy = true;
	int rv = -1, err = 0;
	unsigned portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = keep ? ++seq : (unsigned)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			goto out;
		int r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data);
		if (r < 0) {
			err = errno;
			goto out;
		}
		if (r == MNL_CB_STOP)
			break;
	}
	rv = 0;
out:
	if (rv < 0 && !err)
		err = errno;
	if (keep) {
		kept_busy = false;
		kept = rv == 0 ? nl : NULL;
	}
	if (!keep || rv < 0)
		mnl_socket_close(nl);
	errno = err;
	return rv;
}

static struct nlmsghdr *start(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return nlh;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Dump every object of a kind (addresses, routes) of one family through
 * cb. Both request headers begin with their family byte. */
static int dump(int family, uint16_t type, size_t hdrlen, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	unsigned char *fam = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	*fam = (unsigned char)family;
	return nl_talk(nlh, cb, data);
}

static int addr_msg(uint16_t type, uint16_t flags, int family, int ifindex, const void *addr,
                    unsigned prefix, uint32_t ifa_flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = start(buf, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(family), addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(family), addr);
	if (ifa_flags)
		mnl_attr_put_u32(nlh, IFA_FLAGS, ifa_flags);
	return nl_talk(nlh, NULL, NULL);
}

int nl_addr_add(int ifindex, uint32_t addr, unsigned prefix)
{
	return addr_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, AF_INET, ifindex, &addr, prefix, 0);
}

int nl_addr_add_noroute(int ifindex, uint32_t addr, unsigned prefix)
{
	return addr_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, AF_INET, ifindex, &addr, prefix,
	                IFA_F_NOPREFIXROUTE);
}

int nl_addr_del(int family, int ifindex, const void *addr, unsigned prefix)
{
	return addr_msg(RTM_DELADDR, 0, family, ifindex, addr, prefix, 0);
}

int nl_addr6_add(int ifindex, const uint8_t addr[16], unsigned prefix, bool prefix_route)
{
	/* No duplicate address detection: the hub hands out each address once. */
	return addr_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, AF_INET6, ifindex, addr, prefix,
	                IFA_F_NODAD | (prefix_route ? 0 : IFA_F_NOPREFIXROUTE));
}

struct addr_list {
	int family;
	struct nl_addr *a;
	struct nl_addr6 *a6;
	unsigned n, max;
	int ifindex;            /* only this interface's; 0: every one */
};

static int collect_addr(const struct nlmsghdr *nlh, void *data)
{
	struct addr_list *l = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != l->family || l->n == l->max ||
	    (l->ifindex && (int)ifa->ifa_index != l->ifindex))
		return MNL_CB_OK;
	uint32_t flags = ifa->ifa_flags;
	const void *addr = NULL;
	struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		uint16_t t = mnl_attr_get_type(a);
		bool len_ok = mnl_attr_get_payload_len(a) == addr_len(l->family);
		/* An IPv4 address is its IFA_LOCAL; IPv6 has IFA_ADDRESS only. */
		if (len_ok && (t == IFA_LOCAL || (t == IFA_ADDRESS && !addr)))
			addr = mnl_attr_get_payload(a);
		else if (t == IFA_FLAGS && mnl_attr_get_payload_len(a) == 4)
			flags = mnl_attr_get_u32(a);
	}
	if (!addr)
		return MNL_CB_OK;
	if (l->family == AF_INET) {
		struct nl_addr *o = &l->a[l->n++];
		*o = (struct nl_addr){.ifindex = (int)ifa->ifa_index, .prefix = ifa->ifa_prefixlen};
		memcpy(&o->addr, addr, 4);
	} else {
		struct nl_addr6 *o = &l->a6[l->n++];
		*o = (struct nl_addr6){.ifindex = (int)ifa->ifa_index, .prefix = ifa->ifa_prefixlen,
		                       .permanent = flags & IFA_F_PERMANENT};
		memcpy(o->addr, addr, 16);
	}
	return MNL_CB_OK;
}

int nl_addr_dump(struct nl_addr *out, unsigned max)
{
	struct addr_list l = {.family = AF_INET, .a = out, .max = max};
	if (dump(AF_INET, RTM_GETADDR, sizeof(struct ifaddrmsg), collect_addr, &l) < 0)
		return -1;
	return (int)l.n;
}

int nl_addr6_dump(struct nl_addr6 *out, unsigned max)
{
	struct addr_list l = {.family = AF_INET6, .a6 = out, .max = max};
	if (dump(AF_INET6, RTM_GETADDR, sizeof(struct ifaddrmsg), collect_addr, &l) < 0)
		return -1;
	return (int)l.n;
}

bool nl_has_addr4(int ifindex, uint32_t addr)
{
	struct nl_addr a[256];
	int n = nl_addr_dump(a, 256);
	for (int i = 0; i < n; i++)
		if (a[i].ifindex == ifindex && a[i].addr == addr)
			return true;
	return n < 0;
}

bool nl_has_addr6(int ifindex, const uint8_t addr[16])
{
	struct nl_addr6 a[256];
	int n = nl_addr6_dump(a, 256);
	for (int i = 0; i < n; i++)
		if (a[i].ifindex == ifindex && !memcmp(a[i].addr, addr, 16))
			return true;
	return n < 0;
}

/* The interface's own addresses only: a machine's others (a host with
 * hundreds, containers' among them) must not crowd them out of the list. */
int nl_addr_flush(int ifindex, uint32_t keep, unsigned keep_prefix)
{
	struct nl_addr a[64];
	struct addr_list l = {.family = AF_INET, .a = a, .max = 64, .ifindex = ifindex};
	if (dump(AF_INET, RTM_GETADDR, sizeof(struct ifaddrmsg), collect_addr, &l) < 0)
		return -1;
	for (unsigned i = 0; i < l.n; i++) {
		if (keep && a[i].addr == keep && a[i].prefix == keep_prefix)
			continue;
		if (addr_msg(RTM_DELADDR, 0, AF_INET, ifindex, &a[i].addr, a[i].prefix, 0) < 0 &&
		    errno != EADDRNOTAVAIL)
			return -1;
	}
	return 0;
}

int nl_addr6_flush(int ifindex)
{
	struct nl_addr6 a[64];
	struct addr_list l = {.family = AF_INET6, .a6 = a, .max = 64, .ifindex = ifindex};
	if (dump(AF_INET6, RTM_GETADDR, sizeof(struct ifaddrmsg), collect_addr, &l) < 0)
		return -1;
	for (unsigned i = 0; i < l.n; i++)
		if (addr_msg(RTM_DELADDR, 0, AF_INET6, ifindex, a[i].addr, a[i].prefix, 0) < 0 &&
		    errno != EADDRNOTAVAIL)
			return -1;
	return 0;
}

bool nl_ipv6_disabled(const char *ifname)
{
	char path[96], v = '1';
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true; /* no IPv6 in this kernel, or no such device */
	if (read(fd, &v, 1) != 1)
		v = '1';
	close(fd);
	return v != '0';
}

/* A link message for ifindex, its header filled in: attributes follow. */
static struct nlmsghdr *link_start(char *buf, uint16_t type, int ifindex, unsigned flags,
                                   unsigned change)
{
	struct nlmsghdr *nlh = start(buf, type, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	return nlh;
}

int nl_set_addr_gen_none(int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_start(buf, RTM_NEWLINK, ifindex, 0, 0);
	struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	struct nlattr *in6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, spec);
	return nl_talk(nlh, NULL, NULL);
}

int nl_set_promote_secondaries(int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_start(buf, RTM_NEWLINK, ifindex, 0, 0);
	struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	struct nlattr *in = mnl_attr_nest_start(nlh, AF_INET);
	struct nlattr *conf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);
	mnl_attr_put_u32(nlh, IPV4_DEVCONF_PROMOTE_SECONDARIES, 1);
	mnl_attr_nest_end(nlh, conf);
	mnl_attr_nest_end(nlh, in);
	mnl_attr_nest_end(nlh, spec);
	return nl_talk(nlh, NULL, NULL);
}

static int link_msg(uint16_t type, int ifindex, unsigned flags, unsigned change, unsigned mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_start(buf, type, ifindex, flags, change);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_talk(nlh, NULL, NULL);
}

int nl_set_mtu(int ifindex, unsigned mtu)
{
	return link_msg(RTM_NEWLINK, ifindex, 0, 0, mtu);
}

int nl_set_txqlen(int ifindex, unsigned qlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_start(buf, RTM_NEWLINK, ifindex, 0, 0);
	mnl_attr_put_u32(nlh, IFLA_TXQLEN, qlen);
	return nl_talk(nlh, NULL, NULL);
}

int nl_set_up(int ifindex, int up)
{
	return link_msg(RTM_NEWLINK, ifindex, up ? IFF_UP : 0, IFF_UP, 0);
}

int nl_link_delete(int ifindex)
{
	return link_msg(RTM_DELLINK, ifindex, 0, 0, 0);
}

/* IFLA_AF_SPEC's AF_INET6 IFLA_INET6_ADDR_GEN_MODE, or -1. */
static int addr_gen_mode(const struct nlattr *spec)
{
	const struct nlattr *af, *a;
	mnl_attr_for_each_nested(af, spec) {
		if (mnl_attr_get_type(af) != AF_INET6)
			continue;
		mnl_attr_for_each_nested(a, af)
			if (mnl_attr_get_type(a) == IFLA_INET6_ADDR_GEN_MODE &&
			    mnl_attr_get_payload_len(a) >= 1)
				return *(const uint8_t *)mnl_attr_get_payload(a);
	}
	return -1;
}

static int got_link(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	struct nl_link *l = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	l->flags = ifi->ifi_flags;
	struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		uint16_t t = mnl_attr_get_type(a);
		if (t == IFLA_MTU && mnl_attr_get_payload_len(a) == 4)
			l->mtu = mnl_attr_get_u32(a);
		/* The structure grew over the years; tx_dropped has kept its place. */
		else if (t == IFLA_STATS64 &&
		         mnl_attr_get_payload_len(a) >= offsetof(struct rtnl_link_stats64, tx_dropped) + 8)
			memcpy(&l->tx_dropped, (const char *)mnl_attr_get_payload(a) +
			                       offsetof(struct rtnl_link_stats64, tx_dropped), 8);
		else if (t == IFLA_AF_SPEC)
			l->addr_gen = addr_gen_mode(a);
	}
	return MNL_CB_OK;
}

int nl_link_get(int ifindex, struct nl_link *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = start(buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	*out = (struct nl_link){.addr_gen = -1};
	return nl_talk(nlh, got_link, out);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* gw NULL or all zero: on-link. */
static int route_msg(uint16_t type, uint16_t flags, int family, int ifindex, const void *dst,
                     unsigned prefix, const void *gw, uint8_t proto, uint32_t metric)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = start(buf, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	bool via = gw && !all_zero(gw, addr_len(family));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = proto;
	/* IPv6 routes have no scope but universe. */
	rtm->rtm_scope = via || family == AF_INET6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, addr_len(family), dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	if (via)
		mnl_attr_put(nlh, RTA_GATEWAY, addr_len(family), gw);
	if (metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, metric);
	return nl_talk(nlh, NULL, NULL);
}

int nl_route_add(int ifindex, uint32_t dst, unsigned prefix, uint32_t gateway)
{
	return route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, AF_INET, ifindex, &dst, prefix,
	                 &gateway, RTPROT_STATIC, 0);
}

int nl_route_del(int ifindex, uint32_t dst, unsigned prefix, uint32_t gateway)
{
	return route_msg(RTM_DELROUTE, 0, AF_INET, ifindex, &dst, prefix, &gateway, RTPROT_STATIC, 0);
}

/* EXCL, not REPLACE: a route of the administrator's to the same
 * destination is never overwritten (and so never lost at exit). */
int nl_route_add_own(int ifindex, uint32_t dst, unsigned prefix, uint32_t gateway)
{
	return route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET, ifindex, &dst, prefix,
	                 &gateway, SLOPN_RTPROT, 0);
}

int nl_route_del_own(int ifindex, uint32_t dst, unsigned prefix, uint32_t gateway)
{
	return route_msg(RTM_DELROUTE, 0, AF_INET, ifindex, &dst, prefix, &gateway, SLOPN_RTPROT, 0);
}

int nl_route6_add_own(int ifindex, const uint8_t dst[16], unsigned prefix, const uint8_t gw[16])
{
	return route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET6, ifindex, dst, prefix, gw,
	                 SLOPN_RTPROT, 0);
}

int nl_route6_del_own(int ifindex, const uint8_t dst[16], unsigned prefix, const uint8_t gw[16])
{
	return route_msg(RTM_DELROUTE, 0, AF_INET6, ifindex, dst, prefix, gw, SLOPN_RTPROT, 0);
}

/* No interface, no gateway: the kernel answers EHOSTUNREACH. */
static int unreachable6_msg(uint16_t type, uint16_t flags, const uint8_t dst[16], unsigned prefix,
                            uint32_t metric)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = start(buf, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = (unsigned char)prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = SLOPN_RTPROT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNREACHABLE;
	mnl_attr_put(nlh, RTA_DST, 16, dst);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, metric);
	return nl_talk(nlh, NULL, NULL);
}

int nl_route6_unreachable_add(const uint8_t dst[16], unsigned prefix, uint32_t metric)
{
	return unreachable6_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, dst, prefix, metric);
}

int nl_route6_unreachable_del(const uint8_t dst[16], unsigned prefix, uint32_t metric)
{
	return unreachable6_msg(RTM_DELROUTE, 0, dst, prefix, metric);
}

/* One route of the main table, as a dump or a lookup returns it; an IPv4
 * address in the first 4 bytes. */
struct route_info {
	int family;
	unsigned char dst_len, proto, type;
	unsigned table;
	uint8_t dst[16], gw[16];
	int oif;                /* of a multipath route too, when its next hops share one */
	uint32_t metric;
	bool via;               /* a gateway, or next hops that may have one */
	bool oifs;              /* next hops out of several interfaces (oif 0) */
};

/* The interface a multipath route's next hops leave by, when they all
 * leave by one (0 when none says, -1 when they differ). */
static int multipath_oif(const struct nlattr *a)
{
	const uint8_t *p = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a);
	int oif = 0;
	while (len >= sizeof(struct rtnexthop)) {
		struct rtnexthop nh;
		memcpy(&nh, p, sizeof(nh));
		if (nh.rtnh_len < sizeof(nh) || nh.rtnh_len > len)
			break;
		if (oif && nh.rtnh_ifindex != oif)
			return -1;
		oif = nh.rtnh_ifindex;
		size_t step = RTNH_ALIGN(nh.rtnh_len);
		if (step >= len)
			break;
		p += step, len -= step;
	}
	return oif;
}

static void parse_route(const struct nlmsghdr *nlh, struct route_info *r)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	*r = (struct route_info){.family = rtm->rtm_family, .dst_len = rtm->rtm_dst_len,
	                         .proto = rtm->rtm_protocol, .table = rtm->rtm_table,
	                         .type = rtm->rtm_type};
	size_t alen = addr_len(rtm->rtm_family);
	int mp = 0;
	struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		bool u32 = mnl_attr_get_payload_len(a) == 4, ip = mnl_attr_get_payload_len(a) == alen;
		switch (mnl_attr_get_type(a)) {
		case RTA_DST: if (ip) memcpy(r->dst, mnl_attr_get_payload(a), alen); break;
		case RTA_GATEWAY: if (ip) memcpy(r->gw, mnl_attr_get_payload(a), alen); r->via = true; break;
		case RTA_VIA: case RTA_NH_ID: r->via = true; break;
		case RTA_MULTIPATH: r->via = true; mp = multipath_oif(a); break;
		case RTA_OIF: if (u32) r->oif = (int)mnl_attr_get_u32(a); break;
		case RTA_PRIORITY: if (u32) r->metric = mnl_attr_get_u32(a); break;
		case RTA_TABLE: if (u32) r->table = mnl_attr_get_u32(a); break;
		}
	}
	if (!r->oif && mp > 0)
		r->oif = mp;
	r->oifs = !r->oif && mp < 0;
}

/* Every unicast route of a family but the local table's, to each (a list,
 * or a search). */
struct route_walk {
	int family;
	void (*each)(const struct nl_route *, void *);
	void *data;
};

static int walk_route(const struct nlmsghdr *nlh, void *data)
{
	struct route_walk *w = data;
	struct route_info r;
	parse_route(nlh, &r);
	if (r.family != w->family || r.type != RTN_UNICAST || r.table == RT_TABLE_LOCAL)
		return MNL_CB_OK;
	struct nl_route o = {.ifindex = r.oif, .prefix = r.dst_len, .via = r.via,
	                     .metric = r.metric, .table = r.table, .proto = r.proto};
	memcpy(o.dst, r.dst, sizeof(o.dst));
	memcpy(o.gw, r.gw, sizeof(o.gw));
	w->each(&o, w->data);
	return MNL_CB_OK;
}

int nl_route_each(int family, void (*each)(const struct nl_route *, void *), void *data)
{
	struct route_walk w = {family, each, data};
	return dump(family, RTM_GETROUTE, sizeof(struct rtmsg), walk_route, &w);
}

struct route_list {
	struct nl_route *r;
	unsigned n, max;
};

static void collect_route(const struct nl_route *r, void *data)
{
	struct route_list *l = data;
	if (l->n < l->max)
		l->r[l->n++] = *r;
}

int nl_route_dump(int family, struct nl_route *out, unsigned max)
{
	struct route_list l = {.r = out, .max = max};
	if (nl_route_each(family, collect_route, &l) < 0)
		return -1;
	return (int)l.n;
}

struct route_search {
	bool (*match)(const struct nl_route *, void *);
	void *data;
	struct nl_route *found;
	bool hit;
};

static void search_route(const struct nl_route *r, void *data)
{
	struct route_search *s = data;
	if (!s->hit && s->match(r, s->data)) {
		*s->found = *r;
		s->hit = true;
	}
}

int nl_route_find(int family, bool (*match)(const struct nl_route *, void *), void *data,
                  struct nl_route *found)
{
	struct route_search s = {match, data, found, false};
	if (nl_route_each(family, search_route, &s) < 0)
		return -1;
	return s.hit;
}

bool nl_route_lan_holds(const struct nl_route *r, int family, const void *net, unsigned prefix,
                        int except)
{
	return !r->via && r->ifindex && r->ifindex != except &&
	       r->prefix >= (family == AF_INET6 ? 16u : 8u) && r->prefix <= prefix &&
	       addr_same_prefix(net, r->dst, r->prefix);
}

struct shadow_query {
	int family, except;
	const void *net;
	unsigned prefix;
};

static bool shadows(const struct nl_route *r, void *data)
{
	const struct shadow_query *q = data;
	return r->table == RT_TABLE_MAIN && r->proto != SLOPN_RTPROT &&
	       !(r->ifindex && r->ifindex == q->except) && r->prefix >= q->prefix &&
	       addr_same_prefix(r->dst, q->net, q->prefix);
}

int nl_route_shadowing(int family, const void *net, unsigned prefix, int except,
                       struct nl_route *found)
{
	struct shadow_query q = {family, except, net, prefix};
	return nl_route_find(family, shadows, &q, found);
}

struct wider_walk {
	struct shadow_query q;
	struct nl_route *best;
	bool found;
};

static void wider(const struct nl_route *r, void *data)
{
	struct wider_walk *w = data;
	const struct shadow_query *q = &w->q;
	if (r->table == RT_TABLE_MAIN && r->proto != SLOPN_RTPROT &&
	    !(r->ifindex && r->ifindex == q->except) && r->prefix < q->prefix &&
	    r->prefix >= (q->family == AF_INET6 ? 16u : 8u) &&
	    addr_same_prefix(q->net, r->dst, r->prefix) && (!w->found || r->prefix > w->best->prefix)) {
		*w->best = *r;
		w->found = true;
	}
}

int nl_route_wider(int family, const void *net, unsigned prefix, int except,
                   struct nl_route *found)
{
	struct wider_walk w = {{family, except, net, prefix}, found, false};
	if (nl_route_each(family, wider, &w) < 0)
		return -1;
	return w.found ? 1 : 0;
}

struct default_search {
	int oif;
	bool oifs; /* a default route out of several interfaces */
};

static int find_default(const struct nlmsghdr *nlh, void *data)
{
	struct route_info r;
	parse_route(nlh, &r);
	struct default_search *d = data;
	if (r.table == RT_TABLE_MAIN && r.dst_len == 0 && r.type == RTN_UNICAST) {
		if (r.oif && d->oif == 0)
			d->oif = r.oif;
		d->oifs |= r.oifs;
	}
	return MNL_CB_OK;
}

static int default_oif(int family, int *oif)
{
	struct default_search d = {0, false};
	*oif = 0;
	if (dump(family, RTM_GETROUTE, sizeof(struct rtmsg), find_default, &d) < 0)
		return -1;
	if (d.oif == 0) {
		errno = d.oifs ? ENOTUNIQ : ENOENT;
		return -1;
	}
	*oif = d.oif;
	return 0;
}

int nl_default_oif(int *oif)
{
	return default_oif(AF_INET, oif);
}

int nl_default6_oif(int *oif)
{
	return default_oif(AF_INET6, oif);
}

static int got_route(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWROUTE)
		parse_route(nlh, data);
	return MNL_CB_OK;
}

static int route_get(int family, const void *dst, int *oif, void *gateway)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = start(buf, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)(8 * addr_len(family));
	mnl_attr_put(nlh, RTA_DST, addr_len(family), dst);
	struct route_info r = {0};
	if (nl_talk(nlh, got_route, &r) < 0)
		return -1;
	if (!r.oif) {
		errno = ENETUNREACH;
		return -1;
	}
	*oif = r.oif;
	memcpy(gateway, r.gw, addr_len(family));
	return 0;
}

/* RTA_METRICS' RTAX_MTU, 0 when none. */
static int got_route_mtu(const struct nlmsghdr *nlh, void *data)
{
	uint32_t *mtu = data;
	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	struct nlattr *a, *m;
	mnl_attr_for_each(a, nlh, sizeof(struct rtmsg)) {
		if (mnl_attr_get_type(a) != RTA_METRICS)
			continue;
		mnl_attr_for_each_nested(m, a)
			if (mnl_attr_get_type(m) == RTAX_MTU && mnl_attr_get_payload_len(m) == 4)
				*mtu = mnl_attr_get_u32(m);
	}
	return MNL_CB_OK;
}

int nl_route_mtu(int family, const void *dst, uint32_t *mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = start(buf, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)(8 * addr_len(family));
	/* The route as configured, not the cached one an ICMP "too big"
	 * made for this destination. */
	rtm->rtm_flags = RTM_F_FIB_MATCH;
	mnl_attr_put(nlh, RTA_DST, addr_len(family), dst);
	*mtu = 0;
	return nl_talk(nlh, got_route_mtu, mtu);
}

int nl_route_get(uint32_t dst, int *oif, uint32_t *gateway)
{
	return route_get(AF_INET, &dst, oif, gateway);
}

int nl_route6_get(const uint8_t dst[16], int *oif, uint8_t gateway[16])
{
	return route_get(AF_INET6, dst, oif, gateway);
}

int nl_host_route_add(int family, int ifindex, const void *dst, const void *gw, uint32_t metric)
{
	return route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, family, ifindex, dst,
	                 family == AF_INET6 ? 128 : 32, gw, SLOPN_RTPROT, metric);
}

int nl_host_route_replace(int family, int ifindex, const void *dst, const void *gw, uint32_t metric)
{
	return route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, family, ifindex, dst,
	                 family == AF_INET6 ? 128 : 32, gw, SLOPN_RTPROT, metric);
}

int nl_host_route_del(int family, int ifindex, const void *dst, const void *gw, uint32_t metric)
{
	return route_msg(RTM_DELROUTE, 0, family, ifindex, dst, family == AF_INET6 ? 128 : 32, gw,
	                 SLOPN_RTPROT, metric);
}

struct own_match {
	int family;
	uint32_t metric;
	const void *dst;
	unsigned n;
	struct route_info found[16];
};

static int collect_own(const struct nlmsghdr *nlh, void *data)
{
	struct own_match *m = data;
	struct route_info r;
	parse_route(nlh, &r);
	if (r.table != RT_TABLE_MAIN || r.proto != SLOPN_RTPROT || r.family != m->family ||
	    r.dst_len != addr_len(m->family) * 8 || m->n == 16)
		return MNL_CB_OK;
	/* The kernel's metric for a route added without one (an older
	 * slopnd's): 1024 for IPv6. */
	uint32_t none = m->family == AF_INET6 ? 1024 : 0;
	if (r.metric == m->metric ||
	    (r.metric == none && m->dst && !memcmp(r.dst, m->dst, addr_len(m->family))))
		m->found[m->n++] = r;
	return MNL_CB_OK;
}

int nl_host_route_flush(int family, uint32_t metric, const void *dst)
{
	struct own_match m = {.family = family, .metric = metric, .dst = dst};
	if (dump(family, RTM_GETROUTE, sizeof(struct rtmsg), collect_own, &m) < 0)
		return -1;
	for (unsigned i = 0; i < m.n; i++)
		if (nl_host_route_del(family, m.found[i].oif, m.found[i].dst, m.found[i].gw,
		                      m.found[i].metric) < 0 && errno != ESRCH)
			return -1;
	return (int)m.n;
}

struct unreachable_match {
	uint32_t metric;
	unsigned n;
	struct route_info found[16];
};

static int collect_unreachable(const struct nlmsghdr *nlh, void *data)
{
	struct unreachable_match *m = data;
	struct route_info r;
	parse_route(nlh, &r);
	if (r.table == RT_TABLE_MAIN && r.proto == SLOPN_RTPROT && r.family == AF_INET6 &&
	    r.type == RTN_UNREACHABLE && r.metric == m->metric && m->n < 16)
		m->found[m->n++] = r;
	return MNL_CB_OK;
}

int nl_route6_unreachable_flush(uint32_t metric)
{
	struct unreachable_match m = {.metric = metric};
	if (dump(AF_INET6, RTM_GETROUTE, sizeof(struct rtmsg), collect_unreachable, &m) < 0)
		return -1;
	for (unsigned i = 0; i < m.n; i++)
		if (nl_route6_unreachable_del(m.found[i].dst, m.found[i].dst_len, metric) < 0 &&
		    errno != ESRCH)
			return -1;
	return (int)m.n;
}

static int monitor_open(uint32_t groups)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int nl_monitor_open(void)
{
	return monitor_open(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE |
	                    RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE);
}

int nl_link_monitor_open(void)
{
	return monitor_open(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR);
}

struct monitor_ctx {
	int own;
	int changes;
	int *own_up;
	bool *own_touched;
	bool *own_routes;
};

static int route_oif_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		*(int *)data = (int)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int monitor_cb(const struct nlmsghdr *nlh, void *data)
{
	struct monitor_ctx *m = data;
	int ifindex = 0;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK: {
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
			return MNL_CB_OK;
		const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
		ifindex = ifi->ifi_index;
		/* A deleted device says so through its fd (tun_read). */
		if (ifindex == m->own && nlh->nlmsg_type == RTM_NEWLINK) {
			*m->own_up = !!(ifi->ifi_flags & IFF_UP);
			if (m->own_touched)
				*m->own_touched = true; /* its MTU, say */
		}
		break;
	}
	case RTM_NEWADDR:
	case RTM_DELADDR:
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
			return MNL_CB_OK;
		ifindex = (int)((const struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_index;
		if (ifindex == m->own && nlh->nlmsg_type == RTM_DELADDR && m->own_touched)
			*m->own_touched = true;
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE: {
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
			return MNL_CB_OK;
		const struct rtmsg *rt = mnl_nlmsg_get_payload(nlh);
		if (rt->rtm_protocol == SLOPN_RTPROT)
			return MNL_CB_OK;
		mnl_attr_parse(nlh, sizeof(*rt), route_oif_cb, &ifindex);
		if (ifindex == m->own && m->own_routes)
			*m->own_routes = true;
		break;
	}
	default:
		return MNL_CB_OK;
	}
	if (ifindex != m->own)
		m->changes++;
	return MNL_CB_OK;
}

int nl_monitor_drain(int fd, int own, int *own_up, bool *own_touched, bool *own_routes)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct monitor_ctx m = {.own = own, .own_up = own_up, .own_touched = own_touched,
	                        .own_routes = own_routes};
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			m.changes++; /* the kernel dropped events: look again anyway */
			if (own_touched)
				*own_touched = true;
			if (own_routes)
				*own_routes = true;
			continue;
		}
		if (n <= 0)
			break;
		mnl_cb_run(buf, (size_t)n, 0, 0, monitor_cb, &m);
	}
	return m.changes;
}
