/* The client's state, shared by its files: client.c (connecting, the
 * connection's events, the TUN, the event loop), client_net.c (the address,
 * routes and DNS a login brings), client_path.c (the way to the hub: path
 * probes, a narrower way, roaming), client_scout.c (the name's other
 * addresses), client_name.c (the name's lookup). */
#ifndef SLOPN_CLIENT_INT_H
#define SLOPN_CLIENT_INT_H

#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <systemd/sd-event.h>
#include <gnutls/gnutls.h>
#include <jansson.h>

#include "daemon/config.h"
#include "daemon/conn.h"
#include "daemon/control.h"
#include "daemon/tls.h"
#include "daemon/udp.h"
#include "daemon/clientid.h"
#include "daemon/log.h"
#include "proto/addr.h"
#include "proto/login.h"
#include "proto/pathprobe.h"
#include "tun/fulltunnel.h"
#include "tun/tun.h"

enum cstate { C_WAITING, C_RESOLVING, C_CONNECTING, C_UP };

/* Where the kernel sends packets for the hub: oif 0 when nowhere. */
struct client_way {
	int oif;
	uint8_t gw[16];
};

/* Exit status of a client refused for good (its token refused): the
 * unit's RestartPreventExitStatus names it (slopnd(8), EXIT STATUS). */
#define EXIT_REFUSED 3

/* The most addresses of the hub's name scouted beside an attempt. */
#define SCOUT_MAX 8

/* --accept-dns: ours undone this many times within this long, and the
 * program that does so (a resolv.conf manager, another VPN) has the file.
 * A DHCP client on a new network writes it once or twice. */
#define CLIENT_DNS_UNDONE 5
#define CLIENT_DNS_UNDONE_USEC (30 * 1000000ULL)

