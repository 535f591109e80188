/* The hub: one UDP socket, one TUN device, many sessions. */
#include "daemon/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <linux/if_link.h>
#include <malloc.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/dataplane.h"
#include "daemon/hub.h"
#include "daemon/ban.h"
#include "daemon/cidmap.h"
#include "daemon/cidtag.h"
#include "daemon/conn.h"
#include "daemon/control.h"
#include "daemon/log.h"
#include "daemon/session.h"
#include "daemon/testenv.h"
#include "daemon/timer.h"
#include "daemon/tls.h"
#include "proto/ipv6.h"
#include "proto/jsonfile.h"
#include "proto/jsonrpc.h"
#include "proto/login.h"
#include "tun/nat.h"
#include "tun/netlink.h"
#include "tun/statefile.h"
#include "tun/tun.h"

/* Stateless answers (resets, refusals) per second: enough for clients of
 * a previous run, too few to be a reflector. Version Negotiation as large
 * as the packet it answers: the path probes of clients starting at once
 * (six each); past these, a short one. */
#define STATELESS_PER_SEC 100
/* Resets go only to IDs with the hub's tag (cidtag.h), which only its
 * clients have: a restarted hub's thousands of clients learn of it within
 * seconds, and a flood of random IDs gets one in 65536 answered. */
#define RESETS_PER_SEC 1000
/* Initials of one connection whose ClientHello is not made yet, waiting in
 * the handshake queue at once: a split ClientHello takes 2 or 3 (one with a
 * post-quantum key share, 2), the one after a HelloRetryRequest 1. More are
 * a flood of one connection's, which would take the queue from everyone's
 * handshakes. */
#define FOLLOWS_MAX 4
#define VN_PADDED_PER_SEC 1000
/* After a link changed, the ways to clients are looked at again: at most
 * once in this (four system calls per session). */
#define PATH_CHECK_DELAY 1000000

const char *ip4str(uint32_t host, char buf[INET_ADDRSTRLEN])
{
	struct in_addr a = {htonl(host)};
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

const char *ip6str(const struct in6_addr *a, char buf[INET6_ADDRSTRLEN])
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* ---- session life cycle ---- */

/* A log line about one session: in the journal it carries the session's
 * id, VIPs and remote address as fields, to filter on (journalctl SLOPN_VIP=...). */
void hub_slog(enum log_level lvl, const struct session *ss, const char *fmt, ...)
{
	if ((int)lvl > log_max_level)
		return; /* debug lines come from the data path's shedding too */
	char id[48], vip[32 + INET_ADDRSTRLEN], remote[16 + sizeof(ss->remote)], a[INET_ADDRSTRLEN];
	char vip6[16 + sizeof(ss->vip6s)];
	snprintf(id, sizeof(id), "SLOPN_SESSION=%llu", (unsigned long long)ss->id);
	snprintf(vip, sizeof(vip), "SLOPN_VIP=%s", ss->vip ? ip4str(ss->vip, a) : "");
	snprintf(vip6, sizeof(vip6), "SLOPN_VIP6=%s", ss->vip6s);
	snprintf(remote, sizeof(remote), "SLOPN_REMOTE=%s", ss->remote);
	/* The IPv4 address comes first: a session without one has neither. */
	const char *const fields[] = {id, remote, ss->vip ? vip : NULL, ss->has6 ? vip6 : NULL, NULL};
	va_list ap;
	va_start(ap, fmt);
	log_vfields(lvl, fields, fmt, ap);
	va_end(ap);
}

void hub_mark_dirty(struct session *ss)
{
	if (ss->dirty || ss->gone)
		return;
	ss->dirty = true;
	ss->dirty_next = ss->srv->dirty;
	ss->srv->dirty = ss;
}

unsigned live_sessions(const struct server *s)
{
	unsigned n = 0;
	for (const struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link))
		n += ss->logged_in;
	return n;
}

time_t hub_started(struct server *s)
{
	time_t now = time(NULL), then = now - (time_t)((timer_now_usec() - s->started_mono) / 1000000);
	if (then - s->started >= 2 || s->started - then >= 2)
		s->started = then;
	return s->started;
}

unsigned hub_totals(const struct server *s, struct conn_stats *t)
{
	*t = s->gone_totals;
	unsigned n = 0;
	for (const struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link))
		if (ss->logged_in) {
			n++;
			conn_stats_add(t, &ss->conn.stats);
		}
	for (int i = 0; i < DROP_MAX; i++)
		t->drop[i] += s->tun_drop[i];
	dataplane_drops(t, &s->tun, &s->udp);
	return n;
}

/* systemd's view (a no-op without NOTIFY_SOCKET). */
void hub_notify_status(const struct server *s)
{
	sd_notifyf(0, "STATUS=%u session%s, listening on %s", live_sessions(s),
	           live_sessions(s) == 1 ? "" : "s", s->listen);
}

static void session_free(struct session *ss)
{
	log_budget_forget(&ss->moved_log);
	conn_free(&ss->conn);
	free(ss->stash);
	free(ss);
}

/* The kernel refused a packet as too big for the way to its client (a
 * link of ours got a smaller MTU): that client's packets shrink to fit. */
static void too_big(struct server *s)
{
	s->udp.tx_errno = 0;
	for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link)) {
		if (ss->gone || ss->conn.state != CONN_OPEN)
			continue;
		if (ss->remote_salen == s->udp.too_big_dstlen &&
		    !memcmp(&ss->remote_sa, &s->udp.too_big_dst, ss->remote_salen))
			conn_fit_path(&ss->conn, true);
	}
}

/* End of every event: write what callbacks queued, free what ended. */
void hub_settle(struct server *s)
{
	/* The answers to what went into the TUN first (hub_data.c). */
	if (tun_flush(&s->tun))
		hub_tun_read(s);
	do {
		while (s->dirty) {
			struct session *ss = s->dirty;
			s->dirty = ss->dirty_next;
			ss->dirty = false;
			if (!ss->gone)
				conn_write(&ss->conn);
		}
		/* Writing drained queues: the senders that waited go on. */
	} while (hub_spoke_replay(s));
	tun_flush(&s->tun); /* ICMP answers to what was read */
	udp_flush(&s->udp);
	if (s->udp.tx_errno == EMSGSIZE)
		too_big(s);
	bool freed = false;
	while (s->grave) {
		struct session *ss = s->grave;
		s->grave = ss->grave_next;
		session_free(ss);
		freed = true;
	}
	/* glibc keeps freed memory in its heap: after a flood of connections
	 * the hub would stay at its peak size. Give it back once sessions
	 * went (on_trim). */
	if (freed)
		timer_once(s->trim_timer, 1000000);
}

/* A second after sessions went, unless a flood of handshakes lasts (more
 * than TRIM_QUIET new connections since the last look, or some queued): a
 * trim walks the whole heap (7-22 ms here with a thousand connections), a
 * stall for every tunnel, and the memory would be taken again at once. A
 * handshake or two (a scanner's) does not hold it off. */
#define TRIM_QUIET 8

static int on_trim(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct server *s = userdata;
	bool flood = hub_queued(s) || s->next_id - s->trim_mark > TRIM_QUIET;
	s->trim_mark = s->next_id;
	if (flood) {
		timer_once(src, 1000000);
		return 0;
	}
	malloc_trim(0);
	return 0;
}

static void session_cid_added(struct conn *c, const ngtcp2_cid *cid)
{
	struct session *ss = c->owner;
	/* Unrouted, its packets would get stateless resets: closed instead. */
	if (cidmap_put(&ss->srv->cids, cid->data, cid->datalen, ss) < 0) {
		hub_slog(LOG_LVL_WARN, ss, "cannot route a new connection ID (out of memory?): closing");
		conn_close(&ss->conn, SLOPN_ERR_BUSY, "hub out of memory");
		hub_mark_dirty(ss);
	}
	if (ss->logged_in)
		hub_peers_dirty(ss->srv);
}

static void session_cid_removed(struct conn *c, const ngtcp2_cid *cid)
{
	struct session *ss = c->owner;
	if (cidmap_get(&ss->srv->cids, cid->data, cid->datalen) == ss)
		cidmap_del(&ss->srv->cids, cid->data, cid->datalen);
	if (ss->logged_in)
		hub_peers_dirty(ss->srv);
}

void hub_kick(struct server *s, struct session *ss, const char *reason)
{
	conn_close(&ss->conn, SLOPN_ERR_KICKED, reason);
	conn_write(&ss->conn); /* sends the close and takes the session down now */
}

