/* Address allocation on the hub: fixed addresses, leases, the IPv6 mirror. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/alloc.h"

#define NET 0x0a640000u /* 10.100.0.0 */
static const uint8_t PREFIX6[8] = {0xfd, 0x12, 0x34, 0x56, 0x78, 0x9a, 0, 0};

/* Distinct holders: the address of a slot in this array. */
static int sessions[512];
#define S(i) ((void *)&sessions[i])

static uint32_t assign(struct alloc *a, const char *token, const char *id, void *who, int64_t now)
{
	struct alloc_who w = {.token = token, .client_id = id, .ipv6 = true};
	return alloc_assign(a, &w, who, now);
}

/* Every lease where the tables say it is; the pool counts exactly the
 * offsets that are held, fixed or leased. */
static void check(const struct alloc *a)
{
	uint32_t used = 0;
	for (uint32_t off = 2; off < a->pool.size - 1; off++) {
		bool fixed = a->fixed[off / 64] >> (off % 64) & 1;
		used += a->holder[off] || fixed || a->lease_at[off];
		if (a->lease_at[off])
			assert_int_equal(a->leases[a->lease_at[off] - 1].vip, a->pool.network + off);
	}
	assert_int_equal(a->pool.used, used);
	for (size_t i = 0; i < a->nleases; i++) {
		const struct lease_entry *e = &a->leases[i];
		uint32_t off = e->vip - a->pool.network;
		assert_int_equal(a->lease_at[off], i + 1);
		/* Exactly one slot of the key hash points at it. */
		size_t found = 0;
		for (size_t s = 0; s < a->nkeys; s++)
			found += a->keys[s] == i + 1;
		assert_int_equal(found, 1);
	}
}

static void five_of_a_slash29(void **state)
{
	(void)state;
	struct alloc a;
	assert_int_equal(alloc_init(&a, NET, 29, PREFIX6), 0);
	char id[16];
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		assert_int_equal(assign(&a, "t", id, S(i), 100), NET + 2 + (uint32_t)i);
		assert_ptr_equal(alloc_holder(&a, NET + 2 + (uint32_t)i), S(i));
	}
	assert_true(a.changed);
	/* Every address held: the 6th and 7th are refused. */
	assert_int_equal(assign(&a, "t", "c5", S(5), 100), 0);
	assert_int_equal(assign(&a, "t", "c6", S(6), 100), 0);
	assert_int_equal(a.nleases, 5);
	check(&a);
	assert_null(alloc_holder(&a, NET + 1));   /* the hub */
	assert_null(alloc_holder(&a, NET + 7));   /* broadcast */
	assert_null(alloc_holder(&a, NET + 8));   /* outside */
	assert_null(alloc_holder(&a, NET - 1));
	/* Why an address is no client's, with the range that is. */
	char why[160];
	alloc_why_not(&a, NET + 1, why, sizeof(why));
	assert_string_equal(why, "the hub's own address in the subnet 10.100.0.0/29; "
	                         "clients take 10.100.0.2 to 10.100.0.6");
	alloc_why_not(&a, NET + 7, why, sizeof(why));
	assert_string_equal(why, "the broadcast address of the subnet 10.100.0.0/29; "
	                         "clients take 10.100.0.2 to 10.100.0.6");
	alloc_why_not(&a, NET, why, sizeof(why));
	assert_non_null(strstr(why, "the network address of the subnet"));
	alloc_why_not(&a, NET - 1, why, sizeof(why));
	assert_non_null(strstr(why, "outside the subnet"));
	alloc_free(&a);
}