struct client {
	const struct config *cfg;
	sd_event *ev;
	enum cstate state;
	struct conn *conn;
	struct udp udp;
	size_t udp_payload;          /* this attempt's largest UDP payload: the path's */
	size_t own_payload;          /* what the kernel said our side takes, at its start */
	size_t pmtu_ignored;         /* the last path MTU (as payload) too small to believe */
	/* Path probes beside each attempt's first packet (client_path.c). */
	struct pathprobe probe;
	uint64_t probe_sent;         /* when (CLOCK_MONOTONIC, us); 0: none out */
	int probe_best;              /* the largest answered (an index), -1: none */
	size_t probe_cap;            /* what they found: the next attempt's size */
	bool probe_moved;            /* they check a live connection's new way (after a move) */
	sd_event_source *probe_timer;
	sd_event_source *login_timer; /* the hub's answer to our login is due */
	uint64_t widen_every;        /* us between full-size probes of a small connection; 0: none */
	/* A full-size connection's way checked now and then (client_path.c). */
	bool probe_keep;             /* the probes out are such a check's */
	bool keep_small;             /* this check's small probe was answered */
	int keep_tries;              /* this check's sends so far */
	uint64_t keep_every;         /* us between routine checks */
	uint64_t keep_next;          /* the next routine check (CLOCK_MONOTONIC, us) */
	uint64_t keep_last;          /* the last check's start */
	uint64_t keep_recovery;      /* ngtcp2's congestion_recovery_start_ts at that start */
	uint64_t keep_moved;         /* the connection's packets both ways, at the last look */
	bool keep_dozing;            /* nothing moved: no look until keep_next, or traffic */
	/* Scouts to the name's other addresses beside an attempt (client_scout.c). */
	int scout_fd;                /* -1 until the first */
	bool scout_v6;               /* an IPv6 socket: IPv4 ones as mapped addresses */
	sd_event_source *scout_src, *scout_timer;
	struct pathprobe scout;      /* this attempt's, QUIC's least size */
	uint64_t scout_sent;         /* when (CLOCK_MONOTONIC, us); 0: none out */
	unsigned scout_n;
	struct sockaddr_storage scout_to[SCOUT_MAX];
	struct sockaddr_storage scout_ai[SCOUT_MAX]; /* the same as the name's list gave them */
	int scout_pick;              /* the first that answered (into scout_to), -1: none */
	/* While waiting after attempts the hub did not answer: a probe to the
	 * last attempt's address now and then, whose answer ends the wait
	 * (client_scout.c). */
	struct sockaddr_storage pick;  /* the last attempt's address, family 0: none */
	bool silent;                 /* the last attempt heard nothing from the hub */
	bool port_refused;           /* and the hub's host said nothing listens on its
	                              * port: a restart, most likely (watched closely) */
	uint64_t attempts;           /* since the last connection (or the start), the
	                              * one under way included */
	bool busy;                   /* the last attempt: the hub said it is busy */
	unsigned busy_tries;         /* soon again after that, since the last connection */
	unsigned bad_words;          /* the hub's lines not understood, this connection */
	/* Optional fields of the hub's login answer taken as absent (their
	 * count, and the first's reason), "" when none: status's login_ignored. */
	char login_ignored[SLOPN_IGNORED_MAX + 48];
	bool refused_on_send;        /* a send took an ICMP refusal (client_refused) */
	bool sends_refused;          /* this connection's sends met EPERM: a firewall's rule here */
	struct pathprobe watch;
	struct sockaddr_storage watch_to; /* pick, as the scout socket sends to it */
	socklen_t watch_len;
	uint64_t watch_since;        /* CLOCK_MONOTONIC, us; 0: not watching */
	uint64_t silent_since;       /* the first watch since the hub was last heard; 0: none */
	sd_event_source *watch_timer;
	sd_event_source *udp_src, *retry, *tun_src;
	sd_event_source *nl_src, *path_check; /* roaming: see check_path */
	sd_event_source *tun_check;  /* the TUN's addresses taken from outside: client_on_tun_check */
	struct log_budget tun_check_log;
	int tun6_err;                /* why its IPv6 address could not be put back (errno), 0: it was */
	bool tun_paused;             /* the connection is congested: let the kernel queue */
	gnutls_certificate_credentials_t cred;
	char *host, *port;
	struct tun tun;
	int ifindex;                 /* the TUN's */
	bool tun_down;               /* set down from outside (ip link set down) */
	char tunname[IFNAMSIZ];
	uint32_t vip, hub_vip;       /* network order; vip 0 = TUN has no address */
	unsigned prefix;
	char client_id[CLIENT_ID_LEN + 1];
	char instance[CLIENT_INSTANCE_LEN + 1];
	/* Why the TUN takes no IPv6, for status: "mtu", "disabled"; NULL: it
	 * does, and the login asks for it. */
	const char *no6;
	/* This connection carries packets under IPv6's 1280 bytes (RFC 8200
	 * 5: whole packets of 1280 would be lost without a word, as no Packet
	 * Too Big may say less): our hub gives such a session no IPv6. The
	 * login asks all the same: a hub of another kind decides for itself
	 * (a quic-go one carries 1217 bytes, and may give IPv6 on purpose). */
	bool no6_path;
	struct in6_addr vip6, hub_vip6;
	unsigned prefix6;            /* 0: the TUN has no IPv6 address */
	bool hub_egress6;            /* this connection's hub takes IPv6 on to the internet */
	/* This machine's networks beside it and its addresses, which no packet
	 * from the hub comes from, and the routes into the TUN, which may take
	 * a part of such a network through it (a site behind the hub):
	 * client_lan_build. */
	struct prefix_set lan4, lan6, own4, own6, tun4, tun6;
	unsigned backoff;            /* seconds until the next attempt */
	bool quick_retry;            /* a working connection was lost: retry at once */
	uint64_t quick_at;           /* when quick retries were first counted (CLOCK_MONOTONIC, us) */
	unsigned quick_n;            /* ... and how many since */
	bool quick_steady;           /* this one's for a connection that lasted: not counted */
	int fatal;                   /* no retry: the exit status (EXIT_REFUSED for a
	                              * refused token, 1 otherwise); 0: retry */
	bool banned;                 /* the hub said so, and we said it once */
	bool stopping;               /* SIGINT/SIGTERM: a clean exit, no warning */
	/* Without --pin: the key of the last hub heard (its pin), so that a
	 * key other than the one before is said. */
	char seen_pin[PIN_STRLEN];
	/* The key of this attempt's hub was not --pin's: this pin instead. */
	char pin_mismatch[PIN_STRLEN];
	char refusal[SLOPN_MESSAGE_MAX]; /* the hub's error line, if it arrived */
	char problem[SLOPN_MESSAGE_MAX + 128]; /* why the last attempt failed, for status */
	/* How the last connection ended, kept while the attempts after it fail. */
	time_t down_at;              /* wall clock; 0: none has ended */
	bool down_by_hub;            /* the hub closed it */
	bool down_app;               /* ... with one of SloPN's error codes: down_code */
	uint64_t down_code;
	char down_reason[SLOPN_MESSAGE_MAX + 128];
	/* The hub's name, being looked up (client_name.c), and what its last
	 * lookup found: tried when a lookup fails (a DNS server down). */
	struct gaicb *gai;           /* the lookup in progress, or NULL */
	struct client_ares *ares;    /* ... under --kill-switch (client_ares.c) */
	struct sockaddr_storage known[SCOUT_MAX];
	socklen_t known_len[SCOUT_MAX];
	unsigned known_n;
	int gai_fd;                  /* an eventfd: the lookup ended */
	sd_event_source *gai_src;
	uint64_t drop_down;          /* TUN packets while not connected */
	struct control *ctl;
	time_t up_since;             /* wall clock, for status */
	uint64_t up_at;              /* the same on CLOCK_MONOTONIC (us): the backoff's judge */
	struct conn_stats totals;    /* counters of earlier connections */
	/* A hub name may have several addresses (IPv6 and IPv4): an attempt
	 * that hears nothing moves on to the next (client_next_address). */
	unsigned addr_next;          /* the next attempt's, an index into getaddrinfo's list */
	/* The next attempt's address wherever the next lookup puts it (a
	 * round-robin name reorders): the one last connected to, or the scout
	 * that answered. Family 0: none. */
	struct sockaddr_storage prefer;
	unsigned addr_count;         /* how many the name had at the last attempt */
	unsigned addr_round;         /* attempts in a row that heard nothing */
	char hub_str[INET6_ADDRSTRLEN + 8]; /* this attempt's "ADDR:PORT" */
	int hub_family;              /* the hub's underlay address: AF_INET or AF_INET6 */
	uint8_t hub_addr[16];        /* network order; IPv4 in the first 4 bytes */
	struct client_way way_tried; /* the kernel's way to it at the last attempt */
	struct full_tunnel ft;
	/* --kill-switch (client_killswitch.c): the table is in, and the hub's
	 * addresses it lets through. */
	bool ks_on;
	struct sockaddr_storage ks_hubs[SCOUT_MAX];
	unsigned ks_n;
	unsigned ks_restored;        /* times found gone (a flush) and put back */
	int ks_rules;                /* the rules it had when put in; -1: not known */
	uint64_t ks_counted_at;      /* the event loop's time of the counts below */
	int ks_count_rc;
	uint64_t ks_pkts, ks_bytes;  /* its drop counter then */
	sd_event_source *ks_watch;   /* nftables changes */
	sd_event_source *ks_check;   /* is the table still there? */
	bool dns_set;                /* resolv.conf holds the hub's server */
	uint32_t dns4;               /* the servers it holds: network order, 0 none */
	uint8_t dns6[16];
	bool has_dns6;
	sd_event_source *dns_watch;  /* inotify on resolv.conf while dns_set */
	sd_event_source *dns_timer;  /* a change seen: look a little later */
	char dns_real[NAME_MAX + 1]; /* the name of the file resolv.conf links to */
	char resolv_backup[4096];    /* the original resolv.conf while dns_set */
	/* When another program undid ours: this connection's last few times
	 * (a ring), so that one which keeps doing so is left alone. */
	uint64_t dns_undone[CLIENT_DNS_UNDONE - 1];
	unsigned dns_nundone;
	unsigned dns_restored;      /* the hub's servers put back after another's change */
	bool dns_warned_other;       /* another slopnd's file: said once */
	bool dns_warned_undone;      /* another program that keeps undoing ours: said once */
};

