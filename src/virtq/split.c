/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueue, driver side (virtio spec "Split Virtqueues").
 *
 * Free descriptors are chained through the host-private slot table, never
 * through the descriptor table: the device can write that memory, and a
 * free list it can corrupt would turn a device bug into ours.
 */
#include "virtq/ring.h"
#include "virtq/virtq_impl.h"

#define DESC(vq)  ((struct vring_desc *)(vq)->a.desc)
#define AVAIL(vq) ((struct vring_avail *)(vq)->a.driver)
#define USED(vq)  ((struct vring_used *)(vq)->a.device)

void vhu_split_init(struct vhu_vq *vq)
{
	vq->free_head = 0;
}

void vhu_split_set_base(struct vhu_vq *vq, uint16_t base)
{
	vq->avail_idx = vq->kick_old = vq->last_used = base;
	vhu_st16(&AVAIL(vq)->idx, base);
	/* libvhost-user takes the used index from the ring when the
	 * addresses arrive: keep it equal to the base. */
	vhu_st16(&USED(vq)->idx, base);
	if (vq->cfg.event_idx)
		vhu_st16(vhu_used_event(AVAIL(vq), vq->cfg.size),
			 vq->notify_on ? base : (uint16_t)(base - 1));
}

static void fill(struct vring_desc *d, const struct vhu_vq_seg *s, bool more, uint16_t next)
{
	d->addr = htole64(s->addr);
	d->len = htole32(s->len);
	d->flags = htole16((s->write ? VRING_DESC_F_WRITE : 0) | (more ? VRING_DESC_F_NEXT : 0));
	d->next = htole16(more ? next : 0);
}

int vhu_split_add(struct vhu_vq *vq, const struct vhu_vq_seg *seg, unsigned n, bool indirect, void *token,
		  uint32_t wlen)
{
	unsigned need = indirect ? 1 : n;
	uint16_t head = vq->free_head, idx = head;

	if (vq->free_desc < need)
		return VHU_VQ_FULL;
	if (indirect) {
		/* Spec "Indirect Descriptors": the table's entries chain
		 * from 0; the ring descriptor carries INDIRECT only. */
		struct vring_desc *t =
			(struct vring_desc *)vq->a.indirect + (size_t)head * vq->cfg.indirect_max;
		struct vring_desc *d = &DESC(vq)[head];

		for (unsigned i = 0; i < n; i++)
			fill(&t[i], &seg[i], i + 1 < n, (uint16_t)(i + 1));
		d->addr = htole64(vq->a.indirect_addr + 16 * (uint64_t)head * vq->cfg.indirect_max);
		d->len = htole32(16 * n);
		d->flags = htole16(VRING_DESC_F_INDIRECT);
		d->next = 0;
		vq->free_head = vq->slot[head].next;
		vq->stats.indirect++;
	} else {
		for (unsigned i = 0; i < n; i++) {
			fill(&DESC(vq)[idx], &seg[i], i + 1 < n, vq->slot[idx].next);
			if (i + 1 < n)
				idx = vq->slot[idx].next;
		}
		vq->free_head = vq->slot[idx].next;
	}
	vhu_vq_slot_take(vq, head, token, wlen, need);
	vhu_st16(vhu_avail_ring(AVAIL(vq), vq->avail_idx & (vq->cfg.size - 1)), head);
	vq->avail_idx++;
	return VHU_OK;
}

bool vhu_split_publish(struct vhu_vq *vq)
{
	uint16_t new = vq->avail_idx, old = vq->kick_old;
	bool kick;

	if (new == old)
		return false;
	vhu_st16_release(&AVAIL(vq)->idx, new);
	/* Spec "Available Buffer Notification Suppression": the device's
	 * flag or avail_event must be read after our index is visible. */
	vhu_fence();
	if (vq->cfg.event_idx)
		kick = vring_need_event(vhu_ld16(vhu_avail_event(USED(vq), vq->cfg.size)), new, old);
	else
		kick = !(vhu_ld16(&USED(vq)->flags) & VRING_USED_F_NO_NOTIFY);
	vq->kick_old = new;
	if (kick)
		vq->stats.kicks++;
	else
		vq->stats.kicks_suppressed++;
	return kick;
}

/* Return the descriptors of the chain at @head to the free list. */
static void release(struct vhu_vq *vq, uint16_t head)
{
	uint16_t tail = head;

	for (unsigned i = 1; i < vq->slot[head].ndesc; i++)
		tail = vq->slot[tail].next;
	vq->slot[tail].next = vq->free_head;
	vq->free_head = head;
	vq->free_desc += vq->slot[head].ndesc;
}

int vhu_split_poll(struct vhu_vq *vq, struct vhu_vq_used *out, unsigned max, unsigned *n)
{
	uint16_t uidx = vhu_ld16_acquire(&USED(vq)->idx);
	uint16_t count = (uint16_t)(uidx - vq->last_used);
	unsigned k = 0;

	if (count > vq->cfg.size)
		return vhu_vq_violation(
			vq,
			"queue %u, used index %u: the device's used index jumped to %u, more than the %u "
			"entries of the ring ahead",
			vq->cfg.index, vq->last_used, uidx, vq->cfg.size);
	while (k < max && vq->last_used != uidx) {
		const struct vring_used_elem *e = &USED(vq)->ring[vq->last_used & (vq->cfg.size - 1)];
		uint32_t id = vhu_ld32(&e->id), len = vhu_ld32(&e->len);
		int rc = vhu_vq_complete(vq, id, len, "used index", vq->last_used, &out[k]);

		if (rc)
			return rc;
		release(vq, (uint16_t)id);
		vq->last_used++;
		k++;
	}
	/* Notifications off: keep used_event just behind us, so the device
	 * is never asked for one (a stale value would fire after 2^16). */
	if (k && !vq->notify_on && vq->cfg.event_idx)
		vhu_st16(vhu_used_event(AVAIL(vq), vq->cfg.size), (uint16_t)(vq->last_used - 1));
	*n = k;
	return VHU_OK;
}

bool vhu_split_pending(const struct vhu_vq *vq)
{
	return vhu_ld16_acquire(&((struct vring_used *)vq->a.device)->idx) != vq->last_used;
}

void vhu_split_notify(struct vhu_vq *vq, bool on)
{
	/* Spec: with EVENT_IDX the driver's flags stay 0 and used_event
	 * alone says when to notify. */
	if (vq->cfg.event_idx)
		vhu_st16(vhu_used_event(AVAIL(vq), vq->cfg.size),
			 on ? vq->last_used : (uint16_t)(vq->last_used - 1));
	else
		vhu_st16(&AVAIL(vq)->flags, on ? 0 : VRING_AVAIL_F_NO_INTERRUPT);
}
