/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/util/hist.c: bucket geometry over the whole 64-bit
 * range, and percentiles of known distributions within 1% of the exact
 * value (computed by sorting the same samples).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/hist.h"

/* splitmix64: a fixed, portable sequence. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double unit(uint64_t *s)
{
	return ((double)(rnd(s) >> 11) + 0.5) / 9007199254740992.0;
}

static struct vhu_hist *new_hist(void)
{
	struct vhu_hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	vhu_hist_reset(h);
	return h;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The exact percentile with the histogram's rank rule. */
static uint64_t exact(const uint64_t *sorted, size_t n, double p)
{
	uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)n);

	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static const double pcts[] = { 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99 };

/* Every percentile of @h within 1% of the sorted samples' (and the
 * extremes and the mean exact). */
static void check_against(struct vhu_hist *h, uint64_t *v, size_t n)
{
	double sum = 0;

	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	assert_int_equal(h->count, n);
	assert_int_equal(h->min, v[0]);
	assert_int_equal(h->max, v[n - 1]);
	assert_true(fabs(vhu_hist_mean(h) - sum / (double)n) <= 1e-9 * sum / (double)n + 1e-9);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		double want = (double)exact(v, n, pcts[i]), got = (double)vhu_hist_percentile(h, pcts[i]);

		if (fabs(got - want) > 0.01 * want) {
			print_error("p%g: got %.0f, exact %.0f (%.3f%% off)\n", pcts[i], got, want,
				    100.0 * fabs(got - want) / want);
			fail();
		}
	}
	assert_int_equal(vhu_hist_percentile(h, 100), v[n - 1]);
}

static void test_geometry(void **state)
{
	uint64_t s = 1;

	(void)state;
	/* Buckets tile the range: contiguous, from 0 to UINT64_MAX. */
	assert_int_equal(vhu_hist_bucket_low(0), 0);
	for (unsigned i = 0; i + 1 < VHU_HIST_BUCKETS; i++)
		assert_int_equal(vhu_hist_bucket_low(i + 1), vhu_hist_bucket_high(i) + 1);
	assert_true(vhu_hist_bucket_high(VHU_HIST_BUCKETS - 1) == UINT64_MAX);
	assert_int_equal(vhu_hist_index(UINT64_MAX), VHU_HIST_BUCKETS - 1);
	/* A value lands in the bucket that holds it, and the bucket is at
	 * most 1/128 of it wide. */
	for (uint64_t v = 0; v < 300000; v++) {
		unsigned i = vhu_hist_index(v);

		assert_true(vhu_hist_bucket_low(i) <= v && v <= vhu_hist_bucket_high(i));
		assert_true(vhu_hist_bucket_high(i) - vhu_hist_bucket_low(i) + 1 <= (v < 256 ? 1 : v / 128));
	}
	for (int k = 0; k < 200000; k++) {
		uint64_t v = rnd(&s) >> (rnd(&s) % 64);
		unsigned i = vhu_hist_index(v);

		assert_true(i < VHU_HIST_BUCKETS);
		assert_true(vhu_hist_bucket_low(i) <= v && v <= vhu_hist_bucket_high(i));
		assert_true(vhu_hist_bucket_high(i) - vhu_hist_bucket_low(i) <= (v < 256 ? 0 : v / 128));
	}
}

static void test_empty_and_constant(void **state)
{
	struct vhu_hist *h = new_hist();

	(void)state;
	assert_int_equal(vhu_hist_percentile(h, 50), 0);
	assert_true(vhu_hist_mean(h) == 0.0);
	assert_true(vhu_hist_stddev(h) == 0.0);
	/* One value everywhere: every percentile is that value exactly (the
	 * midpoint is clamped to [min, max]). */
	for (int i = 0; i < 1000; i++)
		vhu_hist_add(h, 123457);
	assert_int_equal(vhu_hist_percentile(h, 0.1), 123457);
	assert_int_equal(vhu_hist_percentile(h, 50), 123457);
	assert_int_equal(vhu_hist_percentile(h, 99.9), 123457);
	assert_true(vhu_hist_mean(h) == 123457.0);
	assert_true(vhu_hist_stddev(h) == 0.0);
	/* Reset empties it. */
	vhu_hist_reset(h);
	assert_int_equal(h->count, 0);
	assert_int_equal(vhu_hist_percentile(h, 50), 0);
	free(h);
}

static void test_small_values_exact(void **state)
{
	struct vhu_hist *h = new_hist();

	(void)state;
	/* Below 256 every value has its own bucket: percentiles are exact. */
	for (uint64_t v = 1; v <= 200; v++)
		vhu_hist_add(h, v);
	assert_int_equal(vhu_hist_percentile(h, 50), 100);
	assert_int_equal(vhu_hist_percentile(h, 90), 180);
	assert_int_equal(vhu_hist_percentile(h, 99), 198);
	assert_int_equal(vhu_hist_percentile(h, 100), 200);
	assert_int_equal(h->min, 1);
	free(h);
}