static void session_down(struct conn *c)
{
	struct session *ss = c->owner;
	struct server *s = ss->srv;
	hub_admit_leave(ss);
	if (!ss->logged_in) {
		/* What it sent before a login (before_login) is in the totals
		 * still; it had no traffic of its own. */
		for (int i = 0; i < DROP_MAX; i++)
			s->gone_totals.drop[i] += c->stats.drop[i];
		if (c->ctl_overflow) {
			char why[64];
			snprintf(why, sizeof(why), "larger than %d bytes", SLOPN_LOGIN_MAX);
			hub_bad_login(ss, why, true);
		}
		return;
	}
	char vip[INET_ADDRSTRLEN];
	/* A client's own words where it gave some (ours: why it went). */
	const char *why = c->close_idle ? c->close_reason
	                : c->close_by_peer ? (c->close_app && c->close_code == SLOPN_ERR_CLIENT_EXIT &&
	                                      !c->close_reason[0] ? "client exit" : c->close_reason)
	                : c->close_reason;
	ip4str(ss->vip, vip);
	if (hub_login_says(ss)) /* held back as its "up" line was */
		hub_slog(LOG_LVL_INFO, ss, "session %llu down: vip %s%s%s remote %s (%s%s)",
		         (unsigned long long)ss->id, vip, ss->has6 ? " vip6 " : "", ss->vip6s, ss->remote,
		         c->close_by_peer ? "by peer: " : "", why && *why ? why : "closed");
	alloc_release(&s->addrs, ss->vip, ss, time(NULL));
	hub_leases_dirty(s);
	hub_peers_dirty(s);
	ss->logged_in = false;
	conn_stats_add(&s->gone_totals, &c->stats);
	hub_traffic_session_end(s, ss);
	hub_notify_status(s);
	/* A reason jansson refuses must not cost the event its session. */
	json_t *reason = json_string(why && *why ? why : "closed");
	control_notify(s->ctl, "session.down",
	               json_pack("{s:I, s:s, s:o, s:o}", "id", (json_int_t)ss->id, "vip", vip,
	                         "vip6", ss->has6 ? json_string(ss->vip6s) : json_null(),
	                         "reason", reason ? reason : json_string("?")));
}

static void session_gone(struct conn *c)
{
	struct session *ss = c->owner;
	struct server *s = ss->srv;
	/* ngtcp2 0.12 keeps at most 9 connection IDs; should a later one keep
	 * more, a scan of the map finds them all. */
	ngtcp2_cid cids[16];
	size_t n = c->qc ? ngtcp2_conn_get_num_scid(c->qc) : 0;
	if (n > 16) {
		cidmap_del_value(&s->cids, ss);
	} else if (n) {
		n = ngtcp2_conn_get_scid(c->qc, cids);
		for (size_t i = 0; i < n; i++)
			session_cid_removed(c, &cids[i]);
	}
	if (cidmap_get(&s->cids, ss->odcid.data, ss->odcid.datalen) == ss)
		cidmap_del(&s->cids, ss->odcid.data, ss->odcid.datalen);
	LIST_REMOVE(ss, link);
	s->nconns--;
	hub_spoke_forget(s, ss);
	ss->gone = true;
	ss->grave_next = s->grave;
	s->grave = ss;
}


/* ---- UDP ---- */

/* Reserved versions (0x?a?a?a?a, RFC 9000 15), to pad with: none is real. */
static uint32_t grease_version(unsigned i)
{
	return 0x0a0a0a0au | (i & 0xf) << 28 | (i >> 4 & 0xf) << 20 | (i >> 8 & 0xf) << 12 |
	       (i >> 12 & 0xf) << 4;
}

/* Answered with the versions we speak, and padded with reserved ones to
 * the size of the packet it answers (no larger: no amplification): a
 * client's path probes (proto/pathprobe.h) then find what the way back
 * carries too, which may be narrower than the way there; the hub's IPv4
 * packets carry DF, and it takes no path MTU from ICMP. */
static void send_version_negotiation(struct server *s, const ngtcp2_version_cid *vc,
                                     const struct udp_rx *rx)
{
	uint8_t buf[UDP_MAX_PAYLOAD], unused;
	uint32_t versions[UDP_MAX_PAYLOAD / 4];
	size_t n = 1, hdr = 1 + 4 + 1 + vc->dcidlen + 1 + vc->scidlen;
	versions[0] = NGTCP2_PROTO_VER_V1;
	size_t want = rx->len < sizeof(buf) ? rx->len : sizeof(buf);
	if (want >= hdr + 8 && hub_stateless_ok(s, HUB_VN_PADDED))
		n = (want - hdr) / 4;
	for (size_t i = 1; i < n; i++)
		versions[i] = grease_version((unsigned)i);
	gnutls_rnd(GNUTLS_RND_NONCE, &unused, 1);
	ngtcp2_ssize len = ngtcp2_pkt_write_version_negotiation(buf, sizeof(buf), unused,
		vc->scid, vc->scidlen, vc->dcid, vc->dcidlen, versions, n);
	if (len > 0)
		udp_send_one(&s->udp, (const struct sockaddr *)&rx->to, rx->tolen,
		             (const struct sockaddr *)&rx->from, rx->fromlen, buf, (size_t)len);
}

bool hub_stateless_ok(struct server *s, enum hub_stateless kind)
{
	uint64_t sec = conn_now() / NGTCP2_SECONDS;
	if (sec != s->stateless_sec) {
		s->stateless_sec = sec;
		memset(s->stateless_this_sec, 0, sizeof(s->stateless_this_sec));
	}
	static const unsigned budget[HUB_STATELESS_KINDS] = {
		[HUB_RESET] = RESETS_PER_SEC, [HUB_REFUSAL] = STATELESS_PER_SEC,
		[HUB_VN_PADDED] = VN_PADDED_PER_SEC,
	};
	if (s->stateless_this_sec[kind] >= budget[kind])
		return false;
	s->stateless_this_sec[kind]++;
	return true;
}

/* A short-header packet for a connection we do not know: with our tag, one
 * of a previous run of this hub (or one closed since), whose client the
 * reset tells at once; without, not ours at all. */
static void send_stateless_reset(struct server *s, const ngtcp2_version_cid *vc,
                                 const struct udp_rx *rx)
{
	if (!cidtag_ok(s->id.cid_secret, vc->dcid, vc->dcidlen)) {
		s->adm.bad_datagrams++;
		return;
	}
	/* Smaller than what triggered it, so two endpoints cannot loop. */
	if (rx->len < 2 + NGTCP2_MIN_STATELESS_RESET_RANDLEN + NGTCP2_STATELESS_RESET_TOKENLEN ||
	    !hub_stateless_ok(s, HUB_RESET))
		return;
	hub_send_reset(s, vc->dcid, vc->dcidlen, rx->len - 1 - NGTCP2_STATELESS_RESET_TOKENLEN > 40
	                                         ? 40 : rx->len - 1 - NGTCP2_STATELESS_RESET_TOKENLEN,
	               (const struct sockaddr *)&rx->to, rx->tolen,
	               (const struct sockaddr *)&rx->from, rx->fromlen);
}

#define MOVED_LINES 10

/* The client moved (a validated new address, or its NAT rebound): from
 * now on the session is known by the new address, in the control API, the
 * logs and the checks that look at the peer's address. */
static void session_path(struct conn *c)
{
	struct session *ss = c->owner;
	const ngtcp2_path *p = ngtcp2_conn_get_path(c->qc);
	if (p->remote.addrlen > sizeof(ss->remote_sa) ||
	    (p->remote.addrlen == ss->remote_salen &&
	     !memcmp(p->remote.addr, &ss->remote_sa, p->remote.addrlen)))
		return;
	char was[sizeof(ss->remote)];
	memcpy(was, ss->remote, sizeof(was));
	memcpy(&ss->remote_sa, p->remote.addr, p->remote.addrlen);
	ss->remote_salen = p->remote.addrlen;
	sockaddr_str(p->remote.addr, ss->remote, sizeof(ss->remote));
	if (!ss->logged_in)
		return;
	hub_peers_dirty(ss->srv);
	char vip[INET_ADDRSTRLEN], what[64];
	/* A client (or whoever rewrites its packets' source) can move it every
	 * round trip: at most MOVED_LINES lines a minute for each session. */
	bool last;
	snprintf(what, sizeof(what), "moves of session %llu", (unsigned long long)ss->id);
	if (log_budget_take(&ss->moved_log, MOVED_LINES, LOG_LVL_INFO, what, &last))
		hub_slog(LOG_LVL_INFO, ss, "session %llu moved: %s -> %s%s", (unsigned long long)ss->id,
		         was, ss->remote, log_budget_more(last));
	control_notify(ss->srv->ctl, "session.moved",
	               json_pack("{s:I, s:s, s:o, s:s, s:s}", "id", (json_int_t)ss->id,
	                         "vip", ip4str(ss->vip, vip),
	                         "vip6", ss->has6 ? json_string(ss->vip6s) : json_null(),
	                         "remote", ss->remote, "from", was));
}

/* The whole end-of-event step only when the timer left it work (senders
 * released, a session ended): on a busy sender the pacing timer fires
 * thousands of times a second. */
static void session_timer_done(struct conn *c)
{
	struct server *s = ((struct session *)c->owner)->srv;
	if (s->replay || s->grave || s->dirty)
		hub_settle(s);
	else
		udp_flush(&s->udp);
}

