/* How often the hub may rewrite a state file (peers.json, leases.json)
 * that clients' changes call for. Each save formats and writes the whole
 * file inside the hub's only event loop, so its cost grows with the hub
 * (peers.json: some 50 ms at 4096 sessions; leases.json: 180 ms at 65533
 * leases, before the fsync), and saves as often as changes come (logins,
 * logouts, a client's connection IDs changed) took half of the loop on a
 * large hub, stalling every tunnel. Each save is put off until the last
 * one's cost, SAVE_PACE times over, has gone by since it ended: saves take
 * at most 1/(SAVE_PACE+1) of the loop (the fsync of a slow disk counts: it
 * holds the loop too), and a small hub on a fast disk still saves within
 * the usual delay of a change. */
#ifndef SLOPN_DAEMON_SAVEPACE_H
#define SLOPN_DAEMON_SAVEPACE_H

#include <stdint.h>

#define SAVE_PACE 16
/* The pace's wait, at most (us): a save still comes within a minute of
 * the last, however long that took. */
#define SAVE_PACE_MAX 60000000ull

/* When (CLOCK_MONOTONIC, us) the save that a change at now calls for may
 * start: delay after now, and no sooner than SAVE_PACE times last_cost
 * (how long the last save took; SAVE_PACE_MAX at most) after last_end
 * (when it ended; 0 for no save yet). */
static inline uint64_t save_pace_due(uint64_t now, uint64_t delay, uint64_t last_end, uint64_t last_cost)
{
	uint64_t due = now + delay;
	if (last_end) {
		uint64_t pace = last_cost < SAVE_PACE_MAX / SAVE_PACE ? last_cost * SAVE_PACE : SAVE_PACE_MAX;
		if (last_end + pace > due)
			due = last_end + pace;
	}
	return due;
}

#endif
