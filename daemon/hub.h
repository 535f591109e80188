/* The hub's state, shared by its parts: server.c (sessions and data plane)
 * and hub_control.c (the control methods). Not for other modules. */
#ifndef SLOPN_HUB_H
#define SLOPN_HUB_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "daemon/ban.h"
#include "daemon/cidmap.h"
#include "daemon/config.h"
#include "daemon/conn.h"
#include "daemon/control.h"
#include "daemon/initq.h"
#include "daemon/log.h"
#include "daemon/alloc.h"
#include "daemon/session.h"
#include "daemon/tls.h"
#include "daemon/tokens.h"
#include "daemon/traffic.h"
#include "daemon/udp.h"
#include "tun/nat.h"
#include "tun/tun.h"

#define SHARED_TOKEN_NAME TOKEN_NAME_SHARED   /* sessions that logged in with --token */
/* A session holds the TUN (hub_data.c), and other clients sending to it
 * are held (hub_spoke.c), from this many packets queued: less than a
 * client waits for, as the others wait too while it holds. */
#define HUB_HOLD_AT 64

/* What the admission limits did (hub_admit.c), for server.status. */
struct admit_counters {
	uint64_t retry_sent;         /* Retry packets: prove your address first */
	uint64_t refused;            /* new connections refused: limits, bad Retry token */
	uint64_t refused_banned;     /* new connections of a banned address, refused */
	uint64_t closed_deadline;    /* closed for no login within the deadline */
	uint64_t closed_limit;       /* closed to keep within the limits */
	uint64_t oversize_logins;    /* logins larger than SLOPN_LOGIN_MAX, refused */
	uint64_t bad_datagrams;      /* not QUIC for us: undecodable, bad Initial */
	uint64_t initials_dropped;   /* admitted, but the queue of handshakes was full */
	uint64_t initials_excess;    /* of one connection in its handshake, past FOLLOWS_MAX */
};

/* The counters above by the names server.status (admission) and the
 * metrics (slopn_admission_total{what}) give them, in their order: a new
 * counter is named here once (hub_admit.c). */
struct admit_counter_name {
	const char *name;
	size_t offset; /* of its uint64_t in struct admit_counters */
};
extern const struct admit_counter_name admit_counter_names[];
extern const size_t admit_counter_count;

static inline uint64_t admit_counter(const struct admit_counters *a, size_t i)
{
	return *(const uint64_t *)((const char *)a + admit_counter_names[i].offset);
}

/* A state file's last save: while it fails, why (for status and
 * metrics; the log says it once, and once more when it works again). */
struct save_state {
	bool failing;
	char err[512];
	uint64_t last_end;  /* when the last save ended (CLOCK_MONOTONIC, us; 0: none yet) */
	uint64_t last_cost; /* and how long it took: the next waits for it (savepace.h) */
};

/* The state files whose saves status and metrics report, and their names
 * ("leases.json"...). */
enum saved_file { SAVED_LEASES, SAVED_TRAFFIC, SAVED_PEERS, SAVED_TOKENS, SAVED_FILES };
extern const char *const saved_file_name[SAVED_FILES];

/* The wait before a failed save (a full disk) is tried again, in us: a
 * minute, or for tests SLOPND_SAVE_RETRY_SECONDS. Both in hub_leases.c. */
uint64_t hub_save_retry(void);

/* A state file that could not be used at the start (why), kept as it was
 * and never written over while the hub runs: a failed save in status and
 * metrics until the exit. In hub_leases.c, with the next. */
void hub_save_hold(struct save_state *st, const char *why);
/* At exit, with changes such a held file did not get: an error naming
 * what (the "leases" ...), the file, why it was held, what is lost and
 * what to do. -1, for the exit status: what changed is lost. */
int hub_save_held_at_exit(const struct save_state *st, const char *what, const char *path,
                          const char *lost);

