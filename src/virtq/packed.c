/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packed virtqueue, driver side (virtio spec "Packed Virtqueues").
 *
 * One ring of descriptors that the driver makes available and the device
 * overwrites with used descriptors, in ring order.  A descriptor is
 * available in lap w when AVAIL == w and USED != w, used when AVAIL ==
 * USED == w; both wrap counters start at 1 and flip at the end of the
 * ring.  Buffer ids come from a host-private free list; the next used
 * position advances by the length of the chain the used id names.
 */
#include "virtq/ring.h"
#include "virtq/virtq_impl.h"

#define DESC(vq)	 ((struct vring_packed_desc *)(vq)->a.desc)
#define DRIVER_EVENT(vq) ((struct vring_packed_desc_event *)(vq)->a.driver)
#define DEVICE_EVENT(vq) ((struct vring_packed_desc_event *)(vq)->a.device)

void vhu_packed_init(struct vhu_vq *vq)
{
	vq->free_head = 0;
	vq->free_ids = vq->cfg.size;
	vq->avail_wrap = vq->used_wrap = true;
}

void vhu_packed_set_base(struct vhu_vq *vq, uint32_t base)
{
	vq->next_avail = vq->next_used = (uint16_t)(base & 0x7fff);
	vq->avail_wrap = vq->used_wrap = (base >> 15) & 1;
}

int vhu_packed_add(struct vhu_vq *vq, const struct vhu_vq_seg *seg, unsigned n, bool indirect, void *token,
		   uint32_t wlen)
{
	unsigned need = indirect ? 1 : n;
	uint16_t id = vq->free_head, head = vq->next_avail, pos = head;
	bool wrap = vq->avail_wrap, head_wrap = wrap;
	struct vring_packed_desc *h = &DESC(vq)[head];
	uint16_t head_flags;

	if (!vq->free_ids || vq->free_desc < need)
		return VHU_VQ_FULL;
	if (indirect) {
		/* Spec "Indirect Flag": the table holds plain descriptors
		 * (NEXT is not used), the ring entry has INDIRECT. */
		struct vring_packed_desc *t =
			(struct vring_packed_desc *)vq->a.indirect + (size_t)id * vq->cfg.indirect_max;

		for (unsigned i = 0; i < n; i++) {
			t[i].addr = htole64(seg[i].addr);
			t[i].len = htole32(seg[i].len);
			t[i].id = 0;
			t[i].flags = htole16(seg[i].write ? VRING_DESC_F_WRITE : 0);
		}
		h->addr = htole64(vq->a.indirect_addr + 16 * (uint64_t)id * vq->cfg.indirect_max);
		h->len = htole32(16 * n);
		head_flags = VRING_DESC_F_INDIRECT;
		vq->stats.indirect++;
	} else {
		/* Every descriptor but the head first; the head's flags
		 * last, so the device never sees a partial chain. */
		for (unsigned i = 1; i < n; i++) {
			struct vring_packed_desc *d;

			if (++pos == vq->cfg.size) {
				pos = 0;
				wrap = !wrap;
			}
			d = &DESC(vq)[pos];
			d->addr = htole64(seg[i].addr);
			d->len = htole32(seg[i].len);
			d->id = htole16(id);
			vhu_st16(&d->flags, (uint16_t)((seg[i].write ? VRING_DESC_F_WRITE : 0) |
						       (i + 1 < n ? VRING_DESC_F_NEXT : 0) |
						       vhu_packed_avail_flags(wrap)));
		}
		h->addr = htole64(seg[0].addr);
		h->len = htole32(seg[0].len);
		head_flags =
			(uint16_t)((seg[0].write ? VRING_DESC_F_WRITE : 0) | (n > 1 ? VRING_DESC_F_NEXT : 0));
	}
	h->id = htole16(id);
	if (++pos == vq->cfg.size) {
		pos = 0;
		wrap = !wrap;
	}
	vq->next_avail = pos;
	vq->avail_wrap = wrap;
	vq->free_head = vq->slot[id].next;
	vq->free_ids--;
	vq->added_since_kick += need;
	vhu_vq_slot_take(vq, id, token, wlen, need);
	vhu_st16_release(&h->flags, (uint16_t)(head_flags | vhu_packed_avail_flags(head_wrap)));
	return VHU_OK;
}

