#include "daemon/cidmap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* SipHash-2-4: clients pick some of the keys, so the hash must be keyed. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
	do {                                                                   \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);      \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                         \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                         \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);      \
	} while (0)

static uint64_t siphash(const uint64_t key[2], const uint8_t *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0], v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0], v3 = 0x7465646279746573ull ^ key[1];
	uint64_t b = (uint64_t)len << 56, m;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		memcpy(&m, in + i, 8);
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

int cidmap_init(struct cidmap *m, size_t initial_cap)
{
	memset(m, 0, sizeof(*m));
	size_t cap = 16;
	while (cap < initial_cap)
		cap <<= 1;
	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots)
		return -1;
	m->cap = cap;
	if (getrandom(m->key, sizeof(m->key), 0) != sizeof(m->key)) {
		free(m->slots);
		m->slots = NULL;
		return -1;
	}
	return 0;
}

void cidmap_free(struct cidmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->count = m->tombs = 0;
}

static bool valid(size_t len)
{
	return len >= 1 && len <= CIDMAP_MAXLEN;
}

/* The slot holding cid, or NULL. */
static struct cidmap_entry *lookup(const struct cidmap *m, const uint8_t *cid, size_t len)
{
	size_t mask = m->cap - 1, i = siphash(m->key, cid, len) & mask;
	for (size_t n = 0; n < m->cap; n++, i = (i + 1) & mask) {
		struct cidmap_entry *e = &m->slots[i];
		if (e->len == 0 && !e->tomb)
			return NULL;
		if (e->len == len && memcmp(e->cid, cid, len) == 0)
			return e;
	}
	return NULL;
}

static void insert_new(struct cidmap *m, const uint8_t *cid, size_t len, void *value)
{
	size_t mask = m->cap - 1, i = siphash(m->key, cid, len) & mask;
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

static int grow(struct cidmap *m)
{
	struct cidmap old = *m;
	/* Only tombstones? Rehash at the same size. */
	size_t cap = (m->count + 1) * 2 > m->cap / 2 ? m->cap * 2 : m->cap;
	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return -1;
	}
	m->cap = cap;
	m->count = m->tombs = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].len)
			insert_new(m, old.slots[i].cid, old.slots[i].len, old.slots[i].value);
	free(old.slots);
	return 0;
}

int cidmap_put(struct cidmap *m, const uint8_t *cid, size_t len, void *value)
{
	if (!valid(len))
		return -1;
	struct cidmap_entry *e = lookup(m, cid, len);
	if (e) {
		e->value = value;
		return 0;
	}
	if ((m->count + m->tombs + 1) * 2 > m->cap && grow(m) < 0)
		return -1;
	insert_new(m, cid, len, value);
	return 0;
}

void *cidmap_get(const struct cidmap *m, const uint8_t *cid, size_t len)
{
	if (!valid(len))
		return NULL;
	struct cidmap_entry *e = lookup(m, cid, len);
	return e ? e->value : NULL;
}

void *cidmap_del(struct cidmap *m, const uint8_t *cid, size_t len)
{
	if (!valid(len))
		return NULL;
	struct cidmap_entry *e = lookup(m, cid, len);
	if (!e)
		return NULL;
	void *v = e->value;
	e->len = 0;
	e->tomb = 1;
	e->value = NULL;
	m->count--;
	m->tombs++;
	return v;
}
