#include "daemon/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "tun/netlink.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

static bool offloads = true;
/* SLOPND_TEST_GSO_REFUSE, for tests only: the address whose route refuses
 * GSO sends with EIO, as one through IPsec does (the kernels tests run on
 * have no xfrm, and take GSO without checksum offload). */
static const char *gso_refuse;

void udp_offloads(bool on)
{
	offloads = on;
	gso_refuse = getenv("SLOPND_TEST_GSO_REFUSE");
	if (gso_refuse && !*gso_refuse)
		gso_refuse = NULL;
}

/* Room in the kernel for bursts of a few thousand packets. */
#define SOCK_BUF (8 << 20)

/* hub: a hub's socket (bound, not connected). */
static void tune(struct udp *u, int family, bool hub)
{
	int v = SOCK_BUF;
	/* FORCE needs CAP_NET_ADMIN, which a VPN daemon has; fall back quietly. */
	if (setsockopt(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(u->fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	/* QUIC does its own path-MTU discovery: the kernel must not fragment,
	 * and on IPv4 DF is set so that no router does either (RFC 9000, 14).
	 * PROBE sets DF on every packet (on each UDP GSO segment too: each
	 * copies the header) and sizes them by the interface's MTU, whatever
	 * path MTU the kernel learnt from ICMP. A client reads that path MTU
	 * on its connected socket all the same (udp_path_payload): its way to
	 * the hub narrowing is what such an error tells. A hub's socket is
	 * bound, not connected, so the kernel believes one about any address,
	 * and anyone who knows a client's address could shrink the hub's
	 * packets to it: neither the hub's sends nor the room it gives a
	 * client (udp_device_payload_to) take it in; a way narrower further on
	 * is the client's to tell (its probes, its max_udp_payload_size).
	 * INTERFACE, with which the kernel would not even note it, sends IPv4
	 * without DF; IPv6 routers never fragment, so a hub's IPv6 socket
	 * keeps it. */
	int pmtu = IP_PMTUDISC_PROBE;
	/* On an IPv6 socket too: its IPv4 peers' (dual stack). */
	setsockopt(u->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	if (family == AF_INET6) {
		pmtu = hub ? IPV6_PMTUDISC_INTERFACE : IPV6_PMTUDISC_PROBE;
		setsockopt(u->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	}
	/* Each receive tells how many packets the full queue has cost so far. */
	int one = 1;
	setsockopt(u->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	u->gro = offloads && setsockopt(u->fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
	if (offloads && !u->gro)
		log_info("UDP GRO refused by the kernel (%s): receiving packets one by one",
		         strerror(errno));
	if (u->recverr) /* a socket replaced by udp_reconnect */
		udp_watch_errors(u, true);
}

/* A socket on a wildcard address (the hub's default 0.0.0.0, or [::]) on a
 * machine with several addresses: the kernel would answer from the address
 * its route prefers, and a client that used another one drops what comes
 * from a stranger. So each packet tells the address it came to, and the
 * answer leaves from there. */
static void want_pktinfo(struct udp *u)
{
	int one = 1;
	if (u->local.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)&u->local;
		if (a->sin_addr.s_addr != htonl(INADDR_ANY))
			return;
		u->pktinfo = setsockopt(u->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) == 0;
	} else if (u->local.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&u->local;
		if (!IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
			return;
		u->pktinfo = setsockopt(u->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) == 0;
		/* IPv4 peers of a dual-stack socket: told by IP_PKTINFO (refused on
		 * an IPv6-only socket, which has none). */
		setsockopt(u->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	}
	if (!u->pktinfo)
		log_warn("cannot learn the address each packet came to (%s): answers leave from the "
		         "address the kernel picks", strerror(errno));
}

static int alloc_bufs(struct udp *u)
{
	u->tx = malloc(UDP_TX_BUF);
	u->rxbufs = malloc((size_t)UDP_GRO_MSGS * UDP_GRO_BUF);
	u->rx = malloc(UDP_RX_BATCH * sizeof(*u->rx));
	if (!u->tx || !u->rxbufs || !u->rx)
		return -1;
	u->gso = offloads;
	return 0;
}

int udp_adopt(struct udp *u, int fd)
{
	memset(u, 0, sizeof(*u));
	u->fd = fd;
	u->locallen = sizeof(u->local);
	int fl = fcntl(fd, F_GETFL);
	if (alloc_bufs(u) < 0 || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    getsockname(fd, (struct sockaddr *)&u->local, &u->locallen) < 0) {
		int e = errno;
		udp_close(u);
		errno = e;
		return -1;
	}
	tune(u, u->local.ss_family, true);
	want_pktinfo(u);
	return 0;
}

int udp_open(struct udp *u, const struct sockaddr *addr, socklen_t len, bool connect_it)
{
	memset(u, 0, sizeof(*u));
	u->fd = -1;
	if (alloc_bufs(u) < 0)
		goto fail;
	u->fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (u->fd < 0)
		goto fail;
	tune(u, addr->sa_family, !connect_it);
	if (connect_it) {
		if (connect(u->fd, addr, len) < 0)
			goto fail;
		u->connected = true;
	} else {
		/* [::] takes IPv4 clients too (as mapped addresses, which the rest
		 * expects), whatever net.ipv6.bindv6only says: said here, before
		 * the bind. */
		int zero = 0;
		if (addr->sa_family == AF_INET6 &&
		    setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
			log_warn("cannot let IPv4 in on the IPv6 socket (IPV6_V6ONLY: %s): on [::], "
			         "IPv4 clients get in only if net.ipv6.bindv6only is 0", strerror(errno));
		/* No SO_REUSEADDR: on UDP it would let a second hub bind the same
		 * address and take this one's traffic. */
		if (bind(u->fd, addr, len) < 0) {
			/* An address not here yet (DHCP at boot, IPv6's duplicate
			 * address detection) is bound all the same: packets come
			 * once it is. The caller says so. */
			int one = 1;
			bool v6 = addr->sa_family == AF_INET6;
			if (errno != EADDRNOTAVAIL ||
			    setsockopt(u->fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_FREEBIND : IP_FREEBIND,
			               &one, sizeof(one)) < 0 ||
			    bind(u->fd, addr, len) < 0)
				goto fail;
			u->freebind = true;
		}
	}
	u->locallen = sizeof(u->local);
	if (getsockname(u->fd, (struct sockaddr *)&u->local, &u->locallen) < 0)
		goto fail;
	if (!connect_it)
		want_pktinfo(u);
	return 0;
fail:;
	int e = errno;
	udp_close(u);
	errno = e;
	return -1;
}

bool sockaddr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
	               &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, 16);
}

bool sockaddr_same_set(const struct sockaddr_storage *a, unsigned na,
                       const struct sockaddr_storage *b, unsigned nb)
{
	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++) {
		unsigned j = 0;
		while (j < nb && memcmp(&a[i], &b[j], sizeof(a[i])) != 0)
			j++;
		if (j == nb)
			return false;
	}
	return true;
}

bool sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	/* The port sits in the same place in both families' sockaddr. */
	return sockaddr_same_host(a, b) && ((const struct sockaddr_in *)(const void *)a)->sin_port ==
	                                   ((const struct sockaddr_in *)(const void *)b)->sin_port;
}

int udp_reconnect(struct udp *u, const struct sockaddr *dst, socklen_t len)
{
	int fd = socket(dst->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	struct sockaddr_storage local;
	socklen_t locallen = sizeof(local);
	if (fd < 0 || connect(fd, dst, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &locallen) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	if (sockaddr_same_host(&local, &u->local)) {
		close(fd);
		return 0;
	}
	udp_flush(u); /* what is batched goes out of the old socket, if it can */
	close(u->fd);
	u->fd = fd;
	u->rx_ovfl = 0; /* the new socket counts from 0 */
	tune(u, dst->sa_family, false);
	u->local = local;
	u->locallen = locallen;
	u->tx_errno = 0;
	return 1;
}

static size_t path_payload(int fd, int family)
{
	bool v4 = family == AF_INET;
	int mtu = 0;
	socklen_t len = sizeof(mtu);
	if (getsockopt(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_MTU : IPV6_MTU, &mtu, &len) < 0)
		return UDP_MAX_PAYLOAD;
	int payload = mtu - UDP_IP_OVERHEAD(family);
	if (payload < 0)
		return 0;
	return (size_t)payload < UDP_MAX_PAYLOAD ? (size_t)payload : UDP_MAX_PAYLOAD;
}

size_t udp_path_payload(const struct udp *u)
{
	return path_payload(u->fd, u->local.ss_family);
}

size_t udp_device_payload_to(const struct sockaddr *dst, socklen_t len)
{
	int family = dst->sa_family, oif = 0;
	const uint8_t *addr;
	if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)(const void *)dst)->sin_addr;
	} else if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)dst;
		addr = in6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			family = AF_INET; /* an IPv4 peer of a dual-stack socket: IPv4's way */
			addr += 12;
		} else if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) {
			oif = (int)in6->sin6_scope_id; /* the interface it was heard on */
		}
	} else {
		return UDP_MAX_PAYLOAD;
	}
	uint8_t gw[16];
	uint32_t a4, gw4;
	memcpy(&a4, addr, 4);
	if (!oif && (family == AF_INET ? nl_route_get(a4, &oif, &gw4) : nl_route6_get(addr, &oif, gw)) < 0)
		oif = 0;
	struct nl_link l;
	if (!oif || nl_link_get(oif, &l) < 0)
		return UDP_MAX_PAYLOAD;
	/* An MTU the administrator set on the route (a narrower way beyond,
	 * a tunnel): the hub's packets carry DF, and would not get through. */
	uint32_t mtu = l.mtu, rmtu;
	if (nl_route_mtu(family, addr, &rmtu) == 0 && rmtu && rmtu < mtu)
		mtu = rmtu;
	if (mtu <= UDP_IP_OVERHEAD(family))
		return 0;
	size_t payload = mtu - UDP_IP_OVERHEAD(family);
	return payload < UDP_MAX_PAYLOAD ? payload : UDP_MAX_PAYLOAD;
}

