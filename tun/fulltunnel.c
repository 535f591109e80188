#include "tun/fulltunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "proto/addr.h"
#include "tun/netlink.h"

#define LOW_HALF 0x00000000u    /* 0.0.0.0/1 */
#define HIGH_HALF 0x80000000u   /* 128.0.0.0/1 */
static const uint8_t low6[16], high6[16] = {0x80}; /* ::/1, 8000::/1 */

/* 83xxxxx: proto 83's, and 90000 names apart. */
uint32_t fulltunnel_metric(const char *tun)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = tun; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return 8300000 + h % 90000;
}

int fulltunnel_flush_stale(uint32_t metric, int family, const void *hub)
{
	return nl_host_route_flush(family, metric, hub);
}

int fulltunnel_flush_stale6(uint32_t metric)
{
	return nl_route6_unreachable_flush(metric);
}

/* What the machine's own routes say of the way to the hub, ours left out
 * (any SloPN client's host routes, the tunnel's halves): the main table's
 * longest prefix that holds it, of those the lowest metric (policy rules
 * aside: only a change of it counts, fulltunnel_way). A new default
 * route (another gateway on the same link, a cable's lower metric) changes
 * it while the host route we pinned still works. */
struct way {
	const uint8_t *hub;
	int tun;
	struct nl_route r;
	bool found;
};

static void better_way(const struct nl_route *r, void *data)
{
	struct way *w = data;
	if (r->table != RT_TABLE_MAIN || r->proto == SLOPN_RTPROT || r->ifindex == w->tun ||
	    !addr_same_prefix(w->hub, r->dst, r->prefix))
		return;
	if (!w->found || r->prefix > w->r.prefix ||
	    (r->prefix == w->r.prefix && r->metric < w->r.metric)) {
		w->r = *r;
		w->found = true;
	}
}

static bool way_now(const struct full_tunnel *ft, int *oif, uint8_t gw[16])
{
	struct way w = {.hub = ft->hub, .tun = ft->tun};
	if (nl_route_each(ft->family, better_way, &w) < 0 || !w.found)
		return false;
	*oif = w.r.ifindex;
	memcpy(gw, w.r.gw, 16);
	return true;
}

/* The host route to the hub through what reached it before. */
static int host_route(struct full_tunnel *ft, char *err, size_t errlen)
{
	char h[INET6_ADDRSTRLEN];
	inet_ntop(ft->family, ft->hub, h, sizeof(h));
	/* A hub on a link-local address is reached by its link's fe80::/64,
	 * which no route of the tunnel's covers (and a lookup without the
	 * interface could name another link). */
	if (ft->family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)(const void *)ft->hub))
		return 0;
	/* A host route of ours to this hub from a run that crashed would
	 * answer the lookup below with itself: out with it first. Another
	 * client's on this machine (another TUN, another metric) stays. */
	fulltunnel_flush_stale(ft->metric, ft->family, ft->hub);
	uint32_t gw4 = 0, hub4;
	memcpy(&hub4, ft->hub, 4);
	int rv = ft->family == AF_INET6 ? nl_route6_get(ft->hub, &ft->hub_oif, ft->hub_gw)
	                                : nl_route_get(hub4, &ft->hub_oif, &gw4);
	if (rv < 0) {
		snprintf(err, errlen, "no route to the hub %s: %s", h, strerror(errno));
		return -1;
	}
	if (ft->family == AF_INET)
		memcpy(ft->hub_gw, &gw4, 4);
	if (ft->hub_oif == ft->tun) {
		snprintf(err, errlen, "the hub %s is reached through the tunnel itself", h);
		return -1;
	}
	ft->way_known = way_now(ft, &ft->way_oif, ft->way_gw);
	rv = nl_host_route_add(ft->family, ft->hub_oif, ft->hub, ft->hub_gw, ft->metric);
	if (rv == 0)
		ft->host_added = true;
	else if (errno != EEXIST) {
		/* EEXIST: the administrator has a route to the hub; it stays theirs. */
		snprintf(err, errlen, "cannot add the host route to the hub %s: %s", h, strerror(errno));
		return -1;
	}
	return 0;
}

/* An unreachable half of ours. EEXIST: a run on this TUN that did not
 * stop cleanly left it (the metric is this TUN's): ours now. */
