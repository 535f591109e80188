/* The hub's control methods (docs/control-api.md): status, sessions, tokens
 * and events. Each checks its params and names what was wrong. */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build.h"
#include "daemon/dataplane.h"
#include "daemon/hub.h"
#include "daemon/log.h"
#include "daemon/timer.h"
#include "proto/invite.h"
#include "proto/jsonrpc.h"
#include "proto/text.h"

static json_t *m_status(void *ctx, struct control_caller *who, json_t *params, int *code,
                        char *err, size_t errlen)
{
	struct server *s = ctx;
	struct conn_stats t;
	unsigned n = hub_totals(s, &t);
	char net[INET_ADDRSTRLEN], hub[INET_ADDRSTRLEN], subnet[32];
	snprintf(subnet, sizeof(subnet), "%s/%u", ip4str(s->addrs.pool.network, net),
	         s->addrs.pool.prefix);
	json_t *admission = json_pack("{s:i, s:i, s:i, s:i}",
		"handshakes", (int)s->handshaking, "handshakes_queued", (int)hub_queued(s),
		"awaiting_login", (int)hub_awaiting_login(s),
		"closing", (int)hub_closing(s));
	for (size_t i = 0; admission && i < admit_counter_count; i++)
		json_object_set_new(admission, admit_counter_names[i].name,
		                    json_integer((json_int_t)admit_counter(&s->adm, i)));
	json_t *r = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:s, s:b, s:{s:I, s:I, s:I, s:I, s:o}, s:o, s:o}",
		"version", SLOPN_VERSION, "build", SLOPN_BUILD, "role", "server", "listen", s->listen,
		"subnet", subnet, "hub_vip", ip4str(pool_hub_addr(&s->addrs.pool), hub),
		"sessions", (int)n, "uptime", (json_int_t)((timer_now_usec() - s->started_mono) / 1000000),
		"pin", s->id.pin, "spoke_to_spoke", s->spoke_to_spoke,
		"totals", "rx_pkts", (json_int_t)t.rx_pkts, "rx_bytes", (json_int_t)t.rx_bytes,
		"tx_pkts", (json_int_t)t.tx_pkts, "tx_bytes", (json_int_t)t.tx_bytes,
		"drops", control_drops_json(&t), "admission", admission,
		"offload", dataplane_offload_json(&s->tun, &s->udp));
	/* IPv6 inside the tunnel, or null for both when it is off. */
	char net6[INET6_ADDRSTRLEN + 4] = "", hub6[INET6_ADDRSTRLEN] = "";
	if (s->addrs.has6) {
		struct in6_addr v6;
		alloc_vip6(&s->addrs, s->addrs.pool.network, &v6);  /* PREFIX6::0 */
		snprintf(net6, sizeof(net6), "%s/64", ip6str(&v6, hub6));
		alloc_vip6(&s->addrs, pool_hub_addr(&s->addrs.pool), &v6);
		ip6str(&v6, hub6);
	}
	/* Logins with a right token that were refused all the same. */
	json_object_set_new(r, "logins_refused", json_pack("{s:I, s:I}",
		"pool_full", (json_int_t)s->refused_pool_full,
		"token_limit", (json_int_t)s->refused_token_limit));
	json_object_set_new(r, "tun", json_string(s->tunname));
	json_object_set_new(r, "tun_up", json_boolean(!s->tun_down));
	/* Memory held for senders kept unread (hub_spoke.c): 0 when none is. */
	json_object_set_new(r, "spoke_stash_bytes", json_integer((json_int_t)s->stash_total));
	json_object_set_new(r, "spoke_sheds", json_integer((json_int_t)s->spoke_sheds));
	/* Event subscribers dropped for leaving 4 MiB of events unread. */
	json_object_set_new(r, "subscribers_dropped",
	                    json_integer((json_int_t)control_subscribers_dropped(s->ctl)));
	/* Log lines held back by the budgets (log.h), each summed up in a
	 * line a minute later. */
	json_object_set_new(r, "log_suppressed", json_integer((json_int_t)log_suppressed));
	/* The sessions' queues of packets waiting to be sent (conn.c). */
	size_t qmem = 0;
	for (const struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link))
		qmem += conn_queue_mem(&ss->conn);
	json_object_set_new(r, "queue_bytes", json_integer((json_int_t)qmem));
	/* What they may hold in all (--queue-memory): a queue past it is refused,
	 * its packets counted as queue_memory. */
	json_object_set_new(r, "queue_budget", json_integer((json_int_t)s->qbudget.limit));
	json_object_set_new(r, "subnet6", *net6 ? json_string(net6) : json_null());
	json_object_set_new(r, "hub_vip6", *hub6 ? json_string(hub6) : json_null());
	json_object_set_new(r, "nat", !s->nat_on ? json_null() :
		json_pack("{s:s, s:s, s:o, s:i, s:i, s:i}",
		          "backend", s->nat_backend == NAT_IPTABLES ? "iptables" : "nftables",
		          "egress", s->egress, "egress6", s->egress6[0] ? json_string(s->egress6) : json_null(),
		          "allowed", (int)s->nat_allowed, "installs", (int)s->nat_installs,
		          "restored", (int)s->nat_restored));
	/* State files whose last save failed (a full disk), and why. */
	json_t *unsaved = json_object();
	for (int i = 0; i < SAVED_FILES; i++)
		if (s->saved[i].failing)
			json_object_set_new(unsaved, saved_file_name[i], json_string(s->saved[i].err));
	json_object_set_new(r, "save_errors", unsaved);
	/* SIGHUPs taken, and what the last one kept back. */
	json_t *rerr = s->reload_error[0] ? json_string(s->reload_error) : json_null();
	json_object_set_new(r, "reload", json_pack("{s:I, s:o}", "count", (json_int_t)s->reloads,
		"error", rerr ? rerr : json_string("(a path that is not UTF-8)")));
	return r;
}

