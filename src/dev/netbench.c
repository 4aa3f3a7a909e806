/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The net bench's ring loop (see netbench.h).  Buffers follow the spec's
 * "Network Device": transmit buffers are a struct virtio_net_hdr (all
 * zeros: no offload is acked) and the frame, in one descriptor or, with
 * split_hdr, two; receive buffers are device-writable and start with the
 * header, whose num_buffers says, with VIRTIO_NET_F_MRG_RXBUF, how many
 * buffers the packet spans (spec "Processing of Incoming Packets").
 */
#define _GNU_SOURCE
#include "dev/netbench.h"

#include "dev/benchq.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Ethernet header: a received frame shorter than this is an error. */
#define ETH_HDR 14u

struct vhu_nb_buf {
	uint8_t *p; /* header, then the frame */
	struct vhu_vq_seg seg[2];
	unsigned nseg;
};

static int fail(struct vhu_nb *nb, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct vhu_nb *nb, int rc, const char *fmt, ...)
{
	va_list ap;

	/* The first failure of the run is the one told. */
	if (nb->rc)
		return nb->rc;
	va_start(ap, fmt);
	vsnprintf(nb->err, sizeof(nb->err), fmt, ap);
	va_end(ap);
	nb->rc = rc;
	return rc;
}

int vhu_nb_init(struct vhu_nb *nb, struct vhu_drv *d, struct vhu_drv_queue *q, const struct vhu_nb_opts *o,
		int wake_fd, int done_fd)
{
	bool tx = o->dir == VHU_NB_TX;
	uint64_t gpa, stride;
	void *mem;
	int rc;

	memset(nb, 0, sizeof(*nb));
	nb->d = d;
	nb->q = q;
	nb->o = o;
	nb->wake_fd = wake_fd;
	nb->done_fd = done_fd;
	nb->hdr_len = vhu_net_hdr_len(d->features);
	nb->mrg_rxbuf = d->features & VHU_BIT(VHU_NET_F_MRG_RXBUF);
	nb->buf = calloc(o->qd, sizeof(*nb->buf));
	nb->used = calloc(o->qd, sizeof(*nb->used));
	if (!nb->buf || !nb->used) {
		vhu_nb_fini(nb);
		return vhu_fail(d->s, VHU_E_IO, "bench: out of memory");
	}
	/* Transmit buffers on cache lines of their own. */
	stride = tx ? (nb->hdr_len + o->frame_len + 63) & ~(uint64_t)63 : o->rx_buf;
	if ((rc = vhu_drv_alloc(d, (uint64_t)o->qd * stride, 4096, &mem, &gpa))) {
		vhu_nb_fini(nb);
		return rc;
	}
	for (unsigned i = 0; i < o->qd; i++) {
		struct vhu_nb_buf *b = &nb->buf[i];
		uint64_t a = gpa + i * stride;
		uint32_t body = tx ? o->frame_len : o->rx_buf - (uint32_t)nb->hdr_len;

		b->p = (uint8_t *)mem + i * stride;
		/* The header stays as the allocator left it: zeros. */
		if (tx)
			vhu_net_udp_frame(b->p + nb->hdr_len, o->frame_len);
		if (o->split_hdr && body) {
			b->seg[0] = (struct vhu_vq_seg){ a, (uint32_t)nb->hdr_len, !tx };
			b->seg[1] = (struct vhu_vq_seg){ a + nb->hdr_len, body, !tx };
			b->nseg = 2;
		} else {
			b->seg[0] = (struct vhu_vq_seg){ a, (uint32_t)nb->hdr_len + body, !tx };
			b->nseg = 1;
		}
	}
	return VHU_OK;
}

void vhu_nb_fini(struct vhu_nb *nb)
{
	free(nb->buf);
	free(nb->used);
	nb->buf = NULL;
	nb->used = NULL;
}

