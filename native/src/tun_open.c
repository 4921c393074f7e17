/*
 * Creating or attaching a TUN/TAP device (Documentation/networking/tuntap.rst): open
 * /dev/net/tun, TUNSETIFF with IFF_TUN or IFF_TAP, always IFF_NO_PI (no 4-byte packet-info
 * prefix), optionally IFF_MULTI_QUEUE (one fd per queue; each TunPort on the same name adds a
 * queue) and IFF_TUN_EXCL (fail instead of attaching when the name exists). TUNSETIFF on an
 * existing device attaches to it -- if its type and flags match and no other process holds it
 * (EBUSY otherwise: attach to such a device through an AF_PACKET port in L3 mode).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry_io.h"

/* Largest read: a 64 KiB IP packet plus an Ethernet header and VLAN tag on a TAP. */
#define TUN_READ_MAX (65536u + 64u)

struct tun_opts {
	char name[16];
	int tap, multi_queue, persist, exclusive;
	uint32_t batch, port_index;
};

static int tun_setup(napi_env env, struct port *p, const struct tun_opts *o, uint32_t *flags, uint16_t *hwtype,
		     uint8_t mac[6], int *operstate)
{
	p->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (p->fd < 0) return throw_sys_error(env, "open", errno, "/dev/net/tun"), -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", o->name);
	ifr.ifr_flags = (short)((o->tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI | (o->multi_queue ? IFF_MULTI_QUEUE : 0) |
				(o->exclusive ? IFF_TUN_EXCL : 0));
	if (ioctl(p->fd, TUNSETIFF, &ifr) < 0) return throw_sys_error(env, "TUNSETIFF", errno, o->name), -1;
	snprintf(p->ifname, sizeof p->ifname, "%s", ifr.ifr_name); /* "%d" patterns are resolved here */
	if (o->persist && ioctl(p->fd, TUNSETPERSIST, 1) < 0)
		return throw_sys_error(env, "TUNSETPERSIST", errno, p->ifname), -1;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) return throw_sys_error(env, "socket(AF_INET)", errno, p->ifname), -1;
	int e = link_query(s, p->ifname, &p->ifindex, &p->mtu, flags, hwtype, mac, operstate);
	close(s);
	if (e) return throw_sys_error(env, "SIOCGIFINDEX", e, p->ifname), -1;
	return 0;
}

/* tunOpen(options, descriptors[, netns]) -> { handle, rxBuffer, name, l3, link } */
napi_value tun_open(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], result, ab, v;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 2) return throw_type_error(env, "tunOpen(options, descriptors[, netns])");
	struct tun_opts o;
	memset(&o, 0, sizeof o);
	if (napi_get_named_property(env, argv[0], "name", &v) != napi_ok || get_ifname(env, v, o.name)) return NULL;
	if (opt_bool(env, argv[0], "tap", 0, &o.tap) || opt_bool(env, argv[0], "multiQueue", 0, &o.multi_queue) ||
	    opt_bool(env, argv[0], "persist", 0, &o.persist) || opt_bool(env, argv[0], "exclusive", 0, &o.exclusive) ||
	    opt_u32(env, argv[0], "batchSize", 256, 1, 1024, &o.batch) ||
	    opt_u32(env, argv[0], "portIndex", 0, 0, 0xffff, &o.port_index))
		return NULL;
	struct port *p = calloc(1, sizeof *p);
	if (!p) return throw_sys_error(env, "calloc", ENOMEM, o.name);
	p->env = env;
	p->kind = KIND_TUN;
	p->fd = -1;
	p->l3 = !o.tap;
	p->rx_mode = RX_READ;
	p->tx_mode = TX_WRITE;
	p->read_max = TUN_READ_MAX;
	p->port_index = (uint16_t)o.port_index;
	if (rx_meta_bind(env, argv[1], &p->meta)) return free(p), NULL;
	p->batch_max = o.batch < p->meta.capacity ? o.batch : p->meta.capacity;

	uint32_t flags = 0;
	uint16_t hwtype = 0;
	uint8_t mac[6] = {0};
	int operstate = -1;
	struct netns_guard g;
	int rc = netns_enter(env, argc > 2 ? argv[2] : NULL, &g);
	if (!rc) {
		rc = tun_setup(env, p, &o, &flags, &hwtype, mac, &operstate);
		netns_leave(&g);
	}
	if (rc || napi_create_object(env, &result) != napi_ok ||
	    rx_expose(env, p, NULL, 0, (size_t)p->batch_max * 2048 + TUN_READ_MAX, 1, &ab)) {
		rx_meta_unbind(env, &p->meta);
		if (p->fd >= 0) close(p->fd);
		free(p);
		return NULL;
	}
	set_value(env, result, "rxBuffer", ab);
	set_bool(env, result, "rxCopy", 1);
	set_bool(env, result, "l3", p->l3);
	set_u32(env, result, "batchSize", p->batch_max);
	set_string(env, result, "name", p->ifname);
	set_value(env, result, "link", link_object(env, p->ifname, p->ifindex, p->mtu, flags, hwtype, mac, operstate));
	return port_wrap(env, p, result);
}
