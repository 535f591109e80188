/* Scouts: a hub name with several addresses (IPv6 and IPv4, say) whose
 * first is dead cost each first attempt SILENCE (3 s) before the next was
 * tried. Now, beside an attempt at one address, a path probe of QUIC's
 * least size goes to each of the others (any QUIC server answers it, see
 * proto/pathprobe.h); when the attempt has heard nothing, its own probes
 * included, SCOUT_DELAY after its start, and another address has answered,
 * the client connects there at once: a Happy Eyeballs (RFC 8305) that needs
 * no second handshake. An attempt that hears anything keeps its address;
 * one with no scout answered waits for SILENCE as before.
 *
 * The same probes keep watch while the client waits to try again after
 * attempts the hub did not answer (it is down, or its host restarts): the
 * wait grows to 30 s, and the hub back answers a probe within WATCH_EVERY
 * (WATCH_SOON after a refusal that says its slopnd restarts), which ends
 * the wait. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <gnutls/crypto.h>

#include "daemon/client_int.h"
#include "daemon/log.h"
#include "daemon/testenv.h"
#include "daemon/timer.h"

#define SCOUT_DELAY 250000 /* us: RFC 8305's connection attempt delay */

static int on_scout(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* One socket for all scouts, IPv4 ones as mapped addresses; IPv4 only
 * where the kernel has no IPv6. */
static int scout_socket(struct client *cl)
{
	if (cl->scout_fd >= 0)
		return 0;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int off = 0;
	if (fd >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0) {
		close(fd);
		fd = -1;
	}
	cl->scout_v6 = fd >= 0;
	if (fd < 0)
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (sd_event_add_io(cl->ev, &cl->scout_src, fd, EPOLLIN, on_scout, cl) < 0) {
		close(fd);
		return -1;
	}
	cl->scout_fd = fd;
	return 0;
}

/* sa as this socket sends to it; false when it cannot. */
static bool scout_addr(const struct client *cl, const struct sockaddr *sa, struct sockaddr_storage *out,
                       socklen_t *len)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET6 && cl->scout_v6) {
		memcpy(out, sa, sizeof(struct sockaddr_in6));
		*len = sizeof(struct sockaddr_in6);
		return true;
	}
	if (sa->sa_family != AF_INET)
		return false;
	const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
	if (!cl->scout_v6) {
		memcpy(out, in, sizeof(*in));
		*len = sizeof(*in);
		return true;
	}
	struct sockaddr_in6 *m = (struct sockaddr_in6 *)out;
	m->sin6_family = AF_INET6;
	m->sin6_port = in->sin_port;
	m->sin6_addr.s6_addr[10] = m->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&m->sin6_addr.s6_addr[12], &in->sin_addr, 4);
	*len = sizeof(*m);
	return true;
}

void client_scout(struct client *cl, const struct addrinfo *ai, const struct addrinfo *pick)
{
	client_scout_stop(cl);
	if (cl->addr_count < 2 || scout_socket(cl) < 0)
		return;
	uint8_t id[PATHPROBE_ID_LEN], buf[PATHPROBE_MIN_SIZE];
	gnutls_rnd(GNUTLS_RND_NONCE, id, sizeof(id));
	pathprobe_init(&cl->scout, id, PATHPROBE_MIN_SIZE);
	size_t n = pathprobe_write(&cl->scout, 0, buf, sizeof(buf));
	unsigned k = 0;
	cl->scout_n = 0;
	for (const struct addrinfo *a = ai; a && cl->scout_n < SCOUT_MAX; a = a->ai_next, k++) {
		struct sockaddr_storage *to = &cl->scout_to[cl->scout_n];
		socklen_t len;
		if (a == pick || !scout_addr(cl, a->ai_addr, to, &len))
			continue;
		if (sendto(cl->scout_fd, buf, n, 0, (const struct sockaddr *)to, len) < 0) {
			log_debug("scout to address %u: %s", k + 1, strerror(errno));
			continue;
		}
		memcpy(&cl->scout_ai[cl->scout_n++], a->ai_addr, a->ai_addrlen);
	}
	if (cl->scout_n)
		sd_event_now(cl->ev, CLOCK_MONOTONIC, &cl->scout_sent);
}

