/* The hub's side of the login: check the token and the ban list, give the
 * session its address, answer on the control stream. */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/hub.h"
#include "daemon/log.h"
#include "daemon/testenv.h"
#include "proto/ipv6.h"
#include "proto/login.h"

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
                        struct token_entry **entry, const char **why, uint64_t *tag)
{
	uint8_t h[32];
	token_hash(token, h);
	/* What a refusal counts towards a ban under (ban.h): the hash's first
	 * 8 bytes, never BAN_UNTAGGED. */
	memcpy(tag, h, sizeof(*tag));
	*tag |= 1;
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

#define TWIN_WINDOW (60 * NGTCP2_SECONDS)
#define TWIN_HEARD (3 * NGTCP2_SECONDS)
/* A live client is heard at least every 10 s, idle too: its keep-alives,
 * or its acks of the hub's (conn.c). A holder of a fixed VIP silent for
 * longer is taken for dead (crashed, or its link lost). Not TWIN_HEARD:
 * an idle client is silent for more than 3 s. */
#define HOLDER_HEARD (15 * NGTCP2_SECONDS)
/* A session probed (probe_idless) that has sent nothing for twice its
 * probe timeout since, and at least this long, is taken for gone. */
#define PROBE_WAIT_MIN (300 * NGTCP2_MILLISECONDS)
#define PROBE_WAIT_MAX (3 * NGTCP2_SECONDS)

/* How long after a probe a live client has answered it. */
static uint64_t probe_wait(const struct session *o)
{
	uint64_t w = 2 * ngtcp2_conn_get_pto(o->conn.qc);
	return w < PROBE_WAIT_MIN ? PROBE_WAIT_MIN : w > PROBE_WAIT_MAX ? PROBE_WAIT_MAX : w;
}

/* A session of the token of a client without an id (the original's) that
 * a probe found gone: nothing from it since, for long enough. */
static bool probed_gone(const struct session *o, uint64_t now)
{
	return o->probed_at && now - o->probed_at >= probe_wait(o) && o->conn.last_rx < o->probed_at;
}

/* o is another live session of ss's token of a client without an id
 * (the original's): one probe_idless looks at, stale_session may take. */
static bool idless_sibling(const struct session *o, const struct session *ss)
{
	return o != ss && o->logged_in && !o->token_removed && !o->conn.close_pending &&
	       !o->client_id[0] && !strcmp(o->token_name, ss->token_name);
}

/* The same client: the same id, or neither has one (the original's
 * clients send none: no telling them apart). */
static bool same_client(const struct session *a, const struct session *b)
{
	return !strcmp(a->client_id, b->client_id);
}

/* An older session that a new login replaces at once: the same client
 * (same token and client id) whose old connection lingers after a crash or
 * a lost link, or the session of its token on its fixed VIP, if that is the
 * same client or looks dead. Without this the old one keeps its addresses
 * until it times out. Another client of the token on the fixed VIP, alive,
 * keeps it: two machines with one such token would replace each other for
 * ever; the newcomer gets an address of the pool. */
static struct session *stale_session(struct server *s, const struct session *ss,
                                     const struct token_entry *e)
{
	if (e && e->vip && alloc_assignable(&s->addrs, e->vip)) {
		struct session *old = alloc_holder(&s->addrs, e->vip);
		/* A removed token's session left running is no other's to take
		 * over (nor to get a login past the new token's limit). */
		bool ours = old && !old->token_removed && !strcmp(old->token_name, e->name);
		uint64_t silent = old ? conn_now() - old->conn.last_rx : 0;
		if (ours && (same_client(ss, old) || silent >= HOLDER_HEARD))
			return old;
		char v[INET_ADDRSTRLEN];
		if (ours && hub_login_says(ss))
			hub_slog(LOG_LVL_WARN, ss, "token '%s': fixed VIP %s is held by session %llu of "
			         "another client of the token (heard %.1f s ago); session %llu gets an "
			         "address of the pool", e->name, ip4str(e->vip, v),
			         (unsigned long long)old->id, (double)silent / NGTCP2_SECONDS,
			         (unsigned long long)ss->id);
		else if (old && !ours && hub_login_says(ss))
			log_warn("token '%s': fixed VIP %s is held by session %llu of '%s'; using the pool",
			         e->name, ip4str(e->vip, v), (unsigned long long)old->id, old->token_name);
	}
	if (!ss->client_id[0]) {
		/* An original client: no telling it from another of its token,
		 * but one of their sessions that a probe found gone is nobody's
		 * (probe_idless). */
		uint64_t now = conn_now();
		for (struct session *o = LIST_FIRST(&s->sessions); o; o = LIST_NEXT(o, link))
			if (idless_sibling(o, ss) && probed_gone(o, now))
				return o;
		return NULL;
	}
	for (struct session *o = LIST_FIRST(&s->sessions); o; o = LIST_NEXT(o, link))
		if (o != ss && o->logged_in && !o->token_removed && same_client(o, ss) &&
		    !strcmp(o->token_name, ss->token_name))
			return o;
	return NULL;
}

/* Two machines with one client id (a machine cloned with its state
 * directory) would replace each other's session for ever, a second apart,
 * on one address. Told apart from a client that restarted: the session
 * to replace is alive (heard just now), replaced another moments ago, and
 * the newcomer is the run of the client whose session that was, come back
 * (a restart is a new run). A client that does not say its run: the
 * newcomer comes from where that session was (a client that crashes twice
 * within a minute looks the same). */
static bool twin_of(const struct session *ss, const struct session *old)
{
	uint64_t now = conn_now();
	if (!ss->client_id[0] || !old->replaced_at || now - old->replaced_at >= TWIN_WINDOW ||
	    now - old->conn.last_rx >= TWIN_HEARD)
		return false;
	if (ss->instance[0] && old->replaced_instance[0])
		return !strcmp(ss->instance, old->replaced_instance) && strcmp(ss->instance, old->instance);
	return sockaddr_same_host(&ss->remote_sa, &old->replaced_remote);
}

/* The session a new login replaces (stale_session), or NULL. A newcomer
 * that is a twin (twin_of) replaces nothing and loses its client id. */
static struct session *replaced_session(struct server *s, struct session *ss,
                                        const struct token_entry *e)
{
	struct session *old = stale_session(s, ss, e);
	if (old && same_client(ss, old) && twin_of(ss, old)) {
		if (hub_login_says(ss))
			hub_slog(LOG_LVL_WARN, ss, "session %llu from %s: client id %s is in use by session "
			         "%llu from %s too: two machines with one id (a cloned machine?); this one "
			         "gets an address of its own. Remove STATE_DIR/client-TUN.id on one of them",
			         (unsigned long long)ss->id, ss->remote, ss->client_id,
			         (unsigned long long)old->id, old->remote);
		control_notify(s->ctl, "client.twin", json_pack("{s:s, s:s, s:s}", "client_id",
		               ss->client_id, "remote", ss->remote, "other", old->remote));
		ss->client_id[0] = '\0';
		return NULL;
	}
	return old;
}

/* The VIP for a new session: the token's fixed one, else the client's
 * lease, else a free one (see alloc.h), once old (replaced_session) has
 * gone. 0 when the pool is exhausted. */
static uint32_t assign_vip(struct server *s, struct session *ss, const struct token_entry *e,
                           struct session *old, bool hub24)
{
	if (old) {
		ss->replaced_at = conn_now();
		ss->replaced_remote = old->remote_sa;
		memcpy(ss->replaced_instance, old->instance, sizeof(ss->replaced_instance));
		/* Same token, not the same client: ids that differ (the holder of
		 * a fixed VIP that looked dead), or none to compare. */
		bool client = ss->client_id[0] && same_client(ss, old);
		if (hub_login_says(ss))
			hub_slog(LOG_LVL_INFO, old, "session %llu: replaced by session %llu of the same %s",
			         (unsigned long long)old->id, (unsigned long long)ss->id,
			         client ? "client" : "token");
		hub_kick(s, old, client ? "replaced by a new login of the same client"
		                        : "replaced by a new login with the same token");
		/* Its addresses go now, even if its close waits for queued data. */
		alloc_release(&s->addrs, old->vip, old, time(NULL));
	}
	struct alloc_who w = {.token = ss->token_name, .client_id = ss->client_id,
	                      .fixed = e ? e->vip : 0, .ipv6 = ss->has6, .hub24 = hub24};
	return alloc_assign(&s->addrs, &w, ss, time(NULL));
}

/* Not one closing (kicked, replaced by its client's new login): its close
 * may wait up to a second for data queued before it. Nor one of a removed
 * token that had the name: a token added under it is another. */
unsigned hub_token_live(const struct server *s, const char *name)
{
	unsigned n = 0;
	for (const struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link))
		n += ss->logged_in && !ss->conn.close_pending && !ss->token_removed &&
		     !strcmp(ss->token_name, name);
	return n;
}

