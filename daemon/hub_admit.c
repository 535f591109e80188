/* Who may open a connection to the hub, and for how long one may wait
 * without logging in, so that no one without a token can fill the hub:
 *
 * - A connection waits on the pending list from the moment its client's
 *   address is proven (the handshake completed, or the Initial carried our
 *   Retry token) until it logs in. It has LOGIN_DEADLINE for that (a Retry
 *   client gets it again once its handshake completes).
 * - At most PER_ADDR connections from one address (IPv4, or IPv6 /64)
 *   wait at once: more are refused, or closed at their handshake. Its
 *   handshakes in progress count too, but past the limit they are answered
 *   with a Retry, not refused: a spoofer cannot lock out someone else's
 *   address, whose client gets in once it has proven it.
 * - At most PENDING_MAX wait hub-wide: one more closes the oldest, so a
 *   newcomer always gets its chance to log in.
 * - Handshakes whose address is not proven yet cost state; past
 *   RETRY_ABOVE of them in progress, a new client must first prove its
 *   address with a Retry round trip, so spoofed Initials cost none.
 *   So must one that finds RETRY_QUEUED handshakes queued (a flood faster
 *   than the hub makes handshakes), rather than wait behind them or, the
 *   queue full, be dropped (that cost its client a second or more).
 *   Proven, an Initial from an address with no other connection in its
 *   handshake or awaiting its login is made before the queue
 *   (INITQ_FIRST_MAX of them; one in four made comes from the queue all
 *   the same): a flood from a few dozen addresses cannot keep a client
 *   out, nor can spoofed Initials.
 * - MAX_CONNS connections in all.
 *
 * Refusals are stateless CONNECTION_CLOSE packets within the hub's budget
 * of stateless answers. */
#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/hub.h"
#include "daemon/testenv.h"
#include "daemon/timer.h"

#define MAX_CONNS 4096
#define PENDING_MAX 1024
#define PER_ADDR 16
/* Tests make an office's burst with a few clients rather than dozens. */
#define PER_ADDR_ENV "SLOPND_TEST_PER_ADDR"
#define RETRY_ABOVE 128
/* A queue this long may take the hub a second to make on a slow machine:
 * a newcomer proves its address instead, in a round trip. */
#define RETRY_QUEUED 8
#define LOGIN_DEADLINE (5 * NGTCP2_SECONDS)
#define RETRY_TOKEN_LIFETIME (10 * NGTCP2_SECONDS)
#define PRESSURE_LOG_EVERY (60 * NGTCP2_SECONDS)

/* The metrics' order, which slopnctl status's "limits:" follows too (ctl/cmd_status.c). */
#define ADMIT(name, field) {name, offsetof(struct admit_counters, field)}
const struct admit_counter_name admit_counter_names[] = {
	ADMIT("refused", refused),
	ADMIT("refused_banned", refused_banned),
	ADMIT("closed_no_login", closed_deadline),
	ADMIT("closed_by_limit", closed_limit),
	ADMIT("retry_sent", retry_sent),
	ADMIT("oversize_logins", oversize_logins),
	ADMIT("bad_datagrams", bad_datagrams),
	ADMIT("initials_dropped", initials_dropped),
	ADMIT("initials_excess", initials_excess),
};
#undef ADMIT
const size_t admit_counter_count = sizeof(admit_counter_names) / sizeof(admit_counter_names[0]);

/* ---- connections per address ---- */

static unsigned per_addr(void)
{
	static unsigned n;
	if (!n) {
		uint64_t v = testenv_get(PER_ADDR_ENV, 1, PER_ADDR);
		n = v ? (unsigned)v : PER_ADDR;
	}
	return n;
}

/* IPv4 (a v4-mapped IPv6 too) by its address, IPv6 by its /64: one host
 * or one site. */
