/* slopnctl sessions list|kick */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/format.h"
#include "ctl/slopnctl.h"

static int list(const struct args *a)
{
	int rc;
	json_t *r = rpc_call(a, "sessions.list", NULL, &rc);
	if (!r)
		return rc;
	if (json_out)
		return print_json(r), json_decref(r), 0;
	json_t *list = json_object_get(r, "sessions");
	if (json_array_size(list) == 0) {
		puts("no sessions");
		json_decref(r);
		return 0;
	}
	static const char *const head[] = {"ID", "TOKEN", "VIP", "VIP6", "REMOTE", "SINCE", "RX",
	                                   "TX", "DROPS", "RTT", "CLIENT"};
	struct table *t = table_new(11, head);
	size_t i;
	json_t *s;
	time_t now = time(NULL);
	json_array_foreach(list, i, s) {
		char id[24], since[32], rx[32], tx[32], drops[24], rtt[32], client[140];
		uint64_t nd = 0;
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(s, "drops"), k, v)
			nd += (uint64_t)json_integer_value(v);
		snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(s, "id")));
		json_int_t t0 = json_integer_value(json_object_get(s, "since"));
		fmt_duration(now > t0 ? (uint64_t)(now - t0) : 0, since, sizeof(since));
		fmt_bytes((uint64_t)json_integer_value(json_object_get(s, "rx_bytes")), rx, sizeof(rx));
		fmt_bytes((uint64_t)json_integer_value(json_object_get(s, "tx_bytes")), tx, sizeof(tx));
		snprintf(drops, sizeof(drops), "%llu", (unsigned long long)nd);
		fmt_rtt(json_real_value(json_object_get(s, "rtt_ms")), rtt, sizeof(rtt));
		snprintf(client, sizeof(client), "%s/%s",
		         json_string_value(json_object_get(s, "client_version")) ?: "?",
		         json_string_value(json_object_get(s, "os")) ?: "?");
		const char *row[] = {id, json_string_value(json_object_get(s, "token")),
		                     json_string_value(json_object_get(s, "vip")),
		                     json_string_value(json_object_get(s, "vip6")), /* null: "-" */
		                     json_string_value(json_object_get(s, "remote")),
		                     since, rx, tx, drops, rtt, client};
		table_row(t, row);
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(r);
	return 0;
}

static int kick(const struct args *a)
{
	const char *target = a->operand, *token = flag_value(a, "token"),
	           *reason = flag_value(a, "reason");
	json_t *params = json_object();
	if (token) {
		json_object_set_new(params, "token", json_string(token));
	} else {
		char *end;
		unsigned char addr[16];
		long long id = strtoll(target, &end, 10);
		if (*target >= '0' && *target <= '9' && !*end && id > 0)
			json_object_set_new(params, "id", json_integer(id));
		else if (inet_pton(AF_INET, target, addr) == 1 || inet_pton(AF_INET6, target, addr) == 1)
			json_object_set_new(params, "vip", json_string(target));
		else {
			json_decref(params);
			return usage_error(a->cmd, "'%s' is neither a session id nor an address", target);
		}
	}
	if (reason)
		json_object_set_new(params, "reason", json_string(reason));
	int rc;
	json_t *r = rpc_call(a, "sessions.kick", params, &rc);
	if (!r)
		return rc;
	if (json_out)
		print_json(r);
	else
		printf("kicked %lld session(s)\n", (long long)json_integer_value(json_object_get(r, "kicked")));
	json_decref(r);
	return 0;
}

const struct command cmd_sessions_list = {
	"sessions", "list", list, .help = "connected clients with live counters",
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
};
