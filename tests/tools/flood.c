/* slopn-flood: a test-only attacker for the hub's connection limits. It
 * opens QUIC connections (the daemon's own conn.c and tls.c), completes the
 * handshakes and never logs in, or sends one oversized or given login, or closes
 * at once (asking the hub to wait long for late packets), or logs in
 * with a token of its own per connection; or it sends
 * bare Initials and never answers, as a spoofed flood would; or it splits
 * its ClientHello over two Initials and holds the second back a while,
 * perhaps sending junk Initials of that connection meanwhile. At the end it
 * prints what it saw as one JSON object.
 *
 * It sends only to TEST-NET addresses (RFC 5737), where the namespace
 * tests put their hubs. Built by meson for the tests, never installed. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/cidmap.h"
#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/tls.h"
#include "daemon/udp.h"

#define MAX_FROM 128
#define TICK_USEC 10000
#define SPLIT_MAX 3 /* Initials held back of a split ClientHello */
#define SPLIT_PAYLOAD 1200 /* its datagrams' size: the least QUIC allows */

struct peer {
	struct conn conn;
	struct flood *f;
	uint64_t handshake_at;
	unsigned long num;        /* from 1, in the order opened */
	uint64_t opened_at;       /* conn_now() */
	bool up;                 /* handshake completed, not closed */
	/* --split-hello: the Initials held back (up to SPLIT_MAX, SPLIT_PAYLOAD
	 * bytes apart) and their lengths; until they are sent (send_rest),
	 * nothing from the hub is read for this connection. */
	uint8_t *rest;
	size_t rest_len[SPLIT_MAX], nrest;
	bool dirty;
	struct peer *dirty_next, *grave_next;
	LIST_ENTRY(peer) live_link; /* on f->live while not gone */
};

struct flood {
	sd_event *ev;
	gnutls_certificate_credentials_t cred;
	struct sockaddr_in server;
	struct udp sock[MAX_FROM];
	size_t nsock, next_sock;
	struct cidmap cids;      /* our SCIDs -> peer */
	LIST_HEAD(, peer) live;  /* every connection not gone */
	struct peer *dirty, *grave;
	/* settings */
	unsigned count, rate, duration;
	unsigned opening_max;    /* handshakes in progress at once (0: no limit but count) */
	unsigned long total;
	size_t login_bytes;
	const char *login;       /* a login line to send as it is */
	bool client_ids;         /* ... with client_id flood<num> added (clients of ours) */
	const char *token_prefix; /* or a login with token PREFIX<num> */
	bool initial_only;
	bool close_at_once;      /* close each connection as soon as its handshake is done */
	unsigned relogin_ms;     /* close each connection this long after its handshake (0: never) */
	unsigned max_ack_delay;  /* ms, told the hub (its PTO, and so its linger, grows with it) */
	bool no_credit;          /* give the hub no connection-level credit (initial_max_data 0) */
	unsigned idle_timeout;   /* ms, the max_idle_timeout told the hub (0: ngtcp2's) */
	bool print_cid;          /* each connection's hub connection ID to stderr, as it is up */
	unsigned datagrams;      /* IP packets sent as DATAGRAMs after the handshake, before any login */
	bool key_update;         /* a TLS KeyUpdate after the handshake, which RFC 9001 6 forbids */
	bool no_alpn;            /* a ClientHello without ALPN, which GnuTLS lets through */
	unsigned split_ms;       /* a ClientHello over two Initials, the second this late */
	unsigned split_junk;     /* Initials of the split connection's, undecryptable, after its first */
	uint64_t rest_at;        /* when the held back Initials go (0: not known yet) */
	/* what happened */
	unsigned long attempted, handshakes, closed_by_hub, refused, failed, resets, split;
	unsigned open, held, held_peak;
	unsigned opening;        /* open, handshake not completed */
	uint64_t close_ms_min, close_ms_max;
	char last_reason[128];
	char group[32];          /* the key exchange's, in the first handshake */
	ngtcp2_transport_params hub_params; /* as the first handshake gave them */
	uint64_t last_code;
};

