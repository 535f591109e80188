/* A named nftables counter, as libnftables lists it in JSON
 * ("list counter FAMILY TABLE NAME"): the kill switch's drops. */
#ifndef SLOPN_PROTO_NFTCOUNTER_H
#define SLOPN_PROTO_NFTCOUNTER_H

#include <stddef.h>
#include <stdint.h>

/* The first counter object in the listing: its packets and bytes (left
 * alone on failure). 0, or -1 when the text holds no such object with two
 * non-negative integers. */
int nft_counter_parse(const char *json, size_t len, uint64_t *pkts, uint64_t *bytes);

#endif
