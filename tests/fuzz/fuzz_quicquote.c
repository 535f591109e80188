/* libFuzzer: ICMP errors' quotes of our QUIC packets. Whatever is quoted,
 * a match carries the packet's version and destination connection ID, a
 * quote too short to tell contradicts nothing it has, and a long header
 * read from the input matches itself and every longer quote of it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/quicquote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct quicquote_sent initial = {
		.version = 1, .dcidlen = 18,
		.dcid = {0xd1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0xd2},
	};
	static const uint8_t hdr[24] = {0xc0, 0, 0, 0, 1, 18, 0xd1, 2, 3, 4, 5, 6,
	                                7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0xd2};
	enum quicquote r = quicquote_check(data, size, &initial);
	size_t n = size < 24 ? size : 24;
	/* The bytes it has, held against the header by hand. */
	int same = n == 0 || ((data[0] & 0x80) && (n < 2 || memcmp(data + 1, hdr + 1, n - 1) == 0));
	if ((r == QUICQUOTE_MATCH) != (same && size >= 24) ||
	    (r == QUICQUOTE_SHORT) != (same && size < 24) || (r == QUICQUOTE_OTHER) != !same)
		abort();

	struct quicquote_sent s;
	if (!quicquote_sent_of(data, size, &s))
		return 0;
	if (!(data[0] & 0x80) || s.dcidlen > QUICQUOTE_CID_MAX || size < 6 + s.dcidlen ||
	    s.dcidlen != data[5] || memcmp(s.dcid, data + 6, s.dcidlen) != 0 ||
	    s.version != ((uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
	                  (uint32_t)data[3] << 8 | data[4]))
		abort();
	if (quicquote_check(data, size, &s) != QUICQUOTE_MATCH)
		abort();
	for (size_t k = 0; k < 6 + s.dcidlen; k++)
		if (quicquote_check(data, k, &s) != QUICQUOTE_SHORT)
			abort();
	return 0;
}
