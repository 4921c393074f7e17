/*
 * The port as JS sees it: an external handle plus functions that take it.
 *
 * RX runs on the JS thread from a uv_poll_t on the fd (the loop comes from
 * napi_get_uv_event_loop). One readiness event drains up to MAX_ROUNDS batches; each batch is
 * ONE call into JS, onBatch(count), with the descriptors already in the PacketBatch arrays. When
 * the call returns, the batch's frames go back to the kernel. The calls run inside a callback
 * scope, so promise jobs and nextTicks queued by the handler run when the wake-up ends.
 *
 * POLLERR: libuv reports it as readable. A wake-up that finds no frame fetches SO_ERROR (which
 * clears the socket error; ring modes never call recv, the other thing that clears it) and
 * drains the error queue, counts it and tells JS -- otherwise poll would report the same error
 * forever and the loop would spin (see ../shared/baseline/README.md, "Method notes").
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry_io.h"

#define MAX_ROUNDS 4

static void port_finalize(napi_env env, void *data, void *hint)
{
	(void)hint;
	struct port *p = data;
	port_close_now(env, p, 1);
	free(p);
}

napi_value port_wrap(napi_env env, struct port *p, napi_value result)
{
	napi_value ext;
	if (napi_create_external(env, p, port_finalize, NULL, &ext) != napi_ok) {
		port_close_now(env, p, 0);
		free(p);
		return throw_type_error(env, "cannot create the port handle");
	}
	set_value(env, result, "handle", ext);
	return result;
}

struct port *port_unwrap(napi_env env, napi_value v)
{
	void *p = NULL;
	napi_valuetype t;
	if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok) {
		throw_type_error(env, "not a port handle");
		return NULL;
	}
	return p;
}

static struct port *open_port(napi_env env, napi_value v)
{
	struct port *p = port_unwrap(env, v);
	if (p && p->closed) {
		napi_throw_error(env, "ERR_PORT_CLOSED", "the port is closed");
		return NULL;
	}
	return p;
}

static uint32_t rx_collect(struct port *p, int *err)
{
	switch (p->rx_mode) {
	case RX_V2: return rx_v2_collect(p);
	case RX_V3: return rx_v3_collect(p);
	case RX_MMSG: return rx_mmsg_collect(p, err);
	case RX_READ: return tun_read_collect(p, err);
	}
	return 0;
}

static void rx_release(struct port *p)
{
	if (p->closed || p->pend_count == 0) return;
	if (p->rx_mode == RX_V2) rx_v2_release(p);
	else if (p->rx_mode == RX_V3) rx_v3_release(p);
}

/* Socket error or error-queue entry behind a wake-up; 0 if none. Clears what it reads. */
static int pending_error(struct port *p, int err)
{
	if (p->kind != KIND_AFPACKET) return err;
	int so = 0;
	socklen_t len = sizeof so;
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &so, &len) == 0 && so) err = so;
	char buf[256];
	for (int i = 0; i < 16; i++) { /* bounded: the queue can refill while we drain it */
		struct iovec iov = {buf, sizeof buf};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
		if (recvmsg(p->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
		if (!err) err = EIO;
	}
	return err;
}

/* onError(code, errno): an errno name, or a ferry event code with errno 0. */
static void call_on_error(struct port *p, const char *code, int err)
{
	napi_env env = p->env;
	if (!p->on_error) return;
	napi_value fn, argv[2], undef;
	napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &argv[0]);
	napi_create_int32(env, err, &argv[1]);
	napi_get_undefined(env, &undef);
	if (napi_get_reference_value(env, p->on_error, &fn) != napi_ok || !fn) return;
	if (napi_call_function(env, undef, fn, 2, argv, NULL) == napi_pending_exception) {
		napi_value e;
		napi_get_and_clear_last_exception(env, &e);
		napi_fatal_exception(env, e);
	}
}

static void report_error(struct port *p, int err)
{
	const char *name = strerrorname_np(err);
	p->c[C_SOCK_ERRORS]++;
	p->c[C_LAST_ERRNO] = err;
	call_on_error(p, name ? name : "EUNKNOWN", err);
}

