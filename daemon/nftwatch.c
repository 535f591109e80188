#include "daemon/nftwatch.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/timer.h"
#include "tun/nft.h"

static int on_change(sd_event_source *src, int fd, uint32_t revents, void *check)
{
	if (nft_monitor_drain(fd))
		timer_once(check, 200000);
	return 0;
}

int nftwatch_start(sd_event *ev, sd_event_source **watch, sd_event_source *check)
{
	int fd = nft_monitor_open();
	if (fd < 0)
		return -1;
	int rv = sd_event_add_io(ev, watch, fd, EPOLLIN, on_change, check);
	if (rv < 0) {
		close(fd);
		errno = -rv;
		return -1;
	}
	sd_event_source_set_io_fd_own(*watch, 1);
	return 0;
}
