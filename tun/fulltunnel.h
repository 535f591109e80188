/* Full-tunnel routing for the client: everything through the TUN, the hub
 * itself the way the kernel reached it before. The default route is never
 * touched: two /1 routes through the TUN are more specific (0.0.0.0/1 and
 * 128.0.0.0/1; for IPv6 ::/1 and 8000::/1), and removing them (or the TUN
 * going away) gives the old routing back. IPv6 that the tunnel does not
 * carry gets ::/1 and 8000::/1 as unreachable routes instead: it fails at
 * once rather than leave beside the tunnel. Every route we add carries
 * SLOPN_RTPROT, so one left by a crash is found and removed; the host route
 * to the hub and the unreachable ones (which no TUN takes with it) also a
 * metric of its client's, so that another client's on the machine is not. */
#ifndef SLOPN_TUN_FULLTUNNEL_H
#define SLOPN_TUN_FULLTUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct full_tunnel {
	int tun;                /* TUN ifindex */
	int family;             /* the hub's underlay address: AF_INET or AF_INET6 */
	uint8_t hub[16];        /* network order; IPv4 in the first 4 bytes */
	int hub_oif;            /* the underlay route to the hub */
	uint8_t hub_gw[16];     /* its gateway, all zero = on-link */
	uint32_t metric;        /* of the host route: this client's (fulltunnel_metric) */
	bool way_known;         /* the machine's own best route to the hub when it was pinned: */
	int way_oif;            /* its interface (0: next hops of several) */
	uint8_t way_gw[16];     /* and gateway, all zero = on-link */
	bool host_added, low_added, high_added, low6_added, high6_added;
	bool low6_blocked, high6_blocked; /* ::/1 and 8000::/1 unreachable */
};

/* The metric of the host route to the hub for the client on TUN tun: the
 * same at each start, and told from another client's on the machine. */
uint32_t fulltunnel_metric(const char *tun);

/* Route all IPv4, and with ipv6 all IPv6 too, through tun, keeping the hub
 * (family AF_INET or AF_INET6, hub its 4 or 16 bytes) outside it; without
 * ipv6, make all IPv6 unreachable but the networks beside the machine and
 * the hub (not when the kernel has no IPv6: none leaves then either).
 * 0, or -1 with the reason in err (what was added is removed again). */
int fulltunnel_up(struct full_tunnel *ft, int tun, uint32_t metric, int family, const void *hub,
                  bool ipv6, char *err, size_t errlen);
/* After fulltunnel_up without ipv6: all IPv6 through the TUN too (the hub
 * takes it on now), and no longer unreachable. 0 (also when it already
 * was), or -1 with the reason in err (the IPv4 routes stay, and IPv6
 * unreachable). */
int fulltunnel_add6(struct full_tunnel *ft, char *err, size_t errlen);
/* Put back the routes through the TUN that the kernel removed when the
 * TUN was set down (it does so without a word). 0, or -1 with the reason
 * in err. */
int fulltunnel_repair(struct full_tunnel *ft, char *err, size_t errlen);
/* Does the way to the hub that fulltunnel_up found still hold: the kernel
 * still takes the hub outside the TUN through the same link, and (IPv4)
 * that link still reaches the gateway directly? Then a change elsewhere
 * (an address on another link, a lease renewed) needs no new routes
 * (HOLDS), unless the machine's own routes would now take another way
 * there (BETTER: a cable plugged in beside the Wi-Fi; fulltunnel_repin).
 * GONE: the routes are to be made again (fulltunnel_down, fulltunnel_up). */
enum ft_way { FT_WAY_HOLDS, FT_WAY_BETTER, FT_WAY_GONE };
enum ft_way fulltunnel_way(const struct full_tunnel *ft);
/* The host route to the hub through the machine's own best way now, in
 * place of the one there (one step: nothing leaves beside the tunnel,
 * whose routes stay). 0, or -1 with the reason in err (nothing changed). */
int fulltunnel_repin(struct full_tunnel *ft, char *err, size_t errlen);
/* Remove what fulltunnel_up added. Safe to call twice. */
void fulltunnel_down(struct full_tunnel *ft);
/* Remove the host routes a crashed run on this TUN left (metric), to
 * whatever hub, and an older slopnd's to this hub (hub NULL: not those);
 * returns how many (0 when none), or -1. */
int fulltunnel_flush_stale(uint32_t metric, int family, const void *hub);
/* Remove the unreachable IPv6 routes a crashed run on this TUN left
 * (metric); how many (0 when none), or -1. */
int fulltunnel_flush_stale6(uint32_t metric);

#endif
