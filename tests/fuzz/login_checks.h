/* Checks both login fuzz targets make of what the parsers report. */
#ifndef SLOPN_FUZZ_LOGIN_CHECKS_H
#define SLOPN_FUZZ_LOGIN_CHECKS_H

#include <stdlib.h>
#include <string.h>

#include "proto/login.h"

/* A refusal says why, in printable ASCII. */
static inline void check_err(const char *err)
{
	if (!err[0])
		abort();
	for (const char *p = err; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			abort();
}

/* Optional fields taken as absent: counted, the first named in printable
 * ASCII; none, nothing said. */
static inline void check_ignored(const struct slopn_ignored *ig)
{
	if (strnlen(ig->why, sizeof(ig->why)) == sizeof(ig->why))
		abort();
	if (ig->n == 0) {
		if (ig->why[0])
			abort();
	} else {
		check_err(ig->why);
	}
}

#endif
