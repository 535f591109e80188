/* Gathers newline-delimited messages from a byte stream that may arrive in
 * pieces of any size, with a hard bound on the length of one line: the
 * login stream's (LINEBUF_CAP) and the control socket's (JSONRPC_MAX). */
#ifndef SLOPN_PROTO_LINEBUF_H
#define SLOPN_PROTO_LINEBUF_H

#include <stddef.h>
#include <stdint.h>

#define LINEBUF_CAP 4096

struct linebuf {
	char *buf;   /* the caller's cap + 1 bytes: +1 keeps a NUL after the line */
	size_t cap;  /* the longest line */
	size_t len;  /* bytes of the current, unfinished line */
	int ready;   /* 1 while buf holds a complete line */
	int skip_long;  /* linebuf_skip_long: a longer line is skipped, not an error */
	int skipping;   /* within such a line, until its '\n' */
};

enum linebuf_result {
	LINEBUF_NEED_MORE = 0, /* all of data consumed, no complete line yet */
	LINEBUF_LINE = 1,      /* buf holds a complete line (no '\n'), NUL-terminated, len bytes */
	LINEBUF_SKIPPED = 2,   /* with skip_long: a line longer than cap went, its '\n' too */
	LINEBUF_OVERFLOW = -1, /* the line exceeds cap bytes: stop reading this stream */
};

/* Lines of up to cap bytes, kept in storage (cap + 1 bytes). */
void linebuf_init(struct linebuf *lb, char *storage, size_t cap);

/* From now on a line longer than cap is dropped, up to and including its
 * '\n' (feed consumes it and returns LINEBUF_NEED_MORE until that '\n',
 * then LINEBUF_SKIPPED once), instead of LINEBUF_OVERFLOW: for a stream
 * whose peer is trusted by now and whose unknown lines are ignored. */
void linebuf_skip_long(struct linebuf *lb);

/* Feed data. *consumed says how much of data was taken: on LINEBUF_LINE the
 * caller handles the line, then calls linebuf_next() and feeds the rest
 * (data + *consumed). While a line is ready, feed() takes nothing. */
enum linebuf_result linebuf_feed(struct linebuf *lb, const uint8_t *data,
                                 size_t len, size_t *consumed);

/* Drop the line just handled, ready for the next one. */
void linebuf_next(struct linebuf *lb);

#endif
