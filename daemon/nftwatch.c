#include "daemon/nftwatch.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/timer.h"
#include "tun/nft.h"

/* The first change after a quiet spell is looked at within a millisecond:
 * until a flushed table is back, the clients' NAT or the kill switch is
 * gone (the look took 250-340 ms when every change waited 200 ms). Changes
 * that keep coming (a firewall's reload in steps, our own put back) are
 * looked at no more than once per SPACING. */
#define NFTWATCH_SOON 1000
#define NFTWATCH_SPACING 200000

struct nftwatch {
	sd_event_source *check;
	uint64_t last; /* when the last look was due */
};

static int on_change(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct nftwatch *w = userdata;
	if (!nft_monitor_drain(fd) || timer_armed(w->check))
		return 0;
	uint64_t now = timer_now_usec(), at = now + NFTWATCH_SOON;
	if (w->last && at < w->last + NFTWATCH_SPACING)
		at = w->last + NFTWATCH_SPACING;
	w->last = at;
	timer_once(w->check, at - now);
	return 0;
}

int nftwatch_start(sd_event *ev, sd_event_source **watch, sd_event_source *check)
{
	int fd = nft_monitor_open();
	if (fd < 0)
		return -1;
	struct nftwatch *w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	w->check = check;
	int rv = sd_event_add_io(ev, watch, fd, EPOLLIN, on_change, w);
	if (rv < 0) {
		free(w);
		close(fd);
		errno = -rv;
		return -1;
	}
	sd_event_source_set_io_fd_own(*watch, 1);
	sd_event_source_set_destroy_callback(*watch, free);
	return 0;
}
