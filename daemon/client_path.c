/* The way to the hub: path probes beside each attempt, a connection that
 * the way got too narrow for, and roaming (another local address). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <linux/errqueue.h>

#include "daemon/client_int.h"
#include "daemon/log.h"
#include "daemon/testenv.h"
#include "daemon/timer.h"
#include "proto/icmp.h"
#include "proto/quicquote.h"
#include "tun/netlink.h"

/* ---- path probes ----
 *
 * A router may drop packets too big for the way on without the ICMP answer
 * that would tell the kernel (a firewall that drops ICMP, a tunnel): then
 * full-size packets vanish and the hub looks dead. So beside each
 * attempt's first packet go probes of that size and of the common smaller
 * ones, each answered by any QUIC server (proto/pathprobe.h). If the full
 * one is answered, nothing changes; if only smaller ones are, and the
 * handshake has heard nothing by the time the full one's answer was due,
 * the client connects again at once with the largest size answered. */

#define PROBE_GRACE 50000 /* us after the first answer, at least */
/* With more addresses to try: this long without a word from this one. */
#define SILENCE (3 * 1000000)

static void probe_timer_in(struct client *cl, uint64_t usec)
{
	cl->keep_dozing = false; /* the timer is for something else now, or set anew */
	sd_event_source_set_time_relative(cl->probe_timer, usec);
	sd_event_source_set_enabled(cl->probe_timer, SD_EVENT_ONESHOT);
}

void client_probes_stop(struct client *cl)
{
	cl->probe_sent = 0;
	cl->probe_moved = false;
	cl->probe_keep = false;
	cl->keep_dozing = false;
	if (cl->probe_timer)
		sd_event_source_set_enabled(cl->probe_timer, SD_EVENT_OFF);
}

/* Probe i of cl->probe to the connection's peer. */
static void probe_out(struct client *cl, int i)
{
	uint8_t buf[UDP_MAX_PAYLOAD];
	const ngtcp2_path *path = ngtcp2_conn_get_path(cl->conn->qc);
	size_t n = pathprobe_write(&cl->probe, i, buf, sizeof(buf));
	if (n)
		udp_send_one(&cl->udp, NULL, 0, path->remote.addr, path->remote.addrlen, buf, n);
}

/* New probes for size (a new ID: answers to earlier ones are not theirs). */
static void probes_new(struct client *cl, size_t size)
{
	uint8_t id[PATHPROBE_ID_LEN];
	gnutls_rnd(GNUTLS_RND_NONCE, id, sizeof(id));
	pathprobe_init(&cl->probe, id, size);
	sd_event_now(cl->ev, CLOCK_MONOTONIC, &cl->probe_sent);
}

/* New probes for size to the connection's peer: the first count of them
 * (the full size first, then the common smaller ones). */
static void probes_out(struct client *cl, size_t size, int count)
{
	probes_new(cl, size);
	for (int i = 0; i < cl->probe.n && i < count; i++)
		probe_out(cl, i);
}

void client_send_probes(struct client *cl)
{
	cl->probe_sent = 0;
	cl->probe_moved = false;
	cl->probe_keep = false;
	cl->probe_best = -1;
	if (!cl->conn)
		return;
	if (cl->addr_count > 1)
		probe_timer_in(cl, SILENCE);
	if (cl->udp_payload > PATHPROBE_MIN_SIZE)
		probes_out(cl, cl->udp_payload, PATHPROBE_MAX);
}

/* ---- widening ----
 *
 * A connection made with packets smaller than our side of the way takes
 * (its attempt's probes or the hub's "path" line found less: a narrow
 * point further on, or the moment of a change) stays so: ngtcp2 0.12
 * cannot grow a live connection's packets, and nothing tells either end
 * when a router on the way takes bigger ones again. So a probe of the full
 * size goes out now and then, 10 s after the login and then twice as long
 * each time, up to 10 minutes; once one is answered, it arrives, and the
 * client connects again at full size. The interval goes on doubling across
 * such reconnects until a connection comes up at full size, so that a way
 * that answers the probe but not the connection costs little. */
#define WIDEN_FIRST (10 * 1000000ULL)
#define WIDEN_MAX (600 * 1000000ULL)

static void keep_start(struct client *cl);

void client_widen_start(struct client *cl)
{
	if (cl->udp_payload >= cl->own_payload) {
		cl->widen_every = 0;
		keep_start(cl);
		return;
	}
	if (!cl->widen_every)
		cl->widen_every = WIDEN_FIRST;
	probe_timer_in(cl, cl->widen_every);
}

