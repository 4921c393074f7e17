/*
 * Opening an AF_PACKET port: socket, rings, options, bind -- in the order packet(7) and
 * Documentation/networking/packet_mmap.rst require:
 *   PACKET_VNET_HDR, PACKET_VERSION and PACKET_LOSS before the rings (EBUSY afterwards);
 *   RX ring then TX ring, then ONE mmap covering both, RX first;
 *   bind() last, so nothing is queued for a socket that is not set up yet (the socket is
 *   created with protocol 0, which receives nothing until bind names ETH_P_ALL);
 *   PACKET_FANOUT after bind (the kernel requires a bound, running socket).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry_io.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct afp_opts {
	char ifname[16];
	char rx[8], tx[8], fanout_mode[16];
	int l3, vnet, promisc, ignore_outgoing, qdisc_bypass, copy, fanout_rollover, fanout_defrag;
	uint32_t block_size, block_count, frame_size, block_tov_ms;
	uint32_t tx_frame_size, tx_frame_count, rcvbuf, sndbuf, fanout_group, port_index, batch;
	int has_fanout;
};

static int parse_opts(napi_env env, napi_value o, struct afp_opts *x)
{
	napi_value v;
	memset(x, 0, sizeof *x);
	if (napi_get_named_property(env, o, "ifname", &v) != napi_ok || get_ifname(env, v, x->ifname)) return -1;
	strcpy(x->rx, "v2");
	strcpy(x->tx, "mmsg");
	strcpy(x->fanout_mode, "hash");
	if (opt_string(env, o, "rx", x->rx, sizeof x->rx) < 0 || opt_string(env, o, "tx", x->tx, sizeof x->tx) < 0 ||
	    opt_string(env, o, "fanoutMode", x->fanout_mode, sizeof x->fanout_mode) < 0)
		return -1;
	if (opt_bool(env, o, "l3", 0, &x->l3) || opt_bool(env, o, "vnet", 0, &x->vnet) ||
	    opt_bool(env, o, "promisc", 1, &x->promisc) || opt_bool(env, o, "ignoreOutgoing", 1, &x->ignore_outgoing) ||
	    opt_bool(env, o, "qdiscBypass", 0, &x->qdisc_bypass) || opt_bool(env, o, "copy", 0, &x->copy) ||
	    opt_bool(env, o, "fanoutRollover", 0, &x->fanout_rollover) ||
	    opt_bool(env, o, "fanoutDefrag", 0, &x->fanout_defrag))
		return -1;
	if (opt_u32(env, o, "blockSize", 1 << 16, 4096, 1u << 30, &x->block_size) ||
	    opt_u32(env, o, "blockCount", 128, 1, 1 << 16, &x->block_count) ||
	    opt_u32(env, o, "frameSize", 2048, 128, 1u << 28, &x->frame_size) ||
	    opt_u32(env, o, "blockTimeoutMs", 1, 1, 1000, &x->block_tov_ms) ||
	    opt_u32(env, o, "txFrameSize", 2048, 128, 1u << 28, &x->tx_frame_size) ||
	    opt_u32(env, o, "txFrameCount", 1024, 1, 1 << 20, &x->tx_frame_count) ||
	    opt_u32(env, o, "rcvbuf", 8 << 20, 0, 1u << 30, &x->rcvbuf) ||
	    opt_u32(env, o, "sndbuf", 8 << 20, 0, 1u << 30, &x->sndbuf) ||
	    opt_u32(env, o, "portIndex", 0, 0, 0xffff, &x->port_index) ||
	    opt_u32(env, o, "batchSize", 256, 1, 1024, &x->batch))
		return -1;
	napi_valuetype t;
	if (napi_get_named_property(env, o, "fanoutGroup", &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok)
		return -1;
	x->has_fanout = t != napi_undefined && t != napi_null;
	if (x->has_fanout && opt_u32(env, o, "fanoutGroup", 0, 0, 0xffff, &x->fanout_group)) return -1;
	if (x->vnet && x->l3) {
		throw_type_error(env, "offloads 'vnet' needs an L2 (SOCK_RAW) port: the kernel only adds the "
				      "virtio-net header to link-layer frames");
		return -1;
	}
	return 0;
}

static int fanout_type(const char *m)
{
	static const struct {
		const char *name;
		int type;
	} T[] = {{"hash", PACKET_FANOUT_HASH}, {"lb", PACKET_FANOUT_LB},       {"cpu", PACKET_FANOUT_CPU},
		 {"rollover", PACKET_FANOUT_ROLLOVER}, {"random", PACKET_FANOUT_RND}, {"qm", PACKET_FANOUT_QM}};
	for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
		if (!strcmp(m, T[i].name)) return T[i].type;
	return -1;
}

static int sockopt_int(napi_env env, struct port *p, int level, int name, int val, const char *what)
{
	if (setsockopt(p->fd, level, name, &val, sizeof val) < 0) {
		throw_sys_error(env, what, errno, p->ifname);
		return -1;
	}
	return 0;
}

/* Fills a ring geometry; sizes must satisfy packet_set_ring()'s checks. */
static int ring_geometry(napi_env env, struct ring *r, uint32_t block_size, uint32_t block_nr, uint32_t frame_size)
{
	long page = sysconf(_SC_PAGESIZE);
	if (block_size % page || frame_size % TPACKET_ALIGNMENT || frame_size > block_size) {
		throw_type_error(env,
				 "ring geometry: blockSize (%u) must be a multiple of the page size (%ld) and at "
				 "least frameSize (%u), which must be a multiple of %d",
				 block_size, page, frame_size, TPACKET_ALIGNMENT);
		return -1;
	}
	r->block_size = block_size;
	r->block_nr = block_nr;
	r->frame_size = frame_size;
	r->frames_per_block = block_size / frame_size;
	r->frame_nr = r->frames_per_block * block_nr;
	r->size = (size_t)block_size * block_nr;
	r->head = 0;
	return 0;
}

