/* slopnctl's printers on the daemon's answers: what they print from good
 * ones, and that a wrong one prints nothing, is named by its place, and
 * crashes nothing. Then whole commands against a daemon of the test's own:
 * what they say when the answer is missed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl/slopnctl.h"
#include "proto/jsonrpc.h"

/* slopnctl.c's globals are set by main(), which is not linked here. */
static const struct command *find(const char *name)
{
	char buf[64];
	for (const struct command *const *c = commands; *c; c++)
		if (!strcmp(command_name(*c, buf, sizeof(buf)), name))
			return *c;
	fail_msg("no command '%s'", name);
	return NULL;
}

/* The command's show on a JSON text: its exit code, what it printed in
 * *text (malloc'd), and the problem in an. */
static int show(const char *cmd, const char *operand, const char *json, char **text,
                struct answer *an)
{
	struct args a = {.cmd = find(cmd), .operand = operand};
	json_error_t je;
	json_t *r = json_loads(json, JSON_DECODE_ANY, &je);
	if (!r)
		fail_msg("test JSON does not parse: %s: %s", json, je.text);
	size_t len;
	FILE *out = open_memstream(text, &len);
	assert_non_null(out);
	int rc = show_result(&a, r, out, an);
	fclose(out);
	json_decref(r);
	return rc;
}

/* Good answers print what an administrator reads. */
static void expect_lines(const char *cmd, const char *operand, const char *json,
                         const char *const *want)
{
	struct answer an;
	char *text;
	int rc = show(cmd, operand, json, &text, &an);
	if (rc)
		fail_msg("%s: %s", cmd, an.bad);
	for (; *want; want++)
		if (!strstr(text, *want))
			fail_msg("%s: no '%s' in:\n%s", cmd, *want, text);
	free(text);
}

