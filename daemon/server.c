/* The hub: one UDP socket, one TUN device, many sessions. */
#include "daemon/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "daemon/hub.h"
#include "daemon/ban.h"
#include "daemon/cidmap.h"
#include "daemon/conn.h"
#include "daemon/control.h"
#include "daemon/log.h"
#include "daemon/pool.h"
#include "daemon/session.h"
#include "daemon/tls.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/jsonrpc.h"
#include "proto/login.h"
#include "tun/nat.h"
#include "tun/netlink.h"
#include "tun/tun.h"

#define TUN_BATCH 64
#define TUN_BUF 65536
#define MAX_CONNS 4096
#define RESETS_PER_SEC 100

const char *ip4str(uint32_t host, char buf[INET_ADDRSTRLEN])
{
	struct in_addr a = {htonl(host)};
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		snprintf(buf, len, "?");
	}
}

/* ---- session life cycle ---- */

/* A log line about one session: in the journal it carries the session's
 * id, VIP and remote address as fields, to filter on (journalctl SLOPN_VIP=...). */
__attribute__((format(printf, 3, 4)))
static void slog(enum log_level lvl, const struct session *ss, const char *fmt, ...)
{
	char id[48], vip[32 + INET_ADDRSTRLEN], remote[16 + sizeof(ss->remote)], a[INET_ADDRSTRLEN];
	snprintf(id, sizeof(id), "SLOPN_SESSION=%llu", (unsigned long long)ss->id);
	snprintf(vip, sizeof(vip), "SLOPN_VIP=%s", ss->vip ? ip4str(ss->vip, a) : "");
	snprintf(remote, sizeof(remote), "SLOPN_REMOTE=%s", ss->remote);
	const char *const fields[] = {id, remote, ss->vip ? vip : NULL, NULL};
	va_list ap;
	va_start(ap, fmt);
	log_vfields(lvl, fields, fmt, ap);
	va_end(ap);
}

static void mark_dirty(struct session *ss)
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
	for (const struct session *ss = s->sessions; ss; ss = ss->next)
		n += ss->logged_in;
	return n;
}

/* systemd's view (a no-op without NOTIFY_SOCKET). */
static void notify_status(const struct server *s)
{
	sd_notifyf(0, "STATUS=%u session%s, listening on %s", live_sessions(s),
	           live_sessions(s) == 1 ? "" : "s", s->cfg->listen);
}

/* End of every event: write what callbacks queued, free what ended. */
static void server_settle(struct server *s)
{
	while (s->dirty) {
		struct session *ss = s->dirty;
		s->dirty = ss->dirty_next;
		ss->dirty = false;
		if (!ss->gone)
			conn_write(&ss->conn);
	}
	udp_flush(&s->udp);
	while (s->grave) {
		struct session *ss = s->grave;
		s->grave = ss->grave_next;
		conn_free(&ss->conn);
		free(ss);
	}
}

static void session_cid_added(struct conn *c, const ngtcp2_cid *cid)
{
	struct session *ss = c->owner;
	if (cidmap_put(&ss->srv->cids, cid->data, cid->datalen, ss) < 0)
		log_warn("session %llu: cannot route a new connection ID (out of memory)",
		         (unsigned long long)ss->id);
}

static void session_cid_removed(struct conn *c, const ngtcp2_cid *cid)
{
	struct session *ss = c->owner;
	if (cidmap_get(&ss->srv->cids, cid->data, cid->datalen) == ss)
		cidmap_del(&ss->srv->cids, cid->data, cid->datalen);
}

/* A token's fixed VIP stays reserved in the pool while the token exists. */
static bool vip_reserved(struct server *s, uint32_t vip)
{
	for (size_t i = 0; i < s->tokens.n; i++)
		if (s->tokens.v[i].vip == vip && vip_assignable(s, vip))
			return true;
	return false;
}

static void release_vip(struct server *s, struct session *ss)
{
	uint32_t off = pool_offset(&s->pool, ss->vip);
	if (s->by_vip[off] == ss)
		s->by_vip[off] = NULL;
	if (!s->by_vip[off] && !vip_reserved(s, ss->vip))
		pool_release(&s->pool, ss->vip);
}