static void mark_dirty(struct peer *p)
{
	if (p->dirty)
		return;
	p->dirty = true;
	p->dirty_next = p->f->dirty;
	p->f->dirty = p;
}

static void settle(struct flood *f)
{
	while (f->dirty) {
		struct peer *p = f->dirty;
		f->dirty = p->dirty_next;
		p->dirty = false;
		conn_write(&p->conn);
	}
	for (size_t i = 0; i < f->nsock; i++)
		udp_flush(&f->sock[i]);
	while (f->grave) {
		struct peer *p = f->grave;
		f->grave = p->grave_next;
		conn_free(&p->conn);
		free(p);
	}
}

/* ---- one connection ---- */

static void on_handshake(struct conn *c)
{
	struct peer *p = c->owner;
	struct flood *f = p->f;
	p->up = true;
	p->handshake_at = conn_now();
	f->opening--;
	if (!f->handshakes++) {
		const ngtcp2_transport_params *tp = ngtcp2_conn_get_remote_transport_params(c->qc);
		if (tp)
			f->hub_params = *tp;
		const char *g = gnutls_group_get_name(gnutls_group_get(c->tls));
		snprintf(f->group, sizeof(f->group), "%s", g ? g : "");
	}
	if (++f->held > f->held_peak)
		f->held_peak = f->held;
	if (f->print_cid) {
		/* For a test that sends with it from elsewhere. */
		const ngtcp2_cid *d = ngtcp2_conn_get_dcid(c->qc);
		fprintf(stderr, "hub-cid ");
		for (size_t i = 0; i < d->datalen; i++)
			fprintf(stderr, "%02x", d->data[i]);
		fprintf(stderr, "\n");
		fflush(stderr);
	}
	if (f->datagrams) {
		/* An IPv4 header to the hub's VPN address, nothing more: the hub
		 * must drop it (no login yet) and count it. */
		static const uint8_t ip[20] = {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0,
		                               10, 100, 0, 2, 10, 100, 0, 1};
		for (unsigned i = 0; i < f->datagrams; i++)
			conn_send_datagram(c, ip, sizeof(ip));
		mark_dirty(p);
	}
	if (f->key_update) {
		/* KeyUpdate (type 24, 1 byte: update_not_requested) in a 1-RTT
		 * CRYPTO frame. Static: ngtcp2 keeps the pointer until acked. */
		static const uint8_t ku[] = {24, 0, 0, 1, 0};
		if (ngtcp2_conn_submit_crypto_data(c->qc, NGTCP2_CRYPTO_LEVEL_APPLICATION, ku,
		                                   sizeof(ku)) != 0)
			log_warn("the KeyUpdate of connection %lu not sent", p->num);
		mark_dirty(p);
	}
	if (f->close_at_once) {
		conn_close(c, 0, "flood");
		mark_dirty(p);
		return;
	}
	if (f->token_prefix) {
		char line[512];
		int n = snprintf(line, sizeof(line),
		                 "{\"type\":\"login_request\",\"token\":\"%s%lu\",\"client_version\":"
		                 "\"flood\",\"os\":\"linux\"}\n", f->token_prefix, p->num);
		if (n < 0 || (size_t)n >= sizeof(line) || !conn_ctl_send(c, line, (size_t)n))
			log_warn("the login of connection %lu not sent", p->num);
		return;
	}
	if (f->login) {
		size_t n = strlen(f->login);
		char line[4096];
		if (n + 1 > sizeof(line)) {
			log_warn("a login of %zu bytes is more than --login takes", n + 1);
			return;
		}
		memcpy(line, f->login, n);
		line[n++] = '\n';
		if (f->client_ids && n >= 2 && line[n - 2] == '}') {
			/* Each its own client of ours: the hub keeps one without
			 * an id (the original's) to the /24 of its VIP. */
			int k = snprintf(line + n - 2, sizeof(line) - (n - 2), ",\"client_id\":\"flood%lu\"}\n",
			                 p->num);
			if (k < 0 || (size_t)k >= sizeof(line) - (n - 2)) {
				log_warn("a login of %zu bytes with its client_id is more than --login takes", n);
				return;
			}
			n += (size_t)k - 2;
		}
		if (!conn_ctl_send(c, line, n))
			log_warn("a login of %zu bytes does not fit the control buffer", n);
		return;
	}
	if (!f->login_bytes)
		return;
	/* A well-formed login whose token makes it login_bytes long, '\n' included. */
	static const char head[] = "{\"type\":\"login_request\",\"token\":\"";
	static const char tail[] = "\",\"client_version\":\"flood\",\"os\":\"linux\"}\n";
	size_t fixed = sizeof(head) - 1 + sizeof(tail) - 1;
	size_t pad = f->login_bytes > fixed ? f->login_bytes - fixed : 0;
	char *line = malloc(fixed + pad);
	if (!line)
		return;
	memcpy(line, head, sizeof(head) - 1);
	memset(line + sizeof(head) - 1, 'x', pad);
	memcpy(line + sizeof(head) - 1 + pad, tail, sizeof(tail) - 1);
	if (!conn_ctl_send(c, line, fixed + pad))
		log_warn("a login of %zu bytes does not fit the control buffer", fixed + pad);
	free(line);
}

