/* Completion candidates, for the shells' scripts (slopnctl __complete) and
 * the readline shell alike: commands and flags from the command table
 * (which flags take a value, and what values, too), live session ids, VIPs,
 * token names and banned addresses from the daemon. */
#include <stdio.h>
#include <string.h>

#include "ctl/slopnctl.h"

typedef void (*out_fn)(const char *cand, void *ctx);

static void offer(const char *word, const char *prefix, out_fn out, void *ctx)
{
	if (!strncmp(word, prefix, strlen(prefix)))
		out(word, ctx);
}

/* How long one completion may wait on the daemon, in all: a Tab on a
 * daemon that is stuck must not hang the shell. */
#define FETCH_BUDGET_MS 1000

/* Values of field in each entry of list, a result's list: those plain
 * enough to be one word, and beginning with prefix. */
static void offer_field(json_t *list, const char *field, const char *prefix, bool skip_shared,
                        out_fn out, void *ctx)
{
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		char buf[80] = "";
		json_t *v = json_object_get(e, field);
		if (json_is_integer(v))
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		else if (json_is_string(v))
			snprintf(buf, sizeof(buf), "%s", json_string_value(v));
		if (skip_shared && json_is_true(json_object_get(e, "shared")))
			continue; /* the --token cannot be removed from here */
		/* One word a line for the shells: nothing that would split it or
		 * act on the terminal. */
		bool plain = true;
		for (const unsigned char *p = (const unsigned char *)buf; *p; p++)
			plain &= *p > ' ' && *p != 0x7f;
		if (*buf && plain)
			offer(buf, prefix, out, ctx);
	}
}

/* Values of fields (NULL-terminated) in the method's list (key) from the
 * daemon, asked once, quietly: completion never prints errors. */
static void fetch(const char *method, const char *key, const char *const *fields,
                  const char *prefix, bool skip_shared, out_fn out, void *ctx)
{
	json_t *r = rpc_fetch_quiet(method, FETCH_BUDGET_MS);
	for (const char *const *f = fields; r && *f; f++)
		offer_field(json_object_get(r, key), *f, prefix, skip_shared, out, ctx);
	json_decref(r);
}

static void live(enum live what, bool operand, const char *prefix, out_fn out, void *ctx)
{
	static const char *const session[] = {"id", "vip", "vip6", NULL};
	static const char *const name[] = {"name", NULL}, *const address[] = {"address", NULL};
	switch (what) {
	case LIVE_SESSION:
		fetch("sessions.list", "sessions", session, prefix, false, out, ctx);
		break;
	case LIVE_TOKEN:
		fetch("token.list", "tokens", name, prefix, operand, out, ctx);
		break;
	case LIVE_BAN:
		fetch("bans.list", "bans", address, prefix, false, out, ctx);
		break;
	case LIVE_NONE:
		break;
	}
}

/* The flag a word names ("--token", "--token=x"), the command's or a global. */
static const struct flag *find_flag(const struct command *cmd, const char *word)
{
	const char *name = word + 2;
	size_t len = strcspn(name, "=");
	for (int pass = 0; pass < 2; pass++)
		for (const struct flag *f = pass ? global_flags : cmd ? cmd->flags : NULL; f && f->name; f++)
			if (strlen(f->name) == len && !strncmp(f->name, name, len))
				return f;
	return NULL;
}

/* A flag's value, in its own word (--socket=PATH) or the next: what it
 * means for the rest of the line. */
static void took_value(const struct flag *f, const char *value, bool *operand)
{
	if (!strcmp(f->name, "socket")) /* ask that daemon */
		sock_path = value;
	if (f->instead)
		*operand = true;
}

/* Candidates for "--flag=VALUE": each value with "--flag=" before it, the
 * word the shells replace. */
struct with_prefix {
	const char *prefix;
	out_fn out;
	void *ctx;
};

static void out_prefixed(const char *cand, void *ctx)
{
	struct with_prefix *w = ctx;
	char buf[160];
	snprintf(buf, sizeof(buf), "%s%s", w->prefix, cand);
	w->out(buf, w->ctx);
}

