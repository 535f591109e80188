/* The hub's name, looked up without holding up the event loop: a DNS
 * server that does not answer makes getaddrinfo wait for its timeouts (up
 * to half a minute with resolv.conf's defaults), and meanwhile the client
 * would answer neither slopnctl nor a SIGTERM. glibc's getaddrinfo_a does
 * the lookup in a thread of its own; its end is told through an eventfd
 * that the loop watches. Under --kill-switch, slopnd asks DNS itself
 * (client_ares.c), so that the kill switch lets its queries out and no
 * one else's. An IP address needs no lookup and is taken at once. When a
 * lookup fails, the addresses the last one found are tried: those of this
 * run, or of an earlier one (kept in STATE_DIR/hub-TUN.json), so that a
 * client started while DNS does not answer still reaches its hub. */
#include "daemon/client_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "tun/statefile.h"
#include "proto/hubfile.h"

/* A lookup that was still running when the client stopped: glibc's thread
 * writes into it and into the eventfd until it ends, so neither is freed.
 * Kept here so that it stays reachable. */
static struct gaicb *abandoned;

/* In glibc's thread: only the eventfd's number crosses over. */
static void lookup_done(union sigval sv)
{
	uint64_t one = 1;
	ssize_t n = write(sv.sival_int, &one, sizeof(one));
	(void)n; /* a full counter already wakes the loop */
}

static void lookup_free(struct client *cl)
{
	if (cl->gai->ar_result)
		freeaddrinfo(cl->gai->ar_result);
	free(cl->gai);
	cl->gai = NULL;
}

_Static_assert(SCOUT_MAX <= HUBFILE_MAX, "hub-TUN.json holds what a lookup keeps");

static void saved_path(const struct client *cl, char *buf, size_t len)
{
	snprintf(buf, len, "%s/hub-%s.json", cl->cfg->state_dir, cl->tunname);
}

/* An earlier run's last lookup, if it was of this name. */
static void load_saved(struct client *cl)
{
	char path[PATH_MAX], err[256], *buf = NULL;
	size_t len;
	saved_path(cl, path, sizeof(path));
	int r = statefile_read(path, 4096, &buf, &len, err, sizeof(err));
	struct hubfile h;
	if (r < 0)
		log_warn("%s: %s; the hub's addresses from an earlier run are not known", path, err);
	else if (r > 0 && hubfile_parse(buf, len, &h, err, sizeof(err)) < 0)
		log_warn("%s: %s; not used (the next lookup of the hub's name writes it again)", path, err);
	else if (r > 0 && strcmp(h.server, cl->cfg->server) == 0)
		for (size_t i = 0; i < h.n && cl->known_n < SCOUT_MAX; i++) {
			memcpy(&cl->known[cl->known_n], &h.addr[i], h.len[i]);
			cl->known_len[cl->known_n++] = h.len[i];
		}
	free(buf);
}

static void save(struct client *cl)
{
	struct hubfile h = {.n = cl->known_n};
	char path[PATH_MAX], err[256];
	if (snprintf(h.server, sizeof(h.server), "%s", cl->cfg->server) >= (int)sizeof(h.server))
		return; /* a name that long is not kept (hubfile.h) */
	for (size_t i = 0; i < h.n && i < HUBFILE_MAX; i++) {
		memcpy(&h.addr[i], &cl->known[i], cl->known_len[i]);
		h.len[i] = cl->known_len[i];
	}
	saved_path(cl, path, sizeof(path));
	char *text = hubfile_format(&h);
	if (!text)
		snprintf(err, sizeof(err), "out of memory");
	else if (statefile_dir_make(cl->cfg->state_dir, err, sizeof(err)) < 0)
		;
	else if (statefile_write(path, text, strlen(text), 0600, err, sizeof(err)) == 0)
		err[0] = '\0';
	if (err[0])
		log_warn("cannot keep the hub's addresses in %s: %s; a start while DNS does not answer "
		         "will not find the hub", path, err);
	free(text);
}

/* What a lookup found, kept for when the next ones fail (in this run and
 * the next: saved when it changed, not when a round-robin name only
 * reordered it). */
static void remember(struct client *cl, const struct addrinfo *ai)
{
	struct sockaddr_storage was[SCOUT_MAX];
	unsigned was_n = cl->known_n;
	memcpy(was, cl->known, sizeof(was));
	memset(cl->known, 0, sizeof(cl->known));
	cl->known_n = 0;
	for (const struct addrinfo *a = ai; a && cl->known_n < SCOUT_MAX; a = a->ai_next) {
		if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
		    a->ai_addrlen > sizeof(cl->known[0]))
			continue;
		memcpy(&cl->known[cl->known_n], a->ai_addr, a->ai_addrlen);
		cl->known_len[cl->known_n++] = a->ai_addrlen;
	}
	if (cl->known_n && !sockaddr_same_set(was, was_n, cl->known, cl->known_n))
		save(cl);
}

/* An attempt at the addresses the last lookup found. */
static void try_known(struct client *cl)
{
	struct addrinfo chain[SCOUT_MAX];
	for (unsigned i = 0; i < cl->known_n; i++)
		chain[i] = (struct addrinfo){.ai_family = cl->known[i].ss_family,
		                             .ai_socktype = SOCK_DGRAM,
		                             .ai_addr = (struct sockaddr *)&cl->known[i],
		                             .ai_addrlen = cl->known_len[i],
		                             .ai_next = i + 1 < cl->known_n ? &chain[i + 1] : NULL};
	client_resolved(cl, chain);
}

