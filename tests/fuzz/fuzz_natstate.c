/* libFuzzer: the hub's nat-TUN.forward. What parses formats back to the
 * same values, and to the input itself with its final newline (the format
 * has one spelling); what fails keeps no value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/natstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	int v4, v6, b4, b6;
	if (natstate_parse(in, size, &v4, &v6) < 0) {
		if (v4 != -1 || v6 != -1)
			abort();
		return 0;
	}
	if (v4 < 0 || v6 < -1)
		abort();
	char text[NATSTATE_TEXT_MAX];
	int n = natstate_format(text, sizeof(text), v4, v6);
	if (n < 0 || natstate_parse(text, (size_t)n, &b4, &b6) < 0 || b4 != v4 || b6 != v6)
		abort();
	size_t body = size && in[size - 1] == '\n' ? size - 1 : size;
	if ((size_t)n != body + 1 || memcmp(text, in, body) || text[body] != '\n')
		abort();
	return 0;
}
