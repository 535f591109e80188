/* What an ICMP or ICMPv6 error about one of our UDP packets quotes of it,
 * held against the QUIC packet we sent: an error needs no place on the way
 * to be sent, only the two ends' addresses and ports, but what it quotes
 * of a packet (its version and the random destination connection ID) only
 * someone who saw the packet knows. Pure: the quote is outside bytes. */
#ifndef SLOPN_PROTO_QUICQUOTE_H
#define SLOPN_PROTO_QUICQUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUICQUOTE_CID_MAX 20 /* a connection ID's longest in QUIC v1 (RFC 9000 17.2) */

/* A long-header packet we sent, as far as a quote is held against it. */
struct quicquote_sent {
	uint32_t version;
	size_t dcidlen; /* at most QUICQUOTE_CID_MAX, else nothing matches it */
	uint8_t dcid[QUICQUOTE_CID_MAX];
};

/* The start of a long-header packet pkt (len bytes) into s: false when
 * it is none (the form bit clear, cut before the end of its destination
 * connection ID, or that ID past QUICQUOTE_CID_MAX bytes). */
bool quicquote_sent_of(const uint8_t *pkt, size_t len, struct quicquote_sent *s);

enum quicquote {
	QUICQUOTE_OTHER, /* not s: a short header, another version or ID, garbage */
	QUICQUOTE_SHORT, /* s as far as it goes, but cut before the ID's end */
	QUICQUOTE_MATCH, /* the form bit, version, ID length and ID of s */
};
/* The quote q (the first len bytes of the UDP payload an error is about,
 * as many as it carried: none from a router that quotes only the UDP
 * header, RFC 792) held against s. The first byte's other bits are not
 * compared (header protection hides them). */
enum quicquote quicquote_check(const uint8_t *q, size_t len, const struct quicquote_sent *s);

#endif