static void widen_probe(struct client *cl)
{
	if (!cl->conn || cl->conn->state != CONN_OPEN || cl->udp.fd < 0)
		return;
	size_t own = client_path_payload(cl);
	if (own <= cl->udp_payload)
		return; /* our side narrowed since: nothing wider to find */
	probes_out(cl, own, 1);
	cl->widen_every = cl->widen_every * 2 < WIDEN_MAX ? cl->widen_every * 2 : WIDEN_MAX;
	probe_timer_in(cl, cl->widen_every);
}

/* ---- upkeep ----
 *
 * A full-size connection's way may narrow under it (a router's link
 * MTU drops: a backup line, PPPoE, LTE) at a point that sends no ICMP
 * "too big" back, or one that a firewall drops: every full-size packet
 * then vanishes, both ways, while the small ones (ACKs, pings) pass, and
 * nothing would tell either end (RFC 8899 calls it a black hole). So now
 * and then (KEEP_EVERY, give or take a quarter), and soon after ngtcp2
 * saw losses or a PTO (looked at once a second, not per packet), a probe
 * of the connection's size goes out twice beside one of QUIC's least; up
 * to KEEP_TRIES times, until one of the connection's size is answered. If none of them is, while the
 * small one is, the way no longer carries the size: the client connects
 * again, and that attempt's probes find what it carries. If nothing is
 * answered, packets are lost whatever their size (a lossy link, the hub
 * gone): that is for the connection's own silence detection, not this. */
#define KEEP_EVERY (120 * 1000000ULL)
#define KEEP_ENV "SLOPND_TEST_PATH_CHECK_MS" /* tests only: KEEP_EVERY */
#define KEEP_TICK 1000000               /* us between looks at ngtcp2's losses */
#define KEEP_IDLE_TICK (5 * 1000000ULL)  /* ... while no packet went either way, after losses */
#define KEEP_TROUBLE_GAP (5 * 1000000ULL) /* checks after losses: at most this often */
#define KEEP_WAIT 1000000               /* us for an answer, and twice the RTT */
#define KEEP_TRIES 3

/* The next routine check: keep_every from now, give or take a quarter (so
 * that clients that connected together do not all ask the hub at once). */
static void keep_next_from(struct client *cl, uint64_t now)
{
	uint16_t r;
	gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r));
	cl->keep_next = now + cl->keep_every * 3 / 4 + cl->keep_every / 2 * r / UINT16_MAX;
}

static void keep_start(struct client *cl)
{
	cl->probe_keep = false;
	if (!cl->conn || cl->udp_payload <= PATHPROBE_MIN_SIZE)
		return; /* nothing smaller to tell it from */
	if (!cl->keep_every) {
		uint64_t ms = testenv_get(KEEP_ENV, 100, 3600000);
		cl->keep_every = ms ? ms * 1000 : KEEP_EVERY;
	}
	ngtcp2_conn_stat cs;
	ngtcp2_conn_get_conn_stat(cl->conn->qc, &cs);
	cl->keep_recovery = cs.congestion_recovery_start_ts;
	sd_event_now(cl->ev, CLOCK_MONOTONIC, &cl->keep_last);
	keep_next_from(cl, cl->keep_last);
	probe_timer_in(cl, KEEP_TICK);
}

/* This check's probes out again (the same ones: an answer to any counts). */
static void keep_send(struct client *cl)
{
	probe_out(cl, 0);
	probe_out(cl, cl->probe.n - 1);
	probe_out(cl, 0);
	cl->keep_tries++;
	ngtcp2_conn_stat cs;
	ngtcp2_conn_get_conn_stat(cl->conn->qc, &cs);
	probe_timer_in(cl, KEEP_WAIT + 2 * cs.smoothed_rtt / 1000);
}

static void keep_done(struct client *cl, uint64_t now)
{
	cl->probe_keep = false;
	cl->probe_sent = 0; /* late answers: for ngtcp2, which ignores them */
	keep_next_from(cl, now);
}