void udp_close(struct udp *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	free(u->tx);
	free(u->rxbufs);
	free(u->rx);
	u->tx = u->rxbufs = NULL;
	u->rx = NULL;
}

/* The control message that makes a packet leave from src: IP_PKTINFO on
 * an IPv4 socket, IPV6_PKTINFO on an IPv6 one (an IPv4-mapped src too). */
static void put_src(const struct udp *u, struct msghdr *mh, struct cmsghdr *cm,
                    const struct sockaddr_storage *src)
{
	if (u->local.ss_family == AF_INET) {
		struct in_pktinfo pi = {.ipi_spec_dst = ((const struct sockaddr_in *)(const void *)src)->sin_addr};
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh->msg_controllen += CMSG_SPACE(sizeof(pi));
	} else {
		const struct sockaddr_in6 *s6 = (const void *)src;
		struct in6_pktinfo pi = {.ipi6_addr = s6->sin6_addr};
		/* A link-local address means little without its interface. */
		if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
			pi.ipi6_ifindex = s6->sin6_scope_id;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh->msg_controllen += CMSG_SPACE(sizeof(pi));
	}
}

/* What the kernel sets from an ICMP error about a connected socket's
 * packets (icmp_err_convert, icmpv6_err_convert): hard ones only, unless
 * udp_watch_errors. */
