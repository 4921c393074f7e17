/*
 * ferry_io: batched AF_PACKET and TUN/TAP I/O for ferry, in plain C against Node-API.
 *
 * One `struct port` per open socket or TUN fd. RX writes descriptors straight into the typed
 * arrays of a JS PacketBatch (src/dataplane/batch.ts) and calls JS once per batch; TX takes a
 * whole batch per call. See native/README.md for the design and the measurements behind it.
 */
#ifndef FERRY_IO_H
#define FERRY_IO_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Packet flags, mirrored from src/dataplane/batch.ts and src/dataplane/io/port-meta.ts. */
#define PKT_CSUM_NOT_READY (1u << 0)
#define PKT_CSUM_VALID (1u << 1)
#define PKT_VLAN_VALID (1u << 2)
#define PKT_TRUNCATED (1u << 3)
#define PKT_GSO (1u << 8)

/* Per-slot side table ("extra"), META_STRIDE u16 per slot; indices mirrored in port-meta.ts. */
#define META_STRIDE 8
#define META_PKT_TYPE 0
#define META_VNET_FLAGS 1
#define META_GSO_TYPE 2
#define META_HDR_LEN 3
#define META_GSO_SIZE 4
#define META_CSUM_START 5
#define META_CSUM_OFFSET 6
#define META_VLAN_TPID 7

/* Counters, in the order portStats() writes them into a Float64Array (see port-stats.ts). */
enum counter {
	C_RX_PACKETS,
	C_RX_BYTES,
	C_RX_BATCHES,
	C_TX_PACKETS,
	C_TX_BYTES,
	C_TX_ERRORS,
	C_TX_EAGAIN,
	C_KERNEL_DROPS,
	C_FREEZE_Q,
	C_SOCK_ERRORS,
	C_RX_TRUNCATED,
	C_RX_GSO,
	C_WAKEUPS,
	C_EMPTY_WAKEUPS,
	C_TX_KICKS,
	C_LAST_ERRNO,
	C_COUNT
};

enum port_kind { KIND_AFPACKET, KIND_TUN };
enum rx_mode { RX_V2, RX_V3, RX_MMSG, RX_READ };
enum tx_mode { TX_RING, TX_MMSG, TX_WRITE };

/* Where RX descriptors go: pointers into JS typed arrays (kept alive by refs). */
struct rx_meta {
	uint32_t *offset, *length, *wire_length, *ts_nsec, *flags;
	double *ts_sec;
	uint16_t *port;
	uint16_t *extra;
	uint32_t capacity;
	napi_ref refs[8];
};

/* An mmap'd region shared by the port and the external ArrayBuffer that exposes it. */
struct mapping {
	uint8_t *addr;
	size_t len;
	int refs;
};

/* A PACKET_MMAP ring inside the mapping. Frames never straddle blocks. */
struct ring {
	uint8_t *base;
	size_t size;
	uint32_t block_size, block_nr, frame_size, frame_nr, frames_per_block;
	uint32_t head;
};

struct port {
	napi_env env;
	enum port_kind kind;
	int fd;
	int closed;
	int l3;         /* SOCK_DGRAM (AF_PACKET) or TUN: packets start at the IP header */
	int vnet;       /* PACKET_VNET_HDR: a virtio_net_hdr precedes each frame */
	int tp_version; /* TPACKET_V2 / TPACKET_V3 when a ring is used */
	uint32_t ifindex, mtu;
	uint16_t port_index;
	char ifname[16];

	/* RX */
	enum rx_mode rx_mode;
	uint32_t batch_max;
	struct rx_meta meta;
	int rx_copy;          /* frames are copied into a V8-owned slab (no external buffers) */
	uint8_t *rx_view;     /* start of the JS-visible RX ArrayBuffer */
	size_t rx_view_len;
	napi_ref rx_ab_ref;
	struct mapping *map;  /* rings (RX first, then TX) */
	struct ring rx_ring;
	/* frames / blocks handed to JS, returned to the kernel after the callback */
	uint32_t pend_start, pend_count;
	/* TPACKET_V3 walk state */
	uint8_t *v3_pkt;
	uint32_t v3_left;
	int v3_in_block;
	/* recvmmsg / read state */
	void *mm_msgs, *mm_iov, *mm_ctrl, *mm_addr;
	uint32_t mm_slot;     /* bytes per recvmmsg slot */
	uint32_t read_max;    /* TUN: largest packet a read may return */

	/* TX */
	enum tx_mode tx_mode;
	struct ring tx_ring;
	uint32_t tx_data_off; /* frame header size before the packet in a TX ring slot */
	void *tx_msgs, *tx_iov, *tx_vnet;
	uint32_t tx_max;      /* messages per sendmmsg call */
	uint8_t tx_proto_addr[2][20]; /* L3: sockaddr_ll for IPv4 / IPv6 */

	/* event loop */
	uv_poll_t *poll;
	int polling, in_callback;
	int gso_seen, gso_reported; /* super-frames on a non-vnet port: told to JS once */
	napi_ref on_batch, on_error, resource;
	napi_async_context async_ctx;

	double c[C_COUNT];
};

