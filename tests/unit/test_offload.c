/* TUN offloads: super-packets split into valid IP packets, TCP segments
 * coalesced per flow, and coalescing then splitting giving the input back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/offload.h"
#include "tests/offload_pkt.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

static uint8_t big[OFFLOAD_MAX_PKT];

static struct pkt_spec tcp4(size_t paylen)
{
	return (struct pkt_spec){.version = 4, .proto = 6, .tcpopt = 12, .flags = TCP_ACK,
	                         .seq = 0xfffff000u, .id = 0xfffe, .ttl = 64, .sport = 5201,
	                         .dport = 40000, .paylen = paylen, .fill = 3, .optfill = 8};
}

/* ---- splitting ---- */

/* Split super-packet s (built with gso_size) and check every packet
 * against the super-packet it came from. Returns the count. */
static unsigned split_check(const struct pkt_spec *s, uint16_t gso_size)
{
	size_t len = pkt_build(big, s, true), hl = pkt_hdrlen(s), l3 = hl - (s->proto == 6 ? 20 + s->tcpopt : 8);
	struct vnet_hdr h = pkt_gso_hdr(s, gso_size);
	struct offload_split sp;
	assert_int_equal(offload_split_start(&sp, &h, big, len), OFFLOAD_OK);
	unsigned want = (unsigned)((s->paylen + gso_size - 1) / gso_size);
	assert_int_equal(sp.nseg, want);
	assert_int_equal(offload_split_max(&sp), hl + (s->paylen < gso_size ? s->paylen : gso_size));
	struct offload_seg g;
	uint8_t pkt[OFFLOAD_MAX_PKT];
	unsigned i = 0;
	while (offload_split_next(&sp, &g)) {
		size_t n = s->paylen - i * gso_size < gso_size ? s->paylen - i * gso_size : gso_size;
		assert_int_equal(g.hdrlen, hl);
		assert_int_equal(g.datalen, n);
		assert_ptr_equal(g.data, big + hl + i * gso_size); /* payload in place */
		memcpy(pkt, g.hdr, g.hdrlen);
		memcpy(pkt + g.hdrlen, g.data, g.datalen);
		assert_true(pkt_valid(pkt, hl + n));
		if (s->version == 4)
			assert_int_equal(pkt[4] << 8 | pkt[5], (uint16_t)(s->id + i));
		if (s->proto == 6) {
			uint32_t seq = (uint32_t)pkt[l3 + 4] << 24 | (uint32_t)pkt[l3 + 5] << 16 |
			               (uint32_t)pkt[l3 + 6] << 8 | pkt[l3 + 7];
			assert_int_equal(seq, (uint32_t)(s->seq + i * gso_size));
			uint8_t f = s->flags;
			if (i + 1 < want)
				f &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (i > 0)
				f &= (uint8_t)~TCP_CWR;
			assert_int_equal(pkt[l3 + 13], f);
			assert_memory_equal(pkt + l3 + 20, big + l3 + 20, s->tcpopt);
		}
		i++;
	}
	assert_int_equal(i, want);
	return i;
}

static void split_tso4(void **state)
{
	struct pkt_spec s = tcp4(5000);
	s.flags = TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR;
	assert_int_equal(split_check(&s, 1400), 4);
	s.ipopt = 8; /* IP options go to every packet */
	assert_int_equal(split_check(&s, 1400), 4);
	s.paylen = 2800; /* an exact multiple */
	assert_int_equal(split_check(&s, 1400), 2);
	s.paylen = 100; /* less than one segment */
	assert_int_equal(split_check(&s, 1400), 1);
}

static void split_tso6(void **state)
{
	struct pkt_spec s = tcp4(65535 - 40 - 32);
	s.version = 6;
	s.flow = 0x12345;
	s.tos = 0xb8;
	s.flags = TCP_ACK | TCP_PSH;
	assert_int_equal(split_check(&s, 1208), 55);
}

/* IPv6 hop-by-hop and destination options headers (a socket's
 * IPV6_HOPOPTS/IPV6_DSTOPTS): every packet carries them, its payload length
 * counting them and its checksum not. */
