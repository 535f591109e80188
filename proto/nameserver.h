/* The DNS servers a resolv.conf names, as the C library reads them. Pure
 * function: no I/O. */
#ifndef SLOPN_PROTO_NAMESERVER_H
#define SLOPN_PROTO_NAMESERVER_H

#include <stddef.h>
#include <stdint.h>

struct nameserver {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t addr[16];  /* network order; IPv4 in the first 4 bytes */
};

/* The servers of the "nameserver ADDRESS" lines of text (len bytes, need
 * not be NUL-terminated), in their order, at most max into out: the
 * keyword at the start of a line, blanks, an IPv4 or IPv6 address (an
 * IPv6 one's %zone dropped), then the line's end or a blank. Other lines,
 * comments (# or ;) and addresses that are not one are skipped, as glibc
 * does. Returns how many were found, also beyond max. */
size_t nameservers_parse(const char *text, size_t len, struct nameserver *out, size_t max);

#endif
