/* The QUIC endpoint's UDP socket: received in batches (recvmmsg with UDP
 * GRO: the kernel hands over up to 64 KiB of one sender's packets at once),
 * sent in batches (UDP GSO). QUIC packets are written straight into the send
 * batch, so a packet is never copied between ngtcp2 and the kernel. */
#ifndef SLOPN_UDP_H
#define SLOPN_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Largest UDP payload we send or accept. 1452 fits a 1500-byte IPv4 or
 * IPv6 path, like quic-go's default. */
#define UDP_MAX_PAYLOAD 1452
/* The IP and UDP headers in front of a payload (no IPv4 options: we send none). */
#define UDP_IP_OVERHEAD(family) ((family) == AF_INET ? 20 + 8 : 40 + 8)
#define UDP_RX_BUF 2048
/* One recvmmsg: with GRO, 16 buffers of 64 KiB; without, 64 buffers of
 * UDP_RX_BUF bytes in the same memory. A GRO buffer holds up to
 * UDP_GRO_SEGS packets: the kernel's own GRO stops at 64, but a local
 * sender's UDP GSO send (loopback, a veth from a container) reaches the
 * socket whole, and Linux 6.x takes 128 segments a send (UDP_MAX_SEGMENTS;
 * 64 before). With room for 64 each, a batch of such sends lost the
 * packets past 1024 without a count (tests/unit/test_udp.c). */
#define UDP_GRO_MSGS 16
#define UDP_GRO_BUF 65536
#define UDP_GRO_SEGS 128
#define UDP_RX_MSGS 64
#define UDP_RX_BATCH (UDP_GRO_MSGS * UDP_GRO_SEGS)   /* packets one udp_recv may give */
/* One GSO send carries at most 64 KiB: 45 full-size packets. */
#define UDP_TX_MAX_SEGS (65535 / UDP_MAX_PAYLOAD)
#define UDP_TX_BUF (UDP_TX_MAX_SEGS * UDP_MAX_PAYLOAD)
/* Destinations whose route refuses UDP GSO (IPsec on it, a device without
 * checksum offload: the kernel says EIO or EINVAL) are remembered, this
 * many, oldest forgotten first; refusals for this many in a row, with no
 * GSO send that worked between them, turn GSO off for the socket. */
#define UDP_NOGSO 16

struct udp_rx {
	uint8_t *data;
	size_t len;
	struct sockaddr_storage from;
	socklen_t fromlen;
	/* The address it came to: on a socket bound to a wildcard address
	 * (udp->pktinfo) the one the peer used, else the socket's own. */
	struct sockaddr_storage to;
	socklen_t tolen;
};

struct udp {
	int fd;
	bool connected;            /* client: connect()ed, send without address */
	bool gso;                  /* cleared when every route refuses UDP_SEGMENT */
	bool gro;                  /* UDP_GRO on */
	bool rx_more;              /* the last udp_recv filled every message: more may wait */
	bool recverr;              /* client: udp_watch_errors on */
	bool freebind;             /* hub: bound to an address not on the machine (yet) */
	bool pktinfo;              /* hub on a wildcard address: answers leave from the
	                            * address each peer used (a machine has several) */
	struct sockaddr_storage local;
	socklen_t locallen;
	/* send batch: segments of seg bytes back to back, the last may be shorter */
	uint8_t *tx;
	size_t txlen, seg, nseg;
	struct sockaddr_storage txdst, txsrc;
	socklen_t txdstlen, txsrclen; /* txsrclen 0: the kernel picks the source */
	uint64_t tx_dropped;       /* kernel refused (buffer full): QUIC recovers */
	int tx_errno;              /* last send error other than a full buffer; the
	                            * owner clears it (client: the path may be gone) */
	struct sockaddr_storage too_big_dst; /* where the last EMSGSIZE was for */
	socklen_t too_big_dstlen;
	uint64_t gso_sends;        /* batches sent as one UDP_SEGMENT send */
	struct sockaddr_storage nogso[UDP_NOGSO]; /* sent to one packet at a time */
	socklen_t nogso_len[UDP_NOGSO];
	unsigned nnogso, nogso_next, nogso_in_row;
	uint64_t rx_dropped;       /* the kernel's receive queue overflowed (SO_RXQ_OVFL), all sockets */
	uint32_t rx_ovfl;          /* the kernel's own count for this socket, as last seen */
	/* receive batch: packets, each pointing into rxbufs */
	uint8_t *rxbufs;
	struct udp_rx *rx;         /* UDP_RX_BATCH */
};

/* The drop total after the kernel's count of a socket's receive queue
 * overflows (SO_RXQ_OVFL, socket(7): 32 bits, wrapping) went from last to
 * now: total only grows, past 2^32 too. */
static inline uint64_t udp_ovfl_total(uint64_t total, uint32_t last, uint32_t now)
{
	return total + (uint32_t)(now - last);
}

/* Offloads (GSO, GRO) for every socket opened from now on: on unless
 * turned off (SLOPN_OFFLOADS=off, for a kernel without them). */
void udp_offloads(bool on);

