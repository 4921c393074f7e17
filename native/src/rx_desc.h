/* Writing one RX descriptor (slot i of the PacketBatch arrays and the side table). */
#ifndef FERRY_RX_DESC_H
#define FERRY_RX_DESC_H

#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "ferry_io.h"

#define VNET_LEN ((uint32_t)sizeof(struct virtio_net_hdr))
#define ALIGN8(x) (((x) + 7u) & ~7u)

/* TP_STATUS_* bits of a ring header or auxdata -> PKT_* flags (+ VLAN TCI in the upper half) */
static inline uint32_t status_flags(uint32_t st, uint16_t tci)
{
	uint32_t f = 0;
	if (st & TP_STATUS_CSUMNOTREADY) f |= PKT_CSUM_NOT_READY;
	if (st & TP_STATUS_CSUM_VALID) f |= PKT_CSUM_VALID;
	if (st & TP_STATUS_VLAN_VALID) f |= PKT_VLAN_VALID | ((uint32_t)tci << 16);
	return f;
}

static inline void desc_put(struct port *p, uint32_t i, uint32_t off, uint32_t len, uint32_t wire, uint32_t flags,
			    uint32_t sec, uint32_t nsec, uint16_t pkttype, uint16_t tpid)
{
	struct rx_meta *m = &p->meta;
	uint16_t *x = m->extra + (size_t)i * META_STRIDE;
	if (len < wire) flags |= PKT_TRUNCATED, p->c[C_RX_TRUNCATED]++;
	m->offset[i] = off;
	m->length[i] = len;
	m->wire_length[i] = wire;
	m->ts_sec[i] = sec;
	m->ts_nsec[i] = nsec;
	m->port[i] = p->port_index;
	memset(x, 0, META_STRIDE * sizeof *x);
	x[META_PKT_TYPE] = pkttype;
	x[META_VLAN_TPID] = (flags & PKT_VLAN_VALID) ? tpid : 0;
	if (p->kind == KIND_AFPACKET && !p->vnet && wire > p->mtu + (p->l3 ? 0u : 18u) && port_oversize(p, wire)) {
		/* larger than the MTU allows: a GRO/GSO super-frame from a peer with offloads on */
		flags |= PKT_GSO;
		p->c[C_RX_GSO]++;
		p->gso_seen = 1;
	}
	m->flags[i] = flags;
	p->c[C_RX_BYTES] += len;
}

/* Adds what a virtio_net_hdr says (virtio spec 5.1.6; little-endian for packet sockets). */
static inline void desc_vnet(struct port *p, uint32_t i, const uint8_t *hdr)
{
	struct virtio_net_hdr v;
	memcpy(&v, hdr, sizeof v);
	uint16_t *x = p->meta.extra + (size_t)i * META_STRIDE;
	x[META_VNET_FLAGS] = v.flags;
	x[META_GSO_TYPE] = v.gso_type;
	x[META_HDR_LEN] = v.hdr_len;
	x[META_GSO_SIZE] = v.gso_size;
	x[META_CSUM_START] = v.csum_start;
	x[META_CSUM_OFFSET] = v.csum_offset;
	if (v.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) p->meta.flags[i] |= PKT_CSUM_NOT_READY;
	if (v.flags & VIRTIO_NET_HDR_F_DATA_VALID) p->meta.flags[i] |= PKT_CSUM_VALID;
	if (v.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		p->meta.flags[i] |= PKT_GSO;
		p->c[C_RX_GSO]++;
	}
}

static inline uint8_t *ring_frame(const struct ring *r, uint32_t idx)
{
	return r->base + (size_t)(idx / r->frames_per_block) * r->block_size +
	       (size_t)(idx % r->frames_per_block) * r->frame_size;
}

#endif
