/* slopnctl: the administrator's tool on slopnd's control socket, one-shot or
 * as an interactive shell. One table of commands, each entry with its
 * flags, drives dispatch, help and completion. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "ctl/slopnctl.h"

const char *sock_path;
bool json_out;
bool in_shell;
volatile int interrupted;

const struct command *const commands[] = {
	&cmd_status, &cmd_sessions_list, &cmd_sessions_kick, &cmd_token_add, &cmd_token_list,
	&cmd_token_set, &cmd_token_remove, &cmd_bans_list, &cmd_bans_remove, &cmd_metrics, &cmd_monitor, NULL,
};

enum { G_SOCKET, G_JSON, G_HELP, G_VERSION };
const struct flag global_flags[] = {
	[G_SOCKET] = {.name = "socket", .value = "PATH",
	              .help = "control socket (default $SLOPNCTL_SOCKET, else /run/slopn/slopnd.sock)"},
	[G_JSON] = {.name = "json", .help = "print the daemon's result as JSON, for scripts"},
	[G_HELP] = {.name = "help", .help = "this text; after a command, that command's"},
	[G_VERSION] = {.name = "version", .help = "slopnctl's version"},
	{0},
};
#define OPT_CMD 1000 /* getopt's val for command flag i: OPT_CMD + i */

const char *command_name(const struct command *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", c->noun, c->verb ? " " : "", c->verb ? c->verb : "");
	return buf;
}

/* "token add NAME [--expires DURATION] [--vip IP]" */
static const char *synopsis(const struct command *c, char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");
	if (!f)
		return buf[0] = '\0', buf;
	fprintf(f, "%s%s%s", c->noun, c->verb ? " " : "", c->verb ? c->verb : "");
	if (c->operand)
		fprintf(f, " %s", c->operand);
	for (const struct flag *fl = c->flags; fl && fl->name; fl++)
		if (fl->instead)
			fprintf(f, "%s--%s%s%s", c->operand ? "|" : " ", fl->name, fl->value ? " " : "",
			        fl->value ? fl->value : "");
	for (const struct flag *fl = c->flags; fl && fl->name; fl++)
		if (!fl->instead)
			fprintf(f, " [--%s%s%s]", fl->name, fl->value ? " " : "", fl->value ? fl->value : "");
	fclose(f);
	return buf;
}

static void flag_lines(FILE *f, const struct flag *flags)
{
	for (const struct flag *fl = flags; fl && fl->name; fl++) {
		char left[64];
		/* -h is --help's short form (getopt's "h" below). */
		snprintf(left, sizeof(left), "%s--%s%s%s", fl == &global_flags[G_HELP] ? "-h, " : "",
		         fl->name, fl->value ? " " : "", fl->value ? fl->value : "");
		fprintf(f, "  %-20s %s\n", left, fl->help);
	}
}

/* A synopsis wider than this has its help on the next line, so that the
 * help of the others stays in a column a terminal can hold. */
#define SYNOPSIS_COLS 50

/* The commands of noun (NULL: all), synopsis and help in two columns: the
 * first as wide as the widest synopsis that fits in SYNOPSIS_COLS. */
static void command_lines(FILE *f, const char *noun, const char *prefix)
{
	char s[128];
	int width = 0;
	for (const struct command *const *c = commands; *c; c++) {
		int len = (int)strlen(synopsis(*c, s, sizeof(s)));
		if ((!noun || !strcmp((*c)->noun, noun)) && len <= SYNOPSIS_COLS && len > width)
			width = len;
	}
	for (const struct command *const *c = commands; *c; c++) {
		if (noun && strcmp((*c)->noun, noun))
			continue;
		synopsis(*c, s, sizeof(s));
		if ((int)strlen(s) > width)
			fprintf(f, "  %s%s\n  %*s %s\n", prefix, s, (int)strlen(prefix) + width, "", (*c)->help);
		else
			fprintf(f, "  %s%-*s %s\n", prefix, width, s, (*c)->help);
	}
}

