// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for src/virtq: the driver side against a device side written
 * here, in the same process, that reads the rings the way a back-end does
 * (through device addresses, with the same 16-bit atomic accessors).
 *
 * Memory: one arena whose device address is ARENA_GPA + offset, so a
 * descriptor that carried a host pointer instead of a device address
 * would not resolve.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtq/ring.h"
#include "virtq/virtq.h"

#define ARENA_SIZE (4u << 20)
#define ARENA_GPA  UINT64_C(0x100000000)

struct arena {
	uint8_t *base;
	size_t off;
};

static void *arena_alloc(struct arena *m, size_t len, size_t align)
{
	void *p;

	m->off = (m->off + align - 1) & ~(align - 1);
	assert_true(m->off + len <= (2u << 20)); /* rings below 2 MiB, buffers above */
	p = m->base + m->off;
	m->off += len;
	return p;
}

static uint64_t gpa_of(const struct arena *m, const void *p)
{
	return ARENA_GPA + (uint64_t)((const uint8_t *)p - m->base);
}

static void *ptr_of(const struct arena *m, uint64_t gpa, uint32_t len)
{
	assert_true(gpa >= ARENA_GPA && gpa - ARENA_GPA + len <= ARENA_SIZE);
	return m->base + (gpa - ARENA_GPA);
}

/* ---- the device side ---- */

struct dseg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

struct dreq {
	uint16_t id;	/* split: head index; packed: buffer id */
	uint16_t ndesc; /* ring descriptors taken */
	unsigned nseg;
	bool indirect;
	struct dseg seg[64];
};

struct dev {
	struct arena *m;
	enum vhu_vq_layout layout;
	uint32_t size;
	bool event_idx;
	void *desc, *driver, *device;
	/* split */
	uint16_t last_avail, used_idx, signalled;
	/* packed */
	uint16_t avail_pos, used_pos;
	bool avail_wrap, used_wrap;
};

struct fx {
	struct arena m;
	struct vhu_vq vq;
	struct dev d;
	int tokens[1024];
};

static void walk_split(struct dev *d, struct dreq *r, const struct vring_desc *tab, uint16_t i, unsigned max)
{
	for (;;) {
		const struct vring_desc *x = &tab[i];
		uint16_t f = le16toh(x->flags);

		assert_true(r->nseg < max && r->nseg < 64);
		r->seg[r->nseg++] =
			(struct dseg){ le64toh(x->addr), le32toh(x->len), f & VRING_DESC_F_WRITE };
		if (!(f & VRING_DESC_F_NEXT))
			break;
		i = le16toh(x->next);
		(void)d;
	}
}

/* Take the next available chain, or false. */
static bool dev_fetch(struct dev *d, struct dreq *r)
{
	memset(r, 0, sizeof(*r));
	if (d->layout == VHU_VQ_SPLIT) {
		struct vring_avail *a = d->driver;
		struct vring_desc *tab = d->desc;
		uint16_t head, f;

		if (vhu_ld16_acquire(&a->idx) == d->last_avail)
			return false;
		head = vhu_ld16(vhu_avail_ring(a, d->last_avail & (d->size - 1)));
		d->last_avail++;
		assert_true(head < d->size);
		r->id = head;
		f = le16toh(tab[head].flags);
		if (f & VRING_DESC_F_INDIRECT) {
			uint32_t len = le32toh(tab[head].len);

			assert_false(f & VRING_DESC_F_NEXT);
			assert_int_equal(len % 16, 0);
			r->indirect = true;
			r->ndesc = 1;
			walk_split(d, r, ptr_of(d->m, le64toh(tab[head].addr), len), 0, len / 16);
		} else {
			walk_split(d, r, tab, head, d->size);
			r->ndesc = (uint16_t)r->nseg;
		}
		if (d->event_idx)
			vhu_st16(vhu_avail_event(d->device, d->size), d->last_avail);
		return true;
	} else {
		struct vring_packed_desc *ring = d->desc;
		struct vring_packed_desc *h = &ring[d->avail_pos];
		uint16_t f = vhu_ld16_acquire(&h->flags);
		bool avail = f & VHU_PACKED_AVAIL, used = f & VHU_PACKED_USED;

		if (!(avail == d->avail_wrap && used != d->avail_wrap))
			return false;
		r->id = le16toh(h->id);
		if (f & VRING_DESC_F_INDIRECT) {
			uint32_t len = le32toh(h->len);
			struct vring_packed_desc *t = ptr_of(d->m, le64toh(h->addr), len);

			r->indirect = true;
			for (unsigned i = 0; i < len / 16; i++)
				r->seg[r->nseg++] = (struct dseg){ le64toh(t[i].addr), le32toh(t[i].len),
								   le16toh(t[i].flags) & VRING_DESC_F_WRITE };
			r->ndesc = 1;
			if (++d->avail_pos == d->size) {
				d->avail_pos = 0;
				d->avail_wrap = !d->avail_wrap;
			}
			return true;
		}
		for (;;) {
			struct vring_packed_desc *x = &ring[d->avail_pos];
			uint16_t xf = vhu_ld16_acquire(&x->flags);

			assert_int_equal(!!(xf & VHU_PACKED_AVAIL), d->avail_wrap);
			assert_int_equal(!!(xf & VHU_PACKED_USED), !d->avail_wrap);
			assert_int_equal(le16toh(x->id), r->id);
			r->seg[r->nseg++] =
				(struct dseg){ le64toh(x->addr), le32toh(x->len), xf & VRING_DESC_F_WRITE };
			r->ndesc++;
			if (++d->avail_pos == d->size) {
				d->avail_pos = 0;
				d->avail_wrap = !d->avail_wrap;
			}
			if (!(xf & VRING_DESC_F_NEXT))
				break;
		}
		return true;
	}
}

