#include "tun/killswitch.h"
#include "proto/nftcounter.h"
#include "proto/nftnat.h"
#include "tun/nat.h"
#include "tun/nft.h"
#include "tun/outbuf.h"
#include "tun/tun.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KS_PREFIX "slopnks_"

void killswitch_table_name(const char *tun, char *buf, size_t len)
{
	nft_table_name(KS_PREFIX, tun, buf, len);
}

/* The hub's addresses at its port, and the --allow-lan networks: let out
 * by both chains. False for an address of neither family. */
static bool put_allowed(struct outbuf *o, const struct killswitch_rules *r)
{
	for (size_t i = 0; i < r->nhubs; i++) {
		char a[INET6_ADDRSTRLEN];
		const struct sockaddr_storage *h = &r->hubs[i];
		if (h->ss_family == AF_INET) {
			const struct sockaddr_in *s = (const void *)h;
			outbuf_printf(o, "\t\tip daddr %s udp dport %u accept\n",
			              inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a)), ntohs(s->sin_port));
		} else if (h->ss_family == AF_INET6) {
			const struct sockaddr_in6 *s = (const void *)h;
			outbuf_printf(o, "\t\tip6 daddr %s udp dport %u accept\n",
			              inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a)), ntohs(s->sin6_port));
		} else {
			return false;
		}
	}
	if (r->nallow) {
		outbuf_printf(o, "\t\tip daddr ");
		nat_put_set(o, r->allow, NULL, r->nallow);
		outbuf_printf(o, " accept\n");
	}
	if (r->nallow6) {
		outbuf_printf(o, "\t\tip6 daddr ");
		nat_put_set(o, NULL, r->allow6, r->nallow6);
		outbuf_printf(o, " accept\n");
	}
	return true;
}

int killswitch_ruleset(const struct killswitch_rules *r, char *buf, size_t len)
{
	if (!nat_ifname_ok(r->tun) || len == 0 || r->nhubs > KILLSWITCH_MAX_HUBS)
		return -1;
	char t[NFT_TABLE_NAME_MAX];
	killswitch_table_name(r->tun, t, sizeof(t));
	struct outbuf o = {buf, len, 0, false};
	outbuf_printf(&o, "add table inet %s\ndelete table inet %s\n", t, t);
	char old[NFT_TABLE_NAME_MAX];
	if (nft_table_name_old(KS_PREFIX, r->tun, old, sizeof(old)))
		outbuf_printf(&o, "add table inet %s\ndelete table inet %s\n", old, old);
	outbuf_printf(&o, "table inet %s {\n\tcounter dropped {\n\t}\n", t);
	outbuf_printf(&o, "\tchain output {\n"
	                  "\t\ttype filter hook output priority filter; policy accept;\n"
	                  "\t\toifname \"lo\" accept\n"
	                  "\t\toifname \"%s\" accept\n", r->tun);
	if (!put_allowed(&o, r))
		return -1;
	if (r->dns)
		outbuf_printf(&o, "\t\tmeta mark 0x%08x meta l4proto { tcp, udp } th dport 53 accept\n",
		              KILLSWITCH_DNS_MARK);
	/* A link coming up, or a new network after a move: DHCP and DHCPv6,
	 * and IPv6's neighbour discovery and MLD (to global addresses too).
	 * Not any link-local traffic: a router's fe80:: DNS server, mDNS and
	 * LLMNR would ask other programs' names outside the tunnel. */
	outbuf_printf(&o, "\t\tudp sport 68 udp dport 67 accept\n"
	                  "\t\tip6 daddr { fe80::/10, ff02::/16 } udp sport 546 udp dport 547 accept\n"
	                  "\t\tip6 daddr { fe80::/10, ff02::/16 } meta l4proto ipv6-icmp accept\n"
	                  "\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, "
	                  "nd-neighbor-advert } accept\n"
	                  "\t\tcounter name \"dropped\" drop\n"
	                  "\t}\n");
	/* What this machine routes for others (containers, VMs behind a NAT
	 * of its own) leaves the same ways: into the TUN, to the hub, to the
	 * --allow-lan networks. Packets in the answer direction of a
	 * connection pass: they only come back in to what was let out (or to
	 * what was reached from outside: its original direction was let through). */
	outbuf_printf(&o, "\tchain forward {\n"
	                  "\t\ttype filter hook forward priority filter; policy accept;\n"
	                  "\t\toifname \"%s\" accept\n"
	                  "\t\tct direction reply accept\n", r->tun);
	put_allowed(&o, r);
	outbuf_printf(&o, "\t\tcounter name \"dropped\" drop\n"
	                  "\t}\n}\n");
	return o.full ? -1 : (int)o.used;
}

bool killswitch_resolver_is_stub(const struct sockaddr_storage *servers, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct sockaddr_in *s = (const void *)&servers[i];
		uint32_t a = ntohl(s->sin_addr.s_addr);
		if (s->sin_family != AF_INET || (a != 0x7f000035 && a != 0x7f000036))
			return false;
	}
	return n > 0;
}

int killswitch_apply(const struct killswitch_rules *r, char *err, size_t errlen)
{
	char rules[KILLSWITCH_RULES_MAX];
	if (killswitch_ruleset(r, rules, sizeof(rules)) < 0) {
		snprintf(err, errlen, "cannot build the rules (TUN '%s' has an unusual name)", r->tun);
		return -1;
	}
	return nft_run(rules, err, errlen);
}

bool killswitch_remove(const char *tun)
{
	char t[NFT_TABLE_NAME_MAX], cmd[160];
	killswitch_table_name(tun, t, sizeof(t));
	snprintf(cmd, sizeof(cmd), "delete table inet %s", t);
	bool removed = nft_run(cmd, NULL, 0) == 0;
	if (nft_table_name_old(KS_PREFIX, tun, t, sizeof(t))) {
		snprintf(cmd, sizeof(cmd), "delete table inet %s", t);
		removed = (nft_run(cmd, NULL, 0) == 0) || removed;
	}
	return removed;
}

bool killswitch_exists(const char *tun)
{
	char t[NFT_TABLE_NAME_MAX];
	killswitch_table_name(tun, t, sizeof(t));
	return nft_table_exists("inet", t);
}

int killswitch_rule_count(const char *tun)
{
	char t[NFT_TABLE_NAME_MAX];
	killswitch_table_name(tun, t, sizeof(t));
	return nft_table_rule_count("inet", t);
}

int killswitch_dropped(const char *tun, uint64_t *pkts, uint64_t *bytes)
{
	char t[NFT_TABLE_NAME_MAX], cmd[160];
	killswitch_table_name(tun, t, sizeof(t));
	snprintf(cmd, sizeof(cmd), "list counter inet %s dropped", t);
	char *out = nft_json(cmd);
	int rv = out ? nft_counter_parse(out, strlen(out), pkts, bytes) : -1;
	free(out);
	return rv;
}

struct other {
	const char *own;
	char *tun;
	size_t len;
};

static bool held_elsewhere(const char *table, void *ctx)
{
	struct other *o = ctx;
	char tun[IFNAMSIZ];
	if (!nft_table_tun(KS_PREFIX, table, tun, sizeof(tun)) || !strcmp(tun, o->own) || !tun_held(tun))
		return false;
	snprintf(o->tun, o->len, "%s", tun);
	return true;
}

bool killswitch_other(const char *tun, char *other, size_t len)
{
	char *out = nft_json("list tables");
	struct other o = {.own = tun, .tun = other, .len = len};
	bool found = out && nft_tables_each(out, strlen(out), "inet", held_elsewhere, &o) == 1;
	free(out);
	return found;
}