static void on_down(struct conn *c)
{
	struct peer *p = c->owner;
	struct flood *f = p->f;
	if (p->up) {
		p->up = false;
		f->held--;
	}
	if (!c->close_by_peer) {
		f->failed++; /* timed out */
		return;
	}
	if (c->stateless_reset) {
		f->resets++; /* a hub that restarted */
		return;
	}
	snprintf(f->last_reason, sizeof(f->last_reason), "%s", c->close_reason);
	f->last_code = c->close_code;
	if (!p->handshake_at) {
		f->refused++;
		return;
	}
	f->closed_by_hub++;
	uint64_t ms = (conn_now() - p->handshake_at) / 1000000;
	if (f->closed_by_hub == 1 || ms < f->close_ms_min)
		f->close_ms_min = ms;
	if (ms > f->close_ms_max)
		f->close_ms_max = ms;
}

static void forget_cid(struct flood *f, struct peer *p, const ngtcp2_cid *cid)
{
	if (cidmap_get(&f->cids, cid->data, cid->datalen) == p)
		cidmap_del(&f->cids, cid->data, cid->datalen);
}

static void on_gone(struct conn *c)
{
	struct peer *p = c->owner;
	struct flood *f = p->f;
	ngtcp2_cid cids[16];
	size_t n = ngtcp2_conn_get_num_scid(c->qc);
	if (n <= 16) {
		n = ngtcp2_conn_get_scid(c->qc, cids);
		for (size_t i = 0; i < n; i++)
			forget_cid(f, p, &cids[i]);
	}
	f->open--;
	if (!p->handshake_at)
		f->opening--;
	LIST_REMOVE(p, live_link);
	p->grave_next = f->grave;
	f->grave = p;
}

static void cid_added(struct conn *c, const ngtcp2_cid *cid)
{
	struct peer *p = c->owner;
	cidmap_put(&p->f->cids, cid->data, cid->datalen, p);
}

static void cid_removed(struct conn *c, const ngtcp2_cid *cid)
{
	struct peer *p = c->owner;
	forget_cid(p->f, p, cid);
}

static const struct conn_ops peer_ops = {
	.on_handshake = on_handshake,
	.on_down = on_down,
	.on_gone = on_gone,
	.cid_added = cid_added,
	.cid_removed = cid_removed,
};

/* A new connection from the next source address; its Initial goes out. */
/* --split-junk: Initials with the connection's header (its connection
 * IDs) and garbage after it, which no key opens: every other one of 100
 * bytes, which QUIC forbids (an Initial's datagram has 1200 at least), the
 * others as long as the real one. */
