/* Full-tunnel routing for the client: everything through the TUN, the hub
 * itself the way the kernel reached it before. The default route is never
 * touched: two /1 routes through the TUN are more specific, and removing
 * them (or the TUN going away) gives the old routing back. Every route we
 * add carries SLOPN_RTPROT, so one left by a crash is found and removed. */
#ifndef SLOPN_TUN_FULLTUNNEL_H
#define SLOPN_TUN_FULLTUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct full_tunnel {
	int tun;                /* TUN ifindex */
	uint32_t hub;           /* network order */
	int hub_oif;            /* the underlay route to the hub */
	uint32_t hub_gw;        /* its gateway, 0 = on-link */
	bool host_added, low_added, high_added;
};

/* Route everything through tun, keeping hub (network order; 0 for a hub
 * reached over IPv6) outside it.
 * 0, or -1 with the reason in err (what was added is removed again). */
int fulltunnel_up(struct full_tunnel *ft, int tun, uint32_t hub, char *err, size_t errlen);
/* Remove what fulltunnel_up added. Safe to call twice. */
void fulltunnel_down(struct full_tunnel *ft);

#endif