/* Note a failed save: true if it is the first of a row (to be said). */
static inline bool save_failed(struct save_state *st, const char *err)
{
	bool first = !st->failing;
	st->failing = true;
	snprintf(st->err, sizeof(st->err), "%s", err);
	return first;
}

/* Note when a save (worked or not) started and ended, timer_now_usec(). */
static inline void save_timed(struct save_state *st, uint64_t start, uint64_t end)
{
	st->last_end = end;
	st->last_cost = end > start ? end - start : 0;
}

/* Note a save that worked: true if the last one had failed. */
static inline bool save_worked(struct save_state *st)
{
	bool was = st->failing;
	st->failing = false;
	st->err[0] = '\0';
	return was;
}

/* Stateless answers, each kind with its budget (hub_stateless_ok). */
enum hub_stateless { HUB_RESET, HUB_REFUSAL, HUB_VN_PADDED, HUB_STATELESS_KINDS };

struct server {
	const struct config *cfg;
	sd_event *ev;
	struct udp udp;
	/* What it listens on, as status, invites and logs say: --listen, or
	 * the address of a socket systemd passed (bound there, whatever
	 * --listen says). */
	const char *listen;
	char listen_passed[INET6_ADDRSTRLEN + 8];
	struct tls_identity id;
	struct cidmap cids;
	struct ban_table bans;
	struct alloc addrs;          /* who holds which address: ask it, never the pool */
	LIST_HEAD(, session) sessions; /* every connection, logged in or not */
	unsigned nconns;
	struct session *grave, *dirty;
	struct tun tun;
	bool tun_tried;              /* setup_tun ran: a TUN it did not get is taken */
	sd_event_source *tun_src;    /* off while a session holds the TUN (hub_data.c) */
	sd_event_source *shed_timer;
	unsigned holding;            /* sessions congested, holding the TUN */
	uint64_t shed_forget;        /* ns: a session's shed level goes back after this (hub_data.c) */
	uint64_t ring_drops;         /* the TUN queue's drops at the last look (hub_data.c) */
	bool ring_known;             /* ... asked for then */
	uint64_t ring_checked;       /* conn_now() then */
	uint64_t tun_full_reads;     /* reads of the TUN that stopped at TUN_BATCH, more waiting */
	uint64_t full_mark;          /* ... at the last look */
	sd_event_source *spoke_timer; /* ends holds (hub_spoke.c) */
	struct session *replay;      /* released: their stashes are read in hub_settle */
	size_t stash_total;          /* bytes of all stashes */
	struct conn_qbudget qbudget; /* the sessions' datagram queues: --queue-memory */
	uint64_t spoke_sheds;        /* senders let go after HOLD_MAX (hub_spoke.c) */
	bool beyond_said;            /* a packet beyond the VPN without --nat: logged once */
	bool tun_paused;
	int ifindex;                 /* the TUN's */
	bool tun_down;               /* set down from outside (ip link set down) */
	sd_event_source *nl_src;     /* hears of that (and, with --nat, of the machine's networks) */
	char tunname[IFNAMSIZ];
	uint8_t token_hash[32];      /* the shared --token */
	bool has_token;
	struct token_store tokens;   /* tokens.json */
	struct traffic_store traffic; /* traffic.json: per-token totals */
	sd_event_source *traffic_timer;
	sd_event_source *used_timer;   /* the next save of the tokens' last uses */
	bool used_unsaved;             /* last uses that tokens.json does not have yet */
	struct metrics_http *metrics;  /* --metrics */
	uint64_t failed_logins;        /* wrong or expired tokens */
	uint64_t refused_pool_full;    /* right tokens refused: no address left */
	uint64_t refused_token_limit;  /* right tokens refused: the token's sessions all live */
	uint64_t bans_started;
	uint64_t next_id;              /* also counts the connections made */
	uint64_t trim_mark;            /* next_id at the last on_trim */
	uint64_t tun_drop[DROP_MAX]; /* packets from the TUN that went nowhere */
	uint64_t stateless_sec;      /* budgets of stateless answers, a second's */
	unsigned stateless_this_sec[HUB_STATELESS_KINDS]; /* enum hub_stateless */
	bool stopping;
	struct control *ctl;
	bool spoke_to_spoke;           /* from the config; SIGHUP may change it */
	char *reload_token;            /* the token now in force */
	unsigned reloads;              /* SIGHUPs taken */
	char reload_error[600];        /* what the last one kept back, and why; "" when nothing */
	uint64_t started_mono;         /* CLOCK_MONOTONIC us: uptime, whatever the wall clock does */
	time_t started;                /* Unix time, see hub_started() */
	struct conn_stats gone_totals; /* counters of sessions that ended */
	bool nat_on;                   /* our NAT rules are installed */
	enum nat_backend nat_backend;  /* with which */
	unsigned nat_installs;         /* times the rules were written (start, reloads) */
	int nat_rules;                 /* nftables rules in our table after the last install; 0: unknown */
	unsigned nat_allowed;          /* --allow-lan networks opened by them */
	char egress[IFNAMSIZ];
	char egress6[IFNAMSIZ];        /* where clients' IPv6 leaves; "" = it does not */
	char *nat_state;               /* where the forwarding setting from before is kept */
	uint8_t nat_digest[32];        /* of the rules last written */
	sd_event_source *nat_timer;    /* a change seen: look again a little later */
	int nat_gen;                   /* iptables: the chains' generation in force */
	unsigned nat_restored;         /* times the rules were found gone and put back */
	sd_event_source *nat_watch;    /* nftables changes (a flush, a firewall's reload) */
	sd_event_source *nat_check;    /* are the rules still in the kernel? */
	struct nat_look *nat_look;     /* iptables: the look under way, or the last */
	struct nat_job *nat_job;       /* iptables: the renewal under way (its thread) */
	struct nat_job *nat_pending;   /* ... and the one to follow it */
	sd_event_source *path_timer;   /* a link changed: fit clients' packets to it */
	sd_event_source *tun_check;    /* the TUN changed from outside: put back what we set */
	struct log_budget tun_check_log;
	/* The errno of what could not be put back, as last logged (0: it was
	 * put back, or never had to be): each cause is logged once. */
	int tun_mtu_err, tun_addr_err, tun_addr6_err;
	struct log_budget refused_log; /* refused logins' lines */
	struct log_keyed login_log;    /* logins' lines, by the client's address (hub_login.c) */
	sd_event_source *log_timer;    /* a log budget's summary falls due (log.h) */
	char *peers_path;              /* peers.json: whom to reset after a crash */
	sd_event_source *peers_timer;  /* its next save */
	char *leases_path;             /* leases.json */
	bool leases_held;              /* it could not be read, or not set aside: not written over */
	sd_event_source *leases_timer; /* the next save */
	uint64_t leases_due;           /* when (CLOCK_MONOTONIC), 0 = none armed */
	struct save_state saved[SAVED_FILES]; /* leases.json, traffic.json, peers.json, tokens.json */
	/* admission (hub_admit.c) */
	unsigned handshaking;          /* connections whose handshake is in progress */
	unsigned npending;             /* on the pending list */
	TAILQ_HEAD(, session) pending; /* oldest first, so by deadline */
	/* address key -> a count (a number, not a pointer): pending, and
	 * handshakes in progress whose address is not proven yet */
	struct cidmap pending_by_addr, unproven_by_addr;
	struct initq initq;            /* admitted Initials, their handshakes to make */
	struct initq initq_first;      /* made before those (hub_admit_queue) */
	unsigned initq_turn;           /* one in four from initq all the same */
	sd_event_source *initq_src;    /* makes them (server.c) */
	sd_event_source *deadline_timer;
	struct admit_counters adm;
	sd_event_source *trim_timer;   /* gives freed memory back (malloc_trim) */
	sd_event_source *expiry_timer; /* the next token expiry (CLOCK_REALTIME) */
};

