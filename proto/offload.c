#include "proto/offload.h"

#include "proto/csum.h"

#include <arpa/inet.h>
#include <string.h>

#define PROTO_TCP 6
#define PROTO_UDP 17
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void vnet_hdr_get(const uint8_t b[VNET_HDR_LEN], struct vnet_hdr *h)
{
	h->flags = b[0];
	h->gso_type = b[1];
	memcpy(&h->hdr_len, b + 2, 2);
	memcpy(&h->gso_size, b + 4, 2);
	memcpy(&h->csum_start, b + 6, 2);
	memcpy(&h->csum_offset, b + 8, 2);
}

void vnet_hdr_put(uint8_t b[VNET_HDR_LEN], const struct vnet_hdr *h)
{
	b[0] = h->flags;
	b[1] = h->gso_type;
	memcpy(b + 2, &h->hdr_len, 2);
	memcpy(b + 4, &h->gso_size, 2);
	memcpy(b + 6, &h->csum_start, 2);
	memcpy(b + 8, &h->csum_offset, 2);
}

/* The pseudo-header of TCP/UDP over the IP header ip (4 or 6). */
static uint64_t pseudo_sum(const uint8_t *ip, uint8_t proto, size_t l4len)
{
	uint64_t sum = ip[0] >> 4 == 6 ? csum_add(0, ip + 8, 32) : csum_add(0, ip + 12, 8);
	return sum + htons(proto) + htons((uint16_t)l4len);
}

/* The same with IPv6's final destination at dst_at (a routing header's). */
static uint64_t pseudo_sum_at(const uint8_t *ip, size_t dst_at, uint8_t proto, size_t l4len)
{
	if (ip[0] >> 4 != 6 || dst_at == 24)
		return pseudo_sum(ip, proto, l4len);
	uint64_t sum = csum_add(csum_add(0, ip + 8, 16), ip + dst_at, 16);
	return sum + htons(proto) + htons((uint16_t)l4len);
}

static void store_csum(uint8_t *at, uint16_t c)
{
	memcpy(at, &c, 2);
}

/* ---- splitting ---- */

const char *offload_result_str(enum offload_result r)
{
	switch (r) {
	case OFFLOAD_OK: return "ok";
	case OFFLOAD_SHORT: return "shorter than its headers say";
	case OFFLOAD_BAD_IP: return "bad IP header";
	case OFFLOAD_BAD_L4: return "not the TCP/UDP header its GSO type names";
	case OFFLOAD_BAD_CSUM: return "checksum position outside the packet";
	case OFFLOAD_BAD_GSO: return "unknown GSO type or segment size 0";
	}
	return "unknown result";
}

/* A packet to send whole; the checksum the kernel left to us, done. */
static enum offload_result split_whole(struct offload_split *s, const struct vnet_hdr *h)
{
	if (!(h->flags & VNET_F_NEEDS_CSUM))
		return OFFLOAD_OK;
	size_t start = h->csum_start, at = start + h->csum_offset;
	if (start > s->len || at + 2 > s->len)
		return OFFLOAD_BAD_CSUM;
	/* The field holds the pseudo-header's sum: it is summed with the rest. */
	uint16_t c = inet_csum(s->pkt + start, s->len - start);
	store_csum(s->pkt + at, c ? c : 0xffff);
	return OFFLOAD_OK;
}

/* Past the IPv6 header and any hop-by-hop, destination options or routing
 * headers (a socket with IPV6_HOPOPTS, IPV6_DSTOPTS or IPV6_RTHDR has them
 * in every packet), which each segment gets as they are. The checksum
 * covers the final destination: that of the IPv6 header once no segment is
 * left to visit, else for segment routing (type 4) its first segment;
 * *dst_at is where it lies. Any other extension header (a fragment cannot
 * be split, ESP/AH hide what follows), or another routing type with
 * segments left, ends the walk and is taken for the transport: refused. */
static enum offload_result ipv6_opts(const uint8_t *pkt, size_t len, size_t *l3len,
                                     size_t *dst_at, uint8_t *proto)
{
	size_t at = 40;
	uint8_t nh = pkt[6];
	*dst_at = 24;
	while (nh == 0 || nh == 60 || nh == 43) {
		if (at + 8 > len)
			return OFFLOAD_SHORT;
		size_t n = (pkt[at + 1] + 1u) * 8u;
		if (nh == 43 && pkt[at + 3] != 0) {
			if (pkt[at + 2] != 4 || n < 24 || *dst_at != 24)
				break;
			*dst_at = at + 8;
		}
		nh = pkt[at];
		at += n;
		if (at > OFFLOAD_MAX_HDR)
			return OFFLOAD_BAD_IP; /* more than a segment's header can hold */
	}
	*l3len = at;
	*proto = nh;
	return OFFLOAD_OK;
}