static void split_ipv6_options(void **state)
{
	struct pkt_spec s = tcp4(3 * 1200);
	s.version = 6;
	s.ipopt = 8;
	s.exthdr = 60;
	assert_int_equal(split_check(&s, 1200), 3);
	s.exthdr = 0;
	s.ipopt = 56;   /* the largest one with TCP's 60 */
	s.tcpopt = 40;
	s.paylen = 3 * 1200 + 1;
	assert_int_equal(split_check(&s, 1200), 4);
	s.proto = 17;   /* USO */
	s.ipopt = 16;
	assert_int_equal(split_check(&s, 1200), 4);
	/* Segment routing: none left (the checksum's destination the IPv6
	 * header's), and one left (its destination the first segment). */
	s.exthdr = 43;
	s.ipopt = 24;
	assert_int_equal(split_check(&s, 1200), 4);
	s.proto = 6;
	s.ipopt = 40;
	s.segleft = 1;
	assert_int_equal(split_check(&s, 1200), 4);
	s.exthdr = 0;
	s.segleft = 0;
	/* Both, hop-by-hop first as RFC 8200 orders them. */
	s.proto = 6;
	s.ipopt = 8;
	s.tcpopt = 12;
	size_t len = pkt_build(big, &s, true);
	memmove(big + 56, big + 48, len - 48);
	memcpy(big + 48, "\x06\x00\x01\x04\x00\x00\x00\x00", 8);
	big[40] = 60;
	big[5] += 8;
	len += 8;
	struct vnet_hdr h = pkt_gso_hdr(&s, 1200);
	struct offload_split sp;
	assert_int_equal(offload_split_start(&sp, &h, big, len), OFFLOAD_OK);
	assert_int_equal(sp.l3len, 56);
	assert_int_equal(sp.nseg, 4);
	struct offload_seg g;
	uint8_t pkt[1500];
	while (offload_split_next(&sp, &g)) {
		memcpy(pkt, g.hdr, g.hdrlen);
		memcpy(pkt + g.hdrlen, g.data, g.datalen);
		assert_true(pkt_valid(pkt, g.hdrlen + g.datalen));
		assert_memory_equal(pkt + 40, big + 40, 16);
	}
}

static void split_uso(void **state)
{
	struct pkt_spec s = tcp4(3000);
	s.proto = 17;
	assert_int_equal(split_check(&s, 1000), 3);
	s.version = 6;
	s.paylen = 3001;
	assert_int_equal(split_check(&s, 1000), 4);
}

/* A packet that needs no splitting is given whole, its checksum filled in. */
static void whole_packet(void **state)
{
	struct pkt_spec s = tcp4(300);
	s.proto = 17;
	size_t len = pkt_build(big, &s, true);
	assert_false(pkt_valid(big, len));
	struct vnet_hdr h = {.flags = VNET_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 6};
	struct offload_split sp;
	assert_int_equal(offload_split_start(&sp, &h, big, len), OFFLOAD_OK);
	struct offload_seg g;
	assert_true(offload_split_next(&sp, &g));
	assert_int_equal(g.hdrlen, 0);
	assert_ptr_equal(g.data, big);
	assert_int_equal(g.datalen, len);
	assert_true(pkt_valid(big, len));
	assert_false(offload_split_next(&sp, &g));
	/* No header at all (offloads off): anything passes untouched. */
	struct vnet_hdr none = {0};
	uint8_t junk[3] = {1, 2, 3};
	assert_int_equal(offload_split_start(&sp, &none, junk, 3), OFFLOAD_OK);
	assert_true(offload_split_next(&sp, &g));
	assert_int_equal(g.datalen, 3);
	assert_memory_equal(junk, "\1\2\3", 3);
}

