/* The hub's name under --kill-switch, looked up by slopnd itself (c-ares)
 * instead of glibc: every socket of the lookup carries KILLSWITCH_DNS_MARK,
 * which the kill switch lets out (to port 53), so a hub whose address
 * changes (dynamic DNS) is followed while no other program's DNS leaves
 * outside the tunnel. glibc's queries could not be told from anyone
 * else's, and with systemd-resolved they leave from resolved: when
 * resolv.conf names only resolved's stub, its upstream servers are asked
 * directly. A channel per lookup, so that each reads resolv.conf as it is
 * then (another network, other servers). */
#include "daemon/client_int.h"

#include <ares.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/timer.h"
#include "tun/killswitch.h"

#define RESOLVED_UPSTREAM "/run/systemd/resolve/resolv.conf"
#define ARES_FDS 16
/* A lookup's longest wait, as glibc's with its defaults and one server.
 * c-ares's defaults (5 s, 4 tries, each twice the last) wait 75 s before
 * the addresses the last lookup found are tried. */
#define LOOKUP_MAX_SECS 10

struct client_ares {
	struct client *cl;
	ares_channel ch;
	sd_event_source *timer;
	struct {
		int fd;
		sd_event_source *src;
	} io[ARES_FDS];
	/* The answer, kept until c-ares has returned: it is handed on
	 * (and the channel destroyed) outside c-ares's own calls. */
	bool done;
	int status;
	struct ares_addrinfo *res;
	uint64_t deadline; /* CLOCK_MONOTONIC, us: given up then */
	bool gave_up;
};

static int mark_socket(ares_socket_t fd, int type, void *data)
{
	uint32_t mark = KILLSWITCH_DNS_MARK;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		log_warn("kill switch: cannot mark a DNS socket for the lookup of the hub's name "
		         "(SO_MARK: %s): the kill switch would drop its queries", strerror(errno));
		return -1; /* c-ares gives the socket up */
	}
	return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct client_ares *a = data;
	int slot = -1;
	for (int i = 0; i < ARES_FDS; i++)
		if (a->io[i].src ? a->io[i].fd == fd : slot < 0)
			slot = i;
	if (slot < 0)
		return; /* more sockets than ever seen: its timeout ends the query */
	uint32_t ev = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
	sd_event_source **src = &a->io[slot].src;
	if (!ev) {
		if (*src && a->io[slot].fd == fd)
			*src = sd_event_source_disable_unref(*src);
		return;
	}
	if (*src && a->io[slot].fd == fd) {
		sd_event_source_set_io_events(*src, ev);
		return;
	}
	a->io[slot].fd = fd;
	if (sd_event_add_io(a->cl->ev, src, fd, ev, on_io, a) < 0)
		*src = NULL;
}

static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct client_ares *a = arg;
	if (status == ARES_EDESTRUCTION)
		return;
	a->done = true;
	a->status = status;
	a->res = res;
}

static void channel_free(struct client_ares *a)
{
	if (a->ch)
		ares_destroy(a->ch); /* closes its sockets: sock_state drops their sources */
	a->ch = NULL;
	for (int i = 0; i < ARES_FDS; i++)
		a->io[i].src = sd_event_source_disable_unref(a->io[i].src);
	a->timer = sd_event_source_disable_unref(a->timer);
}

