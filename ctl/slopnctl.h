/* slopnctl's parts: talking to the daemon, the command table, tables and
 * completion. One file per group of commands, as in wireguard-tools. */
#ifndef SLOPN_CTL_SLOPNCTL_H
#define SLOPN_CTL_SLOPNCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

extern const char *sock_path;
extern bool json_out;
extern volatile int interrupted; /* Ctrl-C in the shell: stop the command */

/* ---- rpc.c ---- */
int rpc_connect(bool quiet);
#define RPC_LAZY (-1)
/* fd itself, or for RPC_LAZY the connection made on first use (-1 if it failed). */
int rpc_fd(int fd, bool quiet);
void rpc_close_lazy(void);
/* One line within timeout_ms (-1: forever); NULL on EOF, timeout or Ctrl-C. */
char *read_line(int fd, int timeout_ms);
/* The result (new reference), or NULL after printing why (nothing when
 * quiet); *rc is the exit code. */
json_t *rpc_call(int fd, const char *method, json_t *params, int *rc);
json_t *rpc_call_quiet(int fd, const char *method, json_t *params);
int print_json(json_t *v);

/* ---- the command table (slopnctl.c) ---- */
struct command {
	const char *noun, *verb;
	int (*fn)(int fd, int argc, char **argv);
	const char *args, *help;
	const char *const *flags;   /* for completion */
	enum { LIVE_NONE, LIVE_SESSION, LIVE_TOKEN } live; /* values completed from the daemon */
};
extern const struct command commands[];
/* Run argv (noun [verb] args...) against the table. Returns the exit code. */
int dispatch(int argc, char **argv);
void usage(FILE *f);

/* ---- commands ---- */
int cmd_status(int fd, int argc, char **argv);
int cmd_sessions_list(int fd, int argc, char **argv);
int cmd_sessions_kick(int fd, int argc, char **argv);
int cmd_token_add(int fd, int argc, char **argv);
int cmd_token_list(int fd, int argc, char **argv);
int cmd_token_remove(int fd, int argc, char **argv);
int cmd_monitor(int fd, int argc, char **argv);

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