static void test_uniform(void **state)
{
	size_t n = 1000000;
	uint64_t *v = malloc(n * sizeof(*v));
	struct vhu_hist *h = new_hist();

	(void)state;
	assert_non_null(v);
	/* 1 .. 1,000,000 ns, each once, added in a scrambled order. */
	for (size_t i = 0; i < n; i++)
		v[i] = (i * 7919) % n + 1;
	for (size_t i = 0; i < n; i++)
		vhu_hist_add(h, v[i]);
	check_against(h, v, n);
	assert_true(fabs(vhu_hist_mean(h) - 500000.5) < 1e-6);
	/* stddev of a uniform 1..n: n / sqrt(12) */
	assert_true(fabs(vhu_hist_stddev(h) - 1e6 / sqrt(12.0)) < 0.01 * 1e6 / sqrt(12.0));
	free(v);
	free(h);
}

static void test_exponential(void **state)
{
	size_t n = 500000;
	uint64_t *v = malloc(n * sizeof(*v)), s = 42;
	struct vhu_hist *h = new_hist();

	(void)state;
	assert_non_null(v);
	/* Service times with a 20 us mean: a long tail. */
	for (size_t i = 0; i < n; i++) {
		v[i] = (uint64_t)(-20000.0 * log(unit(&s))) + 1;
		vhu_hist_add(h, v[i]);
	}
	check_against(h, v, n);
	assert_true(fabs(vhu_hist_stddev(h) - 20000.0) < 0.02 * 20000.0);
	free(v);
	free(h);
}

static void test_lognormal_bimodal(void **state)
{
	size_t n = 400000;
	uint64_t *v = malloc(n * sizeof(*v)), s = 7;
	struct vhu_hist *h = new_hist();

	(void)state;
	assert_non_null(v);
	/* 90% cache hits around 8 us, 10% misses around 3 ms, each log-normal. */
	for (size_t i = 0; i < n; i++) {
		double z = sqrt(-2.0 * log(unit(&s))) * cos(2 * M_PI * unit(&s));
		double med = i % 10 == 9 ? 3e6 : 8e3;

		v[i] = (uint64_t)(med * exp(0.35 * z)) + 1;
		vhu_hist_add(h, v[i]);
	}
	check_against(h, v, n);
	free(v);
	free(h);
}

static void test_huge_values(void **state)
{
	size_t n = 100000;
	uint64_t *v = malloc(n * sizeof(*v)), s = 99;
	struct vhu_hist *h = new_hist();

	(void)state;
	assert_non_null(v);
	/* Seconds to hours, and values near the top of the range. */
	for (size_t i = 0; i < n; i++) {
		v[i] = i % 100 == 0 ? UINT64_MAX - rnd(&s) % 1000000
				    : (uint64_t)(1e9 * exp(unit(&s) * 9.0)); /* 1 s .. 2.25 h */
		vhu_hist_add(h, v[i]);
	}
	/* sum wraps with such values: leave the mean out of it */
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		double want = (double)exact(v, n, pcts[i]), got = (double)vhu_hist_percentile(h, pcts[i]);

		assert_true(fabs(got - want) <= 0.01 * want);
	}
	assert_true(h->max == v[n - 1]);
	free(v);
	free(h);
}

static void test_merge_and_order(void **state)
{
	struct vhu_hist *a = new_hist(), *b = new_hist(), *all = new_hist(), *m = new_hist();
	uint64_t s = 3;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t x = (uint64_t)(-5000.0 * log(unit(&s))) + 500;

		vhu_hist_add(i % 3 ? a : b, x);
		vhu_hist_add(all, x);
	}
	vhu_hist_merge(m, a);
	vhu_hist_merge(m, b);
	assert_int_equal(m->count, all->count);
	assert_int_equal(m->sum, all->sum);
	assert_int_equal(m->min, all->min);
	assert_int_equal(m->max, all->max);
	assert_memory_equal(m->bucket, all->bucket, sizeof(m->bucket));
	/* Percentiles never decrease. */
	for (double p = 1; p < 100; p += 0.5)
		assert_true(vhu_hist_percentile(m, p) <= vhu_hist_percentile(m, p + 0.5));
	assert_true(vhu_hist_percentile(m, 50) <= vhu_hist_percentile(m, 99));
	assert_true(vhu_hist_percentile(m, 99.9) <= m->max);
	assert_true(vhu_hist_percentile(m, 1) >= m->min);
	/* Merging an empty one changes nothing. */
	vhu_hist_reset(a);
	vhu_hist_merge(m, a);
	assert_int_equal(m->min, all->min);
	assert_int_equal(m->count, all->count);
	free(a);
	free(b);
	free(all);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),	   cmocka_unit_test(test_empty_and_constant),
		cmocka_unit_test(test_small_values_exact), cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_exponential),	   cmocka_unit_test(test_lognormal_bimodal),
		cmocka_unit_test(test_huge_values),	   cmocka_unit_test(test_merge_and_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
