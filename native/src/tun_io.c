/*
 * TUN/TAP I/O: a TUN fd has no ring and no batching syscall, so one native call drains it:
 * read(2) until EAGAIN or a full batch, each packet straight into the V8-owned slab; write(2)
 * (writev for a prepended head) per packet until done or EAGAIN. The kernel never hands a TUN
 * reader a partial checksum or a GSO super-packet unless IFF_VNET_HDR was negotiated, which
 * ferry does not do, so flags stay 0.
 */
#include <errno.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "rx_desc.h"

uint32_t tun_read_collect(struct port *p, int *err)
{
	uint32_t n = 0;
	size_t off = 0;
	struct timespec ts = {0, 0};
	while (n < p->batch_max && p->rx_view_len - off >= p->read_max) {
		ssize_t r = read(p->fd, p->rx_view + off, p->read_max);
		if (r < 0) {
			if (errno == EINTR) continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) *err = errno;
			break;
		}
		if (r == 0) break;
		if (n == 0) clock_gettime(CLOCK_REALTIME, &ts);
		desc_put(p, n, (uint32_t)off, (uint32_t)r, (uint32_t)r, 0, (uint32_t)ts.tv_sec, (uint32_t)ts.tv_nsec,
			 PACKET_HOST, 0);
		off += ALIGN8((size_t)r);
		n++;
	}
	return n;
}

uint32_t tun_write_send(struct port *p, const struct tx_src *s)
{
	uint32_t sent = 0;
	for (uint32_t k = 0; k < s->count; k++) {
		uint32_t slot, bl, hl;
		const uint8_t *body, *head;
		if (tx_packet(p, s, k, &slot, &body, &bl, &head, &hl)) {
			p->c[C_TX_ERRORS]++;
			continue;
		}
		struct iovec iov[2] = {{(void *)head, hl}, {(void *)body, bl}};
		ssize_t r;
		do r = writev(p->fd, hl ? iov : iov + 1, hl ? 2 : 1);
		while (r < 0 && errno == EINTR);
		if (r >= 0) {
			sent++;
			p->c[C_TX_BYTES] += (double)r;
			continue;
		}
		p->c[C_LAST_ERRNO] = errno;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			p->c[C_TX_EAGAIN] += s->count - k;
			break;
		}
		p->c[C_TX_ERRORS]++;
		if (errno == EIO || errno == EBADFD) { /* detached / device gone: the rest fails too */
			p->c[C_TX_ERRORS] += s->count - k - 1;
			break;
		}
	}
	p->c[C_TX_PACKETS] += sent;
	return sent;
}