/* napi_util.c */
napi_value throw_sys_error(napi_env env, const char *syscall, int err, const char *what);
napi_value throw_type_error(napi_env env, const char *fmt, ...);
int opt_u32(napi_env env, napi_value obj, const char *key, uint32_t def, uint32_t min, uint32_t max,
	    uint32_t *out);
int opt_bool(napi_env env, napi_value obj, const char *key, int def, int *out);
int opt_string(napi_env env, napi_value obj, const char *key, char *buf, size_t len);
int set_u32(napi_env env, napi_value obj, const char *key, uint32_t v);
int set_bool(napi_env env, napi_value obj, const char *key, int v);
int set_string(napi_env env, napi_value obj, const char *key, const char *v);
int set_value(napi_env env, napi_value obj, const char *key, napi_value v);
int get_ifname(napi_env env, napi_value v, char out[16]);
int typed_array(napi_env env, napi_value v, napi_typedarray_type type, void **data, size_t *len);

/* netns.c: run an open inside another network namespace (the calling thread only). */
struct netns_guard {
	int self_fd;
};
int netns_enter(napi_env env, napi_value nsname, struct netns_guard *g);
void netns_leave(struct netns_guard *g);

/* rx_meta.c */
int rx_meta_bind(napi_env env, napi_value obj, struct rx_meta *m);
void rx_meta_unbind(napi_env env, struct rx_meta *m);
int rx_expose(napi_env env, struct port *p, uint8_t *ring, size_t ring_len, size_t slab_len,
	      int want_copy, napi_value *ab);

/* mapping.c */
struct mapping *mapping_new(uint8_t *addr, size_t len);
void mapping_put(struct mapping *m);

/* afp_open.c, tun_open.c */
napi_value afp_open(napi_env env, napi_callback_info info);
napi_value tun_open(napi_env env, napi_callback_info info);
int port_alloc_tx_mmsg(struct port *p, uint32_t max);
int port_alloc_rx_mmsg(struct port *p);

/* afp_open.c: re-reads the MTU (it may have been raised since open); 1 if `wire` exceeds it. */
int port_oversize(struct port *p, uint32_t wire);

/* rx_ring.c, rx_mmsg.c, tun_io.c */
uint32_t rx_v2_collect(struct port *p);
void rx_v2_release(struct port *p);
uint32_t rx_v3_collect(struct port *p);
void rx_v3_release(struct port *p);
uint32_t rx_mmsg_collect(struct port *p, int *err);
uint32_t tun_read_collect(struct port *p, int *err);

/* tx paths: send `n` packets described by a tx_src; return the number handed to the kernel. */
struct tx_src {
	const uint8_t *data;
	size_t data_len;
	const uint32_t *offset, *length;
	size_t meta_len;       /* elements in offset/length (and extra / META_STRIDE) */
	const uint16_t *slots16;
	const uint32_t *slots32;
	const uint8_t *head;   /* optional per-slot prefix bytes (gather) */
	const uint8_t *head_len;
	size_t head_stride, head_total, head_len_len;
	const uint32_t *flags; /* optional: PKT_CSUM_NOT_READY -> VIRTIO_NET_HDR_F_NEEDS_CSUM */
	const uint16_t *extra; /* optional vnet info (META_*) */
	uint32_t count;
};
uint32_t tx_ring_send(struct port *p, const struct tx_src *s);
uint32_t tx_mmsg_send(struct port *p, const struct tx_src *s);
uint32_t tun_write_send(struct port *p, const struct tx_src *s);
/* tx_common.c: resolve packet k of a tx_src; 0 = ok, -1 = invalid (counted as a TX error). */
int tx_packet(struct port *p, const struct tx_src *s, uint32_t k, uint32_t *slot, const uint8_t **body,
	      uint32_t *body_len, const uint8_t **head, uint32_t *head_len);
void tx_vnet_hdr(const struct tx_src *s, uint32_t slot, void *out);

/* port_napi.c */
napi_value port_wrap(napi_env env, struct port *p, napi_value result);
struct port *port_unwrap(napi_env env, napi_value v);
napi_value port_start(napi_env env, napi_callback_info info);
napi_value port_stop(napi_env env, napi_callback_info info);
napi_value port_release(napi_env env, napi_callback_info info);
napi_value port_send(napi_env env, napi_callback_info info);
napi_value port_stats(napi_env env, napi_callback_info info);
napi_value port_set_index(napi_env env, napi_callback_info info);
napi_value port_close(napi_env env, napi_callback_info info);
void port_close_now(napi_env env, struct port *p, int from_finalizer);

/* link.c, ethtool_features.c */
napi_value link_info(napi_env env, napi_callback_info info);
napi_value link_set_up(napi_env env, napi_callback_info info);
napi_value link_set_mtu(napi_env env, napi_callback_info info);
napi_value features_get(napi_env env, napi_callback_info info);
napi_value features_set(napi_env env, napi_callback_info info);
int link_query(int fd, const char *ifname, uint32_t *ifindex, uint32_t *mtu, uint32_t *flags,
	       uint16_t *hwtype, uint8_t mac[6], int *operstate);
int link_operstate(uint32_t ifindex);
napi_value link_object(napi_env env, const char *ifname, uint32_t ifindex, uint32_t mtu, uint32_t flags,
		       uint16_t hwtype, const uint8_t mac[6], int operstate);

#endif
