#include "proto/quicquote.h"

#include <string.h>

/* Long header: flags, version (4), DCID length (1), DCID. */
#define LH_DCID 6

bool quicquote_sent_of(const uint8_t *pkt, size_t len, struct quicquote_sent *s)
{
	if (len < LH_DCID || !(pkt[0] & 0x80) || pkt[5] > QUICQUOTE_CID_MAX ||
	    len - LH_DCID < pkt[5])
		return false;
	s->version = (uint32_t)pkt[1] << 24 | (uint32_t)pkt[2] << 16 | (uint32_t)pkt[3] << 8 | pkt[4];
	s->dcidlen = pkt[5];
	memcpy(s->dcid, pkt + LH_DCID, s->dcidlen);
	return true;
}

enum quicquote quicquote_check(const uint8_t *q, size_t len, const struct quicquote_sent *s)
{
	if (s->dcidlen > QUICQUOTE_CID_MAX)
		return QUICQUOTE_OTHER;
	/* What s began with, the first byte's form bit aside. */
	uint8_t want[LH_DCID + QUICQUOTE_CID_MAX] = {
		0x80, (uint8_t)(s->version >> 24), (uint8_t)(s->version >> 16),
		(uint8_t)(s->version >> 8), (uint8_t)s->version, (uint8_t)s->dcidlen,
	};
	memcpy(want + LH_DCID, s->dcid, s->dcidlen);
	size_t n = LH_DCID + s->dcidlen;
	if (len > 0 && !(q[0] & 0x80))
		return QUICQUOTE_OTHER;
	for (size_t i = 1; i < n && i < len; i++)
		if (q[i] != want[i])
			return QUICQUOTE_OTHER;
	return len < n ? QUICQUOTE_SHORT : QUICQUOTE_MATCH;
}