static bool pending_icmp(int err)
{
	switch (err) {
	case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH: case EHOSTDOWN: case ENONET:
	case ENOPROTOOPT: case EPROTO: case EACCES: case EMSGSIZE: case EOPNOTSUPP:
		return true;
	default:
		return false;
	}
}

/* One sendmsg: buf to dst, from src when srclen (and pktinfo), in segments
 * of seg bytes when seg (UDP GSO). */
static ssize_t send_msg(struct udp *u, const struct sockaddr_storage *dst, socklen_t dstlen,
                        const struct sockaddr_storage *src, socklen_t srclen,
                        uint8_t *buf, size_t len, uint16_t seg)
{
	struct iovec iov = {buf, len};
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct msghdr mh = {
		.msg_name = u->connected ? NULL : (void *)dst,
		.msg_namelen = u->connected ? 0 : dstlen,
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	mh.msg_controllen = 0;
	if (seg) {
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
		mh.msg_controllen += CMSG_SPACE(sizeof(uint16_t));
		cm = (struct cmsghdr *)(void *)(ctl.buf + mh.msg_controllen);
	}
	if (u->pktinfo && srclen)
		put_src(u, &mh, cm, src);
	if (!mh.msg_controllen)
		mh.msg_control = NULL;
	ssize_t n;
	do
		n = sendmsg(u->fd, &mh, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && u->connected && pending_icmp(errno)) {
		/* A connected socket keeps the last ICMP error about its peer and
		 * fails its next call with it, whoever sent it (anyone who knows
		 * the two addresses and ports can): that call took it, so the same
		 * send goes again. The error is still told (tx_errno), as the
		 * callers look at the way to the hub after one; a real one (no
		 * route, say) fails the second send too. */
		int err = errno;
		do
			n = sendmsg(u->fd, &mh, 0);
		while (n < 0 && errno == EINTR);
		if (n >= 0 || errno == EAGAIN || errno == ENOBUFS)
			u->tx_errno = err; /* which the caller notes only of other errors */
	}
	return n;
}

static void send_plain(struct udp *u, const struct sockaddr_storage *dst, socklen_t dstlen,
                       const struct sockaddr_storage *src, socklen_t srclen,
                       uint8_t *buf, size_t len)
{
	if (send_msg(u, dst, dstlen, src, srclen, buf, len, 0) < 0) {
		u->tx_dropped++;
		if (errno != EAGAIN && errno != ENOBUFS)
			u->tx_errno = errno;
		if (errno == EMSGSIZE && dstlen <= sizeof(u->too_big_dst)) {
			memcpy(&u->too_big_dst, dst, dstlen);
			u->too_big_dstlen = dstlen;
		}
		log_debug("udp send: %s", strerror(errno));
	}
}

void udp_send_one(struct udp *u, const struct sockaddr *src, socklen_t srclen,
                  const struct sockaddr *dst, socklen_t dstlen, const uint8_t *pkt, size_t len)
{
	struct sockaddr_storage d, s = {0};
	memcpy(&d, dst, dstlen);
	if (src && srclen)
		memcpy(&s, src, srclen);
	send_plain(u, &d, dstlen, &s, src ? srclen : 0, (uint8_t *)pkt, len);
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
                      const struct sockaddr *b, socklen_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* The batch's destination refuses GSO (on a connected socket: the one
 * destination there is). */
static bool nogso_to_dst(const struct udp *u)
{
	for (unsigned i = 0; i < u->nnogso; i++)
		if (same_addr(&u->nogso[i], u->nogso_len[i], (const struct sockaddr *)&u->txdst,
		              u->txdstlen))
			return true;
	return false;
}

/* The kernel refused GSO to the batch's destination, and took the packet
 * alone: remember it, or give GSO up when every route refuses it. */
static void nogso_add(struct udp *u, int err)
{
	char a[INET6_ADDRSTRLEN + 8] = "the hub";
	if (!u->connected)
		sockaddr_str((const struct sockaddr *)&u->txdst, a, sizeof(a));
	if (++u->nogso_in_row >= UDP_NOGSO) {
		log_info("UDP GSO refused by the kernel (%s) for %u destinations in a row, the last %s: "
		         "sending packets one by one", strerror(err), u->nogso_in_row, a);
		u->gso = false;
		return;
	}
	log_info("UDP GSO refused by the kernel (%s) for %s (IPsec or a device without checksum "
	         "offload on its route?): sending it packets one by one", strerror(err), a);
	unsigned i = u->nogso_next;
	u->nogso_next = (i + 1) % UDP_NOGSO;
	if (u->nnogso < UDP_NOGSO)
		u->nnogso++;
	memcpy(&u->nogso[i], &u->txdst, u->txdstlen);
	u->nogso_len[i] = u->txdstlen;
}

static bool test_refused(const struct udp *u)
{
	char host[INET6_ADDRSTRLEN];
	if (!gso_refuse || u->connected)
		return false;
	sockaddr_host((const struct sockaddr *)&u->txdst, host, sizeof(host));
	return strcmp(host, gso_refuse) == 0;
}

void udp_flush(struct udp *u)
{
	if (u->nseg == 0)
		return;
	if (u->nseg > 1 && u->gso && !nogso_to_dst(u)) {
		ssize_t n = -1;
		if (test_refused(u))
			errno = EIO;
		else
			n = send_msg(u, &u->txdst, u->txdstlen, &u->txsrc, u->txsrclen, u->tx, u->txlen,
			             (uint16_t)u->seg);
		if (n >= 0) {
			u->gso_sends++;
			u->nogso_in_row = 0;
			goto done;
		}
		if (errno != EIO && errno != EINVAL && errno != EOPNOTSUPP) {
			u->tx_dropped += u->nseg;
			if (errno != EAGAIN && errno != ENOBUFS)
				u->tx_errno = errno;
			log_debug("udp send of %zu packets: %s", u->nseg, strerror(errno));
			goto done;
		}
		/* Either the route refuses GSO, or the path is gone (EINVAL too
		 * when our address was removed): only a plain send that works
		 * tells GSO was the problem. */
		int gso_err = errno;
		uint64_t dropped = u->tx_dropped;
		send_plain(u, &u->txdst, u->txdstlen, &u->txsrc, u->txsrclen, u->tx, u->seg);
		if (u->tx_dropped != dropped) {
			u->tx_dropped += u->nseg - 1; /* the batch is lost with it */
			goto done;
		}
		nogso_add(u, gso_err);
		for (size_t off = u->seg; off < u->txlen; off += u->seg) {
			size_t len = u->txlen - off < u->seg ? u->txlen - off : u->seg;
			send_plain(u, &u->txdst, u->txdstlen, &u->txsrc, u->txsrclen, u->tx + off, len);
		}
		goto done;
	}
	for (size_t off = 0; off < u->txlen; off += u->seg) {
		size_t len = u->txlen - off < u->seg ? u->txlen - off : u->seg;
		send_plain(u, &u->txdst, u->txdstlen, &u->txsrc, u->txsrclen, u->tx + off, len);
	}
done:
	u->txlen = u->nseg = u->seg = 0;
}

uint8_t *udp_tx_slot(struct udp *u)
{
	if (UDP_TX_BUF - u->txlen < UDP_MAX_PAYLOAD)
		udp_flush(u);
	return u->tx + u->txlen;
}

void udp_tx_commit(struct udp *u, const struct sockaddr *src, socklen_t srclen,
                   const struct sockaddr *dst, socklen_t dstlen, size_t len)
{
	if (len == 0)
		return;
	if (!u->pktinfo || !src)
		srclen = 0;
	bool fits = u->nseg > 0 && len <= u->seg &&
	            (u->connected || (same_addr(&u->txdst, u->txdstlen, dst, dstlen) &&
	                              (srclen == 0 ? u->txsrclen == 0
	                                           : same_addr(&u->txsrc, u->txsrclen, src, srclen))));
	if (u->nseg > 0 && !fits) {
		/* The new packet cannot join this batch: send the batch without it,
		 * then start a new one with it (rare: another peer or a larger packet). */
		uint8_t *pkt = u->tx + u->txlen;
		udp_flush(u);
		memmove(u->tx, pkt, len);
	}
	if (u->nseg == 0) {
		u->seg = len;
		if (!u->connected) {
			memcpy(&u->txdst, dst, dstlen);
			u->txdstlen = dstlen;
		}
		if (srclen)
			memcpy(&u->txsrc, src, srclen);
		u->txsrclen = srclen;
	}
	u->txlen += len;
	u->nseg++;
	/* A short segment must be the last one of a GSO batch. */
	if (len < u->seg || u->nseg == UDP_TX_MAX_SEGS)
		udp_flush(u);
}

int udp_recv(struct udp *u)
{
	/* Room for the GRO segment size, the drop counter and where it came to
	 * (an IPv4 packet on a dual-stack socket tells both ways). */
	union ctlbuf {
		char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(uint32_t)) +
		         CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	};
	struct mmsghdr msgs[UDP_RX_MSGS];
	struct iovec iov[UDP_RX_MSGS];
	union ctlbuf ctl[UDP_RX_MSGS];
	struct sockaddr_storage from[UDP_RX_MSGS];
	int nmsg = u->gro ? UDP_GRO_MSGS : UDP_RX_MSGS;
	size_t bufsz = u->gro ? UDP_GRO_BUF : UDP_RX_BUF;
	for (int i = 0; i < nmsg; i++) {
		iov[i].iov_base = u->rxbufs + (size_t)i * bufsz;
		iov[i].iov_len = bufsz;
		msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
			.msg_iov = &iov[i], .msg_iovlen = 1,
			.msg_control = ctl[i].buf, .msg_controllen = sizeof(ctl[i].buf),
		};
	}
	int n;
	do
		n = recvmmsg(u->fd, msgs, (unsigned)nmsg, 0, NULL);
	while (n < 0 && errno == EINTR);
	u->rx_more = n == nmsg;
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
	int out = 0;
	for (int i = 0; i < n; i++) {
		struct msghdr *mh = &msgs[i].msg_hdr;
		if (mh->msg_flags & MSG_TRUNC)
			continue;
		size_t len = msgs[i].msg_len, seg = len;
		struct sockaddr_storage to;
		socklen_t tolen = u->locallen;
		memcpy(&to, &u->local, u->locallen);
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO &&
			    cm->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
				struct in_pktinfo pi;
				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				if (to.ss_family == AF_INET) {
					((struct sockaddr_in *)(void *)&to)->sin_addr = pi.ipi_addr;
				} else { /* an IPv4 peer of a dual-stack socket */
					struct sockaddr_in6 *t6 = (void *)&to;
					memset(&t6->sin6_addr, 0, 10);
					memset(t6->sin6_addr.s6_addr + 10, 0xff, 2);
					memcpy(t6->sin6_addr.s6_addr + 12, &pi.ipi_addr, 4);
				}
				continue;
			}
			if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO &&
			    cm->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
				struct in6_pktinfo pi;
				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				struct sockaddr_in6 *t6 = (void *)&to;
				t6->sin6_addr = pi.ipi6_addr;
				t6->sin6_scope_id = IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr) ? pi.ipi6_ifindex : 0;
				continue;
			}
			if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
				int v;
				memcpy(&v, CMSG_DATA(cm), sizeof(v));
				if (v > 0)
					seg = (size_t)v;
			} else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
				uint32_t v;
				memcpy(&v, CMSG_DATA(cm), sizeof(v));
				u->rx_dropped = udp_ovfl_total(u->rx_dropped, u->rx_ovfl, v);
				u->rx_ovfl = v;
			}
		}
		/* A GRO batch: packets of seg bytes back to back, the last may be
		 * shorter. Should a kernel ever give more than UDP_RX_BATCH in
		 * all, the rest is counted as a receive drop, not lost unseen. */
		for (size_t off = 0; off < len; off += seg) {
			if (out == UDP_RX_BATCH) {
				u->rx_dropped += (len - off + seg - 1) / seg;
				break;
			}
			struct udp_rx *r = &u->rx[out++];
			r->data = (uint8_t *)iov[i].iov_base + off;
			r->len = len - off < seg ? len - off : seg;
			memcpy(&r->from, &from[i], mh->msg_namelen);
			r->fromlen = mh->msg_namelen;
			memcpy(&r->to, &to, tolen);
			r->tolen = tolen;
		}
	}
	return out;
}

