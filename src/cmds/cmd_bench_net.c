/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench -T net: packets and bits per second through one queue pair of a
 * virtio-net back-end, measured from the front-end side.
 *
 * One session, as net send | recv: the checks of the options (nothing
 * sent before), the probe, the bring-up of both rings of pair 0 (DPDK
 * starts a port only once all its rings are ready), the run, the orderly
 * stop and the report.  --rw tx keeps --qd frames in flight on the
 * transmitq; --rw rx keeps --qd receive buffers posted on the receiveq.
 * The run is one thread (src/dev/netbench.c) while this thread
 * supervises, as for blk: it moves the phase on (ramp, measure, stop,
 * abort), prints the progress line, and watches the signals and the
 * socket.
 *
 * SIGINT and SIGTERM end the run early with the figures so far and exit
 * status 0; SIGHUP and SIGQUIT the same with theirs (129, 131).  A second
 * signal while the ring drains gives up on it and on the orderly stop.
 */
#define _GNU_SOURCE
#include "cmds/cmd_bench_net.h"

#include "cmds/bench_common.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dev/netbench.h"
#include "render/out.h"
#include "util/intr.h"

#define NB_TICK_MS    1000
#define NB_DEFAULT_BS 64u
#define NB_DEFAULT_QD 256u
#define NB_MIN_QSIZE  128u

struct nbench {
	struct vhu_ctx *ctx;
	struct vhu_nb_opts o;
	struct vhu_nb nb;
	int runtime_ms, ramp_ms;
	bool progress, tty;
	struct rusage ru0, ru1;
	const char *ended_by; /* "runtime", a signal name, "error" */
	int signo;	      /* the signal that ended the run */
	int rc;		      /* the supervisor's own failure */
	char err[320];
};

static const char *dir_name(const struct nbench *bn)
{
	return bn->o.dir == VHU_NB_TX ? "tx" : "rx";
}

/* Everything that can be checked before connecting; fills bn->o. */
static int check_args(struct vhu_ctx *ctx, struct vhu_bench_net_args *a, struct nbench *bn)
{
	if (a->rx && a->have_bs)
		return vhu_usage(
			ctx, "--bs is the frame size of --rw tx; rx counts the frames the back-end sends");
	if (!a->have_bs)
		a->bs = NB_DEFAULT_BS;
	if (!a->rx && (a->bs < VHU_NET_UDP_FRAME_MIN || a->bs > VHU_NET_FRAME_MAX))
		return vhu_usage(
			ctx,
			"--bs %llu: a frame has %u..%u bytes (Ethernet, IPv4 and UDP headers at least; "
			"the virtio-net header not counted)",
			(unsigned long long)a->bs, VHU_NET_UDP_FRAME_MIN, VHU_NET_FRAME_MAX);
	if (!a->have_qd)
		a->qd = NB_DEFAULT_QD;
	if (!a->qd || a->qd > VHU_VQ_MAX_SIZE)
		return vhu_usage(ctx, "--qd %llu: buffers in flight are 1..%u", (unsigned long long)a->qd,
				 VHU_VQ_MAX_SIZE);
	if (!a->runtime_ms)
		return vhu_usage(ctx, "--runtime must be above 0 s");
	if (a->d.o.queue_size && a->qd > a->d.o.queue_size)
		return vhu_usage(ctx, "--qd %llu buffers in flight do not fit a ring of --queue-size %u",
				 (unsigned long long)a->qd, a->d.o.queue_size);
	bn->o = (struct vhu_nb_opts){ .dir = a->rx ? VHU_NB_RX : VHU_NB_TX,
				      .frame_len = a->rx ? 0 : (uint32_t)a->bs,
				      .rx_buf = VHU_NET_RX_BUF,
				      .qd = (unsigned)a->qd,
				      .split_hdr = a->d.o.indirect == VHU_DRV_ON,
				      .notify = a->d.o.notify,
				      .timeout_ms = ctx->timeout_ms };
	return vhu_drv_args_check(ctx, &a->d);
}

