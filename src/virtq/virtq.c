/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What split and packed queues share: sizes, the per-id table, chain
 * checks, completion checks, and the dispatch to split.c / packed.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtq/ring.h"
#include "virtq/virtq_impl.h"

void vhu_vq_area_sizes(enum vhu_vq_layout layout, uint32_t size, size_t sz[VHU_VQ_AREAS],
		       size_t align[VHU_VQ_AREAS])
{
	sz[VHU_VQ_AREA_DESC] = 16 * (size_t)size;
	align[VHU_VQ_AREA_DESC] = 16;
	if (layout == VHU_VQ_PACKED) {
		sz[VHU_VQ_AREA_DRIVER] = sz[VHU_VQ_AREA_DEVICE] = 4;
		align[VHU_VQ_AREA_DRIVER] = align[VHU_VQ_AREA_DEVICE] = 4;
		return;
	}
	sz[VHU_VQ_AREA_DRIVER] = 6 + 2 * (size_t)size;
	align[VHU_VQ_AREA_DRIVER] = 2;
	sz[VHU_VQ_AREA_DEVICE] = 6 + 8 * (size_t)size;
	align[VHU_VQ_AREA_DEVICE] = 4;
}

size_t vhu_vq_indirect_bytes(uint32_t size, uint16_t max)
{
	return 16 * (size_t)size * max;
}

static int vq_usage(struct vhu_vq *vq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int vq_usage(struct vhu_vq *vq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vq->err, sizeof(vq->err), fmt, ap);
	va_end(ap);
	return VHU_E_USAGE;
}

int vhu_vq_violation(struct vhu_vq *vq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vq->err, sizeof(vq->err), fmt, ap);
	va_end(ap);
	vq->broken = true;
	return VHU_E_PROTO;
}

int vhu_vq_init(struct vhu_vq *vq, const struct vhu_vq_config *cfg, const struct vhu_vq_areas *areas)
{
	size_t sz[VHU_VQ_AREAS], al[VHU_VQ_AREAS];
	void *area[VHU_VQ_AREAS] = { areas->desc, areas->driver, areas->device };

	memset(vq, 0, sizeof(*vq));
	vq->cfg = *cfg;
	if (cfg->size == 0 || cfg->size > VHU_VQ_MAX_SIZE ||
	    (cfg->layout == VHU_VQ_SPLIT && (cfg->size & (cfg->size - 1))))
		return vq_usage(vq, "queue %u: size %u is not %s in 1..%u", cfg->index, cfg->size,
				cfg->layout == VHU_VQ_SPLIT ? "a power of 2" : "a number", VHU_VQ_MAX_SIZE);
	if (cfg->indirect && (cfg->indirect_max < 2 || !areas->indirect || ((uintptr_t)areas->indirect & 15)))
		return vq_usage(vq, "queue %u: indirect descriptors need tables of at least 2 entries",
				cfg->index);
	vhu_vq_area_sizes(cfg->layout, cfg->size, sz, al);
	for (int i = 0; i < VHU_VQ_AREAS; i++)
		if (!area[i] || ((uintptr_t)area[i] & (al[i] - 1)))
			return vq_usage(vq, "queue %u: ring area %d missing or not %zu-byte aligned",
					cfg->index, i, al[i]);
	vq->slot = calloc(cfg->size, sizeof(*vq->slot));
	if (!vq->slot)
		return vq_usage(vq, "queue %u: out of memory", cfg->index), VHU_E_IO;
	vq->a = *areas;
	for (int i = 0; i < VHU_VQ_AREAS; i++)
		memset(area[i], 0, sz[i]);
	if (cfg->indirect)
		memset(areas->indirect, 0, vhu_vq_indirect_bytes(cfg->size, cfg->indirect_max));
	/* A zeroed ring asks for every notification (flags 0 = enable). */
	vq->notify_on = true;
	for (uint32_t i = 0; i < cfg->size; i++)
		vq->slot[i].next = (uint16_t)(i + 1);
	vq->free_desc = cfg->size;
	if (cfg->layout == VHU_VQ_SPLIT)
		vhu_split_init(vq);
	else
		vhu_packed_init(vq);
	return VHU_OK;
}

void vhu_vq_fini(struct vhu_vq *vq)
{
	free(vq->slot);
	vq->slot = NULL;
}

int vhu_vq_set_base(struct vhu_vq *vq, uint32_t base)
{
	if (vq->inflight || vq->stats.added)
		return vq_usage(vq, "queue %u: the base can only be set before the first request",
				vq->cfg.index);
	if (vq->cfg.layout == VHU_VQ_PACKED) {
		if ((base & 0x7fff) >= vq->cfg.size || base >> 16)
			return vq_usage(
				vq,
				"queue %u: packed ring base 0x%x is not a position below %u plus a wrap bit",
				vq->cfg.index, base, vq->cfg.size);
		vhu_packed_set_base(vq, base);
		return VHU_OK;
	}
	if (base > UINT16_MAX)
		return vq_usage(vq, "queue %u: split ring base %u is beyond 16 bits", vq->cfg.index, base);
	vhu_split_set_base(vq, (uint16_t)base);
	return VHU_OK;
}

int vhu_vq_restart(struct vhu_vq *vq, uint32_t *base)
{
	struct vhu_vq_config cfg = vq->cfg;
	struct vhu_vq_areas a = vq->a;
	struct vhu_vq_stats st = vq->stats;
	bool notify = vq->notify_on;
	uint32_t b = 0x8000;
	int rc;

	/* Spec "The Virtqueue Used Ring": idx at offset 2 of the device
	 * area, stored by the device with one 16-bit write. */
	if (cfg.layout == VHU_VQ_SPLIT)
		b = vhu_ld16_acquire((const uint8_t *)a.device + 2);
	vhu_vq_fini(vq);
	if ((rc = vhu_vq_init(vq, &cfg, &a)))
		return rc;
	vhu_vq_set_base(vq, b);
	vq->stats = st;
	if (!notify)
		vhu_vq_disable_notify(vq);
	*base = b;
	return VHU_OK;
}