/* Hand buffer @r back with @len written. */
static void dev_complete(struct dev *d, const struct dreq *r, uint32_t len)
{
	if (d->layout == VHU_VQ_SPLIT) {
		struct vring_used *u = d->device;
		struct vring_used_elem *e = &u->ring[d->used_idx & (d->size - 1)];

		vhu_st32(&e->id, r->id);
		vhu_st32(&e->len, len);
		d->used_idx++;
		vhu_st16_release(&u->idx, d->used_idx);
	} else {
		struct vring_packed_desc *x = &((struct vring_packed_desc *)d->desc)[d->used_pos];

		x->id = htole16(r->id);
		x->len = htole32(len);
		vhu_st16_release(&x->flags, d->used_wrap ? VHU_PACKED_AVAIL | VHU_PACKED_USED : 0);
		d->used_pos = (uint16_t)(d->used_pos + r->ndesc);
		if (d->used_pos >= d->size) {
			d->used_pos = (uint16_t)(d->used_pos - d->size);
			d->used_wrap = !d->used_wrap;
		}
	}
}

/* Would the device send a used notification now (split: since the last
 * time it decided)? */
static bool dev_should_notify(struct dev *d)
{
	vhu_fence();
	if (d->layout == VHU_VQ_SPLIT) {
		bool n;

		if (d->event_idx)
			n = vring_need_event(vhu_ld16(vhu_used_event(d->driver, d->size)), d->used_idx,
					     d->signalled);
		else
			n = !(vhu_ld16(&((struct vring_avail *)d->driver)->flags) &
			      VRING_AVAIL_F_NO_INTERRUPT);
		d->signalled = d->used_idx;
		return n;
	}
	struct vring_packed_desc_event *e = d->driver;
	uint16_t f = vhu_ld16(&e->flags);

	if (f == VRING_PACKED_EVENT_FLAG_DESC)
		return true; /* good enough for these tests: checked via off_wrap */
	return f == VRING_PACKED_EVENT_FLAG_ENABLE;
}

/* ---- fixtures ---- */

static void fx_init(struct fx *f, enum vhu_vq_layout layout, uint32_t size, bool event_idx, bool indirect,
		    uint16_t imax)
{
	struct vhu_vq_config cfg = { layout, 3, size, event_idx, indirect, imax };
	struct vhu_vq_areas a = { 0 };
	size_t sz[VHU_VQ_AREAS], al[VHU_VQ_AREAS];

	vhu_vq_area_sizes(layout, size, sz, al);
	a.desc = arena_alloc(&f->m, sz[0], al[0]);
	a.driver = arena_alloc(&f->m, sz[1], al[1]);
	a.device = arena_alloc(&f->m, sz[2], al[2]);
	if (indirect) {
		a.indirect = arena_alloc(&f->m, vhu_vq_indirect_bytes(size, imax), 16);
		a.indirect_addr = gpa_of(&f->m, a.indirect);
	}
	assert_int_equal(vhu_vq_init(&f->vq, &cfg, &a), VHU_OK);
	f->d = (struct dev){ .m = &f->m,
			     .layout = layout,
			     .size = size,
			     .event_idx = event_idx,
			     .desc = a.desc,
			     .driver = a.driver,
			     .device = a.device,
			     .avail_wrap = true,
			     .used_wrap = true };
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || !(f->m.base = aligned_alloc(4096, ARENA_SIZE)))
		return -1;
	memset(f->m.base, 0xa5, ARENA_SIZE); /* init must zero what it uses */
	for (unsigned i = 0; i < 1024; i++)
		f->tokens[i] = (int)i;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vhu_vq_fini(&f->vq);
	free(f->m.base);
	free(f);
	return 0;
}

/* A blk-like chain: 16-byte header (readable), @data writable bytes, a
 * 1-byte status, in the scratch part of the arena (3 MiB on). */
static unsigned blk_chain(struct fx *f, struct vhu_vq_seg *s, uint32_t data)
{
	uint8_t *buf = f->m.base + (3u << 20);

	assert_true(data <= (1u << 20) - 32);

	s[0] = (struct vhu_vq_seg){ gpa_of(&f->m, buf), 16, false };
	s[1] = (struct vhu_vq_seg){ gpa_of(&f->m, buf + 16), data, true };
	s[2] = (struct vhu_vq_seg){ gpa_of(&f->m, buf + 16 + data), 1, true };
	return 3;
}

/* Submit one chain, let the device serve it (*@notified: whether it
 * would notify right after), poll it back. */
