#include "tun/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "proto/icmp.h"
#include "proto/ipv6.h"
#include "tun/netlink.h"

/* Linux 6.2; Debian 12's headers predate them. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* The kernel's queue in front of the TUN, in packets (500 by default): room
 * for the bursts that come while we are busy or away (or congested: then
 * the TUN is not read). A local TCP window (4 MiB at most by default,
 * tcp_wmem) is some 3400 packets of 1280 bytes without TSO, and a sender
 * that the hub holds back must not lose the tail of it; UDP at 1 Gbit/s
 * fills 1000 packets in 12 ms, which a daemon on a busy machine can be
 * away for. With TSO a packet may be a super-packet, but TCP's window
 * bounds what a flow queues either way. */
#define TUN_TXQLEN 4096

#define TUN_TSO (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)
#define TUN_USO (TUN_F_USO4 | TUN_F_USO6)

/* Batched reads where the kernel has them; with offloads only, so that
 * SLOPN_OFFLOADS=off keeps the plain path of an older kernel in the tests. */
static void open_ring(struct tun *t, bool want, size_t bufsz)
{
	if (!t->vnet) {
		t->reads = "one read(2) per packet";
		return;
	}
	if (!want) {
		t->reads = "one read(2) per packet (io_uring turned off by SLOPN_URING=off)";
		return;
	}
	if (!(t->ring = tun_ring_open(t->fd, bufsz))) {
		/* errno: ENOSYS/EPERM (io_uring off or filtered), EOPNOTSUPP (before 6.7) */
		snprintf(t->reads_buf, sizeof(t->reads_buf), "one read(2) per packet (io_uring: %s)",
		         strerror(errno));
		t->reads = t->reads_buf;
		return;
	}
	t->reads = "reads batched through io_uring";
}

#define TUN_BUSY_WAIT_MS 3000
#define TUN_BUSY_STEP_MS 50

static int open_dev(const char *name, bool vnet, char name_out[IFNAMSIZ], bool *dev_failed)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	*dev_failed = fd < 0;
	if (fd < 0)
		return -1;
	struct ifreq ifr = {0};
	/* No packet-information header: each packet is bare IP, after the
	 * virtio-net header when there is one. */
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0));
	memcpy(ifr.ifr_name, name, strlen(name));
	/* EBUSY: another process holds a TUN of that name, or one that has
	 * ended (a slopnd killed with -9) still does for a moment: io_uring
	 * lets go of its files from a kernel worker after the process is gone,
	 * and a restart at once found its own TUN busy. Asked again for up to
	 * TUN_BUSY_WAIT_MS before it counts as taken. */
	for (unsigned waited = 0; ioctl(fd, TUNSETIFF, &ifr) < 0; waited += TUN_BUSY_STEP_MS) {
		int e = errno;
		if (e != EBUSY || waited >= TUN_BUSY_WAIT_MS) {
			close(fd);
			errno = e;
			return -1;
		}
		nanosleep(&(struct timespec){0, TUN_BUSY_STEP_MS * 1000000L}, NULL);
	}
	memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
	name_out[IFNAMSIZ - 1] = '\0';
	return fd;
}

static void emit(void *ctx, const uint8_t *vnet, const uint8_t *pkt, size_t len)
{
	struct tun *t = ctx;
	struct iovec iov[2] = {{(void *)vnet, VNET_HDR_LEN}, {(void *)pkt, len}};
	struct vnet_hdr h;
	vnet_hdr_get(vnet, &h);
	ssize_t n;
	do
		n = writev(t->fd, iov, 2);
	while (n < 0 && errno == EINTR);
	t->written = true;
	unsigned count = 1;
	if (h.gso_type != VNET_GSO_NONE && h.gso_size && len > h.hdr_len)
		count = (unsigned)((len - h.hdr_len + h.gso_size - 1) / h.gso_size);
	if (n < 0)
		t->write_drops += count;
	else if (count > 1)
		t->gso_writes++;
}

/* Offer what the kernel may hand us unsegmented and without checksums:
 * TSO (with USO where it is known). Returns the path for the log, or NULL
 * when the kernel takes none of it. */
