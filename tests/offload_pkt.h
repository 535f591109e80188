/* Test helpers for proto/offload: build IPv4/IPv6 TCP/UDP packets and
 * super-packets, and check them with a checksum written the plain way
 * (byte pairs, big-endian), independent of the one under test. Shared by
 * the unit test and the fuzz target. */
#ifndef SLOPN_TESTS_OFFLOAD_PKT_H
#define SLOPN_TESTS_OFFLOAD_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/offload.h"

struct pkt_spec {
	int version;       /* 4 or 6 */
	uint8_t proto;     /* 6 or 17 */
	size_t ipopt;      /* IPv4 option bytes: a multiple of 4, at most 40; IPv6:
	                    * an options header of this many bytes (a multiple
	                    * of 8, at most 56), of type exthdr */
	uint8_t exthdr;    /* 0 hop-by-hop, 60 destination options, 43 segment
	                    * routing (ipopt 8 + 16 per segment) */
	uint8_t segleft;   /* of segment routing: segments left to visit */
	size_t tcpopt;     /* TCP option bytes: a multiple of 4, at most 40 */
	uint8_t flags;     /* TCP */
	uint32_t seq;
	uint16_t id;
	uint8_t tos, ttl;
	uint32_t flow;     /* IPv6 flow label */
	uint16_t sport, dport;
	size_t paylen;
	uint8_t fill;      /* payload byte i is fill + i * 7 */
	uint8_t optfill;   /* option bytes */
};

static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The IP header's length, IPv6's hop-by-hop, destination options and
 * routing headers included; *proto what follows, *dst where the final
 * destination lies (a segment routing header's first segment while
 * segments are left). */
static size_t pkt_l3len(const uint8_t *p, size_t len, uint8_t *proto, size_t *dst)
{
	*dst = 16;
	if (p[0] >> 4 != 6) {
		*proto = p[9];
		return (p[0] & 15u) * 4u;
	}
	size_t at = 40;
	*dst = 24;
	*proto = p[6];
	while ((*proto == 0 || *proto == 60 || *proto == 43) && at + 8 <= len) {
		if (*proto == 43 && p[at + 3])
			*dst = at + 8;
		*proto = p[at];
		at += (p[at + 1] + 1u) * 8u;
	}
	return at;
}

static uint32_t ref_pseudo(const uint8_t *p, size_t dst, uint8_t proto, size_t l4len)
{
	uint32_t s = p[0] >> 4 == 6 ? ref_sum(ref_sum(0, p + 8, 16), p + dst, 16) : ref_sum(0, p + 12, 8);
	return s + proto + (uint32_t)l4len;
}

/* The packet's IP header and TCP/UDP checksum are right, and its lengths
 * say len. */
static bool pkt_valid(const uint8_t *p, size_t len)
{
	if (len < 20)
		return false;
	uint8_t proto;
	size_t dst;
	size_t l3 = pkt_l3len(p, len, &proto, &dst);
	if (p[0] >> 4 == 6) {
		if (len < 40 || (size_t)(p[4] << 8 | p[5]) + 40 != len)
			return false;
	} else if ((size_t)(p[2] << 8 | p[3]) != len || ref_fold(ref_sum(0, p, l3)) != 0xffff) {
		return false;
	}
	if (l3 + (proto == 17 ? 8 : 20) > len || (proto != 6 && proto != 17))
		return false;
	if (proto == 17 && (size_t)(p[l3 + 4] << 8 | p[l3 + 5]) != len - l3)
		return false;
	if (l3 > len || (p[0] >> 4 == 6 && dst + 16 > l3))
		return false;
	return ref_fold(ref_sum(ref_pseudo(p, dst, proto, len - l3), p + l3, len - l3)) == 0xffff;
}

static void put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* Build the packet into p; partial: its TCP/UDP checksum holds only the
 * pseudo-header's sum (as the kernel hands over a super-packet), else the
 * full checksum. Returns its length. */
