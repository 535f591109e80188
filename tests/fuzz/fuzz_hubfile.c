/* libFuzzer: a client's hub-TUN.json. Whatever parses must format and
 * parse back the same; whatever fails must say why and keep nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/hubfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hubfile h, back;
	char err[256] = "";
	if (hubfile_parse((const char *)data, size, &h, err, sizeof(err)) < 0) {
		if (!err[0] || h.n || h.server[0])
			abort();
		return 0;
	}
	if (!h.n || h.n > HUBFILE_MAX || !h.server[0] || strlen(h.server) >= HUBFILE_SERVER_MAX)
		abort();
	char *text = hubfile_format(&h);
	if (!text || hubfile_parse(text, strlen(text), &back, err, sizeof(err)) < 0 ||
	    memcmp(&h, &back, sizeof(h)) != 0)
		abort();
	free(text);
	return 0;
}
