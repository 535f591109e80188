/* The hub's pool of virtual addresses (VIPs) in one IPv4 subnet. The network
 * address is never given out, nor the broadcast address, nor the hub's own
 * (network + 1). Addresses are host byte order here. Only the allocator
 * (alloc.h) uses it: it knows why an address is taken. */
#ifndef SLOPN_POOL_H
#define SLOPN_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/addr.h" /* parse_cidr, for the --subnet that makes a pool */

#define POOL_MIN_PREFIX 16
#define POOL_MAX_PREFIX 29

struct pool {
	uint32_t network;   /* host order, host bits zero */
	unsigned prefix;
	uint32_t size;      /* 1 << (32 - prefix) */
	uint32_t next;      /* offset where the next search starts (round robin) */
	uint32_t next_in;   /* the same for pool_alloc_in */
	uint32_t used;      /* addresses handed out */
	uint64_t *bits;     /* one bit per offset; 1 = taken or reserved */
};

/* network may have host bits set: they are cleared. prefix must be within
 * [POOL_MIN_PREFIX, POOL_MAX_PREFIX]. Returns 0 or -1 (errno EINVAL/ENOMEM). */
int pool_init(struct pool *p, uint32_t network, unsigned prefix);
void pool_free(struct pool *p);

uint32_t pool_hub_addr(const struct pool *p);        /* network + 1 */
uint32_t pool_capacity(const struct pool *p);        /* addresses for clients */
bool pool_contains(const struct pool *p, uint32_t addr); /* inside the subnet at all */

/* A free client address, marked taken; 0 when the pool is exhausted. */
uint32_t pool_alloc(struct pool *p);
/* The same from lo to hi only (both included; what lies outside the pool
 * is not), round robin of its own: 0 when none of them is free. */
uint32_t pool_alloc_in(struct pool *p, uint32_t lo, uint32_t hi);
/* Take one given address (a fixed VIP). false if taken, reserved or outside. */
bool pool_take(struct pool *p, uint32_t addr);
/* Give an address back; releasing one not taken is a no-op. */
void pool_release(struct pool *p, uint32_t addr);

#endif