/* Ring size and guest memory, unless --queue-size and --memory say. */
static int fit(struct vhu_ctx *ctx, struct vhu_drv *d, const struct vhu_bench_net_args *a,
	       const struct vhu_nb_opts *o)
{
	uint64_t qs = a->d.o.queue_size, mem;

	if (!qs) {
		for (qs = NB_MIN_QSIZE; qs < o->qd; qs *= 2)
			;
		d->o.queue_size = (uint32_t)qs;
	}
	/* An indirect table holds a buffer's two descriptors (the driver
	 * makes the tables whenever the feature is acked). */
	d->o.indirect_max = 2;
	if (!a->d.o.mem_size) {
		/* Two rings with their alignment and indirect tables, the
		 * buffers. */
		mem = 2 * (16 * qs + 8 * qs + 2 * qs + 3 * 4096 + 32 * qs + 4096) +
		      (uint64_t)o->qd * (o->dir == VHU_NB_TX ? VHU_NET_TX_BUF : o->rx_buf) + 4096;
		if (mem > VHU_MEM_MAX_REGION)
			return vhu_usage(ctx, "--qd %u needs %llu bytes of guest memory", o->qd,
					 (unsigned long long)mem);
		d->o.mem_size = mem;
	}
	return VHU_OK;
}

/* ---- the run ---- */

static void sup_fail(struct nbench *bn, int rc, const char *msg)
{
	if (!bn->rc) {
		bn->rc = rc;
		snprintf(bn->err, sizeof(bn->err), "%s", msg);
	}
}

/* The main socket looked readable while frames moved: a hang-up or an
 * unrequested message aborts the run. */
static void watch_socket(struct nbench *bn)
{
	char msg[120];
	int rc = vhu_bench_peer(bn->ctx->s.fd, "frames", msg, sizeof(msg));

	if (!rc)
		return;
	sup_fail(bn, rc, msg);
	if (!bn->ended_by)
		bn->ended_by = "error";
	vhu_nb_set_phase(&bn->nb, VHU_NB_ABORT);
}

static void progress(struct nbench *bn, int64_t now, int64_t t0, uint64_t *prev, uint64_t *prev_bytes,
		     int64_t *prev_t)
{
	uint64_t m = __atomic_load_n(&bn->nb.moved, __ATOMIC_RELAXED),
		 b = __atomic_load_n(&bn->nb.moved_bytes, __ATOMIC_RELAXED);
	double secs = (double)(now - *prev_t) / 1e9;
	double pps = secs > 0 ? (double)(m - *prev) / secs : 0,
	       bps = secs > 0 ? (double)(b - *prev_bytes) * 8 / secs : 0;

	vhu_out_progress(bn->tty, "bench: %.0fs %s%s: %.0f pps, %.1f Mbit/s", (double)(now - t0) / 1e9,
			 vhu_nb_phase(&bn->nb) == VHU_NB_RAMP ? "ramp " : "", dir_name(bn), pps, bps / 1e6);
	*prev = m;
	*prev_bytes = b;
	*prev_t = now;
}

/* A signal during the run: the first one stops it, a second one gives up
 * on the drain. */
static void on_signal(struct nbench *bn)
{
	int sig = vhu_bench_take_signal();
	char msg[200];

	if (!sig)
		return;
	if (!bn->signo) {
		bn->signo = sig;
		if (vhu_nb_phase(&bn->nb) < VHU_NB_STOP) {
			bn->ended_by = vhu_intr_name(sig);
			vhu_nb_set_phase(&bn->nb, VHU_NB_STOP);
		}
		if (bn->progress)
			vhu_out_progress(
				bn->tty,
				"bench: %s: stopping once the ring drains (a second signal gives up)",
				vhu_intr_name(sig));
		return;
	}
	snprintf(msg, sizeof(msg), "interrupted by %s again while the ring drained", vhu_intr_name(sig));
	sup_fail(bn, 128 + sig, msg);
	vhu_nb_set_phase(&bn->nb, VHU_NB_ABORT);
}

