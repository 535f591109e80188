/* slopnctl: the administrator's tool on slopnd's control socket.
 * One table of commands drives dispatch and help. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/format.h"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static const char *sock_path;
static bool json_out;

/* ---- talking to the daemon ---- */

static int rpc_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "slopnctl: socket path too long: %s\n", sock_path);
		return -1;
	}
	strcpy(sa.sun_path, sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "slopnctl: cannot connect to %s: %s (is slopnd running? use --socket PATH or SLOPNCTL_SOCKET)\n",
		        sock_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Read one line (up to 16 MiB) within timeout_ms (-1: forever). */
static char *read_line(int fd, int timeout_ms)
{
	static char buf[65536];
	static size_t have;
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
		if (poll(&pfd, 1, timeout_ms) <= 0) {
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

/* Call a method. Returns the result (new reference), or NULL after
 * printing why; *rc says which exit code. */
static json_t *rpc_call(int fd, const char *method, json_t *params, int *rc)
{
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
		fprintf(stderr, "slopnctl: no answer from %s\n", sock_path);
		*rc = EXIT_UNREACHABLE;
		return NULL;
	}
	json_t *resp = json_loads(line, 0, NULL);
	free(line);
	json_t *err = json_object_get(resp, "error"), *res = json_object_get(resp, "result");
	if (err) {
		fprintf(stderr, "slopnctl: %s\n", json_string_value(json_object_get(err, "message")));
		*rc = EXIT_REFUSED;
		json_decref(resp);
		return NULL;
	}
	if (!res) {
		fprintf(stderr, "slopnctl: the daemon's answer is not understood\n");
		*rc = EXIT_REFUSED;
		json_decref(resp);
		return NULL;
	}
	json_incref(res);
	json_decref(resp);
	*rc = 0;
	return res;
}

static int print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
	puts(s);
	free(s);
	return 0;
}

/* ---- commands ---- */

static int cmd_status(int fd, int argc, char **argv)
{
	int rc;
	json_t *r = rpc_call(fd, "server.status", NULL, &rc);
	if (!r)
		return rc;
	if (json_out)
		return print_json(r), json_decref(r), 0;
	char a[32], b[32], d[32];
	json_t *t = json_object_get(r, "totals");
	const char *role = json_string_value(json_object_get(r, "role"));
	if (role && !strcmp(role, "client")) {
		bool up = json_is_true(json_object_get(r, "connected"));
		json_int_t since = json_integer_value(json_object_get(r, "since"));
		time_t now = time(NULL);
		printf("role:      client\nversion:   %s\nserver:    %s\nconnected: %s\n",
		       json_string_value(json_object_get(r, "version")),
		       json_string_value(json_object_get(r, "server")), up ? "yes" : "no");
		if (up)
			printf("vip:       %s (hub %s)\nsince:     %s\nrtt:       %s\n",
			       json_string_value(json_object_get(r, "vip")),
			       json_string_value(json_object_get(r, "hub_vip")),
			       fmt_duration(now > since ? (uint64_t)(now - since) : 0, d, sizeof(d)),
			       fmt_rtt(json_real_value(json_object_get(r, "rtt_ms")), a, sizeof(a)));
		printf("traffic:   %s in, %s out\n",
		       fmt_bytes((uint64_t)json_integer_value(json_object_get(t, "rx_bytes")), a, sizeof(a)),
		       fmt_bytes((uint64_t)json_integer_value(json_object_get(t, "tx_bytes")), b, sizeof(b)));
		json_decref(r);
		return 0;
	}
	printf("role:      %s\nversion:   %s\nlisten:    %s\nsubnet:    %s (hub %s)\n"
	       "sessions:  %lld\nuptime:    %s\npin:       %s\ntraffic:   %s in, %s out\n",
	       json_string_value(json_object_get(r, "role")),
	       json_string_value(json_object_get(r, "version")),
	       json_string_value(json_object_get(r, "listen")),
	       json_string_value(json_object_get(r, "subnet")),
	       json_string_value(json_object_get(r, "hub_vip")),
	       (long long)json_integer_value(json_object_get(r, "sessions")),
	       fmt_duration((uint64_t)json_integer_value(json_object_get(r, "uptime")), d, sizeof(d)),
	       json_string_value(json_object_get(r, "pin")),
	       fmt_bytes((uint64_t)json_integer_value(json_object_get(t, "rx_bytes")), a, sizeof(a)),
	       fmt_bytes((uint64_t)json_integer_value(json_object_get(t, "tx_bytes")), b, sizeof(b)));
	json_decref(r);
	return 0;
}

#define COLS 10

static int cmd_sessions_list(int fd, int argc, char **argv)
{
	int rc;
	json_t *r = rpc_call(fd, "sessions.list", NULL, &rc);
	if (!r)
		return rc;
	if (json_out)
		return print_json(r), json_decref(r), 0;
	json_t *list = json_object_get(r, "sessions");
	if (json_array_size(list) == 0) {
		puts("no sessions");
		json_decref(r);
		return 0;
	}
	static const char *const head[COLS] = {"ID", "TOKEN", "VIP", "REMOTE", "SINCE", "RX", "TX",
	                                       "DROPS", "RTT", "CLIENT"};
	size_t rows = json_array_size(list) + 1;
	char(*cell)[COLS][64] = calloc(rows, sizeof(*cell));
	int width[COLS] = {0};
	for (int c = 0; c < COLS; c++)
		snprintf(cell[0][c], 64, "%s", head[c]);
	size_t i;
	json_t *s;
	time_t now = time(NULL);
	json_array_foreach(list, i, s) {
		char (*row)[64] = cell[i + 1];
		uint64_t drops = 0;
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(s, "drops"), k, v)
			drops += (uint64_t)json_integer_value(v);
		snprintf(row[0], 64, "%lld", (long long)json_integer_value(json_object_get(s, "id")));
		snprintf(row[1], 64, "%s", json_string_value(json_object_get(s, "token")) ?: "-");
		snprintf(row[2], 64, "%s", json_string_value(json_object_get(s, "vip")));
		snprintf(row[3], 64, "%s", json_string_value(json_object_get(s, "remote")));
		json_int_t since = json_integer_value(json_object_get(s, "since"));
		fmt_duration(now > since ? (uint64_t)(now - since) : 0, row[4], 64);
		fmt_bytes((uint64_t)json_integer_value(json_object_get(s, "rx_bytes")), row[5], 64);
		fmt_bytes((uint64_t)json_integer_value(json_object_get(s, "tx_bytes")), row[6], 64);
		snprintf(row[7], 64, "%llu", (unsigned long long)drops);
		fmt_rtt(json_real_value(json_object_get(s, "rtt_ms")), row[8], 64);
		snprintf(row[9], 64, "%s/%s", json_string_value(json_object_get(s, "client_version")) ?: "?",
		         json_string_value(json_object_get(s, "os")) ?: "?");
	}
	for (size_t r2 = 0; r2 < rows; r2++)
		for (int c = 0; c < COLS; c++)
			if ((int)strlen(cell[r2][c]) > width[c])
				width[c] = (int)strlen(cell[r2][c]);
	for (size_t r2 = 0; r2 < rows; r2++)
		for (int c = 0; c < COLS; c++) {
			if (c == COLS - 1)
				printf("%s\n", cell[r2][c]);
			else
				printf("%-*s  ", width[c], cell[r2][c]);
		}
	free(cell);
	json_decref(r);
	return 0;
}