static const char *offer_offloads(struct tun *t)
{
	if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)(TUN_TSO | TUN_USO)) == 0) {
		t->uso = true;
		return "offloads on (virtio-net header; checksum, TSO and USO, IPv4 and IPv6)";
	}
	if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)TUN_TSO) == 0)
		return "offloads on (virtio-net header; checksum and TSO, IPv4 and IPv6; "
		       "the kernel refuses USO)";
	return NULL;
}

int tun_open(struct tun *t, const char *name, bool offload, bool ring)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (strlen(name) >= IFNAMSIZ) {
		errno = ENAMETOOLONG;
		return -1;
	}
	t->mode = "offloads off (turned off by SLOPN_OFFLOADS=off): one packet per read and write";
	if (offload) {
		t->fd = open_dev(name, true, t->name, &t->dev_failed);
		if (t->fd < 0 && errno == EBUSY)
			return -1; /* taken: no second wait without the header */
		if (t->fd >= 0 && !(t->mode = offer_offloads(t))) {
			/* The header stays with the file: start over without it. */
			close(t->fd);
			t->fd = -1;
		}
		if (t->fd >= 0) {
			t->vnet = true;
		} else {
			t->mode = "offloads off (the kernel refuses them): one packet per read and write";
		}
	}
	if (t->fd < 0 && (t->fd = open_dev(name, false, t->name, &t->dev_failed)) < 0)
		return -1;
	size_t hl = t->vnet ? VNET_HDR_LEN : 0;
	t->rbuf = malloc(hl + OFFLOAD_MAX_PKT);
	if (t->vnet) {
		t->scratch = malloc(OFFLOAD_MAX_PKT);
		t->gromem = malloc((size_t)OFFLOAD_GRO_FLOWS * OFFLOAD_GRO_BUF);
		offload_gro_init(&t->gro, t->gromem, t->uso, emit, t);
	}
	/* A persistent device (ip tuntap add) stays after we close it, with
	 * what we set on it: the daemon takes its addresses off at exit. */
	struct ifreq q = {0};
	t->persistent = ioctl(t->fd, TUNGETIFF, &q) == 0 && (q.ifr_flags & IFF_PERSIST);
	t->ifindex = (int)if_nametoindex(t->name);
	if (!t->rbuf || (t->vnet && (!t->scratch || !t->gromem)) || t->ifindex == 0) {
		int e = t->ifindex ? ENOMEM : errno;
		tun_close(t);
		errno = e;
		return -1;
	}
	open_ring(t, ring, hl + OFFLOAD_MAX_PKT);
	/* a shorter queue still works */
	nl_set_txqlen(t->ifindex, TUN_TXQLEN);
	return 0;
}

bool tun_held(const char *name)
{
	if (strlen(name) >= IFNAMSIZ || !if_nametoindex(name))
		return false;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct ifreq ifr = {0};
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI);
	memcpy(ifr.ifr_name, name, strlen(name));
	bool held = ioctl(fd, TUNSETIFF, &ifr) < 0 && errno == EBUSY;
	close(fd);
	return held;
}

void tun_close(struct tun *t)
{
	tun_ring_close(t->ring); /* before the fd it reads */
	t->ring = NULL;
	if (t->fd >= 0)
		close(t->fd); /* a non-persistent TUN device goes away with its fd */
	t->fd = -1;
	free(t->rbuf);
	free(t->scratch);
	free(t->gromem);
	t->rbuf = t->scratch = t->gromem = NULL;
}

void tun_persistent_message(const struct tun *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s was made beforehand and is persistent (ip tuntap add): slopnd uses it "
	         "and takes its own addresses off it at exit, but the device stays, with the MTU and "
	         "offloads slopnd set ('ip tuntap del %s mode tun' removes it)", t->name, t->name);
}

int tun_poll_fd(const struct tun *t)
{
	return t->ring && tun_ring_active(t->ring) ? tun_ring_fd(t->ring) : t->fd;
}

/* The ring pays when a wake-up finds packets of data waiting, each as
 * large as the MTU at most (UDP: a system call each with read(2)). For
 * one packet at a time a wake-up through it costs more than read(2) (a
 * round more through the event loop: some 50 us of a ping's round trip
 * here); for TSO's super-packets it costs throughput (each lands in
 * another of its 64 KiB buffers, cold in the cache, where read(2) reuses
 * one); and TCP's ACKs, which the kernel makes inside our own writes to
 * the TUN, gained nothing either. */