static void keep_tick(struct client *cl)
{
	if (!cl->conn || cl->conn->state != CONN_OPEN || cl->conn->close_pending ||
	    cl->udp.fd < 0 || cl->udp_payload <= PATHPROBE_MIN_SIZE)
		return;
	uint64_t now;
	sd_event_now(cl->ev, CLOCK_MONOTONIC, &now);
	if (cl->probe_keep) {
		/* None of the full-size probes answered yet (that ends it). */
		if (cl->keep_tries < KEEP_TRIES) {
			keep_send(cl);
			return;
		}
		bool small = cl->keep_small;
		keep_done(cl, now);
		if (!small) {
			log_debug("no answer to path probes of %zu bytes or of %zu: packets lost whatever "
			          "their size, not a narrower way", cl->probe.size[0],
			          cl->probe.size[cl->probe.n - 1]);
			probe_timer_in(cl, KEEP_TICK);
			return;
		}
		log_warn("the way to %s no longer carries UDP packets of %zu bytes of payload: %d "
		         "probes of that size went unanswered while smaller ones were answered, and no "
		         "ICMP answer told this machine: connecting again with packets that fit",
		         cl->cfg->server, cl->udp_payload, 2 * KEEP_TRIES);
		client_close_to_reconnect(cl, "path MTU shrank");
		return;
	}
	ngtcp2_conn_stat cs;
	ngtcp2_conn_get_conn_stat(cl->conn->qc, &cs);
	bool trouble = cs.pto_count > 0 || cs.congestion_recovery_start_ts != cl->keep_recovery;
	if (now < cl->keep_next && (!trouble || now < cl->keep_last + KEEP_TROUBLE_GAP)) {
		/* An idle client wakes less often: it loses nothing. */
		uint64_t moved = cl->conn->stats.tx_pkts + cl->conn->stats.rx_pkts;
		if (moved != cl->keep_moved) {
			probe_timer_in(cl, KEEP_TICK);
		} else if (trouble) {
			probe_timer_in(cl, KEEP_IDLE_TICK); /* for the check it asks for */
		} else {
			/* Nothing went either way since the last look: no look until
			 * the routine check, or until traffic (client_keep_wake). An
			 * idle client woke every 5 s for this, more often than for
			 * its keep-alives; those are small, and their losses say
			 * nothing of the way's size. */
			probe_timer_in(cl, cl->keep_next - now);
			cl->keep_dozing = true;
		}
		cl->keep_moved = moved;
		return;
	}
	cl->keep_recovery = cs.congestion_recovery_start_ts;
	cl->keep_last = now;
	probes_new(cl, cl->udp_payload);
	cl->probe_best = -1;
	cl->probe_keep = true;
	cl->keep_small = false;
	cl->keep_tries = 0;
	keep_send(cl);
}

void client_keep_wake(struct client *cl)
{
	if (cl->keep_dozing)
		probe_timer_in(cl, KEEP_TICK); /* clears keep_dozing */
}

/* rx answers one of this attempt's probes, the live connection's
 * full-size one, or its check's: noted, and not for ngtcp2. */
bool client_probe_answer(struct client *cl, const struct udp_rx *rx)
{
	int i = pathprobe_match(&cl->probe, rx->data, rx->len);
	if (i < 0)
		return false;
	if (cl->state == C_UP && cl->probe_keep) {
		if (i != 0) {
			cl->keep_small = true;
			return true;
		}
		uint64_t now;
		sd_event_now(cl->ev, CLOCK_MONOTONIC, &now);
		keep_done(cl, now); /* the way carries the size */
		probe_timer_in(cl, KEEP_TICK);
		return true;
	}
	if (cl->state == C_UP && !cl->probe_moved) {
		if (i == 0 && cl->conn && cl->conn->state == CONN_OPEN) {
			log_info("the way to the hub carries UDP packets of %zu bytes of payload again, not "
			         "only %zu: connecting again with packets of that size", cl->probe.size[0],
			         cl->udp_payload);
			client_probes_stop(cl);
			client_close_to_reconnect(cl, "path MTU grew");
		}
		return true;
	}
	bool first = cl->probe_best < 0;
	if (first || i < cl->probe_best)
		cl->probe_best = i;
	if (i == 0) {
		bool moved = cl->probe_moved;
		client_probes_stop(cl); /* full size arrives: nothing to find */
		if (moved)
			client_widen_start(cl);
		return true;
	}
	if (first) {
		/* The full one's answer, had it come, would come about now: give it
		 * as long again as this one took, and some. */
		uint64_t now;
		sd_event_now(cl->ev, CLOCK_MONOTONIC, &now);
		uint64_t rtt = now - cl->probe_sent;
		probe_timer_in(cl, rtt > PROBE_GRACE ? rtt : PROBE_GRACE);
	}
	return true;
}

