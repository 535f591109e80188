/* Settings that only tests change, from the environment (a timeout of
 * minutes made seconds, a peer that takes less): one reading of them, so
 * that each knob is a line where it is used. */
#ifndef SLOPN_DAEMON_TESTENV_H
#define SLOPN_DAEMON_TESTENV_H

#include <stdint.h>

/* The value of variable name, decimal digits only, when it lies in
 * min..max (min >= 1); 0 when it is not set or empty, and when it is
 * anything else (a warning names the range). */
uint64_t testenv_get(const char *name, uint64_t min, uint64_t max);

#endif
