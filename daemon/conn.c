#include "daemon/conn.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/cidtag.h"
#include "daemon/log.h"
#include "daemon/testenv.h"
#include "daemon/timer.h"
#include "daemon/tls.h"
#include "proto/text.h"

const char *const drop_reason_names[DROP_MAX] = {
	[DROP_SPOOFED] = "spoofed", [DROP_NOT_IPV4] = "not_ipv4",
	[DROP_TOO_BIG] = "too_big", [DROP_NO_ROUTE] = "no_route",
	[DROP_QUEUE] = "queue", [DROP_BEFORE_LOGIN] = "before_login",
	[DROP_TUN] = "tun", [DROP_QUEUE_MEMORY] = "queue_memory",
	[DROP_TUN_QUEUE] = "tun_queue", [DROP_UDP_SEND] = "udp_send",
	[DROP_UDP_RECV] = "udp_recv", [DROP_TUN_BAD] = "tun_bad",
};

#define DGQ_KEEP_SECONDS 10
#define IDLE_TIMEOUT (30 * NGTCP2_SECONDS)
#define LINGER_MAX (3 * NGTCP2_SECONDS)
#define KEEPALIVE (10 * NGTCP2_SECONDS)
#define KEEPALIVE_MIN NGTCP2_SECONDS
#define HUB_KEEPALIVE (15 * NGTCP2_SECONDS) /* see keep_alive_for */
/* A client gives up on a hub that answered none of this many probe
 * timeouts in a row, or nothing it sent for as many probe timeouts (a
 * packet sent before the doubled timeout is due, five pings a second, puts
 * each probe off: the count alone waited for the idle timeout), after at
 * least DEAD_SILENCE without a packet: 2 to 3 s on a LAN, under load too,
 * well before the idle timeout. */
#define DEAD_PTOS 4
#define DEAD_SILENCE (2 * NGTCP2_SECONDS)
/* Connection-level credit added per probe anchor: enough that ngtcp2 sends
 * MAX_DATA at once (it waits for new credit of half its window, which
 * starts at initial_max_data, params_init, and may grow). */
#define ANCHOR_CREDIT (256 * 1024)
#define ANCHOR_INTERVAL (20 * NGTCP2_MILLISECONDS)
/* No timer closer than this: in these VMs arming one 5 us ahead costs 20 us,
 * one 20 ms ahead 0.6 us. A late ACK or pacing step costs less. */
#define TIMER_MIN NGTCP2_MILLISECONDS
#define TIMER_LATER 1000000 /* sd-event us: see conn_update_timer */
/* Pacing lets datagrams leave in bursts of this much of the pacing rate
 * (at least PACE_MIN_BURST bytes): coarse, so that it never needs a timer
 * under TIMER_MIN, and fine enough for a shallow bottleneck queue. */
#define PACE_BURST (2 * NGTCP2_MILLISECONDS)
#define PACE_MIN_BURST (16 * UDP_MAX_PAYLOAD)
/* A requested close waits for the control data before it (the error line
 * travels with the close) at most this long: a peer that withholds flow
 * control credit must not keep a refused or kicked connection open. */
#define CLOSE_WAIT_MAX NGTCP2_SECONDS

uint64_t conn_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec;
}

size_t conn_tx_room(const struct conn *c)
{
	return c->tx_cap ? c->tx_cap : UDP_MAX_PAYLOAD;
}

static void conn_update_timer(struct conn *c);
static void conn_enter_down(struct conn *c, enum conn_state st);
static void dgq_free(struct conn *c);

/* ngtcp2 0.12 arms its probe timeout (PTO) only for packets with frames it
 * would retransmit; packets that carry only DATAGRAM frames do not count
 * (upstream made them count in 1.0). If the peer dies, or the path breaks,
 * while only datagrams are in flight, no probe is ever sent: a full
 * congestion window then stops everything, and either way nothing notices
 * before the idle timeout. A MAX_DATA update is retransmittable: one goes
 * out with the datagrams every ANCHOR_INTERVAL, whenever the window is
 * nearly full, and with each keep-alive, so the PTO stays armed while data
 * is in flight: probes go out, a live peer's ACK frees the window, and a
 * restarted hub answers with a stateless reset. The credit is harmless:
 * stream data is consumed as it arrives. At most once per write pass. */
static void probe_anchor(struct conn *c, uint64_t ts, bool force)
{
	if (c->anchored || (!force && ts - c->anchor_ts < ANCHOR_INTERVAL &&
	                    ngtcp2_conn_get_cwnd_left(c->qc) >= 2 * UDP_MAX_PAYLOAD))
		return;
	ngtcp2_conn_extend_max_offset(c->qc, ANCHOR_CREDIT);
	c->anchored = true;
	c->anchor_ts = ts;
}

/* ---- ngtcp2 callbacks ---- */

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	return ((struct conn *)ref->user_data)->qc;
}

static void rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	gnutls_rnd(GNUTLS_RND_RANDOM, dest, len);
}

_Static_assert(CONN_CID_LEN == CIDTAG_LEN, "the hub's IDs are tagged whole");

/* A connection ID of ours: a hub's tagged (cidtag.h), a client's random. */
static int make_cid(const struct conn *c, uint8_t *data, size_t len)
{
	if (c->cid_secret && len == CIDTAG_LEN)
		return cidtag_make(c->cid_secret, data);
	return gnutls_rnd(GNUTLS_RND_RANDOM, data, len) < 0 ? -1 : 0;
}

