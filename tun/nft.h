/* nftables through libnftables: the NAT rules of the hub (nat.c) and the
 * client's kill switch (killswitch.c) run their nft text here. */
#ifndef SLOPN_TUN_NFT_H
#define SLOPN_TUN_NFT_H

#include <stdbool.h>
#include <stddef.h>

/* Run nft commands as one transaction; on failure, nft's message (its
 * first line) in err when err is given. 0 or -1. */
int nft_run(const char *cmd, char *err, size_t errlen);
/* Run one listing command with JSON output: the output, to be freed by
 * the caller, or NULL. */
char *nft_json(const char *cmd);
/* PREFIX and the TUN's name, every character but letters and digits as
 * '_' and its code in hex ("vpn-1.x": "vpn_2d1_2ex"): nft takes no other
 * in an identifier, and two TUN names never share a table. */
void nft_table_name(const char *prefix, const char *tun, char *buf, size_t len);
/* A prefix of up to 16, and IFNAMSIZ - 1 characters of 3 each. */
#define NFT_TABLE_NAME_MAX 64
/* The name slopnd gave before (each such character '_': names could
 * share a table), when it differs from today's: a crash of an older
 * slopnd may have left that table, and it goes where ours is replaced. */
bool nft_table_name_old(const char *prefix, const char *tun, char *buf, size_t len);
/* Does "table FAMILY NAME" exist? */
bool nft_table_exists(const char *family, const char *name);
/* How many rules "table FAMILY NAME" holds, or -1 when it cannot be
 * listed (not there, say). */
int nft_table_rule_count(const char *family, const char *name);

/* A socket that hears of every change to the machine's nftables (a flush,
 * another program's rules): non-blocking, close-on-exec; the fd, or -1. */
int nft_monitor_open(void);
/* Read what is waiting on it. Whether anything was (lost messages count). */
bool nft_monitor_drain(int fd);

#endif