extern const struct control_method hub_methods[];

const char *ip4str(uint32_t host, char buf[INET_ADDRSTRLEN]);
const char *ip6str(const struct in6_addr *a, char buf[INET6_ADDRSTRLEN]);
unsigned live_sessions(const struct server *s);
/* The hub's traffic and drops (ended sessions, live ones, the TUN's) into
 * t; returns the live sessions. */
unsigned hub_totals(const struct server *s, struct conn_stats *t);
/* When the hub started, in Unix time: the wall clock at the start, taken
 * again as now less the uptime once that differs by 2 s or more (a clock
 * set after the start, NTP at boot), not at each call: a value that moves
 * by a second would read as a restart. */
time_t hub_started(struct server *s);
/* --nat (hub_nat.c): at start (also cleans up after a crashed --nat run
 * when --nat is off). 0 or -1. */
int hub_nat_setup(struct server *s);
/* First thing at a start (the state directory locked): what a --nat run
 * that did not stop cleanly left goes, also when this start then fails
 * before its TUN (a bad tokens.json, the port taken). tun_ours: this
 * start holds its TUN; else a TUN of that name another process holds (a
 * running hub given the same --tun) keeps what the state file records:
 * that hub's rules and forwarding, not a crashed run's (a warning when
 * tried_tun: this start found it taken). */
