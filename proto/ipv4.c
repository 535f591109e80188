#include "proto/ipv4.h"

#include <string.h>

enum ipv4_result ipv4_parse(const uint8_t *pkt, size_t len, struct ipv4_info *out)
{
	if (!pkt || len < 20)
		return IPV4_SHORT;
	if (pkt[0] >> 4 != 4)
		return IPV4_NOT_V4;
	unsigned ihl = (pkt[0] & 0x0fu) * 4;
	if (ihl < 20 || ihl > len)
		return IPV4_BAD_IHL;
	/* A TUN device or a datagram may carry trailing bytes, never fewer
	 * than the header claims. */
	unsigned total = (unsigned)pkt[2] << 8 | pkt[3];
	if (total < ihl || total > len)
		return IPV4_BAD_LENGTH;
	out->header_len = (uint8_t)ihl;
	out->total_len = (uint16_t)total;
	out->protocol = pkt[9];
	memcpy(&out->src, pkt + 12, 4); /* stays in network byte order */
	memcpy(&out->dst, pkt + 16, 4);
	return IPV4_OK;
}

const char *ipv4_result_str(enum ipv4_result r)
{
	switch (r) {
	case IPV4_OK: return "ok";
	case IPV4_SHORT: return "shorter than an IPv4 header";
	case IPV4_NOT_V4: return "not IPv4";
	case IPV4_BAD_IHL: return "bad header length";
	case IPV4_BAD_LENGTH: return "bad total length";
	}
	return "unknown result";
}
