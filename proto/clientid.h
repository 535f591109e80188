/* The client id file (STATE/client-TUN.id): 32 lower-case hex digits and
 * a newline. Pure parsing; daemon/clientid.c does the I/O. */
#ifndef SLOPN_PROTO_CLIENTID_H
#define SLOPN_PROTO_CLIENTID_H

#include <stdbool.h>
#include <stddef.h>

#define CLIENT_ID_LEN 32

/* The id in buf[0..len), which may end in newlines and nothing else.
 * True and id filled (NUL-terminated) for a valid file; false otherwise,
 * id untouched. */
bool client_id_parse(const char *buf, size_t len, char id[CLIENT_ID_LEN + 1]);

#endif
