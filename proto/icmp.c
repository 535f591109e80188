#include "proto/icmp.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "proto/csum.h"
#include "proto/ipv4.h"
#include "proto/ipv6.h"

#define ICMP_PROTO 1
#define ICMP6_PROTO 58

/* A checksum into its field (csum.h sums in the host's byte order). */
static void store_csum(uint8_t *at, uint16_t c)
{
	memcpy(at, &c, 2);
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
	/* Below IPv4's 576 only a peer that asked for it (a tiny
	 * max_datagram_frame_size) leads here: its senders (an internet
	 * server, through the NAT) must not be taught such an MTU for the
	 * hub's address. Nor is an answer for a sender no host can be. */
	if (mtu < ICMP4_MIN_MTU || !ipv4_unicast(ip.src))
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
	store_csum(out + 10, inet_csum(out, 20));
	out[20] = 3;            /* destination unreachable */
	out[21] = 4;            /* fragmentation needed and DF set */
	put16(out + 26, (uint16_t)(mtu > 65535 ? 65535 : mtu)); /* next-hop MTU */
	memcpy(out + 28, pkt, quote);
	store_csum(out + 22, inet_csum(out + 20, 8 + quote));
	return n;
}

/* upper_layer()'s answers when there is no upper layer to see. */
#define UPPER_LATER_FRAGMENT (-1) /* a fragment after the first: its headers are in the first */
#define UPPER_CUT (-2)            /* the header chain runs past the packet */

/* An IPv4 ICMP error (unreachable, source quench, redirect, time exceeded,
 * parameter problem), not a fragment of one: where the packet it quotes
 * starts, or 0. */
static size_t icmp4_error_quote(const uint8_t *pkt, size_t len, struct ipv4_info *ip)
{
	if (ipv4_parse(pkt, len, ip) != IPV4_OK || ip->protocol != ICMP_PROTO ||
	    (pkt[6] << 8 | pkt[7]) & 0x1fff || ip->total_len < ip->header_len + 1u)
		return 0;
	uint8_t type = pkt[ip->header_len];
	if (type != 3 && type != 4 && type != 5 && type != 11 && type != 12)
		return 0;
	return ip->header_len + 8u;
}

/* The upper-layer protocol of an IPv6 packet, past its extension headers,
 * and where its header starts; or one of the two above. Any number of
 * headers is followed, as Linux does: each is 8 bytes at least, so the
 * packet's length bounds the walk. */
static int upper_layer(const uint8_t *pkt, const struct ipv6_info *ip, size_t *off)
{
	uint8_t nh = ip->next_header;
	size_t at = IPV6_HEADER_LEN;
	for (;;) {
		switch (nh) {
		case 0:   /* hop-by-hop options */
		case 43:  /* routing */
		case 60:  /* destination options */
		case 51: { /* authentication: its length in 4-byte units, less 2 */
			if (at + 2 > ip->total_len)
				return UPPER_CUT;
			size_t hlen = nh == 51 ? ((size_t)pkt[at + 1] + 2) * 4 : 8 + (size_t)pkt[at + 1] * 8;
			nh = pkt[at];
			at += hlen;
			if (at > ip->total_len)
				return UPPER_CUT;
			break;
		}
		case 44:  /* fragment */
			if (at + 8 > ip->total_len)
				return UPPER_CUT;
			if ((pkt[at + 2] << 8 | pkt[at + 3]) & 0xfff8)
				return UPPER_LATER_FRAGMENT;
			nh = pkt[at];
			at += 8;
			break;
		default:
			*off = at;
			return nh;
		}
	}
}

size_t icmp6_packet_too_big(const uint8_t *pkt, size_t len, const uint8_t from[16], size_t mtu,
                            uint8_t *out, size_t cap)
{
	struct ipv6_info ip;
	if (mtu < IPV6_MIN_MTU || cap < IPV6_HEADER_LEN + 8 + IPV6_HEADER_LEN ||
	    ipv6_parse(pkt, len, &ip) != IPV6_OK)
		return 0;
	static const uint8_t any[16];
	if (ip.src[0] == 0xff || !memcmp(ip.src, any, 16))
		return 0; /* no single node to tell (RFC 4443 2.4 e) */
	size_t at;
	int proto = upper_layer(pkt, &ip, &at);
	if (proto < 0)
		return 0;
	if (proto == ICMP6_PROTO && (at >= ip.total_len || pkt[at] < 128))
		return 0; /* never an error about an error: only informational messages */
	size_t room = cap < IPV6_MIN_MTU ? cap : IPV6_MIN_MTU;
	size_t quote = ip.total_len < room - 48 ? ip.total_len : room - 48;
	size_t icmp_len = 8 + quote, n = IPV6_HEADER_LEN + icmp_len;
	memset(out, 0, 48);
	out[0] = 0x60;
	put16(out + 4, (uint16_t)icmp_len);
	out[6] = ICMP6_PROTO;
	out[7] = 64;                               /* hop limit */
	memcpy(out + 8, from, 16);
	memcpy(out + 24, ip.src, 16);
	out[40] = 2;                               /* packet too big */
	uint32_t m = mtu > UINT32_MAX ? UINT32_MAX : (uint32_t)mtu;
	put16(out + 44, (uint16_t)(m >> 16));
	put16(out + 46, (uint16_t)m);
	memcpy(out + 48, pkt, quote);
	/* The checksum covers a pseudo-header: both addresses, the length and
	 * the protocol. */
	uint64_t sum = csum_add(0, out + 8, 32) + htons((uint16_t)icmp_len) + htons(ICMP6_PROTO);
	store_csum(out + 42, (uint16_t)~csum_fold(csum_add(sum, out + 40, icmp_len)));
	return n;
}

