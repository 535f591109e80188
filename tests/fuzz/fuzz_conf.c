/* libFuzzer: config files. Every setting handed out is trimmed text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/conf.h"

static int check(const char *key, const char *value, unsigned line, void *ctx, char *err, size_t errlen)
{
	size_t k = strlen(key), v = strlen(value);
	if (k == 0 || k > 63 || v >= CONF_MAX_LINE || line == 0)
		abort();
	if ((v && (value[0] == ' ' || value[v - 1] == ' ')) || key[k - 1] == ' ')
		abort();
	return value[0] == '!' ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "";
	unsigned line = 0;
	if (conf_parse((const char *)data, size, check, NULL, err, sizeof(err), &line) < 0 &&
	    (!err[0] || line == 0))
		abort();
	return 0;
}