static json_t *session_json(struct session *ss)
{
	const struct conn_stats *st = &ss->conn.stats;
	ngtcp2_conn_stat cs;
	ngtcp2_conn_get_conn_stat(ss->conn.qc, &cs);
	uint64_t now = conn_now();
	char vip[INET_ADDRSTRLEN];
	/* min_rtt_ms and in_flight with cwnd: ngtcp2 0.12 stops growing the
	 * window at 2.89 x delivery rate x min RTT, which is what limits one
	 * fast stream on a LAN (docs/bench/2026-11-30-cwnd-cap.md). */
	json_t *r = json_pack("{s:I, s:s, s:s, s:o, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:f, s:o, s:I, s:I, "
	                      "s:I, s:s, s:s, s:o, s:I, s:I}",
		"id", (json_int_t)ss->id, "token", ss->token_name, "vip", ip4str(ss->vip, vip),
		"vip6", ss->has6 ? json_string(ss->vip6s) : json_null(),
		"remote", ss->remote, "since", (json_int_t)ss->since,
		"rx_bytes", (json_int_t)st->rx_bytes, "rx_pkts", (json_int_t)st->rx_pkts,
		"tx_bytes", (json_int_t)st->tx_bytes, "tx_pkts", (json_int_t)st->tx_pkts,
		"drops", control_drops_json(st), "rtt_ms", (double)cs.smoothed_rtt / 1e6,
		"min_rtt_ms", cs.min_rtt == UINT64_MAX ? json_null() : json_real((double)cs.min_rtt / 1e6),
		"cwnd", (json_int_t)cs.cwnd, "in_flight", (json_int_t)cs.bytes_in_flight,
		/* Less than full size for a client on a narrow way (conn_client_init). */
		"max_packet", (json_int_t)conn_max_datagram(&ss->conn),
		"client_version", ss->client_version, "os", ss->os,
		"client_id", ss->client_id[0] ? json_string(ss->client_id) : json_null(),
		/* Dropping its own excess instead of holding the TUN (hub_data.c):
		 * for how much longer. */
		"shed_ms", (json_int_t)(ss->shed_until > now ? (ss->shed_until - now) / NGTCP2_MILLISECONDS : 0),
		/* Its stream's lines over 4 KiB since the login, skipped. */
		"lines_skipped", (json_int_t)ss->conn.ctl_skipped);
	/* Its queue's memory: who holds the budget (server.status). */
	json_object_set_new(r, "queue_bytes", json_integer((json_int_t)conn_queue_mem(&ss->conn)));
	return r;
}

static json_t *m_sessions_list(void *ctx, struct control_caller *who, json_t *params,
                               int *code, char *err, size_t errlen)
{
	struct server *s = ctx;
	json_t *list = json_array();
	for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link))
		if (ss->logged_in)
			json_array_append_new(list, session_json(ss));
	return json_pack("{s:o}", "sessions", list);
}

