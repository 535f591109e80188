/* libFuzzer: the hub's parser of client logins. Whatever parses must
 * format and parse back to the same request (optional fields taken as
 * absent are not written, and parse back as absent); every refusal says
 * why, in printable ASCII. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/login.h"
#include "tests/fuzz/login_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct slopn_login_request a, b;
	/* A line of SLOPN_LOGIN_MAX bytes with its '\n' formats again in as
	 * many, and its NUL. */
	static char buf[SLOPN_LOGIN_MAX + 1];
	char err[256], type[16];
	/* Later messages on the stream go through this one. */
	slopn_msg_type((const char *)data, size, type, sizeof(type));
	if (strnlen(type, sizeof(type)) >= sizeof(type))
		abort();
	if (slopn_login_request_parse((const char *)data, size, &a, err, sizeof(err)) < 0) {
		check_err(err);
		return 0;
	}
	check_ignored(&a.ignored);
	if (!a.token[0] || strnlen(a.token, sizeof(a.token)) == sizeof(a.token) ||
	    strnlen(a.client_version, sizeof(a.client_version)) == sizeof(a.client_version) ||
	    strnlen(a.os, sizeof(a.os)) == sizeof(a.os) ||
	    (a.client_id[0] && !slopn_client_id_valid(a.client_id)) ||
	    (a.instance[0] && !slopn_client_id_valid(a.instance)))
		abort();
	ssize_t n = slopn_login_request_format(&a, buf, sizeof(buf));
	if (n <= 0 || n > SLOPN_LOGIN_MAX || buf[n - 1] != '\n' || buf[n] != '\0' ||
	    strlen(buf) != (size_t)n)
		abort();
	if (slopn_login_request_parse(buf, (size_t)n, &b, err, sizeof(err)) < 0 ||
	    strcmp(a.token, b.token) != 0 || strcmp(a.client_version, b.client_version) != 0 ||
	    strcmp(a.os, b.os) != 0 || strcmp(a.client_id, b.client_id) != 0 ||
	    strcmp(a.instance, b.instance) != 0 || a.ipv6 != b.ipv6 || b.ignored.n)
		abort();
	/* One byte short of room is refused, never truncated. */
	if (slopn_login_request_format(&a, buf, (size_t)n) != -1)
		abort();
	return 0;
}
