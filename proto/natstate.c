#include "proto/natstate.h"

#include <limits.h>
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

int natstate_parse(const char *buf, size_t len, int *v4, int *v6)
{
	size_t pos = 0;
	*v4 = number(buf, len, &pos);
	*v6 = -1;
	if (*v4 < 0 || line_end(buf, len, &pos) < 0)
		goto bad;
	if (pos < len && ((*v6 = number(buf, len, &pos)) < 0 || line_end(buf, len, &pos) < 0))
		goto bad;
	if (pos == len)
		return 0;
bad:
	*v4 = *v6 = -1;
	return -1;
}

int natstate_format(char *buf, size_t len, int v4, int v6)
{
	if (v4 < 0)
		return -1;
	int n = v6 >= 0 ? snprintf(buf, len, "%d\n%d\n", v4, v6) : snprintf(buf, len, "%d\n", v4);
	return n < 0 || (size_t)n >= len ? -1 : n;
}