bool vip_assignable(const struct server *s, uint32_t vip)
{
	return pool_contains(&s->pool, vip) && vip != pool_hub_addr(&s->pool) &&
	       pool_offset(&s->pool, vip) != 0 && pool_offset(&s->pool, vip) != s->pool.size - 1;
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
	if (!ss->logged_in)
		return;
	char vip[INET_ADDRSTRLEN];
	const char *why = c->close_idle ? c->close_reason
	                : c->close_by_peer ? (c->close_app && c->close_code == SLOPN_ERR_CLIENT_EXIT
	                                      ? "client exit" : c->close_reason)
	                : c->close_reason;
	slog(LOG_LVL_INFO, ss, "session %llu down: vip %s remote %s (%s%s)",
	     (unsigned long long)ss->id, ip4str(ss->vip, vip), ss->remote,
	     c->close_by_peer ? "by peer: " : "", why && *why ? why : "closed");
	release_vip(s, ss);
	ss->logged_in = false;
	conn_stats_add(&s->gone_totals, &c->stats);
	notify_status(s);
	control_notify(s->ctl, "session.down",
	               json_pack("{s:I, s:s, s:s}", "id", (json_int_t)ss->id, "vip", vip,
	                         "reason", why && *why ? why : "closed"));
}

static void session_gone(struct conn *c)
{
	struct session *ss = c->owner;
	struct server *s = ss->srv;
	ngtcp2_cid cids[16];
	size_t n = c->qc ? ngtcp2_conn_get_num_scid(c->qc) : 0;
	if (n && n <= 16) {
		n = ngtcp2_conn_get_scid(c->qc, cids);
		for (size_t i = 0; i < n; i++)
			session_cid_removed(c, &cids[i]);
	}
	if (cidmap_get(&s->cids, ss->odcid.data, ss->odcid.datalen) == ss)
		cidmap_del(&s->cids, ss->odcid.data, ss->odcid.datalen);
	if (ss->prev)
		ss->prev->next = ss->next;
	else
		s->sessions = ss->next;
	if (ss->next)
		ss->next->prev = ss->prev;
	s->nconns--;
	ss->gone = true;
	ss->grave_next = s->grave;
	s->grave = ss;
}

/* ---- login ---- */

static void send_json_line(struct session *ss, const struct slopn_login_response *r)
{
	char buf[1024];
	ssize_t n = slopn_login_response_format(r, buf, sizeof(buf));
	if (n > 0)
		conn_ctl_send(&ss->conn, buf, (size_t)n);
}

static void refuse(struct session *ss, uint64_t code, const char *message, const char *reason)
{
	struct slopn_login_response r = {.ok = false};
	snprintf(r.message, sizeof(r.message), "%s", message);
	snprintf(r.server_version, sizeof(r.server_version), "%s", SLOPN_VERSION);
	send_json_line(ss, &r);
	conn_close(&ss->conn, code, reason);
}

/* Who a token is: the shared --token, or an entry of the store. Returns
 * false with why set when it is unknown or expired. */
static bool check_token(struct server *s, const char *token, struct session *ss,
                        struct token_entry **entry, const char **why)
{
	uint8_t h[32];
	token_hash(token, h);
	*entry = tokens_match(&s->tokens, token);
	/* Both checks always run: timing says nothing about which one matched. */
	bool shared = s->has_token && token_hash_equal(h, s->token_hash);
	if (shared) {
		snprintf(ss->token_name, sizeof(ss->token_name), "%s", SHARED_TOKEN_NAME);
		*entry = NULL;
		return true;
	}
	if (!*entry) {
		*why = "invalid token";
		return false;
	}
	if (token_expired(*entry, time(NULL))) {
		*why = "token expired";
		return false;
	}
	snprintf(ss->token_name, sizeof(ss->token_name), "%s", (*entry)->name);
	return true;
}

/* The VIP for a new session: the token's fixed one (taken over from an
 * older session of the same token, a client reconnecting before its old
 * session timed out), else one from the pool. 0 when the pool is empty. */