static void round_trip_n(struct fx *f, unsigned i, bool *notified)
{
	struct vhu_vq_seg s[3];
	struct vhu_vq_used u[4];
	struct dreq r;
	unsigned n = blk_chain(f, s, 512), got;

	assert_int_equal(vhu_vq_add(&f->vq, s, n, &f->tokens[i]), VHU_OK);
	vhu_vq_publish(&f->vq);
	assert_true(dev_fetch(&f->d, &r));
	assert_int_equal(r.nseg, 3);
	assert_true(r.seg[1].addr == s[1].addr && r.seg[1].len == 512 && r.seg[1].write);
	dev_complete(&f->d, &r, 513);
	if (notified)
		*notified = dev_should_notify(&f->d);
	assert_int_equal(vhu_vq_poll(&f->vq, u, 4, &got), VHU_OK);
	assert_int_equal(got, 1);
	assert_ptr_equal(u[0].token, &f->tokens[i]);
	assert_int_equal(u[0].len, 513);
}

static void round_trip(struct fx *f, unsigned i)
{
	round_trip_n(f, i, NULL);
}

/* ---- tests ---- */

static void test_split_chain(void **state)
{
	struct fx *f = *state;
	struct vhu_vq_seg s[3];
	struct vhu_vq_used u[2];
	struct dreq r;
	unsigned got;

	fx_init(f, VHU_VQ_SPLIT, 8, false, false, 0);
	blk_chain(f, s, 4096);
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, &f->tokens[7]), VHU_OK);
	assert_int_equal(vhu_vq_free(&f->vq), 5);
	/* Not visible before publish. */
	assert_false(dev_fetch(&f->d, &r));
	assert_true(vhu_vq_publish(&f->vq));
	assert_true(dev_fetch(&f->d, &r));
	assert_false(r.indirect);
	assert_int_equal(r.nseg, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_true(r.seg[i].addr == s[i].addr);
		assert_int_equal(r.seg[i].len, s[i].len);
		assert_int_equal(r.seg[i].write, s[i].write);
	}
	assert_false(vhu_vq_pending(&f->vq));
	dev_complete(&f->d, &r, 4097);
	assert_true(vhu_vq_pending(&f->vq));
	assert_int_equal(vhu_vq_poll(&f->vq, u, 2, &got), VHU_OK);
	assert_int_equal(got, 1);
	assert_ptr_equal(u[0].token, &f->tokens[7]);
	assert_int_equal(u[0].len, 4097);
	assert_int_equal(vhu_vq_free(&f->vq), 8);
	assert_int_equal(vhu_vq_inflight(&f->vq), 0);
}

static void test_chain_rules(void **state)
{
	struct fx *f = *state;
	struct vhu_vq_seg s[12];
	struct vhu_vq_used u[4];
	struct dreq r;
	unsigned got;

	fx_init(f, VHU_VQ_SPLIT, 8, false, false, 0);
	assert_int_equal(vhu_vq_add(&f->vq, s, 0, NULL), VHU_E_USAGE);
	blk_chain(f, s, 512);
	s[0].write = true;
	s[1].write = false;
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, NULL), VHU_E_USAGE);
	assert_non_null(strstr(vhu_vq_error(&f->vq), "follows a writable"));
	blk_chain(f, s, 512);
	s[1].len = 0;
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, NULL), VHU_E_USAGE);
	for (unsigned i = 0; i < 9; i++)
		s[i] = (struct vhu_vq_seg){ ARENA_GPA, 512, false };
	assert_int_equal(vhu_vq_add(&f->vq, s, 9, NULL), VHU_E_USAGE); /* longer than the ring */
	/* 8 descriptors: two chains of 3, then a third does not fit. */
	blk_chain(f, s, 512);
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, &f->tokens[0]), VHU_OK);
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, &f->tokens[1]), VHU_OK);
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, &f->tokens[2]), VHU_VQ_FULL);
	assert_int_equal(vhu_vq_add(&f->vq, s, 2, &f->tokens[2]), VHU_OK);
	vhu_vq_publish(&f->vq);
	/* Complete out of order: the second one first. */
	struct dreq a, b, c;
	assert_true(dev_fetch(&f->d, &a));
	assert_true(dev_fetch(&f->d, &b));
	assert_true(dev_fetch(&f->d, &c));
	assert_false(dev_fetch(&f->d, &r));
	dev_complete(&f->d, &b, 1);
	dev_complete(&f->d, &c, 0);
	assert_int_equal(vhu_vq_poll(&f->vq, u, 4, &got), VHU_OK);
	assert_int_equal(got, 2);
	assert_ptr_equal(u[0].token, &f->tokens[1]);
	assert_ptr_equal(u[1].token, &f->tokens[2]);
	/* The freed descriptors are reusable at once. */
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, &f->tokens[3]), VHU_OK);
	vhu_vq_publish(&f->vq);
	assert_true(dev_fetch(&f->d, &b));
	dev_complete(&f->d, &b, 2);
	dev_complete(&f->d, &a, 3);
	assert_int_equal(vhu_vq_poll(&f->vq, u, 4, &got), VHU_OK);
	assert_int_equal(got, 2);
	assert_ptr_equal(u[0].token, &f->tokens[3]);
	assert_ptr_equal(u[1].token, &f->tokens[0]);
	assert_int_equal(vhu_vq_free(&f->vq), 8);
}

