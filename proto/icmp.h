/* ICMP "fragmentation needed" (type 3, code 4, RFC 1191) and ICMPv6 "packet
 * too big" (type 2, RFC 4443): what a router sends when a packet does not
 * fit the next hop. SloPN sends them for a packet too big for the QUIC
 * connection, so that the sender's stack lowers its path MTU instead of
 * losing packets. Pure. */
#ifndef SLOPN_PROTO_ICMP_H
#define SLOPN_PROTO_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Build the answer to pkt (len bytes) from router address from (network
 * order), advertising mtu. Returns its length (at most 20 + 8 + 60 + 8 =
 * 96 bytes, so cap >= 96 always suffices), or 0 when none is due: pkt is
 * not well-formed IPv4, has no DF, is a fragment after the first, is
 * itself an ICMP error, or comes from no unicast address; or mtu is below
 * ICMP4_MIN_MTU. An mtu past 65535 is sent as 65535. */
#define ICMP4_MIN_MTU 576
size_t icmp4_frag_needed(const uint8_t *pkt, size_t len, uint32_t from, size_t mtu,
                         uint8_t *out, size_t cap);

/* The ICMPv6 answer to the IPv6 packet pkt, from router address from (16
 * bytes), advertising mtu. It quotes as much of pkt as fits in cap and in
 * the IPv6 minimum MTU (so cap >= 1280 always suffices; cap < 88, room for
 * less than the quoted header, gives none). Returns its length, or 0 when
 * none is due: pkt is not well-formed IPv6, comes from an address that is
 * not one node's (::, multicast), is a fragment after the first, is itself
 * an ICMPv6 error, or mtu is below 1280 (an IPv6 stack never goes lower,
 * so the answer would change nothing). An mtu past 2^32-1 is sent as that.
 * out must not overlap pkt. */
size_t icmp6_packet_too_big(const uint8_t *pkt, size_t len, const uint8_t from[16], size_t mtu,
                            uint8_t *out, size_t cap);

/* Whether pkt (IPv4 or IPv6, well-formed) is an ICMP or ICMPv6 error
 * (unreachable, too big, time exceeded, parameter problem, redirect,
 * source quench) about a packet that own (4 or 16 bytes, the family's) did
 * not send, or whose quote is cut before its source: an error about traffic
 * that never went this way. ICMPv6 is found behind any number of extension
 * headers, as the kernel finds it; IPv6 whose headers run past the packet
 * (an error may be behind them, in a later fragment) is foreign too.
 * Anything else, and fragments after the first (nothing in them to judge;
 * their first was judged), is not. */
bool icmp_error_foreign(const uint8_t *pkt, size_t len, const uint8_t *own);
/* Whether pkt is such an error whose quote reaches its packet's
 * destination: then that destination (4 or 16 bytes, the family's) in
 * dst. An error about a packet that did not go into the tunnel (one to a
 * host the machine reaches another way) is the hub's to send no more
 * than one about another's packet: the kernel would take its "too big"
 * for that host's path. */
bool icmp_error_quoted_dst(const uint8_t *pkt, size_t len, uint8_t dst[16]);

/* What an ICMP (v6 false) or ICMPv6 error about a packet we sent says,
 * by its type and code. */
enum icmp_kind {
	ICMP_KIND_OTHER,       /* not about reaching the peer (time exceeded, ...) */
	ICMP_KIND_TOO_BIG,     /* fragmentation needed, packet too big */
	ICMP_KIND_UNREACHABLE, /* the peer cannot be reached there */
};
/* For ICMP_KIND_UNREACHABLE, why (cap bytes, NUL-terminated) gets the
 * reason in words and what to check, e.g. "port unreachable: nothing
 * listens on that UDP port (...)"; else it is left empty (why may be NULL
 * with cap 0: the kind alone). Any type and code are taken (an unknown
 * unreachable code is named by its number). */
enum icmp_kind icmp_error_kind(bool v6, uint8_t type, uint8_t code, char *why, size_t cap);

#endif
