/* The client: one QUIC connection to the hub at a time, one TUN device that
 * stays up across reconnects. */
#include "build.h"
#include "daemon/client.h"
#include "daemon/client_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "daemon/clientid.h"
#include "daemon/conn.h"
#include "daemon/control.h"
#include "daemon/dataplane.h"
#include "daemon/log.h"
#include "daemon/timer.h"
#include "daemon/tls.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/ipv6.h"
#include "proto/login.h"
#include "proto/text.h"
#include "tun/statefile.h"
#include "tun/dns.h"
#include "tun/fulltunnel.h"
#include "tun/netlink.h"
#include "tun/tun.h"

#define BACKOFF_MAX 30
/* A connection that lasted this long (seconds) worked: its loss earns a
 * quick retry, and the backoff starts from 1 s again. Short enough that a
 * hub that crashes again soon after (restarted by its service manager) is
 * found back at once each time; longer than a hub that ends each connection
 * just after the login (or kicks, or sends a "path" line) takes, and than
 * the 2 to 3 s in which a busy client gives up on a hub gone silent. */
#define STEADY_SECS 5
/* Otherwise one quick retry (one per address of the hub's name) in this
 * many seconds, then the backoff. */
#define QUICK_WINDOW_SECS 30
/* A hub too busy for us now (too many waiting to log in): again within
 * BUSY_WAIT_MIN + [0, BUSY_WAIT_SPREAD) us, BUSY_TRIES times, then with the
 * backoff (a hub that stays full is not asked every second). */
#define BUSY_TRIES 20
#define BUSY_WAIT_MIN 250000u
#define BUSY_WAIT_SPREAD 1000000u

/* ---- TLS pin ---- */

static int verify_hub(gnutls_session_t session)
{
	ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(session);
	struct conn *c = ref->user_data;
	struct client *cl = c->owner;
	char pin[PIN_STRLEN];
	if (tls_peer_pin(session, pin) < 0) {
		log_err("the hub at %s sent no usable certificate: is it a SloPN hub?", cl->hub_str);
		return -1;
	}
	if (cl->cfg->pin) {
		if (strcasecmp(pin, cl->cfg->pin) != 0) {
			/* Not for good: anyone on the way to the hub can answer with a
			 * key of its own, and must not be able to end the client (and
			 * with it the tunnel) by doing so once. client_down says it. */
			memcpy(cl->pin_mismatch, pin, sizeof(pin));
			return -1;
		}
	} else if (!cl->seen_pin[0]) {
		log_info("hub pin %s (not checked: pass --pin to check it)", pin);
		memcpy(cl->seen_pin, pin, sizeof(pin));
	} else if (strcmp(pin, cl->seen_pin) != 0) {
		/* Not refused (nothing was pinned), but no longer quiet: the
		 * login, token and all, goes to a key other than before. */
		log_warn("the hub at %s has a key other than the one heard before: %s, was %s (not "
		         "checked: without --pin anyone on the way to the hub can answer for it with a "
		         "key of its own, and is sent the token; 'slopnd pin' on the hub gives its key)",
		         cl->hub_str, pin, cl->seen_pin);
		memcpy(cl->seen_pin, pin, sizeof(pin));
	}
	return 0;
}

/* ---- connection events ---- */

/* How long the hub has to answer a login (the hub checks a token at once;
 * a busy one may take a moment). */
#define LOGIN_WAIT (10 * 1000000u)

static void client_handshake(struct conn *c)
{
	struct client *cl = c->owner;
	struct slopn_login_request req = {0};
	char buf[SLOPN_LOGIN_MAX];
	/* The whole token or none (then no login is built): never cut short.
	 * The config took only tokens that fit. */
	size_t tl = strlen(cl->cfg->token);
	if (tl < sizeof(req.token))
		memcpy(req.token, cl->cfg->token, tl + 1);
	snprintf(req.client_version, sizeof(req.client_version), "slopn-c/%s", SLOPN_VERSION);
	snprintf(req.os, sizeof(req.os), "linux");
	snprintf(req.client_id, sizeof(req.client_id), "%s", cl->client_id);
	snprintf(req.instance, sizeof(req.instance), "%s", cl->instance);
	cl->no6_path = !cl->no6 && conn_max_datagram(c) < IPV6_MIN_MTU;
	req.ipv6 = !cl->no6;
	ssize_t n = slopn_login_request_format(&req, buf, sizeof(buf));
	gnutls_memset(req.token, 0, sizeof(req.token));
	bool sent = n >= 0 && conn_ctl_send(c, buf, (size_t)n);
	gnutls_memset(buf, 0, sizeof(buf));
	if (!sent)
		conn_close(c, SLOPN_ERR_CLIENT_EXIT, "cannot build login");
	else
		timer_once(cl->login_timer, LOGIN_WAIT);
}

/* A hub that finished the handshake and never answers the login (or
 * refuses it and never closes) would hold the client "connecting" for
 * good: its keep-alives answered, no idle timeout ever comes. */
static int on_login_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct client *cl = userdata;
	if (!cl->conn || cl->state == C_UP)
		return 0;
	char why[64 + sizeof(cl->refusal)];
	if (*cl->refusal)
		snprintf(why, sizeof(why), "the hub refused the login (%s) but did not close in %u s",
		         cl->refusal, LOGIN_WAIT / 1000000);
	else
		snprintf(why, sizeof(why), "no answer to the login in %u s", LOGIN_WAIT / 1000000);
	conn_close(cl->conn, SLOPN_ERR_CLIENT_EXIT, why);
	client_settle(cl);
	return 0;
}

/* A hub's line after the login that is not understood: said once a
 * connection, the rest counted in the log's debug level. A hub that sends
 * them at line rate must not fill the journal and hide what matters. */
static void bad_word(struct client *cl, const char *on, char *err)
{
	text_clean(err, strlen(err));
	if (cl->bad_words++ == 0)
		log_warn("the hub's word on %s is not understood: %s (more such words on this "
		         "connection are not logged)", on, err);
	else
		log_debug("the hub's word on %s is not understood (%u on this connection): %s", on,
		          cl->bad_words, err);
}

/* A line over 4 KiB after the login: skipped, as unknown ones are. */
static void client_line_skipped(struct conn *c)
{
	char why[64];
	snprintf(why, sizeof(why), "a line over %d bytes, skipped", LINEBUF_CAP);
	bad_word(c->owner, "its stream", why);
}