/* ---- after a move ----
 *
 * The way from a new address (roaming) may be narrower than the one the
 * connection was made on, at a point that sends no ICMP back: its
 * full-size packets would vanish for the rest of its life. So probes of its
 * size and the smaller ones go out as beside an attempt; if only smaller
 * ones are answered by the time the full one's answer was due, the client
 * connects again with the largest of them. */
#define MOVED_WAIT (3 * 1000000) /* with no answer at all: give up the check */

static void moved_probe(struct client *cl)
{
	if (cl->udp_payload <= PATHPROBE_MIN_SIZE)
		return;
	cl->probe_best = -1;
	cl->probe_keep = false;
	probes_out(cl, cl->udp_payload, PATHPROBE_MAX);
	cl->probe_moved = true;
	probe_timer_in(cl, MOVED_WAIT);
}

static void moved_probed(struct client *cl)
{
	int best = cl->probe_sent ? cl->probe_best : -1;
	client_probes_stop(cl);
	if (best <= 0 || !cl->conn || cl->conn->state != CONN_OPEN) {
		client_widen_start(cl);
		return;
	}
	cl->probe_cap = cl->probe.size[best];
	log_warn("the way to %s from this address loses UDP packets of %zu bytes of payload "
	         "without an ICMP answer, and carries %zu: connecting again with packets that fit",
	         cl->cfg->server, cl->udp_payload, cl->probe_cap);
	client_close_to_reconnect(cl, "path MTU shrank");
}

int client_on_probe_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct client *cl = userdata;
	cl->keep_dozing = false; /* what the timer waited for is here */
	if (cl->state == C_UP) {
		if (cl->probe_moved)
			moved_probed(cl);
		else if (cl->widen_every)
			widen_probe(cl);
		else
			keep_tick(cl);
		client_settle(cl);
		return 0;
	}
	if (!cl->conn || cl->conn->heard || cl->state != C_CONNECTING)
		return 0;
	if (cl->probe_best < 0 && cl->addr_count > 1) {
		client_problem(cl, "no answer from %s at %s within %d s: trying its next address",
		               cl->cfg->server, cl->hub_str, SILENCE / 1000000);
		cl->silent = true; /* watched while it waits, as after a handshake timeout */
		client_next_address(cl);
		client_drop_connection(cl);
		client_schedule_retry(cl);
		return 0;
	}
	if (!cl->probe_sent || cl->probe_best <= 0)
		return 0;
	cl->probe_cap = cl->probe.size[cl->probe_best];
	log_warn("the way to %s loses UDP packets of %zu bytes of payload without an ICMP answer, "
	         "and carries %zu: connecting again with packets that fit", cl->cfg->server,
	         cl->udp_payload, cl->probe_cap);
	cl->quick_retry = true;
	client_drop_connection(cl);
	client_schedule_retry(cl);
	return 0;
}

/* Whether quote (len bytes: the start of the UDP payload an ICMP error is
 * about) is of a packet this attempt sent: its Initial (the version and
 * the random destination connection ID it chose) or one of its path
 * probes. Anyone who knows the two ends' addresses and ports can send an
 * error that the kernel gives this socket; only someone who saw the
 * packet knows what it began with. */
static enum quicquote attempt_quoted(struct client *cl, const uint8_t *quote, size_t len)
{
	ngtcp2_conn *qc = cl->conn->qc;
	const ngtcp2_cid *dcid = ngtcp2_conn_get_client_initial_dcid(qc);
	struct quicquote_sent s = {.version = ngtcp2_conn_get_client_chosen_version(qc),
	                           .dcidlen = dcid->datalen};
	if (s.dcidlen > sizeof(s.dcid))
		return QUICQUOTE_OTHER;
	memcpy(s.dcid, dcid->data, s.dcidlen);
	enum quicquote r = quicquote_check(quote, len, &s);
	/* The probes as sent (they are the same each time they are written). */
	for (int i = 0; r != QUICQUOTE_MATCH && cl->probe_sent && i < cl->probe.n; i++) {
		uint8_t pkt[UDP_MAX_PAYLOAD];
		if (!quicquote_sent_of(pkt, pathprobe_write(&cl->probe, i, pkt, sizeof(pkt)), &s))
			continue;
		enum quicquote p = quicquote_check(quote, len, &s);
		if (p > r)
			r = p;
	}
	return r;
}

