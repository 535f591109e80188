/* The failed-login ban: counts per address, window, duration, table reuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "daemon/ban.h"

static struct sockaddr_in v4(const char *ip, unsigned port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static struct ban_table t;

/* ban_fail: how many bans it started; the widest in started_last, the
 * bans it pushed out in evicted_last. */
static const struct ban_entry *started_last;
static struct ban_evicted evicted_last;
static unsigned count_fail(struct ban_table *tt, const struct sockaddr *sa, uint64_t now, uint64_t tag)
{
	const struct ban_entry *st[BAN_LEVELS];
	unsigned n = ban_fail(tt, sa, now, tag, st, &evicted_last);
	started_last = n ? st[n - 1] : NULL;
	return n;
}

static void fifth_failure_bans_for_an_hour(void **state)
{
	(void)state;
	ban_init(&t);
	struct sockaddr_in a = v4("192.0.2.11", 1000);
	for (int i = 0; i < 4; i++)
		assert_false(count_fail(&t, (struct sockaddr *)&a, 100 + i, BAN_UNTAGGED));
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&a, 104), 0);
	assert_true(count_fail(&t, (struct sockaddr *)&a, 104, BAN_UNTAGGED));
	/* Another source port of the same address is banned too. */
	struct sockaddr_in b = v4("192.0.2.11", 2000);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&b, 104), BAN_DURATION);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&b, 104 + BAN_DURATION - 1), 1);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&b, 104 + BAN_DURATION), 0);
	/* Other addresses are untouched. */
	struct sockaddr_in c = v4("192.0.2.12", 1000);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&c, 104), 0);
}

/* A banned address gets one connection a minute through (to be told), the
 * others are refused at once; others and an ended ban are not held up. */
static void banned_address_admitted_once_a_minute(void **state)
{
	(void)state;
	ban_init(&t);
	struct sockaddr_in a = v4("192.0.2.11", 1000), b = v4("192.0.2.12", 1000);
	uint64_t left = 0;
	for (int i = 0; i < BAN_MAX_FAILS; i++) {
		assert_true(ban_admit(&t, (struct sockaddr *)&a, 100, &left));
		count_fail(&t, (struct sockaddr *)&a, 100, BAN_UNTAGGED);
	}
	assert_true(ban_admit(&t, (struct sockaddr *)&a, 101, &left));  /* told */
	assert_false(ban_admit(&t, (struct sockaddr *)&a, 101, &left));
	assert_int_equal(left, BAN_DURATION - 1);
	assert_false(ban_admit(&t, (struct sockaddr *)&a, 101 + BAN_TELL_EVERY - 1, &left));
	assert_true(ban_admit(&t, (struct sockaddr *)&b, 101, &left)); /* another address */
	assert_true(ban_admit(&t, (struct sockaddr *)&a, 101 + BAN_TELL_EVERY, &left));
	assert_false(ban_admit(&t, (struct sockaddr *)&a, 102 + BAN_TELL_EVERY, &left));
	/* The ban over: every attempt goes on. */
	assert_true(ban_admit(&t, (struct sockaddr *)&a, 100 + BAN_DURATION, &left));
	assert_true(ban_admit(&t, (struct sockaddr *)&a, 100 + BAN_DURATION, &left));
	/* A new ban tells again at once. */
	for (int i = 0; i < BAN_MAX_FAILS; i++)
		count_fail(&t, (struct sockaddr *)&a, 100 + BAN_DURATION, BAN_UNTAGGED);
	assert_true(ban_admit(&t, (struct sockaddr *)&a, 101 + BAN_DURATION, &left));
	assert_false(ban_admit(&t, (struct sockaddr *)&a, 101 + BAN_DURATION, &left));
}

static void failures_outside_the_window_start_over(void **state)
{
	(void)state;
	ban_init(&t);
	struct sockaddr_in a = v4("198.51.100.7", 1);
	for (int i = 0; i < 4; i++)
		assert_false(count_fail(&t, (struct sockaddr *)&a, 10, BAN_UNTAGGED));
	/* The window has passed: this is failure 1 of a new window. */
	assert_false(count_fail(&t, (struct sockaddr *)&a, 10 + BAN_WINDOW + 1, BAN_UNTAGGED));
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&a, 10 + BAN_WINDOW + 1), 0);
}