static void good_answers(void **state)
{
	(void)state;
	char json[1024];
	long long now = (long long)time(NULL);
	snprintf(json, sizeof(json),
	         "{\"sessions\":[{\"id\":7,\"token\":\"alice\",\"vip\":\"10.100.0.2\",\"vip6\":null,"
	         "\"remote\":\"192.0.2.2:40000\",\"since\":%lld,\"rx_bytes\":1536,\"tx_bytes\":0,"
	         "\"drops\":{\"spoofed\":2,\"queue\":3},\"rtt_ms\":0.85,\"client_version\":\"1.0\","
	         "\"os\":\"linux\",\"future_field\":[1]}]}", now - 192);
	expect_lines("sessions list", NULL, json, (const char *const[]){
		"ID", "alice", "10.100.0.2", "192.0.2.2:40000", "3m1", "1.5 KiB", "0 B", " 5 ",
		"850 us", "1.0/linux", NULL});
	expect_lines("sessions list", NULL, "{\"sessions\":[]}", (const char *const[]){"no sessions", NULL});
	expect_lines("sessions kick", "7", "{\"kicked\":1}", (const char *const[]){"kicked 1 session", NULL});
	expect_lines("status", NULL,
	             "{\"role\":\"server\",\"version\":\"0.9\",\"listen\":\"0.0.0.0:4242\","
	             "\"subnet\":\"10.100.0.0/24\",\"hub_vip\":\"10.100.0.1\",\"subnet6\":null,"
	             "\"sessions\":2,\"uptime\":7500,\"pin\":\"sha256:ab\",\"tun_up\":false,"
	             "\"totals\":{\"rx_bytes\":10,\"tx_bytes\":2048,\"drops\":{\"no_route\":3,\"spoofed\":0}},"
	             "\"nat\":{\"egress\":\"eth0\",\"backend\":\"nft\",\"egress6\":null},"
	             "\"admission\":{\"handshakes\":1,\"awaiting_login\":0,\"refused\":4}}",
	             (const char *const[]){"role:      server", "listen:    0.0.0.0:4242",
	             "subnet:    10.100.0.0/24 (hub 10.100.0.1)", "tun:       down", "uptime:    2h05m",
	             "traffic:   10 B in, 2.0 KiB out", "nat:       out of eth0 (nft)\n",
	             "drops:     no_route 3\n", "limits:    4 refused\n", NULL});
	expect_lines("status", NULL,
	             "{\"role\":\"client\",\"version\":\"0.9\",\"server\":\"hub.example\","
	             "\"hub_addr\":\"192.0.2.1:4242\",\"connected\":false,\"state\":\"waiting\","
	             "\"retry_in_ms\":1500,\"last_error\":\"timed out\",\"attempts\":3,\"totals\":{\"rx_bytes\":0,"
	             "\"tx_bytes\":0},\"kill_switch\":{\"dropped_pkts\":5,\"hubs\":[\"192.0.2.1:4242\","
	             "\"192.0.2.9:4242\"],\"dns\":true}}",
	             (const char *const[]){"server:    hub.example at 192.0.2.1:4242",
	             "connected: no (next attempt in 2s)", "problem:   timed out\nattempts:  3 since the last connection\n",
	             "kill:      on, 5 packets dropped; lets out 192.0.2.1:4242, 192.0.2.9:4242 and slopnd's",
	             "drops:     none", NULL});
	/* The TUN's name, which tells one daemon on the machine from another. */
	expect_lines("status", NULL,
	             "{\"role\":\"server\",\"version\":\"0.9\",\"listen\":\"192.0.2.1:4343\","
	             "\"subnet\":\"10.101.0.0/24\",\"hub_vip\":\"10.101.0.1\",\"sessions\":0,\"uptime\":5,"
	             "\"pin\":\"sha256:ab\",\"tun\":\"hubB\",\"tun_up\":true,\"totals\":{\"rx_bytes\":0,"
	             "\"tx_bytes\":0}}",
	             (const char *const[]){"listen:    192.0.2.1:4343\nsubnet:    10.101.0.0/24 (hub 10.101.0.1)\n"
	             "tun:       hubB\n", NULL});
	expect_lines("status", NULL,
	             "{\"role\":\"client\",\"version\":\"0.9\",\"server\":\"192.0.2.1:4242\","
	             "\"connected\":false,\"tun\":\"vpnA\",\"tun_up\":false,\"attempts\":1,"
	             "\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0}}",
	             (const char *const[]){"tun:       vpnA, down (set down outside slopnd)", NULL});
	/* Back after a kick: how the last connection ended. */
	expect_lines("status", NULL,
	             "{\"role\":\"client\",\"version\":\"0.9\",\"server\":\"192.0.2.1:4242\","
	             "\"connected\":false,\"state\":\"waiting\",\"retry_in_ms\":900,\"last_disconnect\":"
	             "{\"at\":1,\"reason\":\"hub closed the connection: kicked (code 4)\",\"by_hub\":true,"
	             "\"code\":4},\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0}}",
	             (const char *const[]){"\nended:     ", " ago: hub closed the connection: kicked (code 4)\n",
	             NULL});
	/* Waiting on a hub that did not answer: probed every 10 s. */
	expect_lines("status", NULL,
	             "{\"role\":\"client\",\"version\":\"0.9\",\"server\":\"192.0.2.1:4242\","
	             "\"connected\":false,\"state\":\"waiting\",\"retry_in_ms\":29001,"
	             "\"watch_every_ms\":10000,\"last_error\":\"no answer\",\"totals\":{\"rx_bytes\":0,"
	             "\"tx_bytes\":0}}",
	             (const char *const[]){"connected: no (next attempt in 30s, sooner if the hub answers "
	             "a probe, sent every 10s)", NULL});
	/* Waiting on a hub that restarts: probed every 250 ms. */
	expect_lines("status", NULL,
	             "{\"role\":\"client\",\"version\":\"0.9\",\"server\":\"192.0.2.1:4242\","
	             "\"connected\":false,\"state\":\"waiting\",\"retry_in_ms\":3500,"
	             "\"watch_every_ms\":250,\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0}}",
	             (const char *const[]){"connected: no (next attempt in 4s, sooner if the hub answers "
	             "a probe, sent every 250ms)", NULL});
	/* State files the hub could not save, in its order, whichever it names:
	 * a name's control characters act on no terminal. */
	expect_lines("status", NULL,
	             "{\"role\":\"server\",\"version\":\"0.9\",\"listen\":\"0.0.0.0:4242\",\"subnet\":\"10.100.0.0/24\","
	             "\"hub_vip\":\"10.100.0.1\",\"sessions\":0,\"uptime\":5,\"pin\":\"sha256:ab\",\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0},"
	             "\"save_errors\":{\"peers.json\":\"disk full\",\"leases.json\":\"no space\",\"x\\u001b[2J\":\"y\"}}",
	             (const char *const[]){"unsaved:   peers.json: disk full\nunsaved:   leases.json: no space\n"
	             "unsaved:   x?[2J: y\n", NULL});
	/* Rules put back after a flush; a DNS server outside the tunnel. */
	expect_lines("status", NULL,
	             "{\"role\":\"server\",\"version\":\"0.9\",\"listen\":\"0.0.0.0:4242\",\"subnet\":\"10.100.0.0/24\","
	             "\"hub_vip\":\"10.100.0.1\",\"sessions\":0,\"uptime\":5,\"pin\":\"sha256:ab\",\"tun_up\":true,\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0},"
	             "\"nat\":{\"egress\":\"eth0\",\"backend\":\"nftables\",\"restored\":2}}",
	             (const char *const[]){"nat:       out of eth0 (nftables); rules found gone and put back 2 times\n",
	             NULL});
	/* A drop reason's name from the daemon acts on no terminal. */
	expect_lines("status", NULL,
	             "{\"role\":\"server\",\"version\":\"0.9\",\"listen\":\"0.0.0.0:4242\",\"subnet\":\"10.100.0.0/24\","
	             "\"hub_vip\":\"10.100.0.1\",\"sessions\":0,\"uptime\":5,\"pin\":\"sha256:ab\",\"tun_up\":true,"
	             "\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0,\"drops\":{\"x\\u001b[2J\\u009b\":3}}}",
	             (const char *const[]){"drops:     x?[2J?? 3\n", NULL});
	expect_lines("status", NULL,
	             "{\"role\":\"client\",\"version\":\"0.9\",\"server\":\"192.0.2.1:4242\",\"connected\":false,"
	             "\"state\":\"waiting\",\"dns\":true,\"dns_outside\":\"198.51.100.2\","
	             "\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0},\"kill_switch\":{\"dropped_pkts\":0,"
	             "\"hubs\":[],\"dns\":false,\"restored\":1}}",
	             (const char *const[]){"dns:       the hub's, but 198.51.100.2 is reached outside the tunnel\n",
	             "kill:      on, 0 packets dropped; found gone and put back 1 time\n", NULL});
	snprintf(json, sizeof(json),
	         "{\"role\":\"client\",\"version\":\"0.9\",\"server\":\"192.0.2.1:4242\","
	         "\"hub_addr\":\"192.0.2.1:4242\",\"connected\":true,\"vip\":\"10.100.0.2\","
	         "\"hub_vip\":\"10.100.0.1\",\"vip6\":\"fd00::2\",\"hub_vip6\":\"fd00::1\",\"since\":%lld,"
	         "\"rtt_ms\":12.44,\"max_packet\":1280,\"udp_payload\":1350,\"full_tunnel\":true,"
	         "\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0,\"drops\":{\"down\":1}}}", now - 45);
	expect_lines("status", NULL, json, (const char *const[]){"server:    192.0.2.1:4242\n",
	             "vip:       10.100.0.2 (hub 10.100.0.1)", "vip6:      fd00::2 (hub fd00::1)",
	             "since:     4", "rtt:       12.4 ms", "up to 1280 bytes, in QUIC packets of 1350",
	             "everything through the tunnel\n", "drops:     down 1", NULL});
	expect_lines("status", NULL,
	             "{\"role\":\"client\",\"version\":\"0.9\",\"server\":\"192.0.2.1:4242\",\"connected\":false,"
	             "\"state\":\"waiting\",\"full_tunnel\":true,\"full_tunnel6\":false,\"ipv6_blocked\":true,"
	             "\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0}}",
	             (const char *const[]){"routes:    everything through the tunnel (IPv4; IPv6 beyond it "
	             "unreachable)\n", NULL});
	snprintf(json, sizeof(json),
	         "{\"token\":\"00ff\",\"invite\":\"slopn://00ff@192.0.2.1:4242?pin=sha256:ab\","
	         "\"expires\":%lld,\"vip\":\"10.100.0.9\",\"vip6\":null,\"max_sessions\":2}", now + 7500 + 30);
	expect_lines("token add", "bob", json, (const char *const[]){"token 'bob' added",
	             "token:   00ff", "slopnd client 'slopn://00ff@", "expires: in 2h05m",
	             "vip:     10.100.0.9 (fixed)", "limit:   2 live", NULL});
	expect_lines("token add", "bob", "{\"token\":\"00ff\",\"invite\":null,\"max_sessions\":null}",
	             (const char *const[]){"invite:  none", "limit:   none (any number", NULL});
	snprintf(json, sizeof(json),
	         "{\"tokens\":[{\"name\":\"shared\",\"shared\":true,\"created\":%lld,\"live\":1,"
	         "\"sessions\":4,\"rx_bytes\":0,\"tx_bytes\":0},{\"name\":\"old\",\"created\":0,"
	         "\"expires\":1,\"last_seen\":%lld,\"live\":0,\"max_sessions\":3,\"sessions\":0,"
	         "\"rx_bytes\":0,\"tx_bytes\":0}]}", now, now - 60);
	expect_lines("token list", NULL, json, (const char *const[]){"(--token)", "expired",
	             "1m0", " ago", "0/3", "now", NULL}); /* 1m00s, or 1m01s if a second ticked */
	expect_lines("token set", "bob", "{\"name\":\"bob\",\"expires\":null,\"max_sessions\":null}",
	             (const char *const[]){"token 'bob': expires never, no session limit", NULL});
	expect_lines("token remove", "bob", "{\"removed\":true,\"kicked\":0}",
	             (const char *const[]){"token 'bob' removed (its live", NULL});
	expect_lines("bans list", NULL, "{\"bans\":[{\"address\":\"192.0.2.7\",\"remaining\":3599,\"refused\":2}]}",
	             (const char *const[]){"192.0.2.7", "59m59s", NULL});
	expect_lines("bans remove", "192.0.2.7", "{\"removed\":true}",
	             (const char *const[]){"ban on 192.0.2.7 lifted", NULL});
	expect_lines("bans remove", "[2001:db8::12]:4242",
	             "{\"removed\":true,\"lifted\":[\"2001:db8::/64\",\"2001:db8::/56\"]}",
	             (const char *const[]){"ban on 2001:db8::/64 lifted\nban on 2001:db8::/56 lifted\n", NULL});
	expect_lines("metrics", NULL, "{\"text\":\"# HELP x\\nslopn_sessions 2\\n\"}",
	             (const char *const[]){"# HELP x\nslopn_sessions 2\n", NULL});
	/* What a client chose (its os, a reason) acts on no terminal. */
	expect_lines("sessions list", NULL,
	             "{\"sessions\":[{\"id\":1,\"since\":0,\"rx_bytes\":0,\"tx_bytes\":0,\"rtt_ms\":0,"
	             "\"token\":\"t\\u001b[31m\",\"vip\":\"v\",\"remote\":\"r\",\"os\":\"\\u009b2J\\n\"}]}",
	             (const char *const[]){" t?[31m ", "?/??2J?", NULL});
	expect_lines("metrics", NULL, "{\"text\":\"a\\u001b]0;pwned\\u0007\\n\\tb\\n\"}",
	             (const char *const[]){"a?]0;pwned?\n\tb\n", NULL});
	expect_lines("monitor", NULL, "{\"jsonrpc\":\"2.0\",\"method\":\"session.up\",\"params\":{\"vip\":\"10.100.0.2\",\"r\":\"\\u001b\"}}",
	             (const char *const[]){" session.up {\"r\":\"\\u001B\",\"vip\":\"10.100.0.2\"}\n", NULL});
}

