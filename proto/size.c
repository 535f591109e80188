#include "proto/size.h"

#include <ctype.h>
#include <string.h>

int size_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	/* Digits by hand: strtoull takes a sign, spaces and 0x. */
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -1;
	unsigned shift = 0;
	if (*p) {
		const char *units = "KMG", *u = strchr(units, toupper((unsigned char)*p));
		if (!u)
			return -1;
		shift = 10 * (unsigned)(u - units + 1);
		p++;
		if (*p && strcmp(p, "iB") != 0)
			return -1;
	}
	if (v > UINT64_MAX >> shift)
		return -1;
	*out = v << shift;
	return 0;
}
