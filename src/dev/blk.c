/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk requests: building chains, keeping several in flight, and
 * judging the status byte (spec "Device Operation" of "Block Device").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_blk.h>

#include "dev/blk.h"

#define STATUS_UNSET 0xffu

struct vhu_blk_slot {
	uint8_t *hdr;  /* 16-byte header, then the status byte */
	uint8_t *data; /* max_bytes (at least 16 for segments) */
	uint64_t hdr_gpa, data_gpa;
	uint32_t type, len; /* len: data bytes */
	uint64_t sector;
	uint64_t seq;
	bool busy, done;
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void vhu_blk_info(const uint8_t *cfg, uint32_t len, uint64_t features, struct vhu_blk_info *out)
{
	uint8_t c[VHU_BLK_CONFIG_SIZE] = { 0 };
#define HAS(bit) ((features & VHU_BIT(bit)) != 0)

	memcpy(c, cfg, len < sizeof(c) ? len : sizeof(c));
	memset(out, 0, sizeof(*out));
	out->features = features;
	out->capacity = (uint64_t)le32(c) | (uint64_t)le32(c + 4) << 32;
	out->size_max = HAS(VIRTIO_BLK_F_SIZE_MAX) ? le32(c + 8) : 0;
	out->seg_max = HAS(VIRTIO_BLK_F_SEG_MAX) ? le32(c + 12) : 0;
	out->blk_size = HAS(VIRTIO_BLK_F_BLK_SIZE) ? le32(c + 20) : 0;
	out->mq = HAS(VIRTIO_BLK_F_MQ);
	out->num_queues = out->mq ? le16(c + 34) : 1;
	out->ro = HAS(VIRTIO_BLK_F_RO);
	out->flush = HAS(VIRTIO_BLK_F_FLUSH);
	out->discard = HAS(VIRTIO_BLK_F_DISCARD);
	if (out->discard) {
		out->max_discard_sectors = le32(c + 36);
		out->max_discard_seg = le32(c + 40);
		out->discard_align = le32(c + 44);
	}
	out->write_zeroes = HAS(VIRTIO_BLK_F_WRITE_ZEROES);
	if (out->write_zeroes) {
		out->max_wz_sectors = le32(c + 48);
		out->max_wz_seg = le32(c + 52);
		out->wz_may_unmap = c[56] != 0;
	}
#undef HAS
}

const char *vhu_blk_type_name(uint32_t type)
{
	switch (type) {
	case VIRTIO_BLK_T_IN: return "IN";
	case VIRTIO_BLK_T_OUT: return "OUT";
	case VIRTIO_BLK_T_FLUSH: return "FLUSH";
	case VIRTIO_BLK_T_GET_ID: return "GET_ID";
	case VIRTIO_BLK_T_DISCARD: return "DISCARD";
	case VIRTIO_BLK_T_WRITE_ZEROES: return "WRITE_ZEROES";
	default: return "?";
	}
}

const char *vhu_blk_status_name(uint8_t status)
{
	switch (status) {
	case VIRTIO_BLK_S_OK: return "OK";
	case VIRTIO_BLK_S_IOERR: return "IOERR";
	case VIRTIO_BLK_S_UNSUPP: return "UNSUPP";
	default: return NULL;
	}
}

int vhu_blk_init(struct vhu_blk *b, struct vhu_drv *d, struct vhu_drv_queue *q,
		 const struct vhu_blk_info *info)
{
	uint32_t ring_max = vhu_vq_max_chain(&q->vq);
	int rc;

	memset(b, 0, sizeof(*b));
	b->d = d;
	b->q = q;
	b->info = *info;
	b->seg_bytes = VHU_BLK_SEG_BYTES;
	/* Spec: size_max is the largest segment the device takes. */
	if (info->size_max && info->size_max < b->seg_bytes)
		b->seg_bytes = info->size_max & ~(VHU_BLK_SECTOR - 1);
	if (!b->seg_bytes)
		return vhu_fail(d->s, VHU_E_USAGE, "blk: size_max %u is below one sector", info->size_max);
	/* Header and status take two descriptors of the chain. */
	b->max_segs = ring_max - 2;
	if (info->seg_max && info->seg_max < b->max_segs)
		b->max_segs = info->seg_max;
	if (ring_max < 3 || !b->max_segs)
		return vhu_fail(d->s, VHU_E_USAGE, "blk: a ring of %u descriptors cannot carry a request",
				ring_max);
	b->max_bytes = b->max_segs * b->seg_bytes;
	/* As many requests as the ring holds at once, up to the depth. */
	b->depth = d->indirect ? q->vq.cfg.size : q->vq.cfg.size / (b->max_segs + 2);
	if (b->depth > VHU_BLK_DEPTH)
		b->depth = VHU_BLK_DEPTH;
	/* And as many as guest memory holds: a slot is its header page
	 * and its data, page aligned. */
	if (d->mem_size - d->mem_used < (uint64_t)b->depth * (b->max_bytes + 2 * 4096))
		b->depth = (unsigned)((d->mem_size - d->mem_used) / (b->max_bytes + 2 * 4096));
	if (!b->depth)
		b->depth = 1; /* vhu_drv_alloc() says how much is missing */
	b->slot = calloc(b->depth, sizeof(*b->slot));
	b->segs = calloc(b->max_segs + 2, sizeof(*b->segs));
	if (!b->slot || !b->segs) {
		vhu_blk_fini(b);
		return vhu_fail(d->s, VHU_E_IO, "blk: out of memory");
	}
	for (unsigned i = 0; i < b->depth; i++) {
		struct vhu_blk_slot *s = &b->slot[i];
		void *p;

		if ((rc = vhu_drv_alloc(d, 32, 16, &p, &s->hdr_gpa)))
			return rc;
		s->hdr = p;
		if ((rc = vhu_drv_alloc(d, b->max_bytes < 16 ? 16 : b->max_bytes, 4096, &p, &s->data_gpa)))
			return rc;
		s->data = p;
	}
	return VHU_OK;
}

void vhu_blk_fini(struct vhu_blk *b)
{
	free(b->slot);
	free(b->segs);
	b->slot = NULL;
	b->segs = NULL;
}

/* One run of same-typed requests over [sector, end). */
struct job {
	uint32_t type;
	uint64_t sector, end; /* sectors; end == sector for a single request */
	uint32_t per_req;     /* sectors per request (data or range) */
	bool single;	      /* one request, no range (FLUSH, GET_ID) */
	uint32_t fixed_len;   /* single: data bytes (GET_ID) */
	uint32_t flags;	      /* range segment flags */
	vhu_blk_data_fn fn;
	void *arg;
};

static bool data_write(uint32_t type)
{
	return type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
}

static bool is_range(uint32_t type)
{
	return type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES;
}

/* Build and add one request in @s; VHU_OK, VHU_VQ_FULL or an rc. */
static int submit(struct vhu_blk *b, struct vhu_blk_slot *s)
{
	unsigned n = 0;
	int rc;

	put_le32(s->hdr, s->type);
	put_le32(s->hdr + 4, 0);
	put_le64(s->hdr + 8, data_write(s->type) || s->type == VIRTIO_BLK_T_OUT ? s->sector : 0);
	s->hdr[16] = STATUS_UNSET;
	b->segs[n++] = (struct vhu_vq_seg){ s->hdr_gpa, 16, false };
	if (is_range(s->type)) {
		b->segs[n++] = (struct vhu_vq_seg){ s->data_gpa, 16, false };
	} else {
		for (uint32_t off = 0; off < s->len; off += b->seg_bytes)
			b->segs[n++] = (struct vhu_vq_seg){ s->data_gpa + off,
							    s->len - off < b->seg_bytes ? s->len - off
											: b->seg_bytes,
							    data_write(s->type) };
	}
	b->segs[n++] = (struct vhu_vq_seg){ s->hdr_gpa + 16, 1, true };
	rc = vhu_vq_add(&b->q->vq, b->segs, n, s);
	if (rc == VHU_VQ_FULL)
		return rc;
	if (rc)
		return vhu_fail(b->d->s, rc, "%s", vhu_vq_error(&b->q->vq));
	return VHU_OK;
}

/* The completed request @s, in order: its status, then its data. */
static int finish(struct vhu_blk *b, struct vhu_blk_slot *s, const struct job *j)
{
	uint8_t st = s->hdr[16];
	const char *name = vhu_blk_status_name(st);
	int rc;

	if (st != VIRTIO_BLK_S_OK) {
		char what[96];

		if (j->single)
			snprintf(what, sizeof(what), "%s request", vhu_blk_type_name(s->type));
		else
			snprintf(what, sizeof(what), "%s request at sector %llu (%llu bytes)",
				 vhu_blk_type_name(s->type), (unsigned long long)s->sector,
				 (unsigned long long)(is_range(s->type) ? (uint64_t)s->len * VHU_BLK_SECTOR
									: s->len));
		if (!name)
			return vhu_fail(
				b->d->s, VHU_E_PROTO, "queue %u: %s: status byte %u%s", b->q->index, what, st,
				st == STATUS_UNSET ? " (never written by the device)" : " (undefined)");
		return vhu_fail(b->d->s, VHU_E_REFUSED, "%s failed with status %s%s", what, name,
				st == VIRTIO_BLK_S_IOERR && b->info.ro &&
						(s->type == VIRTIO_BLK_T_OUT || is_range(s->type))
					? " (the device is read-only: VIRTIO_BLK_F_RO)"
					: "");
	}
	if (data_write(s->type) && j->fn && (rc = j->fn(j->arg, s->data, s->len)))
		return rc;
	b->requests++;
	if (!is_range(s->type))
		b->bytes += s->len;
	else
		b->bytes += (uint64_t)s->len * VHU_BLK_SECTOR;
	return VHU_OK;
}

/* Finish, in submission order, what is done from *@done_seq on. */
static int finish_ready(struct vhu_blk *b, const struct job *j, uint64_t *done_seq)
{
	int rc;

	/* In submission order: data leaves in offset order, and the first
	 * failure reported is the lowest request. */
	for (bool progress = true; progress;) {
		progress = false;
		for (unsigned i = 0; i < b->depth; i++) {
			struct vhu_blk_slot *s = &b->slot[i];

			if (s->busy && s->done && s->seq == *done_seq) {
				if ((rc = finish(b, s, j)))
					return rc;
				s->busy = false;
				(*done_seq)++;
				progress = true;
			}
		}
	}
	return VHU_OK;
}

/*
 * The back-end went away with requests in flight: keep what it
 * completed, reconnect (the hook restarts the ring), send the rest again.
 */
static int resume(struct vhu_blk *b, uint64_t next_seq)
{
	struct vhu_vq_used used[VHU_BLK_DEPTH];
	char cause[sizeof(b->d->s->err)];
	unsigned n;
	int rc;

	snprintf(cause, sizeof(cause), "%s", b->d->s->err);
	do {
		if ((rc = vhu_vq_poll(&b->q->vq, used, b->depth, &n)))
			return vhu_fail(b->d->s, rc, "%s", vhu_vq_error(&b->q->vq));
		for (unsigned i = 0; i < n; i++)
			((struct vhu_blk_slot *)used[i].token)->done = true;
	} while (n);
	if ((rc = b->reconnect(b->reconnect_arg, cause)))
		return rc;
	b->reconnects++;
	/* With an inflight buffer the back-end serves them again itself. */
	for (uint64_t seq = 0; !b->d->inflight && seq < next_seq; seq++)
		for (unsigned i = 0; i < b->depth; i++) {
			struct vhu_blk_slot *s = &b->slot[i];

			if (!s->busy || s->done || s->seq != seq)
				continue;
			/* The ring was empty: there is room for every one. */
			if ((rc = submit(b, s)))
				return rc == VHU_VQ_FULL ? vhu_fail(b->d->s, VHU_E_IO,
								    "queue %u: no room to send "
								    "again what was in flight",
								    b->q->index)
							 : rc;
			b->resubmitted++;
		}
	return vhu_drv_notify(b->d, b->q);
}

static int run(struct vhu_blk *b, const struct job *j)
{
	struct vhu_vq_used used[VHU_BLK_DEPTH];
	uint64_t sector = j->sector, next_seq = 0, done_seq = 0;
	bool more = true;
	int rc;

	while (more || done_seq < next_seq) {
		unsigned n;

		/* Fill free slots while there is work and room. */
		while (more) {
			struct vhu_blk_slot *s = NULL;

			for (unsigned i = 0; i < b->depth && !s; i++)
				if (!b->slot[i].busy)
					s = &b->slot[i];
			if (!s)
				break;
			s->type = j->type;
			s->sector = sector;
			if (j->single) {
				s->len = j->fixed_len;
			} else {
				uint64_t left = j->end - sector;

				/* Range requests: len counts sectors. */
				s->len = (uint32_t)(left < j->per_req ? left : j->per_req);
				if (!is_range(j->type))
					s->len *= VHU_BLK_SECTOR;
			}
			if (is_range(j->type)) {
				put_le64(s->data, sector);
				put_le32(s->data + 8, s->len);
				put_le32(s->data + 12, j->flags);
			} else if (j->type == VIRTIO_BLK_T_OUT && (rc = j->fn(j->arg, s->data, s->len))) {
				return rc;
			}
			rc = submit(b, s);
			if (rc == VHU_VQ_FULL)
				break;
			if (rc)
				return rc;
			s->busy = true;
			s->done = false;
			s->seq = next_seq++;
			if (j->single) {
				more = false;
			} else {
				sector += is_range(j->type) ? s->len : s->len / VHU_BLK_SECTOR;
				more = sector < j->end;
			}
		}
		rc = vhu_drv_kick(b->d, b->q);
		/* After a reconnect everything may be done already. */
		if (!rc && vhu_vq_inflight(&b->q->vq) && !(rc = vhu_drv_wait(b->d, b->q, used, b->depth, &n)))
			for (unsigned i = 0; i < n; i++)
				((struct vhu_blk_slot *)used[i].token)->done = true;
		if (rc == VHU_E_IO && b->reconnect)
			rc = resume(b, next_seq);
		if (rc || (rc = finish_ready(b, j, &done_seq)))
			return rc;
	}
	return VHU_OK;
}

static int check_range(struct vhu_blk *b, uint64_t offset, uint64_t length)
{
	uint64_t cap = b->info.capacity * VHU_BLK_SECTOR;

	if (offset % VHU_BLK_SECTOR || length % VHU_BLK_SECTOR || !length)
		return vhu_fail(b->d->s, VHU_E_USAGE,
				"offset %llu and length %llu must be non-zero multiples of 512",
				(unsigned long long)offset, (unsigned long long)length);
	if (offset > cap || length > cap - offset)
		return vhu_fail(b->d->s, VHU_E_USAGE,
				"bytes %llu..%llu are beyond the capacity of %llu bytes",
				(unsigned long long)offset, (unsigned long long)(offset + length - 1),
				(unsigned long long)cap);
	return VHU_OK;
}

int vhu_blk_rw(struct vhu_blk *b, bool write, uint64_t offset, uint64_t length, vhu_blk_data_fn fn, void *arg)
{
	struct job j = { .type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			 .sector = offset / VHU_BLK_SECTOR,
			 .end = (offset + length) / VHU_BLK_SECTOR,
			 .per_req = b->max_bytes / VHU_BLK_SECTOR,
			 .fn = fn,
			 .arg = arg };
	int rc = check_range(b, offset, length);

	return rc ? rc : run(b, &j);
}

int vhu_blk_range(struct vhu_blk *b, uint32_t type, uint64_t offset, uint64_t length, bool unmap)
{
	uint32_t max = type == VIRTIO_BLK_T_DISCARD ? b->info.max_discard_sectors : b->info.max_wz_sectors;
	struct job j = { .type = type,
			 .sector = offset / VHU_BLK_SECTOR,
			 .end = (offset + length) / VHU_BLK_SECTOR,
			 .flags = unmap ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0 };
	int rc = check_range(b, offset, length);

	/* 0 means no limit given: the segment's 32-bit count is the limit. */
	j.per_req = max ? max : UINT32_MAX;
	return rc ? rc : run(b, &j);
}

int vhu_blk_flush(struct vhu_blk *b)
{
	struct job j = { .type = VIRTIO_BLK_T_FLUSH, .single = true };

	return run(b, &j);
}

static int take_id(void *arg, uint8_t *buf, uint32_t len)
{
	memcpy(arg, buf, len < VHU_BLK_ID_BYTES ? len : VHU_BLK_ID_BYTES);
	return VHU_OK;
}

int vhu_blk_get_id(struct vhu_blk *b, char id[VHU_BLK_ID_BYTES + 1])
{
	struct job j = { .type = VIRTIO_BLK_T_GET_ID,
			 .single = true,
			 .fixed_len = VHU_BLK_ID_BYTES,
			 .fn = take_id,
			 .arg = id };

	memset(id, 0, VHU_BLK_ID_BYTES + 1);
	return run(b, &j);
}
