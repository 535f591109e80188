/* The client's kill switch (--kill-switch): while slopnd runs, nothing
 * leaves the machine but through the TUN, to the hub's address and port,
 * on loopback, and what a link needs to come up (DHCP, IPv6 neighbour and
 * router discovery, link-local); the rest is counted and dropped, also of
 * what the machine forwards for others (containers, VMs). An
 * nftables table of the client's own (family inet), replaced whole in one
 * transaction; a crashed run's table stays (nothing leaks meanwhile) and
 * the next start takes it over or removes it. */
#ifndef SLOPN_TUN_KILLSWITCH_H
#define SLOPN_TUN_KILLSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tun/nat.h"

#define KILLSWITCH_MAX_HUBS 8
/* Room for the table with the most hubs and --allow-lan networks there
 * can be (unit-tested). */
#define KILLSWITCH_RULES_MAX 16384
/* SO_MARK of the client's own DNS sockets ("slnd"): the kill switch tells
 * its lookups of the hub's name by it from every other program's. */
#define KILLSWITCH_DNS_MARK 0x736c6e64u

struct killswitch_rules {
	const char *tun;
	/* The hub's addresses with their port (AF_INET or AF_INET6 each). */
	const struct sockaddr_storage *hubs;
	size_t nhubs;
	/* Networks let out too (--allow-lan). */
	const struct cidr4 *allow;
	size_t nallow;
	const struct cidr6 *allow6;
	size_t nallow6;
	/* The hub is a name: DNS (port 53) of sockets with KILLSWITCH_DNS_MARK
	 * let out too, which only slopnd's own lookups of it carry. */
	bool dns;
};

/* "slopnks_" and the TUN's name, as nft_table_name makes it (tun/nft.h):
 * up to NFT_TABLE_NAME_MAX bytes. */
void killswitch_table_name(const char *tun, char *buf, size_t len);

/* The table as nft input (replacing one that is there). Its length, or
 * -1 when buf is too small, the TUN's name is not a plain one, or an
 * address is of neither family. Pure: unit-tested. */
int killswitch_ruleset(const struct killswitch_rules *r, char *buf, size_t len);

/* Install (or replace) the table. 0, or -1 with nft's reason in err. */
int killswitch_apply(const struct killswitch_rules *r, char *err, size_t errlen);
/* Remove the table; whether there was one. */
bool killswitch_remove(const char *tun);
/* Is it there (not lifted by an 'nft flush ruleset' or a firewall's reload)? */
bool killswitch_exists(const char *tun);
/* How many rules the TUN's kill switch table holds, or -1 when nftables
 * cannot list it (it is not there, say). */
int killswitch_rule_count(const char *tun);

/* Whether a resolver's servers (n of them) are only systemd-resolved's
 * stub (127.0.0.53, 127.0.0.54): its queries upstream leave from resolved,
 * not from us, and the kill switch drops them. Pure: unit-tested. */
bool killswitch_resolver_is_stub(const struct sockaddr_storage *servers, size_t n);

/* Another running client's kill switch: a table of ours for another TUN,
 * one that a process holds (a crashed client's table, its TUN gone, does
 * not count). Each table drops what the other lets out: that TUN's name
 * in other, and true. */
bool killswitch_other(const char *tun, char *other, size_t len);

/* The packets and bytes it dropped. 0 or -1. */
int killswitch_dropped(const char *tun, uint64_t *pkts, uint64_t *bytes);

#endif
