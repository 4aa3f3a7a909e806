/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A log-linear histogram of 64-bit values (latencies in nanoseconds), the
 * idea of HdrHistogram: values below 256 have a bucket each; above, every
 * power of two [2^e, 2^(e+1)) is cut into 128 buckets of equal width
 * 2^(e-7).  A bucket is then at most 1/128 of its values wide, and a
 * percentile reported as the bucket's midpoint is within 1/256 (0.4%) of
 * the true value, over the whole 64-bit range, with no configuration and
 * a fixed 7424 buckets (58 KiB).
 *
 * Adding a value is a few instructions and never allocates or fails.  One
 * thread adds (the owner); any thread may read at the same time (a
 * progress line): every field is accessed with relaxed atomic loads and
 * stores, which on the machines we run on are plain moves, so the owner
 * pays nothing for it and a reader sees each counter whole.  A reader may
 * see the total and the buckets a few values apart; the figures it
 * computes are then off by those values, never garbage.
 *
 * Ownership: the caller owns the struct (no pointers inside, nothing to
 * free); it is large, so put it on the heap rather than a thread's stack.
 */
#ifndef VHU_UTIL_HIST_H
#define VHU_UTIL_HIST_H

#include <stdint.h>

#define VHU_HIST_SUB_BITS 7u			    /* 128 buckets per power of two */
#define VHU_HIST_LINEAR	  (2u << VHU_HIST_SUB_BITS) /* 256 exact buckets first */
#define VHU_HIST_BUCKETS  (VHU_HIST_LINEAR + (63u - VHU_HIST_SUB_BITS) * (1u << VHU_HIST_SUB_BITS))

struct vhu_hist {
	uint64_t count; /* values added */
	uint64_t sum;	/* their sum (wraps after 2^64: 584 years of nanoseconds) */
	uint64_t min;	/* UINT64_MAX while empty */
	uint64_t max;
	uint64_t bucket[VHU_HIST_BUCKETS];
};

/* Empty @h.  Safe while a reader looks (relaxed stores). */
void vhu_hist_reset(struct vhu_hist *h);

/* The bucket of @v, and the first and last value of bucket @i. */
static inline unsigned vhu_hist_index(uint64_t v)
{
	unsigned e;

	if (v < VHU_HIST_LINEAR)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v); /* >= 8 */
	return VHU_HIST_LINEAR + (e - VHU_HIST_SUB_BITS - 1) * (1u << VHU_HIST_SUB_BITS) +
	       (unsigned)(v >> (e - VHU_HIST_SUB_BITS)) - (1u << VHU_HIST_SUB_BITS);
}
uint64_t vhu_hist_bucket_low(unsigned i);
uint64_t vhu_hist_bucket_high(unsigned i);

#define VHU_HIST_LD(p)	  __atomic_load_n((p), __ATOMIC_RELAXED)
#define VHU_HIST_ST(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* Add @v.  Only the owner thread calls it. */
static inline void vhu_hist_add(struct vhu_hist *h, uint64_t v)
{
	unsigned i = vhu_hist_index(v);

	VHU_HIST_ST(&h->bucket[i], VHU_HIST_LD(&h->bucket[i]) + 1);
	VHU_HIST_ST(&h->count, VHU_HIST_LD(&h->count) + 1);
	VHU_HIST_ST(&h->sum, VHU_HIST_LD(&h->sum) + v);
	if (v < VHU_HIST_LD(&h->min))
		VHU_HIST_ST(&h->min, v);
	if (v > VHU_HIST_LD(&h->max))
		VHU_HIST_ST(&h->max, v);
}

/* Add everything in @src to @dst (which no other thread writes). */
void vhu_hist_merge(struct vhu_hist *dst, const struct vhu_hist *src);

/*
 * The @p-th percentile (0 < @p <= 100): the midpoint of the bucket that
 * holds the value of rank ceil(@p / 100 * count), kept inside [min, max];
 * 0 when empty.
 */
uint64_t vhu_hist_percentile(const struct vhu_hist *h, double p);
/* Exact mean (0 when empty); standard deviation from the buckets'
 * midpoints (within the buckets' 0.4%). */
double vhu_hist_mean(const struct vhu_hist *h);
double vhu_hist_stddev(const struct vhu_hist *h);

#endif