static const struct conn_ops session_ops = {
	.on_handshake = hub_admit_handshake,
	.on_line = hub_session_line,
	.on_line_skipped = hub_session_line_skipped,
	.on_datagram = hub_session_datagram,
	.on_down = session_down,
	.on_gone = session_gone,
	.on_path = session_path,
	.on_drained = hub_session_drained,
	.on_timer_done = session_timer_done,
	.cid_added = session_cid_added,
	.cid_removed = session_cid_removed,
};

/* Tests make a hub as slow at handshakes as one under the sanitizers on a
 * busy machine, where a flood keeps the queue full: each ClientHello, once
 * whole, takes this long (where the public-key work would be done). */
static uint64_t slow_hello_ms(void)
{
	static uint64_t ms = UINT64_MAX;
	if (ms == UINT64_MAX)
		ms = testenv_get("SLOPND_TEST_HANDSHAKE_MS", 1, 1000);
	return ms;
}

/* After each handshake message. The hub's EncryptedExtensions goes out
 * once the ClientHello's key exchange is made (a HelloRetryRequest has
 * none: the next ClientHello is still to come), in the same call that
 * makes the rest of the hub's flight: from then on, the client's Initials
 * carry nothing that costs a handshake's work (handle_packet). */
static int hello_hook(gnutls_session_t tls, unsigned type, unsigned when, unsigned incoming,
                      const gnutls_datum_t *msg)
{
	if (type == GNUTLS_HANDSHAKE_CLIENT_HELLO && incoming && slow_hello_ms())
		usleep((useconds_t)(slow_hello_ms() * 1000));
	if (type == GNUTLS_HANDSHAKE_ENCRYPTED_EXTENSIONS && !incoming) {
		ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(tls);
		struct session *ss = ((struct conn *)ref->user_data)->owner;
		ss->hello_answered = true;
	}
	return 0;
}

static struct session *session_new(struct server *s, const ngtcp2_pkt_hd *hd,
                                   const ngtcp2_cid *retry_odcid, const struct udp_rx *rx)
{
	struct session *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return NULL;
	ss->srv = s;
	ss->id = ++s->next_id;
	ss->since = time(NULL);
	ss->odcid = hd->dcid;
	sockaddr_str((const struct sockaddr *)&rx->from, ss->remote, sizeof(ss->remote));
	memcpy(&ss->remote_sa, &rx->from, rx->fromlen);
	ss->remote_salen = rx->fromlen;
	gnutls_session_t tls;
	if (tls_server_session(&tls, &s->id, &ss->conn.ref) < 0) {
		free(ss);
		return NULL;
	}
	gnutls_handshake_set_hook_function(tls, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_POST, hello_hook);
	LIST_INSERT_HEAD(&s->sessions, ss, link);
	s->nconns++;
	if (conn_server_init(&ss->conn, s->ev, &s->udp, hd, retry_odcid,
	                     (const struct sockaddr *)&rx->to, rx->tolen,
	                     (const struct sockaddr *)&rx->from, rx->fromlen, tls,
	                     s->id.reset_secret, s->id.cid_secret, &session_ops, ss,
	                     s->cfg->verbose) < 0) {
		hub_slog(LOG_LVL_WARN, ss, "cannot set up a connection from %s", ss->remote);
		if (!ss->conn.tls)
			gnutls_deinit(tls);
		session_gone(&ss->conn);
		return NULL;
	}
	if (cidmap_put(&s->cids, hd->dcid.data, hd->dcid.datalen, ss) < 0) {
		hub_slog(LOG_LVL_WARN, ss, "cannot route a connection from %s (out of memory?)",
		         ss->remote);
		session_gone(&ss->conn);
		return NULL;
	}
	ss->conn.qbudget = &s->qbudget;
	ss->conn.dgq_pause = HUB_HOLD_AT;
	/* Packets that fit the way from the first, so that a narrower way
	 * later (on_path_timer) is told from one that always was. */
	conn_fit_path(&ss->conn, false);
	ss->path_seen = conn_tx_room(&ss->conn);
	log_debug("session %llu: handshake from %s", (unsigned long long)ss->id, ss->remote);
	return ss;
}

static void session_read(struct server *s, struct session *ss, const struct udp_rx *rx,
                         uint64_t ts)
{
	if (ss->gone || hub_spoke_stash(s, ss, rx))
		return;
	conn_read(&ss->conn, (const struct sockaddr *)&rx->to, rx->tolen,
	          (const struct sockaddr *)&rx->from, rx->fromlen, rx->data, rx->len, ts);
	hub_mark_dirty(ss);
}

static void handle_packet(struct server *s, const struct udp_rx *rx, uint64_t ts)
{
	ngtcp2_version_cid vc;
	int rv = ngtcp2_pkt_decode_version_cid(&vc, rx->data, rx->len, CONN_CID_LEN);
	if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
		send_version_negotiation(s, &vc, rx);
		return;
	}
	if (rv != 0) {
		s->adm.bad_datagrams++;
		return;
	}
	/* QUIC v1 only, as our Version Negotiation says. ngtcp2 0.12 would
	 * also make connections of the IETF drafts and of QUIC v2's draft,
	 * whose packet types are numbered otherwise: the tests of an Initial
	 * below would not know its Initials (a split ClientHello of v2 would
	 * pass the handshake queue by). */
	if ((rx->data[0] & 0x80) && vc.version != NGTCP2_PROTO_VER_V1) {
		if (vc.version && rx->len >= NGTCP2_MAX_UDP_PAYLOAD_SIZE)
			send_version_negotiation(s, &vc, rx);
		else
			s->adm.bad_datagrams++; /* too short to answer, or a Version Negotiation */
		return;
	}
	struct session *ss = cidmap_get(&s->cids, vc.dcid, vc.dcidlen);
	if (ss && ss->handshaking && !ss->hello_answered && (rx->data[0] & 0xb0) == 0x80) {
		/* An Initial of a connection whose ClientHello is not made yet:
		 * the rest of one split over several (a large one, or an
		 * attacker's that holds its second half back), or a second
		 * one after a HelloRetryRequest, would have the hub do the
		 * handshake's work here, past the queue's budget. Later ones
		 * (the client's acknowledgement, coalesced with its Finished
		 * and its login) cost nothing to read and go on at once:
		 * behind a flood's new handshakes, or dropped with the queue
		 * full, they would cost the client its login deadline. RFC
		 * 9000 14.1: a client pads each datagram with an Initial to
		 * 1200 bytes, and a server drops a smaller one. */
		if (rx->len < NGTCP2_MAX_UDP_PAYLOAD_SIZE) {
			s->adm.bad_datagrams++;
			return;
		}
		if (ss->follows_queued >= FOLLOWS_MAX) {
			s->adm.initials_excess++;
			return;
		}
		struct initq_slot *sl = initq_push(&s->initq, rx);
		if (!sl) {
			s->adm.initials_dropped++; /* the client sends it again */
			return;
		}
		ss->follows_queued++;
		sl->follows = true;
		ngtcp2_cid_init(&sl->dcid, vc.dcid, vc.dcidlen);
		sd_event_source_set_enabled(s->initq_src, SD_EVENT_ON);
		return;
	}
	if (!ss) {
		if (!(rx->data[0] & 0x80)) {
			send_stateless_reset(s, &vc, rx);
			return;
		}
		ngtcp2_pkt_hd hd;
		rv = ngtcp2_accept(&hd, rx->data, rx->len);
		if (rv != 0) {
			/* ngtcp2 0.12 says RETRY for a 0-RTT packet ahead of its
			 * Initial (reordering): dropped, but not bad. Nor is a late
			 * Handshake packet of a connection that is gone (one closed
			 * before its login goes at once). */
			if (rv != NGTCP2_ERR_RETRY && (rx->data[0] & 0x30) == 0x00)
				s->adm.bad_datagrams++;
			return;
		}
		/* RFC 9000 7.2: a client's first DCID has at least 8 bytes, and
		 * after a Retry it is ours (CONN_CID_LEN). ngtcp2 checks only
		 * Initials without a token; a shorter one (0 bytes: not even
		 * routable) would make a connection per copy. */
		if (hd.dcid.datalen < NGTCP2_MIN_INITIAL_DCIDLEN) {
			s->adm.bad_datagrams++;
			return;
		}
		bool validated;
		ngtcp2_cid odcid;
		/* Admitted: its handshake is made from the queue (on_initq). */
		if (hub_admit_initial(s, &hd, rx, &validated, &odcid) &&
		    hub_admit_queue(s, rx, &hd.dcid, validated, &odcid))
			sd_event_source_set_enabled(s->initq_src, SD_EVENT_ON);
		return;
	}
	session_read(s, ss, rx, ts);
}

/* The handshake of a queued Initial; a copy of one already made (a client
 * repeats its Initial) goes to that connection. */
