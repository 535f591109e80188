/* libFuzzer: tokens.json. Whatever parses must format and parse back to the
 * same entries; whatever fails must say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/tokenfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token_entry *v, *w;
	size_t n, m;
	char err[256] = "";
	if (tokenfile_parse((const char *)data, size, &v, &n, err, sizeof(err)) < 0) {
		if (!err[0] || v || n)
			abort();
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!token_name_valid(v[i].name))
			abort();
	char *text = tokenfile_format(v, n);
	if (!text || tokenfile_parse(text, strlen(text), &w, &m, err, sizeof(err)) < 0 || m != n ||
	    (n && memcmp(v, w, n * sizeof(*v)) != 0))
		abort();
	free(text);
	free(v);
	free(w);
	return 0;
}
