/* Copies of a fuzz input that the targets share. */
#ifndef SLOPN_FUZZ_UTIL_H
#define SLOPN_FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The input as a C string (free it): the parsers under test take one, and
 * the input ends in no NUL of its own. NULL when out of memory. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* A copy of exactly size bytes (free it): ASan then catches any read past
 * it. One byte is allocated for an empty input, as malloc(0) may give NULL.
 * NULL when out of memory. */
static inline uint8_t *fuzz_copy(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	if (p)
		memcpy(p, data, size);
	return p;
}

#endif