void usage(FILE *f)
{
	fprintf(f, "Usage: slopnctl [--socket PATH] [--json] [COMMAND [ARGS]]\n"
	           "With no command: an interactive shell (history, Tab completion).\n\n"
	           "Commands:\n");
	command_lines(f, NULL, "");
	fprintf(f, "\nOptions, before, within or after the command:\n");
	flag_lines(f, global_flags);
	fprintf(f, "Exit status: 0 ok, 1 refused by the daemon (or the answer not written out),\n"
	           "2 usage error, 3 daemon unreachable or no answer, 4 an answer that is not the\n"
	           "daemon's (not JSON-RPC, or a field missing or wrong).\n");
}

/* The shell's help: its commands without "slopnctl" before them, and its
 * own words. */
void shell_usage(FILE *f)
{
	fprintf(f, "Commands (Tab completes them; --json and --socket PATH on a line are for that line):\n");
	command_lines(f, NULL, "");
	fprintf(f, "\n  %-20s %s\n  %-20s %s\n", "help, ?", "this text; after a command (token add --help), that command's",
	        "quit, exit, Ctrl-D", "leave the shell");
}

static void command_help(const struct command *c)
{
	char s[128];
	printf("Usage: slopnctl %s\n%s.\n", synopsis(c, s, sizeof(s)), c->help);
	if (c->flags && c->flags->name) {
		putchar('\n');
		flag_lines(stdout, c->flags);
	}
	printf("Also --json and --socket PATH (see slopnctl --help).\n");
}