static void split_refuses_bad_input(void **state)
{
	struct pkt_spec s = tcp4(3000);
	size_t len = pkt_build(big, &s, true);
	const struct vnet_hdr tso = pkt_gso_hdr(&s, 1000);
	static const struct {
		const char *what;
		enum offload_result want;
	} cases[] = {
		{"gso_size 0", OFFLOAD_BAD_GSO},
		{"unknown GSO type", OFFLOAD_BAD_GSO},
		{"IPv6 packet for TCPV4", OFFLOAD_BAD_IP},
		{"IHL 4", OFFLOAD_BAD_IP},
		{"IHL past the end", OFFLOAD_SHORT},
		{"total length past the read", OFFLOAD_SHORT},
		{"total length inside the header", OFFLOAD_BAD_IP},
		{"a fragment", OFFLOAD_BAD_IP},
		{"UDP for TCPV4", OFFLOAD_BAD_L4},
		{"TCP data offset 4", OFFLOAD_BAD_L4},
		{"TCP header past the end", OFFLOAD_SHORT},
		{"TCP options past the end", OFFLOAD_SHORT},
		{"empty", OFFLOAD_SHORT},
		{"19 bytes", OFFLOAD_SHORT},
		{"checksum field outside", OFFLOAD_BAD_CSUM},
		{"checksum start past the end", OFFLOAD_BAD_CSUM},
		{"IPv6 with a routing header before TCP", OFFLOAD_BAD_L4},
		{"IPv6 options headers longer than a segment's header", OFFLOAD_BAD_IP},
		{"IPv6 options header past the end", OFFLOAD_SHORT},
		{"IPv6 options and TCP options past a segment's header (164)", OFFLOAD_BAD_IP},
		{"IPv6 options header before ESP", OFFLOAD_BAD_L4},
		{"IPv6 routing header of type 2 with a segment left", OFFLOAD_BAD_L4},
		{"IPv6 with two routing headers with segments left", OFFLOAD_BAD_L4},
	};
	uint8_t p[OFFLOAD_MAX_PKT];
	for (int i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		memcpy(p, big, len);
		size_t l = len;
		struct vnet_hdr h = tso;
		switch (i) {
		case 0: h.gso_size = 0; break;
		case 1: h.gso_type = 3; break;
		case 2: p[0] = 0x65; break;
		case 3: p[0] = 0x44; break;
		case 4: l = 30, p[0] = 0x4f; break;
		case 5: p[2] = 0xff; break;
		case 6: p[2] = 0, p[3] = 10; break;
		case 7: p[6] = 0x20; break;
		case 8: p[9] = 17; break;
		case 9: p[32] = 0x40; break;
		case 10: p[2] = 0, p[3] = 30; break;
		case 11: p[2] = 0, p[3] = 44, p[32] = 0xf0; break;
		case 12: l = 0; break;
		case 13: l = 19; break;
		case 14: h.gso_type = 0, h.csum_start = 3000, h.csum_offset = 100; break;
		case 15: h.gso_type = 0, h.csum_start = 65535; break;
		case 16: case 17: case 18: case 19: case 20: case 21: case 22: {
			struct pkt_spec s6 = s;
			s6.version = 6;
			s6.ipopt = i == 16 ? 0 : i == 19 ? 64 : i >= 21 ? 40 : 8;
			s6.exthdr = i >= 21 ? 43 : 60;
			s6.segleft = i >= 21;
			s6.tcpopt = i == 19 ? 40 : 12;
			l = pkt_build(p, &s6, true);
			h = pkt_gso_hdr(&s6, 1000);
			if (i == 16)
				p[6] = 43;
			else if (i == 17)
				p[41] = 15; /* 40 + 128: past 160 before any TCP */
			else if (i == 18)
				l = 44, p[4] = 0, p[5] = 4;
			else if (i == 20)
				p[40] = 50;
			else if (i == 21)
				p[42] = 2;
			else if (i == 22) /* the first one 24 bytes, then a second */
				p[40] = 43, p[41] = 2, memcpy(p + 64, "\x06\x01\x04\x01\x00\x00\x00\x00", 8);
			break;
		}
		}
		struct offload_split sp;
		enum offload_result r = offload_split_start(&sp, &h, p, l);
		if (r != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].what, offload_result_str(r),
			         offload_result_str(cases[i].want));
	}
}

/* A refused super-packet's drops are counted by what its header says it
 * held: the payload past hdr_len in gso_size pieces, at least 1. */