static int setup_rings(napi_env env, struct port *p, const struct afp_opts *o)
{
	int want_rx_ring = p->rx_mode != RX_MMSG, want_tx_ring = p->tx_mode == TX_RING;
	if (!want_rx_ring && !want_tx_ring) return 0;
	p->tp_version = p->rx_mode == RX_V3 ? TPACKET_V3 : TPACKET_V2;
	if (sockopt_int(env, p, SOL_PACKET, PACKET_VERSION, p->tp_version, "setsockopt(PACKET_VERSION)")) return -1;
	/* a malformed TX frame is skipped instead of blocking the ring (packet(7), PACKET_LOSS);
	 * like the version, it must be set before any ring exists */
	if (want_tx_ring && sockopt_int(env, p, SOL_PACKET, PACKET_LOSS, 1, "setsockopt(PACKET_LOSS)")) return -1;
	if (want_rx_ring) {
		uint32_t bs = o->block_size, bn = o->block_count, fs = o->frame_size;
		if (ring_geometry(env, &p->rx_ring, bs, bn, fs)) return -1;
		struct tpacket_req3 req = {
			.tp_block_size = bs,
			.tp_block_nr = bn,
			.tp_frame_size = fs,
			.tp_frame_nr = p->rx_ring.frame_nr,
		};
		if (p->tp_version == TPACKET_V3) {
			/* tp_retire_blk_tov: a block is handed to user space when full or after this
			 * many ms -- the only wake-up V3 gives (see README, "RX: why TPACKET_V2"). */
			req.tp_retire_blk_tov = o->block_tov_ms;
		}
		socklen_t len = p->tp_version == TPACKET_V3 ? sizeof req : sizeof(struct tpacket_req);
		if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, len) < 0)
			return throw_sys_error(env, "setsockopt(PACKET_RX_RING)", errno, p->ifname), -1;
	}
	if (want_tx_ring) {
		uint32_t fs = o->tx_frame_size, bs = 1 << 16;
		while (bs < fs) bs <<= 1;
		uint32_t fpb = bs / fs, bn = (o->tx_frame_count + fpb - 1) / fpb;
		if (ring_geometry(env, &p->tx_ring, bs, bn, fs)) return -1;
		/* tpacket_req3 with retire timeout / priv / feature word all 0, as V3 TX demands */
		struct tpacket_req3 req = {
			.tp_block_size = bs, .tp_block_nr = bn, .tp_frame_size = fs, .tp_frame_nr = p->tx_ring.frame_nr};
		socklen_t len = p->tp_version == TPACKET_V3 ? sizeof req : sizeof(struct tpacket_req);
		if (setsockopt(p->fd, SOL_PACKET, PACKET_TX_RING, &req, len) < 0)
			return throw_sys_error(env, "setsockopt(PACKET_TX_RING)", errno, p->ifname), -1;
		p->tx_data_off = p->tp_version == TPACKET_V3 ? TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
							     : TPACKET_ALIGN(sizeof(struct tpacket2_hdr));
	}
	size_t total = (want_rx_ring ? p->rx_ring.size : 0) + (want_tx_ring ? p->tx_ring.size : 0);
	uint8_t *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	if (base == MAP_FAILED) return throw_sys_error(env, "mmap(packet rings)", errno, p->ifname), -1;
	p->map = mapping_new(base, total);
	if (!p->map) {
		munmap(base, total);
		return throw_sys_error(env, "malloc", ENOMEM, p->ifname), -1;
	}
	if (want_rx_ring) p->rx_ring.base = base;
	if (want_tx_ring) p->tx_ring.base = base + (want_rx_ring ? p->rx_ring.size : 0);
	return 0;
}

