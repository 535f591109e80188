/* Formatted text appended to a fixed buffer, as the NAT rules are built:
 * once something does not fit, full stays set and nothing more is added. */
#ifndef SLOPN_TUN_OUTBUF_H
#define SLOPN_TUN_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>

struct outbuf {
	char *buf;
	size_t len, used;
	bool full;
};

void outbuf_printf(struct outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