void vhu_nb_set_phase(struct vhu_nb *nb, enum vhu_nb_phase ph)
{
	uint64_t one = 1;

	__atomic_store_n(&nb->phase, (int)ph, __ATOMIC_RELEASE);
	/* A thread asleep on the call eventfd must see it: on a receive
	 * ring nothing else may come. */
	if (ph >= VHU_NB_STOP && write(nb->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow from two writes */
	}
}

enum vhu_nb_phase vhu_nb_phase(const struct vhu_nb *nb)
{
	return (enum vhu_nb_phase)__atomic_load_n(&nb->phase, __ATOMIC_ACQUIRE);
}

static int add(struct vhu_nb *nb, struct vhu_nb_buf *b)
{
	int rc = vhu_vq_add(&nb->q->vq, b->seg, b->nseg, b);

	/* Only buffers that came back are added again: never full. */
	if (rc == VHU_VQ_FULL)
		return fail(nb, VHU_E_IO, "queue %u: the ring is full with %u buffers in flight",
			    nb->q->index, vhu_vq_inflight(&nb->q->vq));
	if (rc)
		return fail(nb, rc, "%s", vhu_vq_error(&nb->q->vq));
	return VHU_OK;
}

/* Publish, and write the kick eventfd when the device wants it. */
static int kick(struct vhu_nb *nb)
{
	int err = vhu_drv_queue_kick(nb->q, false);

	if (err)
		return fail(nb, VHU_E_IO, "queue %u: kick: %s", nb->q->index, strerror(err));
	return VHU_OK;
}

/* The measured window opens on this thread: counts from zero. */
static void open_window(struct vhu_nb *nb)
{
	nb->packets = nb->bytes = nb->errors = 0;
	vhu_bq_window_open(nb->q, nb->base);
	/* Release: the supervisor reads it to end the window --runtime
	 * after it opened (cmd_bench_net.c). */
	__atomic_store_n(&nb->t_begin, vhu_bq_now_ns(), __ATOMIC_RELEASE);
}

/*
 * @n completions in nb->used: count them (in the window when @counting)
 * and, with @again, hand the buffers back to the device.
 */
static int handle(struct vhu_nb *nb, unsigned n, bool counting, bool again)
{
	uint64_t frames = 0, bytes = 0, errors = 0;

	if (nb->o->dir == VHU_NB_TX) {
		frames = n;
		bytes = (uint64_t)n * nb->o->frame_len;
	} else {
		for (unsigned i = 0; i < n; i++) {
			struct vhu_nb_buf *b = nb->used[i].token;
			uint32_t len = nb->used[i].len;

			if (!nb->left) {
				/* The first buffer of a packet: the header. */
				uint16_t bufs = 1;

				if (len < nb->hdr_len)
					return fail(nb, VHU_E_PROTO,
						    "queue %u: used length %u is shorter than the %zu-byte "
						    "virtio-net header",
						    nb->q->index, len, nb->hdr_len);
				if (nb->mrg_rxbuf) {
					memcpy(&bufs, b->p + 10, 2);
					bufs = le16toh(bufs);
					if (!bufs || bufs > nb->o->qd)
						return fail(
							nb, VHU_E_PROTO,
							"queue %u: num_buffers %u (VIRTIO_NET_F_MRG_RXBUF: 1 "
							"to the %u buffers posted)",
							nb->q->index, bufs, nb->o->qd);
				}
				nb->left = bufs;
				len -= (uint32_t)nb->hdr_len;
				nb->plen = 0;
			}
			nb->plen += len;
			bytes += len;
			if (--nb->left == 0) {
				frames++;
				errors += nb->plen < ETH_HDR;
			}
		}
	}
	__atomic_store_n(&nb->moved, __atomic_load_n(&nb->moved, __ATOMIC_RELAXED) + frames,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&nb->moved_bytes, __atomic_load_n(&nb->moved_bytes, __ATOMIC_RELAXED) + bytes,
			 __ATOMIC_RELAXED);
	if (counting) {
		nb->packets += frames;
		nb->bytes += bytes;
		nb->errors += errors;
	}
	for (unsigned i = 0; again && i < n; i++)
		if (add(nb, nb->used[i].token))
			return nb->rc;
	return VHU_OK;
}

/*
 * Nothing came back: wait (vhu_bq_idle(); spinning in poll mode and in
 * the drain after STOP) until the time limit after the last completion.
 */
static int idle(struct vhu_nb *nb, unsigned *spins, int64_t last, bool spin)
{
	struct vhu_drv_queue *q = nb->q;
	int r = vhu_bq_idle(q, spins, last + (int64_t)nb->o->timeout_ms * 1000000,
			    spin || nb->o->notify == VHU_NOTIFY_POLL, nb->wake_fd);

	if (r == VHU_BQ_AGAIN)
		return VHU_OK;
	if (r < 0)
		return fail(nb, VHU_E_IO, "queue %u: poll: %s", q->index, strerror(-r));
	if (nb->o->dir == VHU_NB_RX)
		return fail(nb, VHU_E_TIMEOUT, "queue %u: no frame arrived within %g s", q->index,
			    nb->o->timeout_ms / 1000.0);
	return fail(nb, VHU_E_TIMEOUT, "queue %u: the device used no frame within %g s (%u in flight)",
		    q->index, nb->o->timeout_ms / 1000.0, vhu_vq_inflight(&q->vq));
}

int vhu_nb_run(struct vhu_nb *nb)
{
	struct vhu_vq *vq = &nb->q->vq;
	bool stopping = false;
	uint64_t one = 1;
	unsigned spins = 0;
	int64_t last;
	int ph;

	nb->rc = VHU_OK;
	nb->err[0] = '\0';
	ph = vhu_nb_phase(nb);
	if (ph == VHU_NB_MEASURE)
		open_window(nb);
	for (unsigned i = 0; ph < VHU_NB_STOP && i < nb->o->qd; i++)
		if (add(nb, &nb->buf[i]))
			goto out;
	if (kick(nb))
		goto out;
	last = vhu_bq_now_ns();
	for (;;) {
		unsigned n;
		int rc;

		ph = vhu_nb_phase(nb);
		if (ph == VHU_NB_ABORT)
			break;
		if (ph >= VHU_NB_STOP)
			stopping = true;
		if (ph == VHU_NB_MEASURE && !nb->t_begin)
			open_window(nb);
		/* rx: what the device still delivers is collected after
		 * the orderly stop (vhu_nb_finish); tx: the frames in flight
		 * are used first. */
		if (stopping && (nb->o->dir == VHU_NB_RX || !vhu_vq_inflight(vq)))
			break;
		if ((rc = vhu_vq_poll(vq, nb->used, nb->o->qd, &n))) {
			fail(nb, rc, "%s", vhu_vq_error(vq));
			break;
		}
		if (!n) {
			if (idle(nb, &spins, last, stopping))
				break;
			continue;
		}
		spins = 0;
		last = vhu_bq_now_ns();
		if (handle(nb, n, nb->t_begin != 0, !stopping))
			break;
		if (!stopping && kick(nb))
			break;
	}
out:
	if (nb->t_begin) {
		nb->t_end = vhu_bq_now_ns();
		vhu_bq_window_close(nb->q, nb->base, &nb->kicks, &nb->kicks_suppressed, &nb->call_waits);
	}
	if (write(nb->done_fd, &one, sizeof(one)) < 0) {
		/* an eventfd counter does not overflow from one write */
	}
	return nb->rc;
}

void *vhu_nb_thread(void *arg)
{
	vhu_nb_run(arg);
	return NULL;
}

int vhu_nb_finish(struct vhu_nb *nb)
{
	unsigned n;
	int rc;

	if (!nb->t_begin)
		return VHU_OK;
	if (nb->o->dir == VHU_NB_RX) {
		do {
			if ((rc = vhu_vq_poll(&nb->q->vq, nb->used, nb->o->qd, &n)))
				return fail(nb, rc, "%s", vhu_vq_error(&nb->q->vq));
			if (n && (rc = handle(nb, n, true, false)))
				return rc;
		} while (n);
		nb->t_end = vhu_bq_now_ns();
	}
	return VHU_OK;
}