static void seg_estimate(void **state)
{
	struct vnet_hdr h = {.gso_type = VNET_GSO_TCPV6, .hdr_len = 80, .gso_size = 1000};
	assert_int_equal(offload_seg_estimate(&h, 80 + 3000), 3);
	assert_int_equal(offload_seg_estimate(&h, 80 + 3001), 4);
	assert_int_equal(offload_seg_estimate(&h, 80), 1);          /* no payload */
	assert_int_equal(offload_seg_estimate(&h, 40), 1);          /* shorter than hdr_len */
	h.gso_type = VNET_GSO_TCPV4 | VNET_GSO_ECN;
	assert_int_equal(offload_seg_estimate(&h, 80 + 65000), 65);
	h.gso_size = 0;
	assert_int_equal(offload_seg_estimate(&h, 80 + 3000), 1);
	h.gso_size = 1;
	h.hdr_len = 0;
	assert_int_equal(offload_seg_estimate(&h, 65535), 65535);
	struct vnet_hdr none = {.hdr_len = 10, .gso_size = 100};
	assert_int_equal(offload_seg_estimate(&none, 5000), 1);
}

/* ---- coalescing ---- */

struct out {
	struct vnet_hdr h[64];
	uint8_t *pkt[64];
	size_t len[64];
	unsigned n;
};

static void collect(void *ctx, const uint8_t *vnet, const uint8_t *pkt, size_t len)
{
	struct out *o = ctx;
	assert_true(o->n < 64);
	vnet_hdr_get(vnet, &o->h[o->n]);
	o->pkt[o->n] = malloc(len);
	memcpy(o->pkt[o->n], pkt, len);
	o->len[o->n++] = len;
}

static void out_free(struct out *o)
{
	for (unsigned i = 0; i < o->n; i++)
		free(o->pkt[i]);
	o->n = 0;
}

static uint8_t *gro_mem;

static int gro_setup(void **state)
{
	gro_mem = malloc((size_t)OFFLOAD_GRO_FLOWS * OFFLOAD_GRO_BUF);
	return gro_mem ? 0 : -1;
}

static int gro_teardown(void **state)
{
	free(gro_mem);
	return 0;
}

/* Segment i of flow spec s, every segment before it of seg bytes: a packet
 * as a peer sends it, with paylen bytes (seg unless given). */
static size_t segment_n(uint8_t *p, struct pkt_spec s, unsigned i, size_t seg, size_t paylen)
{
	s.seq += (uint32_t)(i * seg);
	s.id = (uint16_t)(s.id + i);
	s.fill = (uint8_t)(s.fill + i);
	s.paylen = paylen;
	return pkt_build(p, &s, false);
}

static size_t segment(uint8_t *p, struct pkt_spec s, unsigned i, size_t seg)
{
	return segment_n(p, s, i, seg, seg);
}

/* Split emitted packet k of o back into packets. */
static unsigned resplit(struct out *o, unsigned k, uint8_t pkts[][2048], size_t *lens)
{
	struct offload_split sp;
	assert_int_equal(offload_split_start(&sp, &o->h[k], o->pkt[k], o->len[k]), OFFLOAD_OK);
	struct offload_seg g;
	unsigned n = 0;
	while (offload_split_next(&sp, &g)) {
		memcpy(pkts[n], g.hdrlen ? g.hdr : g.data, g.hdrlen ? g.hdrlen : g.datalen);
		if (g.hdrlen)
			memcpy(pkts[n] + g.hdrlen, g.data, g.datalen);
		lens[n++] = g.hdrlen + g.datalen;
	}
	return n;
}