/* Free-running indices through 255->256 and 65535->0. */
static void split_wrap_from(struct fx *f, uint16_t base)
{
	struct vring_avail *a;
	struct vring_used *u;

	fx_init(f, VHU_VQ_SPLIT, 16, true, false, 0);
	a = f->d.driver;
	u = f->d.device;
	assert_int_equal(vhu_vq_set_base(&f->vq, base), VHU_OK);
	assert_int_equal(vhu_vq_base(&f->vq), base);
	assert_int_equal(vhu_ld16(&u->idx), base);
	f->d.last_avail = f->d.used_idx = f->d.signalled = base;
	for (unsigned i = 0; i < 40; i++) {
		round_trip(f, i);
		assert_int_equal(vhu_ld16(&a->idx), (uint16_t)(base + i + 1));
		assert_int_equal(vhu_ld16(&u->idx), (uint16_t)(base + i + 1));
	}
	assert_int_equal(vhu_vq_base(&f->vq), (uint16_t)(base + 40));
}

static void test_split_wrap_256(void **state)
{
	split_wrap_from(*state, 240);
}

static void test_split_wrap_65536(void **state)
{
	struct fx *f = *state;

	split_wrap_from(f, 65520);
	assert_int_equal(vhu_vq_base(&f->vq), 24);
}

static void test_set_base_rules(void **state)
{
	struct fx *f = *state;

	fx_init(f, VHU_VQ_PACKED, 10, false, false, 0);
	assert_int_equal(vhu_vq_set_base(&f->vq, 10), VHU_E_USAGE);
	assert_int_equal(vhu_vq_set_base(&f->vq, 0x10000), VHU_E_USAGE);
	assert_int_equal(vhu_vq_set_base(&f->vq, 0x8009), VHU_OK);
	assert_int_equal(vhu_vq_base(&f->vq), 0x8009);
	f->d.avail_pos = f->d.used_pos = 9;
	round_trip(f, 0);
	assert_int_equal(vhu_vq_base(&f->vq), 2);		   /* 9, 0, 1: lap 0 */
	assert_int_equal(vhu_vq_set_base(&f->vq, 0), VHU_E_USAGE); /* too late */
}

/* Packed: chains of 1..4 descriptors over many laps of a ring whose size
 * is not a power of 2; completions out of order. */
static void packed_laps(struct fx *f, bool indirect)
{
	struct vhu_vq_used u[8];
	unsigned next_tok = 0, done = 0, laps = 0;
	bool last_wrap = true;

	fx_init(f, VHU_VQ_PACKED, 7, false, indirect, indirect ? 4 : 0);
	while (done < 200) {
		struct vhu_vq_seg s[4];
		struct dreq r[8];
		unsigned nr = 0, got, len = 1 + next_tok % 4;
		uint8_t *buf = f->m.base + 0x200000;

		/* Fill what fits. */
		for (;;) {
			for (unsigned i = 0; i < len; i++)
				s[i] = (struct vhu_vq_seg){ gpa_of(&f->m, buf + 64 * i), 64, i + 1 == len };
			if (vhu_vq_add(&f->vq, s, len, &f->tokens[next_tok % 1024]) != VHU_OK)
				break;
			next_tok++;
			len = 1 + next_tok % 4;
		}
		vhu_vq_publish(&f->vq);
		while (nr < 8 && dev_fetch(&f->d, &r[nr]))
			nr++;
		assert_true(nr > 0);
		/* Last fetched first. */
		for (unsigned i = nr; i-- > 0;)
			dev_complete(&f->d, &r[i], 64);
		assert_int_equal(vhu_vq_poll(&f->vq, u, 8, &got), VHU_OK);
		assert_int_equal(got, nr);
		for (unsigned i = 0; i < got; i++) {
			assert_ptr_equal(u[i].token, &f->tokens[(done + got - 1 - i) % 1024]);
			assert_int_equal(u[i].len, 64);
		}
		done += got;
		if (f->vq.used_wrap != last_wrap) {
			laps++;
			last_wrap = f->vq.used_wrap;
		}
		assert_int_equal(f->vq.used_wrap, f->d.used_wrap);
		assert_int_equal(f->vq.next_used, f->d.used_pos);
		assert_int_equal(f->vq.avail_wrap, f->d.avail_wrap);
	}
	assert_true(laps >= (indirect ? 20u : 6u));
	assert_int_equal(vhu_vq_inflight(&f->vq), 0);
	assert_int_equal(vhu_vq_free(&f->vq), 7);
	if (indirect)
		assert_true(f->vq.stats.indirect > 0);
}

static void test_packed_laps(void **state)
{
	packed_laps(*state, false);
}

static void test_packed_laps_indirect(void **state)
{
	packed_laps(*state, true);
}

static void test_packed_base_wrap0(void **state)
{
	struct fx *f = *state;

	fx_init(f, VHU_VQ_PACKED, 4, false, false, 0);
	assert_int_equal(vhu_vq_set_base(&f->vq, 2), VHU_OK); /* position 2, wrap 0 */
	f->d.avail_pos = f->d.used_pos = 2;
	f->d.avail_wrap = f->d.used_wrap = false;
	for (unsigned i = 0; i < 9; i++)
		round_trip(f, i);
	/* 9 chains of 3 = 27 descriptors from position 2: 29 = 7 laps + 1. */
	assert_int_equal(vhu_vq_base(&f->vq), 1 | 0x8000);
}

