#include "proto/text.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at s (up to n bytes), its code
 * point in *cp; 0 if there is none (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static size_t sequence(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2, c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, c &= 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0;
		if (s[0] == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, c &= 0x07;
		if (s[0] == 0xf0)
			lo = 0x90;
		if (s[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	*cp = c;
	return len;
}

/* C0, DEL and C1: what a terminal may act on; and the line separators and
 * bidirectional controls, with which a peer's text would break a log line
 * or show itself backwards over what follows ("trojan source"). */
static bool control(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void text_clean(char *s, size_t len)
{
	unsigned char *p = (unsigned char *)s;
	for (size_t i = 0; i < len;) {
		unsigned cp;
		size_t n = sequence(p + i, len - i, &cp);
		if (!n || control(cp)) {
			n = n ? n : 1;
			memset(p + i, '?', n);
		}
		i += n;
	}
}

size_t text_plain(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		unsigned cp;
		size_t n = sequence(p + i, len - i, &cp);
		if (!n || control(cp))
			return i;
		i += n;
	}
	return len;
}

size_t text_escape(char *out, size_t outlen, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	if (!outlen)
		return 0;
	for (size_t i = 0; i < len;) {
		unsigned cp;
		size_t n = sequence(p + i, len - i, &cp);
		bool esc = !n || control(cp);
		n = n ? n : 1;
		if (o + (esc ? 4 * n : n) >= outlen)
			break;
		for (size_t k = 0; k < n; k++) {
			if (esc) {
				out[o++] = '\\', out[o++] = 'x';
				out[o++] = hex[p[i + k] >> 4], out[o++] = hex[p[i + k] & 15];
			} else {
				out[o++] = (char)p[i + k];
			}
		}
		i += n;
	}
	out[o] = '\0';
	return o;
}

size_t text_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	/* s[max] is the first byte left out: if it continues a sequence, the
	 * sequence goes too. */
	size_t n = max;
	while (n > 0 && max - n < 3 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

int text_hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

const char *text_json_why(const char *why, char *out, size_t outlen)
{
	static const char jansson[] = "invalid token";
	if (!strncmp(why, jansson, sizeof(jansson) - 1))
		snprintf(out, outlen, "unexpected text%s", why + sizeof(jansson) - 1);
	else
		snprintf(out, outlen, "%s", why);
	return out;
}
