/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bring-up, stop and guest memory of the guest-less driver.  The order is
 * the one every local back-end accepted (QEMU's vhost_dev_start):
 * features and protocol features, owner, SET_FEATURES, memory, then per
 * ring NUM, BASE, ADDR, KICK, CALL, ENABLE; STATUS steps when negotiated
 * (spec "Device Initialization").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "driver/driver.h"

/* Device status bits (spec "Device Status Field"). */
#define STATUS_ACKNOWLEDGE 0x1u
#define STATUS_DRIVER	   0x2u
#define STATUS_DRIVER_OK   0x4u
#define STATUS_FEATURES_OK 0x8u

void vhu_drv_init(struct vhu_drv *d, struct vhu_session *s, struct vhu_res *res, const struct vhu_drv_opts *o)
{
	memset(d, 0, sizeof(*d));
	d->s = s;
	d->res = res;
	d->o = *o;
	if (!d->o.queue_size)
		d->o.queue_size = VHU_DRV_DEFAULT_QUEUE_SIZE;
	if (!d->o.mem_size)
		d->o.mem_size = VHU_DRV_DEFAULT_MEM;
	if (!d->o.protocol_mask)
		d->o.protocol_mask = VHU_DRV_PF_MASK;
	d->region = -1;
	d->chan = o->chan ? o->chan : &d->own_chan;
}

void vhu_drv_fini(struct vhu_drv *d)
{
	for (unsigned i = 0; i < d->nq; i++)
		vhu_vq_fini(&d->q[i].vq);
	d->nq = 0;
	if (d->chan)
		d->chan->hold_iotlb_miss = false;
	/* Ours only: a borrowed channel stays with its owner (a batch). */
	vhu_chan_release(&d->own_chan);
}

/* Record a step; returns @rc. */
static int rec(struct vhu_drv *d, uint32_t req, int32_t ring, uint64_t value, int rc)
{
	if (d->nsteps < VHU_DRV_MAX_STEPS)
		d->steps[d->nsteps++] = (struct vhu_drv_step){ req, ring, value, rc };
	return rc;
}

const char *vhu_drv_step_name(const struct vhu_drv_step *st)
{
	const struct vhu_req_desc *r = vhu_req_by_code(st->request);

	return r ? r->name : "?";
}

struct vhu_drv_queue *vhu_drv_queue(struct vhu_drv *d, uint32_t index)
{
	for (unsigned i = 0; i < d->nq; i++)
		if (d->q[i].index == index)
			return &d->q[i];
	return NULL;
}

static int want(struct vhu_drv *d, enum vhu_drv_choice c, unsigned bit, const char *name, const char *opt)
{
	if (c == VHU_DRV_ON && !(d->s->features & VHU_BIT(bit)))
		return vhu_fail(d->s, VHU_E_UNSUPPORTED, "%s: the back-end does not offer it (%s)", name,
				opt);
	return VHU_OK;
}

int vhu_drv_probe(struct vhu_drv *d)
{
	struct vhu_session *s = d->s;
	uint64_t v = 0;
	int rc;

	if (!s->have_features) {
		rc = vhu_get_features(s, &v);
		if (rec(d, VHOST_USER_GET_FEATURES, -1, v, rc))
			return rc;
	}
	if (d->o.layout == VHU_VQ_PACKED && !(s->features & VHU_BIT(VIRTIO_F_RING_PACKED)))
		return vhu_fail(
			s, VHU_E_UNSUPPORTED,
			"VIRTIO_F_RING_PACKED: the back-end does not offer packed rings (--ring split)");
	if ((rc = want(d, d->o.event_idx, VIRTIO_F_EVENT_IDX, "VIRTIO_F_EVENT_IDX", "--event-idx off")) ||
	    (rc = want(d, d->o.indirect, VIRTIO_F_INDIRECT_DESC, "VIRTIO_F_INDIRECT_DESC", "--indirect off")))
		return rc;
	if (d->o.iommu && !(s->features & VHU_BIT(VIRTIO_F_ACCESS_PLATFORM)))
		return vhu_fail(s, VHU_E_UNSUPPORTED,
				"VIRTIO_F_ACCESS_PLATFORM: the back-end does not offer it (--iommu)");
	if ((s->features & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES)) && !s->protocol_set) {
		if (!s->have_protocol) {
			rc = vhu_get_protocol_features(s, &v);
			if (rec(d, VHOST_USER_GET_PROTOCOL_FEATURES, -1, v, rc))
				return rc;
		}
		v = s->protocol & (d->o.protocol_mask |
				   (d->o.inflight ? VHU_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) : 0) |
				   (d->o.iommu ? VHU_DRV_PF_IOMMU : 0));
		if ((rc = rec(d, VHOST_USER_SET_PROTOCOL_FEATURES, -1, v, vhu_set_protocol_features(s, v))))
			return rc;
	}
	/* QEMU refuses ACCESS_PLATFORM without both: misses come on the
	 * back-end channel, and updates must be acked before the rings use
	 * them. */
	if (d->o.iommu && (!vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_BACKEND_REQ) ||
			   !vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_REPLY_ACK)))
		return vhu_fail(
			s, VHU_E_UNSUPPORTED,
			"--iommu: needs protocol features BACKEND_REQ and REPLY_ACK (%s not negotiated)",
			!vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_BACKEND_REQ) ? "BACKEND_REQ" : "REPLY_ACK");
	if (!d->res->queue_num && vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_MQ)) {
		rc = vhu_get_queue_num(s, &d->res->queue_num);
		if (rec(d, VHOST_USER_GET_QUEUE_NUM, -1, d->res->queue_num, rc))
			return rc;
	}
	d->queue_num = d->res->queue_num;
	if (d->o.config_size) {
		uint32_t n =
			d->o.config_size > sizeof(d->config) ? (uint32_t)sizeof(d->config) : d->o.config_size;

		/* Gated on CONFIG like get-config: some back-ends drop the
		 * connection on it (DPDK). */
		if ((rc = vhu_gate(s, vhu_req_by_code(VHOST_USER_GET_CONFIG))))
			return rc;
		if ((rc = rec(d, VHOST_USER_GET_CONFIG, -1, n, vhu_get_config(s, 0, n, 0, d->config))))
			return rc;
		d->config_len = n;
	}
	return VHU_OK;
}

