/* Amounts of memory as settings give them: "268435456", "256M", "256MiB",
 * "384K", "1G". Pure, so that what a user typed is parsed by code that is
 * unit-tested; the daemon decides the range each setting accepts. */
#ifndef SLOPN_PROTO_SIZE_H
#define SLOPN_PROTO_SIZE_H

#include <stdint.h>

/* Decimal digits (no sign, no space, no fraction), then nothing (bytes) or
 * one of K, M, G (or k, m, g; "iB" after it optional), each 1024
 * times the one before. The bytes into *out, 0; or -1 (bad text, or more
 * than UINT64_MAX bytes). */
int size_parse(const char *s, uint64_t *out);

#endif