bool icmp_error_foreign(const uint8_t *pkt, size_t len, const uint8_t *own)
{
	struct ipv4_info ip;
	struct ipv6_info ip6;
	size_t at;
	if (len && pkt[0] >> 4 == 6) {
		if (ipv6_parse(pkt, len, &ip6) != IPV6_OK)
			return false;
		int proto = upper_layer(pkt, &ip6, &at);
		/* Headers that cannot be walked to their end may hide an ICMPv6
		 * error (the kernel reassembles a first fragment with the rest):
		 * foreign, as an error cut short is. */
		if (proto == UPPER_CUT || (proto == ICMP6_PROTO && at >= ip6.total_len))
			return true;
		if (proto != ICMP6_PROTO || pkt[at] >= 128)
			return false; /* informational (echo), not ICMPv6, or a later fragment */
		/* The quoted packet's source: after the 8-byte ICMPv6 header and
		 * the quoted header's first 8 bytes. */
		return at + 8 + 8 + 16 > ip6.total_len || memcmp(pkt + at + 16, own, 16) != 0;
	}
	if (!(at = icmp4_error_quote(pkt, len, &ip)))
		return false;
	return at + 16 > ip.total_len || memcmp(pkt + at + 12, own, 4) != 0;
}

bool icmp_error_quoted_dst(const uint8_t *pkt, size_t len, uint8_t dst[16])
{
	struct ipv4_info ip;
	struct ipv6_info ip6;
	size_t at;
	if (len && pkt[0] >> 4 == 6) {
		if (ipv6_parse(pkt, len, &ip6) != IPV6_OK || upper_layer(pkt, &ip6, &at) != ICMP6_PROTO ||
		    at >= ip6.total_len || pkt[at] >= 128 || at + 8 + 40 > ip6.total_len)
			return false;
		memcpy(dst, pkt + at + 8 + 24, 16);
		return true;
	}
	if (!(at = icmp4_error_quote(pkt, len, &ip)))
		return false;
	if (at + 20 > ip.total_len)
		return false;
	memcpy(dst, pkt + at + 16, 4);
	return true;
}

/* The reasons of an unreachable, as an attempt's error says them: after
 * "ADDRESS answered with ICMP". */
#define NET_UNREACH "network unreachable: no route to the hub's network from there (is the " \
	"hub's address right?)"
#define HOST_UNREACH "host unreachable: the hub's machine is down, or not at that address"
#define PORT_UNREACH "port unreachable: nothing listens on that UDP port (is slopnd running " \
	"there, and is that its --listen port?)"
#define PROHIBITED "communication prohibited: a firewall on the way, or on the hub's host, " \
	"rejects UDP to that port"

static const char *unreach4(uint8_t code)
{
	switch (code) {
	case 0:  /* net unreachable */
	case 6:  /* destination network unknown */
	case 11: /* network unreachable for TOS */
		return NET_UNREACH;
	case 1:  /* host unreachable */
	case 7:  /* destination host unknown */
	case 12: /* host unreachable for TOS */
		return HOST_UNREACH;
	case 2:
		return "protocol unreachable: the hub's machine takes no UDP";
	case 3:
		return PORT_UNREACH;
	case 9:  /* network administratively prohibited */
	case 10: /* host administratively prohibited */
	case 13: /* communication administratively prohibited (RFC 1812) */
		return PROHIBITED;
	default:
		return NULL;
	}
}

static const char *unreach6(uint8_t code)
{
	switch (code) {
	case 0: /* no route to destination */
		return NET_UNREACH;
	case 3: /* address unreachable */
		return HOST_UNREACH;
	case 4:
		return PORT_UNREACH;
	case 1: /* administratively prohibited */
	case 5: /* source address failed ingress/egress policy */
	case 6: /* reject route to destination */
		return PROHIBITED;
	default:
		return NULL;
	}
}

enum icmp_kind icmp_error_kind(bool v6, uint8_t type, uint8_t code, char *why, size_t cap)
{
	if (cap)
		why[0] = '\0';
	if (v6 ? type == 2 : type == 3 && code == 4)
		return ICMP_KIND_TOO_BIG;
	if (type != (v6 ? 1 : 3))
		return ICMP_KIND_OTHER;
	const char *w = v6 ? unreach6(code) : unreach4(code);
	if (cap) {
		if (w)
			snprintf(why, cap, "%s", w);
		else
			snprintf(why, cap, "destination unreachable (code %u)", code);
	}
	return ICMP_KIND_UNREACHABLE;
}
