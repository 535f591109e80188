#include "daemon/testenv.h"

#include <errno.h>
#include <stdlib.h>

#include "daemon/log.h"

uint64_t testenv_get(const char *name, uint64_t min, uint64_t max)
{
	const char *t = getenv(name);
	if (!t || !*t)
		return 0;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(t, &end, 10);
	if (*t < '0' || *t > '9' || *end || errno || v < min || v > max) {
		log_warn("%s=%s: expected %llu to %llu; ignored", name, t, (unsigned long long)min,
		         (unsigned long long)max);
		return 0;
	}
	return v;
}
