/* TUN offloads as pure functions, no I/O. A TUN opened with IFF_VNET_HDR
 * puts a virtio-net header before every packet. Reading, the kernel hands
 * over TSO/USO super-packets (up to 64 KiB, one header, checksum not done)
 * that offload_split cuts into MTU-sized IP packets with their own headers
 * and checksums. Writing, offload_gro joins the TCP segments (and UDP
 * datagrams) of one flow into one super-packet, so that the kernel takes
 * 64 KiB at a time.
 * Every length and offset is checked against the bytes at hand: the packets
 * come from local applications and from the network. IPv4 and IPv6. */
#ifndef SLOPN_PROTO_OFFLOAD_H
#define SLOPN_PROTO_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* struct virtio_net_hdr, in the host's byte order (the TUN's default). */
#define VNET_HDR_LEN 10
#define VNET_F_NEEDS_CSUM 1   /* checksum from csum_start, stored at csum_start + csum_offset */
#define VNET_F_DATA_VALID 2
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_TCPV6 4
#define VNET_GSO_UDP_L4 5     /* USO, Linux 6.2 */
#define VNET_GSO_ECN 0x80     /* with TCP: CWR set in the first segment only */

struct vnet_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};
void vnet_hdr_get(const uint8_t b[VNET_HDR_LEN], struct vnet_hdr *h);
void vnet_hdr_put(uint8_t b[VNET_HDR_LEN], const struct vnet_hdr *h);

/* The largest IP packet (and super-packet), and the largest headers a
 * segment is given: IPv4 with options and TCP with options (120), or
 * IPv6 with up to 60 bytes of extension headers and TCP. */
#define OFFLOAD_MAX_PKT 65535
#define OFFLOAD_MAX_HDR 160

/* ---- splitting what the TUN gives ---- */

enum offload_result {
	OFFLOAD_OK = 0,
	OFFLOAD_SHORT,      /* shorter than its headers say */
	OFFLOAD_BAD_IP,     /* IP header malformed, a fragment, or the wrong version */
	OFFLOAD_BAD_L4,     /* not the TCP/UDP header the GSO type names */
	OFFLOAD_BAD_CSUM,   /* csum_start/csum_offset outside the packet */
	OFFLOAD_BAD_GSO,    /* unknown GSO type, or a segment size of 0 */
};
const char *offload_result_str(enum offload_result r);

struct offload_split {
	uint8_t *pkt;
	size_t len;          /* of the IP packet */
	size_t l3len;        /* IP header, IPv6's extension headers included */
	size_t dst_at;       /* IPv6: where the checksum's destination lies (24 unless routed) */
	size_t hdrlen;       /* IP + TCP/UDP header; 0: the packet goes out whole */
	size_t seg;          /* payload per segment (the last may be shorter) */
	unsigned nseg, next;
	uint8_t proto;       /* 6 or 17 */
	bool ecn;
};

/* One packet out of a super-packet: headers built in hdr, payload in
 * place. When hdrlen is 0, data is the whole packet. */
struct offload_seg {
	uint8_t hdr[OFFLOAD_MAX_HDR];
	size_t hdrlen;
	const uint8_t *data;
	size_t datalen;
};

/* Take a packet of len bytes as read after header h. A packet that needs
 * no splitting gets its checksum filled in place if h asks for it. */
enum offload_result offload_split_start(struct offload_split *s, const struct vnet_hdr *h,
                                        uint8_t *pkt, size_t len);
/* How many packets a super-packet of len bytes after header h held, as its
 * header tells (at least 1): the count of a refused one's drops. */
unsigned offload_seg_estimate(const struct vnet_hdr *h, size_t len);
/* The next packet; false once all are out. */
bool offload_split_next(struct offload_split *s, struct offload_seg *seg);
/* The length of the largest packet it gives (the first). */
static inline size_t offload_split_max(const struct offload_split *s)
{
	return s->hdrlen ? s->hdrlen + (s->seg < s->len - s->hdrlen ? s->seg : s->len - s->hdrlen)
	                 : s->len;
}

/* ---- coalescing what goes to the TUN ---- */

/* A flow table of this many entries, each with a buffer of
 * OFFLOAD_GRO_BUF bytes, taken from the memory given to offload_gro_init.
 * A UDP flow joins at most OFFLOAD_GRO_UDP_SEGS datagrams (the kernel's
 * limit for a UDP super-packet is 64 or more). */
#define OFFLOAD_GRO_FLOWS 16
#define OFFLOAD_GRO_BUF (VNET_HDR_LEN + OFFLOAD_MAX_PKT)
#define OFFLOAD_GRO_UDP_SEGS 64

/* Where a packet goes: the 10-byte header, then the IP packet. */
typedef void (*offload_emit_fn)(void *ctx, const uint8_t *vnet, const uint8_t *pkt, size_t len);

struct offload_flow {
	uint8_t *buf;        /* the vnet header, then the super-packet so far */
	size_t len;          /* of the IP packet in buf */
	uint32_t next_seq;   /* what the next segment's sequence number must be */
	uint16_t seg;        /* payload of the first segment */
	uint16_t nseg;
	uint8_t proto, l3len, hdrlen;
	bool used, open, psh;
};

struct offload_gro {
	struct offload_flow flow[OFFLOAD_GRO_FLOWS];
	bool udp;            /* UDP too (the kernel takes UDP super-packets: USO) */
	offload_emit_fn emit;
	void *ctx;
};

/* mem: OFFLOAD_GRO_FLOWS * OFFLOAD_GRO_BUF bytes, kept by the caller. */
void offload_gro_init(struct offload_gro *g, uint8_t *mem, bool udp, offload_emit_fn emit,
                      void *ctx);
/* One IP packet (len bytes, any protocol): held to join others of its TCP
 * (or UDP) flow, or emitted now. Packets of one flow leave in the order they
 * came; one whose checksum is wrong is passed on alone, as it is. */
void offload_gro_add(struct offload_gro *g, const uint8_t *pkt, size_t len);
/* Emit everything held. */
void offload_gro_flush(struct offload_gro *g);

#endif
