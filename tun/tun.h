/* The TUN device, for both roles. With offloads (IFF_VNET_HDR and
 * TUNSETOFFLOAD) one read may give a TSO/USO super-packet of up to 64 KiB,
 * split here into the IP packets it stands for, and writes are held until
 * tun_flush so that the TCP segments of one flow reach the kernel as one
 * (proto/offload.h). Without (a kernel that refuses them, or offloads turned
 * off), one IP packet per read and per write, as IFF_TUN | IFF_NO_PI. */
#ifndef SLOPN_TUN_H
#define SLOPN_TUN_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "proto/offload.h"
#include "tun/ring.h"

struct tun {
	int fd;
	int ifindex;
	char name[IFNAMSIZ];
	bool vnet;                /* offloads on: a virtio-net header before every packet */
	bool uso;                 /* the kernel may also give UDP super-packets */
	const char *mode;         /* which path, for the log */
	const char *reads;        /* how it is read, for the log */
	struct tun_ring *ring;    /* reads through io_uring, or NULL: read(2) */
	unsigned batch;           /* packets read since the last empty read */
	uint64_t batch_bytes;     /* and their bytes */
	uint64_t ring_busy;       /* when a wake-up last read two datagrams or more through the ring */
	uint64_t ring_reads;      /* packets read through the ring */
	char reads_buf[128];
	bool reads_changed;       /* the ring was given up since reads was logged: log it again */
	uint8_t *rbuf;            /* one read */
	uint8_t *scratch;         /* one packet put together (ICMP quotes) */
	uint8_t *gromem;
	struct offload_gro gro;
	uint64_t write_drops;     /* IP packets the kernel refused */
	uint64_t super_reads;     /* reads that gave more than one packet */
	uint64_t gso_writes;      /* writes that carried more than one */
	bool written;             /* since the last tun_flush */
	bool dev_failed;          /* tun_open failed at opening /dev/net/tun, not at TUNSETIFF */
	bool persistent;          /* made beforehand (ip tuntap add): it outlives our fd */
};

/* Open (creating if needed) the TUN device name (IFNAMSIZ-1 chars at most),
 * non-blocking and close-on-exec, with offloads if offload is true and the
 * kernel takes them, and with them reads through io_uring if ring is true
 * and the kernel has them (tun/ring.h). t->name, t->ifindex, t->mode and
 * t->reads tell what came of it. 0, or -1 with errno set. */
int tun_open(struct tun *t, const char *name, bool offload, bool ring);
void tun_close(struct tun *t);
/* Another process holds a TUN device of that name now (a running hub's or
 * client's): TUNSETIFF, asked once, says EBUSY. False when there is no such
 * device, or it is free (a persistent one no one has open: attached and let
 * go at once). What a crashed run of ours left under that name (NAT rules,
 * forwarding to put back) is then not ours to clean: it is the holder's. */
bool tun_held(const char *name);
/* For the log, when t->persistent: what becomes of a device made
 * beforehand. */
void tun_persistent_message(const struct tun *t, char *buf, size_t len);
/* The fd to wait on for packets to read. It changes (the ring's, the
 * device's) as reads come in bursts or one at a time: look again after
 * reading. */
int tun_poll_fd(const struct tun *t);

/* One read: the IP packet as it came (its first header stands for all the
 * packets it holds: route by it), and those packets, one by one. */
struct tun_pkt {
	struct offload_split split;
	enum offload_result bad;  /* why a TUN_BAD read was refused */
};
enum tun_read_result { TUN_NONE, TUN_PKT, TUN_BAD, TUN_GONE };
/* TUN_NONE: nothing waiting; TUN_PKT: a packet in p, valid until the next
 * read; TUN_BAD: a super-packet that cannot be split; TUN_GONE: the fd
 * is of no more use, errno set (EBADFD: the device was deleted under us,
 * and every read would fail at once). */
enum tun_read_result tun_read(struct tun *t, struct tun_pkt *p);
/* What a TUN_GONE read means, for a log line. */
const char *tun_gone_str(int err);
/* How many IP packets it holds (of a TUN_BAD one: its header's estimate). */
static inline unsigned tun_pkt_count(const struct tun_pkt *p)
{
	return p->split.nseg;
}
/* The next IP packet of p, as iov[0..*iovcnt) totalling the return value
 * (0 once all are out). seg keeps the rebuilt headers iov points to. */
size_t tun_pkt_next(struct tun_pkt *p, struct offload_seg *seg, struct iovec iov[2], int *iovcnt);

/* One IP packet to the kernel (copied: pkt may go once this returns). */
void tun_write(struct tun *t, const uint8_t *pkt, size_t len);
/* Write everything held: at the end of every batch of tun_write. True
 * when anything went to the kernel since the last call: the kernel may
 * have answered already (a local ping or TCP ACK is answered within the
 * write), and reading that now lets this event's QUIC ACKs go with it. */
bool tun_flush(struct tun *t);
/* Answer the first packet of p, too big for the path, with ICMP
 * "fragmentation needed" from router address from (network order)
 * advertising mtu (proto/icmp.h), written into the TUN. */
void tun_frag_needed(struct tun *t, const struct tun_pkt *p, uint32_t from, size_t mtu);
/* The same for an IPv6 packet: ICMPv6 "packet too big" from router
 * address from (16 bytes). */
void tun_pkt_too_big(struct tun *t, const struct tun_pkt *p, const uint8_t from[16], size_t mtu);

/* Packets the kernel dropped because its queue towards us was full (the
 * device's tx_dropped, over rtnetlink). 0, or -1 with errno set. */
int tun_queue_drops(const struct tun *t, uint64_t *n);
/* tun_open's failure as one line for the log, errno err: what failed
 * (opening /dev/net/tun, or creating NAME), why, and what to do. */
void tun_open_message(const struct tun *t, const char *name, int err, char *buf, size_t len);

#endif
