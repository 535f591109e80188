/* The nftables ruleset the hub installs for --nat: built as text, checked here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tun/nat.h"
#include "tun/nat_iptables.h"

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
	assert_non_null(strstr(buf, "iifname \"slopn0\" oifname \"eth0\" meta nfproto ipv4 accept\n"));
	/* No IPv6 inside the tunnel: no IPv6 rule either. */
	assert_null(strstr(buf, "ip6"));
	assert_null(strstr(buf, "nfproto ipv6"));
	assert_non_null(strstr(buf, "oifname \"eth0\" ip saddr { 10.100.0.0/24 } masquerade\n"));
	/* The allow rule comes before the drop of the hub's networks. */
	assert_true(strstr(buf, "{ 198.51.100.0/24 } accept") < strstr(buf, "203.0.113.0/30 } drop"));
	/* Spoke-to-spoke on: the kernel may forward client to client. */
	r.spoke_to_spoke = true;
	r.nallow = r.nlocal = 0;
	assert_true(nat_ruleset(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "iifname \"slopn0\" oifname \"slopn0\" accept\n"));
	assert_null(strstr(buf, "ip daddr {"));
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
		"ip6tables -t filter -A SLOPN-slopn0-FWD -i slopn0 -d 2001:db8:1::/48 -j ACCEPT\n",
		"ip6tables -t filter -A SLOPN-slopn0-FWD -i slopn0 -d 2001:db8:2::/64 -j DROP\n",
		"ip6tables -t filter -A SLOPN-slopn0-FWD -i slopn0 -o wan6 -j ACCEPT\n",
		"ip6tables -t filter -A SLOPN-slopn0-FWD -o slopn0 -s 2001:db8:1::/48 -j ACCEPT\n",
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
	char t[32];
	nat_table_name("slopn0", t, sizeof(t));
	assert_string_equal(t, "slopn_slopn0");
	nat_table_name("vpn-1.x", t, sizeof(t));
	assert_string_equal(t, "slopn_vpn_1_x");
}

static void iptables_form(void **state)
{
	(void)state;
	struct nat_rules r = {.tun = "slopn0", .egress = "eth0", .subnet = {0x0a640000, 24},
	                      .spoke_to_spoke = false, .allow = allow, .nallow = 1,
	                      .local = local, .nlocal = 2};
	char buf[4096];
	int n = ipt_script(&r, 0, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	static const char *const want[] = {
		"iptables -t filter -N SLOPN-slopn0-FWD\n",
		"iptables -t filter -A SLOPN-slopn0-FWD -i slopn0 -o slopn0 -j DROP\n",
		"iptables -t filter -A SLOPN-slopn0-FWD -i slopn0 -d 198.51.100.0/24 -j ACCEPT\n",
		"iptables -t filter -A SLOPN-slopn0-FWD -i slopn0 -d 203.0.113.0/30 -j DROP\n",
		"iptables -t filter -A SLOPN-slopn0-FWD -i slopn0 -o eth0 -j ACCEPT\n",
		"iptables -t filter -A SLOPN-slopn0-FWD -o slopn0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n",
		"iptables -t filter -I FORWARD 1 -j SLOPN-slopn0-FWD\n",
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
	for (char *p; (p = strstr(again, "FWD2")) || (p = strstr(again, "NAT2"));)
		memmove(p + 3, p + 4, strlen(p + 4) + 1);
	assert_string_equal(again, buf);
	/* The same guards as the nft form. */
	r.egress = "eth0 -j ACCEPT";
	assert_int_equal(ipt_script(&r, 0, buf, sizeof(buf)), -1);
	r.egress = "eth0";
	assert_int_equal(ipt_script(&r, 0, buf, 64), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_ruleset),
		cmocka_unit_test(ipv6_ruleset),
		cmocka_unit_test(refuses_odd_names_and_small_buffers),
		cmocka_unit_test(table_names),
		cmocka_unit_test(iptables_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