static void full_table_reuses_the_stalest_entry(void **state)
{
	(void)state;
	ban_init(&t);
	/* Fill every slot with one failure each, from distinct addresses. */
	for (int i = 0; i < BAN_SLOTS; i++) {
		struct sockaddr_in a = v4("10.0.0.0", 1);
		a.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)i);
		count_fail(&t, (struct sockaddr *)&a, 1000 + (uint64_t)i, BAN_UNTAGGED);
	}
	/* A new address still gets counted, and bans as usual; no ban was
	 * pushed out for it. */
	struct sockaddr_in n = v4("192.0.2.200", 1);
	for (int i = 0; i < 4; i++) {
		assert_false(count_fail(&t, (struct sockaddr *)&n, 5000, BAN_UNTAGGED));
		assert_int_equal(evicted_last.n, 0);
	}
	assert_true(count_fail(&t, (struct sockaddr *)&n, 5000, BAN_UNTAGGED));
}

static void unknown_family_is_ignored(void **state)
{
	(void)state;
	ban_init(&t);
	struct sockaddr sa = {.sa_family = AF_UNIX};
	assert_false(count_fail(&t, &sa, 1, BAN_UNTAGGED));
	assert_int_equal(ban_remaining(&t, &sa, 1), 0);
}

static void collect(const struct ban_entry *e, uint64_t left, void *ctx)
{
	char a[64], *out = ctx;
	ban_addr_str(e, a, sizeof(a));
	snprintf(out + strlen(out), 256 - strlen(out), "%s/%llu;", a, (unsigned long long)left);
}

static void listed_and_lifted(void **state)
{
	(void)state;
	ban_init(&t);
	struct sockaddr_in a = v4("192.0.2.11", 1000), b = v4("192.0.2.12", 1);
	struct sockaddr_in6 c = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "2001:db8::7", &c.sin6_addr);
	for (int i = 0; i < BAN_MAX_FAILS; i++) {
		count_fail(&t, (struct sockaddr *)&a, 100, BAN_UNTAGGED);
		count_fail(&t, (struct sockaddr *)&c, 110, BAN_UNTAGGED);
	}
	count_fail(&t, (struct sockaddr *)&b, 100, BAN_UNTAGGED); /* failing, not banned: not listed */
	assert_int_equal(t.e[0].refused, 0);
	ban_refused(&t, (struct sockaddr *)&a, 100);
	ban_refused(&t, (struct sockaddr *)&a, 100);
	assert_int_equal(t.e[0].refused, 2);
	char out[256] = "";
	ban_foreach(&t, 160, collect, out);
	assert_string_equal(out, "192.0.2.11/3540;2001:db8::/64/3550;");
	assert_int_equal(ban_count(&t, 160), 2);
	assert_int_equal(ban_count(&t, 110 + BAN_DURATION), 0);

	assert_int_equal(ban_lift(&t, "not an address", 160, NULL, NULL), -1);
	assert_int_equal(ban_lift(&t, "192.0.2.12", 160, NULL, NULL), 2); /* failures only: forgotten */
	assert_int_equal(ban_lift(&t, "192.0.2.12", 160, NULL, NULL), 0);
	assert_int_equal(ban_lift(&t, "192.0.2.99", 160, NULL, NULL), 0);
	assert_int_equal(ban_lift(&t, "192.0.2.11", 160, NULL, NULL), 1);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&a, 160), 0);
	assert_int_equal(ban_lift(&t, "192.0.2.11", 160, NULL, NULL), 0);
	assert_int_equal(ban_lift(&t, "2001:db8::/40", 160, NULL, NULL), -1);
	assert_int_equal(ban_lift(&t, "192.0.2.11:", 160, NULL, NULL), -1);
	assert_int_equal(ban_lift(&t, "192.0.2.11:99999", 160, NULL, NULL), -1);
	assert_int_equal(ban_lift(&t, "[2001:db8::7", 160, NULL, NULL), -1);
	assert_int_equal(ban_lift(&t, "[2001:db8::7]x", 160, NULL, NULL), -1);
	assert_int_equal(ban_lift(&t, "[192.0.2.11]", 160, NULL, NULL), -1);
	assert_int_equal(ban_lift(&t, "2001:db8::7", 160, NULL, NULL), 1);
	assert_int_equal(ban_count(&t, 160), 0);
	/* Lifted means forgotten: five new failures to ban again. */
	for (int i = 0; i < BAN_MAX_FAILS - 1; i++)
		assert_false(count_fail(&t, (struct sockaddr *)&a, 170, BAN_UNTAGGED));
	assert_true(count_fail(&t, (struct sockaddr *)&a, 170, BAN_UNTAGGED));
}