/* The interface the kernel takes to the hub, if it has no carrier (a
 * cable out, a Wi-Fi gone, a peer's end down): its name in ifname. */
static bool hub_link_down(const struct client *cl, char ifname[IF_NAMESIZE])
{
	struct nl_link l;
	int oif = client_way_now(cl).oif;
	return oif && if_indextoname((unsigned)oif, ifname) && nl_link_get(oif, &l) == 0 &&
	       !(l.flags & IFF_RUNNING);
}

/* An attempt's packets answered with an ICMP (v6: ICMPv6) "unreachable" of
 * that code by from (NULL: not told; the hub itself, a router, or this
 * machine), quoting quote (NULL: an errno alone, no quote to see), end the
 * attempt now, rather than at the handshake timeout. */
static bool unreachable(struct client *cl, const struct sockaddr_storage *from, bool v6,
                        uint8_t type, uint8_t code, const uint8_t *quote, size_t quotelen)
{
	/* Only before the hub was heard: an ICMP error is easy to forge for
	 * someone who sees the packets, and a hub that answered is there (a
	 * connection's lost hub is found by its silence, or its reset). */
	if (!cl->conn || cl->conn->heard || cl->state != C_CONNECTING)
		return false;
	/* And only about a packet of this attempt's: not a forgery from off
	 * the way. A quote too short to show the connection ID (a router
	 * that quotes 8 bytes past the IP header, RFC 792: the UDP header
	 * alone) is no proof either, or every forger would send one: that
	 * attempt ends at its timeout. Linux, the hub's kernel or a router,
	 * quotes as much as fits in 576 bytes (IPv6: 1280), as RFC 1812 asks. */
	enum quicquote q = quote ? attempt_quoted(cl, quote, quotelen) : QUICQUOTE_MATCH;
	if (q != QUICQUOTE_MATCH) {
		char by[INET6_ADDRSTRLEN] = "?";
		if (from && from->ss_family)
			sockaddr_host((const struct sockaddr *)from, by, sizeof(by));
		log_debug("ICMP%s type %u code %u from %s about %s: not taken", v6 ? "v6" : "", type,
		          code, by, q == QUICQUOTE_SHORT ? "a packet it quotes too little of to tell"
		                                         : "no packet of this attempt's");
		return false;
	}
	/* The hub's name, and its address when the name is not one. */
	const char *name = cl->cfg->server, *at = "", *addr = "";
	if (strcmp(cl->cfg->server, cl->hub_str) != 0)
		at = " at ", addr = cl->hub_str;
	char why[200], by[INET6_ADDRSTRLEN] = "";
	icmp_error_kind(v6, type, code, why, sizeof(why));
	if (from && from->ss_family)
		sockaddr_host((const struct sockaddr *)from, by, sizeof(by));
	char msg[sizeof(cl->problem)], ifname[IF_NAMESIZE];
	bool hub = !by[0] || sockaddr_same_host(from, &cl->pick);
	if (hub)
		snprintf(msg, sizeof(msg), "connection failed: %s%s%s answered with ICMP %s", name, at,
		         addr, why);
	else if (sockaddr_same_host(from, &cl->udp.local) && hub_link_down(cl, ifname))
		/* The kernel's own, on a link that is down: nothing was sent. */
		snprintf(msg, sizeof(msg), "connection failed: this machine's link to %s%s%s, %s, has "
		         "no carrier (a cable out, a network gone): no way there until it is back",
		         name, at, addr, ifname);
	else if (sockaddr_same_host(from, &cl->udp.local))
		/* The kernel's own: no neighbour answered ARP (or IPv6's
		 * neighbour discovery) for the hub's address. */
		snprintf(msg, sizeof(msg), "connection failed: no machine answers for %s%s%s on this "
		         "machine's network (ICMP %s)", name, at, addr, why);
	else
		snprintf(msg, sizeof(msg), "connection failed: the router %s answered for %s%s%s with "
		         "ICMP %s", by, name, at, addr, why);
	/* A hub down for an hour refuses every attempt (up to 30 s apart). */
	client_problem_again(cl, msg);
	cl->silent = true; /* watched while it waits, as a hub that does not answer */
	/* Its host without its slopnd: restarting, most likely. */
	cl->port_refused = hub && (v6 ? type == 1 && code == 4 : type == 3 && code == 3);
	client_next_address(cl);
	client_drop_connection(cl);
	client_schedule_retry(cl);
	return true;
}

