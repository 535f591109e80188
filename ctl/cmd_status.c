/* slopnctl status: either role's state in a few lines. */
#include <stdio.h>
#include <string.h>

#include "ctl/format.h"
#include "ctl/slopnctl.h"

/* The drop counters that are not 0, by reason (docs/control-api.md). */
struct drops {
	FILE *out;
	int n;
};

static void one_drop(const char *reason, uint64_t n, void *ctx)
{
	struct drops *d = ctx;
	if (n)
		fprintf(d->out, "%s%.40s %llu", d->n++ ? ", " : "", reason, (unsigned long long)n);
}

static void print_drops(struct answer *an, json_t *totals, FILE *out)
{
	struct drops d = {out, 0};
	fputs("drops:     ", out);
	ans_in(an, "totals");
	ans_counts(an, totals, "drops", one_drop, &d);
	ans_in(an, "");
	fputs(d.n ? "\n" : "none\n", out);
}

/* "12 KiB in, 3.4 MiB out" from totals */
static void print_traffic(struct answer *an, json_t *totals, FILE *out)
{
	char a[32], b[32];
	int64_t rx, tx;
	ans_in(an, "totals");
	ans_int(an, totals, "rx_bytes", REQUIRED, 0, INT64_MAX, &rx);
	ans_int(an, totals, "tx_bytes", REQUIRED, 0, INT64_MAX, &tx);
	ans_in(an, "");
	fprintf(out, "traffic:   %s in, %s out\n", fmt_bytes((uint64_t)rx, a, sizeof(a)),
	        fmt_bytes((uint64_t)tx, b, sizeof(b)));
}

/* The TUN's name, which tells one daemon on the machine from another (a
 * daemon from before it has none); and when someone set it down (both
 * roles say so). */
static void print_tun(struct answer *an, json_t *r, FILE *out)
{
	const char *name = ans_str(an, r, "tun", OPTIONAL);
	json_t *up = json_object_get(r, "tun_up");
	if (up && !json_is_boolean(up))
		ans_bad(an, "tun_up", "expected true or false");
	if (json_is_false(up))
		fprintf(out, "tun:       %s%sdown (set down outside slopnd): nothing passes it until it is "
		        "up\n", name ? name : "", name ? ", " : "");
	else if (name)
		fprintf(out, "tun:       %s\n", name);
}

/* The hub's connection limits at work (server.status admission); a hub
 * from before them has none. */
static void print_admission(struct answer *an, json_t *r, FILE *out)
{
	static const char *const counters[][2] = {
		{"refused", "refused"}, {"refused_banned", "refused for a ban"},
		{"closed_no_login", "closed for no login"},
		{"closed_by_limit", "closed by limits"}, {"retry_sent", "Retry sent"},
		{"oversize_logins", "oversized logins"}, {"bad_datagrams", "bad datagrams"},
		{"initials_dropped", "Initials dropped while busy"},
		{"initials_excess", "Initials over a handshake's share"},
	};
	json_t *adm = ans_obj(an, r, "admission", OPTIONAL);
	if (!adm)
		return;
	int64_t hs, waiting;
	ans_in(an, "admission");
	ans_int(an, adm, "handshakes", REQUIRED, 0, INT64_MAX, &hs);
	ans_int(an, adm, "awaiting_login", REQUIRED, 0, INT64_MAX, &waiting);
	int64_t queued = 0;
	ans_int(an, adm, "handshakes_queued", OPTIONAL, 0, INT64_MAX, &queued);
	fprintf(out, "waiting:   %lld handshakes", (long long)hs);
	if (queued)
		fprintf(out, " (%lld more queued)", (long long)queued);
	fprintf(out, ", %lld awaiting login\nlimits:    ", (long long)waiting);
	int n = 0;
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		int64_t v;
		if (ans_int(an, adm, counters[i][0], OPTIONAL, 0, INT64_MAX, &v) && v)
			fprintf(out, "%s%lld %s", n++ ? ", " : "", (long long)v, counters[i][1]);
	}
	ans_in(an, "");
	fputs(n ? "\n" : "none at work\n", out);
}

/* The hub's state files whose last save failed (a full disk), whichever
 * it names; a hub from before save_errors has none. */
static void print_saves(struct answer *an, json_t *r, FILE *out)
{
	json_t *o = ans_obj(an, r, "save_errors", OPTIONAL), *v;
	if (!o)
		return;
	ans_in(an, "save_errors");
	const char *file;
	json_object_foreach(o, file, v) {
		const char *err = ans_str(an, o, file, OPTIONAL);
		char clean[64];
		ans_clean_key(file, clean, sizeof(clean));
		if (err)
			fprintf(out, "unsaved:   %s: %s\n", clean, err);
	}
	ans_in(an, "");
}

/* What the hub's last reload kept back; a hub from before reload has none. */
static void print_reload(struct answer *an, json_t *r, FILE *out)
{
	json_t *o = ans_obj(an, r, "reload", OPTIONAL);
	if (!o)
		return;
	ans_in(an, "reload");
	const char *err = ans_str(an, o, "error", OPTIONAL);
	if (err)
		fprintf(out, "reload:    failed: %s\n", err);
	ans_in(an, "");
}

