/* The NAT rules with iptables, where nftables cannot be used (see nat.h). */
#ifndef SLOPN_TUN_NAT_IPTABLES_H
#define SLOPN_TUN_NAT_IPTABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tun/nat.h"

/* Our chains' names: generation 0 or 1 (the rules are renewed into the
 * other one). */
void ipt_chain_names(const char *tun, int gen, char fwd[32], char nat[32], char in[32]);
/* The rules as lines: the command (iptables, or ip6tables for IPv6) and
 * its arguments after -w, one command a line. Returns the length, or -1.
 * Pure: unit-tested. */
int ipt_script(const struct nat_rules *r, int gen, char *buf, size_t len);
/* Install, replacing any earlier set of ours only once the new one is in:
 * the generation now in force; on failure the set in force (if any)
 * stays, and -1 with err. */
int ipt_install(const struct nat_rules *r, char *err, size_t errlen);
/* 0, or -1 when some of it may be left (the xtables lock held by another
 * program for longer than we wait, or no iptables to run). */
int ipt_remove(const char *tun);
bool ipt_exists(const char *tun);
/* Are generation gen's jumps all still there (IPv4's from FORWARD, INPUT
 * and POSTROUTING; with six IPv6's from FORWARD and INPUT, with nat6 from
 * its POSTROUTING too)? Asked without waiting: the commands (up to
 * IPT_LOOK_MAX) started at once, their count returned; for each, pids[i]
 * with rcs[i] 0, or rcs[i] what it would have said had it run (it did not
 * start: 127, no such command; -1). Once the started ones have ended (their
 * exit status, or -1, in rcs[i]), ipt_look_result(): 1, 0 when one is gone
 * (an 'iptables -F'), -1 when iptables cannot tell. */
#define IPT_LOOK_MAX 6
int ipt_look_start(const char *tun, int gen, bool six, bool nat6, pid_t pids[IPT_LOOK_MAX],
                   int rcs[IPT_LOOK_MAX]);
int ipt_look_result(const int rcs[], int n);
/* Wait for a command ipt_look_start() started: its exit status, or -1. */
int ipt_wait(pid_t pid);

#endif
