/* The client's kill switch: its nftables table as text, and the reading
 * of its drop counter. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/nftcounter.h"
#include "tun/killswitch.h"

static struct sockaddr_storage v4(const char *a, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s = (void *)&ss;
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	inet_pton(AF_INET, a, &s->sin_addr);
	return ss;
}

static struct sockaddr_storage v6(const char *a, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *s = (void *)&ss;
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	inet_pton(AF_INET6, a, &s->sin6_addr);
	return ss;
}

static void ruleset(void **state)
{
	(void)state;
	struct sockaddr_storage hubs[] = {v6("2001:db8::1", 4242), v4("192.0.2.1", 4242)};
	struct killswitch_rules r = {.tun = "slopn0", .hubs = hubs, .nhubs = 2};
	char buf[4096];
	int n = killswitch_ruleset(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	/* Replaces a crashed run's table in the same transaction. */
	assert_non_null(strstr(buf, "add table inet slopnks_slopn0\ndelete table inet slopnks_slopn0\n"
	                            "table inet slopnks_slopn0 {\n"));
	assert_non_null(strstr(buf, "type filter hook output priority filter; policy accept;\n"));
	assert_non_null(strstr(buf, "oifname \"lo\" accept\n"));
	assert_non_null(strstr(buf, "oifname \"slopn0\" accept\n"));
	assert_non_null(strstr(buf, "ip6 daddr 2001:db8::1 udp dport 4242 accept\n"));
	assert_non_null(strstr(buf, "ip daddr 192.0.2.1 udp dport 4242 accept\n"));
	assert_non_null(strstr(buf, "udp sport 68 udp dport 67 accept\n"));
	assert_non_null(strstr(buf, "ip6 daddr { fe80::/10, ff02::/16 } udp sport 546 udp dport 547 accept\n"));
	assert_non_null(strstr(buf, "ip6 daddr { fe80::/10, ff02::/16 } meta l4proto ipv6-icmp accept\n"));
	assert_null(strstr(buf, "ff02::/16 } accept")); /* not any link-local traffic */
	/* DNS closed unless asked for; the last rule counts and drops. */
	assert_null(strstr(buf, "dport 53"));
	assert_non_null(strstr(buf, "\t\tcounter name \"dropped\" drop\n\t}\n}\n"));
	assert_null(strstr(buf, "ip daddr {"));
	/* What the machine forwards leaves the same ways: into the TUN, to the
	 * hub; answers come back in; the rest is counted and dropped. */
	const char *fwd = strstr(buf, "\tchain forward {\n\t\ttype filter hook forward priority filter; "
	                              "policy accept;\n\t\toifname \"slopn0\" accept\n"
	                              "\t\tct direction reply accept\n");
	assert_non_null(fwd);
	assert_true(strstr(buf, "chain output") < fwd);
	assert_non_null(strstr(fwd, "ip6 daddr 2001:db8::1 udp dport 4242 accept\n"
	                            "\t\tip daddr 192.0.2.1 udp dport 4242 accept\n"
	                            "\t\tcounter name \"dropped\" drop\n\t}\n}\n"));
	/* Not loopback, DHCP, link-local: nothing forwarded needs them. */
	assert_null(strstr(fwd, "\"lo\""));
	assert_null(strstr(fwd, "dport 67"));
	assert_null(strstr(fwd, "fe80::"));
	static const struct cidr4 lan[] = {{0xc0a80100, 24}, {0x0a000005, 32}};
	static const struct cidr6 lan6[] = {{{0x20, 0x01, 0x0d, 0xb8, 0, 3}, 64}};
	r.allow = lan;
	r.nallow = 2;
	r.allow6 = lan6;
	r.nallow6 = 1;
	assert_true(killswitch_ruleset(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "ip daddr { 192.168.1.0/24, 10.0.0.5/32 } accept\n"));
	assert_non_null(strstr(buf, "ip6 daddr { 2001:db8:3::/64 } accept\n"));
	/* Before the drop, in both chains. */
	assert_true(strstr(buf, "10.0.0.5/32 } accept") < strstr(buf, "counter name"));
	fwd = strstr(buf, "chain forward");
	assert_non_null(fwd);
	assert_non_null(strstr(fwd, "ip daddr { 192.168.1.0/24, 10.0.0.5/32 } accept\n"
	                            "\t\tip6 daddr { 2001:db8:3::/64 } accept\n"
	                            "\t\tcounter name \"dropped\" drop\n"));
	r.nallow = r.nallow6 = 0;
	r.dns = true;
	r.nhubs = 0;
	assert_true(killswitch_ruleset(&r, buf, sizeof(buf)) > 0);
	/* Only the client's own lookups (their sockets marked), never all DNS. */
	assert_non_null(strstr(buf, "meta mark 0x736c6e64 meta l4proto { tcp, udp } th dport 53 accept\n"));
	assert_null(strstr(strstr(buf, "dport 53") + 1, "dport 53"));
	assert_true(strstr(buf, "dport 53") < strstr(buf, "chain forward")); /* slopnd's own only */
	assert_null(strstr(buf, "udp dport 4242"));
}