/* A token given for a while ends its live sessions when it expires, as
 * token.remove with kick does: a connection must not keep access that has
 * ended. */
static void end_expired(struct server *s)
{
	int64_t now = time(NULL);
	for (struct session *ss = LIST_FIRST(&s->sessions), *next; ss; ss = next) {
		next = LIST_NEXT(ss, link);
		const struct token_entry *e = ss->logged_in && !ss->gone && !ss->token_removed
		                              ? tokens_find(&s->tokens, ss->token_name) : NULL;
		if (!e || !token_expired(e, now))
			continue;
		hub_slog(LOG_LVL_INFO, ss, "session %llu: token '%s' expired", (unsigned long long)ss->id,
		         ss->token_name);
		hub_kick(s, ss, "token expired");
	}
}

static int on_expiry(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct server *s = userdata;
	hub_expiry_arm(s);
	hub_settle(s);
	return 0;
}

void hub_expiry_arm(struct server *s)
{
	end_expired(s);
	int64_t now = time(NULL), next = 0;
	for (size_t i = 0; i < s->tokens.n; i++) {
		int64_t x = s->tokens.v[i].expires;
		if (x > now && (!next || x < next))
			next = x;
	}
	if (!s->expiry_timer &&
	    sd_event_add_time(s->ev, &s->expiry_timer, CLOCK_REALTIME, UINT64_MAX,
	                      100000, on_expiry, s) < 0) {
		log_warn("cannot watch token expiries: sessions of an expired token stay up until "
		         "they log in again");
		return;
	}
	if (next) {
		sd_event_source_set_time(s->expiry_timer, (uint64_t)next * 1000000);
		sd_event_source_set_enabled(s->expiry_timer, SD_EVENT_ONESHOT);
	} else {
		sd_event_source_set_enabled(s->expiry_timer, SD_EVENT_OFF);
	}
}