static void client_line(struct conn *c, const char *line, size_t len)
{
	struct client *cl = c->owner;
	if (cl->state == C_UP) {
		char type[32], err[160];
		struct slopn_network n;
		struct slopn_path p;
		if (slopn_msg_type(line, len, type, sizeof(type)) < 0)
			log_debug("ignoring a control message that is not a JSON object");
		else if (strcmp(type, "network") == 0) {
			if (slopn_network_parse(line, len, &n, err, sizeof(err)) < 0)
				bad_word(cl, "its network", err);
			else
				client_hub_network(cl, &n);
		} else if (strcmp(type, "path") == 0) {
			if (slopn_path_parse(line, len, &p, err, sizeof(err)) < 0)
				bad_word(cl, "the way to it", err);
			else
				client_hub_path(cl, p.max_udp_payload);
		} else {
			text_clean(type, strlen(type));
			log_debug("ignoring control message '%s'", type);
		}
		return;
	}
	struct slopn_login_response r;
	char err[160], why[208]; /* err with what says whose */
	if (slopn_login_response_parse(line, len, &r, err, sizeof(err)) < 0) {
		text_clean(err, strlen(err)); /* jansson quotes the hub's bytes */
		snprintf(why, sizeof(why), "the hub's login answer is not understood: %s", err);
		log_err("%s", why);
		conn_close(c, SLOPN_ERR_CLIENT_EXIT, why); /* also status's last_error */
		return;
	}
	cl->login_ignored[0] = '\0';
	if (r.ignored.n) {
		/* Taken as absent, as DESIGN.md has unknown fields: said, once a
		 * login. */
		char more[32] = "";
		if (r.ignored.n > 1)
			snprintf(more, sizeof(more), " (and %u more)", r.ignored.n - 1);
		snprintf(cl->login_ignored, sizeof(cl->login_ignored), "%s%s", r.ignored.why, more);
		log_warn("the hub's login answer: optional fields not understood, taken as absent: %s",
		         cl->login_ignored);
	}
	if (!r.ok) {
		/* The close with the error code follows; on_down decides. */
		snprintf(cl->refusal, sizeof(cl->refusal), "%s", r.message);
		return;
	}
	int rc = client_apply_address(cl, &r);
	if (rc <= CLIENT_SUBNET_HOLDS_HUB) {
		const char *reason = "the hub's VPN subnet holds its own address";
		if (rc == CLIENT_VIP_IS_HUB)
			reason = "the hub's VPN address for this client is the hub's own";
		else if (rc == CLIENT_SUBNET_IN_LAN)
			reason = "the hub's VPN subnet lies in a network of this machine's";
		else if (rc == CLIENT_VIP_IN_LAN)
			reason = "the hub's VPN address for this client lies in a network of this machine's";
		conn_close(c, SLOPN_ERR_CLIENT_EXIT, reason);
		return;
	}
	if (rc < 0 || client_apply_network(cl, &r) < 0) {
		cl->fatal = 1;
		conn_close(c, SLOPN_ERR_CLIENT_EXIT, "client cannot configure its network");
		return;
	}
	client_lan_build(cl);
	char vip[INET_ADDRSTRLEN], hub[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &r.assigned_vip, vip, sizeof(vip));
	inet_ntop(AF_INET, &r.server_vip, hub, sizeof(hub));
	cl->hub_vip = r.server_vip.s_addr;
	cl->state = C_UP;
	conn_ctl_logged_in(c);
	cl->attempts = 0;
	cl->busy_tries = 0;
	cl->bad_words = 0;
	sd_event_source_set_enabled(cl->login_timer, SD_EVENT_OFF);
	cl->problem[0] = '\0';
	client_probes_stop(cl); /* the handshake got through: the size is right */
	client_widen_start(cl);
	cl->addr_round = 0;
	/* A reconnect tries this address first. */
	const ngtcp2_path *path = ngtcp2_conn_get_path(c->qc);
	memcpy(&cl->prefer, path->remote.addr, path->remote.addrlen);
	cl->up_since = time(NULL);
	/* The backoff starts again once it lasted (client_down): judged on the
	 * monotonic clock, which a clock set back does not move. */
	sd_event_now(cl->ev, CLOCK_MONOTONIC, &cl->up_at);
	cl->banned = false;
	char v6[32 + 2 * INET6_ADDRSTRLEN] = "", a6[INET6_ADDRSTRLEN], h6[INET6_ADDRSTRLEN];
	if (cl->prefix6)
		snprintf(v6, sizeof(v6), ", vip6 %s/%u hub %s",
		         inet_ntop(AF_INET6, &cl->vip6, a6, sizeof(a6)), cl->prefix6,
		         inet_ntop(AF_INET6, &cl->hub_vip6, h6, sizeof(h6)));
	log_info("connected: vip %s/%u hub %s%s (server %s, max packet %zu)", vip, r.prefix_len, hub,
	         v6, r.server_version, conn_max_datagram(c));
	if (conn_max_datagram(c) < cl->cfg->mtu)
		log_warn("this connection carries packets of at most %zu bytes, less than the MTU %u "
		         "of %s: bigger ones are dropped (and counted); --mtu %zu fits%s",
		         conn_max_datagram(c), cl->cfg->mtu, cl->tunname, conn_max_datagram(c),
		         cl->no6_path && !cl->prefix6
		         ? "; no IPv6 inside the tunnel on it: IPv6 needs 1280 bytes" : "");
	sd_notifyf(0, "STATUS=connected to %s as %s", cl->cfg->server, vip);
}

/* Whether an ICMP error from the hub (one about our own packet) is about
 * a packet the machine sent into the tunnel: its destination taken there
 * by a route into the TUN at least as long as any out of its networks
 * beside and behind (cl->lan4/lan6, as the spoofing check has them). One
 * about a host reached another way (our QUIC packets to the hub, a
 * server behind the router) would have the kernel take the hub's "too
 * big" for that host's path: a hub could make it 552 bytes for any of
 * them. Not judged when the lists are incomplete. */
static bool error_through_tun(const struct client *cl, bool v6, const uint8_t *pkt, size_t n)
{
	uint8_t dst[16];
	const struct prefix_set *tun = v6 ? &cl->tun6 : &cl->tun4, *lan = v6 ? &cl->lan6 : &cl->lan4;
	if (!icmp_error_quoted_dst(pkt, n, dst) || tun->full || lan->full)
		return true;
	int t = prefix_set_longest(tun, dst);
	return t >= 0 && t >= prefix_set_longest(lan, dst);
}

static void client_datagram(struct conn *c, const uint8_t *pkt, size_t len)
{
	struct client *cl = c->owner;
	if (cl->state != C_UP) {
		c->stats.drop[DROP_BEFORE_LOGIN]++;
		return;
	}
	client_keep_wake(cl);
	struct ipv4_info ip;
	struct ipv6_info ip6;
	size_t n = 0;
	bool ours = false, v6 = cl->prefix6 && len && pkt[0] >> 4 == 6;
	if (v6) {
		if (ipv6_parse(pkt, len, &ip6) == IPV6_OK) {
			n = ip6.total_len;
			/* Link-scoped from the hub (a router advertisement, say)
			 * would act on this machine's own routing. */
			ours = !memcmp(ip6.dst, &cl->vip6, 16) && !ipv6_link_scoped(ip6.src);
		}
	} else if (ipv4_parse(pkt, len, &ip) == IPV4_OK) {
		n = ip.total_len;
		ours = ip.dst == cl->vip;
	}
	if (!n) {
		c->stats.drop[DROP_NOT_IPV4]++;
		return;
	}
	/* Only what is addressed to us: the hub has no business sending this
	 * machine packets for its LAN, or for anyone else; nor errors about
	 * packets that did not go through the tunnel (a "too big" about our
	 * own QUIC packets). */
	if (!ours || icmp_error_foreign(pkt, n, pkt[0] >> 4 == 6 ? cl->vip6.s6_addr
	                                                       : (const uint8_t *)&cl->vip) ||
	    !error_through_tun(cl, v6, pkt, n)) {
		c->stats.drop[DROP_NO_ROUTE]++;
		return;
	}
	/* Nor from a network beside this machine, or from itself: none comes
	 * through the tunnel, and a hub that sends one as from the LAN's router
	 * would reach what trusts the LAN (rp_filter in loose mode lets it in,
	 * IPv6 has none). */
	const void *src = v6 ? (const void *)ip6.src : &ip.src;
	int lan = prefix_set_longest(v6 ? &cl->lan6 : &cl->lan4, src);
	/* A route into the TUN more specific than the LAN's takes that part of
	 * it through the tunnel (a site behind the hub): its hosts' packets come
	 * from the hub, as the kernel's own routing has it. One as specific
	 * too: another client of the same hub on this machine has the same
	 * subnet's route into its TUN (underlay6.sh's second clients). */
	if (prefix_set_holds(v6 ? &cl->own6 : &cl->own4, src) ||
	    (lan >= 0 && lan > prefix_set_longest(v6 ? &cl->tun6 : &cl->tun4, src))) {
		c->stats.drop[DROP_SPOOFED]++;
		return;
	}
	tun_write(&cl->tun, pkt, n); /* flushed in client_settle() */
}

/* An IPv6 packet from the TUN that has no business in the tunnel: none
 * while the hub gave us no IPv6 address, and never link-scoped traffic
 * (multicast listener reports and the like are the TUN's own link's). It
 * is not sent, and not counted as a drop. */
static bool stays_here6(const struct client *cl, const uint8_t *pkt, size_t len)
{
	if (!len || pkt[0] >> 4 != 6)
		return false;
	struct ipv6_info ip;
	return !cl->prefix6 || (ipv6_parse(pkt, len, &ip) == IPV6_OK &&
	                        (ipv6_link_scoped(ip.dst) || ipv6_link_scoped(ip.src)));
}

static const char *app_code_name(uint64_t code)
{
	switch (code) {
	case SLOPN_ERR_CLIENT_EXIT: return "closed";
	case SLOPN_ERR_UNAUTHORIZED: return "unauthorized";
	case SLOPN_ERR_POOL_EXHAUSTED: return "pool exhausted";
	case SLOPN_ERR_BANNED: return "banned";
	case SLOPN_ERR_TOKEN_LIMIT: return "token's session limit";
	case SLOPN_ERR_BUSY: return "busy";
	default: return "error";
	}
}

