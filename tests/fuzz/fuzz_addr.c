/* libFuzzer: addresses in settings and in bans.remove, the input as one string. What parses
 * must, written back the usual way, parse to the same: HOST:PORT joined
 * (bracketed where it must be), A.B.C.D/N and ADDR/N from inet_ntop. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/addr.h"
#include "tests/fuzz/fuzz_util.h"

static void host_port(const char *s)
{
	char *h, *p, *h2, *p2;
	if (host_port_split(s, "4242", &h, &p) < 0)
		return;
	if (!*h || !*p)
		abort();
	/* Brackets when the host has a ':' or starts with '[', or the port has
	 * a ':' (only a bracketed form keeps one). */
	int br = strchr(h, ':') || h[0] == '[' || strchr(p, ':');
	char *joined;
	if (asprintf(&joined, br ? "[%s]:%s" : "%s:%s", h, p) < 0)
		abort();
	if (host_port_split(joined, "4242", &h2, &p2) < 0 || strcmp(h, h2) || strcmp(p, p2))
		abort();
	free(joined), free(h), free(p), free(h2), free(p2);
}

static void cidr4(const char *s)
{
	uint32_t net, net2;
	unsigned pl, pl2;
	if (parse_cidr(s, &net, &pl) < 0)
		return;
	if (pl > 32 || (pl < 32 && net << pl)) /* host bits cleared */
		abort();
	char a[INET_ADDRSTRLEN], back[INET_ADDRSTRLEN + 4];
	struct in_addr in = {htonl(net)};
	snprintf(back, sizeof(back), "%s/%u", inet_ntop(AF_INET, &in, a, sizeof(a)), pl);
	if (parse_cidr(back, &net2, &pl2) < 0 || net2 != net || pl2 != pl)
		abort();
}

static void cidr6(const char *s)
{
	struct cidr6 c, c2;
	int rv = parse_cidr6(s, &c);
	if (rv < 0)
		return;
	if (rv > 1 || c.prefix > 128)
		abort();
	char a[INET6_ADDRSTRLEN], back[INET6_ADDRSTRLEN + 4];
	snprintf(back, sizeof(back), "%s/%u", inet_ntop(AF_INET6, c.net, a, sizeof(a)), c.prefix);
	/* The network as parsed has no host bits: 0 this time. */
	if (parse_cidr6(back, &c2) != 0 || memcmp(c.net, c2.net, 16) || c2.prefix != c.prefix)
		abort();
}

/* An address that parses, written back by inet_ntop, is the same one. */
static void ip_port(const char *s)
{
	struct sockaddr_storage ss, ss2;
	if (ip_port_parse(s, &ss) < 0)
		return;
	char a[INET6_ADDRSTRLEN];
	const void *bits = ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
	                 : ss.ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
	                 : NULL;
	if (!bits || !inet_ntop(ss.ss_family, bits, a, sizeof(a)) || ip_port_parse(a, &ss2) < 0 ||
	    memcmp(&ss, &ss2, sizeof(ss)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	if (!s)
		return 0;
	host_port(s);
	cidr4(s);
	cidr6(s);
	ip_port(s);
	/* A port is 1..65535, and written back it is the same port. */
	int p = port_parse(s, size), p2;
	char back[8];
	if (p != -1 && (p < 1 || p > 65535 || (p2 = port_parse(back, (size_t)snprintf(back, sizeof(back), "%d", p))) != p))
		abort();
	free(s);
	return 0;
}