enum offload_result offload_split_start(struct offload_split *s, const struct vnet_hdr *h,
                                        uint8_t *pkt, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->pkt = pkt;
	s->len = len;
	s->nseg = 1;
	uint8_t type = h->gso_type & (uint8_t)~VNET_GSO_ECN;
	if (type == VNET_GSO_NONE)
		return split_whole(s, h);
	if (type != VNET_GSO_TCPV4 && type != VNET_GSO_TCPV6 && type != VNET_GSO_UDP_L4)
		return OFFLOAD_BAD_GSO;
	if (h->gso_size == 0)
		return OFFLOAD_BAD_GSO;
	if (len < 1)
		return OFFLOAD_SHORT;
	unsigned version = pkt[0] >> 4;
	if ((type == VNET_GSO_TCPV4 && version != 4) || (type == VNET_GSO_TCPV6 && version != 6) ||
	    (version != 4 && version != 6))
		return OFFLOAD_BAD_IP;
	if (version == 4) {
		if (len < 20)
			return OFFLOAD_SHORT;
		size_t ihl = (pkt[0] & 0x0fu) * 4u, total = get16(pkt + 2);
		if (ihl < 20 || total < ihl)
			return OFFLOAD_BAD_IP;
		if (ihl > len || total > len)
			return OFFLOAD_SHORT;
		if (get16(pkt + 6) & 0x3fff)
			return OFFLOAD_BAD_IP; /* a fragment */
		s->l3len = ihl;
		s->len = total;
		s->proto = pkt[9];
	} else {
		if (len < 40)
			return OFFLOAD_SHORT;
		size_t total = 40u + get16(pkt + 4);
		if (total > len)
			return OFFLOAD_SHORT;
		s->len = total;
		enum offload_result r = ipv6_opts(pkt, total, &s->l3len, &s->dst_at, &s->proto);
		if (r != OFFLOAD_OK)
			return r;
	}
	if (s->proto != (type == VNET_GSO_UDP_L4 ? PROTO_UDP : PROTO_TCP))
		return OFFLOAD_BAD_L4;
	size_t l4len = 8;
	if (s->proto == PROTO_TCP) {
		if (s->l3len + 20 > s->len)
			return OFFLOAD_SHORT;
		l4len = (pkt[s->l3len + 12] >> 4) * 4u;
		if (l4len < 20)
			return OFFLOAD_BAD_L4;
	}
	if (s->l3len + l4len > s->len)
		return OFFLOAD_SHORT;
	if (s->l3len + l4len > OFFLOAD_MAX_HDR)
		return OFFLOAD_BAD_IP; /* IPv6 options and TCP's: more than a header can hold */
	s->hdrlen = s->l3len + l4len;
	s->seg = h->gso_size;
	size_t payload = s->len - s->hdrlen;
	s->nseg = payload ? (unsigned)((payload + s->seg - 1) / s->seg) : 1;
	return OFFLOAD_OK;
}

unsigned offload_seg_estimate(const struct vnet_hdr *h, size_t len)
{
	if ((h->gso_type & (uint8_t)~VNET_GSO_ECN) == VNET_GSO_NONE || h->gso_size == 0 ||
	    len <= h->hdr_len)
		return 1;
	return (unsigned)((len - h->hdr_len + h->gso_size - 1) / h->gso_size);
}