/* A client that comes back gets its address again, while others come and go. */
static void lease_brings_the_address_back(void **state)
{
	(void)state;
	struct alloc a;
	assert_int_equal(alloc_init(&a, NET, 24, PREFIX6), 0);
	assert_int_equal(assign(&a, "alice", "A", S(0), 10), NET + 2);
	assert_int_equal(assign(&a, "bob", "B", S(1), 10), NET + 3);
	alloc_release(&a, NET + 2, S(0), 20);
	assert_null(alloc_holder(&a, NET + 2));
	assert_int_equal(a.leases[a.lease_at[2] - 1].last_seen, 20);
	/* A newcomer does not get the leased address. */
	assert_int_equal(assign(&a, "carol", "C", S(2), 30), NET + 4);
	alloc_saved(&a);
	assert_int_equal(assign(&a, "alice", "A", S(3), 40), NET + 2);
	assert_true(a.changed);    /* held again: saved soon, for a crash (return_after_crash) */
	assert_true(a.leases[a.lease_at[2] - 1].held);
	assert_int_equal(a.leases[a.lease_at[2] - 1].last_seen, 40);
	/* The same id with another token is another client. */
	assert_int_equal(assign(&a, "bob", "A", S(4), 40), NET + 5);
	/* An old client without an id: by its token. */
	assert_int_equal(assign(&a, "dave", "", S(5), 50), NET + 6);
	alloc_release(&a, NET + 6, S(5), 60);
	assert_int_equal(assign(&a, "erin", "", S(6), 60), NET + 7);
	assert_int_equal(assign(&a, "dave", "", S(7), 70), NET + 6);
	/* A second old client on the same token meanwhile: another address, no lease. */
	size_t n = a.nleases;
	assert_int_equal(assign(&a, "dave", "", S(8), 70), NET + 8);
	assert_int_equal(a.nleases, n);
	alloc_release(&a, NET + 8, S(8), 80);
	assert_false(a.pool.bits[0] >> 8 & 1);   /* free again */
	/* The shared token without an id: no lease either. */
	assert_int_equal(assign(&a, "shared", "", S(9), 80), NET + 9);
	assert_int_equal(a.nleases, n);
	alloc_release(&a, NET + 9, S(9), 90);
	assert_false(a.pool.bits[0] >> 9 & 1);
	/* With an id it has one. */
	assert_int_equal(assign(&a, "shared", "Z", S(10), 90), NET + 10);
	assert_int_equal(a.nleases, n + 1);
	/* A release by a holder that is not on the address changes nothing. */
	alloc_release(&a, NET + 10, S(11), 95);
	assert_ptr_equal(alloc_holder(&a, NET + 10), S(10));
	alloc_release(&a, NET + 1, S(11), 95);
	alloc_release(&a, NET + 300, S(11), 95);
	check(&a);
	alloc_free(&a);
}

/* The oldest lease of a client that is away goes, but only when nothing
 * else is left. */
static void oldest_lease_reused_when_full(void **state)
{
	(void)state;
	struct alloc a;
	assert_int_equal(alloc_init(&a, NET, 29, PREFIX6), 0);
	const char *ids[] = {"A", "B", "C", "D", "E"};
	for (int i = 0; i < 5; i++)
		assert_int_equal(assign(&a, "t", ids[i], S(i), 1), NET + 2 + (uint32_t)i);
	/* Away, in the order C, A, E, B; D stays. */
	alloc_release(&a, NET + 4, S(2), 10);
	alloc_release(&a, NET + 2, S(0), 20);
	alloc_release(&a, NET + 6, S(4), 30);
	alloc_release(&a, NET + 3, S(1), 40);
	assert_int_equal(a.pool.used, 5);   /* all leased or held */
	assert_int_equal(assign(&a, "t", "F", S(5), 50), NET + 4);   /* C's, the oldest */
	assert_int_equal(assign(&a, "t", "G", S(6), 50), NET + 2);   /* then A's */
	/* A comes back: its lease is gone, so it takes E's, now the oldest. */
	assert_int_equal(assign(&a, "t", "A", S(7), 60), NET + 6);
	/* B still has its own. */
	assert_int_equal(assign(&a, "t", "B", S(8), 60), NET + 3);
	/* Now every address is held: refused, and nobody's lease is touched. */
	assert_int_equal(assign(&a, "t", "H", S(9), 70), 0);
	assert_int_equal(a.nleases, 5);
	check(&a);
	alloc_free(&a);
}

/* The wall clock set back an hour: a lease used since is not taken for
 * older than one used before, so the one away longest still goes first. */
static void clock_set_back(void **state)
{
	(void)state;
	struct alloc a;
	assert_int_equal(alloc_init(&a, NET, 29, PREFIX6), 0);
	const char *ids[] = {"A", "B", "C", "D", "E"};
	for (int i = 0; i < 5; i++)
		assert_int_equal(assign(&a, "t", ids[i], S(i), 10000), NET + 2 + (uint32_t)i);
	alloc_release(&a, NET + 2, S(0), 10010);   /* A away first */
	alloc_release(&a, NET + 3, S(1), 6420);    /* B after the clock went back */
	assert_int_equal(a.leases[a.lease_at[3] - 1].last_seen, 10010);
	assert_int_equal(assign(&a, "t", "F", S(5), 6430), NET + 2);   /* A's, not B's */
	check(&a);
	alloc_free(&a);
}

