/* The hub's --nat: the rules as things stand, installed at start, renewed
 * on SIGHUP; and the clean-up after a crashed --nat run. */
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "daemon/hub.h"
#include "daemon/log.h"
#include "daemon/nftwatch.h"
#include "daemon/timer.h"
#include "proto/ipv6.h"
#include "proto/login.h"
#include "proto/natstate.h"
#include "tun/nat.h"
#include "tun/nat_iptables.h"
#include "tun/netlink.h"

/* Closed always (besides what the machine's addresses and routes give):
 * private address space, which the hub may reach through its default
 * route without a route of its own (another network behind its router, a
 * VPC's other subnets, the carrier's CGN space), and the link-local
 * range, where clouds serve instance metadata with the machine's
 * credentials. The VPN's own subnets stay open (nat.c). */
static const struct cidr4 private4[] = {
	{0xa9fe0000u, 16}, {0x0a000000u, 8}, {0xac100000u, 12}, {0xc0a80000u, 16}, {0x64400000u, 10},
};
/* Unique-local, AWS's IPv6 metadata (fd00:ec2::254) among them. */
static const struct cidr6 private6[] = {{.net = {0xfc}, .prefix = 7}};
#define NPRIVATE4 (sizeof(private4) / sizeof(private4[0]))
#define NPRIVATE6 (sizeof(private6) / sizeof(private6[0]))

enum { MAX_ADDRS = 256, MAX_ROUTES = 256, MAX_LOCAL = NPRIVATE4 + MAX_ADDRS + MAX_ROUTES };

/* The hub's networks through its routes, after those of its addresses in
 * local[*n]; false when the routes cannot be listed. */
static bool route_networks(const struct server *s, int family, struct cidr4 *local,
                           struct cidr6 *local6, size_t *n)
{
	struct nl_route r[MAX_ROUTES];
	int nr = nl_route_dump(family, r, MAX_ROUTES);
	if (nr < 0)
		return false;
	if (nr == MAX_ROUTES)
		log_warn("--nat: more than %d %s routes on this machine: networks past them stay open "
		         "to clients", MAX_ROUTES, family == AF_INET6 ? "IPv6" : "IPv4");
	for (int i = 0; i < nr; i++) {
		if (!nat_route_closes(&r[i], s->ifindex, family == AF_INET6))
			continue;
		if (family == AF_INET6) {
			struct cidr6 *c = &local6[(*n)++];
			*c = (struct cidr6){.prefix = r[i].prefix};
			memcpy(c->net, r[i].dst, 16);
			continue;
		}
		uint32_t h; /* the kernel keeps a route's host bits zero */
		memcpy(&h, r[i].dst, 4);
		local[(*n)++] = (struct cidr4){ntohl(h), r[i].prefix};
	}
	return true;
}

/* The hub's own IPv6 networks: every prefix on an interface other than the
 * TUN, link-local and loopback ones aside (they are never forwarded), and
 * those its routes lead to (nat_route_closes); and private6. How many, or
 * -1 when the addresses or routes cannot be listed. local has room for
 * MAX_LOCAL. */
static int local_networks6(const struct server *s, struct cidr6 *local)
{
	struct nl_addr6 a[MAX_ADDRS];
	memcpy(local, private6, sizeof(private6));
	int nlocal = (int)NPRIVATE6;
	int n = nl_addr6_dump(a, MAX_ADDRS);
	if (n < 0)
		return -1;
	if (n == MAX_ADDRS)
		log_warn("--nat: more than %d IPv6 addresses on this machine: networks past them stay "
		         "open to clients", MAX_ADDRS);
	for (int i = 0; i < n; i++) {
		if (a[i].ifindex == s->ifindex || ipv6_link_scoped(a[i].addr) || a[i].prefix == 0 ||
		    IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)(const void *)a[i].addr))
			continue;
		struct cidr6 *c = &local[nlocal++];
		c->prefix = a[i].prefix;
		for (unsigned b = 0; b < 16; b++) {
			unsigned keep = c->prefix >= 8 * (b + 1) ? 8 : c->prefix > 8 * b ? c->prefix - 8 * b : 0;
			c->net[b] = a[i].addr[b] & (uint8_t)(0xff00 >> keep);
		}
	}
	size_t total = (size_t)nlocal;
	if (!route_networks(s, AF_INET6, NULL, local, &total))
		return -1;
	return (int)nat_minimal6(local, total);
}