static uint32_t assign_vip(struct server *s, struct session *ss, const struct token_entry *e)
{
	if (e && e->vip && vip_assignable(s, e->vip)) {
		struct session *old = s->by_vip[pool_offset(&s->pool, e->vip)];
		if (!old)
			return e->vip; /* reserved for this token since it was added or loaded */
		if (!strcmp(old->token_name, e->name)) {
			log_info("session %llu: replaced by session %llu of the same token '%s'",
			         (unsigned long long)old->id, (unsigned long long)ss->id, e->name);
			hub_kick(s, old, "replaced by a new login with the same token");
			s->by_vip[pool_offset(&s->pool, e->vip)] = NULL;
			return e->vip;
		}
		char v[INET_ADDRSTRLEN];
		log_warn("token '%s': fixed VIP %s is held by session %llu of '%s'; using the pool",
		         e->name, ip4str(e->vip, v), (unsigned long long)old->id, old->token_name);
	}
	return pool_alloc(&s->pool);
}

/* last_used goes to disk at most once a minute per token: a client that
 * reconnects in a loop must not rewrite the file in a loop. */
static void token_used(struct server *s, struct token_entry *e)
{
	int64_t now = time(NULL), prev = e->last_used;
	e->last_used = now;
	char err[256];
	if (now - prev >= 60 && tokens_save(&s->tokens, err, sizeof(err)) < 0)
		log_warn("%s: last use of '%s' not saved: %s", s->tokens.path, e->name, err);
}

static void handle_login(struct session *ss, const char *line, size_t len)
{
	struct server *s = ss->srv;
	struct slopn_login_request req;
	char err[160];
	if (slopn_login_request_parse(line, len, &req, err, sizeof(err)) < 0) {
		slog(LOG_LVL_INFO, ss, "session %llu from %s: bad login (%s)", (unsigned long long)ss->id,
		     ss->remote, err);
		char msg[200];
		snprintf(msg, sizeof(msg), "Invalid login request: %s", err);
		refuse(ss, SLOPN_ERR_UNAUTHORIZED, msg, "unauthorized");
		return;
	}
	const struct sockaddr *peer = (const struct sockaddr *)&ss->remote_sa;
	uint64_t now = conn_now() / NGTCP2_SECONDS;
	uint64_t left = ban_remaining(&s->bans, peer, now);
	if (left) {
		char msg[160];
		snprintf(msg, sizeof(msg), "Too many failed logins from your address: banned for %llu more minutes",
		         (unsigned long long)(left + 59) / 60);
		slog(LOG_LVL_INFO, ss, "session %llu from %s refused: banned", (unsigned long long)ss->id,
		     ss->remote);
		refuse(ss, SLOPN_ERR_BANNED, msg, "banned");
		return;
	}
	struct token_entry *entry;
	const char *why = NULL;
	bool ok = check_token(s, req.token, ss, &entry, &why);
	gnutls_memset(req.token, 0, sizeof(req.token));
	if (!ok) {
		slog(LOG_LVL_INFO, ss, "auth failure from %s (session %llu): %s", ss->remote,
		     (unsigned long long)ss->id, why);
		if (ban_fail(&s->bans, peer, now)) {
			slog(LOG_LVL_WARN, ss, "ban: %s banned for %d minutes after %d failed logins",
			     ss->remote, BAN_DURATION / 60, BAN_MAX_FAILS);
			control_notify(s->ctl, "ban", json_pack("{s:s, s:i}", "remote", ss->remote,
			                                        "minutes", BAN_DURATION / 60));
		}
		control_notify(s->ctl, "auth.fail", json_pack("{s:s, s:s}", "remote", ss->remote,
		                                              "reason", why));
		refuse(ss, SLOPN_ERR_UNAUTHORIZED, entry ? "Authentication token expired"
		                                         : "Invalid authentication token", "unauthorized");
		return;
	}
	ban_success(&s->bans, peer);
	uint32_t vip = assign_vip(s, ss, entry);
	if (!vip) {
		char net[INET_ADDRSTRLEN], msg[160];
		snprintf(msg, sizeof(msg), "Address pool exhausted: %s/%u holds %u clients",
		         ip4str(s->pool.network, net), s->pool.prefix, pool_capacity(&s->pool));
		slog(LOG_LVL_WARN, ss, "session %llu from %s refused: %s", (unsigned long long)ss->id,
		     ss->remote, msg);
		refuse(ss, SLOPN_ERR_POOL_EXHAUSTED, msg, "address pool exhausted");
		return;
	}
	if (entry)
		token_used(s, entry);
	ss->vip = vip;
	ss->logged_in = true;
	s->by_vip[pool_offset(&s->pool, vip)] = ss;
	snprintf(ss->client_version, sizeof(ss->client_version), "%s", req.client_version);
	snprintf(ss->os, sizeof(ss->os), "%s", req.os);

	struct slopn_login_response r = {.ok = true, .prefix_len = s->pool.prefix};
	r.assigned_vip.s_addr = htonl(vip);
	r.server_vip.s_addr = htonl(pool_hub_addr(&s->pool));
	snprintf(r.server_version, sizeof(r.server_version), "%s", SLOPN_VERSION);
	r.dns.s_addr = s->cfg->dns;
	send_json_line(ss, &r);
	char vs[INET_ADDRSTRLEN];
	slog(LOG_LVL_INFO, ss, "session %llu up: token %s vip %s remote %s client %s os %s "
	     "(max packet %zu)", (unsigned long long)ss->id, ss->token_name, ip4str(vip, vs),
	     ss->remote, *req.client_version ? req.client_version : "?", *req.os ? req.os : "?",
	     conn_max_datagram(&ss->conn));
	notify_status(s);
	control_notify(s->ctl, "session.up",
	               json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)ss->id, "token", ss->token_name,
	                         "vip", vs, "remote", ss->remote));
}