bool client_refused(struct client *cl, int err)
{
	/* The ICMP errors a socket reports from a receive or send without
	 * udp_watch_errors (the kernel's "hard" ones; never a local routing
	 * error): port unreachable, and the "prohibited" a rejecting firewall
	 * sends (EHOSTUNREACH over IPv4, EACCES over IPv6). Who sent it is not
	 * told, nor what it quoted: in an attempt only when its socket's
	 * errors could not be watched (the kernel refused IP_RECVERR). */
	uint8_t code;
	if (err == ECONNREFUSED)
		code = 3;
	else if (err == EHOSTUNREACH || err == EACCES)
		code = 13;
	else
		return false;
	return unreachable(cl, NULL, false, 3, code, NULL, 0);
}

int client_read_errors(struct client *cl)
{
	struct udp_error e;
	bool narrowed = false;
	while (cl->udp.fd >= 0 && cl->udp.recverr && udp_read_error(&cl->udp, &e) > 0) {
		bool v6 = e.origin == SO_EE_ORIGIN_ICMP6;
		enum icmp_kind k = e.origin == SO_EE_ORIGIN_ICMP || v6
		                   ? icmp_error_kind(v6, e.type, e.code, NULL, 0)
		                   : ICMP_KIND_OTHER;
		if (k == ICMP_KIND_UNREACHABLE &&
		    unreachable(cl, &e.from, v6, e.type, e.code, e.quote, e.quotelen))
			return 1; /* the connection and its socket are gone */
		if (k == ICMP_KIND_TOO_BIG)
			narrowed = true;
		else if (k != ICMP_KIND_UNREACHABLE) /* our own send's error (told by it), time exceeded */
			log_debug("udp error queue: %s (origin %u, type %u, code %u)", strerror(e.err),
			          e.origin, e.type, e.code);
	}
	if (!narrowed)
		return 0;
	client_path_narrowed(cl);
	return 2;
}

void client_next_address(struct client *cl)
{
	cl->addr_next++;
	cl->addr_round++;
	cl->quick_retry = cl->addr_count > 1 && cl->addr_round % cl->addr_count != 0;
}

/* ---- roaming ---- */

struct client_way client_way_now(const struct client *cl)
{
	struct client_way w = {0};
	uint32_t hub4, gw4 = 0;
	memcpy(&hub4, cl->hub_addr, 4);
	if (cl->hub_family == AF_INET6) {
		if (nl_route6_get(cl->hub_addr, &w.oif, w.gw) < 0)
			w.oif = 0;
	} else if (cl->hub_family == AF_INET) {
		if (nl_route_get(hub4, &w.oif, &gw4) < 0)
			w.oif = 0;
		memcpy(w.gw, &gw4, 4);
	} else if (nl_default_oif(&w.oif) < 0) {
		w.oif = 0;
	}
	return w;
}

/* What the interface toward the hub takes (0: unknown), whatever the kernel
 * learnt from ICMP answers since. */
static size_t device_payload(const struct client *cl)
{
	struct client_way w = client_way_now(cl);
	struct nl_link l;
	if (!w.oif || nl_link_get(w.oif, &l) < 0 || l.mtu <= UDP_IP_OVERHEAD(cl->hub_family))
		return 0;
	return l.mtu - UDP_IP_OVERHEAD(cl->hub_family);
}

size_t client_path_payload(struct client *cl)
{
	size_t now = udp_path_payload(&cl->udp);
	if (now >= NGTCP2_MAX_UDP_PAYLOAD_SIZE)
		return now;
	size_t dev = device_payload(cl);
	if (dev < NGTCP2_MAX_UDP_PAYLOAD_SIZE)
		return now; /* the interface itself: said by the caller */
	/* Learnt from an ICMP "too big" answer: less than any QUIC path carries,
	 * so not a path we could use, and anyone on the way can forge one
	 * (RFC 9000, 14.2.1: ignore it). Our sends ignore it too
	 * (IP_PMTUDISC_PROBE). */
	if (cl->pmtu_ignored != now)
		log_warn("the kernel holds a path MTU to the hub that leaves %zu bytes of UDP payload, "
		         "less than QUIC's least (%d): from an ICMP answer, which anyone on the way can "
		         "forge; ignored (the interface takes %zu)", now, NGTCP2_MAX_UDP_PAYLOAD_SIZE,
		         dev);
	cl->pmtu_ignored = now;
	return dev < UDP_MAX_PAYLOAD ? dev : UDP_MAX_PAYLOAD;
}

