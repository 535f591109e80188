/* The hub's connection IDs carry a tag of the hub's own: 6 random bytes,
 * then 2 of an HMAC of them keyed from the hub's key (tls.c). A short-header
 * packet for a connection the hub does not know is answered with a
 * stateless reset only when its connection ID has the tag: one of this
 * hub's, of this run or an earlier one, whose client must learn at once
 * that its connection is gone. Random IDs (a flood of them) get nothing, and
 * so cannot use up the resets' budget that a restarted hub's clients need. */
#ifndef SLOPN_CIDTAG_H
#define SLOPN_CIDTAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CIDTAG_LEN 8     /* the whole connection ID */
#define CIDTAG_RANDOM 6  /* random bytes; the rest is the tag */

/* A new tagged ID in cid (CIDTAG_LEN bytes). 0, or -1 when the random
 * bytes or the HMAC failed. */
int cidtag_make(const uint8_t secret[32], uint8_t cid[CIDTAG_LEN]);
/* Does cid (len bytes, from the network) carry the tag of secret? */
bool cidtag_ok(const uint8_t secret[32], const uint8_t *cid, size_t len);

#endif
