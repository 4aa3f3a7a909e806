/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The driver as its own IOMMU (spec "IOMMU support"): an identity map,
 * iova = guest-physical address, served on the back-end channel.
 *
 * A back-end with VIRTIO_F_ACCESS_PLATFORM translates every ring and
 * buffer address through its IOTLB; what it lacks it asks for with a
 * BACKEND_IOTLB_MSG miss (type 1: iova, perm), and the front-end answers
 * with an IOTLB_MSG update (type 2: iova, size, uaddr, perm) on the main
 * socket, then -- when the miss carried NEED_REPLY -- acks the miss.
 *
 * The update covers the whole region holding the iova and grants
 * read-write, as QEMU answers with the IOMMU entry (its permission, not
 * the one asked for): DPDK keys its IOTLB cache by iova and keeps the
 * first entry for an iova, so an update limited to a read would leave a
 * later write miss at the same iova unanswerable.  One update per region
 * also means a back-end misses once per region, not once per page.
 */
#include <string.h>

#include "driver/driver.h"

/* The region of guest memory the back-end knows that holds @iova. */
static const struct vhu_region *region_of(const struct vhu_drv *d, uint64_t iova)
{
	for (unsigned i = 0; i < d->res->nregions; i++) {
		const struct vhu_region *g = &d->res->regions[i];

		if (g->sent && !g->removed && iova >= g->gpa && iova - g->gpa < g->size)
			return g;
	}
	return NULL;
}

/* One channel message: a miss gets its update, then its ack; anything
 * else was answered when it was read. */
static int handle(struct vhu_drv *d, struct vhu_chan_msg *m)
{
	struct vhost_iotlb_msg_wire miss, up;
	const struct vhu_region *g;
	int rc;

	if (!vhu_chan_iotlb_miss(m, &miss))
		return VHU_OK;
	d->iotlb_misses++;
	g = region_of(d, miss.iova);
	if (g) {
		memset(&up, 0, sizeof(up));
		up.iova = g->gpa;
		up.size = g->size;
		up.uaddr = g->uva;
		up.perm = VHU_IOTLB_RW;
		up.type = VHU_IOTLB_UPDATE;
		if ((rc = vhu_iotlb_msg(d->s, &up)))
			return rc;
		d->iotlb_updates++;
	} else {
		/* Spec: an invalid miss is acked at once, without an update. */
		d->iotlb_invalid++;
		vhu_note(d->s, VHU_DIR_BACKEND_RECV, "IOTLB_MSG: miss at iova 0x%llx outside guest memory",
			 (unsigned long long)miss.iova);
	}
	return vhu_chan_answer(d->s, d->chan, m);
}

int vhu_drv_iotlb(struct vhu_drv *d)
{
	static struct vhu_chan_msg m; /* 4 KiB payload: not on the stack */
	struct vhu_chan *c = d->chan;
	enum vhu_chan_event ev;
	int rc;

	if (!d->iommu || !c)
		return VHU_OK;
	for (;;) {
		const struct vhu_chan_msg *q;
		unsigned n = vhu_chan_queued(d->s, c, &q, &rc);

		if (rc)
			return rc;
		/* Read while a request waited (a batch prints them after the
		 * step, so they stay queued unless the queue grows long). */
		if (n < d->chan_seen)
			d->chan_seen = 0;
		if (d->chan_seen < n) {
			m = q[d->chan_seen++]; /* the queue may move while we answer */
			if ((rc = handle(d, &m)))
				return rc;
			continue;
		}
		if (n >= 32) {
			vhu_chan_clear_queued(c);
			d->chan_seen = 0;
		}
		if (!c->open)
			return VHU_OK;
		if ((rc = vhu_chan_next(d->s, c, 0, &m, &ev)))
			return rc;
		if (ev != VHU_CHAN_MSG)
			return VHU_OK;
		if ((rc = handle(d, &m)))
			return rc;
	}
}