/* One JS call for one batch; false when the handler threw or closed/stopped the port. */
static int deliver(struct port *p, uint32_t n)
{
	napi_env env = p->env;
	napi_value fn, arg, undef;
	if (napi_get_reference_value(env, p->on_batch, &fn) != napi_ok || !fn) return 0;
	napi_create_uint32(env, n, &arg);
	napi_get_undefined(env, &undef);
	p->in_callback = 1;
	napi_status st = napi_call_function(env, undef, fn, 1, &arg, NULL);
	p->in_callback = 0;
	if (st == napi_pending_exception) {
		napi_value e;
		napi_get_and_clear_last_exception(env, &e);
		rx_release(p);
		napi_fatal_exception(env, e);
		return 0;
	}
	return !p->closed && p->polling;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	(void)events;
	struct port *p = h->data;
	if (!p || p->closed || !p->polling) return;
	napi_env env = p->env;
	napi_handle_scope hs;
	napi_callback_scope cs;
	napi_value resource;
	napi_open_handle_scope(env, &hs);
	napi_get_reference_value(env, p->resource, &resource);
	napi_open_callback_scope(env, resource, p->async_ctx, &cs);
	p->c[C_WAKEUPS]++;
	uint32_t total = 0;
	int err = status < 0 ? EIO : 0;
	for (int round = 0; round < MAX_ROUNDS; round++) {
		uint32_t n = rx_collect(p, &err);
		if (n == 0) break;
		total += n;
		p->c[C_RX_PACKETS] += n;
		p->c[C_RX_BATCHES]++;
		int go_on = deliver(p, n);
		if (p->closed) break;
		rx_release(p);
		if (!go_on || n < p->batch_max) break;
	}
	if (!p->closed && (total == 0 || err)) {
		if (total == 0) p->c[C_EMPTY_WAKEUPS]++;
		err = pending_error(p, err);
		if (err) report_error(p, err);
	}
	if (p->gso_seen && !p->gso_reported && !p->closed) {
		p->gso_reported = 1;
		call_on_error(p, "GSO_WITHOUT_VNET", 0);
	}
	napi_close_callback_scope(env, cs);
	napi_close_handle_scope(env, hs);
}

static void stop_polling(napi_env env, struct port *p)
{
	if (p->poll) uv_poll_stop(p->poll);
	p->polling = 0;
	if (p->on_batch) napi_delete_reference(env, p->on_batch);
	if (p->on_error) napi_delete_reference(env, p->on_error);
	if (p->resource) napi_delete_reference(env, p->resource);
	if (p->async_ctx) napi_async_destroy(env, p->async_ctx);
	p->on_batch = p->on_error = p->resource = NULL;
	p->async_ctx = NULL;
}

/* portStart(handle, onBatch(count), onError(code, errno)) */
napi_value port_start(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], resource, name;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	struct port *p = argc >= 3 ? open_port(env, argv[0]) : NULL;
	if (!p) return argc >= 3 ? NULL : throw_type_error(env, "portStart(handle, onBatch, onError)");
	stop_polling(env, p);
	if (!p->poll) {
		uv_loop_t *loop;
		p->poll = calloc(1, sizeof *p->poll);
		if (!p->poll || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, p->poll, p->fd)) {
			free(p->poll);
			p->poll = NULL;
			return throw_sys_error(env, "uv_poll_init", EINVAL, p->ifname);
		}
		p->poll->data = p;
	}
	napi_create_object(env, &resource);
	napi_create_string_utf8(env, "ferry:port", NAPI_AUTO_LENGTH, &name);
	napi_create_reference(env, argv[1], 1, &p->on_batch);
	napi_create_reference(env, argv[2], 1, &p->on_error);
	napi_create_reference(env, resource, 1, &p->resource);
	napi_async_init(env, resource, name, &p->async_ctx);
	int e = uv_poll_start(p->poll, UV_READABLE, on_readable);
	if (e) {
		stop_polling(env, p);
		return throw_sys_error(env, "uv_poll_start", -e, p->ifname);
	}
	p->polling = 1;
	return NULL;
}

napi_value port_stop(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value h;
	napi_get_cb_info(env, info, &argc, &h, NULL, NULL);
	struct port *p = argc ? port_unwrap(env, h) : NULL;
	if (p && !p->closed) stop_polling(env, p);
	return NULL;
}

