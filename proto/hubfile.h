/* hub-TUN.json in a client's state directory: the addresses the last
 * lookup of the hub's name found, so that a client started while DNS does
 * not answer (a resolver down, a network without one yet) still reaches
 * the hub it reached before, as a running client does from memory. Pure:
 * the client reads and writes the file. */
#ifndef SLOPN_PROTO_HUBFILE_H
#define SLOPN_PROTO_HUBFILE_H

#include <stddef.h>
#include <sys/socket.h>

#define HUBFILE_VERSION 1
#define HUBFILE_MAX 8           /* addresses kept, as a lookup's scouts */
#define HUBFILE_SERVER_MAX 256  /* --server as given, HOST:PORT */

struct hubfile {
	char server[HUBFILE_SERVER_MAX]; /* the name these addresses are of */
	struct sockaddr_storage addr[HUBFILE_MAX];
	socklen_t len[HUBFILE_MAX];
	size_t n;
};

/* Parse the whole file into *out: 0, or -1 with err saying where (and
 * *out zeroed). At least one address: a lookup that found none is not
 * saved. */
int hubfile_parse(const char *buf, size_t len, struct hubfile *out, char *err, size_t errlen);

/* The file's text, '\n'-terminated; malloc'd, NULL when out of memory. */
char *hubfile_format(const struct hubfile *h);

#endif
