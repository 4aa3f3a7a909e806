/* SPDX-License-Identifier: Apache-2.0 */
/* The bench threads' queue wait (see benchq.h). */
#include "dev/benchq.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>

/* Poll mode looks at the clock every this many empty polls, and leaves
 * the CPU to others (sched_yield) after this many in a row: a back-end
 * sharing our CPU must get to run, a busy one never waits that long. */
#define SPIN_CLOCK 256u
#define SPIN_YIELD 16384u

int vhu_bq_idle(struct vhu_drv_queue *q, unsigned *spins, int64_t deadline, bool spin, int wake_fd)
{
	int64_t left;

	if (spin) {
		if (++*spins % SPIN_CLOCK)
			return VHU_BQ_AGAIN;
		if (deadline - vhu_bq_now_ns() <= 0)
			return vhu_vq_pending(&q->vq) ? VHU_BQ_AGAIN : VHU_BQ_TIMEOUT;
		if (*spins >= SPIN_YIELD)
			sched_yield();
		return VHU_BQ_AGAIN;
	}
	/* The spec's "Used Buffer Notification Suppression": ask, then
	 * look again before sleeping, or a completion in between is never
	 * announced. */
	if (vhu_vq_enable_notify(&q->vq)) {
		vhu_vq_disable_notify(&q->vq);
		return VHU_BQ_AGAIN;
	}
	left = deadline - vhu_bq_now_ns();
	if (left > 0) {
		struct pollfd p[2] = { { .fd = q->call_fd, .events = POLLIN },
				       { .fd = wake_fd, .events = POLLIN } };
		int r;

		q->call_waits++;
		r = poll(p, 2, (int)((left + 999999) / 1000000));
		if (r < 0 && errno != EINTR) {
			int err = errno;

			vhu_vq_disable_notify(&q->vq);
			return -err;
		}
		if (r > 0 && (p[0].revents & POLLIN)) {
			uint64_t cnt;

			q->call_wakeups++;
			while (read(q->call_fd, &cnt, sizeof(cnt)) < 0 && errno == EINTR)
				;
		}
	}
	vhu_vq_disable_notify(&q->vq);
	/* A lost notification must not end the run. */
	if (left > 0 || vhu_vq_pending(&q->vq))
		return VHU_BQ_AGAIN;
	return VHU_BQ_TIMEOUT;
}
