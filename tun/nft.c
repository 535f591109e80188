#include "tun/nft.h"
#include "proto/nftcounter.h"

#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int nft_run(const char *cmd, char *err, size_t errlen)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		if (err)
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

char *nft_json(const char *cmd)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft)
		return NULL;
	nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	char *out = NULL;
	if (nft_run_cmd_from_buffer(nft, cmd) == 0) {
		const char *o = nft_ctx_get_output_buffer(nft);
		out = o ? strdup(o) : NULL;
	}
	nft_ctx_free(nft);
	return out;
}

/* A character a table name carries as it is (not isalnum: no locale). */
static bool plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

void nft_table_name(const char *prefix, const char *tun, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s", prefix);
	for (const unsigned char *p = (const unsigned char *)tun; *p && n < len; p++) {
		if (plain(*p))
			n += (size_t)snprintf(buf + n, len - n, "%c", *p);
		else
			n += (size_t)snprintf(buf + n, len - n, "_%02x", *p);
	}
}

bool nft_table_name_old(const char *prefix, const char *tun, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", prefix, tun);
	bool differs = false;
	for (char *p = buf + strlen(prefix); *p; p++)
		if (!plain((unsigned char)*p)) {
			*p = '_';
			differs = true;
		}
	return differs;
}

bool nft_table_exists(const char *family, const char *name)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "list table %s %s", family, name);
	return nft_run(cmd, NULL, 0) == 0;
}

int nft_table_rule_count(const char *family, const char *name)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "list table %s %s", family, name);
	char *out = nft_json(cmd);
	int n = out ? nft_rule_count(out, strlen(out)) : -1;
	free(out);
	return n;
}

int nft_monitor_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return -1;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int group = NFNLGRP_NFTABLES;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

bool nft_monitor_drain(int fd)
{
	/* What changed does not matter: the caller looks at its own table. */
	char buf[8192];
	bool any = false;
	for (int i = 0; i < 256; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0 || (n < 0 && errno == ENOBUFS))
			any = true;
		else if (n == 0 || errno != EINTR)
			break;
	}
	return any;
}