/* portRelease(handle): hand the current batch's frames back now (the callback may be running). */
napi_value port_release(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value h;
	napi_get_cb_info(env, info, &argc, &h, NULL, NULL);
	struct port *p = argc ? port_unwrap(env, h) : NULL;
	if (p) rx_release(p);
	return NULL;
}

napi_value port_set_index(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	uint32_t idx;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	struct port *p = argc >= 2 ? port_unwrap(env, argv[0]) : NULL;
	if (!p) return NULL;
	if (napi_get_value_uint32(env, argv[1], &idx) != napi_ok || idx > 0xffff)
		return throw_type_error(env, "port index must be an integer in [0, 65535]");
	p->port_index = (uint16_t)idx;
	return NULL;
}

static int optional_array(napi_env env, napi_value v, napi_typedarray_type type, void **data, size_t *len)
{
	napi_valuetype t;
	*data = NULL;
	*len = 0;
	if (napi_typeof(env, v, &t) != napi_ok) return -1;
	if (t == napi_undefined || t == napi_null) return 0;
	return typed_array(env, v, type, data, len);
}

/*
 * portSend(handle, data: Uint8Array, offset: Uint32Array, length: Uint32Array, count,
 *          slots: Uint16Array | Uint32Array | null, head: Uint8Array | null,
 *          headLen: Uint8Array | null, extra: Uint16Array | null) -> frames handed to the kernel
 * Packet k is slot slots[k] (or k): head[slot*stride .. +headLen[slot]] then
 * data[offset[slot] .. +length[slot]]. All of it in ONE call: one sendmmsg / one ring kick.
 */
napi_value port_send(napi_env env, napi_callback_info info)
{
	size_t argc = 9;
	napi_value argv[9], ret;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 5) return throw_type_error(env, "portSend(handle, data, offset, length, count, ...)");
	struct port *p = open_port(env, argv[0]);
	if (!p) return NULL;
	struct tx_src s;
	memset(&s, 0, sizeof s);
	void *d, *o, *l, *sl = NULL, *hd = NULL, *hl = NULL, *x = NULL;
	size_t dl, ol, ll, sll = 0, hdl = 0, hll = 0, xl = 0;
	if (typed_array(env, argv[1], napi_uint8_array, &d, &dl) || typed_array(env, argv[2], napi_uint32_array, &o, &ol) ||
	    typed_array(env, argv[3], napi_uint32_array, &l, &ll) || napi_get_value_uint32(env, argv[4], &s.count) != napi_ok)
		return throw_type_error(env, "portSend: data must be a Uint8Array, offset/length Uint32Arrays, count a number");
	if (argc > 5) {
		napi_valuetype t;
		napi_typeof(env, argv[5], &t);
		if (t != napi_undefined && t != napi_null) {
			if (!typed_array(env, argv[5], napi_uint16_array, &sl, &sll)) s.slots16 = sl;
			else if (!typed_array(env, argv[5], napi_uint32_array, &sl, &sll)) s.slots32 = sl;
			else return throw_type_error(env, "portSend: slots must be a Uint16Array or Uint32Array");
			if (s.count > sll) return throw_type_error(env, "portSend: count exceeds slots.length");
		}
	}
	if ((argc > 6 && optional_array(env, argv[6], napi_uint8_array, &hd, &hdl)) ||
	    (argc > 7 && optional_array(env, argv[7], napi_uint8_array, &hl, &hll)) ||
	    (argc > 8 && optional_array(env, argv[8], napi_uint16_array, &x, &xl)))
		return throw_type_error(env, "portSend: head/headLen must be Uint8Arrays, extra a Uint16Array");
	s.data = d;
	s.data_len = dl;
	s.offset = o;
	s.length = l;
	s.meta_len = ol < ll ? ol : ll;
	if (x) {
		if (xl / META_STRIDE < s.meta_len) s.meta_len = xl / META_STRIDE;
		s.extra = x;
	}
	if (hd && hl && hll) {
		s.head = hd;
		s.head_total = hdl;
		s.head_len = hl;
		s.head_len_len = hll;
		s.head_stride = hdl / hll;
	}
	if (!s.slots16 && !s.slots32 && s.count > s.meta_len)
		return throw_type_error(env, "portSend: count exceeds the descriptor arrays");
	uint32_t sent = 0;
	if (s.count) {
		switch (p->tx_mode) {
		case TX_RING: sent = tx_ring_send(p, &s); break;
		case TX_MMSG: sent = tx_mmsg_send(p, &s); break;
		case TX_WRITE: sent = tun_write_send(p, &s); break;
		}
	}
	napi_create_uint32(env, sent, &ret);
	return ret;
}