void client_scout_stop(struct client *cl)
{
	cl->scout_sent = 0;
	cl->scout_pick = -1;
	if (cl->scout_timer)
		sd_event_source_set_enabled(cl->scout_timer, SD_EVENT_OFF);
}

/* The attempt at this address has heard nothing, not even its probes'
 * answers: it may give way. */
static bool attempt_silent(const struct client *cl)
{
	return cl->scout_sent && cl->state == C_CONNECTING && cl->conn && !cl->conn->heard &&
	       cl->probe_best < 0;
}

static void take_scout(struct client *cl)
{
	int j = cl->scout_pick;
	char there[INET6_ADDRSTRLEN + 8];
	sockaddr_str((const struct sockaddr *)&cl->scout_to[j], there, sizeof(there));
	client_problem(cl, "no answer from %s at %s within %d ms, but %s answers: connecting there",
	               cl->cfg->server, cl->hub_str, SCOUT_DELAY / 1000, there);
	cl->prefer = cl->scout_ai[j];
	cl->addr_round = 0;
	client_drop_connection(cl);
	cl->quick_retry = true;
	client_schedule_retry(cl);
}

static int on_scout_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct client *cl = userdata;
	if (attempt_silent(cl) && cl->scout_pick >= 0)
		take_scout(cl);
	return 0;
}

/* The scout that sent this, or -1. */
static int scout_of(const struct client *cl, const struct sockaddr_storage *from)
{
	for (unsigned j = 0; j < cl->scout_n; j++)
		if (sockaddr_same(&cl->scout_to[j], from))
			return (int)j;
	return -1;
}

/* A watch's probe answered: the hub is back. */
static void watch_answered(struct client *cl)
{
	uint64_t left;
	if (client_retry_in(cl, &left) && left > 100000) {
		log_info("%s answers again at %s: connecting now, not in %.0f s", cl->cfg->server,
		         cl->hub_str, (double)left / 1e6);
		sd_event_source_set_time_relative(cl->retry, 0);
	}
	client_watch_stop(cl);
}

static int on_scout(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *cl = userdata;
	uint8_t buf[1500];
	for (int i = 0; i < 16; i++) {
		struct sockaddr_storage from;
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (n < 0)
			break;
		if (cl->watch_since && sockaddr_same(&cl->watch_to, &from) &&
		    pathprobe_match(&cl->watch, buf, (size_t)n) >= 0) {
			watch_answered(cl);
			continue;
		}
		int j;
		if (!attempt_silent(cl) || cl->scout_pick >= 0 ||
		    pathprobe_match(&cl->scout, buf, (size_t)n) < 0 || (j = scout_of(cl, &from)) < 0)
			continue; /* late, for an earlier attempt, or not ours */
		cl->scout_pick = j;
		uint64_t now;
		sd_event_now(cl->ev, CLOCK_MONOTONIC, &now);
		if (now - cl->scout_sent >= SCOUT_DELAY) {
			take_scout(cl);
			break;
		}
		timer_once(cl->scout_timer, cl->scout_sent + SCOUT_DELAY - now);
	}
	return 0;
}

/* ---- watching a silent hub ---- */

/* How often; a probe is 1200 bytes (a QUIC server answers no less), and
 * the backoff between attempts grows to 30 s: the hub back is found within
 * this of its return instead of within the rest of that wait. A hub gone
 * for longer than WATCH_CLOSE (moved, shut down) is watched less closely:
 * 600 bytes a second for days would be a cost on a metered link. */