void hub_nat_clean_early(const struct config *cfg, bool tun_ours, bool tried_tun);
/* Stopping left forwarding on for another router's NAT (its rule's place):
 * said as a warning. */
void hub_nat_kept(const char *where);
enum nat_install {
	NAT_START,       /* at start: forwarding on, the rules in */
	NAT_AGAIN,       /* SIGHUP: written again */
	NAT_IF_CHANGED,  /* the machine's networks changed: written if they would differ */
	NAT_RESTORE,     /* found gone from the kernel: put back */
};
/* The rules as things stand now, written as how says. 0 or -1. */
int hub_nat_install(struct server *s, enum nat_install how);
/* Keep the rules in the kernel: put them back when they are gone (nft
 * flush ruleset, a firewall's reload, iptables -F). After the event loop
 * is made. 0 or -1. */
int hub_nat_watch(struct server *s);
/* At exit: the iptables renewal under way waited for (a later one
 * dropped), so that the rules in force are known for their removal. */
void hub_nat_job_wait(struct server *s);
/* The iptables look's children: no longer waited for. */
void hub_nat_look_free(struct server *s);
/* The machine's addresses or routes changed (or SIGHUP): the way out
 * follows the default route (unless --egress), and the rules follow. */
void hub_nat_follow(struct server *s, enum nat_install how);
/* hub_login.c: after any change of the tokens (start, token.add, reload):
 * sessions of tokens past their expiry end now, and the next expiry is
 * awaited. */
void hub_expiry_arm(struct server *s);
/* hub_login.c: the tokens' last uses not yet in tokens.json written now
 * (at_exit: for the last time, -1 if that failed, said as an error); stop
 * drops the timer that saves them. */
int hub_tokens_save_used(struct server *s, bool at_exit);
void hub_tokens_stop(struct server *s);
/* Close a session with code 4 and the reason, now. */
void hub_kick(struct server *s, struct session *ss, const char *reason);

/* server.c: sessions and the event loop. */
/* A log line about one session: in the journal it also carries the
 * session's id, VIP and remote address as fields. */
