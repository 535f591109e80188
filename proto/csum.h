/* The Internet checksum (RFC 1071), for the headers slopnd writes: the
 * packets it cuts from TUN super-packets and joins for the TUN
 * (offload.c), and the ICMP errors it makes (icmp.c). Sums are kept in
 * the host's byte order; the folded result, stored with memcpy, is right
 * in either. */
#ifndef SLOPN_PROTO_CSUM_H
#define SLOPN_PROTO_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* n bytes at p added to sum, not yet folded. Pieces summed apart must
 * each start at an even offset of what they cover. */
uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n);

/* sum folded to 16 bits, not complemented. */
uint16_t csum_fold(uint64_t sum);

/* The checksum of a buffer as a header stores it: folded and complemented,
 * in the buffer's byte order (store it with memcpy). */
uint16_t inet_csum(const uint8_t *p, size_t n);

#endif
