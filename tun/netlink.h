/* Interface configuration over rtnetlink (libmnl): no `ip` processes.
 * Every function returns 0, or -1 with errno set (the kernel's answer). */
#ifndef SLOPN_TUN_NETLINK_H
#define SLOPN_TUN_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

/* Addresses are network byte order. */
int nl_addr_add(int ifindex, uint32_t addr, unsigned prefix);   /* replaces an equal one */
/* The same, without the kernel's route to the prefix (--no-route). */
int nl_addr_add_noroute(int ifindex, uint32_t addr, unsigned prefix);
/* All IPv4 addresses but keep/keep_prefix (keep 0: all). */
int nl_addr_flush(int ifindex, uint32_t keep, unsigned keep_prefix);
/* Deleting the device's primary IPv4 address promotes a secondary one
 * instead of deleting it too (net.ipv4.conf.IF.promote_secondaries). */
int nl_set_promote_secondaries(int ifindex);
/* IPv6, 16 bytes: with the kernel's route to the prefix or (--no-route)
 * without; no duplicate address detection. Flush: all IPv6 addresses. */
int nl_addr6_add(int ifindex, const uint8_t addr[16], unsigned prefix, bool prefix_route);
int nl_addr6_flush(int ifindex);
/* One address (family AF_INET or AF_INET6; IPv4 network order) off ifindex. */
int nl_addr_del(int family, int ifindex, const void *addr, unsigned prefix);
/* IPv6 is off for the device (net.ipv6.conf.IF.disable_ipv6, or no IPv6 in
 * the kernel): its IPv6 addresses would be refused. */
bool nl_ipv6_disabled(const char *ifname);
/* No link-local address on the device, so the kernel sends no router
 * solicitations on it. Before the device goes up. */
int nl_set_addr_gen_none(int ifindex);
int nl_set_mtu(int ifindex, unsigned mtu);
int nl_set_txqlen(int ifindex, unsigned qlen);                  /* the device's queue, in packets */
int nl_set_up(int ifindex, int up);
/* Route dst/prefix via device ifindex (gateway 0 = on-link), in the main table.
 * nl_route_add replaces an existing route with the same key. */
int nl_route_add(int ifindex, uint32_t dst, unsigned prefix, uint32_t gateway);
int nl_route_del(int ifindex, uint32_t dst, unsigned prefix, uint32_t gateway);
int nl_link_delete(int ifindex);
/* What a device is: its flags (IFF_*), its MTU, its tx_dropped counter
 * (what the kernel could not queue on it) and its IPv6 link-local address
 * mode (IN6_ADDR_GEN_MODE_*; -1: it has no IPv6, e.g. an MTU under 1280).
 * 0 or -1. */
struct nl_link {
	unsigned flags;
	unsigned mtu;
	uint64_t tx_dropped;
	int addr_gen;
};
int nl_link_get(int ifindex, struct nl_link *out);

/* An IPv4 address of the machine, as the kernel lists it. */
struct nl_addr {
	int ifindex;
	uint32_t addr;          /* network order */
	unsigned prefix;
};
/* Every IPv4 address on every interface; at most max. Returns the count or -1. */
int nl_addr_dump(struct nl_addr *out, unsigned max);
struct nl_addr6 {
	int ifindex;
	uint8_t addr[16];
	unsigned prefix;
	bool permanent;         /* configured, not learnt (router advertisements, DHCPv6) */
};
int nl_addr6_dump(struct nl_addr6 *out, unsigned max);
/* Interface ifindex has the address (IPv4 network order; IPv6 16 bytes);
 * also true when the kernel cannot tell (a failed dump): nothing is put
 * back then. */
bool nl_has_addr4(int ifindex, uint32_t addr);
bool nl_has_addr6(int ifindex, const uint8_t addr[16]);

/* A unicast route of the machine's, in any table but the local one. */
struct nl_route {
	int ifindex;            /* 0 with several next hops */
	uint8_t dst[16];        /* IPv4: the first 4 bytes, network order */
	unsigned prefix;
	bool via;               /* through a gateway (next hops: may be) */
	uint8_t gw[16];         /* that gateway; zeros with several next hops */
	uint32_t metric;        /* its priority: the lower wins among equal prefixes */
	uint32_t table;
	uint8_t proto;          /* who made it: SLOPN_RTPROT for ours */
};
/* Every such route of a family (AF_INET, AF_INET6); at most max. Returns
 * the count or -1. */
int nl_route_dump(int family, struct nl_route *out, unsigned max);
/* Each such route of a family, to each: 0, or -1 when the routes cannot
 * be listed. */
int nl_route_each(int family, void (*each)(const struct nl_route *, void *), void *data);
/* The first such route of a family that match takes, in *found: 1; 0 when
 * none does; -1 when the routes cannot be listed. Sees every route, however
 * many. */
int nl_route_find(int family, bool (*match)(const struct nl_route *, void *), void *data,
                  struct nl_route *found);
