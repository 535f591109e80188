#include "proto/linebuf.h"

#include <string.h>

void linebuf_init(struct linebuf *lb, char *storage, size_t cap)
{
	lb->buf = storage;
	lb->cap = cap;
	lb->skip_long = 0;
	lb->skipping = 0;
	linebuf_next(lb);
}

void linebuf_skip_long(struct linebuf *lb)
{
	lb->skip_long = 1;
}

void linebuf_next(struct linebuf *lb)
{
	lb->len = 0;
	lb->ready = 0;
	lb->buf[0] = '\0';
}

enum linebuf_result linebuf_feed(struct linebuf *lb, const uint8_t *data,
                                 size_t len, size_t *consumed)
{
	*consumed = 0;
	if (lb->ready)
		return LINEBUF_LINE; /* the caller has not taken the last one yet */
	if (len == 0)
		return LINEBUF_NEED_MORE; /* and data may be NULL: no memchr on it */
	const uint8_t *nl = memchr(data, '\n', len);
	size_t take = nl ? (size_t)(nl - data) : len;
	/* Refuse before copying: nothing is written past buf, and a line of
	 * exactly cap bytes still fits (with its NUL). */
	if (!lb->skipping && take > lb->cap - lb->len) {
		if (!lb->skip_long)
			return LINEBUF_OVERFLOW;
		lb->skipping = 1; /* what came of it is dropped with the rest */
		lb->len = 0;
		lb->buf[0] = '\0';
	}
	if (lb->skipping) {
		*consumed = nl ? take + 1 : take;
		if (!nl)
			return LINEBUF_NEED_MORE;
		lb->skipping = 0;
		return LINEBUF_SKIPPED;
	}
	memcpy(lb->buf + lb->len, data, take);
	lb->len += take;
	lb->buf[lb->len] = '\0';
	*consumed = nl ? take + 1 : take;
	if (!nl)
		return LINEBUF_NEED_MORE;
	lb->ready = 1;
	return LINEBUF_LINE;
}