/* ---- guest memory ---- */

int vhu_drv_alloc(struct vhu_drv *d, uint64_t size, uint64_t align, void **ptr, uint64_t *gpa)
{
	uint64_t off = (d->mem_used + align - 1) & ~(align - 1);

	if (!d->mem)
		return vhu_fail(d->s, VHU_E_USAGE, "no guest memory before the bring-up");
	if (off > d->mem_size || size > d->mem_size - off)
		return vhu_fail(
			d->s, VHU_E_USAGE,
			"guest memory of %llu bytes is too small: %llu of them are taken, %llu more needed "
			"(--memory)",
			(unsigned long long)d->mem_size, (unsigned long long)d->mem_used,
			(unsigned long long)size);
	memset(d->mem + off, 0, size);
	*ptr = d->mem + off;
	*gpa = d->mem_gpa + off;
	d->mem_used = off + size;
	return VHU_OK;
}

uint64_t vhu_drv_gpa(const struct vhu_drv *d, const void *p)
{
	return d->mem_gpa + (uint64_t)((const uint8_t *)p - d->mem);
}

void *vhu_drv_ptr(const struct vhu_drv *d, uint64_t gpa, uint64_t len)
{
	if (!d->mem || gpa < d->mem_gpa || len > d->mem_size || gpa - d->mem_gpa > d->mem_size - len)
		return NULL;
	return d->mem + (gpa - d->mem_gpa);
}

