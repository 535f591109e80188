#include "proto/ipv6.h"

enum ipv6_result ipv6_parse(const uint8_t *pkt, size_t len, struct ipv6_info *out)
{
	if (!pkt || len < IPV6_HEADER_LEN)
		return IPV6_SHORT;
	if (pkt[0] >> 4 != 6)
		return IPV6_NOT_V6;
	/* A TUN device or a datagram may carry trailing bytes, never fewer than
	 * the header claims. (A jumbogram's payload length is 0: it is cut to
	 * its header, which its receiver refuses.) */
	unsigned payload = (unsigned)pkt[4] << 8 | pkt[5];
	unsigned total = IPV6_HEADER_LEN + payload;
	/* Past 65535 it fits neither a datagram nor total_len. */
	if (total > len || total > 65535)
		return IPV6_BAD_LENGTH;
	out->total_len = (uint16_t)total;
	out->next_header = pkt[6];
	out->src = pkt + 8;
	out->dst = pkt + 24;
	return IPV6_OK;
}

const char *ipv6_result_str(enum ipv6_result r)
{
	switch (r) {
	case IPV6_OK: return "ok";
	case IPV6_SHORT: return "shorter than an IPv6 header";
	case IPV6_NOT_V6: return "not IPv6";
	case IPV6_BAD_LENGTH: return "bad payload length";
	}
	return "unknown result";
}

bool ipv6_link_scoped(const uint8_t a[16])
{
	if (a[0] == 0xff)
		return true;                              /* multicast */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return true;                              /* fe80::/10 */
	for (int i = 0; i < 16; i++)
		if (a[i])
			return false;
	return true;                                  /* :: */
}
