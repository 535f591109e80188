/* slopnctl bans list|remove: addresses banned after failed logins. */
#include <arpa/inet.h>
#include <stdio.h>

#include "ctl/format.h"
#include "ctl/slopnctl.h"

static int list(const struct args *a)
{
	int rc;
	json_t *r = rpc_call(a, "bans.list", NULL, &rc);
	if (!r)
		return rc;
	if (json_out)
		return print_json(r), json_decref(r), 0;
	json_t *bans = json_object_get(r, "bans");
	if (json_array_size(bans) == 0) {
		puts("no bans");
		json_decref(r);
		return 0;
	}
	static const char *const head[] = {"ADDRESS", "LIFTED IN", "REFUSED"};
	struct table *t = table_new(3, head);
	size_t i;
	json_t *b;
	json_array_foreach(bans, i, b) {
		char left[32], refused[24];
		fmt_duration((uint64_t)json_integer_value(json_object_get(b, "remaining")), left, sizeof(left));
		snprintf(refused, sizeof(refused), "%lld",
		         (long long)json_integer_value(json_object_get(b, "refused")));
		const char *row[] = {json_string_value(json_object_get(b, "address")), left, refused};
		table_row(t, row);
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(r);
	return 0;
}

static int remove_(const struct args *a)
{
	unsigned char addr[16];
	if (inet_pton(AF_INET, a->operand, addr) != 1 && inet_pton(AF_INET6, a->operand, addr) != 1)
		return usage_error(a->cmd, "'%s' is not an IP address", a->operand);
	int rc;
	json_t *r = rpc_call(a, "bans.remove", json_pack("{s:s}", "address", a->operand), &rc);
	if (!r)
		return rc;
	if (json_out)
		print_json(r);
	else
		printf("ban on %s lifted\n", a->operand);
	json_decref(r);
	return 0;
}

const struct command cmd_bans_list = {
	"bans", "list", list,
	.help = "addresses banned after failed logins (a restart lifts all)",
};

const struct command cmd_bans_remove = {
	"bans", "remove", remove_, "ADDR", "address", LIVE_BAN, .help = "lift the ban on an address",
};
