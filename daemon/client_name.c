/* The hub's name, looked up without holding up the event loop: a DNS
 * server that does not answer makes getaddrinfo wait for its timeouts (up
 * to half a minute with resolv.conf's defaults), and meanwhile the client
 * would answer neither slopnctl nor a SIGTERM. glibc's getaddrinfo_a does
 * the lookup in a thread of its own; its end is told through an eventfd
 * that the loop watches. An IP address needs no lookup and is taken at
 * once. */
#include "daemon/client_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/log.h"

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
		client_problem(cl, "cannot resolve %s: %s", cl->host, gai_strerror(rv));
		lookup_free(cl);
		client_resolved(cl, NULL);
		return 0;
	}
	struct addrinfo *ai = cl->gai->ar_result;
	cl->gai->ar_result = NULL;
	lookup_free(cl);
	client_resolved(cl, ai);
	freeaddrinfo(ai);
	return 0;
}

int client_name_init(struct client *cl)
{
	cl->gai_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cl->gai_fd < 0 ||
	    sd_event_add_io(cl->ev, &cl->gai_src, cl->gai_fd, EPOLLIN, on_lookup, cl) < 0)
		return -1;
	return 0;
}

bool client_host_is_address(const char *h)
{
	struct in6_addr a;
	return inet_pton(AF_INET, h, &a) == 1 || inet_pton(AF_INET6, h, &a) == 1;
}

void client_name_lookup(struct client *cl)
{
	if (cl->gai)
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
	cl->gai = calloc(1, sizeof(*cl->gai) + sizeof(hints));
	if (!cl->gai) {
		client_problem(cl, "cannot resolve %s: out of memory", cl->host);
		client_resolved(cl, NULL);
		return;
	}
	struct addrinfo *h = (struct addrinfo *)(cl->gai + 1); /* lives as long as the request */
	*h = hints;
	cl->gai->ar_name = cl->host;
	cl->gai->ar_service = cl->port;
	cl->gai->ar_request = h;
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = lookup_done,
	                       .sigev_value.sival_int = cl->gai_fd};
	struct gaicb *list[1] = {cl->gai};
	int rv = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
	if (rv != 0) {
		client_problem(cl, "cannot resolve %s: %s", cl->host,
		               rv == EAI_SYSTEM ? strerror(errno) : gai_strerror(rv));
		free(cl->gai);
		cl->gai = NULL;
		client_resolved(cl, NULL);
	}
}

void client_name_free(struct client *cl)
{
	if (cl->gai_src)
		sd_event_source_disable_unref(cl->gai_src);
	cl->gai_src = NULL;
	if (cl->gai && gai_cancel(cl->gai) != EAI_CANCELED && gai_error(cl->gai) == EAI_INPROGRESS) {
		abandoned = cl->gai; /* its thread still runs: it keeps the request and the fd */
		cl->gai = NULL;
		return;
	}
	if (cl->gai)
		lookup_free(cl);
	if (cl->gai_fd >= 0)
		close(cl->gai_fd);
	cl->gai_fd = -1;
}
