/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtio-net packet generator and sink over the driver (`vhuctl bench
 * -T net`): one ring of a queue pair, @qd buffers in guest memory, all in
 * flight all the time, and one thread (vhu_nb_thread) that keeps them so:
 *
 *   tx (transmitq): every buffer holds a zero virtio-net header and the
 *   same frame, written once by vhu_nb_init(); poll the used ring, count
 *   the batch, add the same buffers again, publish and kick once.
 *   rx (receiveq): every buffer posted device-writable; poll the used
 *   ring, count the frames (num_buffers with MRG_RXBUF), post the same
 *   buffers again, publish and kick once.
 *
 * Nothing is allocated and no system call is made on that path but the
 * kick eventfd write the device asks for and, in event mode, the sleep
 * on the call eventfd (and its read).
 *
 * The measured window opens when the thread sees the phase MEASURE and
 * closes once the ring is quiet, so that its packets are exactly what the
 * device moved while it was open: tx, when the frames in flight at STOP
 * have all been used; rx, after the orderly stop, when vhu_nb_finish()
 * has collected what the device delivered before its ring stopped.  Then
 * a back-end's own counters equal ours (when there was no --ramp).
 *
 * Nothing here prints.  A failure goes to @err (never the session's,
 * which the supervisor shares), with the vhu_rc in @rc.  Ownership: the
 * driver, the queue and the options are borrowed; the buffers come from
 * vhu_drv_alloc (freed with the driver's memory); vhu_nb_fini() frees the
 * rest.
 */
#ifndef VHU_DEV_NETBENCH_H
#define VHU_DEV_NETBENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/net.h"
#include "driver/driver.h"

enum vhu_nb_dir { VHU_NB_TX, VHU_NB_RX };
/* The shared phase, in this order. */
enum vhu_nb_phase { VHU_NB_RAMP, VHU_NB_MEASURE, VHU_NB_STOP, VHU_NB_ABORT };

struct vhu_nb_opts {
	enum vhu_nb_dir dir;
	uint32_t frame_len; /* tx: frame bytes, without the virtio-net header */
	uint32_t rx_buf;    /* rx: bytes per receive buffer */
	unsigned qd;	    /* buffers in flight */
	/* Header and frame in descriptors of their own (through an
	 * indirect table when VIRTIO_F_INDIRECT_DESC is in effect). */
	bool split_hdr;
	enum vhu_notify_mode notify;
	int timeout_ms; /* no completion for that long: VHU_E_TIMEOUT */
};

struct vhu_nb_buf;

struct vhu_nb {
	struct vhu_drv *d;	     /* borrowed */
	struct vhu_drv_queue *q;     /* borrowed: the ring driven */
	const struct vhu_nb_opts *o; /* borrowed */
	int phase;		     /* enum vhu_nb_phase; atomic, the supervisor's */
	int wake_fd;		     /* eventfd the supervisor writes on STOP and ABORT (never read) */
	int done_fd;		     /* eventfd written once when vhu_nb_run() ends */
	size_t hdr_len;
	bool mrg_rxbuf;
	struct vhu_nb_buf *buf;	  /* owned: o->qd */
	struct vhu_vq_used *used; /* owned: o->qd */
	uint32_t left;		  /* rx: buffers still to come of a merged packet */
	uint32_t plen;		  /* rx: its bytes so far */

	/* Live (relaxed atomics; the progress line reads them). */
	uint64_t moved, moved_bytes; /* every frame of every phase, and its bytes */
	/* The measured window (valid once t_begin != 0). */
	uint64_t packets, bytes;
	int64_t t_begin, t_end; /* ns, CLOCK_MONOTONIC */
	uint64_t kicks, kicks_suppressed, call_waits;
	uint64_t errors; /* rx: frames shorter than an Ethernet header */
	uint64_t base[3];

	int rc;	       /* the run's result */
	char err[320]; /* its message when rc != VHU_OK */
};

/*
 * The buffers for @o on the started queue @q (its transmitq for tx, its
 * receiveq for rx) in guest memory.  @wake_fd and @done_fd are the
 * supervisor's (borrowed).  VHU_OK, the vhu_drv_alloc() failure (message
 * in the session), or VHU_E_IO (out of memory).
 */
int vhu_nb_init(struct vhu_nb *nb, struct vhu_drv *d, struct vhu_drv_queue *q, const struct vhu_nb_opts *o,
		int wake_fd, int done_fd);
void vhu_nb_fini(struct vhu_nb *nb);

/* The supervisor moves the phase on; STOP and ABORT wake a sleeping
 * thread. */
void vhu_nb_set_phase(struct vhu_nb *nb, enum vhu_nb_phase ph);
enum vhu_nb_phase vhu_nb_phase(const struct vhu_nb *nb);

/*
 * Run on the calling thread until the phase says stop (tx: after the
 * frames in flight were used) or abort, or something fails; sets and
 * returns nb->rc.  Writes done_fd once at the end.
 */
int vhu_nb_run(struct vhu_nb *nb);
/* pthread entry: vhu_nb_run(arg). */
void *vhu_nb_thread(void *arg);

/*
 * After the thread ended and the orderly stop disabled the ring: rx
 * collects what the device delivered before its ring stopped; both close
 * the measured window.  VHU_OK, or VHU_E_PROTO (message in @err).
 */
int vhu_nb_finish(struct vhu_nb *nb);

#endif
