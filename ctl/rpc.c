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
		if (!quiet)
			fprintf(stderr, "slopnctl: cannot connect to %s: %s (is slopnd running? use --socket PATH or SLOPNCTL_SOCKET)\n",
			        sock_path, strerror(errno));
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

/* Commands get RPC_LAZY and connect on their first call, so that a usage
 * error is reported as one (exit 2) even when the daemon is down. */
static int lazy = -1;

int rpc_fd(int fd, bool quiet)
{
	if (fd >= 0)
		return fd;
	if (lazy < 0)
		lazy = rpc_connect(quiet);
	return lazy;
}

void rpc_close_lazy(void)
{
	if (lazy >= 0)
		close(lazy);
	lazy = -1;
}

static json_t *call(int fd, const char *method, json_t *params, int *rc, bool quiet)
{
	if ((fd = rpc_fd(fd, quiet)) < 0) {
		json_decref(params);
		*rc = EXIT_UNREACHABLE;
		return NULL;
	}
	static int next_id = 1;
	json_t *req = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", next_id++,
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
		*rc = EXIT_UNREACHABLE;
		return NULL;
	}
	json_t *resp = json_loads(line, 0, NULL);
	free(line);
	json_t *err = json_object_get(resp, "error"), *res = json_object_get(resp, "result");
	if (err || !res) {
		if (!quiet)
			fprintf(stderr, "slopnctl: %s\n", err ? json_string_value(json_object_get(err, "message"))
			                                      : "the daemon's answer is not understood");
		*rc = EXIT_REFUSED;
		json_decref(resp);
		return NULL;
	}
	json_incref(res);
	json_decref(resp);
	*rc = 0;
	return res;
}

json_t *rpc_call(int fd, const char *method, json_t *params, int *rc)
{
	return call(fd, method, params, rc, false);
}

json_t *rpc_call_quiet(int fd, const char *method, json_t *params)
{
	int rc;
	return call(fd, method, params, &rc, true);
}

int print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
	puts(s);
	free(s);
	return 0;
}