/* A token whose clients come with a new id each time takes back its own
 * leases when the pool is full, however recent, before other tokens'. */
static void own_leases_reused_first(void **state)
{
	(void)state;
	struct alloc a;
	assert_int_equal(alloc_init(&a, NET, 29, PREFIX6), 0);
	assert_int_equal(assign(&a, "alice", "A", S(0), 1), NET + 2);
	alloc_release(&a, NET + 2, S(0), 2);   /* alice away, her lease the oldest */
	const char *ids[] = {"m1", "m2", "m3", "m4", "m5", "m6", "m7"};
	int64_t t = 10;
	for (int i = 0; i < 7; i++, t++) {
		uint32_t v = assign(&a, "mallory", ids[i], S(1 + i), t);
		assert_int_not_equal(v, 0);
		assert_int_not_equal(v, NET + 2);
		alloc_release(&a, v, S(1 + i), t);
	}
	/* alice comes back to her address. */
	assert_int_equal(assign(&a, "alice", "A", S(9), t), NET + 2);
	/* With only other tokens' leases away, the oldest of them goes. */
	alloc_release(&a, NET + 2, S(9), t + 1);
	uint32_t b = assign(&a, "bob", "B", S(10), t + 2);
	assert_int_not_equal(b, 0);
	assert_int_not_equal(b, NET + 2);
	check(&a);
	alloc_free(&a);
}

static void fixed_addresses(void **state)
{
	(void)state;
	struct alloc a;
	assert_int_equal(alloc_init(&a, NET, 29, NULL), 0);
	/* A lease on .3, then .3 becomes some token's fixed address. */
	assert_int_equal(assign(&a, "t", "A", S(0), 1), NET + 2);
	assert_int_equal(assign(&a, "t", "B", S(1), 1), NET + 3);
	alloc_release(&a, NET + 3, S(1), 2);
	struct token_entry tokens[3] = {{.name = "fix", .vip = NET + 3},
	                                {.name = "out", .vip = NET + 9},     /* outside: skipped */
	                                {.name = "hub", .vip = NET + 1}};    /* the hub's: skipped */
	alloc_set_fixed(&a, tokens, 3);
	assert_true(alloc_is_fixed(&a, NET + 3));
	assert_false(alloc_is_fixed(&a, NET + 9));
	assert_false(alloc_is_fixed(&a, NET + 1));
	assert_int_equal(a.nleases, 1);   /* B's lease on .3 is gone */
	check(&a);
	/* B comes back: not .3. */
	assert_int_equal(assign(&a, "t", "B", S(1), 3), NET + 4);
	/* The fixed token gets its address, and no lease. */
	struct alloc_who w = {.token = "fix", .client_id = "F", .fixed = NET + 3};
	assert_int_equal(alloc_assign(&a, &w, S(2), 4), NET + 3);
	assert_int_equal(a.nleases, 2);
	/* Held by it, the fixed address is not given again: the second
	 * session of the token gets one from the pool (the hub kicks the first
	 * before, when they are the same client). */
	w.client_id = "F2";
	assert_int_equal(alloc_assign(&a, &w, S(3), 5), NET + 5);
	/* Its release keeps the fixed address taken. */
	alloc_release(&a, NET + 3, S(2), 6);
	assert_true(a.pool.bits[0] >> 3 & 1);
	check(&a);
	/* The token goes: so does the reservation. */
	alloc_set_fixed(&a, NULL, 0);
	assert_false(a.pool.bits[0] >> 3 & 1);
	assert_false(alloc_is_fixed(&a, NET + 3));
	check(&a);
	alloc_free(&a);
}

static void forget_token(void **state)
{
	(void)state;
	struct alloc a;
	assert_int_equal(alloc_init(&a, NET, 24, NULL), 0);
	assert_int_equal(assign(&a, "gone", "A", S(0), 1), NET + 2);
	assert_int_equal(assign(&a, "gone", "B", S(1), 1), NET + 3);
	assert_int_equal(assign(&a, "stays", "C", S(2), 1), NET + 4);
	alloc_release(&a, NET + 2, S(0), 2);
	alloc_forget_token(&a, "gone");
	assert_int_equal(a.nleases, 1);
	assert_false(a.pool.bits[0] >> 2 & 1);   /* away: free now */
	assert_ptr_equal(alloc_holder(&a, NET + 3), S(1)); /* live: stays until it ends */
	alloc_release(&a, NET + 3, S(1), 3);
	assert_false(a.pool.bits[0] >> 3 & 1);
	check(&a);
	alloc_free(&a);
}