static void send_junk(struct flood *f, struct udp *u, const uint8_t *first, size_t n)
{
	/* The long header of a client's Initial without a token ends within 54
	 * bytes (two connection IDs of 20 at most). */
	enum { KEEP = 64, SHORT = 100 };
	uint8_t junk[SPLIT_PAYLOAD];
	if (n > sizeof(junk) || n <= SHORT)
		return;
	memcpy(junk, first, KEEP);
	for (unsigned i = 0; i < f->split_junk; i++) {
		gnutls_rnd(GNUTLS_RND_NONCE, junk + KEEP, n - KEEP);
		udp_send_one(u, NULL, 0, (const struct sockaddr *)&f->server, sizeof(f->server), junk,
		             i % 2 ? n : SHORT);
	}
}

static struct peer *open_one(struct flood *f)
{
	struct peer *p = calloc(1, sizeof(*p));
	gnutls_session_t tls;
	if (!p)
		return NULL;
	p->f = f;
	struct udp *u = &f->sock[f->next_sock++ % f->nsock];
	if (tls_client_session(&tls, f->cred, NULL, f->no_alpn ? "" : SLOPN_ALPN, &p->conn.ref) < 0) {
		free(p);
		return NULL;
	}
	/* A key share of 1 KiB first (an 8192-bit DH group), the hub's X25519
	 * beside it: a ClientHello longer than one Initial carries. */
	if (f->split_ms && gnutls_priority_set_direct(tls, "NORMAL:-VERS-ALL:+VERS-TLS1.3:"
	                                              "-GROUP-ALL:+GROUP-FFDHE8192:+GROUP-X25519:"
	                                              "%DISABLE_TLS13_COMPAT_MODE", NULL) < 0)
		log_warn("no 8192-bit DH group here: the ClientHello fits one Initial");
	if (conn_client_init(&p->conn, f->ev, u, (const struct sockaddr *)&f->server,
	                     sizeof(f->server), tls, &peer_ops, p,
	                     f->split_ms ? SPLIT_PAYLOAD : UDP_MAX_PAYLOAD, 0) < 0) {
		if (!p->conn.tls)
			gnutls_deinit(tls);
		conn_free(&p->conn);
		free(p);
		return NULL;
	}
	p->num = ++f->attempted;
	p->opened_at = conn_now();
	/* Before the first packet, which carries the transport parameters: the
	 * library's own copy (a client cannot set them after creating the
	 * connection through the API). */
	ngtcp2_transport_params *tp =
		(ngtcp2_transport_params *)(uintptr_t)ngtcp2_conn_get_local_transport_params(p->conn.qc);
	if (f->max_ack_delay)
		tp->max_ack_delay = (uint64_t)f->max_ack_delay * NGTCP2_MILLISECONDS;
	ngtcp2_duration own_idle = tp->max_idle_timeout;
	if (f->idle_timeout)
		tp->max_idle_timeout = (uint64_t)f->idle_timeout * NGTCP2_MILLISECONDS;
	if (f->no_credit)
		tp->initial_max_data = 0; /* the hub can send no stream data: its error line stays */
	ngtcp2_cid scid[1];
	if (ngtcp2_conn_get_scid(p->conn.qc, scid) == 1)
		cidmap_put(&f->cids, scid[0].data, scid[0].datalen, p);
	if (!f->initial_only)
		LIST_INSERT_HEAD(&f->live, p, live_link);
	if (f->split_ms && (p->rest = malloc(SPLIT_MAX * SPLIT_PAYLOAD))) {
		/* The first Initial now, the others kept back; and the hub's
		 * answers not read meanwhile, so that no RTT is measured and
		 * nothing is sent again before (the first PTO, about a second). */
		uint8_t first[SPLIT_PAYLOAD];
		ngtcp2_ssize n = ngtcp2_conn_write_pkt(p->conn.qc, NULL, NULL, first, sizeof(first),
		                                       conn_now());
		if (n > 0)
			udp_send_one(u, NULL, 0, (const struct sockaddr *)&f->server, sizeof(f->server),
			             first, (size_t)n);
		if (n > 0)
			send_junk(f, u, first, (size_t)n);
		while (n > 0 && p->nrest < SPLIT_MAX &&
		       (n = ngtcp2_conn_write_pkt(p->conn.qc, NULL, NULL,
		                                  p->rest + p->nrest * SPLIT_PAYLOAD,
		                                  SPLIT_PAYLOAD, conn_now())) > 0)
			p->rest_len[p->nrest++] = (size_t)n;
		if (p->nrest)
			f->split++;
	}
	conn_write(&p->conn);
	/* Told the hub (the first packet carries it); our own end keeps its
	 * idle timeout, as an attacker's would. */
	tp->max_idle_timeout = own_idle;
	return p;
}