static void test_indirect_split(void **state)
{
	struct fx *f = *state;
	struct vhu_vq_seg s[8];
	struct vhu_vq_used u[2];
	struct dreq r;
	unsigned got;
	struct vring_desc *ring;

	fx_init(f, VHU_VQ_SPLIT, 4, false, true, 6);
	ring = f->d.desc;
	for (unsigned i = 0; i < 6; i++)
		s[i] = (struct vhu_vq_seg){ ARENA_GPA + 4096 * i, 4096, i >= 2 };
	assert_int_equal(vhu_vq_add(&f->vq, s, 6, &f->tokens[1]), VHU_OK);
	assert_int_equal(vhu_vq_free(&f->vq), 3);
	/* One segment: a plain descriptor, no table. */
	assert_int_equal(vhu_vq_add(&f->vq, s + 2, 1, &f->tokens[2]), VHU_OK);
	/* Longer than a table but within the ring: a plain chain. */
	assert_int_equal(vhu_vq_max_chain(&f->vq), 6);
	vhu_vq_publish(&f->vq);
	assert_true(dev_fetch(&f->d, &r));
	assert_true(r.indirect);
	assert_int_equal(le16toh(ring[r.id].flags), VRING_DESC_F_INDIRECT);
	assert_int_equal(le32toh(ring[r.id].len), 6 * 16);
	assert_int_equal(r.nseg, 6);
	for (unsigned i = 0; i < 6; i++) {
		assert_true(r.seg[i].addr == s[i].addr);
		assert_int_equal(r.seg[i].write, i >= 2);
	}
	dev_complete(&f->d, &r, 4 * 4096);
	assert_true(dev_fetch(&f->d, &r));
	assert_false(r.indirect);
	dev_complete(&f->d, &r, 4096);
	assert_int_equal(vhu_vq_poll(&f->vq, u, 2, &got), VHU_OK);
	assert_int_equal(got, 2);
	assert_int_equal(u[0].len, 4 * 4096);
	assert_int_equal(f->vq.stats.indirect, 1);
	assert_int_equal(vhu_vq_free(&f->vq), 4);
}

/* Split, no event idx: the device's NO_NOTIFY flag decides. */
static void test_kick_flags(void **state)
{
	struct fx *f = *state;
	struct vring_used *u;

	fx_init(f, VHU_VQ_SPLIT, 8, false, false, 0);
	u = f->d.device;
	round_trip(f, 0);
	assert_int_equal(f->vq.stats.kicks, 1);
	vhu_st16(&u->flags, VRING_USED_F_NO_NOTIFY);
	round_trip(f, 1);
	assert_int_equal(f->vq.stats.kicks, 1);
	assert_int_equal(f->vq.stats.kicks_suppressed, 1);
	/* Nothing new: no decision at all. */
	assert_false(vhu_vq_publish(&f->vq));
	assert_int_equal(f->vq.stats.kicks_suppressed, 1);
}

/* Split with event idx: kick iff the new avail entries cross avail_event,
 * counted from the index of the previous decision. */
static void test_kick_event_idx(void **state)
{
	struct fx *f = *state;
	struct vhu_vq_seg s[1] = { { ARENA_GPA, 512, true } };
	uint16_t *avail_event;

	fx_init(f, VHU_VQ_SPLIT, 16, true, false, 0);
	avail_event = vhu_avail_event(f->d.device, 16);
	/* Device waits for index 0: the first publish kicks. */
	assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[0]), VHU_OK);
	assert_true(vhu_vq_publish(&f->vq));
	/* Device still busy with entry 0 (avail_event 0): no kick for 1..3. */
	for (unsigned i = 1; i < 4; i++)
		assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[i]), VHU_OK);
	assert_false(vhu_vq_publish(&f->vq));
	/* The device wants to hear about index 5: adding 4 does not kick,
	 * adding 5..6 in one batch does. */
	vhu_st16(avail_event, 5);
	assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[4]), VHU_OK);
	assert_false(vhu_vq_publish(&f->vq));
	assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[5]), VHU_OK);
	assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[6]), VHU_OK);
	assert_true(vhu_vq_publish(&f->vq));
	assert_int_equal(f->vq.stats.kicks, 2);
	assert_int_equal(f->vq.stats.kicks_suppressed, 2);
	/* Across 65535 -> 0: event 1 after a publish of 65534..1. */
	vhu_vq_fini(&f->vq);
	fx_init(f, VHU_VQ_SPLIT, 16, true, false, 0);
	avail_event = vhu_avail_event(f->d.device, 16);
	assert_int_equal(vhu_vq_set_base(&f->vq, 65534), VHU_OK);
	vhu_st16(avail_event, 1);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[i]), VHU_OK);
	assert_false(vhu_vq_publish(&f->vq)); /* 65534, 65535, 0: not yet 1 */
	assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[3]), VHU_OK);
	assert_true(vhu_vq_publish(&f->vq)); /* 1 */
}

