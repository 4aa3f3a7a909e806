/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory, rings and the inflight buffer as the commands show them. */
#ifndef VHU_RENDER_MEM_H
#define VHU_RENDER_MEM_H

#include "proto/mem.h"
#include "proto/wire.h"

/* The "regions" list: regions[@first, @first + @n) with their guest
 * physical and user addresses, size and mmap offset. */
void vhu_render_regions(const struct vhu_region *regions, unsigned first, unsigned n);

/* The members of a SET_VRING_ADDR payload. */
void vhu_render_vring_addr(const struct vhost_vring_addr *addr);

/* What the session set up for ring @i (batch's `state`): an object with
 * only the members that were set. */
void vhu_render_ring_state(unsigned i, const struct vhu_ring_state *r);

/* The members of an inflight buffer's description (GET_INFLIGHT_FD). */
void vhu_render_inflight(const struct vhost_user_inflight *in);

/* Queue @q of an inflight buffer, as read: an object in the list open. */
void vhu_render_inflight_queue(unsigned q, const struct vhu_inflight_queue *iq);

#endif
