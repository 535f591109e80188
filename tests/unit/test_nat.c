/* The nftables ruleset the hub installs for --nat: built as text, checked here. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/natstate.h"
#include "tun/nat.h"
#include "tun/nat_iptables.h"
#include "tun/netlink.h"

static const struct cidr4 allow[] = {{0xc6336400, 24}};       /* 198.51.100.0/24 */
static const struct cidr4 local[] = {{0xc0000200, 24}, {0xcb007100, 30}};

static void full_ruleset(void **state)
{
	(void)state;
	struct nat_rules r = {.tun = "slopn0", .egress = "eth0", .subnet = {0x0a640000, 24},
	                      .spoke_to_spoke = false, .allow = allow, .nallow = 1,
	                      .local = local, .nlocal = 2};
	char buf[4096];
	int n = nat_ruleset(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	/* Replaces a stale table in the same transaction, an older slopnd's ip one too. */
	assert_non_null(strstr(buf, "add table ip slopn_slopn0\ndelete table ip slopn_slopn0\n"
	                            "add table inet slopn_slopn0\ndelete table inet slopn_slopn0\n"
	                            "table inet slopn_slopn0 {\n"));
	assert_non_null(strstr(buf, "iifname \"slopn0\" oifname \"slopn0\" drop\n"));
	assert_non_null(strstr(buf, "iifname \"slopn0\" ip daddr { 198.51.100.0/24 } accept\n"));
	assert_non_null(strstr(buf, "iifname \"slopn0\" ip daddr { 192.0.2.0/24, 203.0.113.0/30 } drop\n"));
	assert_non_null(strstr(buf, "iifname \"slopn0\" oifname \"eth0\" ct state invalid drop\n"
	                            "\t\tiifname \"slopn0\" oifname \"eth0\" meta nfproto ipv4 accept\n"));
	/* No IPv6 inside the tunnel: no IPv6 rule either. */
	assert_null(strstr(buf, "ip6"));
	assert_null(strstr(buf, "nfproto ipv6"));
	assert_non_null(strstr(buf, "oifname \"eth0\" ip saddr { 10.100.0.0/24 } masquerade\n"));
	/* The VPN's subnet, then the allow rule, before the drop of the hub's
	 * networks (private space among them, where the subnet lies). */
	assert_non_null(strstr(buf, "\t\tiifname \"slopn0\" ip daddr { 10.100.0.0/24 } accept\n"
	                            "\t\tiifname \"slopn0\" ip daddr { 198.51.100.0/24 } accept\n"));
	assert_true(strstr(buf, "{ 198.51.100.0/24 } accept") < strstr(buf, "203.0.113.0/30 } drop"));
	/* The hub's own addresses on those networks: the same rules in an
	 * input chain, after the forward chain. */
	const char *in = strstr(buf, "\tchain input {\n\t\ttype filter hook input priority filter; "
	                             "policy accept;\n");
	assert_non_null(in);
	assert_true(strstr(buf, "chain forward") < in);
	assert_non_null(strstr(in, "\t\tiifname \"slopn0\" ip daddr { 198.51.100.0/24 } accept\n"
	                           "\t\tiifname \"slopn0\" ip daddr { 192.0.2.0/24, 203.0.113.0/30 } drop\n"
	                           "\t}\n"));
	assert_null(strstr(buf, "dport 53")); /* no --dns */
	/* A --dns server: its port 53, before the drops, in both chains. */
	static const struct cidr4 dns = {0xc0000235, 32}; /* 192.0.2.53 */
	r.dns = &dns;
	r.ndns = 1;
	assert_true(nat_ruleset(&r, buf, sizeof(buf)) > 0);
	const char *d = "\t\tiifname \"slopn0\" ip daddr { 192.0.2.53/32 } meta l4proto { tcp, udp } th "
	                "dport 53 accept\n\t\tiifname \"slopn0\" ip daddr { 192.0.2.0/24, 203.0.113.0/30 } drop\n";
	const char *d1 = strstr(buf, d);
	assert_non_null(d1);
	assert_true(d1 < strstr(buf, "chain input"));
	assert_non_null(strstr(strstr(buf, "chain input"), d));
	r.ndns = 0;
	/* Spoke-to-spoke on: the kernel may forward client to client. */
	r.spoke_to_spoke = true;
	r.nallow = r.nlocal = 0;
	assert_true(nat_ruleset(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "iifname \"slopn0\" oifname \"slopn0\" accept\n"));
	/* No networks given: only the VPN's own subnet, once in each chain. */
	const char *sub = "iifname \"slopn0\" ip daddr { 10.100.0.0/24 } accept\n";
	const char *first = strstr(buf, sub);
	assert_non_null(first);
	assert_true(first > strstr(buf, "chain forward") && first < strstr(buf, "chain input"));
	assert_true(strstr(first + 1, sub) > strstr(buf, "chain input"));
	size_t sets = 0;
	for (const char *p = buf; (p = strstr(p, "ip daddr {")); p++)
		sets++;
	assert_int_equal(sets, 2);
}

static const struct cidr6 allow6[] = {{{0x20, 0x01, 0x0d, 0xb8, 0, 1}, 48}};
static const struct cidr6 local6[] = {{{0x20, 0x01, 0x0d, 0xb8, 0, 2}, 64}};

static void ipv6_ruleset(void **state)
{
	(void)state;
	struct nat_rules r = {.tun = "slopn0", .egress = "eth0", .subnet = {0x0a640000, 24},
	                      .has6 = true, .egress6 = "wan6",
	                      .subnet6 = {{0xfd, 0x12, 0x34, 0x56, 0x78, 0x9a}, 64},
	                      .allow6 = allow6, .nallow6 = 1, .local6 = local6, .nlocal6 = 1};
	char buf[4096];
	assert_true(nat_ruleset(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "iifname \"slopn0\" ip6 daddr { 2001:db8:1::/48 } accept\n"));
	assert_non_null(strstr(buf, "iifname \"slopn0\" ip6 daddr { 2001:db8:2::/64 } drop\n"));
	assert_non_null(strstr(buf, "iifname \"slopn0\" oifname \"wan6\" meta nfproto ipv6 accept\n"));
	assert_non_null(strstr(buf, "oifname \"slopn0\" ip6 saddr { 2001:db8:1::/48 } accept\n"));
	assert_non_null(strstr(buf, "oifname \"wan6\" ip6 saddr { fd12:3456:789a::/64 } masquerade\n"));
	assert_non_null(strstr(strstr(buf, "chain input"), "iifname \"slopn0\" ip6 daddr { fd12:3456:789a::/64 } accept\n"
	                                                    "\t\tiifname \"slopn0\" ip6 daddr { 2001:db8:1::/48 } accept\n"));
	assert_non_null(strstr(strstr(buf, "chain input"), "iifname \"slopn0\" ip6 daddr { 2001:db8:1::/48 } accept\n"
	                                                    "\t\tiifname \"slopn0\" ip6 daddr { 2001:db8:2::/64 } drop\n"));
	/* An IPv6 --dns server the same way as an IPv4 one. */
	static const struct cidr6 dns6 = {{0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x53}, 128};
	r.dns6 = &dns6;
	r.ndns6 = 1;
	assert_true(nat_ruleset(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(strstr(buf, "chain input"), "iifname \"slopn0\" ip6 daddr { 2001:db8:2::53/128 } meta l4proto { tcp, udp } th dport 53 accept\n"
	                                                    "\t\tiifname \"slopn0\" ip6 daddr { 2001:db8:2::/64 } drop\n"));
	r.ndns6 = 0;
	assert_true(nat_forwards6(&r));
	/* IPv6 that does not leave: no way out, no masquerade, no forwarding
	 * unless a network of the hub's is open. */
	r.egress6 = NULL;
	assert_true(nat_ruleset(&r, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "nfproto ipv6"));
	assert_null(strstr(buf, "ip6 saddr { fd12"));
	assert_true(nat_forwards6(&r));
	r.nallow6 = 0;
	assert_false(nat_forwards6(&r));
	r.has6 = false;
	r.egress6 = "wan6";
	assert_false(nat_forwards6(&r));
	/* A bad IPv6 egress name is refused as the IPv4 one is. */
	r.has6 = true;
	r.egress6 = "wan6\" accept";
	assert_int_equal(nat_ruleset(&r, buf, sizeof(buf)), -1);
	assert_int_equal(ipt_script(&r, 0, buf, sizeof(buf)), -1);
	/* ip6tables for the same. */
	r.egress6 = "wan6";
	r.nallow6 = 1;
	assert_true(ipt_script(&r, 0, buf, sizeof(buf)) > 0);
	static const char *const want[] = {
		"ip6tables -t filter -N SLOPN-slopn0-FWD\n",
		"ip6tables -t filter -A SLOPN-slopn0-FWD -i slopn0 -d 2001:db8:1::/48 -j RETURN\n",
		"ip6tables -t filter -A SLOPN-slopn0-FWD -i slopn0 -d 2001:db8:2::/64 -j DROP\n",
		"ip6tables -t filter -A SLOPN-slopn0-FWD -i slopn0 -o wan6 -j RETURN\n",
		"ip6tables -t filter -A SLOPN-slopn0-FWD -o slopn0 -s 2001:db8:1::/48 -j RETURN\n",
		"ip6tables -t filter -A SLOPN-slopn0-IN -i slopn0 -d 2001:db8:1::/48 -j RETURN\n"
		"ip6tables -t filter -A SLOPN-slopn0-IN -i slopn0 -d 2001:db8:2::/64 -j DROP\n"
		"ip6tables -t filter -I INPUT 1 -j SLOPN-slopn0-IN\n",
		"ip6tables -t nat -A SLOPN-slopn0-NAT -o wan6 -s fd12:3456:789a::/64 -j MASQUERADE\n",
		"iptables -t nat -A SLOPN-slopn0-NAT -o eth0 -s 10.100.0.0/24 -j MASQUERADE\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(buf, want[i]))
			fail_msg("missing: %s", want[i]);
	r.egress6 = NULL;
	assert_true(ipt_script(&r, 0, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "ip6tables -t nat"));
	assert_null(strstr(buf, "-o wan6"));
}

/* The most networks the hub lists (hub_nat.c: 5 private ranges + 256
 * addresses + 256 routes a family) and --allow-lan takes, each as long as it gets, fit
 * NAT_RULES_MAX in both forms. */
static void largest(void **state)
{
	(void)state;
	enum { N = 5 + 256 + 256, A = 32 };
	static struct cidr4 loc[N], al[A];
	static struct cidr6 loc6[N], al6[A];
	for (size_t i = 0; i < N; i++) {
		loc[i] = (struct cidr4){0xfffffff0u - (uint32_t)i, 32};
		memset(loc6[i].net, 0xff, 16);
		loc6[i].net[14] = (uint8_t)(i >> 8);
		loc6[i].net[15] = (uint8_t)i;
		loc6[i].prefix = 128;
	}
	for (size_t i = 0; i < A; i++) {
		al[i] = loc[i];
		al6[i] = loc6[i];
	}
	static const struct cidr4 dns = {0xfffffffeu, 32};
	static struct cidr6 dns6 = {.prefix = 128};
	memset(dns6.net, 0xff, 16);
	struct nat_rules r = {.tun = "abcdefghijklmno", .egress = "abcdefghijklmn0",
	                      .subnet = {0x0a640000, 24}, .allow = al, .nallow = A, .local = loc,
	                      .nlocal = N, .has6 = true, .egress6 = "abcdefghijklmn6",
	                      .subnet6 = {{0xfd, 0x12}, 64}, .allow6 = al6, .nallow6 = A,
	                      .local6 = loc6, .nlocal6 = N, .dns = &dns, .ndns = 1, .dns6 = &dns6,
	                      .ndns6 = 1};
	char *buf = malloc(NAT_RULES_MAX);
	assert_non_null(buf);
	int n = nat_ruleset(&r, buf, NAT_RULES_MAX);
	assert_true(n > 0 && n < NAT_RULES_MAX);
	n = ipt_script(&r, 1, buf, NAT_RULES_MAX);
	assert_true(n > 0 && n < NAT_RULES_MAX);
	free(buf);
}

static void refuses_odd_names_and_small_buffers(void **state)
{
	(void)state;
	char buf[4096];
	struct nat_rules r = {.tun = "slopn0", .egress = "eth0\" accept; #", .subnet = {0x0a640000, 24}};
	assert_int_equal(nat_ruleset(&r, buf, sizeof(buf)), -1);
	r.egress = "";
	assert_int_equal(nat_ruleset(&r, buf, sizeof(buf)), -1);
	r.egress = "averyveryverylongname";
	assert_int_equal(nat_ruleset(&r, buf, sizeof(buf)), -1);
	r.egress = "eth0";
	int n = nat_ruleset(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(nat_ruleset(&r, buf, (size_t)n), -1); /* no room for the NUL */
	assert_int_equal(nat_ruleset(&r, buf, 10), -1);
}

static void table_names(void **state)
{
	(void)state;
	char t[NFT_TABLE_NAME_MAX], u[NFT_TABLE_NAME_MAX];
	nat_table_name("slopn0", t, sizeof(t));
	assert_string_equal(t, "slopn_slopn0");
	nat_table_name("vpn-1.x", t, sizeof(t));
	assert_string_equal(t, "slopn_vpn_2d1_2ex");
	/* TUN names that differ only where nft takes no character get tables of their own. */
	const char *alike[] = {"a-b", "a.b", "a_b", "a@b", "a+b", "a_2db"};
	for (size_t i = 0; i < sizeof(alike) / sizeof(alike[0]); i++)
		for (size_t j = 0; j < i; j++) {
			nat_table_name(alike[i], t, sizeof(t));
			nat_table_name(alike[j], u, sizeof(u));
			assert_string_not_equal(t, u);
		}
	/* The rules for such a name replace the table an older slopnd named '_' for each. */
	struct nat_rules r = {.tun = "vpn-1", .egress = "eth0", .subnet = {0x0a640000, 24}};
	char buf[4096];
	assert_true(nat_ruleset(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "add table inet slopn_vpn_2d1\ndelete table inet slopn_vpn_2d1\n"
	                            "add table ip slopn_vpn_1\ndelete table ip slopn_vpn_1\n"
	                            "add table inet slopn_vpn_1\ndelete table inet slopn_vpn_1\n"
	                            "table inet slopn_vpn_2d1 {\n"));
	assert_non_null(strstr(buf, "iifname \"vpn-1\" oifname \"vpn-1\" drop\n"));
	/* The longest name, every character escaped, fits. */
	nat_table_name("...............", t, sizeof(t));
	assert_int_equal(strlen(t), strlen("slopn_") + 15 * 3);
}

static void iptables_form(void **state)
{
	(void)state;
	struct nat_rules r = {.tun = "slopn0", .egress = "eth0", .subnet = {0x0a640000, 24},
	                      .spoke_to_spoke = false, .allow = allow, .nallow = 1,
	                      .local = local, .nlocal = 2};
	char buf[4096];
	/* A '+' is iptables' wildcard: 'vpn+' would be every vpn* interface. */
	struct nat_rules plus = r;
	plus.tun = "vpn+";
	assert_int_equal(ipt_script(&plus, 0, buf, sizeof(buf)), -1);
	plus.tun = "slopn0", plus.egress = "eth+";
	assert_int_equal(ipt_script(&plus, 0, buf, sizeof(buf)), -1);
	int n = ipt_script(&r, 0, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	static const char *const want[] = {
		"iptables -t filter -N SLOPN-slopn0-FWD\n",
		"iptables -t filter -A SLOPN-slopn0-FWD -i slopn0 -o slopn0 -j DROP\n",
		"iptables -t filter -A SLOPN-slopn0-FWD -i slopn0 -d 198.51.100.0/24 -j RETURN\n",
		"iptables -t filter -A SLOPN-slopn0-FWD -i slopn0 -d 203.0.113.0/30 -j DROP\n",
		/* What conntrack would not masquerade, dropped before it leaves. */
		"iptables -t filter -A SLOPN-slopn0-FWD -i slopn0 -o eth0 -m conntrack --ctstate INVALID -j DROP\n"
		"iptables -t filter -A SLOPN-slopn0-FWD -i slopn0 -o eth0 -j RETURN\n",
		"iptables -t filter -A SLOPN-slopn0-FWD -o slopn0 -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN\n",
		"iptables -t filter -I FORWARD 1 -j SLOPN-slopn0-FWD\n",
		/* The hub's own addresses there, from INPUT. */
		"iptables -t filter -N SLOPN-slopn0-IN\n"
		"iptables -t filter -A SLOPN-slopn0-IN -i slopn0 -d 10.100.0.0/24 -j RETURN\n"
		"iptables -t filter -A SLOPN-slopn0-IN -i slopn0 -d 198.51.100.0/24 -j RETURN\n"
		"iptables -t filter -A SLOPN-slopn0-IN -i slopn0 -d 192.0.2.0/24 -j DROP\n"
		"iptables -t filter -A SLOPN-slopn0-IN -i slopn0 -d 203.0.113.0/30 -j DROP\n"
		"iptables -t filter -I INPUT 1 -j SLOPN-slopn0-IN\n",
		"iptables -t nat -A SLOPN-slopn0-NAT -o eth0 -s 10.100.0.0/24 -j MASQUERADE\n",
		"iptables -t nat -I POSTROUTING 1 -j SLOPN-slopn0-NAT\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(buf, want[i]))
			fail_msg("missing: %s", want[i]);
	assert_null(strstr(buf, "ip6tables")); /* no IPv6 inside the tunnel */
	/* A renewal's chains: the other name, the same rules. */
	char again[4096];
	assert_true(ipt_script(&r, 1, again, sizeof(again)) > n);
	assert_non_null(strstr(again, "iptables -t filter -I FORWARD 1 -j SLOPN-slopn0-FWD2\n"));
	assert_non_null(strstr(again, "iptables -t nat -I POSTROUTING 1 -j SLOPN-slopn0-NAT2\n"));
	assert_non_null(strstr(again, "iptables -t filter -I INPUT 1 -j SLOPN-slopn0-IN2\n"));
	for (char *p; (p = strstr(again, "FWD2")) || (p = strstr(again, "NAT2"));)
		memmove(p + 3, p + 4, strlen(p + 4) + 1);
	for (char *p; (p = strstr(again, "-IN2"));)
		memmove(p + 3, p + 4, strlen(p + 4) + 1);
	assert_string_equal(again, buf);
	/* A --dns server: its port 53 before the drops, in both chains. */
	static const struct cidr4 dns = {0xc0000235, 32};
	r.dns = &dns;
	r.ndns = 1;
	assert_true(ipt_script(&r, 0, buf, sizeof(buf)) > 0);
	static const char *const want_dns[] = {
		"iptables -t filter -A SLOPN-slopn0-FWD -i slopn0 -d 192.0.2.53/32 -p udp --dport 53 -j RETURN\n"
		"iptables -t filter -A SLOPN-slopn0-FWD -i slopn0 -d 192.0.2.53/32 -p tcp --dport 53 -j RETURN\n"
		"iptables -t filter -A SLOPN-slopn0-FWD -i slopn0 -d 192.0.2.0/24 -j DROP\n",
		"iptables -t filter -A SLOPN-slopn0-IN -i slopn0 -d 192.0.2.53/32 -p udp --dport 53 -j RETURN\n"
		"iptables -t filter -A SLOPN-slopn0-IN -i slopn0 -d 192.0.2.53/32 -p tcp --dport 53 -j RETURN\n"
		"iptables -t filter -A SLOPN-slopn0-IN -i slopn0 -d 192.0.2.0/24 -j DROP\n",
	};
	for (size_t i = 0; i < sizeof(want_dns) / sizeof(want_dns[0]); i++)
		if (!strstr(buf, want_dns[i]))
			fail_msg("missing: %s", want_dns[i]);
	r.ndns = 0;
	/* The same guards as the nft form. */
	r.egress = "eth0 -j ACCEPT";
	assert_int_equal(ipt_script(&r, 0, buf, sizeof(buf)), -1);
	r.egress = "eth0";
	assert_int_equal(ipt_script(&r, 0, buf, 64), -1);
}

/* An IPv4 route to A.B.C.D/prefix, judged with the TUN at ifindex 9. */
static bool closes4(int ifindex, uint8_t a, uint8_t b, uint8_t c, uint8_t d, unsigned prefix,
                    bool via)
{
	struct nl_route r = {.ifindex = ifindex, .dst = {a, b, c, d}, .prefix = prefix, .via = via};
	return nat_route_closes(&r, 9, false);
}

/* Which routes lead to the hub's own networks (TUN ifindex 9). */
static void routes_that_close(void **state)
{
	(void)state;
	/* Without a gateway: a LAN beside the hub, public or private. */
	assert_true(closes4(2, 203, 0, 113, 64, 27, false));
	assert_true(closes4(2, 10, 128, 0, 1, 32, false));
	assert_true(closes4(0, 198, 51, 100, 0, 24, false));
	/* Private space behind a gateway. */
	assert_true(closes4(2, 10, 200, 0, 0, 16, true));
	assert_true(closes4(2, 10, 0, 0, 0, 8, true));
	assert_true(closes4(2, 172, 16, 0, 0, 12, true));
	assert_true(closes4(2, 172, 31, 5, 0, 24, true));
	assert_true(closes4(2, 192, 168, 7, 0, 24, true));
	assert_true(closes4(2, 100, 64, 0, 0, 10, true));
	assert_true(closes4(2, 100, 127, 1, 0, 24, true));
	/* Public space behind a gateway: reached as the internet is. */
	assert_false(closes4(2, 203, 0, 113, 128, 25, true));
	assert_false(closes4(2, 172, 32, 0, 0, 16, true));
	assert_false(closes4(2, 100, 128, 0, 0, 16, true));
	assert_false(closes4(2, 11, 0, 0, 0, 8, true));
	/* Ways out: default routes and full-tunnel halves, on-link or not. */
	assert_false(closes4(2, 0, 0, 0, 0, 0, true));
	assert_false(closes4(3, 0, 0, 0, 0, 0, false));
	assert_false(closes4(3, 0, 0, 0, 0, 1, false));
	assert_false(closes4(3, 128, 0, 0, 0, 1, false));
	assert_false(closes4(3, 64, 0, 0, 0, 2, false));
	/* The TUN's own, and loopback. */
	assert_false(closes4(9, 10, 100, 0, 0, 24, false));
	assert_false(closes4(1, 127, 0, 0, 0, 8, false));

	struct nl_route r6 = {.ifindex = 2, .dst = {0x20, 0x01, 0x0d, 0xb8, 0, 5}, .prefix = 64};
	assert_true(nat_route_closes(&r6, 9, true)); /* on-link */
	r6.via = true;
	assert_false(nat_route_closes(&r6, 9, true)); /* public, behind a gateway */
	r6.dst[0] = 0xfd, r6.dst[1] = 0x12;
	assert_true(nat_route_closes(&r6, 9, true)); /* ULA behind a gateway */
	r6.dst[0] = 0xfc, r6.prefix = 7;
	assert_false(nat_route_closes(&r6, 9, true)); /* shorter than /16 */
	r6 = (struct nl_route){.ifindex = 2, .dst = {0xfe, 0x80}, .prefix = 64};
	assert_false(nat_route_closes(&r6, 9, true)); /* link-local */
	r6 = (struct nl_route){.ifindex = 3, .dst = {0x20}, .prefix = 3};
	assert_false(nat_route_closes(&r6, 9, true)); /* another VPN's 2000::/3 */
	r6 = (struct nl_route){.ifindex = 9, .dst = {0xfd, 0x12}, .prefix = 64};
	assert_false(nat_route_closes(&r6, 9, true)); /* the TUN's */
}

/* Which routes are a client's networks that a VPN subnet (here
 * 198.51.100.0/29, TUN ifindex 9) may not lie in. */
static void lans_that_hold(void **state)
{
	(void)state;
	const uint8_t vip[4] = {198, 51, 100, 2}, vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 2};
	struct nl_route r = {.ifindex = 2, .dst = {198, 51, 100, 0}, .prefix = 24};
	assert_true(nl_route_lan_holds(&r, AF_INET, vip, 29, 9));    /* the LAN /24 holds it */
	r.prefix = 29;
	assert_true(nl_route_lan_holds(&r, AF_INET, vip, 29, 9));    /* the same network */
	r.prefix = 30;
	assert_false(nl_route_lan_holds(&r, AF_INET, vip, 29, 9));   /* smaller: its route wins */
	r = (struct nl_route){.ifindex = 2, .dst = {198, 51, 100, 128}, .prefix = 25};
	assert_false(nl_route_lan_holds(&r, AF_INET, vip, 29, 9));   /* beside it */
	r = (struct nl_route){.ifindex = 2, .dst = {198, 51, 0, 0}, .prefix = 16, .via = true};
	assert_false(nl_route_lan_holds(&r, AF_INET, vip, 29, 9));   /* behind a router */
	r = (struct nl_route){.ifindex = 2, .prefix = 0};
	assert_false(nl_route_lan_holds(&r, AF_INET, vip, 29, 9));   /* a way out, on-link */
	r = (struct nl_route){.ifindex = 9, .dst = {198, 51, 100, 0}, .prefix = 24};
	assert_false(nl_route_lan_holds(&r, AF_INET, vip, 29, 9));   /* the TUN's own */
	r.ifindex = 0;
	assert_false(nl_route_lan_holds(&r, AF_INET, vip, 29, 9));   /* next hops */
	r = (struct nl_route){.ifindex = 3, .dst = {0x20, 0x01, 0x0d, 0xb8, 0, 5}, .prefix = 64};
	assert_true(nl_route_lan_holds(&r, AF_INET6, vip6, 64, 9));
	r.dst[5] = 6;
	assert_false(nl_route_lan_holds(&r, AF_INET6, vip6, 64, 9));
}

static void minimal_lists(void **state)
{
	(void)state;
	struct cidr4 c[] = {
		{0xa9fe0000, 16},  /* 169.254.0.0/16 */
		{0xc0000200, 24},  /* 192.0.2.0/24 */
		{0xc0000205, 32},  /* 192.0.2.5, inside it */
		{0x0ac80000, 16},  /* 10.200.0.0/16 */
		{0xc0000200, 24},  /* the same again */
		{0x0a000000, 8},   /* 10.0.0.0/8, holding 10.200/16 */
		{0xcb007140, 27},  /* 203.0.113.64/27 */
	};
	size_t n = nat_minimal4(c, sizeof(c) / sizeof(c[0]));
	assert_int_equal(n, 4);
	assert_int_equal(c[0].net, 0xa9fe0000);
	assert_int_equal(c[1].net, 0xc0000200);
	assert_int_equal(c[1].prefix, 24);
	assert_int_equal(c[2].net, 0x0a000000);
	assert_int_equal(c[3].net, 0xcb007140);
	/* A /0 holds everything. */
	struct cidr4 all[] = {{0xc0000200, 24}, {0, 0}};
	assert_int_equal(nat_minimal4(all, 2), 1);
	assert_int_equal(all[0].prefix, 0);
	assert_int_equal(nat_minimal4(all, 0), 0);

	struct cidr6 c6[] = {
		{{0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128},
		{{0x20, 0x01, 0x0d, 0xb8, 0, 2}, 64},
		{{0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54}, 128},
		{{0x20, 0x01, 0x0d, 0xb8, 0, 2}, 64},
		{{0x20, 0x01, 0x0d, 0xb8, 0, 3}, 64},
	};
	n = nat_minimal6(c6, 5);
	assert_int_equal(n, 3);
	assert_int_equal(c6[0].prefix, 64);
	assert_int_equal(c6[0].net[5], 2);
	assert_int_equal(c6[1].net[0], 0xfd);
	assert_int_equal(c6[2].net[5], 3);
}

/* The state file's values ride on the masquerade rule, for another hub
 * (its lines ended by '/'); values that make no such file give none. */
static void before_in_comment(void **state)
{
	(void)state;
	struct natstate st = {0, 0, 1, 1, "wan6"};
	struct nat_rules r = {.tun = "slopn0", .egress = "eth0", .subnet = {0x0a640000, 24},
	                      .before = &st};
	char buf[4096];
	assert_true(nat_ruleset(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "oifname \"eth0\" ip saddr { 10.100.0.0/24 } masquerade comment "
	                            "\"slopn sysctls before: 0/0/1/wan6 1/\"\n"));
	st = (struct natstate){1, -1, 0, -1, ""};
	assert_true(nat_ruleset(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "masquerade comment \"slopn sysctls before: 1/-/0/\"\n"));
	st.fwd4 = -1;
	assert_true(nat_ruleset(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "ip saddr { 10.100.0.0/24 } masquerade\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_ruleset),
		cmocka_unit_test(before_in_comment),
		cmocka_unit_test(ipv6_ruleset),
		cmocka_unit_test(largest),
		cmocka_unit_test(refuses_odd_names_and_small_buffers),
		cmocka_unit_test(table_names),
		cmocka_unit_test(iptables_form),
		cmocka_unit_test(routes_that_close),
		cmocka_unit_test(lans_that_hold),
		cmocka_unit_test(minimal_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