/* Last uses reach tokens.json from one timer, at most once a minute for the
 * whole store, and at exit: a save at each token's login would cost N
 * writes of the whole file (each with its fsyncs), inside the loop, when
 * N clients come back after a restart. A crash loses a minute of them. */
#define USED_SAVE_USEC (60 * 1000000ULL)

/* SLOPND_TOKENS_SAVE_SECONDS, for tests only: a shorter wait. */
static uint64_t used_save_wait(void)
{
	uint64_t v = testenv_get("SLOPND_TOKENS_SAVE_SECONDS", 1, 59);
	return v ? v * 1000000 : USED_SAVE_USEC;
}

static int on_used_save(sd_event_source *src, uint64_t usec, void *userdata)
{
	hub_tokens_save_used(userdata, false);
	return 0;
}

static void used_save_arm(struct server *s)
{
	int on = SD_EVENT_OFF;
	if (s->used_timer && sd_event_source_get_enabled(s->used_timer, &on) >= 0 && on != SD_EVENT_OFF)
		return; /* one is due already */
	uint64_t now;
	sd_event_now(s->ev, CLOCK_MONOTONIC, &now);
	if (!s->used_timer &&
	    sd_event_add_time(s->ev, &s->used_timer, CLOCK_MONOTONIC, UINT64_MAX, 1000000,
	                      on_used_save, s) < 0) {
		log_warn("cannot set a timer to save the tokens' last uses: they are saved at exit");
		return;
	}
	sd_event_source_set_time(s->used_timer, now + used_save_wait());
	sd_event_source_set_enabled(s->used_timer, SD_EVENT_ONESHOT);
}

