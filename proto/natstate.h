/* nat-TUN.forward in the hub's state directory: the sysctls --nat changes,
 * as they were before, so that a crash does not lose them. A line each:
 * IPv4's forwarding; IPv6's when that was set too ("-" when it was not but
 * a third line follows); net.ipv4.conf.all.accept_redirects, which the
 * kernel sets to the opposite of IPv4 forwarding at every change of it
 * ("-" when it was not read but a fourth line follows); and "IFNAME N":
 * the IPv6 egress interface whose accept_ra was N (1) before the hub set
 * it to 2, so that turning IPv6 forwarding on did not drop its default
 * route learnt from router advertisements. Files of one to three lines
 * are what older slopnd wrote. Pure and strict:
 * what is not exactly what natstate_format writes (its final newline may
 * be missing) is refused, and the settings are then left alone rather
 * than restored from a guess. tun/nat.c reads and writes the file. */
#ifndef SLOPN_PROTO_NATSTATE_H
#define SLOPN_PROTO_NATSTATE_H

#include <stdbool.h>
#include <stddef.h>

/* Room for the longest file, four values of INT_MAX and an interface
 * name, and more: a read of this many bytes that fills it is no file of
 * ours. */
#define NATSTATE_TEXT_MAX 80

/* Each 0..INT_MAX, or -1 for none (fwd4 is always there). ra_if: 1 to 15
 * of [A-Za-z0-9._@+-] when accept_ra is there, else empty. */
struct natstate {
	int fwd4, fwd6, redirects4, accept_ra;
	char ra_if[16];
};
#define NATSTATE_NONE ((struct natstate){-1, -1, -1, -1, ""})

/* "V4\n", "V4\nV6\n", "V4\nV6|-\nR\n" or "V4\nV6|-\nR|-\nIFNAME N\n",
 * each value in plain decimal. 0, or -1 with every value -1 (and ra_if
 * empty). */
int natstate_parse(const char *buf, size_t len, struct natstate *st);

/* The file's text into buf, with a NUL after it: its length, or -1 when
 * fwd4 < 0, ra_if is no name of the kind above while accept_ra is there,
 * or buf is too small. */
int natstate_format(char *buf, size_t len, const struct natstate *st);
/* An interface name this file (and --nat's rules, tun/nat.c) takes: 1 to
 * 15 of letters, digits and "._@+-". */
bool natstate_ifname_ok(const char *s);

#endif
