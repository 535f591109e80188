/* slopnctl token add|list|remove */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/format.h"
#include "ctl/slopnctl.h"
#include "proto/tokenfile.h"

/* A name the daemon would take: said here, so that it is a usage error
 * even without a daemon. */
static bool name_ok(const struct args *a, int *rc)
{
	if (token_name_valid(a->operand))
		return true;
	*rc = usage_error(a->cmd, "NAME '%s': expected 1-%d characters of A-Z a-z 0-9 . _ @ -",
	                  a->operand, TOKEN_NAME_MAX);
	return false;
}

/* --max-sessions N (1-65535), or with none_ok "none" (0). */
static int parse_limit(const char *text, bool none_ok, long *out)
{
	char *end;
	if (none_ok && !strcmp(text, "none"))
		return *out = 0, 0;
	*out = strtol(text, &end, 10);
	return end == text || *end || *out < 1 || *out > TOKEN_MAX_SESSIONS ? -1 : 0;
}

static int add(const struct args *a)
{
	const char *vip = flag_value(a, "vip"), *dur = flag_value(a, "expires");
	const char *max = flag_value(a, "max-sessions");
	uint64_t expires = 0;
	long limit = 0;
	int rc;
	if (!name_ok(a, &rc))
		return rc;
	if (dur && (parse_duration(dur, &expires) < 0 || expires == 0))
		return usage_error(a->cmd, "--expires '%s': expected a duration such as 30d, 12h, 90m or 1w2d", dur);
	if (max && parse_limit(max, false, &limit) < 0)
		return usage_error(a->cmd, "--max-sessions '%s': expected a number of sessions, 1-%d",
		                   max, TOKEN_MAX_SESSIONS);
	unsigned char addr[16];
	if (vip && inet_pton(AF_INET, vip, addr) != 1 && inet_pton(AF_INET6, vip, addr) != 1)
		return usage_error(a->cmd, "--vip '%s': not an IP address", vip);
	json_t *params = json_pack("{s:s}", "name", a->operand);
	if (expires)
		json_object_set_new(params, "expires_in", json_integer((json_int_t)expires));
	if (vip)
		json_object_set_new(params, "vip", json_string(vip));
	if (limit)
		json_object_set_new(params, "max_sessions", json_integer(limit));
	json_t *r = rpc_call(a, "token.add", params, &rc);
	if (!r)
		return rc;
	if (json_out)
		return print_json(r), json_decref(r), 0;
	const char *invite = json_string_value(json_object_get(r, "invite"));
	printf("token '%s' added; its secret is shown only now.\n", a->operand);
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
	if (json_string_value(json_object_get(r, "vip6")))
		printf("  vip6:    %s (fixed)\n", json_string_value(json_object_get(r, "vip6")));
	if (json_is_integer(json_object_get(r, "max_sessions")))
		printf("  limit:   %lld live sessions\n",
		       (long long)json_integer_value(json_object_get(r, "max_sessions")));
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

static int list(const struct args *a)
{
	int rc;
	json_t *r = rpc_call(a, "token.list", NULL, &rc);
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
	static const char *const head[] = {"NAME", "CREATED", "EXPIRES", "VIP", "VIP6", "LAST SEEN",
	                                   "LIVE", "SESSIONS", "RX", "TX"};
	struct table *t = table_new(10, head);
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		char created[48], expires[48], seen[48], live[48], n[24], rx[32], tx[32];
		if (json_is_true(json_object_get(e, "shared"))) {
			snprintf(created, sizeof(created), "(--token)");
		} else {
			time_t c = (time_t)json_integer_value(json_object_get(e, "created"));
			strftime(created, sizeof(created), "%Y-%m-%d %H:%M", localtime(&c));
		}
		json_int_t nlive = json_integer_value(json_object_get(e, "live"));
		when(json_object_get(e, "expires"), true, expires, sizeof(expires));
		if (nlive)
			snprintf(seen, sizeof(seen), "now");
		else
			when(json_object_get(e, "last_seen"), false, seen, sizeof(seen));
		json_t *max = json_object_get(e, "max_sessions");
		if (json_is_integer(max)) /* live/limit */
			snprintf(live, sizeof(live), "%lld/%lld", (long long)nlive,
			         (long long)json_integer_value(max));
		else
			snprintf(live, sizeof(live), "%lld", (long long)nlive);
		snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(json_object_get(e, "sessions")));
		fmt_bytes((uint64_t)json_integer_value(json_object_get(e, "rx_bytes")), rx, sizeof(rx));
		fmt_bytes((uint64_t)json_integer_value(json_object_get(e, "tx_bytes")), tx, sizeof(tx));
		const char *row[] = {json_string_value(json_object_get(e, "name")), created, expires,
		                     json_string_value(json_object_get(e, "vip")),
		                     json_string_value(json_object_get(e, "vip6")), seen, live, n, rx, tx};
		table_row(t, row);
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(r);
	return 0;
}

