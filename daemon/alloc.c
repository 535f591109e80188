#include "daemon/alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- offsets ---- */

static bool bit(const uint64_t *b, uint32_t off)
{
	return b[off / 64] >> (off % 64) & 1;
}

static uint32_t off_of(const struct alloc *a, uint32_t vip)
{
	return vip - a->pool.network;
}

/* The pool's bit for off follows what is on it: taken while held, fixed or
 * leased, free otherwise. */
static void settle(struct alloc *a, uint32_t off)
{
	uint32_t vip = a->pool.network + off;
	if (a->holder[off] || bit(a->fixed, off) || a->lease_at[off])
		pool_take(&a->pool, vip); /* a no-op when taken already */
	else
		pool_release(&a->pool, vip);
}

bool alloc_assignable(const struct alloc *a, uint32_t vip)
{
	uint32_t off = off_of(a, vip);
	return off < a->pool.size && off > 1 && off != a->pool.size - 1;
}

void alloc_why_not(const struct alloc *a, uint32_t vip, char *buf, size_t len)
{
	uint32_t off = off_of(a, vip);
	const char *what = off >= a->pool.size ? "outside the subnet"
	                 : off == 0 ? "the network address of the subnet"
	                 : off == 1 ? "the hub's own address in the subnet"
	                 : "the broadcast address of the subnet";
	char net[INET_ADDRSTRLEN], first[INET_ADDRSTRLEN], last[INET_ADDRSTRLEN];
	struct in_addr n = {htonl(a->pool.network)}, f = {htonl(a->pool.network + 2)},
	               l = {htonl(a->pool.network + a->pool.size - 2)};
	snprintf(buf, len, "%s %s/%u; clients take %s to %s", what,
	         inet_ntop(AF_INET, &n, net, sizeof(net)), a->pool.prefix,
	         inet_ntop(AF_INET, &f, first, sizeof(first)), inet_ntop(AF_INET, &l, last, sizeof(last)));
}

bool alloc_in_hub24(const struct alloc *a, uint32_t vip)
{
	return alloc_assignable(a, vip) && off_of(a, vip) < 255;
}

/* An address for w's client. */
static bool fits(const struct alloc *a, const struct alloc_who *w, uint32_t vip)
{
	return w->hub24 ? alloc_in_hub24(a, vip) : alloc_assignable(a, vip);
}

void alloc_vip6(const struct alloc *a, uint32_t vip, struct in6_addr *out)
{
	uint32_t off = off_of(a, vip);
	memset(out, 0, sizeof(*out));
	memcpy(out->s6_addr, a->prefix6, 8);
	out->s6_addr[12] = (uint8_t)(off >> 24);
	out->s6_addr[13] = (uint8_t)(off >> 16);
	out->s6_addr[14] = (uint8_t)(off >> 8);
	out->s6_addr[15] = (uint8_t)off;
}

uint32_t alloc_vip_of6(const struct alloc *a, const struct in6_addr *addr)
{
	uint32_t off = alloc_in6(a, addr->s6_addr) ? alloc_off6(a, addr->s6_addr) : UINT32_MAX;
	return off != UINT32_MAX && alloc_assignable(a, a->pool.network + off) ? a->pool.network + off
	                                                                        : 0;
}

int alloc_init(struct alloc *a, uint32_t network, unsigned prefix, const uint8_t *prefix6)
{
	memset(a, 0, sizeof(*a));
	if (pool_init(&a->pool, network, prefix) < 0)
		return -1;
	uint32_t size = a->pool.size;
	a->nkeys = 16;
	while (a->nkeys < 2 * (size_t)size)
		a->nkeys *= 2; /* at most half full: every lease is on an offset */
	a->holder = calloc(size, sizeof(*a->holder));
	a->fixed = calloc((size + 63) / 64, sizeof(*a->fixed));
	a->lease_at = calloc(size, sizeof(*a->lease_at));
	a->keys = calloc(a->nkeys, sizeof(*a->keys));
	if (!a->holder || !a->fixed || !a->lease_at || !a->keys) {
		alloc_free(a);
		errno = ENOMEM;
		return -1;
	}
	if (prefix6) {
		a->has6 = true;
		memcpy(a->prefix6, prefix6, 8);
	}
	return 0;
}