uint32_t vhu_vq_base(const struct vhu_vq *vq)
{
	if (vq->cfg.layout == VHU_VQ_PACKED)
		return vq->next_avail | (uint32_t)vq->avail_wrap << 15;
	return vq->avail_idx;
}

unsigned vhu_vq_max_chain(const struct vhu_vq *vq)
{
	unsigned m = vq->cfg.size;

	if (vq->cfg.indirect && vq->cfg.indirect_max > m)
		m = vq->cfg.indirect_max;
	return m;
}

int vhu_vq_add(struct vhu_vq *vq, const struct vhu_vq_seg *seg, unsigned n, void *token)
{
	uint64_t wlen = 0;
	bool indirect;

	if (vq->broken)
		return VHU_E_PROTO;
	if (n == 0 || n > vhu_vq_max_chain(vq))
		return vq_usage(vq, "queue %u: a chain of %u buffers (1..%u)", vq->cfg.index, n,
				vhu_vq_max_chain(vq));
	/* Spec "Message Framing": device-readable buffers before
	 * device-writable ones. */
	for (unsigned i = 0; i < n; i++) {
		if (!seg[i].len)
			return vq_usage(vq, "queue %u: buffer %u of a chain has length 0", vq->cfg.index, i);
		if (i && seg[i - 1].write && !seg[i].write)
			return vq_usage(vq, "queue %u: readable buffer %u follows a writable one",
					vq->cfg.index, i);
		if (seg[i].write)
			wlen += seg[i].len;
	}
	if (wlen > UINT32_MAX)
		return vq_usage(vq, "queue %u: more than 4 GiB device-writable in one chain", vq->cfg.index);
	indirect = vq->cfg.indirect && n > 1 && n <= vq->cfg.indirect_max;
	if (vq->cfg.layout == VHU_VQ_SPLIT)
		return vhu_split_add(vq, seg, n, indirect, token, (uint32_t)wlen);
	return vhu_packed_add(vq, seg, n, indirect, token, (uint32_t)wlen);
}

bool vhu_vq_publish(struct vhu_vq *vq)
{
	bool kick;

	if (vq->broken)
		return false;
	kick = vq->cfg.layout == VHU_VQ_SPLIT ? vhu_split_publish(vq) : vhu_packed_publish(vq);
	return kick;
}

int vhu_vq_complete(struct vhu_vq *vq, uint32_t id, uint32_t len, const char *kind, unsigned where,
		    struct vhu_vq_used *out)
{
	struct vhu_vq_slot *sl;

	if (id >= vq->cfg.size || !vq->slot[id].inflight)
		return vhu_vq_violation(
			vq,
			"queue %u, %s %u: used id %u is not in flight (never made available, or "
			"already used)",
			vq->cfg.index, kind, where, id);
	sl = &vq->slot[id];
	/* A chain without device-writable bytes (a virtio-net transmit
	 * buffer) has nothing the length could describe, so there is nothing
	 * to check: DPDK 22.11's packed rings report the bytes it read there
	 * instead of 0.  The length is taken as 0 (and counted). */
	if (!sl->wlen && len) {
		vq->stats.readonly_len++;
		len = 0;
	}
	if (len > sl->wlen)
		return vhu_vq_violation(
			vq,
			"queue %u, %s %u: used length %u exceeds the %u device-writable bytes of "
			"buffer %u",
			vq->cfg.index, kind, where, len, sl->wlen, id);
	out->token = sl->token;
	out->len = len;
	sl->inflight = false;
	sl->token = NULL;
	vq->inflight--;
	vq->stats.completed++;
	return VHU_OK;
}

int vhu_vq_poll(struct vhu_vq *vq, struct vhu_vq_used *out, unsigned max, unsigned *n)
{
	*n = 0;
	if (vq->broken)
		return VHU_E_PROTO;
	if (vq->cfg.layout == VHU_VQ_SPLIT)
		return vhu_split_poll(vq, out, max, n);
	return vhu_packed_poll(vq, out, max, n);
}

bool vhu_vq_pending(const struct vhu_vq *vq)
{
	return vq->cfg.layout == VHU_VQ_SPLIT ? vhu_split_pending(vq) : vhu_packed_pending(vq);
}

bool vhu_vq_enable_notify(struct vhu_vq *vq)
{
	vq->notify_on = true;
	if (vq->cfg.layout == VHU_VQ_SPLIT)
		vhu_split_notify(vq, true);
	else
		vhu_packed_notify(vq, true);
	/* Spec "Driver notifications ... re-check": the device may have
	 * used a buffer before it could see the request for a notification. */
	vhu_fence();
	return vhu_vq_pending(vq);
}

void vhu_vq_disable_notify(struct vhu_vq *vq)
{
	vq->notify_on = false;
	if (vq->cfg.layout == VHU_VQ_SPLIT)
		vhu_split_notify(vq, false);
	else
		vhu_packed_notify(vq, false);
}

unsigned vhu_vq_inflight(const struct vhu_vq *vq)
{
	return vq->inflight;
}

unsigned vhu_vq_free(const struct vhu_vq *vq)
{
	return vq->free_desc;
}

const char *vhu_vq_error(const struct vhu_vq *vq)
{
	return vq->err;
}
