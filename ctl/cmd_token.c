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
 * even without a daemon. A new token's may not be the shared --token's
 * (the daemon refuses exactly that name, as the tokens file does). */
static bool name_ok(const struct args *a, bool adding, int *rc)
{
	if (adding && !strcmp(a->operand, TOKEN_NAME_SHARED)) {
		*rc = usage_error(a->cmd, "NAME '%s' is reserved for the hub's shared --token", a->operand);
		return false;
	}
	if (token_name_valid(a->operand))
		return true;
	*rc = usage_error(a->cmd, "NAME '%s': expected 1-%d characters of A-Z a-z 0-9 . _ @ -",
	                  a->operand, TOKEN_NAME_MAX);
	return false;
}

/* The daemon's longest expiry (token.add, token.set): checked here, so that
 * it is said in the command's own words, even without a daemon. */

/* --expires DURATION, or with never_ok "never" (0); a usage error (*rc)
 * that names what the command takes. */
static bool expires_ok(const struct args *a, bool never_ok, uint64_t *out, int *rc)
{
	const char *dur = flag_value(a, "expires");
	*out = 0;
	if (!dur || (never_ok && !strcmp(dur, "never")))
		return true;
	if (parse_duration(dur, out) == 0 && *out > 0 && *out <= TOKEN_EXPIRES_MAX_DAYS * UINT64_C(86400))
		return true;
	*rc = usage_error(a->cmd, "--expires '%s': expected a duration such as 30d, 12h, 90m or 1w2d, "
	                  "up to 100 years (%dd)%s", dur, TOKEN_EXPIRES_MAX_DAYS, never_ok ? ", or never" : "");
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

/* A time of o's key, in buf: "5m12s ago", "in 29d23h", "expired"; false
 * (and "never") when absent or null. */
static bool when(struct answer *an, json_t *o, const char *key, bool future, char *buf, size_t len)
{
	int64_t t;
	if (!ans_int(an, o, key, OPTIONAL, 0, ANS_TIME_MAX, &t)) {
		snprintf(buf, len, "never");
		return false;
	}
	int64_t now = (int64_t)time(NULL);
	char d[32];
	if (future && t <= now)
		snprintf(buf, len, "expired");
	else if (future)
		snprintf(buf, len, "in %s", fmt_duration((uint64_t)(t - now), d, sizeof(d)));
	else
		snprintf(buf, len, "%s ago", fmt_since(t, d, sizeof(d)));
	return true;
}

static int add(const struct args *a)
{
	const char *vip = flag_value(a, "vip"), *max = flag_value(a, "max-sessions");
	uint64_t expires;
	long limit = 0;
	int rc;
	if (!name_ok(a, true, &rc) || !expires_ok(a, false, &expires, &rc))
		return rc;
	if (max && parse_limit(max, true, &limit) < 0)
		return usage_error(a->cmd, "--max-sessions '%s': expected a number of sessions, 1-%d, or "
		                   "none", max, TOKEN_MAX_SESSIONS);
	unsigned char addr[16];
	if (vip && inet_pton(AF_INET, vip, addr) != 1 && inet_pton(AF_INET6, vip, addr) != 1)
		return usage_error(a->cmd, "--vip '%s': not an IP address", vip);
	json_t *params = json_pack("{s:s}", "name", a->operand);
	if (expires)
		json_object_set_new(params, "expires_in", json_integer((json_int_t)expires));
	if (vip)
		json_object_set_new(params, "vip", json_string(vip));
	if (max) /* none is 0; without it the hub picks its default */
		json_object_set_new(params, "max_sessions", json_integer(limit));
	return rpc_run(a, params);
}

static void show_add(struct answer *an, const struct args *a, json_t *r, FILE *out)
{
	const char *invite = ans_str(an, r, "invite", OPTIONAL);
	fprintf(out, "token '%s' added; its secret is shown only now.\n", a->operand);
	fprintf(out, "  token:   %s\n", ans_str(an, r, "token", REQUIRED));
	if (invite) {
		fprintf(out, "  invite:  %s\n", invite);
		fprintf(out, "on the client: slopnd client '%s'\n", invite);
	} else {
		fprintf(out, "  invite:  none: the hub's address is a wildcard or link-local one, which a\n"
		        "           client cannot use; set public-address in slopnd.conf (or\n"
		        "           --public-address) to get invites\n");
	}
	char until[48];
	if (when(an, r, "expires", true, until, sizeof(until)))
		fprintf(out, "  expires: %s\n", until);
	const char *vip = ans_str(an, r, "vip", OPTIONAL);
	const char *vip6 = ans_str(an, r, "vip6", OPTIONAL);
	if (vip)
		fprintf(out, "  vip:     %s (fixed)\n", vip);
	if (vip6)
		fprintf(out, "  vip6:    %s (fixed)\n", vip6);
	int64_t limit;
	if (ans_int(an, r, "max_sessions", OPTIONAL, 1, INT64_MAX, &limit))
		fprintf(out, "  limit:   %lld live sessions\n", (long long)limit);
	else /* said, as most tokens have a limit now */
		fprintf(out, "  limit:   none (any number of live sessions)\n");
}

static void show_list(struct answer *an, const struct args *a, json_t *r, FILE *out)
{
	(void)a;
	json_t *list = ans_arr(an, r, "tokens", REQUIRED);
	if (json_array_size(list) == 0) {
		fputs("no tokens (add one with 'slopnctl token add NAME')\n", out);
		return;
	}
	static const char *const head[] = {"NAME", "CREATED", "EXPIRES", "VIP", "VIP6", "LAST SEEN",
	                                   "LIVE", "SESSIONS", "RX", "TX"};
	struct table *t = table_new(10, head);
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		char created[48] = "?", expires[48], seen[48], live[48], n[24], rx[32], tx[32];
		int64_t v, nlive, max;
		ans_at(an, "tokens", i);
		if (!json_is_object(e)) {
			ans_bad(an, "", "expected an object");
			break;
		}
		ans_int(an, e, "created", REQUIRED, 0, ANS_TIME_MAX, &v);
		struct tm tm;
		time_t c = (time_t)v;
		if (ans_bool(an, e, "shared"))
			snprintf(created, sizeof(created), "(--token)");
		else if (localtime_r(&c, &tm))
			strftime(created, sizeof(created), "%Y-%m-%d %H:%M", &tm);
		ans_int(an, e, "live", REQUIRED, 0, INT64_MAX, &nlive);
		when(an, e, "expires", true, expires, sizeof(expires));
		if (nlive)
			snprintf(seen, sizeof(seen), "now");
		else
			when(an, e, "last_seen", false, seen, sizeof(seen));
		if (ans_int(an, e, "max_sessions", OPTIONAL, 1, INT64_MAX, &max)) /* live/limit */
			snprintf(live, sizeof(live), "%lld/%lld", (long long)nlive, (long long)max);
		else
			snprintf(live, sizeof(live), "%lld", (long long)nlive);
		ans_int(an, e, "sessions", REQUIRED, 0, INT64_MAX, &v);
		snprintf(n, sizeof(n), "%lld", (long long)v);
		ans_int(an, e, "rx_bytes", REQUIRED, 0, INT64_MAX, &v);
		fmt_bytes((uint64_t)v, rx, sizeof(rx));
		ans_int(an, e, "tx_bytes", REQUIRED, 0, INT64_MAX, &v);
		fmt_bytes((uint64_t)v, tx, sizeof(tx));
		const char *name = ans_str(an, e, "name", REQUIRED), *vip = ans_str(an, e, "vip", OPTIONAL);
		const char *vip6 = ans_str(an, e, "vip6", OPTIONAL);
		const char *row[] = {name, created, expires, vip, vip6, seen, live, n, rx, tx};
		table_row(t, row);
	}
	table_print(t, out);
	table_free(t);
}

