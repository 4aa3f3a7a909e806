/* SPDX-License-Identifier: Apache-2.0 */
/* Inside src/virtq: the layout-specific halves of the operations. */
#ifndef VHU_VIRTQ_IMPL_H
#define VHU_VIRTQ_IMPL_H

#include "virtq/virtq.h"

/* Mark @vq broken, set its message, return VHU_E_PROTO. */
int vhu_vq_violation(struct vhu_vq *vq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a completion of buffer id @id: checks, token out, id released by
 * the caller.  VHU_OK or VHU_E_PROTO.  @where names the ring position
 * ("used index 5", "descriptor 17"). */
int vhu_vq_complete(struct vhu_vq *vq, uint32_t id, uint32_t len, const char *kind, unsigned where,
		    struct vhu_vq_used *out);

/* Buffer id @id now holds a chain of @need descriptors for @token (@wlen
 * device-writable bytes): the slot is in flight and the count taken. */
static inline void vhu_vq_slot_take(struct vhu_vq *vq, uint16_t id, void *token, uint32_t wlen, unsigned need)
{
	struct vhu_vq_slot *sl = &vq->slot[id];

	vq->free_desc -= need;
	sl->token = token;
	sl->wlen = wlen;
	sl->ndesc = (uint16_t)need;
	sl->inflight = true;
	vq->inflight++;
	vq->stats.added++;
}

void vhu_split_init(struct vhu_vq *vq);
void vhu_split_set_base(struct vhu_vq *vq, uint16_t base);
int vhu_split_add(struct vhu_vq *vq, const struct vhu_vq_seg *seg, unsigned n, bool indirect, void *token,
		  uint32_t wlen);
bool vhu_split_publish(struct vhu_vq *vq);
int vhu_split_poll(struct vhu_vq *vq, struct vhu_vq_used *out, unsigned max, unsigned *n);
bool vhu_split_pending(const struct vhu_vq *vq);
void vhu_split_notify(struct vhu_vq *vq, bool on);

void vhu_packed_init(struct vhu_vq *vq);
void vhu_packed_set_base(struct vhu_vq *vq, uint32_t base);
int vhu_packed_add(struct vhu_vq *vq, const struct vhu_vq_seg *seg, unsigned n, bool indirect, void *token,
		   uint32_t wlen);
bool vhu_packed_publish(struct vhu_vq *vq);
int vhu_packed_poll(struct vhu_vq *vq, struct vhu_vq_used *out, unsigned max, unsigned *n);
bool vhu_packed_pending(const struct vhu_vq *vq);
void vhu_packed_notify(struct vhu_vq *vq, bool on);

#endif
