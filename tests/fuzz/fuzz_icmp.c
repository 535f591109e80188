/* libFuzzer: the "fragmentation needed" answer to any packet from the TUN. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/icmp.h"

static uint16_t sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pkt = malloc(size ? size : 1), out[96];
	if (!pkt)
		return 0;
	memcpy(pkt, data, size);
	size_t n = icmp4_frag_needed(pkt, size, 0x0100640a, 1217, out, sizeof(out));
	if (n) {
		/* A well-formed answer: valid checksums, addressed to the sender,
		 * quoting the start of the packet. */
		if (n < 48 || n > 96 || sum16(out, 20) != 0xffff || sum16(out + 20, n - 20) != 0xffff ||
		    out[20] != 3 || out[21] != 4 || memcmp(out + 16, pkt + 12, 4) != 0 ||
		    memcmp(out + 28, pkt, n - 28) != 0 || (size_t)(out[2] << 8 | out[3]) != n)
			abort();
	}
	free(pkt);
	return 0;
}
