/* ICMP "fragmentation needed" (type 3, code 4, RFC 1191): what a router
 * sends when a packet with DF set does not fit the next hop. SloPN sends
 * it into its TUN for a packet too big for the QUIC connection, so that
 * the sender's stack lowers its path MTU instead of losing packets. Pure. */
#ifndef SLOPN_PROTO_ICMP_H
#define SLOPN_PROTO_ICMP_H

#include <stddef.h>
#include <stdint.h>

/* Build the answer to pkt (len bytes) from router address from (network
 * order), advertising mtu. Returns its length (at most 20 + 8 + 60 + 8 =
 * 96 bytes, so cap >= 96 always suffices), or 0 when none is due: pkt is
 * not well-formed IPv4, has no DF, is a fragment after the first, or is
 * itself an ICMP error. An mtu past 65535 is sent as 65535. */
size_t icmp4_frag_needed(const uint8_t *pkt, size_t len, uint32_t from, size_t mtu,
                         uint8_t *out, size_t cap);

#endif