void hub_addr_key(const struct sockaddr_storage *sa, uint8_t key[9], uint8_t *len)
{
	const struct sockaddr_in6 *in6 = (const void *)sa;
	if (sa->ss_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		key[0] = 6;
		memcpy(key + 1, in6->sin6_addr.s6_addr, 8);
		*len = 9;
		return;
	}
	key[0] = 4;
	if (sa->ss_family == AF_INET6)
		memcpy(key + 1, in6->sin6_addr.s6_addr + 12, 4);
	else
		memcpy(key + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	*len = 5;
}

/* The maps' values are counts, never pointers: absent means 0. */
static unsigned addr_get(struct cidmap *m, const uint8_t *key, size_t len)
{
	return (unsigned)(uintptr_t)cidmap_get(m, key, len);
}

static int addr_add(struct cidmap *m, const uint8_t *key, size_t len, int delta)
{
	unsigned n = addr_get(m, key, len);
	if (delta < 0 && n == 0)
		return 0;
	n += delta;
	if (n == 0) {
		cidmap_del(m, key, len);
		return 0;
	}
	return cidmap_put(m, key, len, (void *)(uintptr_t)n);
}

static int addr_count(struct cidmap *m, const struct session *ss, int delta)
{
	return addr_add(m, ss->addr_key, ss->addr_keylen, delta);
}

/* Its handshake ended (done or not): an unproven one no longer counts. */
static void stop_handshaking(struct server *s, struct session *ss)
{
	if (!ss->handshaking)
		return;
	ss->handshaking = false;
	s->handshaking--;
	/* Not from !pending: a count that could not be made (out of memory)
	 * must not be taken from another connection of the address. */
	if (ss->unproven)
		addr_count(&s->unproven_by_addr, ss, -1);
	ss->unproven = false;
}

/* ---- the pending list, oldest (so earliest deadline) first ---- */

static void arm_deadline(struct server *s)
{
	if (TAILQ_EMPTY(&s->pending)) {
		sd_event_source_set_enabled(s->deadline_timer, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(s->deadline_timer, TAILQ_FIRST(&s->pending)->deadline / 1000 + 1);
	sd_event_source_set_enabled(s->deadline_timer, SD_EVENT_ONESHOT);
}

static void pending_remove(struct server *s, struct session *ss)
{
	TAILQ_REMOVE(&s->pending, ss, pend_link);
	ss->pending = false;
	s->npending--;
	addr_count(&s->pending_by_addr, ss, -1);
	/* A timer left on a removed head fires early, finds nothing due, and
	 * is set again. */
}

/* At most one line a minute says that the limits are at work. */
static void note_pressure(struct server *s)
{
	static uint64_t last;
	uint64_t now = conn_now();
	if (last && now - last < PRESSURE_LOG_EVERY)
		return;
	last = now;
	log_warn("connection limits at work: %llu refused, %llu closed for no login within %llu s, "
	         "%llu closed by limits, %llu oversized logins, %llu Retry sent, "
	         "%llu Initials dropped while busy so far (slopnctl status)",
	         (unsigned long long)s->adm.refused, (unsigned long long)s->adm.closed_deadline,
	         (unsigned long long)(LOGIN_DEADLINE / NGTCP2_SECONDS),
	         (unsigned long long)s->adm.closed_limit, (unsigned long long)s->adm.oversize_logins,
	         (unsigned long long)s->adm.retry_sent, (unsigned long long)s->adm.initials_dropped);
}

void hub_admit_oversize(struct server *s)
{
	s->adm.oversize_logins++;
	note_pressure(s);
}

unsigned hub_awaiting_login(const struct server *s)
{
	unsigned n = 0;
	for (const struct session *ss = TAILQ_FIRST(&s->pending); ss; ss = TAILQ_NEXT(ss, pend_link))
		n += !ss->handshaking;
	return n;
}

unsigned hub_closing(const struct server *s)
{
	unsigned n = 0;
	for (const struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link))
		n += ss->conn.state == CONN_CLOSING || ss->conn.state == CONN_DRAINING;
	return n;
}

/* Close a connection that has not logged in, at the end of the event, with
 * code SLOPN_ERR_BUSY when a limit turned it away (a real client comes back
 * soon), else SLOPN_ERR_CLIENT_EXIT (a real client that was only slow tries
 * again). */
static void close_waiting(struct session *ss, uint64_t *counter, uint64_t code, const char *reason)
{
	hub_admit_leave(ss);
	if (ss->conn.close_pending)
		return; /* closing already (its login refused): counted as that */
	(*counter)++;
	note_pressure(ss->srv);
	conn_close(&ss->conn, code, reason);
	hub_mark_dirty(ss);
}

static void pending_add(struct server *s, struct session *ss)
{
	if (s->npending >= PENDING_MAX)
		close_waiting(TAILQ_FIRST(&s->pending), &s->adm.closed_limit, SLOPN_ERR_BUSY,
		              "hub busy: too many connections waiting to log in");
	if (addr_count(&s->pending_by_addr, ss, +1) < 0) {
		close_waiting(ss, &s->adm.closed_limit, SLOPN_ERR_BUSY, "hub out of memory");
		return;
	}
	ss->pending = true;
	ss->deadline = conn_now() + LOGIN_DEADLINE;
	TAILQ_INSERT_TAIL(&s->pending, ss, pend_link);
	s->npending++;
	if (TAILQ_FIRST(&s->pending) == ss)
		arm_deadline(s);
}

static int on_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct server *s = userdata;
	uint64_t now = conn_now();
	char why[64];
	snprintf(why, sizeof(why), "no login within %llu s",
	         (unsigned long long)(LOGIN_DEADLINE / NGTCP2_SECONDS));
	struct session *ss;
	while ((ss = TAILQ_FIRST(&s->pending)) && ss->deadline <= now)
		close_waiting(ss, &s->adm.closed_deadline, SLOPN_ERR_CLIENT_EXIT, why);
	arm_deadline(s);
	hub_settle(s);
	return 0;
}

/* ---- new connections ---- */

/* A CONNECTION_CLOSE in an Initial, without any connection state. */
static void stateless_close(struct server *s, const ngtcp2_pkt_hd *hd, const struct udp_rx *rx,
                            uint64_t code, const char *reason)
{
	if (!hub_stateless_ok(s, HUB_REFUSAL))
		return;
	uint8_t buf[512];
	ngtcp2_ssize n = ngtcp2_crypto_write_connection_close(buf, sizeof(buf), hd->version,
		&hd->scid, &hd->dcid, code, (const uint8_t *)reason, strlen(reason));
	if (n > 0)
		udp_send_one(&s->udp, (const struct sockaddr *)&rx->to, rx->tolen,
		             (const struct sockaddr *)&rx->from, rx->fromlen, buf, (size_t)n);
}

static void refuse(struct server *s, const ngtcp2_pkt_hd *hd, const struct udp_rx *rx,
                   const char *reason)
{
	s->adm.refused++;
	note_pressure(s);
	stateless_close(s, hd, rx, NGTCP2_CONNECTION_REFUSED, reason);
}

/* Smaller than the Initial that asked for it: no amplification. */
static void send_retry(struct server *s, const ngtcp2_pkt_hd *hd, const struct udp_rx *rx)
{
	uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN], buf[512];
	ngtcp2_cid scid = {.datalen = CONN_CID_LEN};
	/* Unchecked, a failure would give every Retry one ID (the sessions'
	 * key in the cidmap). */
	if (gnutls_rnd(GNUTLS_RND_NONCE, scid.data, scid.datalen) < 0)
		return;
	ngtcp2_ssize tlen = ngtcp2_crypto_generate_retry_token(token, s->id.token_secret,
		sizeof(s->id.token_secret), hd->version, (const ngtcp2_sockaddr *)&rx->from,
		rx->fromlen, &scid, &hd->dcid, conn_now());
	if (tlen < 0)
		return;
	ngtcp2_ssize n = ngtcp2_crypto_write_retry(buf, sizeof(buf), hd->version, &hd->scid, &scid,
	                                           &hd->dcid, token, (size_t)tlen);
	if (n <= 0)
		return;
	s->adm.retry_sent++;
	udp_send_one(&s->udp, (const struct sockaddr *)&rx->to, rx->tolen,
		             (const struct sockaddr *)&rx->from, rx->fromlen, buf, (size_t)n);
}

