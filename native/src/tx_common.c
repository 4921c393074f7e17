/* Resolving the packets of a TX batch: slot indices, bounds, the optional prepended head. */
#include <linux/virtio_net.h>
#include <string.h>

#include "ferry_io.h"

int tx_packet(struct port *p, const struct tx_src *s, uint32_t k, uint32_t *slot, const uint8_t **body,
	      uint32_t *body_len, const uint8_t **head, uint32_t *head_len)
{
	(void)p;
	uint32_t i = s->slots16 ? s->slots16[k] : s->slots32 ? s->slots32[k] : k;
	if (i >= s->meta_len) return -1;
	uint32_t off = s->offset[i], len = s->length[i];
	if ((uint64_t)off + len > s->data_len) return -1;
	*head = NULL;
	*head_len = 0;
	if (s->head && i < s->head_len_len && s->head_len[i]) {
		uint32_t hl = s->head_len[i];
		if (hl > s->head_stride || (size_t)i * s->head_stride + hl > s->head_total) return -1;
		*head = s->head + (size_t)i * s->head_stride;
		*head_len = hl;
	}
	if (len + *head_len == 0) return -1;
	*slot = i;
	*body = s->data + off;
	*body_len = len;
	return 0;
}

/* The virtio_net_hdr for slot `slot`: the offload info the sender passed (META_*), else none. */
void tx_vnet_hdr(const struct tx_src *s, uint32_t slot, void *out)
{
	struct virtio_net_hdr v;
	memset(&v, 0, sizeof v);
	if (s->extra) {
		const uint16_t *x = s->extra + (size_t)slot * META_STRIDE;
		v.flags = (uint8_t)x[META_VNET_FLAGS];
		v.gso_type = (uint8_t)x[META_GSO_TYPE];
		v.hdr_len = x[META_HDR_LEN];
		v.gso_size = x[META_GSO_SIZE];
		v.csum_start = x[META_CSUM_START];
		v.csum_offset = x[META_CSUM_OFFSET];
	}
	memcpy(out, &v, sizeof v);
}