static void session_line(struct conn *c, const char *line, size_t len)
{
	struct session *ss = c->owner;
	if (!ss->logged_in) {
		handle_login(ss, line, len);
		return;
	}
	/* Later messages: newline-delimited JSON; unknown types are ignored. */
	char type[32];
	if (slopn_msg_type(line, len, type, sizeof(type)) == 0)
		log_debug("session %llu: ignoring control message '%s'", (unsigned long long)ss->id, type);
}

/* ---- data plane ---- */

static void tun_write(struct server *s, struct conn *from, const uint8_t *pkt, size_t len)
{
	ssize_t n;
	do
		n = write(s->tunfd, pkt, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		from->stats.drop[DROP_TUN]++;
}

static void session_datagram(struct conn *c, const uint8_t *pkt, size_t len)
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
	if (pool_contains(&s->pool, dst) && dst != pool_hub_addr(&s->pool)) {
		struct session *peer = s->by_vip[pool_offset(&s->pool, dst)];
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
		if (dst != s->pool.network + s->pool.size - 1) {
			c->stats.drop[DROP_NO_ROUTE]++;
			return;
		}
	}
	tun_write(s, c, pkt, ip.total_len);
}

static int on_tun(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct server *s = userdata;
	for (int i = 0; i < TUN_BATCH; i++) {
		ssize_t n = read(fd, s->tunbuf, TUN_BUF);
		if (n < 0)
			break;
		struct ipv4_info ip;
		if (ipv4_parse(s->tunbuf, (size_t)n, &ip) != IPV4_OK) {
			s->tun_drop[DROP_NOT_IPV4]++;
			continue;
		}
		uint32_t dst = ntohl(ip.dst);
		struct session *peer = pool_contains(&s->pool, dst)
			? s->by_vip[pool_offset(&s->pool, dst)] : NULL;
		if (!peer) {
			s->tun_drop[DROP_NO_ROUTE]++;
			continue;
		}
		/* The answer comes "from" the client's VIP: one of the hub's own
		 * addresses as the source would be a martian to its kernel. */
		if (conn_send_datagram(&peer->conn, s->tunbuf, ip.total_len) == DGRAM_TOO_BIG)
			too_big(s->tunfd, s->tunbuf, ip.total_len, ip.dst, conn_max_datagram(&peer->conn));
	}
	server_settle(s);
	return 0;
}

/* ---- UDP ---- */

static void send_version_negotiation(struct server *s, const ngtcp2_version_cid *vc,
                                     const struct udp_rx *rx)
{
	uint8_t buf[256], unused;
	uint32_t versions[] = {NGTCP2_PROTO_VER_V1};
	gnutls_rnd(GNUTLS_RND_NONCE, &unused, 1);
	ngtcp2_ssize n = ngtcp2_pkt_write_version_negotiation(buf, sizeof(buf), unused,
		vc->scid, vc->scidlen, vc->dcid, vc->dcidlen, versions, 1);
	if (n > 0)
		udp_send_one(&s->udp, (const struct sockaddr *)&rx->from, rx->fromlen, buf, (size_t)n);
}

/* A short-header packet for a connection we do not know: most likely one of
 * a previous run of this hub. The reset tells its client at once. */
