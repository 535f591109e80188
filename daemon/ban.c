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

/* IPv4 per address (as v4-mapped IPv6); IPv6 per /64, the least a host is
 * given: one machine changing its address would otherwise get five new
 * guesses each time, as admission counts it too (hub_admit.c). */
static bool key_of(const struct sockaddr *sa, uint8_t key[16])
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		memset(key, 0, 10);
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		memcpy(key, a, 16);
		if (!IN6_IS_ADDR_V4MAPPED(a))
			memset(key + 8, 0, 8);
		return true;
	}
	return false;
}

static bool key_is_v4(const uint8_t key[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(key, mapped, sizeof(mapped)) == 0;
}

/* "192.0.2.7", "2001:db8:1:2::/64" */
static void key_str(const uint8_t key[16], char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];
	bool v4 = key_is_v4(key);
	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? key + 12 : key, s, sizeof(s));
	snprintf(buf, len, "%s%s", s, v4 ? "" : "/64");
}

static struct ban_entry *find(const struct ban_table *t, const uint8_t key[16])
{
	for (unsigned i = 0; i < t->end; i++)
		if (t->e[i].last_seen && memcmp(t->e[i].addr, key, 16) == 0)
			return (struct ban_entry *)&t->e[i];
	return NULL;
}

uint64_t ban_remaining(const struct ban_table *t, const struct sockaddr *sa, uint64_t now)
{
	uint8_t key[16];
	if (!key_of(sa, key))
		return 0;
	const struct ban_entry *e = find(t, key);
	return e && now < e->until ? e->until - now : 0;
}

bool ban_fail(struct ban_table *t, const struct sockaddr *sa, uint64_t now, uint64_t tag)
{
	uint8_t key[16];
	if (!key_of(sa, key))
		return false;
	struct ban_entry *e = find(t, key);
	if (!e) {
		/* A free slot, else the one not seen for longest that is not
		 * banned, else the ban that ends first: a table full of one
		 * sender's bans must not stop the bans of others. */
		struct ban_entry *victim = NULL, *soonest = NULL;
		for (int i = 0; i < BAN_SLOTS; i++) {
			struct ban_entry *c = &t->e[i];
			if (!c->last_seen) {
				victim = c;
				break;
			}
			if (now >= c->until && (!victim || c->last_seen < victim->last_seen))
				victim = c;
			if (now < c->until && (!soonest || c->until < soonest->until))
				soonest = c;
		}
		e = victim ? victim : soonest;
		if ((unsigned)(e - t->e) >= t->end)
			t->end = (unsigned)(e - t->e) + 1;
		memset(e, 0, sizeof(*e));
		memcpy(e->addr, key, 16);
	}
	e->last_seen = now ? now : 1;
	if (now < e->until)
		return false;
	if (e->fails == 0 || now - e->first_fail > BAN_WINDOW) {
		e->fails = 0;
		e->first_fail = now;
	}
	for (uint32_t i = 0; tag != BAN_UNTAGGED && i < e->fails; i++)
		if (e->tags[i] == tag)
			return false;
	if (++e->fails < BAN_MAX_FAILS) {
		e->tags[e->fails - 1] = tag;
		return false;
	}
	e->until = now + BAN_DURATION;
	e->fails = 0;
	e->refused = 0;
	e->told = 0;
	return true;
}

static void count_refusal(struct ban_entry *e)
{
	if (e->refused < UINT32_MAX)
		e->refused++;
}

bool ban_admit(struct ban_table *t, const struct sockaddr *sa, uint64_t now, uint64_t *left)
{
	uint8_t key[16];
	struct ban_entry *e;
	if (!key_of(sa, key) || !(e = find(t, key)) || now >= e->until)
		return true;
	if (e->told && now - e->told < BAN_TELL_EVERY) {
		count_refusal(e);
		*left = e->until - now;
		return false;
	}
	e->told = now ? now : 1;
	return true;
}

void ban_refused(struct ban_table *t, const struct sockaddr *sa)
{
	uint8_t key[16];
	struct ban_entry *e;
	if (key_of(sa, key) && (e = find(t, key)))
		count_refusal(e);
}

void ban_addr_str(const struct ban_entry *e, char *buf, size_t len)
{
	key_str(e->addr, buf, len);
}

void ban_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	uint8_t key[16];
	if (key_of(sa, key))
		key_str(key, buf, len);
	else
		snprintf(buf, len, "?");
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

int ban_lift(struct ban_table *t, const char *addr, uint64_t now, char *listed, size_t len)
{
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	struct sockaddr_in in = {.sin_family = AF_INET};
	const struct sockaddr *sa;
	/* An IPv6 ban as listed, "PREFIX/64", or any address in it; an IPv4
	 * address in IPv6 (::ffff:192.0.2.7, as a dual-stack socket sees it)
	 * is the IPv4 one's (key_of). */
	struct cidr6 net;
	if (inet_pton(AF_INET, addr, &in.sin_addr) == 1) {
		sa = (const struct sockaddr *)&in;
	} else if (inet_pton(AF_INET6, addr, &in6.sin6_addr) == 1) {
		sa = (const struct sockaddr *)&in6;
	} else if (parse_cidr6(addr, &net) >= 0 && net.prefix == 64) {
		memcpy(&in6.sin6_addr, net.net, 16);
		sa = (const struct sockaddr *)&in6;
	} else {
		return -1;
	}
	uint8_t key[16];
	struct ban_entry *e;
	if (!key_of(sa, key) || !(e = find(t, key)))
		return 0;
	bool banned = now < e->until;
	if (listed)
		ban_addr_str(e, listed, len);
	memset(e, 0, sizeof(*e));
	while (t->end && !t->e[t->end - 1].last_seen)
		t->end--;
	return banned ? 1 : 2;
}
