/* libFuzzer: traffic.json. Whatever parses must format and parse back to
 * the same entries; whatever fails must say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/trafficfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct traffic_entry *v, *w;
	size_t n, m;
	char err[256] = "";
	if (trafficfile_parse((const char *)data, size, &v, &n, err, sizeof(err)) < 0) {
		if (!err[0] || v || n)
			abort();
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!token_name_valid(v[i].name) || strlen(v[i].last_remote) >= TRAFFIC_REMOTE_MAX)
			abort();
	char *text = trafficfile_format(v, n);
	if (!text || trafficfile_parse(text, strlen(text), &w, &m, err, sizeof(err)) < 0 || m != n ||
	    (n && memcmp(v, w, n * sizeof(*v)) != 0))
		abort();
	free(text);
	free(v);
	free(w);
	return 0;
}
