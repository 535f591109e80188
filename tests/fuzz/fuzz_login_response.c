/* libFuzzer: the client's parsers of the hub's lines, its answer to the
 * login and its later word on the network and the path. Whatever parses must format and
 * parse back to the same message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/login.h"
#include "tests/fuzz/login_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field by field: padding is not part of the value. */
static int same(const struct slopn_login_response *a, const struct slopn_login_response *b)
{
	return a->ok == b->ok && strcmp(a->message, b->message) == 0 &&
	       a->assigned_vip.s_addr == b->assigned_vip.s_addr &&
	       a->server_vip.s_addr == b->server_vip.s_addr && a->prefix_len == b->prefix_len &&
	       strcmp(a->server_version, b->server_version) == 0 && a->dns.s_addr == b->dns.s_addr &&
	       a->prefix_len6 == b->prefix_len6 && a->egress6 == b->egress6 &&
	       !memcmp(&a->assigned_vip6, &b->assigned_vip6, 16) &&
	       !memcmp(&a->server_vip6, &b->server_vip6, 16) && !memcmp(&a->dns6, &b->dns6, 16);
}

static void network(const uint8_t *data, size_t size)
{
	struct slopn_network a, b;
	char err[256], buf[128];
	if (slopn_network_parse((const char *)data, size, &a, err, sizeof(err)) < 0) {
		check_err(err);
		if (a.egress6)
			abort();
		return;
	}
	ssize_t n = slopn_network_format(&a, buf, sizeof(buf));
	if (n <= 0 || buf[n - 1] != '\n' || strlen(buf) != (size_t)n ||
	    slopn_network_parse(buf, (size_t)n, &b, err, sizeof(err)) < 0 || a.egress6 != b.egress6)
		abort();
}

static void path(const uint8_t *data, size_t size)
{
	struct slopn_path a, b;
	char err[256], buf[128];
	if (slopn_path_parse((const char *)data, size, &a, err, sizeof(err)) < 0) {
		check_err(err);
		if (a.max_udp_payload)
			abort();
		return;
	}
	if (a.max_udp_payload < SLOPN_PATH_MIN || a.max_udp_payload > SLOPN_PATH_MAX)
		abort();
	ssize_t n = slopn_path_format(&a, buf, sizeof(buf));
	if (n <= 0 || buf[n - 1] != '\n' || strlen(buf) != (size_t)n ||
	    slopn_path_parse(buf, (size_t)n, &b, err, sizeof(err)) < 0 ||
	    a.max_udp_payload != b.max_udp_payload)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	network(data, size);
	path(data, size);
	struct slopn_login_response a, b;
	char err[256], buf[SLOPN_LOGIN_MAX];
	if (slopn_login_response_parse((const char *)data, size, &a, err, sizeof(err)) < 0) {
		check_err(err);
		if (a.ok)
			abort(); /* a refusal never looks like a success */
		return 0;
	}
	check_ignored(&a.ignored);
	if (a.ok ? (a.prefix_len < 1 || a.prefix_len > 31 || a.message[0])
	         : (a.prefix_len != 24 || a.assigned_vip.s_addr || a.server_vip.s_addr))
		abort();
	if (strnlen(a.message, sizeof(a.message)) == sizeof(a.message) ||
	    strnlen(a.server_version, sizeof(a.server_version)) == sizeof(a.server_version))
		abort();
	ssize_t n = slopn_login_response_format(&a, buf, sizeof(buf));
	if (n <= 0 || buf[n - 1] != '\n' || buf[n] != '\0' || strlen(buf) != (size_t)n)
		abort();
	/* What we write is all understood. */
	if (slopn_login_response_parse(buf, (size_t)n, &b, err, sizeof(err)) < 0 || !same(&a, &b) ||
	    b.ignored.n)
		abort();
	if (slopn_login_response_format(&a, buf, (size_t)n) != -1)
		abort();
	return 0;
}
