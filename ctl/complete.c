/* Completion candidates, for the shells' scripts (slopnctl __complete) and
 * the readline shell alike: commands and flags from the command table, live
 * session ids, VIPs and token names from the daemon. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl/slopnctl.h"

typedef void (*out_fn)(const char *cand, void *ctx);

static void offer(const char *word, const char *prefix, out_fn out, void *ctx)
{
	if (!strncmp(word, prefix, strlen(prefix)))
		out(word, ctx);
}

/* Values of field in the method's list (key) from the daemon, quietly:
 * completion never prints errors. */
static void live(const char *method, const char *key, const char *field, const char *prefix,
                 bool skip_shared, out_fn out, void *ctx)
{
	int fd = rpc_connect(true);
	if (fd < 0)
		return;
	json_t *r = rpc_call_quiet(fd, method, NULL);
	close(fd);
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r, key), i, e) {
		char buf[80] = "";
		json_t *v = json_object_get(e, field);
		if (json_is_integer(v))
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		else if (json_is_string(v))
			snprintf(buf, sizeof(buf), "%s", json_string_value(v));
		if (skip_shared && json_is_true(json_object_get(e, "shared")))
			continue; /* the --token cannot be removed from here */
		if (*buf)
			offer(buf, prefix, out, ctx);
	}
	json_decref(r);
}

static const char *const global_flags[] = {"--socket", "--json", "--help", NULL};

void complete_words(int n, char **words, out_fn out, void *ctx)
{
	const char *cur = n > 0 ? words[n - 1] : "";
	const char *noun = NULL, *verb = NULL;
	int args = 0;
	for (int i = 0; i < n - 1; i++) {
		if (!strcmp(words[i], "--socket") && i + 1 < n - 1)
			sock_path = words[++i];
		else if (!strcmp(words[i], "--socket"))
			return; /* completing the path: the shell's job */
		else if (words[i][0] == '-')
			continue;
		else if (!noun)
			noun = words[i];
		else if (!verb)
			verb = words[i];
		else
			args++;
	}
	if (!noun) {
		for (const struct command *c = commands; c->noun; c++)
			if (c == commands || strcmp(c->noun, c[-1].noun))
				offer(c->noun, cur, out, ctx);
		if (cur[0] == '-')
			for (const char *const *f = global_flags; *f; f++)
				offer(*f, cur, out, ctx);
		return;
	}
	const struct command *cmd = NULL;
	for (const struct command *c = commands; c->noun; c++) {
		if (strcmp(c->noun, noun))
			continue;
		if (!c->verb) {
			cmd = c;
			args += verb != NULL; /* no verb: that word was an argument */
			break;
		}
		if (!verb)
			offer(c->verb, cur, out, ctx);
		else if (!strcmp(c->verb, verb))
			cmd = c;
	}
	if (!cmd)
		return;
	if (n >= 2 && !strcmp(words[n - 2], "--token")) {
		live("token.list", "tokens", "name", cur, false, out, ctx);
		return;
	}
	/* After any other flag that takes a value, the value is the user's. */
	if (n >= 2 && words[n - 2][0] == '-' && strcmp(words[n - 2], "--kick") &&
	    strcmp(words[n - 2], "--json"))
		return;
	if (cur[0] == '-') {
		for (const char *const *f = cmd->flags; f && *f; f++)
			offer(*f, cur, out, ctx);
		return;
	}
	if (args > 0)
		return; /* one target per command */
	if (cmd->live == LIVE_SESSION) {
		live("sessions.list", "sessions", "id", cur, false, out, ctx);
		live("sessions.list", "sessions", "vip", cur, false, out, ctx);
	} else if (cmd->live == LIVE_TOKEN) {
		live("token.list", "tokens", "name", cur, true, out, ctx);
	}
}
