/* traffic.json, the hub's per-token traffic totals in the state directory:
 * bytes and packets each way, sessions, when and from where last seen.
 * Pure: the caller reads and writes the file (daemon/traffic.c). */
#ifndef SLOPN_PROTO_TRAFFICFILE_H
#define SLOPN_PROTO_TRAFFICFILE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/tokenfile.h"

#define TRAFFICFILE_VERSION 1
#define TRAFFIC_REMOTE_MAX 64 /* "ADDR:PORT", "[V6]:PORT" */
/* The most a counter holds: the file's integers are signed 64 bits, and
 * one written negative would be refused at the next start. */
#define TRAFFIC_COUNT_MAX ((uint64_t)INT64_MAX)

struct traffic_entry {
	char name[TOKEN_NAME_MAX + 1];        /* a token's name, or "shared" */
	uint64_t rx_bytes, rx_pkts;           /* from its clients */
	uint64_t tx_bytes, tx_pkts;           /* to its clients */
	uint64_t sessions;                    /* each at most TRAFFIC_COUNT_MAX */
	int64_t last_seen;                    /* Unix seconds; 0: never */
	char last_remote[TRAFFIC_REMOTE_MAX]; /* "" when unknown */
};

/* Parse the whole file. On success *out is a malloc'd array of *n entries
 * (NULL when empty) and 0 is returned; on error -1 with err saying where
 * ("line 3 column 7: ..." or "tokens[2].rx_bytes: ...") and nothing
 * allocated. */
int trafficfile_parse(const char *buf, size_t len, struct traffic_entry **out, size_t *n,
                      char *err, size_t errlen);

/* The file's text, indented, '\n'-terminated; malloc'd, NULL when out of
 * memory. A counter past TRAFFIC_COUNT_MAX is written as that. */
char *trafficfile_format(const struct traffic_entry *v, size_t n);

#endif
