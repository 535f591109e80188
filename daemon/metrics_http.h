/* A small HTTP server for Prometheus: GET /metrics answers with text the
 * owner makes on demand. libmicrohttpd, driven by the daemon's own event
 * loop (its epoll descriptor and timeout), so that the text is made on the
 * loop's thread, from the same state the control socket reads. No
 * authentication: it belongs on localhost or a private address. */
#ifndef SLOPN_METRICS_HTTP_H
#define SLOPN_METRICS_HTTP_H

#include <stddef.h>
#include <systemd/sd-event.h>

struct metrics_http;
/* The page: malloc'd text and its length; NULL when out of memory. */
typedef char *(*metrics_text_fn)(void *ctx, size_t *len);

/* Listen on "ADDR:PORT" ("[V6]:PORT"). NULL on failure (logged). */
struct metrics_http *metrics_http_open(sd_event *ev, const char *listen, metrics_text_fn fn,
                                       void *ctx);
void metrics_http_close(struct metrics_http *m);

#endif
