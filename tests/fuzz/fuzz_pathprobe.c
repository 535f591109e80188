/* libFuzzer: answers to path probes. Whatever arrives, a match names a
 * probe that was sent, and only a Version Negotiation packet that echoes
 * that probe's connection IDs matches. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pathprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t id[PATHPROBE_ID_LEN] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
	struct pathprobe p;
	pathprobe_init(&p, id, 1452);
	int i = pathprobe_match(&p, data, size);
	if (i < 0)
		return 0;
	if (i >= p.n || size < 23 || !(data[0] & 0x80) || data[1] || data[2] || data[3] || data[4] ||
	    data[5] != PATHPROBE_ID_LEN || memcmp(data + 6, id, PATHPROBE_ID_LEN) != 0 ||
	    data[14] != PATHPROBE_ID_LEN || memcmp(data + 15, id, PATHPROBE_ID_LEN - 1) != 0 ||
	    data[22] != i || (size - 23) % 4 != 0 || size == 23)
		abort();
	/* The probe it names carries exactly those IDs, swapped. */
	uint8_t probe[1452];
	if (pathprobe_write(&p, i, probe, sizeof(probe)) != p.size[i] ||
	    memcmp(probe + 6, data + 15, PATHPROBE_ID_LEN) != 0 ||
	    memcmp(probe + 15, data + 6, PATHPROBE_ID_LEN) != 0)
		abort();
	return 0;
}