static void tun_pause(struct client *cl, bool pause)
{
	dataplane_tun_pause(cl->tun_src, &cl->tun_paused, pause);
}

static void client_drained(struct conn *c)
{
	tun_pause(c->owner, false);
}

/* The wait (seconds) before the next attempt that is not a quick retry:
 * doubled each time, up to BACKOFF_MAX. */
static unsigned backoff_next(const struct client *cl)
{
	unsigned next = cl->backoff ? cl->backoff * 2 : 1;
	return next > BACKOFF_MAX ? BACKOFF_MAX : next;
}

/* What the client does after a failed attempt, for its message: the
 * name's next address at once (quick_retry), or the same after the backoff. */
static void next_try(struct client *cl, char *buf, size_t len)
{
	if (cl->quick_retry)
		snprintf(buf, len, "trying the name's next address");
	else
		snprintf(buf, len, "retrying in %us", backoff_next(cl));
}

static void client_down(struct conn *c)
{
	struct client *cl = c->owner;
	tun_pause(cl, false);
	client_restore_network(cl);
	bool was_up = cl->state == C_UP;
	cl->state = C_WAITING;
	if (cl->fatal)
		return;
	/* Only a connection that lasted starts the backoff again, and only
	 * its loss is retried at once whatever the window's count: a hub that
	 * ends each one at once (or kicks, or sends a "path" line) must not
	 * have us log in again and again, with the full tunnel's routes going
	 * and coming each time. Judged on how long this one lasted, not on the
	 * time since the last quick retry: a hub that crashes twice in 30 s
	 * is back for us at once both times. */
	uint64_t now;
	sd_event_now(cl->ev, CLOCK_MONOTONIC, &now);
	bool steady = was_up && now - cl->up_at >= STEADY_SECS * 1000000ull;
	if (steady)
		cl->backoff = 0;
	/* Lost, or the hub restarted: back at once. Kicked: the usual backoff. */
	cl->quick_retry = was_up && !(c->close_by_peer && c->close_app &&
	                              c->close_code == SLOPN_ERR_KICKED);
	cl->quick_steady = steady && cl->quick_retry;
	/* A key that is not the pin's is an answer too, also when it came in
	 * the first packet, which then does not count as heard (its read
	 * failed): the address is left once, below, and not watched. */
	bool heard = c->heard || cl->pin_mismatch[0];
	cl->silent = !heard;
	if (heard)
		cl->silent_since = 0; /* the hub was there: a new outage is watched closely */
	if (!was_up && !heard)
		client_next_address(cl);
	if (cl->pin_mismatch[0]) {
		/* The name's next address may be the hub; this one is asked
		 * again after the others, with the backoff, until its key is the
		 * right one. */
		client_next_address(cl);
		char then[64];
		next_try(cl, then, sizeof(then));
		log_err("hub key does not match --pin: expected %s, the hub at %s has %s (someone on "
		        "the way to the hub answers for it, or the hub has a new key: 'slopnd pin' on "
		        "the hub gives it); %s", cl->cfg->pin, cl->hub_str, cl->pin_mismatch, then);
		snprintf(cl->problem, sizeof(cl->problem), "hub key does not match --pin: the hub at %s "
		         "has %s", cl->hub_str, cl->pin_mismatch);
		cl->pin_mismatch[0] = '\0';
		return;
	}
	/* A name's addresses may be several hubs, and one may refuse what
	 * another takes (its pool full, another token store, stuck): an
	 * attempt that heard the hub and failed moves on to the next address,
	 * and a refusal is final only once the name went round. */
	bool round_left = false;
	if (!was_up && heard && cl->addr_count > 1 && !cl->stopping) {
		round_left = cl->addr_round + 1 < cl->addr_count;
		client_next_address(cl);
	}
	if (c->close_by_peer && c->close_app && !was_up &&
	    (c->close_code == SLOPN_ERR_UNAUTHORIZED || c->close_code == SLOPN_ERR_POOL_EXHAUSTED ||
	     c->close_code == SLOPN_ERR_BANNED || c->close_code == SLOPN_ERR_TOKEN_LIMIT)) {
		const char *msg = *cl->refusal ? cl->refusal : *c->close_reason ? c->close_reason
		                                                                : app_code_name(c->close_code);
		if (c->close_code == SLOPN_ERR_UNAUTHORIZED && round_left) {
			client_problem(cl, "login refused by the hub at %s: %s (error code 1, %s); trying "
			               "the name's next address", cl->hub_str, msg,
			               app_code_name(c->close_code));
			return;
		}
		if (c->close_code == SLOPN_ERR_UNAUTHORIZED) {
			/* Retrying a wrong token only gets the address banned. */
			log_err("login refused by hub: %s (error code 1, %s); not retrying (exit status 3): "
			        "check the token (--token, or the invite), or ask the hub's administrator "
			        "for a new one", msg, app_code_name(c->close_code));
			cl->fatal = EXIT_REFUSED;
			return;
		}
		if (c->close_code == SLOPN_ERR_BANNED) {
			/* Said once: the ban lasts an hour, and each retry would say it again. */
			snprintf(cl->problem, sizeof(cl->problem), "login refused by hub: %s (error code 3, "
			         "banned)", msg);
			if (!cl->banned)
				log_warn("%s; retrying quietly (backoff up to %us) until the ban ends",
				         cl->problem, BACKOFF_MAX);
			cl->banned = true;
			return;
		}
		char then[64];
		next_try(cl, then, sizeof(then));
		client_problem(cl, "login refused by hub: %s (error code %llu, %s); %s", msg,
		               (unsigned long long)c->close_code, app_code_name(c->close_code), then);
		return;
	}
	if (cl->banned && c->close_by_peer && !c->close_app &&
	    c->close_code == NGTCP2_CONNECTION_REFUSED) {
		/* The ban again, said once: the hub refuses attempts in their first
		 * packet while it lasts (and lets one a minute through to its login). */
		log_debug("hub refused the attempt: %s", c->close_reason);
		return;
	}
	if (!was_up && c->close_by_peer &&
	    (c->close_app ? c->close_code == SLOPN_ERR_BUSY
	                  : c->close_code == NGTCP2_CONNECTION_REFUSED &&
	                    strncmp(c->close_reason, SLOPN_BANNED_REASON,
	                            strlen(SLOPN_BANNED_REASON)) != 0)) {
		/* Too many connections waiting to log in (from our address: an
		 * office behind one NAT address after the hub restarted), or the
		 * hub full: they go as their logins do. Soon again, not with the
		 * backoff, which would grow to half a minute for the last of a
		 * large office. */
		cl->busy = true;
		char msg[sizeof(cl->problem)];
		/* Our hubs' reason starts "hub busy: " already (it goes to every
		 * client, the Go ones too, so it stays as it is); not said twice. */
		const char *why = *c->close_reason ? c->close_reason : "refused";
		snprintf(msg, sizeof(msg), "%s%s", strncmp(why, "hub busy: ", 10) ? "hub busy: " : "",
		         why);
		client_problem_again(cl, msg);
		return;
	}
	/* A failure with no answer, whose sends a rule here dropped. */
	const char *fw = cl->sends_refused ? "; sends to the hub were refused by this machine's "
	                                     "firewall (EPERM: a rule in its output path, another "
	                                     "client's kill switch?)" : "";
	if (c->close_by_peer && !c->close_app && c->close_code >= 0x100 && c->close_code < 0x200) {
		/* QUIC carries TLS alerts as transport codes 0x100 + alert. */
		int alert = (int)(c->close_code - 0x100);
		const char *name = gnutls_alert_get_name((gnutls_alert_description_t)alert);
		client_problem(cl, "hub refused the TLS handshake: alert %d (%s)%s", alert,
		               name ? name : "?",
		               alert == 120 ? ": it speaks another protocol than " SLOPN_ALPN : "");
	} else if (c->close_by_peer && c->stateless_reset)
		client_problem(cl, "hub closed the connection: %s", c->close_reason); /* no code sent */
	else if (c->close_by_peer)
		client_problem(cl, "hub closed the connection: %s (code %llu)",
		               *c->close_reason ? c->close_reason : app_code_name(c->close_code),
		               (unsigned long long)c->close_code);
	else if (cl->stopping)
		log_info("disconnected: %s", *c->close_reason ? c->close_reason : "closed");
	else if (!c->heard && c->close_idle && cl->probe_sent && cl->probe_best < 0)
		/* Not even a path probe of QUIC's least size got an answer. */
		client_problem(cl, "connection failed: no answer from the hub%s%s, not even to path "
		               "probes: is it running, and its UDP port reachable from here?%s",
		               cl->addr_count > 1 ? " at " : "", cl->addr_count > 1 ? cl->hub_str : "",
		               fw);
	else
		client_problem(cl, "connection %s: %s%s", was_up ? "lost" : "failed",
		               *c->close_reason ? c->close_reason : "closed", fw);
	if (was_up && !cl->stopping) {
		/* For status: last_error moves on with each failed attempt. */
		cl->down_at = time(NULL);
		cl->down_by_hub = c->close_by_peer;
		cl->down_app = c->close_by_peer && c->close_app;
		cl->down_code = c->close_code;
		snprintf(cl->down_reason, sizeof(cl->down_reason), "%s", cl->problem);
	}
}