static void show_client(struct answer *an, json_t *r, FILE *out)
{
	char a[32], d[32];
	bool up = ans_bool(an, r, "connected");
	const char *server = ans_str(an, r, "server", REQUIRED), *addr = ans_str(an, r, "hub_addr", OPTIONAL);
	/* A name: which of its addresses is in use. */
	bool at = addr && strcmp(addr, server) != 0;
	/* Not connected: what it does now, and why the last attempt failed. */
	const char *state = ans_str(an, r, "state", OPTIONAL),
	           *problem = ans_str(an, r, "last_error", OPTIONAL);
	int64_t retry, watch, attempts;
	bool has_retry = ans_int(an, r, "retry_in_ms", OPTIONAL, 0, INT64_MAX / 2, &retry);
	bool has_watch = ans_int(an, r, "watch_every_ms", OPTIONAL, 1, INT64_MAX / 2, &watch);
	char doing[160] = "", w[32];
	if (!up && state && !strcmp(state, "resolving"))
		snprintf(doing, sizeof(doing), " (looking up its name)");
	else if (!up && state && !strcmp(state, "connecting"))
		snprintf(doing, sizeof(doing), " (connecting)");
	else if (!up && has_retry) {
		/* Probes under a second apart while the hub restarts. */
		if (has_watch && watch < 1000)
			snprintf(w, sizeof(w), "%lldms", (long long)watch);
		else if (has_watch)
			fmt_duration((uint64_t)(watch + 999) / 1000, w, sizeof(w));
		snprintf(doing, sizeof(doing), " (next attempt in %s%s%s)",
		         fmt_duration((uint64_t)(retry + 999) / 1000, d, sizeof(d)),
		         has_watch ? ", sooner if the hub answers a probe, sent every " : "",
		         has_watch ? w : "");
	}
	const char *version = ans_str(an, r, "version", REQUIRED), *build = ans_str(an, r, "build", OPTIONAL);
	fprintf(out, "role:      client\nversion:   %s%s%s%s\nserver:    %s%s%s\nconnected: %s%s\n",
	        version, build ? " (build " : "", build ? build : "", build ? ")" : "", server, at ? " at " : "", at ? addr : "", up ? "yes" : "no", doing);
	if (!up && problem)
		fprintf(out, "problem:   %s\n", problem);
	if (ans_int(an, r, "attempts", OPTIONAL, 0, INT64_MAX, &attempts) && !up && attempts)
		fprintf(out, "attempts:  %lld since the last connection\n", (long long)attempts);
	/* How the last connection ended (a kick, a lost hub), also once back. */
	json_t *down = ans_obj(an, r, "last_disconnect", OPTIONAL);
	if (down) {
		int64_t when;
		ans_in(an, "last_disconnect");
		const char *why = ans_str(an, down, "reason", REQUIRED);
		ans_int(an, down, "at", REQUIRED, 0, ANS_TIME_MAX, &when);
		ans_in(an, "");
		if (up || !problem || strcmp(problem, why) != 0) /* else said just above */
			fprintf(out, "ended:     %s ago: %s\n", fmt_since(when, d, sizeof(d)), why);
	}
	print_tun(an, r, out);
	if (up) {
		const char *vip = ans_str(an, r, "vip", REQUIRED), *hub_vip = ans_str(an, r, "hub_vip", REQUIRED);
		fprintf(out, "vip:       %s (hub %s)\n", vip, hub_vip);
		const char *vip6 = ans_str(an, r, "vip6", OPTIONAL);
		if (vip6)
			fprintf(out, "vip6:      %s (hub %s)\n", vip6, ans_str(an, r, "hub_vip6", REQUIRED));
		int64_t since, max_packet, udp_payload;
		ans_int(an, r, "since", REQUIRED, 0, ANS_TIME_MAX, &since);
		double rtt = ans_num(an, r, "rtt_ms", REQUIRED, 0, 1e9);
		fprintf(out, "since:     %s\nrtt:       %s\n", fmt_since(since, d, sizeof(d)),
		        fmt_rtt(rtt, a, sizeof(a)));
		ans_int(an, r, "max_packet", REQUIRED, 0, 65535, &max_packet);
		ans_int(an, r, "udp_payload", REQUIRED, 0, 65535, &udp_payload);
		fprintf(out, "packets:   up to %lld bytes, in QUIC packets of %lld\n", (long long)max_packet,
		        (long long)udp_payload);
	}
	if (ans_bool(an, r, "full_tunnel"))
		fprintf(out, "routes:    everything through the tunnel%s\n",
		        ans_bool(an, r, "full_tunnel6") ? " (IPv4 and IPv6)"
		        : ans_bool(an, r, "ipv6_blocked") ? " (IPv4; IPv6 beyond it unreachable)" : "");
	if (ans_bool(an, r, "dns")) {
		const char *outside = ans_str(an, r, "dns_outside", OPTIONAL);
		if (outside)
			fprintf(out, "dns:       the hub's, but %s is reached outside the tunnel\n", outside);
		else
			fprintf(out, "dns:       the hub's\n");
	}
	json_t *ks = ans_obj(an, r, "kill_switch", OPTIONAL);
	if (ks) {
		int64_t dropped;
		ans_in(an, "kill_switch");
		fprintf(out, "kill:      on, ");
		if (ans_int(an, ks, "dropped_pkts", OPTIONAL, 0, INT64_MAX, &dropped))
			fprintf(out, "%lld packets dropped", (long long)dropped);
		else
			fprintf(out, "its drops unknown");
		json_t *hubs = ans_arr(an, ks, "hubs", OPTIONAL);
		for (size_t i = 0; i < json_array_size(hubs); i++)
			fprintf(out, "%s%s", i ? ", " : "; lets out ", ans_elem_str(an, hubs, i, "hubs"));
		if (ans_bool(an, ks, "dns"))
			fprintf(out, "%s slopnd's DNS lookups of the hub's name", json_array_size(hubs) ? " and" : "; lets out");
		int64_t back = 0;
		/* An older client does not count them. */
		if (ans_int(an, ks, "restored", OPTIONAL, 0, INT64_MAX, &back) && back)
			fprintf(out, "; found gone and put back %lld time%s", (long long)back,
			        back == 1 ? "" : "s");
		fputs("\n", out);
		ans_in(an, "");
	}
	json_t *t = ans_obj(an, r, "totals", REQUIRED);
	print_traffic(an, t, out);
	print_drops(an, t, out);
}