static json_t *m_sessions_kick(void *ctx, struct control_caller *who, json_t *params,
                               int *code, char *err, size_t errlen)
{
	struct server *s = ctx;
	int64_t id = 0;
	const char *vip = NULL, *token = NULL, *reason = "kicked by the administrator";
	*code = JSONRPC_INVALID_PARAMS;
	if (jsonrpc_param_int(params, "id", false, &id, err, errlen) < 0 ||
	    jsonrpc_param_string(params, "vip", false, &vip, err, errlen) < 0 ||
	    jsonrpc_param_string(params, "token", false, &token, err, errlen) < 0 ||
	    jsonrpc_param_string(params, "reason", false, &reason, err, errlen) < 0)
		return NULL;
	/* By presence, not value: an id of 0 is a wrong id, not none given. */
	bool by_id = params && json_object_get(params, "id");
	if (by_id + (vip != NULL) + (token != NULL) != 1) {
		snprintf(err, errlen, "give exactly one of params.id, params.vip, params.token");
		return NULL;
	}
	if (by_id && id < 1) {
		snprintf(err, errlen, "params.id: expected a session id, 1 or more (as sessions.list "
		         "gives them), not %lld", (long long)id);
		return NULL;
	}
	struct in_addr a;
	struct in6_addr a6;
	bool v6 = vip && inet_pton(AF_INET6, vip, &a6) == 1;
	if (vip && !v6 && inet_pton(AF_INET, vip, &a) != 1) {
		snprintf(err, errlen, "params.vip: '%s' is not an IP address", vip);
		return NULL;
	}
	char why[128];
	/* Cut on a character, so that the session.down event can carry it. */
	snprintf(why, sizeof(why), "kicked: %.*s",
	         (int)text_cut(reason, strlen(reason), sizeof(why) - sizeof("kicked: ")), reason);
	text_clean(why, strlen(why)); /* one log line, nothing a terminal acts on */
	int kicked = 0;
	for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link)) {
		/* One closing already (kicked, replaced) is not kicked again:
		 * its close, and the reason in it, were sent. */
		if (!ss->logged_in || ss->conn.close_pending)
			continue;
		if ((by_id && ss->id != (uint64_t)id) ||
		    (vip && !v6 && ss->vip != ntohl(a.s_addr)) ||
		    (v6 && (!ss->has6 || memcmp(&ss->vip6, &a6, sizeof(a6)) != 0)) ||
		    (token && strcmp(token, ss->token_name) != 0))
			continue;
		hub_kick(s, ss, why);
		kicked++;
	}
	udp_flush(&s->udp);
	if (!kicked) {
		/* Which was asked for, as the caller gave it. */
		*code = SLOPN_RPC_NO_SESSION;
		if (by_id)
			snprintf(err, errlen, "no session matches id %lld (see 'slopnctl sessions list')",
			         (long long)id);
		else if (vip)
			snprintf(err, errlen, "no session matches VIP %s (see 'slopnctl sessions list')", vip);
		else if (tokens_find(&s->tokens, token) ||
		         (s->has_token && !strcmp(token, SHARED_TOKEN_NAME)))
			snprintf(err, errlen, "no session matches token '%.64s': it has none live (see "
			         "'slopnctl sessions list')", token);
		else
			snprintf(err, errlen, "no session matches token '%.64s%s': there is no token of that "
			         "name (see 'slopnctl token list')", token, strlen(token) > 64 ? "..." : "");
		return NULL;
	}
	return json_pack("{s:i}", "kicked", kicked);
}

static json_t *m_subscribe(void *ctx, struct control_caller *who, json_t *params, int *code,
                           char *err, size_t errlen)
{
	if (!control_subscribe(who)) {
		*code = SLOPN_RPC_BUSY;
		snprintf(err, errlen, "too many subscribers: wait until one hangs up");
		return NULL;
	}
	return json_pack("{s:b}", "subscribed", 1);
}


/* ---- bans ---- */

static void ban_json(const struct ban_entry *e, uint64_t left, void *ctx)
{
	char a[INET6_ADDRSTRLEN];
	ban_addr_str(e, a, sizeof(a));
	json_array_append_new(ctx, json_pack("{s:s, s:I, s:I, s:I}", "address", a,
	                                     "until", (json_int_t)(time(NULL) + (time_t)left),
	                                     "remaining", (json_int_t)left,
	                                     "refused", (json_int_t)e->refused));
}

