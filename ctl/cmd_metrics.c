/* slopnctl metrics: the hub's metrics in the Prometheus text format, for
 * node_exporter's textfile collector (the same text --metrics serves). */
#include <stdio.h>

#include "ctl/slopnctl.h"

static void show(struct answer *an, const struct args *a, json_t *r, FILE *out)
{
	(void)a;
	fputs(ans_text(an, r, "text", REQUIRED, true), out);
}

static int metrics(const struct args *a)
{
	return rpc_run(a, NULL);
}

const struct command cmd_metrics = {
	"metrics", NULL, metrics,
	.help = "the hub's metrics in Prometheus' text format (for node_exporter's textfile collector)",
	.method = "metrics.get", .show = show,
};