#define RING_FROM 4      /* packets in one wake-up that start it */
#define RING_SMALL 16384 /* bytes a packet, on average, at most */
#define RING_DATA 256    /* and at least: not ACKs */
#define RING_IDLE_NS 50000000ull /* without such a wake-up for as long: stop */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The ring given up for good (the kernel refused to start a read, err):
 * read(2) from now on, and the log is told once (t->reads_changed). */
static void drop_ring(struct tun *t, int err)
{
	tun_ring_close(t->ring);
	t->ring = NULL;
	snprintf(t->reads_buf, sizeof(t->reads_buf),
	         "one read(2) per packet from now on (io_uring refused a read: %s)", strerror(err));
	t->reads = t->reads_buf;
	t->reads_changed = true;
}

/* A read found nothing: the end of a wake-up's packets. */
static void wake_end(struct tun *t)
{
	if (!t->ring)
		return;
	bool datagrams = t->batch_bytes <= (uint64_t)t->batch * RING_SMALL &&
	                 t->batch_bytes >= (uint64_t)t->batch * RING_DATA;
	if (tun_ring_active(t->ring)) {
		uint64_t now = now_ns();
		if (t->batch >= 2 && datagrams)
			t->ring_busy = now;
		else if (now - t->ring_busy > RING_IDLE_NS)
			tun_ring_stop(t->ring);
	} else if (t->batch >= RING_FROM && datagrams) {
		t->ring_busy = now_ns();
		if (tun_ring_start(t->ring) < 0)
			drop_ring(t, errno);
	}
	t->batch = 0;
	t->batch_bytes = 0;
}

enum tun_read_result tun_read(struct tun *t, struct tun_pkt *p)
{
	size_t hl = t->vnet ? VNET_HDR_LEN : 0;
	uint8_t *buf = t->rbuf;
	ssize_t n = 0;
	if (t->ring && tun_ring_active(t->ring)) {
		if ((n = tun_ring_next(t->ring, &buf)) < 0)
			return TUN_GONE;
		if (n == 0 && tun_ring_active(t->ring)) {
			wake_end(t);
			return TUN_NONE;
		}
		if (n > 0)
			t->ring_reads++;
		/* n == 0: stopped, and all it read taken (or the kernel refused
		 * to read on after a burst, leaving the rest in the TUN's
		 * queue): on with read(2) */
		if (n == 0 && tun_ring_refused(t->ring))
			drop_ring(t, tun_ring_refused(t->ring));
	}
	if (n == 0) {
		do
			n = read(t->fd, buf, hl + OFFLOAD_MAX_PKT);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return TUN_GONE;
			wake_end(t);
			return TUN_NONE;
		}
	}
	/* The kernel reports a packet's whole length even where it cut it to
	 * the buffer (a TUN whose gso_max_size someone raised): only what was
	 * read is looked at, and the headers' length is then too long. */
	if ((size_t)n > hl + OFFLOAD_MAX_PKT)
		n = (ssize_t)(hl + OFFLOAD_MAX_PKT);
	t->batch++;
	t->batch_bytes += (uint64_t)n;
	struct vnet_hdr h = {0};
	if ((size_t)n < hl) {
		p->bad = OFFLOAD_SHORT;
		p->split.nseg = 1;
		return TUN_BAD;
	}
	if (hl)
		vnet_hdr_get(buf, &h);
	p->bad = offload_split_start(&p->split, &h, buf + hl, (size_t)n - hl);
	if (p->bad != OFFLOAD_OK) {
		p->split.nseg = offload_seg_estimate(&h, (size_t)n - hl);
		return TUN_BAD;
	}
	if (p->split.nseg > 1)
		t->super_reads++;
	return TUN_PKT;
}

const char *tun_gone_str(int err)
{
	/* The kernel detaches the fd when the device is deleted (ip link del,
	 * or its namespace goes away). */
	return err == EBADFD ? "the device was deleted" : strerror(err);
}

size_t tun_pkt_next(struct tun_pkt *p, struct offload_seg *seg, struct iovec iov[2], int *iovcnt)
{
	if (!offload_split_next(&p->split, seg))
		return 0;
	int i = 0;
	if (seg->hdrlen)
		iov[i++] = (struct iovec){seg->hdr, seg->hdrlen};
	iov[i++] = (struct iovec){(void *)seg->data, seg->datalen};
	*iovcnt = i;
	return seg->hdrlen + seg->datalen;
}