void hub_slog(enum log_level lvl, const struct session *ss, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* systemd's status line (a no-op without NOTIFY_SOCKET). */
void hub_notify_status(const struct server *s);
/* End of every event: write what callbacks queued, free what ended. */
void hub_settle(struct server *s);
/* Tell every client that the hub is going, and leave the event loop
 * with code (0: asked to stop; else a failure, for the service manager). */
void hub_exit(struct server *s, int code);
/* The session has something to send: conn_write it in hub_settle. */
void hub_mark_dirty(struct session *ss);

/* hub_admit.c: who may open a connection, and for how long one may wait
 * without logging in. */
int hub_admit_init(struct server *s);
void hub_admit_free(struct server *s);
/* An Initial for no connection we know. true: make a session for it
 * (*validated: its address is proven, and *retry_odcid holds the original
 * DCID from our Retry token). false: answered without state, or dropped. */
bool hub_admit_initial(struct server *s, const ngtcp2_pkt_hd *hd, const struct udp_rx *rx,
                       bool *validated, ngtcp2_cid *retry_odcid);
/* Queue an admitted Initial for its handshake (server.c makes it when
 * the sessions' packets are served); it counts towards its address's
 * limit meanwhile. false: no place for it, dropped and counted. */
bool hub_admit_queue(struct server *s, const struct udp_rx *rx, const ngtcp2_cid *dcid,
                     bool validated, const ngtcp2_cid *retry_odcid);
/* Initials in the queues. */
static inline unsigned hub_queued(const struct server *s)
{
	return s->initq.n + s->initq_first.n;
}
/* It was taken out of the queue: it no longer counts as queued. */
void hub_admit_dequeued(struct server *s, const struct initq_slot *sl);
/* A session was made for an admitted Initial. */
void hub_admit_start(struct server *s, struct session *ss, bool validated);
/* conn_ops.on_handshake of hub sessions. */
void hub_admit_handshake(struct conn *c);
/* The session logged in, or went down: it waits no more. */
void hub_admit_leave(struct session *ss);
/* IPv4 (a v4-mapped IPv6 too) by its address, IPv6 by its /64: the key
 * of the per-address limits, and of the budget of login lines. */
void hub_addr_key(const struct sockaddr_storage *sa, uint8_t key[9], uint8_t *len);
/* Whether a line of this session's login (its "down", a warning of its
 * login) is said: not when its "up" line was held back (its address's
 * budget of login lines, hub_login.c), and then it is counted as held back
 * too. */
bool hub_login_says(const struct session *ss);
/* A login larger than SLOPN_LOGIN_MAX was refused: counted (and in the
 * once-a-minute summary). */
void hub_admit_oversize(struct server *s);
/* Connections past their handshake that have not logged in yet. */
unsigned hub_awaiting_login(const struct server *s);
/* Connections ended and kept a moment for the peer's late packets (a
 * logged-in session's, at most 3 s). */
unsigned hub_closing(const struct server *s);
/* Whether one more stateless answer of a kind fits this second's budget:
 * each kind has its own, so that resets, which any short packet with a
 * made-up connection ID asks for, cannot use up the refusals' (a banned
 * or turned-away client told why). */
bool hub_stateless_ok(struct server *s, enum hub_stateless kind);

/* hub_login.c: logged-in sessions of the token of that name. */
unsigned hub_token_live(const struct server *s, const char *name);
/* hub_login.c: a line on a session's control stream (the login first). */
void hub_session_line(struct conn *c, const char *line, size_t len);
void hub_session_line_skipped(struct conn *c);
/* A login refused as unreadable (why; oversized counts it too): a failure
 * towards a ban of its address, logged at most a few lines a minute. */
void hub_bad_login(struct session *ss, const char *why, bool oversized);

/* hub_data.c: one datagram from a client; the TUN is readable; a session's
 * queue is no longer congested. */
void hub_session_datagram(struct conn *c, const uint8_t *pkt, size_t len);
int hub_on_tun(sd_event_source *src, int fd, uint32_t revents, void *userdata);
/* Read the TUN until it is empty (or held, or TUN_BATCH reads): also at the
 * end of an event that wrote into it, so that the kernel's answers leave
 * with that event's ACKs (hub_settle). */
void hub_tun_read(struct server *s);
/* The data plane's settings, at start. */
void hub_data_init(struct server *s);
void hub_session_drained(struct conn *c);

/* hub_spoke.c: a client sending to another client whose queue is congested
 * waits (its packets unread) until that queue drains. */
/* ss sent to `to`, whose queue is now congested. */
void hub_spoke_congested(struct server *s, struct session *ss, struct session *to);
/* `to`'s queue is no longer congested: who waited for it goes on. */
void hub_spoke_drained(struct server *s, struct session *to);
/* A packet from ss: kept for later (true) while ss waits or has packets
 * kept, or to be read now (false). */
bool hub_spoke_stash(struct server *s, struct session *ss, const struct udp_rx *rx);
/* Read what released sessions kept (hub_settle); true if any were. */
bool hub_spoke_replay(struct server *s);
/* ss goes away: nobody waits for it, nor it for anyone. */
void hub_spoke_forget(struct server *s, struct session *ss);
void hub_spoke_stop(struct server *s);

/* hub_traffic.c: per-token totals in traffic.json, saved at least once a
 * minute and at exit. */
int hub_traffic_start(struct server *s);
void hub_traffic_session_end(struct server *s, const struct session *ss);
/* Tokens are gone from the store (token.remove, a reload): their totals
 * go at once, and their live sessions count towards no token from then on. */
void hub_traffic_tokens_gone(struct server *s);
/* Tokens' totals now, their live sessions included (live[i] of them), in
 * one pass over the sessions (the list of 10000 tokens with 4096 sessions
 * is not 40 million steps). 0, or -1 when out of memory. */
int hub_tokens_totals(const struct server *s, const char *const *names, size_t n,
                      struct traffic_entry *out, unsigned *live);
/* The tokens token list and metrics show: the shared --token first, then
 * the store's; *n of them, in an array of *n + 1 (NULL: out of memory). */
const char **hub_token_names(const struct server *s, size_t *n);
/* Saves for the last time: -1 if that failed (said, as an error). */
int hub_traffic_stop(struct server *s);

/* hub_metrics.c: the Prometheus text (malloc'd, NULL when out of memory),
 * and its HTTP server when --metrics asks for one. */
char *hub_metrics_text(struct server *s, size_t *len);
int hub_metrics_start(struct server *s);
void hub_metrics_stop(struct server *s);

/* hub_peers.c: peers.json (where the clients are, for resets after a
 * crash). hub_peers_reset at start, once the UDP socket is open;
 * hub_peers_dirty when a session comes, goes or moves; hub_peers_stop at
 * a clean exit. hub_send_reset sends one stateless reset for cid, from
 * our address `from` (NULL: the kernel picks) to `to`. */
void hub_peers_reset(struct server *s);
void hub_peers_dirty(struct server *s);
void hub_peers_stop(struct server *s);
void hub_send_reset(struct server *s, const uint8_t *cid, size_t cidlen, size_t randlen,
                    const struct sockaddr *from, socklen_t fromlen,
                    const struct sockaddr *to, socklen_t tolen);

/* hub_leases.c: leases.json. Load at start (after the fixed VIPs); after
 * any change of addresses, dirty arms the save; save writes now if needed
 * (at_exit: for the last time, -1 if that failed, said as an error). */
void hub_leases_load(struct server *s);
void hub_leases_dirty(struct server *s);
int hub_leases_save(struct server *s, bool at_exit);

/* hub_reload.c */
/* The shared --token (NULL: none). */
void hub_set_token(struct server *s, const char *token);
/* The tokens' fixed VIPs changed (start, reload, token add or remove):
 * tell the allocator, warn about those outside the subnet. */
void hub_fixed_changed(struct server *s);
/* SIGHUP: tokens.json and the config file again, applied without
 * dropping sessions. */
void hub_reload(struct server *s);

#endif