static void load_leases(void **state)
{
	(void)state;
	struct alloc a;
	assert_int_equal(alloc_init(&a, NET, 24, PREFIX6), 0);
	struct token_entry fixed = {.name = "fix", .vip = NET + 9};
	alloc_set_fixed(&a, &fixed, 1);
	struct lease_entry v[] = {
		{.token = "a", .client_id = "A", .vip = NET + 5, .last_seen = 7},
		{.token = "b", .vip = NET + 6, .last_seen = 8},
		{.token = "c", .client_id = "C", .vip = NET + 5},      /* address again */
		{.token = "a", .client_id = "A", .vip = NET + 7},      /* key again */
		{.token = "d", .client_id = "D", .vip = 0x0a650005},   /* outside */
		{.token = "e", .client_id = "E", .vip = NET + 255},    /* broadcast */
		{.token = "f", .client_id = "F", .vip = NET + 9},      /* fixed */
		{.token = "shared", .vip = NET + 10},                  /* no key */
	};
	inet_pton(AF_INET6, "2001:db8::99", &v[0].vip6);          /* old prefix */
	assert_int_equal(alloc_load_leases(&a, v, sizeof(v) / sizeof(v[0]), 0, 0), 6);
	assert_int_equal(a.nleases, 2);
	assert_true(a.changed);
	char s[INET6_ADDRSTRLEN];
	assert_string_equal(inet_ntop(AF_INET6, &a.leases[0].vip6, s, sizeof(s)), "fd12:3456:789a::5");
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&a.leases[1].vip6));
	check(&a);
	/* The clients come back to their addresses; a newcomer gets another. */
	assert_int_equal(assign(&a, "c", "C", S(0), 10), NET + 2);
	assert_int_equal(assign(&a, "a", "A", S(1), 10), NET + 5);
	assert_int_equal(assign(&a, "b", "", S(2), 10), NET + 6);
	alloc_free(&a);
	/* A clean file: nothing to save. */
	inet_pton(AF_INET6, "fd12:3456:789a::5", &v[0].vip6);
	assert_int_equal(alloc_init(&a, NET, 24, PREFIX6), 0);
	assert_int_equal(alloc_load_leases(&a, v, 2, 0, 0), 0);
	assert_false(a.changed);
	alloc_free(&a);
}

static uint32_t vip_of_id(const struct alloc *a, const char *id)
{
	for (size_t i = 0; i < a->nleases; i++)
		if (!strcmp(a->leases[i].client_id, id))
			return a->leases[i].vip;
	return 0;
}

/* The hub comes back after a crash with a full /29: the leases of clients
 * connected until then ("held") are the newest, however long ago those
 * logged in, and for a while no newcomer takes them, nor one of a client
 * seen shortly before; leases of clients long away go at once. */