static int make_memory(struct vhu_drv *d)
{
	uint64_t size = (d->o.mem_size + VHU_DRV_MEM_ALIGN - 1) & ~(VHU_DRV_MEM_ALIGN - 1);
	uint64_t gpa = d->o.gpa_base;
	int idx;

	if (!d->o.have_gpa_base) {
		/* After whatever an earlier step of the session created. */
		gpa = VHU_DRV_DEFAULT_GPA;
		for (unsigned i = 0; i < d->res->nregions; i++) {
			const struct vhu_region *g = &d->res->regions[i];

			if (g->gpa + g->size > gpa)
				gpa = (g->gpa + g->size + VHU_DRV_MEM_ALIGN - 1) & ~(VHU_DRV_MEM_ALIGN - 1);
		}
	}
	idx = vhu_region_create_ex(d->s, d->res, size, gpa, d->o.backing,
				   d->o.hugetlb ? VHU_REGION_HUGETLB : 0);
	if (idx < 0) {
		char why[sizeof(d->s->err)];

		snprintf(why, sizeof(why), "%s", d->s->err);
		return vhu_fail(d->s, -idx, "SET_MEM_TABLE: %.400s", why);
	}
	d->region = idx;
	d->mem = d->res->regions[idx].map;
	d->mem_gpa = gpa;
	d->mem_size = size;
	d->mem_used = 0;
	return VHU_OK;
}

/* ---- rings ---- */

static int make_queue(struct vhu_drv *d, struct vhu_drv_queue *q, uint32_t ring)
{
	struct vhu_vq_config cfg = { d->o.layout,  (uint16_t)ring, d->o.queue_size,
				     d->event_idx, d->indirect,	   0 };
	struct vhu_vq_areas a = { 0 };
	size_t sz[VHU_VQ_AREAS], al[VHU_VQ_AREAS];
	void *area[VHU_VQ_AREAS];
	uint64_t gpa;
	int rc;

	vhu_vq_area_sizes(d->o.layout, d->o.queue_size, sz, al);
	/* The descriptor table page aligned, the other parts packed after it. */
	for (int i = 0; i < VHU_VQ_AREAS; i++)
		if ((rc = vhu_drv_alloc(d, sz[i], i == VHU_VQ_AREA_DESC ? 4096 : al[i], &area[i], &gpa)))
			return rc;
	a.desc = area[VHU_VQ_AREA_DESC];
	a.driver = area[VHU_VQ_AREA_DRIVER];
	a.device = area[VHU_VQ_AREA_DEVICE];
	if (d->indirect) {
		cfg.indirect_max = d->o.indirect_max		  ? d->o.indirect_max
				   : d->o.queue_size > UINT16_MAX ? UINT16_MAX
								  : (uint16_t)d->o.queue_size;
		if (cfg.indirect_max < 2)
			cfg.indirect_max = 2;
		if ((rc = vhu_drv_alloc(d, vhu_vq_indirect_bytes(d->o.queue_size, cfg.indirect_max), 4096,
					&a.indirect, &a.indirect_addr)))
			return rc;
	}
	rc = vhu_vq_init(&q->vq, &cfg, &a);
	if (rc)
		return vhu_fail(d->s, rc, "SET_VRING_NUM: %s", vhu_vq_error(&q->vq));
	q->index = ring;
	q->kick_fd = q->call_fd = -1;
	/* Notifications off until a waiter asks (event mode) or for good
	 * (poll mode); the call eventfd stays real either way. */
	vhu_vq_disable_notify(&q->vq);
	q->addr = (struct vhost_vring_addr){
		.index = ring,
		.flags = 0,
		.desc_user_addr = (uint64_t)(uintptr_t)a.desc,
		.used_user_addr = (uint64_t)(uintptr_t)a.device,
		.avail_user_addr = (uint64_t)(uintptr_t)a.driver,
		.log_guest_addr = vhu_drv_gpa(d, a.device),
	};
	/* Spec "Ring addresses": with ACCESS_PLATFORM they are iovas, here
	 * the guest-physical addresses (identity map). */
	if (d->iommu) {
		q->addr.desc_user_addr = vhu_drv_gpa(d, a.desc);
		q->addr.used_user_addr = vhu_drv_gpa(d, a.device);
		q->addr.avail_user_addr = vhu_drv_gpa(d, a.driver);
	}
	return VHU_OK;
}