void tun_write(struct tun *t, const uint8_t *pkt, size_t len)
{
	if (t->vnet) {
		offload_gro_add(&t->gro, pkt, len);
		return;
	}
	ssize_t n;
	do
		n = write(t->fd, pkt, len);
	while (n < 0 && errno == EINTR);
	t->written = true;
	if (n < 0)
		t->write_drops++;
}

bool tun_flush(struct tun *t)
{
	if (t->vnet)
		offload_gro_flush(&t->gro);
	bool written = t->written;
	t->written = false;
	return written;
}

/* The first packet of p: the super-packet's put together, to quote. */
static const uint8_t *first_packet(struct tun *t, const struct tun_pkt *p, size_t *len)
{
	if (!p->split.hdrlen) {
		*len = p->split.len;
		return p->split.pkt;
	}
	struct offload_split s = p->split;
	struct offload_seg seg;
	s.next = 0;
	offload_split_next(&s, &seg);
	memcpy(t->scratch, seg.hdr, seg.hdrlen);
	memcpy(t->scratch + seg.hdrlen, seg.data, seg.datalen);
	*len = seg.hdrlen + seg.datalen;
	return t->scratch;
}

void tun_frag_needed(struct tun *t, const struct tun_pkt *p, uint32_t from, size_t mtu)
{
	size_t len;
	const uint8_t *pkt = first_packet(t, p, &len);
	uint8_t icmp[96];
	size_t n = icmp4_frag_needed(pkt, len, from, mtu, icmp, sizeof(icmp));
	if (n)
		tun_write(t, icmp, n);
}

void tun_pkt_too_big(struct tun *t, const struct tun_pkt *p, const uint8_t from[16], size_t mtu)
{
	size_t len;
	const uint8_t *pkt = first_packet(t, p, &len);
	uint8_t icmp[IPV6_MIN_MTU];
	size_t n = icmp6_packet_too_big(pkt, len, from, mtu, icmp, sizeof(icmp));
	if (n)
		tun_write(t, icmp, n);
}

int tun_queue_drops(const struct tun *t, uint64_t *n)
{
	struct nl_link l = {0}; /* a failed query fills nothing: 0, not stack garbage */
	int rv = nl_link_get(t->ifindex, &l);
	*n = l.tx_dropped;
	return rv;
}

void tun_open_message(const struct tun *t, const char *name, int err, char *buf, size_t len)
{
	if (t->dev_failed) {
		/* Root is refused too when the device's mode or a unit's
		 * DevicePolicy= keeps it out: CAP_NET_ADMIN is not the matter. */
		const char *hint = err == EPERM || err == EACCES
			? "its mode, or the service's device policy: DeviceAllow=/dev/net/tun rw"
			: err == ENOENT
			? "no such device here: a container, or PrivateDevices=, without it; else the tun module: modprobe tun"
			: err == ENODEV || err == ENXIO
			? "no TUN driver: load the tun module (modprobe tun)"
			: "the TUN driver is needed";
		snprintf(buf, len, "cannot open /dev/net/tun: %s (%s)", strerror(err), hint);
		return;
	}
	char clash[IFNAMSIZ + 96];
	const char *hint;
	switch (err) {
	case EBUSY: /* TUNSETIFF on a TUN that another process holds */
		hint = "the name is in use by another TUN device (another slopnd?): choose another with --tun";
		break;
	case EINVAL: /* ... or on an interface of another kind (the name itself is checked at start) */
		snprintf(clash, sizeof(clash), "an interface of another kind, or a TUN device made with "
		         "other flags, is named %s: choose another with --tun", name);
		hint = clash;
		break;
	case EPERM:
	case EACCES:
		hint = "needs root, or CAP_NET_ADMIN";
		break;
	case ENOTTY: /* a file, or another device, bind-mounted over it */
		hint = "/dev/net/tun is not the TUN device: 'ls -l /dev/net/tun' should show a "
		       "character device 10, 200";
		break;
	default: /* the capability is not the matter: only its lack gives EPERM */
		hint = NULL;
		break;
	}
	snprintf(buf, len, "cannot create TUN device %s: %s%s%s%s", name, strerror(err),
	         hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
}