bool offload_split_next(struct offload_split *s, struct offload_seg *g)
{
	if (s->next >= s->nseg)
		return false;
	unsigned i = s->next++;
	if (!s->hdrlen) {
		g->hdrlen = 0;
		g->data = s->pkt;
		g->datalen = s->len;
		return true;
	}
	size_t off = s->hdrlen + (size_t)i * s->seg;
	size_t n = s->len - off < s->seg ? s->len - off : s->seg;
	size_t l3 = s->l3len, l4len = s->hdrlen - l3 + n;
	uint8_t *h = g->hdr, *l4 = h + l3;
	memcpy(h, s->pkt, s->hdrlen);
	if (h[0] >> 4 == 6) {
		put16(h + 4, s->hdrlen - 40 + n);
	} else {
		put16(h + 2, s->hdrlen + n);
		put16(h + 4, get16(h + 4) + i); /* each packet its own IP ID */
		h[10] = h[11] = 0;
		store_csum(h + 10, inet_csum(h, l3));
	}
	size_t csum_at;
	if (s->proto == PROTO_TCP) {
		put32(l4 + 4, get32(l4 + 4) + (uint32_t)(i * s->seg));
		if (i + 1 < s->nseg)
			l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH); /* on the last packet only */
		if (i > 0)
			l4[13] &= (uint8_t)~TCP_CWR;             /* on the first only */
		csum_at = 16;
	} else {
		put16(l4 + 4, l4len);
		csum_at = 6;
	}
	l4[csum_at] = l4[csum_at + 1] = 0;
	uint64_t sum = pseudo_sum_at(h, s->dst_at, s->proto, l4len);
	sum = csum_add(sum, l4, s->hdrlen - l3);
	sum = csum_add(sum, s->pkt + off, n);
	uint16_t c = (uint16_t)~csum_fold(sum);
	store_csum(l4 + csum_at, c || s->proto == PROTO_TCP ? c : 0xffff);
	g->hdrlen = s->hdrlen;
	g->data = s->pkt + off;
	g->datalen = n;
	return true;
}

/* ---- coalescing ---- */

static const uint8_t vnet_plain[VNET_HDR_LEN];

/* A TCP or UDP packet as the coalescer sees it. */
struct l4_pkt {
	size_t l3len, l4len, total, paylen;
	uint8_t proto, flags; /* flags: TCP's */
};

/* A packet that may start or join a flow: IPv4 without options and not a
 * fragment, or IPv6 with TCP or UDP next; TCP: an ACK carrying data and no
 * other control flag than PSH, with DF; UDP (when udp): data and a
 * checksum, its length that of the IP packet. */
static bool mergeable(const uint8_t *p, size_t len, bool udp, struct l4_pkt *t)
{
	if (len < 28)
		return false;
	if (p[0] == 0x45) {
		t->total = get16(p + 2);
		t->proto = p[9];
		t->l3len = 20;
		if (get16(p + 6) & 0x3fff || (t->proto == PROTO_TCP && !(p[6] & 0x40)))
			return false; /* a fragment; TCP without DF (its IDs matter) */
	} else if (p[0] >> 4 == 6 && len >= 48) {
		t->total = 40u + get16(p + 4);
		t->proto = p[6];
		t->l3len = 40;
	} else {
		return false;
	}
	/* An IPv6 packet may be 40 + 65535 bytes: more than a flow holds. */
	if (t->total > len || t->total > OFFLOAD_MAX_PKT ||
	    !(t->proto == PROTO_TCP || (udp && t->proto == PROTO_UDP)))
		return false;
	const uint8_t *l4 = p + t->l3len;
	if (t->proto == PROTO_UDP) {
		t->l4len = 8;
		t->flags = 0;
		return t->total > t->l3len + 8 && get16(l4 + 4) == t->total - t->l3len &&
		       (l4[6] | l4[7]);
	}
	if (t->total < t->l3len + 20)
		return false;
	t->l4len = (l4[12] >> 4) * 4u;
	if (t->l4len < 20 || t->l3len + t->l4len > t->total)
		return false;
	t->flags = l4[13];
	return (t->flags & (uint8_t)~TCP_PSH) == TCP_ACK && t->total > t->l3len + t->l4len;
}

/* In flush_for: an IPv6 packet whose transport sits behind extension
 * headers (a fragment, say) may belong to any flow between its addresses.
 * 255 is reserved: no packet of a flow carries it. */
#define PROTO_ANY 255

static bool ext6(uint8_t nh)
{
	/* Hop-by-hop, routing, fragment, ESP, AH, destination options,
	 * mobility, HIP, shim6, experiments. */
	return nh == 0 || nh == 43 || nh == 44 || nh == 50 || nh == 51 || nh == 60 || nh == 135 ||
	       nh == 139 || nh == 140 || nh == 253 || nh == 254;
}

/* Any TCP or UDP packet's place, for keeping order: l3len, 0 when it has
 * no ports at hand (a later fragment; for IPv6 behind extension headers,
 * with *proto PROTO_ANY), -1 for other protocols. */
