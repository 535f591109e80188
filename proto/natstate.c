#include "proto/natstate.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool ifname_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("._@+-", c));
}

bool natstate_ifname_ok(const char *s)
{
	size_t n = 0;
	while (n < 16 && s[n] && ifname_char(s[n]))
		n++;
	return n > 0 && n < 16 && !s[n];
}

/* One value at *pos: digits, no sign, no leading zero, up to INT_MAX. Its
 * value, or -1 with *pos left anywhere. */
static int number(const char *buf, size_t len, size_t *pos)
{
	size_t i = *pos;
	long long v = 0;
	if (i >= len || buf[i] < '0' || buf[i] > '9' || (buf[i] == '0' && i + 1 < len &&
	                                                  buf[i + 1] >= '0' && buf[i + 1] <= '9'))
		return -1;
	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++)
		if ((v = v * 10 + (buf[i] - '0')) > INT_MAX)
			return -1;
	*pos = i;
	return (int)v;
}

/* The end of a line at *pos: '\n', or the end of the buffer. */
static int line_end(const char *buf, size_t len, size_t *pos)
{
	if (*pos == len)
		return 0;
	if (buf[*pos] != '\n')
		return -1;
	(*pos)++;
	return 0;
}

/* A middle line at *pos: a value into *v, or "-" (*v left as it is),
 * which a later line must follow. 0, or -1. */
static int value_or_dash(const char *buf, size_t len, size_t *pos, int *v)
{
	bool none = buf[*pos] == '-';
	if (none)
		(*pos)++;
	else if ((*v = number(buf, len, pos)) < 0)
		return -1;
	return line_end(buf, len, pos) < 0 || (none && *pos == len) ? -1 : 0;
}

int natstate_parse(const char *buf, size_t len, struct natstate *st)
{
	size_t pos = 0;
	*st = NATSTATE_NONE;
	if ((st->fwd4 = number(buf, len, &pos)) < 0 || line_end(buf, len, &pos) < 0)
		goto bad;
	/* "-": IPv6 untouched; accept_redirects not read. */
	if (pos < len && value_or_dash(buf, len, &pos, &st->fwd6) < 0)
		goto bad;
	if (pos < len && value_or_dash(buf, len, &pos, &st->redirects4) < 0)
		goto bad;
	if (pos < len) {
		size_t n = 0;
		while (pos + n < len && n < sizeof(st->ra_if) && ifname_char(buf[pos + n]))
			n++;
		if (n == 0 || n == sizeof(st->ra_if) || pos + n == len || buf[pos + n] != ' ')
			goto bad;
		memcpy(st->ra_if, buf + pos, n);
		st->ra_if[n] = '\0';
		pos += n + 1;
		if ((st->accept_ra = number(buf, len, &pos)) < 0 || line_end(buf, len, &pos) < 0)
			goto bad;
	}
	if (pos == len)
		return 0;
bad:
	*st = NATSTATE_NONE;
	return -1;
}

int natstate_format(char *buf, size_t len, const struct natstate *st)
{
	if (st->fwd4 < 0 || len == 0)
		return -1;
	if (st->accept_ra >= 0 && !natstate_ifname_ok(st->ra_if))
		return -1;
	char v6[16] = "-", r4[16] = "-";
	if (st->fwd6 >= 0)
		snprintf(v6, sizeof(v6), "%d", st->fwd6);
	if (st->redirects4 >= 0)
		snprintf(r4, sizeof(r4), "%d", st->redirects4);
	int n = st->accept_ra >= 0  ? snprintf(buf, len, "%d\n%s\n%s\n%s %d\n", st->fwd4, v6, r4,
	                                       st->ra_if, st->accept_ra)
	      : st->redirects4 >= 0 ? snprintf(buf, len, "%d\n%s\n%s\n", st->fwd4, v6, r4)
	      : st->fwd6 >= 0       ? snprintf(buf, len, "%d\n%s\n", st->fwd4, v6)
	                            : snprintf(buf, len, "%d\n", st->fwd4);
	return n < 0 || (size_t)n >= len ? -1 : n;
}
