/* Path probes: how large a UDP packet reaches the hub, when a router drops
 * larger ones without an ICMP answer. A probe is a QUIC long-header packet
 * of a version no one speaks (a reserved 0x?a?a?a?a one), padded to the
 * size under test; any QUIC server answers one of at least 1200 bytes with
 * Version Negotiation (RFC 9000 6.1, 5.2.2), which echoes the probe's
 * connection IDs, so each answer names the probe that arrived. Pure
 * building and parsing; the client sends and receives. */
#ifndef SLOPN_PROTO_PATHPROBE_H
#define SLOPN_PROTO_PATHPROBE_H

#include <stddef.h>
#include <stdint.h>

#define PATHPROBE_MAX 6
#define PATHPROBE_MIN_SIZE 1200   /* QUIC's smallest; a server ignores smaller */
#define PATHPROBE_ID_LEN 8

struct pathprobe {
	uint8_t id[PATHPROBE_ID_LEN]; /* random, per attempt: the probes' SCID */
	size_t size[PATHPROBE_MAX];   /* largest first */
	int n;
};

/* Probes of full bytes (at least PATHPROBE_MIN_SIZE) and of the common
 * smaller ways below it (a WireGuard or a 1400-byte link, the least that
 * carries a 1280-byte packet, a 1280-byte link, QUIC's minimum). */
void pathprobe_init(struct pathprobe *p, const uint8_t id[PATHPROBE_ID_LEN], size_t full);

/* Probe i into buf: its size, or 0 when buf is too small or i is not one. */
size_t pathprobe_write(const struct pathprobe *p, int i, uint8_t *buf, size_t buflen);

/* Whether pkt is a Version Negotiation packet answering one of p's probes:
 * its index, or -1 (anything else, well-formed or not). */
int pathprobe_match(const struct pathprobe *p, const uint8_t *pkt, size_t len);

#endif
