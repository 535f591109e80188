/* The hub's data plane: packets from clients (to the TUN or straight to
 * another client) and packets from the TUN to clients.
 *
 * Backpressure with fairness: while a session's datagram queue is congested
 * the TUN is not read, so the kernel holds the senders back (no drop of
 * ours: a TUN queue slot is a 64 KiB super-packet with offloads). One slow
 * client must not stall the others, though: a session that stays congested
 * for SHED_AFTER, while other sessions have traffic from the TUN, stops
 * holding the TUN and drops its own excess instead (counted as "queue"),
 * until it has had nothing to drop for SHED_HOLD (twice as long each time
 * it has to shed again within SHED_FORGET, up to SHED_HOLD_MAX: tens of
 * sessions taking turns at holding would otherwise keep the TUN unread for
 * the others; shedlevel.h). Alone, it holds on:
 * dropping would only cost its own flows. But with the TUN unread nobody
 * sees what others have waiting behind it, so a session whose queue does
 * not move at all for STALL_AFTER (its client frozen, suspended, gone
 * without a word) sheds too: otherwise a hub would hear nothing from its
 * TUN until that connection timed out. A held queue that moves drains below
 * HUB_HOLD_AT in the end: the unread TUN adds nothing to it. Other clients'
 * packets do (spoke to spoke), and can keep it congested for as long as
 * they come, so a hold whose queue took any of theirs sheds once it has
 * lasted STALL_AFTER.
 *
 * A slow client (or one that times its ACKs) drains its queue often, each
 * hold shorter than SHED_AFTER, and the TUN is read between holds only up
 * to its next packet: with more coming for it than it takes, the kernel's
 * queue in front of the TUN fills and drops, the others' packets as well
 * as its own, and holding has saved nothing. So every RING_CHECK while
 * sessions hold, the hub looks at that queue's drops: when RING_DROPS_MIN
 * or more are new, the session that held the TUN the longest since the
 * last look, if that was at least half the time, sheds (while others have
 * traffic). A flow whose window fits in that queue (thousands of packets)
 * drops nothing there, however much it holds, and is left alone; so is
 * one TCP flow's overshoot of a few packets. So is the holder when a read
 * of the TUN found more waiting than TUN_BATCH since the last look: the
 * hub reads too slowly then (a busy machine, a flood), and shedding the
 * holder would cost it packets, the others nothing. Whether others have
 * traffic is not asked there: it cannot be seen in a queue nobody reads.
 *
 * For the same reason a session that held the TUN half of SLOW_WINDOW
 * while its client took fewer than SLOW_PKTS a second sheds too, others
 * seen or not: the kernel's queue in front of the TUN, which it keeps
 * full, then empties at its pace, and a packet of another client's that
 * came after a second of silence (a ping, a DNS answer) waits there for
 * seconds behind its packets, unseen (a client on a slow link, or one
 * that takes the hub's packets slowly on purpose). A queue at the hub
 * and one in the kernel hold a slow client's flows back as much: its TCP
 * finds the link's pace from a drop in either. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "daemon/dataplane.h"
#include "daemon/hub.h"
#include "daemon/testenv.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/ipv6.h"

#define SHED_AFTER (25 * NGTCP2_MILLISECONDS)
#define SHED_HOLD NGTCP2_SECONDS
#define SHED_HOLD_MAX (16 * NGTCP2_SECONDS)
#define SHED_FORGET (60 * NGTCP2_SECONDS)
/* Tests shorten SHED_FORGET with this (milliseconds): not for production. */
#define SHED_FORGET_ENV "SLOPND_TEST_SHED_FORGET_MS"
#define SHED_QUEUE 32      /* what a session that sheds may keep queued */
/* Well over the time between ACKs of a healthy flow: the RTT is added, up
 * to STALL_RTT_MAX (the client's own ACKs set its RTT: one that delays
 * them must not get to pause the TUN for everyone for seconds). */
#define STALL_AFTER (250 * NGTCP2_MILLISECONDS)
#define STALL_RTT_MAX (500 * NGTCP2_MILLISECONDS)
#define RING_CHECK (10 * NGTCP2_MILLISECONDS) /* a look at the TUN queue's drops: a netlink query */
#define RING_DROPS_MIN 16
#define SLOW_WINDOW (250 * NGTCP2_MILLISECONDS)
#define SLOW_PKTS 2000     /* a second: 20 Mbit/s of 1280-byte packets */