static json_t *m_bans_list(void *ctx, struct control_caller *who, json_t *params, int *code,
                           char *err, size_t errlen)
{
	struct server *s = ctx;
	json_t *list = json_array();
	ban_foreach(&s->bans, conn_now() / NGTCP2_SECONDS, ban_json, list);
	return json_pack("{s:o}", "bans", list);
}

/* Each entry bans.remove drops: a ban lifted is said, sent as an event
 * and listed in the answer, as the ban event and bans list name it;
 * failures forgotten are said. */
struct lifted {
	struct server *s;
	json_t *list;
};

static void ban_lifted(const char *covered, bool banned, void *ctx)
{
	struct lifted *l = ctx;
	if (!banned) {
		log_info("failed logins of %s forgotten by the administrator", covered);
		return;
	}
	log_info("ban on %s lifted by the administrator", covered);
	json_array_append_new(l->list, json_string(covered));
	control_notify(l->s->ctl, "ban.removed", json_pack("{s:s, s:s}", "address", covered,
	                                                   "reason", "lifted"));
}

static json_t *m_bans_remove(void *ctx, struct control_caller *who, json_t *params, int *code,
                             char *err, size_t errlen)
{
	struct server *s = ctx;
	const char *addr = NULL;
	/* "addr" is the name in the design's table: callers written to it work. */
	const char *key = !json_object_get(params, "address") && json_object_get(params, "addr")
	                      ? "addr" : "address";
	*code = JSONRPC_INVALID_PARAMS;
	if (jsonrpc_param_string(params, key, true, &addr, err, errlen) < 0)
		return NULL;
	struct lifted l = {s, json_array()};
	int r = ban_lift(&s->bans, addr, conn_now() / NGTCP2_SECONDS, ban_lifted, &l);
	if (r <= 0) {
		json_decref(l.list);
		if (r < 0)
			snprintf(err, errlen, "params.%s: '%s' is not an IP address (nor ADDR:PORT, nor an "
			         "IPv6 /64, /56 or /48 as bans list shows it)", key, addr);
		else {
			*code = SLOPN_RPC_NO_BAN;
			snprintf(err, errlen, "%s is not banned (see 'slopnctl bans list')", addr);
		}
		return NULL;
	}
	/* r 2: not banned, but failing: its failures are forgotten, and the
	 * answer says so (a change, not an error). */
	return json_pack("{s:b, s:b, s:o}", "removed", r == 1, "failures_forgotten", 1, "lifted",
	                 l.list);
}

/* ---- metrics ---- */

static json_t *m_metrics(void *ctx, struct control_caller *who, json_t *params, int *code,
                         char *err, size_t errlen)
{
	size_t len;
	char *text = hub_metrics_text(ctx, &len);
	if (!text) {
		*code = JSONRPC_INTERNAL_ERROR;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_t *r = json_pack("{s:s%}", "text", text, len);
	free(text);
	return r;
}

/* ---- tokens ---- */

static json_t *time_or_null(int64_t t)
{
	return t ? json_integer(t) : json_null();
}

static json_t *vip_or_null(uint32_t vip)
{
	char v[INET_ADDRSTRLEN];
	return vip ? json_string(ip4str(vip, v)) : json_null();
}

/* The IPv6 address that mirrors a fixed VIP, when the hub has IPv6. */
static json_t *vip6_or_null(const struct server *s, uint32_t vip)
{
	char v[INET6_ADDRSTRLEN];
	struct in6_addr a;
	if (!vip || !s->addrs.has6 || !alloc_assignable(&s->addrs, vip))
		return json_null();
	alloc_vip6(&s->addrs, vip, &a);
	return json_string(ip6str(&a, v));
}

static json_t *limit_or_null(const struct token_entry *e)
{
	return e->max_sessions ? json_integer(e->max_sessions) : json_null();
}

/* Whether the address is a wildcard one: no place for a client to go. */
static bool wildcard(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
	return a->ss_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr);
}

/* Whether host is a wildcard address in any spelling a client would read
 * (0.0.0.0, 0, ::0, 0:0::0): inet_aton's IPv4 forms are getaddrinfo's. */