/* After each of c-ares's calls: the answer handed on, or the next timeout. */
static void settle(struct client_ares *a)
{
	struct client *cl = a->cl;
	if (!a->done) {
		uint64_t now = timer_now_usec(), left = a->deadline > now ? a->deadline - now : 0;
		struct timeval max = {.tv_sec = (time_t)(left / 1000000), .tv_usec = (suseconds_t)(left % 1000000)};
		struct timeval tv, *t = ares_timeout(a->ch, &max, &tv);
		if (t && a->timer) {
			sd_event_source_set_time_relative(a->timer,
			                                  (uint64_t)t->tv_sec * 1000000 + (uint64_t)t->tv_usec);
			sd_event_source_set_enabled(a->timer, SD_EVENT_ONESHOT);
		}
		return;
	}
	int status = a->status;
	bool gave_up = a->gave_up;
	struct ares_addrinfo *res = a->res;
	channel_free(a);
	free(a);
	cl->ares = NULL;
	struct addrinfo chain[SCOUT_MAX];
	unsigned n = 0;
	for (struct ares_addrinfo_node *p = res ? res->nodes : NULL; p && n < SCOUT_MAX; p = p->ai_next)
		if (p->ai_family == AF_INET || p->ai_family == AF_INET6)
			chain[n++] = (struct addrinfo){.ai_family = p->ai_family, .ai_socktype = SOCK_DGRAM,
			                               .ai_addrlen = p->ai_addrlen, .ai_addr = p->ai_addr};
	for (unsigned i = 0; i + 1 < n; i++)
		chain[i].ai_next = &chain[i + 1];
	if (status == ARES_SUCCESS && n > 0)
		client_name_found(cl, chain);
	else if (gave_up)
		client_name_failed(cl, "no answer from the DNS servers in resolv.conf within "
		                       STRINGIFY(LOOKUP_MAX_SECS) " s");
	else
		client_name_failed(cl, status == ARES_SUCCESS ? "no IPv4 or IPv6 address" : ares_strerror(status));
	if (res)
		ares_freeaddrinfo(res);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client_ares *a = userdata;
	ares_process_fd(a->ch, revents & (EPOLLIN | EPOLLERR | EPOLLHUP) ? fd : ARES_SOCKET_BAD,
	                revents & EPOLLOUT ? fd : ARES_SOCKET_BAD);
	settle(a);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct client_ares *a = userdata;
	ares_process_fd(a->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	if (!a->done && timer_now_usec() >= a->deadline) {
		/* Given up: the channel's end (settle) calls on_answer no more
		 * but with ARES_EDESTRUCTION, which it ignores. */
		a->done = a->gave_up = true;
		a->status = ARES_ETIMEOUT;
	}
	settle(a);
	return 0;
}

static int channel_new(struct client_ares *a, const char *resolvconf)
{
	struct ares_options o = {.sock_state_cb = sock_state, .sock_state_cb_data = a};
	int mask = ARES_OPT_SOCK_STATE_CB;
	if (resolvconf) {
		o.resolvconf_path = (char *)resolvconf;
		mask |= ARES_OPT_RESOLVCONF;
	}
	int rv = ares_init_options(&a->ch, &o, mask);
	if (rv != ARES_SUCCESS) {
		a->ch = NULL;
		return rv;
	}
	ares_set_socket_callback(a->ch, mark_socket, a);
	return ARES_SUCCESS;
}

/* resolv.conf names only systemd-resolved's stub: whose queries upstream
 * the kill switch cannot tell from anyone's. */
static bool only_stub(ares_channel ch)
{
	struct ares_addr_port_node *list = NULL;
	if (ares_get_servers_ports(ch, &list) != ARES_SUCCESS)
		return false;
	struct sockaddr_storage s[8];
	size_t n = 0;
	bool other = false;
	for (struct ares_addr_port_node *p = list; p; p = p->next) {
		if (p->family != AF_INET || n == 8) {
			other = true;
			continue;
		}
		struct sockaddr_in *in = (struct sockaddr_in *)&s[n++];
		*in = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr = p->addr.addr4};
	}
	ares_free_data(list);
	return !other && killswitch_resolver_is_stub(s, n);
}

void client_ares_lookup(struct client *cl)
{
	static bool said;
	struct client_ares *a = calloc(1, sizeof(*a));
	if (!a) {
		client_name_failed(cl, "out of memory");
		return;
	}
	a->cl = cl;
	int rv = channel_new(a, NULL);
	if (rv == ARES_SUCCESS && only_stub(a->ch)) {
		if (access(RESOLVED_UPSTREAM, R_OK) == 0) {
			if (!said)
				log_info("kill switch: resolv.conf names systemd-resolved's stub, whose queries "
				         "would be dropped: the hub's name is asked of its upstream servers (%s)",
				         RESOLVED_UPSTREAM);
			ares_destroy(a->ch);
			rv = channel_new(a, RESOLVED_UPSTREAM);
		} else if (!said) {
			log_warn("kill switch: resolv.conf names only systemd-resolved's stub, and its upstream "
			         "servers (%s) cannot be read: the lookup of the hub's name cannot pass the kill "
			         "switch (give the hub as an address)", RESOLVED_UPSTREAM);
		}
		said = true;
	}
	if (rv != ARES_SUCCESS ||
	    sd_event_add_time(cl->ev, &a->timer, CLOCK_MONOTONIC, UINT64_MAX, 1000, on_timer, a) < 0) {
		channel_free(a);
		free(a);
		client_name_failed(cl, rv != ARES_SUCCESS ? ares_strerror(rv) : "out of memory");
		return;
	}
	sd_event_source_set_enabled(a->timer, SD_EVENT_OFF);
	cl->ares = a;
	a->deadline = timer_now_usec() + LOOKUP_MAX_SECS * 1000000ull;
	struct ares_addrinfo_hints hints = {.ai_flags = ARES_AI_NUMERICSERV, .ai_family = AF_UNSPEC,
	                                    .ai_socktype = SOCK_DGRAM};
	ares_getaddrinfo(a->ch, cl->host, cl->port, &hints, on_answer, a);
	settle(a); /* an answer from /etc/hosts comes at once */
}

bool client_ares_busy(const struct client *cl)
{
	return cl->ares != NULL;
}

void client_ares_free(struct client *cl)
{
	if (!cl->ares)
		return;
	channel_free(cl->ares);
	if (cl->ares->res)
		ares_freeaddrinfo(cl->ares->res);
	free(cl->ares);
	cl->ares = NULL;
}

int client_ares_init(void)
{
	return ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS ? 0 : -1;
}