/* An Initial of this connection is queued. */
static bool queued(const struct server *s, const ngtcp2_cid *dcid)
{
	return initq_has(&s->initq_first, dcid) || initq_has(&s->initq, dcid);
}

bool hub_admit_initial(struct server *s, const ngtcp2_pkt_hd *hd, const struct udp_rx *rx,
                       bool *validated, ngtcp2_cid *retry_odcid)
{
	*validated = false;
	if (s->stopping)
		return false;
	/* Other tokens (NEW_TOKEN: we send none) prove nothing: ignored. */
	if (hd->token.len && hd->token.base[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
		if (ngtcp2_crypto_verify_retry_token(retry_odcid, hd->token.base, hd->token.len,
		        s->id.token_secret, sizeof(s->id.token_secret), hd->version,
		        (const ngtcp2_sockaddr *)&rx->from, rx->fromlen, &hd->dcid,
		        RETRY_TOKEN_LIFETIME, conn_now()) != 0) {
			/* Forged, expired, or from another address (RFC 9000
			 * 8.1.2); or a late Initial of a connection closed during
			 * its handshake, whose ID the client had changed to ours:
			 * the token no longer matches it. The two look alike, so
			 * both count as refused, never as bad datagrams. */
			s->adm.refused++;
			stateless_close(s, hd, rx, NGTCP2_INVALID_TOKEN, "");
			return false;
		}
		*validated = true;
	}
	/* A banned address is told why once a minute (a handshake, then code
	 * 3 at its login); its other attempts cost no handshake. */
	uint64_t now = conn_now() / NGTCP2_SECONDS;
	const struct sockaddr *from = (const struct sockaddr *)&rx->from;
	uint64_t left;
	if (!ban_admit(&s->bans, from, now, &left)) {
		char why[128];
		snprintf(why, sizeof(why), SLOPN_BANNED_REASON ": %llu more minutes",
		         (unsigned long long)(left + 59) / 60);
		s->adm.refused_banned++;
		stateless_close(s, hd, rx, NGTCP2_CONNECTION_REFUSED, why);
		return false;
	}
	uint8_t key[9], keylen;
	hub_addr_key(&rx->from, key, &keylen);
	unsigned proven = addr_get(&s->pending_by_addr, key, keylen);
	/* A copy of an Initial still queued (its client sent it again while
	 * it waited) is dropped, not refused: the handshake made of the queued
	 * one answers it, where a refusal would have the client give that
	 * connection up while the hub still made it, a dead handshake in one
	 * of the address's places until its login deadline. */
	bool copy = queued(s, &hd->dcid);
	if (proven >= per_addr()) {
		if (!copy)
			refuse(s, hd, rx, "too many connections from your address waiting to log in");
		return false;
	}
	/* Queued Initials count as the handshakes they will be. */
	if (!*validated && (s->handshaking + hub_queued(s) >= RETRY_ABOVE ||
	                    s->initq.n >= RETRY_QUEUED ||
	                    proven + addr_get(&s->unproven_by_addr, key, keylen) >= per_addr())) {
		/* A copy: a Retry would make it start over, likewise. */
		if (!copy)
			send_retry(s, hd, rx);
		return false;
	}
	if (s->nconns + hub_queued(s) >= MAX_CONNS) {
		if (!copy)
			refuse(s, hd, rx, "hub full");
		return false;
	}
	return true;
}

/* A queued Initial counts as the connection it will be: proven (its Retry
 * token) or not, from its address. */
static int queued_count(struct server *s, const struct sockaddr_storage *from, bool validated,
                        int delta)
{
	uint8_t key[9], keylen;
	hub_addr_key(from, key, &keylen);
	return addr_add(validated ? &s->pending_by_addr : &s->unproven_by_addr, key, keylen, delta);
}

/* The connections from an address: awaiting their login, their
 * handshakes, or queued. */
static unsigned addr_load(struct server *s, const struct sockaddr_storage *sa)
{
	uint8_t key[9], keylen;
	hub_addr_key(sa, key, &keylen);
	return addr_get(&s->pending_by_addr, key, keylen) +
	       addr_get(&s->unproven_by_addr, key, keylen);
}

bool hub_admit_queue(struct server *s, const struct udp_rx *rx, const ngtcp2_cid *dcid,
                     bool validated, const ngtcp2_cid *retry_odcid)
{
	struct initq_slot *sl = NULL;
	if (validated && addr_load(s, &rx->from) == 0)
		sl = initq_push(&s->initq_first, rx);
	if (!sl)
		sl = initq_push(&s->initq, rx);
	if (!sl) {
		s->adm.initials_dropped++;
		note_pressure(s);
		return false;
	}
	sl->validated = validated;
	sl->dcid = *dcid;
	if (validated)
		sl->odcid = *retry_odcid;
	/* Not counted (out of memory): made all the same, and its end takes
	 * no other's count. */
	sl->counted = queued_count(s, &sl->rx.from, validated, +1) == 0;
	return true;
}

void hub_admit_dequeued(struct server *s, const struct initq_slot *sl)
{
	if (sl->counted)
		queued_count(s, &sl->rx.from, sl->validated, -1);
}

void hub_admit_start(struct server *s, struct session *ss, bool validated)
{
	hub_addr_key(&ss->remote_sa, ss->addr_key, &ss->addr_keylen);
	ss->handshaking = true;
	s->handshaking++;
	if (validated)
		pending_add(s, ss);
	else if (addr_count(&s->unproven_by_addr, ss, +1) < 0)
		close_waiting(ss, &s->adm.closed_limit, SLOPN_ERR_BUSY, "hub out of memory");
	else
		ss->unproven = true;
}

void hub_admit_handshake(struct conn *c)
{
	struct session *ss = c->owner;
	struct server *s = ss->srv;
	if (c->close_pending) /* closed by a limit while its handshake went on */
		return;
	stop_handshaking(s, ss);
	if (ss->pending) {
		/* Proven by Retry: the login deadline starts again now. */
		pending_remove(s, ss);
	} else if (addr_get(&s->pending_by_addr, ss->addr_key, ss->addr_keylen) >= per_addr()) {
		close_waiting(ss, &s->adm.closed_limit, SLOPN_ERR_BUSY,
		              "too many connections from your address waiting to log in");
		return;
	}
	pending_add(s, ss);
}

void hub_admit_leave(struct session *ss)
{
	struct server *s = ss->srv;
	stop_handshaking(s, ss);
	if (ss->pending)
		pending_remove(s, ss);
}

int hub_admit_init(struct server *s)
{
	if (cidmap_init(&s->pending_by_addr, 64) < 0 || cidmap_init(&s->unproven_by_addr, 64) < 0 ||
	    initq_init(&s->initq, INITQ_MAX) < 0 || initq_init(&s->initq_first, INITQ_FIRST_MAX) < 0 ||
	    timer_new(s->ev, &s->deadline_timer, 1000, on_deadline, s) < 0)
		return -1;
	return 0;
}

void hub_admit_free(struct server *s)
{
	if (s->deadline_timer)
		sd_event_source_disable_unref(s->deadline_timer);
	s->deadline_timer = NULL;
	if (s->initq_src)
		sd_event_source_disable_unref(s->initq_src);
	s->initq_src = NULL;
	initq_free(&s->initq);
	initq_free(&s->initq_first);
	cidmap_free(&s->pending_by_addr);
	cidmap_free(&s->unproven_by_addr);
}
