#include "proto/pathprobe.h"

#include <string.h>

/* Every byte's low nibble 0xa: reserved for exercising version
 * negotiation (RFC 9000 15), never a real version. */
#define PROBE_VERSION 0x1a2a3a4aU

/* UDP payloads: a 1420-byte (WireGuard) way over IPv4, a 1400-byte one
 * over IPv6, the least that carries a 1280-byte packet (16-byte connection
 * ID, 24 bytes of header, tag and frame), a 1280-byte way over IPv6. */
static const size_t common[] = {1392, 1352, 1320, 1232, PATHPROBE_MIN_SIZE};

void pathprobe_init(struct pathprobe *p, const uint8_t id[PATHPROBE_ID_LEN], size_t full)
{
	memcpy(p->id, id, PATHPROBE_ID_LEN);
	p->n = 0;
	if (full < PATHPROBE_MIN_SIZE)
		full = PATHPROBE_MIN_SIZE;
	p->size[p->n++] = full;
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]) && p->n < PATHPROBE_MAX; i++)
		if (common[i] < full)
			p->size[p->n++] = common[i];
}

/* Long header: flags, version, DCID length and DCID, SCID length and SCID.
 * The DCID is the id with the probe's index as its last byte. */
#define HDR_LEN (1 + 4 + 1 + PATHPROBE_ID_LEN + 1 + PATHPROBE_ID_LEN)

size_t pathprobe_write(const struct pathprobe *p, int i, uint8_t *buf, size_t buflen)
{
	if (i < 0 || i >= p->n || p->size[i] > buflen || p->size[i] < HDR_LEN)
		return 0;
	uint8_t *w = buf;
	*w++ = 0xc0; /* long header, fixed bit */
	*w++ = (uint8_t)(PROBE_VERSION >> 24);
	*w++ = (uint8_t)(PROBE_VERSION >> 16);
	*w++ = (uint8_t)(PROBE_VERSION >> 8);
	*w++ = (uint8_t)PROBE_VERSION;
	*w++ = PATHPROBE_ID_LEN;
	memcpy(w, p->id, PATHPROBE_ID_LEN - 1);
	w[PATHPROBE_ID_LEN - 1] = (uint8_t)i;
	w += PATHPROBE_ID_LEN;
	*w++ = PATHPROBE_ID_LEN;
	memcpy(w, p->id, PATHPROBE_ID_LEN);
	w += PATHPROBE_ID_LEN;
	memset(w, 0, p->size[i] - HDR_LEN);
	return p->size[i];
}

int pathprobe_match(const struct pathprobe *p, const uint8_t *pkt, size_t len)
{
	/* Version Negotiation: long header, version 0, DCID = the probe's SCID,
	 * SCID = the probe's DCID, then a list of 4-byte versions. */
	if (len < 7 || !(pkt[0] & 0x80) || pkt[1] || pkt[2] || pkt[3] || pkt[4])
		return -1;
	size_t off = 5;
	size_t dlen = pkt[off++];
	if (dlen != PATHPROBE_ID_LEN || len - off < dlen + 1 || memcmp(pkt + off, p->id, dlen) != 0)
		return -1;
	off += dlen;
	size_t slen = pkt[off++];
	if (slen != PATHPROBE_ID_LEN || len - off < slen ||
	    memcmp(pkt + off, p->id, PATHPROBE_ID_LEN - 1) != 0)
		return -1;
	int i = pkt[off + PATHPROBE_ID_LEN - 1];
	off += slen;
	if (i >= p->n || len - off < 4 || (len - off) % 4 != 0)
		return -1;
	return i;
}
