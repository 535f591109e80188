#include "tun/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tun_open(const char *name, char name_out[IFNAMSIZ], int *ifindex)
{
	if (strlen(name) >= IFNAMSIZ) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct ifreq ifr = {0};
	/* No packet-information header: each read or write is one bare IP packet. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
	name_out[IFNAMSIZ - 1] = '\0';
	*ifindex = (int)if_nametoindex(name_out);
	if (*ifindex == 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

const char *tun_open_hint(int err)
{
	switch (err) {
	case EBUSY: /* TUNSETIFF on a TUN that another process holds */
		return "the name is in use by another TUN device (another slopnd?): choose another with --tun";
	case EINVAL: /* ... or on an interface of another kind */
		return "an interface of another kind has that name: choose another with --tun";
	case EPERM:
	case EACCES:
		return "needs root, or CAP_NET_ADMIN";
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return "no /dev/net/tun: load the tun module (modprobe tun)";
	default:
		return "needs CAP_NET_ADMIN and /dev/net/tun";
	}
}
