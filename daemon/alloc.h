/* Who holds which virtual address on the hub: the one owner of address
 * allocation. Addresses come in pairs: a client's IPv6 address mirrors its
 * IPv4 one (10.100.0.7 is PREFIX6::7), so one offset in the IPv4 pool
 * names both, the hub holding .1 and ::1. An offset is free, held by a
 * session, some token's fixed address (kept for that token while it
 * exists), or leased: the address a client had last, kept for it while it
 * is away and handed to another only when the pool has nothing else. A
 * lease is keyed by the token's name and the client's id, or for a client
 * without an id (the original's) by a named token alone.
 * No I/O: the hub loads and saves the leases (leases.json) and logs. */
#ifndef SLOPN_ALLOC_H
#define SLOPN_ALLOC_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/pool.h"
#include "proto/leasefile.h"
#include "proto/tokenfile.h"

struct alloc {
	struct pool pool;          /* an offset is taken while held, fixed or leased */
	void **holder;             /* by offset: the session on the address, or NULL */
	uint64_t *fixed;           /* bitmap by offset: some token's fixed address */
	uint32_t *lease_at;        /* by offset: 1 + index into leases, 0 = none */
	struct lease_entry *leases; /* each on an offset of its own */
	size_t nleases, lease_cap;
	uint32_t *keys;            /* open addressing on (token, client id): 1 + index */
	size_t nkeys;              /* slots, a power of two */
	bool has6;
	uint8_t prefix6[8];        /* the IPv6 /64 */
	bool changed;              /* a lease came, moved, went or was taken again: save soon */
	bool touched;              /* a lease's last_seen moved: save some time */
	int64_t newest;            /* no lease's last_seen is later (not_before_newest) */
	int64_t back_from, back_until; /* alloc_load_leases: see ALLOC_RETURN_GRACE */
};

/* For this long after the hub starts, a lease whose client was connected
 * when the last run ended, or was seen this long before the start, is
 * not taken for a newcomer (reclaim): that client is on its way back (its
 * retries wait up to 30 s). Leases of clients long away go at once. */
#define ALLOC_RETURN_GRACE 60

/* network/prefix as pool_init takes them; prefix6 the /64's first 8 bytes,
 * or NULL for IPv4 only. 0, or -1 (errno EINVAL or ENOMEM). */
int alloc_init(struct alloc *a, uint32_t network, unsigned prefix, const uint8_t *prefix6);
void alloc_free(struct alloc *a);

/* A client's address: inside the subnet, neither the network, the hub's
 * nor the broadcast address. Host order. */
bool alloc_assignable(const struct alloc *a, uint32_t vip);
/* Why vip is not a client's address, for a message: "the hub's own
 * address of 10.100.0.0/24; clients take 10.100.0.2 to 10.100.0.254". */
void alloc_why_not(const struct alloc *a, uint32_t vip, char *buf, size_t len);
/* A client address in the /24 that holds the hub's (the subnet's first):
 * the only ones a client that sets its address as a /24 whatever the
 * subnet (the original's, DESIGN.md) reaches the hub and the others from.
 * Every client address of a /24 or narrower subnet is one. */
bool alloc_in_hub24(const struct alloc *a, uint32_t vip);
/* The IPv6 address that mirrors vip (the hub's own for its .1). */
void alloc_vip6(const struct alloc *a, uint32_t vip, struct in6_addr *out);
/* The IPv4 address an IPv6 one mirrors, when that is a client's; else 0. */
uint32_t alloc_vip_of6(const struct alloc *a, const struct in6_addr *addr);

/* The session on a client address, for the data plane: vip host order,
 * dst the 16 bytes of an IPv6 destination. NULL for none. */
static inline void *alloc_holder(const struct alloc *a, uint32_t vip)
{
	uint32_t off = vip - a->pool.network; /* below the network wraps high */
	return off < a->pool.size ? a->holder[off] : NULL;
}

/* dst (16 bytes) is inside the hub's /64. */
static inline bool alloc_in6(const struct alloc *a, const uint8_t dst[16])
{
	return a->has6 && memcmp(dst, a->prefix6, 8) == 0;
}

/* The offset an address of the /64 names (::7 is 7), or UINT32_MAX when
 * it names none: the pool has at most 2^16 offsets. */
static inline uint32_t alloc_off6(const struct alloc *a, const uint8_t dst[16])
{
	static const uint8_t zero[6];
	if (memcmp(dst + 8, zero, 6) != 0)
		return UINT32_MAX;
	uint32_t off = (uint32_t)dst[14] << 8 | dst[15];
	return off < a->pool.size ? off : UINT32_MAX;
}

static inline void *alloc_holder6(const struct alloc *a, const uint8_t dst[16])
{
	uint32_t off = alloc_in6(a, dst) ? alloc_off6(a, dst) : UINT32_MAX;
	return off != UINT32_MAX ? a->holder[off] : NULL;
}

/* Fixed addresses: every token's vip, given all at once (at start, on
 * reload, after token add or remove); ones that are not client addresses
 * are skipped. A lease on an address that is now fixed is dropped. */
void alloc_set_fixed(struct alloc *a, const struct token_entry *tokens, size_t n);
bool alloc_is_fixed(const struct alloc *a, uint32_t vip);

struct alloc_who {
	const char *token;      /* the token's name; "shared" for --token */
	const char *client_id;  /* "" for a client without one */
	uint32_t fixed;         /* the token's fixed address, 0 for none */
	bool ipv6;              /* the client takes an IPv6 address (recorded in its lease) */
	bool hub24;             /* it takes alloc_in_hub24 addresses only (the original's) */
};

/* The address for a new session, held by holder from now on: the token's
 * fixed address unless another session holds it; else the client's lease
 * unless another session holds its address; else a free address (round
 * robin); else the address of the lease seen longest ago whose client is
 * away (that lease is gone). 0 when every address is held or fixed.
 * A session of a stale connection of the same client must be released
 * first (the hub kicks it), or the client gets another address.
 * With hub24, only alloc_in_hub24 addresses, from the pool or a lease
 * reclaimed: its own lease on another address is dropped, a fixed one
 * skipped (the hub refuses that first). */
uint32_t alloc_assign(struct alloc *a, const struct alloc_who *w, void *holder, int64_t now);
/* The session holder on vip ended: the address stays with the client's
 * lease (last seen now) or the token it is fixed for, else it is free. */
void alloc_release(struct alloc *a, uint32_t vip, void *holder, int64_t now);
/* A token is gone: its leases go with it. */
void alloc_forget_token(struct alloc *a, const char *token);

/* Leases from leases.json, before any session, the hub starting at now
 * (wall-clock seconds; grace seconds of ALLOC_RETURN_GRACE, 0 for none).
 * A lease held when the file was written counts as seen now: its
 * client was there until the end, however long ago it logged in. Returns
 * how many were dropped: not a client address (the subnet changed), a
 * fixed address, an address or a key that an earlier one has. */
size_t alloc_load_leases(struct alloc *a, const struct lease_entry *v, size_t n, int64_t now,
                         int64_t grace);
/* How many addresses reclaim keeps for the last run's clients at now
 * (ALLOC_RETURN_GRACE), and for how many seconds more in *left. */
size_t alloc_kept_back(const struct alloc *a, int64_t now, int64_t *left);
/* The hub saved a->leases: changed and touched start over. */
void alloc_saved(struct alloc *a);

#endif
