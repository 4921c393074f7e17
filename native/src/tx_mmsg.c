/*
 * TX with sendmmsg(2): one syscall per up to tx_max frames, iovecs pointing straight at the
 * sender's memory (for a forwarder, the other port's RX ring), so the only copy is the kernel's.
 * Per message: [virtio_net_hdr] [prepended head] [packet]; L3 ports name the protocol per
 * message in a sockaddr_ll (packet_snd takes skb->protocol from sll_protocol).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "rx_desc.h"

int port_alloc_tx_mmsg(struct port *p, uint32_t max)
{
	p->tx_max = max;
	p->tx_msgs = calloc(max, sizeof(struct mmsghdr));
	p->tx_iov = calloc((size_t)max * 3, sizeof(struct iovec));
	p->tx_vnet = calloc(max, VNET_LEN);
	return p->tx_msgs && p->tx_iov && p->tx_vnet ? 0 : -1;
}

/* Sends m[0..n); returns how many went out. *stop: 1 = EAGAIN (rest dropped), 2 = link gone. */
static uint32_t send_chunk(struct port *p, struct mmsghdr *m, uint32_t n, int *stop)
{
	uint32_t i = 0, ok = 0, pre = p->vnet ? VNET_LEN : 0;
	while (i < n) {
		int r = sendmmsg(p->fd, m + i, n - i, MSG_DONTWAIT);
		if (r > 0) {
			for (int j = 0; j < r; j++) p->c[C_TX_BYTES] += m[i + j].msg_len - pre;
			i += r;
			ok += r;
			continue;
		}
		int e = errno;
		if (r < 0 && e == EINTR) continue;
		p->c[C_LAST_ERRNO] = e;
		if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
			p->c[C_TX_EAGAIN] += n - i;
			*stop = 1;
			break;
		}
		p->c[C_TX_ERRORS]++; /* this message is bad (EMSGSIZE, EINVAL, ...): skip it */
		i++;
		if (e == ENETDOWN || e == ENXIO || e == ENODEV) {
			p->c[C_TX_ERRORS] += n - i;
			*stop = 2;
			break;
		}
	}
	return ok;
}

uint32_t tx_mmsg_send(struct port *p, const struct tx_src *s)
{
	struct mmsghdr *m = p->tx_msgs;
	struct iovec *iov = p->tx_iov;
	uint8_t *vh = p->tx_vnet;
	uint32_t sent = 0, k = 0;
	int stop = 0;
	while (k < s->count && !stop) {
		uint32_t n = 0;
		for (; k < s->count && n < p->tx_max; k++) {
			uint32_t slot, bl, hl;
			const uint8_t *body, *head;
			if (tx_packet(p, s, k, &slot, &body, &bl, &head, &hl)) {
				p->c[C_TX_ERRORS]++;
				continue;
			}
			struct iovec *v = iov + (size_t)n * 3;
			int c = 0;
			if (p->vnet) {
				tx_vnet_hdr(s, slot, vh + (size_t)n * VNET_LEN);
				v[c++] = (struct iovec){vh + (size_t)n * VNET_LEN, VNET_LEN};
			}
			if (hl) v[c++] = (struct iovec){(void *)head, hl};
			v[c++] = (struct iovec){(void *)body, bl};
			struct msghdr *h = &m[n].msg_hdr;
			h->msg_iov = v;
			h->msg_iovlen = (size_t)c;
			h->msg_name = NULL;
			h->msg_namelen = 0;
			if (p->l3) {
				uint8_t ver = (hl ? head[0] : body[0]) >> 4;
				if (ver != 4 && ver != 6) {
					p->c[C_TX_ERRORS]++;
					continue;
				}
				h->msg_name = p->tx_proto_addr[ver == 6];
				h->msg_namelen = sizeof(struct sockaddr_ll);
			}
			n++;
		}
		if (n) sent += send_chunk(p, m, n, &stop);
	}
	if (stop) p->c[stop == 1 ? C_TX_EAGAIN : C_TX_ERRORS] += s->count - k;
	p->c[C_TX_PACKETS] += sent;
	return sent;
}