/* Server: bind to addr. Client: connect to addr from an ephemeral port.
 * Non-blocking, close-on-exec, large buffers. 0 or -1 (errno). */
int udp_open(struct udp *u, const struct sockaddr *addr, socklen_t len, bool connect_it);
/* The same on a bound socket handed over by systemd. */
int udp_adopt(struct udp *u, int fd);
void udp_close(struct udp *u);
/* Client: when the kernel would now send to dst from another local address
 * than u's (the machine moved), replace u's socket by one connected from
 * there. 1 when replaced (u->fd and u->local are new, the old socket is
 * closed), 0 when the address is the same, -1 (errno) when dst cannot be
 * reached now. */
int udp_reconnect(struct udp *u, const struct sockaddr *dst, socklen_t len);
/* Client: the largest UDP payload the kernel knows the way to the peer
 * carries (the route's MTU, lowered by any ICMP "too big" seen), at most
 * UDP_MAX_PAYLOAD; UDP_MAX_PAYLOAD when it cannot tell. */
size_t udp_path_payload(const struct udp *u);
/* Hub: the largest UDP payload the interface that the route to dst leaves
 * by takes (its MTU, or the route's own MTU when one is set and smaller),
 * at most UDP_MAX_PAYLOAD; UDP_MAX_PAYLOAD when it cannot tell. No path
 * MTU learnt from ICMP counts: what a hub's socket sends ignores it
 * (udp.c, tune). Three rtnetlink queries. */
size_t udp_device_payload_to(const struct sockaddr *dst, socklen_t len);

/* Where the next packet goes: at least UDP_MAX_PAYLOAD bytes. */
uint8_t *udp_tx_slot(struct udp *u);
/* The packet of len bytes now in the slot goes to dst (ignored when
 * connected), from src (the address the peer uses: an rx's to; used with
 * pktinfo, else ignored; NULL lets the kernel pick). */
void udp_tx_commit(struct udp *u, const struct sockaddr *src, socklen_t srclen,
                   const struct sockaddr *dst, socklen_t dstlen, size_t len);
/* Hand everything batched to the kernel. */
void udp_flush(struct udp *u);
/* Send one packet now, outside the batch (stateless reset, version negotiation). */
void udp_send_one(struct udp *u, const struct sockaddr *src, socklen_t srclen,
                  const struct sockaddr *dst, socklen_t dstlen, const uint8_t *pkt, size_t len);

/* Receive a batch into u->rx, GRO batches cut into their packets. Returns
 * the count (0 when nothing is waiting, up to UDP_RX_BATCH) or -1 on an
 * error (errno), such as an ICMP error a connected socket's peer sent
 * (ECONNREFUSED). Truncated datagrams are skipped. */
int udp_recv(struct udp *u);

/* An error the kernel queued on a socket watching them (udp_watch_errors):
 * an ICMP or ICMPv6 answer to a packet we sent, or a local one. */
struct udp_error {
	int err;                       /* the errno it stands for */
	uint8_t origin;                /* SO_EE_ORIGIN_ICMP, _ICMP6, _LOCAL, ... */
	uint8_t type, code;            /* the ICMP or ICMPv6 message's */
	struct sockaddr_storage from;  /* who sent it (ss_family 0: not told) */
	/* The start of the UDP payload it is about, as much of it as the
	 * error quoted (the kernel gives what follows the UDP header): none
	 * from a router that quotes only 8 bytes past the IP header (RFC
	 * 792), the whole packet from Linux, up to 576 or 1280 bytes in all
	 * (RFC 1812, 4443). Enough for a QUIC long header's version and
	 * destination connection ID. */
	uint8_t quote[64];
	size_t quotelen;
};
/* Client: every ICMP answer to u's packets is queued for udp_read_error,
 * not only those the kernel deems fatal (IP_RECVERR): the "host
 * unreachable" of a router, or of this machine when no one on its network
 * answers ARP. While on, the socket polls as readable (EPOLLERR) until the
 * queue is read, and a send may fail with ENOBUFS where it would be
 * dropped quietly. Off empties the queue. 0 or -1 (errno). */
int udp_watch_errors(struct udp *u, bool on);
/* One queued error into e: 1, 0 when there is none, -1 (errno). */
int udp_read_error(struct udp *u, struct udp_error *e);

/* The same address, ports aside (of one family: a socket's peers are). */
bool sockaddr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* The same addresses in any order (each zeroed past its length). */
bool sockaddr_same_set(const struct sockaddr_storage *a, unsigned na,
                       const struct sockaddr_storage *b, unsigned nb);
/* The same address and port. */
bool sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* "ADDR:PORT", or "[ADDR]:PORT" for IPv6, for logs and the control API;
 * an IPv4-mapped IPv6 address (an IPv4 peer of a socket on [::]) as IPv4. */
void sockaddr_str(const struct sockaddr *sa, char *buf, size_t len);
/* The address alone, written the same way ("?" for another family). True
 * when it is IPv6 (and mapped IPv4 is not). */
bool sockaddr_host(const struct sockaddr *sa, char *buf, size_t len);

#endif
