/* The iptables form of the NAT rules, for machines where nftables cannot
 * be used: the same rules in three chains of our own (SLOPN-TUN-FWD and
 * SLOPN-TUN-IN in filter, SLOPN-TUN-NAT in nat), reached by one jump each
 * from FORWARD, INPUT and POSTROUTING; with IPv6 inside the tunnel, the
 * same again with ip6tables.
 * The commands on PATH run them (spawned, no shell): on such
 * machines those are the legacy ones. iptables cannot swap rules in one
 * step as nftables does: new rules go into chains of the other name
 * (SLOPN-TUN-FWD2, SLOPN-TUN-NAT2) before the old ones go, so that there
 * is no moment without them, and a failure leaves the old ones in force. */
#include "tun/nat_iptables.h"
#include "tun/outbuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void ipt_chain_names(const char *tun, int gen, char fwd[32], char nat[32], char in[32])
{
	snprintf(fwd, 32, "SLOPN-%s-FWD%s", tun, gen ? "2" : "");
	snprintf(nat, 32, "SLOPN-%s-NAT%s", tun, gen ? "2" : "");
	snprintf(in, 32, "SLOPN-%s-IN%s", tun, gen ? "2" : "");
}

/* One iptables command a line. */
#define line(o, fmt, ...) outbuf_printf(o, fmt "\n", __VA_ARGS__)

/* The n networks of c4 (IPv4) or c6 (IPv6), one at a time. */
static const char *cidr(const struct cidr4 *c4, const struct cidr6 *c6, size_t i, char buf[64])
{
	if (c6) {
		char a[INET6_ADDRSTRLEN];
		snprintf(buf, 64, "%s/%u", inet_ntop(AF_INET6, c6[i].net, a, sizeof(a)), c6[i].prefix);
		return buf;
	}
	uint32_t a = c4[i].net;
	snprintf(buf, 64, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255,
	         c4[i].prefix);
	return buf;
}

/* One family's networks (IPv4's or IPv6's: the other NULL). */
struct fam {
	const struct cidr4 *allow, *local, *dns, *subnet;
	const struct cidr6 *allow6, *local6, *dns6, *subnet6;
	size_t nallow, nlocal, ndns;
};

/* What the hub lets pass leaves its chains by RETURN, not ACCEPT: an
 * ACCEPT would end the built-in chain too, and the admin's own rules after
 * the hub's jump (ufw's, a DROP of theirs) would never see the clients'
 * packets. So, as with nftables, where the hub's table accepts only for
 * itself, the machine's other rules still apply. */
#define PASS "RETURN"

/* From the TUN into chain: the VPN's subnet and the --allow-lan networks
 * passed, the --dns servers at port 53, the hub's own networks dropped
 * (nat.c, closed_rules). */
static void closed_rules(struct outbuf *o, const char *cmd, const char *chain, const char *t,
                         const struct fam *f)
{
	char c[64];
	/* The VPN's own subnet first: private space, which the drops close. */
	line(o, "%s -t filter -A %s -i %s -d %s -j " PASS, cmd, chain, t,
	     cidr(f->subnet, f->subnet6, 0, c));
	for (size_t i = 0; i < f->nallow; i++)
		line(o, "%s -t filter -A %s -i %s -d %s -j " PASS, cmd, chain, t,
		     cidr(f->allow, f->allow6, i, c));
	for (size_t i = 0; i < f->ndns; i++)
		for (int k = 0; k < 2; k++)
			line(o, "%s -t filter -A %s -i %s -d %s -p %s --dport 53 -j " PASS, cmd, chain, t,
			     cidr(f->dns, f->dns6, i, c), k ? "tcp" : "udp");
	for (size_t i = 0; i < f->nlocal; i++)
		line(o, "%s -t filter -A %s -i %s -d %s -j DROP", cmd, chain, t,
		     cidr(f->local, f->local6, i, c));
}

/* One family's rules: cmd is iptables or ip6tables, egress NULL when that
 * family does not leave. */