/* The most hubs and networks there can be, each as long as it gets, fit
 * the buffer killswitch_apply() builds them in. */
static void largest(void **state)
{
	(void)state;
	struct sockaddr_storage hubs[KILLSWITCH_MAX_HUBS];
	for (size_t i = 0; i < KILLSWITCH_MAX_HUBS; i++)
		hubs[i] = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535);
	struct cidr4 lan[32];
	struct cidr6 lan6[32];
	for (size_t i = 0; i < 32; i++) {
		lan[i] = (struct cidr4){0xfffffff0u - (uint32_t)i, 32};
		memset(lan6[i].net, 0xff, 16);
		lan6[i].net[15] = (uint8_t)i;
		lan6[i].prefix = 128;
	}
	struct killswitch_rules r = {.tun = "abcdefghijklmno", .hubs = hubs, .nhubs = KILLSWITCH_MAX_HUBS,
	                             .allow = lan, .nallow = 32, .allow6 = lan6, .nallow6 = 32, .dns = true};
	static char buf[KILLSWITCH_RULES_MAX];
	int n = killswitch_ruleset(&r, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
}

static void refuses(void **state)
{
	(void)state;
	struct sockaddr_storage hubs[KILLSWITCH_MAX_HUBS + 1];
	for (size_t i = 0; i <= KILLSWITCH_MAX_HUBS; i++)
		hubs[i] = v4("192.0.2.1", 4242);
	char buf[4096];
	struct killswitch_rules r = {.tun = "slopn0", .hubs = hubs, .nhubs = KILLSWITCH_MAX_HUBS};
	assert_true(killswitch_ruleset(&r, buf, sizeof(buf)) > 0);
	r.nhubs++;
	assert_int_equal(killswitch_ruleset(&r, buf, sizeof(buf)), -1);
	r.nhubs = 1;
	assert_int_equal(killswitch_ruleset(&r, buf, 100), -1); /* too small */
	assert_int_equal(killswitch_ruleset(&r, buf, 0), -1);
	const char *odd[] = {"", "a\"b", "tun 0", "slopn0;drop", "0123456789abcdef"};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		r.tun = odd[i];
		assert_int_equal(killswitch_ruleset(&r, buf, sizeof(buf)), -1);
	}
	r.tun = "slopn0";
	hubs[0].ss_family = AF_UNIX;
	assert_int_equal(killswitch_ruleset(&r, buf, sizeof(buf)), -1);
}

static void table_name(void **state)
{
	(void)state;
	char t[NFT_TABLE_NAME_MAX];
	killswitch_table_name("vpn-1.x", t, sizeof(t));
	assert_string_equal(t, "slopnks_vpn_2d1_2ex");
	/* Its rules replace the table an older slopnd named '_' for each such character. */
	struct sockaddr_storage hubs[] = {v4("192.0.2.1", 4242)};
	struct killswitch_rules r = {.tun = "vpn-1.x", .hubs = hubs, .nhubs = 1};
	char buf[4096];
	assert_true(killswitch_ruleset(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "add table inet slopnks_vpn_2d1_2ex\ndelete table inet slopnks_vpn_2d1_2ex\n"
	                            "add table inet slopnks_vpn_1_x\ndelete table inet slopnks_vpn_1_x\n"
	                            "table inet slopnks_vpn_2d1_2ex {\n"));
}

