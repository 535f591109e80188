/* Just enough of an IPv6 header to route a packet: checked, never trusted. */
#ifndef SLOPN_PROTO_IPV6_H
#define SLOPN_PROTO_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPV6_HEADER_LEN 40
#define IPV6_MIN_MTU 1280   /* every IPv6 link carries this much (RFC 8200) */

struct ipv6_info {
	const uint8_t *src;    /* 16 bytes inside the packet: valid while it is */
	const uint8_t *dst;
	uint16_t total_len;    /* 40 + payload length, <= the buffer length */
	uint8_t next_header;
};

enum ipv6_result {
	IPV6_OK = 0,
	IPV6_SHORT,        /* fewer than 40 bytes */
	IPV6_NOT_V6,       /* version nibble is not 6 */
	IPV6_BAD_LENGTH,   /* payload length past the buffer */
};

enum ipv6_result ipv6_parse(const uint8_t *pkt, size_t len, struct ipv6_info *out);
const char *ipv6_result_str(enum ipv6_result r);

/* Traffic that belongs to one link and never crosses a router: a
 * multicast, link-local or unspecified address. */
bool ipv6_link_scoped(const uint8_t addr[16]);

#endif
