/* libFuzzer: the "fragmentation needed" and "packet too big" answers to any
 * packet from the TUN, and the client's judgement of errors from the hub
 * (its own answers are about the packet they quote; destination options
 * headers in front, however many, change nothing), and the words for an
 * error's type and code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/icmp.h"
#include "proto/ipv6.h"
#include "tests/fuzz/fuzz_util.h"

static uint16_t sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pkt = fuzz_copy(data, size), out[96], out6[1280];
	if (!pkt)
		return 0;
	size_t n = icmp4_frag_needed(pkt, size, 0x0100640a, 1217, out, sizeof(out));
	if (n) {
		/* A well-formed answer: valid checksums, addressed to the sender,
		 * quoting the start of the packet. */
		if (n < 48 || n > 96 || sum16(out, 20) != 0xffff || sum16(out + 20, n - 20) != 0xffff ||
		    out[20] != 3 || out[21] != 4 || memcmp(out + 16, pkt + 12, 4) != 0 ||
		    memcmp(out + 28, pkt, n - 28) != 0 || (size_t)(out[2] << 8 | out[3]) != n ||
		    icmp_error_foreign(out, n, pkt + 12))
			abort();
	}
	static const uint8_t from[16] = {0xfd, [15] = 1};
	/* The fuzzer's first byte picks the room: every quote length is tried. */
	size_t cap = size ? 88 + (size_t)data[0] * 5 : sizeof(out6);
	n = icmp6_packet_too_big(pkt, size, from, 1400, out6, cap > sizeof(out6) ? sizeof(out6) : cap);
	if (n) {
		uint8_t pseudo[40] = {0};
		memcpy(pseudo, out6 + 8, 32);
		pseudo[34] = (uint8_t)((n - 40) >> 8), pseudo[35] = (uint8_t)(n - 40), pseudo[39] = 58;
		uint32_t s = (uint32_t)sum16(pseudo, 40) + sum16(out6 + 40, n - 40);
		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		if (n < 88 || n > 1280 || n > cap || s != 0xffff || out6[40] != 2 ||
		    memcmp(out6 + 24, pkt + 8, 16) != 0 || memcmp(out6 + 48, pkt, n - 48) != 0 ||
		    (size_t)(out6[4] << 8 | out6[5]) != n - 40 || icmp_error_foreign(out6, n, pkt + 8))
			abort();
	}
	static const uint8_t own[16] = {10, 100, 0, 2};
	(void)icmp_error_foreign(pkt, size, own);
	/* A quoted destination is there only in an error, whose quote then
	 * reaches its source too: an IPv4 one is not foreign to that source,
	 * and the destination is the quote's. */
	uint8_t qdst[16];
	if (icmp_error_quoted_dst(pkt, size, qdst) && pkt[0] >> 4 == 4) {
		size_t ihl = (size_t)(pkt[0] & 15) * 4;
		if (icmp_error_foreign(pkt, size, pkt + ihl + 8 + 12) ||
		    memcmp(qdst, pkt + ihl + 8 + 16, 4) != 0)
			abort();
	}
	/* The same IPv6 packet behind k more destination options headers (8
	 * bytes, padding only), k from 1 to 64 by the flow label's last byte: the
	 * kernel walks them all, so the judgement must not change. */
	struct ipv6_info ip6;
	if (size && ipv6_parse(pkt, size, &ip6) == IPV6_OK) {
		size_t k = (size_t)pkt[3] % 64 + 1, m = ip6.total_len + 8 * k;
		uint8_t *w = m - 40 <= 65535 ? malloc(m) : NULL;
		if (w) {
			memcpy(w, pkt, 40);
			w[4] = (uint8_t)((m - 40) >> 8), w[5] = (uint8_t)(m - 40), w[6] = 60;
			for (size_t i = 0; i < k; i++) {
				uint8_t *h = w + 40 + 8 * i;
				memset(h, 0, 8);
				h[0] = i + 1 < k ? 60 : pkt[6];
				h[2] = 1, h[3] = 4; /* PadN */
			}
			memcpy(w + 40 + 8 * k, pkt + 40, ip6.total_len - 40u);
			if (icmp_error_foreign(w, m, own) != icmp_error_foreign(pkt, ip6.total_len, own))
				abort();
			free(w);
		}
	}
	/* An error's type and code, as the kernel reports them, into any room. */
	if (size >= 4) {
		char why[200];
		size_t room = data[3] % (sizeof(why) + 1);
		enum icmp_kind k = icmp_error_kind(data[0] & 1, data[1], data[2], why, room);
		if ((room && !memchr(why, 0, room)) ||
		    (room > 1 && (k == ICMP_KIND_UNREACHABLE) != (why[0] != 0)))
			abort();
	}
	free(pkt);
	return 0;
}
