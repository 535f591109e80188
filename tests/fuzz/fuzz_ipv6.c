/* libFuzzer: IPv6 header checks on datagrams from clients and packets from
 * the TUN device. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ipv6.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipv6_info ip;
	uint8_t *pkt = fuzz_copy(data, size);
	if (!pkt)
		return 0;
	enum ipv6_result r = ipv6_parse(pkt, size, &ip);
	if (!ipv6_result_str(r))
		abort();
	if (size < 40 && r != IPV6_SHORT)
		abort();
	if (size >= 40 && (pkt[0] >> 4) != 6 && r != IPV6_NOT_V6)
		abort();
	if (r == IPV6_OK) {
		if (ip.total_len < 40 || ip.total_len > size || ip.total_len != 40 + (pkt[4] << 8 | pkt[5]) ||
		    ip.next_header != pkt[6] || ip.src != pkt + 8 || ip.dst != pkt + 24)
			abort();
		/* Reads all 16 bytes of each. */
		(void)ipv6_link_scoped(ip.src);
		(void)ipv6_link_scoped(ip.dst);
	}
	free(pkt);
	return 0;
}
