/*
 * TX through the PACKET_TX_RING (packet_mmap.rst, "TX ring"): copy each frame into the next
 * TP_STATUS_AVAILABLE slot, set tp_len, mark TP_STATUS_SEND_REQUEST, then ONE send() kick per
 * batch, which makes the kernel walk the ring from its own head and transmit every requested
 * frame in order (tpacket_snd). With MSG_DONTWAIT it stops at the first frame it cannot get an
 * skb for and leaves it (and all after it) SEND_REQUEST; those are taken back here
 * (TP_STATUS_AVAILABLE, head moved back) and counted as EAGAIN, so a batch is either sent now or
 * dropped -- never sent late by some later kick.
 *
 * L3 (SOCK_DGRAM) ports: the kick's sockaddr_ll gives skb->protocol for the whole kick, so each
 * run of same-version packets gets its own kick (usually one run per batch).
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include "rx_desc.h"

static inline uint32_t *slot_status(const struct port *p, uint8_t *f)
{
	return p->tp_version == TPACKET_V3 ? &((struct tpacket3_hdr *)f)->tp_status : &((struct tpacket2_hdr *)f)->tp_status;
}

static inline uint32_t *slot_len(const struct port *p, uint8_t *f)
{
	return p->tp_version == TPACKET_V3 ? &((struct tpacket3_hdr *)f)->tp_len : &((struct tpacket2_hdr *)f)->tp_len;
}

static inline uint32_t tx_next(const struct ring *r, uint32_t i) { return i + 1 == r->frame_nr ? 0 : i + 1; }

/* Kicks the frames [first, first+queued) and returns how many the kernel took. */
static uint32_t kick(struct port *p, uint32_t first, uint32_t queued, int proto)
{
	struct ring *r = &p->tx_ring;
	ssize_t rc;
	do {
		if (proto < 0) rc = send(p->fd, NULL, 0, MSG_DONTWAIT);
		else rc = sendto(p->fd, NULL, 0, MSG_DONTWAIT, (const struct sockaddr *)p->tx_proto_addr[proto],
				 sizeof(struct sockaddr_ll));
	} while (rc < 0 && errno == EINTR);
	int err = rc < 0 ? errno : 0;
	p->c[C_TX_KICKS]++;
	uint32_t done = 0, i = first, pre = p->vnet ? VNET_LEN : 0;
	for (; done < queued; done++) {
		uint8_t *f = ring_frame(r, i);
		if (__atomic_load_n(slot_status(p, f), __ATOMIC_ACQUIRE) == TP_STATUS_SEND_REQUEST) break;
		p->c[C_TX_BYTES] += *slot_len(p, f) - pre;
		i = tx_next(r, i);
	}
	if (done < queued) {
		/* not taken: reclaim, and rewind our head to where the kernel's head stopped */
		r->head = i;
		for (uint32_t k = done; k < queued; k++) {
			__atomic_store_n(slot_status(p, ring_frame(r, i)), TP_STATUS_AVAILABLE, __ATOMIC_RELEASE);
			i = tx_next(r, i);
		}
		if (err && err != EAGAIN && err != EWOULDBLOCK && err != ENOBUFS) {
			p->c[C_TX_ERRORS] += queued - done;
			p->c[C_LAST_ERRNO] = err;
		} else {
			p->c[C_TX_EAGAIN] += queued - done;
		}
	}
	p->c[C_TX_PACKETS] += done;
	return done;
}

uint32_t tx_ring_send(struct port *p, const struct tx_src *s)
{
	struct ring *r = &p->tx_ring;
	uint32_t pre = p->vnet ? VNET_LEN : 0, cap = r->frame_size - p->tx_data_off - pre;
	uint32_t limit = p->vnet ? cap : p->mtu + (p->l3 ? 0u : 18u);
	uint32_t sent = 0, k = 0;
	if (limit > cap) limit = cap;
	while (k < s->count) {
		uint32_t first = r->head, queued = 0, full = 0;
		int proto = -1;
		for (; k < s->count; k++) {
			uint32_t slot, bl, hl;
			const uint8_t *body, *head;
			if (tx_packet(p, s, k, &slot, &body, &bl, &head, &hl) || bl + hl > limit) {
				p->c[C_TX_ERRORS]++;
				continue;
			}
			if (p->l3) {
				uint8_t ver = (hl ? head[0] : body[0]) >> 4;
				int v = ver == 4 ? 0 : ver == 6 ? 1 : -1;
				if (v < 0) {
					p->c[C_TX_ERRORS]++;
					continue;
				}
				if (proto >= 0 && v != proto) break; /* kick this run first */
				proto = v;
			}
			uint8_t *f = ring_frame(r, r->head);
			if (__atomic_load_n(slot_status(p, f), __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) {
				full = 1;
				break;
			}
			uint8_t *d = f + p->tx_data_off;
			if (pre) tx_vnet_hdr(s, slot, d);
			memcpy(d + pre, head, hl);
			memcpy(d + pre + hl, body, bl);
			*slot_len(p, f) = pre + hl + bl;
			if (p->tp_version == TPACKET_V3) ((struct tpacket3_hdr *)f)->tp_next_offset = 0;
			__atomic_store_n(slot_status(p, f), TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
			r->head = tx_next(r, r->head);
			queued++;
		}
		if (queued) {
			uint32_t done = kick(p, first, queued, proto);
			sent += done;
			if (done < queued) {
				p->c[C_TX_EAGAIN] += s->count - k;
				break;
			}
		}
		if (full && !queued) {
			/* the ring is still busy with earlier frames: drop the rest of this batch */
			p->c[C_TX_EAGAIN] += s->count - k;
			break;
		}
	}
	return sent;
}
