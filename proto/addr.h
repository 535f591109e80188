/* Addresses as they are written in settings, on the command line and in
 * the config file: HOST[:PORT] and IPv4 and IPv6 networks as ADDR/N. Pure,
 * so that the strings a user typed are parsed by code that is unit-tested
 * and fuzzed; the daemon decides what each setting accepts. */
#ifndef SLOPN_PROTO_ADDR_H
#define SLOPN_PROTO_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cidr6 {
	uint8_t net[16];        /* host bits zero */
	unsigned prefix;
};

/* Split "HOST:PORT", "[V6]:PORT", "HOST" or "[V6]"; a missing port gives
 * default_port. A bare IPv6 address needs its brackets. The port is not
 * judged here: any non-empty text. host and port are malloc'd. 0 or -1. */
int host_port_split(const char *s, const char *default_port, char **host, char **port);

/* The len bytes at s as a port: decimal digits only (no sign, no space;
 * leading zeros allowed), 1..65535. The port, or -1. */
int port_parse(const char *s, size_t len);

/* Whether s names its port ("HOST:PORT", "[V6]:PORT"), for settings whose
 * port defaults to something else than default_port would give. */
bool host_port_has_port(const char *s);

/* An IP address as text, with a port or without: "192.0.2.7",
 * "192.0.2.7:4242", "2001:db8::7", "[2001:db8::7]", "[2001:db8::7]:4242"
 * (as sessions list shows a client). The address into *out (port 0),
 * 0; or -1. */
int ip_port_parse(const char *s, struct sockaddr_storage *out);

/* An IPv6 prefix a ban can cover, as bans list shows it: "ADDR/64",
 * "/56" or "/48" (parse_cidr6's form). 0, or -1. */
int parse_ban_prefix(const char *s, struct cidr6 *c);

/* "A.B.C.D/N" into network (host order, host bits cleared) and prefix:
 * inet_pton's strict dotted quad, N 0..32 in plain decimal. 0 or -1. */
int parse_cidr(const char *s, uint32_t *network, unsigned *prefix);

/* "ADDR/N" for IPv6, N 0..128 in plain decimal. 0, or -1; 1 when host
 * bits were set: c->net then holds the network as it should have been
 * written. */
int parse_cidr6(const char *s, struct cidr6 *c);

/* Whether addresses a and b (network order, 4 or 16 bytes, at least
 * prefix / 8 + 1 of them unless prefix is a multiple of 8) share their
 * first prefix bits. */
bool addr_same_prefix(const void *a, const void *b, unsigned prefix);

/* A short list of networks of one family (4 or 16 bytes, network order),
 * scanned whole for each packet: the client's LANs and addresses, which no
 * packet from its hub may come from. */
#define PREFIX_SET_MAX 32
struct prefix_set {
	unsigned n;
	bool full;              /* a network was left out for want of room */
	struct {
		uint8_t net[16];
		unsigned prefix;
	} p[PREFIX_SET_MAX];
};
/* Add net/prefix (of alen bytes, 4 or 16; prefix at most alen * 8) unless
 * a network in s holds it already; with no room, it is left out and s->full
 * set. */
void prefix_set_add(struct prefix_set *s, const void *net, unsigned prefix, size_t alen);
/* Add net/prefix as it is, whatever in s holds it (only the same network
 * twice is one): for prefix_set_longest. With no room, s->full. */
void prefix_set_put(struct prefix_set *s, const void *net, unsigned prefix, size_t alen);
/* Whether a network in s holds addr. */
bool prefix_set_holds(const struct prefix_set *s, const void *addr);
/* The longest prefix of a network in s that holds addr; -1 when none. */
int prefix_set_longest(const struct prefix_set *s, const void *addr);

#endif
