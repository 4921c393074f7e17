/*
 * RX descriptors and RX memory as JS sees them.
 *
 * Descriptors: native writes slot i of the typed arrays of the port's PacketBatch
 * (offset, length, wireLength, tsSec, tsNsec, port, flags) and of its side table `extra`
 * (META_STRIDE u16 per slot). The arrays are V8-owned; their backing stores never move, and
 * strong references keep them alive while the port is open.
 *
 * Packet bytes: one ArrayBuffer for the port's lifetime. Zero-copy: an external ArrayBuffer over
 * the mmap'd RX ring, offsets absolute within it. Copy: a V8-allocated slab that native memcpy's
 * frames into -- used when the runtime refuses external buffers (napi_no_external_buffers_allowed,
 * V8 sandbox builds), when asked for, and always for recvmmsg and TUN reads, which write into it
 * directly.
 */
#include <string.h>

#include "ferry_io.h"

static const char *const NAMES[8] = {"offset", "length", "wireLength", "tsNsec", "flags", "tsSec", "port", "extra"};
static const napi_typedarray_type TYPES[8] = {napi_uint32_array, napi_uint32_array, napi_uint32_array,
					      napi_uint32_array, napi_uint32_array, napi_float64_array,
					      napi_uint16_array, napi_uint16_array};

int rx_meta_bind(napi_env env, napi_value obj, struct rx_meta *m)
{
	void *ptr[8];
	size_t len[8];
	napi_value v[8];
	uint32_t cap = UINT32_MAX;
	for (int i = 0; i < 8; i++) {
		if (napi_get_named_property(env, obj, NAMES[i], &v[i]) != napi_ok ||
		    typed_array(env, v[i], TYPES[i], &ptr[i], &len[i])) {
			throw_type_error(env, "descriptor table: %s must be a %s", NAMES[i],
					 i == 5 ? "Float64Array" : (i >= 6 ? "Uint16Array" : "Uint32Array"));
			return -1;
		}
		size_t c = i == 7 ? len[i] / META_STRIDE : len[i];
		if (c < cap) cap = (uint32_t)c;
	}
	if (cap == 0) {
		throw_type_error(env, "descriptor table has no slots");
		return -1;
	}
	m->offset = ptr[0];
	m->length = ptr[1];
	m->wire_length = ptr[2];
	m->ts_nsec = ptr[3];
	m->flags = ptr[4];
	m->ts_sec = ptr[5];
	m->port = ptr[6];
	m->extra = ptr[7];
	m->capacity = cap;
	for (int i = 0; i < 8; i++) napi_create_reference(env, v[i], 1, &m->refs[i]);
	return 0;
}

void rx_meta_unbind(napi_env env, struct rx_meta *m)
{
	for (int i = 0; i < 8; i++) {
		if (m->refs[i]) napi_delete_reference(env, m->refs[i]);
		m->refs[i] = NULL;
	}
	m->capacity = 0;
}

static void external_gone(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)data;
	mapping_put(hint);
}

/*
 * Creates the RX ArrayBuffer. `ring` is the mmap'd RX ring (NULL for recvmmsg / TUN reads);
 * `slab_len` the size of a copy slab. Sets p->rx_view / rx_view_len / rx_copy / rx_ab_ref.
 */
int rx_expose(napi_env env, struct port *p, uint8_t *ring, size_t ring_len, size_t slab_len, int want_copy,
	      napi_value *ab)
{
	if (ring && !want_copy) {
		p->map->refs++;
		napi_status st = napi_create_external_arraybuffer(env, ring, ring_len, external_gone, p->map, ab);
		if (st == napi_ok) {
			p->rx_view = ring;
			p->rx_view_len = ring_len;
			p->rx_copy = 0;
			return napi_create_reference(env, *ab, 1, &p->rx_ab_ref) == napi_ok ? 0 : -1;
		}
		p->map->refs--;
		if (st != napi_no_external_buffers_allowed) {
			throw_type_error(env, "cannot create the RX ArrayBuffer (napi status %d)", (int)st);
			return -1;
		}
		/* sandboxed runtime: fall through to the copy slab */
	}
	void *data;
	if (napi_create_arraybuffer(env, slab_len, &data, ab) != napi_ok) {
		throw_type_error(env, "cannot allocate a %zu-byte RX slab", slab_len);
		return -1;
	}
	memset(data, 0, slab_len);
	p->rx_view = data;
	p->rx_view_len = slab_len;
	p->rx_copy = ring != NULL;
	return napi_create_reference(env, *ab, 1, &p->rx_ab_ref) == napi_ok ? 0 : -1;
}