static void roundtrip(struct pkt_spec s, size_t seg, unsigned count, size_t last)
{
	struct offload_gro g;
	struct out o = {0};
	offload_gro_init(&g, gro_mem, true, collect, &o);
	static uint8_t in[64][2048], back[64][2048];
	size_t inlen[64], backlen[64];
	for (unsigned i = 0; i < count; i++) {
		inlen[i] = segment_n(in[i], s, i, seg, i + 1 == count ? last : seg);
		offload_gro_add(&g, in[i], inlen[i]);
	}
	assert_int_equal(o.n, 0); /* all held */
	offload_gro_flush(&g);
	assert_int_equal(o.n, 1);
	struct vnet_hdr *h = &o.h[0];
	assert_int_equal(h->flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(h->gso_type, s.proto == 17 ? VNET_GSO_UDP_L4
	                              : s.version == 6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4);
	assert_int_equal(h->gso_size, seg);
	assert_int_equal(h->hdr_len, pkt_hdrlen(&s));
	assert_int_equal(h->csum_start, s.version == 6 ? 40 : 20);
	assert_int_equal(h->csum_offset, s.proto == 17 ? 6 : 16);
	assert_int_equal(o.len[0], pkt_hdrlen(&s) + (count - 1) * seg + last);
	assert_int_equal(resplit(&o, 0, back, backlen), count);
	for (unsigned i = 0; i < count; i++) {
		assert_int_equal(backlen[i], inlen[i]);
		assert_memory_equal(back[i], in[i], inlen[i]);
	}
	out_free(&o);
}

static void coalesce_then_split(void **state)
{
	struct pkt_spec s = tcp4(0);
	roundtrip(s, 1228, 5, 1228);
	roundtrip(s, 1228, 5, 100);       /* a short last one */
	s.version = 6;
	s.flow = 0xabcde;
	s.tos = 0x02;                     /* ECT(0) */
	roundtrip(s, 1200, 40, 1200);
	/* UDP datagrams of one flow, as with USO. */
	s = tcp4(0);
	s.proto = 17;
	roundtrip(s, 1252, 10, 1252);
	roundtrip(s, 1000, 64, 7);  /* as many as a UDP flow takes */
	s.version = 6;
	roundtrip(s, 1000, 20, 999);
}

/* What the UDP coalescer leaves alone: without USO, a datagram without a
 * checksum, and past 64 datagrams a new packet begins. */
static void coalesce_udp_limits(void **state)
{
	struct offload_gro g;
	struct out o = {0};
	uint8_t p[2048];
	struct pkt_spec s = tcp4(0);
	s.proto = 17;
	offload_gro_init(&g, gro_mem, false, collect, &o);
	size_t l = segment(p, s, 0, 500);
	offload_gro_add(&g, p, l);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.h[0].gso_type, VNET_GSO_NONE);
	assert_memory_equal(o.pkt[0], p, l);
	out_free(&o);

	offload_gro_init(&g, gro_mem, true, collect, &o);
	l = segment(p, s, 0, 500);
	p[26] = p[27] = 0; /* no checksum (IPv4) */
	offload_gro_add(&g, p, l);
	assert_int_equal(o.n, 1);
	assert_memory_equal(o.pkt[0], p, l);
	out_free(&o);

	for (unsigned i = 0; i < 70; i++)
		offload_gro_add(&g, p, segment(p, s, i, 500));
	offload_gro_flush(&g);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.len[0], 28 + 64 * 500);
	assert_int_equal(o.len[1], 28 + 6 * 500);
	out_free(&o);
}

static void coalesce_many_flows(void **state)
{
	struct offload_gro g;
	struct out o = {0};
	offload_gro_init(&g, gro_mem, true, collect, &o);
	uint8_t p[2048];
	/* 8 flows interleaved, 4 segments each. */
	for (unsigned i = 0; i < 4; i++)
		for (unsigned f = 0; f < 8; f++) {
			struct pkt_spec s = tcp4(0);
			s.sport = (uint16_t)(1000 + f);
			offload_gro_add(&g, p, segment(p, s, i, 1000));
		}
	offload_gro_flush(&g);
	/* Every segment comes back once, each flow's in order (flows that
	 * share a table slot push each other out). */
	static uint8_t back[64][2048];
	size_t backlen[64];
	unsigned next[8] = {0}, segs = 0, joined = 0;
	for (unsigned k = 0; k < o.n; k++) {
		unsigned n = resplit(&o, k, back, backlen);
		joined += n > 1;
		for (unsigned j = 0; j < n; j++) {
			unsigned f = (unsigned)(back[j][20] << 8 | back[j][21]) - 1000;
			assert_true(f < 8);
			struct pkt_spec s = tcp4(0);
			s.sport = (uint16_t)(1000 + f);
			assert_int_equal(backlen[j], segment(p, s, next[f]++, 1000));
			assert_memory_equal(back[j], p, backlen[j]);
			segs++;
		}
	}
	assert_int_equal(segs, 32);
	assert_true(joined >= 4); /* most flows were coalesced */
	out_free(&o);
}

