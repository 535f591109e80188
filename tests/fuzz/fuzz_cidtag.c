/* libFuzzer: a connection ID from the network against the hub's tag. Any
 * bytes are checked without a fault; an ID made with the secret passes,
 * and the input with its tag bytes changed does not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/cidtag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t secret[32] = {0x73, 0x6c, 0x6f, 0x70, 0x6e};
	bool ok = cidtag_ok(secret, data, size);
	if (ok && size != CIDTAG_LEN)
		abort();
	if (ok) {
		uint8_t c[CIDTAG_LEN];
		memcpy(c, data, sizeof(c));
		c[CIDTAG_LEN - 1] ^= 1;
		if (cidtag_ok(secret, c, sizeof(c)))
			abort();
	}
	uint8_t made[CIDTAG_LEN];
	if (cidtag_make(secret, made) != 0 || !cidtag_ok(secret, made, sizeof(made)))
		abort();
	return 0;
}