static void lifted(const char *covered, bool banned, void *ctx)
{
	char *out = ctx;
	snprintf(out + strlen(out), 256 - strlen(out), "%s%s;", covered, banned ? " ban" : "");
}

static struct sockaddr_in6 v6(const char *a)
{
	struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(1)};
	assert_int_equal(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return s;
}

/* A host that changes its IPv6 address within its /64 gets no new guesses. */
static void ipv6_counts_per_64(void **state)
{
	(void)state;
	ban_init(&t);
	static const char *const from[] = {"2001:db8:1:2::7", "2001:db8:1:2::8", "2001:db8:1:2:a:b:c:d",
	                                   "2001:db8:1:2::9", "2001:db8:1:2::7"};
	for (int i = 0; i < BAN_MAX_FAILS; i++) {
		struct sockaddr_in6 a = v6(from[i]);
		assert_int_equal(count_fail(&t, (struct sockaddr *)&a, 100, BAN_UNTAGGED), i == BAN_MAX_FAILS - 1);
	}
	struct sockaddr_in6 same = v6("2001:db8:1:2:ffff::1"), other = v6("2001:db8:1:3::7");
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&same, 100), BAN_DURATION);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&other, 100), 0);
	char s[64];
	ban_addr_str(ban_find(&t, (struct sockaddr *)&same, 100), s, sizeof(s));
	assert_string_equal(s, "2001:db8:1:2::/64");
	/* Lifted by its listed form, or by any address in it. */
	assert_int_equal(ban_lift(&t, "2001:db8:1:2::/64", 100, NULL, NULL), 1);
	for (int i = 0; i < BAN_MAX_FAILS; i++)
		count_fail(&t, (struct sockaddr *)&same, 100, BAN_UNTAGGED);
	char listed[256] = "";
	assert_int_equal(ban_lift(&t, "2001:db8:1:2::1234", 100, lifted, listed), 1);
	/* As listed, for the ban.removed events; the /56's count of its /64's
	 * ban forgotten too. */
	assert_string_equal(listed, "2001:db8:1:2::/64 ban;2001:db8:1::/56;2001:db8:1::/48;");
	assert_int_equal(ban_count(&t, 100), 0);
	/* IPv4 in IPv6 (a dual-stack socket) stays per address. */
	struct sockaddr_in6 m1 = v6("::ffff:192.0.2.1"), m2 = v6("::ffff:192.0.2.2");
	for (int i = 0; i < BAN_MAX_FAILS; i++)
		count_fail(&t, (struct sockaddr *)&m1, 100, BAN_UNTAGGED);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&m2, 100), 0);
	ban_addr_str(ban_find(&t, (struct sockaddr *)&m1, 100), s, sizeof(s));
	assert_string_equal(s, "192.0.2.1");
	struct sockaddr_in plain = v4("192.0.2.1", 9);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&plain, 100), BAN_DURATION);
	/* Lifted by either form; the event names it as listed. */
	listed[0] = '\0';
	assert_int_equal(ban_lift(&t, "::ffff:192.0.2.1", 100, lifted, listed), 1);
	assert_string_equal(listed, "192.0.2.1 ban;");
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&plain, 100), 0);
	for (int i = 0; i < BAN_MAX_FAILS; i++)
		count_fail(&t, (struct sockaddr *)&plain, 100, BAN_UNTAGGED);
	assert_int_equal(ban_lift(&t, "::FFFF:c000:201", 100, NULL, NULL), 1);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&m1, 100), 0);
	assert_int_equal(ban_lift(&t, "::ffff:192.0.2.1", 100, NULL, NULL), 0); /* not banned now */
}

/* A table full of bans (one sender with many /64s) does not stop the next
 * ban: the one that ends first makes room. */
