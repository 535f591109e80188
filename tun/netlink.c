/* rtnetlink requests over libmnl. These are control-path calls (start-up,
 * login), so a socket per request keeps them simple and stateless. */
#include "tun/netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Send one request and wait for its ack; cb, if given, sees every reply of a dump. */
static int nl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -1;
	int rv = -1, err = 0;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	unsigned portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = (unsigned)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			goto out;
		int r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data);
		if (r < 0) {
			err = errno;
			goto out;
		}
		if (r == MNL_CB_STOP)
			break;
	}
	rv = 0;
out:
	if (rv < 0 && !err)
		err = errno;
	mnl_socket_close(nl);
	errno = err;
	return rv;
}

static struct nlmsghdr *start(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return nlh;
}

static int addr_msg(uint16_t type, uint16_t flags, int ifindex, uint32_t addr, unsigned prefix)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = start(buf, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, addr);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, addr);
	return nl_talk(nlh, NULL, NULL);
}

int nl_addr_add(int ifindex, uint32_t addr, unsigned prefix)
{
	return addr_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex, addr, prefix);
}

struct addr_list {
	int ifindex;
	unsigned n;
	uint32_t addr[64];
	unsigned char prefix[64];
};

static int collect_addr(const struct nlmsghdr *nlh, void *data)
{
	struct addr_list *l = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != l->ifindex || l->n == 64)
		return MNL_CB_OK;
	struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(a) == IFA_LOCAL && mnl_attr_get_payload_len(a) == 4) {
			l->addr[l->n] = mnl_attr_get_u32(a);
			l->prefix[l->n++] = ifa->ifa_prefixlen;
		}
	}
	return MNL_CB_OK;
}

int nl_addr_flush(int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	struct addr_list l = {.ifindex = ifindex};
	if (nl_talk(nlh, collect_addr, &l) < 0)
		return -1;
	for (unsigned i = 0; i < l.n; i++)
		if (addr_msg(RTM_DELADDR, 0, ifindex, l.addr[i], l.prefix[i]) < 0 && errno != EADDRNOTAVAIL)
			return -1;
	return 0;
}

static int link_msg(uint16_t type, int ifindex, unsigned flags, unsigned change, unsigned mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = start(buf, type, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_talk(nlh, NULL, NULL);
}

int nl_set_mtu(int ifindex, unsigned mtu)
{
	return link_msg(RTM_NEWLINK, ifindex, 0, 0, mtu);
}

int nl_set_up(int ifindex, int up)
{
	return link_msg(RTM_NEWLINK, ifindex, up ? IFF_UP : 0, IFF_UP, 0);
}

int nl_link_delete(int ifindex)
{
	return link_msg(RTM_DELLINK, ifindex, 0, 0, 0);
}

static int route_msg(uint16_t type, uint16_t flags, int ifindex, uint32_t dst,
                     unsigned prefix, uint32_t gw)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = start(buf, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = (unsigned char)prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_DST, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	if (gw)
		mnl_attr_put_u32(nlh, RTA_GATEWAY, gw);
	return nl_talk(nlh, NULL, NULL);
}

int nl_route_add(int ifindex, uint32_t dst, unsigned prefix, uint32_t gateway)
{
	return route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, ifindex, dst, prefix, gateway);
}

int nl_route_del(int ifindex, uint32_t dst, unsigned prefix, uint32_t gateway)
{
	return route_msg(RTM_DELROUTE, 0, ifindex, dst, prefix, gateway);
}
