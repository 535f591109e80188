/* The iptables form of the NAT rules, for machines where nftables cannot
 * be used: the same rules in two chains of our own (SLOPN-TUN-FWD in
 * filter, SLOPN-TUN-NAT in nat), reached by one jump each from FORWARD and
 * POSTROUTING. The iptables command on PATH runs them (fork and exec, no
 * shell): on such machines that is the legacy one. */
#include "tun/nat_iptables.h"
#include "tun/outbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void ipt_chain_names(const char *tun, char fwd[32], char nat[32])
{
	snprintf(fwd, 32, "SLOPN-%s-FWD", tun);
	snprintf(nat, 32, "SLOPN-%s-NAT", tun);
}

/* One iptables command a line. */
#define line(o, fmt, ...) outbuf_printf(o, fmt "\n", __VA_ARGS__)

static const char *cidr(const struct cidr4 *c, char buf[24])
{
	uint32_t a = c->net;
	snprintf(buf, 24, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255,
	         c->prefix);
	return buf;
}

int ipt_script(const struct nat_rules *r, char *buf, size_t len)
{
	if (!nat_ifname_ok(r->tun) || !nat_ifname_ok(r->egress) || len == 0)
		return -1;
	char fwd[32], nat[32], c[24];
	ipt_chain_names(r->tun, fwd, nat);
	const char *t = r->tun;
	struct outbuf o = {buf, len, 0, false};
	buf[0] = '\0';
	/* Each line: the arguments after "iptables -w", split on spaces. */
	line(&o, "-t filter -N %s", fwd);
	line(&o, "-t filter -A %s -i %s -o %s -j %s", fwd, t, t, r->spoke_to_spoke ? "ACCEPT" : "DROP");
	for (size_t i = 0; i < r->nallow; i++)
		line(&o, "-t filter -A %s -i %s -d %s -j ACCEPT", fwd, t, cidr(&r->allow[i], c));
	for (size_t i = 0; i < r->nlocal; i++)
		line(&o, "-t filter -A %s -i %s -d %s -j DROP", fwd, t, cidr(&r->local[i], c));
	line(&o, "-t filter -A %s -i %s -o %s -j ACCEPT", fwd, t, r->egress);
	line(&o, "-t filter -A %s -i %s -j DROP", fwd, t);
	for (size_t i = 0; i < r->nallow; i++)
		line(&o, "-t filter -A %s -o %s -s %s -j ACCEPT", fwd, t, cidr(&r->allow[i], c));
	line(&o, "-t filter -A %s -o %s -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT", fwd, t);
	line(&o, "-t filter -A %s -o %s -j DROP", fwd, t);
	line(&o, "-t filter -I FORWARD 1 -j %s", fwd);
	line(&o, "-t nat -N %s", nat);
	line(&o, "-t nat -A %s -o %s -s %s -j MASQUERADE", nat, r->egress, cidr(&r->subnet, c));
	line(&o, "-t nat -I POSTROUTING 1 -j %s", nat);
	return o.full ? -1 : (int)o.used;
}

/* iptables -w ARGS, its output to /dev/null; its exit status, or -1. */
static int run(const char *const *args, int nargs)
{
	char *argv[40];
	if (nargs > 37)
		return -1;
	argv[0] = (char *)"iptables";
	argv[1] = (char *)"-w";
	for (int i = 0; i < nargs; i++)
		argv[2 + i] = (char *)args[i];
	argv[2 + nargs] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1);
		dup2(null, 2);
		execvp("iptables", argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_line(char *l)
{
	const char *args[37];
	int n = 0;
	for (char *tok = strtok(l, " "); tok && n < 37; tok = strtok(NULL, " "))
		args[n++] = tok;
	return run(args, n);
}

static bool chain_exists(const char *table, const char *chain)
{
	const char *args[] = {"-t", table, "-S", chain};
	return run(args, 4) == 0;
}

static void remove_chain(const char *table, const char *hook, const char *chain)
{
	const char *del[] = {"-t", table, "-D", hook, "-j", chain};
	/* Every jump, however many a crash left behind. */
	for (int i = 0; i < 16 && run(del, 6) == 0; i++)
		;
	const char *flush[] = {"-t", table, "-F", chain};
	const char *drop[] = {"-t", table, "-X", chain};
	run(flush, 4);
	run(drop, 4);
}

bool ipt_exists(const char *tun)
{
	char fwd[32], nat[32];
	ipt_chain_names(tun, fwd, nat);
	return chain_exists("filter", fwd) || chain_exists("nat", nat);
}

void ipt_remove(const char *tun)
{
	char fwd[32], nat[32];
	ipt_chain_names(tun, fwd, nat);
	remove_chain("filter", "FORWARD", fwd);
	remove_chain("nat", "POSTROUTING", nat);
}

int ipt_install(const struct nat_rules *r, char *err, size_t errlen)
{
	char script[8192];
	if (ipt_script(r, script, sizeof(script)) < 0) {
		snprintf(err, errlen, "cannot build the rules (interface '%s' or '%s' has an unusual "
		         "name, or too many networks)", r->tun, r->egress);
		return -1;
	}
	ipt_remove(r->tun); /* a stale set from a crash, or the rules being renewed */
	for (char *l = script, *nl; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		*nl = '\0';
		char shown[256];
		snprintf(shown, sizeof(shown), "%.200s", l);
		int rc = run_line(l);
		if (rc != 0) {
			snprintf(err, errlen, "'iptables -w %s' failed (%s)", shown,
			         rc == 127 ? "no iptables command" : "see iptables' own message");
			ipt_remove(r->tun);
			return -1;
		}
	}
	return 0;
}
