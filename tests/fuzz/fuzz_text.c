/* libFuzzer: any bytes cleaned are UTF-8 that jansson takes, without
 * control characters, of the same length; a cut never splits what was a
 * character. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/text.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	if (!s)
		return 0;
	text_clean(s, size);
	json_t *j = json_stringn(s, size);
	if (!j)
		abort();
	json_decref(j);
	for (size_t i = 0; i < size; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
	/* Cleaned text is UTF-8: every cut of it is too. */
	for (size_t max = 0; max <= size && max < 64; max++) {
		size_t n = text_cut(s, size, max);
		if (n > max || (n < max && n + 3 < max))
			abort();
		j = json_stringn(s, n);
		if (!j)
			abort();
		json_decref(j);
	}
	free(s);
	return 0;
}