static size_t pkt_build(uint8_t *p, const struct pkt_spec *s, bool partial)
{
	size_t l3 = 20 + s->ipopt + (s->version == 6 ? 20 : 0);
	size_t l4 = s->proto == 6 ? 20 + s->tcpopt : 8, len = l3 + l4 + s->paylen;
	memset(p, 0, l3 + l4);
	if (s->version == 6) {
		p[0] = (uint8_t)(0x60 | s->tos >> 4);
		p[1] = (uint8_t)(s->tos << 4 | (s->flow >> 16 & 15));
		put_be16(p + 2, s->flow & 0xffff);
		put_be16(p + 4, (uint32_t)(len - 40));
		p[6] = s->ipopt ? s->exthdr : s->proto;
		p[7] = s->ttl;
		if (s->ipopt && s->exthdr == 43) { /* segments, the final one first */
			p[40] = s->proto;
			p[41] = (uint8_t)(s->ipopt / 8 - 1);
			p[42] = 4;
			p[43] = s->segleft;
			p[44] = (uint8_t)((s->ipopt - 8) / 16 - 1);
			for (size_t i = 48; i < l3; i += 16) {
				memcpy(p + i, p + 24, 16);
				p[i + 15] = (uint8_t)(0x90 + (i - 48) / 16);
			}
		} else if (s->ipopt) { /* next header, length, then PadN */
			p[40] = s->proto;
			p[41] = (uint8_t)(s->ipopt / 8 - 1);
			p[42] = 1;
			p[43] = (uint8_t)(s->ipopt - 4);
			for (size_t i = 44; i < l3; i++)
				p[i] = s->optfill;
		}
		memcpy(p + 8, "\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02", 16);
		memcpy(p + 24, "\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16);
	} else {
		p[0] = (uint8_t)(0x40 | l3 / 4);
		p[1] = s->tos;
		put_be16(p + 2, (uint32_t)len);
		put_be16(p + 4, s->id);
		p[6] = 0x40; /* DF */
		p[8] = s->ttl;
		p[9] = s->proto;
		memcpy(p + 12, "\x0a\x64\x00\x02", 4);
		memcpy(p + 16, "\x0a\x64\x00\x01", 4);
		for (size_t i = 20; i < l3; i++)
			p[i] = i == 20 ? 1 : s->optfill; /* NOP first */
		put_be16(p + 10, (uint32_t)(~ref_fold(ref_sum(0, p, l3)) & 0xffff));
	}
	uint8_t *t = p + l3;
	put_be16(t, s->sport);
	put_be16(t + 2, s->dport);
	if (s->proto == 6) {
		t[4] = (uint8_t)(s->seq >> 24), t[5] = (uint8_t)(s->seq >> 16);
		t[6] = (uint8_t)(s->seq >> 8), t[7] = (uint8_t)s->seq;
		memcpy(t + 8, "\x11\x22\x33\x44", 4); /* ACK number */
		t[12] = (uint8_t)(l4 / 4 << 4);
		t[13] = s->flags;
		put_be16(t + 14, 502);                  /* window */
		for (size_t i = 20; i < l4; i++)
			t[i] = s->optfill;
	} else {
		put_be16(t + 4, (uint32_t)(l4 + s->paylen));
	}
	for (size_t i = 0; i < s->paylen; i++)
		p[l3 + l4 + i] = (uint8_t)(s->fill + i * 7);
	size_t at = l3 + (s->proto == 6 ? 16 : 6), dst;
	uint8_t proto;
	pkt_l3len(p, len, &proto, &dst);
	uint32_t sum = ref_pseudo(p, dst, s->proto, len - l3);
	if (partial)
		put_be16(p + at, ref_fold(sum));
	else
		put_be16(p + at, (uint32_t)(~ref_fold(ref_sum(sum, p + l3, len - l3)) & 0xffff));
	return len;
}

static size_t pkt_hdrlen(const struct pkt_spec *s)
{
	return 20 + s->ipopt + (s->version == 6 ? 20 : 0) + (s->proto == 6 ? 20 + s->tcpopt : 8);
}

/* The virtio-net header the kernel puts before a super-packet of s. */
static struct vnet_hdr pkt_gso_hdr(const struct pkt_spec *s, uint16_t gso_size)
{
	size_t l3 = 20 + s->ipopt + (s->version == 6 ? 20 : 0);
	struct vnet_hdr h = {
		.flags = VNET_F_NEEDS_CSUM,
		.gso_type = s->proto == 17 ? VNET_GSO_UDP_L4 : s->version == 6 ? VNET_GSO_TCPV6
		                                                                 : VNET_GSO_TCPV4,
		.hdr_len = (uint16_t)pkt_hdrlen(s), .gso_size = gso_size,
		.csum_start = (uint16_t)l3, .csum_offset = s->proto == 6 ? 16 : 6,
	};
	if (s->proto == 6 && (s->flags & 0x80))
		h.gso_type |= VNET_GSO_ECN;
	return h;
}

#endif
