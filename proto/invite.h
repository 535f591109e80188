/* Invites: slopn://TOKEN@HOST:PORT?pin=sha256:HEX, everything a client needs
 * to connect to a hub, pinned. Pure functions. */
#ifndef SLOPN_PROTO_INVITE_H
#define SLOPN_PROTO_INVITE_H

#include <stddef.h>
#include <sys/types.h>

#include "proto/login.h"

#define INVITE_SCHEME "slopn://"
#define INVITE_HOST_MAX 256
#define INVITE_PIN_LEN 71 /* "sha256:" + 64 hex digits */
#define INVITE_PARAM_MAX 32

struct invite {
	char token[SLOPN_TOKEN_MAX];
	char server[INVITE_HOST_MAX + 8];   /* "HOST:PORT" or "[V6]:PORT" */
	char pin[INVITE_PIN_LEN + 1];       /* "sha256:..." lower case, or "" */
	char unknown[INVITE_PARAM_MAX + 1]; /* the first parameter not known, cut, or "" */
};

/* Parse an invite. The token may be percent-encoded; the port defaults to
 * 4242; a parameter not known is skipped (for the caller to say: a
 * misspelt pin leaves the hub unchecked), a second pin refused. 0, or -1
 * with err. */
int invite_parse(const char *s, struct invite *out, char *err, size_t errlen);

/* Write an invite for token (percent-encoding what needs it), server
 * ("HOST:PORT" or "[V6]:PORT") and pin. Returns its length, or -1 when cap
 * is too small. */
ssize_t invite_format(char *buf, size_t cap, const char *token, const char *server,
                      const char *pin);

#endif
