#include "daemon/cidmap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MIN_CAP 16

/* SipHash-2-4 (Aumasson and Bernstein): clients choose some connection IDs,
 * so an unkeyed hash would let them pile every entry into one probe chain. */
static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                              \
	do {                                                                  \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);     \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                        \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                        \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);     \
	} while (0)

/* Little-endian load, whatever the host. */
static uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t siphash24(const uint64_t key[2], const uint8_t *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0], v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0], v3 = 0x7465646279746573ull ^ key[1];
	uint64_t m, b = (uint64_t)len << 56;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		m = load64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static bool valid(const uint8_t *cid, size_t len)
{
	return cid && len >= 1 && len <= CIDMAP_MAXLEN;
}

static bool free_slot(const struct cidmap_entry *e)
{
	return e->len == 0 && !e->tomb;
}

int cidmap_init(struct cidmap *m, size_t initial_cap)
{
	memset(m, 0, sizeof(*m));
	size_t cap = MIN_CAP;
	while (cap < initial_cap) {
		if (cap > SIZE_MAX / 2 / sizeof(*m->slots)) {
			errno = ENOMEM;
			return -1;
		}
		cap <<= 1;
	}
	/* getrandom() gives up to 256 bytes in one call once the pool is ready. */
	if (getrandom(m->key, sizeof(m->key), 0) != (ssize_t)sizeof(m->key))
		return -1;
	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots)
		return -1;
	m->cap = m->min_cap = cap;
	return 0;
}

void cidmap_free(struct cidmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->last = NULL;
	m->cap = m->count = m->tombs = 0;
}

/* The slot holding cid, or NULL. */
static struct cidmap_entry *lookup(const struct cidmap *m, const uint8_t *cid, size_t len)
{
	if (m->cap == 0)
		return NULL;
	size_t mask = m->cap - 1, i = (size_t)siphash24(m->key, cid, len) & mask;
	/* The load bound leaves free slots, so this ends early; the count is
	 * only a backstop. */
	for (size_t n = 0; n < m->cap; n++, i = (i + 1) & mask) {
		const struct cidmap_entry *e = &m->slots[i];
		if (free_slot(e))
			return NULL;
		if (e->len == len && memcmp(e->cid, cid, len) == 0)
			return &m->slots[i];
	}
	return NULL;
}

/* Store a cid known to be absent, in the first free or deleted slot of its
 * chain. The caller has made room. */
static void insert_new(struct cidmap *m, const uint8_t *cid, size_t len, void *value)
{
	size_t mask = m->cap - 1, i = (size_t)siphash24(m->key, cid, len) & mask;
	while (m->slots[i].len != 0)
		i = (i + 1) & mask;
	struct cidmap_entry *e = &m->slots[i];
	if (e->tomb)
		m->tombs--;
	e->tomb = 0;
	e->len = (uint8_t)len;
	memcpy(e->cid, cid, len);
	e->value = value;
	m->count++;
}

/* Rehash into a new table of cap slots (a power of two, holding the live
 * entries at most a quarter full). */
static int rehash_to(struct cidmap *m, size_t cap)
{
	struct cidmap_entry *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	struct cidmap_entry *old = m->slots;
	size_t old_cap = m->cap;
	m->slots = slots;
	m->cap = cap;
	m->count = m->tombs = 0;
	m->last = NULL;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].len)
			insert_new(m, old[i].cid, old[i].len, old[i].value);
	free(old);
	return 0;
}

/* Rehash: twice the size if live entries need it, else the same size,
 * which just clears the tombstones. */
static int rehash(struct cidmap *m)
{
	size_t cap = m->cap < MIN_CAP ? MIN_CAP : m->cap;
	/* Double when live entries would fill more than a quarter. Either way
	 * about a quarter of the table or more is left for puts before the next
	 * rehash, so churn by put/del costs O(1) amortized. */
	if ((m->count + 1) * 4 > cap) {
		if (cap > SIZE_MAX / 2 / sizeof(*m->slots)) {
			errno = ENOMEM;
			return -1;
		}
		cap <<= 1;
	}
	return rehash_to(m, cap);
}

/* After deletes: a table grown for a peak (a crowd of reconnects, a flood
 * of handshakes) and now under a sixteenth full goes back to a quarter
 * full, not below the size it was made with. The memory would stay
 * otherwise, and every scan (cidmap_del_value at each close) would go
 * through the whole peak's table. Rare enough to stay O(1) amortized:
 * the entries must fall by four times again for the next. Out of memory,
 * it stays as it is. */
static void shrink(struct cidmap *m)
{
	if (m->cap <= m->min_cap || m->count * 16 >= m->cap)
		return;
	size_t cap = m->min_cap < MIN_CAP ? MIN_CAP : m->min_cap;
	while (cap < (m->count + 1) * 4)
		cap <<= 1;
	if (cap < m->cap)
		rehash_to(m, cap);
}

int cidmap_put(struct cidmap *m, const uint8_t *cid, size_t len, void *value)
{
	if (!valid(cid, len))
		return -1;
	struct cidmap_entry *e = lookup(m, cid, len);
	if (e) {
		e->value = value;
		return 0;
	}
	/* Tombstones lengthen probe chains as much as live entries: count both
	 * against the 50% load bound. */
	if ((m->count + m->tombs + 1) * 2 > m->cap && rehash(m) < 0)
		return -1;
	insert_new(m, cid, len, value);
	return 0;
}

void *cidmap_get(struct cidmap *m, const uint8_t *cid, size_t len)
{
	if (!valid(cid, len))
		return NULL;
	struct cidmap_entry *e = m->last;
	if (e && e->len == len && memcmp(e->cid, cid, len) == 0)
		return e->value;
	if (!(e = lookup(m, cid, len)))
		return NULL;
	m->last = e;
	return e->value;
}

static void bury(struct cidmap *m, struct cidmap_entry *e)
{
	/* A tombstone, not an empty slot: later entries of the chain stay reachable. */
	memset(e, 0, sizeof(*e));
	e->tomb = 1;
	m->count--;
	m->tombs++;
}

void *cidmap_del(struct cidmap *m, const uint8_t *cid, size_t len)
{
	if (!valid(cid, len))
		return NULL;
	struct cidmap_entry *e = lookup(m, cid, len);
	if (!e)
		return NULL;
	void *v = e->value;
	bury(m, e);
	shrink(m);
	return v;
}

size_t cidmap_del_value(struct cidmap *m, const void *value)
{
	size_t n = 0;
	for (size_t i = 0; i < m->cap; i++) {
		struct cidmap_entry *e = &m->slots[i];
		if (e->len && e->value == value) {
			bury(m, e);
			n++;
		}
	}
	m->last = NULL;
	if (n)
		shrink(m);
	return n;
}
