/* Talking to slopnd: one JSON-RPC request, one answer line. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/slopnctl.h"
#include "proto/jsonrpc.h"

int rpc_connect(bool quiet, int timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		if (!quiet)
			fprintf(stderr, "slopnctl: socket path too long: %s\n", sock_path);
		return -1;
	}
	strcpy(sa.sun_path, sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* A connect (and a send) waits while the daemon takes nothing (its
	 * backlog full, it stuck): no longer than timeout_ms. */
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		struct stat st;
		/* A file or directory there refuses the connection as a socket
		 * no daemon listens on would: not the same advice. */
		if ((e == ECONNREFUSED || e == ENOTSOCK) && stat(sock_path, &st) == 0 &&
		    !S_ISSOCK(st.st_mode)) {
			if (!quiet)
				fprintf(stderr, "slopnctl: %s: not a socket (give the control socket's path "
				        "with --socket)\n", sock_path);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		/* The hint that fits the cause. Without the group (slopnd made
		 * the socket root's alone), membership is no way in. */
		const char *hint = e == EACCES ? getgrnam("slopn") ? "not in group slopn, or not root"
		                                 : "only root may use it: there is no group slopn here"
		                 : e == ENOENT || e == ECONNREFUSED
		                 ? "is slopnd running? use --socket PATH or SLOPNCTL_SOCKET"
		                 : e == EAGAIN ? "no room after waiting: slopnd is busy or stuck"
		                 : NULL;
		if (!quiet)
			fprintf(stderr, "slopnctl: cannot connect to %s: %s%s%s%s\n", sock_path,
			        strerror(e), hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int answer_timeout_ms = 10000;

/* Bytes read past the last line. One connection at a time uses it. */
static char buf[65536];
static size_t have;
static int buf_fd = -1;

void rpc_disconnect(int fd)
{
	if (fd == buf_fd)
		buf_fd = -1, have = 0;
	close(fd);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until fd can be read, by deadline (now_ms's clock; -1: none): 0, or -1
 * with errno ETIMEDOUT or EINTR (Ctrl-C, or the shell's terminal gone:
 * interrupted). Another signal (a resized window) waits on, to the same
 * deadline. SIGINT is blocked but
 * for the wait itself (ppoll), so that one that comes after the check of
 * interrupted still ends the wait instead of waiting for a second Ctrl-C. */
static int wait_readable(int fd, int64_t deadline)
{
	/* And the shell's ends (SIGHUP, SIGTERM, SIGQUIT, SIGALRM), which set
	 * interrupted too. */
	static const int ends[] = {SIGINT, SIGHUP, SIGTERM, SIGQUIT, SIGALRM};
	sigset_t intr, saved, during;
	sigemptyset(&intr);
	for (size_t i = 0; i < sizeof(ends) / sizeof(*ends); i++)
		sigaddset(&intr, ends[i]);
	sigprocmask(SIG_BLOCK, &intr, &saved);
	during = saved;
	for (size_t i = 0; i < sizeof(ends) / sizeof(*ends); i++)
		sigdelset(&during, ends[i]);
	int rv, e;
	for (;;) {
		if (interrupted) {
			rv = -1, e = EINTR;
			break;
		}
		struct timespec left, *tp = NULL;
		if (deadline >= 0) {
			int64_t ms = deadline - now_ms();
			if (ms < 0)
				ms = 0;
			left = (struct timespec){.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000};
			tp = &left;
		}
		struct pollfd pfd = {fd, POLLIN, 0};
		int n = ppoll(&pfd, 1, tp, &during);
		if (n > 0) {
			rv = 0, e = 0;
			break;
		}
		if (n == 0 || errno != EINTR) {
			rv = -1, e = n == 0 ? ETIMEDOUT : errno;
			break;
		}
	}
	/* A SIGINT that came while blocked is handled here, and seen by the
	 * next wait (or the caller's check of interrupted). */
	sigprocmask(SIG_SETMASK, &saved, NULL);
	errno = e;
	return rv;
}

/* NULL with errno as it was. */
static char *fail_line(char *line, int err)
{
	free(line);
	errno = err;
	return NULL;
}

/* One line within timeout_ms in all, however it comes: a peer that
 * trickles a byte at a time gets no more. */
static char *read_line_until(int fd, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	if (fd != buf_fd) {
		buf_fd = fd;
		have = 0;
	}
	char *line = NULL;
	size_t len = 0;
	for (;;) {
		char *nl = memchr(buf, '\n', have);
		size_t take = nl ? (size_t)(nl - buf) + 1 : have;
		if (len + take > (16 << 20))
			return fail_line(line, EMSGSIZE);
		char *p = realloc(line, len + take + 1);
		if (!p)
			return fail_line(line, ENOMEM);
		line = p;
		memcpy(line + len, buf, take);
		len += take;
		line[len] = '\0';
		memmove(buf, buf + take, have - take);
		have -= take;
		if (nl)
			return line;
		if (wait_readable(fd, deadline) < 0)
			return fail_line(line, errno);
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return fail_line(line, n == 0 ? 0 : errno);
		have = (size_t)n;
	}
}

char *read_line(int fd, int timeout_ms)
{
	return read_line_until(fd, timeout_ms);
}

/* A command connects on its first call, so that a usage error is reported
 * as one (exit 2) even when the daemon is down. */
static int lazy = -1;

int rpc_fd(void)
{
	if (lazy < 0)
		lazy = rpc_connect(false, answer_timeout_ms);
	return lazy;
}

void rpc_close(void)
{
	if (lazy >= 0)
		rpc_disconnect(lazy);
	lazy = -1;
}

/* call's fd for the command's connection, made once the request is known
 * to be one the daemon takes. */
#define LAZY_FD (-2)

/* What became of a call. */
enum outcome { ANSWERED, REFUSED, NOT_UNDERSTOOD, TOO_LONG, NOT_SENT, NO_ANSWER };

/* How long a call waits for its answer. */
struct patience {
	int timeout_ms;
};

/* *result on ANSWERED; the daemon's *code and msg on REFUSED; why in msg
 * on NOT_UNDERSTOOD; the request's size in msg on TOO_LONG (not sent);
 * *err: send's errno on NOT_SENT (-1: no connection, said already), and
 * in msg how much of the request went if any; read_line's on NO_ANSWER. */
static enum outcome call(int fd, const char *method, json_t *params, struct patience wait,
                         json_t **result, int *code, char *msg, size_t msglen, int *err)
{
	*result = NULL;
	*err = -1;
	static int next_id = 1;
	int id = next_id++;
	json_t *req = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", id,
	                        "method", method, "params", params ? params : json_object());
	char *s = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!s) {
		*err = ENOMEM; /* jansson fails only so */
		return NOT_SENT;
	}
	size_t n = strlen(s);
	if (n > JSONRPC_MAX) {
		/* The daemon reads no further, answers an error and hangs up. */
		snprintf(msg, msglen, "%zu", n);
		free(s);
		return TOO_LONG;
	}
	if (fd == LAZY_FD) /* checked before connecting: a usage error even without a daemon */
		fd = rpc_fd();
	if (fd < 0) {
		free(s);
		return NOT_SENT;
	}
	s[n] = '\n'; /* replaces the NUL: exactly n + 1 bytes are sent */
	/* A request cut short is no request: nothing was done. A short send
	 * (a signal, SO_SNDTIMEO, the daemon hanging up part way) sets no
	 * errno: the rest is sent, and the next send says why it failed. */
	size_t sent = 0;
	while (sent < n + 1) {
		ssize_t k = send(fd, s + sent, n + 1 - sent, MSG_NOSIGNAL);
		if (k > 0) {
			sent += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR && !interrupted)
			continue;
		*err = k < 0 ? errno : EPIPE;
		break;
	}
	free(s);
	if (sent < n + 1) {
		msg[0] = '\0';
		if (sent)
			snprintf(msg, msglen, " after %zu of its %zu bytes", sent, n + 1);
		return NOT_SENT;
	}
	char *line = read_line_until(fd, wait.timeout_ms);
	if (!line) {
		*err = errno;
		return NO_ANSWER;
	}
	int rv = jsonrpc_parse_response(line, strlen(line), id, result, code, msg, msglen);
	free(line);
	return rv == 0 ? ANSWERED : rv == 1 ? REFUSED : NOT_UNDERSTOOD;
}

/* The daemon's "params.KEY: why", about a param the command line filled:
 * said of the operand or flag that filled it. */
static int invalid_params(const struct args *a, const char *msg)
{
	const struct command *c = a->cmd;
	const char *word = NULL, *value = NULL;
	char key[64] = "", wbuf[64];
	const char *why = msg;
	int end = 0;
	if (sscanf(msg, "params.%63[a-z_]: %n", key, &end) == 1 && end > 0)
		why = msg + end;
	else
		key[0] = '\0';
	for (int i = 0; *key && c->flags && c->flags[i].name; i++)
		if (a->val[i] && c->flags[i].param && !strcmp(c->flags[i].param, key)) {
			snprintf(wbuf, sizeof(wbuf), "--%s", c->flags[i].name);
			word = wbuf, value = a->val[i];
		}
	if (!word && *key && c->params && a->operand) {
		size_t k = strlen(key);
		for (const char *p = c->params; (p = strstr(p, key)); p += k)
			if ((p == c->params || p[-1] == ' ') && (!p[k] || p[k] == ' '))
				word = c->operand, value = a->operand;
	}
	if (!word)
		return usage_error(c, "%s", msg);
	char quoted[300];
	snprintf(quoted, sizeof(quoted), "'%s'", value);
	if (strstr(why, quoted))
		return usage_error(c, "%s: %s", word, why); /* the daemon quoted the value already */
	return usage_error(c, "%s %s: %s", word, quoted, why);
}

/* Says why a request had no answer (err: read_line's errno), and, for a
 * command that changes something, that it may have been done all the same. */
static void no_answer(const struct args *a, const char *method, int err)
{
	if (err == EINTR)
		fprintf(stderr, "slopnctl: interrupted");
	else if (err == ETIMEDOUT)
		fprintf(stderr, "slopnctl: no answer to %s from %s within %d s (slopnd busy or stuck? "
		        "its log may say)", method, sock_path, answer_timeout_ms / 1000);
	else if (err == 0)
		fprintf(stderr, "slopnctl: %s closed the connection before answering %s (did slopnd stop?)",
		        sock_path, method);
	else
		fprintf(stderr, "slopnctl: reading the answer to %s from %s: %s", method, sock_path,
		        strerror(err));
	change_note(a, false);
}

json_t *rpc_call(const struct args *a, const char *method, json_t *params, int *rc)
{
	int code = 0, err;
	char msg[512];
	json_t *r;
	*rc = 0;
	struct patience wait = {answer_timeout_ms};
	switch (call(LAZY_FD, method, params, wait, &r, &code, msg, sizeof(msg), &err)) {
	case ANSWERED:
		return r;
	case REFUSED:
		if (code == JSONRPC_INVALID_PARAMS) {
			*rc = invalid_params(a, msg);
		} else if (code == JSONRPC_METHOD_NOT_FOUND && strstr(msg, "this slopnd is a client")) {
			/* The daemon names the method; the reader typed a command, at
			 * a socket that was likely meant to be the hub's. */
			fprintf(stderr, "slopnctl: %s%s%s: %s is a client's control socket, which answers "
			        "only 'slopnctl status'\n", a->cmd->noun, a->cmd->verb ? " " : "",
			        a->cmd->verb ? a->cmd->verb : "", sock_path);
			*rc = EXIT_REFUSED;
		} else {
			fprintf(stderr, "slopnctl: %s\n", msg);
			*rc = EXIT_REFUSED;
		}
		/* For scripts: the code tells "try later" (1007) from "no such
		 * token" (1002), which the exit status does not. */
		if (json_out) {
			/* A message cut at msg's size may end inside a character,
			 * which JSON cannot carry: the code alone then. */
			json_t *e = json_pack("{s:{s:i, s:s}}", "error", "code", code, "message", msg);
			if (!e)
				e = json_pack("{s:{s:i}}", "error", "code", code);
			if (e)
				print_json(e);
			json_decref(e);
		}
		break;
	case NOT_UNDERSTOOD:
		fprintf(stderr, "slopnctl: the answer on %s to %s is not JSON-RPC from slopnd: %s\n",
		        sock_path, method, msg);
		*rc = EXIT_BAD_ANSWER;
		break;
	case TOO_LONG:
		*rc = usage_error(a->cmd, "the request would be %s bytes, more than the %d slopnd takes "
		                  "(a value given too long?)", msg, JSONRPC_MAX);
		break;
	case NOT_SENT:
		/* Nothing was done: a request cut short is none. */
		if (err == EINTR)
			fprintf(stderr, "slopnctl: interrupted before the request was sent; nothing was done\n");
		else if (err > 0)
			fprintf(stderr, "slopnctl: cannot send the request to %s%s: %s (did slopnd stop?)\n",
			        sock_path, msg, strerror(err));
		*rc = EXIT_UNREACHABLE;
		break;
	case NO_ANSWER:
		no_answer(a, method, err);
		*rc = EXIT_UNREACHABLE;
		break;
	}
	return NULL;
}

json_t *rpc_fetch_quiet(const char *method, int budget_ms)
{
	int64_t deadline = now_ms() + budget_ms;
	int fd = rpc_connect(true, budget_ms);
	if (fd < 0)
		return NULL;
	/* What the connect left of the budget; a send of one short request
	 * into an empty socket buffer does not wait. */
	struct patience wait = {(int)(deadline - now_ms())};
	int code, err;
	char msg[512];
	json_t *r = NULL;
	if (wait.timeout_ms > 0 && !interrupted &&
	    call(fd, method, NULL, wait, &r, &code, msg, sizeof(msg), &err) != ANSWERED)
		r = NULL; /* none but for an answer */
	rpc_disconnect(fd);
	return r;
}

int show_result(const struct args *a, json_t *result, FILE *out, struct answer *an)
{
	memset(an, 0, sizeof(*an));
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (!mem) {
		snprintf(an->bad, sizeof(an->bad), "out of memory");
		return EXIT_BAD_ANSWER;
	}
	if (!json_is_object(result))
		ans_bad(an, "result", "expected an object");
	else
		a->cmd->show(an, a, result, mem);
	fclose(mem);
	if (!an->bad[0])
		out_text(out, text, len);
	free(text);
	return an->bad[0] ? EXIT_BAD_ANSWER : 0;
}

int rpc_run(const struct args *a, json_t *params)
{
	int rc;
	json_t *r = rpc_call(a, a->cmd->method, params, &rc);
	if (!r)
		return rc;
	struct answer an;
	if (json_out)
		rc = print_json(r);
	else if ((rc = show_result(a, r, stdout, &an))) {
		/* A token made: its secret must not go unseen with the field
		 * this slopnctl could not read. */
		if (a->cmd->secret)
			print_json(r);
		fprintf(stderr, "slopnctl: the answer to %s is not what this slopnctl reads: %s "
		        "(slopnd of another version?%s\n", a->cmd->method, an.bad,
		        a->cmd->secret ? "); it is printed above as it came, with the token's secret, "
		                         "shown only now" : " --json prints it as it came)");
	}
	json_decref(r);
	return rc;
}

int print_json(json_t *v)
{
	/* ASCII: a client's strings (a reason, an os) with C1 controls in
	 * them reach no terminal raw. */
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	if (s) {
		out_text(stdout, s, strlen(s));
		out_text(stdout, "\n", 1);
	}
	free(s);
	return 0;
}

int stdout_errno;

void out_text(FILE *out, const char *text, size_t len)
{
	/* By the error flag: glibc's fwrite counts what went into its buffer
	 * as written even when pushing the buffer out failed. */
	bool failed_before = ferror(out);
	fwrite(text, 1, len, out);
	if (out == stdout && !failed_before && ferror(out) && !stdout_errno)
		stdout_errno = errno;
}

int out_flush(void)
{
	if (fflush(stdout) != 0 && !stdout_errno)
		stdout_errno = errno;
	return ferror(stdout) ? -1 : 0;
}
