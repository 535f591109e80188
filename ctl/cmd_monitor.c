/* slopnctl monitor: the daemon's events, one line each, until Ctrl-C. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctl/slopnctl.h"

static int monitor(const struct args *a)
{
	int rc;
	json_t *r = rpc_call(a, "events.subscribe", NULL, &rc);
	if (!r)
		return rc;
	json_decref(r);
	/* On stderr, so that the events alone go to stdout (and a script
	 * knows from here on that none is missed). */
	fprintf(stderr, "slopnctl: watching events on %s; Ctrl-C stops\n", sock_path);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		char *line = read_line(rpc_fd(), -1);
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

const struct command cmd_monitor = {
	"monitor", NULL, monitor,
	.help = "print events (sessions, logins, bans, tokens) until Ctrl-C",
};