static void vusage_error(const char *what, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vusage_error(const char *what, const char *fmt, va_list ap)
{
	fprintf(stderr, "slopnctl: %s%s", what ? what : "", what ? ": " : "");
	vfprintf(stderr, fmt, ap);
	if (in_shell)
		fprintf(stderr, " (try 'help'%s%s%s)\n", what ? " or '" : "", what ? what : "",
		        what ? " --help'" : "");
	else
		fprintf(stderr, "\nTry 'slopnctl %s%s--help'.\n", what ? what : "", what ? " " : "");
}

int usage_error(const struct command *c, const char *fmt, ...)
{
	char name[64];
	va_list ap;
	va_start(ap, fmt);
	vusage_error(c ? command_name(c, name, sizeof(name)) : NULL, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

int param_text(const struct args *a, json_t *params, const char *key, const char *what,
               const char *text)
{
	json_t *v = json_string(text);
	if (!v) /* the bytes themselves are not echoed: a terminal would garble them */
		return usage_error(a->cmd, "%s: not UTF-8 text (the daemon takes UTF-8 only: check the "
		                   "locale or encoding it was typed or written in)", what);
	json_object_set_new(params, key, v);
	return 0;
}

void change_note(const struct args *a, bool made)
{
	const struct command *c = a ? a->cmd : NULL;
	const char *me = in_shell ? "" : "slopnctl "; /* how a command is typed here */
	if (!c || !c->check)
		fputc('\n', stderr);
	else if (c->secret && made) /* token add */
		fprintf(stderr, "; token '%s' was added, but its secret is lost: remove it ('%stoken remove "
		        "%s') and add it again\n", a->operand, me, a->operand);
	else if (c->secret)
		fprintf(stderr, "; token '%s' may have been added: if '%s%s' lists it, its secret is lost: "
		        "remove it and add it again\n", a->operand, me, c->check);
	else if (made)
		fprintf(stderr, "; the daemon made the change all the same\n");
	else
		fprintf(stderr, "; the daemon may have made the change: '%s%s' shows whether\n", me, c->check);
}

static int noun_error(const char *noun, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int noun_error(const char *noun, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vusage_error(noun, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

const char *flag_value(const struct args *a, const char *name)
{
	for (int i = 0; a->cmd->flags && a->cmd->flags[i].name; i++)
		if (!strcmp(a->cmd->flags[i].name, name))
			return a->val[i];
	return NULL;
}

static int nflags(const struct flag *f)
{
	int n = 0;
	while (f && f[n].name)
		n++;
	return n;
}

/* getopt's table for a list of flags, val base + index. */
static void to_options(const struct flag *f, int base, struct option *o)
{
	for (int i = 0; f && f[i].name; i++)
		*o++ = (struct option){f[i].name, f[i].value ? required_argument : no_argument, NULL,
		                       base + i};
	*o = (struct option){0};
}

/* What is wrong with an option getopt refused, in the words typed. */
static const char *bad_option(char **argv, char *buf, size_t len)
{
	/* optopt is the letter of an unknown short option; for a long one it
	 * is 0, or the val of one given a value it does not take. */
	const char *w = argv[optind - 1];
	if (optopt > ' ' && optopt < 127)
		snprintf(buf, len, "unknown option '-%c'", optopt);
	else if (optopt && strchr(w, '='))
		snprintf(buf, len, "%.*s takes no value", (int)(strchr(w, '=') - w), w);
	else
		snprintf(buf, len, "unknown option '%s'", w);
	return buf;
}

/* getopt's complaint as a usage error, and a value that is itself an
 * option ("--reason --token"): a forgotten value, unless given as
 * --flag=VALUE. 0 when all is well. */
static int option_error(const struct command *c, int o, char **argv)
{
	char w[300];
	if (o == '?')
		return usage_error(c, "%s", bad_option(argv, w, sizeof(w)));
	if (o == ':')
		return usage_error(c, "%s needs a value", argv[optind - 1]);
	if (optarg && !strncmp(optarg, "--", 2) && argv[optind - 1] == optarg)
		return usage_error(c, "%s needs a value, not the option '%s' (write %s=VALUE to mean it)",
		                   argv[optind - 2], optarg, argv[optind - 2]);
	return 0;
}

/* A global flag of command c (NULL: before the command); 1 to go on, 0 to
 * stop with exit 0 (help, version shown), -1 after a usage error. */
static int global(const struct command *c, int o, const char *arg)
{
	switch (o) {
	case G_SOCKET:
		/* "" would name an abstract socket of NULs, not the default. */
		if (!*arg)
			return usage_error(c, "--socket: an empty path (give the control socket's path)"), -1;
		sock_path = arg;
		return 1;
	case G_JSON: json_out = true; return 1;
	case G_HELP: return 0;
	case G_VERSION: puts("slopnctl " SLOPN_VERSION " (build " SLOPN_BUILD ")"); return 0;
	}
	return 1;
}

/* The command line checked, then run as *ran (left alone when it does not
 * run: a usage error, or help). */
static int run_command(const struct command *c, int argc, char **argv, struct args *ran)
{
	struct option opts[2 * MAX_FLAGS + 2];
	int n = nflags(c->flags);
	to_options(c->flags, OPT_CMD, opts);
	to_options(global_flags, 0, opts + n);
	struct args a = {.cmd = c};
	int o, g;
	optind = 0; /* 0, not 1: a full restart of GNU getopt after an earlier parse */
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (option_error(c, o, argv))
			return EXIT_USAGE;
		if (o == 'h' || o == G_HELP) {
			command_help(c);
			return 0;
		}
		if (o >= OPT_CMD)
			a.val[o - OPT_CMD] = optarg ? optarg : "";
		else if ((g = global(c, o, optarg)) <= 0)
			return g < 0 ? EXIT_USAGE : 0;
	}
	if (optind < argc && c->operand)
		a.operand = argv[optind++];
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	const struct flag *instead = NULL;
	for (int i = 0; i < n; i++)
		if (c->flags[i].instead && a.val[i])
			instead = &c->flags[i];
	if (c->operand && !a.operand && !instead) {
		const struct flag *alt = c->flags;
		while (alt && alt->name && !alt->instead)
			alt++;
		if (alt && alt->name)
			return usage_error(c, "missing %s (or --%s %s)", c->operand, alt->name, alt->value);
		return usage_error(c, "missing %s", c->operand);
	}
	if (instead && a.operand)
		return usage_error(c, "give %s or --%s, not both", c->operand, instead->name);
	*ran = a;
	int rc = c->fn(ran);
	rpc_close();
	return rc;
}

/* The command line, run; the command that ran in *ran. */
static int parse_run(int argc, char **argv, struct args *ran)
{
	struct option opts[8];
	to_options(global_flags, 0, opts);
	int o;
	optind = 0;
	opterr = 0;
	/* '+': the options before the command; the command reads its own. */
	while ((o = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (option_error(NULL, o, argv))
			return EXIT_USAGE;
		if (o == 'h' || o == G_HELP) {
			usage(stdout);
			return 0;
		}
		int g = global(NULL, o, optarg);
		if (g <= 0)
			return g < 0 ? EXIT_USAGE : 0;
	}
	if (optind >= argc) {
		if (in_shell)
			return usage_error(NULL, "options but no command");
		return shell_run();
	}
	int at = optind; /* the noun's place */
	const char *noun = argv[at];
	bool noun_known = false, has_verbs = false;
	for (const struct command *const *c = commands; *c; c++)
		if (!strcmp((*c)->noun, noun))
			noun_known = true, has_verbs |= (*c)->verb != NULL;
	if (!noun_known)
		return usage_error(NULL, "unknown command '%s'", noun);
	/* The options between a noun and its verb ("token --json list"), as
	 * before the command: the noun stands in argv[0]'s place. */
	int vi = at + 1;
	if (has_verbs) {
		optind = 0;
		while ((o = getopt_long(argc - at, argv + at, "+:h", opts, NULL)) != -1) {
			if (option_error(NULL, o, argv + at))
				return EXIT_USAGE;
			if (o == 'h' || o == G_HELP) {
				printf("Usage:\n");
				command_lines(stdout, noun, "slopnctl ");
				return 0;
			}
			int g = global(NULL, o, optarg);
			if (g <= 0)
				return g < 0 ? EXIT_USAGE : 0;
		}
		vi = at + optind;
	}
	const char *verb = vi < argc ? argv[vi] : NULL;
	const struct command *match = NULL;
	for (const struct command *const *c = commands; *c; c++)
		if (!strcmp((*c)->noun, noun) && (!(*c)->verb || (verb && !strcmp((*c)->verb, verb))))
			match = *c;
	if (!match) {
		char verbs[128] = "";
		for (const struct command *const *c = commands; *c; c++)
			if (!strcmp((*c)->noun, noun))
				snprintf(verbs + strlen(verbs), sizeof(verbs) - strlen(verbs), "%s%s",
				         *verbs ? ", " : "", (*c)->verb);
		if (!verb)
			return noun_error(noun, "needs one of: %s", verbs);
		return noun_error(noun, "unknown subcommand '%s' (one of: %s)", verb, verbs);
	}
	/* The command's getopt sees its own words after a name in argv[0]. */
	int skip = match->verb ? vi : at;
	argv[skip] = argv[0];
	if (!match->verb || vi == at + 1 || strcmp(argv[vi - 1], "--"))
		return run_command(match, argc - skip, argv + skip, ran);
	/* "token -- remove -x": the "--" ended the options for the verb's
	 * words too, so its getopt gets one of its own. */
	char **v = calloc((size_t)(argc - skip) + 2, sizeof(*v));
	if (!v) {
		perror("slopnctl");
		return 1;
	}
	v[0] = argv[skip];
	v[1] = "--";
	memcpy(v + 2, argv + skip + 1, (size_t)(argc - skip - 1) * sizeof(*v));
	int rc = run_command(match, argc - skip + 1, v, ran);
	free(v);
	return rc;
}

/* What was printed reached standard output, else say so, exit 1: a
 * `slopnctl metrics > f.tmp && mv` must not take a cut file for a whole
 * one, nor token add lose a secret without a word. */
static int check_output(const struct args *a, int rc)
{
	bool ok = out_flush() == 0;
	/* Some file systems (NFS, FUSE) say only at a close that the data
	 * did not go; closing a copy of the descriptor asks them too. */
	int copy = ok ? dup(STDOUT_FILENO) : -1;
	if (copy >= 0 && close(copy) != 0 && errno != EINTR) {
		stdout_errno = errno;
		ok = false;
	}
	if (ok)
		return rc;
	fprintf(stderr, "slopnctl: writing %sto standard output: %s", a->cmd ? "the answer " : "",
	        stdout_errno ? strerror(stdout_errno) : "failed");
	change_note(rc == 0 ? a : NULL, true);
	clearerr(stdout); /* the shell's next command starts afresh */
	stdout_errno = 0;
	return rc ? rc : EXIT_NOT_WRITTEN;
}

int dispatch(int argc, char **argv)
{
	struct args a = {0};
	return check_output(&a, parse_run(argc, argv, &a));
}