static int l4_at(const uint8_t *p, size_t len, uint8_t *proto)
{
	if (len >= 20 && p[0] >> 4 == 4) {
		size_t ihl = (p[0] & 0x0fu) * 4u;
		*proto = p[9];
		if (*proto != PROTO_TCP && *proto != PROTO_UDP)
			return -1;
		return ihl >= 20 && ihl + 4 <= len && !(get16(p + 6) & 0x1fff) ? (int)ihl : 0;
	}
	if (len >= 40 && p[0] >> 4 == 6) {
		*proto = p[6];
		if (ext6(*proto)) {
			*proto = PROTO_ANY;
			return 0;
		}
		if (*proto != PROTO_TCP && *proto != PROTO_UDP)
			return -1;
		return len >= 44 ? 40 : 0;
	}
	return -1;
}

static const uint8_t *addrs(const uint8_t *p, size_t *n)
{
	bool v6 = p[0] >> 4 == 6;
	*n = v6 ? 32 : 8;
	return p + (v6 ? 8 : 12);
}

static unsigned flow_hash(const uint8_t *p, size_t l3len, uint8_t proto)
{
	size_t n;
	const uint8_t *a = addrs(p, &n);
	uint32_t h = proto, w;
	for (size_t i = 0; i < n; i += 4) {
		memcpy(&w, a + i, 4);
		h = (h ^ w) * 0x9e3779b1u;
	}
	memcpy(&w, p + l3len, 4);
	h = (h ^ w) * 0x9e3779b1u;
	return (h >> 16) % OFFLOAD_GRO_FLOWS;
}

/* Same version, protocol (unless PROTO_ANY) and addresses (and ports,
 * unless l3len is 0). */
static bool same_key(const struct offload_flow *f, const uint8_t *p, size_t l3len, uint8_t proto)
{
	const uint8_t *q = f->buf + VNET_HDR_LEN;
	size_t n, m;
	const uint8_t *a = addrs(p, &n), *b = addrs(q, &m);
	return (p[0] >> 4) == (q[0] >> 4) && (proto == f->proto || proto == PROTO_ANY) &&
	       memcmp(a, b, n) == 0 &&
	       (!l3len || memcmp(p + l3len, q + f->l3len, 4) == 0);
}

/* The IPv4 header's checksum too: a joined packet's header is written
 * anew, which would make a corrupt one good. */
static bool csum_ok(const uint8_t *p, const struct l4_pkt *t)
{
	if (t->l3len == 20 && inet_csum(p, 20) != 0)
		return false;
	uint64_t sum = pseudo_sum(p, t->proto, t->total - t->l3len);
	return csum_fold(csum_add(sum, p + t->l3len, t->total - t->l3len)) == 0xffff;
}

static void flow_emit(struct offload_gro *g, struct offload_flow *f)
{
	uint8_t *p = f->buf + VNET_HDR_LEN, *l4 = p + f->l3len;
	struct vnet_hdr h = {0};
	if (f->nseg > 1) {
		bool v6 = f->l3len == 40;
		size_t l4len = f->len - f->l3len, at = f->proto == PROTO_TCP ? 16 : 6;
		if (v6) {
			put16(p + 4, l4len);
		} else {
			put16(p + 2, f->len);
			p[10] = p[11] = 0;
			store_csum(p + 10, inet_csum(p, 20));
		}
		if (f->proto == PROTO_UDP)
			put16(l4 + 4, l4len);
		else if (f->psh)
			l4[13] |= TCP_PSH;
		/* The kernel completes the checksum from the pseudo-header's sum
		 * (each segment's was checked on the way in). */
		store_csum(l4 + at, csum_fold(pseudo_sum(p, f->proto, l4len)));
		h = (struct vnet_hdr){
			.flags = VNET_F_NEEDS_CSUM,
			.gso_type = f->proto == PROTO_UDP ? VNET_GSO_UDP_L4
			          : v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4,
			.hdr_len = f->hdrlen, .gso_size = f->seg, .csum_start = f->l3len,
			.csum_offset = (uint16_t)at,
		};
	}
	vnet_hdr_put(f->buf, &h);
	f->used = false;
	g->emit(g->ctx, f->buf, p, f->len);
}

/* Can packet p join flow f (same key)? The headers must match but for
 * lengths, IDs, checksums and TCP's PSH; a TCP sequence must follow on. */
