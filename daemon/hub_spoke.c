/* Backpressure from client to client (spoke to spoke).
 *
 * The hub is the bottleneck of a flow from one client to another: its
 * queue towards the receiver fills, and dropping there would cost the
 * sender's TCP a retransmission for every packet (the hub acknowledged the
 * datagram, so QUIC does not slow down). Instead, while the receiver's queue
 * is congested, the sender's QUIC packets are kept unread (stashed, in
 * order): no ACK goes back, its congestion window fills, it stops reading
 * its TUN, and its kernel holds the TCP sender back without loss. When the
 * receiver drains, the stash is read as if it had just arrived.
 *
 * Holding stalls the sender's other traffic too. A receiver that drains,
 * however slowly, releases the sender at each drain, and the sender's
 * packets are read up to the next one for that receiver: its other traffic
 * goes on in proportion (tests/netns/spoke_tcp.sh). A receiver that does
 * not drain for HOLD_MAX (stalled, or gone without a word) releases the
 * sender anyway, and until that receiver drains (at most SHED_FOR) the
 * sender is not held again: its packets to a congested receiver are
 * dropped at that receiver's queue (counted as "queue"), as they would be
 * at a slow link. The shed ends at the drain, not after SHED_FOR alone, so
 * that a receiver that only waited for a CPU longer than HOLD_MAX costs
 * its sender a few packets, not a second of drops (some 2000 of a TCP
 * stream at 2 Gbit/s, seen in CI). HOLD_MAX is under
 * the sender's probe timeout (which holds the 25 ms ACK delay), and long
 * enough that a receiver that only waits for a CPU on a busy machine does
 * not count as stalled (at 10 ms, spoke_tcp.sh under the sanitizers saw
 * such a wait shed a healthy flow). A stash holds at most STASH_MAX
 * bytes (all of them STASH_TOTAL): a packet past that is dropped unread,
 * so that the sender's QUIC sees a loss and slows down. */
#include <stdlib.h>
#include <string.h>

#include "daemon/hub.h"

#define HOLD_MAX (20 * NGTCP2_MILLISECONDS)
#define HOLD_CHAIN_MAX 8 /* holds followed to see that a new one closes no circle */
#define SHED_FOR NGTCP2_SECONDS
#define STASH_FIRST (256 * 1024)
#define STASH_MAX (4 * 1024 * 1024)     /* per sender */
#define STASH_TOTAL (256 * 1024 * 1024) /* all senders */

/* A stashed packet: this header, the sender's address, ours it came to,
 * the packet. */
struct rec {
	uint32_t len;
	uint32_t fromlen;
	uint32_t tolen;
};

static void unqueue(struct server *s, struct session *ss)
{
	for (struct session **p = &s->replay; ss->replay_queued && *p; p = &(*p)->replay_next)
		if (*p == ss) {
			*p = ss->replay_next;
			ss->replay_queued = false;
			break;
		}
}

/* ss waits no more: its stash is read in hub_settle. */
static void release(struct server *s, struct session *ss)
{
	if (!ss->held_for)
		return;
	ss->held_for->holders--;
	ss->held_for = NULL;
	if (ss->stash_len > ss->stash_head && !ss->replay_queued) {
		ss->replay_queued = true;
		ss->replay_next = s->replay;
		s->replay = ss;
	}
}

static void shed(struct server *s, struct session *ss, uint64_t now, const char *why)
{
	hub_slog(LOG_LVL_DEBUG, ss, "session %llu: %s: its packets to session %llu are dropped "
	         "while it is congested instead of holding it, until it drains",
	         (unsigned long long)ss->id, why, (unsigned long long)ss->held_for->id);
	ss->spoke_shed_until = now + SHED_FOR;
	ss->spoke_shed_for = ss->held_for->id;
	ss->held_for->shed_by++;
	s->spoke_sheds++;
	release(s, ss);
}

static int timer_cb(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct server *s = userdata;
	uint64_t now = conn_now(), next = UINT64_MAX;
	for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link)) {
		if (!ss->held_for)
			continue;
		if (ss->held_at + HOLD_MAX <= now)
			shed(s, ss, now, "held for too long");
		else if (ss->held_at + HOLD_MAX < next)
			next = ss->held_at + HOLD_MAX;
	}
	if (next != UINT64_MAX) {
		sd_event_source_set_time(src, next / 1000 + 1);
		sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	}
	hub_settle(s);
	return 0;
}

void hub_spoke_congested(struct server *s, struct session *ss, struct session *to)
{
	if (ss->held_for || to == ss)
		return;
	uint64_t now = conn_now();
	if (ss->spoke_shed_until > now)
		return;
	/* No circle of holds: held, ss's ACKs are stashed, and its own queue
	 * drains no more. Had to (or one it waits on) been held for ss, each
	 * would wait for the other until HOLD_MAX and both be shed (two
	 * clients sending to each other, or one's TCP ACKs to the other):
	 * the one held for ss goes on instead, its stash read, and what it
	 * acknowledges drains the queues that wait. */
	struct session *x = to;
	for (unsigned n = 0; x->held_for && x->held_for != ss; n++) {
		if (n == HOLD_CHAIN_MAX)
			return; /* too far to look: ss is not held */
		x = x->held_for;
	}
	if (x->held_for == ss)
		release(s, x);
	if (!s->spoke_timer) {
		if (sd_event_add_time(s->ev, &s->spoke_timer, CLOCK_MONOTONIC, UINT64_MAX, 1000,
		                      timer_cb, s) < 0) {
			s->spoke_timer = NULL; /* without it nobody would end a hold */
			return;
		}
		/* After what is pending: the ACKs that would drain the queue. */
		sd_event_source_set_priority(s->spoke_timer, SD_EVENT_PRIORITY_IDLE);
		sd_event_source_set_enabled(s->spoke_timer, SD_EVENT_OFF); /* armed below */
	}
	ss->held_for = to;
	ss->held_at = now;
	to->holders++;
	/* Armed once per HOLD_MAX at most (a timerfd change costs a system
	 * call, holds come and go thousands of times a second): an armed
	 * timer fires no later than this hold's end, and looks again. */
	int on = SD_EVENT_OFF;
	sd_event_source_get_enabled(s->spoke_timer, &on);
	if (on == SD_EVENT_OFF) {
		sd_event_source_set_time(s->spoke_timer, (now + HOLD_MAX) / 1000 + 1);
		sd_event_source_set_enabled(s->spoke_timer, SD_EVENT_ONESHOT);
	}
}

