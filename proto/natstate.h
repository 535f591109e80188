/* nat-TUN.forward in the hub's state directory: IPv4's forwarding sysctl
 * as it was before --nat set it, and on a second line IPv6's when that was
 * set too, so that a crash does not lose them. Pure and strict: what is
 * not exactly what natstate_format writes (its final newline may be
 * missing) is refused, and the settings are then left alone rather than
 * restored from a guess. tun/nat.c reads and writes the file. */
#ifndef SLOPN_PROTO_NATSTATE_H
#define SLOPN_PROTO_NATSTATE_H

#include <stddef.h>

/* Room for the longest file, "2147483647\n2147483647\n", and more: a read
 * of this many bytes that fills it is no file of ours. */
#define NATSTATE_TEXT_MAX 32

/* "V4\n" or "V4\nV6\n", each 0..INT_MAX in plain decimal. 0 with *v6 -1
 * when there is no second line, or -1 with both -1. */
int natstate_parse(const char *buf, size_t len, int *v4, int *v6);

/* The file's text for v4 (>= 0) and v6 (< 0: none) into buf, with a NUL
 * after it: its length, or -1 when v4 < 0 or buf is too small. */
int natstate_format(char *buf, size_t len, int v4, int v6);

#endif
