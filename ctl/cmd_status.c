/* slopnctl status: either role's state in a few lines. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl/format.h"
#include "ctl/slopnctl.h"

/* The drop counters that are not 0, by reason (docs/control-api.md). */
static void print_drops(json_t *totals)
{
	const char *reason;
	json_t *v;
	int n = 0;
	fputs("drops:     ", stdout);
	json_object_foreach(json_object_get(totals, "drops"), reason, v)
		if (json_integer_value(v))
			printf("%s%s %lld", n++ ? ", " : "", reason, (long long)json_integer_value(v));
	puts(n ? "" : "none");
}

/* Only when someone set the TUN down (both roles say so). */
static void print_tun(json_t *r)
{
	if (json_is_false(json_object_get(r, "tun_up")))
		printf("tun:       down (set down outside slopnd): nothing passes it until it is up\n");
}

/* The hub's connection limits at work (server.status admission); a hub
 * from before them has none. */
static void print_admission(json_t *adm)
{
	static const char *const counters[][2] = {
		{"refused", "refused"}, {"refused_banned", "refused for a ban"},
		{"closed_no_login", "closed for no login"},
		{"closed_by_limit", "closed by limits"}, {"retry_sent", "Retry sent"},
		{"oversize_logins", "oversized logins"}, {"bad_datagrams", "bad datagrams"},
	};
	if (!json_is_object(adm))
		return;
	printf("waiting:   %lld handshakes, %lld awaiting login\nlimits:    ",
	       (long long)json_integer_value(json_object_get(adm, "handshakes")),
	       (long long)json_integer_value(json_object_get(adm, "awaiting_login")));
	int n = 0;
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		json_int_t v = json_integer_value(json_object_get(adm, counters[i][0]));
		if (v)
			printf("%s%lld %s", n++ ? ", " : "", (long long)v, counters[i][1]);
	}
	puts(n ? "" : "none at work");
}

