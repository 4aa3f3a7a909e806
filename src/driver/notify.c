/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kicks and completions: the eventfd side of a queue.
 *
 * Event mode follows the spec's rule for sleeping ("Used Buffer
 * Notification Suppression"): ask for a notification (avail flags or
 * used_event), full fence, re-check the used ring, and only then sleep on
 * the call eventfd; otherwise a completion that lands between the check
 * and the sleep is never announced.  Poll mode keeps notifications off
 * and spins on the used ring.
 *
 * Every wait is bounded by the session's timeout and also watches the
 * main socket, so a back-end that dies or hangs up mid-I/O ends the wait
 * at once instead of at the timeout, and the signals of util/intr.h
 * (SIGINT, SIGTERM, SIGHUP, SIGQUIT), which end it with 128 + signal.
 *
 * With the iommu option the back-end channel joins the polls the wait
 * makes anyway (driver.h, "IOMMU"): its IOTLB misses are answered there,
 * and a busy-polling wait that makes progress never looks at it.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "driver/driver.h"
#include "util/intr.h"

int vhu_drv_queue_kick(struct vhu_drv_queue *q, bool force)
{
	uint64_t one = 1;

	if (!vhu_vq_publish(&q->vq) && !force)
		return 0;
	q->kicks++;
	while (write(q->kick_fd, &one, sizeof(one)) < 0) {
		if (errno == EINTR)
			continue;
		/* A non-blocking eventfd fails only when its counter would
		 * overflow: the device has a kick pending anyway. */
		if (errno == EAGAIN)
			break;
		return errno;
	}
	return 0;
}

static int kick(struct vhu_drv *d, struct vhu_drv_queue *q, bool force)
{
	int err = vhu_drv_queue_kick(q, force);

	if (err)
		return vhu_fail(d->s, VHU_E_IO, "queue %u: kick: %s", q->index, strerror(err));
	return VHU_OK;
}

int vhu_drv_kick(struct vhu_drv *d, struct vhu_drv_queue *q)
{
	return kick(d, q, false);
}

int vhu_drv_notify(struct vhu_drv *d, struct vhu_drv_queue *q)
{
	return kick(d, q, true);
}

/* The main socket while I/O runs: readable means the back-end hung up
 * (or sent something nobody asked for). */
static int socket_check(struct vhu_drv *d, struct vhu_drv_queue *q, short revents)
{
	char c;
	ssize_t r;

	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return VHU_OK;
	r = recv(d->s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return VHU_OK;
	if (r > 0)
		return vhu_fail(d->s, VHU_E_PROTO,
				"queue %u: the back-end sent an unrequested message during I/O", q->index);
	return vhu_fail(d->s, VHU_E_IO,
			"queue %u: the back-end closed the connection with %u request%s in flight", q->index,
			vhu_vq_inflight(&q->vq), vhu_vq_inflight(&q->vq) == 1 ? "" : "s");
}

/* The back-end channel to watch while waiting, or -1. */
static int chan_fd(const struct vhu_drv *d)
{
	return d->iommu && d->chan && d->chan->open ? d->chan->fd : -1;
}

static int interrupted(struct vhu_drv *d, struct vhu_drv_queue *q)
{
	unsigned n = vhu_vq_inflight(&q->vq);

	return vhu_fail(d->s, vhu_intr_status(), "queue %u: interrupted by %s (%u request%s in flight)",
			q->index, vhu_intr_name(vhu_intr_signo()), n, n == 1 ? "" : "s");
}

static int timed_out(struct vhu_drv *d, struct vhu_drv_queue *q)
{
	unsigned n = vhu_vq_inflight(&q->vq);

	return vhu_fail(d->s, VHU_E_TIMEOUT, "queue %u: no completion within %g s (%u request%s in flight)",
			q->index, d->s->timeout_ms / 1000.0, n, n == 1 ? "" : "s");
}

static int collect(struct vhu_drv *d, struct vhu_drv_queue *q, struct vhu_vq_used *out, unsigned max,
		   unsigned *n)
{
	int rc = vhu_vq_poll(&q->vq, out, max, n);

	if (rc)
		return vhu_fail(d->s, rc, "%s", vhu_vq_error(&q->vq));
	return VHU_OK;
}

int vhu_drv_wait(struct vhu_drv *d, struct vhu_drv_queue *q, struct vhu_vq_used *out, unsigned max,
		 unsigned *n)
{
	int64_t deadline = vhu_now_ms() + d->s->timeout_ms;
	unsigned spins = 0;
	int rc;

	*n = 0;
	if (!vhu_vq_inflight(&q->vq))
		return vhu_fail(d->s, VHU_E_USAGE, "queue %u: waiting with nothing in flight", q->index);
	for (;;) {
		if ((rc = collect(d, q, out, max, n)) || *n)
			return rc;
		if (d->o.notify == VHU_NOTIFY_POLL) {
			/* Busy polling; now and then look at the clock (vDSO)
			 * and the socket, and let the back-end run when it
			 * shares our CPU. */
			if (++spins % 1024)
				continue;
			if (vhu_intr_status())
				return interrupted(d, q);
			if (vhu_now_ms() >= deadline)
				return timed_out(d, q);
			if (spins % 65536 == 0) {
				struct pollfd p[2] = { { .fd = d->s->fd, .events = POLLIN },
						       { .fd = chan_fd(d), .events = POLLIN } };

				if (poll(p, 2, 0) > 0 && ((rc = socket_check(d, q, p[0].revents)) ||
							  (p[1].revents && (rc = vhu_drv_iotlb(d)))))
					return rc;
			}
			sched_yield();
			continue;
		}
		/* Event mode. */
		if (vhu_vq_enable_notify(&q->vq)) {
			vhu_vq_disable_notify(&q->vq);
			continue;
		}
		q->call_waits++;
		for (;;) {
			struct pollfd p[4] = { { .fd = q->call_fd, .events = POLLIN },
					       { .fd = d->s->fd, .events = POLLIN },
					       { .fd = vhu_intr_fd(), .events = POLLIN },
					       { .fd = chan_fd(d), .events = POLLIN } };
			int64_t left = deadline - vhu_now_ms();
			int r;

			if (left <= 0) {
				vhu_vq_disable_notify(&q->vq);
				/* One last look: the notification may be lost
				 * but the completion is not. */
				if ((rc = collect(d, q, out, max, n)) || *n)
					return rc;
				return timed_out(d, q);
			}
			if (vhu_intr_status()) {
				vhu_vq_disable_notify(&q->vq);
				return interrupted(d, q);
			}
			r = poll(p, 4, left > 1000 ? 1000 : (int)left);
			if (r < 0 && errno != EINTR)
				return vhu_fail(d->s, VHU_E_IO, "queue %u: poll: %s", q->index,
						strerror(errno));
			if (r > 0 && (rc = socket_check(d, q, p[1].revents)))
				return rc;
			if (r > 0 && p[3].revents && (rc = vhu_drv_iotlb(d))) {
				vhu_vq_disable_notify(&q->vq);
				return rc;
			}
			if (r > 0 && (p[0].revents & POLLIN)) {
				uint64_t cnt;

				q->call_wakeups++;
				while (read(q->call_fd, &cnt, sizeof(cnt)) < 0 && errno == EINTR)
					;
				break;
			}
			/* Woken for nothing, or a second passed: completions
			 * are what count, not notifications. */
			if (vhu_vq_pending(&q->vq))
				break;
		}
		vhu_vq_disable_notify(&q->vq);
	}
}