int hub_tokens_save_used(struct server *s, bool at_exit)
{
	if (!s->used_unsaved)
		return 0;
	char err[512];
	if (tokens_save(&s->tokens, err, sizeof(err)) < 0) {
		if (at_exit) {
			log_err("%s: the tokens' last uses since the last save not saved at exit: %s",
			        s->tokens.path, err);
			return -1;
		}
		if (save_failed(&s->saved[SAVED_TOKENS], err))
			log_warn("%s: the tokens' last uses not saved: %s (retrying every %llu s; "
			         "slopnctl token list shows them meanwhile)", s->tokens.path, err,
			         (unsigned long long)(used_save_wait() / 1000000));
		used_save_arm(s);
		return -1;
	}
	s->used_unsaved = false;
	if (save_worked(&s->saved[SAVED_TOKENS]))
		log_info("%s: the tokens' last uses saved again", s->tokens.path);
	return 0;
}

void hub_tokens_stop(struct server *s)
{
	if (s->used_timer)
		sd_event_source_disable_unref(s->used_timer);
	s->used_timer = NULL;
}

/* In memory at once (token list shows it); on disk within a minute, unless
 * the token's last use is less than a minute old (a client that reconnects
 * in a loop makes no more saves than one that stays). */
static void token_used(struct server *s, struct token_entry *e)
{
	int64_t now = time(NULL), prev = e->last_used;
	e->last_used = now;
	/* A wall clock set back (now < prev) is a change to save too. */
	if ((now < prev || now - prev >= 60) && !s->used_unsaved) {
		s->used_unsaved = true;
		used_save_arm(s);
	}
}

/* One refused login; with ban, it counts towards a ban of its address: a
 * wrong token (tag: which, ban.h), or a malformed login (BAN_UNTAGGED: no
 * client sends one; someone who sends them must not be let go on for
 * ever). An expired token does not: it was a real one, no guess, and a
 * hub's clock set ahead expires many at once, which must not ban everyone
 * behind a NAT. The failure that starts the ban sends `ban` before its
 * `auth.fail`. */
static void login_failed(struct session *ss, const char *reason, uint64_t tag, bool ban)
{
	struct server *s = ss->srv;
	const struct sockaddr *peer = (const struct sockaddr *)&ss->remote_sa;
	uint64_t now = conn_now() / NGTCP2_SECONDS;
	if (ban_remaining(&s->bans, peer, now)) {
		ban_refused(&s->bans, peer, now); /* an oversized login, cut before its end */
		return;
	}
	s->failed_logins++;
	const struct ban_entry *started[BAN_LEVELS];
	struct ban_evicted evicted = {0};
	unsigned n = ban ? ban_fail(&s->bans, peer, now, tag, started, &evicted) : 0;
	/* A table full of bans lifted the ones that end first to make room:
	 * said, as a lift by bans.remove is. */
	for (unsigned i = 0; i < evicted.n; i++) {
		/* One a failed login from a new address, while the flood that
		 * filled the table goes on: 10 lines a minute at most. */
		static struct log_budget evict_log;
		bool last;
		if (log_budget_take(&evict_log, 10, LOG_LVL_WARN, "bans lifted early", &last))
			log_warn("ban: the ban on %s lifted early: the table of %d bans is full, and it was "
			         "the one to end first%s", evicted.address[i], BAN_SLOTS, log_budget_more(last));
		control_notify(s->ctl, "ban.removed", json_pack("{s:s, s:s}", "address", evicted.address[i],
		                                                "reason", "table full"));
	}
	for (unsigned i = 0; i < n; i++) {
		char addr[64], why[64];
		ban_addr_str(started[i], addr, sizeof(addr));
		ban_why(started[i], why, sizeof(why));
		s->bans_started++;
		hub_slog(LOG_LVL_WARN, ss, "ban: %s banned for %d minutes after %s, the last from %s "
		         "('slopnctl bans remove %s' lifts it)", addr, BAN_DURATION / 60, why,
		         ss->remote, addr);
		control_notify(s->ctl, "ban", json_pack("{s:s, s:s, s:i}", "remote", ss->remote,
		                                        "address", addr, "minutes", BAN_DURATION / 60));
	}
	control_notify(s->ctl, "auth.fail", json_pack("{s:s, s:s}", "remote", ss->remote,
	                                              "reason", reason));
}