static void initq_handshake(struct server *s, const struct initq_slot *sl)
{
	struct session *ss;
	if (sl->follows) {
		/* Its connection's, if it is still there: admitted as a new one,
		 * it was not. */
		if ((ss = cidmap_get(&s->cids, sl->dcid.data, sl->dcid.datalen))) {
			if (ss->follows_queued)
				ss->follows_queued--;
			session_read(s, ss, &sl->rx, conn_now());
		}
		return;
	}
	ngtcp2_pkt_hd hd;
	if (ngtcp2_accept(&hd, sl->rx.data, sl->rx.len) != 0) /* it was accepted when queued */
		return;
	ss = cidmap_get(&s->cids, hd.dcid.data, hd.dcid.datalen);
	if (!ss) {
		if (s->stopping || !(ss = session_new(s, &hd, sl->validated ? &sl->odcid : NULL, &sl->rx)))
			return;
		hub_admit_start(s, ss, sl->validated);
	}
	session_read(s, ss, &sl->rx, conn_now());
}

/* Handshakes (public-key crypto, a connection's allocations) cost far more
 * than a packet of an established session: a flood of them must not hold
 * up anyone's tunnel. They are made here for at most INITQ_BUDGET at a
 * time (one at least): after each read of the socket (on_udp), and when
 * nothing else is waiting (on_initq, below every other source). */
#define INITQ_BUDGET (1 * NGTCP2_MILLISECONDS)

static void initq_work(struct server *s)
{
	uint64_t start = conn_now();
	struct initq_slot *sl;
	for (;;) {
		/* The first lane first, but one in four from the queue: a flood
		 * from many addresses (IPv6 /64s) that keeps the lane full must
		 * not keep an office's NAT address waiting for ever. */
		struct initq *q = s->initq_first.n && (s->initq.n == 0 || ++s->initq_turn % 4)
		                      ? &s->initq_first : &s->initq;
		if (!(sl = initq_head(q)))
			break;
		hub_admit_dequeued(s, sl);
		initq_handshake(s, sl);
		initq_pop(q);
		if (conn_now() - start >= INITQ_BUDGET)
			break;
	}
	if (!hub_queued(s))
		sd_event_source_set_enabled(s->initq_src, SD_EVENT_OFF);
}

static int on_initq(sd_event_source *src, void *userdata)
{
	struct server *s = userdata;
	initq_work(s);
	hub_settle(s);
	return 0;
}

static int on_udp(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct server *s = userdata;
	/* A bounded number of batches per wake-up keeps the TUN side served too. */
	for (int round = 0; round < 8; round++) {
		int n = udp_recv(&s->udp);
		if (n < 0)
			log_warn("udp receive: %s", strerror(errno));
		/* After the receive: every packet of the batch is older, and so
		 * is any packet of ours that one of them acknowledges. */
		uint64_t ts = conn_now();
		for (int i = 0; i < n; i++)
			handle_packet(s, &s->udp.rx[i], ts);
		if (!s->udp.rx_more)
			break;
	}
	/* Some handshakes too: on_initq alone would wait for ever while
	 * packets keep coming. */
	if (hub_queued(s))
		initq_work(s);
	hub_settle(s);
	return 0;
}

/* ---- log budgets' summaries ---- */

/* A flood that stops is summed up when its minute is over ("N more ...
 * were not logged"), not only when the next one of its kind comes. */
static int on_log_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)usec;
	(void)userdata;
	log_budget_flush(timer_now_usec());
	uint64_t due = log_budget_due();
	if (due && sd_event_source_set_time(src, due) >= 0)
		sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	return 0;
}

static void log_due(void *ctx, uint64_t due)
{
	struct server *s = ctx;
	int on = SD_EVENT_OFF;
	uint64_t at;
	if (sd_event_source_get_enabled(s->log_timer, &on) >= 0 && on != SD_EVENT_OFF &&
	    sd_event_source_get_time(s->log_timer, &at) >= 0 && at <= due)
		return;
	if (sd_event_source_set_time(s->log_timer, due) >= 0)
		sd_event_source_set_enabled(s->log_timer, SD_EVENT_ONESHOT);
}

/* ---- signals ---- */

static void log_stats(struct server *s)
{
	for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link)) {
		if (!ss->logged_in)
			continue;
		const struct conn_stats *st = &ss->conn.stats;
		char vip[INET_ADDRSTRLEN];
		ngtcp2_conn_stat cs;
		ngtcp2_conn_get_conn_stat(ss->conn.qc, &cs);
		log_info("stats: session %llu vip=%s cwnd=%llu inflight=%llu pto_count=%zu queued=%u "
		         "rx_pkts=%llu rx_bytes=%llu tx_pkts=%llu tx_bytes=%llu drop_spoofed=%llu "
		         "drop_not_ipv4=%llu drop_too_big=%llu drop_no_route=%llu drop_queue=%llu",
		         (unsigned long long)ss->id, ip4str(ss->vip, vip), (unsigned long long)cs.cwnd,
		         (unsigned long long)cs.bytes_in_flight, cs.pto_count, ss->conn.dgq_count,
		         (unsigned long long)st->rx_pkts, (unsigned long long)st->rx_bytes,
		         (unsigned long long)st->tx_pkts, (unsigned long long)st->tx_bytes,
		         (unsigned long long)st->drop[DROP_SPOOFED], (unsigned long long)st->drop[DROP_NOT_IPV4],
		         (unsigned long long)st->drop[DROP_TOO_BIG], (unsigned long long)st->drop[DROP_NO_ROUTE],
		         (unsigned long long)st->drop[DROP_QUEUE]);
	}
	log_info("stats: hub sessions=%u tun_drop_not_ipv4=%llu tun_drop_no_route=%llu udp_tx_dropped=%llu",
	         s->nconns, (unsigned long long)s->tun_drop[DROP_NOT_IPV4],
	         (unsigned long long)s->tun_drop[DROP_NO_ROUTE], (unsigned long long)s->udp.tx_dropped);
}


static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	struct server *s = userdata;
	if (si->ssi_signo == SIGUSR1) {
		log_stats(s);
		return 0;
	}
	if (si->ssi_signo == SIGHUP) {
		sd_notify(0, "RELOADING=1");
		hub_reload(s);
		sd_notify(0, "READY=1");
		hub_notify_status(s);
		hub_settle(s); /* what the reload said to clients, or closed, leaves now */
		return 0;
	}
	log_info("signal %d: closing %u connections and exiting", (int)si->ssi_signo, s->nconns);
	hub_exit(s, 0);
	return 0;
}

void hub_exit(struct server *s, int code)
{
	sd_notify(0, "STOPPING=1");
	s->stopping = true;
	/* Told, the clients come back as soon as a hub answers again. */
	for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link)) {
		conn_close(&ss->conn, SLOPN_ERR_CLIENT_EXIT, "hub shutting down");
		/* A close asked earlier (a kick) that still waits for its control
		 * data goes now: there is no later. */
		ss->conn.close_asked = 0;
		conn_write(&ss->conn);
	}
	udp_flush(&s->udp);
	sd_event_exit(s->ev, code);
}

/* ---- start-up ---- */

/* Sockets handed over by systemd: by name ("control", "quic"), and when
 * they come unnamed, by type (UNIX stream: control; UDP: QUIC). */
