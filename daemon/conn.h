/* One QUIC connection, either role: ngtcp2 + GnuTLS, the control stream
 * (newline-delimited JSON), DATAGRAM frames carrying IP packets, its timer,
 * and an orderly close. The owner (hub session or client) plugs in through
 * conn_ops. */
#ifndef SLOPN_CONN_H
#define SLOPN_CONN_H

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <systemd/sd-event.h>

#include "daemon/udp.h"
#include "proto/linebuf.h"
#include "tun/tun.h"

/* Application error codes on CONNECTION_CLOSE: 0-3 as in the original SloPN. */
enum slopn_app_error {
	SLOPN_ERR_CLIENT_EXIT = 0,   /* also: hub shutting down */
	SLOPN_ERR_UNAUTHORIZED = 1,
	SLOPN_ERR_POOL_EXHAUSTED = 2,
	SLOPN_ERR_BANNED = 3,
	SLOPN_ERR_KICKED = 4,        /* by the administrator, with the reason */
	SLOPN_ERR_TOKEN_LIMIT = 5,   /* ours: the token has its most live sessions */
	SLOPN_ERR_BUSY = 6,          /* ours: too many connections wait to log in; soon */
};
/* The start of the reason a hub gives a banned address's attempts, which it
 * refuses in their first packet (CONNECTION_REFUSED, as when it is busy). */
#define SLOPN_BANNED_REASON "banned after too many failed logins"

enum drop_reason {
	DROP_SPOOFED,      /* source is not the sender's VIP */
	DROP_NOT_IPV4,     /* not IP, or IPv6 from a session without IPv6 */
	DROP_TOO_BIG,      /* cannot fit one datagram */
	DROP_NO_ROUTE,     /* no session for the destination, or spoke-to-spoke off */
	DROP_QUEUE,        /* congestion: the per-connection queue was full */
	DROP_BEFORE_LOGIN, /* datagram before the login finished */
	DROP_TUN,          /* the TUN device refused it */
	DROP_QUEUE_MEMORY, /* congestion, no queue: the hub's queue budget was spent */
	/* Not a connection's: the owner's TUN and UDP socket (dataplane.h). */
	DROP_TUN_QUEUE,    /* the kernel's queue in front of the TUN overflowed */
	DROP_UDP_SEND,     /* the UDP socket refused a QUIC packet */
	DROP_UDP_RECV,     /* the kernel dropped QUIC packets before we read them */
	DROP_TUN_BAD,      /* read from the TUN: a super-packet that cannot be split */
	DROP_MAX,
};
extern const char *const drop_reason_names[DROP_MAX];

struct conn_stats {
	uint64_t rx_pkts, rx_bytes; /* IP packets received from the peer */
	uint64_t tx_pkts, tx_bytes; /* IP packets sent to the peer */
	uint64_t drop[DROP_MAX];
};

struct conn;

struct conn_ops {
	/* Client: handshake done (and the pin checked): time to log in. */
	void (*on_handshake)(struct conn *c);
	/* A complete line on the control stream (no '\n'). */
	void (*on_line)(struct conn *c, const char *line, size_t len);
	/* After conn_ctl_logged_in: a line longer than LINEBUF_CAP was
	 * skipped (c->ctl_skipped counts them). Optional. */
	void (*on_line_skipped)(struct conn *c);
	/* One DATAGRAM frame's payload. */
	void (*on_datagram)(struct conn *c, const uint8_t *data, size_t len);
	/* The connection stopped carrying data (closing, draining or dead).
	 * Called once. c->close_* tell why. */
	void (*on_down)(struct conn *c);
	/* The connection is finished; the owner frees it (not from this call's
	 * stack if it must not: see server.c). Called once, after on_down. */
	void (*on_gone)(struct conn *c);
	/* The congestion queue has room again (see conn_congested). */
	void (*on_drained)(struct conn *c);
	/* The connection's timer ran (and may have written, closed, or called
	 * the hooks above): send what is queued. Without it, the UDP batch is
	 * flushed. May free c (the hub settles its sessions here). */
	void (*on_timer_done)(struct conn *c);
	/* The peer moved (its new address validated, or a NAT rebinding):
	 * ngtcp2_conn_get_path() has the path now in use. */
	void (*on_path)(struct conn *c);
	/* Server only: a new CID of ours, to route on. */
	void (*cid_added)(struct conn *c, const ngtcp2_cid *cid);
	void (*cid_removed)(struct conn *c, const ngtcp2_cid *cid);
};

