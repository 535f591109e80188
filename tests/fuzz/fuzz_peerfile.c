/* libFuzzer: peers.json. Whatever parses must format and parse back to the
 * same entries; whatever fails must say why and allocate nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/peerfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer_entry *v, *w;
	size_t n, m;
	char err[256] = "";
	if (peerfile_parse((const char *)data, size, &v, &n, err, sizeof(err)) < 0) {
		if (!err[0] || v || n)
			abort();
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].ncid > PEER_CIDS_MAX || !v[i].remotelen)
			abort();
		for (size_t k = 0; k < v[i].ncid; k++)
			if (!v[i].cid[k].len || v[i].cid[k].len > PEER_CID_MAX)
				abort();
	}
	char *text = peerfile_format(v, n);
	if (!text || peerfile_parse(text, strlen(text), &w, &m, err, sizeof(err)) < 0 || m != n ||
	    (n && memcmp(v, w, n * sizeof(*v)) != 0))
		abort();
	free(text);
	free(v);
	free(w);
	return 0;
}
