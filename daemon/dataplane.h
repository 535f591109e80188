/* The data plane's own counters, beside the connections', for either
 * role's status (and the hub's metrics); the TUN's read watch, paused and
 * resumed by both roles; the data path's test knobs. */
#ifndef SLOPN_DATAPLANE_H
#define SLOPN_DATAPLANE_H

#include <jansson.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "daemon/conn.h"
#include "daemon/udp.h"
#include "tun/tun.h"

/* Add to t the drops of the TUN and the UDP socket: packets the TUN
 * refused (DROP_TUN), the kernel's queue in front of it overflowing (read
 * from the kernel) and those of the UDP socket. */
void dataplane_drops(struct conn_stats *t, const struct tun *tun, const struct udp *u);
/* Wait on the fd the TUN is read from now (tun_poll_fd): after reading.
 * Logs how it is read when that changed for good (the ring given up). */
void dataplane_tun_watch(struct tun *tun, sd_event_source *src);
/* Stop or go on reading the TUN (*paused says which it does): while a
 * connection is congested, the kernel's queue holds the senders back. */
void dataplane_tun_pause(sd_event_source *src, bool *paused, bool pause);
/* The tests' knob of the TUN's reads, read once after tun_open:
 * SLOPND_TEST_RING_REFUSE=N, the kernel refuses the N-th time the ring's
 * read is made again after a burst (tun_ring_refuse_rearm). */
void dataplane_tun_test_knobs(struct tun *tun);
/* Which offloads are on, and how much they carried. */
json_t *dataplane_offload_json(const struct tun *tun, const struct udp *u);

#endif
