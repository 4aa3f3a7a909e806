/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtio-blk load generator over the driver (`vhuctl bench`): each
 * started ring gets @qd request slots in guest memory, all in flight all
 * the time, and one thread (vhu_bb_thread) that keeps them so:
 *
 *   poll the used ring; for the whole batch of completions: read the
 *   clock once, judge each status byte, record each latency, check the
 *   data (--verify), build the slot's next request in place and add it;
 *   read the clock again (the submission time of the new requests);
 *   publish and kick once.
 *
 * Nothing is allocated and no system call is made on that path but the
 * kick eventfd write the device asks for and, in event mode, the sleep on
 * the call eventfd (and its read); the clock is CLOCK_MONOTONIC through
 * the vDSO.  Latency runs from the submission (just before the kick) to
 * the poll that saw the completion, into a log-linear histogram
 * (util/hist.h) per direction.
 *
 * A run is one job: MEASURE (the workload, --ramp then the measured
 * window, until the supervisor says stop), FILL (--verify: write the
 * pattern over this queue's share of the span) or CHECK (read this
 * queue's share back and check it).  The supervisor (the command's main
 * thread) starts a thread per queue, moves the shared phase on (ramp,
 * measure, stop, abort), watches the socket and signals, and joins.
 * STOP lets the requests in flight complete (so that GET_VRING_BASE at
 * the orderly stop counts every request); ABORT leaves at once, for a
 * back-end that is gone.  PAUSE (--reconnect) also leaves at once, after
 * collecting what the back-end that went away completed; the requests
 * still in flight stay in their slots.  The supervisor makes the
 * connection again and replays the bring-up (vhu_drv_replay, which starts
 * the rings afresh), marks each queue with vhu_bb_resume() and runs it
 * again: the queue adds those requests again, unchanged (same block, same
 * data), unless the back-end keeps an inflight buffer and serves them
 * again itself, and carries on with the job.
 *
 * --verify blocks: a 32-byte header {"vhuBENCH", offset, seed, block
 * size} (little-endian), then bytes of a pseudo-random pattern derived
 * from the seed, starting at a place derived from the block number.  What
 * a block must hold follows from (seed, block size, offset) alone, so a
 * read is checked without remembering what was written; a block written
 * at the wrong offset shows by its header, a torn one by its bytes.
 *
 * Nothing here prints.  A worker's failure goes to its own @err (never
 * the session's, which other threads share), with the vhu_rc in @rc.
 * Ownership: the driver, its queues and the options are borrowed; a
 * queue owns its slot table (vhu_bb_queue_fini) and its slots' guest
 * memory comes from vhu_drv_alloc (freed with the driver's memory).
 */
#ifndef VHU_DEV_BLKBENCH_H
#define VHU_DEV_BLKBENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/blk.h"
#include "driver/driver.h"
#include "util/hist.h"

enum vhu_bb_rw { VHU_BB_READ, VHU_BB_WRITE, VHU_BB_RANDREAD, VHU_BB_RANDWRITE, VHU_BB_RANDRW };
enum { VHU_BB_DIR_READ, VHU_BB_DIR_WRITE, VHU_BB_DIRS };
enum vhu_bb_job { VHU_BB_JOB_MEASURE, VHU_BB_JOB_FILL, VHU_BB_JOB_CHECK };
/* The shared phase, in this order (PAUSE: see above). */
enum vhu_bb_phase { VHU_BB_RAMP, VHU_BB_MEASURE, VHU_BB_STOP, VHU_BB_ABORT, VHU_BB_PAUSE };

#define VHU_BB_HDR_BYTES 32u /* the --verify header of a block */

struct vhu_bb_opts {
	enum vhu_bb_rw rw;
	unsigned rwmix_read; /* randrw: percent of reads */
	uint32_t bs;	     /* bytes per request, a multiple of 512 */
	uint32_t seg_bytes;  /* bytes per data descriptor (size_max), 0: bs */
	unsigned qd;	     /* requests in flight per queue */
	uint64_t offset;     /* the span: bytes, multiples of 512 */
	uint64_t size;	     /* a multiple of bs */
	uint64_t seed;	     /* random offsets, read/write mix, pattern */
	bool verify;	     /* pattern on write, check on read */
	enum vhu_notify_mode notify;
	int timeout_ms;		/* no completion for that long: VHU_E_TIMEOUT */
	const uint8_t *pattern; /* --verify: vhu_bb_pattern() */
};

/* What every worker shares with the supervisor. */
struct vhu_bb_ctl {
	int phase;   /* enum vhu_bb_phase; atomic */
	int failed;  /* atomic: 0, or 1 + the index of the first queue that failed */
	int wake_fd; /* eventfd the supervisor writes on ABORT and PAUSE (read
		      * only by the supervisor, before a resume) */
	int done_fd; /* eventfd each worker writes when its run ends */
};

/* One direction's figures in the measured window.  Written by the
 * queue's thread with relaxed atomic stores; anyone may read. */
struct vhu_bb_counts {
	uint64_t ios, bytes;
	struct vhu_hist lat; /* nanoseconds */
};

struct vhu_bb_slot;

struct vhu_bb_queue {
	struct vhu_drv *d;	     /* borrowed */
	struct vhu_drv_queue *q;     /* borrowed */
	const struct vhu_bb_opts *o; /* borrowed */
	struct vhu_bb_ctl *ctl;	     /* borrowed */
	unsigned index;		     /* 0..nq-1 among the bench's queues */
	unsigned nq;
	struct vhu_bb_slot *slot;   /* owned: o->qd */
	struct vhu_vq_used *used;   /* owned: o->qd */
	struct vhu_bb_slot **fresh; /* owned: o->qd (requests of one batch) */
	struct vhu_vq_seg *segs;    /* owned: the slots' chains */
	unsigned nsegs;		    /* descriptors per request */
	uint64_t nblocks;	    /* o->size / o->bs */
	uint64_t rng;
	uint64_t seq;	    /* sequential jobs: next block */
	uint64_t job_first; /* FILL, CHECK: this queue's share of the */
	uint64_t job_end;   /* span's blocks, [job_first, job_end) */
	enum vhu_bb_job job;

	/* Live (relaxed atomics; the progress line reads them). */
	uint64_t completed; /* every completion of every run */
	struct vhu_bb_counts c[VHU_BB_DIRS];
	uint64_t blocks_done; /* FILL, CHECK: blocks written / checked */
	/* Driver counters within the measured window (after the run). */
	uint64_t kicks, kicks_suppressed, call_waits;
	uint64_t errors;      /* requests that failed (status, --verify) */
	uint64_t verified;    /* blocks read and checked (--verify) */
	uint64_t resubmitted; /* requests added again after a reconnect */

	/* The measured window of this queue: started, and the driver
	 * counters at its start (kept across a pause). */
	bool window;
	uint64_t base[3];
	bool resume; /* the next run resumes after a reconnect */

	int rc;	       /* the run's result */
	char err[320]; /* its message when rc != VHU_OK */
};

/* The --verify pattern for @seed and @bs: @bs + 4096 bytes, malloc'ed
 * (the caller frees it).  NULL when out of memory. */
uint8_t *vhu_bb_pattern(uint64_t seed, uint32_t bs);

/*
 * Slots for @o->qd requests on the started queue @q in guest memory
 * (headers together, data blocks together, each block at a multiple of
 * bs from a 4096-aligned base).  VHU_OK, or the vhu_drv_alloc() failure
 * (message in the session), or VHU_E_IO (out of memory).
 */
int vhu_bb_queue_init(struct vhu_bb_queue *b, struct vhu_drv *d, struct vhu_drv_queue *q, unsigned index,
		      unsigned nq, const struct vhu_bb_opts *o, struct vhu_bb_ctl *ctl);
void vhu_bb_queue_fini(struct vhu_bb_queue *b);

/* The next run of @b does @job (FILL and CHECK: this queue's share of
 * the span, 1/nq of its blocks). */
void vhu_bb_set_job(struct vhu_bb_queue *b, enum vhu_bb_job job);

/* Run the job on the calling thread until it is done, the phase says
 * stop (after the requests in flight completed), abort or pause, or
 * something fails; sets and returns b->rc.  Writes ctl->done_fd once at
 * the end. */
int vhu_bb_run(struct vhu_bb_queue *b);
/* Requests of @b in flight (added, not completed): after a pause, those
 * the back-end that went away left. */
unsigned vhu_bb_in_flight(const struct vhu_bb_queue *b);
/* After a pause, the connection made again and the bring-up replayed:
 * the next vhu_bb_run() adds the requests in flight again (unless the
 * driver has an inflight buffer: d->inflight) and the free slots' next
 * ones, kicks whatever the device asked, and goes on with the job. */
void vhu_bb_resume(struct vhu_bb_queue *b);
/* pthread entry: vhu_bb_run(arg). */
void *vhu_bb_thread(void *arg);

/* Ring descriptors one request takes: header, data, status. */
unsigned vhu_bb_chain(const struct vhu_bb_opts *o);

#endif