static void client_gone(struct conn *c)
{
	struct client *cl = c->owner;
	/* Freed from the retry path, never inside ngtcp2's stack. */
	cl->state = C_WAITING;
	if (cl->fatal) {
		/* EXIT_REFUSED: a restart would be refused again, and a service
		 * manager that restarted it would get the address banned (five
		 * in five minutes), for everyone behind it. */
		sd_event_exit(cl->ev, cl->fatal);
		return;
	}
	client_schedule_retry(cl);
}

static const struct conn_ops client_ops = {
	.on_handshake = client_handshake,
	.on_line = client_line,
	.on_line_skipped = client_line_skipped,
	.on_datagram = client_datagram,
	.on_down = client_down,
	.on_gone = client_gone,
	.on_drained = client_drained,
};

/* ---- connecting ---- */

void client_drop_connection(struct client *cl)
{
	client_probes_stop(cl); /* answers to its probes mean nothing now */
	client_scout_stop(cl);
	if (cl->login_timer)
		sd_event_source_set_enabled(cl->login_timer, SD_EVENT_OFF);
	if (cl->conn) {
		conn_stats_add(&cl->totals, &cl->conn->stats);
		conn_free(cl->conn);
		free(cl->conn);
		cl->conn = NULL;
	}
	if (cl->udp_src)
		sd_event_source_disable_unref(cl->udp_src);
	cl->udp_src = NULL;
	if (cl->udp.fd >= 0)
		udp_close(&cl->udp);
	cl->udp.fd = -1;
}


static void tun_to_hub(struct client *cl);

/* End of every event: what arrived to the TUN, what waits to the hub. */
void client_settle(struct client *cl)
{
	/* What went into the TUN may have its answer there already (a local
	 * TCP's ACK, a ping's echo): it leaves now, this event's ACKs with it. */
	if (tun_flush(&cl->tun))
		tun_to_hub(cl);
	if (cl->conn && cl->conn->state == CONN_OPEN)
		conn_write(cl->conn);
	if (cl->udp.fd >= 0) {
		udp_flush(&cl->udp);
		if (cl->udp.tx_errno == EMSGSIZE) {
			/* The interface or route to the hub got a smaller MTU. */
			cl->udp.tx_errno = 0;
			client_path_narrowed(cl);
			/* The close that asked for leaves now, not at the
			 * connection's next timer. */
			if (cl->conn && cl->conn->close_pending && cl->conn->state == CONN_OPEN) {
				conn_write(cl->conn);
				if (cl->udp.fd >= 0)
					udp_flush(&cl->udp);
				cl->udp.tx_errno = 0;
			}
		} else if (cl->udp.tx_errno) {
			/* Our address may be gone: look at the way to the hub. An
			 * attempt's ICMP refusal that this send took from the
			 * socket is acted on there too, outside this event's
			 * calls. (EHOSTUNREACH and EACCES from a send may be our
			 * own routes' and firewall's: only a receive tells those.) */
			cl->refused_on_send = cl->udp.tx_errno == ECONNREFUSED;
			/* Netfilter's answer to a packet of ours that a rule here
			 * dropped: said with the connection's failure. */
			cl->sends_refused |= cl->udp.tx_errno == EPERM;
			log_debug("udp send: %s", strerror(cl->udp.tx_errno));
			cl->udp.tx_errno = 0;
			client_check_path_soon(cl);
		}
	}
}

static int on_udp(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct client *cl = userdata;
	/* An attempt reads the ICMP answers to its packets first: they tell
	 * who answered and why (and a receive would give only the errno). */
	int queued = client_read_errors(cl);
	if (queued == 1)
		return 0; /* the connection and this source are gone */
	for (int round = 0; round < 8 && cl->conn && !queued; round++) {
		int n = udp_recv(&cl->udp);
		if (n < 0 && cl->udp.recverr) {
			/* An error that came after the queue was read: it is queued too. */
			if (client_read_errors(cl) == 1)
				return 0;
			break;
		}
		if (n < 0 && errno == EMSGSIZE) {
			/* A router answered a packet with ICMP "too big". */
			client_path_narrowed(cl);
			break;
		}
		if (n < 0 && client_refused(cl, errno))
			return 0; /* the connection and this source are gone */
		uint64_t ts = conn_now();
		/* Closing too: what the hub sends then gets our close again (it
		 * may have lost it), as conn_read does. */
		for (int i = 0; i < n && cl->conn &&
		                (cl->conn->state == CONN_OPEN || cl->conn->state == CONN_CLOSING);
		     i++)
			if (!cl->probe_sent || !client_probe_answer(cl, &cl->udp.rx[i]))
				conn_read(cl->conn, (const struct sockaddr *)&cl->udp.rx[i].to,
				          cl->udp.rx[i].tolen, (const struct sockaddr *)&cl->udp.rx[i].from,
				          cl->udp.rx[i].fromlen, cl->udp.rx[i].data, cl->udp.rx[i].len, ts);
		if (!cl->udp.rx_more)
			break;
	}
	/* The hub answered: from now on only the kernel's hard errors, which
	 * a connection ignores (anyone on the way can forge them). */
	if (cl->udp.recverr && cl->conn && cl->conn->heard)
		udp_watch_errors(&cl->udp, false);
	client_settle(cl);
	return 0;
}

/* An attempt with the name's addresses, ai (freed by the caller). 0, -1,
 * or -2: no way from here to the address picked (the next may have one). */
