#include "proto/login.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static json_t *load_object(const char *line, size_t len, char *err, size_t errlen)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len >= SLOPN_LOGIN_MAX) {
		fail(err, errlen, "message of %zu bytes is larger than %d", len, SLOPN_LOGIN_MAX);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		fail(err, errlen, "not JSON (%s)", je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		fail(err, errlen, "not a JSON object");
		return NULL;
	}
	return j;
}

enum field { OPTIONAL, REQUIRED, EXACT };

/* Copy a string field. OPTIONAL and REQUIRED truncate to fit; EXACT
 * refuses what does not fit (a token must never be cut short). */
static int get_string(json_t *o, const char *key, char *dst, size_t cap, enum field how,
                      char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	dst[0] = '\0';
	if (!v)
		return how == OPTIONAL ? 0 : fail(err, errlen, "field \"%s\" is missing", key);
	if (!json_is_string(v))
		return fail(err, errlen, "field \"%s\" is not a string", key);
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (strlen(s) != n)
		return fail(err, errlen, "field \"%s\" contains a NUL byte", key);
	if (n >= cap) {
		if (how == EXACT)
			return fail(err, errlen, "field \"%s\" is longer than %zu bytes", key, cap - 1);
		n = cap - 1;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int check_type(json_t *o, const char *want, char *err, size_t errlen)
{
	char type[SLOPN_SHORT_MAX];
	if (get_string(o, "type", type, sizeof(type), REQUIRED, err, errlen) < 0)
		return -1;
	if (strcmp(type, want) != 0)
		return fail(err, errlen, "type is \"%s\", expected \"%s\"", type, want);
	return 0;
}

int slopn_login_request_parse(const char *line, size_t len, struct slopn_login_request *out,
                              char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	json_t *o = load_object(line, len, err, errlen);
	if (!o)
		return -1;
	int rv = -1;
	if (check_type(o, "login_request", err, errlen) < 0 ||
	    get_string(o, "token", out->token, sizeof(out->token), EXACT, err, errlen) < 0 ||
	    get_string(o, "client_version", out->client_version, sizeof(out->client_version),
	               OPTIONAL, err, errlen) < 0 ||
	    get_string(o, "os", out->os, sizeof(out->os), OPTIONAL, err, errlen) < 0)
		goto out;
	if (!out->token[0]) {
		fail(err, errlen, "field \"token\" is empty");
		goto out;
	}
	rv = 0;
out:
	json_decref(o);
	return rv;
}

static int get_ip(json_t *o, const char *key, struct in_addr *a, bool required, bool *present,
                  char *err, size_t errlen)
{
	char s[INET_ADDRSTRLEN + 8];
	if (get_string(o, key, s, sizeof(s), required ? REQUIRED : OPTIONAL, err, errlen) < 0)
		return -1;
	if (present)
		*present = s[0] != '\0';
	if (!s[0] && !required)
		return 0;
	if (inet_pton(AF_INET, s, a) != 1)
		return fail(err, errlen, "field \"%s\" is not an IPv4 address", key);
	return 0;
}

int slopn_login_response_parse(const char *line, size_t len, struct slopn_login_response *out,
                               char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->prefix_len = 24; /* the original hub sends no subnet_mask */
	json_t *o = load_object(line, len, err, errlen);
	if (!o)
		return -1;
	int rv = -1;
	char status[SLOPN_SHORT_MAX];
	if (check_type(o, "login_response", err, errlen) < 0 ||
	    get_string(o, "status", status, sizeof(status), REQUIRED, err, errlen) < 0 ||
	    get_string(o, "message", out->message, sizeof(out->message), OPTIONAL, err, errlen) < 0 ||
	    get_string(o, "server_version", out->server_version, sizeof(out->server_version),
	               OPTIONAL, err, errlen) < 0)
		goto out;
	if (strcmp(status, "error") == 0) {
		rv = 0;
		goto out;
	}
	if (strcmp(status, "success") != 0) {
		fail(err, errlen, "status is \"%s\", expected \"success\" or \"error\"", status);
		goto out;
	}
	out->ok = true;
	struct in_addr mask;
	bool has_mask = false;
	if (get_ip(o, "assigned_vip", &out->assigned_vip, true, NULL, err, errlen) < 0 ||
	    get_ip(o, "server_vip", &out->server_vip, true, NULL, err, errlen) < 0 ||
	    get_ip(o, "subnet_mask", &mask, false, &has_mask, err, errlen) < 0)
		goto out;
	if (has_mask) {
		uint32_t m = ntohl(mask.s_addr);
		unsigned bits = (unsigned)__builtin_popcount(m);
		/* Contiguous: ones then zeros, and not /0 or /32. */
		if (bits == 0 || bits == 32 || (uint32_t)(~m + 1) != (1u << (32 - bits))) {
			fail(err, errlen, "field \"subnet_mask\" is not a usable netmask");
			goto out;
		}
		out->prefix_len = bits;
	}
	rv = 0;
out:
	json_decref(o);
	return rv;
}

static ssize_t dump_line(json_t *j, char *buf, size_t cap)
{
	if (!j)
		return -1;
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return -1;
	size_t n = strlen(s);
	if (n + 2 > cap) {
		free(s);
		return -1;
	}
	memcpy(buf, s, n);
	buf[n++] = '\n';
	buf[n] = '\0';
	free(s);
	return (ssize_t)n;
}

ssize_t slopn_login_request_format(const struct slopn_login_request *req, char *buf, size_t cap)
{
	return dump_line(json_pack("{s:s, s:s, s:s, s:s}", "type", "login_request",
	                           "token", req->token, "client_version", req->client_version,
	                           "os", req->os), buf, cap);
}

ssize_t slopn_login_response_format(const struct slopn_login_response *r, char *buf, size_t cap)
{
	if (!r->ok)
		return dump_line(json_pack("{s:s, s:s, s:s, s:s}", "type", "login_response",
		                           "status", "error", "message", r->message,
		                           "server_version", r->server_version), buf, cap);
	if (r->prefix_len < 1 || r->prefix_len > 31)
		return -1;
	char vip[INET_ADDRSTRLEN], hub[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	struct in_addr m = {htonl(~0u << (32 - r->prefix_len))};
	inet_ntop(AF_INET, &r->assigned_vip, vip, sizeof(vip));
	inet_ntop(AF_INET, &r->server_vip, hub, sizeof(hub));
	inet_ntop(AF_INET, &m, mask, sizeof(mask));
	return dump_line(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "login_response",
	                           "status", "success", "assigned_vip", vip, "subnet_mask", mask,
	                           "server_vip", hub, "server_version", r->server_version),
	                 buf, cap);
}

int slopn_msg_type(const char *line, size_t len, char *type, size_t typelen)
{
	json_t *o = load_object(line, len, NULL, 0);
	if (!o)
		return -1;
	if (get_string(o, "type", type, typelen, OPTIONAL, NULL, 0) < 0)
		type[0] = '\0';
	json_decref(o);
	return 0;
}