/* ---- routing, one function per direction, for both families ---- */

/* Of a packet to route: its length, and where an answer that it is too
 * big comes from (its destination). */
struct route {
	uint16_t len;
	bool v6;
	uint32_t dst4;             /* network order */
	const uint8_t *dst6;       /* 16 bytes inside the packet */
};

/* To port 53 over UDP or TCP: l4, left bytes of a transport header of
 * protocol proto (a first fragment's, or a whole packet's). */
static bool port53(const uint8_t *l4, size_t left, uint8_t proto)
{
	return (proto == IPPROTO_UDP || proto == IPPROTO_TCP) && left >= 4 && l4[2] == 0 &&
	       l4[3] == 53;
}

/* Beyond the VPN, without --nat: only to an --allow-lan network, and to
 * the --dns server's port 53 (clients are told to ask it; --nat's rules
 * let that through too). The hub's host takes what comes from its TUN as
 * from any interface, to its every address (a service bound to its LAN
 * address) and, forwarding, onto its networks: with --nat its rules
 * decide (hub_nat.c), without it nothing would. Said once a run, for the
 * operator who expected more. */
static bool beyond_ok(struct server *s, bool v6, const uint8_t *dst6, uint32_t dst4, bool dns)
{
	const struct config *cfg = s->cfg;
	if (cfg->nat || dns)
		return true;
	uint32_t be = htonl(dst4);
	for (size_t i = 0; v6 && i < cfg->nallow_lan6; i++)
		if (addr_same_prefix(dst6, cfg->allow_lan6[i].net, cfg->allow_lan6[i].prefix))
			return true;
	for (size_t i = 0; !v6 && i < cfg->nallow_lan; i++) {
		uint32_t net = htonl(cfg->allow_lan[i].net);
		if (addr_same_prefix(&be, &net, cfg->allow_lan[i].prefix))
			return true;
	}
	/* Multicast and broadcast (mDNS, SSDP) are every client's noise: not
	 * the one line that tells the operator where clients tried to go. */
	bool noise = v6 ? dst6[0] == 0xff : (dst4 >> 28) == 0xe || dst4 == 0xffffffffu;
	if (!s->beyond_said && !noise) {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *)dst6 : (const void *)&be, a,
		          sizeof(a));
		log_warn("a client sent a packet to %s, beyond the VPN: without --nat the hub carries "
		         "only what is for the VPN and the --allow-lan networks (dropped, counted as "
		         "no_route; said once; --allow-lan 0.0.0.0/0 --allow-lan ::/0 carries "
		         "everything, for a host that forwards by rules of its own)", a);
		s->beyond_said = true;
	}
	return false;
}

/* A packet from a client: the session it goes to (spoke to spoke), or
 * *to_tun when it goes to the TUN; NULL with *why when it is dropped. A
 * client of ours with IPv6 sends IPv6 too; anything else that is not IPv4
 * (the original's router solicitations, say) is not_ipv4. */