static bool wildcard_host(const char *host)
{
	struct in_addr a;
	struct in6_addr a6;
	if (inet_aton(host, &a))
		return a.s_addr == htonl(INADDR_ANY);
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_UNSPECIFIED(&a6);
}

/* "HOST:PORT" that clients reach: --public-address (its port defaulting to
 * the port listened on), else what the hub listens on (s->listen: a
 * socket from systemd's address, not --listen) unless the socket is bound
 * to a wildcard address, however --listen spelled it; none for a
 * link-local one (each client names its own interface). */
static int invite_server(const struct server *s, char *buf, size_t len)
{
	char *lhost, *lport, *phost = NULL, *pport = NULL;
	if (split_host_port(s->listen, &lhost, &lport) < 0)
		return -1;
	if (s->cfg->public_address && split_host_port(s->cfg->public_address, &phost, &pport) < 0)
		phost = NULL;
	bool explicit_port = s->cfg->public_address && host_port_has_port(s->cfg->public_address);
	const char *host = phost ? phost : lhost;
	const char *port = phost && explicit_port ? pport : lport;
	int rv = -1;
	struct in6_addr a6;
	bool link_local = strchr(host, '%') ||
	                  (inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LINKLOCAL(&a6));
	if (!link_local && (phost ? !wildcard_host(phost) : !wildcard(&s->udp.local))) {
		snprintf(buf, len, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
		rv = 0;
	}
	free(lhost), free(lport), free(phost), free(pport);
	return rv;
}

/* A token's fixed VIP, given as its IPv4 address or as the IPv6 address
 * that mirrors it. 0, or -1 with code and err set. */
static int parse_vip(struct server *s, const char *str, uint32_t *vip, int *code, char *err,
                     size_t errlen)
{
	struct in_addr a;
	struct in6_addr a6;
	char net[INET6_ADDRSTRLEN], last[INET6_ADDRSTRLEN];
	if (inet_pton(AF_INET, str, &a) == 1) {
		*vip = ntohl(a.s_addr);
		if (alloc_assignable(&s->addrs, *vip))
			return 0;
		*code = SLOPN_RPC_BAD_VIP;
		char why[160];
		alloc_why_not(&s->addrs, *vip, why, sizeof(why));
		snprintf(err, errlen, "VIP %s is not a client address: it is %s", str, why);
		return -1;
	}
	if (inet_pton(AF_INET6, str, &a6) != 1) {
		*code = JSONRPC_INVALID_PARAMS;
		snprintf(err, errlen, "params.vip: '%s' is not an IP address", str);
		return -1;
	}
	*code = SLOPN_RPC_BAD_VIP;
	if (!s->addrs.has6) {
		snprintf(err, errlen, "VIP %s: this hub carries no IPv6 (--subnet6)", str);
		return -1;
	}
	if (!(*vip = alloc_vip_of6(&s->addrs, &a6))) {
		struct in6_addr first, end;
		alloc_vip6(&s->addrs, s->addrs.pool.network + 2, &first);
		alloc_vip6(&s->addrs, s->addrs.pool.network + s->addrs.pool.size - 2, &end);
		snprintf(err, errlen, "VIP %s is not a client address: IPv6 addresses mirror the "
		         "IPv4 ones, %s to %s", str, ip6str(&first, net), ip6str(&end, last));
		return -1;
	}
	return 0;
}

/* The store was not written: log it, and tell the caller that nothing
 * changed, and what to do: a file edited by hand wants a reload, a failed
 * write room or permissions. */
static void store_failed(struct server *s, const char *what, const char *name, char *err,
                         size_t errlen)
{
	char why[1024];
	snprintf(why, sizeof(why), "%s", err);
	log_err("%s '%s': %s", what, name, why);
	if (tokens_changed_on_disk(&s->tokens))
		snprintf(err, errlen, "tokens.json %s (nothing changed)", why);
	else
		snprintf(err, errlen, "the token store could not be written (%s): nothing changed; "
		         "free some space or fix the state directory's permissions, then retry", why);
}

/* token.add's and token.set's expires_in and max_sessions (0: none). */
static bool token_terms_ok(int64_t expires_in, int64_t max_sessions, char *err, size_t errlen)
{
	if (expires_in < 0 || expires_in > TOKEN_EXPIRES_MAX_DAYS * INT64_C(86400)) {
		snprintf(err, errlen, "params.expires_in: expected seconds from now, up to 100 years' worth (0 or none: never)");
		return false;
	}
	if (max_sessions < 0 || max_sessions > TOKEN_MAX_SESSIONS) {
		snprintf(err, errlen, "params.max_sessions: expected 1-%d live sessions at once (0 or none: "
		         "no limit)", TOKEN_MAX_SESSIONS);
		return false;
	}
	return true;
}

static json_t *m_token_add(void *ctx, struct control_caller *who, json_t *params, int *code,
                           char *err, size_t errlen)
{
	struct server *s = ctx;
	const char *name = NULL, *vip_s = NULL;
	int64_t expires_in = 0, max_sessions = TOKEN_DEFAULT_SESSIONS; /* given 0: no limit */
	*code = JSONRPC_INVALID_PARAMS;
	if (jsonrpc_param_string(params, "name", true, &name, err, errlen) < 0 ||
	    jsonrpc_param_int(params, "expires_in", false, &expires_in, err, errlen) < 0 ||
	    jsonrpc_param_string(params, "vip", false, &vip_s, err, errlen) < 0 ||
	    jsonrpc_param_int(params, "max_sessions", false, &max_sessions, err, errlen) < 0)
		return NULL;
	if (!token_name_valid(name)) {
		snprintf(err, errlen, "params.name: expected 1-%d characters of A-Z a-z 0-9 . _ @ -",
		         TOKEN_NAME_MAX);
		return NULL;
	}
	if (!strcmp(name, SHARED_TOKEN_NAME)) {
		*code = SLOPN_RPC_NAME_TAKEN;
		snprintf(err, errlen, "'%s' is reserved for the --token of the command line", name);
		return NULL;
	}
	if (!token_terms_ok(expires_in, max_sessions, err, errlen))
		return NULL;
	uint32_t vip = 0;
	if (vip_s) {
		if (parse_vip(s, vip_s, &vip, code, err, errlen) < 0)
			return NULL;
		*code = SLOPN_RPC_BAD_VIP;
		for (size_t i = 0; i < s->tokens.n; i++)
			if (s->tokens.v[i].vip == vip) {
				snprintf(err, errlen, "VIP %s is the fixed VIP of token '%s' (remove that "
				         "token first, or pick another)", vip_s, s->tokens.v[i].name);
				return NULL;
			}
		struct session *holder = alloc_holder(&s->addrs, vip);
		if (holder) {
			snprintf(err, errlen, "VIP %s is in use by session %llu (kick it first, or pick another)",
			         vip_s, (unsigned long long)holder->id);
			return NULL;
		}
	}
	char secret[TOKEN_SECRET_LEN + 1];
	struct token_entry want = {.expires = expires_in ? time(NULL) + expires_in : 0, .vip = vip,
	                           .max_sessions = (uint32_t)max_sessions};
	snprintf(want.name, sizeof(want.name), "%s", name);
	int rc = tokens_add(&s->tokens, &want, secret, err, errlen);
	if (rc) {
		*code = rc;
		if (rc == SLOPN_RPC_STORE_FAILED)
			store_failed(s, "token.add", name, err, errlen);
		return NULL;
	}
	hub_expiry_arm(s);
	if (vip)
		hub_fixed_changed(s); /* a client's lease on it goes */
	const struct token_entry *e = tokens_find(&s->tokens, name);
	char server[300], invite[600];
	json_t *inv = json_null();
	if (invite_server(s, server, sizeof(server)) == 0 &&
	    invite_format(invite, sizeof(invite), secret, server, s->id.pin) > 0)
		inv = json_string(invite);
	char limit[48] = "no limit of sessions";
	if (e->max_sessions)
		snprintf(limit, sizeof(limit), "at most %u sessions at once", (unsigned)e->max_sessions);
	log_info("token '%s' added, %s%s", name, limit,
	         json_is_null(inv) ? " (no invite: set --public-address)" : "");
	json_t *r = json_pack("{s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:o}", "name", name, "token", secret,
	                      "invite", inv, "created", (json_int_t)e->created,
	                      "expires", time_or_null(e->expires), "vip", vip_or_null(e->vip),
	                      "vip6", vip6_or_null(s, e->vip), "max_sessions", limit_or_null(e));
	gnutls_memset(secret, 0, sizeof(secret));
	gnutls_memset(invite, 0, sizeof(invite));
	control_notify(s->ctl, "token.added", json_pack("{s:s}", "name", name));
	return r;
}

/* A token's use: live sessions, and its totals over time (traffic.json). */
static void add_totals(json_t *o, const struct traffic_entry *t, unsigned live)
{
	json_object_update_new(o, json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "live", (int)live,
		"sessions", (json_int_t)t->sessions, "rx_bytes", (json_int_t)t->rx_bytes,
		"rx_pkts", (json_int_t)t->rx_pkts, "tx_bytes", (json_int_t)t->tx_bytes,
		"tx_pkts", (json_int_t)t->tx_pkts, "last_seen", time_or_null(t->last_seen),
		"last_remote", t->last_remote[0] ? json_string(t->last_remote) : json_null()));
}