static void take_systemd_sockets(int *ctl_fd, int *udp_fd)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names);
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const char *name = names && names[i] ? names[i] : "";
		if (!strcmp(name, "control") ||
		    (strcmp(name, "quic") && sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0))
			*ctl_fd = fd;
		else if (!strcmp(name, "quic") || sd_is_socket(fd, AF_UNSPEC, SOCK_DGRAM, -1) > 0)
			*udp_fd = fd;
		else
			log_warn("ignoring socket %d ('%s') from systemd: neither control nor QUIC", fd, name);
	}
	if (names) {
		for (int i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
}

/* Whether the address is one of this machine's: a bind to it, on a port
 * the kernel picks, works. */
static bool addr_here(const struct addrinfo *ai)
{
	struct sockaddr_storage a = {0};
	memcpy(&a, ai->ai_addr, ai->ai_addrlen);
	/* The port sits in the same place in both families' sockaddr. */
	((struct sockaddr_in *)(void *)&a)->sin_port = 0;
	int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	bool here = fd >= 0 && bind(fd, (const struct sockaddr *)&a, ai->ai_addrlen) == 0;
	if (fd >= 0)
		close(fd);
	return here;
}

static bool same_answer(const struct addrinfo *a, const struct addrinfo *b)
{
	return a->ai_addrlen == b->ai_addrlen && !memcmp(a->ai_addr, b->ai_addr, a->ai_addrlen);
}

/* The addresses of the answers other than pick, each once, as "A, B" ("" when none). */
static void other_answers(const struct addrinfo *ai, const struct addrinfo *pick, char *buf,
                          size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (const struct addrinfo *p = ai; p; p = p->ai_next) {
		bool seen = same_answer(p, pick);
		for (const struct addrinfo *q = ai; q != p && !seen; q = q->ai_next)
			seen = same_answer(p, q);
		char h[INET6_ADDRSTRLEN];
		if (seen || n >= len)
			continue;
		sockaddr_host(p->ai_addr, h, sizeof(h));
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", h);
	}
}

static int open_listener(struct server *s, int fd)
{
	s->listen = s->cfg->listen;
	if (fd >= 0) {
		if (udp_adopt(&s->udp, fd) < 0) {
			log_err("cannot use the UDP socket passed by systemd: %s", strerror(errno));
			return -1;
		}
		sockaddr_str((const struct sockaddr *)&s->udp.local, s->listen_passed,
		             sizeof(s->listen_passed));
		s->listen = s->listen_passed;
		log_info("QUIC socket from systemd (fd %d), on %s", fd, s->listen);
		return 0;
	}
	char *host, *port;
	if (split_host_port(s->cfg->listen, &host, &port) < 0)
		return -1;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai = NULL;
	int rv = getaddrinfo(host, port, &hints, &ai);
	if (rv != 0) {
		log_err("--listen %s: %s (give one of this machine's addresses, or 0.0.0.0:%s for all)",
		        s->cfg->listen, gai_strerror(rv), port);
		free(host), free(port);
		return -1;
	}
	/* A name may give several addresses, and the socket listens on one:
	 * the first that is this machine's (another may be a NAT's public
	 * address, or a stale record), else the first. */
	const struct addrinfo *pick = ai;
	for (const struct addrinfo *p = ai; ai->ai_next && p; p = p->ai_next)
		if (addr_here(p)) {
			pick = p;
			break;
		}
	rv = udp_open(&s->udp, pick->ai_addr, pick->ai_addrlen, false);
	char others[256], bound[INET6_ADDRSTRLEN + 8];
	other_answers(ai, pick, others, sizeof(others));
	if (rv < 0) {
		int e = errno;
		unsigned p = ntohs(pick->ai_family == AF_INET6
		                   ? ((const struct sockaddr_in6 *)pick->ai_addr)->sin6_port
		                   : ((const struct sockaddr_in *)pick->ai_addr)->sin_port);
		char hint[400] = "";
		if (e == EADDRINUSE)
			snprintf(hint, sizeof(hint), " (another program holds UDP port %u, another slopnd? "
			         "'ss -ulpn sport = :%u' names it: stop it, or give --listen another port%s)",
			         p, p, pick->ai_family == AF_INET6 ? "; a socket on IPv6 takes IPv4 at "
			         "that port too, so one on 0.0.0.0 counts" : "");
		else if ((e == EACCES || e == EPERM) && p < 1024)
			snprintf(hint, sizeof(hint), " (ports below 1024 need root or "
			         "CAP_NET_BIND_SERVICE)");
		log_err("cannot listen on UDP %s: %s%s", s->cfg->listen, strerror(e), hint);
	} else if (s->udp.freebind)
		log_warn("--listen %s: no such address on this machine yet; listening for when it "
		         "comes (a mistyped one never will)", s->cfg->listen);
	if (rv == 0 && others[0]) {
		sockaddr_str((const struct sockaddr *)&s->udp.local, bound, sizeof(bound));
		log_warn("--listen %s: listening on %s only, not on %s, which the name gives too "
		         "(the socket listens on one address): give --listen the one meant, or "
		         "[::]:%s for all of this machine's, IPv4 too", s->cfg->listen, bound, others,
		         port);
	}
	freeaddrinfo(ai);
	free(host), free(port);
	return rv;
}

/* The /64 of --subnet6, or by default a unique-local one (RFC 4193) whose
 * global id comes from the hub's key: the same across restarts, another
 * on another hub. NULL when IPv6 is off, or cannot be on. */
static const uint8_t *subnet6(const struct server *s, uint8_t out[8])
{
	if (s->cfg->subnet6_mode == SUBNET6_NONE)
		return NULL;
	/* The TUN will take its IPv6 setting from "default". */
	const char *why = s->cfg->mtu < IPV6_MIN_MTU ? "an MTU below 1280 cannot carry IPv6"
	                : nl_ipv6_disabled("default") ? "IPv6 is disabled for new interfaces "
	                                                "here (net.ipv6.conf.default.disable_ipv6)"
	                : NULL;
	if (why) {
		log_warn("IPv6 inside the tunnel is off: %s (--subnet6 none says so without this "
		         "warning)", why);
		return NULL;
	}
	if (s->cfg->subnet6_mode == SUBNET6_GIVEN)
		return memcpy(out, s->cfg->subnet6, 8);
	uint8_t h[32];
	char seed[16 + PIN_STRLEN];
	snprintf(seed, sizeof(seed), "slopn ula %s", s->id.pin);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, seed, strlen(seed), h);
	out[0] = 0xfd;
	memcpy(out + 1, h, 5);
	out[6] = out[7] = 0; /* subnet id 0 */
	return out;
}

/* ::1 of the /64 on the TUN, its address in *hub: 0, or -1 with errno
 * (EEXIST: it is there already). */
static int add_addr6(struct server *s, struct in6_addr *hub)
{
	alloc_vip6(&s->addrs, pool_hub_addr(&s->addrs.pool), hub);
	return nl_addr6_add(s->ifindex, hub->s6_addr, 64, true);
}

/* At start: the address, or IPv6 off with the reason. */
static void setup_tun6(struct server *s)
{
	struct in6_addr hub;
	char h[INET6_ADDRSTRLEN];
	if (add_addr6(s, &hub) < 0) {
		log_warn("IPv6 inside the tunnel is off: cannot set %s/64 on %s: %s",
		         ip6str(&hub, h), s->tunname, strerror(errno));
		s->addrs.has6 = false;
	}
}

/* Someone set the TUN down: the kernel took the routes through it and its
 * IPv6 address (the IPv4 one stays, and its route comes back with the up).
 * That down is theirs to undo; once the TUN is up again, the address is
 * put back. Clients still reach each other meanwhile (spoke to spoke). */
static void tun_link(struct server *s, bool up)
{
	if (!up) {
		if (!s->tun_down)
			log_warn("%s was set down: nothing reaches the hub or goes beyond it through the "
			         "tunnel until it is up again", s->tunname);
		s->tun_down = true;
		return;
	}
	if (!s->tun_down)
		return;
	s->tun_down = false;
	struct in6_addr hub;
	char h[INET6_ADDRSTRLEN];
	if (!s->addrs.has6)
		log_info("%s is up again", s->tunname);
	else if (add_addr6(s, &hub) < 0 && errno != EEXIST)
		log_warn("%s is up again, but %s/64 cannot be set on it: %s", s->tunname,
		         ip6str(&hub, h), strerror(errno));
	else
		log_info("%s is up again, with %s/64", s->tunname, ip6str(&hub, h));
}

/* The TUN's link; other links (their MTU); with --nat, addresses and routes
 * too: a default route that moved, or a network the hub gained, changes
 * the rules. A little later: one change often comes as several events. */
static int on_netlink(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct server *s = userdata;
	int up = -1;
	bool touched = false;
	if (nl_monitor_drain(fd, s->ifindex, &up, &touched, NULL) > 0) {
		if (s->nat_on)
			timer_once(s->nat_timer, 300000);
		timer_once(s->path_timer, PATH_CHECK_DELAY);
	}
	if (up >= 0)
		tun_link(s, up);
	if (touched)
		timer_once(s->tun_check, 100000);
	return 0;
}

/* A route of another interface in the VPN subnet at its prefix or longer
 * (that interface's address in it, the underlay's own network given as
 * --subnet) takes packets to clients there out that way: nothing would
 * say why they get none. Said at the start; the hub runs on. */
static void subnet_shadowed(const struct server *s)
{
	uint8_t net[16] = {0};
	unsigned prefix;
	for (int family = AF_INET; family; family = family == AF_INET && s->addrs.has6 ? AF_INET6 : 0) {
		if (family == AF_INET) {
			uint32_t n = htonl(s->addrs.pool.network);
			memcpy(net, &n, 4);
			prefix = s->addrs.pool.prefix;
		} else {
			memcpy(net, s->addrs.prefix6, 8);
			memset(net + 8, 0, 8);
			prefix = 64;
		}
		struct nl_route r;
		if (nl_route_shadowing(family, net, prefix, s->ifindex, &r) <= 0)
			continue;
		char sub[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], dev[IF_NAMESIZE] = "";
		inet_ntop(family, net, sub, sizeof(sub));
		inet_ntop(family, r.dst, dst, sizeof(dst));
		if (!r.ifindex || !if_indextoname((unsigned)r.ifindex, dev))
			snprintf(dev, sizeof(dev), "%s", r.ifindex ? "?" : "several");
		log_warn("this machine routes %s/%u, in the VPN subnet %s/%u, out of %s, not into %s: "
		         "packets to clients there would leave that way (an address of %s in that "
		         "subnet?). Give the hub another --subnet%s, or take that address or route away",
		         dst, r.prefix, sub, prefix, dev, s->tunname, dev, family == AF_INET6 ? "6" : "");
	}
}

