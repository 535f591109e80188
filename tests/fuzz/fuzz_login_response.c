/* libFuzzer: the client's parser of the hub's answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slopn_login_response a, b;
	char err[256], buf[2048];
	if (slopn_login_response_parse((const char *)data, size, &a, err, sizeof(err)) < 0)
		return 0;
	if (a.ok && (a.prefix_len < 1 || a.prefix_len > 31))
		abort();
	ssize_t n = slopn_login_response_format(&a, buf, sizeof(buf));
	if (n <= 0)
		abort();
	if (slopn_login_response_parse(buf, (size_t)n, &b, err, sizeof(err)) < 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	char type[32];
	slopn_msg_type((const char *)data, size, type, sizeof(type));
	return 0;
}
