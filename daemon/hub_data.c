/* The hub's data plane: packets from clients (to the TUN or straight to
 * another client) and packets from the TUN to clients.
 *
 * Backpressure with fairness: while a session's datagram queue is congested
 * the TUN is not read, so the kernel holds the senders back (no drop of
 * ours: a TUN queue slot is a 64 KiB super-packet with offloads). One slow
 * client must not stall the others, though: a session that stays congested
 * for SHED_AFTER, while other sessions have traffic from the TUN, stops
 * holding the TUN and drops its own excess instead (counted as "queue"),
 * until it has had nothing to drop for SHED_HOLD. Alone, it holds on: it
 * stalls nobody, and dropping would only cost its own flows. */
#include <arpa/inet.h>

#include "daemon/hub.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"

#define TUN_BATCH 64                              /* reads per wake-up */
#define SHED_AFTER (25 * NGTCP2_MILLISECONDS)
#define SHED_HOLD NGTCP2_SECONDS
#define HOLD_AT 64         /* a session holds the TUN from this many packets queued */
#define SHED_QUEUE 32      /* what a session that sheds may keep queued */

/* ---- IPv4 routing (one function per direction, for IPv6 to join) ---- */

/* A packet from a client: the session it goes to (spoke to spoke), or
 * *to_tun when it goes to the TUN; NULL with *why when it is dropped. */
static struct session *route_from_client(struct server *s, struct session *ss, const uint8_t *pkt,
                                         size_t len, struct ipv4_info *ip, bool *to_tun,
                                         enum drop_reason *why)
{
	*to_tun = false;
	if (ipv4_parse(pkt, len, ip) != IPV4_OK) {
		*why = DROP_NOT_IPV4; /* e.g. IPv6 router solicitations */
		return NULL;
	}
	if (ntohl(ip->src) != ss->vip) {
		*why = DROP_SPOOFED;
		return NULL;
	}
	uint32_t dst = ntohl(ip->dst);
	if (pool_contains(&s->addrs.pool, dst) && dst != pool_hub_addr(&s->addrs.pool)) {
		struct session *peer = alloc_holder(&s->addrs, dst);
		if (peer) {
			if (!s->spoke_to_spoke || peer == ss) {
				*why = DROP_NO_ROUTE;
				return NULL;
			}
			return peer;
		}
		if (dst != s->addrs.pool.network + s->addrs.pool.size - 1) {
			*why = DROP_NO_ROUTE;
			return NULL;
		}
	}
	*to_tun = true;
	return NULL;
}

/* A packet from the TUN: the session of its destination, and that
 * destination (network order). */
static struct session *route_from_tun(struct server *s, const uint8_t *pkt, size_t len,
                                      uint32_t *dst, enum drop_reason *why)
{
	struct ipv4_info ip;
	if (ipv4_parse(pkt, len, &ip) != IPV4_OK) {
		*why = DROP_NOT_IPV4;
		return NULL;
	}
	struct session *peer = alloc_holder(&s->addrs, ntohl(ip.dst));
	*dst = ip.dst;
	*why = DROP_NO_ROUTE;
	return peer;
}

/* ---- from clients ---- */

void hub_session_datagram(struct conn *c, const uint8_t *pkt, size_t len)
{
	struct session *ss = c->owner;
	struct server *s = ss->srv;
	if (!ss->logged_in) {
		c->stats.drop[DROP_BEFORE_LOGIN]++;
		return;
	}
	struct ipv4_info ip;
	bool to_tun;
	enum drop_reason why;
	struct session *peer = route_from_client(s, ss, pkt, len, &ip, &to_tun, &why);
	if (to_tun) {
		tun_write(&s->tun, pkt, ip.total_len);
		return;
	}
	if (!peer) {
		c->stats.drop[why]++;
		return;
	}
	/* Spoke to spoke: straight across, the TUN never sees it. */
	hub_mark_dirty(peer);
	if (conn_send_datagram(&peer->conn, pkt, ip.total_len) == DGRAM_TOO_BIG) {
		/* Too big for the peer's connection: "fragmentation needed" back to
		 * the sender, from the peer's VIP, once this callback is over (the
		 * session is written when it ends). */
		uint8_t icmp[96];
		size_t n = icmp4_frag_needed(pkt, ip.total_len, ip.dst, conn_max_datagram(&peer->conn),
		                             icmp, sizeof(icmp));
		if (n)
			conn_queue_datagram(c, icmp, n);
	}
}

/* ---- from the TUN, with backpressure ---- */

static void tun_pause(struct server *s, bool pause)
{
	if (s->tun_paused == pause)
		return;
	s->tun_paused = pause;
	sd_event_source_set_enabled(s->tun_src, pause ? SD_EVENT_OFF : SD_EVENT_ON);
	if (!pause && s->shed_timer)
		sd_event_source_set_enabled(s->shed_timer, SD_EVENT_OFF);
}

