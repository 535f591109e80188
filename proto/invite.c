#include "proto/invite.h"
#include "proto/addr.h"
#include "proto/login.h"
#include "proto/text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Either case, in a URL. */
static int hexval(char c)
{
	return text_hexval((char)tolower((unsigned char)c));
}

/* RFC 3986 unreserved: left as is in the token. */
static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int decode_token(const char *s, size_t len, char *out, size_t cap, char *err, size_t errlen)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 1 < len ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi | lo) == 0) {
				snprintf(err, errlen, "token: bad percent-escape at position %zu", i);
				return -1;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (!unreserved(c) && !strchr("!$&'()*+,;=:", c)) {
			if (isprint(c))
				snprintf(err, errlen, "token: character '%c' at position %zu must be percent-encoded",
				         c, i);
			else
				snprintf(err, errlen, "token: byte 0x%02x at position %zu must be percent-encoded",
				         c, i);
			return -1;
		}
		if (o + 1 >= cap) {
			snprintf(err, errlen, "token: longer than %zu bytes", cap - 1);
			return -1;
		}
		out[o++] = (char)c;
	}
	if (o == 0) {
		snprintf(err, errlen, "token: empty");
		return -1;
	}
	/* A login carries the token as a JSON string: it is text. */
	size_t plain = text_plain(out, o);
	if (plain < o) {
		snprintf(err, errlen, "token: byte %zu of the decoded token (0x%02x) is a control character "
		         "or not UTF-8 text", plain + 1, (unsigned char)out[plain]);
		return -1;
	}
	out[o] = '\0';
	return 0;
}

static int parse_hostport(const char *s, size_t len, struct invite *out, char *err, size_t errlen)
{
	const char *host = s, *port = NULL;
	char v4[INET_ADDRSTRLEN];
	size_t hostlen, mapped_len = 0;
	bool v6 = len && s[0] == '[';
	if (v6) {
		const char *close = memchr(s, ']', len);
		if (!close) {
			snprintf(err, errlen, "host: '[' without ']'");
			return -1;
		}
		hostlen = (size_t)(close - s) + 1;
		for (size_t i = 1; i + 1 < hostlen; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.') {
				snprintf(err, errlen, "host: not an IPv6 address in brackets");
				return -1;
			}
		if (hostlen < 4) {
			snprintf(err, errlen, "host: empty IPv6 address");
			return -1;
		}
		char a6[INET6_ADDRSTRLEN];
		struct in6_addr in6;
		if (hostlen - 2 >= sizeof(a6)) {
			snprintf(err, errlen, "host: not an IPv6 address in brackets");
			return -1;
		}
		memcpy(a6, s + 1, hostlen - 2);
		a6[hostlen - 2] = '\0';
		if (inet_pton(AF_INET6, a6, &in6) != 1 || IN6_IS_ADDR_UNSPECIFIED(&in6)) {
			snprintf(err, errlen, "host: '%s' is not an IPv6 address a hub can have", a6);
			return -1;
		}
		/* Reached only with its interface, which an invite cannot carry. */
		if (IN6_IS_ADDR_LINKLOCAL(&in6)) {
			snprintf(err, errlen, "host: '%s' is link-local, which needs an interface an invite "
			         "cannot carry: give the hub's global address", a6);
			return -1;
		}
		/* [::ffff:192.0.2.1] is reached over IPv4: the client's host
		 * route and kill switch must be made for IPv4, so it is written
		 * as such. */
		if (IN6_IS_ADDR_V4MAPPED(&in6)) {
			inet_ntop(AF_INET, in6.s6_addr + 12, v4, sizeof(v4));
			host = v4;
			mapped_len = strlen(v4);
		}
		if (hostlen < len) {
			if (s[hostlen] != ':') {
				snprintf(err, errlen, "host: expected ':PORT' after ']'");
				return -1;
			}
			port = s + hostlen + 1;
		}
	} else {
		const char *colon = memchr(s, ':', len);
		hostlen = colon ? (size_t)(colon - s) : len;
		port = colon ? colon + 1 : NULL;
		for (size_t i = 0; i < hostlen; i++)
			if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.') {
				snprintf(err, errlen, "host: byte 0x%02x at position %zu not allowed "
				         "(a name, an IPv4 address or [an IPv6 address])", (unsigned char)s[i], i);
				return -1;
			}
	}
	if (hostlen == 0 || hostlen > INVITE_HOST_MAX) {
		snprintf(err, errlen, "host: expected 1-%d characters", INVITE_HOST_MAX);
		return -1;
	}
	int p = SLOPN_PORT;
	if (port && (p = port_parse(port, len - (size_t)(port - s))) < 0) {
		snprintf(err, errlen, "port: expected 1-65535");
		return -1;
	}
	snprintf(out->server, sizeof(out->server), "%.*s:%d", (int)(mapped_len ? mapped_len : hostlen),
	         host, p);
	return 0;
}