/* A failed lookup: the attempt goes to the addresses the last one found,
 * if any. A name that no server answers for now still names the hub it
 * named (and --pin, if given, tells a wrong one). */
void client_name_failed(struct client *cl, const char *why)
{
	if (!cl->known_n) {
		client_problem(cl, "cannot resolve %s: %s", cl->host, why);
		client_resolved(cl, NULL);
		return;
	}
	client_problem(cl, "cannot resolve %s: %s; trying the %u address%s its last lookup found",
	               cl->host, why, cl->known_n, cl->known_n == 1 ? "" : "es");
	try_known(cl);
}

static int on_lookup(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *cl = userdata;
	uint64_t n;
	if (read(fd, &n, sizeof(n)) < 0 || !cl->gai)
		return 0;
	int rv = gai_error(cl->gai);
	if (rv == EAI_INPROGRESS)
		return 0;
	if (rv != 0) {
		/* (errno of EAI_SYSTEM was glibc's thread's: not ours to read) */
		lookup_free(cl);
		client_name_failed(cl, gai_strerror(rv));
		return 0;
	}
	struct addrinfo *ai = cl->gai->ar_result;
	cl->gai->ar_result = NULL;
	lookup_free(cl);
	client_name_found(cl, ai);
	freeaddrinfo(ai);
	return 0;
}

void client_name_found(struct client *cl, struct addrinfo *ai)
{
	remember(cl, ai);
	client_resolved(cl, ai);
}

int client_name_init(struct client *cl)
{
	if (cl->cfg->kill_switch && client_ares_init() < 0)
		return -1;
	if (!client_host_is_address(cl->host))
		load_saved(cl);
	cl->gai_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cl->gai_fd < 0 ||
	    sd_event_add_io(cl->ev, &cl->gai_src, cl->gai_fd, EPOLLIN, on_lookup, cl) < 0)
		return -1;
	return 0;
}

bool client_host_is_address(const char *h)
{
	struct in6_addr a;
	if (inet_pton(AF_INET, h, &a) == 1 || inet_pton(AF_INET6, h, &a) == 1)
		return true;
	/* fe80::1%eth0: an address on a link (no name for SNI, nor a DNS
	 * lookup); getaddrinfo reads the interface. */
	const char *pct = strchr(h, '%');
	char a6[INET6_ADDRSTRLEN];
	if (!pct || !pct[1] || (size_t)(pct - h) >= sizeof(a6))
		return false;
	memcpy(a6, h, (size_t)(pct - h));
	a6[pct - h] = '\0';
	return inet_pton(AF_INET6, a6, &a) == 1;
}

void client_name_lookup(struct client *cl)
{
	if (cl->gai || client_ares_busy(cl))
		return; /* one at a time: its end starts the attempt */
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
	                         .ai_flags = AI_NUMERICSERV};
	if (client_host_is_address(cl->host)) {
		struct addrinfo *ai = NULL;
		hints.ai_flags |= AI_NUMERICHOST;
		int rv = getaddrinfo(cl->host, cl->port, &hints, &ai);
		if (rv != 0)
			client_problem(cl, "cannot use %s: %s", cl->host, gai_strerror(rv));
		client_resolved(cl, rv == 0 ? ai : NULL);
		if (ai)
			freeaddrinfo(ai);
		return;
	}
	if (cl->cfg->kill_switch) {
		client_ares_lookup(cl);
		return;
	}
	/* The request owns its hints and names: a lookup abandoned at exit
	 * (client_name_free) reads them after the client is gone. */
	size_t hl = strlen(cl->host) + 1, pl = strlen(cl->port) + 1;
	cl->gai = calloc(1, sizeof(*cl->gai) + sizeof(hints) + hl + pl);
	if (!cl->gai) {
		client_name_failed(cl, "out of memory");
		return;
	}
	struct addrinfo *h = (struct addrinfo *)(cl->gai + 1);
	*h = hints;
	char *name = (char *)(h + 1);
	memcpy(name, cl->host, hl);
	memcpy(name + hl, cl->port, pl);
	cl->gai->ar_name = name;
	cl->gai->ar_service = name + hl;
	cl->gai->ar_request = h;
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = lookup_done,
	                       .sigev_value.sival_int = cl->gai_fd};
	struct gaicb *list[1] = {cl->gai};
	int rv = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
	if (rv != 0) {
		const char *why = rv == EAI_SYSTEM ? strerror(errno) : gai_strerror(rv);
		free(cl->gai);
		cl->gai = NULL;
		client_name_failed(cl, why);
	}
}

void client_name_free(struct client *cl)
{
	client_ares_free(cl);
	if (cl->gai_src)
		sd_event_source_disable_unref(cl->gai_src);
	cl->gai_src = NULL;
	if (cl->gai && gai_cancel(cl->gai) != EAI_CANCELED && gai_error(cl->gai) == EAI_INPROGRESS) {
		abandoned = cl->gai; /* its thread still runs: it keeps the request and the fd */
		cl->gai = NULL;
		return;
	}
	if (cl->gai) {
		/* Done, but glibc marks a request done before its thread writes
		 * to the eventfd: closed now, the fd could be another file's
		 * when that write comes. It stays open until the exit. */
		lookup_free(cl);
		return;
	}
	if (cl->gai_fd >= 0)
		close(cl->gai_fd);
	cl->gai_fd = -1;
}