static void full_table_of_bans_still_bans(void **state)
{
	(void)state;
	ban_init(&t);
	for (int i = 0; i < BAN_SLOTS; i++) {
		struct sockaddr_in a = v4("10.0.0.0", 1);
		a.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)i);
		for (int f = 0; f < BAN_MAX_FAILS; f++)
			count_fail(&t, (struct sockaddr *)&a, 1000 + (uint64_t)i, BAN_UNTAGGED);
	}
	assert_int_equal(ban_count(&t, 2100), BAN_SLOTS);
	assert_int_equal(evicted_last.n, 0); /* none while there were free slots */
	struct sockaddr_in n = v4("192.0.2.200", 1), first = v4("10.0.0.0", 1), second = v4("10.0.0.1", 1);
	for (int i = 0; i < BAN_MAX_FAILS - 1; i++) {
		assert_false(count_fail(&t, (struct sockaddr *)&n, 2100, BAN_UNTAGGED));
		/* The first took a ban's slot, and says whose; the others none. */
		assert_int_equal(evicted_last.n, i == 0);
		if (i == 0)
			assert_string_equal(evicted_last.address[0], "10.0.0.0");
	}
	assert_true(count_fail(&t, (struct sockaddr *)&n, 2100, BAN_UNTAGGED));
	assert_int_equal(evicted_last.n, 0);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&n, 2100), BAN_DURATION);
	/* Its first failure took the slot of the ban that ended first. */
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&first, 2100), 0);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&second, 2100), 1001 + BAN_DURATION - 2100);
	assert_int_equal(ban_count(&t, 2100), BAN_SLOTS);
}

/* A token the window has counted is no new guess: a client that retries
 * its wrong token bans nobody; five different ones ban, whatever repeats
 * come between; malformed logins (untagged) always count. */
static void a_repeated_token_counts_once(void **state)
{
	(void)state;
	ban_init(&t);
	struct sockaddr_in a = v4("192.0.2.11", 1000), b = v4("192.0.2.12", 1000);
	for (int i = 0; i < 50; i++)
		assert_false(count_fail(&t, (struct sockaddr *)&a, 100 + (uint64_t)i, 0x1111));
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&a, 150), 0);
	for (uint64_t tag = 0x2223; tag < 0x2229; tag += 2)
		for (int i = 0; i < 3; i++)
			assert_false(count_fail(&t, (struct sockaddr *)&a, 160, tag));
	assert_false(count_fail(&t, (struct sockaddr *)&a, 161, 0x1111));
	assert_true(count_fail(&t, (struct sockaddr *)&a, 162, 0x3333)); /* the fifth token */
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&a, 162), BAN_DURATION);
	/* Untagged: each counts, repeated tags among them or not. */
	for (int i = 0; i < BAN_MAX_FAILS - 2; i++)
		assert_false(count_fail(&t, (struct sockaddr *)&b, 100, BAN_UNTAGGED));
	assert_false(count_fail(&t, (struct sockaddr *)&b, 100, 0x1111));
	assert_false(count_fail(&t, (struct sockaddr *)&b, 100, 0x1111));
	assert_true(count_fail(&t, (struct sockaddr *)&b, 100, BAN_UNTAGGED));
	/* A new window forgets the tags of the old one. */
	struct sockaddr_in c = v4("192.0.2.13", 1000);
	assert_false(count_fail(&t, (struct sockaddr *)&c, 100, 0x1111));
	for (uint64_t tag = 0x5; tag < 0xd; tag += 2)
		assert_false(count_fail(&t, (struct sockaddr *)&c, 100 + BAN_WINDOW + 1, tag));
	assert_true(count_fail(&t, (struct sockaddr *)&c, 100 + BAN_WINDOW + 2, 0x1111));
}

/* Lookups read only the slots in use: lifts in the middle and at the end
 * (slots freed) lose no other address, and a freed slot is taken again. */