static int run(struct nbench *bn)
{
	pthread_t th;
	int64_t now = vhu_bq_now_ns(), t0 = now, next_tick = now + (int64_t)NB_TICK_MS * 1000000,
		prev_t = now, ramp_end = now + (int64_t)bn->ramp_ms * 1000000, end = 0;
	uint64_t prev = 0, prev_bytes = 0;
	bool ended = false, end_fixed = false;
	sigset_t old;
	int e;

	if (!bn->ramp_ms) {
		getrusage(RUSAGE_SELF, &bn->ru0);
		end = now + (int64_t)bn->runtime_ms * 1000000;
	}
	__atomic_store_n(&bn->nb.phase, bn->ramp_ms ? VHU_NB_RAMP : VHU_NB_MEASURE, __ATOMIC_RELEASE);
	/* The signals come to this thread, never to the ring's. */
	vhu_intr_block(&old);
	e = pthread_create(&th, NULL, vhu_nb_thread, &bn->nb);
	vhu_intr_restore(&old);
	if (e)
		return vhu_fail(&bn->ctx->s, VHU_E_IO, "cannot start the thread of the ring: %s",
				strerror(e));
	while (!ended) {
		struct pollfd p[VHU_BENCH_NFDS];
		int ph = vhu_nb_phase(&bn->nb), r;
		int64_t wake = next_tick;

		if (ph == VHU_NB_RAMP && ramp_end < wake)
			wake = ramp_end;
		if (ph == VHU_NB_MEASURE && end && end < wake)
			wake = end;
		r = vhu_bench_sleep(p, bn->nb.done_fd, bn->ctx->s.fd, ph != VHU_NB_ABORT, wake, &now);
		if (r < 0 && errno != EINTR) {
			sup_fail(bn, VHU_E_IO, "poll failed");
			vhu_nb_set_phase(&bn->nb, VHU_NB_ABORT);
		}
		if (r > 0 && (p[VHU_BENCH_DONE].revents & POLLIN)) {
			ended = true;
			if (bn->nb.rc && !bn->ended_by)
				bn->ended_by = "error";
		}
		if (vhu_intr_signo())
			on_signal(bn);
		if (!ended && r > 0 && vhu_nb_phase(&bn->nb) != VHU_NB_ABORT &&
		    (p[VHU_BENCH_SOCK].revents & (POLLIN | POLLHUP | POLLERR)))
			watch_socket(bn);
		if (now >= next_tick) {
			if (bn->progress && vhu_nb_phase(&bn->nb) < VHU_NB_STOP)
				progress(bn, now, t0, &prev, &prev_bytes, &prev_t);
			vhu_bench_next_tick(&next_tick, now, NB_TICK_MS);
		}
		ph = vhu_nb_phase(&bn->nb);
		/* The ring's thread opens the window a little after the phase
		 * changed: the window lasts --runtime from its real start. */
		if (ph == VHU_NB_MEASURE && end && !end_fixed) {
			int64_t tb = __atomic_load_n(&bn->nb.t_begin, __ATOMIC_ACQUIRE);

			if (tb) {
				end = tb + (int64_t)bn->runtime_ms * 1000000;
				end_fixed = true;
			}
		}
		if (ph == VHU_NB_RAMP && now >= ramp_end) {
			getrusage(RUSAGE_SELF, &bn->ru0);
			end = now + (int64_t)bn->runtime_ms * 1000000;
			vhu_nb_set_phase(&bn->nb, VHU_NB_MEASURE);
		} else if (ph == VHU_NB_MEASURE && end && now >= end) {
			bn->ended_by = "runtime";
			vhu_nb_set_phase(&bn->nb, VHU_NB_STOP);
		}
	}
	pthread_join(th, NULL);
	getrusage(RUSAGE_SELF, &bn->ru1);
	if (bn->progress)
		vhu_out_progress_end(bn->tty);
	/* The first failure, by the ring or by us. */
	if (bn->nb.rc)
		return vhu_fail(&bn->ctx->s, bn->nb.rc, "%s", bn->nb.err);
	if (bn->rc)
		return vhu_fail(&bn->ctx->s, bn->rc, "%s", bn->err);
	return VHU_OK;
}

/* ---- the report ---- */

