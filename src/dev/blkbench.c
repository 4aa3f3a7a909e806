/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bench's per-queue request loop (see blkbench.h).  Requests follow
 * the spec's "Block Device" section: a 16-byte header {type, reserved,
 * sector} read by the device, the data, and one status byte the device
 * writes; sectors are 512 bytes whatever blk_size says.
 */
#define _GNU_SOURCE
#include "dev/blkbench.h"

#include "dev/benchq.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#define STATUS_UNSET 0xffu
#define HDR_STRIDE   32u /* header (16) + status (1), 16-aligned */
static const uint8_t magic[8] = { 'v', 'h', 'u', 'B', 'E', 'N', 'C', 'H' };

struct vhu_bb_slot {
	uint8_t *hdr;			 /* header; status byte at 16 */
	uint8_t *data;			 /* bs bytes */
	const struct vhu_vq_seg *seg[2]; /* the chain for a read [0] and a write [1] */
	uint64_t offset;		 /* bytes */
	int64_t t_submit;		 /* ns, CLOCK_MONOTONIC */
	bool write;
	bool busy; /* added to the ring, not completed */
};

/* splitmix64 */
static inline uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, n) without a division (Lemire's multiply-shift). */
static inline uint64_t bounded(uint64_t r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)r * n) >> 64);
}

