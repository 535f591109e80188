#include "daemon/cidtag.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

static int tag_of(const uint8_t secret[32], const uint8_t *rnd, uint8_t tag[32])
{
	return gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, 32, rnd, CIDTAG_RANDOM, tag);
}

int cidtag_make(const uint8_t secret[32], uint8_t cid[CIDTAG_LEN])
{
	uint8_t tag[32];
	if (gnutls_rnd(GNUTLS_RND_RANDOM, cid, CIDTAG_RANDOM) < 0 || tag_of(secret, cid, tag) < 0)
		return -1;
	memcpy(cid + CIDTAG_RANDOM, tag, CIDTAG_LEN - CIDTAG_RANDOM);
	return 0;
}

bool cidtag_ok(const uint8_t secret[32], const uint8_t *cid, size_t len)
{
	uint8_t tag[32];
	/* 2 bytes: one random ID in 65536 passes, a reset for it costs no
	 * more than the packet did (smaller than it), and the budget holds. */
	return len == CIDTAG_LEN && tag_of(secret, cid, tag) == 0 &&
	       memcmp(cid + CIDTAG_RANDOM, tag, CIDTAG_LEN - CIDTAG_RANDOM) == 0;
}