/* Wrong answers: nothing printed, the place named, the exit code 4. */
static void bad_answers(void **state)
{
	(void)state;
	/* A hub's status and a session, right up to here. */
#define HUB "{\"role\":\"server\",\"version\":\"v\",\"listen\":\"l\",\"subnet\":\"s\",\"hub_vip\":\"h\"," \
	"\"sessions\":0,\"uptime\":0,\"pin\":\"p\",\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0},"
#define SESSION "{\"sessions\":[{\"id\":1,\"since\":0,\"rx_bytes\":0,\"tx_bytes\":0,\"rtt_ms\":0,"
	static const struct { const char *cmd, *json, *why; } bad[] = {
		{"sessions list", "[]", "result: expected an object"},
		{"sessions list", "{}", "sessions: missing"},
		{"sessions list", "{\"sessions\":{}}", "sessions: expected an array, got an object"},
		{"sessions list", "{\"sessions\":[5]}", "sessions[0]: expected an object"},
		{"sessions list", "{\"sessions\":[{\"id\":\"7\"}]}", "sessions[0].id: expected an integer, got a string"},
		{"sessions list", "{\"sessions\":[{\"id\":0,\"since\":0,\"rx_bytes\":0,\"tx_bytes\":0,\"rtt_ms\":0,"
		 "\"token\":\"t\",\"vip\":\"v\",\"remote\":\"r\"}]}", "sessions[0].id: 0 is out of range"},
		{"sessions list", "{\"sessions\":[{\"id\":1,\"since\":-9223372036854775808,\"rx_bytes\":0,"
		 "\"tx_bytes\":0,\"rtt_ms\":0,\"token\":\"t\",\"vip\":\"v\",\"remote\":\"r\"}]}", "sessions[0].since: -9223372036854775808 is out of range"},
		{"sessions list", "{\"sessions\":[{\"id\":1,\"since\":0,\"rx_bytes\":-1,\"tx_bytes\":0,\"rtt_ms\":0,"
		 "\"token\":\"t\",\"vip\":\"v\",\"remote\":\"r\"}]}", "sessions[0].rx_bytes: -1 is out of range"},
		{"sessions list", "{\"sessions\":[{\"id\":1,\"since\":0,\"rx_bytes\":0,\"tx_bytes\":0,\"rtt_ms\":-1,"
		 "\"token\":\"t\",\"vip\":\"v\",\"remote\":\"r\"}]}", "sessions[0].rtt_ms: -1 is out of range"},
		{"sessions list", SESSION "\"token\":\"t\",\"vip\":\"v\",\"remote\":\"r\",\"drops\":{\"x\\u0007\":-2}}]}", "sessions[0].drops.x?: expected a count, got a negative number"},
		/* C1 controls (U+009B is a CSI) in a key too, each byte a '?'. */
		{"sessions list", SESSION "\"token\":\"t\",\"vip\":\"v\",\"remote\":\"r\",\"drops\":{\"x\\u009b2J\":-2}}]}", "sessions[0].drops.x??2J: expected a count"},
		{"sessions list", SESSION "\"token\":\"t\",\"vip\":null,\"remote\":\"r\"}]}", "sessions[0].vip: missing"},
		{"sessions kick", "{\"kicked\":true}", "kicked: expected an integer, got a boolean"},
		{"status", "{}", "role: missing"},
		{"status", "{\"role\":\"gateway\"}", "role: 'gateway' is neither client nor server"},
		{"status", "{\"role\":\"server\",\"version\":1}", "version: expected a string, got an integer"},
		{"status", HUB "\"tun_up\":\"yes\"}", "tun_up: expected true or false"},
		{"status", "{\"role\":\"server\",\"version\":\"v\",\"listen\":\"l\",\"subnet\":\"s\",\"hub_vip\":\"h\","
		 "\"sessions\":0,\"uptime\":0,\"pin\":\"p\",\"totals\":{\"rx_bytes\":0}}", "totals.tx_bytes: missing"},
		{"status", HUB "\"admission\":{\"handshakes\":1,\"awaiting_login\":0,\"refused\":1.5}}", "admission.refused: expected an integer, got a number"},
		{"status", HUB "\"nat\":{\"egress\":[]}}", "nat.egress: expected a string, got an array"},
		{"status", HUB "\"save_errors\":[]}", "save_errors: expected an object, got an array"},
		{"status", HUB "\"save_errors\":{\"traffic.json\":7}}", "save_errors.traffic.json: expected a string, got an integer"},
		{"status", HUB "\"save_errors\":{\"a\\u0085b\":7}}", "save_errors.a??b: expected a string, got an integer"},
		{"status", "{\"role\":\"client\",\"version\":\"v\",\"server\":\"s\",\"connected\":true,"
		 "\"vip\":\"v\",\"hub_vip\":\"h\",\"since\":0,\"rtt_ms\":1,\"udp_payload\":1350,"
		 "\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0}}", "max_packet: missing"},
		{"status", "{\"role\":\"client\",\"version\":\"v\",\"server\":\"s\",\"connected\":false,"
		 "\"kill_switch\":{\"hubs\":[\"a\",5]},\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0}}", "kill_switch.hubs[1]: expected a string, got an integer"},
		{"status", "{\"role\":\"client\",\"version\":\"v\",\"server\":\"s\",\"connected\":\"no\","
		 "\"totals\":{\"rx_bytes\":0,\"tx_bytes\":0}}", "connected: expected true or false, got a string"},
		{"token add", "{\"invite\":null}", "token: missing"},
		{"token add", "{\"token\":\"t\",\"expires\":253402300800}", "expires: 253402300800 is out of range"},
		{"token list", "{\"tokens\":[{\"name\":\"n\",\"created\":99999999999999999,\"live\":0,"
		 "\"sessions\":0,\"rx_bytes\":0,\"tx_bytes\":0}]}", "tokens[0].created: 99999999999999999 is out of range"},
		{"token list", "{\"tokens\":[{\"name\":\"n\",\"created\":0,\"live\":0,\"max_sessions\":\"3\","
		 "\"sessions\":0,\"rx_bytes\":0,\"tx_bytes\":0}]}", "tokens[0].max_sessions: expected an integer, got a string"},
		{"token set", "{\"expires\":\"soon\"}", "expires: expected an integer, got a string"},
		{"token remove", "{\"removed\":true}", "kicked: missing"},
		{"bans list", "{\"bans\":[{\"address\":\"a\",\"remaining\":-5,\"refused\":0}]}", "bans[0].remaining: -5 is out of range"},
		{"bans remove", "{\"removed\":true,\"lifted\":[5]}", "lifted[0]"},
		{"metrics", "{\"text\":5}", "text: expected a string, got an integer"},
		{"monitor", "{\"params\":{}}", "method: missing"},
		{"monitor", "{\"method\":\"m\",\"params\":[]}", "params: expected an object, got an array"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct answer an;
		char *text;
		int rc = show(bad[i].cmd, "x", bad[i].json, &text, &an);
		if (rc != EXIT_BAD_ANSWER || !strstr(an.bad, bad[i].why))
			fail_msg("%s on %s: rc %d, '%s', expected '%s'", bad[i].cmd, bad[i].json, rc, an.bad,
			         bad[i].why);
		if (*text)
			fail_msg("%s on %s printed '%s'", bad[i].cmd, bad[i].json, text);
		free(text);
	}
}

/* Every printer on every shape of nonsense: printed whole, or refused with
 * a reason and nothing printed; no crash, no sanitizer report (CI runs the
 * unit tests under ASan+UBSan too; the fuzzer goes further). */
static void any_shape(void **state)
{
	(void)state;
	static const char *const shapes[] = {
		"null", "0", "\"x\"", "[]", "{}", "{\"sessions\":[null,{},[]],\"tokens\":[1],\"bans\":[{}]}",
		"{\"role\":\"client\",\"connected\":true,\"kill_switch\":{\"hubs\":{}},\"totals\":5}",
		"{\"role\":\"server\",\"admission\":[],\"nat\":\"x\",\"totals\":{\"drops\":[1,2]}}",
		"{\"sessions\":[{\"drops\":{\"a\":null,\"b\":1e300}}]}",
	};
	for (const struct command *const *c = commands; *c; c++)
		for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
			char name[64], *text;
			struct answer an;
			int rc = show(command_name(*c, name, sizeof(name)), "x", shapes[i], &text, &an);
			if (rc != 0 && (rc != EXIT_BAD_ANSWER || *text || !*an.bad))
				fail_msg("%s on %s: rc %d, printed '%s', reason '%s'", name, shapes[i], rc, text,
				         an.bad);
			free(text);
		}
}