/* What breaks a flow off, and what is never held: each case gives the
 * packets in and how many packets go out, in order. */
static void coalesce_breaks(void **state)
{
	struct offload_gro g;
	struct out o = {0};
	offload_gro_init(&g, gro_mem, true, collect, &o);
	struct pkt_spec s = tcp4(0);
	uint8_t a[2048], b[2048], c[2048];
	size_t la, lb, lc;

	/* A gap in the sequence. */
	la = segment(a, s, 0, 1000), lb = segment(b, s, 2, 1000);
	offload_gro_add(&g, a, la), offload_gro_add(&g, b, lb), offload_gro_flush(&g);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.h[0].gso_type, VNET_GSO_NONE);
	assert_memory_equal(o.pkt[0], a, la); /* a lone segment leaves as it came */
	assert_memory_equal(o.pkt[1], b, lb);
	out_free(&o);

	/* A wrong checksum: the flow so far, then that packet alone, as it is. */
	la = segment(a, s, 0, 1000), lb = segment(b, s, 1, 1000), lc = segment(c, s, 2, 1000);
	b[100] ^= 1;
	offload_gro_add(&g, a, la), offload_gro_add(&g, b, lb), offload_gro_add(&g, c, lc);
	offload_gro_flush(&g);
	assert_int_equal(o.n, 3);
	assert_memory_equal(o.pkt[1], b, lb);
	out_free(&o);

	/* A wrong IPv4 header checksum (the TCP one right): not joined, so
	 * not given a good one; it leaves as it came, for the kernel to drop. */
	la = segment(a, s, 0, 1000), lb = segment(b, s, 1, 1000), lc = segment(c, s, 2, 1000);
	b[10] ^= 1; /* the checksum itself */
	offload_gro_add(&g, a, la), offload_gro_add(&g, b, lb), offload_gro_add(&g, c, lc);
	offload_gro_flush(&g);
	assert_int_equal(o.n, 3);
	assert_memory_equal(o.pkt[1], b, lb);
	out_free(&o);

	/* Other TCP options (a new timestamp). */
	la = segment(a, s, 0, 1000);
	s.optfill = 9;
	lb = segment(b, s, 1, 1000);
	s.optfill = 8;
	offload_gro_add(&g, a, la), offload_gro_add(&g, b, lb), offload_gro_flush(&g);
	assert_int_equal(o.n, 2);
	out_free(&o);

	/* FIN: what the flow holds goes first. */
	la = segment(a, s, 0, 1000), lb = segment(b, s, 1, 1000);
	s.flags = TCP_ACK | TCP_FIN;
	lc = segment(c, s, 2, 1000);
	s.flags = TCP_ACK;
	offload_gro_add(&g, a, la), offload_gro_add(&g, b, lb), offload_gro_add(&g, c, lc);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.h[0].gso_type, VNET_GSO_TCPV4);
	assert_memory_equal(o.pkt[1], c, lc);
	out_free(&o);

	/* PSH ends what joins: the next segment starts anew. */
	la = segment(a, s, 0, 1000);
	s.flags = TCP_ACK | TCP_PSH;
	lb = segment(b, s, 1, 1000);
	s.flags = TCP_ACK;
	lc = segment(c, s, 2, 1000);
	offload_gro_add(&g, a, la), offload_gro_add(&g, b, lb), offload_gro_add(&g, c, lc);
	offload_gro_flush(&g);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.len[0], la + 1000);
	assert_int_equal(o.pkt[0][33] & TCP_PSH, TCP_PSH);
	out_free(&o);

	/* A short segment ends it too. */
	la = segment(a, s, 0, 1000), lb = segment_n(b, s, 1, 1000, 500);
	s.seq -= 500; /* c follows b */
	lc = segment(c, s, 2, 1000);
	s.seq += 500;
	offload_gro_add(&g, a, la), offload_gro_add(&g, b, lb), offload_gro_add(&g, c, lc);
	offload_gro_flush(&g);
	assert_int_equal(o.n, 2);
	out_free(&o);

	/* A SYN, a bare ACK, UDP without a checksum and IPv4 with options are
	 * never held. */
	struct pkt_spec syn = tcp4(0), ack = tcp4(0), udp = tcp4(100), opt = tcp4(100);
	syn.flags = TCP_SYN;
	udp.proto = 17;
	opt.ipopt = 4;
	struct pkt_spec *never[] = {&syn, &ack, &udp, &opt};
	for (size_t i = 0; i < 4; i++) {
		la = pkt_build(a, never[i], false);
		if (never[i] == &udp)
			a[26] = a[27] = 0; /* no checksum */
		offload_gro_add(&g, a, la);
		assert_int_equal(o.n, 1);
		assert_int_equal(o.h[0].gso_type, VNET_GSO_NONE);
		assert_int_equal(o.h[0].flags, 0);
		assert_memory_equal(o.pkt[0], a, la);
		out_free(&o);
	}

	/* An IP fragment of a flow that is held flushes what is held first. */
	la = segment(a, s, 0, 1000);
	offload_gro_add(&g, a, la);
	lb = segment(b, s, 1, 1000);
	b[6] = 0x00, b[7] = 0x10; /* offset 128, no DF */
	offload_gro_add(&g, b, lb);
	assert_int_equal(o.n, 2);
	assert_memory_equal(o.pkt[0], a, la);
	out_free(&o);

	/* So does an IPv6 packet between the flow's addresses whose transport
	 * is behind an extension header (a fragment of a larger datagram). */
	struct pkt_spec s6 = tcp4(1000);
	s6.version = 6;
	la = pkt_build(a, &s6, false);
	offload_gro_add(&g, a, la);
	assert_int_equal(o.n, 0); /* held */
	s6.seq += 1000;
	lb = pkt_build(b, &s6, false);
	b[6] = 44; /* next header: fragment (the bytes after it matter not here) */
	offload_gro_add(&g, b, lb);
	assert_int_equal(o.n, 2);
	assert_memory_equal(o.pkt[0], a, la);
	assert_memory_equal(o.pkt[1], b, lb);
	out_free(&o);
}

