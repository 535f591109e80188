/* Failed-login accounting per peer address, as the original hub does it:
 * 5 failures within 5 minutes ban the address for 60 minutes; an IPv6
 * address counts as its /64. Unlike the original, a wrong token counts
 * once per window however often it comes back: a client that retries a
 * revoked or mistyped token guesses nothing, and must not ban everyone
 * behind its NAT; a guesser must try new tokens, and each counts. A good
 * login from the address forgets none of them (a holder of one token would
 * otherwise guess others four at a time between its logins).
 * A site holds many /64s, each worth five guesses: a /56 is banned at 20
 * failures within the hour from its /64s (as many as 4 of them banned
 * give), a /48 at 80 from its /56s. One home's /56 gets 20 guesses an hour
 * however many /64s it spreads them over, and bans only itself; it takes
 * 80 to ban the neighbours of a /48. Link-local addresses all
 * count as fe80::/64 (the same on every link), with nothing wider.
 * Fixed size: when full, the stalest entry makes room (the ban that ends
 * first, when all are bans), so a flood of addresses costs no memory.
 * Times are in seconds on any monotonic clock. Bans live in memory only:
 * a restart of the hub lifts them all. */
#ifndef SLOPN_BAN_H
#define SLOPN_BAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define BAN_SLOTS 1024
#define BAN_MAX_FAILS 5
#define BAN_MAX_NETS 4  /* a /56 (/48) is banned at as many failures as this many /64s (/56s) banned */
#define BAN_LEVELS 3    /* an IPv6 address counts under its /64, /56 and /48 */
#define BAN_WINDOW (5 * 60)
#define BAN_DURATION (60 * 60)
/* A banned address gets one handshake in this many seconds, so that its
 * client is told why in its own protocol (code 3); its other attempts are
 * refused in their first packet, without the cost of a handshake. */
#define BAN_TELL_EVERY 60

struct ban_entry {
	uint8_t addr[16];      /* IPv4 as v4-mapped IPv6; IPv6 its prefix */
	uint8_t prefix;        /* 32 (IPv4), or 64, 56, 48 */
	uint32_t fails;        /* within its window (a /56's or /48's: an hour) */
	uint64_t tags[BAN_MAX_FAILS - 1]; /* what the window's counted failures presented */
	uint64_t first_fail;
	uint64_t until;        /* banned while now < until */
	uint64_t last_seen;    /* 0 = free slot */
	uint32_t refused;      /* logins refused during the ban */
	uint64_t told;         /* a handshake let through during the ban, to tell it */
};

struct ban_table {
	struct ban_entry e[BAN_SLOTS];
	/* Slots from here on are free: lookups stop here. Each new address
	 * takes the first free slot, so with few addresses known a lookup (one
	 * per Initial) reads a few slots, not all of them. */
	unsigned end;
};

void ban_init(struct ban_table *t);
/* The ban this address (whatever its port) is under that ends last, or
 * NULL. */
const struct ban_entry *ban_find(const struct ban_table *t, const struct sockaddr *sa,
                                 uint64_t now);
/* Seconds of ban left for this address, 0 if none. */
uint64_t ban_remaining(const struct ban_table *t, const struct sockaddr *sa, uint64_t now);
/* What a ban covers as text, as ban_addr_str gives it: room for an IPv6
 * address and its prefix. */
#define BAN_ADDR_LEN 56
/* Bans that ban_fail pushed out of a full table (of bans only) to make
 * room: what each covered. */
struct ban_evicted {
	unsigned n;
	char address[BAN_LEVELS][BAN_ADDR_LEN];
};
/* Count one failed login. tag stands for the token it presented (a
 * digest; not 0), or is BAN_UNTAGGED (a malformed login): a tag the window
 * has already counted is not counted again. The bans it starts go into
 * started, narrowest first (the address's, then perhaps its /56's and
 * /48's): how many. A table full of bans makes room by lifting the ban
 * that ends first: those go into evicted (if not NULL), which the caller
 * must tell of, as no bans.remove did it. */
#define BAN_UNTAGGED 0
unsigned ban_fail(struct ban_table *t, const struct sockaddr *sa, uint64_t now, uint64_t tag,
                  const struct ban_entry *started[BAN_LEVELS], struct ban_evicted *evicted);
/* Whether e covers a network of several sites' hosts (a /56 or /48), not
 * one address or /64. */
bool ban_is_network(const struct ban_entry *e);
/* What started e's ban: "5 failed logins", "20 failed logins from its /64s
 * within an hour". */
void ban_why(const struct ban_entry *e, char *buf, size_t len);
/* A new connection from sa: true unless the address is banned and has
 * been let through within BAN_TELL_EVERY (a banned address let through
 * now counts as told). A refusal is counted as ban_refused does, and
 * *left is the ban's seconds to go. */
bool ban_admit(struct ban_table *t, const struct sockaddr *sa, uint64_t now, uint64_t *left);
/* A login refused because of the ban: counted, for the list. */
void ban_refused(struct ban_table *t, const struct sockaddr *sa, uint64_t now);

/* What a ban covers as text: "192.0.2.7", "2001:db8:1:2::/64". */
void ban_addr_str(const struct ban_entry *e, char *buf, size_t len);
/* Each address banned at now, with its seconds left, in table order. */
void ban_foreach(const struct ban_table *t, uint64_t now,
                 void (*fn)(const struct ban_entry *e, uint64_t left, void *ctx), void *ctx);
/* How many addresses are banned at now. */
unsigned ban_count(const struct ban_table *t, uint64_t now);
/* Lift the bans on an address given as text, and forget its failures:
 * an address (IPv4, IPv6, either as "ADDR:PORT" or "[V6]:PORT" as
 * sessions list shows it) lifts every entry it counts under; an IPv6
 * prefix as listed ("2001:db8::/56") that entry, and its ban from the
 * count of the wider one (not banned). fn (if not NULL) is
 * called for each entry dropped, with what it covered as bans list shows
 * it and whether it was a ban. 1 when a ban was lifted; 2 when none, but
 * failures were forgotten; 0 when nothing was known of it; -1 when addr is
 * none of those forms. */
int ban_lift(struct ban_table *t, const char *addr, uint64_t now,
             void (*fn)(const char *covered, bool banned, void *ctx), void *ctx);

#endif
