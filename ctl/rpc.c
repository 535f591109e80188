/* Talking to slopnd: one JSON-RPC request, one answer line. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/slopnctl.h"
#include "proto/jsonrpc.h"

int rpc_connect(bool quiet)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		if (!quiet)
			fprintf(stderr, "slopnctl: socket path too long: %s\n", sock_path);
		return -1;
	}
	strcpy(sa.sun_path, sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* The hint that fits the cause. */
		const char *hint = errno == EACCES ? "not in group slopn, or not root"
		                 : errno == ENOENT || errno == ECONNREFUSED
		                 ? "is slopnd running? use --socket PATH or SLOPNCTL_SOCKET"
		                 : NULL;
		if (!quiet)
			fprintf(stderr, "slopnctl: cannot connect to %s: %s%s%s%s\n", sock_path,
			        strerror(errno), hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Bytes read past the last line. One connection at a time uses it. */
static char buf[65536];
static size_t have;
static int buf_fd = -1;

char *read_line(int fd, int timeout_ms)
{
	if (fd != buf_fd) {
		buf_fd = fd;
		have = 0;
	}
	char *line = NULL;
	size_t len = 0;
	for (;;) {
		char *nl = memchr(buf, '\n', have);
		size_t take = nl ? (size_t)(nl - buf) + 1 : have;
		if (len + take > (16 << 20)) {
			free(line);
			return NULL;
		}
		char *p = realloc(line, len + take + 1);
		if (!p) {
			free(line);
			return NULL;
		}
		line = p;
		memcpy(line + len, buf, take);
		len += take;
		line[len] = '\0';
		memmove(buf, buf + take, have - take);
		have -= take;
		if (nl)
			return line;
		struct pollfd pfd = {fd, POLLIN, 0};
		if (interrupted || poll(&pfd, 1, timeout_ms) <= 0) {
			free(line);
			return NULL;
		}
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0) {
			free(line);
			return NULL;
		}
		have = (size_t)n;
	}
}

/* A command connects on its first call, so that a usage error is reported
 * as one (exit 2) even when the daemon is down. */
static int lazy = -1;

int rpc_fd(void)
{
	if (lazy < 0)
		lazy = rpc_connect(false);
	return lazy;
}

void rpc_close(void)
{
	if (lazy >= 0)
		close(lazy);
	lazy = -1;
}

/* What became of a call. */
enum outcome { ANSWERED, REFUSED, NOT_UNDERSTOOD, NO_ANSWER };

/* *result on ANSWERED; the daemon's *code and msg on REFUSED; why in msg
 * on NOT_UNDERSTOOD. NO_ANSWER has been said unless quiet. */
static enum outcome call(int fd, const char *method, json_t *params, json_t **result, int *code,
                         char *msg, size_t msglen, bool quiet)
{
	*result = NULL;
	if (fd < 0) {
		json_decref(params);
		return NO_ANSWER;
	}
	static int next_id = 1;
	int id = next_id++;
	json_t *req = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", id,
	                        "method", method, "params", params ? params : json_object());
	char *s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	size_t n = strlen(s);
	s[n] = '\n'; /* replaces the NUL: exactly n + 1 bytes are sent */
	bool ok = send(fd, s, n + 1, MSG_NOSIGNAL) == (ssize_t)(n + 1);
	free(s);
	char *line = ok ? read_line(fd, 10000) : NULL;
	if (!line) {
		if (!quiet)
			fprintf(stderr, "slopnctl: no answer from %s\n", sock_path);
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

json_t *rpc_call(const struct args *a, const char *method, json_t *params, int *rc)
{
	int code = 0;
	char msg[512];
	json_t *r;
	*rc = 0;
	switch (call(rpc_fd(), method, params, &r, &code, msg, sizeof(msg), false)) {
	case ANSWERED:
		return r;
	case REFUSED:
		if (code == JSONRPC_INVALID_PARAMS) {
			*rc = invalid_params(a, msg);
		} else {
			fprintf(stderr, "slopnctl: %s\n", msg);
			*rc = EXIT_REFUSED;
		}
		break;
	case NOT_UNDERSTOOD:
		fprintf(stderr, "slopnctl: the answer on %s to %s is not JSON-RPC from slopnd: %s\n",
		        sock_path, method, msg);
		*rc = EXIT_BAD_ANSWER;
		break;
	case NO_ANSWER:
		*rc = EXIT_UNREACHABLE;
		break;
	}
	return NULL;
}

json_t *rpc_call_quiet(int fd, const char *method, json_t *params)
{
	int code;
	char msg[512];
	json_t *r;
	return call(fd, method, params, &r, &code, msg, sizeof(msg), true) == ANSWERED ? r : NULL;
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
		fwrite(text, 1, len, out);
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
	else if ((rc = show_result(a, r, stdout, &an)))
		fprintf(stderr, "slopnctl: the answer to %s is not what this slopnctl reads: %s "
		        "(slopnd of another version? --json prints it as it came)\n",
		        a->cmd->method, an.bad);
	json_decref(r);
	return rc;
}

int print_json(json_t *v)
{
	/* ASCII: a client's strings (a reason, an os) with C1 controls in
	 * them reach no terminal raw. */
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	if (s)
		puts(s);
	free(s);
	return 0;
}