/* cur is "--flag=VALUE" of a flag that takes one: its value completed as
 * after "--flag" alone, each candidate a whole word again. */
static bool value_in_word(const struct command *cmd, const char *cur, out_fn out, void *ctx)
{
	const char *eq = strchr(cur, '=');
	if (cur[0] != '-' || cur[1] != '-' || !eq)
		return false;
	const struct flag *f = find_flag(cmd, cur);
	if (!f || !f->value)
		return false;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(eq + 1 - cur), cur);
	struct with_prefix w = {prefix, out, ctx};
	live(f->live, false, eq + 1, out_prefixed, &w);
	return true;
}

static void offer_flags(const struct flag *f, const char *cur, out_fn out, void *ctx)
{
	char buf[64];
	for (; f && f->name; f++) {
		snprintf(buf, sizeof(buf), "--%s", f->name);
		offer(buf, cur, out, ctx);
	}
}

/* An operand's candidates: one that begins with '-' only after a "--", as
 * getopt takes it (before, it is taken for an option, and refused). */
struct operand_out {
	bool after_dashdash;
	out_fn out;
	void *ctx;
};

static void out_operand(const char *cand, void *ctx)
{
	struct operand_out *o = ctx;
	if (cand[0] != '-' || o->after_dashdash)
		o->out(cand, o->ctx);
}

void complete_words(int n, char **words, out_fn out, void *ctx)
{
	const char *cur = n > 0 ? words[n - 1] : "", *noun = NULL;
	const struct command *cmd = NULL;
	const struct flag *pending = NULL; /* its value comes next */
	bool operand = false, dashdash = false; /* after "--": no options */
	for (int i = 0; i < n - 1; i++) {
		const char *w = words[i];
		if (pending) {
			took_value(pending, w, &operand);
			pending = NULL;
		} else if (!dashdash && !strcmp(w, "--")) {
			dashdash = true;
		} else if (dashdash && w[0] == '-' && noun && cmd) {
			operand = true;
		} else if (!dashdash && !strncmp(w, "--", 2)) {
			const struct flag *f = find_flag(cmd, w);
			if (f && f->value && strchr(w, '='))
				took_value(f, strchr(w, '=') + 1, &operand);
			else if (f && f->value)
				pending = f;
		} else if (!dashdash && w[0] == '-') {
			continue;
		} else if (!noun) {
			noun = w;
			for (const struct command *const *c = commands; *c; c++)
				if (!strcmp((*c)->noun, noun) && !(*c)->verb)
					cmd = *c;
		} else if (!cmd) {
			for (const struct command *const *c = commands; *c; c++)
				if (!strcmp((*c)->noun, noun) && (*c)->verb && !strcmp((*c)->verb, w))
					cmd = *c;
			if (!cmd)
				return;
		} else {
			operand = true;
		}
	}
	if (pending) {
		/* A value: live ones, or the user's own (a path is the shell's job). */
		live(pending->live, false, cur, out, ctx);
		return;
	}
	if (!dashdash && value_in_word(cmd, cur, out, ctx))
		return;
	if (!dashdash && cur[0] == '-') {
		offer_flags(cmd ? cmd->flags : NULL, cur, out, ctx);
		offer_flags(global_flags, cur, out, ctx);
		return;
	}
	if (!noun) {
		for (const struct command *const *c = commands; *c; c++)
			if (c == commands || strcmp((*c)->noun, c[-1]->noun))
				offer((*c)->noun, cur, out, ctx);
		return;
	}
	if (!cmd) {
		for (const struct command *const *c = commands; *c; c++)
			if (!strcmp((*c)->noun, noun) && (*c)->verb)
				offer((*c)->verb, cur, out, ctx);
		return;
	}
	struct operand_out o = {dashdash, out, ctx};
	if (cmd->operand && !operand)
		live(cmd->live, true, cur, out_operand, &o);
}