/* The Initials that --split-hello held back, all at once: split_ms after
 * the last connection (--total) was opened, or after each without. */
static void send_rest(struct flood *f)
{
	uint64_t now = conn_now();
	if (!f->rest_at && f->total && f->attempted >= f->total)
		f->rest_at = now + (uint64_t)f->split_ms * 1000000;
	for (struct peer *p = LIST_FIRST(&f->live); p; p = LIST_NEXT(p, live_link)) {
		if (!p->rest || (f->total ? !f->rest_at || f->rest_at > now
		                          : p->opened_at + (uint64_t)f->split_ms * 1000000 > now))
			continue;
		for (size_t i = 0; i < p->nrest; i++)
			udp_send_one(p->conn.udp, NULL, 0, (const struct sockaddr *)&f->server,
			             sizeof(f->server), p->rest + i * SPLIT_PAYLOAD, p->rest_len[i]);
		free(p->rest);
		p->rest = NULL;
	}
}

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct flood *f = userdata;
	if (f->split_ms)
		send_rest(f);
	if (f->total && f->attempted >= f->total && !f->open) {
		sd_event_exit(f->ev, 0); /* all of them opened and closed */
		return 0;
	}
	unsigned budget = f->rate / (1000000 / TICK_USEC);
	if (!budget)
		budget = 1;
	while (budget-- && (!f->total || f->attempted < f->total)) {
		if (f->initial_only) {
			/* Fire and forget: the hub's answers are never read. */
			struct peer *p = open_one(f);
			if (p) {
				conn_free(&p->conn);
				free(p);
			}
			continue;
		}
		if (f->open >= f->count || (f->opening_max && f->opening >= f->opening_max))
			break;
		if (open_one(f))
			f->open++, f->opening++;
	}
	if (f->relogin_ms) {
		/* A client in a loop: in, out, in again (a new connection). */
		uint64_t now = conn_now();
		for (struct peer *p = LIST_FIRST(&f->live); p; p = LIST_NEXT(p, live_link))
			if (p->up && p->conn.state == CONN_OPEN &&
			    now - p->handshake_at >= (uint64_t)f->relogin_ms * 1000000) {
				conn_close(&p->conn, 0, "flood relogin");
				mark_dirty(p);
			}
	}
	settle(f);
	sd_event_source_set_time_relative(src, TICK_USEC);
	sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	return 0;
}

/* One source socket; answers are routed to their connection by our CIDs. */
struct sockref {
	struct flood *f;
	struct udp *u;
};

