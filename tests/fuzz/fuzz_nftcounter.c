/* libFuzzer: the kill switch's drop counter as libnftables lists it (a
 * listing that parses gives its counter's values; one that does not
 * leaves the outputs alone), and the count of a table's rules. */
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
	/* A count of rules is never more than the bytes that could hold them. */
	int n = nft_rule_count((const char *)data, size);
	if (n < -1 || (n > 0 && (size_t)n * 10 > size))
		abort();
	return 0;
}
