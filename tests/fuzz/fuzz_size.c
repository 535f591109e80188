/* libFuzzer: amounts of memory in settings (--queue-memory), the input as
 * one string. What parses, written back in bytes, parses to the same; with
 * a unit, it is a multiple of it. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/size.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	if (!s)
		return 0;
	uint64_t v, back;
	if (size_parse(s, &v) == 0) {
		char text[24];
		snprintf(text, sizeof(text), "%" PRIu64, v);
		if (size_parse(text, &back) < 0 || back != v)
			abort();
		size_t n = strspn(s, "0123456789");
		if (s[n] && v % 1024)
			abort();
	}
	free(s);
	return 0;
}