static json_t *m_token_list(void *ctx, struct control_caller *who, json_t *params, int *code,
                            char *err, size_t errlen)
{
	struct server *s = ctx;
	/* The shared --token first, then the store's. */
	size_t n, sh = s->has_token ? 1 : 0;
	const char **names = hub_token_names(s, &n);
	struct traffic_entry *t = calloc(n + 1, sizeof(*t));
	unsigned *live = calloc(n + 1, sizeof(*live));
	json_t *list = json_array();
	bool ok = names && t && live && list && hub_tokens_totals(s, names, n, t, live) == 0;
	free(names);
	if (!ok) {
		free(t), free(live), json_decref(list);
		*code = JSONRPC_INTERNAL_ERROR;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sh) {
		json_t *o = json_pack("{s:s, s:b, s:I, s:n, s:n, s:n, s:n, s:n}", "name", SHARED_TOKEN_NAME,
		                      "shared", 1, "created", (json_int_t)hub_started(s), "expires", "vip",
		                      "vip6", "last_used", "max_sessions");
		add_totals(o, &t[0], live[0]);
		json_array_append_new(list, o);
	}
	for (size_t i = 0; i < s->tokens.n; i++) {
		const struct token_entry *e = &s->tokens.v[i];
		json_t *o = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "name", e->name,
		                      "created", (json_int_t)e->created, "expires", time_or_null(e->expires),
		                      "vip", vip_or_null(e->vip), "vip6", vip6_or_null(s, e->vip),
		                      "last_used", time_or_null(e->last_used),
		                      "max_sessions", limit_or_null(e));
		add_totals(o, &t[sh + i], live[sh + i]);
		json_array_append_new(list, o);
	}
	free(t);
	free(live);
	return json_pack("{s:o}", "tokens", list);
}

