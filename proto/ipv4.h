/* Just enough of an IPv4 header to route a packet: checked, never trusted. */
#ifndef SLOPN_PROTO_IPV4_H
#define SLOPN_PROTO_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ipv4_info {
	uint32_t src;        /* network byte order */
	uint32_t dst;        /* network byte order */
	uint16_t total_len;  /* from the header, <= the buffer length */
	uint8_t header_len;  /* IHL * 4 */
	uint8_t protocol;
};

enum ipv4_result {
	IPV4_OK = 0,
	IPV4_SHORT,        /* fewer than 20 bytes */
	IPV4_NOT_V4,       /* version nibble is not 4 (IPv6 and the like) */
	IPV4_BAD_IHL,      /* IHL < 5 or header longer than the buffer */
	IPV4_BAD_LENGTH,   /* total length < header or > buffer */
};

/* Not of 0/8, 127/8 or 224/3 (multicast and reserved): an address a host
 * may have. a in network order. */
static inline bool ipv4_unicast(uint32_t a)
{
	uint32_t top = (uint32_t)((const uint8_t *)&a)[0];
	return top != 0 && top != 127 && top < 224;
}

enum ipv4_result ipv4_parse(const uint8_t *pkt, size_t len, struct ipv4_info *out);
const char *ipv4_result_str(enum ipv4_result r);

#endif
