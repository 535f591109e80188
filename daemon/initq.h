/* Initials of new connections, admitted and waiting for their handshake
 * to be made: copies in a fixed ring. The hub reads every datagram as it
 * comes, serves established sessions at once and makes handshakes (public
 * key crypto, a connection's allocations) from here within a time budget,
 * so that a flood of handshakes cannot hold up anyone's tunnel. */
#ifndef SLOPN_INITQ_H
#define SLOPN_INITQ_H

#include <stdbool.h>
#include <stdint.h>

#include <ngtcp2/ngtcp2.h>

#include "daemon/udp.h"

/* At most 64 handshakes of work queued (and INITQ_FIRST_MAX): tens of ms.
 * Past a few, a new client is sent a Retry (hub_admit.c). */
#define INITQ_MAX 64
/* Made before those: proven Initials from addresses with no connection in
 * its handshake or awaiting its login (hub_admit_queue). */
#define INITQ_FIRST_MAX 16

struct initq_slot {
	struct udp_rx rx;            /* rx.data points at data */
	bool validated;              /* what admission found (hub_admit_initial) */
	bool counted;                /* towards its address's limit (hub_admit_queue) */
	bool follows;                /* a later Initial of a connection made: never makes one */
	ngtcp2_cid dcid;             /* the connection's, as its client chose it (or, follows, as
	                              * this packet names it) */
	ngtcp2_cid odcid;
	uint8_t data[UDP_RX_BUF];
};

struct initq {
	struct initq_slot *slots;    /* cap, allocated once */
	unsigned cap, head, n;
};

int initq_init(struct initq *q, unsigned cap);     /* 0 or -1 (ENOMEM) */
void initq_free(struct initq *q);
/* A copy of rx at the tail; NULL when the ring is full or rx is longer
 * than a slot holds (UDP_RX_BUF: no client's Initial is). */
struct initq_slot *initq_push(struct initq *q, const struct udp_rx *rx);
/* Does a queued Initial have this dcid (a slot's dcid, set by its user)? */
bool initq_has(const struct initq *q, const ngtcp2_cid *dcid);
/* The oldest, or NULL; initq_pop drops it. */
struct initq_slot *initq_head(struct initq *q);
void initq_pop(struct initq *q);

#endif