static int get_new_cid_cb(ngtcp2_conn *qc, ngtcp2_cid *cid, uint8_t *token,
                          size_t cidlen, void *user_data)
{
	struct conn *c = user_data;
	if (make_cid(c, cid->data, cidlen) < 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	cid->datalen = cidlen;
	if (ngtcp2_crypto_generate_stateless_reset_token(token, c->reset_secret, 32, cid) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	if (c->ops->cid_added)
		c->ops->cid_added(c, cid);
	return 0;
}

static int remove_cid_cb(ngtcp2_conn *qc, const ngtcp2_cid *cid, void *user_data)
{
	struct conn *c = user_data;
	if (c->ops->cid_removed)
		c->ops->cid_removed(c, cid);
	return 0;
}

/* The idle timeout in force: the shorter of ours and the peer's. */
static ngtcp2_duration idle_for(ngtcp2_conn *qc)
{
	const ngtcp2_transport_params *p = ngtcp2_conn_get_remote_transport_params(qc);
	ngtcp2_duration idle = IDLE_TIMEOUT;
	if (p && p->max_idle_timeout && p->max_idle_timeout < idle)
		idle = p->max_idle_timeout;
	return idle;
}

/* Clients like the original send no keep-alives, so the hub's keep it
 * open: often enough for the shorter of the two idle timeouts, but not
 * more than once a second: a peer's idle timeout of 1 ms would have the
 * hub send a thousand PINGs a second for as long as it answers.
 * A client sends its own every third of the idle timeout (at most
 * KEEPALIVE): it is the side behind a NAT, and a dead hub is found out
 * by them. The hub waits half the idle timeout (at most
 * HUB_KEEPALIVE, as quic-go does): ngtcp2 counts from the last packet
 * either way, so a client of ours, whose PING comes first, is never sent
 * one. With both at a third, each side's timer came due within a
 * millisecond of the other's: the PING alternated between them, and
 * now and then both went (4 packets for 2), and a hub woke for each of its
 * clients' keep-alives twice. One lost PING still leaves a probe
 * timeout's retransmission time to spare. The price: a client that
 * vanishes is sent the hub's PING 15 s after its last packet, not 10,
 * and that PING restarts the idle timer: its session ends 45 s after
 * its last packet, not 40 (one that comes back replaces it at once). */
static ngtcp2_duration keep_alive_for(ngtcp2_conn *qc, bool hub)
{
	ngtcp2_duration idle = idle_for(qc);
	ngtcp2_duration t = hub ? (idle / 2 < HUB_KEEPALIVE ? idle / 2 : HUB_KEEPALIVE)
	                        : (idle / 3 < KEEPALIVE ? idle / 3 : KEEPALIVE);
	return t < KEEPALIVE_MIN ? KEEPALIVE_MIN : t;
}

static int handshake_completed_cb(ngtcp2_conn *qc, void *user_data)
{
	struct conn *c = user_data;
	if (c->need_alpn && !tls_alpn_ok(c->tls)) {
		/* GnuTLS lets a client without any ALPN through, and a client
		 * through to a server that chose none: refuse it here, a client
		 * before its login (and token) goes. */
		c->alpn_refused = true;
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	/* Both roles: a hub whose idle timeout is shorter than our 10 s (a
	 * quic-go hub may set one) would otherwise drop an idle client. */
	ngtcp2_conn_set_keep_alive_timeout(qc, keep_alive_for(qc, c->is_server));
	if (!c->is_server && c->stream_id < 0) {
		/* If the hub gave no stream credit yet, extend_max_bidi_cb opens it. */
		int64_t sid;
		if (ngtcp2_conn_open_bidi_stream(qc, &sid, NULL) == 0)
			c->stream_id = sid;
	}
	if (c->ops->on_handshake)
		c->ops->on_handshake(c);
	return 0;
}

static int recv_stream_data_cb(ngtcp2_conn *qc, uint32_t flags, int64_t sid,
                               uint64_t offset, const uint8_t *data, size_t len,
                               void *user_data, void *stream_user_data)
{
	struct conn *c = user_data;
	ngtcp2_conn_extend_max_stream_offset(qc, sid, len);
	ngtcp2_conn_extend_max_offset(qc, len);
	if (c->stream_id < 0 && c->is_server && ngtcp2_is_bidi_stream(sid) &&
	    !ngtcp2_conn_is_local_stream(qc, sid))
		c->stream_id = sid; /* the client's first stream is the control stream */
	if (sid != c->stream_id || c->close_pending)
		return 0;
	while (len > 0 && !c->close_pending) {
		size_t used = 0;
		enum linebuf_result r = linebuf_feed(&c->rxline, data, len, &used);
		data += used, len -= used;
		if (r == LINEBUF_OVERFLOW) {
			/* Before the login only (conn_ctl_logged_in). */
			c->ctl_overflow = true;
			conn_close(c, SLOPN_ERR_UNAUTHORIZED, "control message too large");
			break;
		}
		if (r == LINEBUF_SKIPPED) {
			c->ctl_skipped++;
			if (c->ops->on_line_skipped)
				c->ops->on_line_skipped(c);
		}
		if (r == LINEBUF_LINE) {
			if (c->ops->on_line)
				c->ops->on_line(c, c->rxline.buf, c->rxline.len);
			linebuf_next(&c->rxline);
		}
	}
	return 0;
}

static int acked_stream_data_offset_cb(ngtcp2_conn *qc, int64_t sid,
                                       uint64_t offset, uint64_t len,
                                       void *user_data, void *stream_user_data)
{
	struct conn *c = user_data;
	if (sid != c->stream_id)
		return 0;
	/* Reuse the buffer once all of it is acknowledged. */
	if (offset + len >= c->ctl_base + c->ctl_len && c->ctl_sent == c->ctl_len) {
		c->ctl_base += c->ctl_len;
		c->ctl_len = c->ctl_sent = 0;
	}
	return 0;
}

static int recv_datagram_cb(ngtcp2_conn *qc, uint32_t flags, const uint8_t *data,
                            size_t len, void *user_data)
{
	struct conn *c = user_data;
	c->stats.rx_pkts++;
	c->stats.rx_bytes += len;
	if (c->ops->on_datagram)
		c->ops->on_datagram(c, data, len);
	return 0;
}

static int recv_stateless_reset_cb(ngtcp2_conn *qc, const ngtcp2_pkt_stateless_reset *sr,
                                   void *user_data)
{
	((struct conn *)user_data)->stateless_reset = true;
	return 0;
}

static int path_validation_cb(ngtcp2_conn *qc, uint32_t flags, const ngtcp2_path *path,
                              ngtcp2_path_validation_result res, void *user_data)
{
	struct conn *c = user_data;
	if (res == NGTCP2_PATH_VALIDATION_RESULT_SUCCESS && c->ops->on_path)
		c->ops->on_path(c);
	return 0;
}

static int extend_max_bidi_cb(ngtcp2_conn *qc, uint64_t max, void *user_data)
{
	struct conn *c = user_data;
	/* The client opens the control stream as soon as it may. */
	if (!c->is_server && c->stream_id < 0 && ngtcp2_conn_get_handshake_completed(qc)) {
		int64_t sid;
		if (ngtcp2_conn_open_bidi_stream(qc, &sid, NULL) == 0)
			c->stream_id = sid;
	}
	return 0;
}

static void qlog_printf(void *user_data, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void qlog_printf(void *user_data, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_debug("ngtcp2: %s", buf);
}

/* ngtcp2_conn_read_pkt says 0 also of packets it discards: one it cannot
 * decrypt, a stateless reset whose token is not ours (a hub back with
 * another key answers every packet with one). Those are no answer from the
 * peer, and must not keep a dead connection alive: conn_read counts a
 * packet as heard only when a decryption (or a Retry) in it worked. One
 * thread, one read at a time: a flag for all connections. */
static bool answered;

static int decrypt_cb(uint8_t *dest, const ngtcp2_crypto_aead *aead,
                      const ngtcp2_crypto_aead_ctx *aead_ctx, const uint8_t *ciphertext,
                      size_t ciphertextlen, const uint8_t *nonce, size_t noncelen,
                      const uint8_t *aad, size_t aadlen)
{
	int rv = ngtcp2_crypto_decrypt_cb(dest, aead, aead_ctx, ciphertext, ciphertextlen, nonce,
	                                  noncelen, aad, aadlen);
	if (rv == 0)
		answered = true;
	return rv;
}

static int recv_retry_cb(ngtcp2_conn *conn, const ngtcp2_pkt_hd *hd, void *user_data)
{
	int rv = ngtcp2_crypto_recv_retry_cb(conn, hd, user_data);
	if (rv == 0)
		answered = true;
	return rv;
}

/* TLS messages after the handshake. A KeyUpdate (RFC 9001 6 forbids it)
 * makes GnuTLS install the 1-RTT keys again, and ngtcp2 0.12 aborts on its
 * assertion: one packet from anyone who completes a handshake would end the
 * hub. A client sends nothing else at this level (no post-handshake auth),
 * so the hub refuses all of it with the error RFC 9001 names (0x10a:
 * alert 10, unexpected_message). A hub may send session tickets, which we
 * do not use: a client drops all of it unread, a KeyUpdate with it. */
static int recv_crypto_data_cb(ngtcp2_conn *qc, ngtcp2_crypto_level level, uint64_t offset,
                               const uint8_t *data, size_t datalen, void *user_data)
{
	if (level != NGTCP2_CRYPTO_LEVEL_APPLICATION)
		return ngtcp2_crypto_recv_crypto_data_cb(qc, level, offset, data, datalen, user_data);
	if (!ngtcp2_conn_is_server(qc)) {
		((struct conn *)user_data)->tls_after_handshake += datalen;
		return 0;
	}
	ngtcp2_conn_set_tls_alert(qc, 10);
	return NGTCP2_ERR_CRYPTO;
}

static const ngtcp2_callbacks server_callbacks = {
	.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb,
	.recv_crypto_data = recv_crypto_data_cb,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.update_key = ngtcp2_crypto_update_key_cb,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
	.rand = rand_cb,
	.get_new_connection_id = get_new_cid_cb,
	.remove_connection_id = remove_cid_cb,
	.handshake_completed = handshake_completed_cb,
	.recv_stream_data = recv_stream_data_cb,
	.acked_stream_data_offset = acked_stream_data_offset_cb,
	.recv_datagram = recv_datagram_cb,
	.path_validation = path_validation_cb,
};

static const ngtcp2_callbacks client_callbacks = {
	.client_initial = ngtcp2_crypto_client_initial_cb,
	.recv_retry = recv_retry_cb,
	.recv_crypto_data = recv_crypto_data_cb,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.update_key = ngtcp2_crypto_update_key_cb,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
	.rand = rand_cb,
	.get_new_connection_id = get_new_cid_cb,
	.remove_connection_id = remove_cid_cb,
	.handshake_completed = handshake_completed_cb,
	.recv_stream_data = recv_stream_data_cb,
	.acked_stream_data_offset = acked_stream_data_offset_cb,
	.recv_datagram = recv_datagram_cb,
	.extend_max_local_streams_bidi = extend_max_bidi_cb,
	.recv_stateless_reset = recv_stateless_reset_cb,
	.path_validation = path_validation_cb,
};

/* ---- set-up ---- */

static int timer_cb(sd_event_source *s, uint64_t usec, void *userdata);

static void settings_init(ngtcp2_settings *s, int verbose)
{
	ngtcp2_settings_default(s);
	s->initial_ts = conn_now();
	s->cc_algo = NGTCP2_CC_ALGO_CUBIC;
	/* Full-size UDP payloads from the first packet: path-MTU discovery would
	 * start at 1200 bytes, where a 1280-byte IP packet does not fit. */
	s->max_tx_udp_payload_size = UDP_MAX_PAYLOAD;
	s->no_tx_udp_payload_size_shaping = 1;
	s->handshake_timeout = 10 * NGTCP2_SECONDS;
	if (verbose >= 2)
		s->log_printf = qlog_printf;
}

static void params_init(ngtcp2_transport_params *p)
{
	ngtcp2_transport_params_default(p);
	/* One stream, the control stream, and a small window: ngtcp2 keeps
	 * data that arrives out of order in 8 KiB chunks until the gap is
	 * filled, so before any login a peer could pin a chunk per 8 KiB of
	 * window with a byte in each (4 streams of 64 KiB: 256 KiB per
	 * connection). Lines are at most LINEBUF_CAP, and the window moves
	 * on as soon as data is read. */
	p->initial_max_streams_bidi = 1;
	p->initial_max_streams_uni = 0;
	p->initial_max_stream_data_bidi_local = CONN_STREAM_WINDOW;
	p->initial_max_stream_data_bidi_remote = CONN_STREAM_WINDOW;
	p->initial_max_data = 4 * CONN_STREAM_WINDOW;
	p->max_idle_timeout = IDLE_TIMEOUT;
	p->max_udp_payload_size = UDP_RX_BUF;
	/* Room for any IP packet we carry; quic-go advertises 16383 too.
	 * SLOPND_MAX_DATAGRAM_FRAME, for tests only: a peer that takes less,
	 * as quic-go 0.29 does (1220). */
	uint64_t v = testenv_get("SLOPND_MAX_DATAGRAM_FRAME", 1200, 16382);
	p->max_datagram_frame_size = v ? v : 16383;
}

static int common_init(struct conn *c, sd_event *ev, struct udp *u,
                       const struct sockaddr *local, socklen_t locallen,
                       const struct sockaddr *remote, socklen_t remotelen,
                       gnutls_session_t tls, const struct conn_ops *ops, void *owner)
{
	memset(c, 0, sizeof(*c));
	c->last_rx = conn_now();
	c->udp = u;
	c->tls = tls;
	c->ops = ops;
	c->owner = owner;
	c->stream_id = -1;
	c->dgq_pause = CONN_DGQ_PAUSE;
	c->ref.get_conn = get_conn;
	c->ref.user_data = c;
	linebuf_init(&c->rxline, c->rxline_buf, LINEBUF_CAP);
	ngtcp2_path_storage_init(&c->ps, local, locallen, remote, remotelen, NULL);
	return timer_new(ev, &c->timer, 1, timer_cb, c);
}

int conn_server_init(struct conn *c, sd_event *ev, struct udp *u,
                     const ngtcp2_pkt_hd *hd, const ngtcp2_cid *retry_odcid,
                     const struct sockaddr *local, socklen_t locallen,
                     const struct sockaddr *remote, socklen_t remotelen, gnutls_session_t tls,
                     const uint8_t reset_secret[32], const uint8_t cid_secret[32],
                     const struct conn_ops *ops, void *owner, int verbose)
{
	if (common_init(c, ev, u, local, locallen, remote, remotelen, tls, ops, owner) < 0)
		return -1;
	c->is_server = true;
	c->need_alpn = !tls_test_no_alpn();
	c->reset_secret = reset_secret;
	c->cid_secret = cid_secret;

	ngtcp2_cid scid;
	scid.datalen = CONN_CID_LEN;
	if (make_cid(c, scid.data, scid.datalen) < 0)
		return -1;

	ngtcp2_settings settings;
	settings_init(&settings, verbose);
	ngtcp2_transport_params params;
	params_init(&params);
	params.original_dcid = hd->dcid;
	if (retry_odcid) {
		/* Back from our Retry: its token proved the address, which lifts
		 * the anti-amplification limit. Any other token must not. */
		settings.token = hd->token;
		params.original_dcid = *retry_odcid;
		params.retry_scid = hd->dcid;
		params.retry_scid_present = 1;
	}
	params.stateless_reset_token_present = 1;
	ngtcp2_crypto_generate_stateless_reset_token(params.stateless_reset_token,
	                                             reset_secret, 32, &scid);

	if (ngtcp2_conn_server_new(&c->qc, &hd->scid, &scid, &c->ps.path, hd->version,
	                           &server_callbacks, &settings, &params, NULL, c) != 0)
		return -1;
	if (ops->cid_added)
		ops->cid_added(c, &scid);
	ngtcp2_conn_set_tls_native_handle(c->qc, tls);
	return 0;
}

int conn_client_init(struct conn *c, sd_event *ev, struct udp *u,
                     const struct sockaddr *remote, socklen_t remotelen,
                     gnutls_session_t tls, const struct conn_ops *ops,
                     void *owner, size_t udp_payload, int verbose)
{
	static uint8_t client_secret[32];
	static bool have_secret;
	if (common_init(c, ev, u, (const struct sockaddr *)&u->local, u->locallen, remote,
	                remotelen, tls, ops, owner) < 0)
		return -1;
	/* Unchecked, a failure would leave the reset tokens predictable. */
	if (!have_secret) {
		if (gnutls_rnd(GNUTLS_RND_KEY, client_secret, sizeof(client_secret)) < 0)
			return -1;
		have_secret = true;
	}
	c->reset_secret = client_secret;
	c->linger = true;

	ngtcp2_cid scid, dcid;
	scid.datalen = CONN_CID_LEN;
	dcid.datalen = 18; /* at least 8 bytes of randomness, RFC 9000 7.2 */
	if (gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen) < 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen) < 0)
		return -1;

	ngtcp2_settings settings;
	settings_init(&settings, verbose);
	ngtcp2_transport_params params;
	params_init(&params);
	if (udp_payload < UDP_MAX_PAYLOAD) {
		/* A narrow path: the hub sends full size without discovery too, so
		 * it is told the size through the limit of what we receive. */
		settings.max_tx_udp_payload_size = udp_payload;
		params.max_udp_payload_size = udp_payload;
	}

	if (ngtcp2_conn_client_new(&c->qc, &dcid, &scid, &c->ps.path, NGTCP2_PROTO_VER_V1,
	                           &client_callbacks, &settings, &params, NULL, c) != 0)
		return -1;
	ngtcp2_conn_set_tls_native_handle(c->qc, tls);
	/* Keep-alives from the start, so that a dead hub is noticed within the
	 * idle timeout and NAT bindings stay; handshake_completed_cb fits them
	 * to the hub's idle timeout. */
	ngtcp2_conn_set_keep_alive_timeout(c->qc, KEEPALIVE);
	return 0;
}

void conn_free(struct conn *c)
{
	if (c->timer)
		sd_event_source_disable_unref(c->timer);
	c->timer = NULL;
	if (c->qc)
		ngtcp2_conn_del(c->qc);
	c->qc = NULL;
	if (c->tls)
		gnutls_deinit(c->tls);
	c->tls = NULL;
	dgq_free(c);
	free(c->closebuf);
	c->closebuf = NULL;
}

/* ---- closing ---- */

static void conn_enter_down(struct conn *c, enum conn_state st)
{
	bool was_open = c->state == CONN_OPEN, was_congested = conn_congested(c);
	c->state = st;
	/* What waited in the queue is lost with the connection: counted, before
	 * the owner adds the counts to its totals. */
	c->stats.drop[DROP_QUEUE] += c->dgq_count;
	c->dgq_count = 0;
	/* It sends no more datagrams: its queue's memory back to the budget
	 * now, not after its close lingered. */
	dgq_free(c);
	if (was_congested && c->ops->on_drained)
		c->ops->on_drained(c); /* a sender waiting for it waits no more */
	if (was_open && c->ops->on_down)
		c->ops->on_down(c);
}

static void conn_finish(struct conn *c)
{
	if (c->state == CONN_OPEN)
		conn_enter_down(c, CONN_DEAD);
	c->state = CONN_DEAD;
	sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
	if (c->ops->on_gone)
		c->ops->on_gone(c);
}

/* The same address and port. The addresses may lie unaligned (a packet
 * kept in a spoke stash): copied first. */
static bool same_peer(const struct sockaddr *a, socklen_t alen, const struct sockaddr *b,
                      socklen_t blen)
{
	struct sockaddr_storage x = {0}, y = {0};
	memcpy(&x, a, alen < sizeof(x) ? alen : sizeof(x));
	memcpy(&y, b, blen < sizeof(y) ? blen : sizeof(y));
	return sockaddr_same(&x, &y);
}

/* Stay around for three PTOs so that late packets get our close again
 * (closing) or are absorbed (draining), as RFC 9000 10.2 asks; but at most
 * LINGER_MAX, since the PTO holds the peer's own max_ack_delay (up to 16 s:
 * a connection could be kept for 50 s). Without c->linger, not at all. */
static void arm_linger(struct conn *c)
{
	if (!c->linger) {
		conn_finish(c);
		return;
	}
	uint64_t linger = 3 * ngtcp2_conn_get_pto(c->qc);
	uint64_t t = conn_now() + (linger < LINGER_MAX ? linger : LINGER_MAX);
	sd_event_source_set_time(c->timer, t / 1000 + 1);
	sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static void write_close(struct conn *c, const ngtcp2_connection_close_error *ccerr)
{
	if (c->state != CONN_OPEN)
		return;
	c->closebuf = malloc(UDP_MAX_PAYLOAD);
	if (c->closebuf) {
		ngtcp2_path_storage ps;
		ngtcp2_path_storage_zero(&ps);
		ngtcp2_ssize n = ngtcp2_conn_write_connection_close(
			c->qc, &ps.path, NULL, c->closebuf, conn_tx_room(c), ccerr, conn_now());
		if (n > 0) {
			c->closelen = (size_t)n;
			udp_send_one(c->udp, ps.path.local.addr, ps.path.local.addrlen,
			             ps.path.remote.addr, ps.path.remote.addrlen, c->closebuf, c->closelen);
		}
	}
	conn_enter_down(c, CONN_CLOSING);
	arm_linger(c);
}

void conn_close(struct conn *c, uint64_t code, const char *reason)
{
	if (c->close_pending || c->state != CONN_OPEN)
		return;
	c->close_pending = true;
	c->close_asked = conn_now();
	c->close_app = true;
	c->close_code = code;
	/* Cut on a character: the reason goes into JSON events too. */
	size_t n = reason ? text_cut(reason, strlen(reason), sizeof(c->close_reason) - 1) : 0;
	memcpy(c->close_reason, reason ? reason : "", n);
	c->close_reason[n] = '\0';
}

static void fail_transport(struct conn *c, int liberr)
{
	ngtcp2_connection_close_error ccerr;
	if (c->alpn_refused) {
		/* Anyone can complete handshakes without ALPN: a line each would
		 * flood the log (and journald then drops the hub's real lines).
		 * A client says it in its status and log (close_reason). */
		static struct log_budget alpn_log;
		bool last;
		if (c->is_server &&
		    log_budget_take(&alpn_log, 10, LOG_LVL_INFO, "peers without ALPN refused", &last))
			log_info("refusing a peer without ALPN '%s'%s", SLOPN_ALPN, log_budget_more(last));
		/* TLS alert 120: no_application_protocol */
		ngtcp2_connection_close_error_set_transport_error_tls_alert(&ccerr, 120, NULL, 0);
	} else if (liberr == NGTCP2_ERR_CRYPTO) {
		ngtcp2_connection_close_error_set_transport_error_tls_alert(
			&ccerr, ngtcp2_conn_get_tls_alert(c->qc), NULL, 0);
	} else {
		ngtcp2_connection_close_error_set_transport_error_liberr(&ccerr, liberr, NULL, 0);
	}
	c->close_code = ccerr.error_code;
	/* In words a user can act on, where there are some. */
	if (c->alpn_refused) {
		snprintf(c->close_reason, sizeof(c->close_reason), c->is_server
		         ? "the peer offered no ALPN '%s' (TLS alert 120 sent)"
		         : "the hub settled on no ALPN '%s', refused with TLS alert 120 before the "
		           "login: no token sent", SLOPN_ALPN);
	} else if (liberr == NGTCP2_ERR_CRYPTO) {
		uint8_t alert = ngtcp2_conn_get_tls_alert(c->qc);
		const char *name = gnutls_alert_get_name((gnutls_alert_description_t)alert);
		snprintf(c->close_reason, sizeof(c->close_reason), "%s: alert %u (%s)",
		         ngtcp2_conn_get_handshake_completed(c->qc) ? "TLS message refused"
		                                                    : "TLS handshake failed",
		         alert, name ? name : "?");
	} else if (liberr == NGTCP2_ERR_RECV_VERSION_NEGOTIATION) {
		snprintf(c->close_reason, sizeof(c->close_reason),
		         "the peer speaks no QUIC version of ours (version 1)");
	} else {
		snprintf(c->close_reason, sizeof(c->close_reason), "QUIC error %s", ngtcp2_strerror(liberr));
	}
	write_close(c, &ccerr);
}

/* ---- reading ---- */

void conn_read(struct conn *c, const struct sockaddr *to, socklen_t tolen,
               const struct sockaddr *from, socklen_t fromlen,
               const uint8_t *pkt, size_t len, uint64_t ts)
{
	if (c->state == CONN_CLOSING) {
		/* Our close again, to the connection's own address only (anyone
		 * who saw its connection ID could aim it elsewhere), and ever more
		 * rarely (RFC 9000 10.2.1): the 1st, 2nd, 4th, 8th... packet. */
		unsigned k = ++c->closing_rx;
		const ngtcp2_path *p = ngtcp2_conn_get_path(c->qc);
		if (c->closelen && !(k & (k - 1)) &&
		    same_peer(from, fromlen, p->remote.addr, p->remote.addrlen))
			udp_send_one(c->udp, to, tolen, from, fromlen, c->closebuf, c->closelen);
		return;
	}
	if (c->state != CONN_OPEN)
		return;
	ngtcp2_path path = {
		.local = {(struct sockaddr *)to, tolen},
		.remote = {(struct sockaddr *)from, fromlen},
	};
	answered = false;
	int rv = ngtcp2_conn_read_pkt(c->qc, &path, NULL, pkt, len, ts);
	if (rv == 0) {
		if (!answered)
			return; /* discarded */
		c->last_rx = ts;
		c->unanswered_since = 0;
		c->heard = true;
		if (len > c->rx_max)
			c->rx_max = len;
		return;
	}
	switch (rv) {
	case NGTCP2_ERR_DRAINING: {
		ngtcp2_connection_close_error ccerr;
		ngtcp2_conn_get_connection_close_error(c->qc, &ccerr);
		/* A close (or a stateless reset) is an answer, also when it is the
		 * peer's first packet (a refusal in its Initial): the peer is up. */
		c->heard = true;
		c->close_by_peer = true;
		c->close_app = ccerr.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION;
		c->close_code = ccerr.error_code;
		size_t rl = ccerr.reasonlen < sizeof(c->close_reason) - 1 ? ccerr.reasonlen
		                                                          : sizeof(c->close_reason) - 1;
		if (ccerr.reason && rl)
			memcpy(c->close_reason, ccerr.reason, rl);
		c->close_reason[rl] = '\0';
		/* Any bytes: logged, sent in events, shown on terminals. */
		text_clean(c->close_reason, rl);
		if (ccerr.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT_VERSION_NEGOTIATION ||
		    ccerr.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT_IDLE_CLOSE)
			c->close_by_peer = false;
		if (!ccerr.reasonlen && ccerr.type != NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION &&
		    ccerr.error_code == NGTCP2_NO_ERROR && c->close_by_peer)
			snprintf(c->close_reason, sizeof(c->close_reason), "%s",
			         c->stateless_reset ? "stateless reset (the peer no longer knows the connection: "
			                              "it restarted, or dropped it while we were away)"
			                            : "closed by peer");
		conn_enter_down(c, CONN_DRAINING);
		if (c->is_server) {
			arm_linger(c);
			return;
		}
		/* A client sends nothing while draining and opens its next
		 * connection on a socket of its own: no need to wait 3 PTOs (a
		 * hub that restarted wants its clients back now). */
		conn_finish(c);
		return;
	}
	case NGTCP2_ERR_DROP_CONN:
		conn_finish(c);
		return;
	case NGTCP2_ERR_RETRY:
		conn_finish(c);
		return;
	default:
		log_debug("read_pkt: %s", ngtcp2_strerror(rv));
		fail_transport(c, rv);
		return;
	}
}

int conn_migrate(struct conn *c)
{
	if (c->state != CONN_OPEN || !ngtcp2_conn_get_handshake_completed(c->qc))
		return -1;
	/* quic-go hubs (the original's) set it: ngtcp2 would refuse as an
	 * "invalid state", which reads as a fault. */
	const ngtcp2_transport_params *tp = ngtcp2_conn_get_remote_transport_params(c->qc);
	if (tp && tp->disable_active_migration) {
		log_info("the hub does not let a connection move to a new address "
		         "(disable_active_migration): connecting again from it");
		return -1;
	}
	const ngtcp2_path *cur = ngtcp2_conn_get_path(c->qc);
	ngtcp2_path_storage ps;
	ngtcp2_path_storage_init(&ps, (const struct sockaddr *)&c->udp->local, c->udp->locallen,
	                         cur->remote.addr, cur->remote.addrlen, NULL);
	int rv = ngtcp2_conn_initiate_immediate_migration(c->qc, &ps.path, conn_now());
	if (rv != 0) {
		log_warn("cannot move the connection to the new address: %s", ngtcp2_strerror(rv));
		return -1;
	}
	ngtcp2_path_storage_init(&c->ps, ps.path.local.addr, ps.path.local.addrlen,
	                         ps.path.remote.addr, ps.path.remote.addrlen, NULL);
	conn_write(c);
	return 0;
}

/* ---- writing ---- */

/* The hub's: the UDP payload its kernel lets it send to the peer now, the
 * MTU of the interface the route there leaves by (what its socket's sends
 * are sized by: udp.c, tune). Not IP_MTU on a socket connected there: that
 * is lowered by any ICMP "fragmentation needed" the machine believed about
 * the peer's address, for any of its sockets, and anyone who knows a
 * client's address can forge one; a way narrower further on is the
 * client's to tell (its probes, its max_udp_payload_size). */
static size_t path_room(struct conn *c)
{
	const ngtcp2_path *p = ngtcp2_conn_get_path(c->qc);
	size_t room = udp_device_payload_to(p->remote.addr, p->remote.addrlen);
	/* QUIC's least: nothing smaller would do */
	return room < NGTCP2_MAX_UDP_PAYLOAD_SIZE ? NGTCP2_MAX_UDP_PAYLOAD_SIZE : room;
}

/* ngtcp2 0.12 cannot shrink a connection's packets, but it builds each into
 * the room it is given: ACKs and control data fit themselves, datagrams are
 * checked against conn_max_datagram. */
void conn_fit_path(struct conn *c, bool tell)
{
	const ngtcp2_path *p = ngtcp2_conn_get_path(c->qc);
	size_t was = conn_tx_room(c), room = path_room(c);
	c->tx_cap_checked = conn_now();
	c->tx_cap = room < UDP_MAX_PAYLOAD ? room : 0;
	if (conn_tx_room(c) == was || !tell)
		return;
	char peer[INET6_ADDRSTRLEN + 8];
	sockaddr_str(p->remote.addr, peer, sizeof(peer));
	if (conn_tx_room(c) < was)
		log_warn("the way to %s takes UDP packets of at most %zu bytes of payload now, not %zu: "
		         "sending smaller QUIC packets", peer, conn_tx_room(c), was);
	else
		log_info("the way to %s takes UDP packets of %zu bytes of payload again", peer,
		         conn_tx_room(c));
}

size_t conn_max_datagram(struct conn *c)
{
	const ngtcp2_transport_params *rp = ngtcp2_conn_get_remote_transport_params(c->qc);
	size_t udp = ngtcp2_conn_get_path_max_tx_udp_payload_size(c->qc);
	if (c->tx_cap && c->tx_cap < udp)
		udp = c->tx_cap;
	/* ngtcp2 sends no larger than the peer takes; a client on a narrow path
	 * asks for less (conn_client_init). */
	if (rp && rp->max_udp_payload_size && rp->max_udp_payload_size < udp)
		udp = (size_t)rp->max_udp_payload_size;
	size_t dcid = ngtcp2_conn_get_dcid(c->qc)->datalen;
	/* 1 flags byte, 4 packet number, 16 AEAD tag, 3 frame header. */
	size_t fit = udp > dcid + 24 ? udp - dcid - 24 : 0;
	if (rp && rp->max_datagram_frame_size < fit + 3)
		fit = rp->max_datagram_frame_size > 3 ? (size_t)rp->max_datagram_frame_size - 3 : 0;
	return fit;
}

uint64_t conn_srtt(struct conn *c)
{
	ngtcp2_conn_stat cs;
	ngtcp2_conn_get_conn_stat(c->qc, &cs);
	return cs.smoothed_rtt;
}

enum dg_result { DG_SENT, DG_BLOCKED, DG_DROPPED };

/* Coarse pacing (ngtcp2's own would arm a timer microseconds ahead after
 * every burst): a credit of bytes, topped up at ngtcp2's pacing rate and
 * capped at PACE_BURST of it. Only datagrams are paced; ACKs and control
 * data never wait. Blocked, it sets pace_next for conn_update_timer. */
static bool pace_ok(struct conn *c, uint64_t now)
{
	if (c->pace_credit > 0)
		return true;
	ngtcp2_conn_stat cs;
	ngtcp2_conn_get_conn_stat(c->qc, &cs);
	/* Bytes per nanosecond; 1.25: RFC 9002 7.7, as ngtcp2 does. */
	double rate = cs.pacing_rate > 0 ? cs.pacing_rate
	            : (double)cs.cwnd * 1.25 / (double)(cs.smoothed_rtt ? cs.smoothed_rtt : 1);
	double burst = rate * PACE_BURST > PACE_MIN_BURST ? rate * PACE_BURST : PACE_MIN_BURST;
	double credit = c->pace_credit + (double)(now - c->pace_ts) * rate;
	c->pace_credit = credit < burst ? credit : burst;
	c->pace_ts = now;
	if (c->pace_credit > 0) {
		c->pace_next = 0;
		return true;
	}
	c->pace_next = now + (uint64_t)(-c->pace_credit / rate) + 1;
	return false;
}

static enum dg_result write_datagram(struct conn *c, const ngtcp2_vec *v, size_t vcnt,
                                     size_t len, uint64_t ts)
{
	if (!pace_ok(c, ts))
		return DG_BLOCKED;
	probe_anchor(c, ts, false);
	for (;;) {
		int accepted = 0;
		uint8_t *slot = udp_tx_slot(c->udp);
		ngtcp2_ssize n = ngtcp2_conn_writev_datagram(c->qc, &c->ps.path, NULL, slot,
		                                             conn_tx_room(c), &accepted, 0, 0,
		                                             v, vcnt, ts);
		if (n < 0) {
			if (n == NGTCP2_ERR_INVALID_ARGUMENT || n == NGTCP2_ERR_INVALID_STATE) {
				c->stats.drop[DROP_TOO_BIG]++;
				return DG_DROPPED;
			}
			/* A fatal error for the connection: let the write loop close it. */
			return DG_BLOCKED;
		}
		if (n == 0)
			return DG_BLOCKED;
		udp_tx_commit(c->udp, c->ps.path.local.addr, c->ps.path.local.addrlen,
		              c->ps.path.remote.addr, c->ps.path.remote.addrlen, (size_t)n);
		c->pace_credit -= (double)n;
		if (accepted) {
			c->stats.tx_pkts++;
			c->stats.tx_bytes += len;
			return DG_SENT;
		}
		/* The packet filled with other frames first: try again. */
	}
}

/* The queue's memory, when the budget (if any) has room for it: else
 * DROP_QUEUE_MEMORY, or DROP_QUEUE when malloc fails. DROP_MAX: it has one. */
static enum drop_reason dgq_alloc(struct conn *c)
{
	struct conn_qbudget *b = c->qbudget;
	/* used may be over limit (a reload lowered it): no underflow. */
	if (b && (b->used > b->limit || b->limit - b->used < CONN_DGQ_BYTES))
		return DROP_QUEUE_MEMORY;
	if (!(c->dgq = malloc(CONN_DGQ_BYTES)))
		return DROP_QUEUE;
	if (b)
		b->used += CONN_DGQ_BYTES;
	return DROP_MAX;
}

static void dgq_free(struct conn *c)
{
	if (!c->dgq)
		return;
	free(c->dgq);
	c->dgq = NULL;
	c->dgq_head = 0;
	if (c->qbudget)
		c->qbudget->used -= CONN_DGQ_BYTES;
}

/* Queued: DROP_MAX; else why not (the caller counts it, or not). */
static enum drop_reason dgq_push(struct conn *c, const struct iovec *iov, int iovcnt, uint64_t now)
{
	if (c->dgq_count == CONN_DGQ_SLOTS)
		return DROP_QUEUE;
	/* Allocated on first congestion only: idle or handshaking connections
	 * (and anyone flooding Initials) cost no queue memory. A connection
	 * the budget refuses one sends what its congestion window lets
	 * through and drops the rest, until a later try finds room. */
	enum drop_reason why;
	if (!c->dgq && (why = dgq_alloc(c)) != DROP_MAX)
		return why;
	unsigned i = (c->dgq_head + c->dgq_count) % CONN_DGQ_SLOTS;
	uint8_t *slot = c->dgq + (size_t)i * CONN_DGQ_SLOT;
	size_t len = 0;
	for (int k = 0; k < iovcnt; k++) {
		memcpy(slot + len, iov[k].iov_base, iov[k].iov_len);
		len += iov[k].iov_len;
	}
	c->dgq_len[i] = (uint16_t)len;
	c->dgq_count++;
	c->dgq_used_at = now;
	return DROP_MAX;
}

static void dgq_drain(struct conn *c, uint64_t ts)
{
	bool was_congested = conn_congested(c);
	/* Queued before the way narrowed or the peer's connection ID grew,
	 * some may no longer fit: ngtcp2 would take such a one for a blocked
	 * write, and the queue would never move again. */
	size_t max = conn_max_datagram(c);
	while (c->dgq_count) {
		unsigned i = c->dgq_head;
		ngtcp2_vec v = {c->dgq + (size_t)i * CONN_DGQ_SLOT, c->dgq_len[i]};
		if (v.len > max)
			c->stats.drop[DROP_TOO_BIG]++;
		else if (write_datagram(c, &v, 1, v.len, ts) == DG_BLOCKED)
			break;
		c->dgq_head = (c->dgq_head + 1) % CONN_DGQ_SLOTS;
		c->dgq_count--;
	}
	if (was_congested && !conn_congested(c) && c->ops->on_drained)
		c->ops->on_drained(c);
}

size_t conn_queue_mem(const struct conn *c)
{
	return c->dgq ? CONN_DGQ_BYTES : 0;
}

/* The queue's memory (CONN_DGQ_SLOTS full-size packets) back, once it has
 * been empty and unused for a while: a hub's thousand sessions, each busy
 * once, would keep 375 KiB each for good. Not at once when it empties,
 * which happens thousands of times a second under load. */
static uint64_t dgq_keep(void)
{
	static uint64_t keep;
	if (!keep) {
		uint64_t v = testenv_get("SLOPND_QUEUE_KEEP_SECONDS", 1, 3600);
		keep = (v ? v : DGQ_KEEP_SECONDS) * NGTCP2_SECONDS;
	}
	return keep;
}

static void dgq_trim(struct conn *c, uint64_t now)
{
	if (c->dgq && !c->dgq_count && now - c->dgq_used_at >= dgq_keep())
		dgq_free(c);
}

/* Can this connection carry len bytes now? DGRAM_OK, or the drop counted. */
static int dgram_check(struct conn *c, size_t len)
{
	/* Closing (kicked, its token removed): nothing more for it. */
	if (c->state != CONN_OPEN || c->close_pending || !ngtcp2_conn_get_handshake_completed(c->qc)) {
		c->stats.drop[DROP_NO_ROUTE]++;
		return DGRAM_DROPPED;
	}
	if (len > CONN_DGQ_SLOT || len > conn_max_datagram(c)) {
		/* Our smaller packets may no longer be needed: ask again, at most
		 * once a second. */
		if (c->tx_cap && conn_now() - c->tx_cap_checked >= NGTCP2_SECONDS) {
			conn_fit_path(c, true);
			if (len <= CONN_DGQ_SLOT && len <= conn_max_datagram(c))
				return DGRAM_OK;
		}
		c->stats.drop[DROP_TOO_BIG]++;
		return DGRAM_TOO_BIG;
	}
	return DGRAM_OK;
}

/* A datagram that fits: sent, or queued behind those that wait. */
static int send_or_queue(struct conn *c, const struct iovec *iov, int iovcnt, size_t len,
                         uint64_t ts)
{
	if (c->dgq_count == 0) {
		/* Straight from the caller's buffers into the UDP batch. */
		ngtcp2_vec v[2];
		for (int k = 0; k < iovcnt; k++)
			v[k] = (ngtcp2_vec){iov[k].iov_base, iov[k].iov_len};
		if (write_datagram(c, v, (size_t)iovcnt, len, ts) != DG_BLOCKED)
			return DGRAM_OK;
	}
	enum drop_reason why = dgq_push(c, iov, iovcnt, ts);
	if (why != DROP_MAX) {
		c->stats.drop[why]++;
		return DGRAM_DROPPED;
	}
	return DGRAM_OK;
}

int conn_send_datagramv(struct conn *c, const struct iovec *iov, int iovcnt, size_t len)
{
	int rv = dgram_check(c, len);
	return rv == DGRAM_OK ? send_or_queue(c, iov, iovcnt, len, conn_now()) : rv;
}

int conn_send_tun_pkt(struct conn *c, struct tun_pkt *p, unsigned limit)
{
	/* Checked once, by the first packet: the largest. */
	int rv = dgram_check(c, offload_split_max(&p->split));
	if (rv != DGRAM_OK) {
		/* One is counted: the others go the same way. */
		c->stats.drop[rv == DGRAM_TOO_BIG ? DROP_TOO_BIG : DROP_NO_ROUTE] += tun_pkt_count(p) - 1;
		return rv == DGRAM_TOO_BIG ? rv : (int)tun_pkt_count(p);
	}
	int dropped = 0;
	uint64_t ts = conn_now();
	struct offload_seg seg;
	struct iovec iov[2];
	int iovcnt;
	size_t len;
	while ((len = tun_pkt_next(p, &seg, iov, &iovcnt))) {
		if (c->dgq_count >= limit) {
			c->stats.drop[DROP_QUEUE]++;
			dropped++;
		} else if (send_or_queue(c, iov, iovcnt, len, ts) != DGRAM_OK) {
			dropped++;
		}
	}
	return dropped;
}

int conn_queue_datagram(struct conn *c, const uint8_t *pkt, size_t len)
{
	if (c->state != CONN_OPEN || len > CONN_DGQ_SLOT || len > conn_max_datagram(c))
		return DGRAM_DROPPED;
	struct iovec iov = {(void *)pkt, len};
	return dgq_push(c, &iov, 1, conn_now()) == DROP_MAX ? DGRAM_OK : DGRAM_DROPPED;
}

void conn_ctl_logged_in(struct conn *c)
{
	linebuf_skip_long(&c->rxline);
}

bool conn_ctl_send(struct conn *c, const char *msg, size_t len)
{
	if (len > sizeof(c->ctl) - c->ctl_len)
		return false;
	memcpy(c->ctl + c->ctl_len, msg, len);
	c->ctl_len += len;
	return true;
}

void conn_write(struct conn *c)
{
	if (c->state != CONN_OPEN)
		return;
	/* One time for the whole pass: ngtcp2 asserts that a packet number
	 * never goes with an earlier send time than the one before it. */
	uint64_t ts = conn_now();
	c->anchored = false;
	dgq_drain(c, ts);
	bool stream_blocked = false;
	for (;;) {
		ngtcp2_vec v = {0};
		size_t vcnt = 0;
		int64_t sid = -1;
		if (!stream_blocked && c->stream_id >= 0 && c->ctl_sent < c->ctl_len) {
			sid = c->stream_id;
			v.base = (uint8_t *)c->ctl + c->ctl_sent;
			v.len = c->ctl_len - c->ctl_sent;
			vcnt = 1;
		}
		ngtcp2_ssize ndatalen = -1;
		uint8_t *slot = udp_tx_slot(c->udp);
		ngtcp2_ssize n = ngtcp2_conn_writev_stream(c->qc, &c->ps.path, NULL, slot,
		                                           conn_tx_room(c), &ndatalen, 0, sid,
		                                           vcnt ? &v : NULL, vcnt, ts);
		if (n < 0) {
			if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED || n == NGTCP2_ERR_STREAM_SHUT_WR ||
			    n == NGTCP2_ERR_STREAM_NOT_FOUND) {
				stream_blocked = true;
				continue;
			}
			fail_transport(c, (int)n);
			return;
		}
		if (ndatalen > 0)
			c->ctl_sent += (size_t)ndatalen;
		if (n == 0)
			break;
		udp_tx_commit(c->udp, c->ps.path.local.addr, c->ps.path.local.addrlen,
		              c->ps.path.remote.addr, c->ps.path.remote.addrlen, (size_t)n);
	}
	/* A requested close goes out once the control data before it has been
	 * handed to ngtcp2 (the error line travels with the close), or once it
	 * cannot be: blocked on the stream, or on the connection's credit (which
	 * ngtcp2 0.12 reports as nothing to write, not as blocked), or not gone
	 * within CLOSE_WAIT_MAX (credit given a few bytes at a time). */
	if (c->close_pending &&
	    (c->ctl_sent == c->ctl_len || stream_blocked || ngtcp2_conn_get_max_data_left(c->qc) == 0 ||
	     ts - c->close_asked >= CLOSE_WAIT_MAX)) {
		udp_flush(c->udp);
		ngtcp2_connection_close_error ccerr;
		ngtcp2_connection_close_error_set_application_error(
			&ccerr, c->close_code, (uint8_t *)c->close_reason, strlen(c->close_reason));
		write_close(c, &ccerr);
		return;
	}
	conn_update_timer(c);
}

/* ---- timer ---- */

/* How long data may stay in flight unanswered (peer_dead): DEAD_PTOS
 * probe timeouts, reckoned with the smoothed RTT no higher than twice the
 * latest sample and its variance no higher than that. A first sample taken
 * across a pause of the hub (a handshake answered when it went on) keeps
 * both high for dozens of samples: a second pause took 7 s and more to
 * notice, not 2. A path whose queue grows shows it in its latest sample. */
static uint64_t unanswered_max(struct conn *c)
{
	uint64_t pto = ngtcp2_conn_get_pto(c->qc);
	ngtcp2_conn_stat cs;
	ngtcp2_conn_get_conn_stat(c->qc, &cs);
	uint64_t now_rtt = 2 * cs.latest_rtt;
	if (cs.latest_rtt && now_rtt < cs.smoothed_rtt) {
		/* pto is srtt + max(4 rttvar, 1 ms) + the hub's ack delay: both
		 * terms taken down by what they exceed the bounds by. */
		uint64_t var = cs.rttvar < now_rtt ? cs.rttvar : now_rtt;
		pto -= (cs.smoothed_rtt - now_rtt) + 4 * (cs.rttvar - var);
	}
	uint64_t t = DEAD_PTOS * pto;
	return t > DEAD_SILENCE ? t : DEAD_SILENCE;
}

/* Client, after each write: when did data go out that nothing answered
 * yet (a receipt sets it back to 0). */
static void note_unanswered(struct conn *c)
{
	if (c->is_server || c->unanswered_since || !ngtcp2_conn_get_handshake_completed(c->qc))
		return;
	ngtcp2_conn_stat cs;
	ngtcp2_conn_get_conn_stat(c->qc, &cs);
	if (cs.bytes_in_flight)
		c->unanswered_since = conn_now();
}

/* Armed for what ngtcp2 (or pacing) waits for, never under TIMER_MIN
 * ahead, and left alone when it already fires no later than that: firing
 * early is harmless (nothing is due, and it is armed again), while moving
 * it on every packet would cost a timerfd_settime each time. Unless what
 * it waits for now lies over TIMER_LATER further on: on an idle
 * connection the ACK of a keep-alive leaves only the next keep-alive
 * due, and the probe timeout armed for the PING woke the process for
 * nothing 30 ms after each (a wakeup per keep-alive); under load the
 * expiry moves by milliseconds, and stays put. */
static void conn_update_timer(struct conn *c)
{
	if (c->state != CONN_OPEN)
		return;
	ngtcp2_tstamp exp = ngtcp2_conn_get_expiry(c->qc);
	if (c->pace_next && c->dgq_count && c->pace_next < exp)
		exp = c->pace_next;
	note_unanswered(c);
	uint64_t dead_at = c->unanswered_since ? c->unanswered_since + unanswered_max(c) : UINT64_MAX;
	if (dead_at < exp)
		exp = dead_at;
	if (c->close_pending && c->close_asked + CLOSE_WAIT_MAX < exp)
		exp = c->close_asked + CLOSE_WAIT_MAX;
	/* An empty queue's memory goes back at its time (dgq_trim, from the
	 * timer), not whenever the connection next wakes: on an idle session
	 * that is the hub's keep-alive, 15 s on. */
	if (c->dgq && !c->dgq_count && c->dgq_used_at + dgq_keep() < exp)
		exp = c->dgq_used_at + dgq_keep();
	if (exp == UINT64_MAX) {
		sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
		return;
	}
	uint64_t soonest = conn_now() + TIMER_MIN;
	uint64_t at = (exp > soonest ? exp : soonest) / 1000 + 1;
	int on = SD_EVENT_OFF;
	sd_event_source_get_enabled(c->timer, &on);
	if (on != SD_EVENT_OFF && c->timer_at <= at && at - c->timer_at < TIMER_LATER)
		return;
	sd_event_source_set_time(c->timer, at);
	sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
	c->timer_at = at;
}

/* Client: the hub answered none of the last DEAD_PTOS probes (see
 * probe_anchor): it is gone, or the path is. Waiting for the idle timeout
 * would keep the tunnel dead for 30 s. A keep-alive that is due carries an
 * anchor, so that an idle client finds out too. */
static bool peer_dead(struct conn *c)
{
	uint64_t now = conn_now(), silent = now - c->last_rx;
	if (silent >= KEEPALIVE)
		probe_anchor(c, now, true);
	ngtcp2_conn_stat cs;
	ngtcp2_conn_get_conn_stat(c->qc, &cs);
	if (silent < DEAD_SILENCE)
		return false;
	if (cs.pto_count >= DEAD_PTOS)
		snprintf(c->close_reason, sizeof(c->close_reason), "no answer to %zu probes in %.1f s",
		         cs.pto_count, (double)silent / NGTCP2_SECONDS);
	else if (c->unanswered_since && now >= c->unanswered_since + unanswered_max(c))
		snprintf(c->close_reason, sizeof(c->close_reason),
		         "no answer to what was sent in the last %.1f s",
		         (double)(now - c->unanswered_since) / NGTCP2_SECONDS);
	else
		return false;
	c->dead_peer = true;
	return true;
}

/* Client: a hub given up (peer_dead) is told all the same, once and
 * without waiting: one that was only paused, or whose path comes back,
 * then ends the session when it reads this, not at its idle timeout. */
static void send_goodbye(struct conn *c)
{
	uint8_t buf[UDP_MAX_PAYLOAD];
	char why[sizeof(c->close_reason) + 16];
	int wl = snprintf(why, sizeof(why), "gave up: %s", c->close_reason);
	ngtcp2_connection_close_error ccerr;
	ngtcp2_connection_close_error_set_application_error(
		&ccerr, SLOPN_ERR_CLIENT_EXIT, (const uint8_t *)why,
		wl < 0 ? 0 : (size_t)wl < sizeof(why) ? (size_t)wl : sizeof(why) - 1);
	ngtcp2_path_storage ps;
	ngtcp2_path_storage_zero(&ps);
	size_t room = conn_tx_room(c);
	ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->qc, &ps.path, NULL, buf,
	                                                    room < sizeof(buf) ? room : sizeof(buf),
	                                                    &ccerr, conn_now());
	if (n > 0)
		udp_send_one(c->udp, ps.path.local.addr, ps.path.local.addrlen, ps.path.remote.addr,
		             ps.path.remote.addrlen, buf, (size_t)n);
}

/* What the connection's timer is for: loss recovery, pacing, the idle and
 * handshake timeouts, a dead peer, the linger after a close. */
static void expire(struct conn *c)
{
	if (c->state != CONN_OPEN) {
		conn_finish(c);
		return;
	}
	int rv = ngtcp2_conn_handle_expiry(c->qc, conn_now());
	if (rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
		c->close_idle = true;
		if (rv == NGTCP2_ERR_IDLE_CLOSE)
			snprintf(c->close_reason, sizeof(c->close_reason),
			         "no answer for %llu s (idle timeout)",
			         (unsigned long long)((idle_for(c->qc) + NGTCP2_SECONDS / 2) / NGTCP2_SECONDS));
		else if (c->heard)
			snprintf(c->close_reason, sizeof(c->close_reason), "handshake timed out");
		else
			/* Full-size packets from the first one (see settings_init): a
			 * path that drops them without an ICMP answer looks like a dead
			 * hub. */
			snprintf(c->close_reason, sizeof(c->close_reason),
			         "no answer: is the hub's UDP port reachable, and does the path carry "
			         "UDP packets of %zu bytes?",
			         ngtcp2_conn_get_max_tx_udp_payload_size(c->qc) +
			             UDP_IP_OVERHEAD(c->udp->local.ss_family));
		conn_finish(c);
	} else if (rv != 0) {
		fail_transport(c, rv);
	} else if (!c->is_server && peer_dead(c)) {
		send_goodbye(c);
		conn_finish(c);
	} else {
		conn_write(c);
		dgq_trim(c, conn_now());
	}
}

void conn_probe(struct conn *c)
{
	if (c->state == CONN_OPEN)
		probe_anchor(c, conn_now(), true);
}

static int timer_cb(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct conn *c = userdata;
	expire(c);
	/* Last: the owner's hook may free c. A hub's writing here can drain a
	 * queue that senders wait for (hub_spoke.c), and only its end-of-event
	 * step lets them go on at once. */
	if (c->ops->on_timer_done)
		c->ops->on_timer_done(c);
	else
		udp_flush(c->udp);
	return 0;
}