static int set(const struct args *a)
{
	const char *dur = flag_value(a, "expires"), *max = flag_value(a, "max-sessions");
	uint64_t expires = 0;
	long limit = 0;
	int rc;
	if (!name_ok(a, &rc))
		return rc;
	if (!dur && !max)
		return usage_error(a->cmd, "nothing to change: give --expires, --max-sessions or both");
	if (dur && strcmp(dur, "never") && (parse_duration(dur, &expires) < 0 || expires == 0))
		return usage_error(a->cmd, "--expires '%s': expected a duration such as 30d, 12h, 90m or "
		                   "1w2d, or never", dur);
	if (max && parse_limit(max, true, &limit) < 0)
		return usage_error(a->cmd, "--max-sessions '%s': expected a number of sessions, 1-%d, or "
		                   "none", max, TOKEN_MAX_SESSIONS);
	json_t *params = json_pack("{s:s}", "name", a->operand);
	if (dur)
		json_object_set_new(params, "expires_in", json_integer((json_int_t)expires));
	if (max)
		json_object_set_new(params, "max_sessions", json_integer(limit));
	json_t *r = rpc_call(a, "token.set", params, &rc);
	if (!r)
		return rc;
	if (json_out)
		return print_json(r), json_decref(r), 0;
	char until[48], lim[48] = "no session limit";
	when(json_object_get(r, "expires"), true, until, sizeof(until));
	if (json_is_integer(json_object_get(r, "max_sessions")))
		snprintf(lim, sizeof(lim), "at most %lld live sessions",
		         (long long)json_integer_value(json_object_get(r, "max_sessions")));
	printf("token '%s': expires %s, %s\n", a->operand, until, lim);
	json_decref(r);
	return 0;
}

static int remove_(const struct args *a)
{
	bool kick = flag_value(a, "kick") != NULL;
	const char *name = a->operand;
	int rc;
	if (!name_ok(a, &rc))
		return rc;
	json_t *r = rpc_call(a, "token.remove", json_pack("{s:s, s:b}", "name", name, "kick", kick), &rc);
	if (!r)
		return rc;
	if (json_out)
		return print_json(r), json_decref(r), 0;
	long long k = (long long)json_integer_value(json_object_get(r, "kicked"));
	if (kick)
		printf("token '%s' removed; %lld session%s kicked\n", name, k, k == 1 ? "" : "s");
	else
		printf("token '%s' removed (its live sessions go on; 'slopnctl sessions kick --token %s' ends them)\n",
		       name, name);
	json_decref(r);
	return 0;
}

static const struct flag add_flags[] = {
	{.name = "expires", .value = "DURATION", .param = "expires_in",
	 .help = "refused after this long: 30d, 12h, 90m, 45s, 1w2d (default: never)"},
	{.name = "vip", .value = "IP", .param = "vip",
	 .help = "a fixed VIP for its clients, inside the hub's subnet"},
	{.name = "max-sessions", .value = "N", .param = "max_sessions",
	 .help = "at most N live sessions at once (default: no limit)"},
	{0},
};
const struct command cmd_token_add = {
	"token", "add", add, "NAME", "name", LIVE_NONE, add_flags,
	"a new token; prints its secret once, with an invite",
};

const struct command cmd_token_list = {
	"token", "list", list,
	.help = "tokens (never their secrets), their sessions and traffic over time",
};

static const struct flag set_flags[] = {
	{.name = "expires", .value = "DURATION", .param = "expires_in",
	 .help = "refused after this long from now, or never"},
	{.name = "max-sessions", .value = "N", .param = "max_sessions",
	 .help = "at most N live sessions at once, or none; sessions over it go on"},
	{0},
};
const struct command cmd_token_set = {
	"token", "set", set, "NAME", "name", LIVE_TOKEN, set_flags,
	"change a token's expiry or session limit; its secret stays",
};

static const struct flag remove_flags[] = {
	{.name = "kick", .help = "also end its live sessions"},
	{0},
};
const struct command cmd_token_remove = {
	"token", "remove", remove_, "NAME", "name", LIVE_TOKEN, remove_flags,
	"revoke a token; --kick also ends its sessions",
};