/* NAT64 (RFC 6052: 64:ff9b::/96 holds the IPv4 internet): a hub reached
 * over IPv6 behind DNS64 and NAT64, as clouds run them, would take its
 * clients through to the IPv4 networks the rules close (a VPC's other
 * subnets answer at 64:ff9b::10.x.y.z too). Their NAT64 forms are closed
 * as they are; and the local-use prefix (RFC 8215) whole. How many, into
 * out (room for n4 + 1). */
static size_t nat64_forms(const struct cidr4 *v4, size_t n4, struct cidr6 *out)
{
	static const uint8_t wkp[12] = {0x00, 0x64, 0xff, 0x9b};
	size_t n = 0;
	for (size_t i = 0; i < n4; i++) {
		struct cidr6 *c = &out[n++];
		*c = (struct cidr6){.prefix = 96 + v4[i].prefix};
		memcpy(c->net, wkp, sizeof(wkp));
		uint32_t be = htonl(v4[i].net);
		memcpy(c->net + 12, &be, 4);
	}
	out[n++] = (struct cidr6){.net = {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, .prefix = 48};
	return n;
}

static void egress6_tell(struct server *s);

/* One writing of the rules: what they are, and what is to follow once they
 * are in. With iptables a renewal runs in a thread of its own (some 30
 * commands, each of which waits up to 5 s in all for the xtables lock
 * another program may hold): the event loop, and every client's traffic,
 * go on meanwhile. Owns copies of what may change before it is done. */
struct nat_job {
	struct nat_rules r;
	struct cidr4 local[MAX_LOCAL], dns;
	/* local6: the IPv6 networks (MAX_LOCAL), then the NAT64 forms of
	 * local's and one more (nat64_forms). */
	struct cidr6 local6[2 * MAX_LOCAL + 1], dns6;
	char egress[IFNAMSIZ], egress6[IFNAMSIZ];
	struct natstate before; /* the state file's, for the rules (r.before) */
	uint8_t digest[32];  /* of the rules as text */
	enum nat_install how;
	bool tell6;          /* IPv6's way out just opened: clients told once in */
	int gen;             /* the thread's answer: nat_update's */
	char err[512];
	pthread_t thread;
	int efd;             /* written by the thread when it is done */
	sd_event_source *src;
};

/* What the state file holds now into the job's rules, and their digest:
 * the rules as text stand for the rules, whichever backend writes them. */
static void job_digest(const struct server *s, struct nat_job *j)
{
	j->r.before = nat_state_read(s->nat_state, &j->before) == 0 ? &j->before : NULL;
	char *text = nat_rules_text(&j->r, NAT_NFTABLES, 0, NULL, 0);
	if (text)
		gnutls_hash_fast(GNUTLS_DIG_SHA256, text, strlen(text), j->digest);
	free(text);
}

/* The rules for --nat as things stand, into j: the hub's own networks
 * (every prefix on an interface other than the TUN and loopback, and those
 * its routes lead to) are off limits to clients unless --allow-lan names
 * them. -1 (said) when they cannot be known. */
static int rules_build(const struct server *s, struct nat_job *j)
{
	struct nl_addr a[MAX_ADDRS];
	struct cidr4 *local = j->local;
	memcpy(local, private4, sizeof(private4));
	size_t nlocal = NPRIVATE4;
	int n = nl_addr_dump(a, MAX_ADDRS);
	if (n < 0) {
		/* Rules without the hub's networks would open them: keep those in force. */
		log_err("--nat: cannot list this machine's addresses: %s; the rules stay as they were",
		        strerror(errno));
		return -1;
	}
	if (n == MAX_ADDRS)
		log_warn("--nat: more than %d addresses on this machine: networks past them stay "
		         "open to clients", MAX_ADDRS);
	for (int i = 0; i < n; i++) {
		uint32_t h = ntohl(a[i].addr);
		if (a[i].ifindex == s->ifindex || h >> 24 == 127 || a[i].prefix == 0)
			continue;
		local[nlocal++] = (struct cidr4){h & (~0u << (32 - a[i].prefix)), a[i].prefix};
	}
	if (!route_networks(s, AF_INET, local, NULL, &nlocal)) {
		log_err("--nat: cannot list this machine's routes: %s; the rules stay as they were",
		        strerror(errno));
		return -1;
	}
	nlocal = nat_minimal4(local, nlocal);
	/* The --dns servers, reached at port 53 wherever they are. */
	j->dns = (struct cidr4){ntohl(s->cfg->dns), 32};
	j->dns6 = (struct cidr6){.prefix = 128};
	memcpy(j->dns6.net, &s->cfg->dns6, 16);
	snprintf(j->egress, sizeof(j->egress), "%s", s->egress);
	snprintf(j->egress6, sizeof(j->egress6), "%s", s->egress6);
	j->r = (struct nat_rules){
		.dns = &j->dns, .ndns = s->cfg->dns != 0, .dns6 = &j->dns6,
		.ndns6 = !IN6_IS_ADDR_UNSPECIFIED(&s->cfg->dns6),
		.tun = s->tunname, .egress = j->egress,
		.subnet = {s->addrs.pool.network, s->addrs.pool.prefix}, .spoke_to_spoke = s->spoke_to_spoke,
		.allow = s->cfg->allow_lan, .nallow = s->cfg->nallow_lan,
		.local = local, .nlocal = nlocal,
		.has6 = s->addrs.has6, .egress6 = j->egress6[0] ? j->egress6 : NULL,
		.allow6 = s->cfg->allow_lan6, .nallow6 = s->cfg->nallow_lan6, .local6 = j->local6,
	};
	if (j->r.has6) {
		memcpy(j->r.subnet6.net, s->addrs.prefix6, 8);
		j->r.subnet6.prefix = 64;
		int n6 = local_networks6(s, j->local6);
		if (n6 < 0) {
			log_err("--nat: cannot list this machine's IPv6 addresses or routes: %s; the rules "
			        "stay as they were", strerror(errno));
			return -1;
		}
		size_t n64 = nat64_forms(local, nlocal, j->local6 + n6);
		j->r.nlocal6 = nat_minimal6(j->local6, (size_t)n6 + n64);
	}
	job_digest(s, j);
	return 0;
}

/* The rules of j are in (gen >= 0: their generation), or not (j->err
 * says why): said, counted, and what was to follow done. Frees j. 0 or -1. */
static int install_done(struct server *s, struct nat_job *j, int gen)
{
	int rv = -1;
	if (gen < 0) {
		log_err("--nat: %s", j->err);
		goto out;
	}
	if (j->err[0])
		log_warn("--nat: %s", j->err);
	const struct nat_rules *r = &j->r;
	char t[NFT_TABLE_NAME_MAX], fwd[32], nat[32], in[32];
	nat_table_name(s->tunname, t, sizeof(t));
	if (s->nat_backend == NAT_IPTABLES)
		ipt_chain_names(s->tunname, gen, fwd, nat, in);
	char where[160], six[64] = "";
	if (s->nat_backend == NAT_IPTABLES)
		snprintf(where, sizeof(where), "%s chains %s, %s and %s",
		         r->has6 ? "iptables and ip6tables" : "iptables", fwd, in, nat);
	else
		snprintf(where, sizeof(where), "nftables table inet %s", t);
	if (r->has6)
		snprintf(six, sizeof(six), "; IPv6 %s%s", r->egress6 ? "out of " : "stays inside the VPN",
		         r->egress6 ? r->egress6 : "");
	memcpy(s->nat_digest, j->digest, sizeof(j->digest));
	s->nat_gen = gen;
	s->nat_installs++;
	/* What a flush inside the table would take some of (on_nat_check). */
	s->nat_rules = s->nat_backend == NAT_IPTABLES ? 0 : nat_rule_count(s->tunname);
	s->nat_allowed = (unsigned)(r->nallow + r->nallow6);
	log_info("nat: %s out of %s, %s, %zu hub networks closed, %zu allowed%s",
	         j->how == NAT_START ? "masquerading" : j->how == NAT_AGAIN ? "rules renewed"
	         : j->how == NAT_RESTORE ? "rules put back"
	                                 : "the machine's networks changed: rules renewed",
	         r->egress, where, r->nlocal + r->nlocal6, r->nallow + r->nallow6, six);
	if (j->how == NAT_RESTORE)
		s->nat_restored++;
	if (j->tell6)
		egress6_tell(s);
	rv = 0;
out:
	free(j);
	return rv;
}

static void *job_run(void *arg)
{
	struct nat_job *j = arg;
	uint64_t one = 1;
	j->gen = ipt_install(&j->r, j->err, sizeof(j->err));
	while (write(j->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	return NULL;
}

static void job_start(struct server *s, struct nat_job *j);

/* The renewal under way, its thread ended (or to end: waited for). */
static struct nat_job *job_reap(struct server *s)
{
	struct nat_job *j = s->nat_job;
	pthread_join(j->thread, NULL);
	sd_event_source_disable_unref(j->src);
	close(j->efd);
	s->nat_job = NULL;
	return j;
}

static int on_job_done(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct server *s = userdata;
	struct nat_job *j = job_reap(s), *next = s->nat_pending;
	s->nat_pending = NULL;
	install_done(s, j, j->gen);
	if (next)
		job_start(s, next);
	hub_settle(s); /* what egress6_tell queued leaves now */
	return 0;
}

/* Write j's rules with iptables in a thread; in the loop if one cannot be
 * had. */
static void job_start(struct server *s, struct nat_job *j)
{
	if (j->how == NAT_IF_CHANGED && !memcmp(j->digest, s->nat_digest, sizeof(j->digest))) {
		free(j); /* what was written meanwhile is what these are */
		return;
	}
	j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (j->efd >= 0 && sd_event_add_io(s->ev, &j->src, j->efd, EPOLLIN, on_job_done, s) >= 0) {
		/* The thread takes no signal: the loop's signalfd has them all. */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		int e = pthread_create(&j->thread, NULL, job_run, j);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (e == 0) {
			s->nat_job = j;
			return;
		}
	}
	if (j->src)
		sd_event_source_disable_unref(j->src);
	if (j->efd >= 0)
		close(j->efd);
	install_done(s, j, nat_update(&j->r, s->nat_backend, j->err, sizeof(j->err)));
}

void hub_nat_job_wait(struct server *s)
{
	free(s->nat_pending);
	s->nat_pending = NULL;
	if (!s->nat_job)
		return;
	struct nat_job *j = job_reap(s);
	j->tell6 = false; /* the clients are told of the stop instead */
	install_done(s, j, j->gen); /* said, and its generation known for the removal */
}

/* The rules as things stand, written as how says; tell6: the clients with
 * IPv6 are told its way out is open once they are in. 0 when they are in
 * or on their way (iptables: in a thread), -1 (said) when not. */
static int install(struct server *s, enum nat_install how, bool tell6)
{
	struct nat_job *j = calloc(1, sizeof(*j));
	if (!j) {
		log_err("--nat: out of memory; the rules stay as they were");
		return -1;
	}
	j->how = how;
	j->tell6 = tell6;
	j->efd = -1;
	if (rules_build(s, j) < 0) {
		free(j);
		return -1;
	}
	if (how != NAT_START && s->nat_backend == NAT_IPTABLES) {
		if (!s->nat_job) {
			job_start(s, j);
			return 0;
		}
		/* One at a time, in order: the latest waits for the one under way. */
		if (s->nat_pending) {
			/* What it was to do besides, this does. */
			enum nat_install was = s->nat_pending->how;
			j->tell6 |= s->nat_pending->tell6;
			if (was == NAT_RESTORE || j->how == NAT_IF_CHANGED)
				j->how = was;
			free(s->nat_pending);
		}
		s->nat_pending = j;
		return 0;
	}
	if (how == NAT_IF_CHANGED && !memcmp(j->digest, s->nat_digest, sizeof(j->digest))) {
		free(j);
		return 0;
	}
	int gen = how == NAT_START ? nat_start(&j->r, s->cfg->nat_backend, &s->nat_backend,
	                                       s->nat_state, j->err, sizeof(j->err))
	                           : nat_update(&j->r, s->nat_backend, j->err, sizeof(j->err));
	/* The start wrote the state file the rules carry: the digest of what
	 * is in force, or the next look would write them again. */
	if (how == NAT_START)
		job_digest(s, j);
	return install_done(s, j, gen);
}

int hub_nat_install(struct server *s, enum nat_install how)
{
	return install(s, how, false);
}

/* accept_ra of an interface, or -1. */
static int accept_ra(const char *ifname)
{
	char path[96], v[4] = "";
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra", ifname);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(v, sizeof(v), f))
		v[0] = '\0';
	fclose(f);
	return v[0] >= '0' && v[0] <= '9' ? atoi(v) : -1;
}

/* Where clients' IPv6 leaves: --egress, or the interface of the IPv6
 * default route; only when there is one (else it would go nowhere, and
 * clients keep their own IPv6 routes). Whether there is. */
static bool find_egress6(struct server *s)
{
	int oif;
	char dev[IFNAMSIZ];
	/* One out of several interfaces is one all the same: --egress says which. */
	if ((nl_default6_oif(&oif) < 0 || !if_indextoname((unsigned)oif, dev)) &&
	    (errno != ENOTUNIQ || !s->cfg->egress))
		return false;
	snprintf(s->egress6, sizeof(s->egress6), "%s", s->cfg->egress ? s->cfg->egress : dev);
	return true;
}

/* A router ignores router advertisements unless accept_ra is 2: a learnt
 * address or route of the hub's own would run out. Before IPv6 forwarding
 * goes on, tun/nat.c sets 2 on the IPv6 egress where it was 1 (ra0: its
 * value before; the kernel drops default routes learnt there otherwise):
 * said; a warning when it is 1 still (it could not be set, or forwarding
 * was on before the hub). */
static void warn_accept_ra(const struct server *s, int ra0)
{
	if (ra0 == 1 && accept_ra(s->egress6) == 2) {
		log_info("nat: net.ipv6.conf.%s.accept_ra is 2 while the hub routes IPv6 (it was 1): "
		         "with forwarding on, the kernel would drop the default route %s learnt from "
		         "router advertisements, and take no more; put back at exit", s->egress6,
		         s->egress6);
		return;
	}
	struct nl_addr6 a[MAX_ADDRS];
	int n = nl_addr6_dump(a, MAX_ADDRS);
	unsigned idx = if_nametoindex(s->egress6);
	for (int i = 0; i < n; i++)
		if ((unsigned)a[i].ifindex == idx && !a[i].permanent && !ipv6_link_scoped(a[i].addr) &&
		    accept_ra(s->egress6) == 1) {
			log_warn("nat: IPv6 forwarding goes on, and %s learns its IPv6 address from router "
			         "advertisements, which a router ignores: set "
			         "net.ipv6.conf.%s.accept_ra=2 to keep them", s->egress6, s->egress6);
			break;
		}
}

/* IPv6 found its way out after the start (a router advertisement came
 * later than the hub): forwarding on. False, and the way out closed again,
 * if it cannot go on. */
static bool egress6_open(struct server *s)
{
	char err[256];
	int ra0 = accept_ra(s->egress6);
	if (nat_forward6_on(s->nat_state, s->egress6, err, sizeof(err)) < 0) {
		log_err("nat: an IPv6 default route is here now, but %s: clients' IPv6 stays inside "
		        "the VPN", err);
		s->egress6[0] = '\0';
		return false;
	}
	warn_accept_ra(s, ra0);
	return true;
}

/* ... and the clients that have IPv6 told, once the rules are in, so that
 * a full tunnel takes their IPv6 in too. */
static void egress6_tell(struct server *s)
{
	char line[64];
	struct slopn_network msg = {.egress6 = true};
	ssize_t n = slopn_network_format(&msg, line, sizeof(line));
	unsigned told = 0;
	for (struct session *ss = LIST_FIRST(&s->sessions); ss && n > 0; ss = LIST_NEXT(ss, link))
		if (ss->logged_in && ss->has6 && !ss->gone && conn_ctl_send(&ss->conn, line, (size_t)n)) {
			hub_mark_dirty(ss);
			told++;
		}
	log_info("nat: an IPv6 default route is here now: clients' IPv6 leaves out of %s (%u "
	         "connected client%s told)", s->egress6, told, told == 1 ? "" : "s");
}

void hub_nat_kept(const char *where)
{
	/* where: "FAMILY TABLE CHAIN"; a table slopn_TUN is another hub's,
	 * which took this one's record of what was before (tun/nat.c) and
	 * puts it back when it stops; one from before that record does not. */
	const char *table = strchr(where, ' ');
	if (table && !strncmp(table + 1, "slopn_", 6)) {
		log_warn("nat: left IP forwarding on, as it was while the hub ran: another SloPN hub's "
		         "NAT is in the kernel (%s), whose clients would lose their way out; that hub "
		         "puts forwarding back as it was before either hub when it stops (a slopnd "
		         "older than this one leaves it on: turn it off with sysctl then, if nothing "
		         "else needs it)", where);
		return;
	}
	log_warn("nat: left IP forwarding on, as it was while the hub ran: another router's NAT is "
	         "in the kernel (a masquerade or SNAT rule in %s: Docker's or libvirt's, say), whose "
	         "network would lose its way out (turn it off with sysctl if nothing needs it)", where);
}

/* A --nat run that did not stop cleanly may have left its table and
 * forwarding on. */
static void clean_stale(const char *tun, const char *state)
{
	char kept[128] = "", err[1024];
	int r = nat_stop_stale(tun, state, kept, sizeof(kept), err, sizeof(err));
	if (r == 2)
		log_warn("nat: %s", err);
	else if (r > 0)
		log_info("nat: removed the rules and restored forwarding left by a run that did "
		         "not stop cleanly (or only forwarding, if it had no rules yet)");
	else if (r < 0)
		log_err("nat: cannot remove the rules a run that did not stop cleanly left: %s; "
		        "IP forwarding and %s are left as they are, and the next start tries "
		        "again", err, state);
	if (*kept)
		hub_nat_kept(kept);
}

/* Where a --nat run keeps the forwarding settings from before it, for its
 * exit or the next start to put back (NULL: out of memory). */
static char *state_path(const char *dir, const char *tun)
{
	char *p;
	return asprintf(&p, "%s/nat-%s.forward", dir, tun) < 0 ? NULL : p;
}

void hub_nat_clean_early(const struct config *cfg, bool tun_ours, bool tried_tun)
{
	/* A TUN name with %d is the kernel's to choose: known only once made. */
	char *state = strchr(cfg->tun, '%') ? NULL : state_path(cfg->state_dir, cfg->tun);
	if (state && !tun_ours && access(state, F_OK) == 0 && tun_held(cfg->tun)) {
		/* The table of that name is the holder's now (the state file goes
		 * with the state directory, the table's name with the TUN's):
		 * removed, with forwarding put back as the file says, that hub's
		 * clients would lose their way out. Before this start tried the
		 * TUN, the holder may also be this hub's last run, still letting
		 * go of it: hub_nat_setup cleans up once the TUN is ours. */
		if (tried_tun)
			log_warn("nat: %s was left by a run on %s that did not stop cleanly, but another "
			         "process holds %s (another hub with the same --tun?): the rules and IP "
			         "forwarding are that process's now, and left alone", state, cfg->tun,
			         cfg->tun);
		else
			log_debug("nat: %s: %s is held by another process: cleaning up later", state,
			          cfg->tun);
	} else if (state) {
		clean_stale(cfg->tun, state);
	}
	free(state);
}

int hub_nat_setup(struct server *s)
{
	if (!(s->nat_state = state_path(s->cfg->state_dir, s->tunname)))
		return -1;
	if (!s->cfg->nat) {
		/* A TUN name the kernel chose (%d); a fixed one's hub_nat_clean_early
		 * cleaned, and this finds nothing. */
		clean_stale(s->tunname, s->nat_state);
		return 0;
	}
	const char *eg = s->cfg->egress;
	int oif;
	if (eg) {
		if (!if_nametoindex(eg)) {
			log_err("--egress %s: no such interface ('ip link' lists this machine's; without "
			        "--egress, that of the default route is taken)", eg);
			return -1;
		}
		snprintf(s->egress, sizeof(s->egress), "%s", eg);
	} else if (nl_default_oif(&oif) < 0 || !if_indextoname((unsigned)oif, s->egress)) {
		if (errno == ENOTUNIQ)
			log_err("--nat: the IPv4 default route leaves by several interfaces (multipath), "
			        "and clients' traffic is masqueraded out of one: give --egress IFACE");
		else
			log_err("--nat: no IPv4 default route to take the egress interface from: "
			        "give --egress IFACE");
		return -1;
	}
	if (s->addrs.has6 && !find_egress6(s))
		log_info(errno == ENOTUNIQ ? "nat: the IPv6 default route leaves by several interfaces "
		                             "(multipath): clients' IPv6 stays inside the VPN unless "
		                             "--egress IFACE says which"
		                           : "nat: no IPv6 default route here: clients' IPv6 stays inside "
		                             "the VPN until there is one");
	int ra0 = s->addrs.has6 && s->egress6[0] ? accept_ra(s->egress6) : -1;
	char why[1024];
	if (nat_state_unreadable(s->nat_state, why, sizeof(why)))
		log_warn("nat: %s", why);
	if (hub_nat_install(s, NAT_START) < 0)
		return -1;
	if (s->addrs.has6 && s->egress6[0])
		warn_accept_ra(s, ra0);
	s->nat_on = true;
	return 0;
}

void hub_nat_follow(struct server *s, enum nat_install how)
{
	int oif;
	char dev[IFNAMSIZ];
	/* No default route for the moment (a network restart): the last stays. */
	if (!s->cfg->egress && nl_default_oif(&oif) == 0 && if_indextoname((unsigned)oif, dev) &&
	    strcmp(dev, s->egress) != 0) {
		log_info("nat: the default route leaves through %s now, not %s", dev, s->egress);
		snprintf(s->egress, sizeof(s->egress), "%s", dev);
	}
	/* IPv6's way out follows its default route too, and one that was not
	 * there at start opens it; once open it stays (as IPv4's does). */
	bool opened = false;
	if (s->addrs.has6) {
		bool had = s->egress6[0];
		opened = find_egress6(s) && !had && egress6_open(s);
	}
	install(s, how, opened);
}

/* nftables sends news of every change; iptables-legacy none: looked at
 * this often. */
#define NAT_CHECK_PERIOD (5 * 1000000ULL)

static void rules_gone(struct server *s)
{
	char t[NFT_TABLE_NAME_MAX];
	nat_table_name(s->tunname, t, sizeof(t));
	log_warn("nat: our rules are gone from the kernel, or some of them (%s%s: an 'nft flush "
	         "ruleset', a firewall's reload, an 'iptables -F'?): meanwhile clients' traffic may have left "
	         "unmasqueraded and the hub's networks been open to them; putting the rules back",
	         s->nat_backend == NAT_IPTABLES ? "a jump to the iptables chains" : "table inet ",
	         s->nat_backend == NAT_IPTABLES ? "" : t);
	install(s, NAT_RESTORE, false);
	hub_settle(s);
}

/* iptables' look runs as children the event loop watches, not in the
 * loop: waited for, its commands held the loop some 16 ms every 5 s. */
struct nat_look {
	int n, left;
	unsigned installs; /* s->nat_installs when it started */
	int rcs[IPT_LOOK_MAX];
	sd_event_source *src[IPT_LOOK_MAX];
};

void hub_nat_look_free(struct server *s)
{
	struct nat_look *l = s->nat_look;
	if (!l)
		return;
	for (int i = 0; i < l->n; i++)
		sd_event_source_disable_unref(l->src[i]);
	free(l);
	s->nat_look = NULL;
}

static void look_done(struct server *s)
{
	struct nat_look *l = s->nat_look;
	/* Rules written meanwhile (a reload), or being written: the look saw
	 * the ones before. */
	if (s->nat_on && l->installs == s->nat_installs && !s->nat_job &&
	    ipt_look_result(l->rcs, l->n) == 0)
		rules_gone(s);
	timer_once(s->nat_check, NAT_CHECK_PERIOD);
}

static int on_look_child(sd_event_source *src, const siginfo_t *si, void *userdata)
{
	struct server *s = userdata;
	struct nat_look *l = s->nat_look;
	for (int i = 0; i < l->n; i++)
		if (l->src[i] == src)
			l->rcs[i] = si->si_code == CLD_EXITED ? si->si_status : -1;
	if (--l->left == 0)
		look_done(s);
	return 0;
}

static void look_start(struct server *s)
{
	if (s->nat_look && s->nat_look->left)
		return; /* one under way: it arms the next when done */
	hub_nat_look_free(s); /* the last one's sources, all fired */
	struct nat_look *l = calloc(1, sizeof(*l));
	if (!l) {
		timer_once(s->nat_check, NAT_CHECK_PERIOD);
		return;
	}
	s->nat_look = l;
	l->installs = s->nat_installs;
	bool six = s->addrs.has6, nat6 = six && s->egress6[0];
	pid_t pids[IPT_LOOK_MAX];
	l->n = ipt_look_start(s->tunname, s->nat_gen, six, nat6, pids, l->rcs);
	for (int i = 0; i < l->n; i++) {
		if (l->rcs[i] != 0)
			continue; /* not started: its answer is in already */
		if (sd_event_add_child(s->ev, &l->src[i], pids[i], WEXITED, on_look_child, s) < 0) {
			/* Not watched: wait for it here, as before. */
			l->rcs[i] = ipt_wait(pids[i]);
			continue;
		}
		l->left++;
	}
	if (l->left == 0)
		look_done(s);
}

static int on_nat_check(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct server *s = userdata;
	if (s->nat_backend == NAT_IPTABLES) {
		/* Not while a renewal runs: iptables' commands take turns (and
		 * nat_iptables.c's time budget is one). */
		if (s->nat_job)
			timer_once(s->nat_check, NAT_CHECK_PERIOD);
		else
			look_start(s);
		return 0;
	}
	/* The table gone, or rules flushed from inside it ('nft flush table',
	 * 'nft flush chain'). A listing libnftables cannot give falls back to
	 * the table's presence: a count that fails each time must not put the
	 * rules back each time. */
	int n = nat_rule_count(s->tunname);
	if (n < 0 ? !nat_in_force(s->tunname) : n < s->nat_rules)
		rules_gone(s);
	return 0;
}

int hub_nat_watch(struct server *s)
{
	if (!s->nat_on)
		return 0;
	if (timer_new(s->ev, &s->nat_check, 1000, on_nat_check, s) < 0)
		return -1;
	if (s->nat_backend == NAT_IPTABLES) {
		timer_once(s->nat_check, NAT_CHECK_PERIOD);
		return 0;
	}
	if (nftwatch_start(s->ev, &s->nat_watch, s->nat_check) < 0)
		log_warn("nat: cannot watch nftables for changes (%s): rules lifted by a flush stay "
		         "away until the next SIGHUP", strerror(errno));
	return 0;
}
