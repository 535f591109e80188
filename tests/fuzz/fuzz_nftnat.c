/* libFuzzer: source NAT rules looked for in an nftables listing (another
 * router on the machine that needs forwarding). A find names where, in
 * printable characters, within the room given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/nftnat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char w[24];
	memset(w, 'x', sizeof(w));
	int rv = nft_nat_rule_find((const char *)data, size, w, sizeof(w));
	if (rv < -1 || rv > 1)
		abort();
	if (rv == 1) {
		const char *end = memchr(w, 0, sizeof(w));
		if (!end)
			abort();
		for (const char *p = w; p < end; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
	}
	return 0;
}