static void show_hub(struct answer *an, json_t *r, FILE *out)
{
	char d[32];
	/* One by one, so that the first problem is the first field's. */
	const char *version = ans_str(an, r, "version", REQUIRED), *listen = ans_str(an, r, "listen", REQUIRED);
	const char *subnet = ans_str(an, r, "subnet", REQUIRED), *hub_vip = ans_str(an, r, "hub_vip", REQUIRED);
	/* An older slopnd sends no build. */
	const char *build = ans_str(an, r, "build", OPTIONAL);
	fprintf(out, "role:      server\nversion:   %s%s%s%s\nlisten:    %s\nsubnet:    %s (hub %s)\n",
	        version, build ? " (build " : "", build ? build : "", build ? ")" : "", listen, subnet,
	        hub_vip);
	print_tun(an, r, out);
	const char *subnet6 = ans_str(an, r, "subnet6", OPTIONAL);
	if (subnet6)
		fprintf(out, "subnet6:   %s (hub %s)\n", subnet6, ans_str(an, r, "hub_vip6", REQUIRED));
	int64_t sessions, uptime;
	ans_int(an, r, "sessions", REQUIRED, 0, INT64_MAX, &sessions);
	ans_int(an, r, "uptime", REQUIRED, 0, INT64_MAX, &uptime);
	const char *pin = ans_str(an, r, "pin", REQUIRED);
	fprintf(out, "sessions:  %lld\nuptime:    %s\npin:       %s\n", (long long)sessions,
	        fmt_duration((uint64_t)uptime, d, sizeof(d)), pin);
	json_t *t = ans_obj(an, r, "totals", REQUIRED);
	print_traffic(an, t, out);
	json_t *nat = ans_obj(an, r, "nat", OPTIONAL);
	if (nat) {
		ans_in(an, "nat");
		const char *egress = ans_str(an, nat, "egress", REQUIRED);
		const char *backend = ans_str(an, nat, "backend", REQUIRED);
		const char *e6 = ans_str(an, nat, "egress6", OPTIONAL);
		int64_t back = 0;
		fprintf(out, "nat:       out of %s (%s)%s%s", egress, backend, e6 ? ", IPv6 out of " : "",
		        e6 ? e6 : "");
		/* An older hub does not count them. */
		if (ans_int(an, nat, "restored", OPTIONAL, 0, INT64_MAX, &back) && back)
			fprintf(out, "; rules found gone and put back %lld time%s", (long long)back,
			        back == 1 ? "" : "s");
		fputc('\n', out);
		ans_in(an, "");
	}
	print_drops(an, t, out);
	print_admission(an, r, out);
	print_saves(an, r, out);
	print_reload(an, r, out);
}

static void show(struct answer *an, const struct args *a, json_t *r, FILE *out)
{
	(void)a;
	const char *role = ans_str(an, r, "role", REQUIRED);
	if (!strcmp(role, "client"))
		show_client(an, r, out);
	else if (!strcmp(role, "server"))
		show_hub(an, r, out);
	else
		ans_bad(an, "role", "'%.32s' is neither client nor server", role);
}

static int status(const struct args *a)
{
	return rpc_run(a, NULL);
}

const struct command cmd_status = {
	"status", NULL, status, .help = "the daemon's role, address, sessions and traffic",
	.method = "server.status", .show = show,
};