static inline void st_relaxed(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline uint64_t ld_relaxed(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

uint8_t *vhu_bb_pattern(uint64_t seed, uint32_t bs)
{
	size_t n = (size_t)bs + 4096;
	uint8_t *p = malloc(n);
	uint64_t s = seed ^ UINT64_C(0x5eedb10c5eedb10c);

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = htole64(rnd(&s));

		memcpy(p + i, &v, 8);
	}
	return p;
}

unsigned vhu_bb_chain(const struct vhu_bb_opts *o)
{
	uint32_t seg = o->seg_bytes && o->seg_bytes < o->bs ? o->seg_bytes : o->bs;

	return 2 + (o->bs + seg - 1) / seg;
}

int vhu_bb_queue_init(struct vhu_bb_queue *b, struct vhu_drv *d, struct vhu_drv_queue *q, unsigned index,
		      unsigned nq, const struct vhu_bb_opts *o, struct vhu_bb_ctl *ctl)
{
	uint32_t seg = o->seg_bytes && o->seg_bytes < o->bs ? o->seg_bytes : o->bs;
	uint64_t hgpa, dgpa;
	void *hp, *dp;
	int rc;

	memset(b, 0, sizeof(*b));
	b->d = d;
	b->q = q;
	b->o = o;
	b->ctl = ctl;
	b->index = index;
	b->nq = nq;
	b->nsegs = vhu_bb_chain(o);
	b->nblocks = o->size / o->bs;
	b->rng = o->seed + (uint64_t)(index + 1) * UINT64_C(0xd1b54a32d192ed03);
	rnd(&b->rng);
	for (int i = 0; i < VHU_BB_DIRS; i++)
		vhu_hist_reset(&b->c[i].lat);
	b->slot = calloc(o->qd, sizeof(*b->slot));
	b->used = calloc(o->qd, sizeof(*b->used));
	b->fresh = calloc(o->qd, sizeof(*b->fresh));
	b->segs = calloc((size_t)o->qd * 2 * b->nsegs, sizeof(*b->segs));
	if (!b->slot || !b->used || !b->fresh || !b->segs) {
		vhu_bb_queue_fini(b);
		return vhu_fail(d->s, VHU_E_IO, "bench: out of memory");
	}
	if ((rc = vhu_drv_alloc(d, (uint64_t)o->qd * HDR_STRIDE, 64, &hp, &hgpa)) ||
	    (rc = vhu_drv_alloc(d, (uint64_t)o->qd * o->bs, 4096, &dp, &dgpa))) {
		vhu_bb_queue_fini(b);
		return rc;
	}
	for (unsigned i = 0; i < o->qd; i++) {
		struct vhu_bb_slot *s = &b->slot[i];
		uint64_t h = hgpa + (uint64_t)i * HDR_STRIDE, dat = dgpa + (uint64_t)i * o->bs;

		s->hdr = (uint8_t *)hp + (size_t)i * HDR_STRIDE;
		s->data = (uint8_t *)dp + (size_t)i * o->bs;
		for (int w = 0; w < 2; w++) {
			struct vhu_vq_seg *c = b->segs + ((size_t)i * 2 + (size_t)w) * b->nsegs;
			unsigned n = 0;

			c[n++] = (struct vhu_vq_seg){ h, 16, false };
			/* IN: the device writes the data; OUT: it reads it. */
			for (uint32_t off = 0; off < o->bs; off += seg)
				c[n++] = (struct vhu_vq_seg){ dat + off,
							      o->bs - off < seg ? o->bs - off : seg, !w };
			c[n++] = (struct vhu_vq_seg){ h + 16, 1, true };
			s->seg[w] = c;
		}
	}
	return VHU_OK;
}

void vhu_bb_queue_fini(struct vhu_bb_queue *b)
{
	free(b->slot);
	free(b->used);
	free(b->fresh);
	free(b->segs);
	b->slot = NULL;
	b->used = NULL;
	b->fresh = NULL;
	b->segs = NULL;
}

void vhu_bb_set_job(struct vhu_bb_queue *b, enum vhu_bb_job job)
{
	uint64_t first = (uint64_t)((unsigned __int128)b->nblocks * b->index / b->nq);

	b->job = job;
	b->seq = b->job_first = first;
	b->job_end = (uint64_t)((unsigned __int128)b->nblocks * (b->index + 1) / b->nq);
	b->blocks_done = 0;
	b->window = false;
	b->resume = false;
}

unsigned vhu_bb_in_flight(const struct vhu_bb_queue *b)
{
	unsigned n = 0;

	for (unsigned i = 0; i < b->o->qd; i++)
		n += b->slot[i].busy;
	return n;
}

void vhu_bb_resume(struct vhu_bb_queue *b)
{
	b->resume = true;
}

/* ---- failures: the queue's own message, never the session's ---- */

static int fail(struct vhu_bb_queue *b, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct vhu_bb_queue *b, int rc, const char *fmt, ...)
{
	va_list ap;
	int none = 0;

	/* The first failure of the run is the one told. */
	if (b->rc)
		return b->rc;
	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	b->rc = rc;
	__atomic_compare_exchange_n(&b->ctl->failed, &none, (int)b->index + 1, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return rc;
}

/* ---- requests ---- */

static void put_header(uint8_t *p, uint64_t offset, uint64_t seed, uint32_t bs)
{
	uint64_t o = htole64(offset), s = htole64(seed);
	uint32_t b = htole32(bs), z = 0;

	memcpy(p, magic, 8);
	memcpy(p + 8, &o, 8);
	memcpy(p + 16, &s, 8);
	memcpy(p + 24, &b, 4);
	memcpy(p + 28, &z, 4);
}

/* Where the block at @offset starts in the pattern (8-byte steps, so
 * neighbouring blocks differ). */
static inline size_t pattern_at(const struct vhu_bb_opts *o, uint64_t offset)
{
	return (size_t)((offset / o->bs) % 512) * 8;
}

static inline uint64_t next_seq(struct vhu_bb_queue *b)
{
	uint64_t blk = b->seq;

	if (++b->seq >= b->nblocks)
		b->seq = 0;
	return blk;
}

/* Add the request built in @s to the ring. */
static int add(struct vhu_bb_queue *b, struct vhu_bb_slot *s)
{
	int rc = vhu_vq_add(&b->q->vq, s->seg[s->write], b->nsegs, s);

	if (rc == VHU_VQ_FULL)
		return fail(b, VHU_E_IO, "queue %u: the ring is full with %u requests in flight", b->q->index,
			    vhu_vq_inflight(&b->q->vq));
	if (rc)
		return fail(b, rc, "%s", vhu_vq_error(&b->q->vq));
	s->busy = true;
	return VHU_OK;
}

/* Build the next request in @s and add it to the ring. */
static int submit(struct vhu_bb_queue *b, struct vhu_bb_slot *s)
{
	const struct vhu_bb_opts *o = b->o;
	uint64_t blk, sector;
	uint32_t type;
	bool w;

	switch (b->job) {
	case VHU_BB_JOB_FILL: w = true, blk = b->seq++; break;
	case VHU_BB_JOB_CHECK: w = false, blk = b->seq++; break;
	default:
		switch (o->rw) {
		case VHU_BB_READ: w = false, blk = next_seq(b); break;
		case VHU_BB_WRITE: w = true, blk = next_seq(b); break;
		case VHU_BB_RANDREAD: w = false, blk = bounded(rnd(&b->rng), b->nblocks); break;
		case VHU_BB_RANDWRITE: w = true, blk = bounded(rnd(&b->rng), b->nblocks); break;
		default:
			w = bounded(rnd(&b->rng), 100) >= o->rwmix_read;
			blk = bounded(rnd(&b->rng), b->nblocks);
			break;
		}
	}
	s->write = w;
	s->offset = o->offset + blk * o->bs;
	type = htole32(w ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN);
	sector = htole64(s->offset / VHU_BLK_SECTOR);
	memcpy(s->hdr, &type, 4);
	memset(s->hdr + 4, 0, 4);
	memcpy(s->hdr + 8, &sector, 8);
	s->hdr[16] = STATUS_UNSET;
	if (w && o->verify) {
		put_header(s->data, s->offset, o->seed, o->bs);
		memcpy(s->data + VHU_BB_HDR_BYTES, o->pattern + pattern_at(o, s->offset),
		       o->bs - VHU_BB_HDR_BYTES);
	}
	return add(b, s);
}

/* The request in @s, unchanged, on a ring started afresh after a
 * reconnect: the same block, and for a write the same data (the slot was
 * not reused), so writing it twice writes the same bytes. */
static int resend(struct vhu_bb_queue *b, struct vhu_bb_slot *s)
{
	s->hdr[16] = STATUS_UNSET;
	b->resubmitted++;
	return add(b, s);
}

static bool more(const struct vhu_bb_queue *b, bool stopping)
{
	if (stopping)
		return false;
	return b->job == VHU_BB_JOB_MEASURE || b->seq < b->job_end;
}

/* Publish, and write the kick eventfd when the device wants it, or
 * always (@force: a device that has just started knows nothing of what
 * is already in the ring). */
static int kick(struct vhu_bb_queue *b, bool force)
{
	int err = vhu_drv_queue_kick(b->q, force);

	if (err)
		return fail(b, VHU_E_IO, "queue %u: kick: %s", b->q->index, strerror(err));
	return VHU_OK;
}

/* A block read back with --verify: what the pattern says it must hold. */
static int verify(struct vhu_bb_queue *b, const struct vhu_bb_slot *s)
{
	const struct vhu_bb_opts *o = b->o;
	const uint8_t *p = s->data, *want = o->pattern + pattern_at(o, s->offset);
	uint8_t hdr[VHU_BB_HDR_BYTES];
	uint64_t at;
	uint32_t i;

	put_header(hdr, s->offset, o->seed, o->bs);
	if (!memcmp(p, hdr, sizeof(hdr)) && !memcmp(p + VHU_BB_HDR_BYTES, want, o->bs - VHU_BB_HDR_BYTES))
		return VHU_OK;
	/* The header of another block of this run: it landed here. */
	if (!memcmp(p, hdr, 8) && !memcmp(p + 16, hdr + 16, 16) && memcmp(p + 8, hdr + 8, 8)) {
		memcpy(&at, p + 8, 8);
		return fail(b, VHU_E_REFUSED,
			    "verify: block at offset %llu (%u bytes, queue %u) holds the block written for "
			    "offset %llu",
			    (unsigned long long)s->offset, o->bs, b->q->index,
			    (unsigned long long)le64toh(at));
	}
	for (i = 0; i < VHU_BB_HDR_BYTES && p[i] == hdr[i]; i++)
		;
	if (i == VHU_BB_HDR_BYTES)
		for (; i < o->bs && p[i] == want[i - VHU_BB_HDR_BYTES]; i++)
			;
	return fail(b, VHU_E_REFUSED,
		    "verify: block at offset %llu (%u bytes, queue %u): byte %u%s is 0x%02x, expected 0x%02x",
		    (unsigned long long)s->offset, o->bs, b->q->index, i,
		    i < VHU_BB_HDR_BYTES ? " (header)" : "", p[i],
		    i < VHU_BB_HDR_BYTES ? hdr[i] : want[i - VHU_BB_HDR_BYTES]);
}

/* One completion: its status, its latency, its data. */
static int complete(struct vhu_bb_queue *b, struct vhu_bb_slot *s, int64_t now, bool measuring)
{
	uint8_t st = s->hdr[16];

	st_relaxed(&b->completed, ld_relaxed(&b->completed) + 1);
	if (st != VIRTIO_BLK_S_OK) {
		const char *name = vhu_blk_status_name(st);
		char what[128];

		b->errors++;
		snprintf(what, sizeof(what), "queue %u: %s request at sector %llu (%u bytes)", b->q->index,
			 s->write ? "OUT" : "IN", (unsigned long long)(s->offset / VHU_BLK_SECTOR), b->o->bs);
		if (!name)
			return fail(b, VHU_E_PROTO, "%s: status byte %u%s", what, st,
				    st == STATUS_UNSET ? " (never written by the device)" : " (undefined)");
		return fail(b, VHU_E_REFUSED, "%s failed with status %s%s", what, name,
			    st == VIRTIO_BLK_S_IOERR && s->write &&
					    b->d->s->features & VHU_BIT(VIRTIO_BLK_F_RO)
				    ? " (the device is read-only: VIRTIO_BLK_F_RO)"
				    : "");
	}
	if (measuring) {
		struct vhu_bb_counts *c = &b->c[s->write];

		vhu_hist_add(&c->lat, (uint64_t)(now - s->t_submit));
		st_relaxed(&c->ios, ld_relaxed(&c->ios) + 1);
		st_relaxed(&c->bytes, ld_relaxed(&c->bytes) + b->o->bs);
	}
	if (b->job != VHU_BB_JOB_MEASURE)
		st_relaxed(&b->blocks_done, ld_relaxed(&b->blocks_done) + 1);
	if (!s->write && b->o->verify) {
		b->verified++;
		if (verify(b, s)) {
			b->errors++;
			return b->rc;
		}
	}
	return VHU_OK;
}

/* The measured window starts on this queue: counts from zero. */
static bool start_window(struct vhu_bb_queue *b)
{
	for (int i = 0; i < VHU_BB_DIRS; i++) {
		vhu_hist_reset(&b->c[i].lat);
		st_relaxed(&b->c[i].ios, 0);
		st_relaxed(&b->c[i].bytes, 0);
	}
	vhu_bq_window_open(b->q, b->base);
	return true;
}

/* Nothing completed: wait (vhu_bq_idle()) until the device's time limit
 * after the last completion. */
static int idle(struct vhu_bb_queue *b, unsigned *spins, int64_t last)
{
	struct vhu_drv_queue *q = b->q;
	int r = vhu_bq_idle(q, spins, last + (int64_t)b->o->timeout_ms * 1000000,
			    b->o->notify == VHU_NOTIFY_POLL, b->ctl->wake_fd);

	if (r == VHU_BQ_AGAIN)
		return VHU_OK;
	if (r < 0)
		return fail(b, VHU_E_IO, "queue %u: poll: %s", q->index, strerror(-r));
	return fail(b, VHU_E_TIMEOUT, "queue %u: no completion within %g s (%u request%s in flight)",
		    q->index, b->o->timeout_ms / 1000.0, vhu_vq_inflight(&q->vq),
		    vhu_vq_inflight(&q->vq) == 1 ? "" : "s");
}

/* PAUSE: collect what the back-end that went away completed (the ring
 * is started afresh next, and forgets it); the rest stays in its slots. */
static void drain(struct vhu_bb_queue *b, bool measuring)
{
	struct vhu_vq *vq = &b->q->vq;
	unsigned n;
	int rc;

	do {
		int64_t now;

		if ((rc = vhu_vq_poll(vq, b->used, b->o->qd, &n))) {
			fail(b, rc, "%s", vhu_vq_error(vq));
			return;
		}
		now = vhu_bq_now_ns();
		for (unsigned i = 0; i < n; i++) {
			struct vhu_bb_slot *s = b->used[i].token;

			s->busy = false;
			complete(b, s, now, measuring);
		}
	} while (n);
}

/* After a reconnect: the requests in flight again, unless the back-end
 * serves them from its inflight buffer, and the free slots' next ones;
 * the ones added go to @fresh. */
static int restart(struct vhu_bb_queue *b, bool stopping, unsigned *nfresh)
{
	for (unsigned i = 0; i < b->o->qd; i++) {
		struct vhu_bb_slot *s = &b->slot[i];

		if (s->busy && b->d->inflight)
			continue;
		if (s->busy) {
			if (resend(b, s))
				return b->rc;
		} else if (!more(b, stopping)) {
			continue;
		} else if (submit(b, s)) {
			return b->rc;
		}
		b->fresh[(*nfresh)++] = s;
	}
	return VHU_OK;
}

int vhu_bb_run(struct vhu_bb_queue *b)
{
	struct vhu_vq *vq = &b->q->vq;
	struct vhu_bb_slot **fresh = b->fresh;
	uint64_t one = 1;
	bool stopping, resumed = b->resume;
	int64_t last;
	unsigned spins = 0, nfresh = 0;
	int ph, live;

	b->rc = VHU_OK;
	b->err[0] = '\0';
	b->resume = false;
	ph = __atomic_load_n(&b->ctl->phase, __ATOMIC_ACQUIRE);
	if (ph >= VHU_BB_ABORT) {
		b->resume = resumed; /* paused again before it started */
		goto out;
	}
	live = ph;
	if (b->job == VHU_BB_JOB_MEASURE && ph == VHU_BB_MEASURE && !b->window)
		b->window = start_window(b);
	stopping = ph >= VHU_BB_STOP;
	if (resumed) {
		if (restart(b, stopping, &nfresh))
			goto out;
	} else {
		for (unsigned i = 0; i < b->o->qd && more(b, stopping); i++) {
			if (submit(b, &b->slot[i]))
				goto out;
			fresh[nfresh++] = &b->slot[i];
		}
	}
	last = vhu_bq_now_ns();
	for (unsigned i = 0; i < nfresh; i++)
		fresh[i]->t_submit = last;
	if (kick(b, resumed))
		goto out;
	while (vhu_vq_inflight(vq)) {
		unsigned n;
		int64_t now;
		int rc;

		ph = __atomic_load_n(&b->ctl->phase, __ATOMIC_ACQUIRE);
		if (ph == VHU_BB_ABORT)
			break;
		if (ph == VHU_BB_PAUSE) {
			drain(b, b->window && live == VHU_BB_MEASURE && !stopping);
			break;
		}
		live = ph;
		if (ph >= VHU_BB_STOP || b->rc)
			stopping = true;
		if (b->job == VHU_BB_JOB_MEASURE && ph == VHU_BB_MEASURE && !b->window)
			b->window = start_window(b);
		if ((rc = vhu_vq_poll(vq, b->used, b->o->qd, &n))) {
			fail(b, rc, "%s", vhu_vq_error(vq));
			break;
		}
		if (!n) {
			if (idle(b, &spins, last))
				break;
			continue;
		}
		spins = 0;
		now = vhu_bq_now_ns();
		last = now;
		nfresh = 0;
		for (unsigned i = 0; i < n; i++) {
			struct vhu_bb_slot *s = b->used[i].token;

			s->busy = false;
			if (complete(b, s, now, b->window && ph == VHU_BB_MEASURE && !stopping))
				stopping = true;
			else if (more(b, stopping) && !submit(b, s))
				fresh[nfresh++] = s;
		}
		if (b->rc && b->rc != VHU_E_REFUSED && b->rc != VHU_E_PROTO)
			break; /* a ring we cannot drain (full, broken) */
		if (nfresh) {
			now = vhu_bq_now_ns();
			for (unsigned i = 0; i < nfresh; i++)
				fresh[i]->t_submit = now;
			if (kick(b, false))
				break;
		}
	}
	/* A broken ring returns nothing more: leave the rest in flight. */
out:
	if (b->window) {
		vhu_bq_window_close(b->q, b->base, &b->kicks, &b->kicks_suppressed, &b->call_waits);
	}
	if (write(b->ctl->done_fd, &one, sizeof(one)) < 0) {
		/* an eventfd counter does not overflow from a few writes */
	}
	return b->rc;
}

void *vhu_bb_thread(void *arg)
{
	vhu_bb_run(arg);
	return NULL;
}
