/* Units a person reads. Each writes into buf and returns it. */
#ifndef SLOPN_CTL_FORMAT_H
#define SLOPN_CTL_FORMAT_H

#include <stddef.h>
#include <stdint.h>

const char *fmt_bytes(uint64_t n, char *buf, size_t len);    /* 512 B, 1.5 KiB, 12.3 MiB */
const char *fmt_duration(uint64_t s, char *buf, size_t len); /* 45s, 3m12s, 2h05m, 3d04h */
/* fmt_duration from t (seconds since 1970, as the daemon gives times) to
 * now; 0s for a time in the future. */
const char *fmt_since(int64_t t, char *buf, size_t len);
const char *fmt_rtt(double ms, char *buf, size_t len);       /* 850 us, 12.4 ms */
/* "30d", "12h", "1w2d", "90m", "45s", or bare seconds. 0 or -1. */
int parse_duration(const char *s, uint64_t *out);

#endif