/* Packed: device event suppression, including an event in the previous lap. */
static void test_kick_packed(void **state)
{
	struct fx *f = *state;
	struct vhu_vq_seg s[1] = { { ARENA_GPA, 512, true } };
	struct vring_packed_desc_event *e;
	struct vhu_vq_used u[8];
	struct dreq r;
	unsigned got;

	fx_init(f, VHU_VQ_PACKED, 8, true, false, 0);
	e = f->d.device;
	assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[0]), VHU_OK);
	assert_true(vhu_vq_publish(&f->vq)); /* ENABLE */
	vhu_st16(&e->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
	assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[1]), VHU_OK);
	assert_false(vhu_vq_publish(&f->vq));
	/* DESC: notify when position 3 of lap 1 becomes available. */
	vhu_st16(&e->off_wrap, 3 | 0x8000);
	vhu_st16(&e->flags, VRING_PACKED_EVENT_FLAG_DESC);
	assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[2]), VHU_OK);
	assert_false(vhu_vq_publish(&f->vq)); /* position 2 */
	assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[3]), VHU_OK);
	assert_true(vhu_vq_publish(&f->vq)); /* position 3 */
	/* Drain, then fill positions 4..7 and 0..1 (lap 0) in one batch;
	 * the event is position 6 of lap 1: crossed. */
	while (dev_fetch(&f->d, &r))
		dev_complete(&f->d, &r, 0);
	assert_int_equal(vhu_vq_poll(&f->vq, u, 8, &got), VHU_OK);
	assert_int_equal(got, 4);
	vhu_st16(&e->off_wrap, 6 | 0x8000);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[4 + i]), VHU_OK);
	assert_false(f->vq.avail_wrap);
	assert_true(vhu_vq_publish(&f->vq));
	/* Position 1 of lap 0 was made available already: an event there
	 * does not kick for position 2 of lap 0; position 2 does. */
	vhu_st16(&e->off_wrap, 1);
	while (dev_fetch(&f->d, &r))
		dev_complete(&f->d, &r, 0);
	assert_int_equal(vhu_vq_poll(&f->vq, u, 8, &got), VHU_OK);
	assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[10]), VHU_OK);
	assert_false(vhu_vq_publish(&f->vq));
	vhu_st16(&e->off_wrap, 3);
	assert_int_equal(vhu_vq_add(&f->vq, s, 1, &f->tokens[11]), VHU_OK);
	assert_true(vhu_vq_publish(&f->vq));
}

/* Used notifications: the driver's side of suppression and the re-check. */
static void test_notify(void **state)
{
	struct fx *f = *state;
	struct vhu_vq_used u[4];
	struct vhu_vq_seg s[3];
	struct dreq r;
	unsigned got;
	bool notified;

	/* Split with event idx: used_event follows the next used index. */
	fx_init(f, VHU_VQ_SPLIT, 8, true, false, 0);
	vhu_vq_disable_notify(&f->vq);
	for (unsigned i = 0; i < 3; i++) {
		round_trip_n(f, i, &notified);
		assert_false(notified);
	}
	assert_false(vhu_vq_enable_notify(&f->vq));
	assert_int_equal(vhu_ld16(vhu_used_event(f->d.driver, 8)), 3);
	blk_chain(f, s, 512);
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, &f->tokens[3]), VHU_OK);
	vhu_vq_publish(&f->vq);
	assert_true(dev_fetch(&f->d, &r));
	dev_complete(&f->d, &r, 1);
	assert_true(dev_should_notify(&f->d));
	/* A completion that raced the enable is seen by the re-check. */
	vhu_vq_disable_notify(&f->vq);
	assert_true(vhu_vq_enable_notify(&f->vq));
	assert_int_equal(vhu_vq_poll(&f->vq, u, 4, &got), VHU_OK);
	assert_int_equal(got, 1);
	vhu_vq_fini(&f->vq);

	/* Split without event idx: the NO_INTERRUPT flag. */
	fx_init(f, VHU_VQ_SPLIT, 8, false, false, 0);
	vhu_vq_disable_notify(&f->vq);
	assert_int_equal(vhu_ld16(&((struct vring_avail *)f->d.driver)->flags), VRING_AVAIL_F_NO_INTERRUPT);
	round_trip_n(f, 2, &notified);
	assert_false(notified);
	assert_false(vhu_vq_enable_notify(&f->vq));
	assert_int_equal(vhu_ld16(&((struct vring_avail *)f->d.driver)->flags), 0);
	vhu_vq_fini(&f->vq);

	/* Packed with event idx: DESC at the next used position and wrap. */
	fx_init(f, VHU_VQ_PACKED, 4, true, false, 0);
	round_trip(f, 3); /* 3 descriptors: next used is position 3, lap 1 */
	assert_false(vhu_vq_enable_notify(&f->vq));
	assert_int_equal(vhu_ld16(&((struct vring_packed_desc_event *)f->d.driver)->off_wrap), 3 | 0x8000);
	assert_int_equal(vhu_ld16(&((struct vring_packed_desc_event *)f->d.driver)->flags),
			 VRING_PACKED_EVENT_FLAG_DESC);
	vhu_vq_disable_notify(&f->vq);
	assert_int_equal(vhu_ld16(&((struct vring_packed_desc_event *)f->d.driver)->flags),
			 VRING_PACKED_EVENT_FLAG_DISABLE);
	round_trip(f, 4); /* positions 3, 0, 1: lap 0 */
	assert_false(vhu_vq_enable_notify(&f->vq));
	assert_int_equal(vhu_ld16(&((struct vring_packed_desc_event *)f->d.driver)->off_wrap), 2);
}

/* ---- what the device hands back ---- */

