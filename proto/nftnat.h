/* Source NAT rules in an nftables ruleset, as libnftables lists it in JSON
 * ("list ruleset"): another router on the machine (Docker, libvirt) that
 * needs IP forwarding on. iptables-nft's rules are in the listing too. */
#ifndef SLOPN_PROTO_NFTNAT_H
#define SLOPN_PROTO_NFTNAT_H

#include <stddef.h>

/* The first rule that masquerades or SNATs (native statements, or
 * iptables' MASQUERADE and SNAT targets): 1, with "FAMILY TABLE CHAIN" in
 * where (cap bytes, cut to fit, control characters as '?'); 0 when there is
 * none; -1 when the text is no such listing. */
int nft_nat_rule_find(const char *json, size_t len, char *where, size_t cap);

#endif