static void send_stateless_reset(struct server *s, const ngtcp2_version_cid *vc,
                                 const struct udp_rx *rx)
{
	uint64_t sec = conn_now() / NGTCP2_SECONDS;
	if (sec != s->reset_sec)
		s->reset_sec = sec, s->resets_this_sec = 0;
	/* Smaller than what triggered it, so two endpoints cannot loop. */
	if (s->resets_this_sec >= RESETS_PER_SEC || vc->dcidlen != CONN_CID_LEN ||
	    rx->len < 2 + NGTCP2_MIN_STATELESS_RESET_RANDLEN + NGTCP2_STATELESS_RESET_TOKENLEN)
		return;
	s->resets_this_sec++;
	ngtcp2_cid cid;
	ngtcp2_cid_init(&cid, vc->dcid, vc->dcidlen);
	uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN], rnd[64], buf[128];
	ngtcp2_crypto_generate_stateless_reset_token(token, s->id.reset_secret, 32, &cid);
	size_t randlen = rx->len - 1 - NGTCP2_STATELESS_RESET_TOKENLEN;
	if (randlen > 40)
		randlen = 40;
	gnutls_rnd(GNUTLS_RND_NONCE, rnd, randlen);
	ngtcp2_ssize n = ngtcp2_pkt_write_stateless_reset(buf, sizeof(buf), token, rnd, randlen);
	if (n > 0)
		udp_send_one(&s->udp, (const struct sockaddr *)&rx->from, rx->fromlen, buf, (size_t)n);
}

static const struct conn_ops session_ops = {
	.on_line = session_line,
	.on_datagram = session_datagram,
	.on_down = session_down,
	.on_gone = session_gone,
	.cid_added = session_cid_added,
	.cid_removed = session_cid_removed,
};

static struct session *session_new(struct server *s, const ngtcp2_pkt_hd *hd,
                                   const struct udp_rx *rx)
{
	if (s->nconns >= MAX_CONNS || s->stopping)
		return NULL;
	struct session *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return NULL;
	ss->srv = s;
	ss->id = ++s->next_id;
	ss->since = time(NULL);
	ss->odcid = hd->dcid;
	addr_str((const struct sockaddr *)&rx->from, ss->remote, sizeof(ss->remote));
	memcpy(&ss->remote_sa, &rx->from, rx->fromlen);
	gnutls_session_t tls;
	if (tls_server_session(&tls, &s->id, &ss->conn.ref) < 0) {
		free(ss);
		return NULL;
	}
	ss->next = s->sessions;
	if (s->sessions)
		s->sessions->prev = ss;
	s->sessions = ss;
	s->nconns++;
	if (conn_server_init(&ss->conn, s->ev, &s->udp, hd, (const struct sockaddr *)&rx->from,
	                     rx->fromlen, tls, s->id.reset_secret, &session_ops, ss,
	                     s->cfg->verbose) < 0) {
		slog(LOG_LVL_WARN, ss, "cannot set up a connection from %s", ss->remote);
		if (!ss->conn.tls)
			gnutls_deinit(tls);
		session_gone(&ss->conn);
		return NULL;
	}
	cidmap_put(&s->cids, hd->dcid.data, hd->dcid.datalen, ss);
	log_debug("session %llu: handshake from %s", (unsigned long long)ss->id, ss->remote);
	return ss;
}

static void handle_packet(struct server *s, const struct udp_rx *rx)
{
	ngtcp2_version_cid vc;
	int rv = ngtcp2_pkt_decode_version_cid(&vc, rx->data, rx->len, CONN_CID_LEN);
	if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
		send_version_negotiation(s, &vc, rx);
		return;
	}
	if (rv != 0)
		return;
	struct session *ss = cidmap_get(&s->cids, vc.dcid, vc.dcidlen);
	if (!ss) {
		if (!(rx->data[0] & 0x80)) {
			send_stateless_reset(s, &vc, rx);
			return;
		}
		ngtcp2_pkt_hd hd;
		if (ngtcp2_accept(&hd, rx->data, rx->len) != 0)
			return;
		ss = session_new(s, &hd, rx);
		if (!ss)
			return;
	}
	if (ss->gone)
		return;
	conn_read(&ss->conn, (const struct sockaddr *)&rx->from, rx->fromlen, rx->data, rx->len);
	mark_dirty(ss);
}

