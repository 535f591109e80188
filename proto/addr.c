#include "proto/addr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int host_port_split(const char *s, const char *default_port, char **host, char **port)
{
	const char *h = s, *colon;
	size_t hlen;
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end)
			return -1;
		h = s + 1;
		hlen = (size_t)(end - h);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return -1;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			return -1; /* bare IPv6 needs brackets */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0 || (colon && colon[1] == '\0'))
		return -1;
	*host = strndup(h, hlen);
	*port = strdup(colon ? colon + 1 : default_port);
	if (!*host || !*port) {
		free(*host), free(*port);
		*host = *port = NULL;
		return -1;
	}
	return 0;
}

int ip_port_parse(const char *s, struct sockaddr_storage *out)
{
	struct sockaddr_in *in = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
	char *h = NULL, *p = NULL;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return 0;
	}
	if (host_port_split(s, "1", &h, &p) < 0)
		return -1;
	int rv = port_parse(p, strlen(p)) > 0 ? 0 : -1;
	/* Brackets hold IPv6 only. */
	if (s[0] == '[' && inet_pton(AF_INET6, h, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	else if (s[0] != '[' && inet_pton(AF_INET, h, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else
		rv = -1;
	free(h);
	free(p);
	if (rv < 0)
		memset(out, 0, sizeof(*out));
	return rv;
}

/* "ADDR/N" split at its slash: ADDR into ip (room for iplen bytes with its
 * NUL), and N as plain decimal of at most maxdigits digits without a
 * leading zero. N, or -1. */
static int cidr_split(const char *s, char *ip, size_t iplen, size_t maxdigits)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	size_t n = slash ? (size_t)(slash - s) : 0;
	if (!slash || n == 0 || n >= iplen)
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	const char *d = slash + 1;
	size_t nd = strspn(d, "0123456789");
	if (nd == 0 || nd > maxdigits || d[nd] != '\0' || (nd > 1 && d[0] == '0'))
		return -1;
	return atoi(d);
}

int port_parse(const char *s, size_t len)
{
	long p = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		p = p * 10 + (s[i] - '0');
		if (p > 65535)
			return -1;
	}
	return len && p ? (int)p : -1;
}

bool host_port_has_port(const char *s)
{
	return s[0] == '[' ? strstr(s, "]:") != NULL : strchr(s, ':') != NULL;
}

int parse_cidr(const char *s, uint32_t *network, unsigned *prefix)
{
	char ip[INET_ADDRSTRLEN];
	int pl = cidr_split(s, ip, sizeof(ip), 2);
	/* inet_pton is strict: four decimal parts, no signs, no spaces, no
	 * leading zeros, none of inet_aton's shorthands. */
	struct in_addr a;
	if (pl < 0 || pl > 32 || inet_pton(AF_INET, ip, &a) != 1)
		return -1;
	uint32_t mask = pl ? ~0u << (32 - pl) : 0; /* a shift by 32 is undefined */
	*network = ntohl(a.s_addr) & mask;
	*prefix = (unsigned)pl;
	return 0;
}

bool addr_same_prefix(const void *a, const void *b, unsigned prefix)
{
	const uint8_t *x = a, *y = b;
	unsigned bytes = prefix / 8, bits = prefix % 8;
	if (memcmp(x, y, bytes))
		return false;
	uint8_t m = (uint8_t)(0xff00 >> bits);
	return !bits || !((x[bytes] ^ y[bytes]) & m);
}

void prefix_set_add(struct prefix_set *s, const void *net, unsigned prefix, size_t alen)
{
	/* Held whole by one there (as wide or wider): nothing to add. One it
	 * holds whole goes: the wider takes its place. */
	unsigned k = 0;
	for (unsigned i = 0; i < s->n; i++) {
		if (s->p[i].prefix <= prefix && addr_same_prefix(net, s->p[i].net, s->p[i].prefix))
			return;
		if (!(prefix <= s->p[i].prefix && addr_same_prefix(s->p[i].net, net, prefix)))
			s->p[k++] = s->p[i];
	}
	s->n = k;
	if (s->n == PREFIX_SET_MAX) {
		s->full = true;
		return;
	}
	memset(s->p[s->n].net, 0, sizeof(s->p[s->n].net));
	memcpy(s->p[s->n].net, net, alen);
	s->p[s->n++].prefix = prefix;
}

void prefix_set_put(struct prefix_set *s, const void *net, unsigned prefix, size_t alen)
{
	uint8_t n[16] = {0};
	memcpy(n, net, alen);
	for (unsigned i = 0; i < s->n; i++)
		if (s->p[i].prefix == prefix && !memcmp(s->p[i].net, n, sizeof(n)))
			return;
	if (s->n == PREFIX_SET_MAX) {
		s->full = true;
		return;
	}
	memcpy(s->p[s->n].net, n, sizeof(n));
	s->p[s->n++].prefix = prefix;
}

int prefix_set_longest(const struct prefix_set *s, const void *addr)
{
	int best = -1;
	for (unsigned i = 0; i < s->n; i++)
		if ((int)s->p[i].prefix > best && addr_same_prefix(addr, s->p[i].net, s->p[i].prefix))
			best = (int)s->p[i].prefix;
	return best;
}

bool prefix_set_holds(const struct prefix_set *s, const void *addr)
{
	for (unsigned i = 0; i < s->n; i++)
		if (addr_same_prefix(addr, s->p[i].net, s->p[i].prefix))
			return true;
	return false;
}

int parse_cidr6(const char *s, struct cidr6 *c)
{
	char ip[INET6_ADDRSTRLEN];
	int pl = cidr_split(s, ip, sizeof(ip), 3);
	if (pl < 0 || pl > 128 || inet_pton(AF_INET6, ip, c->net) != 1)
		return -1;
	c->prefix = (unsigned)pl;
	int set = 0;
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = c->prefix >= 8 * (i + 1) ? 8 : c->prefix > 8 * i ? c->prefix - 8 * i : 0;
		uint8_t mask = (uint8_t)(0xff00 >> keep);
		set |= (c->net[i] & ~mask) != 0;
		c->net[i] &= mask;
	}
	return set;
}

int parse_ban_prefix(const char *s, struct cidr6 *c)
{
	if (parse_cidr6(s, c) < 0 || (c->prefix != 64 && c->prefix != 56 && c->prefix != 48))
		return -1;
	return 0;
}
