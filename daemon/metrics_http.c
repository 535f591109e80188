#include "daemon/metrics_http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/log.h"

#define MAX_CLIENTS 16      /* scrapers are few; more are refused */
#define MAX_PER_ADDR 4      /* so that one host's idle connections keep no one out */
#define CLIENT_TIMEOUT_S 10
/* libmicrohttpd says a line for each connection it refuses past the
 * limits: anyone who can reach the port could flood the journal (which
 * then drops the hub's own lines). A few a minute, then a count. */
#define LOG_LINES 5

struct metrics_http {
	struct MHD_Daemon *d;
	sd_event *ev;
	sd_event_source *io, *timer;
	metrics_text_fn fn;
	void *ctx;
	struct log_budget log;      /* libmicrohttpd's lines */
};

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct metrics_http *m = cls;
	bool last;
	if (!log_budget_take(&m->log, LOG_LINES, LOG_LVL_WARN, "messages of the metrics HTTP server",
	                     &last))
		return;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("metrics: %s%s", line, last ? " (more this minute are counted, not logged)" : "");
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *text, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        status == MHD_HTTP_OK ? "text/plain; version=0.0.4; charset=utf-8"
	                                              : "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result rv = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rv;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	struct metrics_http *m = cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("only GET /metrics\n"),
		             strlen("only GET /metrics\n"));
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, strdup("not here: GET /metrics\n"),
		             strlen("not here: GET /metrics\n"));
	size_t len = 0;
	char *text = m->fn(m->ctx, &len);
	if (!text)
		return MHD_NO;
	return reply(c, MHD_HTTP_OK, text, len);
}

/* MHD's next deadline onto our timer. */
static void rearm(struct metrics_http *m)
{
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t now;
	if (MHD_get_timeout(m->d, &ms) != MHD_YES || sd_event_now(m->ev, CLOCK_MONOTONIC, &now) < 0) {
		sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(m->timer, now + (uint64_t)ms * 1000);
	sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct metrics_http *m = userdata;
	MHD_run(m->d);
	rearm(m);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	return on_io(s, -1, 0, userdata);
}

struct metrics_http *metrics_http_open(sd_event *ev, const char *listen, metrics_text_fn fn,
                                       void *ctx)
{
	char *host, *port;
	if (split_host_port(listen, &host, &port) < 0) {
		log_err("--metrics %s: expected ADDR:PORT", listen);
		return NULL;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *ai = NULL;
	int rv = getaddrinfo(host, port, &hints, &ai);
	free(host), free(port);
	if (rv != 0) {
		log_err("--metrics %s: %s (an IP address and a port)", listen, gai_strerror(rv));
		return NULL;
	}
	struct metrics_http *m = calloc(1, sizeof(*m));
	if (!m) {
		freeaddrinfo(ai);
		return NULL;
	}
	m->ev = ev, m->fn = fn, m->ctx = ctx;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	/* The address is SOCK_ADDR's; the port given here too is only for
	 * its messages ("Failed to bind to port 0" without it). */
	uint16_t nport = ai->ai_family == AF_INET6 ? ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port
	                                           : ((struct sockaddr_in *)ai->ai_addr)->sin_port;
	errno = 0;
	m->d = MHD_start_daemon(flags, ntohs(nport), NULL, NULL, on_request, m,
	                        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
	                        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CLIENTS,
	                        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MAX_PER_ADDR,
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CLIENT_TIMEOUT_S,
	                        MHD_OPTION_END);
	int e = errno;
	freeaddrinfo(ai);
	const union MHD_DaemonInfo *info = m->d ? MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info || sd_event_add_io(ev, &m->io, info->epoll_fd, EPOLLIN, on_io, m) < 0 ||
	    sd_event_add_time(ev, &m->timer, CLOCK_MONOTONIC, 0, 1000, on_timer, m) < 0) {
		log_err("cannot serve metrics on %s: %s", listen,
		        !m->d && e ? strerror(e) : "the HTTP server did not start");
		metrics_http_close(m);
		return NULL;
	}
	rearm(m);
	log_info("metrics on http://%s/metrics (no authentication: keep it on localhost or a private address)",
	         listen);
	return m;
}

void metrics_http_close(struct metrics_http *m)
{
	if (!m)
		return;
	sd_event_source_disable_unref(m->io);
	sd_event_source_disable_unref(m->timer);
	if (m->d)
		MHD_stop_daemon(m->d);
	log_budget_forget(&m->log);
	free(m);
}