static void return_after_crash(void **state)
{
	(void)state;
	struct alloc a;
	assert_int_equal(alloc_init(&a, NET, 29, PREFIX6), 0);
	struct lease_entry v[] = {
		{.token = "t", .client_id = "A", .vip = NET + 2, .last_seen = 10, .held = true},
		{.token = "t", .client_id = "B", .vip = NET + 3, .last_seen = 500}, /* left 100 s before */
		{.token = "t", .client_id = "C", .vip = NET + 4, .last_seen = 20, .held = true},
		{.token = "t", .client_id = "D", .vip = NET + 5, .last_seen = 30},  /* away long */
		{.token = "t", .client_id = "E", .vip = NET + 6, .last_seen = 590}, /* left 10 s before */
	};
	assert_int_equal(alloc_load_leases(&a, v, 5, 600, 60), 0);
	assert_true(a.changed); /* "held" goes from the file */
	for (size_t i = 0; i < a.nleases; i++)
		assert_false(a.leases[i].held);
	assert_int_equal(a.leases[0].last_seen, 600);
	int64_t left;
	assert_int_equal(alloc_kept_back(&a, 610, &left), 3); /* A, C, E */
	assert_int_equal(left, 50);
	/* Newcomers take D's, then B's; then none until the grace ends. */
	assert_int_equal(assign(&a, "t", "N1", S(0), 610), NET + 5);
	assert_int_equal(assign(&a, "t", "N2", S(1), 611), NET + 3);
	assert_int_equal(assign(&a, "t", "N3", S(2), 612), 0);
	/* Those on their way back get their own; held again, and soon saved. */
	alloc_saved(&a);
	assert_int_equal(assign(&a, "t", "C", S(3), 615), NET + 4);
	assert_true(a.changed);
	assert_true(a.leases[a.lease_at[4] - 1].held);
	assert_int_equal(alloc_kept_back(&a, 615, &left), 2);
	alloc_release(&a, NET + 4, S(3), 620);
	assert_false(a.leases[a.lease_at[4] - 1].held);
	/* After the grace: the lease seen longest ago, A's and C's now the
	 * last run's end, E's before it. */
	assert_int_equal(alloc_kept_back(&a, 660, &left), 0);
	assert_int_equal(assign(&a, "t", "N3", S(2), 660), NET + 6);
	assert_int_equal(vip_of_id(&a, "A"), NET + 2);
	check(&a);
	alloc_free(&a);

	/* No grace at all: still, a client connected until the end is not
	 * taken for the one away longest. */
	assert_int_equal(alloc_init(&a, NET, 29, PREFIX6), 0);
	v[1].last_seen = 400;
	assert_int_equal(alloc_load_leases(&a, v, 5, 600, 0), 0);
	assert_int_equal(assign(&a, "t", "N1", S(0), 600), NET + 5); /* D, 30 */
	assert_int_equal(assign(&a, "t", "N2", S(1), 600), NET + 3); /* B, 400 */
	assert_int_equal(assign(&a, "t", "N3", S(2), 600), NET + 6); /* E, 590 */
	assert_int_equal(vip_of_id(&a, "A"), NET + 2);
	assert_int_equal(vip_of_id(&a, "C"), NET + 4);
	check(&a);
	alloc_free(&a);
}

static void ipv6_mirror(void **state)
{
	(void)state;
	struct alloc a;
	assert_int_equal(alloc_init(&a, NET, 24, PREFIX6), 0);
	struct in6_addr v6;
	char s[INET6_ADDRSTRLEN];
	alloc_vip6(&a, NET + 1, &v6);
	assert_string_equal(inet_ntop(AF_INET6, &v6, s, sizeof(s)), "fd12:3456:789a::1");
	alloc_vip6(&a, NET + 200, &v6);
	assert_string_equal(inet_ntop(AF_INET6, &v6, s, sizeof(s)), "fd12:3456:789a::c8");
	assert_int_equal(alloc_vip_of6(&a, &v6), NET + 200);
	assert_int_equal(assign(&a, "t", "A", S(0), 1), NET + 2);
	alloc_vip6(&a, NET + 2, &v6);
	assert_ptr_equal(alloc_holder6(&a, v6.s6_addr), S(0));
	static const char *const none[] = {"fd12:3456:789a::1", "fd12:3456:789a::ff", "fd12:3456:789a::100",
	                                   "fd12:3456:789a:1::2", "fd12:3456:789b::2", "fd12:3456:789a::1:2",
	                                   "fd12:3456:789a:0:1::2", "::2"};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		assert_int_equal(inet_pton(AF_INET6, none[i], &v6), 1);
		assert_null(alloc_holder6(&a, v6.s6_addr));
		assert_int_equal(alloc_vip_of6(&a, &v6), 0);
	}
	alloc_free(&a);
	/* IPv4 only: no IPv6 address is anyone's. */
	assert_int_equal(alloc_init(&a, NET, 24, NULL), 0);
	assert_int_equal(assign(&a, "t", "A", S(0), 1), NET + 2);
	inet_pton(AF_INET6, "::2", &v6);
	assert_null(alloc_holder6(&a, v6.s6_addr));
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&a.leases[0].vip6));
	alloc_free(&a);
}

/* A client without an id, kept to the hub's /24 (the original's: it sets
 * its address as a /24 whatever the subnet). */
static uint32_t assign24(struct alloc *a, const char *token, uint32_t fixed, void *who, int64_t now)
{
	struct alloc_who w = {.token = token, .client_id = "", .fixed = fixed, .hub24 = true};
	return alloc_assign(a, &w, who, now);
}

