/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the block and net bench threads (dev/blkbench, dev/netbench) share
 * about one queue: the clock, the wait when nothing came back, and the
 * driver counters of the measured window.  Each thread keeps its own
 * error message: these return what happened, never fail a session.
 * Nothing here allocates; the only system calls are poll(2) and read(2)
 * in event mode and sched_yield(2) after a long spin.
 */
#ifndef VHU_DEV_BENCHQ_H
#define VHU_DEV_BENCHQ_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "driver/driver.h"

/* CLOCK_MONOTONIC in nanoseconds (vDSO: no system call). */
static inline int64_t vhu_bq_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* vhu_bq_idle(): go on polling, or the time limit passed with nothing
 * to collect (a failed poll(2) is a negative errno). */
enum { VHU_BQ_AGAIN = 0, VHU_BQ_TIMEOUT = 1 };

/*
 * Nothing came back from @q.  Poll mode (@spin): count the spin in
 * @spins, and now and then check the clock against @deadline (ns,
 * vhu_bq_now_ns()) and let others run.  Event mode: ask for a
 * notification, re-check, sleep on the call eventfd or @wake_fd (the
 * supervisor's; never read here) until @deadline.  Completions are what
 * count, not notifications: VHU_BQ_TIMEOUT only when none is pending.
 * @wake_fd, @q: borrowed.
 */
int vhu_bq_idle(struct vhu_drv_queue *q, unsigned *spins, int64_t deadline, bool spin, int wake_fd);

/* The driver counters of a measured window: @base[3] takes their values
 * when it opens, and the differences go to the three outputs after. */
static inline void vhu_bq_window_open(const struct vhu_drv_queue *q, uint64_t base[3])
{
	base[0] = q->kicks;
	base[1] = q->vq.stats.kicks_suppressed;
	base[2] = q->call_waits;
}

static inline void vhu_bq_window_close(const struct vhu_drv_queue *q, const uint64_t base[3], uint64_t *kicks,
				       uint64_t *kicks_suppressed, uint64_t *call_waits)
{
	*kicks = q->kicks - base[0];
	*kicks_suppressed = q->vq.stats.kicks_suppressed - base[1];
	*call_waits = q->call_waits - base[2];
}

#endif