static void set_bufsize(int fd, int force, int plain, uint32_t bytes)
{
	int v = (int)bytes;
	if (!v) return;
	/* *BUFFORCE needs CAP_NET_ADMIN and ignores net.core.[rw]mem_max; fall back to the capped one */
	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof v) < 0) setsockopt(fd, SOL_SOCKET, plain, &v, sizeof v);
}

static int setup_socket(napi_env env, struct port *p, const struct afp_opts *o, uint16_t *hwtype, uint8_t mac[6],
			uint32_t *flags, int *operstate)
{
	p->fd = socket(AF_PACKET, (o->l3 ? SOCK_DGRAM : SOCK_RAW) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (p->fd < 0) return throw_sys_error(env, "socket(AF_PACKET)", errno, p->ifname), -1;
	int e = link_query(p->fd, p->ifname, &p->ifindex, &p->mtu, flags, hwtype, mac, operstate);
	if (e) return throw_sys_error(env, "SIOCGIFINDEX", e, p->ifname), -1;
	if (!o->l3 && *hwtype == ARPHRD_NONE) {
		throw_type_error(env,
				 "%s has no link-layer header (a TUN or WireGuard device): open it in L3 mode "
				 "(mode: 'l3')",
				 p->ifname);
		return -1;
	}
	if (o->vnet && sockopt_int(env, p, SOL_PACKET, PACKET_VNET_HDR, 1, "setsockopt(PACKET_VNET_HDR)")) return -1;
	if (setup_rings(env, p, o)) return -1;
	if (p->rx_mode == RX_MMSG) {
		if (sockopt_int(env, p, SOL_PACKET, PACKET_AUXDATA, 1, "setsockopt(PACKET_AUXDATA)")) return -1;
		set_bufsize(p->fd, SO_RCVBUFFORCE, SO_RCVBUF, o->rcvbuf);
	}
	set_bufsize(p->fd, SO_SNDBUFFORCE, SO_SNDBUF, o->sndbuf);
	/* a forwarder must not read back what it transmits (loops, double counting) */
	if (o->ignore_outgoing &&
	    sockopt_int(env, p, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, "setsockopt(PACKET_IGNORE_OUTGOING)"))
		return -1;
	/* straight to the driver: no qdisc, no tc, other packet sockets do not see it (opt-in) */
	if (o->qdisc_bypass &&
	    sockopt_int(env, p, SOL_PACKET, PACKET_QDISC_BYPASS, 1, "setsockopt(PACKET_QDISC_BYPASS)"))
		return -1;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)p->ifindex};
	if (bind(p->fd, (struct sockaddr *)&sll, sizeof sll) < 0)
		return throw_sys_error(env, "bind(AF_PACKET)", errno, p->ifname), -1;
	if (o->promisc && !o->l3) {
		struct packet_mreq mr = {.mr_ifindex = (int)p->ifindex, .mr_type = PACKET_MR_PROMISC};
		if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
			return throw_sys_error(env, "setsockopt(PACKET_ADD_MEMBERSHIP)", errno, p->ifname), -1;
	}
	if (o->has_fanout) {
		int type = fanout_type(o->fanout_mode);
		if (type < 0) {
			throw_type_error(env, "fanoutMode must be hash, lb, cpu, rollover, random or qm");
			return -1;
		}
		if (o->fanout_rollover) type |= PACKET_FANOUT_FLAG_ROLLOVER;
		if (o->fanout_defrag) type |= PACKET_FANOUT_FLAG_DEFRAG;
		if (sockopt_int(env, p, SOL_PACKET, PACKET_FANOUT, (int)(o->fanout_group | ((uint32_t)type << 16)),
				"setsockopt(PACKET_FANOUT)"))
			return -1;
	}
	if (o->l3) {
		/* L3 TX: skb->protocol comes from sll_protocol (packet_snd), chosen per IP version */
		for (int v = 0; v < 2; v++) {
			struct sockaddr_ll a = {.sll_family = AF_PACKET,
						.sll_protocol = htons(v ? ETH_P_IPV6 : ETH_P_IP),
						.sll_ifindex = (int)p->ifindex};
			memcpy(p->tx_proto_addr[v], &a, sizeof a);
		}
	}
	return 0;
}

