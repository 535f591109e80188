/* libFuzzer: IPv4 header checks on datagrams from clients and packets from
 * the TUN device. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ipv4.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipv4_info ip;
	uint8_t *pkt = fuzz_copy(data, size);
	if (!pkt)
		return 0;
	enum ipv4_result r = ipv4_parse(pkt, size, &ip);
	if (!ipv4_result_str(r))
		abort();
	if (size < 20 && r != IPV4_SHORT)
		abort();
	if (size >= 20 && (pkt[0] >> 4) != 4 && r != IPV4_NOT_V4)
		abort();
	if (r == IPV4_OK) {
		if (ip.header_len < 20 || ip.header_len > ip.total_len || ip.total_len > size ||
		    ip.header_len != (pkt[0] & 0x0f) * 4 || ip.total_len != (pkt[2] << 8 | pkt[3]) ||
		    ip.protocol != pkt[9] || memcmp(&ip.src, pkt + 12, 4) != 0 ||
		    memcmp(&ip.dst, pkt + 16, 4) != 0)
			abort();
	}
	free(pkt);
	return 0;
}