static void expect_violation(struct fx *f, const char *what)
{
	struct vhu_vq_used u[4];
	struct vhu_vq_seg s[1] = { { ARENA_GPA, 16, false } };
	unsigned got = 99;

	assert_int_equal(vhu_vq_poll(&f->vq, u, 4, &got), VHU_E_PROTO);
	assert_int_equal(got, 0);
	if (!strstr(vhu_vq_error(&f->vq), what) || !strstr(vhu_vq_error(&f->vq), "queue 3"))
		fail_msg("message '%s' lacks '%s' or the queue", vhu_vq_error(&f->vq), what);
	/* Broken for good. */
	assert_int_equal(vhu_vq_add(&f->vq, s, 1, NULL), VHU_E_PROTO);
	assert_int_equal(vhu_vq_poll(&f->vq, u, 4, &got), VHU_E_PROTO);
}

static void test_bad_used_id(void **state)
{
	struct fx *f = *state;
	struct vhu_vq_seg s[3];
	struct dreq r;

	fx_init(f, VHU_VQ_SPLIT, 8, false, false, 0);
	round_trip(f, 0); /* id 0 was posted and completed */
	blk_chain(f, s, 512);
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, &f->tokens[1]), VHU_OK);
	vhu_vq_publish(&f->vq);
	assert_true(dev_fetch(&f->d, &r));
	r.id = 6; /* never posted: a non-head descriptor */
	dev_complete(&f->d, &r, 1);
	expect_violation(f, "used index 1: used id 6 is not in flight");
}

static void test_bad_used_id_out_of_range(void **state)
{
	struct fx *f = *state;
	struct dreq r = { .id = 4000 };

	fx_init(f, VHU_VQ_SPLIT, 8, false, false, 0);
	dev_complete(&f->d, &r, 1);
	expect_violation(f, "used index 0: used id 4000 is not in flight");
}

static void test_bad_used_len(void **state)
{
	struct fx *f = *state;
	struct vhu_vq_seg s[3];
	struct dreq r;

	fx_init(f, VHU_VQ_SPLIT, 8, false, false, 0);
	blk_chain(f, s, 512);
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, &f->tokens[1]), VHU_OK);
	vhu_vq_publish(&f->vq);
	assert_true(dev_fetch(&f->d, &r));
	dev_complete(&f->d, &r, 514);
	expect_violation(f, "used index 0: used length 514 exceeds the 513 device-writable bytes");
}

static void test_used_idx_jump(void **state)
{
	struct fx *f = *state;
	struct vring_used *u;

	fx_init(f, VHU_VQ_SPLIT, 8, false, false, 0);
	u = f->d.device;
	round_trip(f, 0);
	vhu_st16_release(&u->idx, 10); /* from 1 to 10: 9 > 8 */
	expect_violation(f, "used index 1: the device's used index jumped to 10, more than the 8 entries");
}

static void test_packed_wrong_wrap(void **state)
{
	struct fx *f = *state;
	struct vhu_vq_seg s[3];
	struct dreq r;

	fx_init(f, VHU_VQ_PACKED, 8, false, false, 0);
	round_trip(f, 0);
	blk_chain(f, s, 512);
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, &f->tokens[1]), VHU_OK);
	vhu_vq_publish(&f->vq);
	assert_true(dev_fetch(&f->d, &r));
	f->d.used_wrap = !f->d.used_wrap; /* the device writes lap 0's pattern */
	assert_false(vhu_vq_pending(&f->vq));
	dev_complete(&f->d, &r, 1);
	assert_true(vhu_vq_pending(&f->vq));
	expect_violation(f, "descriptor 3: wrong wrap bits");
}

static void test_packed_bad_id_and_len(void **state)
{
	struct fx *f = *state;
	struct vhu_vq_seg s[3];
	struct dreq r;

	fx_init(f, VHU_VQ_PACKED, 8, false, false, 0);
	blk_chain(f, s, 512);
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, &f->tokens[1]), VHU_OK);
	vhu_vq_publish(&f->vq);
	assert_true(dev_fetch(&f->d, &r));
	r.id = 5;
	dev_complete(&f->d, &r, 1);
	expect_violation(f, "descriptor 0: used id 5 is not in flight");
	vhu_vq_fini(&f->vq);

	fx_init(f, VHU_VQ_PACKED, 8, false, false, 0);
	assert_int_equal(vhu_vq_add(&f->vq, s, 3, &f->tokens[1]), VHU_OK);
	vhu_vq_publish(&f->vq);
	assert_true(dev_fetch(&f->d, &r));
	dev_complete(&f->d, &r, 600);
	expect_violation(f, "descriptor 0: used length 600 exceeds the 513 device-writable bytes");
}

/* A chain the device only reads: whatever length comes back (DPDK's
 * packed rings report the bytes read) completes with length 0. */
static void test_readonly_chain_len(void **state)
{
	struct fx *f = *state;
	enum vhu_vq_layout layouts[] = { VHU_VQ_SPLIT, VHU_VQ_PACKED };

	for (unsigned l = 0; l < 2; l++) {
		struct vhu_vq_seg s = { gpa_of(&f->m, f->m.base + (3u << 20)), 72, false };
		struct vhu_vq_used u;
		struct dreq r;
		unsigned n;

		fx_init(f, layouts[l], 8, false, false, 0);
		assert_int_equal(vhu_vq_add(&f->vq, &s, 1, &f->tokens[7]), VHU_OK);
		vhu_vq_publish(&f->vq);
		assert_true(dev_fetch(&f->d, &r));
		dev_complete(&f->d, &r, 72);
		assert_int_equal(vhu_vq_poll(&f->vq, &u, 1, &n), VHU_OK);
		assert_int_equal(n, 1);
		assert_ptr_equal(u.token, &f->tokens[7]);
		assert_int_equal(u.len, 0);
		assert_int_equal(f->vq.stats.readonly_len, 1);
		vhu_vq_fini(&f->vq);
	}
}

