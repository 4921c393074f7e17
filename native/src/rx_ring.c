/*
 * Walking the PACKET_MMAP RX ring (Documentation/networking/packet_mmap.rst).
 *
 * TPACKET_V2: fixed-size frames, each with its own tp_status; the kernel sets TP_STATUS_USER
 * and wakes the reader for every frame, so a frame is visible as soon as it is written.
 * TPACKET_V3: variable-size frames packed into blocks; only whole blocks change hands, when
 * full or when the block-retire timer fires, and the reader is woken only then.
 *
 * Frames stay in the ring while JS looks at them (zero-copy); the frames or blocks a batch used
 * are handed back (status = TP_STATUS_KERNEL, release order after every read) once the JS
 * callback returns. In copy mode, each frame is copied into the slab and handed back at once.
 */
#include "rx_desc.h"

static inline uint32_t ring_next(const struct ring *r, uint32_t i) { return i + 1 == r->frame_nr ? 0 : i + 1; }

uint32_t rx_v2_collect(struct port *p)
{
	struct ring *r = &p->rx_ring;
	uint32_t n = 0, slab = 0;
	p->pend_start = r->head;
	p->pend_count = 0;
	while (n < p->batch_max) {
		uint8_t *f = ring_frame(r, r->head);
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)f;
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		if (!(st & TP_STATUS_USER)) break;
		const uint8_t *data = f + h->tp_mac;
		uint32_t snap = h->tp_snaplen, off;
		if (p->rx_copy) {
			if (slab + snap > p->rx_view_len) break;
			memcpy(p->rx_view + slab, data, snap);
			off = slab;
			slab += ALIGN8(snap);
		} else {
			off = (uint32_t)(data - p->rx_view);
		}
		const struct sockaddr_ll *sll = (const void *)(f + TPACKET_ALIGN(sizeof *h));
		desc_put(p, n, off, snap, h->tp_len, status_flags(st, h->tp_vlan_tci), h->tp_sec, h->tp_nsec,
			 sll->sll_pkttype, h->tp_vlan_tpid);
		if (p->vnet) desc_vnet(p, n, data - VNET_LEN);
		if (p->rx_copy) __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		else p->pend_count++;
		r->head = ring_next(r, r->head);
		n++;
	}
	return n;
}

void rx_v2_release(struct port *p)
{
	struct ring *r = &p->rx_ring;
	uint32_t i = p->pend_start;
	for (uint32_t k = 0; k < p->pend_count; k++) {
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)ring_frame(r, i);
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		i = ring_next(r, i);
	}
	p->pend_count = 0;
}

static inline struct tpacket_block_desc *block_at(const struct ring *r, uint32_t b)
{
	return (struct tpacket_block_desc *)(r->base + (size_t)b * r->block_size);
}

static void v3_block_done(struct port *p)
{
	struct ring *r = &p->rx_ring;
	if (p->rx_copy) __atomic_store_n(&block_at(r, r->head)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	else p->pend_count++;
	p->v3_in_block = 0;
	r->head = r->head + 1 == r->block_nr ? 0 : r->head + 1;
}

uint32_t rx_v3_collect(struct port *p)
{
	struct ring *r = &p->rx_ring;
	uint32_t n = 0, slab = 0;
	p->pend_start = r->head; /* blocks are completed in ring order from here */
	p->pend_count = 0;
	while (n < p->batch_max) {
		if (!p->v3_in_block) {
			struct tpacket_block_desc *bd = block_at(r, r->head);
			uint32_t st = __atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
			if (!(st & TP_STATUS_USER)) break;
			p->v3_left = bd->hdr.bh1.num_pkts;
			p->v3_pkt = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
			p->v3_in_block = 1;
		}
		if (p->v3_left == 0) {
			v3_block_done(p);
			continue;
		}
		struct tpacket3_hdr *h = (struct tpacket3_hdr *)p->v3_pkt;
		const uint8_t *data = p->v3_pkt + h->tp_mac;
		uint32_t snap = h->tp_snaplen, off;
		if (p->rx_copy) {
			if (slab + snap > p->rx_view_len) break;
			memcpy(p->rx_view + slab, data, snap);
			off = slab;
			slab += ALIGN8(snap);
		} else {
			off = (uint32_t)(data - p->rx_view);
		}
		const struct sockaddr_ll *sll = (const void *)(p->v3_pkt + TPACKET_ALIGN(sizeof *h));
		desc_put(p, n, off, snap, h->tp_len, status_flags(h->tp_status, h->hv1.tp_vlan_tci), h->tp_sec,
			 h->tp_nsec, sll->sll_pkttype, h->hv1.tp_vlan_tpid);
		if (p->vnet) desc_vnet(p, n, data - VNET_LEN);
		p->v3_pkt += h->tp_next_offset;
		n++;
		if (--p->v3_left == 0) v3_block_done(p);
	}
	return n;
}

void rx_v3_release(struct port *p)
{
	struct ring *r = &p->rx_ring;
	uint32_t b = p->pend_start;
	for (uint32_t k = 0; k < p->pend_count; k++) {
		__atomic_store_n(&block_at(r, b)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		b = b + 1 == r->block_nr ? 0 : b + 1;
	}
	p->pend_count = 0;
}
