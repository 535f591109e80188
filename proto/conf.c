#include "proto/conf.h"

#include <stdio.h>
#include <string.h>

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *trim_end(const char *start, const char *p)
{
	while (p > start && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\r'))
		p--;
	return p;
}

int conf_parse(const char *text, size_t len, conf_cb cb, void *ctx, char *err, size_t errlen,
               unsigned *errline)
{
	const char *p = text, *end = text + len;
	char key[64], value[CONF_MAX_LINE], why[256];
	for (unsigned line = 1; p < end; line++) {
		*errline = line;
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *s = skip_space(p, eol), *e = trim_end(s, eol);
		p = eol < end ? eol + 1 : end;
		if (s == e || *s == '#')
			continue;
		if ((size_t)(e - s) >= CONF_MAX_LINE) {
			snprintf(err, errlen, "line longer than %d bytes", CONF_MAX_LINE - 1);
			return -1;
		}
		if (memchr(s, '\0', (size_t)(e - s))) {
			snprintf(err, errlen, "a NUL byte in the line: not a text file?");
			return -1;
		}
		const char *eq = memchr(s, '=', (size_t)(e - s));
		if (!eq) {
			snprintf(err, errlen, "expected 'key = value'");
			return -1;
		}
		const char *ke = trim_end(s, eq), *vs = skip_space(eq + 1, e);
		size_t klen = (size_t)(ke - s);
		if (klen == 0 || klen >= sizeof(key) ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") < klen) {
			snprintf(err, errlen, "a key is 1-63 characters of a-z, 0-9, '-' and '_'");
			return -1;
		}
		memcpy(key, s, klen);
		key[klen] = '\0';
		memcpy(value, vs, (size_t)(e - vs));
		value[e - vs] = '\0';
		why[0] = '\0';
		if (cb(key, value, line, ctx, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", key, why);
			return -1;
		}
	}
	return 0;
}
