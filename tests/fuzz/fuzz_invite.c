/* libFuzzer: invite URLs. What parses must format back into an invite that
 * parses to the same token, server and pin. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/invite.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	if (!s)
		return 0;
	static struct invite a, b;
	/* Room for the longest token, each byte percent-encoded. */
	static char buf[3 * SLOPN_TOKEN_MAX + INVITE_HOST_MAX + 128];
	char err[256] = "";
	if (invite_parse(s, &a, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();
	} else {
		if (invite_format(buf, sizeof(buf), a.token, a.server, a.pin) < 0 ||
		    invite_parse(buf, &b, err, sizeof(err)) < 0 || strcmp(a.token, b.token) ||
		    strcmp(a.server, b.server) || strcmp(a.pin, b.pin))
			abort();
	}
	free(s);
	return 0;
}
