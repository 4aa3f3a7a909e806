/* SPDX-License-Identifier: Apache-2.0 */
/* The log-linear histogram (see hist.h). */
#include "util/hist.h"

#include <math.h>

void vhu_hist_reset(struct vhu_hist *h)
{
	for (unsigned i = 0; i < VHU_HIST_BUCKETS; i++)
		VHU_HIST_ST(&h->bucket[i], 0);
	VHU_HIST_ST(&h->count, 0);
	VHU_HIST_ST(&h->sum, 0);
	VHU_HIST_ST(&h->min, UINT64_MAX);
	VHU_HIST_ST(&h->max, 0);
}

uint64_t vhu_hist_bucket_low(unsigned i)
{
	unsigned k, e;

	if (i < VHU_HIST_LINEAR)
		return i;
	k = i - VHU_HIST_LINEAR;
	e = VHU_HIST_SUB_BITS + 1 + (k >> VHU_HIST_SUB_BITS);
	return (uint64_t)((1u << VHU_HIST_SUB_BITS) + (k & ((1u << VHU_HIST_SUB_BITS) - 1)))
	       << (e - VHU_HIST_SUB_BITS);
}

uint64_t vhu_hist_bucket_high(unsigned i)
{
	unsigned e;

	if (i < VHU_HIST_LINEAR)
		return i;
	e = VHU_HIST_SUB_BITS + 1 + ((i - VHU_HIST_LINEAR) >> VHU_HIST_SUB_BITS);
	/* Written so that the last bucket ends at UINT64_MAX without
	 * overflowing. */
	return vhu_hist_bucket_low(i) + ((UINT64_C(1) << (e - VHU_HIST_SUB_BITS)) - 1);
}

static uint64_t midpoint(unsigned i)
{
	uint64_t lo = vhu_hist_bucket_low(i);

	return lo + (vhu_hist_bucket_high(i) - lo) / 2;
}

void vhu_hist_merge(struct vhu_hist *dst, const struct vhu_hist *src)
{
	uint64_t n = VHU_HIST_LD(&src->count), v;

	for (unsigned i = 0; i < VHU_HIST_BUCKETS; i++)
		if ((v = VHU_HIST_LD(&src->bucket[i])))
			VHU_HIST_ST(&dst->bucket[i], VHU_HIST_LD(&dst->bucket[i]) + v);
	if (!n)
		return;
	VHU_HIST_ST(&dst->count, VHU_HIST_LD(&dst->count) + n);
	VHU_HIST_ST(&dst->sum, VHU_HIST_LD(&dst->sum) + VHU_HIST_LD(&src->sum));
	if ((v = VHU_HIST_LD(&src->min)) < VHU_HIST_LD(&dst->min))
		VHU_HIST_ST(&dst->min, v);
	if ((v = VHU_HIST_LD(&src->max)) > VHU_HIST_LD(&dst->max))
		VHU_HIST_ST(&dst->max, v);
}

uint64_t vhu_hist_percentile(const struct vhu_hist *h, double p)
{
	uint64_t n = VHU_HIST_LD(&h->count), lo = VHU_HIST_LD(&h->min), hi = VHU_HIST_LD(&h->max);
	uint64_t rank, seen = 0, v;
	unsigned i;

	if (!n || !(p > 0))
		return n ? lo : 0;
	if (p >= 100)
		return hi;
	rank = (uint64_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < VHU_HIST_BUCKETS; i++) {
		seen += VHU_HIST_LD(&h->bucket[i]);
		if (seen >= rank)
			break;
	}
	/* A reader racing the owner may run off the end: the top then. */
	if (i == VHU_HIST_BUCKETS)
		return hi;
	v = midpoint(i);
	return v < lo ? lo : v > hi ? hi : v;
}

double vhu_hist_mean(const struct vhu_hist *h)
{
	uint64_t n = VHU_HIST_LD(&h->count);

	return n ? (double)VHU_HIST_LD(&h->sum) / (double)n : 0.0;
}

double vhu_hist_stddev(const struct vhu_hist *h)
{
	double mean = vhu_hist_mean(h), acc = 0;
	uint64_t n = 0, c, lo = VHU_HIST_LD(&h->min), hi = VHU_HIST_LD(&h->max);

	for (unsigned i = 0; i < VHU_HIST_BUCKETS; i++) {
		double dv;

		if (!(c = VHU_HIST_LD(&h->bucket[i])))
			continue;
		/* Clamped like percentiles: one value everywhere gives 0. */
		dv = (double)(midpoint(i) < lo ? lo : midpoint(i) > hi ? hi : midpoint(i)) - mean;
		acc += (double)c * dv * dv;
		n += c;
	}
	return n > 1 ? sqrt(acc / (double)n) : 0.0;
}
