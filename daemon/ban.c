#include "daemon/ban.h"
#include "proto/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

void ban_init(struct ban_table *t)
{
	memset(t, 0, sizeof(*t));
}

/* What an entry covers: its address bits and their count. */
struct ban_key {
	uint8_t addr[16];
	uint8_t prefix;
};

/* An IPv6 address's keys, narrowest first. Each counts every failure
 * counted at the /64: a /56 as many within the hour as 4 banned /64s give,
 * a /48 as many as 4 banned /56s. Counting only bans of the narrower ones
 * let a guesser with a /56 try 4 tokens from each of its 256 /64s, every 5
 * minutes, and never be banned. */
static const uint8_t prefixes6[BAN_LEVELS] = {64, 56, 48};
static const uint32_t max_fails[BAN_LEVELS] = {
	BAN_MAX_FAILS, BAN_MAX_FAILS * BAN_MAX_NETS, BAN_MAX_FAILS * BAN_MAX_NETS * BAN_MAX_NETS};
static const uint64_t windows[BAN_LEVELS] = {BAN_WINDOW, BAN_DURATION, BAN_DURATION};

static unsigned level_of(const struct ban_entry *e)
{
	return e->prefix == 56 ? 1 : e->prefix == 48 ? 2 : 0;
}

/* IPv4 per address (as v4-mapped IPv6); IPv6 per /64, the least a host is
 * given (one machine changing its address would otherwise get five new
 * guesses each time, as admission counts it too, hub_admit.c), and its /56
 * and /48, a site's; a link-local one as fe80::/64 alone. The number of
 * keys, 0 for another family. */
static unsigned keys_of(const struct sockaddr *sa, struct ban_key keys[BAN_LEVELS])
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		memset(keys[0].addr, 0, 10);
		keys[0].addr[10] = keys[0].addr[11] = 0xff;
		memcpy(keys[0].addr + 12, &in->sin_addr, 4);
		keys[0].prefix = 32;
		return 1;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a)) {
		memcpy(keys[0].addr, a, 16);
		keys[0].prefix = 32;
		return 1;
	}
	unsigned n = IN6_IS_ADDR_LINKLOCAL(a) ? 1 : BAN_LEVELS;
	for (unsigned i = 0; i < n; i++) {
		memset(keys[i].addr, 0, 16);
		memcpy(keys[i].addr, a, prefixes6[i] / 8);
		keys[i].prefix = prefixes6[i];
	}
	return n;
}

bool ban_is_network(const struct ban_entry *e)
{
	return e->prefix == 56 || e->prefix == 48;
}

void ban_why(const struct ban_entry *e, char *buf, size_t len)
{
	if (ban_is_network(e))
		snprintf(buf, len, "%u failed logins from its /%ds within an hour",
		         max_fails[level_of(e)], e->prefix + 8);
	else
		snprintf(buf, len, "%d failed logins", BAN_MAX_FAILS);
}

/* "192.0.2.7", "2001:db8:1:2::/64" */
static void key_str(const uint8_t addr[16], unsigned prefix, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];
	bool v4 = prefix == 32;
	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? addr + 12 : addr, s, sizeof(s));
	if (v4)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%s/%u", s, prefix);
}

static bool matches(const struct ban_entry *e, const struct ban_key *k)
{
	return e->last_seen && e->prefix == k->prefix && memcmp(e->addr, k->addr, 16) == 0;
}

/* The entries of an address's n keys, in one pass: out[i] for keys[i], or
 * NULL. */
static void find_all(const struct ban_table *t, const struct ban_key *keys, unsigned n,
                     struct ban_entry **out)
{
	for (unsigned k = 0; k < n; k++)
		out[k] = NULL;
	for (unsigned i = 0; i < t->end; i++)
		for (unsigned k = 0; k < n; k++)
			if (!out[k] && matches(&t->e[i], &keys[k])) {
				out[k] = (struct ban_entry *)&t->e[i];
				break;
			}
}