static double tv_s(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static void show_results(const struct nbench *bn)
{
	const struct vhu_nb *nb = &bn->nb;
	uint64_t ns = nb->t_begin && nb->t_end > nb->t_begin ? (uint64_t)(nb->t_end - nb->t_begin) : 0;
	double secs = (double)ns / 1e9, usr = 0, sys = 0;
	double pps = secs > 0 ? (double)nb->packets / secs : 0,
	       bps = secs > 0 ? (double)nb->bytes * 8 / secs : 0;
	uint64_t ctxsw = 0;
	bool json = vhu_out_is_json(), tx = bn->o.dir == VHU_NB_TX;
	char line[256];

	if (secs > 0) {
		usr = (tv_s(bn->ru1.ru_utime) - tv_s(bn->ru0.ru_utime)) / secs * 100;
		sys = (tv_s(bn->ru1.ru_stime) - tv_s(bn->ru0.ru_stime)) / secs * 100;
		ctxsw = (uint64_t)((bn->ru1.ru_nvcsw - bn->ru0.ru_nvcsw) +
				   (bn->ru1.ru_nivcsw - bn->ru0.ru_nivcsw));
	}
	if (json) {
		vhu_out_open_list("jobs", "Jobs");
		vhu_out_open(NULL, "job");
		vhu_out_string("jobname", "jobname", dir_name(bn));
		vhu_out_open("job_options", "job_options");
		vhu_out_string("rw", "rw", dir_name(bn));
		if (tx)
			vhu_out_uint("bs", "bs", bn->o.frame_len, NULL);
		else
			vhu_out_uint("rx_buffer", "rx_buffer", bn->o.rx_buf, NULL);
		vhu_out_uint("iodepth", "iodepth", bn->o.qd, NULL);
		vhu_out_uint("queues", "queues", 1, NULL);
		vhu_out_double("runtime", "runtime", bn->runtime_ms / 1000.0, 3, NULL);
		vhu_out_double("ramp_time", "ramp_time", bn->ramp_ms / 1000.0, 3, NULL);
		vhu_out_string("notify", "notify", bn->o.notify == VHU_NOTIFY_POLL ? "poll" : "event");
		vhu_out_close();
		vhu_out_uint("job_runtime", "job_runtime", ns / 1000000, NULL);
		vhu_out_string("ended_by", "ended_by", bn->ended_by ? bn->ended_by : "error");
		vhu_out_open(dir_name(bn), dir_name(bn));
		vhu_out_uint("packets", "packets", nb->packets, NULL);
		vhu_out_uint("bytes", "bytes", nb->bytes, NULL);
		vhu_out_double("pps", "pps", pps, 3, NULL);
		vhu_out_double("bps", "bps", bps, 3, NULL);
		vhu_out_uint("runtime", "runtime", ns / 1000000, NULL);
		vhu_out_close();
		vhu_out_double("usr_cpu", "usr_cpu", usr, 3, NULL);
		vhu_out_double("sys_cpu", "sys_cpu", sys, 3, NULL);
		vhu_out_uint("ctx", "ctx", ctxsw, NULL);
		vhu_out_uint("kicks", "kicks", nb->kicks, NULL);
		vhu_out_uint("kicks_suppressed", "kicks_suppressed", nb->kicks_suppressed, NULL);
		vhu_out_uint("call_waits", "call_waits", nb->call_waits, NULL);
		vhu_out_uint("errors", "errors", nb->errors, NULL);
		vhu_out_close();
		vhu_out_close_list();
		return;
	}
	vhu_out_open("bench", "Bench");
	if (tx)
		snprintf(line, sizeof(line), "tx, %u-byte frames, %u in flight, %s", bn->o.frame_len,
			 bn->o.qd, bn->o.notify == VHU_NOTIFY_POLL ? "polling" : "event notification");
	else
		snprintf(line, sizeof(line), "rx, %u receive buffers of %u bytes, %s", bn->o.qd, bn->o.rx_buf,
			 bn->o.notify == VHU_NOTIFY_POLL ? "polling" : "event notification");
	vhu_out_string("workload", "Workload", line);
	snprintf(line, sizeof(line), "%.3f s measured%s, ended by %s", secs,
		 bn->ramp_ms ? " after the ramp" : "", bn->ended_by ? bn->ended_by : "an error");
	vhu_out_string("runtime", "Runtime", line);
	vhu_out_open(dir_name(bn), dir_name(bn));
	vhu_out_double("pps", "Packets/s", pps, 1, NULL);
	vhu_out_double("bps", "Bit rate", bps / 1e6, 2, "Mbit/s");
	vhu_out_uint("packets", "Packets", nb->packets, NULL);
	vhu_out_uint("bytes", "Bytes", nb->bytes, NULL);
	vhu_out_close();
	snprintf(line, sizeof(line), "usr %.1f%%, sys %.1f%%, %llu context switches", usr, sys,
		 (unsigned long long)ctxsw);
	vhu_out_string("cpu", "CPU", line);
	snprintf(line, sizeof(line), "%llu (%llu suppressed), %llu call waits", (unsigned long long)nb->kicks,
		 (unsigned long long)nb->kicks_suppressed, (unsigned long long)nb->call_waits);
	vhu_out_string("kicks", "Kicks", line);
	vhu_out_uint("errors", "Errors", nb->errors, NULL);
	vhu_out_close();
}

/* ---- the command ---- */

int vhu_bench_net(struct vhu_ctx *ctx, struct vhu_bench_net_args *a)
{
	struct nbench bn = { .ctx = ctx, .nb = { .wake_fd = -1, .done_fd = -1 } };
	struct sigaction old_int, old_term;
	struct vhu_drv *d = NULL;
	uint32_t rings[2] = { 0, 1 };
	bool caught = false, brought_up = false, ran = false;
	int rc, src, wake_fd = -1, done_fd = -1;

	if ((rc = check_args(ctx, a, &bn)))
		goto out;
	bn.runtime_ms = a->runtime_ms;
	bn.ramp_ms = a->ramp_ms;
	bn.tty = isatty(STDERR_FILENO);
	bn.progress = a->progress || bn.tty;
	/* SIGINT and SIGTERM are this command's documented early end: caught
	 * even when the shell started us with them ignored. */
	vhu_intr_catch(SIGINT, &old_int);
	vhu_intr_catch(SIGTERM, &old_term);
	caught = true;
	if ((rc = vhu_cmd_start(ctx)))
		goto out;
	d = calloc(1, sizeof(*d));
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!d) {
		rc = vhu_fail(&ctx->s, VHU_E_IO, "out of memory");
		goto out;
	}
	if (wake_fd < 0 || done_fd < 0) {
		rc = vhu_fail(&ctx->s, VHU_E_IO, "eventfd: %s", strerror(errno));
		goto out;
	}
	/* As DPDK's virtio-user: mergeable receive buffers when offered (the
	 * header is 12 bytes either way with VERSION_1). */
	a->d.o.device_features = VHU_BIT(VHU_NET_F_MRG_RXBUF);
	vhu_drv_init(d, &ctx->s, &ctx->res, &a->d.o);
	if ((rc = vhu_drv_probe(d)))
		goto out;
	if (bn.o.dir == VHU_NB_RX &&
	    (rc = vhu_net_check_rx_buf(
		     &ctx->s, ctx->s.features & (VHU_BIT(VIRTIO_F_VERSION_1) | a->d.o.device_features),
		     bn.o.rx_buf)))
		goto out;
	if ((rc = fit(ctx, d, a, &bn.o)))
		goto out;
	if ((rc = vhu_drv_start(d, rings, 2)))
		goto out;
	brought_up = true;
	if ((rc = vhu_nb_init(&bn.nb, d, vhu_drv_queue(d, bn.o.dir == VHU_NB_TX ? 1 : 0), &bn.o, wake_fd,
			      done_fd)))
		goto stop;
	ran = true;
	rc = run(&bn);
stop:
	/* The orderly stop, unless the back-end is gone, hangs, or a second
	 * signal said to give up; then what the receive ring still holds. */
	if (rc != VHU_E_TIMEOUT && rc != VHU_E_IO && !vhu_intr_is_status(rc)) {
		src = vhu_drv_stop(d);
		if (!rc)
			rc = src;
		if (!rc && ran && vhu_nb_finish(&bn.nb))
			rc = vhu_fail(&ctx->s, bn.nb.rc, "%s", bn.nb.err);
	}
	/* SIGHUP and SIGQUIT keep their status (the report is complete). */
	if (!rc && bn.signo && bn.signo != SIGINT && bn.signo != SIGTERM)
		rc = vhu_fail(&ctx->s, 128 + bn.signo, "interrupted by %s", vhu_intr_name(bn.signo));
out:
	vhu_ctx_err_prefix(ctx, rc, "bench: ", "bench");
	if (ran)
		show_results(&bn);
	if (brought_up && vhu_out_is_json())
		vhu_show_driver(d, true);
	if (caught) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	vhu_nb_fini(&bn.nb);
	if (wake_fd >= 0)
		close(wake_fd);
	if (done_fd >= 0)
		close(done_fd);
	if (d)
		vhu_drv_fini(d);
	free(d);
	return rc;
}
