#include "daemon/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool taken(const struct pool *p, uint32_t off)
{
	return p->bits[off / 64] >> (off % 64) & 1;
}

static void mark(struct pool *p, uint32_t off, bool on)
{
	if (on)
		p->bits[off / 64] |= 1ull << (off % 64);
	else
		p->bits[off / 64] &= ~(1ull << (off % 64));
}

/* The network (.0), the hub (.1) and the broadcast address. */
static bool reserved(const struct pool *p, uint32_t off)
{
	return off < 2 || off == p->size - 1;
}

int pool_init(struct pool *p, uint32_t network, unsigned prefix)
{
	memset(p, 0, sizeof(*p));
	if (prefix < POOL_MIN_PREFIX || prefix > POOL_MAX_PREFIX) {
		errno = EINVAL;
		return -1;
	}
	uint32_t size = 1u << (32 - prefix);
	p->bits = calloc((size + 63) / 64, sizeof(*p->bits));
	if (!p->bits) {
		errno = ENOMEM;
		return -1;
	}
	p->prefix = prefix;
	p->size = size;
	p->network = network & ~(size - 1);
	p->next = p->next_in = 2;
	/* Reserved addresses are marked taken, so no search ever stops there. */
	mark(p, 0, true);
	mark(p, 1, true);
	mark(p, size - 1, true);
	return 0;
}

void pool_free(struct pool *p)
{
	free(p->bits);
	/* size 0: every call after this finds the pool empty and full. */
	memset(p, 0, sizeof(*p));
}

uint32_t pool_hub_addr(const struct pool *p)
{
	return p->network + 1;
}

uint32_t pool_capacity(const struct pool *p)
{
	return p->size > 3 ? p->size - 3 : 0;
}

bool pool_contains(const struct pool *p, uint32_t addr)
{
	return addr - p->network < p->size; /* unsigned: below network wraps high */
}

uint32_t pool_alloc(struct pool *p)
{
	if (p->used >= pool_capacity(p))
		return 0; /* no scan of a full /16 on every refused login */
	/* Round robin from the last one given, so a VIP just released is not
	 * reused at once (packets for its old owner may still be in flight). */
	for (uint32_t i = 0; i < p->size; i++) {
		uint32_t off = (p->next + i) & (p->size - 1);
		if (!taken(p, off)) {
			mark(p, off, true);
			p->used++;
			p->next = (off + 1) & (p->size - 1);
			return p->network + off;
		}
	}
	return 0;
}

uint32_t pool_alloc_in(struct pool *p, uint32_t lo, uint32_t hi)
{
	if (p->used >= pool_capacity(p) || hi < p->network || lo > hi)
		return 0;
	uint32_t first = lo > p->network ? lo - p->network : 0, last = hi - p->network;
	if (last >= p->size)
		last = p->size - 1;
	if (first > last)
		return 0;
	uint32_t n = last - first + 1;
	uint32_t start = p->next_in >= first && p->next_in <= last ? p->next_in - first : 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = first + (start + i) % n;
		if (!taken(p, off)) {
			mark(p, off, true);
			p->used++;
			p->next_in = off + 1;
			return p->network + off;
		}
	}
	return 0;
}

bool pool_take(struct pool *p, uint32_t addr)
{
	if (!pool_contains(p, addr))
		return false;
	uint32_t off = addr - p->network;
	if (taken(p, off)) /* reserved ones included */
		return false;
	mark(p, off, true);
	p->used++;
	return true;
}

void pool_release(struct pool *p, uint32_t addr)
{
	if (!pool_contains(p, addr))
		return;
	uint32_t off = addr - p->network;
	if (reserved(p, off) || !taken(p, off))
		return;
	mark(p, off, false);
	p->used--;
}