static void lifted_slots_lose_no_other(void **state)
{
	(void)state;
	ban_init(&t);
	char ip[32];
	struct sockaddr_in a[5];
	for (int i = 0; i < 5; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", 20 + i);
		a[i] = v4(ip, 1);
		for (int f = 0; f < BAN_MAX_FAILS; f++)
			count_fail(&t, (struct sockaddr *)&a[i], 100, BAN_UNTAGGED);
	}
	assert_int_equal(t.end, 5);
	assert_int_equal(ban_lift(&t, "192.0.2.24", 100, NULL, NULL), 1); /* the last slot */
	assert_int_equal(t.end, 4);
	assert_int_equal(ban_lift(&t, "192.0.2.21", 100, NULL, NULL), 1); /* one in the middle */
	assert_int_equal(t.end, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ban_remaining(&t, (struct sockaddr *)&a[i], 100), i == 1 ? 0 : BAN_DURATION);
	/* The next address takes the freed middle slot, found like the others. */
	struct sockaddr_in n = v4("192.0.2.99", 1);
	for (int f = 0; f < BAN_MAX_FAILS; f++)
		count_fail(&t, (struct sockaddr *)&n, 100, BAN_UNTAGGED);
	assert_int_equal(t.end, 4);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&n, 100), BAN_DURATION);
	assert_int_equal(ban_count(&t, 100), 4);
	/* Lifting the last ones frees the tail down to the first in use. */
	assert_int_equal(ban_lift(&t, "192.0.2.23", 100, NULL, NULL), 1);
	assert_int_equal(ban_lift(&t, "192.0.2.22", 100, NULL, NULL), 1);
	assert_int_equal(t.end, 2);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&a[0], 100), BAN_DURATION);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&n, 100), BAN_DURATION);
}

/* A site's prefix: 4 of a /56's /64s banned ban the /56 (20 guesses, from
 * one home); its neighbours in the /48 stay free until 4 of the /48's /56s
 * are banned. A /64's repeated token counts for nothing. */
static void a_site_is_banned_per_56_and_48(void **state)
{
	(void)state;
	ban_init(&t);
	char ip[64], s[64];
	unsigned guesses = 0, n = 0;
	for (int net = 0; net < BAN_MAX_NETS; net++)
		for (int f = 0; f < BAN_MAX_FAILS; f++, guesses++) {
			snprintf(ip, sizeof(ip), "2001:db8:1:%x::7", net);
			struct sockaddr_in6 a = v6(ip);
			if (f == 1) /* the same token again from the /64: no new guess */
				assert_int_equal(count_fail(&t, (struct sockaddr *)&a, 100, 0x1000), 0);
			n = count_fail(&t, (struct sockaddr *)&a, 100, 0x1000 + (uint64_t)f);
			assert_int_equal(n, f < BAN_MAX_FAILS - 1 ? 0 : net < BAN_MAX_NETS - 1 ? 1 : 2);
		}
	assert_int_equal(guesses, BAN_MAX_NETS * BAN_MAX_FAILS);
	ban_addr_str(started_last, s, sizeof(s));
	assert_string_equal(s, "2001:db8:1::/56");
	assert_true(ban_is_network(started_last));
	ban_why(started_last, s, sizeof(s));
	assert_string_equal(s, "20 failed logins from its /64s within an hour");
	struct sockaddr_in6 in56 = v6("2001:db8:1:ff::1"), next56 = v6("2001:db8:1:100::1"),
	                    other48 = v6("2001:db8:2::1");
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&in56, 100), BAN_DURATION);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&next56, 100), 0);
	/* Three more /56s banned so: the fourth bans the /48. */
	for (int n56 = 1; n56 < BAN_MAX_NETS; n56++)
		for (int net = 0; net < BAN_MAX_NETS; net++)
			for (int f = 0; f < BAN_MAX_FAILS; f++) {
				snprintf(ip, sizeof(ip), "2001:db8:1:%x%02x::7", n56, net);
				struct sockaddr_in6 a = v6(ip);
				n = count_fail(&t, (struct sockaddr *)&a, 200, 0x2000 + (uint64_t)f);
			}
	assert_int_equal(n, 3); /* the /64, its /56 and the /48 */
	ban_addr_str(started_last, s, sizeof(s));
	assert_string_equal(s, "2001:db8:1::/48");
	struct sockaddr_in6 free56 = v6("2001:db8:1:ff00::1");
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&free56, 200), BAN_DURATION);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&other48, 200), 0);
	/* A banned address is told once a minute, by the ban that ends last. */
	uint64_t left = 0;
	assert_true(ban_admit(&t, (struct sockaddr *)&in56, 210, &left));
	assert_false(ban_admit(&t, (struct sockaddr *)&in56, 220, &left));
	assert_int_equal(left, 200 + BAN_DURATION - 220);
	assert_int_equal(ban_find(&t, (struct sockaddr *)&in56, 220)->prefix, 48);
	/* Each /64 banned is listed, and its /56s, and the /48. */
	assert_int_equal(ban_count(&t, 300), 16 + 4 + 1);
}