enum conn_state { CONN_OPEN, CONN_CLOSING, CONN_DRAINING, CONN_DEAD };

#define CONN_CTL_BUF 8192
/* How much control-stream data a peer may send ahead of what we have read
 * (conn.c params_init says why it is small). */
#define CONN_STREAM_WINDOW 8192
/* The datagram queue, while the congestion window is full: a sender that
 * can wait stops at dgq_pause (conn_congested; CONN_DGQ_PAUSE unless the
 * owner sets less), and the rest of the queue still takes a whole TSO
 * super-packet's packets (64 KiB in segments of 1 KiB or more) read before
 * it stopped. */
#define CONN_DGQ_SLOTS 256
#define CONN_DGQ_PAUSE (CONN_DGQ_SLOTS - 64)
/* A slot takes the largest IP packet we carry; a queue, CONN_DGQ_BYTES. */
#define CONN_DGQ_SLOT 1500
#define CONN_DGQ_BYTES ((size_t)CONN_DGQ_SLOTS * CONN_DGQ_SLOT)

/* A cap on the queues' memory of all the connections that share it (the
 * hub's --queue-memory): a queue is allocated only while used + its size
 * stays within limit. Looked at only when a queue is allocated or freed
 * (or, for a session the budget refused one, at each congested packet:
 * a comparison). */
struct conn_qbudget {
	uint64_t limit;
	uint64_t used;              /* bytes of the queues allocated now */
};

/* Our connection IDs (the hub's, which route a client's packets to its
 * session, and a client's): 8 bytes, 8 fewer per packet than 16 (quic-go
 * uses 4); a client's random, a hub's 6 random and a tag (cidtag.h). A
 * hub's CIDs of a crashed run, of any length, come back from peers.json
 * for their resets. */
#define CONN_CID_LEN 8

struct conn {
	ngtcp2_conn *qc;
	gnutls_session_t tls;
	ngtcp2_crypto_conn_ref ref;
	const struct conn_ops *ops;
	void *owner;
	struct udp *udp;
	sd_event_source *timer;
	ngtcp2_path_storage ps;
	const uint8_t *reset_secret; /* 32 bytes: stateless-reset tokens */
	const uint8_t *cid_secret;  /* the hub's: its IDs carry its tag (cidtag.h); NULL: random */
	enum conn_state state;
	bool is_server;
	/* Refuse a handshake that did not settle on SLOPN_ALPN (RFC 9001
	 * 8.1): the hub always, a client that offered it before its login. */
	bool need_alpn;
	bool alpn_refused;

	/* control stream */
	int64_t stream_id;          /* -1 until opened */
	struct linebuf rxline;
	char rxline_buf[LINEBUF_CAP + 1];
	char ctl[CONN_CTL_BUF];     /* unacknowledged outgoing control data */
	size_t ctl_len, ctl_sent;
	uint64_t ctl_base;          /* stream offset of ctl[0] */
	uint64_t tls_after_handshake; /* client: bytes of it the hub sent, dropped unread */

	/* close requested from inside a callback, carried out by conn_write */
	bool close_pending;
	uint64_t close_asked;       /* conn_now() when it was */
	uint64_t close_code;
	char close_reason[128];
	/* why the connection ended, for on_down */
	bool close_by_peer;         /* the peer sent CONNECTION_CLOSE */
	bool close_app;             /* application (not transport) error */
	bool close_idle;            /* idle timeout or handshake timeout */
	bool stateless_reset;       /* the peer no longer knows this connection */
	bool dead_peer;             /* client: probes unanswered, see conn.c */
	uint64_t last_rx;           /* when the peer was last heard (conn_now) */
	uint64_t unanswered_since;  /* client: data in flight and nothing heard since; 0: no */
	bool heard;                 /* a packet of the peer's was accepted */
	bool anchored;              /* a probe anchor is queued for this write pass */
	uint64_t anchor_ts;         /* when the last one was */
	bool ctl_overflow;          /* closed for a control line over LINEBUF_CAP */
	uint64_t ctl_skipped;       /* such lines after the login, skipped */
	uint8_t *closebuf;          /* our CONNECTION_CLOSE, resent while closing */
	size_t closelen;
	unsigned closing_rx;        /* packets of the peer's since, answered at powers of 2 */
	/* Its end is worth lingering over (RFC 9000 10.2): a client's, and a
	 * hub's once logged in. A hub's connection that never logged in goes at
	 * once, so that handshakes closed as soon as made cannot pile up. */
	bool linger;

