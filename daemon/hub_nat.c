/* The hub's --nat: the rules as things stand, installed at start, renewed
 * on SIGHUP; and the clean-up after a crashed --nat run. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/hub.h"
#include "daemon/log.h"
#include "tun/nat.h"
#include "tun/nat_iptables.h"
#include "tun/netlink.h"

/* The rules for --nat as things stand: the hub's own networks (every IPv4
 * prefix on an interface other than the TUN and loopback) are off limits
 * to clients unless --allow-lan names them. */
int hub_nat_install(struct server *s, bool start)
{
	enum { MAX_ADDRS = 256 };
	struct nl_addr a[MAX_ADDRS];
	struct cidr4 local[MAX_ADDRS];
	size_t nlocal = 0;
	int n = nl_addr_dump(a, MAX_ADDRS);
	if (n == MAX_ADDRS)
		log_warn("--nat: more than %d addresses on this machine: networks past them stay "
		         "open to clients", MAX_ADDRS);
	for (int i = 0; i < n; i++) {
		uint32_t h = ntohl(a[i].addr);
		if (a[i].ifindex == s->ifindex || h >> 24 == 127 || a[i].prefix == 0)
			continue;
		local[nlocal++] = (struct cidr4){h & (~0u << (32 - a[i].prefix)), a[i].prefix};
	}
	struct nat_rules r = {
		.tun = s->tunname, .egress = s->egress,
		.subnet = {s->addrs.pool.network, s->addrs.pool.prefix}, .spoke_to_spoke = s->spoke_to_spoke,
		.allow = s->cfg->allow_lan, .nallow = s->cfg->nallow_lan,
		.local = local, .nlocal = nlocal,
	};
	char err[512];
	err[0] = '\0';
	if (start ? nat_start(&r, s->cfg->nat_backend, &s->nat_backend, s->nat_state, err,
	                      sizeof(err)) < 0
	          : nat_update(&r, s->nat_backend, err, sizeof(err)) < 0) {
		log_err("--nat: %s", err);
		return -1;
	}
	if (err[0])
		log_warn("--nat: %s", err);
	char t[32], fwd[32], nat[32];
	nat_table_name(s->tunname, t, sizeof(t));
	ipt_chain_names(s->tunname, fwd, nat);
	char where[96];
	if (s->nat_backend == NAT_IPTABLES)
		snprintf(where, sizeof(where), "iptables chains %s and %s", fwd, nat);
	else
		snprintf(where, sizeof(where), "nftables table ip %s", t);
	log_info("nat: %s out of %s, %s, %zu hub networks closed, %zu allowed",
	         start ? "masquerading" : "rules renewed", s->egress, where, nlocal, r.nallow);
	return 0;
}

int hub_nat_setup(struct server *s)
{
	if (asprintf(&s->nat_state, "%s/nat-%s.forward", s->cfg->state_dir, s->tunname) < 0) {
		s->nat_state = NULL;
		return -1;
	}
	if (!s->cfg->nat) {
		/* A crashed --nat run may have left its table and forwarding on. */
		if (nat_stop_stale(s->tunname, s->nat_state))
			log_info("nat: removed the nftables table and restored forwarding left by a "
			         "run that did not stop cleanly");
		return 0;
	}
	const char *eg = s->cfg->egress;
	int oif;
	if (eg) {
		if (!if_nametoindex(eg)) {
			log_err("--egress %s: no such interface", eg);
			return -1;
		}
		snprintf(s->egress, sizeof(s->egress), "%s", eg);
	} else if (nl_default_oif(&oif) < 0 || !if_indextoname((unsigned)oif, s->egress)) {
		log_err("--nat: no IPv4 default route to take the egress interface from: "
		        "give --egress IFACE");
		return -1;
	}
	if (hub_nat_install(s, true) < 0)
		return -1;
	s->nat_on = true;
	return 0;
}