static int start_ring(struct vhu_drv *d, struct vhu_drv_queue *q)
{
	struct vhu_session *s = d->s;
	uint32_t r = q->index, base = vhu_vq_base(&q->vq);
	uint64_t junk;
	int rc;

	if ((rc = rec(d, VHOST_USER_SET_VRING_NUM, (int32_t)r, d->o.queue_size,
		      vhu_set_vring_state(s, VHOST_USER_SET_VRING_NUM, r, d->o.queue_size))) ||
	    (rc = rec(d, VHOST_USER_SET_VRING_BASE, (int32_t)r, base,
		      vhu_set_vring_state(s, VHOST_USER_SET_VRING_BASE, r, base))) ||
	    (rc = rec(d, VHOST_USER_SET_VRING_ADDR, (int32_t)r, q->addr.desc_user_addr,
		      vhu_set_vring_addr(s, &q->addr))) ||
	    (rc = vhu_drv_iotlb(d)))
		return rc;
	rc = vhu_ring_eventfd(s, d->res, VHOST_USER_SET_VRING_KICK, r, &q->kick_fd);
	if (rec(d, VHOST_USER_SET_VRING_KICK, (int32_t)r, 0,
		rc ?: vhu_set_vring_fd(s, VHOST_USER_SET_VRING_KICK, r, q->kick_fd)))
		return d->steps[d->nsteps - 1].rc;
	/* DPDK looks at the ring at SET_VRING_KICK: its misses are here. */
	if ((rc = vhu_drv_iotlb(d)))
		return rc;
	rc = vhu_ring_eventfd(s, d->res, VHOST_USER_SET_VRING_CALL, r, &q->call_fd);
	if (rec(d, VHOST_USER_SET_VRING_CALL, (int32_t)r, 0,
		rc ?: vhu_set_vring_fd(s, VHOST_USER_SET_VRING_CALL, r, q->call_fd)))
		return d->steps[d->nsteps - 1].rc;
	/* A count left from an earlier step of the session is not ours. */
	while (read(q->call_fd, &junk, sizeof(junk)) == (ssize_t)sizeof(junk))
		;
	/* Spec "Ring states": with VHOST_USER_F_PROTOCOL_FEATURES a ring
	 * starts disabled and must be enabled explicitly. */
	if ((d->features & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES)) &&
	    (rc = rec(d, VHOST_USER_SET_VRING_ENABLE, (int32_t)r, 1, vhu_set_vring_enable(s, r, true))))
		return rc;
	if ((rc = vhu_drv_iotlb(d)))
		return rc;
	q->started = true;
	return VHU_OK;
}

