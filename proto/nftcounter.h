/* nftables listings as libnftables gives them in JSON: a named counter
 * ("list counter FAMILY TABLE NAME": the kill switch's drops), and the
 * rules of a table ("list table FAMILY NAME": the hub's NAT rules all
 * there, not flushed from inside the table). */
#ifndef SLOPN_PROTO_NFTCOUNTER_H
#define SLOPN_PROTO_NFTCOUNTER_H

#include <stddef.h>
#include <stdint.h>

/* The first counter object in the listing: its packets and bytes (left
 * alone on failure). 0, or -1 when the text holds no such object with two
 * non-negative integers. */
int nft_counter_parse(const char *json, size_t len, uint64_t *pkts, uint64_t *bytes);
/* How many rule objects the listing holds, or -1 when it is not a listing
 * ({"nftables": [...]}). */
int nft_rule_count(const char *json, size_t len);

#endif
