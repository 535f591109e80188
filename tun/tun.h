/* TUN device: IFF_TUN | IFF_NO_PI, so each read or write is one raw IP packet. */
#ifndef SLOPN_TUN_H
#define SLOPN_TUN_H

#include <net/if.h>

/* Open (creating if needed) the TUN device name (IFNAMSIZ-1 chars at most),
 * non-blocking and close-on-exec. The kernel's chosen name is written back
 * to name_out (IFNAMSIZ bytes) and its ifindex to *ifindex.
 * Returns the fd, or -1 with errno set. */
int tun_open(const char *name, char name_out[IFNAMSIZ], int *ifindex);
/* What to do about tun_open's errno, for a message: "the name is in use ...". */
const char *tun_open_hint(int err);

#endif