static int cmd_sessions_kick(int fd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"token", required_argument, NULL, 't'},
		{"reason", required_argument, NULL, 'r'},
		{0},
	};
	const char *token = NULL, *reason = NULL;
	int o;
	optind = 0; /* 0, not 1: a full restart of GNU getopt after main's own parse */
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 't')
			token = optarg;
		else if (o == 'r')
			reason = optarg;
		else
			return EXIT_USAGE;
	}
	const char *target = optind < argc ? argv[optind] : NULL;
	if (!!target + !!token != 1 || (target && optind + 1 != argc)) {
		fprintf(stderr, "usage: slopnctl sessions kick ID|VIP|--token NAME [--reason TEXT]\n");
		return EXIT_USAGE;
	}
	json_t *params = json_object();
	char *end;
	long long id = target ? strtoll(target, &end, 10) : 0;
	if (token)
		json_object_set_new(params, "token", json_string(token));
	else if (*target && !*end && id > 0)
		json_object_set_new(params, "id", json_integer(id));
	else
		json_object_set_new(params, "vip", json_string(target));
	if (reason)
		json_object_set_new(params, "reason", json_string(reason));
	int rc;
	json_t *r = rpc_call(fd, "sessions.kick", params, &rc);
	if (!r)
		return rc;
	if (json_out)
		print_json(r);
	else
		printf("kicked %lld session(s)\n", (long long)json_integer_value(json_object_get(r, "kicked")));
	json_decref(r);
	return 0;
}

static int cmd_monitor(int fd, int argc, char **argv)
{
	int rc;
	json_t *r = rpc_call(fd, "events.subscribe", NULL, &rc);
	if (!r)
		return rc;
	json_decref(r);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		char *line = read_line(fd, -1);
		if (!line)
			return 0; /* the daemon went away */
		json_t *n = json_loads(line, 0, NULL);
		free(line);
		if (!n)
			continue;
		if (json_out) {
			char *s = json_dumps(n, JSON_COMPACT | JSON_SORT_KEYS);
			puts(s);
			free(s);
		} else {
			char *p = json_dumps(json_object_get(n, "params"), JSON_COMPACT | JSON_SORT_KEYS);
			char ts[32];
			time_t now = time(NULL);
			strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
			printf("%s %s %s\n", ts, json_string_value(json_object_get(n, "method")), p ? p : "");
			free(p);
		}
		json_decref(n);
	}
}

