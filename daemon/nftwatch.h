/* A table of ours that a firewall's reload or 'nft flush ruleset' can
 * lift (the hub's --nat rules, the client's kill switch): news of every
 * nftables change arms a check a moment later, which looks for the table
 * and puts it back. */
#ifndef SLOPN_DAEMON_NFTWATCH_H
#define SLOPN_DAEMON_NFTWATCH_H

#include <systemd/sd-event.h>

/* Watch nftables; a change arms check (a one-shot timer, timer.h, made
 * with an accuracy of a millisecond) at once, changes that keep coming at
 * most each 200 ms; also for changes of our own (the check then finds the
 * table). 0, or -1 with errno. */
int nftwatch_start(sd_event *ev, sd_event_source **watch, sd_event_source *check);

#endif