#define WATCH_EVERY 2000000
#define WATCH_CLOSE (600 * 1000000ull)
#define WATCH_LATER 10000000
/* A hub's host that answered "port unreachable" is up without its slopnd:
 * a restart (an upgrade, systemctl restart) is back within seconds, and is
 * found within WATCH_SOON of it while the outage is younger than
 * WATCH_SOON_FOR: some 40 probes of a client, once. */
#define WATCH_SOON 250000
#define WATCH_SOON_FOR 10000000
/* Tests shorten WATCH_CLOSE (milliseconds) rather than wait 10 minutes. */
#define WATCH_CLOSE_ENV "SLOPN_TEST_WATCH_CLOSE_MS"

static uint64_t watch_close(void)
{
	static uint64_t close;
	if (!close) {
		uint64_t ms = testenv_get(WATCH_CLOSE_ENV, 1, 3600000);
		close = ms ? ms * 1000 : WATCH_CLOSE;
	}
	return close;
}

uint64_t client_watch_every(const struct client *cl)
{
	if (!cl->watch_since)
		return 0;
	uint64_t now;
	sd_event_now(cl->ev, CLOCK_MONOTONIC, &now);
	if (cl->port_refused && now - cl->silent_since < WATCH_SOON_FOR)
		return WATCH_SOON;
	return now - cl->silent_since < watch_close() ? WATCH_EVERY : WATCH_LATER;
}

static void watch_send(struct client *cl)
{
	uint8_t buf[PATHPROBE_MIN_SIZE];
	size_t n = pathprobe_write(&cl->watch, 0, buf, sizeof(buf));
	if (sendto(cl->scout_fd, buf, n, 0, (const struct sockaddr *)&cl->watch_to, cl->watch_len) < 0)
		log_debug("probe to %s while waiting: %s", cl->hub_str, strerror(errno));
}

static int on_watch_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct client *cl = userdata;
	uint64_t left, every = client_watch_every(cl);
	if (!every || !client_retry_in(cl, &left) || left < every / 2) {
		client_watch_stop(cl);
		return 0;
	}
	watch_send(cl);
	timer_once(cl->watch_timer, every);
	return 0;
}

void client_watch(struct client *cl)
{
	if (!cl->pick.ss_family || scout_socket(cl) < 0 ||
	    !scout_addr(cl, (const struct sockaddr *)&cl->pick, &cl->watch_to, &cl->watch_len))
		return;
	if (!cl->watch_since) {
		/* New connection IDs for each wait: an answer names its probe. */
		uint8_t id[PATHPROBE_ID_LEN];
		gnutls_rnd(GNUTLS_RND_NONCE, id, sizeof(id));
		pathprobe_init(&cl->watch, id, PATHPROBE_MIN_SIZE);
		sd_event_now(cl->ev, CLOCK_MONOTONIC, &cl->watch_since);
		if (!cl->silent_since)
			cl->silent_since = cl->watch_since;
	}
	/* The first after a little while: the attempt just given up had its
	 * own packets out. */
	timer_once(cl->watch_timer, client_watch_every(cl) / 2);
}

void client_watch_stop(struct client *cl)
{
	cl->watch_since = 0;
	if (cl->watch_timer)
		sd_event_source_set_enabled(cl->watch_timer, SD_EVENT_OFF);
}

int client_scout_init(struct client *cl)
{
	return timer_new(cl->ev, &cl->scout_timer, 1000, on_scout_timer, cl) < 0 ? -1
	     : timer_new(cl->ev, &cl->watch_timer, 1000, on_watch_timer, cl);
}

void client_scout_free(struct client *cl)
{
	if (cl->scout_timer)
		sd_event_source_disable_unref(cl->scout_timer);
	cl->scout_timer = NULL;
	if (cl->watch_timer)
		sd_event_source_disable_unref(cl->watch_timer);
	cl->watch_timer = NULL;
	if (cl->scout_src)
		sd_event_source_disable_unref(cl->scout_src);
	cl->scout_src = NULL;
	if (cl->scout_fd >= 0)
		close(cl->scout_fd);
	cl->scout_fd = -1;
}
