/* The hub's per-token traffic totals: traffic.json in the state directory,
 * held in memory (the sessions that ended) and rewritten atomically with
 * the live sessions' counters added, when asked (daemon/hub_traffic.c: at
 * least once a minute and at exit). */
#ifndef SLOPN_TRAFFIC_H
#define SLOPN_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/trafficfile.h"

struct traffic_store {
	char *path;
	struct traffic_entry *v;   /* totals of ended sessions, in name order */
	size_t n;
	bool dirty;                /* changed since the last save */
	bool held;                 /* the file could not be read, or was damaged and could not be set
	                            * aside: not written over */
};

/* Load path; a missing file is an empty store. -1 with err naming the
 * problem (the caller names the file) when it is damaged (cannot be
 * parsed, too large); -2 when it could not be read (a permission, an I/O
 * error, not a regular file): not damaged, maybe whole. The store is then
 * empty, and usable. */
int traffic_load(struct traffic_store *t, const char *path, char *err, size_t errlen);
void traffic_free(struct traffic_store *t);

struct traffic_entry *traffic_find(struct traffic_store *t, const char *name);
/* The entry for name, made (all zero) when there is none; NULL when out of memory. */
struct traffic_entry *traffic_get(struct traffic_store *t, const char *name);
/* Forget the entries whose name keep() refuses; how many went. */
size_t traffic_keep(struct traffic_store *t, bool (*keep)(const char *name, void *arg), void *arg);
/* One session's counters into an entry: sessions + 1; with a remote (a
 * session that ended now), last seen at when from there, even when the
 * entry says later: a wall clock set back must not freeze it until the
 * clock catches up. Each total stops at TRAFFIC_COUNT_MAX. */
void traffic_add_session(struct traffic_entry *e, uint64_t rx_bytes, uint64_t rx_pkts,
                         uint64_t tx_bytes, uint64_t tx_pkts, int64_t when, const char *remote);
/* Write v[0..n-1] to the store's path. 0, or -1 with err; the file is then
 * as it was. */
int traffic_write(const struct traffic_store *t, const struct traffic_entry *v, size_t n,
                  char *err, size_t errlen);

#endif
