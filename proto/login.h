/* Login messages of the SloPN wire protocol (compatible with the original Go
 * SloPN): one JSON object per line on the first bidirectional stream.
 * Pure functions: no I/O, no allocation visible to the caller. */
#ifndef SLOPN_PROTO_LOGIN_H
#define SLOPN_PROTO_LOGIN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The hub's UDP port when none is given, the original's: settings and
 * invites default to it. */
#define SLOPN_PORT 4242

/* Largest login line we accept, '\n' included; anything larger ends the
 * connection. The original's messages are well under 1 KiB. */
#define SLOPN_LOGIN_MAX 4096

/* A token's room, its NUL included: a login line's worth, since a token
 * never comes in more than one line (the original's Go strings have no
 * limit of their own). */
#define SLOPN_TOKEN_MAX SLOPN_LOGIN_MAX
#define SLOPN_SHORT_MAX 64
#define SLOPN_MESSAGE_MAX 256
#define SLOPN_CLIENT_ID_MAX 64

/* Optional fields of ours a peer got wrong (a wrong type, an empty or
 * malformed value) are taken as absent, as unknown ones are: only the
 * mandatory fields fail a login. This says which, for the caller's log. */
#define SLOPN_IGNORED_MAX 160
struct slopn_ignored {
	unsigned n;                      /* how many fields were taken as absent */
	char why[SLOPN_IGNORED_MAX];     /* the first one's reason, printable ASCII; "" if none */
};

struct slopn_login_request {
	char token[SLOPN_TOKEN_MAX];
	char client_version[SLOPN_SHORT_MAX]; /* "" when absent */
	char os[SLOPN_SHORT_MAX];             /* "" when absent */
	/* Ours only; the original's clients send neither. */
	char client_id[SLOPN_CLIENT_ID_MAX + 1]; /* "" when absent */
	/* Random per run of the client (a client id's syntax), "" when absent:
	 * tells the hub a restart from another machine with the same id. */
	char instance[SLOPN_CLIENT_ID_MAX + 1];
	bool ipv6;                            /* the client takes IPv6 addresses */
	struct slopn_ignored ignored;         /* set by the parser only */
};

/* The widest VPN subnets a client takes from a hub (IPv4 /16, IPv6 /64:
 * what ours can give; the original's is always a /24): a wider one would
 * route more than a VPN's own addresses into the tunnel. */
#define SLOPN_PREFIX_MIN 16
#define SLOPN_PREFIX6_MIN 64

/* A DNS server a hub may give its clients: unicast, and one they can ask
 * by address alone (not loopback: a client would ask itself; not
 * link-local, which needs an interface). Network order / 16 bytes. */
bool slopn_dns_ok4(uint32_t a);
bool slopn_dns_ok6(const struct in6_addr *a);

struct slopn_login_response {
	bool ok;                              /* "status":"success" */
	char message[SLOPN_MESSAGE_MAX];      /* error text, "" on success */
	struct in_addr assigned_vip;          /* success only */
	struct in_addr server_vip;            /* success only */
	unsigned prefix_len;                  /* from subnet_mask; 24 when absent */
	struct in_addr dns;                   /* the hub's DNS server; 0 when absent */
	char server_version[SLOPN_SHORT_MAX];
	/* IPv6 inside the tunnel (ours only): all three or none. */
	unsigned prefix_len6;                 /* 0 when absent: IPv4 only */
	struct in6_addr assigned_vip6;
	struct in6_addr server_vip6;
	bool egress6;                         /* the hub routes IPv6 on to the internet */
	struct in6_addr dns6;                 /* the hub's IPv6 DNS server; :: when absent */
	struct slopn_ignored ignored;         /* set by the parser only */
};

/* A client id: 1..64 characters of [A-Za-z0-9._-] (ours sends 32 hex digits). */
bool slopn_client_id_valid(const char *id);