/* ---- whole commands, against daemons of the test's own ---- */

/* A daemon that answers each request from this table and keeps the
 * connection (a monitor's then hears nothing more), and one that never
 * answers at all: its socket listens, no one accepts. */
static const struct {
	const char *method, *result;
} fake_answers[] = {
#define TOKEN(name) "{\"name\":\"" name "\",\"created\":0,\"live\":0,\"sessions\":0,\"rx_bytes\":0," \
	"\"tx_bytes\":0"
	{"token.list", "{\"tokens\":[" TOKEN("alice") "}," TOKEN("bob") "}," TOKEN("-dash") "}," TOKEN("shared")
	 ",\"shared\":true}]}"},
	{"sessions.list", "{\"sessions\":[{\"id\":7,\"vip\":\"10.0.0.7\"}]}"},
	{"token.add", "{\"token\":\"00ff\",\"invite\":null}"},
	/* token.add of a token named odd: an answer this slopnctl cannot read */
	{"token.add odd", "{\"token\":\"00ee\",\"invite\":null,\"expires\":\"soon\"}"},
	{"events.subscribe", "{}"},
	{"metrics.get", "{}"},
};
/* After events.subscribe's answer, one event. */
#define FAKE_EVENT "{\"jsonrpc\":\"2.0\",\"method\":\"ban\",\"params\":{\"address\":\"192.0.2.7\"}}\n"

struct daemons {
	char dir[32], fake[64], silent[64];
	pid_t fake_pid;
	int silent_fd;
};

static int listen_on(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
		fail_msg("cannot listen on %s: %s", path, strerror(errno));
	return fd;
}

static void send_line(int c, char *s)
{
	if (!s || write(c, s, strlen(s)) < 0)
		_exit(1);
	free(s);
}

/* fake_answers[i]'s result; metrics' text more than stdio's buffer holds. */
static json_t *fake_result(size_t i)
{
	json_t *result = json_loads(fake_answers[i].result, 0, NULL);
	if (!strcmp(fake_answers[i].method, "metrics.get")) {
		static char text[64 * 1024];
		memset(text, 'x', sizeof(text) - 1);
		json_object_set_new(result, "text", json_string(text));
	}
	return result;
}

static void answer(int c)
{
	char line[4096], err[128];
	ssize_t len = read(c, line, sizeof(line));
	struct jsonrpc_request req;
	if (len <= 0 || jsonrpc_parse(line, (size_t)len, &req, err, sizeof(err)) != 0)
		_exit(1);
	size_t i, n = sizeof(fake_answers) / sizeof(fake_answers[0]);
	/* The answer for this method and name ("token.add odd"), else the
	 * method's. */
	char key[96];
	json_t *name = req.params ? json_object_get(req.params, "name") : NULL;
	snprintf(key, sizeof(key), "%s %s", req.method, json_is_string(name) ? json_string_value(name) : "");
	for (i = 0; i < n && strcmp(key, fake_answers[i].method); i++)
		;
	if (i == n)
		for (i = 0; i < n && strcmp(req.method, fake_answers[i].method); i++)
			;
	if (i == n) { /* as a daemon of the other role */
		char msg[128];
		snprintf(msg, sizeof(msg), "unknown method '%s' (this slopnd is a client)", req.method);
		send_line(c, jsonrpc_format_error(req.id, JSONRPC_METHOD_NOT_FOUND, msg));
	} else {
		send_line(c, jsonrpc_format_result(req.id, fake_result(i)));
		if (!strcmp(req.method, "events.subscribe"))
			send_line(c, strdup(FAKE_EVENT));
	}
	jsonrpc_request_clear(&req);
}

static void fake_daemon(int srv)
{
	for (;;) {
		int c = accept(srv, NULL, NULL);
		if (c < 0)
			_exit(1);
		answer(c); /* c stays open: a watch stays, and the rest are closed by their caller */
	}
}

static int daemons_up(void **state)
{
	struct daemons *d = calloc(1, sizeof(*d));
	if (!d)
		return -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/test_ctl.XXXXXX");
	if (!mkdtemp(d->dir)) {
		free(d);
		return -1;
	}
	snprintf(d->fake, sizeof(d->fake), "%s/fake.sock", d->dir);
	snprintf(d->silent, sizeof(d->silent), "%s/silent.sock", d->dir);
	d->silent_fd = listen_on(d->silent);
	int srv = listen_on(d->fake);
	d->fake_pid = fork();
	if (d->fake_pid == 0)
		fake_daemon(srv);
	close(srv);
	*state = d;
	return d->fake_pid < 0 ? -1 : 0;
}

static int daemons_down(void **state)
{
	struct daemons *d = *state;
	kill(d->fake_pid, SIGTERM);
	waitpid(d->fake_pid, NULL, 0);
	close(d->silent_fd);
	unlink(d->fake);
	unlink(d->silent);
	rmdir(d->dir);
	free(d);
	return 0;
}