/* Whether r is the route of a network beside this machine (reached without
 * a gateway, not through interface except, not a way out shorter than /8,
 * IPv6 /16) that holds net/prefix: a route of that prefix would take the
 * network's hosts (its router, its DNS server) away from it. */
bool nl_route_lan_holds(const struct nl_route *r, int family, const void *net, unsigned prefix,
                        int except);

/* A route of the main table, not through interface except nor one of
 * ours (SLOPN_RTPROT), that takes some of net/prefix away from a route
 * of that prefix: its network lies in net/prefix, at that prefix or a
 * longer one (another interface's address in the VPN subnet, say).
 * 1 with it in *found, 0 when there is none, -1 when the routes cannot be
 * listed. */
int nl_route_shadowing(int family, const void *net, unsigned prefix, int except,
                       struct nl_route *found);
/* The other way round: such a route that holds all of net/prefix at a
 * shorter prefix, one of /8 (IPv6 /16) or longer (not a way out such as a
 * default route), whose part net/prefix a route of that prefix takes
 * (another VPN's network, a site's behind a router). The longest such. */
int nl_route_wider(int family, const void *net, unsigned prefix, int except,
                   struct nl_route *found);

/* The interface of the main table's IPv4 (IPv6) default route (a multipath
 * one's when its next hops share it). -1 with ENOENT if none, ENOTUNIQ if
 * the only one leaves by several interfaces. */
int nl_default_oif(int *oif);
int nl_default6_oif(int *oif);
/* What `ip route get DST` says: the output interface and the gateway
 * (0 when DST is on-link). */
int nl_route_get(uint32_t dst, int *oif, uint32_t *gateway);
/* The MTU set on the route to dst (ip route ... mtu N), as configured:
 * none that an ICMP "too big" made. *mtu 0 when it has none. 0, or -1. */
int nl_route_mtu(int family, const void *dst, uint32_t *mtu);
int nl_route6_get(const uint8_t dst[16], int *oif, uint8_t gateway[16]);
/* Routes SloPN installs for itself carry this protocol number, so that a
 * route left by a crash is recognised as ours (`ip route` shows "proto 83"). */
#define SLOPN_RTPROT 83
int nl_route_add_own(int ifindex, uint32_t dst, unsigned prefix, uint32_t gateway);
int nl_route_del_own(int ifindex, uint32_t dst, unsigned prefix, uint32_t gateway);
/* The same for IPv6 (gw NULL: on-link). */
int nl_route6_add_own(int ifindex, const uint8_t dst[16], unsigned prefix, const uint8_t gw[16]);
int nl_route6_del_own(int ifindex, const uint8_t dst[16], unsigned prefix, const uint8_t gw[16]);
/* A host route of ours (dst /32 or /128, gw all zero: on-link) whose
 * metric tells one client's from another's on the same machine. */
int nl_host_route_add(int family, int ifindex, const void *dst, const void *gw, uint32_t metric);
/* The same route (dst, metric) through another way, in one step. */
int nl_host_route_replace(int family, int ifindex, const void *dst, const void *gw, uint32_t metric);
int nl_host_route_del(int family, int ifindex, const void *dst, const void *gw, uint32_t metric);
/* An unreachable IPv6 route of ours (ip -6 route add unreachable DST/PREFIX
 * proto 83 metric METRIC): what it takes fails at once (EHOSTUNREACH),
 * through no interface. */
int nl_route6_unreachable_add(const uint8_t dst[16], unsigned prefix, uint32_t metric);
int nl_route6_unreachable_del(const uint8_t dst[16], unsigned prefix, uint32_t metric);
/* Delete every unreachable IPv6 route of ours in the main table with this
 * metric. Returns how many, or -1. */
int nl_route6_unreachable_flush(uint32_t metric);
/* Delete every host route of ours in the main table with this metric,
 * whatever its destination, and those with none to dst (an older
 * slopnd's; dst NULL: none of those). Returns how many, or -1. */
int nl_host_route_flush(int family, uint32_t metric, const void *dst);

/* A socket that hears of every change to links, addresses and routes
 * (IPv4 and IPv6): a client watches it to notice that its way to the hub
 * changed. Non-blocking, close-on-exec; the fd, or -1. */
int nl_monitor_open(void);
/* Links and addresses: the hub watches its TUN with it. */
int nl_link_monitor_open(void);
/* Read what is waiting; the number of changes that may matter to the way
 * out: those on interface own (our TUN) and routes of ours (SLOPN_RTPROT)
 * do not count. Lost events (ENOBUFS) count as one. *own_up becomes 1 or
 * 0 when own was last seen up or down (IFF_UP), and stays as it was when
 * nothing came of own's link. *own_touched (if not NULL) becomes true when
 * own's link changed (its MTU, say) or one of its addresses went, or events
 * were lost; *own_routes (if not NULL) when a route through own came or
 * went (not ours), or events were lost. */
int nl_monitor_drain(int fd, int own, int *own_up, bool *own_touched, bool *own_routes);

#endif
