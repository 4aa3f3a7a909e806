/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory as the memory and ring commands show it. */
#include "render/mem.h"

#include <stdio.h>

#include "render/out.h"

void vhu_render_regions(const struct vhu_region *regions, unsigned first, unsigned n)
{
	vhu_out_open_list("regions", "Regions");
	for (unsigned i = first; i < first + n; i++) {
		const struct vhu_region *g = &regions[i];
		char label[32];

		snprintf(label, sizeof(label), "region %u", i);
		vhu_out_open(NULL, label);
		vhu_out_hex("guest_phys_addr", "guest_phys_addr", g->gpa, 1);
		vhu_out_uint("memory_size", "memory_size", g->size, "bytes");
		vhu_out_hex("userspace_addr", "userspace_addr", g->uva, 1);
		vhu_out_hex("mmap_offset", "mmap_offset", g->mmap_offset, 1);
		vhu_out_close();
	}
	vhu_out_close_list();
}

void vhu_render_vring_addr(const struct vhost_vring_addr *addr)
{
	vhu_out_uint("ring", "Ring", addr->index, NULL);
	vhu_out_hex("desc", "Descriptor table", addr->desc_user_addr, 1);
	vhu_out_hex("used", "Used ring", addr->used_user_addr, 1);
	vhu_out_hex("avail", "Available ring", addr->avail_user_addr, 1);
	vhu_out_hex("flags", "Flags", addr->flags, 1);
}