int vhu_drv_start(struct vhu_drv *d, const uint32_t *rings, unsigned n)
{
	struct vhu_session *s = d->s;
	uint64_t offered = s->features, acked;
	bool status = vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_STATUS);
	int rc;

	d->start_step = d->nsteps;
	if (!n || n > VHU_DRV_MAX_QUEUES)
		return vhu_fail(s, VHU_E_USAGE, "between 1 and %u rings", VHU_DRV_MAX_QUEUES);
	if (d->o.queue_size > VHU_VQ_MAX_SIZE ||
	    (d->o.layout == VHU_VQ_SPLIT && (d->o.queue_size & (d->o.queue_size - 1))))
		return vhu_fail(s, VHU_E_USAGE, "queue size %u is not %s in 1..%u", d->o.queue_size,
				d->o.layout == VHU_VQ_SPLIT ? "a power of 2" : "a number", VHU_VQ_MAX_SIZE);
	for (unsigned i = 0; i < n; i++) {
		if ((rc = vhu_ring_check(s, d->res, "SET_VRING_NUM", rings[i])))
			return rc;
		for (unsigned j = 0; j < i; j++)
			if (rings[j] == rings[i])
				return vhu_fail(s, VHU_E_USAGE, "ring %u given twice", rings[i]);
	}
	/* QEMU's order: the back-end channel before SET_OWNER. */
	if (d->o.iommu) {
		d->chan->hold_iotlb_miss = true;
		if (!d->chan->open &&
		    (rc = rec(d, VHOST_USER_SET_BACKEND_REQ_FD, -1, 0, vhu_chan_open(s, d->chan))))
			return rc;
	}
	if (!s->owner_set && (rc = rec(d, VHOST_USER_SET_OWNER, -1, 0, vhu_set_owner(s))))
		return rc;
	/* Ring features only as driven; LOG_ALL, ACCESS_PLATFORM, IN_ORDER,
	 * NOTIFICATION_DATA and the like never (they change what a driver
	 * must do). */
	acked = VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
		(d->o.device_features & VHU_DEVICE_FEATURES_MASK);
	if (d->o.event_idx != VHU_DRV_OFF)
		acked |= VHU_BIT(VIRTIO_F_EVENT_IDX);
	if (d->o.indirect != VHU_DRV_OFF)
		acked |= VHU_BIT(VIRTIO_F_INDIRECT_DESC);
	if (d->o.layout == VHU_VQ_PACKED)
		acked |= VHU_BIT(VIRTIO_F_RING_PACKED);
	if (d->o.iommu)
		acked |= VHU_BIT(VIRTIO_F_ACCESS_PLATFORM);
	acked &= offered;
	d->features = acked;
	d->iommu = acked & VHU_BIT(VIRTIO_F_ACCESS_PLATFORM);
	d->event_idx = acked & VHU_BIT(VIRTIO_F_EVENT_IDX);
	d->indirect = acked & VHU_BIT(VIRTIO_F_INDIRECT_DESC);
	if ((rc = rec(d, VHOST_USER_SET_FEATURES, -1, acked, vhu_set_features(s, acked))))
		return rc;
	if (status) {
		uint8_t st = 0;

		if ((rc = rec(d, VHOST_USER_SET_STATUS, -1,
			      STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK,
			      vhu_set_status(s, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK))))
			return rc;
		/* Spec "Device Initialization": re-read the status; a device
		 * that refuses the features leaves FEATURES_OK clear. */
		if ((rc = rec(d, VHOST_USER_GET_STATUS, -1, 0, vhu_get_status(s, &st))))
			return rc;
		d->steps[d->nsteps - 1].value = st;
		if (!(st & STATUS_FEATURES_OK))
			return d->steps[d->nsteps - 1].rc =
				       vhu_fail(s, VHU_E_REFUSED,
						"GET_STATUS: FEATURES_OK is clear (0x%02x): the device "
						"refused features 0x%llx",
						st, (unsigned long long)acked);
	}
	if (d->o.inflight && vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)) {
		uint32_t nq = 0;

		for (unsigned i = 0; i < n; i++)
			if (rings[i] + 1 > nq)
				nq = rings[i] + 1;
		/* QEMU: GET_INFLIGHT_FD once, SET_INFLIGHT_FD on every start. */
		if ((rc = rec(d, VHOST_USER_GET_INFLIGHT_FD, -1, nq,
			      vhu_get_inflight_fd(s, d->res, (uint16_t)nq, (uint16_t)d->o.queue_size))))
			return rc;
		if (d->res->inflight_fd >= 0) {
			if ((rc = rec(d, VHOST_USER_SET_INFLIGHT_FD, -1, d->res->inflight.mmap_size,
				      vhu_set_inflight_fd(s, d->res))))
				return rc;
			d->inflight = d->o.layout == VHU_VQ_SPLIT;
		}
	}
	if ((rc = make_memory(d)))
		return rec(d, VHOST_USER_SET_MEM_TABLE, -1, 0, rc);
	for (unsigned i = 0; i < n; i++) {
		struct vhu_drv_queue *q = &d->q[d->nq];

		if ((rc = make_queue(d, q, rings[i])))
			return rec(d, VHOST_USER_SET_VRING_NUM, (int32_t)rings[i], d->o.queue_size, rc);
		d->nq++;
	}
	if ((rc = rec(d, VHOST_USER_SET_MEM_TABLE, -1, d->mem_size,
		      vhu_set_mem_table(s, d->res, (unsigned)d->region, 1))))
		return rc;
	for (unsigned i = 0; i < d->nq; i++)
		if ((rc = start_ring(d, &d->q[i])))
			return rc;
	if (status && (rc = rec(d, VHOST_USER_SET_STATUS, -1,
				STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK,
				vhu_set_status(s, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK |
							  STATUS_DRIVER_OK))))
		return rc;
	return vhu_drv_iotlb(d);
}