struct command {
	const char *noun, *verb;
	int (*fn)(int fd, int argc, char **argv);
	const char *args, *help;
};

static const struct command commands[] = {
	{"status", NULL, cmd_status, "", "the daemon's role, address, sessions and traffic"},
	{"sessions", "list", cmd_sessions_list, "", "connected clients with live counters"},
	{"sessions", "kick", cmd_sessions_kick, "ID|VIP|--token NAME [--reason TEXT]",
	 "disconnect clients; they see the reason"},
	{"monitor", NULL, cmd_monitor, "", "print events (session up/down, auth failures) until Ctrl-C"},
	{NULL, NULL, NULL, NULL, NULL},
};

/* ---- completion: `slopnctl __complete WORD... CURRENT` prints candidates,
 * one per line, for the shells' completion scripts ---- */

static void live_values(const char *field, const char *prefix, int idfield)
{
	int fd;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, sock_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		int rc;
		FILE *saved = stderr;
		stderr = fopen("/dev/null", "w"); /* completion must stay quiet */
		json_t *r = rpc_call(fd, "sessions.list", NULL, &rc);
		if (stderr)
			fclose(stderr);
		stderr = saved;
		size_t i;
		json_t *sess;
		json_array_foreach(json_object_get(r, "sessions"), i, sess) {
			char buf[64];
			json_t *v = json_object_get(sess, field);
			if (idfield)
				snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
			else
				snprintf(buf, sizeof(buf), "%s", json_string_value(v) ? json_string_value(v) : "");
			if (*buf && !strncmp(buf, prefix, strlen(prefix)))
				puts(buf);
		}
		json_decref(r);
	}
	close(fd);
}

static void offer(const char *word, const char *prefix)
{
	if (!strncmp(word, prefix, strlen(prefix)))
		puts(word);
}

static int complete(int argc, char **argv)
{
	/* argv: the words after "slopnctl", the last one being completed. */
	const char *cur = argc > 0 ? argv[argc - 1] : "";
	const char *noun = NULL, *verb = NULL;
	for (int i = 0; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc - 1)
			sock_path = argv[++i];
		else if (!strcmp(argv[i], "--socket"))
			return 0; /* completing the path: leave it to the shell */
		else if (argv[i][0] == '-')
			continue;
		else if (!noun)
			noun = argv[i];
		else if (!verb)
			verb = argv[i];
	}
	if (!noun) {
		for (const struct command *c = commands; c->noun; c++)
			if (c == commands || strcmp(c->noun, c[-1].noun))
				offer(c->noun, cur);
		if (cur[0] == '-') {
			offer("--socket", cur);
			offer("--json", cur);
			offer("--help", cur);
		}
		return 0;
	}
	if (!verb) {
		for (const struct command *c = commands; c->noun; c++)
			if (c->verb && !strcmp(c->noun, noun))
				offer(c->verb, cur);
	}
	if (noun && verb && !strcmp(noun, "sessions") && !strcmp(verb, "kick")) {
		if (argc >= 2 && !strcmp(argv[argc - 2], "--token"))
			return 0;
		if (cur[0] == '-') {
			offer("--token", cur);
			offer("--reason", cur);
		} else {
			live_values("id", cur, 1);
			live_values("vip", cur, 0);
		}
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: slopnctl [--socket PATH] [--json] COMMAND [ARGS]\n\n"
	           "Commands:\n");
	for (const struct command *c = commands; c->noun; c++) {
		char name[64];
		snprintf(name, sizeof(name), "%s%s%s %s", c->noun, c->verb ? " " : "", c->verb ? c->verb : "", c->args);
		fprintf(f, "  %-50s %s\n", name, c->help);
	}
	fprintf(f, "\nOptions:\n"
	           "  --socket PATH   control socket (default $SLOPNCTL_SOCKET, else /run/slopn/slopnd.sock)\n"
	           "  --json          print the daemon's raw result, for scripts\n"
	           "  -h, --help      this text\n"
	           "Exit status: 0 ok, 1 refused by the daemon, 2 usage error, 3 daemon unreachable.\n");
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
	if (argc >= 2 && !strcmp(argv[1], "__complete"))
		return complete(argc - 2, argv + 2);
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
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *noun = argv[optind], *verb = optind + 1 < argc ? argv[optind + 1] : NULL;
	for (const struct command *c = commands; c->noun; c++) {
		if (strcmp(c->noun, noun) != 0 || (c->verb && (!verb || strcmp(c->verb, verb) != 0)))
			continue;
		int skip = c->verb ? 2 : 1;
		int fd = rpc_connect();
		if (fd < 0)
			return EXIT_UNREACHABLE;
		int rc = c->fn(fd, argc - optind - skip + 1, argv + optind + skip - 1);
		close(fd);
		return rc;
	}
	fprintf(stderr, "slopnctl: unknown command '%s%s%s' (see slopnctl --help)\n", noun,
	        verb ? " " : "", verb ? verb : "");
	return EXIT_USAGE;
}
