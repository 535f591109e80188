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
	struct natstate st, back;
	if (natstate_parse(in, size, &st) < 0) {
		if (st.fwd4 != -1 || st.fwd6 != -1 || st.redirects4 != -1 || st.accept_ra != -1 ||
		    st.ra_if[0])
			abort();
		return 0;
	}
	if (st.fwd4 < 0 || st.fwd6 < -1 || st.redirects4 < -1 || st.accept_ra < -1 ||
	    (st.accept_ra >= 0) != (st.ra_if[0] != '\0') || !memchr(st.ra_if, 0, sizeof(st.ra_if)))
		abort();
	char text[NATSTATE_TEXT_MAX];
	int n = natstate_format(text, sizeof(text), &st);
	if (n < 0 || natstate_parse(text, (size_t)n, &back) < 0 || memcmp(&st, &back, sizeof(st)))
		abort();
	size_t body = size && in[size - 1] == '\n' ? size - 1 : size;
	if ((size_t)n != body + 1 || memcmp(text, in, body) || text[body] != '\n')
		abort();
	return 0;
}
