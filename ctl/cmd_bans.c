/* slopnctl bans list|remove: addresses banned after failed logins. */
#include <arpa/inet.h>
#include <stdio.h>

#include "ctl/format.h"
#include "ctl/slopnctl.h"
#include "proto/addr.h"

static void show_list(struct answer *an, const struct args *a, json_t *r, FILE *out)
{
	(void)a;
	json_t *bans = ans_arr(an, r, "bans", REQUIRED);
	if (json_array_size(bans) == 0) {
		fputs("no bans\n", out);
		return;
	}
	static const char *const head[] = {"ADDRESS", "LIFTED IN", "REFUSED"};
	struct table *t = table_new(3, head);
	size_t i;
	json_t *b;
	json_array_foreach(bans, i, b) {
		char left[32], refused[24];
		int64_t v;
		ans_at(an, "bans", i);
		ans_int(an, b, "remaining", REQUIRED, 0, INT64_MAX, &v);
		fmt_duration((uint64_t)v, left, sizeof(left));
		ans_int(an, b, "refused", REQUIRED, 0, INT64_MAX, &v);
		snprintf(refused, sizeof(refused), "%lld", (long long)v);
		const char *row[] = {ans_str(an, b, "address", REQUIRED), left, refused};
		table_row(t, row);
	}
	table_print(t, out);
	table_free(t);
}

static int list(const struct args *a)
{
	return rpc_run(a, NULL);
}

static int remove_(const struct args *a)
{
	/* An address, with its port as sessions list shows it or without, or
	 * an IPv6 prefix as bans list shows it. */
	struct sockaddr_storage ss;
	struct cidr6 net;
	if (ip_port_parse(a->operand, &ss) < 0 &&
	    !(parse_cidr6(a->operand, &net) >= 0 && (net.prefix == 64 || net.prefix == 56 ||
	                                             net.prefix == 48)))
		return usage_error(a->cmd, "'%s' is not an IP address (nor ADDR:PORT, nor an IPv6 /64, "
		                   "/56 or /48 as bans list shows it)", a->operand);
	return rpc_run(a, json_pack("{s:s}", "address", a->operand));
}

/* A ban lifted, or (removed false) an address not banned whose failed
 * logins were forgotten; a hub from before that says removed only. */
static void show_remove(struct answer *an, const struct args *a, json_t *r, FILE *out)
{
	json_t *rm = json_object_get(r, "removed");
	if (rm && !json_is_boolean(rm))
		ans_bad(an, "removed", "not true or false");
	if (!rm || json_is_true(rm))
		fprintf(out, "ban on %s lifted\n", a->operand);
	else
		fprintf(out, "%s was not banned; its failed logins are forgotten\n", a->operand);
}

const struct command cmd_bans_list = {
	"bans", "list", list,
	.help = "addresses banned after failed logins (a restart lifts all)",
	.method = "bans.list", .show = show_list,
};

const struct command cmd_bans_remove = {
	"bans", "remove", remove_, "ADDR", "address", LIVE_BAN, .help = "lift the ban on an address",
	.method = "bans.remove", .show = show_remove, .check = "bans list",
};