static void family_rules(struct outbuf *o, const struct nat_rules *r, int gen, const char *cmd,
                         const char *egress, const struct fam *f)
{
	char fwd[32], nat[32], in[32], c[64];
	ipt_chain_names(r->tun, gen, fwd, nat, in);
	const char *t = r->tun;
	line(o, "%s -t filter -N %s", cmd, fwd);
	line(o, "%s -t filter -A %s -i %s -o %s -j %s", cmd, fwd, t, t,
	     r->spoke_to_spoke ? PASS : "DROP");
	closed_rules(o, cmd, fwd, t, f);
	if (egress) {
		/* Not masqueraded (conntrack's invalid): it would leave with the
		 * client's VIP as its source. */
		line(o, "%s -t filter -A %s -i %s -o %s -m conntrack --ctstate INVALID -j DROP", cmd,
		     fwd, t, egress);
		line(o, "%s -t filter -A %s -i %s -o %s -j " PASS, cmd, fwd, t, egress);
	}
	line(o, "%s -t filter -A %s -i %s -j DROP", cmd, fwd, t);
	for (size_t i = 0; i < f->nallow; i++)
		line(o, "%s -t filter -A %s -o %s -s %s -j " PASS, cmd, fwd, t,
		     cidr(f->allow, f->allow6, i, c));
	line(o, "%s -t filter -A %s -o %s -m conntrack --ctstate ESTABLISHED,RELATED -j " PASS, cmd,
	     fwd, t);
	line(o, "%s -t filter -A %s -o %s -j DROP", cmd, fwd, t);
	line(o, "%s -t filter -I FORWARD 1 -j %s", cmd, fwd);
	line(o, "%s -t filter -N %s", cmd, in);
	closed_rules(o, cmd, in, t, f);
	line(o, "%s -t filter -I INPUT 1 -j %s", cmd, in);
	if (!egress)
		return;
	line(o, "%s -t nat -N %s", cmd, nat);
	line(o, "%s -t nat -A %s -o %s -s %s -j MASQUERADE", cmd, nat, egress,
	     cidr(f->subnet, f->subnet6, 0, c));
	line(o, "%s -t nat -I POSTROUTING 1 -j %s", cmd, nat);
}

/* iptables reads a '+' at the end of -i or -o as "any name that begins
 * so": 'vpn+' would match every vpn* interface. */
static bool ipt_ifname_ok(const char *name)
{
	return nat_ifname_ok(name) && !strchr(name, '+');
}

int ipt_script(const struct nat_rules *r, int gen, char *buf, size_t len)
{
	if (!ipt_ifname_ok(r->tun) || !ipt_ifname_ok(r->egress) || len == 0 ||
	    (r->has6 && r->egress6 && !ipt_ifname_ok(r->egress6)))
		return -1;
	struct outbuf o = {buf, len, 0, false};
	buf[0] = '\0';
	/* Each line: the command and its arguments (after -w), split on spaces. */
	struct fam v4 = {.allow = r->allow, .local = r->local, .dns = r->dns, .subnet = &r->subnet,
	                 .nallow = r->nallow, .nlocal = r->nlocal, .ndns = r->ndns};
	family_rules(&o, r, gen, "iptables", r->egress, &v4);
	struct fam v6 = {.allow6 = r->allow6, .local6 = r->local6, .dns6 = r->dns6,
	                 .subnet6 = &r->subnet6, .nallow = r->nallow6, .nlocal = r->nlocal6,
	                 .ndns = r->ndns6};
	if (r->has6)
		family_rules(&o, r, gen, "ip6tables", r->egress6, &v6);
	return o.full ? -1 : (int)o.used;
}

/* The hub's event loop waits while iptables installs or removes (a look
 * runs beside it: ipt_look_start): for the xtables lock (another
 * program's iptables holding it), all the commands of one operation
 * together wait LOCK_WAIT s at most, each with what is left (-w), and once
 * that is gone the rest fail at once (as iptables does when the lock
 * stays taken: exit 4). */
#define LOCK_WAIT 5
static struct timespec deadline;

static void budget(void)
{
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += LOCK_WAIT;
}

/* Start CMD -w S ARGS (CMD iptables or ip6tables), its output to
 * /dev/null, its errors too unless errfd >= 0: 0 with *pid, or what run()
 * would return (127: no such command; 4: the lock's time is up; -1). */
static int spawn_err(const char *cmd, const char *const *args, int nargs, pid_t *pid, int errfd)
{
	char *argv[40], wait[24];
	if (nargs > 36)
		return -1;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long left = (long)(deadline.tv_sec - now.tv_sec) - (deadline.tv_nsec < now.tv_nsec);
	if (left < 1)
		return 4;
	snprintf(wait, sizeof(wait), "%ld", left);
	argv[0] = (char *)cmd;
	argv[1] = (char *)"-w";
	argv[2] = wait;
	for (int i = 0; i < nargs; i++)
		argv[3 + i] = (char *)args[i];
	argv[3 + nargs] = NULL;
	/* Spawned, not forked: a fork would first copy the page tables of
	 * all slopnd has mapped (its rings and buffers). slopnd blocks the
	 * signals its event loop takes: not the child's. It ignores SIGPIPE
	 * and SIGXFSZ (main.c), which an exec would keep: the child gets
	 * their defaults back, as a program run from a shell has them.
	 * And a process group of its own: a Ctrl-C at the terminal of a
	 * slopnd run in the foreground goes to the foreground group, and
	 * would end an iptables in the middle of the hub's setup or cleanup
	 * (slopnd takes it through its loop, after them). Off the terminal's
	 * group, its stdin is /dev/null too: a read of the terminal would
	 * stop it (SIGTTIN). */
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE), sigaddset(&dfl, SIGXFSZ);
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	if (posix_spawnattr_init(&at) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	int e = posix_spawnattr_setsigmask(&at, &none);
	if (!e)
		e = posix_spawnattr_setsigdefault(&at, &dfl);
	if (!e)
		e = posix_spawnattr_setpgroup(&at, 0);
	if (!e)
		e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
		                                  POSIX_SPAWN_SETPGROUP);
	if (!e)
		e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!e)
		e = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (!e)
		e = posix_spawn_file_actions_adddup2(&fa, errfd >= 0 ? errfd : 1, 2);
	if (!e)
		e = posix_spawnp(pid, cmd, &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (e)
		/* glibc reports a failed exec here, as the shell would: 127 */
		return e == ENOMEM || e == EAGAIN ? -1 : 127;
	return 0;
}

