/* libFuzzer: stream framing under arbitrary chunking. The first byte of
 * the input picks the chunk sizes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/linebuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct linebuf lb;
	if (size < 1)
		return 0;
	unsigned seed = data[0];
	data++, size--;
	linebuf_init(&lb);
	size_t off = 0;
	while (off < size) {
		size_t chunk = 1 + (seed = seed * 1103515245u + 12345u) % 97;
		if (chunk > size - off)
			chunk = size - off;
		size_t used;
		enum linebuf_result r = linebuf_feed(&lb, data + off, chunk, &used);
		if (used > chunk || lb.len > LINEBUF_CAP)
			abort();
		off += used;
		if (r == LINEBUF_OVERFLOW)
			return 0;
		if (r == LINEBUF_LINE) {
			if (memchr(lb.buf, '\n', lb.len) || lb.buf[lb.len] != '\0')
				abort();
			linebuf_next(&lb);
		}
	}
	return 0;
}