int port_oversize(struct port *p, uint32_t wire)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, p->ifname, sizeof p->ifname);
	if (ioctl(p->fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0) p->mtu = (uint32_t)ifr.ifr_mtu;
	return wire > p->mtu + (p->l3 ? 0u : 18u);
}

static void afp_undo(napi_env env, struct port *p)
{
	rx_meta_unbind(env, &p->meta);
	if (p->rx_ab_ref) napi_delete_reference(env, p->rx_ab_ref);
	if (p->fd >= 0) close(p->fd);
	mapping_put(p->map);
	free(p->mm_msgs);
	free(p->mm_iov);
	free(p->mm_ctrl);
	free(p->mm_addr);
	free(p->tx_msgs);
	free(p->tx_iov);
	free(p->tx_vnet);
	free(p);
}

/* afpOpen(options, descriptors) -> { handle, rxBuffer, rxCopy, ifindex, mtu, ... } */
napi_value afp_open(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], result, ab;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 2) return throw_type_error(env, "afpOpen(options, descriptors[, netns])");
	struct afp_opts o;
	if (parse_opts(env, argv[0], &o)) return NULL;
	struct port *p = calloc(1, sizeof *p);
	if (!p) return throw_sys_error(env, "calloc", ENOMEM, o.ifname);
	p->env = env;
	p->kind = KIND_AFPACKET;
	p->fd = -1;
	p->l3 = o.l3;
	p->vnet = o.vnet;
	p->port_index = (uint16_t)o.port_index;
	strcpy(p->ifname, o.ifname);
	if (!strcmp(o.rx, "v2")) p->rx_mode = RX_V2;
	else if (!strcmp(o.rx, "v3")) p->rx_mode = RX_V3;
	else if (!strcmp(o.rx, "mmsg")) p->rx_mode = RX_MMSG;
	else return free(p), throw_type_error(env, "rx must be 'v2', 'v3' or 'mmsg'");
	if (!strcmp(o.tx, "ring")) p->tx_mode = TX_RING;
	else if (!strcmp(o.tx, "mmsg")) p->tx_mode = TX_MMSG;
	else return free(p), throw_type_error(env, "tx must be 'ring' or 'mmsg'");
	if (rx_meta_bind(env, argv[1], &p->meta)) return free(p), NULL;
	p->batch_max = o.batch < p->meta.capacity ? o.batch : p->meta.capacity;

	uint16_t hwtype = 0;
	uint8_t mac[6] = {0};
	uint32_t flags = 0;
	int operstate = -1;
	struct netns_guard g;
	if (netns_enter(env, argc > 2 ? argv[2] : NULL, &g)) return afp_undo(env, p), NULL;
	int rc = setup_socket(env, p, &o, &hwtype, mac, &flags, &operstate);
	netns_leave(&g);
	if (rc) return afp_undo(env, p), NULL;

	p->mm_slot = o.frame_size;

	/* RX memory: the ring itself (zero-copy) or a slab big enough for a full batch */
	size_t slab;
	if (p->rx_mode == RX_MMSG) slab = (size_t)p->batch_max * p->mm_slot;
	else if (p->rx_mode == RX_V2) slab = (size_t)p->batch_max * p->rx_ring.frame_size;
	else slab = (size_t)p->batch_max * 2048 + p->rx_ring.block_size;
	if (napi_create_object(env, &result) != napi_ok ||
	    rx_expose(env, p, p->rx_mode == RX_MMSG ? NULL : p->rx_ring.base, p->rx_ring.size, slab, o.copy, &ab))
		return afp_undo(env, p), NULL;
	/* recvmmsg slots point into the slab, so they are set up once it exists */
	if ((p->rx_mode == RX_MMSG && port_alloc_rx_mmsg(p)) || (p->tx_mode == TX_MMSG && port_alloc_tx_mmsg(p, p->batch_max))) {
		throw_sys_error(env, "malloc", ENOMEM, p->ifname);
		return afp_undo(env, p), NULL;
	}
	set_value(env, result, "rxBuffer", ab);
	set_bool(env, result, "rxCopy", p->rx_copy || p->rx_mode == RX_MMSG);
	set_bool(env, result, "l3", p->l3);
	set_u32(env, result, "batchSize", p->batch_max);
	set_u32(env, result, "ringBytes", (uint32_t)(p->map ? p->map->len : 0));
	set_value(env, result, "link", link_object(env, p->ifname, p->ifindex, p->mtu, flags, hwtype, mac, operstate));
	return port_wrap(env, p, result);
}