/* A file's contents, malloc'd. */
static char *slurp(FILE *f)
{
	char *text = calloc(1, 8192);
	assert_non_null(text);
	rewind(f);
	size_t n = fread(text, 1, 8191, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* fn(argc, argv) on socket with stdout to out_path (NULL: /dev/null), stdin
 * read from input (NULL: as it is): its exit code, what it said on stderr
 * in *err. */
static int captured(const char *socket, const char *out_path, const char *input, char **err,
                    int (*fn)(int, char **), int argc, char **argv)
{
	sock_path = socket;
	json_out = false;
	FILE *in = NULL, *errf = tmpfile();
	assert_non_null(errf);
	if (input) {
		in = tmpfile();
		assert_true(in && fputs(input, in) >= 0 && fflush(in) == 0);
		rewind(in);
	}
	fflush(stdout);
	fflush(stderr);
	int saved_in = dup(0), saved_out = dup(1), saved_err = dup(2);
	int out = open(out_path ? out_path : "/dev/null", O_WRONLY);
	assert_true(out >= 0 && saved_in >= 0 && saved_out >= 0 && saved_err >= 0);
	if (in)
		dup2(fileno(in), 0);
	dup2(out, 1);
	dup2(fileno(errf), 2);
	close(out);
	clearerr(stdin);
	int rc = fn(argc, argv);
	fflush(stdout);
	clearerr(stdout);
	fflush(stderr);
	dup2(saved_in, 0);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_in);
	close(saved_out);
	close(saved_err);
	clearerr(stdin);
	if (in)
		fclose(in);
	*err = slurp(errf);
	return rc;
}

/* `slopnctl WORDS` (NULL-terminated) on socket with stdout to out_path
 * (NULL: /dev/null): its exit code, what it said on stderr in *err. */
static int run(const char *socket, const char *out_path, char **err, ...)
{
	char *argv[16] = {"slopnctl"};
	int argc = 1;
	va_list ap;
	va_start(ap, err);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	/* monitor ignores SIGPIPE for the rest of the process, as its own
	 * process ends after it; not for the tests after it here. */
	struct sigaction pipe_was;
	sigaction(SIGPIPE, NULL, &pipe_was);
	int rc = captured(socket, out_path, NULL, err, dispatch, argc, argv);
	sigaction(SIGPIPE, &pipe_was, NULL);
	return rc;
}

static void expect_said(const char *err, const char *want)
{
	if (!strstr(err, want))
		fail_msg("expected '%s' in:\n%s", want, err);
}

/* No answer in time: exit 3; a command that changes something says it may
 * have been done, and what shows whether. */
static void no_answer(void **state)
{
	struct daemons *d = *state;
	char *err;
	answer_timeout_ms = 100;
	assert_int_equal(run(d->silent, NULL, &err, "token", "list", NULL), EXIT_UNREACHABLE);
	expect_said(err, "slopnctl: no answer to token.list from ");
	expect_said(err, "within 0 s");
	assert_null(strstr(err, "may have"));
	free(err);
	assert_int_equal(run(d->silent, NULL, &err, "sessions", "kick", "3", NULL), EXIT_UNREACHABLE);
	expect_said(err, "; the daemon may have made the change: 'slopnctl sessions list' shows whether\n");
	free(err);
	assert_int_equal(run(d->silent, NULL, &err, "token", "add", "carol", NULL), EXIT_UNREACHABLE);
	expect_said(err, "; token 'carol' may have been added: if 'slopnctl token list' lists it, its "
	                 "secret is lost: remove it and add it again\n");
	free(err);
	answer_timeout_ms = 10000;
}

static int64_t ms_since(const struct timespec *t0);

/* A daemon that answers a byte at a time, every 150 ms, for 6 s: the
 * answer's time limit is the whole answer's, not each byte's. */
static void trickle(void **state)
{
	struct daemons *d = *state;
	char path[80];
	snprintf(path, sizeof(path), "%s/trickle.sock", d->dir);
	int srv = listen_on(path);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = accept(srv, NULL, NULL);
		char req[4096];
		if (c < 0 || read(c, req, sizeof(req)) <= 0)
			_exit(1);
		for (int i = 0; i < 40; i++) {
			nanosleep(&(struct timespec){0, 150 * 1000000}, NULL);
			if (write(c, "{", 1) != 1)
				_exit(0);
		}
		_exit(0);
	}
	close(srv);
	char *err;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	answer_timeout_ms = 500;
	int rc = run(path, NULL, &err, "token", "list", NULL);
	int64_t took = ms_since(&t0);
	answer_timeout_ms = 10000;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(path);
	assert_int_equal(rc, EXIT_UNREACHABLE);
	expect_said(err, "slopnctl: no answer to token.list from ");
	free(err);
	if (took > 1500)
		fail_msg("an answer trickled in a byte at a time held slopnctl %lld ms, its limit 500",
		         (long long)took);
}

/* A watch ended by what is no event (a line over 16 MiB): said as such,
 * exit 4, not "the daemon closed the connection". */
static void monitor_ends(void **state)
{
	struct daemons *d = *state;
	char path[80];
	snprintf(path, sizeof(path), "%s/huge.sock", d->dir);
	int srv = listen_on(path);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = accept(srv, NULL, NULL);
		char line[4096], e[128];
		ssize_t len = c < 0 ? -1 : read(c, line, sizeof(line));
		struct jsonrpc_request req;
		if (len <= 0 || jsonrpc_parse(line, (size_t)len, &req, e, sizeof(e)) != 0)
			_exit(1);
		send_line(c, jsonrpc_format_result(req.id, json_pack("{s:b}", "subscribed", 1)));
		static char junk[1 << 20];
		memset(junk, 'x', sizeof(junk));
		for (int i = 0; i < 17; i++)
			if (write(c, junk, sizeof(junk)) != (ssize_t)sizeof(junk))
				_exit(0);
		pause();
		_exit(0);
	}
	close(srv);
	char *err;
	int rc = run(path, NULL, &err, "monitor", NULL);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(path);
	assert_int_equal(rc, EXIT_BAD_ANSWER);
	expect_said(err, "slopnctl: monitor: an event line over 16 MiB, which slopnd does not send");
	assert_null(strstr(err, "closed the connection"));
	free(err);
}

/* A daemon of the test's own on path for one monitor: it answers
 * events.subscribe, then sends line every ms milliseconds, count times,
 * then closes. Its pid. */
static pid_t subscriber_daemon(const char *path, const char *line, int ms, int count)
{
	int srv = listen_on(path);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		int c = accept(srv, NULL, NULL);
		char buf[4096], e[128];
		ssize_t len = c < 0 ? -1 : read(c, buf, sizeof(buf));
		struct jsonrpc_request req;
		if (len <= 0 || jsonrpc_parse(buf, (size_t)len, &req, e, sizeof(e)) != 0)
			_exit(1);
		send_line(c, jsonrpc_format_result(req.id, json_pack("{s:b}", "subscribed", 1)));
		for (int i = 0; i < count; i++) {
			if (write(c, line, strlen(line)) < 0)
				_exit(0);
			usleep((useconds_t)ms * 1000);
		}
		_exit(0);
	}
	close(srv);
	return pid;
}

/* A watch the daemon dropped for falling behind (its events.dropped, then
 * the close): said as such, not as a daemon that stopped; the line itself
 * is printed as the events are. */
static void monitor_behind(void **state)
{
	struct daemons *d = *state;
	char path[80], out[96];
	snprintf(path, sizeof(path), "%s/behind.sock", d->dir);
	snprintf(out, sizeof(out), "%s/behind.out", d->dir);
	close(open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600));
	pid_t pid = subscriber_daemon(path, FAKE_EVENT "{\"jsonrpc\":\"2.0\",\"method\":\"events.dropped\","
	                              "\"params\":{\"unread\":300000,\"lost\":299000}}\n", 0, 1);
	char *err;
	int rc = run(path, out, &err, "--json", "monitor", NULL);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(path);
	assert_int_equal(rc, EXIT_UNREACHABLE);
	expect_said(err, "slopnctl: monitor: this watch fell behind (300000 bytes of events unread) "
	                 "and the daemon dropped it: events were lost; the watch ends\n");
	assert_null(strstr(err, "closed the connection"));
	free(err);
	FILE *f = fopen(out, "r");
	char line[256];
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, "\"method\":\"events.dropped\""));
	fclose(f);
	unlink(out);
}

/* slopnctl monitor | head -1: the reader goes after a line; the next
 * event is a write that fails, said, exit 1, not death by SIGPIPE. */
