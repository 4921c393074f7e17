/*
 * Link facts and link control through the classic interface ioctls (netdevice(7)):
 * SIOCGIFINDEX / SIOCGIFMTU / SIOCGIFFLAGS / SIOCGIFHWADDR to read, SIOCSIFFLAGS / SIOCSIFMTU to
 * change (CAP_NET_ADMIN). Any socket reaches them; an AF_INET datagram socket needs no privilege
 * for the reads. SIOCGIFFLAGS truncates to 16 bits (no IFF_LOWER_UP), so the RFC 2863
 * operational state comes from rtnetlink: RTM_GETLINK, attribute IFLA_OPERSTATE (rtnetlink(7)).
 * Both follow the calling thread's network namespace, unlike /sys/class/net, which shows the
 * namespace sysfs was mounted in.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry_io.h"


static void ifreq_for(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof *ifr);
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
}

/* IF_OPER_* of ifindex in the calling thread's namespace, or -1 when rtnetlink does not answer. */
int link_operstate(uint32_t ifindex)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) return -1;
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {.nh = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1},
		 .ifi = {.ifi_family = AF_UNSPEC, .ifi_index = (int)ifindex}};
	struct timeval tv = {.tv_sec = 1};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	int state = -1;
	if (send(fd, &req, sizeof req, 0) == (ssize_t)sizeof req) {
		static __thread char buf[16384];
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		for (struct nlmsghdr *h = (void *)buf; n > 0 && NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type != RTM_NEWLINK) break;
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			int len = (int)IFLA_PAYLOAD(h);
			for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
				if (a->rta_type == IFLA_OPERSTATE) state = *(uint8_t *)RTA_DATA(a);
			break;
		}
	}
	close(fd);
	return state;
}

/* Returns 0 or an errno (ENODEV when the interface does not exist in this namespace). */
int link_query(int fd, const char *ifname, uint32_t *ifindex, uint32_t *mtu, uint32_t *flags, uint16_t *hwtype,
	       uint8_t mac[6], int *operstate)
{
	struct ifreq ifr;
	ifreq_for(&ifr, ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) return errno;
	*ifindex = (uint32_t)ifr.ifr_ifindex;
	ifreq_for(&ifr, ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) return errno;
	*mtu = (uint32_t)ifr.ifr_mtu;
	ifreq_for(&ifr, ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) return errno;
	*flags = (uint16_t)ifr.ifr_flags;
	ifreq_for(&ifr, ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) return errno;
	*hwtype = ifr.ifr_hwaddr.sa_family;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	*operstate = link_operstate(*ifindex);
	return 0;
}

napi_value link_object(napi_env env, const char *ifname, uint32_t ifindex, uint32_t mtu, uint32_t flags,
		       uint16_t hwtype, const uint8_t mac[6], int operstate)
{
	napi_value o;
	napi_create_object(env, &o);
	napi_value v;
	napi_create_int32(env, operstate, &v);
	set_value(env, o, "operstate", v);
	set_string(env, o, "name", ifname);
	set_u32(env, o, "ifindex", ifindex);
	set_u32(env, o, "mtu", mtu);
	set_u32(env, o, "flags", flags);
	set_u32(env, o, "hwType", hwtype);
	if (hwtype == ARPHRD_ETHER) {
		char s[18];
		snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		set_string(env, o, "mac", s);
	} else {
		napi_value nul;
		napi_get_null(env, &nul);
		set_value(env, o, "mac", nul);
	}
	return o;
}

/* An AF_INET socket created inside `ns` (undefined = here); ioctls on it act in that namespace. */
static int with_socket(napi_env env, napi_value ns, int *fd)
{
	struct netns_guard g;
	if (netns_enter(env, ns, &g)) return -1;
	*fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int e = errno;
	netns_leave(&g);
	if (*fd < 0) return throw_sys_error(env, "socket(AF_INET)", e, NULL), -1;
	return 0;
}

/* linkInfo(name[, netns]) -> { name, ifindex, mtu, flags, hwType, mac } */
napi_value link_info(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2] = {NULL, NULL};
	char name[16];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 1 || get_ifname(env, argv[0], name)) return NULL;
	struct netns_guard g;
	if (netns_enter(env, argc > 1 ? argv[1] : NULL, &g)) return NULL;
	uint32_t ifindex, mtu, flags;
	uint16_t hw;
	uint8_t mac[6];
	int operstate, e, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
	} else {
		e = link_query(fd, name, &ifindex, &mtu, &flags, &hw, mac, &operstate);
		close(fd);
	}
	netns_leave(&g);
	if (e) return throw_sys_error(env, fd < 0 ? "socket(AF_INET)" : "SIOCGIFINDEX", e, name);
	return link_object(env, name, ifindex, mtu, flags, hw, mac, operstate);
}

/* linkSetUp(name, up[, netns]) */
napi_value link_set_up(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3] = {NULL, NULL, NULL};
	char name[16];
	bool up;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 2 || get_ifname(env, argv[0], name)) return NULL;
	if (napi_get_value_bool(env, argv[1], &up) != napi_ok) return throw_type_error(env, "up must be a boolean");
	int fd;
	if (with_socket(env, argc > 2 ? argv[2] : NULL, &fd)) return NULL;
	struct ifreq ifr;
	ifreq_for(&ifr, name);
	int e = 0;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) e = errno;
	if (!e) {
		if (up) ifr.ifr_flags |= IFF_UP;
		else ifr.ifr_flags &= ~IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) e = errno;
	}
	close(fd);
	if (e) return throw_sys_error(env, "SIOCSIFFLAGS", e, name);
	return NULL;
}

/* linkSetMtu(name, mtu[, netns]) */
napi_value link_set_mtu(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3] = {NULL, NULL, NULL};
	char name[16];
	uint32_t mtu;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 2 || get_ifname(env, argv[0], name)) return NULL;
	if (napi_get_value_uint32(env, argv[1], &mtu) != napi_ok || mtu < 68 || mtu > 65535)
		return throw_type_error(env, "mtu must be an integer in [68, 65535]");
	int fd;
	if (with_socket(env, argc > 2 ? argv[2] : NULL, &fd)) return NULL;
	struct ifreq ifr;
	ifreq_for(&ifr, name);
	ifr.ifr_mtu = (int)mtu;
	int e = ioctl(fd, SIOCSIFMTU, &ifr) < 0 ? errno : 0;
	close(fd);
	if (e) return throw_sys_error(env, "SIOCSIFMTU", e, name);
	return NULL;
}
