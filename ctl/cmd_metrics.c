/* slopnctl metrics: the hub's metrics in the Prometheus text format, for
 * node_exporter's textfile collector (the same text --metrics serves). */
#include <stdio.h>

#include "ctl/slopnctl.h"

static int metrics(const struct args *a)
{
	int rc;
	json_t *r = rpc_call(a, "metrics.get", NULL, &rc);
	if (!r)
		return rc;
	if (json_out)
		print_json(r);
	else
		fwrite(json_string_value(json_object_get(r, "text")), 1,
		       json_string_length(json_object_get(r, "text")), stdout);
	json_decref(r);
	return 0;
}

const struct command cmd_metrics = {
	"metrics", NULL, metrics,
	.help = "the hub's metrics in Prometheus' text format (for node_exporter's textfile collector)",
};