static void release(struct server *s, struct session *ss)
{
	ss->holding = false;
	if (--s->holding == 0)
		tun_pause(s, false);
}

/* Does another session than ss have traffic from the TUN, which waits
 * while ss holds it? */
static bool others_wait(const struct server *s, const struct session *ss, uint64_t now)
{
	for (const struct session *o = s->sessions; o; o = o->next)
		if (o != ss && o->logged_in && o->tun_seen + SHED_HOLD > now)
			return true;
	return false;
}

/* At the lowest priority: what is pending first (the ACKs that drain a
 * queue, on a busy machine) runs first. */
static int shed_timer_cb(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct server *s = userdata;
	uint64_t now = conn_now(), next = UINT64_MAX;
	for (struct session *ss = s->sessions; ss && s->holding; ss = ss->next) {
		if (!ss->holding)
			continue;
		if (ss->held_since + SHED_AFTER <= now && !others_wait(s, ss, now))
			ss->held_since = now; /* nobody waits: hold on */
		if (ss->held_since + SHED_AFTER > now) {
			next = ss->held_since + SHED_AFTER < next ? ss->held_since + SHED_AFTER : next;
			continue;
		}
		hub_slog(LOG_LVL_DEBUG, ss, "session %llu: congested for %llu ms, dropping its excess "
		         "instead of holding the others up", (unsigned long long)ss->id,
		         (unsigned long long)((now - ss->held_since) / NGTCP2_MILLISECONDS));
		ss->shed_until = now + SHED_HOLD;
		release(s, ss);
	}
	if (s->holding) {
		sd_event_source_set_time(src, next / 1000 + 1);
		sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	}
	return 0;
}

/* Session ss is congested: stop reading the TUN until it drains, or until
 * SHED_AFTER. */
static void hold(struct server *s, struct session *ss, uint64_t now)
{
	ss->holding = true;
	ss->held_since = now;
	if (s->holding++)
		return;
	tun_pause(s, true);
	if (!s->shed_timer) {
		if (sd_event_add_time(s->ev, &s->shed_timer, CLOCK_MONOTONIC, UINT64_MAX, 1000,
		                      shed_timer_cb, s) < 0) {
			/* Without the timer nobody would wake the TUN: do not hold. */
			s->shed_timer = NULL;
			ss->shed_until = now + SHED_HOLD;
			release(s, ss);
			return;
		}
		sd_event_source_set_priority(s->shed_timer, SD_EVENT_PRIORITY_IDLE);
	}
	sd_event_source_set_time(s->shed_timer, (now + SHED_AFTER) / 1000 + 1);
	sd_event_source_set_enabled(s->shed_timer, SD_EVENT_ONESHOT);
}

void hub_session_drained(struct conn *c)
{
	struct session *ss = c->owner;
	if (ss->holding)
		release(ss->srv, ss);
}

/* Every packet of p to session ss. */
static void to_session(struct server *s, struct session *ss, struct tun_pkt *p, uint32_t vip)
{
	struct conn *c = &ss->conn;
	uint64_t now = conn_now();
	bool shedding = ss->shed_until > now;
	ss->tun_seen = now;
	/* Less than a client waits for: the others wait too while it holds. */
	c->dgq_pause = HOLD_AT;
	int r = conn_send_tun_pkt(c, p, shedding ? SHED_QUEUE : CONN_DGQ_SLOTS);
	if (r == DGRAM_TOO_BIG) {
		/* The answer comes "from" the client's VIP: one of the hub's own
		 * addresses as the source would be a martian to its kernel. */
		tun_frag_needed(&s->tun, p, vip, conn_max_datagram(c));
		return;
	}
	if (shedding && r > 0)
		ss->shed_until = now + SHED_HOLD;
	hub_mark_dirty(ss);
	if (!shedding && !ss->holding && conn_congested(c))
		hold(s, ss, now);
}

int hub_on_tun(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct server *s = userdata;
	for (int i = 0; i < TUN_BATCH && !s->tun_paused; i++) {
		struct tun_pkt p;
		enum tun_read_result r = tun_read(&s->tun, &p);
		if (r == TUN_NONE)
			break;
		if (r == TUN_BAD) {
			log_debug("%s: unusable packet from the kernel: %s", s->tunname,
			          offload_result_str(p.bad));
			s->tun_drop[DROP_NOT_IPV4]++;
			continue;
		}
		uint32_t dst;
		enum drop_reason why;
		struct session *peer = route_from_tun(s, p.split.pkt, p.split.len, &dst, &why);
		if (!peer) {
			s->tun_drop[why] += tun_pkt_count(&p);
			continue;
		}
		to_session(s, peer, &p, dst);
	}
	hub_settle(s);
	return 0;
}
