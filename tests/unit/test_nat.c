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
	/* Replaces a stale table in the same transaction. */
	assert_non_null(strstr(buf, "add table ip slopn_slopn0\ndelete table ip slopn_slopn0\n"));
	assert_non_null(strstr(buf, "iifname \"slopn0\" oifname \"slopn0\" drop\n"));
	assert_non_null(strstr(buf, "iifname \"slopn0\" ip daddr { 198.51.100.0/24 } accept\n"));
	assert_non_null(strstr(buf, "iifname \"slopn0\" ip daddr { 192.0.2.0/24, 203.0.113.0/30 } drop\n"));
	assert_non_null(strstr(buf, "iifname \"slopn0\" oifname \"eth0\" accept\n"));
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
	int n = ipt_script(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	static const char *const want[] = {
		"-t filter -N SLOPN-slopn0-FWD\n",
		"-t filter -A SLOPN-slopn0-FWD -i slopn0 -o slopn0 -j DROP\n",
		"-t filter -A SLOPN-slopn0-FWD -i slopn0 -d 198.51.100.0/24 -j ACCEPT\n",
		"-t filter -A SLOPN-slopn0-FWD -i slopn0 -d 203.0.113.0/30 -j DROP\n",
		"-t filter -A SLOPN-slopn0-FWD -i slopn0 -o eth0 -j ACCEPT\n",
		"-t filter -A SLOPN-slopn0-FWD -o slopn0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n",
		"-t filter -I FORWARD 1 -j SLOPN-slopn0-FWD\n",
		"-t nat -A SLOPN-slopn0-NAT -o eth0 -s 10.100.0.0/24 -j MASQUERADE\n",
		"-t nat -I POSTROUTING 1 -j SLOPN-slopn0-NAT\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(buf, want[i]))
			fail_msg("missing: %s", want[i]);
	/* The same guards as the nft form. */
	r.egress = "eth0 -j ACCEPT";
	assert_int_equal(ipt_script(&r, buf, sizeof(buf)), -1);
	r.egress = "eth0";
	assert_int_equal(ipt_script(&r, buf, 64), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_ruleset),
		cmocka_unit_test(refuses_odd_names_and_small_buffers),
		cmocka_unit_test(table_names),
		cmocka_unit_test(iptables_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