/* A guesser that spreads its tokens over the /64s of a /56, four from
 * each (none of them banned), is banned at the /56's 20th failure within
 * the hour: it never was when the /56 counted only bans of its /64s. The
 * /48 has counted them too: 80 ban it, spread over its /56s likewise. */
static void guesses_spread_over_64s_ban_the_56(void **state)
{
	(void)state;
	ban_init(&t);
	char ip[64], s[64];
	unsigned guesses = 0, n = 0;
	for (int net = 0; net < 5; net++)
		for (int f = 0; f < BAN_MAX_FAILS - 1; f++, guesses++) {
			snprintf(ip, sizeof(ip), "2001:db8:7:%x::7", net);
			struct sockaddr_in6 a = v6(ip);
			n = count_fail(&t, (struct sockaddr *)&a, 100 + (uint64_t)guesses * 60, 0x500 + (uint64_t)guesses);
			assert_int_equal(n, guesses + 1 < BAN_MAX_FAILS * BAN_MAX_NETS ? 0 : 1);
		}
	ban_addr_str(started_last, s, sizeof(s));
	assert_string_equal(s, "2001:db8:7::/56");
	assert_int_equal(ban_count(&t, 100 + 19 * 60), 1); /* no /64 of it */
	struct sockaddr_in6 in56 = v6("2001:db8:7:ff::1"), next56 = v6("2001:db8:7:100::1");
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&in56, 100 + 19 * 60), BAN_DURATION);
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&next56, 100 + 19 * 60), 0);
	/* Failures more than an hour apart at the /56 start its count over. */
	ban_init(&t);
	for (int i = 0; i < BAN_MAX_FAILS * BAN_MAX_NETS; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:7:%x::7", i);
		struct sockaddr_in6 a = v6(ip);
		uint64_t when = i < 10 ? 100 : 100 + BAN_DURATION + 1;
		assert_int_equal(count_fail(&t, (struct sockaddr *)&a, when, 0x600 + (uint64_t)i), 0);
	}
	/* The /48: 19 from each of four /56s, the 80th bans it (its /56s not). */
	ban_init(&t);
	guesses = 0;
	for (int n56 = 0; n56 < 5 && guesses < 80; n56++)
		for (int i = 0; i < 19 && guesses < 80; i++, guesses++) {
			snprintf(ip, sizeof(ip), "2001:db8:8:%x%02x::7", n56, i);
			struct sockaddr_in6 a = v6(ip);
			n = count_fail(&t, (struct sockaddr *)&a, 100, 0x700 + (uint64_t)guesses);
			assert_int_equal(n, guesses + 1 < 80 ? 0 : 1);
		}
	ban_addr_str(started_last, s, sizeof(s));
	assert_string_equal(s, "2001:db8:8::/48");
	ban_why(started_last, s, sizeof(s));
	assert_string_equal(s, "80 failed logins from its /56s within an hour");
	assert_int_equal(ban_count(&t, 100), 1);
}

/* bans remove: an address as sessions list shows it, with its port; a
 * prefix as listed lifts that entry, and what it counted towards the
 * wider ones; an address, all it counts under. */