static void monitor_reader_gone(void **state)
{
	struct daemons *d = *state;
	char path[80], fifo[80];
	snprintf(path, sizeof(path), "%s/gone.sock", d->dir);
	snprintf(fifo, sizeof(fifo), "%s/gone.fifo", d->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid_t daemon = subscriber_daemon(path, FAKE_EVENT, 20, 500);
	pid_t head = fork();
	assert_true(head >= 0);
	if (head == 0) {
		int fd = open(fifo, O_RDONLY);
		char c;
		while (fd >= 0 && read(fd, &c, 1) == 1 && c != '\n')
			;
		_exit(0);
	}
	signal(SIGPIPE, SIG_DFL); /* as a shell starts a pipeline's commands */
	char *err;
	int rc = run(path, fifo, &err, "monitor", NULL);
	kill(daemon, SIGTERM);
	waitpid(daemon, NULL, 0);
	waitpid(head, NULL, 0);
	unlink(path);
	unlink(fifo);
	assert_int_equal(rc, EXIT_NOT_WRITTEN);
	expect_said(err, "slopnctl: writing the answer to standard output: Broken pipe\n");
	free(err);
}

static void on_alarm(int sig)
{
	(void)sig;
	interrupted = 1; /* as the shell's Ctrl-C */
}

/* SIGALRM after ms, once. */
static void alarm_in(int ms)
{
	struct itimerval it = {.it_value = {.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

/* Ctrl-C while a command awaits its answer: "interrupted" once, and for a
 * change, that it may have been made; a monitor ends quietly, exit 0. */
static void ctrl_c(void **state)
{
	struct daemons *d = *state;
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	char *err;
	interrupted = 0;
	alarm_in(100);
	assert_int_equal(run(d->silent, NULL, &err, "bans", "remove", "192.0.2.7", NULL), EXIT_UNREACHABLE);
	assert_string_equal(err, "slopnctl: interrupted; the daemon may have made the change: "
	                         "'slopnctl bans list' shows whether\n");
	free(err);
	interrupted = 0;
	alarm_in(300);
	assert_int_equal(run(d->fake, NULL, &err, "monitor", NULL), 0);
	assert_true(interrupted);
	assert_null(strstr(err, "closed"));
	expect_said(err, "slopnctl: watching events on ");
	free(err);
	interrupted = 0;
}

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1; /* as the shell's handler */
}

/* A Ctrl-C that comes just before the wait for the answer (after its check
 * of interrupted) ends the wait, not a second one: held pending here
 * (SIGINT blocked) as the wait starts, it must be taken by the wait. The
 * window itself is too narrow to hit from a test. */
static void ctrl_c_before_wait(void **state)
{
	struct daemons *d = *state;
	struct sigaction sa = {.sa_handler = on_sigint}, old;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	sigset_t intr, saved;
	sigemptyset(&intr);
	sigaddset(&intr, SIGINT);
	sigprocmask(SIG_BLOCK, &intr, &saved);
	interrupted = 0;
	raise(SIGINT);
	assert_false(interrupted); /* pending, not handled */
	answer_timeout_ms = 3000;
	char *err;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = run(d->silent, NULL, &err, "token", "list", NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	answer_timeout_ms = 10000;
	sigprocmask(SIG_SETMASK, &saved, NULL); /* the SIGINT, if still pending, handled here */
	sigaction(SIGINT, &old, NULL);
	interrupted = 0; /* the next tests', whatever happened here */
	assert_int_equal(rc, EXIT_UNREACHABLE);
	assert_string_equal(err, "slopnctl: interrupted\n");
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	free(err);
}

/* An answer that does not reach stdout (a full disk): said, exit 1; token
 * add's says the secret is lost and what to do. */
static void full_disk(void **state)
{
	struct daemons *d = *state;
	char *err;
	assert_int_equal(run(d->fake, "/dev/full", &err, "token", "list", NULL), EXIT_NOT_WRITTEN);
	assert_string_equal(err, "slopnctl: writing the answer to standard output: No space left on device\n");
	free(err);
	assert_int_equal(run(d->fake, "/dev/full", &err, "--json", "token", "add", "carol", NULL), EXIT_NOT_WRITTEN);
	assert_string_equal(err, "slopnctl: writing the answer to standard output: No space left on device; "
	                         "token 'carol' was added, but its secret is lost: remove it ('slopnctl "
	                         "token remove carol') and add it again\n");
	free(err);
	/* Written out before the end of the command: the first failure's errno. */
	assert_int_equal(run(d->fake, "/dev/full", &err, "metrics", NULL), EXIT_NOT_WRITTEN);
	assert_string_equal(err, "slopnctl: writing the answer to standard output: No space left on device\n");
	free(err);
	assert_int_equal(run(d->fake, "/dev/full", &err, "token", "add", "--help", NULL), EXIT_NOT_WRITTEN);
	assert_string_equal(err, "slopnctl: writing to standard output: No space left on device\n");
	free(err);
	/* A watch stops at its first lost event, not at the Ctrl-C that
	 * ends a test that would otherwise hang. */
	interrupted = 0;
	alarm_in(3000);
	assert_int_equal(run(d->fake, "/dev/full", &err, "monitor", NULL), EXIT_NOT_WRITTEN);
	alarm_in(0);
	assert_false(interrupted);
	expect_said(err, "\nslopnctl: writing the answer to standard output: No space left on device\n");
	free(err);
	assert_int_equal(run(d->fake, "/dev/null", &err, "token", "add", "carol", NULL), 0);
	assert_string_equal(err, "");
	free(err);
}

/* token add whose answer this slopnctl cannot read (a daemon of another
 * version): the token was made, and its secret is printed as it came. */
static void secret_kept(void **state)
{
	struct daemons *d = *state;
	char *err, out[64];
	snprintf(out, sizeof(out), "%s/out", d->dir);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(run(d->fake, out, &err, "token", "add", "odd", NULL), EXIT_BAD_ANSWER);
	assert_non_null(strstr(err, "expires: expected"));
	assert_non_null(strstr(err, "printed above as it came, with the token's secret"));
	free(err);
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	char *said = slurp(f);
	assert_non_null(strstr(said, "\"token\": \"00ee\""));
	free(said);
	unlink(out);
}

static void add_cand(const char *cand, void *ctx)
{
	char *all = ctx;
	if (strlen(all) + strlen(cand) + 2 < 1024)
		strcat(strcat(all, cand), " ");
}

/* What completion offers for the last of words (NULL-terminated), asking
 * socket unless the words name another, each followed by a space. */
static void expect_completion(const char *socket, const char *want, ...)
{
	char *words[16], all[1024] = "";
	int n = 0;
	va_list ap;
	va_start(ap, want);
	while (n < 15 && (words[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	sock_path = socket;
	complete_words(n, words, add_cand, all);
	if (strcmp(all, want))
		fail_msg("completing '%s' (word %d): expected '%s', got '%s'", words[n - 1], n, want, all);
}

/* --flag=VALUE as --flag VALUE: --socket=PATH is the daemon asked, and a
 * value after '=' is completed with its prefix. */
static void completion(void **state)
{
	struct daemons *d = *state;
	char sock_eq[80];
	snprintf(sock_eq, sizeof(sock_eq), "--socket=%s", d->fake);
	expect_completion("/nonexistent", "7 10.0.0.7 ", "--socket", d->fake, "sessions", "kick", "", NULL);
	expect_completion("/nonexistent", "7 10.0.0.7 ", sock_eq, "sessions", "kick", "", NULL);
	expect_completion("/nonexistent", "7 10.0.0.7 ", "sessions", "kick", sock_eq, "", NULL);
	expect_completion(d->fake, "--token=alice ", "sessions", "kick", "--token=a", NULL);
	expect_completion(d->fake, "--token=alice --token=bob --token=-dash --token=shared ", "sessions",
	                  "kick", "--token=", NULL);
	expect_completion("/nonexistent", "--token=bob ", sock_eq, "sessions", "kick", "--token=b", NULL);
	/* The token given as --token=NAME stands for the operand. */
	expect_completion(d->fake, "", "sessions", "kick", "--token=alice", "", NULL);
	expect_completion(d->fake, "7 10.0.0.7 ", "sessions", "kick", "--reason=x", "", NULL);
	expect_completion(d->fake, "alice bob ", "token", "remove", "", NULL);
	/* A name that begins with '-' is an operand only after "--", as
	 * getopt takes it: offered there alone. */
	expect_completion(d->fake, "--kick --socket --json --help --version ", "token", "remove", "-", NULL);
	expect_completion(d->fake, "alice bob -dash ", "token", "remove", "--", "", NULL);
	expect_completion(d->fake, "-dash ", "token", "remove", "--", "-d", NULL);
	expect_completion(d->fake, "", "token", "remove", "--", "-dash", "", NULL);
	/* No values known: none offered (a path is the shell's to complete). */
	expect_completion(d->fake, "", "token", "add", "x", "--expires=3", NULL);
	expect_completion(d->fake, "", "--socket=/tm", NULL);
	expect_completion(d->fake, "--reason ", "sessions", "kick", "--rea", NULL);
}

static void no_op(int sig)
{
	(void)sig; /* as readline's handler of a resized window: interrupted stays 0 */
}

static int64_t ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Completing "sessions kick " on socket: nothing offered, within
 * [min_ms, max_ms]. */
static void expect_given_up(const char *socket, int min_ms, int max_ms)
{
	char *words[] = {"sessions", "kick", ""}, all[1024] = "";
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sock_path = socket;
	complete_words(3, words, add_cand, all);
	int64_t took = ms_since(&t0);
	assert_string_equal(all, "");
	if (took < min_ms || took > max_ms)
		fail_msg("completion on %s gave up after %lld ms, expected %d-%d", socket, (long long)took,
		         min_ms, max_ms);
}

/* A daemon that takes the request and never answers, or one whose backlog
 * is full: a Tab gives up within completion's 1 s, not a command's 10 s
 * (for each of ids and VIPs); the shell's Ctrl-C ends the wait at once. */
static void completion_stuck(void **state)
{
	struct daemons *d = *state;
	expect_given_up(d->silent, 900, 1500);
	char full[80];
	snprintf(full, sizeof(full), "%s/full.sock", d->dir);
	int srv = listen_on(full), queued = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", full);
	/* Backlog 0 holds one connection: this one, and the next waits. */
	assert_int_equal(listen(srv, 0), 0);
	assert_int_equal(connect(queued, (struct sockaddr *)&sa, sizeof(sa)), 0);
	expect_given_up(full, 900, 1500);
	close(queued);
	close(srv);
	unlink(full);
	/* Another signal (a resized window, readline's) waits on; the
	 * shell's Ctrl-C (its handler sets interrupted) ends the wait. */
	struct sigaction sa_alrm = {.sa_handler = no_op}, old;
	sigaction(SIGALRM, &sa_alrm, &old);
	alarm_in(100);
	expect_given_up(d->silent, 900, 1500);
	sa_alrm.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa_alrm, NULL);
	alarm_in(100);
	expect_given_up(d->silent, 50, 500);
	interrupted = 0;
	sigaction(SIGALRM, &old, NULL);
}

/* The daemon's refusal: a client daemon's unknown method is said as the
 * command and the socket (a hub's command at a client's socket); with
 * --json, the daemon's message as it said it. */
static void refused(void **state)
{
	struct daemons *d = *state;
	char *err, want[256];
	snprintf(want, sizeof(want), "slopnctl: bans list: %s is a client's control socket, which "
	         "answers only 'slopnctl status'\n", d->fake);
	assert_int_equal(run(d->fake, NULL, &err, "bans", "list", NULL), EXIT_REFUSED);
	assert_string_equal(err, want);
	free(err);
	/* With --json, the refusal's code on standard output for scripts. */
	char out[64];
	snprintf(out, sizeof(out), "%s/out", d->dir);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(run(d->fake, out, &err, "--json", "bans", "list", NULL), EXIT_REFUSED);
	assert_string_equal(err, want);
	free(err);
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	char *said = slurp(f);
	json_t *j = json_loads(said, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "error"), "code")),
	                 JSONRPC_METHOD_NOT_FOUND);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
	                    "unknown method 'bans.list' (this slopnd is a client)");
	json_decref(j);
	free(said);
	unlink(out);
}

/* Words that are not UTF-8, which JSON cannot carry: a usage error naming
 * the word, never a request without them (the default reason, or params
 * that name nothing). */
static void not_utf8(void **state)
{
	struct daemons *d = *state;
	char *err;
	assert_int_equal(run(d->fake, NULL, &err, "sessions", "kick", "7", "--reason", "caf\xe9", NULL),
	                 EXIT_USAGE);
	expect_said(err, "slopnctl: sessions kick: --reason: not UTF-8 text (");
	free(err);
	assert_int_equal(run(d->fake, NULL, &err, "sessions", "kick", "--token", "\xff", NULL), EXIT_USAGE);
	expect_said(err, "slopnctl: sessions kick: --token: not UTF-8 text (");
	free(err);
	assert_int_equal(run(d->fake, NULL, &err, "sessions", "kick", "--token=alice", "--reason",
	                     "caf\xc3\xa9 \xe2\x9c\x93", NULL), EXIT_REFUSED); /* UTF-8: sent */
	expect_said(err, "is a client's control socket"); /* sent: the fake refuses it */
	free(err);
	/* Token names are of A-Z a-z 0-9 . _ @ - only: said as such. */
	assert_int_equal(run(d->fake, NULL, &err, "token", "add", "caf\xe9", NULL), EXIT_USAGE);
	expect_said(err, "NAME 'caf\xe9': expected 1-64 characters of A-Z a-z 0-9 . _ @ -");
	free(err);
}

/* Command lines refused here, as usage errors (exit 2), with no request
 * sent: the fake daemon would have answered them. */
static void local_usage_errors(void **state)
{
	struct daemons *d = *state;
	char *err;
	/* An empty --socket named an abstract socket of NULs. */
	assert_int_equal(run(d->fake, NULL, &err, "--socket=", "token", "list", NULL), EXIT_USAGE);
	expect_said(err, "slopnctl: --socket: an empty path");
	free(err);
	assert_int_equal(run(d->fake, NULL, &err, "token", "list", "--socket", "", NULL), EXIT_USAGE);
	expect_said(err, "slopnctl: token list: --socket: an empty path");
	free(err);
	/* The daemon refuses a token named as the shared --token (1001). */
	assert_int_equal(run(d->fake, NULL, &err, "token", "add", "shared", NULL), EXIT_USAGE);
	expect_said(err, "slopnctl: token add: NAME 'shared' is reserved for the hub's shared --token\n");
	free(err);
	assert_int_equal(run(d->fake, NULL, &err, "token", "add", "Shared", NULL), 0); /* exact */
	free(err);
	/* A reason the daemon would cut (at 119 bytes), and a request over
	 * the 64 KiB it reads: said, not sent. The daemon answered the one
	 * and hung up on the other, said as a stale errno or not at all. */
	char reason[121];
	memset(reason, 'x', 120);
	reason[120] = '\0';
	assert_int_equal(run(d->fake, NULL, &err, "sessions", "kick", "7", "--reason", reason, NULL), EXIT_USAGE);
	expect_said(err, "slopnctl: sessions kick: --reason: 120 bytes, more than the 119 a client is told");
	free(err);
	reason[119] = '\0';
	assert_int_equal(run(d->fake, NULL, &err, "sessions", "kick", "7", "--reason", reason, NULL), EXIT_REFUSED);
	expect_said(err, "is a client's control socket"); /* sent: the fake refuses it */
	free(err);
	static char big[300001];
	memset(big, 'x', sizeof(big) - 1);
	assert_int_equal(run(d->fake, NULL, &err, "sessions", "kick", "--token", big, NULL), EXIT_USAGE);
	expect_said(err, "slopnctl: sessions kick: the request would be 300");
	expect_said(err, " bytes, more than the 65536 slopnd takes (a value given too long?)\n");
	free(err);
}

static int shell_main(int argc, char **argv)
{
	(void)argc, (void)argv;
	int rc = shell_run();
	in_shell = false; /* the other tests' usage errors are a command line's */
	signal(SIGINT, SIG_DFL);
	return rc;
}

/* The shell on piped input, stdout to /dev/null: its exit code, what it
 * said on stderr in *err. */
static int run_shell(const char *socket, const char *input, char **err)
{
	setenv("HOME", "/nonexistent", 1); /* no history read */
	return captured(socket, NULL, input, err, shell_main, 0, NULL);
}

/* Piped commands exit with the status of the first line that failed, a
 * line that cannot be split into words (an unclosed quote, too many words)
 * too: a script's caller sees a failure whatever ran after it. */
static void piped_shell(void **state)
{
	struct daemons *d = *state;
	char *err;
	assert_int_equal(run_shell(d->fake, "token list\ntoken add \"x\n", &err), EXIT_USAGE);
	assert_string_equal(err, "slopnctl: unclosed quote (a ' or \" without its closing one); the "
	                         "line was not run\n");
	free(err);
	char many[256] = "token list\n";
	for (int i = 0; i < 65; i++)
		strcat(many, "x ");
	assert_int_equal(run_shell(d->fake, strcat(many, "\n"), &err), EXIT_USAGE);
	assert_string_equal(err, "slopnctl: more than 64 words on one line; the line was not run\n");
	free(err);
	/* A bad line, then a good one: the bad one's status. */
	assert_int_equal(run_shell(d->fake, "token add 'x\ntoken list\n", &err), EXIT_USAGE);
	free(err);
	/* Refused (1), then a usage error (2), then fine: the first. */
	assert_int_equal(run_shell(d->fake, "bans list\ntoken add 'x\ntoken list\n", &err), EXIT_REFUSED);
	free(err);
	assert_int_equal(run_shell(d->fake, "token list\n", &err), 0);
	assert_string_equal(err, "");
	free(err);
	/* CRLF line ends (a file from Windows): the \r is no part of the
	 * command, nor is a blank line of one. */
	assert_int_equal(run_shell(d->fake, "token list\r\n\r\nsessions list --json\r\n", &err), 0);
	assert_string_equal(err, "");
	free(err);
}

/* Piped commands and Ctrl-C (SIGINT): the whole batch ends, killed by
 * it as a script is, not just the line running, nor (SIGINT while it
 * read the next line) as if the input had ended, status 0. */
static void piped_ctrl_c(void **state)
{
	struct daemons *d = *state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		int null = open("/dev/null", O_WRONLY);
		dup2(p[0], 0);
		dup2(null, 1);
		dup2(null, 2);
		close(p[1]);
		setenv("HOME", "/nonexistent", 1);
		sock_path = d->fake;
		_exit(shell_run());
	}
	close(p[0]);
	assert_true(write(p[1], "token list\n", 11) == 11);
	struct timespec t0, nap = {0, 300 * 1000000};
	nanosleep(&nap, NULL); /* the line run, the next awaited */
	kill(pid, SIGINT);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int status = 0;
	pid_t w;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && ms_since(&t0) < 3000)
		nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(p[1]);
		fail_msg("piped slopnctl still runs 3 s after a SIGINT");
	}
	close(p[1]);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGINT)
		fail_msg("piped slopnctl after a SIGINT: %s %d, not killed by SIGINT",
		         WIFSIGNALED(status) ? "signal" : "exit",
		         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* Options between a noun and its verb, as before or after the command. */
static void options_within(void **state)
{
	struct daemons *d = *state;
	char *err, out[64];
	snprintf(out, sizeof(out), "%s/out", d->dir);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(run("/nonexistent", out, &err, "token", "--json", "--socket", d->fake, "list",
	                     NULL), 0);
	assert_string_equal(err, "");
	free(err);
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	char *said = slurp(f);
	json_t *j = json_loads(said, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "tokens")), 4);
	json_decref(j);
	free(said);
	unlink(out);
	assert_int_equal(run(d->fake, NULL, &err, "token", "--bogus", "list", NULL), EXIT_USAGE);
	expect_said(err, "slopnctl: unknown option '--bogus'\n");
	free(err);
	assert_int_equal(run(d->fake, NULL, &err, "token", "--json", NULL), EXIT_USAGE);
	expect_said(err, "slopnctl: token: needs one of: add, list, set, remove\n");
	free(err);
	/* A NAME that begins with '-' after "--"; without, an option. */
	assert_int_equal(run(d->fake, NULL, &err, "token", "remove", "--", "-dash", NULL), EXIT_REFUSED);
	expect_said(err, "is a client's control socket"); /* sent: the fake has no token.remove */
	free(err);
	assert_int_equal(run(d->fake, NULL, &err, "token", "remove", "-dash", NULL), EXIT_USAGE);
	free(err);
	/* A "--" before the verb ends the options for its words too. */
	assert_int_equal(run(d->fake, NULL, &err, "token", "--", "remove", "-dash", NULL), EXIT_REFUSED);
	expect_said(err, "is a client's control socket");
	free(err);
	assert_int_equal(run(d->fake, NULL, &err, "token", "--json", "--", "remove", "--", "-dash", NULL),
	                 EXIT_USAGE);
	expect_said(err, "unexpected argument '-dash'");
	free(err);
	assert_int_equal(run(d->fake, NULL, &err, "token", "--json", "lst", NULL), EXIT_USAGE);
	expect_said(err, "slopnctl: token: unknown subcommand 'lst'");
	free(err);
}