/* Of an address's entries, the ban that ends last, or NULL. */
static struct ban_entry *ban_of(const struct ban_table *t, const struct sockaddr *sa, uint64_t now)
{
	struct ban_key keys[BAN_LEVELS];
	struct ban_entry *e[BAN_LEVELS], *b = NULL;
	unsigned n = keys_of(sa, keys);
	find_all(t, keys, n, e);
	for (unsigned k = 0; k < n; k++)
		if (e[k] && now < e[k]->until && (!b || e[k]->until > b->until))
			b = e[k];
	return b;
}

const struct ban_entry *ban_find(const struct ban_table *t, const struct sockaddr *sa,
                                 uint64_t now)
{
	return ban_of(t, sa, now);
}

uint64_t ban_remaining(const struct ban_table *t, const struct sockaddr *sa, uint64_t now)
{
	const struct ban_entry *b = ban_of(t, sa, now);
	return b ? b->until - now : 0;
}

/* A slot for key: a free one, else the one not seen for longest that is
 * not banned, else the ban that ends first (a table full of one sender's
 * bans must not stop the bans of others: that one goes into evicted);
 * never one of the n in keep. */
static struct ban_entry *new_slot(struct ban_table *t, const struct ban_key *key, uint64_t now,
                                  struct ban_entry *const *keep, unsigned n,
                                  struct ban_evicted *evicted)
{
	struct ban_entry *victim = NULL, *soonest = NULL;
	for (int i = 0; i < BAN_SLOTS; i++) {
		struct ban_entry *c = &t->e[i];
		bool kept = false;
		for (unsigned k = 0; k < n; k++)
			kept |= keep[k] == c;
		if (kept)
			continue;
		if (!c->last_seen) {
			victim = c;
			break;
		}
		if (now >= c->until && (!victim || c->last_seen < victim->last_seen))
			victim = c;
		if (now < c->until && (!soonest || c->until < soonest->until))
			soonest = c;
	}
	struct ban_entry *e = victim ? victim : soonest;
	if (!victim && evicted && evicted->n < BAN_LEVELS)
		ban_addr_str(e, evicted->address[evicted->n++], BAN_ADDR_LEN);
	if ((unsigned)(e - t->e) >= t->end)
		t->end = (unsigned)(e - t->e) + 1;
	memset(e, 0, sizeof(*e));
	memcpy(e->addr, key->addr, 16);
	e->prefix = key->prefix;
	return e;
}

/* One more on e's count within window, banned at max. tags: e keeps
 * them (an address's, a /64's): false when tag was counted already. */
static bool count_one(struct ban_entry *e, uint64_t now, uint64_t window, uint32_t max,
                      bool tags, uint64_t tag, bool *started)
{
	*started = false;
	if (e->fails == 0 || now - e->first_fail > window) {
		e->fails = 0;
		e->first_fail = now;
	}
	for (uint32_t i = 0; tags && tag != BAN_UNTAGGED && i < e->fails; i++)
		if (e->tags[i] == tag)
			return false;
	if (++e->fails < max) {
		if (tags)
			e->tags[e->fails - 1] = tag;
		return true;
	}
	e->until = now + BAN_DURATION;
	e->fails = 0;
	e->refused = 0;
	e->told = 0;
	*started = true;
	return true;
}

unsigned ban_fail(struct ban_table *t, const struct sockaddr *sa, uint64_t now, uint64_t tag,
                  const struct ban_entry *started[BAN_LEVELS], struct ban_evicted *evicted)
{
	struct ban_key keys[BAN_LEVELS];
	struct ban_entry *e[BAN_LEVELS];
	unsigned n = keys_of(sa, keys), nstarted = 0;
	if (evicted)
		evicted->n = 0;
	if (!n)
		return 0;
	find_all(t, keys, n, e);
	/* The address (its /64) counts the failure unless its token was
	 * counted already; then each wider prefix too. */
	for (unsigned k = 0; k < n; k++) {
		if (!e[k])
			e[k] = new_slot(t, &keys[k], now, e, n, evicted);
		e[k]->last_seen = now ? now : 1;
		if (now < e[k]->until)
			break; /* banned already (the caller refuses those) */
		bool start;
		if (!count_one(e[k], now, windows[k], max_fails[k], k == 0, tag, &start))
			break;
		if (start)
			started[nstarted++] = e[k];
	}
	return nstarted;
}

