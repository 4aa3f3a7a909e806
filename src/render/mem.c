/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory, rings and the inflight buffer as the commands show them. */
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

void vhu_render_inflight(const struct vhost_user_inflight *in)
{
	vhu_out_uint("mmap_size", "mmap_size", in->mmap_size, "bytes");
	vhu_out_uint("mmap_offset", "mmap_offset", in->mmap_offset, NULL);
	vhu_out_uint("num_queues", "num_queues", in->num_queues, NULL);
	vhu_out_uint("queue_size", "queue_size", in->queue_size, NULL);
}

void vhu_render_inflight_queue(unsigned q, const struct vhu_inflight_queue *iq)
{
	char label[24];

	snprintf(label, sizeof(label), "queue %u", q);
	vhu_out_open(NULL, label);
	vhu_out_uint("queue", "queue", q, NULL);
	vhu_out_uint("version", "version", iq->version, NULL);
	vhu_out_uint("desc_num", "desc_num", iq->desc_num, NULL);
	vhu_out_uint("last_batch_head", "last_batch_head", iq->last_batch_head, NULL);
	vhu_out_uint("used_idx", "used_idx", iq->used_idx, NULL);
	vhu_out_uint("inflight", "inflight descriptors", iq->inflight, NULL);
	vhu_out_bool("truncated", "truncated", iq->truncated);
	vhu_out_close();
}

void vhu_render_ring_state(unsigned i, const struct vhu_ring_state *r)
{
	char label[32];

	snprintf(label, sizeof(label), "ring %u", i);
	vhu_out_open(NULL, label);
	vhu_out_uint("ring", "ring", i, NULL);
	if (r->set & VHU_RING_NUM)
		vhu_out_uint("num", "num", r->num, NULL);
	if (r->set & VHU_RING_BASE)
		vhu_out_uint("base", "base", r->base, NULL);
	if (r->set & VHU_RING_ADDR) {
		vhu_out_hex("desc", "desc", r->desc, 1);
		vhu_out_hex("avail", "avail", r->avail, 1);
		vhu_out_hex("used", "used", r->used, 1);
	}
	if (r->set & VHU_RING_KICK)
		vhu_out_string("kick", "kick", r->kick_fd ? "eventfd" : "none");
	if (r->set & VHU_RING_CALL)
		vhu_out_string("call", "call", r->call_fd ? "eventfd" : "none");
	if (r->set & VHU_RING_ERR)
		vhu_out_string("err", "err", r->err_fd ? "eventfd" : "none");
	if (r->set & VHU_RING_ENABLE)
		vhu_out_bool("enabled", "enabled", r->enabled);
	if (r->set & VHU_RING_STOPPED)
		vhu_out_uint("stopped_at", "stopped at base", r->stop_base, NULL);
	vhu_out_close();
}