/* A refused login is a line in the log, so that an administrator sees why
 * a client cannot get in; but a flood of them must not flood the log: at
 * most REFUSED_LINES a minute, then one line a minute counts the rest.
 * True when this one may have its line; *last when it is the last. */
#define REFUSED_LINES 10
static bool refusal_loggable(struct server *s, bool *last)
{
	return log_budget_take(&s->refused_log, REFUSED_LINES, LOG_LVL_INFO, "refused logins", last);
}

/* The end of a minute's last line about a refused login. */
static const char *refused_more(bool last)
{
	return last ? "; more refused logins this minute are counted, not logged" : "";
}

/* Oversized ones are also counted (server.status, admission). */
void hub_bad_login(struct session *ss, const char *why, bool oversized)
{
	struct server *s = ss->srv;
	bool last;
	login_failed(ss, "malformed login", BAN_UNTAGGED, true);
	if (oversized)
		hub_admit_oversize(s);
	if (refusal_loggable(s, &last))
		hub_slog(LOG_LVL_INFO, ss, "session %llu from %s: bad login (%s)%s",
		         (unsigned long long)ss->id, ss->remote, why, log_budget_more(last));
}

/* A login with a right token that finds no room (the pool full, the
 * token's limit reached): counted, logged within the budget, told. */
static void refuse_full(struct session *ss, uint64_t code, const char *msg, const char *reason,
                        uint64_t *count)
{
	bool last;
	(*count)++;
	if (refusal_loggable(ss->srv, &last))
		hub_slog(LOG_LVL_WARN, ss, "session %llu from %s refused: %s%s", (unsigned long long)ss->id,
		         ss->remote, msg,
		         refused_more(last));
	refuse(ss, code, msg, reason);
}

/* A client that logs in again and again (a loop of crashes, or on purpose:
 * some 250 logins a second from a few dozen addresses, 500 lines) must not
 * flood the log either: the first LOGIN_LINES logins a minute from an
 * address (IPv4, or IPv6 /64) have their lines ("up", "replaced", a twin's
 * or a fixed VIP's warning: one a login to a client in a loop with its
 * client id, "no IPv6 inside the tunnel"), the rest are counted (log_suppressed) and summed up a minute
 * later, and their sessions' "down" lines are held back with them. Their session.up and
 * session.down events go out all the same. */
#define LOGIN_LINES 10
static void login_lines(struct server *s, struct session *ss)
{
	uint8_t key[9], keylen;
	hub_addr_key(&ss->remote_sa, key, &keylen);
	char host[INET6_ADDRSTRLEN], what[64];
	bool six = sockaddr_host((const struct sockaddr *)&ss->remote_sa, host, sizeof(host));
	snprintf(what, sizeof(what), "logins from %s%s", host, six ? "'s /64" : "");
	bool last;
	ss->quiet = !log_keyed_take(&s->login_log, key, keylen, LOGIN_LINES, LOG_LVL_INFO, what, &last);
	ss->quiet_last = last;
}

bool hub_login_says(const struct session *ss)
{
	if (ss->quiet)
		log_suppressed++;
	return !ss->quiet;
}

/* A client without an id (the original's) cannot be told from another
 * machine of its token, so after a crash its token's limit would refuse
 * it until its old session timed out (30 to 40 s): at such a refusal each
 * of the token's sessions of clients without an id is probed, and one
 * that stays silent is taken over by the next attempt (stale_session). */
static void probe_idless(struct server *s, const struct session *ss)
{
	uint64_t now = conn_now();
	for (struct session *o = LIST_FIRST(&s->sessions); o; o = LIST_NEXT(o, link)) {
		if (!idless_sibling(o, ss) || (o->probed_at && now - o->probed_at < 2 * probe_wait(o)))
			continue;
		o->probed_at = now;
		conn_probe(&o->conn);
		hub_mark_dirty(o);
	}
}