static int list(const struct args *a)
{
	return rpc_run(a, NULL);
}

static int set(const struct args *a)
{
	const char *dur = flag_value(a, "expires"), *max = flag_value(a, "max-sessions");
	uint64_t expires;
	long limit = 0;
	int rc;
	if (!name_ok(a, false, &rc))
		return rc;
	if (!dur && !max)
		return usage_error(a->cmd, "nothing to change: give --expires, --max-sessions or both");
	if (!expires_ok(a, true, &expires, &rc))
		return rc;
	if (max && parse_limit(max, true, &limit) < 0)
		return usage_error(a->cmd, "--max-sessions '%s': expected a number of sessions, 1-%d, or "
		                   "none", max, TOKEN_MAX_SESSIONS);
	json_t *params = json_pack("{s:s}", "name", a->operand);
	if (dur)
		json_object_set_new(params, "expires_in", json_integer((json_int_t)expires));
	if (max)
		json_object_set_new(params, "max_sessions", json_integer(limit));
	return rpc_run(a, params);
}

static void show_set(struct answer *an, const struct args *a, json_t *r, FILE *out)
{
	char until[48], lim[48] = "no session limit";
	int64_t max;
	when(an, r, "expires", true, until, sizeof(until));
	if (ans_int(an, r, "max_sessions", OPTIONAL, 1, INT64_MAX, &max))
		snprintf(lim, sizeof(lim), "at most %lld live sessions", (long long)max);
	fprintf(out, "token '%s': expires %s, %s\n", a->operand, until, lim);
}

