/* nat-TUN.forward in the hub's state directory: the sysctls --nat changes,
 * as they were before, so that a crash does not lose them. A line each:
 * IPv4's forwarding; IPv6's when that was set too ("-" when it was not but
 * a third line follows); net.ipv4.conf.all.accept_redirects, which the
 * kernel sets to the opposite of IPv4 forwarding at every change of it.
 * Files of one or two lines are what older slopnd wrote. Pure and strict:
 * what is not exactly what natstate_format writes (its final newline may
 * be missing) is refused, and the settings are then left alone rather
 * than restored from a guess. tun/nat.c reads and writes the file. */
#ifndef SLOPN_PROTO_NATSTATE_H
#define SLOPN_PROTO_NATSTATE_H

#include <stddef.h>

/* Room for the longest file, three values of INT_MAX, and more: a read of
 * this many bytes that fills it is no file of ours. */
#define NATSTATE_TEXT_MAX 48

/* Each 0..INT_MAX, or -1 for none (fwd4 is always there). */
struct natstate {
	int fwd4, fwd6, redirects4;
};

/* "V4\n", "V4\nV6\n" or "V4\nV6|-\nR\n", each value in plain decimal. 0,
 * or -1 with every value -1. */
int natstate_parse(const char *buf, size_t len, struct natstate *st);

/* The file's text into buf, with a NUL after it: its length, or -1 when
 * fwd4 < 0 or buf is too small. */
int natstate_format(char *buf, size_t len, const struct natstate *st);

#endif
