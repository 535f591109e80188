/* libFuzzer: the hub's parser of client logins. Whatever parses must
 * format and parse back to the same request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slopn_login_request a, b;
	char err[256], buf[2048];
	if (slopn_login_request_parse((const char *)data, size, &a, err, sizeof(err)) < 0) {
		if (!err[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	ssize_t n = slopn_login_request_format(&a, buf, sizeof(buf));
	if (n <= 0 || buf[n - 1] != '\n')
		abort();
	if (slopn_login_request_parse(buf, (size_t)n, &b, err, sizeof(err)) < 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	return 0;
}