static struct session *route_from_client(struct server *s, struct session *ss, const uint8_t *pkt,
                                         size_t len, struct route *rt, bool *to_tun,
                                         enum drop_reason *why)
{
	*to_tun = false;
	*why = DROP_NO_ROUTE;
	struct session *peer;
	if (ss->has6 && len && pkt[0] >> 4 == 6) {
		struct ipv6_info ip;
		if (ipv6_parse(pkt, len, &ip) != IPV6_OK) {
			*why = DROP_NOT_IPV4;
			return NULL;
		}
		if (memcmp(ip.src, &ss->vip6, 16) != 0) {
			*why = DROP_SPOOFED;
			return NULL;
		}
		*rt = (struct route){.len = ip.total_len, .v6 = true, .dst6 = ip.dst};
		if (ipv6_link_scoped(ip.dst))
			return NULL; /* its own link's business: nothing of the hub's */
		if (!alloc_in6(&s->addrs, ip.dst)) {
			/* beyond the VPN: the kernel routes it (--nat) */
			bool dns = !IN6_IS_ADDR_UNSPECIFIED(&s->cfg->dns6) &&
			           memcmp(ip.dst, &s->cfg->dns6, 16) == 0 &&
			           port53(pkt + 40, ip.total_len - 40u, ip.next_header);
			*to_tun = beyond_ok(s, true, ip.dst, 0, dns);
			return NULL;
		}
		uint32_t off = alloc_off6(&s->addrs, ip.dst);
		if (off == 1) {
			*to_tun = true; /* the hub's ::1 */
			return NULL;
		}
		peer = alloc_holder6(&s->addrs, ip.dst);
		if (peer && !peer->has6)
			return NULL;  /* a client of the original's on that address */
	} else {
		struct ipv4_info ip;
		if (ipv4_parse(pkt, len, &ip) != IPV4_OK) {
			*why = DROP_NOT_IPV4;
			return NULL;
		}
		if (ntohl(ip.src) != ss->vip) {
			*why = DROP_SPOOFED;
			return NULL;
		}
		*rt = (struct route){.len = ip.total_len, .dst4 = ip.dst};
		uint32_t dst = ntohl(ip.dst);
		if (!pool_contains(&s->addrs.pool, dst)) {
			bool first = !((pkt[6] & 0x1f) | pkt[7]); /* fragment offset 0 */
			bool dns = s->cfg->dns && ip.dst == s->cfg->dns && first &&
			           port53(pkt + ip.header_len, ip.total_len - ip.header_len, ip.protocol);
			*to_tun = beyond_ok(s, false, NULL, dst, dns);
			return NULL;
		}
		if (dst == pool_hub_addr(&s->addrs.pool) ||
		    dst == s->addrs.pool.network + s->addrs.pool.size - 1) {
			*to_tun = true; /* the hub, or its broadcast */
			return NULL;
		}
		peer = alloc_holder(&s->addrs, dst);
	}
	/* An address of the VPN: the client on it, if any, may be reached. */
	if (!peer || !s->spoke_to_spoke || peer == ss)
		return NULL;
	return peer;
}

/* A packet from the TUN: the session of its destination. Link-scoped IPv6
 * (the hub kernel's own multicast, say) goes nowhere and is not a drop:
 * *why is DROP_MAX then. */
static struct session *route_from_tun(struct server *s, const uint8_t *pkt, size_t len,
                                      struct route *rt, enum drop_reason *why)
{
	*why = DROP_NO_ROUTE;
	if (s->addrs.has6 && len && pkt[0] >> 4 == 6) {
		struct ipv6_info ip;
		if (ipv6_parse(pkt, len, &ip) != IPV6_OK) {
			*why = DROP_NOT_IPV4;
			return NULL;
		}
		if (ipv6_link_scoped(ip.dst)) {
			*why = DROP_MAX;
			return NULL;
		}
		*rt = (struct route){.len = ip.total_len, .v6 = true, .dst6 = ip.dst};
		struct session *peer = alloc_holder6(&s->addrs, ip.dst);
		return peer && peer->has6 ? peer : NULL;
	}
	struct ipv4_info ip;
	if (ipv4_parse(pkt, len, &ip) != IPV4_OK) {
		*why = DROP_NOT_IPV4;
		return NULL;
	}
	*rt = (struct route){.len = ip.total_len, .dst4 = ip.dst};
	return alloc_holder(&s->addrs, ntohl(ip.dst));
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
	if (c->close_pending) {
		/* Kicked or replaced, its close waiting for queued data: its VIP
		 * may already be another session's. */
		c->stats.drop[DROP_NO_ROUTE]++;
		return;
	}
	struct route rt;
	bool to_tun;
	enum drop_reason why;
	struct session *peer = route_from_client(s, ss, pkt, len, &rt, &to_tun, &why);
	if (to_tun) {
		tun_write(&s->tun, pkt, rt.len);
		return;
	}
	if (!peer) {
		c->stats.drop[why]++;
		return;
	}
	/* Spoke to spoke: straight across, the TUN never sees it. */
	hub_mark_dirty(peer);
	int r = conn_send_datagram(&peer->conn, pkt, rt.len);
	if (conn_congested(&peer->conn))
		hub_spoke_congested(s, ss, peer);
	if (r == DGRAM_TOO_BIG && conn_too_big_answer_ok(c, conn_now())) {
		/* Too big for the peer's connection: "fragmentation needed" (or
		 * "packet too big") back to the sender, from the peer's address,
		 * once this callback is over (the session is written when it
		 * ends), and no bigger than the sender's connection takes. */
		uint8_t icmp[IPV6_MIN_MTU];
		size_t room = conn_max_datagram(c), n;
		if (room > sizeof(icmp))
			room = sizeof(icmp);
		if (rt.v6)
			n = icmp6_packet_too_big(pkt, rt.len, rt.dst6, conn_max_datagram(&peer->conn), icmp,
			                         room);
		else
			n = icmp4_frag_needed(pkt, rt.len, rt.dst4, conn_max_datagram(&peer->conn), icmp,
			                      room);
		if (n && conn_queue_datagram(c, icmp, n) != DGRAM_OK)
			c->stats.drop[DROP_QUEUE]++; /* the sender's queue is full: counted there */
	}
}