int udp_watch_errors(struct udp *u, bool on)
{
	int v = on;
	if (setsockopt(u->fd, IPPROTO_IP, IP_RECVERR, &v, sizeof(v)) < 0 && u->local.ss_family == AF_INET)
		return -1;
	/* An IPv6 socket: its own option (IPv4's too, for mapped peers). */
	if (u->local.ss_family == AF_INET6 &&
	    setsockopt(u->fd, IPPROTO_IPV6, IPV6_RECVERR, &v, sizeof(v)) < 0)
		return -1;
	u->recverr = on;
	return 0;
}

int udp_read_error(struct udp *u, struct udp_error *e)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))];
		struct cmsghdr align;
	} ctl;
	memset(e, 0, sizeof(*e));
	/* The payload it quotes, cut to e->quote (MSG_TRUNC): whether it is
	 * about a packet of ours is the caller's to judge by it (anyone can
	 * send an error, few know what we sent). */
	struct iovec iov = {e->quote, sizeof(e->quote)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
	                    .msg_controllen = sizeof(ctl.buf)};
	ssize_t n;
	do
		n = recvmsg(u->fd, &mh, MSG_ERRQUEUE);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	e->quotelen = (size_t)n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		struct sock_extended_err ee;
		if (!((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
		      (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR)) ||
		    cm->cmsg_len < CMSG_LEN(sizeof(ee)))
			continue;
		memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
		e->err = (int)ee.ee_errno;
		e->origin = ee.ee_origin;
		e->type = ee.ee_type;
		e->code = ee.ee_code;
		/* The sender's address follows (SO_EE_OFFENDER), family first. */
		size_t room = cm->cmsg_len - CMSG_LEN(sizeof(ee));
		const uint8_t *off = CMSG_DATA(cm) + sizeof(ee);
		sa_family_t fam;
		if (room < sizeof(fam))
			continue;
		memcpy(&fam, off, sizeof(fam));
		if ((fam == AF_INET && room >= sizeof(struct sockaddr_in)) ||
		    (fam == AF_INET6 && room >= sizeof(struct sockaddr_in6)))
			memcpy(&e->from, off, fam == AF_INET ? sizeof(struct sockaddr_in)
			                                     : sizeof(struct sockaddr_in6));
	}
	return 1;
}

bool sockaddr_host(const struct sockaddr *sa, char *buf, size_t len)
{
	snprintf(buf, len, "?");
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
		          (socklen_t)len);
		return false;
	}
	if (sa->sa_family != AF_INET6)
		return false;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	/* An IPv4 client of a hub on [::] comes as ::ffff:A.B.C.D: it is A.B.C.D. */
	if (IN6_IS_ADDR_V4MAPPED(a)) {
		inet_ntop(AF_INET, a->s6_addr + 12, buf, (socklen_t)len);
		return false;
	}
	inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	return true;
}

void sockaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	bool v6 = sockaddr_host(sa, host, sizeof(host));
	if (sa->sa_family == AF_INET)
		snprintf(buf, len, "%s:%u", host,
		         ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port));
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", host,
		         ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port));
	else
		snprintf(buf, len, "?");
}
