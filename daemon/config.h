/* Command-line configuration of slopnd, for both roles. */
#ifndef SLOPN_CONFIG_H
#define SLOPN_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/login.h"
#include "tun/nat.h"

#define MAX_ALLOW_LAN 32
#define DEFAULT_RESOLV_CONF "/etc/resolv.conf"

enum role { ROLE_SERVER, ROLE_CLIENT, ROLE_PIN };

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define DEFAULT_PORT STRINGIFY(SLOPN_PORT)
#define DEFAULT_STATE_DIR "/var/lib/slopn"
#define DEFAULT_TUN "slopn0"
#define DEFAULT_MTU 1280
#define DEFAULT_SUBNET "10.100.0.0/24"
#define DEFAULT_CONFIG "/etc/slopn/slopnd.conf"
#define MIN_MTU 576
/* The largest IP packet one QUIC datagram carries on a 1500-byte path with
 * our 1452-byte UDP payloads (see conn.c). */
#define MAX_MTU 1400
/* --queue-memory: what the hub's sessions' datagram queues may hold in all.
 * 256 MiB is 699 queues of 384000 bytes (conn.h), more than the sessions a
 * hub has congested at once, and a sixth of what 4096 such would take; the
 * least holds one queue, the most more than a /16 of sessions could use. */
#define DEFAULT_QUEUE_MEMORY (256ULL << 20)
#define MIN_QUEUE_MEMORY (384ULL << 10)
#define MAX_QUEUE_MEMORY (64ULL << 30)

/* The longest state directory taken: its files' paths are built in
 * PATH_MAX buffers (config.c says why). */
#define STATE_DIR_MAX 3072

struct config {
	enum role role;
	/* server */
	char *listen;           /* ADDR:PORT */
	uint32_t subnet;        /* host order */
	unsigned prefix;
	enum { SUBNET6_AUTO, SUBNET6_NONE, SUBNET6_GIVEN } subnet6_mode; /* auto: from the key */
	uint8_t subnet6[8];     /* the /64 when given */
	bool spoke_to_spoke;
	char *state_dir;
	char *control;          /* control socket path; NULL = none (client default) */
	char *public_address;   /* HOST[:PORT] for invites; NULL = the listen address */
	bool nat;               /* the clients' way out: forwarding + masquerade */
	char *egress;           /* NAT interface; NULL = that of the default route */
	enum nat_backend nat_backend;
	struct cidr4 allow_lan[MAX_ALLOW_LAN]; /* hub networks clients may reach; a client's
	                                        * kill switch lets them out */
	size_t nallow_lan;
	struct cidr6 allow_lan6[MAX_ALLOW_LAN];
	size_t nallow_lan6;
	bool allow_lan_cmdline; /* the command line gave --allow-lan: the file's are gone */
	uint32_t dns;           /* DNS server pushed at login (network order); 0 = none */
	struct in6_addr dns6;   /* the same for IPv6; :: = none */
	bool dns_cmdline;       /* the command line gave --dns: the file's are gone */
	char *metrics;          /* ADDR:PORT for Prometheus; NULL = none */
	uint64_t queue_memory;  /* bytes the sessions' datagram queues may hold in all */
	char *config;           /* the config file read, if any */
	int argc;               /* the command line, to re-apply over the file on reload */
	char **argv;
	/* client */
	char *server;           /* HOST:PORT */
	char *pin;              /* "sha256:hex" or NULL */
	char *alpn;             /* override, for interop tests only */
	bool full_tunnel;       /* everything through the hub */
	bool kill_switch;       /* and nothing else out while slopnd runs */
	bool kill_switch_only;  /* put the kill switch in and exit (at boot) */
	bool no_route;          /* leave routing alone, even the VPN subnet's */
	bool accept_dns;        /* use the DNS server the hub pushes */
	char *resolv_conf;      /* what --accept-dns rewrites (and restores) */
	/* both */
	char *token;
	char *tun;
	unsigned mtu;
	bool offloads;          /* TUN offloads, UDP GSO and GRO; off: SLOPN_OFFLOADS=off */
	bool tun_ring;          /* TUN reads through io_uring, with offloads; off: SLOPN_URING=off */
	int verbose;
	bool server_set, token_set, pin_set; /* given on the command line, over an invite */
};

/* Parse argv (argv[1] is the role). Returns 0 to run, 1 when --help was
 * printed (exit 0), -1 on a usage error (already reported; exit 2). */
int config_parse(struct config *c, int argc, char **argv);
/* What config_parse's last error said (also on stderr), without the
 * "slopnd: " and the pointer to --help: for a reload's status. */
extern char config_error[512];
/* Set, config errors are only kept in config_error, not logged: a reload
 * logs its failure once, with them. */
extern bool config_quiet;
void config_free(struct config *c);

/* host_port_split with DEFAULT_PORT: "HOST:PORT" or "[V6]:PORT"; a missing
 * port gives DEFAULT_PORT. host and port are malloc'd. 0 or -1. */
int split_host_port(const char *s, char **host, char **port);

#endif