static int status(const struct args *args)
{
	int rc;
	json_t *r = rpc_call(args, "server.status", NULL, &rc);
	if (!r)
		return rc;
	if (json_out)
		return print_json(r), json_decref(r), 0;
	char a[32], b[32], d[32];
	json_t *t = json_object_get(r, "totals");
	const char *role = json_string_value(json_object_get(r, "role"));
	if (role && !strcmp(role, "client")) {
		bool up = json_is_true(json_object_get(r, "connected"));
		json_int_t since = json_integer_value(json_object_get(r, "since"));
		time_t now = time(NULL);
		const char *server = json_string_value(json_object_get(r, "server")),
		           *addr = json_string_value(json_object_get(r, "hub_addr"));
		/* A name: which of its addresses is in use. */
		bool at = addr && server && strcmp(addr, server) != 0;
		/* Not connected: what it does now, and why the last attempt failed. */
		const char *state = json_string_value(json_object_get(r, "state")),
		           *problem = json_string_value(json_object_get(r, "last_error"));
		json_t *retry = json_object_get(r, "retry_in_ms");
		char doing[64] = "";
		if (!up && state && !strcmp(state, "resolving"))
			snprintf(doing, sizeof(doing), " (looking up its name)");
		else if (!up && state && !strcmp(state, "connecting"))
			snprintf(doing, sizeof(doing), " (connecting)");
		else if (!up && json_is_integer(retry))
			snprintf(doing, sizeof(doing), " (next attempt in %s)",
			         fmt_duration((uint64_t)(json_integer_value(retry) + 999) / 1000, d, sizeof(d)));
		printf("role:      client\nversion:   %s\nserver:    %s%s%s\nconnected: %s%s\n",
		       json_string_value(json_object_get(r, "version")), server, at ? " at " : "",
		       at ? addr : "", up ? "yes" : "no", doing);
		if (!up && problem)
			printf("problem:   %s\n", problem);
		print_tun(r);
		if (up)
			printf("vip:       %s (hub %s)\n", json_string_value(json_object_get(r, "vip")),
			       json_string_value(json_object_get(r, "hub_vip")));
		if (up && json_is_string(json_object_get(r, "vip6")))
			printf("vip6:      %s (hub %s)\n", json_string_value(json_object_get(r, "vip6")),
			       json_string_value(json_object_get(r, "hub_vip6")));
		if (up)
			printf("since:     %s\nrtt:       %s\n",
			       fmt_duration(now > since ? (uint64_t)(now - since) : 0, d, sizeof(d)),
			       fmt_rtt(json_real_value(json_object_get(r, "rtt_ms")), a, sizeof(a)));
		if (up)
			printf("packets:   up to %lld bytes, in QUIC packets of %lld\n",
			       (long long)json_integer_value(json_object_get(r, "max_packet")),
			       (long long)json_integer_value(json_object_get(r, "udp_payload")));
		if (json_is_true(json_object_get(r, "full_tunnel")))
			printf("routes:    everything through the tunnel%s\n",
			       json_is_true(json_object_get(r, "full_tunnel6")) ? " (IPv4 and IPv6)" : "");
		if (json_is_true(json_object_get(r, "dns")))
			printf("dns:       the hub's\n");
		json_t *ks = json_object_get(r, "kill_switch");
		if (json_is_object(ks)) {
			json_t *dropped = json_object_get(ks, "dropped_pkts");
			printf("kill:      on, ");
			if (json_is_integer(dropped))
				printf("%lld packets dropped", (long long)json_integer_value(dropped));
			else
				printf("its drops unknown");
			json_t *hubs = json_object_get(ks, "hubs");
			size_t nh = json_array_size(hubs);
			for (size_t i = 0; i < nh; i++)
				printf("%s%s", i ? ", " : "; lets out ",
				       json_string_value(json_array_get(hubs, i)) ?: "?");
			if (json_is_true(json_object_get(ks, "dns")))
				printf("%s slopnd's DNS lookups of the hub's name", nh ? " and" : "; lets out");
			printf("\n");
		}
		printf("traffic:   %s in, %s out\n",
		       fmt_bytes((uint64_t)json_integer_value(json_object_get(t, "rx_bytes")), a, sizeof(a)),
		       fmt_bytes((uint64_t)json_integer_value(json_object_get(t, "tx_bytes")), b, sizeof(b)));
		print_drops(t);
		json_decref(r);
		return 0;
	}
	printf("role:      %s\nversion:   %s\nlisten:    %s\nsubnet:    %s (hub %s)\n",
	       json_string_value(json_object_get(r, "role")),
	       json_string_value(json_object_get(r, "version")),
	       json_string_value(json_object_get(r, "listen")),
	       json_string_value(json_object_get(r, "subnet")),
	       json_string_value(json_object_get(r, "hub_vip")));
	print_tun(r);
	if (json_is_string(json_object_get(r, "subnet6")))
		printf("subnet6:   %s (hub %s)\n", json_string_value(json_object_get(r, "subnet6")),
		       json_string_value(json_object_get(r, "hub_vip6")));
	printf("sessions:  %lld\nuptime:    %s\npin:       %s\ntraffic:   %s in, %s out\n",
	       (long long)json_integer_value(json_object_get(r, "sessions")),
	       fmt_duration((uint64_t)json_integer_value(json_object_get(r, "uptime")), d, sizeof(d)),
	       json_string_value(json_object_get(r, "pin")),
	       fmt_bytes((uint64_t)json_integer_value(json_object_get(t, "rx_bytes")), a, sizeof(a)),
	       fmt_bytes((uint64_t)json_integer_value(json_object_get(t, "tx_bytes")), b, sizeof(b)));
	json_t *nat = json_object_get(r, "nat");
	if (json_is_object(nat)) {
		const char *e6 = json_string_value(json_object_get(nat, "egress6"));
		printf("nat:       out of %s (%s)%s%s\n", json_string_value(json_object_get(nat, "egress")),
		       json_string_value(json_object_get(nat, "backend")), e6 ? ", IPv6 out of " : "",
		       e6 ? e6 : "");
	}
	print_drops(t);
	print_admission(json_object_get(r, "admission"));
	json_decref(r);
	return 0;
}

const struct command cmd_status = {
	"status", NULL, status, .help = "the daemon's role, address, sessions and traffic",
};
