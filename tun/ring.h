/* Reading the TUN through io_uring. One multishot read fills a ring of
 * buffers as packets come, and the daemon takes them in batches: a
 * read(2) per packet cost a system call each, the largest share of a
 * client's CPU with small packets (UDP that no offload joins). Needs
 * Linux 6.7 (IORING_OP_READ_MULTISHOT); elsewhere the TUN keeps read(2). */
#ifndef SLOPN_TUN_RING_H
#define SLOPN_TUN_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tun_ring;

/* Packets the daemon takes from the TUN per wake-up, both roles; the ring
 * keeps as many buffers. */
#define TUN_BATCH 64

/* A ring reading fd into buffers of bufsz bytes, reading from the start.
 * NULL with errno set when the kernel cannot (too old, io_uring turned
 * off, or filtered out). */
struct tun_ring *tun_ring_open(int fd, size_t bufsz);
void tun_ring_close(struct tun_ring *r);
/* The fd to wait on while it reads: readable while packets are waiting. */
int tun_ring_fd(const struct tun_ring *r);
/* Whether packets come through the ring: from a start until the packets
 * read before a stop have all been taken. Otherwise read(2) the fd: the
 * ring holds nothing and reads nothing. */
bool tun_ring_active(const struct tun_ring *r);
/* Start reading (0, or -1 with errno set), or stop (a wake-up through
 * the ring costs more than a read(2) when packets come one at a time). */
int tun_ring_start(struct tun_ring *r);
void tun_ring_stop(struct tun_ring *r);
/* The next packet read: its length, with *buf pointing at it until the
 * next call; 0 when none is waiting (or none is left after a stop, or
 * the kernel refused to read on: see tun_ring_refused); -1 with errno
 * set when reads of the TUN fail (as read(2) would; EPIPE for an end of
 * file). */
ssize_t tun_ring_next(struct tun_ring *r, uint8_t **buf);
/* The errno with which the kernel refused to make the read again after
 * it ended (out of buffers: after a burst), or 0. The ring has stopped
 * then (tun_ring_active is false, nothing is lost: read(2) takes the
 * packets that wait), and a start may fail the same way. */
int tun_ring_refused(const struct tun_ring *r);
/* Tests only: the nth time from now that the read is made again after
 * the kernel ended it, the kernel's refusal (EAGAIN) is played instead. */
void tun_ring_refuse_rearm(struct tun_ring *r, unsigned nth);

#endif
