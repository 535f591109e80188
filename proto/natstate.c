#include "proto/natstate.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

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

int natstate_parse(const char *buf, size_t len, struct natstate *st)
{
	size_t pos = 0;
	*st = (struct natstate){-1, -1, -1};
	if ((st->fwd4 = number(buf, len, &pos)) < 0 || line_end(buf, len, &pos) < 0)
		goto bad;
	if (pos < len) {
		/* "-": IPv6 untouched, and the third line must follow. */
		bool none = buf[pos] == '-';
		if (none)
			pos++;
		else if ((st->fwd6 = number(buf, len, &pos)) < 0)
			goto bad;
		if (line_end(buf, len, &pos) < 0 || (none && pos == len))
			goto bad;
	}
	if (pos < len && ((st->redirects4 = number(buf, len, &pos)) < 0 ||
	                  line_end(buf, len, &pos) < 0))
		goto bad;
	if (pos == len)
		return 0;
bad:
	*st = (struct natstate){-1, -1, -1};
	return -1;
}

int natstate_format(char *buf, size_t len, const struct natstate *st)
{
	if (st->fwd4 < 0 || len == 0)
		return -1;
	char v6[16] = "-";
	if (st->fwd6 >= 0)
		snprintf(v6, sizeof(v6), "%d", st->fwd6);
	int n = st->redirects4 >= 0 ? snprintf(buf, len, "%d\n%s\n%d\n", st->fwd4, v6, st->redirects4)
	      : st->fwd6 >= 0       ? snprintf(buf, len, "%d\n%s\n", st->fwd4, v6)
	                            : snprintf(buf, len, "%d\n", st->fwd4);
	return n < 0 || (size_t)n >= len ? -1 : n;
}