/* What could not be put back on the TUN: true when its cause (errno) is
 * new, to be logged; the same cause again is not (the check runs on every
 * change of the TUN, and each second while something is missing). */
static bool tun_cause_new(int *was, int e)
{
	bool fresh = *was != e;
	*was = e;
	return fresh;
}

/* The hub's IPv6 address could not be put back on the TUN: why, and what to do. */
static void tun_addr6_failed(struct server *s, const struct in6_addr *h6, int e)
{
	char h[INET6_ADDRSTRLEN];
	if (!tun_cause_new(&s->tun_addr6_err, e))
		return;
	ip6str(h6, h);
	if ((e == EACCES || e == EPERM) && nl_ipv6_disabled(s->tunname))
		log_err("%s lost its address %s/64: IPv6 is disabled on it (net.ipv6.conf.%s."
		        "disable_ipv6 = 1, which net.ipv6.conf.all.disable_ipv6 = 1 sets too), so "
		        "clients' IPv6 does not reach the hub or go beyond it; 'sysctl -w "
		        "net.ipv6.conf.%s.disable_ipv6=0' enables it, and the hub puts the address "
		        "back then (--subnet6 none, at a restart, runs without IPv6)", s->tunname, h,
		        s->tunname, s->tunname);
	else if (e == EACCES || e == EPERM)
		log_err("%s lost its address %s/64, and it cannot be put back: %s (is IPv6 disabled "
		        "on it? 'sysctl net.ipv6.conf.%s.disable_ipv6' tells: set it to 0, and the hub "
		        "puts the address back)", s->tunname, h, strerror(e), s->tunname);
	else
		log_err("%s lost its address %s/64, and it cannot be put back: %s; the hub tries "
		        "again each second", s->tunname, h, strerror(e));
}

/* A line of changes to the TUN undone may be logged: the budget is taken
 * for a line only, as the check also runs each second while something
 * cannot be put back (a minute of that read as 50 changes not logged). */
static bool tun_say(struct server *s, const char **more)
{
	bool last;
	if (!log_budget_take(&s->tun_check_log, 10, LOG_LVL_WARN, "changes to the TUN undone", &last))
		return false;
	*more = log_budget_more(last);
	return true;
}

/* Someone changed the hub's TUN under it: its MTU (what the hub's clients
 * carry is --mtu: bigger packets would be lost without a word, and below
 * 1280 the kernel takes the TUN's IPv6 away), or its addresses (ip addr
 * flush): nothing would reach the hub or pass it. What the hub set is put
 * back, with a warning. A TUN set down is tun_link's. What cannot be put
 * back is logged once per cause, and tried again each second: IPv6 enabled
 * again on the TUN comes with no event to wake us. */
static int on_tun_check(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct server *s = userdata;
	struct nl_link l;
	if (s->tun_down || nl_link_get(s->ifindex, &l) < 0 || !(l.flags & IFF_UP))
		return 0;
	bool failed = false;
	const char *more = "";
	if (l.mtu == s->cfg->mtu)
		s->tun_mtu_err = 0;
	else if (nl_set_mtu(s->ifindex, s->cfg->mtu) < 0) {
		failed = true;
		if (tun_cause_new(&s->tun_mtu_err, errno))
			log_err("%s's MTU was set to %u from outside, and cannot be set back to %u: %s",
			        s->tunname, l.mtu, s->cfg->mtu, strerror(errno));
	} else {
		if (s->tun_mtu_err || tun_say(s, &more))
			log_warn("%s's MTU was set to %u from outside: set back to %u, the MTU the hub's "
			         "clients carry (--mtu, at a restart, changes it)%s", s->tunname, l.mtu,
			         s->cfg->mtu, more);
		s->tun_mtu_err = 0;
	}
	char a[INET_ADDRSTRLEN];
	uint32_t hub = htonl(pool_hub_addr(&s->addrs.pool));
	if (nl_has_addr4(s->ifindex, hub))
		s->tun_addr_err = 0;
	else if (nl_addr_add(s->ifindex, hub, s->addrs.pool.prefix) < 0) {
		failed = true;
		if (tun_cause_new(&s->tun_addr_err, errno))
			log_err("%s lost its address %s/%u, and it cannot be put back: %s", s->tunname,
			        ip4str(pool_hub_addr(&s->addrs.pool), a), s->addrs.pool.prefix,
			        strerror(errno));
	} else {
		if (s->tun_addr_err || tun_say(s, &more))
			log_warn("%s lost its address %s/%u (removed from outside): put back%s", s->tunname,
			         ip4str(pool_hub_addr(&s->addrs.pool), a), s->addrs.pool.prefix, more);
		s->tun_addr_err = 0;
	}
	struct in6_addr h6;
	char h[INET6_ADDRSTRLEN];
	if (s->addrs.has6) {
		alloc_vip6(&s->addrs, pool_hub_addr(&s->addrs.pool), &h6);
		if (nl_has_addr6(s->ifindex, h6.s6_addr))
			s->tun_addr6_err = 0;
		else {
			/* A TUN's IPv6 made again (an MTU back over 1280, maybe just
			 * above: the link is asked again) has its link-local address
			 * mode back at its default. Set only when it is not none: a
			 * set, even to the same mode, is a change of the link, which
			 * brings this check back. */
			struct nl_link l6;
			if (nl_link_get(s->ifindex, &l6) == 0 && l6.addr_gen >= 0 &&
			    l6.addr_gen != IN6_ADDR_GEN_MODE_NONE)
				nl_set_addr_gen_none(s->ifindex);
			if (add_addr6(s, &h6) < 0 && errno != EEXIST) {
				failed = true;
				tun_addr6_failed(s, &h6, errno);
			} else if (s->tun_addr6_err) {
				log_info("%s: %s/64 put back, IPv6 on it works again", s->tunname,
				         ip6str(&h6, h));
				s->tun_addr6_err = 0;
			} else if (tun_say(s, &more))
				log_warn("%s lost its address %s/64 (removed from outside, or with an MTU "
				         "under 1280): put back%s", s->tunname, ip6str(&h6, h), more);
		}
	}
	if (failed)
		timer_once(s->tun_check, 1000000);
	return 0;
}

/* A link of ours changed, and with it maybe the way to clients: their
 * packets are fitted to it. A client that has sent bigger packets than the
 * way now takes in would lose every one (a NIC drops what is over its
 * MTU, and ngtcp2 0.12 cannot shrink a live connection's packets): it is
 * told the size ("path", which the original clients ignore) and the
 * connection is closed, so that it connects again at once with packets that
 * fit. Only on a change: a way that was always narrow, and the connections
 * that came after, are left alone. A way that widened gets the clients
 * whose connections are too small for the TUN's MTU back at full size. One
 * line for all: a link serves many. */
static int on_path_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct server *s = userdata;
	unsigned narrower = 0, wider = 0, asked = 0, asked_wider = 0;
	size_t least = SIZE_MAX;
	for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link)) {
		if (ss->gone || ss->conn.state != CONN_OPEN)
			continue;
		conn_fit_path(&ss->conn, false);
		size_t room = conn_tx_room(&ss->conn), was = ss->path_seen;
		ss->path_seen = room;
		const char *why;
		if (room > was) {
			/* Its client connected while the way was narrower, and the
			 * connection carries less than the TUN's MTU: connecting
			 * again, it gets packets of that size through. */
			wider++;
			if (conn_max_datagram(&ss->conn) >= s->cfg->mtu)
				continue;
			asked_wider++;
			why = "the hub's way from you is wider: connect again with bigger packets";
		} else if (room < was) {
			narrower++;
			least = room < least ? room : least;
			if (ss->conn.rx_max <= room)
				continue;
			asked++;
			char line[96];
			struct slopn_path p = {.max_udp_payload = (unsigned)room};
			ssize_t n = slopn_path_format(&p, line, sizeof(line));
			if (ss->logged_in && n > 0)
				conn_ctl_send(&ss->conn, line, (size_t)n);
			why = "the hub's way from you narrowed: connect again with smaller packets";
		} else
			continue;
		hub_slog(LOG_LVL_DEBUG, ss, "session %llu: the way from %s takes %zu bytes now, not %zu; "
		         "its client sent up to %zu, the connection carries %zu: asking it to connect again",
		         (unsigned long long)ss->id, ss->remote, room, was, ss->conn.rx_max,
		         conn_max_datagram(&ss->conn));
		conn_close(&ss->conn, SLOPN_ERR_CLIENT_EXIT, why);
		hub_mark_dirty(ss);
	}
	if (narrower)
		log_warn("a link changed: the way to %u client%s takes UDP packets of %zu bytes of "
		         "payload or less now; %u of them sent bigger ones and %s asked to connect again "
		         "with packets that fit", narrower, narrower == 1 ? "" : "s", least, asked,
		         asked == 1 ? "is" : "are");
	if (wider)
		log_info("a link changed: the way to %u client%s takes bigger UDP packets again; %u of "
		         "them carried less than the MTU and %s asked to connect again", wider,
		         wider == 1 ? "" : "s", asked_wider, asked_wider == 1 ? "is" : "are");
	hub_settle(s);
	return 0;
}