bool vhu_packed_publish(struct vhu_vq *vq)
{
	uint16_t new = vq->next_avail, old = (uint16_t)(new - vq->added_since_kick), flags;
	bool kick;

	if (!vq->added_since_kick)
		return false;
	/* Head flags went out with release; the device's suppression
	 * structure must be read after they are visible. */
	vhu_fence();
	flags = vhu_ld16(&DEVICE_EVENT(vq)->flags) & 3;
	if (flags == VRING_PACKED_EVENT_FLAG_DESC && vq->cfg.event_idx) {
		uint16_t off_wrap = vhu_ld16(&DEVICE_EVENT(vq)->off_wrap);
		uint16_t event = off_wrap & 0x7fff;

		/* An event in the previous lap sits one ring size back, so
		 * positions compare as free-running indices. */
		if ((bool)(off_wrap >> 15) != vq->avail_wrap)
			event = (uint16_t)(event - vq->cfg.size);
		kick = vring_need_event(event, new, old);
	} else {
		kick = flags != VRING_PACKED_EVENT_FLAG_DISABLE;
	}
	vq->added_since_kick = 0;
	if (kick)
		vq->stats.kicks++;
	else
		vq->stats.kicks_suppressed++;
	return kick;
}

int vhu_packed_poll(struct vhu_vq *vq, struct vhu_vq_used *out, unsigned max, unsigned *n)
{
	unsigned k = 0;

	while (k < max && vq->inflight) {
		struct vring_packed_desc *d = &DESC(vq)[vq->next_used];
		uint16_t f = vhu_ld16_acquire(&d->flags);
		bool avail = f & VHU_PACKED_AVAIL, used = f & VHU_PACKED_USED;
		uint16_t id;
		int rc;

		/* We wrote this slot in lap used_wrap (AVAIL = w, USED = !w);
		 * the device may only turn it into AVAIL = USED = w. */
		if (avail == vq->used_wrap && used != vq->used_wrap)
			break;
		if (avail != vq->used_wrap || used != vq->used_wrap)
			return vhu_vq_violation(
				vq,
				"queue %u, descriptor %u: wrong wrap bits in a used descriptor (AVAIL=%d "
				"USED=%d, used wrap counter %d)",
				vq->cfg.index, vq->next_used, avail, used, vq->used_wrap);
		id = vhu_ld16(&d->id);
		rc = vhu_vq_complete(vq, id, vhu_ld32(&d->len), "descriptor", vq->next_used, &out[k]);
		if (rc)
			return rc;
		vq->next_used = (uint16_t)(vq->next_used + vq->slot[id].ndesc);
		if (vq->next_used >= vq->cfg.size) {
			vq->next_used = (uint16_t)(vq->next_used - vq->cfg.size);
			vq->used_wrap = !vq->used_wrap;
		}
		vq->free_desc += vq->slot[id].ndesc;
		vq->slot[id].next = vq->free_head;
		vq->free_head = id;
		vq->free_ids++;
		k++;
	}
	*n = k;
	return VHU_OK;
}

bool vhu_packed_pending(const struct vhu_vq *vq)
{
	uint16_t f;

	if (!vq->inflight)
		return false;
	f = vhu_ld16_acquire(&DESC(vq)[vq->next_used].flags);
	/* Anything but "still available" is for vhu_vq_poll() to judge. */
	return !((bool)(f & VHU_PACKED_AVAIL) == vq->used_wrap &&
		 (bool)(f & VHU_PACKED_USED) != vq->used_wrap);
}

void vhu_packed_notify(struct vhu_vq *vq, bool on)
{
	struct vring_packed_desc_event *e = DRIVER_EVENT(vq);

	if (!on) {
		vhu_st16(&e->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
		return;
	}
	if (vq->cfg.event_idx) {
		/* Spec "Driver and Device Event Suppression": notify once the
		 * descriptor at our next used position is used. */
		vhu_st16(&e->off_wrap, (uint16_t)(vq->next_used | (uint16_t)vq->used_wrap << 15));
		vhu_st16_release(&e->flags, VRING_PACKED_EVENT_FLAG_DESC);
	} else {
		vhu_st16(&e->flags, VRING_PACKED_EVENT_FLAG_ENABLE);
	}
}
