/* NAT and isolation for the hub, in a table of our own. The ruleset is
 * built as nft text and run as one transaction, so the table is replaced
 * whole or not at all. */
#include "tun/nat.h"
#include "tun/nat_iptables.h"
#include "tun/outbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"

void nat_table_name(const char *tun, char *buf, size_t len)
{
	snprintf(buf, len, "slopn_%s", tun);
	for (char *p = buf; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			*p = '_';
}

const char *nat_backend_name(enum nat_backend b)
{
	return b == NAT_IPTABLES ? "iptables" : b == NAT_NFTABLES ? "nftables" : "auto";
}

/* Interface names go into the rules: only plain ones. */
bool nat_ifname_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n < 16 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                    "0123456789._-@+") == n;
}

static void put_set(struct outbuf *o, const struct cidr4 *c, size_t n)
{
	outbuf_printf(o, "{ ");
	for (size_t i = 0; i < n; i++) {
		uint32_t a = c[i].net;
		outbuf_printf(o, "%s%u.%u.%u.%u/%u", i ? ", " : "", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		    a & 255, c[i].prefix);
	}
	outbuf_printf(o, " }");
}

int nat_ruleset(const struct nat_rules *r, char *buf, size_t len)
{
	if (!nat_ifname_ok(r->tun) || !nat_ifname_ok(r->egress) || len == 0)
		return -1;
	char t[32];
	nat_table_name(r->tun, t, sizeof(t));
	struct outbuf o = {buf, len, 0, false};
	const char *tun = r->tun;
	/* add + delete + define: replaces a table left by a crash, in one go. */
	outbuf_printf(&o, "add table ip %s\ndelete table ip %s\n", t, t);
	outbuf_printf(&o, "table ip %s {\n", t);
	outbuf_printf(&o, "\tchain forward {\n"
	                  "\t\ttype filter hook forward priority filter; policy accept;\n");
	/* Client to client through the kernel only when spoke-to-spoke is on. */
	outbuf_printf(&o, "\t\tiifname \"%s\" oifname \"%s\" %s\n", tun, tun,
	              r->spoke_to_spoke ? "accept" : "drop");
	if (r->nallow) {
		outbuf_printf(&o, "\t\tiifname \"%s\" ip daddr ", tun);
		put_set(&o, r->allow, r->nallow);
		outbuf_printf(&o, " accept\n");
	}
	if (r->nlocal) {
		outbuf_printf(&o, "\t\tiifname \"%s\" ip daddr ", tun);
		put_set(&o, r->local, r->nlocal);
		outbuf_printf(&o, " drop\n");
	}
	outbuf_printf(&o, "\t\tiifname \"%s\" oifname \"%s\" accept\n", tun, r->egress);
	outbuf_printf(&o, "\t\tiifname \"%s\" drop\n", tun);
	if (r->nallow) {
		outbuf_printf(&o, "\t\toifname \"%s\" ip saddr ", tun);
		put_set(&o, r->allow, r->nallow);
		outbuf_printf(&o, " accept\n");
	}
	outbuf_printf(&o, "\t\toifname \"%s\" ct state established,related accept\n", tun);
	outbuf_printf(&o, "\t\toifname \"%s\" drop\n", tun);
	outbuf_printf(&o, "\t}\n");
	outbuf_printf(&o, "\tchain postrouting {\n"
	                  "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	outbuf_printf(&o, "\t\toifname \"%s\" ip saddr ", r->egress);
	put_set(&o, &r->subnet, 1);
	outbuf_printf(&o, " masquerade\n\t}\n}\n");
	return o.full ? -1 : (int)o.used;
}

/* Run nft commands; on failure, nft's message (one line) in err. */
static int nft_run(const char *cmd, char *err, size_t errlen)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		snprintf(err, errlen, "cannot create an nftables context");
		return -1;
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	int rv = nft_run_cmd_from_buffer(nft, cmd);
	if (rv != 0 && err) {
		const char *e = nft_ctx_get_error_buffer(nft);
		/* nft's first line names the problem; the rest points into our input. */
		size_t n = e ? strcspn(e, "\n") : 0;
		if (n)
			snprintf(err, errlen, "%.*s", (int)n, e);
		else
			snprintf(err, errlen, "nft failed without a message");
	}
	nft_ctx_free(nft);
	return rv ? -1 : 0;
}

static bool table_exists(const char *tun)
{
	char t[32], cmd[64];
	nat_table_name(tun, t, sizeof(t));
	snprintf(cmd, sizeof(cmd), "list table ip %s", t);
	return nft_run(cmd, NULL, 0) == 0;
}

