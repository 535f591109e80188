/* The hub's data plane: packets from clients (to the TUN or straight to
 * another client) and packets from the TUN to clients. */
#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>

#include "daemon/hub.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"

#define TUN_BATCH 64

static void tun_write(struct server *s, struct conn *from, const uint8_t *pkt, size_t len)
{
	ssize_t n;
	do
		n = write(s->tunfd, pkt, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		from->stats.drop[DROP_TUN]++;
}

void hub_session_datagram(struct conn *c, const uint8_t *pkt, size_t len)
{
	struct session *ss = c->owner;
	struct server *s = ss->srv;
	if (!ss->logged_in) {
		c->stats.drop[DROP_BEFORE_LOGIN]++;
		return;
	}
	struct ipv4_info ip;
	if (ipv4_parse(pkt, len, &ip) != IPV4_OK) {
		c->stats.drop[DROP_NOT_IPV4]++; /* e.g. IPv6 router solicitations */
		return;
	}
	if (ntohl(ip.src) != ss->vip) {
		c->stats.drop[DROP_SPOOFED]++;
		return;
	}
	uint32_t dst = ntohl(ip.dst);
	if (pool_contains(&s->addrs.pool, dst) && dst != pool_hub_addr(&s->addrs.pool)) {
		struct session *peer = alloc_holder(&s->addrs, dst);
		if (peer) {
			/* Spoke to spoke: straight across, the TUN never sees it. */
			if (!s->spoke_to_spoke || peer == ss) {
				c->stats.drop[DROP_NO_ROUTE]++;
				return;
			}
			if (conn_send_datagram(&peer->conn, pkt, ip.total_len) == DGRAM_TOO_BIG) {
				/* Too big for the peer's connection: "fragmentation needed"
				 * back to the sender, from the peer's VIP, once this
				 * callback is over (the session is written when it ends). */
				uint8_t icmp[96];
				size_t n = icmp4_frag_needed(pkt, ip.total_len, ip.dst,
				                             conn_max_datagram(&peer->conn), icmp, sizeof(icmp));
				if (n)
					conn_queue_datagram(c, icmp, n);
			}
			return;
		}
		if (dst != s->addrs.pool.network + s->addrs.pool.size - 1) {
			c->stats.drop[DROP_NO_ROUTE]++;
			return;
		}
	}
	tun_write(s, c, pkt, ip.total_len);
}

int hub_on_tun(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct server *s = userdata;
	for (int i = 0; i < TUN_BATCH; i++) {
		ssize_t n = read(fd, s->tunbuf, HUB_TUN_BUF);
		if (n < 0)
			break;
		struct ipv4_info ip;
		if (ipv4_parse(s->tunbuf, (size_t)n, &ip) != IPV4_OK) {
			s->tun_drop[DROP_NOT_IPV4]++;
			continue;
		}
		uint32_t dst = ntohl(ip.dst);
		struct session *peer = alloc_holder(&s->addrs, dst);
		if (!peer) {
			s->tun_drop[DROP_NO_ROUTE]++;
			continue;
		}
		/* The answer comes "from" the client's VIP: one of the hub's own
		 * addresses as the source would be a martian to its kernel. */
		if (conn_send_datagram(&peer->conn, s->tunbuf, ip.total_len) == DGRAM_TOO_BIG)
			too_big(s->tunfd, s->tunbuf, ip.total_len, ip.dst, conn_max_datagram(&peer->conn));
	}
	hub_settle(s);
	return 0;
}
