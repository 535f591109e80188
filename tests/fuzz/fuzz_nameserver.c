/* libFuzzer: resolv.conf's nameserver lines (proto/nameserver.c). Whatever
 * the text, the count does not depend on the room given, what is written
 * is the same in either, each server is an address of its family that
 * formats back into a line found again, and no more than the room is
 * written (the guard after it stays). */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/nameserver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nameserver a[5], b[64];
	memset(a, 0xa5, sizeof(a));
	size_t n = nameservers_parse((const char *)data, size, a, 4);
	size_t m = nameservers_parse((const char *)data, size, b, 64);
	if (n != m)
		abort();
	const uint8_t guard[sizeof(a[4])] = {[0 ... sizeof(a[4]) - 1] = 0xa5};
	if (memcmp(&a[4], guard, sizeof(guard)) != 0)
		abort();
	for (size_t i = 0; i < n && i < 4; i++) {
		if (memcmp(&a[i], &b[i], sizeof(a[i])) != 0 ||
		    (a[i].family != AF_INET && a[i].family != AF_INET6))
			abort();
		char s[INET6_ADDRSTRLEN], line[INET6_ADDRSTRLEN + 16];
		struct nameserver again;
		if (!inet_ntop(a[i].family, a[i].addr, s, sizeof(s)))
			abort();
		int len = snprintf(line, sizeof(line), "nameserver %s", s);
		if (nameservers_parse(line, (size_t)len, &again, 1) != 1 ||
		    memcmp(&again, &a[i], sizeof(again)) != 0)
			abort();
	}
	return 0;
}
