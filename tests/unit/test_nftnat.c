/* Source NAT rules found in an nftables listing (proto/nftnat.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/nftnat.h"

static int find(const char *json, char *where, size_t cap)
{
	return nft_nat_rule_find(json, strlen(json), where, cap);
}

#define META "{\"metainfo\": {\"version\": \"1.0.6\", \"json_schema_version\": 1}}"

/* Docker's rule through iptables-nft, an SNAT target, a native masquerade. */
static void found(void **state)
{
	(void)state;
	char w[64];
	assert_int_equal(find("{\"nftables\": [" META ", {\"rule\": {\"family\": \"ip\", \"table\": \"nat\", "
	                      "\"chain\": \"POSTROUTING\", \"handle\": 2, \"expr\": [{\"match\": {\"op\": \"!=\", "
	                      "\"left\": {\"meta\": {\"key\": \"oifname\"}}, \"right\": \"docker0\"}}, "
	                      "{\"counter\": {\"packets\": 0, \"bytes\": 0}}, {\"xt\": {\"type\": \"target\", "
	                      "\"name\": \"MASQUERADE\"}}]}}]}", w, sizeof(w)), 1);
	assert_string_equal(w, "ip nat POSTROUTING");
	assert_int_equal(find("{\"nftables\": [{\"rule\": {\"family\": \"ip\", \"table\": \"nat\", \"chain\": "
	                      "\"POSTROUTING\", \"expr\": [{\"xt\": {\"type\": \"target\", \"name\": \"SNAT\"}}]}}]}",
	                      w, sizeof(w)), 1);
	assert_int_equal(find("{\"nftables\": [{\"rule\": {\"family\": \"inet\", \"table\": \"x\", \"chain\": "
	                      "\"p\", \"expr\": [{\"masquerade\": null}]}}]}", w, sizeof(w)), 1);
	assert_string_equal(w, "inet x p");
	assert_int_equal(find("{\"nftables\": [{\"rule\": {\"family\": \"ip6\", \"table\": \"t\", \"chain\": "
	                      "\"c\", \"expr\": [{\"snat\": {\"addr\": \"2001:db8::1\"}}]}}]}", w, sizeof(w)), 1);
	/* Cut to the room, control characters of a table's name made harmless. */
	assert_int_equal(find("{\"nftables\": [{\"rule\": {\"family\": \"inet\", \"table\": \"a\\u001b[2J\", "
	                      "\"chain\": \"p\", \"expr\": [{\"masquerade\": null}]}}]}", w, sizeof(w)), 1);
	assert_string_equal(w, "inet a?[2J p");
	assert_int_equal(find("{\"nftables\": [{\"rule\": {\"expr\": [{\"masquerade\": null}]}}]}", w, 6), 1);
	assert_string_equal(w, "? ? ?");
	assert_int_equal(find("{\"nftables\": [{\"rule\": {\"expr\": [{\"masquerade\": null}]}}]}", NULL, 0), 1);
}

/* No NAT: filter rules, a DNAT, other targets; an empty ruleset. */
static void none(void **state)
{
	(void)state;
	char w[64] = "untouched";
	assert_int_equal(find("{\"nftables\": [" META "]}", w, sizeof(w)), 0);
	assert_int_equal(find("{\"nftables\": [{\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": "
	                      "\"FORWARD\", \"expr\": [{\"xt\": {\"type\": \"target\", \"name\": \"DOCKER\"}}, "
	                      "{\"accept\": null}, {\"dnat\": {\"addr\": \"10.0.0.1\"}}]}}]}", w, sizeof(w)), 0);
	assert_string_equal(w, "untouched");
}

/* What is not a listing. */
static void bad(void **state)
{
	(void)state;
	char w[64];
	assert_int_equal(find("", w, sizeof(w)), -1);
	assert_int_equal(find("{\"nftables\": ", w, sizeof(w)), -1);
	assert_int_equal(find("[]", w, sizeof(w)), -1);
	assert_int_equal(find("{\"nftables\": {}}", w, sizeof(w)), -1);
	/* Wrong shapes inside a listing are no rules. */
	assert_int_equal(find("{\"nftables\": [1, \"x\", {\"rule\": 5}, {\"rule\": {\"expr\": 7}}, "
	                      "{\"rule\": {\"expr\": [null, 3, {\"xt\": 1}, {\"xt\": {\"name\": 2}}]}}]}",
	                      w, sizeof(w)), 0);
	char nul[] = "{\"nftables\": [{\"rule\": {\"expr\": [{\"masquerade\": null}]}}]}";
	assert_int_equal(nft_nat_rule_find(nul, 10, w, sizeof(w)), -1); /* cut short */
}

