/* A client's session on the hub: its QUIC connection, its VIP, its counters. */
#ifndef SLOPN_SESSION_H
#define SLOPN_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/shedlevel.h"
#include "proto/login.h"
#include "proto/tokenfile.h"

struct server;

struct session {
	struct conn conn;
	struct server *srv;
	uint64_t id;
	uint32_t vip;               /* host order; 0 until logged in */
	bool has6;                  /* it has vip6 too (a client of ours, IPv6 on) */
	struct in6_addr vip6;
	char vip6s[INET6_ADDRSTRLEN]; /* vip6 for logs and the API; "" without */
	char token_name[TOKEN_NAME_MAX + 1]; /* "shared" for the --token */
	bool logged_in;
	bool token_removed;         /* its token was removed since its login: it counts towards no
	                             * token's totals, live sessions or limit (a token added under
	                             * the name since is another) */
	bool gone;                  /* on the graveyard list */
	time_t since;
	char remote[64];            /* "ADDR:PORT" for logs */
	struct sockaddr_storage remote_sa; /* the client's address now (it may move) */
	socklen_t remote_salen;
	size_t path_seen;           /* the UDP payload the way to it took at the last look */
	char client_version[SLOPN_SHORT_MAX];
	char os[SLOPN_SHORT_MAX];
	char client_id[SLOPN_CLIENT_ID_MAX + 1]; /* "" for a client without one */
	char instance[SLOPN_CLIENT_ID_MAX + 1];  /* the client's run, "" if not told */
	uint64_t replaced_at;       /* conn_now() when its login replaced a session, or 0 */
	uint64_t probed_at;         /* conn_now() when a login at its token's limit probed it */
	struct sockaddr_storage replaced_remote; /* where that one was */
	char replaced_instance[SLOPN_CLIENT_ID_MAX + 1]; /* and its run */
	ngtcp2_cid odcid;           /* the client's first DCID, routed during the handshake */
	LIST_ENTRY(session) link;      /* all live sessions (server.sessions) */
	struct session *grave_next;    /* freed at the end of the event */
	struct session *dirty_next;    /* needs conn_write at the end of the event */
	bool dirty;
	/* backpressure (hub_data.c) */
	bool holding;                  /* congested: the TUN is not read */
	uint64_t held_since;           /* conn_now(), renewed while nobody waits */
	uint64_t held_began;           /* conn_now() when the hold began */
	uint64_t held_total;           /* ns the TUN was held for it, its holds ended */
	uint64_t held_mark;            /* ... as of the hub's last look at the TUN queue */
	uint64_t pace_began;           /* its pace while it holds: since then (slow_check), */
	uint64_t pace_held, pace_tx;   /* held_total and tx_pkts then */
	uint64_t held_in;              /* its queue's intake then (sent + queued) */
	uint64_t held_moved;           /* when its queue last moved while held */
	uint64_t held_tx;              /* its datagrams sent, then */
	uint64_t shed_until;           /* dropping its own excess until then */
	struct shed_level shed_lvl;    /* for how long, the next time (shedlevel.h) */
	uint64_t tun_seen;             /* when the TUN last had a packet for it */
	struct log_budget moved_log;   /* its "moved" lines: a client can move every RTT */
	bool quiet;                    /* its "up" line held back (LOGIN_LINES): so is its "down" */
	bool quiet_last;               /* its "up" line is the last its address has this minute */
	/* spoke-to-spoke backpressure (hub_spoke.c) */
	struct session *held_for;      /* whose congested queue it waits on */
	uint64_t held_at;              /* conn_now() */
	uint64_t spoke_shed_until;     /* not held again until then, */
	uint64_t spoke_shed_for;       /* or until this session (its id) drains */
	unsigned holders;              /* sessions held for it (a drain looks only then) */
	unsigned shed_by;              /* at most this many shed for it (the same) */
	uint8_t *stash;                /* its QUIC packets kept unread while held */
	size_t stash_head, stash_len, stash_cap;
	struct session *replay_next;   /* its stash is read in hub_settle */
	bool replay_queued;
	/* admission (hub_admit.c) */
	bool handshaking;              /* counted in srv->handshaking */
	bool hello_answered;           /* its ClientHello's work done: the hub sent its flight
	                                * (not a HelloRetryRequest) */
	uint8_t follows_queued;        /* its Initials in the handshake queue (FOLLOWS_MAX) */
	bool pending;                  /* address proven, no login yet: on the pending list */
	bool unproven;                 /* counted in srv->unproven_by_addr */
	uint64_t deadline;             /* while pending: closed then (conn_now() time) */
	TAILQ_ENTRY(session) pend_link; /* while pending: server.pending */
	uint8_t addr_key[9];           /* its source as the per-address limit sees it */
	uint8_t addr_keylen;
};

#endif