static json_t *m_token_remove(void *ctx, struct control_caller *who, json_t *params,
                              int *code, char *err, size_t errlen)
{
	struct server *s = ctx;
	const char *name = NULL;
	bool kick = false;
	*code = JSONRPC_INVALID_PARAMS;
	if (jsonrpc_param_string(params, "name", true, &name, err, errlen) < 0 ||
	    jsonrpc_param_bool(params, "kick", false, &kick, err, errlen) < 0)
		return NULL;
	if (!strcmp(name, SHARED_TOKEN_NAME) && s->has_token && !tokens_find(&s->tokens, name)) {
		*code = SLOPN_RPC_NO_TOKEN;
		snprintf(err, errlen, "the shared token comes from --token or the config file: change it there");
		return NULL;
	}
	/* A longer name would be cut to another token's. */
	if (strlen(name) > TOKEN_NAME_MAX) {
		*code = SLOPN_RPC_NO_TOKEN;
		snprintf(err, errlen, "no token of a name that long (at most %d bytes)", TOKEN_NAME_MAX);
		return NULL;
	}
	char copy[TOKEN_NAME_MAX + 1];
	snprintf(copy, sizeof(copy), "%s", name); /* name lives in params, the entry goes away */
	int rc = tokens_remove(&s->tokens, copy, err, errlen);
	if (rc) {
		*code = rc;
		if (rc == SLOPN_RPC_STORE_FAILED)
			store_failed(s, "token.remove", copy, err, errlen);
		return NULL;
	}
	alloc_forget_token(&s->addrs, copy);
	hub_fixed_changed(s);
	int kicked = 0;
	if (kick) {
		/* As sessions.kick: one closing already is not kicked, nor counted. */
		for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link))
			if (ss->logged_in && !ss->conn.close_pending && !ss->token_removed &&
			    !strcmp(ss->token_name, copy)) {
				hub_kick(s, ss, "kicked: token removed");
				kicked++;
			}
		udp_flush(&s->udp);
	}
	if (kick)
		log_info("token '%s' removed, %d session%s kicked", copy, kicked, kicked == 1 ? "" : "s");
	else
		log_info("token '%s' removed; its %d live session%s go on", copy,
		         hub_token_live(s, copy), hub_token_live(s, copy) == 1 ? "" : "s");
	hub_traffic_tokens_gone(s);
	control_notify(s->ctl, "token.removed", json_pack("{s:s, s:i}", "name", copy, "kicked", kicked));
	return json_pack("{s:b, s:i}", "removed", 1, "kicked", kicked);
}