/* With --full-tunnel: the kernel would send to the hub through our TUN. */
static bool hub_through_tun(const struct client *cl)
{
	return cl->ft.low_added && client_way_now(cl).oif == cl->ifindex;
}

/* Waiting to connect again (backoff, up to 30 s after attempts that found
 * no way to the hub): a new way to it (the machine came back online, or
 * moved) is tried now, not when the wait ends. The client's own changes
 * (its routes go with a connection) leave the way as it was. */
static void retry_on_new_way(struct client *cl)
{
	uint64_t left;
	if (cl->fatal || cl->stopping || !client_retry_in(cl, &left) || left < 500000)
		return;
	struct client_way w = client_way_now(cl);
	if (!w.oif || w.oif == cl->ifindex || !memcmp(&w, &cl->way_tried, sizeof(w)))
		return;
	log_info("the way to the hub changed: connecting again now, not in %.0f s",
	         (double)left / 1e6);
	sd_event_source_set_time_relative(cl->retry, 100000);
}

/* The machine's addresses or routes changed, or a send failed: if the
 * kernel now reaches the hub from another local address (Wi-Fi to cable, a
 * new DHCP lease), move the connection there without a new login. */
int client_on_check_path(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct client *cl = userdata;
	/* Routes or addresses changed (or a send failed: cheap enough); first,
	 * as a change may have come with the refused send below. */
	client_lan_build(cl);
	if (cl->refused_on_send) {
		cl->refused_on_send = false;
		/* The error queue has it too, with who sent it. */
		if (cl->udp.recverr ? client_read_errors(cl) == 1 : client_refused(cl, ECONNREFUSED))
			return 0;
	}
	char lan[INET6_ADDRSTRLEN + IF_NAMESIZE + 16];
	/* Waiting: the connection given up is kept until the next attempt,
	 * and the TUN's addresses for the next login, unless the machine is
	 * now on a network they lie in (its DNS server would be asked through
	 * a tunnel that is down). */
	if (!cl->conn || cl->conn->state != CONN_OPEN) {
		if (client_subnet_in_lan(cl, lan, sizeof(lan))) {
			log_err("this machine is now on the network %s, which the VPN subnet's route would "
			        "take part of: the TUN's addresses go (or start this client with "
			        "--no-route)", lan);
			client_drop_address(cl);
		}
		retry_on_new_way(cl);
		return 0;
	}
	if (cl->udp.fd < 0)
		return 0;
	if (cl->state == C_UP && client_subnet_in_lan(cl, lan, sizeof(lan))) {
		/* Moved into a network that the VPN subnet overlaps. */
		log_err("this machine is now on the network %s, which the VPN subnet's route would take "
		        "part of: leaving the tunnel until it is gone (or start this client with "
		        "--no-route)", lan);
		client_drop_address(cl);
		conn_close(cl->conn, SLOPN_ERR_CLIENT_EXIT, "the hub's VPN subnet lies in a network of "
		           "this machine's");
		client_settle(cl);
		return 0;
	}
	/* The hub's host route may lead into the network we left. */
	client_full_tunnel_again(cl);
	const ngtcp2_path *p = ngtcp2_conn_get_path(cl->conn->qc);
	char was[INET6_ADDRSTRLEN + 8], now[INET6_ADDRSTRLEN + 8];
	sockaddr_str((const struct sockaddr *)&cl->udp.local, was, sizeof(was));
	int r = udp_reconnect(&cl->udp, p->remote.addr, p->remote.addrlen);
	if (r < 0) {
		log_info("no way to the hub right now (%s): waiting for the network", strerror(errno));
		return 0;
	}
	if (r == 0) {
		/* Same address; the link's MTU may have changed (a link event). A
		 * close this asks for leaves now, not with the next packet. */
		if (!hub_through_tun(cl)) {
			client_path_changed(cl);
			client_settle(cl);
		}
		return 0;
	}
	sd_event_source_set_io_fd(cl->udp_src, cl->udp.fd);
	sockaddr_str((const struct sockaddr *)&cl->udp.local, now, sizeof(now));
	if (cl->state != C_UP) {
		/* No migration before the handshake: start again from here. */
		log_info("local address changed (%s -> %s): connecting again", was, now);
		cl->quick_retry = true;
		client_drop_connection(cl);
		client_schedule_retry(cl);
		return 0;
	}
	if (conn_migrate(cl->conn) < 0) {
		client_close_to_reconnect(cl, "client moved");
		client_settle(cl);
		return 0;
	}
	log_info("moved: %s -> %s, same session", was, now);
	/* The new way: narrower at our side (its route says so), or further on. */
	client_path_narrowed(cl);
	/* Gone if the first write on the new way failed (client_down) and the
	 * way is narrower too (client_path_narrowed dropped it then). */
	if (cl->conn && cl->conn->state == CONN_OPEN && !cl->conn->close_pending)
		moved_probe(cl);
	client_settle(cl);
	return 0;
}