static int on_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct sockref *r = userdata;
	struct flood *f = r->f;
	for (int round = 0; round < 8; round++) {
		int n = udp_recv(r->u);
		uint64_t ts = conn_now();
		for (int i = 0; i < n; i++) {
			struct udp_rx *rx = &r->u->rx[i];
			ngtcp2_version_cid vc;
			if (ngtcp2_pkt_decode_version_cid(&vc, rx->data, rx->len, CONN_CID_LEN) != 0)
				continue;
			struct peer *p = cidmap_get(&f->cids, vc.dcid, vc.dcidlen);
			if (!p && !(rx->data[0] & 0x80)) {
				/* A stateless reset bears no CID of ours (a hub that
				 * restarted knows none): each connection on this
				 * socket checks it against its tokens, as a client
				 * with a socket of its own would. */
				/* conn_read may end q (on_gone unlinks it): take
				 * the next one first. */
				struct peer *q, *next;
				for (q = LIST_FIRST(&f->live); q; q = next) {
					next = LIST_NEXT(q, live_link);
					if (q->conn.udp == r->u && q->conn.state != CONN_DEAD) {
						conn_read(&q->conn, (const struct sockaddr *)&rx->to, rx->tolen,
						          (const struct sockaddr *)&rx->from, rx->fromlen,
						          rx->data, rx->len, ts);
						mark_dirty(q);
					}
				}
				continue;
			}
			if (!p || p->conn.state == CONN_DEAD || p->rest)
				continue;
			conn_read(&p->conn, (const struct sockaddr *)&rx->to, rx->tolen,
			          (const struct sockaddr *)&rx->from, rx->fromlen, rx->data, rx->len, ts);
			mark_dirty(p);
		}
		if (!r->u->rx_more)
			break;
	}
	settle(f);
	return 0;
}

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(src), 0);
}

static int on_end(sd_event_source *src, uint64_t usec, void *userdata)
{
	sd_event_exit(userdata, 0);
	return 0;
}

/* RFC 5737 documentation ranges only. */
static bool test_net(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr) & 0xffffff00u;
	return h == 0xc0000200u || h == 0xc6336400u || h == 0xcb007100u;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: slopn-flood --server ADDR:PORT [--from ADDR]... [--count N] [--total N]\n"
		"                   [--rate N] [--duration S] [--login-bytes N | --login TEXT [--client-ids]]\n"
		"                   [--initial-only] [--close] [--max-ack-delay MS] [--print-cid]\n"
		"                   [--no-credit] [--idle-timeout MS] [--datagrams N]\n"
		"                   [--token-prefix PREFIX] [--key-update] [--no-alpn]\n"
		"                   [--split-hello MS [--split-junk N]] [--opening N]\n"
		"  --server ADDR:PORT  the hub: an IPv4 address in a TEST-NET range only\n"
		"  --from ADDR         a source address (repeatable, used in turn); default: the\n"
		"                      one the kernel picks for --server\n"
		"  --count N           connections to keep open or opening at once (default 1)\n"
		"  --total N           stop opening after N attempts (default: no limit)\n"
		"  --rate N            new connections per second at most (default 2000)\n"
		"  --opening N         handshakes in progress at once, at most (default: no\n"
		"                      limit but --count): a flood paced by the hub\n"
		"  --duration S        run S seconds, then print the summary (default 10);\n"
		"                      with --total, less once all are opened and closed;\n"
		"                      less on SIGTERM or SIGINT\n"
		"  --login-bytes N     after the handshake, send a login line of N bytes\n"
		"  --login TEXT        after the handshake, send TEXT as the login line\n"
		"  --client-ids        with --login, a client_id of its own in each (flood1, flood2...)\n"
		"  --initial-only      send bare Initials (--rate a second), read no answer\n"
		"  --close             close each connection as soon as its handshake is done\n"
		"  --relogin MS        close each connection MS after its handshake (a client\n"
		"                      logging in again and again, with --login)\n"
		"  --max-ack-delay MS  the max_ack_delay to announce (default ngtcp2's, 25)\n"
		"  --print-cid         print each connection's hub connection ID (hex) to stderr\n"
		"  --no-credit         give the hub no flow control credit for stream data\n"
		"  --idle-timeout MS   the max_idle_timeout to announce (ours stays as it was)\n"
		"  --datagrams N       after the handshake, send N IP packets before any login\n"
		"  --token-prefix P    after the handshake, log in with token P1, P2... (one per\n"
		"                      connection, in the order they were opened)\n"
		"  --key-update        after the handshake, send a TLS KeyUpdate (QUIC forbids it)\n"
		"  --no-alpn           offer no ALPN in the handshake\n"
		"  --split-hello MS    a ClientHello over two Initials, the second sent MS\n"
		"                      later (with --total: all of them, MS after the last\n"
		"                      connection opened); the hub's answers unread meanwhile\n"
		"  --split-junk N      with --split-hello, N Initials of the connection's after\n"
		"                      its first that no key opens, every other one 100 bytes\n");
}