/* ---- from the TUN, with backpressure ---- */

/* The shed timer is left armed when the TUN is read again: it fires at
 * most once per RING_CHECK and finds nobody holding, where disarming it
 * and arming it again would cost a timerfd change per hold. */
static void tun_pause(struct server *s, bool pause)
{
	dataplane_tun_pause(s->tun_src, &s->tun_paused, pause);
}

static void release(struct server *s, struct session *ss, uint64_t now)
{
	ss->holding = false;
	ss->held_total += now - ss->held_began;
	if (--s->holding == 0)
		tun_pause(s, false);
}

/* Does another session than ss have traffic from the TUN, which waits
 * while ss holds it? */
static bool others_wait(const struct server *s, const struct session *ss, uint64_t now)
{
	for (const struct session *o = LIST_FIRST(&s->sessions); o; o = LIST_NEXT(o, link))
		if (o != ss && o->logged_in && o->tun_seen + SHED_HOLD > now)
			return true;
	return false;
}

static void shed(struct server *s, struct session *ss, uint64_t now)
{
	ss->shed_until = now + shed_period(&ss->shed_lvl, now, SHED_HOLD, SHED_HOLD_MAX,
	                                   s->shed_forget);
	if (ss->holding)
		release(s, ss, now);
}

/* Has the kernel dropped packets in front of the TUN since the last look,
 * while one session held it at least half the time? Then that one sheds.
 * The kernel is asked (a netlink query) only when someone could be blamed;
 * the first answer after a look that did not ask is the new base. */
static void ring_check(struct server *s, uint64_t now)
{
	uint64_t span = now - s->ring_checked, most = 0, drops;
	bool slow = s->tun_full_reads != s->full_mark;
	s->ring_checked = now;
	s->full_mark = s->tun_full_reads;
	struct session *worst = NULL;
	for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link)) {
		uint64_t held = ss->held_total + (ss->holding ? now - ss->held_began : 0);
		if (held - ss->held_mark > most && ss->shed_until <= now) {
			most = held - ss->held_mark;
			worst = ss;
		}
		ss->held_mark = held;
	}
	if (!worst || most * 2 < span || slow || tun_queue_drops(&s->tun, &drops) < 0) {
		s->ring_known = false;
		return;
	}
	bool overflowed = s->ring_known && drops >= s->ring_drops + RING_DROPS_MIN;
	s->ring_drops = drops;
	s->ring_known = true;
	if (!overflowed)
		return;
	hub_slog(LOG_LVL_DEBUG, worst, "session %llu: the TUN held for it %llu of the last %llu "
	         "ms and the kernel's queue in front of it overflowing, dropping its excess "
	         "instead of holding the others up", (unsigned long long)worst->id,
	         (unsigned long long)(most / NGTCP2_MILLISECONDS),
	         (unsigned long long)(span / NGTCP2_MILLISECONDS));
	shed(s, worst, now);
}

/* Has a session held the TUN half of the last SLOW_WINDOW or more, its
 * client taking fewer than SLOW_PKTS a second meanwhile? Then it sheds. */
