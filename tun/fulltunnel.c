#include "tun/fulltunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "tun/netlink.h"

#define LOW_HALF 0x00000000u    /* 0.0.0.0/1 */
#define HIGH_HALF 0x80000000u   /* 128.0.0.0/1 */

int fulltunnel_up(struct full_tunnel *ft, int tun, uint32_t hub, char *err, size_t errlen)
{
	char h[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &hub, h, sizeof(h));
	*ft = (struct full_tunnel){.tun = tun, .hub = hub};
	if (!hub)
		goto halves; /* an IPv6 hub: IPv4 routes cannot capture it */
	/* A host route of ours to this hub from a run that crashed would
	 * answer the lookup below with itself: out with it first. */
	nl_route_flush_own(hub, 32);
	if (nl_route_get(hub, &ft->hub_oif, &ft->hub_gw) < 0) {
		snprintf(err, errlen, "no route to the hub %s: %s", h, strerror(errno));
		return -1;
	}
	if (ft->hub_oif == tun) {
		snprintf(err, errlen, "the hub %s is reached through the tunnel itself", h);
		return -1;
	}
	if (nl_route_add_own(ft->hub_oif, hub, 32, ft->hub_gw) == 0)
		ft->host_added = true;
	else if (errno != EEXIST) {
		/* EEXIST: the administrator has a route to the hub; it stays theirs. */
		snprintf(err, errlen, "cannot add the host route to the hub %s: %s", h, strerror(errno));
		return -1;
	}
halves:
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
	return 0;
}

void fulltunnel_down(struct full_tunnel *ft)
{
	if (ft->high_added)
		nl_route_del_own(ft->tun, htonl(HIGH_HALF), 1, 0);
	if (ft->low_added)
		nl_route_del_own(ft->tun, htonl(LOW_HALF), 1, 0);
	if (ft->host_added)
		nl_route_del_own(ft->hub_oif, ft->hub, 32, ft->hub_gw);
	ft->high_added = ft->low_added = ft->host_added = false;
}
