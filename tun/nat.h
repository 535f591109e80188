/* The hub as the clients' way out: forwarding, and masquerading and
 * isolation rules in an nftables table of SloPN's own (family inet: IPv4
 * and IPv6 in one; libnftables). No other table or rule of the machine is
 * touched. Where nftables cannot be used, the same rules go into iptables
 * and ip6tables chains of our own (nat_iptables.c). */
#ifndef SLOPN_TUN_NAT_H
#define SLOPN_TUN_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h" /* struct cidr6 */
#include "tun/netlink.h"  /* struct nl_route */
#include "tun/nft.h"      /* NFT_TABLE_NAME_MAX */

struct natstate;

struct cidr4 {
	uint32_t net;           /* host order */
	unsigned prefix;
};

struct nat_rules {
	const char *tun;        /* the VPN interface */
	const char *egress;     /* where the clients' traffic leaves, masqueraded */
	struct cidr4 subnet;    /* the VPN subnet */
	bool spoke_to_spoke;    /* may packets go TUN -> TUN through the kernel */
	const struct cidr4 *allow;  /* --allow-lan: reachable despite isolation */
	size_t nallow;
	const struct cidr4 *local;  /* the hub's own networks: unreachable unless allowed */
	size_t nlocal;
	/* IPv6 inside the tunnel (has6): its /64, where it leaves (NULL: it
	 * does not), and the same two lists. */
	bool has6;
	struct cidr6 subnet6;
	const char *egress6;
	const struct cidr6 *allow6;
	size_t nallow6;
	const struct cidr6 *local6;
	size_t nlocal6;
	/* --dns (as /32, /128; 0 or 1 of each): reached at port 53 even in a
	 * network of the hub's (a resolver on its LAN address, on its router). */
	const struct cidr4 *dns;
	size_t ndns;
	const struct cidr6 *dns6;
	size_t ndns6;
	/* The sysctls as they were before the hub (its state file): written
	 * into the rules (nftables), where another hub started on this
	 * machine later finds them. NULL: none yet. */
	const struct natstate *before;
};

/* The rules need IPv6 forwarding: clients' IPv6 goes out, or to a network
 * of the hub's. */
bool nat_forwards6(const struct nat_rules *r);

enum nat_backend { NAT_AUTO, NAT_NFTABLES, NAT_IPTABLES };
const char *nat_backend_name(enum nat_backend b);

/* 1..15 characters that are safe inside the rules. */
bool nat_ifname_ok(const char *s);

/* Whether a route of the machine's leads to one of the hub's own networks,
 * closed to clients: one it reaches without a gateway, or private address
 * space (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) behind one; not
 * through the TUN, not loopback or link-local, and not shorter than /8
 * (IPv6: /16), which is a way out (a default route, another VPN's halves). */
bool nat_route_closes(const struct nl_route *r, int tun_ifindex, bool v6);
/* The list without the networks that lie inside another of it (the first
 * of equal ones stays), in order: the same closure in fewer rules. The new
 * count. */
size_t nat_minimal4(struct cidr4 *c, size_t n);
size_t nat_minimal6(struct cidr6 *c, size_t n);

struct outbuf;
/* "{ A/N, ... }" of n IPv4 networks (c4) or IPv6 ones (c6). */
void nat_put_set(struct outbuf *o, const struct cidr4 *c4, const struct cidr6 *c6, size_t n);

/* The table's name for a TUN device: "slopn_" and the name, as
 * nft_table_name makes it (tun/nft.h): up to NFT_TABLE_NAME_MAX bytes. */
void nat_table_name(const char *tun, char *buf, size_t len);

/* Room for the rules (either form) with the most networks the hub lists
 * (5 private ranges + 256 addresses + 256 routes of each family, 32
 * --allow-lan):
 * unit-tested. Allocated, not on the stack. */
#define NAT_RULES_MAX (256 << 10)

/* The rules in the form of backend (NAT_IPTABLES: ipt_script's lines for
 * generation gen; else nft input), in a buffer of NAT_RULES_MAX to free;
 * NULL with err said when they cannot be built. */
char *nat_rules_text(const struct nat_rules *r, enum nat_backend backend, int gen, char *err,
                     size_t errlen);

/* The whole ruleset as nft input: one transaction that replaces the table
 * (a stale one from a crash included). Returns its length, or -1 when buf
 * is too small or a name is not a plain interface name. Pure: unit-tested. */
int nat_ruleset(const struct nat_rules *r, char *buf, size_t len);

/* The settings state_file keeps, into st: 0, or -1 when there is none
 * (or none this slopnd can read). */
int nat_state_read(const char *state_file, struct natstate *st);

/* Start: remember the forwarding settings (kept in state_file so that a
 * crash does not lose them: rules of ours still there mean the file still
 * holds the values from before; forwarding another SloPN hub turned on is
 * taken as that hub's record says it was, so that the last hub to stop
 * puts it back), turn forwarding on (IPv6 too when
 * nat_forwards6), install the rules with the backend asked for (NAT_AUTO:
 * nftables, else iptables), replacing what a crash left of either. *used
 * says which. 0 or more (with iptables, the generation of chains now in
 * force, ipt_chain_names), or -1 with err. */
int nat_start(const struct nat_rules *r, enum nat_backend want, enum nat_backend *used,
              const char *state_file, char *err, size_t errlen);
/* IPv6 forwarding on while the rules are in (IPv6 found its way out after
 * the start): its setting from before goes into state_file first, unless
 * the file already holds one. So does egress6's accept_ra when it is 1 and
 * forwarding is off: it becomes 2 before forwarding goes on, so that the
 * kernel keeps the default route it learnt from router advertisements
 * there (nat_start does the same). 0, or -1 with err. */
int nat_forward6_on(const char *state_file, const char *egress6, char *err, size_t errlen);
/* Install the rules again (SIGHUP), with the backend in use. 0 or more, as
 * nat_start; -1 with err. */
int nat_update(const struct nat_rules *r, enum nat_backend used, char *err, size_t errlen);
/* Is the nftables form still in the kernel (not lifted by an 'nft flush
 * ruleset' or a firewall's reload)? The iptables form is looked at with
 * ipt_look_start, beside the hub's event loop. */
bool nat_in_force(const char *tun);
/* How many rules the nftables form's table holds now; -1 when it cannot
 * be listed (gone, or no JSON from libnftables). */
int nat_rule_count(const char *tun);
/* Without --nat: if a crashed --nat run left its state file (and maybe
 * its rules), stop as nat_stop does. 1 when there was one, 0 when not, -1
 * as nat_stop; 2 when the file could not be read (a newer slopnd's, or
 * damaged): the rules are removed, forwarding is left as it is, the file
 * set aside (.bad), and err says so. */
/* The state file is there, but this slopnd cannot read it (a newer
 * slopnd's, or damaged): it is set aside (.bad), and err says so and what
 * forwarding is now, which is left as it is. */
bool nat_state_unreadable(const char *state_file, char *err, size_t errlen);
int nat_stop_stale(const char *tun, const char *state_file, char *kept, size_t keptlen, char *err,
                   size_t errlen);
/* Stop: remove the rules, put forwarding back (each setting that was
 * changed), remove state_file. Forwarding that another router's source NAT
 * (Docker's, libvirt's) needs is left on: kept (keptlen bytes) then names
 * where its rule is ("ip nat POSTROUTING"), else it is empty. 0, or -1
 * with err when rules are still there after the removal: forwarding and
 * state_file are then left as they are, for the next start. */
int nat_stop(const char *tun, enum nat_backend used, const char *state_file, char *kept,
             size_t keptlen, char *err, size_t errlen);

#endif