static int connect_to(struct client *cl, const struct addrinfo *ai)
{
	int rv;
	/* The name's next address after an attempt that heard nothing. */
	unsigned count = 0;
	for (const struct addrinfo *a = ai; a; a = a->ai_next)
		count++;
	if (cl->prefer.ss_family) {
		unsigned k = 0;
		for (const struct addrinfo *a = ai; a; a = a->ai_next, k++)
			if (a->ai_family == cl->prefer.ss_family &&
			    sockaddr_same_host((const struct sockaddr_storage *)(const void *)a->ai_addr,
			                       &cl->prefer)) {
				cl->addr_next = k;
				break;
			}
		cl->prefer.ss_family = 0; /* once: after a failure, the next address */
	}
	const struct addrinfo *pick = ai;
	for (unsigned k = cl->addr_next % count; k > 0; k--)
		pick = pick->ai_next;
	cl->addr_count = count;
	cl->attempts++;
	cl->port_refused = false;
	sockaddr_str(pick->ai_addr, cl->hub_str, sizeof(cl->hub_str));
	const void *sa = pick->ai_addr;
	memset(&cl->pick, 0, sizeof(cl->pick));
	memcpy(&cl->pick, pick->ai_addr, pick->ai_addrlen);
	cl->hub_family = pick->ai_family;
	if (pick->ai_family == AF_INET)
		memcpy(cl->hub_addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else
		memcpy(cl->hub_addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	/* The way to this address (attempt's, before the name was looked up,
	 * could only take the default route's). */
	cl->way_tried = client_way_now(cl);
	cl->sends_refused = false;
	rv = udp_open(&cl->udp, pick->ai_addr, pick->ai_addrlen, true);
	if (rv < 0) {
		/* An invite's or a DNS answer's fe80:: address names no link. */
		const struct sockaddr_in6 *in6 = (const void *)sa;
		bool zoneless = pick->ai_family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) &&
		                !in6->sin6_scope_id;
		client_problem(cl, "cannot open a UDP socket to %s (%s): %s%s", cl->cfg->server,
		               cl->hub_str, strerror(errno),
		               zoneless ? " (a link-local address: give --server with the interface it "
		                          "is on, such as [fe80::1%eth0]:4242)" : "");
		cl->udp.fd = -1;
		cl->addr_next++; /* no way to this one now: another may do */
		return -2;
	}
	/* Full-size packets unless the kernel knows the way carries less (the
	 * interface's or route's MTU, or an ICMP answer to an earlier try). */
	cl->udp_payload = cl->own_payload = client_path_payload(cl);
	if (cl->probe_cap && cl->probe_cap < cl->udp_payload)
		cl->udp_payload = cl->probe_cap; /* the last attempt's probes found less */
	cl->probe_cap = 0;
	if (cl->udp_payload < NGTCP2_MAX_UDP_PAYLOAD_SIZE) {
		client_problem(cl, "the way to %s carries UDP packets of at most %zu bytes of payload; "
		               "QUIC needs %d: check the MTU of the interface and route to the hub",
		               cl->cfg->server, cl->udp_payload, NGTCP2_MAX_UDP_PAYLOAD_SIZE);
		cl->addr_next++; /* the name's next address may have a wider way */
		return -2;
	}
	if (cl->udp_payload < UDP_MAX_PAYLOAD)
		log_info("the way to %s carries UDP packets of %zu bytes of payload, not %d: "
		         "sending smaller QUIC packets", cl->cfg->server, cl->udp_payload, UDP_MAX_PAYLOAD);
	cl->conn = calloc(1, sizeof(*cl->conn));
	gnutls_session_t tls = NULL;
	const char *alpn = cl->cfg->alpn ? cl->cfg->alpn : SLOPN_ALPN;
	if (!cl->conn ||
	    tls_client_session(&tls, cl->cred, client_host_is_address(cl->host) ? NULL : cl->host, alpn,
	                       &cl->conn->ref) < 0) {
		log_err("cannot set up TLS for the connection to %s (%s): out of memory, or GnuTLS "
		        "refused the settings (--alpn '%s')", cl->cfg->server, cl->hub_str, alpn);
		return -1;
	}
	gnutls_session_set_verify_function(tls, verify_hub);
	rv = conn_client_init(cl->conn, cl->ev, &cl->udp, pick->ai_addr, pick->ai_addrlen, tls,
	                      &client_ops, cl, cl->udp_payload, cl->cfg->verbose);
	if (rv < 0) {
		if (!cl->conn->tls)
			gnutls_deinit(tls);
		log_err("cannot set up the QUIC connection to %s (%s): out of memory, no random bytes, or ngtcp2 "
		        "refused it", cl->cfg->server, cl->hub_str);
		return -1;
	}
	/* Our ALPN or no login: a QUIC server of another protocol that
	 * completes the handshake without one is not given the token. (Not
	 * with --alpn, which protocol tests use to see the hub refuse.) */
	cl->conn->need_alpn = strcmp(alpn, SLOPN_ALPN) == 0;
	/* A router's or this machine's "host unreachable" too ends the attempt
	 * at once (not only what the kernel deems fatal). */
	if (udp_watch_errors(&cl->udp, true) < 0)
		log_debug("cannot watch the UDP socket's errors: %s", strerror(errno));
	int r = sd_event_add_io(cl->ev, &cl->udp_src, cl->udp.fd, EPOLLIN, on_udp, cl);
	if (r < 0) {
		client_problem(cl, "cannot watch the UDP socket to %s: %s (out of file descriptors "
		               "or memory? see ulimit -n)", cl->hub_str, strerror(-r));
		return -1;
	}
	cl->state = C_CONNECTING;
	cl->refusal[0] = '\0';
	if (count > 1)
		log_info("connecting to %s at %s (address %u of %u)", cl->cfg->server, cl->hub_str,
		         cl->addr_next % count + 1, count);
	else
		log_info("connecting to %s", cl->cfg->server);
	client_settle(cl);
	client_send_probes(cl);
	client_scout(cl, ai, pick);
	return 0;
}

/* A DNS answer of ::ffff:192.0.2.1 is reached over IPv4: the host route,
 * the kill switch and the path checks must be made for IPv4 too. The
 * AF_INET6 storage has room for a sockaddr_in. */
static void unmap_v4(struct addrinfo *ai)
{
	for (; ai; ai = ai->ai_next) {
		const struct sockaddr_in6 *in6 = (const void *)ai->ai_addr;
		if (ai->ai_family != AF_INET6 || ai->ai_addrlen < sizeof(*in6) ||
		    !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			continue;
		struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = in6->sin6_port};
		memcpy(&in.sin_addr, in6->sin6_addr.s6_addr + 12, 4);
		memcpy(ai->ai_addr, &in, sizeof(in));
		ai->ai_family = AF_INET;
		ai->ai_addrlen = sizeof(in);
	}
}

void client_resolved(struct client *cl, struct addrinfo *ai)
{
	if (cl->stopping)
		return;
	unmap_v4(ai);
	client_killswitch_hubs(cl, ai);
	/* No way from here to an address (no route to IPv6, say) is known at
	 * once: the name's next one now, each once, not after the backoff. */
	int rv = -1;
	for (unsigned tries = 0; ai && (rv = connect_to(cl, ai)) == -2 && ++tries < cl->addr_count;)
		client_drop_connection(cl);
	if (rv < 0) {
		client_drop_connection(cl);
		client_schedule_retry(cl);
	}
}

/* An attempt: the hub's name first, then client_resolved. */
static void attempt(struct client *cl)
{
	if (cl->state == C_RESOLVING)
		return; /* the lookup under way ends in an attempt */
	client_drop_connection(cl);
	cl->way_tried = client_way_now(cl);
	cl->state = C_RESOLVING;
	client_name_lookup(cl);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	client_watch_stop(userdata);
	attempt(userdata);
	return 0;
}

void client_problem(struct client *cl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cl->problem, sizeof(cl->problem), fmt, ap);
	va_end(ap);
	log_warn("%s", cl->problem);
}

void client_problem_again(struct client *cl, const char *msg)
{
	if (strcmp(msg, cl->problem) != 0)
		client_problem(cl, "%s", msg);
	else
		log_info("%s (again)", msg);
}

bool client_retry_in(const struct client *cl, uint64_t *left)
{
	uint64_t now, at;
	int on = SD_EVENT_OFF;
	if (cl->state != C_WAITING || sd_event_source_get_enabled(cl->retry, &on) < 0 ||
	    on == SD_EVENT_OFF || sd_event_now(cl->ev, CLOCK_MONOTONIC, &now) < 0 ||
	    sd_event_source_get_time(cl->retry, &at) < 0)
		return false;
	*left = at > now ? at - now : 0;
	return true;
}