static bool unreachable6(const struct full_tunnel *ft, const uint8_t dst[16])
{
	return nl_route6_unreachable_add(dst, 1, ft->metric) == 0 || errno == EEXIST;
}

static void unblock6(struct full_tunnel *ft)
{
	if (ft->high6_blocked)
		nl_route6_unreachable_del(high6, 1, ft->metric);
	if (ft->low6_blocked)
		nl_route6_unreachable_del(low6, 1, ft->metric);
	ft->low6_blocked = ft->high6_blocked = false;
}

/* IPv6 that the tunnel does not carry: nowhere, rather than out beside it
 * (the machine's IPv6 default route stays). The networks beside the
 * machine (their routes are longer) and the hub (its host route) stay
 * reachable. */
static int block6(struct full_tunnel *ft, char *err, size_t errlen)
{
	if (unreachable6(ft, low6))
		ft->low6_blocked = true;
	if (ft->low6_blocked && unreachable6(ft, high6))
		ft->high6_blocked = true;
	if (ft->high6_blocked)
		return 0;
	int e = errno;
	unblock6(ft);
	if (e == EAFNOSUPPORT || e == EOPNOTSUPP)
		return 0; /* a kernel without IPv6: none leaves */
	snprintf(err, errlen, "cannot make ::/1 and 8000::/1 unreachable (the tunnel carries no IPv6, "
	         "and it must not leave beside it): %s", strerror(e));
	return -1;
}

int fulltunnel_up(struct full_tunnel *ft, int tun, uint32_t metric, int family, const void *hub,
                  bool ipv6, char *err, size_t errlen)
{
	*ft = (struct full_tunnel){.tun = tun, .family = family, .metric = metric};
	memcpy(ft->hub, hub, family == AF_INET6 ? 16 : 4);
	/* IPv6's halves capture an IPv6 hub whether they lead into the TUN
	 * or nowhere. */
	if (host_route(ft, err, errlen) < 0) {
		fulltunnel_down(ft);
		return -1;
	}
	if (nl_route_add_own(tun, htonl(LOW_HALF), 1, 0) == 0)
		ft->low_added = true;
	if (ft->low_added && nl_route_add_own(tun, htonl(HIGH_HALF), 1, 0) == 0)
		ft->high_added = true;
	if (!ft->high_added) {
		snprintf(err, errlen, "cannot route 0.0.0.0/1 and 128.0.0.0/1 through the tunnel: %s%s",
		         strerror(errno), errno == EEXIST ? " (another VPN holds them?)" : "");
		fulltunnel_down(ft);
		return -1;
	}
	if (ipv6 ? fulltunnel_add6(ft, err, errlen) < 0 : block6(ft, err, errlen) < 0) {
		fulltunnel_down(ft);
		return -1;
	}
	return 0;
}

int fulltunnel_add6(struct full_tunnel *ft, char *err, size_t errlen)
{
	if (ft->high6_added)
		return 0;
	/* An IPv6 hub is kept outside once IPv6 goes in. */
	if (ft->family == AF_INET6 && !ft->host_added && host_route(ft, err, errlen) < 0)
		return -1;
	if (nl_route6_add_own(ft->tun, low6, 1, NULL) == 0)
		ft->low6_added = true;
	if (ft->low6_added && nl_route6_add_own(ft->tun, high6, 1, NULL) == 0)
		ft->high6_added = true;
	if (!ft->high6_added) {
		snprintf(err, errlen, "cannot route ::/1 and 8000::/1 through the tunnel: %s%s",
		         strerror(errno), errno == EEXIST ? " (another VPN holds them?)" : "");
		if (ft->low6_added)
			nl_route6_del_own(ft->tun, low6, 1, NULL);
		ft->low6_added = false;
		return -1;
	}
	unblock6(ft); /* the TUN's routes are there: the unreachable ones may go */
	return 0;
}

/* A route of ours that is still there is as good as a new one. */
static bool readd(int rv)
{
	return rv == 0 || errno == EEXIST;
}

