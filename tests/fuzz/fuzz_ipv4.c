/* libFuzzer: IPv4 header checks on datagrams from clients. */
#include <stdint.h>
#include <stdlib.h>

#include "proto/ipv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipv4_info ip;
	if (ipv4_parse(data, size, &ip) != IPV4_OK)
		return 0;
	if (ip.header_len < 20 || ip.header_len > ip.total_len || ip.total_len > size)
		abort();
	return 0;
}
