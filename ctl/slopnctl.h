/* slopnctl's parts: talking to the daemon, the command table, tables and
 * completion. One file per group of commands, as in wireguard-tools; each
 * command's entry carries its flags, and dispatch, help and completion all
 * read them from there. */
#ifndef SLOPN_CTL_SLOPNCTL_H
#define SLOPN_CTL_SLOPNCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl/answer.h"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3, EXIT_BAD_ANSWER = 4 };
/* What was printed did not all reach standard output (a full disk). */
#define EXIT_NOT_WRITTEN EXIT_REFUSED

extern const char *sock_path;
extern bool json_out;
extern bool in_shell;
extern volatile int interrupted; /* Ctrl-C in the shell: stop the command */

/* ---- the command table (slopnctl.c) ---- */

/* Values completion fetches from the daemon. */
enum live { LIVE_NONE, LIVE_SESSION, LIVE_TOKEN, LIVE_BAN };

/* A flag: its getopt option, what usage calls its value, the request
 * param it fills (so that the daemon's complaint about that param is told
 * in the words of the command line), and what completion offers for it. */
struct flag {
	const char *name;       /* without the dashes */
	const char *value;      /* "TEXT"; NULL for a switch */
	const char *help;
	const char *param;      /* or NULL */
	enum live live;
	bool instead;           /* given instead of the operand: "ID|VIP|--token NAME" */
};

#define MAX_FLAGS 8

struct command;
/* A command line, checked against its command's entry. */
struct args {
	const struct command *cmd;
	const char *operand;        /* NULL when not given */
	const char *val[MAX_FLAGS]; /* by index in cmd->flags; "" for a switch given */
};

struct command {
	const char *noun, *verb;    /* verb NULL: the noun alone is the command */
	int (*fn)(const struct args *a);
	const char *operand;        /* "NAME", "ID|VIP"; NULL: none */
	const char *params;         /* the request params the operand fills, space-separated */
	enum live live;             /* completion of the operand */
	const struct flag *flags;   /* ends with a {NULL} entry; NULL: none */
	const char *help;
	const char *method;         /* what it asks of the daemon */
	/* Prints the result for people, reading it through ctl/answer.h. */
	void (*show)(struct answer *an, const struct args *a, json_t *result, FILE *out);
	/* For a command that changes something: the command that shows
	 * whether it was done ("token list"), for when its answer is missed
	 * (no answer in time, Ctrl-C, a failed write). NULL: it only reads. */
	const char *check;
	bool secret; /* its answer alone holds a secret (token add's) */
};
/* Every command in help order, NULL-terminated. */
extern const struct command *const commands[];
/* --socket, --json, --help, --version: before, within or after the command. */
extern const struct flag global_flags[];

/* argv[0] is the program, then options and the command's words. The exit
 * code. With no command: the shell, or in the shell an error. */
int dispatch(int argc, char **argv);
void usage(FILE *f);
void shell_usage(FILE *f);
/* "sessions kick" */
const char *command_name(const struct command *c, char *buf, size_t len);
/* The value of a flag by name: NULL when not given, "" for a switch. */
const char *flag_value(const struct args *a, const char *name);
/* One line naming the problem, then where help is; returns EXIT_USAGE. */
int usage_error(const struct command *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* params[key] = text, a word of the command line that what names
 * ("--reason"). JSON carries UTF-8 only: for other bytes jansson gives no
 * string, and the param would go missing unsaid; a usage error instead.
 * 0 or EXIT_USAGE (params untouched). */
int param_text(const struct args *a, json_t *params, const char *key, const char *what,
               const char *text);
/* Ends a line on stderr that says a command's answer was missed: for a
 * command that changes something, what became of the change (made: the
 * daemon said it was made) and how to see. */
void change_note(const struct args *a, bool made);

/* ---- commands, one file each ---- */
extern const struct command cmd_status, cmd_sessions_list, cmd_sessions_kick, cmd_token_add,
	cmd_token_list, cmd_token_set, cmd_token_remove, cmd_bans_list, cmd_bans_remove, cmd_metrics, cmd_monitor;

/* ---- rpc.c ---- */
/* A connection, or -1 after saying why (nothing when quiet). The connect
 * waits up to timeout_ms for a daemon whose backlog is full. */
int rpc_connect(bool quiet, int timeout_ms);
/* How long a command waits for its answer (tests shorten it). */
extern int answer_timeout_ms;
/* The command's connection, made on first use (-1 if that failed): a usage
 * error is reported as one (exit 2) even when the daemon is down. */
int rpc_fd(void);
void rpc_close(void);
/* The connection's end, and that of what was read from it but not taken:
 * the next one may get the same number. */
void rpc_disconnect(int fd);
/* One line within timeout_ms (-1: forever). NULL with errno 0 at EOF,
 * ETIMEDOUT, EINTR on Ctrl-C (interrupted), EMSGSIZE over 16 MiB, or why
 * reading failed. */
char *read_line(int fd, int timeout_ms);
/* The result (new reference), or NULL after printing why; *rc is the exit
 * code. The daemon's "invalid params" is the command line's usage error. */
json_t *rpc_call(const struct args *a, const char *method, json_t *params, int *rc);
/* The command's method with params (consumed), then its result: as JSON
 * with --json, else through its show. The exit code. */
int rpc_run(const struct args *a, json_t *params);
/* The command's show on a result: what it prints reaches out only when the
 * whole result could be read, else an->bad says why. 0 or EXIT_BAD_ANSWER. */
int show_result(const struct args *a, json_t *result, FILE *out, struct answer *an);
/* text to out. A write to stdout that fails keeps its errno here, for the
 * message at the end of the command: stdio's later calls lose it. */
void out_text(FILE *out, const char *text, size_t len);
/* stdout pushed out: 0, or -1 when anything written to it since the last
 * clearerr was lost (why in stdout_errno, 0 when not known). */
int out_flush(void);
extern int stdout_errno;
/* method's result (params none) on a connection of its own, or NULL,
 * printing nothing: for completion, which must not hang a Tab. Connecting
 * and the answer take no more than budget_ms in all, and any signal (a
 * Ctrl-C) ends the wait. */
json_t *rpc_fetch_quiet(const char *method, int budget_ms);
int print_json(json_t *v);

/* ---- table.c: aligned columns ---- */
struct table;
struct table *table_new(int cols, const char *const *head);
/* Append a row of cols cells (copied). */
void table_row(struct table *t, const char *const *cells);
void table_print(struct table *t, FILE *f);
void table_free(struct table *t);

/* ---- complete.c ---- */
/* Candidates for the last word of words[0..n-1] (the words after
 * "slopnctl"), each passed to out. */
void complete_words(int n, char **words, void (*out)(const char *cand, void *ctx), void *ctx);

/* ---- shell.c ---- */
int shell_run(void);

#endif