static void resolver_stub(void **state)
{
	(void)state;
	struct sockaddr_storage s[3] = {v4("127.0.0.53", 53), v4("127.0.0.54", 53), v4("192.0.2.53", 53)};
	assert_true(killswitch_resolver_is_stub(s, 1));
	assert_true(killswitch_resolver_is_stub(s, 2));
	/* One server of its own: asked as it is. */
	assert_false(killswitch_resolver_is_stub(s, 3));
	assert_false(killswitch_resolver_is_stub(s, 0));
	s[0] = v4("127.0.0.1", 53); /* another local resolver: not resolved's */
	assert_false(killswitch_resolver_is_stub(s, 1));
	s[0] = v6("::1", 53);
	assert_false(killswitch_resolver_is_stub(s, 1));
}

static void counter(void **state)
{
	(void)state;
	uint64_t p = 7, b = 7;
	const char *good = "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", \"json_schema_version\": 1}}, "
	                   "{\"counter\": {\"family\": \"inet\", \"name\": \"dropped\", \"table\": "
	                   "\"slopnks_slopn0\", \"handle\": 1, \"packets\": 12, \"bytes\": 1008}}]}";
	assert_int_equal(nft_counter_parse(good, strlen(good), &p, &b), 0);
	assert_int_equal(p, 12);
	assert_int_equal(b, 1008);
	const char *bad[] = {
		"", "{", "[]", "null", "{\"nftables\": {}}", "{\"nftables\": []}",
		"{\"nftables\": [{\"metainfo\": {}}]}",
		"{\"nftables\": [{\"counter\": {\"packets\": -1, \"bytes\": 0}}]}",
		"{\"nftables\": [{\"counter\": {\"packets\": 1}}]}",
		"{\"nftables\": [{\"counter\": {\"packets\": \"1\", \"bytes\": 2}}]}",
		"{\"nftables\": [{\"counter\": {\"packets\": 1.5, \"bytes\": 2}}]}",
		"{\"nftables\": [{\"counter\": [1, 2]}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = b = 7;
		assert_int_equal(nft_counter_parse(bad[i], strlen(bad[i]), &p, &b), -1);
		assert_int_equal(p, 7);
		assert_int_equal(b, 7);
	}
	/* Not NUL-terminated: only len bytes are read. */
	char cut[] = {'{', '}', 'x'};
	assert_int_equal(nft_counter_parse(cut, 2, &p, &b), -1);
}

/* The rules of a table, as "list table inet T" gives them: the hub's check
 * that a flush inside its table did not take some. */
static void rule_count(void **state)
{
	(void)state;
	const char *listing =
		"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}}, "
		"{\"table\": {\"family\": \"inet\", \"name\": \"slopn_slopn0\"}}, "
		"{\"chain\": {\"name\": \"fwd\"}}, {\"rule\": {\"chain\": \"fwd\", \"expr\": []}}, "
		"{\"rule\": {\"chain\": \"fwd\"}}, {\"chain\": {\"name\": \"post\"}}, "
		"{\"rule\": {\"chain\": \"post\"}}]}";
	assert_int_equal(nft_rule_count(listing, strlen(listing)), 3);
	const char *flushed = "{\"nftables\": [{\"metainfo\": {}}, {\"table\": {}}, {\"chain\": {}}]}";
	assert_int_equal(nft_rule_count(flushed, strlen(flushed)), 0);
	const char *bad[] = {"", "{", "[]", "null", "{\"nftables\": {}}", "{\"nftables\": 3}",
	                     "{\"tables\": []}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(nft_rule_count(bad[i], strlen(bad[i])), -1);
	/* A "rule" that is not an object is not counted. */
	const char *odd = "{\"nftables\": [{\"rule\": 1}, {\"rule\": []}, {\"rule\": {}}]}";
	assert_int_equal(nft_rule_count(odd, strlen(odd)), 1);
	char cut[] = {'{', '}', 'x'};
	assert_int_equal(nft_rule_count(cut, 2), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ruleset),
		cmocka_unit_test(largest),
		cmocka_unit_test(refuses),
		cmocka_unit_test(table_name),
		cmocka_unit_test(resolver_stub),
		cmocka_unit_test(counter),
		cmocka_unit_test(rule_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
