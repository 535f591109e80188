/* slopnctl: the administrator's tool on slopnd's control socket, one-shot or
 * as an interactive shell. One table of commands drives dispatch, help and
 * completion. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/slopnctl.h"

const char *sock_path;
bool json_out;
volatile int interrupted;

static const char *const kick_flags[] = {"--token", "--reason", NULL};
static const char *const add_flags[] = {"--expires", "--vip", NULL};
static const char *const remove_flags[] = {"--kick", NULL};

const struct command commands[] = {
	{"status", NULL, cmd_status, "", "the daemon's role, address, sessions and traffic",
	 NULL, LIVE_NONE},
	{"sessions", "list", cmd_sessions_list, "", "connected clients with live counters",
	 NULL, LIVE_NONE},
	{"sessions", "kick", cmd_sessions_kick, "ID|VIP|--token NAME [--reason TEXT]",
	 "disconnect clients; they see the reason", kick_flags, LIVE_SESSION},
	{"token", "add", cmd_token_add, "NAME [--expires 30d] [--vip IP]",
	 "a new token; prints it once, with an invite", add_flags, LIVE_NONE},
	{"token", "list", cmd_token_list, "", "tokens (never their secrets) and their use",
	 NULL, LIVE_NONE},
	{"token", "remove", cmd_token_remove, "NAME [--kick]",
	 "revoke a token; --kick also ends its sessions", remove_flags, LIVE_TOKEN},
	{"monitor", NULL, cmd_monitor, "", "print events (sessions, logins, tokens) until Ctrl-C",
	 NULL, LIVE_NONE},
	{NULL, NULL, NULL, NULL, NULL, NULL, LIVE_NONE},
};

void usage(FILE *f)
{
	fprintf(f, "Usage: slopnctl [--socket PATH] [--json] [COMMAND [ARGS]]\n"
	           "With no command: an interactive shell (history, Tab completion).\n\n"
	           "Commands:\n");
	for (const struct command *c = commands; c->noun; c++) {
		char name[64];
		snprintf(name, sizeof(name), "%s%s%s %s", c->noun, c->verb ? " " : "",
		         c->verb ? c->verb : "", c->args);
		fprintf(f, "  %-50s %s\n", name, c->help);
	}
	fprintf(f, "\nOptions:\n"
	           "  --socket PATH   control socket (default $SLOPNCTL_SOCKET, else /run/slopn/slopnd.sock)\n"
	           "  --json          print the daemon's raw result, for scripts\n"
	           "  -h, --help      this text\n"
	           "Exit status: 0 ok, 1 refused by the daemon, 2 usage error, 3 daemon unreachable.\n");
}

static void print_line(const char *cand, void *ctx)
{
	(void)ctx;
	puts(cand);
}

int dispatch(int argc, char **argv)
{
	const char *noun = argv[0], *verb = argc > 1 ? argv[1] : NULL;
	bool noun_known = false;
	for (const struct command *c = commands; c->noun; c++) {
		if (strcmp(c->noun, noun) != 0)
			continue;
		noun_known = true;
		if (c->verb && (!verb || strcmp(c->verb, verb) != 0))
			continue;
		int skip = c->verb ? 2 : 1;
		for (int i = skip; i < argc; i++)
			if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
				printf("usage: slopnctl %s%s%s %s\n  %s\n", c->noun, c->verb ? " " : "",
				       c->verb ? c->verb : "", c->args, c->help);
				return 0;
			}
		/* The command sees its own words from argv[1], as getopt expects. */
		int rc = c->fn(RPC_LAZY, argc - skip + 1, argv + skip - 1);
		rpc_close_lazy();
		return rc;
	}
	if (noun_known && verb && (!strcmp(verb, "--help") || !strcmp(verb, "-h"))) {
		for (const struct command *c = commands; c->noun; c++)
			if (!strcmp(c->noun, noun))
				printf("usage: slopnctl %s %s %s\n  %s\n", c->noun, c->verb, c->args, c->help);
		return 0;
	}
	if (noun_known) {
		fprintf(stderr, "slopnctl: '%s' needs one of:", noun);
		for (const struct command *c = commands; c->noun; c++)
			if (!strcmp(c->noun, noun))
				fprintf(stderr, " %s", c->verb);
		fprintf(stderr, "%s%s%s\n", verb ? " (not '" : "", verb ? verb : "", verb ? "')" : "");
	} else {
		fprintf(stderr, "slopnctl: unknown command '%s' (see slopnctl --help)\n", noun);
	}
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	sock_path = getenv("SLOPNCTL_SOCKET");
	if (!sock_path || !*sock_path)
		sock_path = "/run/slopn/slopnd.sock";
	/* `slopnctl __complete WORD... CURRENT`: candidates, one per line, for
	 * the completion scripts of bash, zsh and fish. */
	if (argc >= 2 && !strcmp(argv[1], "__complete")) {
		complete_words(argc - 2, argv + 2, print_line, NULL);
		return 0;
	}
	int o;
	/* '+': options end at the command, which has its own. */
	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (o) {
		case 's': sock_path = optarg; break;
		case 'j': json_out = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts("slopnctl " SLOPN_VERSION); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return shell_run();
	return dispatch(argc - optind, argv + optind);
}
