/* leases.json, the hub's memory of which client had which addresses, so
 * that a client that comes back (after a kick, a lost link, a restart of
 * either side) gets them again. A lease is keyed by the token's name and
 * the client's id; a client without an id (the original's) by its token's
 * name alone. Pure: the hub reads and writes the file. */
#ifndef SLOPN_PROTO_LEASEFILE_H
#define SLOPN_PROTO_LEASEFILE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/login.h"
#include "proto/tokenfile.h"

#define LEASEFILE_VERSION 1

struct lease_entry {
	char token[TOKEN_NAME_MAX + 1];          /* a token's name, or "shared" */
	char client_id[SLOPN_CLIENT_ID_MAX + 1]; /* "" for a client without one */
	uint32_t vip;                            /* host order */
	struct in6_addr vip6;                    /* :: when the client had none */
	int64_t last_seen;                       /* Unix seconds */
	bool held;  /* a session had the address when the file was written ("held": true, else absent) */
};

/* Parse the whole file. On success *out is a malloc'd array of *n entries
 * (NULL when empty) and 0 is returned; on error -1 with err saying where
 * ("line 3 column 7: ..." or "leases[2].vip: ...") and nothing allocated.
 * Only the form is checked here: which leases still fit the hub's subnet
 * and tokens is the hub's to decide. */
int leasefile_parse(const char *buf, size_t len, struct lease_entry **out, size_t *n,
                    char *err, size_t errlen);

/* The file's text, '\n'-terminated; malloc'd, NULL when out of memory. */
char *leasefile_format(const struct lease_entry *v, size_t n);

#endif
