/* peers.json: where the hub's clients were and which connection IDs they
 * reached it by, kept while the hub runs. After a crash the next run sends
 * each of them a stateless reset at once (its tokens derive from the hub's
 * key), so that a client that is idle learns that the hub restarted and
 * logs in again, instead of finding out at its next keep-alive. Pure: the
 * hub reads and writes the file. */
#ifndef SLOPN_PROTO_PEERFILE_H
#define SLOPN_PROTO_PEERFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PEERFILE_VERSION 1
#define PEER_CIDS_MAX 8    /* connection IDs kept per client */
#define PEER_CID_MAX 20    /* the longest a QUIC connection ID may be */

struct peer_cid {
	uint8_t len;
	uint8_t data[PEER_CID_MAX];
};

struct peer_entry {
	struct sockaddr_storage remote;
	socklen_t remotelen;
	struct sockaddr_storage local; /* the hub's address it used; locallen 0: not known */
	socklen_t locallen;
	struct peer_cid cid[PEER_CIDS_MAX];
	size_t ncid;
};

/* Parse the whole file: on success *out is a malloc'd array of *n entries
 * (NULL when empty) and 0 is returned; -1 with err saying where, and
 * nothing allocated. */
int peerfile_parse(const char *buf, size_t len, struct peer_entry **out, size_t *n,
                   char *err, size_t errlen);

/* The file's text, '\n'-terminated; malloc'd, NULL when out of memory. */
char *peerfile_format(const struct peer_entry *v, size_t n);

/* "ADDR:PORT" or "[ADDR]:PORT" (numeric only; a link-local ADDR may have
 * its zone, "fe80::1%eth0" or "fe80::1%2": an interface of that name
 * gone, the zone is 0) into a socket address. 0 or -1. */
int peer_addr_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len);
/* An IPv4 or IPv6 address as peer_addr_parse reads it, the zone by name
 * (by number when its interface is gone). */
#define PEER_ADDR_TEXT_MAX 72
void peer_addr_text(const struct sockaddr_storage *sa, char *out, size_t len);

#endif
