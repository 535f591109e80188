/* Source NAT rules in an nftables ruleset, as libnftables lists it in JSON
 * ("list ruleset"): another router on the machine (Docker, libvirt) that
 * needs IP forwarding on. iptables-nft's rules are in the listing too. */
#ifndef SLOPN_PROTO_NFTNAT_H
#define SLOPN_PROTO_NFTNAT_H

#include <stdbool.h>
#include <stddef.h>

/* The first rule that masquerades or SNATs (native statements, or
 * iptables' MASQUERADE and SNAT targets): 1, with "FAMILY TABLE CHAIN" in
 * where (cap bytes, cut to fit, control characters as '?'); 0 when there is
 * none; -1 when the text is no such listing. */
int nft_nat_rule_find(const char *json, size_t len, char *where, size_t cap);

/* The TUN name a table of ours stands for: the inverse of nft_table_name
 * (tun/nft.h; PREFIX, then the name's letters and digits as they are and
 * any other byte as _ and two lowercase hex digits). False when table does
 * not start with prefix, or the rest is no such encoding (an older
 * slopnd's name, with a bare _), or the name does not fit len. */
bool nft_table_tun(const char *prefix, const char *table, char *tun, size_t len);

/* Walk the tables of an nftables listing in JSON ("list tables"): for each
 * of family FAMILY, fn(name, ctx); a true return stops the walk. 1 when fn
 * stopped it, 0 when it did not, -1 when the text is no such listing. */
int nft_tables_each(const char *json, size_t len, const char *family,
                    bool (*fn)(const char *name, void *ctx), void *ctx);

/* The text after TAG in the comment of the first rule of an inet table
 * whose name starts with PREFIX and is not SKIP, in a listing as for
 * nft_nat_rule_find: 1, with that text in out (NUL-terminated); 0 when
 * there is none, or its text does not fit cap; -1 when the text is no such
 * listing. Another SloPN hub's record of the sysctls from before it
 * (tun/nat.c). */
int nft_rule_comment_find(const char *json, size_t len, const char *prefix, const char *skip,
                          const char *tag, char *out, size_t cap);

#endif