/* A token's expiry and session limit, changed without a new secret. A
 * limit lowered below its live sessions refuses new logins only. */
static json_t *m_token_set(void *ctx, struct control_caller *who, json_t *params, int *code,
                           char *err, size_t errlen)
{
	struct server *s = ctx;
	const char *name = NULL;
	int64_t expires_in = 0, max_sessions = 0;
	bool new_expiry = json_object_get(params, "expires_in") != NULL;
	bool new_limit = json_object_get(params, "max_sessions") != NULL;
	*code = JSONRPC_INVALID_PARAMS;
	if (jsonrpc_param_string(params, "name", true, &name, err, errlen) < 0 ||
	    jsonrpc_param_int(params, "expires_in", false, &expires_in, err, errlen) < 0 ||
	    jsonrpc_param_int(params, "max_sessions", false, &max_sessions, err, errlen) < 0)
		return NULL;
	if (!new_expiry && !new_limit) {
		snprintf(err, errlen, "give params.expires_in, params.max_sessions or both");
		return NULL;
	}
	if (!token_terms_ok(expires_in, max_sessions, err, errlen))
		return NULL;
	const struct token_entry *e = tokens_find(&s->tokens, name);
	if (!e) {
		*code = SLOPN_RPC_NO_TOKEN;
		snprintf(err, errlen, !strcmp(name, SHARED_TOKEN_NAME) && s->has_token
		         ? "the shared token comes from --token or the config file: change it there"
		         : "no token named '%s' (see 'slopnctl token list')", name);
		return NULL;
	}
	int64_t expires = !new_expiry ? e->expires : expires_in ? time(NULL) + expires_in : 0;
	uint32_t max = !new_limit ? e->max_sessions : (uint32_t)max_sessions;
	char copy[TOKEN_NAME_MAX + 1];
	snprintf(copy, sizeof(copy), "%s", name);
	int rc = tokens_set(&s->tokens, copy, expires, max, err, errlen);
	if (rc) {
		*code = rc;
		if (rc == SLOPN_RPC_STORE_FAILED)
			store_failed(s, "token.set", copy, err, errlen);
		return NULL;
	}
	hub_expiry_arm(s);
	e = tokens_find(&s->tokens, copy);
	char when[48] = "never expires", limit[48] = "no session limit";
	if (e->expires)
		snprintf(when, sizeof(when), "expires in %llds", (long long)(e->expires - time(NULL)));
	if (e->max_sessions)
		snprintf(limit, sizeof(limit), "at most %u live sessions", e->max_sessions);
	log_info("token '%s' changed: %s, %s", copy, when, limit);
	control_notify(s->ctl, "token.changed", json_pack("{s:s}", "name", copy));
	return json_pack("{s:s, s:o, s:o}", "name", copy, "expires", time_or_null(e->expires),
	                 "max_sessions", limit_or_null(e));
}

const struct control_method hub_methods[] = {
	{"server.status", m_status, false, NULL},
	{"sessions.list", m_sessions_list, false, NULL},
	{"sessions.kick", m_sessions_kick, true, "id vip token reason"},
	{"token.add", m_token_add, true, "name expires_in vip max_sessions"},
	{"token.list", m_token_list, false, NULL},
	{"token.set", m_token_set, true, "name expires_in max_sessions"},
	{"token.remove", m_token_remove, true, "name kick"},
	{"bans.list", m_bans_list, false, NULL},
	{"bans.remove", m_bans_remove, true, "address addr"},
	{"metrics.get", m_metrics, false, NULL},
	{"events.subscribe", m_subscribe, false, NULL},
	{NULL, NULL, false, NULL},
};