void client_schedule_retry(struct client *cl)
{
	uint64_t now, delay;
	cl->state = C_WAITING; /* from an attempt given up, never from a connection */
	sd_event_now(cl->ev, CLOCK_MONOTONIC, &now);
	/* One quick retry in QUICK_WINDOW_SECS, and one more for each further
	 * address of the hub's name (a move to the next, a scout's answer):
	 * more, and the hub (or the way) ends connections as fast as we make
	 * them. The loss of a connection that lasted STEADY_SECS is retried at
	 * once besides, outside the count (client_down). */
	bool steady = cl->quick_steady;
	cl->quick_steady = false;
	if (cl->quick_retry && !steady) {
		if (!cl->quick_at || now >= cl->quick_at + QUICK_WINDOW_SECS * 1000000ull) {
			cl->quick_at = now;
			cl->quick_n = 0;
		}
		unsigned budget = cl->addr_count < 1 ? 1 : cl->addr_count > SCOUT_MAX ? SCOUT_MAX
		                                                                      : cl->addr_count;
		if (cl->quick_n >= budget)
			cl->quick_retry = false;
	}
	bool busy = cl->busy;
	cl->busy = false;
	if (busy && cl->busy_tries < BUSY_TRIES) {
		/* Spread over a second: those of one office come one by one. */
		uint32_t jitter = 0;
		gnutls_rnd(GNUTLS_RND_NONCE, &jitter, sizeof(jitter));
		delay = BUSY_WAIT_MIN + jitter % BUSY_WAIT_SPREAD;
		cl->busy_tries++;
		log_info("reconnecting in %.1fs (the hub is busy)", (double)delay / 1e6);
		sd_notifyf(0, "STATUS=reconnecting to %s (the hub is busy)", cl->cfg->server);
	} else if (cl->quick_retry) {
		/* The hub most likely restarted (or we moved): come back now, with
		 * a little jitter so that all its clients do not arrive at once. */
		if (!steady)
			cl->quick_n++;
		uint32_t jitter = 0;
		gnutls_rnd(GNUTLS_RND_NONCE, &jitter, sizeof(jitter));
		delay = 20000 + jitter % 200000;
		cl->quick_retry = false;
		log_info("reconnecting");
		sd_notifyf(0, "STATUS=reconnecting to %s", cl->cfg->server);
	} else {
		cl->backoff = backoff_next(cl);
		/* Up to a fifth more: clients refused together (a full pool)
		 * would otherwise come back together each time. */
		uint32_t jitter = 0;
		gnutls_rnd(GNUTLS_RND_NONCE, &jitter, sizeof(jitter));
		delay = (uint64_t)cl->backoff * 1000000;
		delay += jitter % (delay / 5);
		if (cl->banned)
			log_debug("reconnecting in %.2fs", (double)delay / 1e6);
		else
			log_info("reconnecting in %.2fs", (double)delay / 1e6);
		sd_notifyf(0, "STATUS=reconnecting to %s in %us", cl->cfg->server, cl->backoff);
		/* A hub that answered (a refusal, a ban) is up: its probes' answers
		 * would tell nothing new. A host without its slopnd (restarting)
		 * is watched from the first wait. */
		if (cl->silent && !cl->banned && (cl->backoff > 1 || cl->port_refused))
			client_watch(cl);
	}
	sd_event_source_set_time(cl->retry, now + delay);
	sd_event_source_set_enabled(cl->retry, SD_EVENT_ONESHOT);
}

/* ---- TUN ---- */

/* Tell the hub why we go (so that it drops the session at once), and leave
 * the event loop with code (0: asked to stop; else a failure, for the
 * service manager). */
static void client_exit(struct client *cl, int code, const char *reason)
{
	sd_notify(0, "STOPPING=1");
	cl->stopping = true;
	if (cl->conn && cl->conn->state == CONN_OPEN) {
		conn_close(cl->conn, SLOPN_ERR_CLIENT_EXIT, reason);
		conn_write(cl->conn);
	}
	sd_event_exit(cl->ev, code);
}

/* The TUN device was deleted (or its fd broke): the tunnel cannot work, and
 * every read would fail at once. A new start makes the device again. */
static void client_tun_gone(struct client *cl, int err)
{
	log_err("%s: cannot read the TUN device: %s; exiting (the service manager restarts "
	        "slopnd; or start it again)", cl->tunname, tun_gone_str(err));
	sd_event_source_set_enabled(cl->tun_src, SD_EVENT_OFF);
	client_exit(cl, 1, "client's TUN device is gone");
}

/* Read the TUN and send to the hub, until it is empty, the connection is
 * congested, or TUN_BATCH reads. */
static void tun_to_hub(struct client *cl)
{
	for (int i = 0; i < TUN_BATCH && !cl->tun_paused; i++) {
		struct tun_pkt p;
		enum tun_read_result r = tun_read(&cl->tun, &p);
		if (r == TUN_NONE)
			break;
		if (r == TUN_GONE) {
			client_tun_gone(cl, errno);
			break;
		}
		if (r == TUN_BAD) {
			log_debug("%s: unusable packet from the kernel: %s", cl->tunname,
			          offload_result_str(p.bad));
			if (cl->conn)
				cl->conn->stats.drop[DROP_TUN_BAD] += tun_pkt_count(&p);
			else
				cl->drop_down += tun_pkt_count(&p);
			continue;
		}
		if (cl->state != C_UP || !cl->conn) {
			cl->drop_down += tun_pkt_count(&p);
			continue;
		}
		if (stays_here6(cl, p.split.pkt, p.split.len))
			continue;
		/* The hub checks sources and drops what is not IPv4 or IPv6; the
		 * client passes the rest as it comes, like the original. */
		if (conn_send_tun_pkt(cl->conn, &p, CONN_DGQ_SLOTS) == DGRAM_TOO_BIG &&
		    conn_too_big_answer_ok(cl->conn, conn_now())) {
			size_t mtu = conn_max_datagram(cl->conn);
			if (p.split.pkt[0] >> 4 == 6)
				tun_pkt_too_big(&cl->tun, &p, cl->hub_vip6.s6_addr, mtu);
			else
				tun_frag_needed(&cl->tun, &p, cl->hub_vip, mtu);
		}
		/* Backpressure instead of drops: the TUN's queue fills (a slot
		 * holds a whole super-packet) and the kernel slows senders down. */
		if (conn_congested(cl->conn))
			tun_pause(cl, true);
	}
	dataplane_tun_watch(&cl->tun, cl->tun_src);
}

static int on_tun(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	client_keep_wake(userdata);
	tun_to_hub(userdata);
	client_settle(userdata);
	return 0;
}

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	struct client *cl = userdata;
	if (si->ssi_signo == SIGUSR1) {
		if (cl->conn) {
			const struct conn_stats *st = &cl->conn->stats;
			ngtcp2_conn_stat cs;
			ngtcp2_conn_get_conn_stat(cl->conn->qc, &cs);
			log_info("stats: state=%s rtt_us=%llu cwnd=%llu inflight=%llu pto_count=%zu queued=%u "
			         "tun_paused=%d rx_pkts=%llu rx_bytes=%llu tx_pkts=%llu tx_bytes=%llu "
			         "drop_too_big=%llu drop_queue=%llu drop_down=%llu udp_tx_dropped=%llu",
			         cl->state == C_UP ? "up" : "down",
			         (unsigned long long)(cs.smoothed_rtt / 1000), (unsigned long long)cs.cwnd,
			         (unsigned long long)cs.bytes_in_flight, cs.pto_count, cl->conn->dgq_count,
			         cl->tun_paused,
			         (unsigned long long)st->rx_pkts, (unsigned long long)st->rx_bytes,
			         (unsigned long long)st->tx_pkts, (unsigned long long)st->tx_bytes,
			         (unsigned long long)st->drop[DROP_TOO_BIG],
			         (unsigned long long)st->drop[DROP_QUEUE], (unsigned long long)cl->drop_down,
			         (unsigned long long)cl->udp.tx_dropped);
		}
		return 0;
	}
	if (si->ssi_signo == SIGHUP) {
		log_info("SIGHUP: a client reads its settings only at start; restart it to apply changes");
		return 0;
	}
	log_info("signal %d: disconnecting", (int)si->ssi_signo);
	client_exit(cl, 0, "client exit");
	return 0;
}

/* ---- control: server.status for the client role ---- */