/*
 * A device that goes away with chains in flight: vhu_vq_restart() starts
 * the ring again where a new device can take over (split: at the used
 * index the old one left; packed: afresh), and the chains added again
 * come back with their tokens.
 */
static void restart_case(struct fx *f, enum vhu_vq_layout layout)
{
	struct vhu_vq_seg s[3];
	struct vhu_vq_used u[8];
	struct dreq r;
	unsigned n = blk_chain(f, s, 512), got;
	uint32_t base;

	fx_init(f, layout, 16, true, false, 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(vhu_vq_add(&f->vq, s, n, &f->tokens[i]), VHU_OK);
	vhu_vq_publish(&f->vq);
	/* the old device takes three and completes two */
	for (unsigned i = 0; i < 3; i++)
		assert_true(dev_fetch(&f->d, &r)), i < 2 ? dev_complete(&f->d, &r, 513) : (void)0;
	assert_int_equal(vhu_vq_poll(&f->vq, u, 8, &got), VHU_OK);
	assert_int_equal(got, 2);
	assert_int_equal(vhu_vq_inflight(&f->vq), 2);

	assert_int_equal(vhu_vq_restart(&f->vq, &base), VHU_OK);
	assert_int_equal(vhu_vq_inflight(&f->vq), 0);
	assert_int_equal(vhu_vq_free(&f->vq), 16);
	if (layout == VHU_VQ_SPLIT) {
		assert_int_equal(base, 2);
		assert_int_equal(vhu_ld16(&((struct vring_used *)f->d.device)->idx), 2);
		assert_int_equal(vhu_ld16(&((struct vring_avail *)f->d.driver)->idx), 2);
		f->d.last_avail = f->d.used_idx = f->d.signalled = 2;
	} else {
		assert_int_equal(base, 0x8000);
		/* nothing left available or used from the old laps */
		for (unsigned i = 0; i < 16; i++)
			assert_int_equal(vhu_ld16(&((struct vring_packed_desc *)f->d.desc)[i].flags), 0);
		f->d.avail_pos = f->d.used_pos = 0;
		f->d.avail_wrap = f->d.used_wrap = true;
	}
	assert_int_equal(vhu_vq_base(&f->vq), base);
	/* the two in flight go again, to the new device */
	for (unsigned i = 2; i < 4; i++)
		assert_int_equal(vhu_vq_add(&f->vq, s, n, &f->tokens[i]), VHU_OK);
	vhu_vq_publish(&f->vq);
	for (unsigned i = 0; i < 2; i++) {
		assert_true(dev_fetch(&f->d, &r));
		dev_complete(&f->d, &r, 513);
	}
	assert_false(dev_fetch(&f->d, &r));
	assert_int_equal(vhu_vq_poll(&f->vq, u, 8, &got), VHU_OK);
	assert_int_equal(got, 2);
	assert_ptr_equal(u[0].token, &f->tokens[2]);
	assert_ptr_equal(u[1].token, &f->tokens[3]);
	/* counters run on across the restart */
	assert_int_equal(f->vq.stats.added, 6);
	assert_int_equal(f->vq.stats.completed, 4);
}

static void test_restart_split(void **state)
{
	restart_case(*state, VHU_VQ_SPLIT);
}

static void test_restart_packed(void **state)
{
	restart_case(*state, VHU_VQ_PACKED);
}

static void test_init_rules(void **state)
{
	struct fx *f = *state;
	struct vhu_vq_config cfg = { VHU_VQ_SPLIT, 0, 6, false, false, 0 };
	struct vhu_vq_areas a = { f->m.base, f->m.base + 4096, f->m.base + 8192, NULL, 0 };

	assert_int_equal(vhu_vq_init(&f->vq, &cfg, &a), VHU_E_USAGE); /* split: not a power of 2 */
	cfg.layout = VHU_VQ_PACKED;
	assert_int_equal(vhu_vq_init(&f->vq, &cfg, &a), VHU_OK);
	vhu_vq_fini(&f->vq);
	cfg.size = 32769;
	assert_int_equal(vhu_vq_init(&f->vq, &cfg, &a), VHU_E_USAGE);
	cfg.size = 8;
	cfg.indirect = true;
	cfg.indirect_max = 4;
	assert_int_equal(vhu_vq_init(&f->vq, &cfg, &a), VHU_E_USAGE); /* no table memory */
	a.desc = f->m.base + 8;
	cfg.indirect = false;
	assert_int_equal(vhu_vq_init(&f->vq, &cfg, &a), VHU_E_USAGE); /* misaligned */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_split_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_packed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_wrap_256, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_wrap_65536, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_base_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packed_laps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packed_laps_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packed_base_wrap0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kick_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kick_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kick_packed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_used_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_used_id_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_used_len, setup, teardown),
		cmocka_unit_test_setup_teardown(test_used_idx_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packed_wrong_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packed_bad_id_and_len, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_chain_len, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_rules, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