/* A shell line's words, as a POSIX shell splits them: inside "..." a
 * backslash escapes only $ ` " \ and stays before anything else. */
static void shell_quoting(void **state)
{
	struct daemons *d = *state;
	char *err;
	assert_int_equal(run_shell(d->fake, "token add \"a\\b\"\n", &err), EXIT_USAGE);
	expect_said(err, "NAME 'a\\b': expected");
	free(err);
	assert_int_equal(run_shell(d->fake, "token add \"a\\\"b\\\\c\\$\"\n", &err), EXIT_USAGE);
	expect_said(err, "NAME 'a\"b\\c$': expected");
	free(err);
	assert_int_equal(run_shell(d->fake, "token add 'a\\b'\n", &err), EXIT_USAGE);
	expect_said(err, "NAME 'a\\b': expected");
	free(err);
	/* Outside quotes, it escapes any character. */
	assert_int_equal(run_shell(d->fake, "token add a\\b\n", &err), 0);
	assert_string_equal(err, "");
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_answers),
		cmocka_unit_test(bad_answers),
		cmocka_unit_test(any_shape),
	};
	const struct CMUnitTest commands_run[] = {
		cmocka_unit_test(no_answer),
		cmocka_unit_test(trickle),
		cmocka_unit_test(monitor_ends),
		cmocka_unit_test(monitor_behind),
		cmocka_unit_test(monitor_reader_gone),
		cmocka_unit_test(ctrl_c),
		cmocka_unit_test(ctrl_c_before_wait),
		cmocka_unit_test(full_disk),
		cmocka_unit_test(secret_kept),
		cmocka_unit_test(completion),
		cmocka_unit_test(completion_stuck),
		cmocka_unit_test(refused),
		cmocka_unit_test(piped_shell),
		cmocka_unit_test(not_utf8),
		cmocka_unit_test(local_usage_errors),
		cmocka_unit_test(shell_quoting),
		cmocka_unit_test(options_within),
		cmocka_unit_test(piped_ctrl_c),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) |
	       cmocka_run_group_tests(commands_run, daemons_up, daemons_down);
}