/* The kernel now knows that the way to the hub carries less than this
 * connection sends: every full-size packet would be lost, and ngtcp2 0.12
 * cannot shrink a connection's packets, so connect again with ones that fit
 * (the session comes back with the same VIP). */
void client_path_narrowed(struct client *cl)
{
	if (!cl->conn || cl->udp.fd < 0)
		return;
	if (hub_through_tun(cl)) {
		/* Not a narrower way: the full tunnel's host route to the hub went
		 * with the network we left, and the /1 routes take the hub into
		 * the TUN (of its MTU). The path check puts the route back. */
		client_check_path_soon(cl);
		return;
	}
	size_t now = client_path_payload(cl);
	if (now >= cl->udp_payload)
		return;
	log_warn("the way to the hub now carries UDP packets of %zu bytes of payload, not %zu: "
	         "connecting again with packets that fit", now, cl->udp_payload);
	if (cl->state == C_UP) {
		client_close_to_reconnect(cl, "path MTU shrank");
		return;
	}
	cl->quick_retry = true;
	client_drop_connection(cl);
	client_schedule_retry(cl);
}

void client_path_changed(struct client *cl)
{
	client_path_narrowed(cl);
	/* Wider than when this connection started, which carries less than
	 * the TUN's MTU (a link of ours was narrow then): connecting again
	 * gets packets of the TUN's size through. Not for a connection small
	 * for the hub's sake (its "path" line, or probes): our side of the
	 * way was as wide then. */
	if (!cl->conn || cl->state != C_UP || cl->conn->state != CONN_OPEN ||
	    conn_max_datagram(cl->conn) >= cl->cfg->mtu)
		return;
	size_t now = client_path_payload(cl);
	if (now <= cl->own_payload)
		return;
	log_info("the way to the hub carries UDP packets of %zu bytes of payload again, not %zu: "
	         "connecting again, so that packets of the MTU (%u) fit", now, cl->own_payload,
	         cl->cfg->mtu);
	client_close_to_reconnect(cl, "path MTU grew");
}

/* The hub says a link of its own narrowed: our bigger packets no longer get
 * in, though our side of the way is as wide as before (no ICMP, no probe
 * would tell us while the connection lives). The hub closes the connection
 * next; we connect again at once with packets of that size. */
void client_hub_path(struct client *cl, size_t max)
{
	if (!cl->conn || max >= cl->udp_payload)
		return;
	log_warn("the hub takes in UDP packets of at most %zu bytes of payload now, not %zu: "
	         "connecting again with packets that fit", max, cl->udp_payload);
	cl->probe_cap = max;
	client_close_to_reconnect(cl, "the hub's way narrowed");
}

void client_close_to_reconnect(struct client *cl, const char *reason)
{
	cl->quick_retry = true;
	/* The hub hears our close, or takes the session over at the next
	 * login; lingering (3 PTOs, seconds under load) would only hold the
	 * next attempt back. */
	cl->conn->linger = false;
	conn_close(cl->conn, SLOPN_ERR_CLIENT_EXIT, reason);
}

void client_check_path_soon(struct client *cl)
{
	/* A little later: one change often comes as several events. */
	timer_once(cl->path_check, 20000);
}

int client_on_netlink(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *cl = userdata;
	int tun_up = -1;
	bool tun_routes = false, tun_touched = false;
	if (nl_monitor_drain(fd, cl->ifindex, &tun_up, &tun_touched, &tun_routes) > 0)
		client_check_path_soon(cl);
	else if (tun_routes)
		client_lan_build(cl); /* a site's network routed into the TUN, say */
	if (tun_up >= 0)
		client_tun_link(cl, tun_up);
	if (tun_touched && cl->tun_check)
		timer_once(cl->tun_check, 100000); /* one flush comes as several events */
	return 0;
}