/* Adds the kernel's RX drop counters; PACKET_STATISTICS clears them on every read. */
static void pull_kernel_stats(struct port *p)
{
	if (p->kind != KIND_AFPACKET || p->fd < 0) return;
	struct tpacket_stats_v3 st;
	socklen_t len = p->tp_version == TPACKET_V3 ? sizeof st : sizeof(struct tpacket_stats);
	memset(&st, 0, sizeof st);
	if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) return;
	p->c[C_KERNEL_DROPS] += st.tp_drops;
	if (p->tp_version == TPACKET_V3) p->c[C_FREEZE_Q] += st.tp_freeze_q_cnt;
}

/* portStats(handle, out: Float64Array) -- counters in `enum counter` order */
napi_value port_stats(napi_env env, napi_callback_info info)
{
	size_t argc = 2, n;
	napi_value argv[2];
	void *out;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	struct port *p = argc >= 2 ? port_unwrap(env, argv[0]) : NULL;
	if (!p) return NULL;
	if (typed_array(env, argv[1], napi_float64_array, &out, &n))
		return throw_type_error(env, "portStats: out must be a Float64Array");
	if (!p->closed) pull_kernel_stats(p);
	memcpy(out, p->c, (n < C_COUNT ? n : C_COUNT) * sizeof(double));
	return NULL;
}

static void free_poll(uv_handle_t *h) { free(h); }

/*
 * Idempotent. Detaches the RX ArrayBuffer first (every JS view of it becomes empty), then
 * unmaps the rings and closes the fd. From a finalizer (the handle was collected without
 * close()), the ArrayBuffer may still be referenced from JS, so the mapping is only released:
 * the ArrayBuffer's own finalizer unmaps it when the last view is gone.
 */
void port_close_now(napi_env env, struct port *p, int from_finalizer)
{
	if (p->closed) return;
	if (!from_finalizer && p->in_callback) rx_release(p);
	p->closed = 1;
	stop_polling(env, p);
	if (p->poll) {
		p->poll->data = NULL;
		uv_close((uv_handle_t *)p->poll, free_poll);
		p->poll = NULL;
	}
	if (p->rx_ab_ref) {
		napi_value ab;
		if (!from_finalizer && napi_get_reference_value(env, p->rx_ab_ref, &ab) == napi_ok && ab &&
		    napi_detach_arraybuffer(env, ab) == napi_ok && p->map && !p->rx_copy && p->rx_mode != RX_MMSG &&
		    p->map->addr) {
			munmap(p->map->addr, p->map->len);
			p->map->addr = NULL;
		}
		napi_delete_reference(env, p->rx_ab_ref);
		p->rx_ab_ref = NULL;
	}
	pull_kernel_stats(p);
	if (p->fd >= 0) close(p->fd);
	p->fd = -1;
	mapping_put(p->map);
	p->map = NULL;
	rx_meta_unbind(env, &p->meta);
	free(p->mm_msgs);
	free(p->mm_iov);
	free(p->mm_ctrl);
	free(p->mm_addr);
	free(p->tx_msgs);
	free(p->tx_iov);
	free(p->tx_vnet);
	p->mm_msgs = p->mm_iov = p->mm_ctrl = p->mm_addr = p->tx_msgs = p->tx_iov = p->tx_vnet = NULL;
}

napi_value port_close(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value h;
	napi_get_cb_info(env, info, &argc, &h, NULL, NULL);
	struct port *p = argc ? port_unwrap(env, h) : NULL;
	if (p) port_close_now(env, p, 0);
	return NULL;
}