/* Parse one line (without or with its trailing '\n'; need not be
 * NUL-terminated). Returns 0, or -1 with a human-readable reason in err.
 * Unknown fields are ignored, and of a key given twice the last counts (as
 * Go's decoder does); "type" must be "login_request" and "token" a
 * non-empty string. Optional: client_version and os, strings (truncated to
 * fit); client_id and instance, valid client ids; ipv6, a boolean. One that
 * is not so is taken as absent and named in out->ignored. */
int slopn_login_request_parse(const char *line, size_t len,
                              struct slopn_login_request *out,
                              char *err, size_t errlen);

/* Same for the hub's answer: "type", "status" and, on success,
 * assigned_vip and server_vip are mandatory, the two unicast host addresses
 * of one subnet (a /24 unless subnet_mask says otherwise). Optional, and
 * taken as absent (named in out->ignored) when not so: message and
 * server_version, strings; subnet_mask, a contiguous mask from
 * SLOPN_PREFIX_MIN to /30 (else /24, as the original's client always
 * takes); dns, a dotted quad that slopn_dns_ok4 takes (original clients
 * ignore it). Ours too: assigned_vip6, server_vip6 (two unicast IPv6
 * addresses of one prefix, not link-local) and prefix_len6
 * (SLOPN_PREFIX6_MIN..127), all three valid or IPv6 is absent; dns6 an IPv6
 * address that slopn_dns_ok6 takes; egress6 a boolean. */
int slopn_login_response_parse(const char *line, size_t len,
                               struct slopn_login_response *out,
                               char *err, size_t errlen);

/* Whether our client's login can carry token: formatted with the longest
 * fields our client adds (version, os, client id, instance, ipv6), it fits
 * in SLOPN_LOGIN_MAX. False for "" and for what is not UTF-8. */
bool slopn_login_token_fits(const char *token);
/* The longest such token of plain ASCII without '"' or '\\' (each of
 * those takes two bytes of the line), in bytes. */
size_t slopn_login_token_room(void);

/* Write the message as compact JSON followed by '\n' into buf. Returns the
 * number of bytes written (no NUL counted; buf is NUL-terminated), or -1 if
 * cap is too small. */
ssize_t slopn_login_request_format(const struct slopn_login_request *req,
                                   char *buf, size_t cap);
ssize_t slopn_login_response_format(const struct slopn_login_response *resp,
                                    char *buf, size_t cap);

/* Ours, later on the stream (the hub to clients with IPv6, whose original
 * counterparts never get one): the hub's way out changed.
 * {"type":"network","egress6":true} */
struct slopn_network {
	bool egress6;                         /* the hub routes IPv6 on to the internet now */
};
/* Parse one such line: "type" must be "network", egress6 a boolean (false
 * when absent); other fields are ignored. 0, or -1 with the reason in err. */
int slopn_network_parse(const char *line, size_t len, struct slopn_network *out, char *err,
                        size_t errlen);
/* As slopn_login_response_format. */
ssize_t slopn_network_format(const struct slopn_network *n, char *buf, size_t cap);

/* Ours, later on the stream: a link of the hub's narrowed, and the way from
 * this client now takes in UDP packets of at most max_udp_payload bytes; the
 * hub closes the connection next, and the client connects again with
 * packets of that size. An original client ignores it (and finds the size
 * on its own). {"type":"path","max_udp_payload":1272} */
#define SLOPN_PATH_MIN 1200  /* QUIC's least */
#define SLOPN_PATH_MAX 65527 /* QUIC's most */
struct slopn_path {
	unsigned max_udp_payload;
};
/* Parse one such line: "type" must be "path", max_udp_payload an integer
 * of SLOPN_PATH_MIN..SLOPN_PATH_MAX; other fields are ignored. 0, or -1
 * with the reason in err. */
int slopn_path_parse(const char *line, size_t len, struct slopn_path *out, char *err,
                     size_t errlen);
/* As slopn_login_response_format; -1 for a size out of range too. */
ssize_t slopn_path_format(const struct slopn_path *p, char *buf, size_t cap);

/* The "type" of any later JSON line on the stream, copied into type
 * ("" if absent). Returns 0, or -1 if the line is not a JSON object. */
int slopn_msg_type(const char *line, size_t len, char *type, size_t typelen);

#endif