/* A token limited to N live sessions takes no (N+1)th: a leaked token
 * cannot take the whole pool. A login that replaces one of its sessions
 * (the same client back) keeps the count and is let in. */
static bool at_limit(struct server *s, struct session *ss, const struct token_entry *e,
                     const struct session *old)
{
	unsigned live;
	if (!e || !e->max_sessions || old || (live = hub_token_live(s, e->name)) < e->max_sessions)
		return false;
	if (!ss->client_id[0])
		probe_idless(s, ss);
	/* The sessions there are: more than the limit after it was lowered. */
	char msg[SLOPN_MESSAGE_MAX], over[48] = "its limit";
	if (live > e->max_sessions)
		snprintf(over, sizeof(over), "over its limit of %u", (unsigned)e->max_sessions);
	snprintf(msg, sizeof(msg), "Token '%s' is in use by %u session%s, %s: end one on "
	         "another machine, or ask the hub's administrator for a higher limit or a token of "
	         "your own", e->name, live, live == 1 ? "" : "s", over);
	refuse_full(ss, SLOPN_ERR_TOKEN_LIMIT, msg, "token's session limit", &s->refused_token_limit);
	return true;
}

/* A client without an id (the original's) sets its address as a /24
 * whatever subnet_mask says (DESIGN.md): from a token's fixed VIP outside
 * the hub's /24 it would reach neither the hub nor most clients. Refused,
 * with what to do; true when it was. */
static bool fixed_out_of_reach(struct session *ss, const struct token_entry *e)
{
	struct server *s = ss->srv;
	if (!e || !e->vip || !alloc_assignable(&s->addrs, e->vip) ||
	    alloc_in_hub24(&s->addrs, e->vip))
		return false;
	char v[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN], msg[SLOPN_MESSAGE_MAX];
	ip4str(e->vip, v);
	ip4str(s->addrs.pool.network, net);
	snprintf(msg, sizeof(msg), "This token's fixed VIP %s is outside %s/24, the only addresses "
	         "this client can use (it takes a /24): ask the hub's administrator for a VIP in "
	         "%s/24, or use SloPN's client", v, net, net);
	bool last;
	if (refusal_loggable(s, &last))
		hub_slog(LOG_LVL_WARN, ss, "session %llu from %s refused: token '%s' has the fixed VIP "
		         "%s, outside %s/24, and its client sends no client id (the original SloPN's): it "
		         "sets its address as a /24 and would not reach the hub; give the token a VIP in "
		         "%s/24 ('slopnctl token remove %s', then 'token add %s --vip') or use SloPN's "
		         "client there%s", (unsigned long long)ss->id, ss->remote, e->name, v, net, net,
		         e->name, e->name,
		         refused_more(last));
	refuse(ss, SLOPN_ERR_UNAUTHORIZED, msg, "fixed VIP outside the hub's /24");
	return true;
}