/* The TUN names of our tables: nft_table_name's encoding undone. */
static void table_tun(void **state)
{
	(void)state;
	char t[16];
	assert_true(nft_table_tun("slopnks_", "slopnks_vpnA", t, sizeof(t)));
	assert_string_equal(t, "vpnA");
	assert_true(nft_table_tun("slopnks_", "slopnks_wg_2d0_2e1", t, sizeof(t)));
	assert_string_equal(t, "wg-0.1");
	assert_true(nft_table_tun("slopnks_", "slopnks_abcdefghijklmno", t, sizeof(t)));
	assert_string_equal(t, "abcdefghijklmno");
	assert_false(nft_table_tun("slopnks_", "slopnks_abcdefghijklmnop", t, sizeof(t))); /* 16 */
	assert_false(nft_table_tun("slopnks_", "slopn_vpnA", t, sizeof(t)));
	assert_false(nft_table_tun("slopnks_", "slopnks_", t, sizeof(t)));
	/* An older slopnd's name (a bare _), escapes that are not ours. */
	assert_false(nft_table_tun("slopnks_", "slopnks_wg_0", t, sizeof(t)));
	assert_false(nft_table_tun("slopnks_", "slopnks_wg_", t, sizeof(t)));
	assert_false(nft_table_tun("slopnks_", "slopnks_a_41", t, sizeof(t))); /* 'A' is never escaped */
	assert_false(nft_table_tun("slopnks_", "slopnks_a_00", t, sizeof(t)));
	assert_false(nft_table_tun("slopnks_", "slopnks_a_2D", t, sizeof(t))); /* lowercase only */
	assert_false(nft_table_tun("slopnks_", "slopnks_a-b", t, sizeof(t)));
}

static bool collect(const char *name, void *ctx)
{
	char *out = ctx;
	strcat(out, name);
	strcat(out, " ");
	return !strcmp(name, "stop");
}

static void tables_each(void **state)
{
	(void)state;
	char seen[128] = "";
	const char *j = "{\"nftables\": [" META ", {\"table\": {\"family\": \"inet\", \"name\": "
	                "\"slopnks_vpnA\", \"handle\": 1}}, {\"table\": {\"family\": \"ip\", \"name\": "
	                "\"nat\", \"handle\": 2}}, {\"table\": {\"family\": \"inet\", \"name\": 5}}, "
	                "{\"table\": {\"family\": \"inet\", \"name\": \"slopn_hub0\"}}]}";
	assert_int_equal(nft_tables_each(j, strlen(j), "inet", collect, seen), 0);
	assert_string_equal(seen, "slopnks_vpnA slopn_hub0 ");
	seen[0] = '\0';
	const char *s = "{\"nftables\": [{\"table\": {\"family\": \"inet\", \"name\": \"stop\"}}, "
	                "{\"table\": {\"family\": \"inet\", \"name\": \"after\"}}]}";
	assert_int_equal(nft_tables_each(s, strlen(s), "inet", collect, seen), 1);
	assert_string_equal(seen, "stop ");
	assert_int_equal(nft_tables_each("[]", 2, "inet", collect, seen), -1);
	const char *odd = "{\"nftables\": [1, {\"table\": 2}]}";
	assert_int_equal(nft_tables_each(odd, strlen(odd), "inet", collect, seen), 0);
}

/* Another hub's record in a rule's comment: its own table skipped, other
 * prefixes and families too, a text too long for the room not cut. */
static void comment_find(void **state)
{
	(void)state;
	char out[16];
#define RULE(f, t, c) "{\"rule\": {\"family\": \"" f "\", \"table\": \"" t "\", \"chain\": " \
	"\"postrouting\", \"handle\": 2" c ", \"expr\": [{\"masquerade\": null}]}}"
	const char *j = "{\"nftables\": [" META ", " RULE("inet", "slopn_me", ", \"comment\": \"tag: mine\"")
	                ", " RULE("ip", "slopn_old", ", \"comment\": \"tag: ip\"")
	                ", " RULE("inet", "other", ", \"comment\": \"tag: other\"")
	                ", " RULE("inet", "slopn_b", "")
	                ", " RULE("inet", "slopn_c", ", \"comment\": \"not ours\"")
	                ", " RULE("inet", "slopn_d", ", \"comment\": \"tag: 0/-/1/\"")
	                ", " RULE("inet", "slopn_e", ", \"comment\": \"tag: later\"") "]}";
	assert_int_equal(nft_rule_comment_find(j, strlen(j), "slopn_", "slopn_me", "tag: ", out,
	                                       sizeof(out)), 1);
	assert_string_equal(out, "0/-/1/");
	/* Its own is found only when not skipped. */
	assert_int_equal(nft_rule_comment_find(j, strlen(j), "slopn_", "x", "tag: ", out, sizeof(out)), 1);
	assert_string_equal(out, "mine");
	/* Too long for out: none, rather than a cut one. */
	assert_int_equal(nft_rule_comment_find(j, strlen(j), "slopn_", "slopn_me", "tag: ", out, 6), 0);
	assert_int_equal(nft_rule_comment_find(j, strlen(j), "slopn_", "slopn_me", "tag: ", out, 7), 1);
	assert_int_equal(nft_rule_comment_find(j, strlen(j), "slopnks_", "", "tag: ", out, sizeof(out)), 0);
	assert_int_equal(nft_rule_comment_find("{\"nftables\": 1}", 16, "slopn_", "", "", out,
	                                       sizeof(out)), -1);
	assert_int_equal(nft_rule_comment_find(j, strlen(j) - 1, "slopn_", "", "", out, sizeof(out)), -1);
#undef RULE
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(found),
		cmocka_unit_test(none),
		cmocka_unit_test(bad),
		cmocka_unit_test(table_tun),
		cmocka_unit_test(tables_each),
		cmocka_unit_test(comment_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