static json_t *m_status(void *ctx, struct control_caller *who, json_t *params, int *code,
                        char *err, size_t errlen)
{
	struct client *cl = ctx;
	bool up = cl->state == C_UP && cl->conn;
	struct conn_stats t = cl->totals;
	json_t *rtt = json_null(), *vip = json_null(), *hub = json_null(), *since = json_null();
	if (cl->conn)
		conn_stats_add(&t, &cl->conn->stats);
	if (up) {
		char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
		ngtcp2_conn_stat cs;
		ngtcp2_conn_get_conn_stat(cl->conn->qc, &cs);
		rtt = json_real((double)cs.smoothed_rtt / 1e6);
		vip = json_string(inet_ntop(AF_INET, &cl->vip, a, sizeof(a)));
		hub = json_string(inet_ntop(AF_INET, &cl->hub_vip, b, sizeof(b)));
		since = json_integer((json_int_t)cl->up_since);
	}
	dataplane_drops(&t, &cl->tun, &cl->udp);
	json_t *drops = control_drops_json(&t);
	json_object_set_new(drops, "down", json_integer((json_int_t)cl->drop_down));
	json_t *vip6 = json_null(), *hub6 = json_null();
	if (up && cl->prefix6) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
		vip6 = json_string(inet_ntop(AF_INET6, &cl->vip6, a, sizeof(a)));
		hub6 = json_string(inet_ntop(AF_INET6, &cl->hub_vip6, b, sizeof(b)));
	}
	json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:o}, s:o}",
		"version", SLOPN_VERSION, "build", SLOPN_BUILD, "role", "client", "server", cl->cfg->server, "connected", up,
		"vip", vip, "hub_vip", hub, "since", since, "rtt_ms", rtt,
		"totals", "rx_pkts", (json_int_t)t.rx_pkts, "rx_bytes", (json_int_t)t.rx_bytes,
		"tx_pkts", (json_int_t)t.tx_pkts, "tx_bytes", (json_int_t)t.tx_bytes, "drops", drops,
		"offload", dataplane_offload_json(&cl->tun, &cl->udp));
	json_object_set_new(r, "vip6", vip6);
	/* "path" is the connection's, up and given no IPv6 for it: the next
	 * one is judged anew. */
	json_object_set_new(r, "ipv6_off", cl->no6 ? json_string(cl->no6)
	                                   : cl->no6_path && cl->state == C_UP && !cl->prefix6
	                                   ? json_string("path") : json_null());
	json_object_set_new(r, "hub_vip6", hub6);
	/* The hub's address this attempt or connection uses (its name may have
	 * several). */
	json_object_set_new(r, "hub_addr", cl->conn ? json_string(cl->hub_str) : json_null());
	/* The QUIC packets' size (the way to the hub may carry less than
	 * full size), and the largest IP packet they carry. */
	json_object_set_new(r, "udp_payload",
	                    cl->conn ? json_integer((json_int_t)cl->udp_payload) : json_null());
	json_object_set_new(r, "max_packet",
	                    up ? json_integer((json_int_t)conn_max_datagram(cl->conn)) : json_null());
	/* TLS messages the hub sent after the handshake (session tickets, a
	 * KeyUpdate), dropped unread: bytes. */
	json_object_set_new(r, "tls_after_handshake",
	                    cl->conn ? json_integer((json_int_t)cl->conn->tls_after_handshake) : json_null());
	/* What the client changed in the machine's network now. */
	json_object_set_new(r, "tun", json_string(cl->tunname));
	json_object_set_new(r, "tun_up", json_boolean(!cl->tun_down));
	json_object_set_new(r, "full_tunnel",
	                    json_boolean(cl->ft.low_added && cl->ft.high_added && !cl->tun_down));
	json_object_set_new(r, "full_tunnel6",
	                    json_boolean(cl->ft.low6_added && cl->ft.high6_added && !cl->tun_down));
	/* IPv6 the tunnel does not carry is unreachable (not the TUN's:
	 * it stays while the TUN is down). */
	json_object_set_new(r, "ipv6_blocked",
	                    json_boolean(cl->ft.low6_blocked && cl->ft.high6_blocked));
	json_object_set_new(r, "dns", json_boolean(cl->dns_set));
	json_object_set_new(r, "dns_restored", json_integer(cl->dns_restored));
	char dns_out[INET6_ADDRSTRLEN], dns_dev[IFNAMSIZ];
	json_object_set_new(r, "dns_outside", client_dns_outside(cl, dns_out, sizeof(dns_out), dns_dev)
	                                      ? json_string(dns_out) : json_null());
	json_object_set_new(r, "kill_switch", client_killswitch_json(cl));
	/* Where an attempt stands, and why the last one failed. */
	static const char *const states[] = {[C_WAITING] = "waiting", [C_RESOLVING] = "resolving",
	                                     [C_CONNECTING] = "connecting", [C_UP] = "connected"};
	json_object_set_new(r, "state", json_string(states[cl->state]));
	json_object_set_new(r, "last_error", cl->problem[0] ? json_string(cl->problem) : json_null());
	json_object_set_new(r, "lines_skipped",
	                    up ? json_integer((json_int_t)cl->conn->ctl_skipped) : json_null());
	json_object_set_new(r, "login_ignored",
	                    up && cl->login_ignored[0] ? json_string(cl->login_ignored) : json_null());
	json_object_set_new(r, "attempts", json_integer((json_int_t)cl->attempts));
	json_object_set_new(r, "last_disconnect", !cl->down_at ? json_null() :
	                    json_pack("{s:I, s:s, s:b, s:o}", "at", (json_int_t)cl->down_at,
	                              "reason", cl->down_reason, "by_hub", cl->down_by_hub,
	                              "code", cl->down_app ? json_integer((json_int_t)cl->down_code)
	                                                   : json_null()));
	uint64_t left;
	json_object_set_new(r, "retry_in_ms", client_retry_in(cl, &left)
	                                      ? json_integer((json_int_t)(left / 1000)) : json_null());
	/* While waiting on a hub that did not answer: how often it is asked. */
	uint64_t every = cl->state == C_WAITING ? client_watch_every(cl) : 0;
	json_object_set_new(r, "watch_every_ms", every ? json_integer((json_int_t)(every / 1000))
	                                               : json_null());
	return r;
}

static const struct control_method client_methods[] = {
	{"server.status", m_status, false, NULL},
	{NULL, NULL, false, NULL},
};

/* What a crashed run on TUN left in resolv.conf, put back, also when this
 * one runs without --accept-dns: its copy says it was ours to put back.
 * -1 when the backup's path does not fit. */
static int repair_dns(struct client *cl, const char *tun)
{
	const struct config *cfg = cl->cfg;
	if ((size_t)snprintf(cl->resolv_backup, sizeof(cl->resolv_backup), "%s/resolv-%s.orig",
	                     cfg->state_dir, tun) >= sizeof(cl->resolv_backup)) {
		log_err("--state-dir %s: path too long", cfg->state_dir);
		return -1;
	}
	char err[512];
	int r = dns_restore(cfg->resolv_conf, cl->resolv_backup, err, sizeof(err));
	if (r < 0)
		log_err("%s", err);
	else if (r == DNS_RESTORED)
		log_info("dns: %s restored from %s, left by a run that did not stop cleanly",
		         cfg->resolv_conf, cl->resolv_backup);
	else if (r == DNS_DROPPED)
		log_info("dns: %s was rewritten after a run that did not stop cleanly (by the "
		         "network's DHCP client?): left as it is, and that run's copy %s removed",
		         cfg->resolv_conf, cl->resolv_backup);
	else if (r == DNS_BAD_BACKUP)
		log_warn("--accept-dns: %s", err);
	return 0;
}

/* What a run on this TUN that did not stop cleanly left: its host route to
 * the hub would take this run's packets the way that one went, maybe
 * through a link that has died since (the hub's address is not known yet:
 * by metric); its unreachable IPv6 halves no TUN took with it. */
static void flush_stale_routes(const char *tunname)
{
	uint32_t metric = fulltunnel_metric(tunname);
	int n4 = fulltunnel_flush_stale(metric, AF_INET, NULL);
	int n6 = fulltunnel_flush_stale(metric, AF_INET6, NULL);
	if (n4 > 0 || n6 > 0)
		log_info("removed a host route to the hub left by a run that did not stop cleanly");
	if (fulltunnel_flush_stale6(metric) > 0)
		log_info("removed the unreachable IPv6 routes (::/1, 8000::/1) left by a run that did "
		         "not stop cleanly");
}

/* The TUN, made or taken, with what the kernel lets it do; a crashed
 * run's routes and resolv.conf put back. */