void alloc_free(struct alloc *a)
{
	pool_free(&a->pool);
	free(a->holder);
	free(a->fixed);
	free(a->lease_at);
	free(a->leases);
	free(a->keys);
	memset(a, 0, sizeof(*a));
}

/* ---- leases by key ---- */

static uint64_t key_hash(const char *token, const char *id)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (const char *p = token; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	h = (h ^ 0xff) * 0x100000001b3ull; /* no name and id run into each other */
	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return h;
}

static size_t home(const struct alloc *a, const struct lease_entry *e)
{
	return (size_t)key_hash(e->token, e->client_id) & (a->nkeys - 1);
}

/* The slot holding the key, or the empty one where it would go. */
static size_t key_slot(const struct alloc *a, const char *token, const char *id)
{
	size_t mask = a->nkeys - 1, i = (size_t)key_hash(token, id) & mask;
	while (a->keys[i]) {
		const struct lease_entry *e = &a->leases[a->keys[i] - 1];
		if (!strcmp(e->token, token) && !strcmp(e->client_id, id))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

/* The slot that points at lease idx. */
static size_t slot_of(const struct alloc *a, size_t idx)
{
	size_t mask = a->nkeys - 1, i = home(a, &a->leases[idx]);
	while (a->keys[i] != idx + 1)
		i = (i + 1) & mask;
	return i;
}

/* Empty slot i, moving later entries of its run back so that every key
 * stays reachable from its home (linear probing has no tombstones). */
static void key_delete(struct alloc *a, size_t i)
{
	size_t mask = a->nkeys - 1;
	for (size_t j = (i + 1) & mask; a->keys[j]; j = (j + 1) & mask) {
		size_t h = home(a, &a->leases[a->keys[j] - 1]);
		/* The entry at j may move to i unless its home lies in (i, j]. */
		bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
		if (!stays) {
			a->keys[i] = a->keys[j];
			i = j;
		}
	}
	a->keys[i] = 0;
}

static long lease_find(const struct alloc *a, const char *token, const char *id)
{
	uint32_t k = a->keys[key_slot(a, token, id)];
	return k ? (long)k - 1 : -1;
}

static long lease_add(struct alloc *a, const struct lease_entry *e)
{
	if (a->nleases == a->lease_cap) {
		size_t cap = a->lease_cap ? a->lease_cap * 2 : 16;
		struct lease_entry *v = realloc(a->leases, cap * sizeof(*v));
		if (!v)
			return -1;
		a->leases = v;
		a->lease_cap = cap;
	}
	size_t idx = a->nleases++;
	a->leases[idx] = *e;
	a->keys[key_slot(a, e->token, e->client_id)] = (uint32_t)idx + 1;
	a->lease_at[off_of(a, e->vip)] = (uint32_t)idx + 1;
	a->changed = true;
	return (long)idx;
}

/* Forget lease idx; its address is not settled (the caller decides). */
static void lease_remove(struct alloc *a, size_t idx)
{
	a->lease_at[off_of(a, a->leases[idx].vip)] = 0;
	key_delete(a, slot_of(a, idx));
	size_t last = --a->nleases;
	if (idx != last) {
		/* The last one takes the hole: its slot and offset follow it. */
		size_t s = slot_of(a, last);
		a->leases[idx] = a->leases[last];
		a->keys[s] = (uint32_t)idx + 1;
		a->lease_at[off_of(a, a->leases[idx].vip)] = (uint32_t)idx + 1;
	}
	a->changed = true;
}

static void lease_drop(struct alloc *a, size_t idx)
{
	uint32_t off = off_of(a, a->leases[idx].vip);
	lease_remove(a, idx);
	settle(a, off);
}

/* ---- fixed addresses ---- */

void alloc_set_fixed(struct alloc *a, const struct token_entry *tokens, size_t n)
{
	size_t words = (a->pool.size + 63) / 64;
	for (size_t w = 0; w < words; w++) {
		uint64_t was = a->fixed[w];
		a->fixed[w] = 0;
		for (; was; was &= was - 1)
			settle(a, (uint32_t)(w * 64 + (size_t)__builtin_ctzll(was)));
	}
	for (size_t i = 0; i < n; i++) {
		if (!tokens[i].vip || !alloc_assignable(a, tokens[i].vip))
			continue;
		uint32_t off = off_of(a, tokens[i].vip);
		a->fixed[off / 64] |= 1ull << (off % 64);
		if (a->lease_at[off])
			lease_remove(a, a->lease_at[off] - 1);
		settle(a, off);
	}
}

bool alloc_is_fixed(const struct alloc *a, uint32_t vip)
{
	return alloc_assignable(a, vip) && bit(a->fixed, off_of(a, vip));
}

/* ---- sessions ---- */

/* The address of the lease seen longest ago whose client is away, its
 * lease forgotten and the address still taken; 0 when there is none. The
 * token's own leases go first: a token whose clients come with a new id
 * each time (containers, or someone filling the pool on purpose) takes
 * back its own addresses, not other tokens' clients'. Not, soon after the
 * start, one whose client is on its way back (ALLOC_RETURN_GRACE). */
static uint32_t reclaim(struct alloc *a, const struct alloc_who *w, int64_t now)
{
	bool grace = now < a->back_until;
	long best = -1;
	bool own = false;
	for (size_t i = 0; i < a->nleases; i++) {
		const struct lease_entry *e = &a->leases[i];
		if (a->holder[off_of(a, e->vip)] || !fits(a, w, e->vip) ||
		    (grace && e->last_seen >= a->back_from))
			continue;
		bool mine = strcmp(e->token, w->token) == 0;
		if (best < 0 || (mine && !own) ||
		    (mine == own && e->last_seen < a->leases[best].last_seen)) {
			best = (long)i;
			own = mine;
		}
	}
	if (best < 0)
		return 0;
	uint32_t vip = a->leases[best].vip;
	lease_remove(a, (size_t)best);
	return vip;
}

static void set_vip6(struct alloc *a, struct lease_entry *e, bool ipv6)
{
	struct in6_addr v6 = IN6ADDR_ANY_INIT;
	if (ipv6 && a->has6)
		alloc_vip6(a, e->vip, &v6);
	if (memcmp(&v6, &e->vip6, sizeof(v6)) != 0) {
		e->vip6 = v6;
		a->changed = true;
	}
}

/* now, or the newest last_seen if later: after the wall clock was set
 * back, a lease used since must not look older than one used before (the
 * oldest is taken back first, reclaim). Wall-clock time, as leases.json
 * outlives the hub. */
static int64_t not_before_newest(struct alloc *a, int64_t now)
{
	if (now < a->newest)
		return a->newest;
	a->newest = now;
	return now;
}

uint32_t alloc_assign(struct alloc *a, const struct alloc_who *w, void *holder, int64_t now)
{
	now = not_before_newest(a, now);
	/* Many clients share the --token: without an id there is no telling
	 * them apart, so no lease. */
	bool keyed = w->client_id[0] || strcmp(w->token, TOKEN_NAME_SHARED) != 0;
	long l = keyed ? lease_find(a, w->token, w->client_id) : -1;
	if (l >= 0 && !fits(a, w, a->leases[l].vip)) {
		/* Given before the hub kept the original's clients to its /24
		 * (or from a wider subnet): one this client cannot use. */
		lease_drop(a, (size_t)l);
		l = -1;
	}
	if (w->fixed && fits(a, w, w->fixed)) {
		uint32_t off = off_of(a, w->fixed);
		if (!a->holder[off]) {
			if (l >= 0)
				lease_drop(a, (size_t)l); /* the fixed address replaces it */
			a->holder[off] = holder;
			settle(a, off);
			return w->fixed;
		}
		keyed = false; /* held by another: an address for now, no lease */
	} else if (l >= 0) {
		struct lease_entry *e = &a->leases[l];
		uint32_t off = off_of(a, e->vip);
		if (!a->holder[off]) {
			a->holder[off] = holder;
			e->last_seen = now;
			set_vip6(a, e, w->ipv6);
			a->touched = true;
			/* Soon on disk: after a crash, its client counts as there
			 * until the end (alloc_load_leases). */
			a->changed |= !e->held;
			e->held = true;
			return e->vip;
		}
		keyed = false; /* another client of the same key is on it */
	}
	uint32_t net = a->pool.network;
	uint32_t vip = w->hub24 && a->pool.size > 256 ? pool_alloc_in(&a->pool, net + 2, net + 254)
	                                              : pool_alloc(&a->pool);
	if (!vip)
		vip = reclaim(a, w, now);
	if (!vip)
		return 0;
	a->holder[off_of(a, vip)] = holder;
	if (keyed) {
		struct lease_entry e = {.vip = vip, .last_seen = now, .held = true};
		snprintf(e.token, sizeof(e.token), "%s", w->token);
		snprintf(e.client_id, sizeof(e.client_id), "%s", w->client_id);
		set_vip6(a, &e, w->ipv6);
		lease_add(a, &e); /* out of memory: the client just has no lease */
	}
	return vip;
}

void alloc_release(struct alloc *a, uint32_t vip, void *holder, int64_t now)
{
	if (!alloc_assignable(a, vip))
		return;
	uint32_t off = off_of(a, vip);
	if (a->holder[off] != holder)
		return;
	a->holder[off] = NULL;
	if (a->lease_at[off]) {
		struct lease_entry *e = &a->leases[a->lease_at[off] - 1];
		e->last_seen = not_before_newest(a, now);
		e->held = false;
		a->touched = true;
	}
	settle(a, off);
}

void alloc_forget_token(struct alloc *a, const char *token)
{
	for (size_t i = a->nleases; i-- > 0;)
		if (!strcmp(a->leases[i].token, token))
			lease_drop(a, i);
}

size_t alloc_load_leases(struct alloc *a, const struct lease_entry *v, size_t n, int64_t now,
                         int64_t grace)
{
	size_t dropped = 0;
	bool rewritten = false;
	a->back_from = now - grace;
	a->back_until = now + grace;
	for (size_t i = 0; i < n; i++) {
		struct lease_entry e = v[i];
		uint32_t off = off_of(a, e.vip);
		if (!alloc_assignable(a, e.vip) || bit(a->fixed, off) || a->lease_at[off] ||
		    lease_find(a, e.token, e.client_id) >= 0 ||
		    (!e.client_id[0] && !strcmp(e.token, TOKEN_NAME_SHARED))) {
			dropped++;
			continue;
		}
		/* The IPv6 address in the file is for people: the mirror of
		 * the IPv4 one under today's prefix is what counts. */
		set_vip6(a, &e, !IN6_IS_ADDR_UNSPECIFIED(&e.vip6));
		rewritten |= memcmp(&e.vip6, &v[i].vip6, sizeof(e.vip6)) != 0;
		if (e.held) {
			/* Its login's time, maybe the oldest of all: it was here
			 * at the end, which a newcomer must not take for away long. */
			if (e.last_seen < now)
				e.last_seen = now;
			e.held = false;
			rewritten = true;
		}
		if (lease_add(a, &e) < 0) {
			dropped++;
			continue;
		}
		if (e.last_seen > a->newest)
			a->newest = e.last_seen;
		settle(a, off);
	}
	a->changed = dropped > 0 || rewritten; /* else the file holds what is loaded */
	a->touched = false;
	return dropped;
}

size_t alloc_kept_back(const struct alloc *a, int64_t now, int64_t *left)
{
	size_t n = 0;
	*left = a->back_until - now;
	if (now >= a->back_until)
		return 0;
	for (size_t i = 0; i < a->nleases; i++)
		n += !a->holder[off_of(a, a->leases[i].vip)] && a->leases[i].last_seen >= a->back_from;
	return n;
}

void alloc_saved(struct alloc *a)
{
	a->changed = a->touched = false;
}