int vhu_drv_stop(struct vhu_drv *d)
{
	int first = VHU_OK;
	char err[sizeof(d->s->err)] = "";

	for (unsigned i = 0; i < d->nq; i++) {
		struct vhu_drv_queue *q = &d->q[i];
		uint32_t base = 0;
		int rc = VHU_OK;

		if (!q->started || q->stopped)
			continue;
		/* Spec "Ring states": disable first, then stop and read the
		 * base (the back-end may finish in-flight requests). */
		if (d->features & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES))
			rc = rec(d, VHOST_USER_SET_VRING_ENABLE, (int32_t)q->index, 0,
				 vhu_set_vring_enable(d->s, q->index, false));
		if (!rc) {
			rc = rec(d, VHOST_USER_GET_VRING_BASE, (int32_t)q->index, 0,
				 vhu_get_vring_base(d->s, q->index, &base));
			d->steps[d->nsteps - 1].value = base;
		}
		q->stopped = true;
		q->stop_base = base;
		if (rc && !first) {
			first = rc;
			snprintf(err, sizeof(err), "%s", d->s->err);
		}
		/* A dead connection answers nothing more. */
		if (rc == VHU_E_IO || rc == VHU_E_TIMEOUT)
			break;
	}
	if (first)
		snprintf(d->s->err, sizeof(d->s->err), "%s", err);
	return first;
}

/* ---- replay on a new connection ---- */

/* vhu_replay()'s hook: the driver's rings start afresh where the old
 * device left them. */
static bool ring_base(void *arg, uint32_t ring, uint32_t *base)
{
	struct vhu_drv *d = arg;
	struct vhu_drv_queue *q = vhu_drv_queue(d, ring);

	if (!q || !q->started)
		return false;
	/* The back-end serves again what it had taken: the ring stays as it
	 * is, from the used index on (QEMU's vhost-user-blk with inflight). */
	if (d->inflight) {
		*base = __atomic_load_n((uint16_t *)((uint8_t *)q->vq.a.device + 2), __ATOMIC_ACQUIRE);
		q->stopped = false;
		return true;
	}
	if (vhu_vq_restart(&q->vq, base))
		return false; /* out of memory: the vq says so on its next use */
	q->stopped = false;
	return true;
}

void vhu_drv_replay_hooks(struct vhu_drv *d, struct vhu_replay_hooks *h)
{
	h->ring_base = ring_base;
	h->arg = d;
}

int vhu_drv_replay(struct vhu_drv *d, struct vhu_chan *c, struct vhu_replay_report *rep)
{
	struct vhu_replay_hooks h;

	vhu_drv_replay_hooks(d, &h);
	return vhu_replay(d->s, d->res, c, &h, rep);
}