static void handle_login(struct session *ss, const char *line, size_t len)
{
	struct server *s = ss->srv;
	struct slopn_login_request req;
	char err[160];
	/* The ban first: a banned address is told so, whatever it sent. */
	const struct sockaddr *peer = (const struct sockaddr *)&ss->remote_sa;
	uint64_t now = conn_now() / NGTCP2_SECONDS;
	const struct ban_entry *b = ban_find(&s->bans, peer, now);
	if (b) {
		/* Its own address lifts every ban it is under (its /64's, /56's). A
		 * network's ban may be of others' failures: it is named. */
		char addr[INET6_ADDRSTRLEN], net[64] = "address";
		sockaddr_host(peer, addr, sizeof(addr));
		if (ban_is_network(b)) {
			char p[INET6_ADDRSTRLEN + 8];
			ban_addr_str(b, p, sizeof(p));
			snprintf(net, sizeof(net), "network (%s)", p);
		}
		char msg[SLOPN_MESSAGE_MAX];
		snprintf(msg, sizeof(msg), "Too many failed logins from your %s: banned for %llu more "
		         "minutes; the hub's administrator can lift it ('slopnctl bans remove %s')", net,
		         (unsigned long long)(b->until - now + 59) / 60, addr);
		bool last;
		if (refusal_loggable(s, &last))
			hub_slog(LOG_LVL_INFO, ss, "session %llu from %s refused: banned%s",
			         (unsigned long long)ss->id, ss->remote,
			         refused_more(last));
		ban_refused(&s->bans, peer, now);
		refuse(ss, SLOPN_ERR_BANNED, msg, "banned");
		return;
	}
	if (slopn_login_request_parse(line, len, &req, err, sizeof(err)) < 0) {
		hub_bad_login(ss, err, len >= SLOPN_LOGIN_MAX);
		char msg[200];
		snprintf(msg, sizeof(msg), "Invalid login request: %s", err);
		refuse(ss, SLOPN_ERR_UNAUTHORIZED, msg, "unauthorized");
		return;
	}
	struct token_entry *entry;
	const char *why = NULL;
	uint64_t tag;
	bool ok = check_token(s, req.token, ss, &entry, &why, &tag);
	gnutls_memset(req.token, 0, sizeof(req.token));
	if (!ok) {
		/* A wrong token given again and again bans no one (ban.h): its
		 * lines are within the budget too. */
		bool last;
		if (refusal_loggable(s, &last))
			hub_slog(LOG_LVL_INFO, ss, "auth failure from %s (session %llu): %s%s", ss->remote,
			         (unsigned long long)ss->id, why,
			         refused_more(last));
		login_failed(ss, why, tag, !entry);
		refuse(ss, SLOPN_ERR_UNAUTHORIZED, entry ? "Authentication token expired"
		                                         : "Invalid authentication token", "unauthorized");
		return;
	}
	if (req.ignored.n) {
		/* Taken as absent, as unknown fields are: said, within a budget
		 * (a client sends the same at each login). */
		static struct log_budget ignored_log;
		bool last;
		if (log_budget_take(&ignored_log, 10, LOG_LVL_INFO, "logins with fields ignored", &last))
			hub_slog(LOG_LVL_INFO, ss, "session %llu from %s: %u optional field%s of its login "
			         "taken as absent: %s%s", (unsigned long long)ss->id, ss->remote,
			         req.ignored.n, req.ignored.n > 1 ? "s" : "", req.ignored.why,
			         log_budget_more(last));
	}
	/* The original's clients send no id, ours do (a twin's is cleared
	 * below: it is still ours). */
	bool hub24 = !req.client_id[0];
	if (hub24 && fixed_out_of_reach(ss, entry))
		return;
	snprintf(ss->client_id, sizeof(ss->client_id), "%s", req.client_id);
	snprintf(ss->instance, sizeof(ss->instance), "%s", req.instance);
	login_lines(s, ss);
	ss->has6 = req.ipv6 && s->addrs.has6; /* the original's clients never ask */
	if (ss->has6 && conn_max_datagram(&ss->conn) < IPV6_MIN_MTU) {
		/* RFC 8200 5: IPv6 needs 1280 bytes, and no Packet Too Big may
		 * say less: whole packets would be lost without a word. */
		if (hub_login_says(ss))
			hub_slog(LOG_LVL_INFO, ss, "session %llu: no IPv6 inside the tunnel: its "
			         "connection carries packets of at most %zu bytes, IPv6 needs %d",
			         (unsigned long long)ss->id, conn_max_datagram(&ss->conn), IPV6_MIN_MTU);
		ss->has6 = false;
	}
	struct session *old = replaced_session(s, ss, entry);
	if (at_limit(s, ss, entry, old))
		return;
	uint32_t vip = assign_vip(s, ss, entry, old, hub24);
	if (!vip) {
		char net[INET_ADDRSTRLEN], msg[SLOPN_MESSAGE_MAX];
		ip4str(s->addrs.pool.network, net);
		if (hub24 && s->addrs.pool.prefix < 24)
			snprintf(msg, sizeof(msg), "Address pool exhausted: %s/24, the part of %s/%u "
			         "this client can use (it takes a /24), holds 253 clients", net, net,
			         s->addrs.pool.prefix);
		else
			snprintf(msg, sizeof(msg), "Address pool exhausted: %s/%u holds %u clients", net,
			         s->addrs.pool.prefix, pool_capacity(&s->addrs.pool));
		int64_t left;
		size_t kept = alloc_kept_back(&s->addrs, time(NULL), &left);
		if (kept) {
			size_t used = strlen(msg);
			snprintf(msg + used, sizeof(msg) - used, "; %zu of its addresses kept %lld s more for "
			         "clients of the hub's last run", kept, (long long)left);
		}
		refuse_full(ss, SLOPN_ERR_POOL_EXHAUSTED, msg, "address pool exhausted",
		            &s->refused_pool_full);
		return;
	}
	if (entry)
		token_used(s, entry);
	ss->vip = vip;
	if (ss->has6) {
		alloc_vip6(&s->addrs, vip, &ss->vip6);
		ip6str(&ss->vip6, ss->vip6s);
	}
	ss->logged_in = true;
	conn_ctl_logged_in(&ss->conn);
	ss->conn.linger = true;
	hub_leases_dirty(s);
	hub_peers_dirty(s);
	hub_admit_leave(ss);
	snprintf(ss->client_version, sizeof(ss->client_version), "%s", req.client_version);
	snprintf(ss->os, sizeof(ss->os), "%s", req.os);

	struct slopn_login_response r = {.ok = true, .prefix_len = s->addrs.pool.prefix};
	r.assigned_vip.s_addr = htonl(vip);
	r.server_vip.s_addr = htonl(pool_hub_addr(&s->addrs.pool));
	snprintf(r.server_version, sizeof(r.server_version), "%s", SLOPN_VERSION);
	r.dns.s_addr = s->cfg->dns;
	if (ss->has6) {
		r.prefix_len6 = 64;
		r.assigned_vip6 = ss->vip6;
		alloc_vip6(&s->addrs, pool_hub_addr(&s->addrs.pool), &r.server_vip6);
		r.dns6 = s->cfg->dns6;
		r.egress6 = s->egress6[0] != '\0';
	}
	send_json_line(ss, &r);
	if (testenv_get("SLOPND_TEST_KEY_UPDATE", 1, 1)) {
		/* Tests only: a hostile hub's TLS KeyUpdate (RFC 9001 6 forbids
		 * it), which the client must survive. Static: kept until acked. */
		static const uint8_t ku[] = {24, 0, 0, 1, 0};
		ngtcp2_conn_submit_crypto_data(ss->conn.qc, NGTCP2_CRYPTO_LEVEL_APPLICATION, ku,
		                               sizeof(ku));
	}
	char vs[INET_ADDRSTRLEN];
	ip4str(vip, vs);
	if (!ss->quiet)
		hub_slog(LOG_LVL_INFO, ss, "session %llu up: token %s vip %s%s%s remote %s client %s os "
		         "%s (max packet %zu)%s", (unsigned long long)ss->id, ss->token_name, vs,
		         ss->has6 ? " vip6 " : "", ss->vip6s, ss->remote,
		         *req.client_version ? req.client_version : "?", *req.os ? req.os : "?",
		         conn_max_datagram(&ss->conn),
		         ss->quiet_last ? "; more logins from its address this minute are counted, "
		                          "not logged" : "");
	hub_notify_status(s);
	control_notify(s->ctl, "session.up",
	               json_pack("{s:I, s:s, s:s, s:o, s:s}", "id", (json_int_t)ss->id,
	                         "token", ss->token_name, "vip", vs,
	                         "vip6", ss->has6 ? json_string(ss->vip6s) : json_null(),
	                         "remote", ss->remote));
}

void hub_session_line_skipped(struct conn *c)
{
	struct session *ss = c->owner;
	log_debug("session %llu: skipped a control line over %d bytes (%llu on this session)",
	          (unsigned long long)ss->id, LINEBUF_CAP, (unsigned long long)c->ctl_skipped);
}

void hub_session_line(struct conn *c, const char *line, size_t len)
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