static void slow_check(struct server *s, uint64_t now)
{
	for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link)) {
		uint64_t span = now - ss->pace_began;
		if (span < SLOW_WINDOW)
			continue;
		uint64_t held = ss->held_total + (ss->holding ? now - ss->held_began : 0);
		uint64_t sent = ss->conn.stats.tx_pkts - ss->pace_tx;
		if (ss->pace_began && (held - ss->pace_held) * 2 >= span && ss->shed_until <= now &&
		    sent * NGTCP2_SECONDS < (uint64_t)SLOW_PKTS * span) {
			hub_slog(LOG_LVL_DEBUG, ss, "session %llu: the TUN held for it %llu of the last "
			         "%llu ms while it took %llu packets, dropping its excess instead of "
			         "holding others up", (unsigned long long)ss->id,
			         (unsigned long long)((held - ss->pace_held) / NGTCP2_MILLISECONDS),
			         (unsigned long long)(span / NGTCP2_MILLISECONDS), (unsigned long long)sent);
			shed(s, ss, now);
		}
		ss->pace_began = now;
		ss->pace_held = held;
		ss->pace_tx = ss->conn.stats.tx_pkts;
	}
}

/* At the lowest priority: what is pending first (the ACKs that drain a
 * queue, on a busy machine) runs first. */