static int read_int(const char *path)
{
	char b[16] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0 || b[0] < '0' || b[0] > '9')
		return -1;
	return atoi(b);
}

static int write_int(const char *path, int v, bool create)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC | (create ? O_CREAT : 0), 0600);
	if (fd < 0)
		return -1;
	char b[16];
	int n = snprintf(b, sizeof(b), "%d\n", v);
	int rv = write(fd, b, (size_t)n) == n ? 0 : -1;
	if (create && rv == 0)
		rv = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rv;
}

static int nft_install(const struct nat_rules *r, char *err, size_t errlen)
{
	char rules[8192];
	if (nat_ruleset(r, rules, sizeof(rules)) < 0) {
		snprintf(err, errlen, "cannot build the rules (interface '%s' or '%s' has an unusual "
		         "name, or too many networks)", r->tun, r->egress);
		return -1;
	}
	return nft_run(rules, err, errlen);
}

static void nft_remove(const char *tun)
{
	char t[32], cmd[64];
	nat_table_name(tun, t, sizeof(t));
	snprintf(cmd, sizeof(cmd), "delete table ip %s", t);
	nft_run(cmd, NULL, 0);
}

int nat_update(const struct nat_rules *r, enum nat_backend used, char *err, size_t errlen)
{
	return used == NAT_IPTABLES ? ipt_install(r, err, errlen) : nft_install(r, err, errlen);
}

int nat_start(const struct nat_rules *r, enum nat_backend want, enum nat_backend *used,
              const char *state_file, char *err, size_t errlen)
{
	/* Rules of ours already there mean the last run did not stop cleanly:
	 * the state file then still holds the setting from before it. */
	bool stale_nft = table_exists(r->tun), stale_ipt = ipt_exists(r->tun);
	int before = stale_nft || stale_ipt ? read_int(state_file) : -1;
	if (before < 0) {
		before = read_int(IP_FORWARD);
		if (before < 0) {
			snprintf(err, errlen, "cannot read %s: %s", IP_FORWARD, strerror(errno));
			return -1;
		}
		if (write_int(state_file, before, true) < 0) {
			snprintf(err, errlen, "cannot write %s: %s", state_file, strerror(errno));
			return -1;
		}
	}
	/* What a crash left with the other backend goes; the same one is replaced. */
	if (stale_nft && want == NAT_IPTABLES)
		nft_remove(r->tun);
	if (stale_ipt && want != NAT_IPTABLES)
		ipt_remove(r->tun);
	if (write_int(IP_FORWARD, 1, false) < 0) {
		snprintf(err, errlen, "cannot turn on IPv4 forwarding (%s): %s", IP_FORWARD,
		         strerror(errno));
		unlink(state_file);
		return -1;
	}
	char e[256] = "", e2[256] = "";
	*used = want == NAT_IPTABLES ? NAT_IPTABLES : NAT_NFTABLES;
	int rv = nat_update(r, *used, e, sizeof(e));
	if (rv < 0 && want == NAT_AUTO) {
		if (stale_ipt)
			ipt_remove(r->tun);
		*used = NAT_IPTABLES;
		rv = nat_update(r, *used, e2, sizeof(e2));
		if (rv == 0)
			snprintf(err, errlen, "nftables refused the rules (%s): using iptables", e);
	}
	if (rv < 0) {
		if (want == NAT_AUTO)
			snprintf(err, errlen, "nftables refused the rules: %s; iptables too: %s "
			         "(--nat needs nf_tables in the kernel, or iptables)", e, e2);
		else
			snprintf(err, errlen, "%s refused the rules: %s", nat_backend_name(want), e);
		write_int(IP_FORWARD, before, false);
		unlink(state_file);
		return -1;
	}
	if (*used == NAT_NFTABLES || want == NAT_IPTABLES)
		err[0] = '\0';
	return 0;
}

void nat_stop(const char *tun, enum nat_backend used, const char *state_file)
{
	if (used == NAT_IPTABLES)
		ipt_remove(tun);
	else
		nft_remove(tun);
	int before = read_int(state_file);
	if (before >= 0)
		write_int(IP_FORWARD, before, false);
	unlink(state_file);
}

bool nat_stop_stale(const char *tun, const char *state_file)
{
	/* A --nat run writes the state file before any rule and removes it
	 * last: without it there is nothing to clean, and no nft or iptables
	 * needs asking at every start. */
	if (access(state_file, F_OK) != 0)
		return false;
	bool nft = table_exists(tun), ipt = ipt_exists(tun);
	if (ipt)
		nat_stop(tun, NAT_IPTABLES, state_file);
	if (nft)
		nat_stop(tun, NAT_NFTABLES, state_file);
	return nft || ipt;
}