static void original_clients_in_the_hub24(void **state)
{
	(void)state;
	struct alloc a;
	/* A /24 or narrower: every client address is one. */
	assert_int_equal(alloc_init(&a, NET, 24, NULL), 0);
	assert_true(alloc_in_hub24(&a, NET + 2));
	assert_true(alloc_in_hub24(&a, NET + 254));
	assert_false(alloc_in_hub24(&a, NET + 1));
	assert_false(alloc_in_hub24(&a, NET + 255));
	assert_int_equal(assign24(&a, "t", 0, S(0), 1), NET + 2);
	alloc_free(&a);
	assert_int_equal(alloc_init(&a, NET, 23, NULL), 0);
	assert_true(alloc_in_hub24(&a, NET + 254));
	assert_false(alloc_in_hub24(&a, NET + 255)); /* a client address of the /23 */
	assert_false(alloc_in_hub24(&a, NET + 256));
	assert_false(alloc_in_hub24(&a, NET + 300));
	/* A lease of the original's client in the other /24 (an older hub's
	 * round robin): not its address; another in the hub's /24, and the
	 * old one is free. A client of ours keeps its lease there. */
	struct lease_entry v[] = {{.token = "old", .vip = NET + 300, .last_seen = 1},
	                          {.token = "ours", .client_id = "O", .vip = NET + 301, .last_seen = 1}};
	assert_int_equal(alloc_load_leases(&a, v, 2, 0, 0), 0);
	assert_int_equal(assign24(&a, "old", 0, S(0), 10), NET + 2);
	assert_int_equal(a.nleases, 2);
	assert_int_equal(a.lease_at[300], 0);
	assert_int_equal(a.leases[a.lease_at[2] - 1].vip, NET + 2);
	assert_false(a.pool.bits[300 / 64] >> (300 % 64) & 1);
	assert_int_equal(assign(&a, "ours", "O", S(1), 10), NET + 301);
	/* A fixed VIP outside the hub's /24 is skipped (the hub refuses such
	 * a login before). */
	assert_int_equal(assign24(&a, "fix", NET + 400, S(2), 10), NET + 3);
	check(&a);
	/* Both away, the lease outside the /24 the oldest. */
	alloc_release(&a, NET + 301, S(1), 11);
	alloc_release(&a, NET + 2, S(0), 12);
	/* The rest of the hub's /24, never its .255, then the lease in it
	 * seen longest ago, never one outside; then none. */
	for (uint32_t i = 4; i <= 254; i++)
		assert_int_equal(assign24(&a, "shared", 0, S(i), 20), NET + i);
	assert_int_equal(assign24(&a, "shared", 0, S(255), 20), NET + 2);
	assert_int_equal(assign24(&a, "shared", 0, S(256), 20), 0);
	assert_int_not_equal(a.lease_at[301], 0);
	/* A client of ours still gets one: .255 is for it. */
	assert_int_equal(assign(&a, "t", "N", S(257), 20), NET + 255);
	check(&a);
	alloc_free(&a);
}

/* Many clients coming and going at random: the tables stay consistent
 * (the key hash deletes without tombstones). */
static void churn(void **state)
{
	(void)state;
	struct alloc a;
	assert_int_equal(alloc_init(&a, NET, 26, PREFIX6), 0);
	uint32_t at[64] = {0};
	srand(7);
	for (int round = 0; round < 20000; round++) {
		int c = rand() % 64;
		char id[8];
		snprintf(id, sizeof(id), "%d", c);
		if (at[c]) {
			alloc_release(&a, at[c], S(c), round);
			at[c] = 0;
		} else if (rand() % 50 == 0) {
			alloc_forget_token(&a, c % 2 ? "odd" : "even");
		} else {
			at[c] = assign(&a, c % 2 ? "odd" : "even", id, S(c), round);
			assert_true(at[c] || a.pool.used == pool_capacity(&a.pool));
		}
		if (round % 500 == 0)
			check(&a);
	}
	check(&a);
	alloc_free(&a);
	assert_int_equal(alloc_init(&a, NET, 30, NULL), -1);   /* too small a pool */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(five_of_a_slash29),
		cmocka_unit_test(lease_brings_the_address_back),
		cmocka_unit_test(oldest_lease_reused_when_full),
		cmocka_unit_test(clock_set_back),
		cmocka_unit_test(own_leases_reused_first),
		cmocka_unit_test(fixed_addresses),
		cmocka_unit_test(forget_token),
		cmocka_unit_test(load_leases),
		cmocka_unit_test(return_after_crash),
		cmocka_unit_test(ipv6_mirror),
		cmocka_unit_test(original_clients_in_the_hub24),
		cmocka_unit_test(churn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