/* client.c */
/* Why an attempt failed: a warning in the log, and in status until the
 * next connection is up. */
void client_problem(struct client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, but msg again as the last problem (a hub down for an hour, a
 * burst of "busy"): an info line with "(again)", not one more warning. */
void client_problem_again(struct client *cl, const char *msg);
/* The end of a lookup of the hub's name: its addresses (NULL when it
 * failed, the problem said): the attempt goes on, or waits for the next. */
void client_resolved(struct client *cl, struct addrinfo *ai);
void client_drop_connection(struct client *cl);
void client_schedule_retry(struct client *cl);
/* Waiting for the next attempt: true, and the microseconds until it. */
bool client_retry_in(const struct client *cl, uint64_t *left);
/* End of every event: what arrived to the TUN, what waits to the hub. */
void client_settle(struct client *cl);

/* client_net.c: after a login, and when the connection ends. */
/* 0; -1 (the client cannot go on); or refused: CLIENT_SUBNET_HOLDS_HUB,
 * the subnet's route would take the way to the hub into the TUN;
 * CLIENT_SUBNET_IN_LAN, it would take part of a network beside this
 * machine; CLIENT_VIP_IN_LAN, the address is in such a network;
 * CLIENT_VIP_IS_HUB, it is the hub's (--no-route: no subnet checked). The
 * TUN has no address then. */
#define CLIENT_SUBNET_HOLDS_HUB (-2)
#define CLIENT_SUBNET_IN_LAN (-3)
#define CLIENT_VIP_IN_LAN (-4)
#define CLIENT_VIP_IS_HUB (-5)
int client_apply_address(struct client *cl, const struct slopn_login_response *r);
/* The TUN without its VPN addresses (and their routes). */
void client_drop_address(struct client *cl);
/* Connected, and a network beside this machine came (the machine moved)
 * that the subnet's route now takes part of: true, with that network's
 * route as text in lan. */
bool client_subnet_in_lan(const struct client *cl, char *lan, size_t len);
int client_apply_network(struct client *cl, const struct slopn_login_response *r);
/* lan4, own4, tun4 and IPv6's anew from the machine's routes and
 * addresses: at the login, and when they change. */
void client_lan_build(struct client *cl);
void client_restore_network(struct client *cl);
/* --full-tunnel after a network change: the hub's host route through the
 * network there is now, and the routes through the TUN (back, after a
 * while without a network). */
void client_full_tunnel_again(struct client *cl);
/* The first of the DNS servers that --accept-dns set which the kernel
 * routes outside the TUN now, as text into buf (queries to it leave
 * unencrypted); false when there is none (a server with no route at all
 * is not reached either). */
bool client_dns_outside(const struct client *cl, char *buf, size_t len, char dev[IFNAMSIZ]);
/* The hub's later word on its way out (a "network" line). */
void client_hub_network(struct client *cl, const struct slopn_network *n);
/* The TUN's link went down (up) from outside: what the kernel took with it
 * comes back when it is up. */
void client_tun_link(struct client *cl, bool up);
/* A moment after the TUN's link or addresses changed: addresses of the
 * connection taken from outside are put back (tun_check's handler). */
int client_on_tun_check(sd_event_source *src, uint64_t usec, void *userdata);

/* client_scout.c: beside an attempt at pick, a probe to each other address
 * of ai; one that answers while the attempt hears nothing takes over. */
int client_scout_init(struct client *cl);
void client_scout(struct client *cl, const struct addrinfo *ai, const struct addrinfo *pick);
void client_scout_stop(struct client *cl);
void client_scout_free(struct client *cl);
/* Waiting to try again after an attempt that heard nothing: probe the last
 * attempt's address every WATCH_EVERY, and try again at once when it
 * answers (the hub is back). Stopped by client_watch_stop, at the attempt. */
void client_watch(struct client *cl);
void client_watch_stop(struct client *cl);
/* The watch's interval (us), 0 when not watching: for status. */
uint64_t client_watch_every(const struct client *cl);

/* client_killswitch.c */
/* At start: the table in (with --kill-switch; else one a crashed run left
 * goes). -1: not to run without it. */
int client_killswitch_start(struct client *cl);
/* --kill-switch-only: the table from the settings alone, and no run (for
 * boot, before the network; the client's start takes it over). The exit
 * status. */
int client_killswitch_only(const struct config *cfg);
/* An attempt's addresses (ai, its chain): let through, if not already. */
void client_killswitch_hubs(struct client *cl, const struct addrinfo *ai);
void client_killswitch_stop(struct client *cl);
/* No more watching of nftables (before the event loop goes). */
void client_killswitch_unwatch(struct client *cl);
/* The client exits with rc != 0: the table stays, and says so. */
void client_killswitch_keep(struct client *cl, int rc);
/* For status: null when off. */
json_t *client_killswitch_json(struct client *cl);

/* client_name.c */
int client_name_init(struct client *cl);
/* An IP address, not a name (no lookup, and no SNI). */
bool client_host_is_address(const char *h);
/* Look the hub's name up (an address at once), then client_resolved. */
void client_name_lookup(struct client *cl);
void client_name_free(struct client *cl);
/* A lookup's end: what it found (kept for when the next ones fail), or
 * why it failed (the last addresses found are tried). */
void client_name_found(struct client *cl, struct addrinfo *ai);
void client_name_failed(struct client *cl, const char *why);

/* client_ares.c: the lookup under --kill-switch, its queries marked. */
int client_ares_init(void);
void client_ares_lookup(struct client *cl);
bool client_ares_busy(const struct client *cl);
void client_ares_free(struct client *cl);

/* client_path.c */
/* The kernel's way to the hub now (to the last address tried; before any,
 * the default route). */
struct client_way client_way_now(const struct client *cl);
/* The UDP payload the kernel lets us send to the hub: its path MTU, unless
 * that is less than any QUIC path carries while the interface toward the hub
 * takes more; then the interface's (said once). */
size_t client_path_payload(struct client *cl);
void client_send_probes(struct client *cl);
/* rx answers one of this attempt's probes: noted, and not for ngtcp2.
 * Only while probe_sent: the caller checks that, per packet. */
bool client_probe_answer(struct client *cl, const struct udp_rx *rx);
/* Nothing more to learn from this attempt's probes (or none out). */
void client_probes_stop(struct client *cl);
/* Logged in: a connection smaller than our side's way allows gets a
 * full-size probe now and then, and connects again once one arrives; a
 * full-size one has its way checked now and then, and soon after losses,
 * and connects again once probes of its size go unanswered while a small
 * one is answered. */
void client_widen_start(struct client *cl);
/* Traffic (either way) on a connection whose upkeep dozes: its looks at
 * ngtcp2's losses start again. A test of a flag while it does not doze. */
void client_keep_wake(struct client *cl);
int client_on_probe_timer(sd_event_source *s, uint64_t usec, void *userdata);
void client_path_narrowed(struct client *cl);
/* A link event: the way may be narrower, or wider than at the start. */
void client_path_changed(struct client *cl);
/* The hub's word (a "path" message) that it takes in no more than max. */
void client_hub_path(struct client *cl, size_t max);
/* Close the live connection to connect again at once (a way of another
 * size), without the linger a close is otherwise given. */
void client_close_to_reconnect(struct client *cl, const char *reason);
/* This attempt heard nothing: the next one takes the name's next address
 * (at once while the round has some left, then with the usual backoff). */
void client_next_address(struct client *cl);
/* err, from a receive from the hub: if it is an ICMP refusal of this
 * attempt, the attempt ends now (said, and retried as one that heard
 * nothing) rather than at the handshake timeout. Not from inside a
 * connection's own calls: it frees the connection. */
bool client_refused(struct client *cl, int err);
/* While the attempt watches the socket's errors (udp_watch_errors): read
 * them all. An unreachable ends the attempt as client_refused does (1); a
 * "too big" is acted on as the path narrowing (2); else 0. */
int client_read_errors(struct client *cl);
void client_check_path_soon(struct client *cl);
int client_on_check_path(sd_event_source *s, uint64_t usec, void *userdata);
int client_on_netlink(sd_event_source *s, int fd, uint32_t revents, void *userdata);

#endif