	/* IP packets waiting for congestion window (or pacing) */
	uint8_t *dgq;               /* CONN_DGQ_BYTES */
	struct conn_qbudget *qbudget; /* the owner's, set after init; NULL: no cap (a client) */
	uint16_t dgq_len[CONN_DGQ_SLOTS];
	unsigned dgq_head, dgq_count;
	unsigned dgq_pause;         /* congested from this many on */
	uint64_t dgq_used_at;       /* the last push; an empty queue unused a while is freed */
	/* coarse pacing of datagrams (see conn.c) */
	double pace_credit;         /* bytes that may leave now */
	uint64_t pace_ts;           /* when the credit was last topped up */
	uint64_t pace_next;         /* blocked by pacing until then; 0: not blocked */
	uint64_t timer_at;          /* where the timer is armed (sd-event microseconds) */
	/* The UDP payload the kernel lets us send to the peer, when less than
	 * ngtcp2 was set up with (a link of ours got a smaller MTU); 0: no less. */
	size_t tx_cap;
	uint64_t tx_cap_checked;    /* conn_now() when last asked */
	size_t rx_max;              /* largest UDP payload the peer got to us */
	/* "Too big" answers of ours about this connection, this second */
	uint64_t too_big_sec;
	unsigned too_big_answers;

	struct conn_stats stats;
};

uint64_t conn_now(void);

/* Set up the common parts; then conn_server_init / conn_client_init.
 * retry_odcid: the client's original DCID from a Retry token we verified
 * (NULL without a Retry). */
int conn_server_init(struct conn *c, sd_event *ev, struct udp *u,
                     const ngtcp2_pkt_hd *hd, const ngtcp2_cid *retry_odcid,
                     const struct sockaddr *local, socklen_t locallen,
                     const struct sockaddr *remote, socklen_t remotelen, gnutls_session_t tls,
                     const uint8_t reset_secret[32], const uint8_t cid_secret[32],
                     const struct conn_ops *ops, void *owner, int verbose);
/* udp_payload: the largest UDP payload to send, and to ask the hub to send
 * (UDP_MAX_PAYLOAD, or less on a path that carries less; at least 1200). */
int conn_client_init(struct conn *c, sd_event *ev, struct udp *u,
                     const struct sockaddr *remote, socklen_t remotelen,
                     gnutls_session_t tls, const struct conn_ops *ops,
                     void *owner, size_t udp_payload, int verbose);
void conn_free(struct conn *c);

/* Feed one UDP payload from `from` to `to` (our address it came to),
 * received by ts (conn_now() after the receive call: one clock read per
 * batch, not per packet). Calls on_down/on_gone as needed. */
void conn_read(struct conn *c, const struct sockaddr *to, socklen_t tolen,
               const struct sockaddr *from, socklen_t fromlen,
               const uint8_t *pkt, size_t len, uint64_t ts);
/* Send whatever is due: queued datagrams, control data, ACKs, close. */
void conn_write(struct conn *c);
/* Have the next write carry an ack-eliciting frame (a MAX_DATA update), so
 * that a live peer answers within its ack delay: a liveness probe. */
void conn_probe(struct conn *c);

/* Client: our end of the path changed (c->udp now has another local
 * address): move the connection there at once, without a new handshake;
 * ngtcp2 validates the new path meanwhile. 0, or -1 when ngtcp2 cannot
 * (no spare connection ID from the hub, handshake not done) or the hub
 * does not allow it (disable_active_migration, as quic-go hubs set). */
int conn_migrate(struct conn *c);

/* The login went through: from now on a control line over LINEBUF_CAP
 * is skipped (and counted), as lines of unknown types are ignored, where
 * before it ends the connection. */
