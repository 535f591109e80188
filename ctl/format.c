#include "ctl/format.h"

#include <stdio.h>
#include <time.h>

const char *fmt_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	if (n < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)n);
		return buf;
	}
	/* The unit and the decimal by the value as printed, rounded: 1048575
	 * B is "1.0 MiB", not "1024 KiB"; 10239 B "10 KiB", not "10.0". */
	double v = (double)n / 1024;
	int u = 0;
	while (v >= 1023.5 && u < 4)
		v /= 1024, u++;
	snprintf(buf, len, v < 9.95 ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

const char *fmt_duration(uint64_t s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(s / 3600),
		         (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%llud%02lluh", (unsigned long long)(s / 86400),
		         (unsigned long long)(s % 86400 / 3600));
	return buf;
}

const char *fmt_since(int64_t t, char *buf, size_t len)
{
	int64_t now = (int64_t)time(NULL);
	return fmt_duration(now > t ? (uint64_t)(now - t) : 0, buf, len);
}

const char *fmt_rtt(double ms, char *buf, size_t len)
{
	if (ms * 1000 < 999.5) /* else it would print as "1000 us" */
		snprintf(buf, len, "%.0f us", ms * 1000);
	else
		snprintf(buf, len, "%.1f ms", ms);
	return buf;
}

int parse_duration(const char *s, uint64_t *out)
{
	static const struct {
		char unit;
		uint64_t secs;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
	uint64_t total = 0;
	if (!*s)
		return -1;
	while (*s) {
		if (*s < '0' || *s > '9')
			return -1;
		uint64_t n = 0;
		while (*s >= '0' && *s <= '9') {
			if (n > (UINT64_MAX / 604800 - 9) / 10)
				return -1;
			n = n * 10 + (uint64_t)(*s++ - '0');
		}
		uint64_t mul = 0;
		if (!*s) {
			mul = 1; /* a bare number is seconds */
		} else {
			for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
				if (*s == units[i].unit)
					mul = units[i].secs;
			if (!mul)
				return -1;
			s++;
		}
		if (total > UINT64_MAX - n * mul)
			return -1;
		total += n * mul;
	}
	*out = total;
	return 0;
}