int fulltunnel_repair(struct full_tunnel *ft, char *err, size_t errlen)
{
	if ((ft->low_added && !readd(nl_route_add_own(ft->tun, htonl(LOW_HALF), 1, 0))) ||
	    (ft->high_added && !readd(nl_route_add_own(ft->tun, htonl(HIGH_HALF), 1, 0)))) {
		snprintf(err, errlen, "cannot route 0.0.0.0/1 and 128.0.0.0/1 through the tunnel again: %s",
		         strerror(errno));
		return -1;
	}
	if ((ft->low6_added && !readd(nl_route6_add_own(ft->tun, low6, 1, NULL))) ||
	    (ft->high6_added && !readd(nl_route6_add_own(ft->tun, high6, 1, NULL)))) {
		snprintf(err, errlen, "cannot route ::/1 and 8000::/1 through the tunnel again: %s",
		         strerror(errno));
		return -1;
	}
	return 0;
}

enum ft_way fulltunnel_way(const struct full_tunnel *ft)
{
	int oif;
	uint8_t gw[16];
	if (!ft->high_added)
		return FT_WAY_GONE;
	const struct in6_addr *hub6 = (const struct in6_addr *)(const void *)ft->hub;
	if (ft->family == AF_INET6 &&
	    ((!ft->high6_added && !ft->high6_blocked) || IN6_IS_ADDR_LINKLOCAL(hub6)))
		return FT_WAY_HOLDS; /* no route of ours covers the hub: its way is the kernel's own */
	if (ft->family == AF_INET6) {
		/* A gateway of IPv6 is link-local: on its link while that is up
		 * (the kernel drops our route with the link). */
		if (nl_route6_get(ft->hub, &oif, gw) < 0 || oif != ft->hub_oif ||
		    memcmp(gw, ft->hub_gw, 16))
			return FT_WAY_GONE;
	} else {
		uint32_t hub4, gw4, via;
		memcpy(&hub4, ft->hub, 4);
		memcpy(&gw4, ft->hub_gw, 4);
		if (nl_route_get(hub4, &oif, &via) < 0 || oif != ft->hub_oif || via != gw4)
			return FT_WAY_GONE;
		/* The gateway's network may have gone from the link (another
		 * Wi-Fi, another lease) while the host route through it stayed. */
		if (gw4 && (nl_route_get(gw4, &oif, &via) < 0 || oif != ft->hub_oif || via))
			return FT_WAY_GONE;
	}
	/* And would the machine's own routes still take that way? */
	if (ft->way_known && way_now(ft, &oif, gw) &&
	    (oif != ft->way_oif || memcmp(gw, ft->way_gw, 16)))
		return FT_WAY_BETTER;
	return FT_WAY_HOLDS;
}

int fulltunnel_repin(struct full_tunnel *ft, char *err, size_t errlen)
{
	int oif;
	uint8_t gw[16];
	/* Next hops of several interfaces name no one way to pin; an
	 * administrator's own route to the hub (not ours) is theirs. */
	if (!ft->host_added || !way_now(ft, &oif, gw) || !oif || oif == ft->tun) {
		snprintf(err, errlen, "no single way to pin");
		return -1;
	}
	if (nl_host_route_replace(ft->family, oif, ft->hub, gw, ft->metric) < 0) {
		snprintf(err, errlen, "cannot replace the host route to the hub: %s", strerror(errno));
		return -1;
	}
	ft->hub_oif = ft->way_oif = oif;
	memcpy(ft->hub_gw, gw, 16);
	memcpy(ft->way_gw, gw, 16);
	return 0;
}

void fulltunnel_down(struct full_tunnel *ft)
{
	if (ft->high6_added)
		nl_route6_del_own(ft->tun, high6, 1, NULL);
	if (ft->low6_added)
		nl_route6_del_own(ft->tun, low6, 1, NULL);
	if (ft->high_added)
		nl_route_del_own(ft->tun, htonl(HIGH_HALF), 1, 0);
	if (ft->low_added)
		nl_route_del_own(ft->tun, htonl(LOW_HALF), 1, 0);
	unblock6(ft);
	if (ft->host_added)
		nl_host_route_del(ft->family, ft->hub_oif, ft->hub, ft->hub_gw, ft->metric);
	ft->high_added = ft->low_added = ft->host_added = ft->low6_added = ft->high6_added = false;
}