void conn_ctl_logged_in(struct conn *c);

/* Queue a control message (one line, '\n' included). false if no room. */
bool conn_ctl_send(struct conn *c, const char *msg, size_t len);
/* Close with an application error (after what is queued on the control
 * stream). Safe from inside callbacks: takes effect in conn_write. */
void conn_close(struct conn *c, uint64_t code, const char *reason);

/* Send one IP packet (len bytes in iov[0..iovcnt), at most 2 pieces) as a
 * DATAGRAM, or queue it (copied) while the congestion window is full.
 * Counts tx or a drop. Safe to call for another connection from inside a
 * callback, never for this one. The caller has conn_write run at the end of
 * its event: that sends what waits and arms the timer. */
enum { DGRAM_OK = 0, DGRAM_DROPPED = -1, DGRAM_TOO_BIG = -2 };
/* DGRAM_OK once sent or queued; DGRAM_TOO_BIG when the packet does not fit
 * the connection (counted: the caller may tell its sender, see icmp.h). */
int conn_send_datagramv(struct conn *c, const struct iovec *iov, int iovcnt, size_t len);
static inline int conn_send_datagram(struct conn *c, const uint8_t *pkt, size_t len)
{
	struct iovec iov = {(void *)pkt, len};
	return conn_send_datagramv(c, &iov, 1, len);
}
/* Every IP packet of p, read from the TUN, as with conn_send_datagramv;
 * those that find limit packets queued are dropped (counted as "queue").
 * DGRAM_TOO_BIG when they do not fit the connection (counted, nothing
 * sent: the caller tells the sender, tun_frag_needed), else how many were
 * dropped. */
int conn_send_tun_pkt(struct conn *c, struct tun_pkt *p, unsigned limit);
/* Only queue it, for the next conn_write: safe inside this connection's
 * own callbacks. DGRAM_OK or DGRAM_DROPPED (not counted). */
int conn_queue_datagram(struct conn *c, const uint8_t *pkt, size_t len);

/* Add one connection's counters into a running total. */
static inline void conn_stats_add(struct conn_stats *to, const struct conn_stats *from)
{
	to->rx_pkts += from->rx_pkts, to->rx_bytes += from->rx_bytes;
	to->tx_pkts += from->tx_pkts, to->tx_bytes += from->tx_bytes;
	for (int i = 0; i < DROP_MAX; i++)
		to->drop[i] += from->drop[i];
}

/* Bytes held for the queue of IP packets (0 while it has not been needed
 * lately). */
size_t conn_queue_mem(const struct conn *c);

/* Enough waits in the congestion queue: a sender that can wait should
 * stop producing until on_drained. */
static inline bool conn_congested(const struct conn *c)
{
	return c->dgq_count >= c->dgq_pause;
}

/* Largest IP packet that fits one datagram on this connection now. */
size_t conn_max_datagram(struct conn *c);

/* ICMP errors must be rate-limited (RFC 1812 4.3.2.8, RFC 4443 2.4(f)):
 * an answer of ours that a packet is too big for this connection may go
 * CONN_TOO_BIG_PER_SEC times a second. A sender that ignores them would
 * otherwise have the hub answer each of its packets. A packet past that
 * is dropped unanswered (counted too_big, as every such packet). */
#define CONN_TOO_BIG_PER_SEC 100
static inline bool conn_too_big_answer_ok(struct conn *c, uint64_t now)
{
	uint64_t sec = now / NGTCP2_SECONDS;
	if (sec != c->too_big_sec) {
		c->too_big_sec = sec;
		c->too_big_answers = 0;
	}
	return c->too_big_answers++ < CONN_TOO_BIG_PER_SEC;
}
/* The kernel refused a packet to the peer as too big (EMSGSIZE), or a
 * datagram is too big for an earlier such answer, or a link changed: fit
 * packets to what the kernel says the way to the peer takes now (and log
 * a change when tell). */
void conn_fit_path(struct conn *c, bool tell);
/* Room for one UDP payload as packets are built now. */
size_t conn_tx_room(const struct conn *c);
/* ngtcp2's smoothed RTT, in ns. */
uint64_t conn_srtt(struct conn *c);

#endif