static int parse_query(const char *q, struct invite *out, char *err, size_t errlen)
{
	while (*q) {
		size_t n = strcspn(q, "&");
		/* Any spelling of pin, and an empty one refused: an invite that
		 * looks pinned must not connect unchecked. */
		if (n >= 4 && !strncasecmp(q, "pin=", 4)) {
			const char *v = q + 4;
			size_t vlen = n - 4;
			if (out->pin[0]) {
				snprintf(err, errlen, "pin: given twice (which one is the hub's?)");
				return -1;
			}
			if (vlen != INVITE_PIN_LEN || strncasecmp(v, "sha256:", 7) != 0) {
				snprintf(err, errlen, "pin: expected sha256: and 64 hex digits");
				return -1;
			}
			memcpy(out->pin, "sha256:", 7);
			for (size_t i = 7; i < vlen; i++) {
				if (hexval(v[i]) < 0) {
					snprintf(err, errlen, "pin: expected sha256: and 64 hex digits");
					return -1;
				}
				out->pin[i] = (char)tolower((unsigned char)v[i]);
			}
			out->pin[vlen] = '\0';
		} else if (n && !out->unknown[0]) {
			/* Its name (up to '='), bytes that cannot be shown as '?'. */
			size_t k = strcspn(q, "=&");
			k = k < INVITE_PARAM_MAX ? k : INVITE_PARAM_MAX;
			for (size_t i = 0; i < k; i++)
				out->unknown[i] = q[i] > 0x20 && q[i] < 0x7f ? q[i] : '?';
			out->unknown[k] = '\0';
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

int invite_parse(const char *s, struct invite *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	size_t sl = strlen(INVITE_SCHEME);
	if (strncasecmp(s, INVITE_SCHEME, sl) != 0) {
		snprintf(err, errlen, "not an invite: expected %sTOKEN@HOST:PORT?pin=sha256:...", INVITE_SCHEME);
		return -1;
	}
	s += sl;
	size_t auth = strcspn(s, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < auth; i++)
		if (s[i] == '@')
			at = s + i;
	if (!at) {
		snprintf(err, errlen, "no token: expected %sTOKEN@HOST:PORT", INVITE_SCHEME);
		return -1;
	}
	if (decode_token(s, (size_t)(at - s), out->token, sizeof(out->token), err, errlen) < 0 ||
	    parse_hostport(at + 1, auth - (size_t)(at + 1 - s), out, err, errlen) < 0)
		return -1;
	const char *rest = s + auth;
	if (*rest == '/')
		rest++;
	if (*rest == '#' || (*rest && *rest != '?')) {
		snprintf(err, errlen, "unexpected text after the host: '%s'", rest);
		return -1;
	}
	if (*rest == '?') {
		const char *frag = strchr(rest, '#');
		if (frag) {
			snprintf(err, errlen, "unexpected fragment '#' in an invite");
			return -1;
		}
		return parse_query(rest + 1, out, err, errlen);
	}
	return 0;
}

ssize_t invite_format(char *buf, size_t cap, const char *token, const char *server,
                      const char *pin)
{
	size_t o = 0;
	int n = snprintf(buf, cap, "%s", INVITE_SCHEME);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	o = (size_t)n;
	for (const unsigned char *p = (const unsigned char *)token; *p; p++) {
		n = unreserved(*p) ? snprintf(buf + o, cap - o, "%c", *p)
		                   : snprintf(buf + o, cap - o, "%%%02X", *p);
		if (n < 0 || (size_t)n >= cap - o)
			return -1;
		o += (size_t)n;
	}
	n = pin && *pin ? snprintf(buf + o, cap - o, "@%s?pin=%s", server, pin)
	                : snprintf(buf + o, cap - o, "@%s", server);
	if (n < 0 || (size_t)n >= cap - o)
		return -1;
	return (ssize_t)(o + (size_t)n);
}