static int on_nat_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	hub_nat_follow(userdata, NAT_IF_CHANGED);
	hub_settle(userdata); /* the clients told of IPv6 egress are told now */
	return 0;
}

/* The TUN's link; with --nat, the machine's addresses and routes too. */
static int add_link_monitor(struct server *s)
{
	if (s->nat_on && timer_new(s->ev, &s->nat_timer, 100000, on_nat_timer, s) < 0)
		return -1;
	if (timer_new(s->ev, &s->path_timer, 100000, on_path_timer, s) < 0 ||
	    timer_new(s->ev, &s->tun_check, 100000, on_tun_check, s) < 0)
		return -1;
	int fd = s->nat_on ? nl_monitor_open() : nl_link_monitor_open();
	if (fd < 0 || sd_event_add_io(s->ev, &s->nl_src, fd, EPOLLIN, on_netlink, s) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	sd_event_source_set_io_fd_own(s->nl_src, 1);
	return 0;
}

static int setup_tun(struct server *s)
{
	s->tun_tried = true;
	if (tun_open(&s->tun, s->cfg->tun, s->cfg->offloads, s->cfg->tun_ring) < 0) {
		char msg[512];
		tun_open_message(&s->tun, s->cfg->tun, errno, msg, sizeof(msg));
		log_err("%s", msg);
		return -1;
	}
	dataplane_tun_test_knobs(&s->tun);
	memcpy(s->tunname, s->tun.name, IFNAMSIZ);
	s->ifindex = s->tun.ifindex;
	log_info("%s: %s; %s", s->tunname, s->tun.mode, s->tun.reads);
	if (s->tun.persistent) {
		char msg[512];
		tun_persistent_message(&s->tun, msg, sizeof(msg));
		log_warn("%s", msg);
	}
	uint32_t hub = htonl(pool_hub_addr(&s->addrs.pool));
	/* No link-local address: the kernel then sends no router solicitations
	 * or multicast listener reports into the TUN (a failure only costs
	 * those). With --subnet6 none too: IPv6 is on for the device all the
	 * same, and they would be read and counted as drops. */
	if (!nl_ipv6_disabled(s->tunname))
		nl_set_addr_gen_none(s->ifindex);
	if (nl_addr_add(s->ifindex, hub, s->addrs.pool.prefix) < 0 ||
	    nl_set_mtu(s->ifindex, s->cfg->mtu) < 0) {
		log_err("cannot configure %s: %s", s->tunname, strerror(errno));
		return -1;
	}
	if (s->addrs.has6)
		setup_tun6(s);
	if (nl_set_up(s->ifindex, 1) < 0) {
		log_err("cannot bring up %s: %s", s->tunname, strerror(errno));
		return -1;
	}
	return 0;
}

/* One hub per state directory: two would write each other's leases,
 * totals and peers over, and the second's start would reset the first's
 * clients. The lock goes with the process; the pid in the file only names
 * the holder. Clients keep files of their own there and take no lock. */
static int lock_state_dir(const char *dir)
{
	char path[4200];
	int made = state_dir_make(dir, false);
	if (made < 0)
		return made;
	snprintf(path, sizeof(path), "%s/hub.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;
		log_err("cannot open %s: %s%s", path, strerror(e), statefile_denied_hint(e, true));
		return -1;
	}
	/* A slopnd pin holds it while it makes the key (milliseconds): waited
	 * for a little; a hub holds it for its life. */
	if (statefile_lock_wait(fd, 2000, 20, NULL, NULL) == 1) {
		char pid[24];
		int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
			log_debug("%s: cannot write our pid: %s", path, strerror(errno));
		return fd;
	}
	int e = errno;
	char other[24] = "";
	ssize_t n = pread(fd, other, sizeof(other) - 1, 0);
	other[n > 0 ? strspn(other, "0123456789") : 0] = '\0';
	close(fd);
	if (e != EWOULDBLOCK) {
		log_err("cannot lock %s: %s", path, strerror(e));
		return -1;
	}
	log_err("the state directory %s is in use by another hub%s%s%s: give each hub a --state-dir "
	        "of its own", dir, *other ? " (pid " : "", other, *other ? ")" : "");
	return -1;
}

/* tokens.json, leases.json and peers.json: what the hub keeps across runs.
 * A store it cannot trust stops the start, and says how to repair it. */
static int load_stores(struct server *s)
{
	const struct config *cfg = s->cfg;
	char path[4096], err[256];
	snprintf(path, sizeof(path), "%s/tokens.json", cfg->state_dir);
	int tr = tokens_load(&s->tokens, path, err, sizeof(err)), terr = errno;
	if (tr == -2 && strstr(err, JSONFILE_NEWER)) {
		/* Not damaged: a rollback. This slopnd would drop what it cannot
		 * read if it wrote the file. */
		log_err("token store %s was written by a newer slopnd: %s. Start that slopnd again, "
		        "or put back a backup from before it (see UPGRADES AND ROLLBACKS in slopnd(8))",
		        path, err);
		return -1;
	}
	if (tr == -2) {
		/* Moving it away is no repair: the clients' tokens go with it. */
		log_err("token store %s is damaged: %s (repair it, or restore a backup; moved away, the "
		        "hub starts with no tokens and refuses every client with a token of its own "
		        "for good (exit 3) until each is given a new token)", path, err);
		return -1;
	}
	if (tr < 0) {
		log_err("token store %s: %s%s", path, err, terr == EACCES || terr == EPERM
		        ? " (make it readable by the hub, then start it again)" : "");
		return -1;
	}
	hub_fixed_changed(s);
	if (asprintf(&s->leases_path, "%s/leases.json", cfg->state_dir) < 0) {
		s->leases_path = NULL;
		log_err("out of memory");
		return -1;
	}
	hub_leases_load(s);
	if (asprintf(&s->peers_path, "%s/peers.json", cfg->state_dir) < 0) {
		s->peers_path = NULL;
		log_err("out of memory");
		return -1;
	}
	log_info("%zu token%s in %s%s", s->tokens.n, s->tokens.n == 1 ? "" : "s", path,
	         cfg->token ? ", and the shared --token" : "");
	if (!cfg->token && !s->tokens.n)
		log_warn("no --token and no stored tokens: every login is refused until "
		         "'slopnctl token add NAME'");
	return 0;
}

/* The event loop and all it watches: signals, the sockets, the TUN, the
 * routing and firewall watches, the timers. */
static int setup_loop(struct server *s)
{
	/* A loop of our own, not the default one, whose thread sd-event
	 * checks with a gettid() call at every turn. */
	if (sd_event_new(&s->ev) < 0 ||
	    sd_event_add_signal(s->ev, NULL, SIGHUP, on_signal, s) < 0 ||
	    sd_event_add_io(s->ev, NULL, s->udp.fd, EPOLLIN, on_udp, s) < 0 ||
	    sd_event_add_io(s->ev, &s->tun_src, tun_poll_fd(&s->tun), EPOLLIN, hub_on_tun, s) < 0 ||
	    add_link_monitor(s) < 0 || hub_nat_watch(s) < 0 ||
	    sd_event_add_signal(s->ev, NULL, SIGINT, on_signal, s) < 0 ||
	    sd_event_add_signal(s->ev, NULL, SIGTERM, on_signal, s) < 0 ||
	    sd_event_add_signal(s->ev, NULL, SIGUSR1, on_signal, s) < 0 ||
	    timer_new(s->ev, &s->trim_timer, 100000, on_trim, s) < 0 ||
	    timer_new(s->ev, &s->log_timer, 1000000, on_log_timer, s) < 0 ||
	    hub_admit_init(s) < 0 || sd_event_add_defer(s->ev, &s->initq_src, on_initq, s) < 0 ||
	    sd_event_source_set_priority(s->initq_src, SD_EVENT_PRIORITY_NORMAL + 1) < 0 ||
	    sd_event_source_set_enabled(s->initq_src, SD_EVENT_OFF) < 0) {
		log_err("cannot set up the event loop (its signals, timers and watches): out of memory "
		        "or of file descriptors? (ulimit -n)");
		return -1;
	}
	uint64_t minute = testenv_get("SLOPND_TEST_LOG_MINUTE", 1, 60);
	if (minute)
		log_budget_minute = minute * 1000000;
	log_budget_on_due(log_due, s);
	if (log_keyed_init(&s->login_log, 1024) < 0)
		log_warn("out of memory for the budgets of login lines: every login has its lines");
	if (hub_traffic_start(s) < 0 || hub_metrics_start(s) < 0)
		return -1;
	hub_expiry_arm(s);
	return 0;
}

/* The log's lines at a start: where the hub listens, its addresses. */
static void announce(struct server *s)
{
	const struct config *cfg = s->cfg;
	char net[INET_ADDRSTRLEN], hub[INET_ADDRSTRLEN];

	log_info("hub %s on %s, subnet %s/%u, mtu %u, spoke-to-spoke %s",
	         ip4str(pool_hub_addr(&s->addrs.pool), hub), s->tunname,
	         ip4str(s->addrs.pool.network, net), s->addrs.pool.prefix, cfg->mtu,
	         s->spoke_to_spoke ? "on" : "off");
	if (s->addrs.has6) {
		char h6[INET6_ADDRSTRLEN];
		struct in6_addr a;
		alloc_vip6(&s->addrs, pool_hub_addr(&s->addrs.pool), &a);
		log_info("hub %s/64: IPv6 inside the tunnel", ip6str(&a, h6));
	}
	subnet_shadowed(s);
	char bound[sizeof(s->listen_passed)];
	sockaddr_str((const struct sockaddr *)&s->udp.local, bound, sizeof(bound));
	/* A name, or an address written otherwise (0 for 0.0.0.0): the address too. */
	if (strcmp(bound, s->listen))
		log_info("listening on %s (%s)", s->listen, bound);
	else
		log_info("listening on %s", s->listen);
}

/* Everything undone, in the order that loses nothing: counters, leases
 * and tokens saved before the loop goes, NAT rules before the TUN. RC is the
 * run's exit code, made 1 by a save that failed. */
static int teardown(struct server *s, int rc)
{
	const struct config *cfg = s->cfg;
	hub_metrics_stop(s);
	/* A clean stop that loses state (a full disk) says so, and fails. */
	bool clean = rc == 0;
	/* A failed save is 1, but a 2 (not to be restarted) stays. */
	if (hub_traffic_stop(s) < 0 && rc == 0) /* with the live sessions' counters */
		rc = 1;
	while (!LIST_EMPTY(&s->sessions)) {
		struct session *ss = LIST_FIRST(&s->sessions);
		LIST_REMOVE(ss, link);
		session_free(ss);
	}
	hub_settle(s);
	if (s->leases_path && hub_leases_save(s, true) < 0 && rc == 0)
		rc = 1;
	if (hub_tokens_save_used(s, true) < 0 && rc == 0)
		rc = 1;
	hub_tokens_stop(s);
	if (s->leases_timer)
		sd_event_source_disable_unref(s->leases_timer);
	if (clean)
		hub_peers_stop(s); /* every client was told: nothing to reset next time */
	else if (s->peers_timer)
		sd_event_source_disable_unref(s->peers_timer);
	control_close(s->ctl);
	sd_event_source_disable_unref(s->tun_src);
	sd_event_source_disable_unref(s->nl_src);
	sd_event_source_disable_unref(s->nat_timer);
	sd_event_source_disable_unref(s->nat_check);
	hub_nat_look_free(s);
	hub_nat_job_wait(s);
	sd_event_source_disable_unref(s->nat_watch);
	sd_event_source_disable_unref(s->path_timer);
	sd_event_source_disable_unref(s->tun_check);
	sd_event_source_disable_unref(s->expiry_timer);
	sd_event_source_disable_unref(s->shed_timer);
	hub_spoke_stop(s);
	hub_admit_free(s);
	if (s->trim_timer)
		sd_event_source_disable_unref(s->trim_timer);
	s->trim_timer = NULL;
	/* What the budgets held back, said before the hub goes. */
	log_keyed_free(&s->login_log);
	log_budget_on_due(NULL, NULL);
	log_budget_flush(UINT64_MAX);
	if (s->log_timer)
		sd_event_source_disable_unref(s->log_timer);
	s->log_timer = NULL;
	if (s->ev)
		sd_event_unref(s->ev);
	if (s->nat_on) {
		char kept[128] = "", why[512];
		if (nat_stop(s->tunname, s->nat_backend, s->nat_state, kept, sizeof(kept), why,
		             sizeof(why)) < 0)
			log_err("nat: cannot remove the hub's rules at exit: %s; IP forwarding and %s are "
			        "left as they are, for slopnd's next start (with or without --nat) to "
			        "clean up", why, s->nat_state);
		if (*kept)
			hub_nat_kept(kept);
	} else if (cfg->nat) {
		/* failed before its NAT: a crashed run's goes */
		hub_nat_clean_early(cfg, s->tun.fd >= 0, s->tun_tried);
	}
	free(s->nat_state);
	if (s->tun.persistent) {
		/* It outlives us: our addresses go, an administrator's stay. */
		uint32_t a4 = htonl(pool_hub_addr(&s->addrs.pool));
		struct in6_addr h6;
		nl_addr_del(AF_INET, s->ifindex, &a4, s->addrs.pool.prefix);
		if (s->addrs.has6) {
			alloc_vip6(&s->addrs, pool_hub_addr(&s->addrs.pool), &h6);
			nl_addr_del(AF_INET6, s->ifindex, h6.s6_addr, 64);
		}
	}
	tun_close(&s->tun);
	udp_close(&s->udp);
	cidmap_free(&s->cids);
	alloc_free(&s->addrs);
	tls_identity_free(&s->id);
	tokens_free(&s->tokens);
	free(s->leases_path);
	free(s->peers_path);
	free(s->reload_token);
	return rc;
}

int server_run(const struct config *cfg)
{
	struct server srv = {.cfg = cfg, .tun = {.fd = -1}, .udp = {.fd = -1}}, *s = &srv;
	int rc = 1;

	LIST_INIT(&s->sessions);
	TAILQ_INIT(&s->pending);
	hub_data_init(s);
	int lock_fd = lock_state_dir(cfg->state_dir);
	if (lock_fd < 0)
		return lock_fd == -2 ? 2 : 1; /* -2: not to be restarted until it is fixed */
	/* With --nat, what a crashed run left is replaced in one transaction
	 * (nat_start: the state file's forwarding values kept). Removed first,
	 * the kernel's connection tracking would be left a moment without a
	 * ruleset that uses it, and clients' connections through NAT broke
	 * (a reviewer: 12 of 21 downloads across a crash and a restart, their
	 * ACKs out with the VIP as source). A start that fails before its NAT
	 * is set up cleans up at its exit (out:). */
	if (!cfg->nat)
		hub_nat_clean_early(cfg, false, false);
	if (tls_identity_load(&s->id, cfg->state_dir, true) < 0) {
		if (cfg->nat)
			hub_nat_clean_early(cfg, false, false); /* as at out: below */
		close(lock_fd);
		return 1;
	}
	log_info("pin %s", s->id.pin);
	s->spoke_to_spoke = cfg->spoke_to_spoke;
	_Static_assert(MIN_QUEUE_MEMORY >= CONN_DGQ_BYTES && MIN_QUEUE_MEMORY < 2 * CONN_DGQ_BYTES,
	               "the least budget holds one queue");
	s->qbudget.limit = cfg->queue_memory;
	hub_set_token(s, cfg->token);
	s->reload_token = cfg->token ? strdup(cfg->token) : NULL;
	ban_init(&s->bans);
	uint8_t prefix6[8];
	if (alloc_init(&s->addrs, cfg->subnet, cfg->prefix, subnet6(s, prefix6)) < 0 ||
	    cidmap_init(&s->cids, 256) < 0) {
		log_err("out of memory");
		goto out;
	}
	if (load_stores(s) < 0)
		goto out;
	int ctl_fd = -1, udp_fd = -1;
	take_systemd_sockets(&ctl_fd, &udp_fd);
	/* The address first: a second hub on it stops here, before it touches
	 * a TUN device or NAT rules. */
	if (open_listener(s, udp_fd) < 0)
		goto out;
	/* So does a control socket's directory that is refused (another user
	 * owns it or may write it), rather than after the TUN and NAT are set
	 * up only to be undone. control_open checks it again. */
	bool ctl_unsafe = false;
	if (ctl_fd < 0 && cfg->control && control_dir_ready(cfg->control, &ctl_unsafe) < 0) {
		if (ctl_unsafe)
			rc = 2; /* as for the state directory: not to be restarted until it is fixed */
		goto out;
	}
	if (setup_tun(s) < 0 || hub_nat_setup(s) < 0)
		goto out;
	hub_peers_reset(s);

	if (setup_loop(s) < 0)
		goto out;
	s->started_mono = timer_now_usec();
	s->started = time(NULL);
	if (ctl_fd >= 0 ? !(s->ctl = control_adopt(s->ev, ctl_fd, "hub", hub_methods, s))
	                : cfg->control && !(s->ctl = control_open(s->ev, cfg->control, "hub", hub_methods,
	                                                          s, &ctl_unsafe))) {
		if (ctl_unsafe)
			rc = 2; /* as for the state directory: not to be restarted until it is fixed */
		goto out;
	}
	/* WATCHDOG=1 at half of WatchdogSec, when the unit sets one. */
	sd_event_set_watchdog(s->ev, 1);
	announce(s);
	sd_notify(0, "READY=1");
	hub_notify_status(s);
	rc = sd_event_loop(s->ev) == 0 ? 0 : 1;
	hub_settle(s);
out:
	rc = teardown(s, rc);
	close(lock_fd); /* last: every state file is written */
	return rc;
}
