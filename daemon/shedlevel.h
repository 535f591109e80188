/* How long a hub session sheds (drops its own excess instead of holding
 * the TUN for everyone, hub_data.c) once it held the TUN as long as it may.
 * A session may hold the TUN SHED_AFTER (25 ms) while others wait, once per
 * shed period; with a fixed period of a second, tens of sessions taking
 * turns (clients that ACK for a while, then stop, each fed by the hub) could
 * keep it unread nearly all the time. So the period doubles each time a
 * session has to shed again within `forget` of its last, up to `max`, and
 * goes back to `base` after `forget` without. Pure: the unit test drives it
 * with a clock of its own. */
#ifndef SLOPN_DAEMON_SHEDLEVEL_H
#define SLOPN_DAEMON_SHEDLEVEL_H

#include <stdint.h>

struct shed_level {
	uint8_t level;  /* sheds in a row, each within `forget` of the one before */
	uint64_t last;  /* when the last began */
};

/* A shed begins at now: how long it lasts. */
static inline uint64_t shed_period(struct shed_level *l, uint64_t now, uint64_t base, uint64_t max,
                                   uint64_t forget)
{
	if (l->level && now - l->last >= forget)
		l->level = 0;
	uint64_t p = base;
	for (unsigned i = 0; i < l->level && p < max; i++)
		p *= 2;
	if (p >= max)
		p = max;
	else
		l->level++;
	l->last = now;
	return p;
}

#endif