static int spawn(const char *cmd, const char *const *args, int nargs, pid_t *pid)
{
	return spawn_err(cmd, args, nargs, pid, -1);
}

int ipt_wait(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* CMD -w S ARGS, waited for: its exit status (127: no such command; 4: the
 * xtables lock stayed taken), or -1. */
static int run(const char *cmd, const char *const *args, int nargs)
{
	pid_t pid;
	int rc = spawn(cmd, args, nargs, &pid);
	return rc ? rc : ipt_wait(pid);
}

/* run, with the first line the command wrote to stderr in said ("" if
 * none): what it gives as the reason for a failure. */
static int run_said(const char *cmd, const char *const *args, int nargs, char *said, size_t len)
{
	said[0] = '\0';
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return run(cmd, args, nargs);
	pid_t pid;
	int rc = spawn_err(cmd, args, nargs, &pid, p[1]);
	close(p[1]);
	if (rc) {
		close(p[0]);
		return rc;
	}
	/* Read to the end, so that the command never blocks on a full pipe. */
	char buf[512];
	size_t have = 0;
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (have < len - 1) {
			size_t take = (size_t)n < len - 1 - have ? (size_t)n : len - 1 - have;
			memcpy(said + have, buf, take);
			have += take;
		}
	}
	close(p[0]);
	said[have] = '\0';
	said[strcspn(said, "\n")] = '\0';
	for (char *c = said; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
			*c = ' '; /* one log line */
	return ipt_wait(pid);
}

static int run_line(char *l, char *said, size_t len)
{
	const char *args[36];
	int n = 0;
	char *cmd = strtok(l, " ");
	for (char *tok = strtok(NULL, " "); tok && n < 36; tok = strtok(NULL, " "))
		args[n++] = tok;
	return cmd ? run_said(cmd, args, n, said, len) : -1;
}

static const char *const cmds[] = {"iptables", "ip6tables"};

static bool chain_exists(const char *cmd, const char *table, const char *chain)
{
	const char *args[] = {"-t", table, "-S", chain};
	return run(cmd, args, 4) == 0;
}

/* A command that could not do its work, whatever there was to do: the
 * lock's time up (4), or not run at all (-1). "No such rule or chain" is
 * the work done. */
static bool not_done(int rc)
{
	return rc == 4 || rc < 0;
}

/* false when some of it may be left (not_done). */
static bool remove_chain(const char *cmd, const char *table, const char *hook, const char *chain)
{
	const char *del[] = {"-t", table, "-D", hook, "-j", chain};
	/* Every jump, however many a crash left behind. */
	int rc = 0;
	for (int i = 0; i < 16 && (rc = run(cmd, del, 6)) == 0; i++)
		;
	const char *flush[] = {"-t", table, "-F", chain};
	const char *drop[] = {"-t", table, "-X", chain};
	bool ok = !not_done(rc);
	ok &= !not_done(run(cmd, flush, 4));
	ok &= !not_done(run(cmd, drop, 4));
	return ok;
}

/* One generation's chains and jumps, in both families. */
static bool remove_gen(const char *tun, int gen)
{
	char fwd[32], nat[32], in[32];
	ipt_chain_names(tun, gen, fwd, nat, in);
	bool ok = true;
	for (size_t i = 0; i < 2; i++) {
		ok &= remove_chain(cmds[i], "filter", "FORWARD", fwd);
		ok &= remove_chain(cmds[i], "filter", "INPUT", in);
		ok &= remove_chain(cmds[i], "nat", "POSTROUTING", nat);
	}
	return ok;
}

static bool gen_exists(const char *tun, int gen)
{
	char fwd[32], nat[32], in[32];
	ipt_chain_names(tun, gen, fwd, nat, in);
	for (size_t i = 0; i < 2; i++)
		if (chain_exists(cmds[i], "filter", fwd) || chain_exists(cmds[i], "filter", in) ||
		    chain_exists(cmds[i], "nat", nat))
			return true;
	return false;
}

/* The generation in force, or -1 for none. */
static int ipt_generation(const char *tun)
{
	return gen_exists(tun, 0) ? 0 : gen_exists(tun, 1) ? 1 : -1;
}

/* A jump's look: what 'iptables -C' said. 1 there, 0 not (1: no such
 * rule; 2: no such chain to jump to), -1 cannot tell. */
static int jump_there(int rc)
{
	return rc == 0 ? 1 : rc == 1 || rc == 2 ? 0 : -1;
}

int ipt_look_start(const char *tun, int gen, bool six, bool nat6, pid_t pids[IPT_LOOK_MAX],
                   int rcs[IPT_LOOK_MAX])
{
	budget();
	char fwd[32], nat[32], in[32];
	ipt_chain_names(tun, gen, fwd, nat, in);
	const struct {
		const char *cmd, *table, *hook, *chain;
		bool want;
	} look[IPT_LOOK_MAX] = {
		{"iptables", "filter", "FORWARD", fwd, true},
		{"iptables", "filter", "INPUT", in, true},
		{"iptables", "nat", "POSTROUTING", nat, true},
		{"ip6tables", "filter", "FORWARD", fwd, six},
		{"ip6tables", "filter", "INPUT", in, six},
		{"ip6tables", "nat", "POSTROUTING", nat, nat6},
	};
	int n = 0;
	for (int i = 0; i < IPT_LOOK_MAX; i++) {
		if (!look[i].want)
			continue;
		const char *args[] = {"-t", look[i].table, "-C", look[i].hook, "-j", look[i].chain};
		pids[n] = -1;
		rcs[n] = spawn(look[i].cmd, args, 6, &pids[n]);
		n++;
	}
	return n;
}

int ipt_look_result(const int rcs[], int n)
{
	int rv = 1;
	for (int i = 0; i < n; i++) {
		int there = jump_there(rcs[i]);
		if (there == 0)
			return 0;
		if (there < 0)
			rv = -1;
	}
	return rv;
}

bool ipt_exists(const char *tun)
{
	budget();
	return ipt_generation(tun) >= 0;
}

int ipt_remove(const char *tun)
{
	budget();
	bool ok = remove_gen(tun, 0);
	ok &= remove_gen(tun, 1);
	return ok ? 0 : -1;
}

int ipt_install(const struct nat_rules *r, char *err, size_t errlen)
{
	budget();
	int gen = ipt_generation(r->tun) == 0 ? 1 : 0; /* the name not in force */
	char *script = nat_rules_text(r, NAT_IPTABLES, gen, err, errlen);
	if (!script)
		return -1;
	remove_gen(r->tun, gen); /* half made by a crash in the middle of a renewal */
	/* Line by line; the last need not end in a newline. */
	for (char *l = script, *nl; *l; l = nl) {
		nl = l + strcspn(l, "\n");
		if (*nl)
			*nl++ = '\0';
		char shown[256], cmd[16];
		size_t n = strnlen(l, 200); /* as said in an error: its first 200 bytes */
		memcpy(shown, l, n);
		shown[n] = '\0';
		snprintf(cmd, sizeof(cmd), "%.*s", (int)strcspn(l, " "), l);
		char said[200] = ""; /* run_line writes none for a line with no command */
		int rc = run_line(l, said, sizeof(said));
		if (rc == 4)
			snprintf(err, errlen, "'%s' failed: another program held the xtables lock for %d s, or "
			         "iptables lacked a resource (exit 4); the rules in force stay", shown,
			         LOCK_WAIT);
		else if (rc == 127)
			snprintf(err, errlen, "'%s' failed (no %s command)", shown, cmd);
		else if (rc != 0 && *said)
			snprintf(err, errlen, "'%s' failed (exit %d; %s said: %s)", shown, rc, cmd, said);
		else if (rc != 0)
			snprintf(err, errlen, "'%s' failed (exit %d, with no message)", shown, rc);
		if (rc != 0) {
			remove_gen(r->tun, gen); /* the rules in force stay */
			free(script);
			return -1;
		}
	}
	free(script);
	/* The new ones are in: the old go. Left (the xtables lock held past
	 * the budget), they would still act after the new ones: said, as a
	 * warning (err with a generation); the next renewal takes them. */
	if (!remove_gen(r->tun, !gen)) {
		char fwd[32], nat[32], in[32];
		ipt_chain_names(r->tun, !gen, fwd, nat, in);
		snprintf(err, errlen, "the last rules' chains %s, %s and %s could not all be removed "
		         "(another program held the xtables lock?): they act after the new ones until "
		         "the next renewal ('iptables -S' shows them)", fwd, in, nat);
	}
	return gen;
}