static int remove_(const struct args *a)
{
	bool kick = flag_value(a, "kick") != NULL;
	const char *name = a->operand;
	int rc;
	if (!name_ok(a, false, &rc))
		return rc;
	return rpc_run(a, json_pack("{s:s, s:b}", "name", name, "kick", kick));
}

static void show_remove(struct answer *an, const struct args *a, json_t *r, FILE *out)
{
	int64_t k;
	ans_int(an, r, "kicked", REQUIRED, 0, INT64_MAX, &k);
	if (flag_value(a, "kick"))
		fprintf(out, "token '%s' removed; %lld session%s kicked\n", a->operand, (long long)k,
		        k == 1 ? "" : "s");
	else
		fprintf(out, "token '%s' removed (its live sessions go on; 'slopnctl sessions kick --token %s' "
		        "ends them)\n", a->operand, a->operand);
}

/* The hub's default for token add (token.add without max_sessions). */
#define STR_(x) #x
#define STR(x) STR_(x)
#define DEFAULT_SESSIONS STR(TOKEN_DEFAULT_SESSIONS)

static const struct flag add_flags[] = {
	{.name = "expires", .value = "DURATION", .param = "expires_in",
	 .help = "refused after this long: 30d, 12h, 90m, 45s, 1w2d (default: never)"},
	{.name = "vip", .value = "IP", .param = "vip",
	 .help = "a fixed VIP for its clients, inside the hub's subnet"},
	{.name = "max-sessions", .value = "N", .param = "max_sessions",
	 .help = "at most N live sessions at once, or none (default: " DEFAULT_SESSIONS ")"},
	{0},
};
const struct command cmd_token_add = {
	"token", "add", add, "NAME", "name", LIVE_NONE, add_flags,
	"a new token; prints its secret once, with an invite",
	.method = "token.add", .show = show_add, .check = "token list", .secret = true,
};

const struct command cmd_token_list = {
	"token", "list", list,
	.help = "tokens (never their secrets), their sessions and traffic over time",
	.method = "token.list", .show = show_list,
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
	.method = "token.set", .show = show_set, .check = "token list",
};

static const struct flag remove_flags[] = {
	{.name = "kick", .help = "also end its live sessions"},
	{0},
};
const struct command cmd_token_remove = {
	"token", "remove", remove_, "NAME", "name", LIVE_TOKEN, remove_flags,
	"revoke a token; --kick also ends its sessions",
	.method = "token.remove", .show = show_remove, .check = "token list",
};