int main(int argc, char **argv)
{
	static struct flood fl;
	struct flood *f = &fl;
	const char *server = NULL, *from[MAX_FROM];
	size_t nfrom = 0;
	f->count = 1, f->rate = 2000, f->duration = 10;
	static const struct option opts[] = {
		{"server", required_argument, NULL, 's'}, {"from", required_argument, NULL, 'f'},
		{"count", required_argument, NULL, 'c'}, {"total", required_argument, NULL, 't'},
		{"rate", required_argument, NULL, 'r'}, {"duration", required_argument, NULL, 'd'},
		{"login-bytes", required_argument, NULL, 'l'}, {"initial-only", no_argument, NULL, 'i'},
		{"login", required_argument, NULL, 'L'}, {"close", no_argument, NULL, 'C'},
		{"max-ack-delay", required_argument, NULL, 'm'}, {"print-cid", no_argument, NULL, 'p'},
		{"no-credit", no_argument, NULL, 'n'}, {"idle-timeout", required_argument, NULL, 'I'},
		{"datagrams", required_argument, NULL, 'D'},
		{"token-prefix", required_argument, NULL, 'T'}, {"key-update", no_argument, NULL, 'K'},
		{"no-alpn", no_argument, NULL, 'A'}, {"split-hello", required_argument, NULL, 'S'},
		{"opening", required_argument, NULL, 'o'}, {"client-ids", no_argument, NULL, 'N'},
		{"split-junk", required_argument, NULL, 'J'},
		{"relogin", required_argument, NULL, 'R'},
		{NULL, 0, NULL, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': server = optarg; break;
		case 'f':
			if (nfrom == MAX_FROM) {
				fprintf(stderr, "slopn-flood: at most %d --from\n", MAX_FROM);
				return 2;
			}
			from[nfrom++] = optarg;
			break;
		case 'c': f->count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': f->total = strtoul(optarg, NULL, 10); break;
		case 'r': f->rate = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': f->duration = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'l': f->login_bytes = strtoul(optarg, NULL, 10); break;
		case 'i': f->initial_only = true; break;
		case 'L': f->login = optarg; break;
		case 'C': f->close_at_once = true; break;
		case 'm': f->max_ack_delay = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': f->print_cid = true; break;
		case 'n': f->no_credit = true; break;
		case 'I': f->idle_timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'D': f->datagrams = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': f->token_prefix = optarg; break;
		case 'K': f->key_update = true; break;
		case 'A': f->no_alpn = true; break;
		case 'S': f->split_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'o': f->opening_max = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'N': f->client_ids = true; break;
		case 'R': f->relogin_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'J': f->split_junk = (unsigned)strtoul(optarg, NULL, 10); break;
		default: usage(); return 2;
		}
	}
	char host[64];
	unsigned port;
	if (!server || sscanf(server, "%63[0-9.]:%u", host, &port) != 2 || port == 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &f->server.sin_addr) != 1) {
		usage();
		return 2;
	}
	if (!test_net(f->server.sin_addr)) {
		fprintf(stderr, "slopn-flood: %s is not in a TEST-NET range: refusing to send there\n", host);
		return 2;
	}
	if (f->split_ms && f->total && f->opening_max && f->opening_max < f->total) {
		/* The held-back halves go once all are opened, and a split
		 * connection waits for its other half: it would never come. */
		fprintf(stderr, "slopn-flood: --split-hello with --total sends the held Initials once "
		        "all are opened: --opening must be at least --total\n");
		return 2;
	}
	f->server.sin_family = AF_INET;
	f->server.sin_port = htons((uint16_t)port);

	gnutls_global_init();
	if (gnutls_certificate_allocate_credentials(&f->cred) < 0 || cidmap_init(&f->cids, 1024) < 0 ||
	    sd_event_default(&f->ev) < 0) {
		fprintf(stderr, "slopn-flood: cannot set up\n");
		return 1;
	}
	/* Without --from: the address the kernel would send from. A socket
	 * bound to 0.0.0.0 would give each connection that path's local
	 * address, which no answer (sent to the real one) matches. */
	char any[INET_ADDRSTRLEN];
	if (!nfrom) {
		struct sockaddr_in a;
		socklen_t alen = sizeof(a);
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || connect(fd, (const struct sockaddr *)&f->server, sizeof(f->server)) < 0 ||
		    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
			fprintf(stderr, "slopn-flood: no way to %s: %s\n", server, strerror(errno));
			return 1;
		}
		close(fd);
		from[nfrom++] = inet_ntop(AF_INET, &a.sin_addr, any, sizeof(any));
	}
	static struct sockref refs[MAX_FROM];
	for (size_t i = 0; i < nfrom; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET};
		if (inet_pton(AF_INET, from[i], &a.sin_addr) != 1 ||
		    udp_open(&f->sock[i], (const struct sockaddr *)&a, sizeof(a), false) < 0) {
			fprintf(stderr, "slopn-flood: cannot send from %s: %s\n", from[i], strerror(errno));
			return 1;
		}
		f->nsock++;
		refs[i] = (struct sockref){f, &f->sock[i]};
		if (!f->initial_only &&
		    sd_event_add_io(f->ev, NULL, f->sock[i].fd, EPOLLIN, on_readable, &refs[i]) < 0)
			return 1;
	}
	/* SIGTERM (or SIGINT) ends the run early, with its summary: a test
	 * need not guess a --duration. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0 ||
	    sd_event_add_signal(f->ev, NULL, SIGTERM, on_signal, NULL) < 0 ||
	    sd_event_add_signal(f->ev, NULL, SIGINT, on_signal, NULL) < 0 ||
	    sd_event_add_time_relative(f->ev, NULL, CLOCK_MONOTONIC, 0, 1000, on_tick, f) < 0 ||
	    sd_event_add_time_relative(f->ev, NULL, CLOCK_MONOTONIC, (uint64_t)f->duration * 1000000,
	                               1000, on_end, f->ev) < 0)
		return 1;
	sd_event_loop(f->ev);

	json_t *out = json_pack("{s:I, s:I, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I}",
		"attempted", (json_int_t)f->attempted, "handshakes", (json_int_t)f->handshakes,
		"held_peak", (int)f->held_peak, "held_end", (int)f->held,
		"closed_by_hub", (json_int_t)f->closed_by_hub, "refused", (json_int_t)f->refused,
		"failed", (json_int_t)f->failed, "resets", (json_int_t)f->resets,
		"close_after_ms_min", (json_int_t)f->close_ms_min,
		"close_after_ms_max", (json_int_t)f->close_ms_max,
		"last_reason", f->last_reason, "last_code", (json_int_t)f->last_code);
	json_object_set_new(out, "split", json_integer((json_int_t)f->split));
	json_object_set_new(out, "opening", json_integer((json_int_t)f->opening));
	json_object_set_new(out, "group", json_string(f->group));
	/* What the hub lets a client send before it has read any of it. */
	json_object_set_new(out, "hub_limits", json_pack("{s:I, s:I, s:I}",
		"streams_bidi", (json_int_t)f->hub_params.initial_max_streams_bidi,
		"stream_window", (json_int_t)f->hub_params.initial_max_stream_data_bidi_remote,
		"max_data", (json_int_t)f->hub_params.initial_max_data));
	char *s = json_dumps(out, JSON_COMPACT);
	puts(s);
	free(s);
	json_decref(out);
	/* Leave as an attacker would: no CONNECTION_CLOSE, nothing freed. */
	fflush(stdout);
	_exit(0);
}
