/* "key = value" files: one setting per line, '#' starts a comment line.
 * Pure: the caller reads the file and applies each setting. */
#ifndef SLOPN_PROTO_CONF_H
#define SLOPN_PROTO_CONF_H

#include <stddef.h>

/* A token (up to what a login line carries, some 3.7 KB) fits on a line. */
#define CONF_MAX_LINE 8192

/* Called for each setting; key and value are NUL-terminated and trimmed.
 * Return 0, or -1 after writing why into err (the parser adds the line). */
typedef int (*conf_cb)(const char *key, const char *value, unsigned line, void *ctx,
                       char *err, size_t errlen);

/* 0, or -1 with the problem in err and its line in *errline (a file's
 * errors read "FILE:LINE: ..."). Stops at the first error. */
int conf_parse(const char *text, size_t len, conf_cb cb, void *ctx, char *err, size_t errlen,
               unsigned *errline);

#endif
