/* slopnctl token add|list|remove */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/format.h"
#include "ctl/slopnctl.h"

int cmd_token_add(int fd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"expires", required_argument, NULL, 'e'},
		{"vip", required_argument, NULL, 'v'},
		{0},
	};
	const char *vip = NULL;
	uint64_t expires = 0;
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'e') {
			if (parse_duration(optarg, &expires) < 0 || expires == 0) {
				fprintf(stderr, "slopnctl: --expires '%s': expected a duration such as 30d, 12h, 90m or 1w2d\n", optarg);
				return EXIT_USAGE;
			}
		} else if (o == 'v') {
			struct in_addr a;
			if (inet_pton(AF_INET, optarg, &a) != 1) {
				fprintf(stderr, "slopnctl: --vip '%s': not an IPv4 address\n", optarg);
				return EXIT_USAGE;
			}
			vip = optarg;
		} else {
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: slopnctl token add NAME [--expires DURATION] [--vip IP]\n");
		return EXIT_USAGE;
	}
	json_t *params = json_pack("{s:s}", "name", argv[optind]);
	if (expires)
		json_object_set_new(params, "expires_in", json_integer((json_int_t)expires));
	if (vip)
		json_object_set_new(params, "vip", json_string(vip));
	int rc;
	json_t *r = rpc_call(fd, "token.add", params, &rc);
	if (!r)
		return rc;
	if (json_out)
		return print_json(r), json_decref(r), 0;
	const char *invite = json_string_value(json_object_get(r, "invite"));
	printf("token '%s' added; its secret is shown only now.\n", argv[optind]);
	printf("  token:   %s\n", json_string_value(json_object_get(r, "token")));
	if (invite) {
		printf("  invite:  %s\n", invite);
		printf("on the client: slopnd client '%s'\n", invite);
	} else {
		printf("  invite:  none: the hub listens on a wildcard address; set public-address\n"
		       "           in slopnd.conf (or --public-address) to get invites\n");
	}
	json_int_t exp = json_integer_value(json_object_get(r, "expires"));
	if (exp) {
		char d[32];
		time_t now = time(NULL);
		printf("  expires: in %s\n", fmt_duration(exp > now ? (uint64_t)(exp - now) : 0, d, sizeof(d)));
	}
	if (json_string_value(json_object_get(r, "vip")))
		printf("  vip:     %s (fixed)\n", json_string_value(json_object_get(r, "vip")));
	json_decref(r);
	return 0;
}

/* "5m12s ago", "in 29d23h", "never", "expired" */
static void when(json_t *v, bool future, char *buf, size_t len)
{
	if (!json_is_integer(v)) {
		snprintf(buf, len, "never");
		return;
	}
	time_t now = time(NULL), t = (time_t)json_integer_value(v);
	char d[32];
	if (future && t <= now)
		snprintf(buf, len, "expired");
	else if (future)
		snprintf(buf, len, "in %s", fmt_duration((uint64_t)(t - now), d, sizeof(d)));
	else
		snprintf(buf, len, "%s ago", fmt_duration(now > t ? (uint64_t)(now - t) : 0, d, sizeof(d)));
}

int cmd_token_list(int fd, int argc, char **argv)
{
	int rc;
	json_t *r = rpc_call(fd, "token.list", NULL, &rc);
	if (!r)
		return rc;
	if (json_out)
		return print_json(r), json_decref(r), 0;
	json_t *list = json_object_get(r, "tokens");
	if (json_array_size(list) == 0) {
		puts("no tokens (add one with 'slopnctl token add NAME')");
		json_decref(r);
		return 0;
	}
	static const char *const head[] = {"NAME", "CREATED", "EXPIRES", "VIP", "LAST USED", "SESSIONS"};
	struct table *t = table_new(6, head);
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		char created[48], expires[48], used[48], n[16];
		if (json_is_true(json_object_get(e, "shared"))) {
			snprintf(created, sizeof(created), "(--token)");
		} else {
			time_t c = (time_t)json_integer_value(json_object_get(e, "created"));
			strftime(created, sizeof(created), "%Y-%m-%d %H:%M", localtime(&c));
		}
		when(json_object_get(e, "expires"), true, expires, sizeof(expires));
		when(json_object_get(e, "last_used"), false, used, sizeof(used));
		snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(json_object_get(e, "sessions")));
		const char *row[] = {json_string_value(json_object_get(e, "name")), created, expires,
		                     json_string_value(json_object_get(e, "vip")), used, n};
		table_row(t, row);
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(r);
	return 0;
}

int cmd_token_remove(int fd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"kick", no_argument, NULL, 'k'},
		{0},
	};
	bool kick = false;
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'k')
			kick = true;
		else
			return EXIT_USAGE;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: slopnctl token remove NAME [--kick]\n");
		return EXIT_USAGE;
	}
	int rc;
	json_t *r = rpc_call(fd, "token.remove",
	                     json_pack("{s:s, s:b}", "name", argv[optind], "kick", kick), &rc);
	if (!r)
		return rc;
	if (json_out)
		return print_json(r), json_decref(r), 0;
	long long k = (long long)json_integer_value(json_object_get(r, "kicked"));
	if (kick)
		printf("token '%s' removed; %lld session%s kicked\n", argv[optind], k, k == 1 ? "" : "s");
	else
		printf("token '%s' removed (its live sessions go on; 'slopnctl sessions kick --token %s' ends them)\n",
		       argv[optind], argv[optind]);
	json_decref(r);
	return 0;
}
