/*
 * The rings' mmap is shared by two owners: the port and, in zero-copy mode, the external
 * ArrayBuffer that exposes the RX ring to JS. The region is unmapped when the last owner lets go,
 * or earlier by close(), which first detaches the ArrayBuffer (napi_detach_arraybuffer) so that
 * no JS view can reach unmapped memory.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "ferry_io.h"

struct mapping *mapping_new(uint8_t *addr, size_t len)
{
	struct mapping *m = calloc(1, sizeof *m);
	if (!m) return NULL;
	m->addr = addr;
	m->len = len;
	m->refs = 1;
	return m;
}

void mapping_put(struct mapping *m)
{
	if (!m || --m->refs > 0) return;
	if (m->addr) munmap(m->addr, m->len);
	free(m);
}