void hub_spoke_drained(struct server *s, struct session *to)
{
	if (!to->holders && !to->shed_by)
		return;
	for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link)) {
		if (ss->held_for == to)
			release(s, ss);
		if (ss->spoke_shed_for == to->id) /* it drains: not stalled after all */
			ss->spoke_shed_until = ss->spoke_shed_for = 0;
	}
	to->shed_by = 0; /* none shed for it now */
}

/* Read ss's stash until it is empty or ss is held again. */
static void replay(struct session *ss)
{
	uint64_t now = conn_now();
	while (ss->stash_head < ss->stash_len && !ss->held_for && !ss->gone) {
		struct rec r;
		struct sockaddr_storage from, to;
		uint8_t *p = ss->stash + ss->stash_head;
		memcpy(&r, p, sizeof(r));
		memcpy(&from, p + sizeof(r), r.fromlen);
		memcpy(&to, p + sizeof(r) + r.fromlen, r.tolen);
		ss->stash_head += sizeof(r) + r.fromlen + r.tolen + r.len;
		conn_read(&ss->conn, (const struct sockaddr *)&to, r.tolen,
		          (const struct sockaddr *)&from, r.fromlen,
		          p + sizeof(r) + r.fromlen + r.tolen, r.len, now);
	}
	if (ss->stash_head == ss->stash_len) {
		/* Emptied: its memory back to the hub's budget, or a thousand
		 * senders each held once would keep STASH_TOTAL for good, and no
		 * sender could be held again. */
		ss->stash_head = ss->stash_len = 0;
		ss->srv->stash_total -= ss->stash_cap;
		ss->stash_cap = 0;
		free(ss->stash);
		ss->stash = NULL;
	}
	if (!ss->gone)
		hub_mark_dirty(ss);
}

bool hub_spoke_replay(struct server *s)
{
	bool any = false;
	while (s->replay) {
		struct session *ss = s->replay;
		s->replay = ss->replay_next;
		ss->replay_queued = false;
		replay(ss);
		any = true;
	}
	return any;
}

/* Room for need more bytes in ss's stash: what was read moved to the front,
 * the buffer doubled up to STASH_MAX (and the hub's STASH_TOTAL). */
static bool stash_room(struct server *s, struct session *ss, size_t need)
{
	if (ss->stash_head) {
		memmove(ss->stash, ss->stash + ss->stash_head, ss->stash_len - ss->stash_head);
		ss->stash_len -= ss->stash_head;
		ss->stash_head = 0;
	}
	if (ss->stash_len + need <= ss->stash_cap)
		return true;
	size_t cap = ss->stash_cap ? ss->stash_cap * 2 : STASH_FIRST;
	if (cap > STASH_MAX || s->stash_total + cap - ss->stash_cap > STASH_TOTAL)
		return false;
	uint8_t *p = realloc(ss->stash, cap);
	if (!p)
		return false;
	s->stash_total += cap - ss->stash_cap;
	ss->stash = p;
	ss->stash_cap = cap;
	return ss->stash_len + need <= cap;
}

bool hub_spoke_stash(struct server *s, struct session *ss, const struct udp_rx *rx)
{
	if (!ss->held_for && ss->stash_head == ss->stash_len)
		return false;
	size_t need = sizeof(struct rec) + rx->fromlen + rx->tolen + rx->len;
	if (ss->stash_len + need > ss->stash_cap && !stash_room(s, ss, need)) {
		/* More in flight than the hub keeps: dropped unread, so that the
		 * sender's QUIC sees the loss and slows down. */
		ss->conn.stats.drop[DROP_QUEUE]++;
		return true;
	}
	struct rec r = {(uint32_t)rx->len, (uint32_t)rx->fromlen, (uint32_t)rx->tolen};
	uint8_t *p = ss->stash + ss->stash_len;
	memcpy(p, &r, sizeof(r));
	memcpy(p + sizeof(r), &rx->from, rx->fromlen);
	memcpy(p + sizeof(r) + rx->fromlen, &rx->to, rx->tolen);
	memcpy(p + sizeof(r) + rx->fromlen + rx->tolen, rx->data, rx->len);
	ss->stash_len += need;
	return true;
}

void hub_spoke_forget(struct server *s, struct session *ss)
{
	ss->stash_head = ss->stash_len = 0; /* its packets go with it */
	s->stash_total -= ss->stash_cap;    /* the memory with the session */
	ss->stash_cap = 0;
	unqueue(s, ss);
	release(s, ss);
	hub_spoke_drained(s, ss);
}

void hub_spoke_stop(struct server *s)
{
	sd_event_source_disable_unref(s->spoke_timer);
	s->spoke_timer = NULL;
}
