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
	if (ip_port_parse(a->operand, &ss) < 0 && parse_ban_prefix(a->operand, &net) < 0)
		return usage_error(a->cmd, "'%s' is not an IP address (nor ADDR:PORT, nor an IPv6 /64, "
		                   "/56 or /48 as bans list shows it)", a->operand);
	return rpc_run(a, json_pack("{s:s}", "address", a->operand));
}

/* The bans lifted (each as bans list named it; a hub from before lifted
 * says removed only: the operand), or (removed false) an address not
 * banned whose failed logins were forgotten. */
static void show_remove(struct answer *an, const struct args *a, json_t *r, FILE *out)
{
	json_t *rm = json_object_get(r, "removed");
	if (rm && !json_is_boolean(rm))
		ans_bad(an, "removed", "not true or false");
	json_t *lifted = ans_arr(an, r, "lifted", OPTIONAL);
	if (rm && !json_is_true(rm)) {
		fprintf(out, "%s was not banned; its failed logins are forgotten\n", a->operand);
		return;
	}
	if (!lifted || !json_array_size(lifted)) {
		fprintf(out, "ban on %s lifted\n", a->operand);
		return;
	}
	for (size_t i = 0; i < json_array_size(lifted); i++)
		fprintf(out, "ban on %s lifted\n", ans_elem_str(an, lifted, i, "lifted"));
}

const struct command cmd_bans_list = {
	"bans", "list", list,
	.help = "addresses banned after failed logins (a restart lifts all)",
	.method = "bans.list", .show = show_list,
};

const struct command cmd_bans_remove = {
	"bans", "remove", remove_, "ADDR", "address", LIVE_BAN, .help = "lift the bans an address is under",
	.method = "bans.remove", .show = show_remove, .check = "bans list",
};