static void lifted_by_every_form(void **state)
{
	(void)state;
	ban_init(&t);
	struct sockaddr_in a = v4("192.0.2.1", 4242);
	for (int i = 0; i < BAN_MAX_FAILS; i++)
		count_fail(&t, (struct sockaddr *)&a, 100, BAN_UNTAGGED);
	assert_int_equal(ban_lift(&t, "192.0.2.1:4242", 100, NULL, NULL), 1);
	assert_int_equal(ban_count(&t, 100), 0);
	struct sockaddr_in6 b = v6("2001:db8::11");
	for (int i = 0; i < BAN_MAX_FAILS; i++)
		count_fail(&t, (struct sockaddr *)&b, 100, BAN_UNTAGGED);
	char listed[256] = "";
	assert_int_equal(ban_lift(&t, "[2001:db8::11]:4242", 100, lifted, listed), 1);
	assert_string_equal(listed, "2001:db8::/64 ban;2001:db8::/56;2001:db8::/48;");
	assert_int_equal(ban_count(&t, 100), 0);
	assert_int_equal(ban_lift(&t, "[2001:db8::11]", 100, NULL, NULL), 0); /* all forgotten */
	/* Three /64s of a /56 banned, one lifted as listed: the /56 forgot it,
	 * so two more, not one, ban it. */
	for (int net = 0; net < 3; net++)
		for (int i = 0; i < BAN_MAX_FAILS; i++) {
			char ip[32];
			snprintf(ip, sizeof(ip), "2001:db8:0:%d::11", net);
			struct sockaddr_in6 c = v6(ip);
			count_fail(&t, (struct sockaddr *)&c, 100, 0x100 + (uint64_t)i);
		}
	listed[0] = '\0';
	assert_int_equal(ban_lift(&t, "2001:db8:0:2::/64", 100, lifted, listed), 1);
	assert_string_equal(listed, "2001:db8:0:2::/64 ban;");
	for (int net = 3; net < 5; net++)
		for (int i = 0; i < BAN_MAX_FAILS; i++) {
			char ip[32];
			snprintf(ip, sizeof(ip), "2001:db8:0:%d::11", net);
			struct sockaddr_in6 c = v6(ip);
			assert_int_equal(count_fail(&t, (struct sockaddr *)&c, 100, 0x100 + (uint64_t)i),
			                 i < BAN_MAX_FAILS - 1 ? 0 : net == 3 ? 1 : 2);
		}
	/* The /56 alone lifted: its /64s' bans stay. */
	listed[0] = '\0';
	assert_int_equal(ban_lift(&t, "2001:db8::/56", 100, lifted, listed), 1);
	assert_string_equal(listed, "2001:db8::/56 ban;");
	struct sockaddr_in6 d = v6("2001:db8:0:9::11");
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&d, 100), 0);
	struct sockaddr_in6 c = v6("2001:db8:0:3::11");
	assert_int_equal(ban_remaining(&t, (struct sockaddr *)&c, 100), BAN_DURATION);
	assert_int_equal(ban_lift(&t, "2001:db8::/40", 100, NULL, NULL), -1);
	assert_int_equal(ban_lift(&t, "2001:db8::/48", 100, NULL, NULL), 2); /* its count only */
	assert_int_equal(ban_lift(&t, "2001:db8::/48", 100, NULL, NULL), 0);
}

/* Every link has the same link-local /64: link-local addresses count as
 * fe80::/64, with nothing wider. */
static void link_local_counts_as_its_64(void **state)
{
	(void)state;
	ban_init(&t);
	for (int i = 0; i < 40; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "fe80::%x", 0x100 + i);
		struct sockaddr_in6 c = v6(ip);
		assert_int_equal(count_fail(&t, (struct sockaddr *)&c, 100, 0x10 + (uint64_t)i),
		                 i == BAN_MAX_FAILS - 1);
	}
	char s[64];
	assert_int_equal(ban_count(&t, 100), 1);
	struct sockaddr_in6 b = v6("fe80::2");
	ban_addr_str(ban_find(&t, (struct sockaddr *)&b, 100), s, sizeof(s));
	assert_string_equal(s, "fe80::/64");
	assert_int_equal(ban_lift(&t, "[fe80::1]:4242", 100, NULL, NULL), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fifth_failure_bans_for_an_hour),
		cmocka_unit_test(banned_address_admitted_once_a_minute),
		cmocka_unit_test(failures_outside_the_window_start_over),
		cmocka_unit_test(full_table_reuses_the_stalest_entry),
		cmocka_unit_test(unknown_family_is_ignored),
		cmocka_unit_test(listed_and_lifted),
		cmocka_unit_test(ipv6_counts_per_64),
		cmocka_unit_test(full_table_of_bans_still_bans),
		cmocka_unit_test(a_repeated_token_counts_once),
		cmocka_unit_test(lifted_slots_lose_no_other),
		cmocka_unit_test(a_site_is_banned_per_56_and_48),
		cmocka_unit_test(guesses_spread_over_64s_ban_the_56),
		cmocka_unit_test(lifted_by_every_form),
		cmocka_unit_test(link_local_counts_as_its_64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
