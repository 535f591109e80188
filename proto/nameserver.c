#include "proto/nameserver.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

size_t nameservers_parse(const char *text, size_t len, struct nameserver *out, size_t max)
{
	static const char kw[] = "nameserver";
	size_t found = 0, at = 0;
	while (at < len) {
		const char *line = text + at;
		const char *nl = memchr(line, '\n', len - at);
		size_t n = nl ? (size_t)(nl - line) : len - at;
		at += n + 1;
		if (n <= sizeof(kw) - 1 || memcmp(line, kw, sizeof(kw) - 1) || !blank(line[sizeof(kw) - 1]))
			continue;
		size_t i = sizeof(kw) - 1;
		while (i < n && blank(line[i]))
			i++;
		size_t start = i;
		while (i < n && !blank(line[i]) && line[i] != '\r' && line[i] != '%')
			i++;
		char a[INET6_ADDRSTRLEN];
		/* A NUL inside would end the address early for inet_pton. */
		if (i == start || i - start >= sizeof(a) || memchr(line + start, '\0', i - start))
			continue;
		memcpy(a, line + start, i - start);
		a[i - start] = '\0';
		struct nameserver ns = {0};
		if (inet_pton(AF_INET, a, ns.addr) == 1)
			ns.family = AF_INET;
		else if (inet_pton(AF_INET6, a, ns.addr) == 1)
			ns.family = AF_INET6;
		else
			continue;
		if (found < max)
			out[found] = ns;
		found++;
	}
	return found;
}
