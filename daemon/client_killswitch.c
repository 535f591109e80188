/* --kill-switch: from start to a clean exit, nothing leaves the machine
 * but through the TUN or to the hub (tun/killswitch.h), so that while the
 * client reconnects, and in the moment of a move to another network,
 * traffic is dropped instead of taking the machine's own routes.
 *
 * For a hub given by name, DNS goes out only from slopnd's own lookups of
 * it (client_ares.c marks their sockets): a hub whose address changes is
 * followed, and no other program's query leaves outside the tunnel.
 *
 * A file in the state directory says the table is in, from before it goes
 * in until after it is gone, as the hub's NAT state file does: a start
 * without --kill-switch asks nftables about a crashed run's table only
 * when the file is there (asking would load nf_tables on a machine that
 * never used it). */
#include "tun/statefile.h"
#include "daemon/client_int.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/nftwatch.h"
#include "daemon/timer.h"
#include "tun/killswitch.h"
#include "tun/tun.h"

/* The table for a client of these settings (replacing one that is there). */
static int put_in(const struct config *c, const char *tun, const struct sockaddr_storage *hubs,
                  size_t nhubs, bool dns, char *err, size_t errlen)
{
	struct killswitch_rules r = {.tun = tun, .hubs = hubs, .nhubs = nhubs,
	                             .allow = c->allow_lan, .nallow = c->nallow_lan,
	                             .allow6 = c->allow_lan6, .nallow6 = c->nallow_lan6, .dns = dns};
	return killswitch_apply(&r, err, errlen);
}

/* A hub given by name: slopnd's own (marked) lookups of it go out. */
static bool by_name(const struct client *cl)
{
	return !client_host_is_address(cl->host);
}

static int apply(struct client *cl)
{
	char err[512];
	if (put_in(cl->cfg, cl->tunname, cl->ks_hubs, cl->ks_n, by_name(cl), err, sizeof(err)) < 0) {
		log_err("--kill-switch: nftables refused the rules: %s", err);
		return -1;
	}
	cl->ks_on = true;
	cl->ks_rules = killswitch_rule_count(cl->tunname);
	return 0;
}

/* The IPv4 and IPv6 addresses of ai's chain, at most max. */
static unsigned hub_addrs(const struct addrinfo *ai, struct sockaddr_storage *out, unsigned max)
{
	unsigned n = 0;
	for (const struct addrinfo *a = ai; a && n < max; a = a->ai_next)
		if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
		    a->ai_addrlen <= sizeof(out[0])) {
			memset(&out[n], 0, sizeof(out[n]));
			memcpy(&out[n++], a->ai_addr, a->ai_addrlen);
		}
	return n;
}

static void marker_path(const char *state_dir, const char *tun, char *buf, size_t len)
{
	snprintf(buf, len, "%s/killswitch-%s", state_dir, tun);
}

/* Before the table goes in: without the file, a start without
 * --kill-switch would not know to remove it. */
