/* libFuzzer: stream framing under arbitrary chunking, checked against a
 * plain split of the whole input at '\n'. The first byte of the input
 * seeds the chunk sizes, and its lowest bit asks for long lines to be
 * skipped (linebuf_skip_long) rather than refused; the second picks the
 * cap (the login stream's, or a small one so that long lines come often). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/linebuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct linebuf lb;
	static char storage[LINEBUF_CAP + 1];
	if (size < 2)
		return 0;
	unsigned seed = data[0];
	int skip = data[0] & 1;
	size_t cap = data[1] < 128 ? LINEBUF_CAP : (size_t)data[1] - 128;
	data += 2, size -= 2;
	linebuf_init(&lb, storage, cap);
	if (skip)
		linebuf_skip_long(&lb);
	size_t off = 0;   /* bytes of data consumed */
	size_t start = 0; /* where the current line starts in data */
	while (off < size) {
		seed = seed * 1103515245u + 12345u;
		size_t chunk = 1 + (seed >> 16) % 97;
		if (chunk > size - off)
			chunk = size - off;
		size_t used;
		enum linebuf_result r = linebuf_feed(&lb, data + off, chunk, &used);
		if (used > chunk || lb.len > cap)
			abort();
		off += used;
		/* The line this one is in: its length up to its '\n' (or the end). */
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t linelen = nl ? (size_t)(nl - (data + start)) : size - start;
		if (r == LINEBUF_OVERFLOW) {
			/* Only when the line really is longer than the cap, and not
			 * when such lines are skipped. */
			if (linelen <= cap || skip)
				abort();
			return 0;
		}
		if (r == LINEBUF_SKIPPED) {
			/* A line longer than the cap, gone with its '\n'. */
			if (!skip || linelen <= cap || !nl || off != start + linelen + 1 || lb.len != 0)
				abort();
			start = off;
		} else if (r == LINEBUF_LINE) {
			/* Exactly the next line of the input, NUL-terminated. */
			if (off == 0 || data[off - 1] != '\n' || lb.len != off - 1 - start ||
			    memcmp(lb.buf, data + start, lb.len) != 0 || lb.buf[lb.len] != '\0' ||
			    linelen != lb.len)
				abort();
			/* While it is ready, nothing more is taken. */
			if (off < size && (linebuf_feed(&lb, data + off, size - off, &used) != LINEBUF_LINE ||
			                   used != 0))
				abort();
			linebuf_next(&lb);
			start = off;
		} else if (r == LINEBUF_NEED_MORE) {
			if (used != chunk || (lb.skipping ? lb.len != 0 : lb.len != off - start))
				abort();
		} else {
			abort();
		}
	}
	/* Whatever is left is an unfinished line: kept if it fits, else
	 * (skipping) dropped so far. */
	if (memchr(data + start, '\n', size - start))
		abort();
	if (size - start <= cap ? lb.skipping || lb.len != size - start : !lb.skipping || lb.len)
		abort();
	return 0;
}
