/* libFuzzer: TUN offloads (proto/offload.c). The first byte picks how the
 * rest is read:
 * - even: a virtio-net header and a packet as the kernel might hand them
 *   over. Nothing crashes; every packet a super-packet splits into is valid
 *   IP with right checksums; whatever the coalescer makes of the packet
 *   splits back into valid packets.
 * - odd: the parameters of a valid super-packet (version, protocol, options,
 *   flags, segment size, payload). Every packet it splits into is valid, and
 *   coalescing them then splitting the result gives them back, in order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/offload.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/offload_pkt.h"

#define MAX_SEGS 64 /* a 64 KiB super-packet of 1024-byte segments, or more of smaller ones */

static uint8_t pkt[VNET_HDR_LEN + OFFLOAD_MAX_PKT];
static uint8_t *gro_mem;

/* What the coalescer emits, split back into packets. */
static uint8_t outbuf[2 * OFFLOAD_MAX_PKT + MAX_SEGS * OFFLOAD_MAX_HDR];
static size_t outlen, outcnt, outoff[MAX_SEGS * 4 + 2], outsz[MAX_SEGS * 4 + 2];

static void collect(void *ctx, const uint8_t *vnet, const uint8_t *p, size_t len)
{
	struct vnet_hdr h;
	vnet_hdr_get(vnet, &h);
	uint8_t *copy = fuzz_copy(p, len);
	if (!copy)
		abort();
	struct offload_split s;
	if (offload_split_start(&s, &h, copy, len) != OFFLOAD_OK)
		abort(); /* the coalescer made something the splitter refuses */
	struct offload_seg g;
	while (offload_split_next(&s, &g)) {
		size_t n = g.hdrlen + g.datalen;
		if (outcnt == sizeof(outsz) / sizeof(outsz[0]) || outlen + n > sizeof(outbuf))
			abort();
		memcpy(outbuf + outlen, g.hdrlen ? g.hdr : g.data, g.hdrlen ? g.hdrlen : g.datalen);
		if (g.hdrlen) {
			memcpy(outbuf + outlen + g.hdrlen, g.data, g.datalen);
			if (!pkt_valid(outbuf + outlen, n))
				abort(); /* a coalesced packet split into an invalid one */
		}
		outoff[outcnt] = outlen;
		outsz[outcnt++] = n;
		outlen += n;
	}
	free(copy);
}

static void raw(const uint8_t *data, size_t size)
{
	if (size < VNET_HDR_LEN)
		return;
	struct vnet_hdr h;
	vnet_hdr_get(data, &h);
	size_t len = size - VNET_HDR_LEN;
	memcpy(pkt, data + VNET_HDR_LEN, len);
	struct offload_split s;
	if (offload_split_start(&s, &h, pkt, len) != OFFLOAD_OK)
		return;
	if (s.len > len || s.hdrlen > OFFLOAD_MAX_HDR || offload_split_max(&s) > s.len)
		abort();
	struct offload_seg g;
	uint8_t seg[OFFLOAD_MAX_PKT];
	unsigned n = 0;
	while (offload_split_next(&s, &g)) {
		n++;
		if (g.data < pkt || g.data + g.datalen > pkt + s.len)
			abort();
		if (g.hdrlen) {
			memcpy(seg, g.hdr, g.hdrlen);
			memcpy(seg + g.hdrlen, g.data, g.datalen);
			if (g.hdrlen + g.datalen > offload_split_max(&s) || !pkt_valid(seg, g.hdrlen + g.datalen))
				abort();
		}
	}
	if (n != s.nseg)
		abort();
	struct offload_gro gro;
	outlen = outcnt = 0;
	offload_gro_init(&gro, gro_mem, true, collect, NULL);
	offload_gro_add(&gro, pkt, len);
	offload_gro_flush(&gro);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void structured(const uint8_t *d, size_t size)
{
	if (size < 20)
		return;
	struct pkt_spec s = {
		.version = d[1] & 1 ? 6 : 4,
		.proto = d[1] & 2 ? 17 : 6,
		.ipopt = (d[2] % 11) * 4u,
		.tcpopt = (d[3] % 11) * 4u,
		/* What a TSO super-packet may carry: ACK, and PSH, FIN, CWR. */
		.flags = (uint8_t)(0x10 | (d[4] & 0x89)),
		.seq = (uint32_t)d[5] << 24 | (uint32_t)d[6] << 16 | (uint32_t)d[7] << 8 | d[8],
		.id = get16(d + 9),
		.tos = d[11],
		.ttl = d[12],
		.flow = (uint32_t)d[13] << 12,
		.sport = 1234, .dport = 80,
		.fill = d[14], .optfill = d[15],
	};
	if (s.version == 6) { /* hop-by-hop, destination options or segment routing */
		s.ipopt = (d[2] % 8) * 8u;
		s.exthdr = d[1] & 4 ? 60 : 0;
		if (d[1] & 8) {
			s.exthdr = 43;
			s.ipopt = d[2] & 2 ? 40 : 24;
			s.segleft = d[2] & 1;
		}
	}
	uint16_t gso = (uint16_t)(1 + get16(d + 16) % 1500);
	size_t hl = pkt_hdrlen(&s), most = (size_t)gso * MAX_SEGS;
	if (most > OFFLOAD_MAX_PKT - hl)
		most = OFFLOAD_MAX_PKT - hl;
	s.paylen = get16(d + 18) % (most + 1);
	size_t len = pkt_build(pkt, &s, true);
	struct vnet_hdr h = pkt_gso_hdr(&s, gso);
	struct offload_split sp;
	if (offload_split_start(&sp, &h, pkt, len) != OFFLOAD_OK)
		abort();
	/* Split: each packet valid. */
	static uint8_t segs[MAX_SEGS][OFFLOAD_MAX_HDR + 1500];
	static size_t seglen[MAX_SEGS];
	struct offload_seg g;
	unsigned n = 0;
	while (offload_split_next(&sp, &g)) {
		if (n == MAX_SEGS)
			abort();
		memcpy(segs[n], g.hdr, g.hdrlen);
		memcpy(segs[n] + g.hdrlen, g.data, g.datalen);
		seglen[n] = g.hdrlen + g.datalen;
		if (!pkt_valid(segs[n], seglen[n]))
			abort();
		n++;
	}
	/* Coalesce, then split: the same packets, in the same order. */
	struct offload_gro gro;
	outlen = outcnt = 0;
	offload_gro_init(&gro, gro_mem, true, collect, NULL);
	for (unsigned i = 0; i < n; i++)
		offload_gro_add(&gro, segs[i], seglen[i]);
	offload_gro_flush(&gro);
	if (outcnt != n)
		abort();
	for (unsigned i = 0; i < n; i++)
		if (outsz[i] != seglen[i] || memcmp(outbuf + outoff[i], segs[i], seglen[i]) != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!gro_mem && !(gro_mem = malloc((size_t)OFFLOAD_GRO_FLOWS * OFFLOAD_GRO_BUF)))
		abort();
	if (size < 1)
		return 0;
	if (data[0] & 1)
		structured(data, size);
	else
		raw(data + 1, size - 1);
	return 0;
}
