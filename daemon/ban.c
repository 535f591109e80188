#include "daemon/ban.h"

#include <netinet/in.h>
#include <string.h>

void ban_init(struct ban_table *t)
{
	memset(t, 0, sizeof(*t));
}

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
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static struct ban_entry *find(const struct ban_table *t, const uint8_t key[16])
{
	for (int i = 0; i < BAN_SLOTS; i++)
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

bool ban_fail(struct ban_table *t, const struct sockaddr *sa, uint64_t now)
{
	uint8_t key[16];
	if (!key_of(sa, key))
		return false;
	struct ban_entry *e = find(t, key);
	if (!e) {
		/* A free slot, else the one not seen for longest that is not banned. */
		struct ban_entry *victim = NULL;
		for (int i = 0; i < BAN_SLOTS; i++) {
			struct ban_entry *c = &t->e[i];
			if (!c->last_seen) {
				victim = c;
				break;
			}
			if (now >= c->until && (!victim || c->last_seen < victim->last_seen))
				victim = c;
		}
		if (!victim)
			return false; /* every slot holds an active ban: count nothing */
		e = victim;
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
	if (++e->fails < BAN_MAX_FAILS)
		return false;
	e->until = now + BAN_DURATION;
	e->fails = 0;
	return true;
}

void ban_success(struct ban_table *t, const struct sockaddr *sa)
{
	uint8_t key[16];
	struct ban_entry *e;
	if (key_of(sa, key) && (e = find(t, key)) && e->until == 0)
		memset(e, 0, sizeof(*e));
}