static int open_tun(struct client *cl)
{
	const struct config *cfg = cl->cfg;
	if (tun_open(&cl->tun, cfg->tun, cfg->offloads, cfg->tun_ring) < 0) {
		int e = errno;
		char msg[512];
		tun_open_message(&cl->tun, cfg->tun, e, msg, sizeof(msg));
		log_err("%s", msg);
		/* A crashed run's resolv.conf goes back all the same (a name without
		 * %d is known), unless the TUN is busy: a running client's, whose
		 * resolv.conf it is. */
		if (e != EBUSY && !strchr(cfg->tun, '%')) {
			repair_dns(cl, cfg->tun);
			flush_stale_routes(cfg->tun);
		}
		return -1;
	}
	dataplane_tun_test_knobs(&cl->tun);
	memcpy(cl->tunname, cl->tun.name, IFNAMSIZ);
	/* As soon as the TUN is ours: a start that fails later (its control
	 * socket, a refused token) must not leave a crashed run's unreachable
	 * IPv6 halves, which cut the machine's IPv6 off. */
	flush_stale_routes(cl->tunname);
	cl->ifindex = cl->tun.ifindex;
	log_info("%s: %s; %s", cl->tunname, cl->tun.mode, cl->tun.reads);
	if (cl->tun.persistent) {
		char msg[512];
		tun_persistent_message(&cl->tun, msg, sizeof(msg));
		log_warn("%s", msg);
	}
	client_id_load(cfg->state_dir, cl->tunname, cl->client_id);
	client_instance_make(cl->instance);
	/* IPv6 needs 1280 bytes, and the kernel's consent; no link-local
	 * address, so the TUN sends no router solicitations to the hub. */
	cl->no6 = cfg->mtu < IPV6_MIN_MTU ? "mtu" : nl_ipv6_disabled(cl->tunname) ? "disabled" : NULL;
	if (!cl->no6)
		nl_set_addr_gen_none(cl->ifindex);
	else if (cfg->mtu < IPV6_MIN_MTU)
		log_info("no IPv6 inside the tunnel: --mtu %u is under the %d bytes IPv6 needs",
		         cfg->mtu, IPV6_MIN_MTU);
	else
		log_info("no IPv6 inside the tunnel: IPv6 is disabled for new interfaces here "
		         "(net.ipv6.conf.default.disable_ipv6)");
	/* A new VPN address replaces the old one without a moment with none
	 * (client_net.c). */
	if (nl_set_promote_secondaries(cl->ifindex) < 0)
		log_debug("%s: cannot set promote_secondaries: %s", cl->tunname, strerror(errno));
	return 0;
}

/* The event loop and all it watches: signals, the TUN, the timers, the
 * resolver, the network's changes. */
static int setup_loop(struct client *cl)
{
	/* A loop of our own, not the default one, whose thread sd-event
	 * checks with a gettid() call at every turn. */
	if (sd_event_new(&cl->ev) < 0 ||
	    sd_event_add_signal(cl->ev, NULL, SIGHUP, on_signal, cl) < 0 ||
	    sd_event_add_io(cl->ev, &cl->tun_src, tun_poll_fd(&cl->tun), EPOLLIN, on_tun, cl) < 0 ||
	    timer_new(cl->ev, &cl->retry, 1000, on_retry, cl) < 0 ||
	    sd_event_add_signal(cl->ev, NULL, SIGINT, on_signal, cl) < 0 ||
	    sd_event_add_signal(cl->ev, NULL, SIGTERM, on_signal, cl) < 0 ||
	    sd_event_add_signal(cl->ev, NULL, SIGUSR1, on_signal, cl) < 0 ||
	    timer_new(cl->ev, &cl->path_check, 1000, client_on_check_path, cl) < 0 ||
	    timer_new(cl->ev, &cl->tun_check, 100000, client_on_tun_check, cl) < 0 ||
	    timer_new(cl->ev, &cl->probe_timer, 1000, client_on_probe_timer, cl) < 0 ||
	    timer_new(cl->ev, &cl->login_timer, 100000, on_login_timer, cl) < 0 ||
	    client_name_init(cl) < 0 || client_scout_init(cl) < 0) {
		/* sd-event's calls fail for want of memory or descriptors. */
		log_err("cannot set up the event loop (its signals, timers and watches): out of memory "
		        "or of file descriptors? (ulimit -n)");
		return -1;
	}
	int nlfd = nl_monitor_open();
	if (nlfd < 0 || sd_event_add_io(cl->ev, &cl->nl_src, nlfd, EPOLLIN, client_on_netlink, cl) < 0) {
		log_warn("cannot watch the network for address changes (%s): a move to another "
		         "address is noticed only when sending fails", strerror(errno));
		if (nlfd >= 0)
			close(nlfd);
	} else {
		sd_event_source_set_io_fd_own(cl->nl_src, 1);
	}
	sd_event_set_watchdog(cl->ev, 1);
	return 0;
}

/* Everything undone; the kill switch last. RC is the run's exit code. */
static void teardown(struct client *cl, int rc)
{
	client_restore_network(cl);
	control_close(cl->ctl);
	client_drop_connection(cl);
	client_name_free(cl);
	client_scout_free(cl);
	if (cl->retry)
		sd_event_source_disable_unref(cl->retry);
	if (cl->tun_src)
		sd_event_source_disable_unref(cl->tun_src);
	if (cl->nl_src)
		sd_event_source_disable_unref(cl->nl_src);
	if (cl->path_check)
		sd_event_source_disable_unref(cl->path_check);
	if (cl->tun_check)
		sd_event_source_disable_unref(cl->tun_check);
	if (cl->probe_timer)
		sd_event_source_disable_unref(cl->probe_timer);
	if (cl->login_timer)
		sd_event_source_disable_unref(cl->login_timer);
	client_killswitch_unwatch(cl);
	if (cl->ev)
		sd_event_unref(cl->ev);
	/* Last: until here, nothing may leave outside the tunnel. A client
	 * that fails (a refused token, which anyone on the way to a hub
	 * without --pin can bring about) leaves it, as a crash does. */
	if (rc == 0)
		client_killswitch_stop(cl);
	else
		client_killswitch_keep(cl, rc);
	if (cl->tun.persistent) {
		/* It outlives us: our addresses go, an administrator's stay. */
		if (cl->vip)
			nl_addr_del(AF_INET, cl->ifindex, &cl->vip, cl->prefix);
		if (cl->prefix6)
			nl_addr_del(AF_INET6, cl->ifindex, cl->vip6.s6_addr, cl->prefix6);
	}
	tun_close(&cl->tun);
	if (cl->cred)
		gnutls_certificate_free_credentials(cl->cred);
	free(cl->host);
	free(cl->port);
}

int client_run(const struct config *cfg)
{
	struct client c = {.cfg = cfg, .tun = {.fd = -1}, .udp = {.fd = -1}, .gai_fd = -1,
	                 .scout_fd = -1, .scout_pick = -1}, *cl = &c;
	int rc = 1;

	/* Its files (the client id, the hub's addresses, resolv.conf's
	 * original, the kill switch's marker) in a directory another user may
	 * write would be theirs to change. */
	char derr[1600];
	if (statefile_dir_check_as(cfg->state_dir, false, "state directory",
	                           "the client's files kept there (its id, the hub's addresses, "
	                           "the original resolv.conf)", "--state-dir", derr,
	                           sizeof(derr)) < 0) {
		int e = errno;
		log_err("%s", derr);
		return e == EPERM ? 2 : 1; /* not to be restarted until it is fixed */
	}
	if (cfg->kill_switch_only)
		return client_killswitch_only(cfg);
	if (split_host_port(cfg->server, &cl->host, &cl->port) < 0) {
		log_err("--server %s: expected HOST:PORT", cfg->server);
		return 2;
	}
	/* Its control socket's directory too, before the TUN is made (and a
	 * crashed run's routes and resolv.conf are put back), as the hub's
	 * (control_open checks it again). */
	bool ctl_unsafe = false;
	if (cfg->control && control_dir_ready(cfg->control, &ctl_unsafe) < 0) {
		rc = ctl_unsafe ? 2 : 1;
		goto out;
	}
	int gr = gnutls_certificate_allocate_credentials(&cl->cred);
	if (gr < 0) {
		log_err("cannot set up TLS credentials: %s", gnutls_strerror(gr));
		goto out;
	}
	if (open_tun(cl) < 0)
		goto out;
	if (setup_loop(cl) < 0)
		goto out;
	if (cfg->control &&
	    !(cl->ctl = control_open(cl->ev, cfg->control, "client", client_methods, cl, &ctl_unsafe))) {
		if (ctl_unsafe)
			rc = 2; /* as for the state directory: not to be restarted until it is fixed */
		goto out;
	}
	if (repair_dns(cl, cl->tunname) < 0)
		goto out;
	if (client_killswitch_start(cl) < 0)
		goto out;
	/* Ready once running: a hub that is down must not fail the unit's start. */
	sd_notify(0, "READY=1");
	attempt(cl);
	rc = sd_event_loop(cl->ev);
	if (rc < 0)
		rc = 1;
	client_settle(cl);
out:
	teardown(cl, rc);
	return rc;
}
