/* slopnctl sessions list|kick */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/format.h"
#include "ctl/slopnctl.h"

int cmd_sessions_list(int fd, int argc, char **argv)
{
	int rc;
	json_t *r = rpc_call(fd, "sessions.list", NULL, &rc);
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
	static const char *const head[] = {"ID", "TOKEN", "VIP", "REMOTE", "SINCE", "RX", "TX",
	                                   "DROPS", "RTT", "CLIENT"};
	struct table *t = table_new(10, head);
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
		                     json_string_value(json_object_get(s, "remote")),
		                     since, rx, tx, drops, rtt, client};
		table_row(t, row);
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(r);
	return 0;
}

int cmd_sessions_kick(int fd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"token", required_argument, NULL, 't'},
		{"reason", required_argument, NULL, 'r'},
		{0},
	};
	const char *token = NULL, *reason = NULL;
	int o;
	optind = 0; /* 0, not 1: a full restart of GNU getopt after main's own parse */
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 't')
			token = optarg;
		else if (o == 'r')
			reason = optarg;
		else
			return EXIT_USAGE;
	}
	const char *target = optind < argc ? argv[optind] : NULL;
	if (!!target + !!token != 1 || (target && optind + 1 != argc)) {
		fprintf(stderr, "usage: slopnctl sessions kick ID|VIP|--token NAME [--reason TEXT]\n");
		return EXIT_USAGE;
	}
	json_t *params = json_object();
	char *end;
	long long id = target ? strtoll(target, &end, 10) : 0;
	if (token)
		json_object_set_new(params, "token", json_string(token));
	else if (*target && !*end && id > 0)
		json_object_set_new(params, "id", json_integer(id));
	else
		json_object_set_new(params, "vip", json_string(target));
	if (reason)
		json_object_set_new(params, "reason", json_string(reason));
	int rc;
	json_t *r = rpc_call(fd, "sessions.kick", params, &rc);
	if (!r)
		return rc;
	if (json_out)
		print_json(r);
	else
		printf("kicked %lld session(s)\n", (long long)json_integer_value(json_object_get(r, "kicked")));
	json_decref(r);
	return 0;
}
