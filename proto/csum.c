#include "proto/csum.h"

#include <string.h>

static inline uint64_t csum_scalar(uint64_t sum, const uint8_t *p, size_t n)
{
	/* 64-bit words in two chains, their carries counted apart (a carry out
	 * of 64 bits is 1 in ones' complement, as 2^16 is): a third faster
	 * than 32-bit halves here. The carries stay far below 2^32. */
	uint64_t a = 0, b = 0, ca = 0, cb = 0;
	for (; n >= 16; p += 16, n -= 16) {
		uint64_t v[2];
		memcpy(v, p, 16);
		a += v[0];
		ca += a < v[0];
		b += v[1];
		cb += b < v[1];
	}
	sum += (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) + ca + cb;
	if (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		sum += (v & 0xffffffffu) + (v >> 32);
		p += 8, n -= 8;
	}
	if (n >= 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		sum += v;
		p += 4, n -= 4;
	}
	if (n >= 2) {
		uint16_t v;
		memcpy(&v, p, 2);
		sum += v;
		p += 2, n -= 2;
	}
	if (n) {
		uint16_t v = 0; /* a last odd byte is the high half of a word */
		memcpy(&v, p, 1);
		sum += v;
	}
	return sum;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
typedef uint64_t csum_u64x4 __attribute__((vector_size(32)));

/* 32 bytes at a time, each 32-bit word added into a 64-bit lane (no
 * carries to count: a lane would need 2^32 words to overflow), the rest
 * as above. About twice as fast as csum_scalar on the 1.2 KB segments the
 * TUN offloads cut and join, each summed once at either end. */
__attribute__((target("avx2"))) static uint64_t csum_avx2(uint64_t sum, const uint8_t *p, size_t n)
{
	const csum_u64x4 lo32 = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
	csum_u64x4 lo = {0, 0, 0, 0}, hi = {0, 0, 0, 0};
	for (; n >= 32; p += 32, n -= 32) {
		csum_u64x4 v;
		memcpy(&v, p, 32);
		lo += v & lo32;
		hi += v >> 32;
	}
	lo += hi;
	return csum_scalar(sum + lo[0] + lo[1] + lo[2] + lo[3], p, n);
}

uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	/* A load and a test: the CPU's features are read before main. */
	if (n >= 64 && __builtin_cpu_supports("avx2"))
		return csum_avx2(sum, p, n);
	return csum_scalar(sum, p, n);
}
#else
uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	return csum_scalar(sum, p, n);
}
#endif

uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t inet_csum(const uint8_t *p, size_t n)
{
	return (uint16_t)~csum_fold(csum_add(0, p, n));
}