static void marker_put(const char *marker, const char *state_dir, const char *table)
{
	char err[1600];
	int fd = -1;
	if (statefile_dir_make(state_dir, err, sizeof(err)) == 0 &&
	    (fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
		snprintf(err, sizeof(err), "%s", strerror(errno));
	if (fd < 0)
		log_warn("--kill-switch: cannot write %s (%s): a start without --kill-switch will "
		         "not know to remove the table if this run leaves it ('nft delete table inet "
		         "%s' does)", marker, err, table);
	else
		close(fd);
}

/* A removal that failed leaves the table, and with it nothing but the
 * hub reachable: said, and its marker kept, so that the next start tries
 * again. */
static bool kept(const char *tun, const char *marker)
{
	if (!killswitch_exists(tun))
		return false;
	char table[NFT_TABLE_NAME_MAX];
	killswitch_table_name(tun, table, sizeof(table));
	log_err("--kill-switch: cannot remove the table inet %s: it stays, and with it nothing "
	        "leaves this machine but to the hub; 'nft delete table inet %s' removes it (%s "
	        "stays, for the next start to try again)", table, table, marker);
	return true;
}

static int on_ks_check(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct client *cl = userdata;
	if (!cl->ks_on)
		return 0;
	/* Gone, or emptied ('nft flush table'), or replaced by one with fewer
	 * rules (a --kill-switch-only run beside us, without the hub's
	 * addresses of a name). Where the rules cannot be counted, the
	 * table's presence: a count that fails each time must not put the
	 * table back each time. */
	int n = cl->ks_rules < 0 ? -1 : killswitch_rule_count(cl->tunname);
	if (n < 0 ? killswitch_exists(cl->tunname) : n >= cl->ks_rules)
		return 0;
	char t[NFT_TABLE_NAME_MAX];
	killswitch_table_name(cl->tunname, t, sizeof(t));
	if (apply(cl) < 0) {
		log_err("--kill-switch: the table inet %s is gone from the kernel or lost rules (an "
		        "'nft flush ruleset', a firewall's reload?) and could not be put back: traffic "
		        "may leave outside the tunnel", t);
		return 0;
	}
	cl->ks_restored++;
	log_warn("--kill-switch: the table inet %s was gone from the kernel or had lost rules (an "
	         "'nft flush ruleset' or 'nft flush table', a firewall's reload, a --kill-switch-only "
	         "run?): put back", t);
	return 0;
}

/* Watch nftables: a table lifted by a flush goes back at once. */
static void watch(struct client *cl)
{
	if (timer_new(cl->ev, &cl->ks_check, 1000, on_ks_check, cl) < 0 ||
	    nftwatch_start(cl->ev, &cl->ks_watch, cl->ks_check) < 0)
		log_warn("--kill-switch: cannot watch nftables for changes (%s): a table lifted by a "
		         "flush stays away until the client starts again", strerror(errno));
}

void client_killswitch_unwatch(struct client *cl)
{
	cl->ks_watch = sd_event_source_disable_unref(cl->ks_watch);
	cl->ks_check = sd_event_source_disable_unref(cl->ks_check);
}

/* Another running client's kill switch, said in an error: this one's table
 * would cut that client off (its TUN and its hub are not let through), and
 * that client's this one: one per machine. */
static bool other_in(const char *tun, const char *flag)
{
	char other[IFNAMSIZ], ot[NFT_TABLE_NAME_MAX];
	if (!killswitch_other(tun, other, sizeof(other)))
		return false;
	killswitch_table_name(other, ot, sizeof(ot));
	log_err("%s: another client's kill switch is in (nftables table inet %s, for its TUN %s, "
	        "in use): each would drop what the other lets out, and both be cut off. One client "
	        "per machine with --kill-switch: stop that one first, or start this one without",
	        flag, ot, other);
	return true;
}

/* Other TUN devices in use here (a hub on this machine, another VPN): the
 * table drops their traffic too, and a hub's clients lose it without a
 * word. Said without --allow-lan, which may be all they need. */
static void other_tuns_warn(const struct client *cl)
{
	if (cl->cfg->nallow_lan + cl->cfg->nallow_lan6)
		return;
	struct if_nameindex *ifs = if_nameindex();
	for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
		char flags[64 + IF_NAMESIZE];
		snprintf(flags, sizeof(flags), "/sys/class/net/%s/tun_flags", i->if_name);
		if (!strcmp(i->if_name, cl->tunname) || access(flags, F_OK) != 0 || !tun_held(i->if_name))
			continue;
		log_warn("--kill-switch: the TUN %s is in use by another program (a hub on this machine? "
		         "another VPN?): what goes in and out of it is dropped too, unless --allow-lan "
		         "names its networks (a hub's: its --subnet and its clients' networks)", i->if_name);
	}
	if (ifs)
		if_freenameindex(ifs);
}

int client_killswitch_start(struct client *cl)
{
	char t[NFT_TABLE_NAME_MAX], marker[PATH_MAX];
	killswitch_table_name(cl->tunname, t, sizeof(t));
	marker_path(cl->cfg->state_dir, cl->tunname, marker, sizeof(marker));
	if (!cl->cfg->kill_switch) {
		if (access(marker, F_OK) != 0)
			return 0;
		if (killswitch_remove(cl->tunname))
			log_info("removed the kill switch (nftables table inet %s) left by a --kill-switch "
			         "run that did not stop cleanly", t);
		if (!kept(cl->tunname, marker))
			unlink(marker);
		return 0;
	}
	if (other_in(cl->tunname, "--kill-switch"))
		return -1;
	other_tuns_warn(cl);
	marker_put(marker, cl->cfg->state_dir, t);
	/* A name needs DNS for its first lookup; an address goes into the
	 * rules with the first attempt, a moment from now. */
	if (apply(cl) < 0) {
		unlink(marker);
		log_err("--kill-switch: not starting without it (nftables table inet %s; the kernel "
		        "needs nf_tables, and conntrack for the forward chain)", t);
		return -1;
	}
	watch(cl);
	size_t nets = cl->cfg->nallow_lan + cl->cfg->nallow_lan6;
	log_info("kill switch on: nothing leaves but through %s or to the hub%s (nftables table "
	         "inet %s)%s", cl->tunname, nets ? " and the --allow-lan networks" : "", t,
	         by_name(cl) ? "; DNS only for slopnd's own lookups of the hub's name" : "");
	return 0;
}

void client_killswitch_hubs(struct client *cl, const struct addrinfo *ai)
{
	if (!cl->ks_on)
		return;
	struct sockaddr_storage hubs[SCOUT_MAX];
	unsigned n = hub_addrs(ai, hubs, SCOUT_MAX);
	/* In any order: a round-robin name reorders its answers, and a new
	 * table would restart the dropped count. */
	if (!n || sockaddr_same_set(hubs, n, cl->ks_hubs, cl->ks_n))
		return;
	bool moved = cl->ks_n > 0;
	memcpy(cl->ks_hubs, hubs, n * sizeof(hubs[0]));
	cl->ks_n = n;
	if (apply(cl) < 0) {
		log_warn("--kill-switch: the hub's addresses could not be let through: the attempt "
		         "may not reach it (the next attempt tries again)");
		cl->ks_n = 0;
		return;
	}
	char a[INET6_ADDRSTRLEN];
	sockaddr_host((const struct sockaddr *)&hubs[0], a, sizeof(a));
	log_info("kill switch: the hub at %s%s let through%s", a,
	         n > 1 ? " and the name's other addresses" : "",
	         moved ? " instead of the addresses its name had before" : "");
}

void client_killswitch_stop(struct client *cl)
{
	if (!cl->ks_on)
		return;
	uint64_t pkts = 0, bytes = 0;
	bool counted = killswitch_dropped(cl->tunname, &pkts, &bytes) == 0;
	killswitch_remove(cl->tunname);
	cl->ks_on = false;
	char marker[PATH_MAX];
	marker_path(cl->cfg->state_dir, cl->tunname, marker, sizeof(marker));
	if (kept(cl->tunname, marker))
		return;
	unlink(marker);
	if (counted)
		log_info("kill switch off (it dropped %llu packets)", (unsigned long long)pkts);
	else
		log_info("kill switch off");
}

void client_killswitch_keep(struct client *cl, int rc)
{
	if (!cl->ks_on)
		return;
	char t[NFT_TABLE_NAME_MAX];
	killswitch_table_name(cl->tunname, t, sizeof(t));
	log_warn("kill switch left in place (exit %d): nothing but the hub is reached until the client "
	         "runs again; 'nft delete table inet %s' lifts it", rc, t);
}

json_t *client_killswitch_json(struct client *cl)
{
	if (!cl->ks_on)
		return json_null();
	/* Asked once an event-loop round: requests that come together (many
	 * in one write) cost one nftables query, not one each. */
	uint64_t now = 0;
	sd_event_now(cl->ev, CLOCK_MONOTONIC, &now);
	if (!now || now != cl->ks_counted_at) {
		cl->ks_count_rc = killswitch_dropped(cl->tunname, &cl->ks_pkts, &cl->ks_bytes);
		cl->ks_counted_at = now;
	}
	uint64_t pkts = cl->ks_pkts, bytes = cl->ks_bytes;
	json_t *hubs = json_array();
	for (unsigned i = 0; i < cl->ks_n; i++) {
		char a[INET6_ADDRSTRLEN + 8];
		sockaddr_str((const struct sockaddr *)&cl->ks_hubs[i], a, sizeof(a));
		json_array_append_new(hubs, json_string(a));
	}
	if (cl->ks_count_rc < 0)
		return json_pack("{s:b, s:o, s:n, s:n, s:i}", "dns", by_name(cl), "hubs", hubs,
		                 "dropped_pkts", "dropped_bytes", "restored", (int)cl->ks_restored);
	return json_pack("{s:b, s:o, s:I, s:I, s:i}", "dns", by_name(cl), "hubs", hubs,
	                 "dropped_pkts", (json_int_t)pkts, "dropped_bytes", (json_int_t)bytes,
	                 "restored", (int)cl->ks_restored);
}

int client_killswitch_only(const struct config *cfg)
{
	char *host = NULL, *port = NULL, t[NFT_TABLE_NAME_MAX], marker[PATH_MAX];
	struct sockaddr_storage hubs[KILLSWITCH_MAX_HUBS];
	unsigned n = 0;
	int rc = 2;
	if (strchr(cfg->tun, '%')) {
		log_err("--kill-switch-only: --tun %s is a pattern, and the kill switch needs the "
		        "TUN's own name (give one, such as slopn0)", cfg->tun);
		return 2;
	}
	if (split_host_port(cfg->server, &host, &port) < 0) {
		log_err("--server %s: expected HOST:PORT", cfg->server);
		return 2;
	}
	bool dns = !client_host_is_address(host);
	if (!dns) {
		struct addrinfo hints = {.ai_socktype = SOCK_DGRAM,
		                         .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *ai;
		int e = getaddrinfo(host, port, &hints, &ai);
		if (e) {
			log_err("--server %s: %s", cfg->server, gai_strerror(e));
			goto out;
		}
		n = hub_addrs(ai, hubs, KILLSWITCH_MAX_HUBS);
		freeaddrinfo(ai);
	}
	killswitch_table_name(cfg->tun, t, sizeof(t));
	rc = 1;
	if (other_in(cfg->tun, "--kill-switch-only"))
		goto out;
	marker_path(cfg->state_dir, cfg->tun, marker, sizeof(marker));
	marker_put(marker, cfg->state_dir, t);
	char err[512];
	if (put_in(cfg, cfg->tun, hubs, n, dns, err, sizeof(err)) < 0) {
		log_err("--kill-switch-only: the kill switch (table inet %s) could not go in: %s", t, err);
		unlink(marker);
		goto out;
	}
	log_info("kill switch on until the client starts and takes it over: nothing leaves but "
	         "through %s or to the hub at %s%s (nftables table inet %s)", cfg->tun, cfg->server,
	         dns ? ", and DNS only for slopnd's own lookups of its name" : "", t);
	rc = 0;
out:
	free(host);
	free(port);
	return rc;
}
