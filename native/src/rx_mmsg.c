/*
 * RX with recvmmsg(2) into the V8-owned slab: one syscall per batch, one copy per frame, no ring.
 * Metadata comes from the PACKET_AUXDATA control message (struct tpacket_auxdata: status, wire
 * length, VLAN) and the sockaddr_ll (packet type); the timestamp is taken once per batch.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "rx_desc.h"

#define CTRL_SPACE CMSG_SPACE(sizeof(struct tpacket_auxdata))

static void reset_msg(struct port *p, uint32_t i)
{
	struct mmsghdr *m = (struct mmsghdr *)p->mm_msgs + i;
	m->msg_hdr.msg_name = (struct sockaddr_ll *)p->mm_addr + i;
	m->msg_hdr.msg_namelen = sizeof(struct sockaddr_ll);
	m->msg_hdr.msg_iov = (struct iovec *)p->mm_iov + i;
	m->msg_hdr.msg_iovlen = 1;
	m->msg_hdr.msg_control = (char *)p->mm_ctrl + (size_t)i * CTRL_SPACE;
	m->msg_hdr.msg_controllen = CTRL_SPACE;
	m->msg_hdr.msg_flags = 0;
}

/* Called once the slab exists (p->rx_view): one mm_slot-sized buffer per batch slot. */
int port_alloc_rx_mmsg(struct port *p)
{
	uint32_t n = p->batch_max;
	p->mm_msgs = calloc(n, sizeof(struct mmsghdr));
	p->mm_iov = calloc(n, sizeof(struct iovec));
	p->mm_ctrl = calloc(n, CTRL_SPACE);
	p->mm_addr = calloc(n, sizeof(struct sockaddr_ll));
	if (!p->mm_msgs || !p->mm_iov || !p->mm_ctrl || !p->mm_addr) return -1;
	for (uint32_t i = 0; i < n; i++) {
		struct iovec *v = (struct iovec *)p->mm_iov + i;
		v->iov_base = p->rx_view + (size_t)i * p->mm_slot;
		v->iov_len = p->mm_slot;
		reset_msg(p, i);
	}
	return 0;
}

uint32_t rx_mmsg_collect(struct port *p, int *err)
{
	struct mmsghdr *m = p->mm_msgs;
	int r = recvmmsg(p->fd, m, p->batch_max, MSG_DONTWAIT, NULL);
	if (r <= 0) {
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) *err = errno;
		return 0;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint32_t pre = p->vnet ? VNET_LEN : 0;
	for (int i = 0; i < r; i++) {
		struct msghdr *h = &m[i].msg_hdr;
		uint32_t got = m[i].msg_len > pre ? m[i].msg_len - pre : 0, wire = got, st = 0;
		uint16_t tci = 0, tpid = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
			if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
				struct tpacket_auxdata a;
				memcpy(&a, CMSG_DATA(c), sizeof a);
				st = a.tp_status;
				wire = a.tp_len;
				tci = a.tp_vlan_tci;
				tpid = a.tp_vlan_tpid;
			}
		}
		const struct sockaddr_ll *sll = h->msg_name;
		uint32_t off = (uint32_t)((size_t)i * p->mm_slot + pre);
		desc_put(p, (uint32_t)i, off, got, wire, status_flags(st, tci), (uint32_t)ts.tv_sec, (uint32_t)ts.tv_nsec,
			 sll->sll_pkttype, tpid);
		if (p->vnet && m[i].msg_len >= pre) desc_vnet(p, (uint32_t)i, p->rx_view + (size_t)i * p->mm_slot);
		reset_msg(p, (uint32_t)i);
	}
	return (uint32_t)r;
}
