/* libFuzzer: the kill switch's drop counter as libnftables lists it. A
 * listing that parses gives its counter's values; one that does not
 * leaves the outputs alone. */
#include <stdint.h>
#include <stdlib.h>

#include "proto/nftcounter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t p = UINT64_MAX, b = UINT64_MAX;
	int rv = nft_counter_parse((const char *)data, size, &p, &b);
	if (rv != 0 && (p != UINT64_MAX || b != UINT64_MAX))
		abort();
	if (rv == 0 && (p > INT64_MAX || b > INT64_MAX))
		abort();
	return 0;
}
