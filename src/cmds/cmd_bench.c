/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench: how fast a virtio-blk back-end serves requests, measured from the
 * front-end side: IOPS, bandwidth, latency percentiles, CPU, kicks.
 * (-T net, packets per second, is cmd_bench_net.c: this file parses its
 * command line and hands it over.)
 *
 * One session, as blk: options first (a bad command line sends nothing),
 * the probe, the checks against what the device says (span inside the
 * capacity, queues, descriptors per request, ring size), then the
 * bring-up of --queues rings, the runs, the orderly stop and the report.
 * The runs: with --verify a fill of the span with the pattern, then the
 * workload (--ramp, then --runtime measured), then with --verify and
 * writes a check of the span.  Each run is one thread per queue
 * (src/dev/blkbench.c) while this thread supervises: it moves the phase
 * on, prints the progress line, and watches the signals and the socket.
 *
 * SIGINT and SIGTERM end the run early: the requests in flight complete,
 * the device gets its orderly stop, the figures so far are reported and
 * the exit status is 0.  SIGHUP and SIGQUIT do the same but keep their
 * exit status (129, 131).  A second signal while requests drain gives up
 * on them (and on the orderly stop).
 *
 * --reconnect: a back-end that hangs up during a run pauses it (the
 * queues' threads end, keeping their requests in flight), the connection
 * is made again and the bring-up replayed (vhu_ctx_reconnect with the
 * driver's hooks), and the queues run on, adding again what was in
 * flight.  The outage counts in the measured time: the figures are what
 * the front-end saw.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cmds/bench_common.h"
#include "cmds/cmd_bench_net.h"
#include "cmds/cmd_drv.h"
#include "dev/blkbench.h"
#include "render/out.h"
#include "util/intr.h"
#include "util/parse.h"

enum {
	OPT_RW = 0x900,
	OPT_RWMIX,
	OPT_BS,
	OPT_QD,
	OPT_QUEUES,
	OPT_RUNTIME,
	OPT_RAMP,
	OPT_OFFSET,
	OPT_SIZE,
	OPT_VERIFY,
	OPT_SEED,
	OPT_PROGRESS,
};

#define BENCH_MAX_BS	(UINT32_C(16) << 20)
#define BENCH_MAX_QD	VHU_VQ_MAX_SIZE
#define BENCH_TICK_MS	1000
#define BENCH_MIN_QSIZE 128u
#define DEFAULT_RUNTIME 10000

static const char *const rw_names[] = {
	[VHU_BB_READ] = "read",		  [VHU_BB_WRITE] = "write",   [VHU_BB_RANDREAD] = "randread",
	[VHU_BB_RANDWRITE] = "randwrite", [VHU_BB_RANDRW] = "randrw",
};

/* fio's default percentile list. */
static const double pct_list[] = {
	1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99
};

struct bench_args {
	struct vhu_drv_args d;
	enum vhu_bb_rw rw;
	unsigned rwmix;
	bool have_rwmix;
	uint64_t bs;
	uint64_t qd, queues;
	int runtime_ms, ramp_ms;
	uint64_t offset, size;
	bool have_size;
	bool verify, progress;
	uint64_t seed;
	/* -T net: --rw tx or rx, and what was given explicitly */
	int net_rw; /* 0, 't', 'r' */
	bool have_rw, have_bs, have_qd;
	const char *blk_only; /* the first option only blk takes */
};

static const struct argp_option bench_opts[] = {
	{ NULL, 0, NULL, 0, "Workload:", 1 },
	{ "rw", OPT_RW, "read|write|randread|randwrite|randrw|tx|rx", 0,
	  "what to do (default read: sequential reads; -T net: tx, or rx)", 1 },
	{ "rwmix-read", OPT_RWMIX, "P", 0, "randrw: percent of reads (default 50)", 1 },
	{ "bs", OPT_BS, "SIZE", 0,
	  "bytes per request, a multiple of 512 (default 4k); -T net tx: frame bytes (default 64)", 1 },
	{ "qd", OPT_QD, "N", 0, "requests in flight per queue (default 1; -T net: buffers, default 256)", 1 },
	{ "queues", OPT_QUEUES, "N", 0, "queues (rings 0..N-1), one thread each (default 1)", 1 },
	{ "runtime", OPT_RUNTIME, "SECONDS", 0, "measured time (default 10)", 1 },
	{ "ramp", OPT_RAMP, "SECONDS", 0, "run this long before measuring (default 0)", 1 },
	{ "offset", OPT_OFFSET, "SIZE", 0, "start of the span, a multiple of 512 (default 0)", 1 },
	{ "size", OPT_SIZE, "SIZE", 0, "bytes of the span, a multiple of --bs (default: to the capacity)",
	  1 },
	{ "verify", OPT_VERIFY, NULL, 0,
	  "fill the span with a pattern with per-block headers first, check every block read (and the "
	  "span after writes)",
	  1 },
	{ "seed", OPT_SEED, "N", 0,
	  "seed of the random offsets, the read/write mix and the pattern (default 0)", 1 },
	{ "progress", OPT_PROGRESS, NULL, 0,
	  "a progress line on stderr every second (default: when it is a terminal)", 1 },
	VHU_DRV_RING_OPTIONS,
	VHU_DRV_NOTIFY_OPTION,
	{ 0 }
};

static error_t bench_parser(int key, char *arg, struct argp_state *state)
{
	struct bench_args *a = state->input;
	unsigned i;
	uint64_t v;

	switch (key) {
	case OPT_RWMIX: a->blk_only = a->blk_only ? a->blk_only : "--rwmix-read"; break;
	case OPT_QUEUES: a->blk_only = a->blk_only ? a->blk_only : "--queues"; break;
	case OPT_OFFSET: a->blk_only = a->blk_only ? a->blk_only : "--offset"; break;
	case OPT_SIZE: a->blk_only = a->blk_only ? a->blk_only : "--size"; break;
	case OPT_VERIFY: a->blk_only = a->blk_only ? a->blk_only : "--verify"; break;
	case OPT_SEED: a->blk_only = a->blk_only ? a->blk_only : "--seed"; break;
	case OPT_BS: a->have_bs = true; break;
	case OPT_QD: a->have_qd = true; break;
	default: break;
	}
	switch (key) {
	case OPT_RW:
		a->have_rw = true;
		a->net_rw = !strcmp(arg, "tx") ? 't' : !strcmp(arg, "rx") ? 'r' : 0;
		if (a->net_rw)
			return 0;
		for (i = 0; i < sizeof(rw_names) / sizeof(rw_names[0]); i++)
			if (!strcmp(arg, rw_names[i]))
				break;
		if (i == sizeof(rw_names) / sizeof(rw_names[0])) {
			vhu_argp_error(state,
				       "invalid --rw '%s' (read, write, randread, randwrite, randrw; tx, rx)",
				       arg);
			return EINVAL;
		}
		a->rw = (enum vhu_bb_rw)i;
		return 0;
	case OPT_RWMIX:
		if (vhu_parse_u64(arg, 100, &v)) {
			vhu_argp_error(state, "invalid --rwmix-read '%s' (a percentage, 0..100)", arg);
			return EINVAL;
		}
		a->rwmix = (unsigned)v;
		a->have_rwmix = true;
		return 0;
	case OPT_BS:
		if (vhu_parse_size(arg, &a->bs)) {
			vhu_argp_error(state, "invalid --bs '%s' (bytes, K/M units)", arg);
			return EINVAL;
		}
		return 0;
	case OPT_QD:
		if (vhu_parse_u64(arg, UINT32_MAX, &a->qd)) {
			vhu_argp_error(state, "invalid --qd '%s' (1..%u)", arg, BENCH_MAX_QD);
			return EINVAL;
		}
		return 0;
	case OPT_QUEUES:
		if (vhu_parse_u64(arg, UINT32_MAX, &a->queues)) {
			vhu_argp_error(state, "invalid --queues '%s' (1..%u)", arg, VHU_DRV_MAX_QUEUES);
			return EINVAL;
		}
		return 0;
	case OPT_RUNTIME:
	case OPT_RAMP:
		if (vhu_parse_seconds(arg, key == OPT_RUNTIME ? &a->runtime_ms : &a->ramp_ms)) {
			vhu_argp_error(state, "invalid --%s '%s' (seconds, e.g. 10 or 0.5)",
				       key == OPT_RUNTIME ? "runtime" : "ramp", arg);
			return EINVAL;
		}
		return 0;
	case OPT_OFFSET:
	case OPT_SIZE:
		if (vhu_parse_size(arg, key == OPT_OFFSET ? &a->offset : &a->size)) {
			vhu_argp_error(state, "invalid --%s '%s' (bytes, K/M/G/T units)",
				       key == OPT_OFFSET ? "offset" : "size", arg);
			return EINVAL;
		}
		a->have_size |= key == OPT_SIZE;
		return 0;
	case OPT_VERIFY: a->verify = true; return 0;
	case OPT_PROGRESS: a->progress = true; return 0;
	case OPT_SEED:
		if (vhu_parse_u64(arg, UINT64_MAX, &a->seed)) {
			vhu_argp_error(state, "invalid --seed '%s' (a number)", arg);
			return EINVAL;
		}
		return 0;
	case ARGP_KEY_ARG: return vhu_reject_operand(state, arg);
	default: return vhu_drv_parse_opt(key, arg, state, &a->d);
	}
}

static const struct argp bench_argp = {
	bench_opts,
	bench_parser,
	"",
	"Measure a virtio-blk back-end from the front-end side, like fio inside a guest but without one: "
	"bring the device up, keep --qd requests in flight on each of --queues rings for --runtime "
	"seconds, stop it in order, and report IOPS, bandwidth, latency percentiles (min, mean, p50, "
	"p90, p99, p99.9, max), CPU time, kicks and call waits.  -j gives one JSON document with fio's "
	"names (jobs[0].read.iops, clat_ns.percentile).  SIGINT or SIGTERM ends the run early with the "
	"figures so far (exit status 0).  With --verify a block that does not read back as written "
	"exits 1 naming its offset.  With -T net: --rw tx keeps --qd frames of --bs bytes in flight "
	"on the transmitq of queue pair 0, --rw rx keeps --qd receive buffers posted on its receiveq; "
	"the report gives packets/s and bit/s (jobs[0].tx.pps, .bps).",
	NULL,
	NULL,
	NULL
};

static bool has_writes(enum vhu_bb_rw rw)
{
	return rw == VHU_BB_WRITE || rw == VHU_BB_RANDWRITE || rw == VHU_BB_RANDRW;
}

static bool has_reads(enum vhu_bb_rw rw)
{
	return rw != VHU_BB_WRITE && rw != VHU_BB_RANDWRITE;
}

/* Everything that can be checked before connecting. */
static int check_args(struct vhu_ctx *ctx, const struct bench_args *a)
{
	enum vhu_dev_type t = vhu_ctx_dev(ctx);

	if (t != VHU_DEV_NONE && t != VHU_DEV_BLK)
		return vhu_usage(ctx, "drives virtio-blk (-T blk) and virtio-net (-T net) devices, not -T %s",
				 ctx->dev->name);
	if (a->net_rw)
		return vhu_usage(ctx, "--rw %s is for -T net", a->net_rw == 't' ? "tx" : "rx");
	if (!a->bs || a->bs % VHU_BLK_SECTOR || a->bs > BENCH_MAX_BS)
		return vhu_usage(ctx, "--bs %llu is not a multiple of 512 in 512..%u",
				 (unsigned long long)a->bs, BENCH_MAX_BS);
	if (!a->qd || a->qd > BENCH_MAX_QD)
		return vhu_usage(ctx, "--qd %llu: requests in flight per queue are 1..%u",
				 (unsigned long long)a->qd, BENCH_MAX_QD);
	if (!a->queues || a->queues > VHU_DRV_MAX_QUEUES)
		return vhu_usage(ctx, "--queues %llu: 1..%u", (unsigned long long)a->queues,
				 VHU_DRV_MAX_QUEUES);
	if (!a->runtime_ms)
		return vhu_usage(ctx, "--runtime must be above 0 s");
	if (a->have_rwmix && a->rw != VHU_BB_RANDRW)
		return vhu_usage(ctx, "--rwmix-read is for --rw randrw");
	if (a->offset % VHU_BLK_SECTOR)
		return vhu_usage(ctx, "--offset %llu is not a multiple of 512",
				 (unsigned long long)a->offset);
	if (a->have_size && (!a->size || a->size % a->bs))
		return vhu_usage(ctx, "--size %llu is not a non-zero multiple of --bs %llu",
				 (unsigned long long)a->size, (unsigned long long)a->bs);
	return vhu_drv_args_check(ctx, &a->d);
}

static unsigned cpu_count(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return (unsigned)CPU_COUNT(&set);
	return (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
}

/*
 * Checks against what the device said, before it is touched, and the
 * sizes that follow: the span, the data descriptors of a request, the ring
 * size (unless --queue-size), guest memory (unless --memory).
 */
static int fit_device(struct vhu_ctx *ctx, struct vhu_drv *d, const struct vhu_blk_info *bi,
		      const struct bench_args *a, struct vhu_bb_opts *o)
{
	uint64_t cap = bi->capacity * VHU_BLK_SECTOR, need, qs, per, mem;
	bool indirect = a->d.o.indirect != VHU_DRV_OFF && (ctx->s.features & VHU_BIT(VIRTIO_F_INDIRECT_DESC));
	unsigned chain, nq = (unsigned)a->queues;

	if (a->offset >= cap || (a->have_size && a->size > cap - a->offset))
		return vhu_usage(ctx, "the span, bytes %llu..%llu, is beyond the capacity of %llu bytes",
				 (unsigned long long)a->offset,
				 (unsigned long long)(a->offset + (a->have_size ? a->size : a->bs) - 1),
				 (unsigned long long)cap);
	o->offset = a->offset;
	o->size = a->have_size ? a->size : (cap - a->offset) / a->bs * a->bs;
	if (!o->size)
		return vhu_usage(ctx,
				 "the span from %llu to the capacity (%llu bytes) is smaller than --bs %u",
				 (unsigned long long)a->offset, (unsigned long long)cap, o->bs);
	if (bi->ro && (has_writes(a->rw) || a->verify))
		return vhu_usage(ctx, "--rw %s%s writes, and the device is read-only (VIRTIO_BLK_F_RO)",
				 rw_names[a->rw], a->verify ? " --verify" : "");
	if (nq > bi->num_queues)
		return vhu_usage(ctx, "--queues %u: the device has %u queue%s%s", nq, bi->num_queues,
				 bi->num_queues == 1 ? "" : "s",
				 bi->mq ? "" : " (VIRTIO_BLK_F_MQ not offered)");
	/* Spec: size_max is the largest segment the device takes. */
	if (bi->size_max && bi->size_max < o->bs) {
		o->seg_bytes = bi->size_max & ~(VHU_BLK_SECTOR - 1);
		if (!o->seg_bytes)
			return vhu_usage(ctx, "the device's size_max of %u bytes is below one sector",
					 bi->size_max);
	}
	chain = vhu_bb_chain(o);
	if (bi->seg_max && chain - 2 > bi->seg_max)
		return vhu_usage(
			ctx,
			"--bs %u needs %u data descriptors of %u bytes (size_max); the device takes %u "
			"(seg_max)",
			o->bs, chain - 2, o->seg_bytes, bi->seg_max);
	per = indirect ? 1 : chain;
	need = per * o->qd;
	qs = a->d.o.queue_size;
	if (qs && need > qs)
		return vhu_usage(
			ctx,
			"--qd %u needs %llu ring descriptors (%llu per request%s); --queue-size %llu "
			"holds %llu requests",
			o->qd, (unsigned long long)need, (unsigned long long)per,
			indirect ? "" : ", no indirect descriptors", (unsigned long long)qs,
			(unsigned long long)(qs / per));
	if (!qs) {
		for (qs = BENCH_MIN_QSIZE; qs < need; qs *= 2)
			;
		if (qs > VHU_VQ_MAX_SIZE)
			return vhu_usage(
				ctx,
				"--qd %u needs %llu ring descriptors (%llu per request%s), more than "
				"a ring holds (%u)",
				o->qd, (unsigned long long)need, (unsigned long long)per,
				indirect ? "" : ", no indirect descriptors", VHU_VQ_MAX_SIZE);
		d->o.queue_size = (uint32_t)qs;
	}
	/* Indirect tables as long as a request, not the ring. */
	if (indirect)
		d->o.indirect_max = (uint16_t)(chain < 2 ? 2 : chain);
	if (!a->d.o.mem_size) {
		/* Per ring: the three areas with their alignment, the
		 * indirect tables, the headers, the data blocks. */
		mem = 16 * qs + 8 * qs + 2 * qs + 3 * 4096 + (indirect ? 16 * qs * chain + 4096 : 0) +
		      32 * (uint64_t)o->qd + 4096 + (uint64_t)o->qd * o->bs + 4096;
		mem *= nq;
		if (mem > VHU_MEM_MAX_REGION)
			return vhu_usage(ctx,
					 "--qd %u of --bs %u on %u queue%s needs %llu bytes of guest memory",
					 o->qd, o->bs, nq, nq == 1 ? "" : "s", (unsigned long long)mem);
		d->o.mem_size = mem;
	}
	return VHU_OK;
}

/* ---- the runs ---- */

struct bench {
	struct vhu_ctx *ctx;
	struct vhu_drv *d;
	struct vhu_bb_opts o;
	struct vhu_bb_ctl ctl;
	struct vhu_bb_queue *bq; /* nq */
	unsigned nq;
	int runtime_ms, ramp_ms;
	bool progress, tty;
	struct vhu_hist *scratch; /* the progress line's p99 */

	/* what happened */
	bool measuring;			    /* its measured window started */
	int64_t t_start, t_measure, t_stop; /* ns */
	struct rusage ru0, ru1;
	const char *ended_by; /* "runtime", a signal name, "error" */
	int signo;	      /* the signal that ended the run */
	uint64_t filled;      /* --verify: blocks written by the fill */
	int paused_from;      /* the phase a pause (--reconnect) goes back to */
	int pause_signo;      /* a signal during the pause */
	int rc;		      /* the supervisor's own failure */
	char err[sizeof(((struct vhu_session *)0)->err)];
};

static void set_phase(struct bench *bn, int ph)
{
	uint64_t one = 1;

	__atomic_store_n(&bn->ctl.phase, ph, __ATOMIC_RELEASE);
	if (ph >= VHU_BB_ABORT && write(bn->ctl.wake_fd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow from one write */
	}
}

static int phase(const struct bench *bn)
{
	return __atomic_load_n(&bn->ctl.phase, __ATOMIC_ACQUIRE);
}

/* The measured window ends now (once). */
static void end_window(struct bench *bn, int64_t now)
{
	if (bn->measuring && !bn->t_stop) {
		bn->t_stop = now;
		getrusage(RUSAGE_SELF, &bn->ru1);
	}
}

/* The supervisor's failure: the first of the run unless a queue failed
 * before. */
static void sup_fail(struct bench *bn, int rc, const char *msg)
{
	int none = 0;

	if (__atomic_compare_exchange_n(&bn->ctl.failed, &none, -1, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST)) {
		bn->rc = rc;
		snprintf(bn->err, sizeof(bn->err), "%s", msg);
	}
}

/* The main socket looked readable while requests ran: a hang-up with
 * --reconnect pauses the run (see run()), anything else aborts it. */
static void watch_socket(struct bench *bn)
{
	char msg[120];
	int rc = vhu_bench_peer(bn->ctx->s.fd, "requests", msg, sizeof(msg));

	if (!rc)
		return;
	if (rc == VHU_E_IO && bn->ctx->reconnect) {
		bn->paused_from = phase(bn);
		bn->pause_signo = 0;
		set_phase(bn, VHU_BB_PAUSE);
		return;
	}
	sup_fail(bn, rc, msg);
	set_phase(bn, VHU_BB_ABORT);
}

/*
 * Every queue's thread ended in a pause: the back-end is gone.  Make the
 * connection again and replay the bring-up (the rings start afresh, split
 * from the used index, packed reset), then mark the queues to add again
 * what was in flight.  A signal that came during the pause ends the run
 * instead, with its status as one during the reconnect does (the
 * requests in flight cannot complete).
 */
static int reconnect(struct bench *bn)
{
	struct vhu_replay_hooks h;
	char cause[160];
	unsigned lost = 0;
	uint64_t n;
	int rc;

	for (unsigned i = 0; i < bn->nq; i++)
		lost += vhu_bb_in_flight(&bn->bq[i]);
	snprintf(cause, sizeof(cause), "the back-end closed the connection with %u request%s in flight", lost,
		 lost == 1 ? "" : "s");
	if (bn->pause_signo) {
		char msg[sizeof(cause) + 80];

		snprintf(msg, sizeof(msg), "interrupted by %s while reconnecting: %s",
			 vhu_intr_name(bn->pause_signo), cause);
		sup_fail(bn, 128 + bn->pause_signo, msg);
		return 128 + bn->pause_signo;
	}
	if (bn->progress)
		vhu_out_progress_end(bn->tty);
	vhu_drv_replay_hooks(bn->d, &h);
	if ((rc = vhu_ctx_reconnect(bn->ctx, cause, &h, NULL))) {
		sup_fail(bn, rc, bn->ctx->s.err);
		return rc;
	}
	/* The wake eventfd stays readable until read: the queues' sleeps
	 * must wait for their call eventfds again. */
	if (read(bn->ctl.wake_fd, &n, sizeof(n)) < 0) {
		/* nothing to read: nobody slept */
	}
	for (unsigned i = 0; i < bn->nq; i++)
		vhu_bb_resume(&bn->bq[i]);
	set_phase(bn, bn->paused_from);
	return VHU_OK;
}

static void progress(struct bench *bn, enum vhu_bb_job job, int64_t now, uint64_t *prev_done, int64_t *prev_t)
{
	uint64_t done = 0, total = 0;
	double secs = (double)(now - *prev_t) / 1e9, el = (double)(now - bn->t_start) / 1e9;

	for (unsigned i = 0; i < bn->nq; i++) {
		done += __atomic_load_n(&bn->bq[i].completed, __ATOMIC_RELAXED);
		total += bn->bq[i].job_end - bn->bq[i].job_first;
	}
	if (job == VHU_BB_JOB_MEASURE) {
		double iops = secs > 0 ? (double)(done - *prev_done) / secs : 0;

		vhu_hist_reset(bn->scratch);
		for (unsigned i = 0; i < bn->nq; i++)
			for (int k = 0; k < VHU_BB_DIRS; k++)
				vhu_hist_merge(bn->scratch, &bn->bq[i].c[k].lat);
		vhu_out_progress(bn->tty, "bench: %.0fs %s%s: %.0f IOPS, %.1f MiB/s, p99 %.1f us", el,
				 phase(bn) == VHU_BB_RAMP ? "ramp " : "", rw_names[bn->o.rw], iops,
				 iops * bn->o.bs / 1048576.0, vhu_hist_percentile(bn->scratch, 99) / 1000.0);
	} else {
		uint64_t sofar = 0;

		for (unsigned i = 0; i < bn->nq; i++)
			sofar += __atomic_load_n(&bn->bq[i].blocks_done, __ATOMIC_RELAXED);
		vhu_out_progress(bn->tty, "bench: %.0fs %s: %llu of %llu blocks", el,
				 job == VHU_BB_JOB_FILL ? "verify fill" : "verify check",
				 (unsigned long long)sofar, (unsigned long long)total);
	}
	*prev_done = done;
	*prev_t = now;
}

/* A signal during a run: the first one stops it (the requests in flight
 * complete; when the run is ending anyway it only counts for the exit
 * status), a second one gives up on them. */
static void on_signal(struct bench *bn, int64_t now)
{
	int sig = vhu_bench_take_signal();
	char msg[200];

	if (!sig)
		return;
	/* During a pause the run ends with it (see reconnect()). */
	if (phase(bn) == VHU_BB_PAUSE && !bn->pause_signo) {
		bn->pause_signo = sig;
		if (!bn->signo) {
			bn->signo = sig;
			bn->ended_by = vhu_intr_name(sig);
			end_window(bn, now);
		}
		return;
	}
	if (!bn->signo) {
		bn->signo = sig;
		if (phase(bn) < VHU_BB_STOP) {
			bn->ended_by = vhu_intr_name(sig);
			end_window(bn, now);
			set_phase(bn, VHU_BB_STOP);
		}
		if (bn->progress)
			vhu_out_progress(bn->tty,
					 "bench: %s: stopping once the requests in flight complete "
					 "(a second signal gives up on them)",
					 vhu_intr_name(sig));
		return;
	}
	snprintf(msg, sizeof(msg), "interrupted by %s again while the requests in flight completed",
		 vhu_intr_name(sig));
	sup_fail(bn, 128 + sig, msg);
	set_phase(bn, VHU_BB_ABORT);
}

/* One run: a thread per queue doing @job, supervised until all end. */
static int run(struct bench *bn, enum vhu_bb_job job)
{
	pthread_t th[VHU_DRV_MAX_QUEUES];
	unsigned started = 0, ended = 0;
	uint64_t prev_done = 0;
	int64_t now = vhu_bq_now_ns(), next_tick, prev_t, ramp_end = 0, end = 0;
	sigset_t old;
	int e = 0;

	bn->t_start = now;
	next_tick = now + (int64_t)BENCH_TICK_MS * 1000000;
	prev_t = now;
	for (unsigned i = 0; i < bn->nq; i++) {
		prev_done += bn->bq[i].completed;
		vhu_bb_set_job(&bn->bq[i], job);
	}
	if (job == VHU_BB_JOB_MEASURE) {
		ramp_end = now + (int64_t)bn->ramp_ms * 1000000;
		if (!bn->ramp_ms) {
			bn->measuring = true;
			bn->t_measure = now;
			getrusage(RUSAGE_SELF, &bn->ru0);
			end = now + (int64_t)bn->runtime_ms * 1000000;
		}
		__atomic_store_n(&bn->ctl.phase, bn->ramp_ms ? VHU_BB_RAMP : VHU_BB_MEASURE,
				 __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&bn->ctl.phase, VHU_BB_MEASURE, __ATOMIC_RELEASE);
	}
again:
	e = 0;
	/* The signals come to this thread, never to a queue's. */
	vhu_intr_block(&old);
	for (started = ended = 0; started < bn->nq; started++)
		if ((e = pthread_create(&th[started], NULL, vhu_bb_thread, &bn->bq[started])))
			break;
	vhu_intr_restore(&old);
	if (e) {
		char msg[120];

		snprintf(msg, sizeof(msg), "cannot start the thread of queue %u: %s", started, strerror(e));
		sup_fail(bn, VHU_E_IO, msg);
		set_phase(bn, phase(bn) == VHU_BB_PAUSE ? VHU_BB_ABORT : VHU_BB_STOP);
	}
	while (ended < started) {
		struct pollfd p[VHU_BENCH_NFDS];
		int64_t wake = next_tick;
		int ph = phase(bn), r;

		if (ph == VHU_BB_RAMP && ramp_end < wake)
			wake = ramp_end;
		if (ph == VHU_BB_MEASURE && end && end < wake)
			wake = end;
		/* Paused or aborted: the socket is not watched (a hang-up
		 * stays readable). */
		r = vhu_bench_sleep(p, bn->ctl.done_fd, bn->ctx->s.fd, ph < VHU_BB_ABORT, wake, &now);
		if (r < 0 && errno != EINTR) {
			sup_fail(bn, VHU_E_IO, "poll failed");
			set_phase(bn, VHU_BB_ABORT);
		}
		if (r > 0 && (p[VHU_BENCH_DONE].revents & POLLIN)) {
			uint64_t n;

			if (read(bn->ctl.done_fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
				ended += (unsigned)n;
			/* One queue ended (failed, or its share is done):
			 * a failure stops the others. */
			if (__atomic_load_n(&bn->ctl.failed, __ATOMIC_SEQ_CST) && phase(bn) < VHU_BB_STOP) {
				end_window(bn, now);
				if (!bn->ended_by)
					bn->ended_by = "error";
				set_phase(bn, VHU_BB_STOP);
			}
		}
		if (vhu_intr_signo())
			on_signal(bn, now);
		if (r > 0 && phase(bn) < VHU_BB_ABORT &&
		    (p[VHU_BENCH_SOCK].revents & (POLLIN | POLLHUP | POLLERR)))
			watch_socket(bn);
		/* The tick before the end: a late wake-up still shows a line. */
		if (now >= next_tick) {
			if (bn->progress && phase(bn) < VHU_BB_STOP)
				progress(bn, job, now, &prev_done, &prev_t);
			vhu_bench_next_tick(&next_tick, now, BENCH_TICK_MS);
		}
		ph = phase(bn);
		if (ph == VHU_BB_RAMP && now >= ramp_end) {
			bn->measuring = true;
			bn->t_measure = now;
			getrusage(RUSAGE_SELF, &bn->ru0);
			end = now + (int64_t)bn->runtime_ms * 1000000;
			set_phase(bn, VHU_BB_MEASURE);
		} else if (ph == VHU_BB_MEASURE && end && now >= end) {
			end_window(bn, now);
			bn->ended_by = "runtime";
			set_phase(bn, VHU_BB_STOP);
		}
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	/* --reconnect: every queue is paused; connect again and go on. */
	if (phase(bn) == VHU_BB_PAUSE && !__atomic_load_n(&bn->ctl.failed, __ATOMIC_SEQ_CST) &&
	    !reconnect(bn))
		goto again;
	if (job == VHU_BB_JOB_MEASURE)
		end_window(bn, vhu_bq_now_ns());
	if (bn->progress)
		vhu_out_progress_end(bn->tty);
	for (unsigned i = 0; job == VHU_BB_JOB_FILL && i < bn->nq; i++)
		bn->filled += bn->bq[i].blocks_done;
	/* The first failure, by the queue or by us. */
	{
		int f = __atomic_load_n(&bn->ctl.failed, __ATOMIC_SEQ_CST);

		if (f > 0) {
			snprintf(bn->ctx->s.err, sizeof(bn->ctx->s.err), "%s", bn->bq[f - 1].err);
			return bn->bq[f - 1].rc;
		}
		if (f < 0) {
			snprintf(bn->ctx->s.err, sizeof(bn->ctx->s.err), "%s", bn->err);
			return bn->rc;
		}
	}
	return VHU_OK;
}

/* ---- the report ---- */

struct dir_sum {
	uint64_t ios, bytes;
	struct vhu_hist *lat;
};

static void show_lat(const char *key, const struct vhu_hist *h)
{
	vhu_out_open(key, key);
	vhu_out_uint("min", "min", h->count ? h->min : 0, NULL);
	vhu_out_uint("max", "max", h->max, NULL);
	vhu_out_double("mean", "mean", vhu_hist_mean(h), 3, NULL);
	vhu_out_double("stddev", "stddev", vhu_hist_stddev(h), 3, NULL);
	vhu_out_uint("N", "N", h->count, NULL);
	vhu_out_open("percentile", "percentile");
	for (size_t i = 0; i < sizeof(pct_list) / sizeof(pct_list[0]); i++) {
		char k[24];

		snprintf(k, sizeof(k), "%f", pct_list[i]);
		vhu_out_uint(k, k, vhu_hist_percentile(h, pct_list[i]), NULL);
	}
	vhu_out_close();
	vhu_out_close();
}

static void show_dir(const char *name, const struct dir_sum *s, double secs, uint64_t runtime_ms)
{
	double iops = secs > 0 ? (double)s->ios / secs : 0, bw = secs > 0 ? (double)s->bytes / secs : 0;
	const struct vhu_hist *h = s->lat;

	if (vhu_out_is_json()) {
		vhu_out_open(name, name);
		vhu_out_uint("io_bytes", "io_bytes", s->bytes, NULL);
		vhu_out_uint("io_kbytes", "io_kbytes", s->bytes / 1024, NULL);
		vhu_out_uint("bw_bytes", "bw_bytes", (uint64_t)bw, NULL);
		vhu_out_uint("bw", "bw", (uint64_t)(bw / 1024), NULL);
		vhu_out_double("iops", "iops", iops, 3, NULL);
		vhu_out_uint("runtime", "runtime", runtime_ms, NULL);
		vhu_out_uint("total_ios", "total_ios", s->ios, NULL);
		/* Submission is one ring write: completion latency is the
		 * whole latency (fio's lat_ns = slat_ns + clat_ns). */
		show_lat("clat_ns", h);
		show_lat("lat_ns", h);
		vhu_out_close();
		return;
	}
	{
		char line[320];

		vhu_out_open(name, name);
		vhu_out_double("iops", "IOPS", iops, 1, NULL);
		vhu_out_double("bw", "Bandwidth", bw / 1048576.0, 2, "MiB/s");
		vhu_out_uint("total_ios", "Requests", s->ios, NULL);
		snprintf(line, sizeof(line),
			 "min %.2f, mean %.2f, p50 %.2f, p90 %.2f, p99 %.2f, p99.9 %.2f, max %.2f",
			 (h->count ? h->min : 0) / 1000.0, vhu_hist_mean(h) / 1000.0,
			 vhu_hist_percentile(h, 50) / 1000.0, vhu_hist_percentile(h, 90) / 1000.0,
			 vhu_hist_percentile(h, 99) / 1000.0, vhu_hist_percentile(h, 99.9) / 1000.0,
			 h->max / 1000.0);
		vhu_out_string("lat", "Latency (us)", line);
		vhu_out_close();
	}
}

static double tv_s(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static void show_results(struct bench *bn, const struct bench_args *a)
{
	struct dir_sum sum[VHU_BB_DIRS] = { { 0 } };
	uint64_t runtime_ns =
		bn->measuring && bn->t_stop > bn->t_measure ? (uint64_t)(bn->t_stop - bn->t_measure) : 0;
	double secs = (double)runtime_ns / 1e9, usr = 0, sys = 0;
	uint64_t kicks = 0, supp = 0, waits = 0, errors = 0, ctxsw = 0, verified = 0, resent = 0;
	bool json = vhu_out_is_json();
	char line[256];

	for (int k = 0; k < VHU_BB_DIRS; k++) {
		sum[k].lat = calloc(1, sizeof(*sum[k].lat));
		if (!sum[k].lat)
			goto out;
		vhu_hist_reset(sum[k].lat);
	}
	for (unsigned i = 0; i < bn->nq; i++) {
		const struct vhu_bb_queue *b = &bn->bq[i];

		for (int k = 0; k < VHU_BB_DIRS; k++) {
			sum[k].ios += b->c[k].ios;
			sum[k].bytes += b->c[k].bytes;
			vhu_hist_merge(sum[k].lat, &b->c[k].lat);
		}
		kicks += b->kicks;
		supp += b->kicks_suppressed;
		waits += b->call_waits;
		errors += b->errors;
		verified += b->verified;
		resent += b->resubmitted;
	}
	if (secs > 0) {
		usr = (tv_s(bn->ru1.ru_utime) - tv_s(bn->ru0.ru_utime)) / secs * 100;
		sys = (tv_s(bn->ru1.ru_stime) - tv_s(bn->ru0.ru_stime)) / secs * 100;
		ctxsw = (uint64_t)((bn->ru1.ru_nvcsw - bn->ru0.ru_nvcsw) +
				   (bn->ru1.ru_nivcsw - bn->ru0.ru_nivcsw));
	}
	if (json) {
		vhu_out_open_list("jobs", "Jobs");
		vhu_out_open(NULL, "job");
		vhu_out_string("jobname", "jobname", rw_names[a->rw]);
		vhu_out_open("job_options", "job_options");
		vhu_out_string("rw", "rw", rw_names[a->rw]);
		if (a->rw == VHU_BB_RANDRW)
			vhu_out_uint("rwmix_read", "rwmix_read", bn->o.rwmix_read, NULL);
		vhu_out_uint("bs", "bs", bn->o.bs, NULL);
		vhu_out_uint("iodepth", "iodepth", bn->o.qd, NULL);
		vhu_out_uint("queues", "queues", bn->nq, NULL);
		vhu_out_double("runtime", "runtime", bn->runtime_ms / 1000.0, 3, NULL);
		vhu_out_double("ramp_time", "ramp_time", bn->ramp_ms / 1000.0, 3, NULL);
		vhu_out_uint("offset", "offset", bn->o.offset, NULL);
		vhu_out_uint("size", "size", bn->o.size, NULL);
		vhu_out_bool("verify", "verify", bn->o.verify);
		vhu_out_uint("seed", "seed", bn->o.seed, NULL);
		vhu_out_string("notify", "notify", bn->o.notify == VHU_NOTIFY_POLL ? "poll" : "event");
		vhu_out_close();
		vhu_out_uint("job_runtime", "job_runtime", runtime_ns / 1000000, NULL);
		vhu_out_string("ended_by", "ended_by", bn->ended_by ? bn->ended_by : "error");
	} else {
		vhu_out_open("bench", "Bench");
		char mix[32] = "";

		if (a->rw == VHU_BB_RANDRW)
			snprintf(mix, sizeof(mix), " (%u%% reads)", bn->o.rwmix_read);
		snprintf(line, sizeof(line), "%s%s, %u-byte blocks, %u in flight on %u queue%s, %s",
			 rw_names[a->rw], mix, bn->o.bs, bn->o.qd, bn->nq, bn->nq == 1 ? "" : "s",
			 bn->o.notify == VHU_NOTIFY_POLL ? "polling" : "event notification");
		vhu_out_string("workload", "Workload", line);
		snprintf(line, sizeof(line), "bytes %llu..%llu (%llu bytes)",
			 (unsigned long long)bn->o.offset,
			 (unsigned long long)(bn->o.offset + bn->o.size - 1), (unsigned long long)bn->o.size);
		vhu_out_string("span", "Span", line);
		snprintf(line, sizeof(line), "%.3f s measured%s, ended by %s", secs,
			 bn->ramp_ms ? " after the ramp" : "", bn->ended_by ? bn->ended_by : "an error");
		vhu_out_string("runtime", "Runtime", line);
	}
	if (has_reads(a->rw) || sum[VHU_BB_DIR_READ].ios)
		show_dir("read", &sum[VHU_BB_DIR_READ], secs, runtime_ns / 1000000);
	if (has_writes(a->rw) || sum[VHU_BB_DIR_WRITE].ios)
		show_dir("write", &sum[VHU_BB_DIR_WRITE], secs, runtime_ns / 1000000);
	if (json) {
		vhu_out_double("usr_cpu", "usr_cpu", usr, 3, NULL);
		vhu_out_double("sys_cpu", "sys_cpu", sys, 3, NULL);
		vhu_out_uint("ctx", "ctx", ctxsw, NULL);
		vhu_out_uint("kicks", "kicks", kicks, NULL);
		vhu_out_uint("kicks_suppressed", "kicks_suppressed", supp, NULL);
		vhu_out_uint("call_waits", "call_waits", waits, NULL);
		vhu_out_uint("errors", "errors", errors, NULL);
		if (bn->ctx->reconnect)
			vhu_out_uint("resubmitted", "resubmitted", resent, NULL);
		if (bn->o.verify) {
			vhu_out_open("verify", "verify");
			vhu_out_uint("filled_blocks", "filled_blocks", bn->filled, NULL);
			vhu_out_uint("checked_blocks", "checked_blocks", verified, NULL);
			vhu_out_close();
		}
		vhu_out_close();
		vhu_out_close_list();
	} else {
		snprintf(line, sizeof(line), "usr %.1f%%, sys %.1f%%, %llu context switches", usr, sys,
			 (unsigned long long)ctxsw);
		vhu_out_string("cpu", "CPU", line);
		snprintf(line, sizeof(line), "%llu (%llu suppressed), %llu call waits",
			 (unsigned long long)kicks, (unsigned long long)supp, (unsigned long long)waits);
		vhu_out_string("kicks", "Kicks", line);
		vhu_out_uint("errors", "Errors", errors, NULL);
		if (bn->ctx->reconnect)
			vhu_out_uint("resubmitted", "Sent again after a reconnect", resent, NULL);
		if (bn->o.verify) {
			snprintf(line, sizeof(line), "%llu blocks filled, %llu read and checked",
				 (unsigned long long)bn->filled, (unsigned long long)verified);
			vhu_out_string("verify", "Verify", line);
		}
		vhu_out_close();
	}
out:
	for (int k = 0; k < VHU_BB_DIRS; k++)
		free(sum[k].lat);
}

/* ---- the command ---- */

/* -T net: the options blk alone takes are refused, the rest goes to
 * cmd_bench_net.c. */
static int bench_net(struct vhu_ctx *ctx, const struct bench_args *a)
{
	struct vhu_bench_net_args n = { .d = a->d,
					.rx = a->net_rw == 'r',
					.bs = a->bs,
					.have_bs = a->have_bs,
					.qd = a->have_qd ? a->qd : 0,
					.have_qd = a->have_qd,
					.runtime_ms = a->runtime_ms,
					.ramp_ms = a->ramp_ms,
					.progress = a->progress };

	if (a->have_rw && !a->net_rw)
		return vhu_usage(ctx, "--rw %s is for -T blk; -T net takes tx or rx", rw_names[a->rw]);
	if (a->blk_only)
		return vhu_usage(ctx, "%s is for -T blk, not -T net", a->blk_only);
	/* Silently not reconnecting would look like a back-end failure. */
	if (ctx->reconnect)
		return vhu_usage(ctx, "--reconnect is for bench -T blk, not -T net");
	return vhu_bench_net(ctx, &n);
}

int cmd_bench(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct bench_args a = { .rw = VHU_BB_READ,
				.rwmix = 50,
				.bs = 4096,
				.qd = 1,
				.queues = 1,
				.runtime_ms = DEFAULT_RUNTIME };
	struct bench bn = { .ctx = ctx, .ctl = { .wake_fd = -1, .done_fd = -1 } };
	struct sigaction old_int, old_term;
	struct vhu_blk_info bi;
	struct vhu_drv *d = NULL;
	uint32_t rings[VHU_DRV_MAX_QUEUES];
	uint8_t *pattern = NULL;
	bool caught = false, brought_up = false;
	int rc, src;

	vhu_drv_args_init(&a.d);
	rc = vhu_cmd_parse(ctx, &bench_argp, argc, argv, &a);
	if (rc)
		return rc;
	if (vhu_ctx_dev(ctx) == VHU_DEV_NET)
		return bench_net(ctx, &a);
	if ((rc = check_args(ctx, &a)))
		goto out;
	bn.o = (struct vhu_bb_opts){ .rw = a.rw,
				     .rwmix_read = a.rwmix,
				     .bs = (uint32_t)a.bs,
				     .qd = (unsigned)a.qd,
				     .seed = a.seed,
				     .verify = a.verify,
				     .notify = a.d.o.notify,
				     .timeout_ms = ctx->timeout_ms };
	bn.nq = (unsigned)a.queues;
	bn.runtime_ms = a.runtime_ms;
	bn.ramp_ms = a.ramp_ms;
	bn.tty = isatty(STDERR_FILENO);
	bn.progress = a.progress || bn.tty;
	/* SIGINT and SIGTERM are this command's documented early end: caught
	 * even when the shell started us with them ignored. */
	vhu_intr_catch(SIGINT, &old_int);
	vhu_intr_catch(SIGTERM, &old_term);
	caught = true;
	if ((rc = vhu_cmd_start(ctx)))
		goto out;
	d = calloc(1, sizeof(*d));
	bn.bq = calloc(bn.nq, sizeof(*bn.bq));
	bn.scratch = malloc(sizeof(*bn.scratch));
	bn.ctl.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	bn.ctl.done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!d || !bn.bq || !bn.scratch) {
		rc = vhu_fail(&ctx->s, VHU_E_IO, "out of memory");
		goto out;
	}
	if (bn.ctl.wake_fd < 0 || bn.ctl.done_fd < 0) {
		rc = vhu_fail(&ctx->s, VHU_E_IO, "eventfd: %s", strerror(errno));
		goto out;
	}
	a.d.o.device_features = VHU_BLK_FEATURES;
	a.d.o.config_size = VHU_BLK_CONFIG_SIZE;
	/* As blk: what is in flight survives a back-end restart when the
	 * back-end can track it. */
	a.d.o.inflight = ctx->reconnect;
	vhu_drv_init(d, &ctx->s, &ctx->res, &a.d.o);
	if ((rc = vhu_drv_probe(d)))
		goto out;
	vhu_blk_info(d->config, d->config_len, ctx->s.features, &bi);
	if ((rc = fit_device(ctx, d, &bi, &a, &bn.o)))
		goto out;
	if (bn.nq > cpu_count())
		vhu_out_warn("--queues %u is above the %u CPU%s this process may use: the queues' threads "
			     "share them",
			     bn.nq, cpu_count(), cpu_count() == 1 ? "" : "s");
	if (a.verify && !(pattern = vhu_bb_pattern(a.seed, bn.o.bs))) {
		rc = vhu_fail(&ctx->s, VHU_E_IO, "out of memory");
		goto out;
	}
	bn.o.pattern = pattern;
	for (unsigned i = 0; i < bn.nq; i++)
		rings[i] = i;
	if ((rc = vhu_drv_start(d, rings, bn.nq)))
		goto out;
	brought_up = true;
	for (unsigned i = 0; i < bn.nq; i++)
		if ((rc = vhu_bb_queue_init(&bn.bq[i], d, &d->q[i], i, bn.nq, &bn.o, &bn.ctl)))
			goto stop;
	bn.d = d;
	if (a.verify && (rc = run(&bn, VHU_BB_JOB_FILL)))
		goto stop;
	if (a.verify && bn.signo)
		goto stop; /* a signal during the fill: nothing measured */
	if ((rc = run(&bn, VHU_BB_JOB_MEASURE)))
		goto stop;
	if (a.verify && has_writes(a.rw) && !bn.signo)
		rc = run(&bn, VHU_BB_JOB_CHECK);
stop:
	/* The orderly stop, unless the back-end is gone (or did not come
	 * back), hangs, or a second signal said to give up. */
	if (rc != VHU_E_TIMEOUT && rc != VHU_E_IO && rc != VHU_E_CONNECT && !vhu_intr_is_status(rc)) {
		src = vhu_drv_stop(d);
		if (!rc)
			rc = src;
	}
	/* SIGHUP and SIGQUIT keep their status (the report is complete). */
	if (!rc && bn.signo && bn.signo != SIGINT && bn.signo != SIGTERM)
		rc = vhu_fail(&ctx->s, 128 + bn.signo, "interrupted by %s", vhu_intr_name(bn.signo));
out:
	vhu_ctx_err_prefix(ctx, rc, "bench: ", "bench");
	if (bn.d)
		show_results(&bn, &a);
	if (brought_up && vhu_out_is_json())
		vhu_show_driver(d, true);
	if (caught) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	for (unsigned i = 0; bn.bq && i < bn.nq; i++)
		vhu_bb_queue_fini(&bn.bq[i]);
	if (bn.ctl.wake_fd >= 0)
		close(bn.ctl.wake_fd);
	if (bn.ctl.done_fd >= 0)
		close(bn.ctl.done_fd);
	free(pattern);
	free(bn.scratch);
	free(bn.bq);
	if (d)
		vhu_drv_fini(d);
	free(d);
	return rc;
}