static int on_udp(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct server *s = userdata;
	/* A bounded number of batches per wake-up keeps the TUN side served too. */
	for (int round = 0; round < 8; round++) {
		int n = udp_recv(&s->udp);
		if (n < 0)
			log_warn("udp receive: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			handle_packet(s, &s->udp.rx[i]);
		if (n < UDP_RX_BATCH)
			break;
	}
	server_settle(s);
	return 0;
}

/* ---- signals ---- */

static void log_stats(struct server *s)
{
	for (struct session *ss = s->sessions; ss; ss = ss->next) {
		if (!ss->logged_in)
			continue;
		const struct conn_stats *st = &ss->conn.stats;
		char vip[INET_ADDRSTRLEN];
		log_info("stats: session %llu vip=%s rx_pkts=%llu rx_bytes=%llu tx_pkts=%llu tx_bytes=%llu "
		         "drop_spoofed=%llu drop_not_ipv4=%llu drop_too_big=%llu drop_no_route=%llu drop_queue=%llu",
		         (unsigned long long)ss->id, ip4str(ss->vip, vip),
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

static void set_token(struct server *s, const char *token)
{
	s->has_token = token != NULL;
	if (token)
		gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), s->token_hash);
	else
		memset(s->token_hash, 0, sizeof(s->token_hash));
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* Fixed VIPs are kept out of the pool while their token exists; one that
 * a session holds now stays with it, and is kept when that session ends. */
static void reserve_fixed_vips(struct server *s)
{
	char v[INET_ADDRSTRLEN];
	for (size_t i = 0; i < s->tokens.n; i++) {
		const struct token_entry *e = &s->tokens.v[i];
		if (!e->vip)
			continue;
		if (!vip_assignable(s, e->vip)) {
			log_warn("%s: token '%s': fixed VIP %s is not a client address of %s/%u; "
			         "it gets one from the pool", s->tokens.path, e->name, ip4str(e->vip, v),
			         ip4str(s->pool.network, v), s->pool.prefix);
			continue;
		}
		if (!s->by_vip[pool_offset(&s->pool, e->vip)])
			pool_take(&s->pool, e->vip);
	}
}

/* Re-read tokens.json (an administrator may have edited it). A bad file
 * changes nothing: the tokens in memory stay in force. */
static void reload_tokens(struct server *s)
{
	struct token_store fresh, old = s->tokens;
	char err[256];
	if (tokens_load(&fresh, old.path, err, sizeof(err)) < 0) {
		log_err("reload of %s failed: %s; keeping the %zu tokens in memory", old.path, err, old.n);
		tokens_free(&fresh);
		return;
	}
	s->tokens = fresh;
	/* Uses seen since the last save (it waits up to a minute) survive. */
	for (size_t i = 0; i < old.n; i++) {
		struct token_entry *e = tokens_find(&s->tokens, old.v[i].name);
		if (e && old.v[i].last_used > e->last_used)
			e->last_used = old.v[i].last_used;
	}
	for (size_t i = 0; i < old.n; i++) {
		uint32_t vip = old.v[i].vip;
		if (vip && vip_assignable(s, vip) && !vip_reserved(s, vip) &&
		    !s->by_vip[pool_offset(&s->pool, vip)])
			pool_release(&s->pool, vip);
	}
	reserve_fixed_vips(s);
	log_info("reloaded %s: %zu tokens (were %zu)", s->tokens.path, s->tokens.n, old.n);
	tokens_free(&old);
}

/* SIGHUP: read the config file again (the command line still wins) and
 * apply what can change without dropping sessions. */
static void reload(struct server *s)
{
	const struct config *old = s->cfg;
	reload_tokens(s);
	if (s->nat_on)
		hub_nat_install(s, false); /* the hub's networks may have changed */
	if (!old->config) {
		log_info("SIGHUP: no config file in use (--config FILE): settings unchanged");
		return;
	}
	struct config fresh;
	if (config_parse(&fresh, old->argc, old->argv) != 0) {
		log_err("reload of %s failed: keeping the running settings", old->config);
		config_free(&fresh);
		return;
	}
	bool token_changed = str_differs(fresh.token, s->reload_token);
	if (token_changed) {
		set_token(s, fresh.token);
		free(s->reload_token);
		s->reload_token = fresh.token ? strdup(fresh.token) : NULL;
	}
	if (s->nat_on && fresh.spoke_to_spoke != s->spoke_to_spoke) {
		s->spoke_to_spoke = fresh.spoke_to_spoke;
		hub_nat_install(s, false);
	}
	s->spoke_to_spoke = fresh.spoke_to_spoke;
	if (fresh.nat != old->nat || fresh.nat_backend != old->nat_backend ||
	    str_differs(fresh.egress, old->egress) ||
	    fresh.nallow_lan != old->nallow_lan ||
	    memcmp(fresh.allow_lan, old->allow_lan, sizeof(fresh.allow_lan)) != 0)
		log_warn("%s changed in %s: takes effect after a restart", "nat, egress or allow-lan",
		         old->config);
	if (fresh.dns != old->dns)
		log_warn("%s changed in %s: takes effect after a restart", "dns", old->config);
	log_info("reloaded %s: token %s, spoke-to-spoke %s; %u sessions kept", old->config,
	         token_changed ? "changed" : "unchanged", s->spoke_to_spoke ? "on" : "off",
	         live_sessions(s));
	if (str_differs(fresh.listen, old->listen))
		log_warn("%s changed in %s: takes effect after a restart", "listen", old->config);
	if (fresh.subnet != old->subnet || fresh.prefix != old->prefix)
		log_warn("%s changed in %s: takes effect after a restart", "subnet", old->config);
	if (str_differs(fresh.tun, old->tun) || fresh.mtu != old->mtu)
		log_warn("%s changed in %s: takes effect after a restart", "tun or mtu", old->config);
	if (str_differs(fresh.public_address, old->public_address))
		log_warn("%s changed in %s: takes effect after a restart", "public-address", old->config);
	if (str_differs(fresh.state_dir, old->state_dir) || str_differs(fresh.control, old->control))
		log_warn("%s changed in %s: takes effect after a restart", "state-dir or control", old->config);
	config_free(&fresh);
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
		reload(s);
		sd_notify(0, "READY=1");
		notify_status(s);
		return 0;
	}
	log_info("signal %d: closing %u connections and exiting", (int)si->ssi_signo, s->nconns);
	sd_notify(0, "STOPPING=1");
	s->stopping = true;
	for (struct session *ss = s->sessions; ss; ss = ss->next) {
		conn_close(&ss->conn, SLOPN_ERR_CLIENT_EXIT, "hub shutting down");
		conn_write(&ss->conn);
	}
	udp_flush(&s->udp);
	sd_event_exit(s->ev, 0);
	return 0;
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

static int open_listener(struct server *s, int fd)
{
	if (fd >= 0) {
		if (udp_adopt(&s->udp, fd) < 0) {
			log_err("cannot use the UDP socket passed by systemd: %s", strerror(errno));
			return -1;
		}
		log_info("QUIC socket from systemd (fd %d)", fd);
		return 0;
	}
	char *host, *port;
	if (split_host_port(s->cfg->listen, &host, &port) < 0)
		return -1;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai = NULL;
	int rv = getaddrinfo(host, port, &hints, &ai);
	if (rv != 0) {
		log_err("--listen %s: %s", s->cfg->listen, gai_strerror(rv));
		free(host), free(port);
		return -1;
	}
	rv = udp_open(&s->udp, ai->ai_addr, ai->ai_addrlen, false);
	if (rv < 0)
		log_err("cannot listen on UDP %s: %s", s->cfg->listen, strerror(errno));
	freeaddrinfo(ai);
	free(host), free(port);
	return rv;
}

static int setup_tun(struct server *s)
{
	s->tunfd = tun_open(s->cfg->tun, s->tunname, &s->ifindex);
	if (s->tunfd < 0) {
		log_err("cannot create TUN device %s: %s (needs CAP_NET_ADMIN and /dev/net/tun)",
		        s->cfg->tun, strerror(errno));
		return -1;
	}
	uint32_t hub = htonl(pool_hub_addr(&s->pool));
	if (nl_addr_add(s->ifindex, hub, s->pool.prefix) < 0 ||
	    nl_set_mtu(s->ifindex, s->cfg->mtu) < 0 || nl_set_up(s->ifindex, 1) < 0) {
		log_err("cannot configure %s: %s", s->tunname, strerror(errno));
		return -1;
	}
	return 0;
}

int server_run(const struct config *cfg)
{
	struct server srv = {.cfg = cfg, .tunfd = -1}, *s = &srv;
	int rc = 1;
	char net[INET_ADDRSTRLEN], hub[INET_ADDRSTRLEN];

	if (tls_identity_load(&s->id, cfg->state_dir) < 0)
		return 1;
	log_info("pin %s", s->id.pin);
	s->spoke_to_spoke = cfg->spoke_to_spoke;
	set_token(s, cfg->token);
	s->reload_token = cfg->token ? strdup(cfg->token) : NULL;
	ban_init(&s->bans);
	if (pool_init(&s->pool, cfg->subnet, cfg->prefix) < 0 ||
	    !(s->by_vip = calloc(s->pool.size, sizeof(*s->by_vip))) ||
	    !(s->tunbuf = malloc(TUN_BUF)) || cidmap_init(&s->cids, 256) < 0) {
		log_err("out of memory");
		goto out;
	}
	char path[4096], err[256];
	snprintf(path, sizeof(path), "%s/tokens.json", cfg->state_dir);
	if (tokens_load(&s->tokens, path, err, sizeof(err)) < 0) {
		log_err("token store %s: %s (repair the file, or move it away to start with no tokens)",
		        path, err);
		goto out;
	}
	reserve_fixed_vips(s);
	log_info("%zu token%s in %s%s", s->tokens.n, s->tokens.n == 1 ? "" : "s", path,
	         cfg->token ? ", and the shared --token" : "");
	if (!cfg->token && !s->tokens.n)
		log_warn("no --token and no stored tokens: every login is refused until "
		         "'slopnctl token add NAME'");
	int ctl_fd = -1, udp_fd = -1;
	take_systemd_sockets(&ctl_fd, &udp_fd);
	if (setup_tun(s) < 0 || open_listener(s, udp_fd) < 0 || hub_nat_setup(s) < 0)
		goto out;

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT), sigaddset(&mask, SIGTERM), sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (sd_event_default(&s->ev) < 0 ||
	    sd_event_add_signal(s->ev, NULL, SIGHUP, on_signal, s) < 0 ||
	    sd_event_add_io(s->ev, NULL, s->udp.fd, EPOLLIN, on_udp, s) < 0 ||
	    sd_event_add_io(s->ev, NULL, s->tunfd, EPOLLIN, on_tun, s) < 0 ||
	    sd_event_add_signal(s->ev, NULL, SIGINT, on_signal, s) < 0 ||
	    sd_event_add_signal(s->ev, NULL, SIGTERM, on_signal, s) < 0 ||
	    sd_event_add_signal(s->ev, NULL, SIGUSR1, on_signal, s) < 0) {
		log_err("cannot set up the event loop");
		goto out;
	}
	s->started = time(NULL);
	if (ctl_fd >= 0 ? !(s->ctl = control_adopt(s->ev, ctl_fd, hub_methods, s))
	                : cfg->control && !(s->ctl = control_open(s->ev, cfg->control, hub_methods, s)))
		goto out;
	/* WATCHDOG=1 at half of WatchdogSec, when the unit sets one. */
	sd_event_set_watchdog(s->ev, 1);
	log_info("hub %s on %s, subnet %s/%u, mtu %u, spoke-to-spoke %s",
	         ip4str(pool_hub_addr(&s->pool), hub), s->tunname, ip4str(s->pool.network, net),
	         s->pool.prefix, cfg->mtu, s->spoke_to_spoke ? "on" : "off");
	log_info("listening on %s", cfg->listen);
	sd_notify(0, "READY=1");
	notify_status(s);
	rc = sd_event_loop(s->ev) < 0 ? 1 : 0;
	server_settle(s);
out:
	while (s->sessions) {
		struct session *ss = s->sessions;
		s->sessions = ss->next;
		conn_free(&ss->conn);
		free(ss);
	}
	server_settle(s);
	control_close(s->ctl);
	if (s->ev)
		sd_event_unref(s->ev);
	if (s->nat_on)
		nat_stop(s->tunname, s->nat_backend, s->nat_state);
	free(s->nat_state);
	if (s->tunfd >= 0)
		close(s->tunfd); /* a non-persistent TUN device goes away with its fd */
	udp_close(&s->udp);
	cidmap_free(&s->cids);
	pool_free(&s->pool);
	free(s->by_vip);
	free(s->tunbuf);
	tls_identity_free(&s->id);
	tokens_free(&s->tokens);
	free(s->reload_token);
	return rc;
}
