#include "proto/icmp.h"

#include <string.h>

#include "proto/ipv4.h"

#define ICMP_PROTO 1

static uint16_t checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t icmp4_frag_needed(const uint8_t *pkt, size_t len, uint32_t from, size_t mtu,
                         uint8_t *out, size_t cap)
{
	struct ipv4_info ip;
	if (ipv4_parse(pkt, len, &ip) != IPV4_OK)
		return 0;
	uint16_t frag = (uint16_t)(pkt[6] << 8 | pkt[7]);
	if (!(frag & 0x4000) || (frag & 0x1fff))
		return 0; /* no DF: the sender fragments; a later fragment: the first got one */
	if (ip.protocol == ICMP_PROTO) {
		/* Never an error about an error (RFC 1122 3.2.2): only echo and the like. */
		if (ip.total_len < ip.header_len + 1)
			return 0;
		uint8_t type = pkt[ip.header_len];
		if (type != 0 && type != 8 && type != 13 && type != 14)
			return 0;
	}
	/* The original header and 8 bytes of its payload (the ports). */
	size_t quote = ip.header_len + 8u <= ip.total_len ? ip.header_len + 8u : ip.total_len;
	size_t n = 20 + 8 + quote;
	if (cap < n)
		return 0;
	memset(out, 0, 28);
	out[0] = 0x45;
	put16(out + 2, (uint16_t)n);
	out[8] = 64;            /* TTL */
	out[9] = ICMP_PROTO;
	memcpy(out + 12, &from, 4);
	memcpy(out + 16, &ip.src, 4);
	put16(out + 10, checksum(out, 20));
	out[20] = 3;            /* destination unreachable */
	out[21] = 4;            /* fragmentation needed and DF set */
	put16(out + 26, (uint16_t)(mtu > 65535 ? 65535 : mtu)); /* next-hop MTU */
	memcpy(out + 28, pkt, quote);
	put16(out + 22, checksum(out + 20, 8 + quote));
	return n;
}