static void count_refusal(struct ban_entry *e)
{
	if (e->refused < UINT32_MAX)
		e->refused++;
}

bool ban_admit(struct ban_table *t, const struct sockaddr *sa, uint64_t now, uint64_t *left)
{
	struct ban_entry *e = ban_of(t, sa, now);
	if (!e)
		return true;
	if (e->told && now - e->told < BAN_TELL_EVERY) {
		count_refusal(e);
		*left = e->until - now;
		return false;
	}
	e->told = now ? now : 1;
	return true;
}

void ban_refused(struct ban_table *t, const struct sockaddr *sa, uint64_t now)
{
	/* On the ban that ends last, as ban_admit tells it. */
	struct ban_entry *e = ban_of(t, sa, now);
	if (e)
		count_refusal(e);
}

void ban_addr_str(const struct ban_entry *e, char *buf, size_t len)
{
	key_str(e->addr, e->prefix, buf, len);
}

void ban_foreach(const struct ban_table *t, uint64_t now,
                 void (*fn)(const struct ban_entry *e, uint64_t left, void *ctx), void *ctx)
{
	for (int i = 0; i < BAN_SLOTS; i++)
		if (t->e[i].last_seen && now < t->e[i].until)
			fn(&t->e[i], t->e[i].until - now, ctx);
}

unsigned ban_count(const struct ban_table *t, uint64_t now)
{
	unsigned n = 0;
	for (int i = 0; i < BAN_SLOTS; i++)
		n += t->e[i].last_seen && now < t->e[i].until;
	return n;
}

/* Drop e, telling fn; *r as ban_lift returns it. */
static void drop(struct ban_entry *e, uint64_t now, int *r,
                 void (*fn)(const char *covered, bool banned, void *ctx), void *ctx)
{
	bool banned = now < e->until;
	if (fn) {
		char s[INET6_ADDRSTRLEN + 8];
		ban_addr_str(e, s, sizeof(s));
		fn(s, banned, ctx);
	}
	*r = banned || *r == 1 ? 1 : 2;
	memset(e, 0, sizeof(*e));
}

int ban_lift(struct ban_table *t, const char *addr, uint64_t now,
             void (*fn)(const char *covered, bool banned, void *ctx), void *ctx)
{
	struct sockaddr_storage ss;
	struct ban_key keys[BAN_LEVELS];
	struct ban_entry *e[BAN_LEVELS];
	struct cidr6 net;
	int r = 0;
	if (ip_port_parse(addr, &ss) == 0) {
		unsigned n = keys_of((const struct sockaddr *)&ss, keys);
		find_all(t, keys, n, e);
		for (unsigned k = 0; k < n; k++)
			if (e[k])
				drop(e[k], now, &r, fn, ctx);
	} else if (parse_ban_prefix(addr, &net) == 0) {
		/* That entry; the wider one not banned forgets its ban (an
		 * administrator's lift says it was no attack). */
		struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
		memcpy(&in6.sin6_addr, net.net, 16);
		unsigned n = keys_of((const struct sockaddr *)&in6, keys), k = 0;
		find_all(t, keys, n, e);
		while (k < n && keys[k].prefix != net.prefix)
			k++;
		if (k == n || !e[k])
			return 0;
		/* What it counted, its wider prefixes forget, those not banned. */
		uint32_t counted = now < e[k]->until ? max_fails[k] : e[k]->fails;
		drop(e[k], now, &r, fn, ctx);
		for (unsigned w = k + 1; w < n; w++)
			if (e[w] && now >= e[w]->until)
				e[w]->fails -= counted < e[w]->fails ? counted : e[w]->fails;
	} else {
		return -1;
	}
	while (t->end && !t->e[t->end - 1].last_seen)
		t->end--;
	return r;
}
