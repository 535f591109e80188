/* Interface configuration over rtnetlink (libmnl): no `ip` processes.
 * Every function returns 0, or -1 with errno set (the kernel's answer). */
#ifndef SLOPN_TUN_NETLINK_H
#define SLOPN_TUN_NETLINK_H

#include <stdint.h>

/* Addresses are network byte order. */
int nl_addr_add(int ifindex, uint32_t addr, unsigned prefix);   /* replaces an equal one */
int nl_addr_flush(int ifindex);                                 /* all IPv4 addresses */
int nl_set_mtu(int ifindex, unsigned mtu);
int nl_set_up(int ifindex, int up);
/* Route dst/prefix via device ifindex (gateway 0 = on-link), in the main table.
 * nl_route_add replaces an existing route with the same key. */
int nl_route_add(int ifindex, uint32_t dst, unsigned prefix, uint32_t gateway);
int nl_route_del(int ifindex, uint32_t dst, unsigned prefix, uint32_t gateway);
int nl_link_delete(int ifindex);

#endif
