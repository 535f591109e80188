/* slopnctl sessions list|kick */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/format.h"
#include "ctl/slopnctl.h"

static void show_list(struct answer *an, const struct args *a, json_t *r, FILE *out)
{
	(void)a;
	json_t *list = ans_arr(an, r, "sessions", REQUIRED);
	if (json_array_size(list) == 0) {
		fputs("no sessions\n", out);
		return;
	}
	static const char *const head[] = {"ID", "TOKEN", "VIP", "VIP6", "REMOTE", "SINCE", "RX",
	                                   "TX", "DROPS", "RTT", "CLIENT"};
	struct table *t = table_new(11, head);
	size_t i;
	json_t *s;
	json_array_foreach(list, i, s) {
		char id[24], since[32], rx[32], tx[32], drops[24], rtt[32], client[140];
		int64_t v;
		ans_at(an, "sessions", i);
		if (!json_is_object(s)) {
			ans_bad(an, "", "expected an object");
			break;
		}
		uint64_t nd = ans_counts(an, s, "drops", NULL, NULL);
		ans_int(an, s, "id", REQUIRED, 1, INT64_MAX, &v);
		snprintf(id, sizeof(id), "%lld", (long long)v);
		ans_int(an, s, "since", REQUIRED, 0, ANS_TIME_MAX, &v);
		fmt_since(v, since, sizeof(since));
		ans_int(an, s, "rx_bytes", REQUIRED, 0, INT64_MAX, &v);
		fmt_bytes((uint64_t)v, rx, sizeof(rx));
		ans_int(an, s, "tx_bytes", REQUIRED, 0, INT64_MAX, &v);
		fmt_bytes((uint64_t)v, tx, sizeof(tx));
		snprintf(drops, sizeof(drops), "%llu", (unsigned long long)nd);
		fmt_rtt(ans_num(an, s, "rtt_ms", REQUIRED, 0, 1e9), rtt, sizeof(rtt));
		const char *cv = ans_str(an, s, "client_version", OPTIONAL);
		const char *os = ans_str(an, s, "os", OPTIONAL);
		snprintf(client, sizeof(client), "%.64s/%.64s", cv ? cv : "?", os ? os : "?");
		const char *token = ans_str(an, s, "token", REQUIRED), *vip = ans_str(an, s, "vip", REQUIRED);
		const char *vip6 = ans_str(an, s, "vip6", OPTIONAL); /* null: "-" */
		const char *remote = ans_str(an, s, "remote", REQUIRED);
		const char *row[] = {id, token, vip, vip6, remote, since, rx, tx, drops, rtt, client};
		table_row(t, row);
	}
	table_print(t, out);
	table_free(t);
}

static int list(const struct args *a)
{
	return rpc_run(a, NULL);
}

/* The longest reason the daemon passes on whole (hub_control.c: "kicked: "
 * and it in 128 bytes with the NUL); a longer one it cuts. */
#define KICK_REASON_MAX 119

static int kick(const struct args *a)
{
	const char *target = a->operand, *token = flag_value(a, "token"),
	           *reason = flag_value(a, "reason");
	json_t *params = json_object();
	int rc = 0;
	if (token) {
		rc = param_text(a, params, "token", "--token", token);
	} else {
		char *end;
		unsigned char addr[16];
		errno = 0;
		long long id = strtoll(target, &end, 10);
		if (*target >= '0' && *target <= '9' && !*end && errno == ERANGE) {
			json_decref(params);
			return usage_error(a->cmd, "'%s': session ids go up to %lld", target, LLONG_MAX);
		}
		if (*target >= '0' && *target <= '9' && !*end && id > 0)
			json_object_set_new(params, "id", json_integer(id));
		else if (inet_pton(AF_INET, target, addr) == 1 || inet_pton(AF_INET6, target, addr) == 1)
			json_object_set_new(params, "vip", json_string(target));
		else {
			json_decref(params);
			return usage_error(a->cmd, "'%s' is neither a session id nor an address", target);
		}
	}
	if (!rc && reason && strlen(reason) > KICK_REASON_MAX)
		rc = usage_error(a->cmd, "--reason: %zu bytes, more than the %d a client is told (fewer "
		                 "characters than that outside ASCII)", strlen(reason), KICK_REASON_MAX);
	if (!rc && reason)
		rc = param_text(a, params, "reason", "--reason", reason);
	if (rc) {
		json_decref(params);
		return rc;
	}
	return rpc_run(a, params);
}

static void show_kick(struct answer *an, const struct args *a, json_t *r, FILE *out)
{
	(void)a;
	int64_t n;
	ans_int(an, r, "kicked", REQUIRED, 0, INT64_MAX, &n);
	fprintf(out, "kicked %lld session(s)\n", (long long)n);
}

const struct command cmd_sessions_list = {
	"sessions", "list", list, .help = "connected clients with live counters",
	.method = "sessions.list", .show = show_list,
};

static const struct flag kick_flags[] = {
	{.name = "token", .value = "NAME", .help = "every session of this token", .param = "token",
	 .live = LIVE_TOKEN, .instead = true},
	{.name = "reason", .value = "TEXT", .param = "reason",
	 .help = "what the clients are told (default: kicked by the administrator)"},
	{0},
};
const struct command cmd_sessions_kick = {
	"sessions", "kick", kick, "ID|VIP", "id vip", LIVE_SESSION, kick_flags,
	"disconnect clients; they see the reason and reconnect",
	.method = "sessions.kick", .show = show_kick, .check = "sessions list",
};