/* A flow longer than one IP packet can hold goes out in several. */
static void coalesce_up_to_64k(void **state)
{
	struct offload_gro g;
	struct out o = {0};
	offload_gro_init(&g, gro_mem, true, collect, &o);
	uint8_t p[2048];
	struct pkt_spec s = tcp4(0);
	for (unsigned i = 0; i < 60; i++)
		offload_gro_add(&g, p, segment(p, s, i, 1400));
	offload_gro_flush(&g);
	assert_int_equal(o.n, 2);
	assert_true(o.len[0] <= OFFLOAD_MAX_PKT);
	assert_int_equal(o.len[0], 52 + 46 * 1400);
	assert_int_equal(o.len[1], 52 + 14 * 1400);
	out_free(&o);
}

/* An IPv6 packet of 40 + 65535 bytes is more than a flow's buffer holds:
 * passed on alone, never held. */
static void coalesce_refuses_jumbo6(void **state)
{
	(void)state;
	struct offload_gro g;
	struct out o = {0};
	offload_gro_init(&g, gro_mem, true, collect, &o);
	static uint8_t p[40 + 65535 + 64];
	struct pkt_spec s = tcp4(65535 - 32);
	s.version = 6;
	size_t n = pkt_build(p, &s, false);
	assert_int_equal(n, 40 + 65535);
	offload_gro_add(&g, p, n);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.len[0], n);
	offload_gro_flush(&g);
	assert_int_equal(o.n, 1);
	out_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_tso4),
		cmocka_unit_test(split_tso6),
		cmocka_unit_test(split_ipv6_options),
		cmocka_unit_test(split_uso),
		cmocka_unit_test(whole_packet),
		cmocka_unit_test(split_refuses_bad_input),
		cmocka_unit_test(seg_estimate),
		cmocka_unit_test(coalesce_then_split),
		cmocka_unit_test(coalesce_many_flows),
		cmocka_unit_test(coalesce_breaks),
		cmocka_unit_test(coalesce_udp_limits),
		cmocka_unit_test(coalesce_up_to_64k),
		cmocka_unit_test(coalesce_refuses_jumbo6),
	};
	return cmocka_run_group_tests(tests, gro_setup, gro_teardown);
}