static int shed_timer_cb(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct server *s = userdata;
	uint64_t now = conn_now(), next = now + RING_CHECK;
	if (s->ring_checked + RING_CHECK <= now) {
		ring_check(s, now);
		slow_check(s, now);
	}
	for (struct session *ss = LIST_FIRST(&s->sessions); ss && s->holding; ss = LIST_NEXT(ss, link)) {
		if (!ss->holding)
			continue;
		if (ss->conn.stats.tx_pkts != ss->held_tx) {
			ss->held_tx = ss->conn.stats.tx_pkts;
			ss->held_moved = now;
		}
		uint64_t rtt = conn_srtt(&ss->conn);
		uint64_t limit = STALL_AFTER + (rtt < STALL_RTT_MAX ? rtt : STALL_RTT_MAX);
		bool stalled = ss->held_moved + limit <= now;
		/* More sent and queued than at the start: other clients'
		 * packets went in, the TUN being unread. */
		bool fed = ss->conn.stats.tx_pkts + ss->conn.dgq_count > ss->held_in &&
		           ss->held_began + limit <= now;
		if (!stalled && !fed && ss->held_since + SHED_AFTER <= now && !others_wait(s, ss, now))
			ss->held_since = now; /* nobody waits: hold on */
		if (!stalled && !fed && ss->held_since + SHED_AFTER > now) {
			next = ss->held_since + SHED_AFTER < next ? ss->held_since + SHED_AFTER : next;
			continue;
		}
		if (stalled)
			hub_slog(LOG_LVL_DEBUG, ss, "session %llu: its queue has not moved for %llu ms, "
			         "dropping its excess instead of holding the TUN",
			         (unsigned long long)ss->id,
			         (unsigned long long)((now - ss->held_moved) / NGTCP2_MILLISECONDS));
		else if (fed)
			hub_slog(LOG_LVL_DEBUG, ss, "session %llu: other clients' packets have kept its "
			         "queue congested for %llu ms, dropping its excess instead of holding the "
			         "TUN", (unsigned long long)ss->id,
			         (unsigned long long)((now - ss->held_began) / NGTCP2_MILLISECONDS));
		else
			hub_slog(LOG_LVL_DEBUG, ss, "session %llu: congested for %llu ms, dropping its "
			         "excess instead of holding the others up", (unsigned long long)ss->id,
			         (unsigned long long)((now - ss->held_since) / NGTCP2_MILLISECONDS));
		shed(s, ss, now);
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
	ss->held_since = ss->held_moved = ss->held_began = now;
	ss->held_tx = ss->conn.stats.tx_pkts;
	ss->held_in = ss->conn.stats.tx_pkts + ss->conn.dgq_count;
	if (!s->holding++)
		tun_pause(s, true);
	if (!s->shed_timer) {
		if (sd_event_add_time(s->ev, &s->shed_timer, CLOCK_MONOTONIC, UINT64_MAX, 1000,
		                      shed_timer_cb, s) < 0) {
			/* Without the timer nobody would wake the TUN: do not hold. */
			s->shed_timer = NULL;
			ss->shed_until = now + SHED_HOLD;
			release(s, ss, now);
			return;
		}
		sd_event_source_set_priority(s->shed_timer, SD_EVENT_PRIORITY_IDLE);
		sd_event_source_set_enabled(s->shed_timer, SD_EVENT_OFF); /* armed below */
	}
	/* An armed timer fires within RING_CHECK, before this hold's end. */
	int on = SD_EVENT_OFF;
	sd_event_source_get_enabled(s->shed_timer, &on);
	if (on == SD_EVENT_OFF) {
		sd_event_source_set_time(s->shed_timer, (now + RING_CHECK) / 1000 + 1);
		sd_event_source_set_enabled(s->shed_timer, SD_EVENT_ONESHOT);
	}
}

void hub_session_drained(struct conn *c)
{
	struct session *ss = c->owner;
	if (ss->holding)
		release(ss->srv, ss, conn_now());
	hub_spoke_drained(ss->srv, ss);
}

/* Every packet of p to session ss. */
static void to_session(struct server *s, struct session *ss, struct tun_pkt *p,
                       const struct route *rt)
{
	struct conn *c = &ss->conn;
	uint64_t now = conn_now();
	bool shedding = ss->shed_until > now;
	ss->tun_seen = now;
	int r = conn_send_tun_pkt(c, p, shedding ? SHED_QUEUE : CONN_DGQ_SLOTS);
	if (r == DGRAM_TOO_BIG) {
		if (!conn_too_big_answer_ok(c, now))
			return;
		/* The answer comes "from" the client's address: one of the hub's
		 * own as the source would be a martian to its kernel. */
		if (rt->v6)
			tun_pkt_too_big(&s->tun, p, rt->dst6, conn_max_datagram(c));
		else
			tun_frag_needed(&s->tun, p, rt->dst4, conn_max_datagram(c));
		return;
	}
	if (shedding && r > 0 && ss->shed_until < now + SHED_HOLD)
		ss->shed_until = now + SHED_HOLD; /* a second after its last drop, or longer */
	hub_mark_dirty(ss);
	if (!shedding && !ss->holding && conn_congested(c))
		hold(s, ss, now);
}

void hub_data_init(struct server *s)
{
	uint64_t ms = testenv_get(SHED_FORGET_ENV, 100, 60000);
	s->shed_forget = ms ? ms * NGTCP2_MILLISECONDS : SHED_FORGET;
}

void hub_tun_read(struct server *s)
{
	int i;
	for (i = 0; i < TUN_BATCH && !s->tun_paused; i++) {
		struct tun_pkt p;
		enum tun_read_result r = tun_read(&s->tun, &p);
		if (r == TUN_NONE)
			break;
		if (r == TUN_GONE) {
			/* Without it nothing reaches the hub's side; a new start
			 * makes it again, and the clients return with their VIPs. */
			log_err("%s: cannot read the TUN device: %s; exiting (the service manager "
			        "restarts slopnd; or start it again)", s->tunname, tun_gone_str(errno));
			sd_event_source_set_enabled(s->tun_src, SD_EVENT_OFF);
			hub_exit(s, 1);
			break;
		}
		if (r == TUN_BAD) {
			log_debug("%s: unusable packet from the kernel: %s", s->tunname,
			          offload_result_str(p.bad));
			s->tun_drop[DROP_TUN_BAD] += tun_pkt_count(&p);
			continue;
		}
		struct route rt;
		enum drop_reason why;
		struct session *peer = route_from_tun(s, p.split.pkt, p.split.len, &rt, &why);
		if (!peer) {
			if (why != DROP_MAX)
				s->tun_drop[why] += tun_pkt_count(&p);
			continue;
		}
		to_session(s, peer, &p, &rt);
	}
	if (i == TUN_BATCH && !s->tun_paused)
		s->tun_full_reads++; /* the hub reads as fast as it can (ring_check) */
	dataplane_tun_watch(&s->tun, s->tun_src);
}

int hub_on_tun(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct server *s = userdata;
	hub_tun_read(s);
	hub_settle(s);
	return 0;
}
