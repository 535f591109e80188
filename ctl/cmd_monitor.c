/* slopnctl monitor: the daemon's events, one line each, until Ctrl-C. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/slopnctl.h"

/* One event: "12:03:04 session.up {...}", at the daemon's time of it
 * (an older slopnd sends none: then the time it is read). */
static void show(struct answer *an, const struct args *a, json_t *n, FILE *out)
{
	(void)a;
	const char *method = ans_str(an, n, "method", REQUIRED);
	json_t *params = ans_obj(an, n, "params", OPTIONAL);
	time_t when = time(NULL);
	json_t *t = params ? json_object_get(params, "time") : NULL;
	if (json_is_integer(t)) {
		when = (time_t)json_integer_value(t);
		json_object_del(params, "time");
	}
	/* json_dumps escapes what is not printable ASCII. */
	char *p = params ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
	char ts[32] = "?";
	struct tm tm;
	if (localtime_r(&when, &tm))
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(out, "%s %s %s\n", ts, method, p ? p : "{}");
	free(p);
}

static int monitor(const struct args *a)
{
	/* A reader that goes (slopnctl monitor | head -1) is a write that
	 * fails, said and exit 1 (check_output), not death by SIGPIPE. Not
	 * put back: check_output's flush writes what is left again. */
	signal(SIGPIPE, SIG_IGN);
	int rc;
	json_t *r = rpc_call(a, "events.subscribe", NULL, &rc);
	if (!r)
		return rc;
	json_decref(r);
	/* On stderr, so that the events alone go to stdout (and a script
	 * knows from here on that none is missed). */
	fprintf(stderr, "slopnctl: watching events on %s; Ctrl-C stops\n", sock_path);
	for (;;) {
		char *line = read_line(rpc_fd(), -1);
		if (!line && interrupted)
			return 0; /* Ctrl-C in the shell: the watch ended as asked */
		if (!line) {
			/* Only Ctrl-C ends a watch well: a script must tell this from
			 * it. What ended it, as read_line says. */
			int e = errno;
			if (e == 0)
				fprintf(stderr, "slopnctl: monitor: the daemon closed the connection (it stopped)\n");
			else if (e == EMSGSIZE)
				fprintf(stderr, "slopnctl: monitor: an event line over 16 MiB, which slopnd does "
				        "not send (another program on %s?); the watch ends\n", sock_path);
			else
				fprintf(stderr, "slopnctl: monitor: reading events from %s: %s; the watch ends\n",
				        sock_path, strerror(e));
			return e == EMSGSIZE ? EXIT_BAD_ANSWER : EXIT_UNREACHABLE;
		}
		json_t *n = json_loads(line, 0, NULL);
		free(line);
		struct answer an;
		if (!n) {
			fprintf(stderr, "slopnctl: an event line that is not JSON, left out\n");
		} else if (json_out) {
			char *s = json_dumps(n, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
			                        JSON_ENSURE_ASCII);
			if (s) {
				out_text(stdout, s, strlen(s));
				out_text(stdout, "\n", 1);
			}
			free(s);
		} else if (show_result(a, n, stdout, &an)) {
			fprintf(stderr, "slopnctl: an event this slopnctl does not read, left out: %s\n", an.bad);
		}
		/* The daemon's last line to a watch that left 4 MiB of events
		 * unread: it closes the connection after it. */
		const char *m = json_string_value(json_object_get(n, "method"));
		bool behind = m && !strcmp(m, "events.dropped");
		json_int_t unread = json_integer_value(json_object_get(json_object_get(n, "params"), "unread"));
		json_decref(n);
		/* Each event as it comes, to a pipe or a file too. */
		if (out_flush() < 0)
			return 0; /* the events go nowhere: dispatch says why, exit 1 */
		if (behind) {
			fprintf(stderr, "slopnctl: monitor: this watch fell behind (%lld bytes of events "
			        "unread) and the daemon dropped it: events were lost; the watch ends\n",
			        (long long)unread);
			return EXIT_UNREACHABLE;
		}
	}
}

const struct command cmd_monitor = {
	"monitor", NULL, monitor,
	.help = "print events (sessions, logins, bans, tokens) until Ctrl-C",
	.method = "events.subscribe", .show = show,
};