static bool can_join(const struct offload_flow *f, const uint8_t *p, const struct l4_pkt *t)
{
	const uint8_t *q = f->buf + VNET_HDR_LEN, *a = p + t->l3len, *b = q + f->l3len;
	if (!f->open || t->l3len != f->l3len || t->l3len + t->l4len != f->hdrlen ||
	    t->paylen > f->seg || f->len + t->paylen > OFFLOAD_MAX_PKT)
		return false;
	if (t->l3len == 20 ? p[1] != q[1] || p[6] != q[6] || p[8] != q[8] /* ToS, DF, TTL */
	                   : memcmp(p, q, 4) != 0 || p[7] != q[7] /* class, flow label, hops */)
		return false;
	if (t->proto == PROTO_UDP)
		return f->nseg < OFFLOAD_GRO_UDP_SEGS;
	/* ACK number, data offset, window, urgent pointer, options. */
	return get32(a + 4) == f->next_seq && memcmp(a + 8, b + 8, 5) == 0 &&
	       memcmp(a + 14, b + 14, 2) == 0 && memcmp(a + 18, b + 18, t->l4len - 18) == 0;
}

static void flow_start(struct offload_flow *f, const uint8_t *p, const struct l4_pkt *t)
{
	memcpy(f->buf + VNET_HDR_LEN, p, t->total);
	f->len = t->total;
	f->proto = t->proto;
	f->l3len = (uint8_t)t->l3len;
	f->hdrlen = (uint8_t)(t->l3len + t->l4len);
	f->seg = (uint16_t)t->paylen;
	f->nseg = 1;
	f->next_seq = t->proto == PROTO_TCP ? get32(p + t->l3len + 4) + (uint32_t)t->paylen : 0;
	f->used = f->open = true;
	f->psh = false;
}

void offload_gro_init(struct offload_gro *g, uint8_t *mem, bool udp, offload_emit_fn emit,
                      void *ctx)
{
	memset(g, 0, sizeof(*g));
	for (int i = 0; i < OFFLOAD_GRO_FLOWS; i++)
		g->flow[i].buf = mem + (size_t)i * OFFLOAD_GRO_BUF;
	g->udp = udp;
	g->emit = emit;
	g->ctx = ctx;
}

void offload_gro_flush(struct offload_gro *g)
{
	for (int i = 0; i < OFFLOAD_GRO_FLOWS; i++)
		if (g->flow[i].used)
			flow_emit(g, &g->flow[i]);
}

/* Emit what a flow of p's holds, so that p keeps its place. */
static void flush_for(struct offload_gro *g, const uint8_t *p, size_t len)
{
	uint8_t proto;
	int l3 = l4_at(p, len, &proto);
	if (l3 > 0) {
		struct offload_flow *f = &g->flow[flow_hash(p, (size_t)l3, proto)];
		if (f->used && same_key(f, p, (size_t)l3, proto))
			flow_emit(g, f);
	} else if (l3 == 0) {
		/* No ports: every flow between these addresses. */
		for (int i = 0; i < OFFLOAD_GRO_FLOWS; i++)
			if (g->flow[i].used && same_key(&g->flow[i], p, 0, proto))
				flow_emit(g, &g->flow[i]);
	}
}

void offload_gro_add(struct offload_gro *g, const uint8_t *pkt, size_t len)
{
	struct l4_pkt t;
	if (!mergeable(pkt, len, g->udp, &t) || !csum_ok(pkt, &t)) {
		flush_for(g, pkt, len);
		g->emit(g->ctx, vnet_plain, pkt, len);
		return;
	}
	t.paylen = t.total - t.l3len - t.l4len;
	struct offload_flow *f = &g->flow[flow_hash(pkt, t.l3len, t.proto)];
	if (f->used) {
		if (same_key(f, pkt, t.l3len, t.proto) && can_join(f, pkt, &t)) {
			memcpy(f->buf + VNET_HDR_LEN + f->len, pkt + t.l3len + t.l4len, t.paylen);
			f->len += t.paylen;
			f->next_seq += (uint32_t)t.paylen;
			f->nseg++;
			/* A short segment or PSH ends what the sender sent in one go. */
			if (t.flags & TCP_PSH)
				f->psh = true, f->open = false;
			if (t.paylen < f->seg)
				f->open = false;
			return;
		}
		flow_emit(g, f); /* another flow, or this one broke off */
	}
	if (t.flags & TCP_PSH) {
		g->emit(g->ctx, vnet_plain, pkt, t.total);
		return;
	}
	flow_start(f, pkt, &t);
}
