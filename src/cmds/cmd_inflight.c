/* SPDX-License-Identifier: Apache-2.0 */
/*
 * get-inflight-fd, set-inflight-fd, set-log-base, set-log-fd: inflight
 * I/O tracking and the dirty-page log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds/cmd_vring.h"
#include "render/mem.h"
#include "render/out.h"
#include "util/parse.h"

static const struct argp_option inflight_opts[] = {
	{ "queues", OPT_RINGS, "N", 0,
	  "queues the buffer covers (default: GET_QUEUE_NUM when offered, else 1)", 0 },
	{ "queue-size", OPT_RSIZE, "N", 0, "descriptors per queue (default 128)", 0 },
	{ 0 }
};

static const struct argp get_inflight_argp = {
	inflight_opts,
	vhu_vr_parser,
	"",
	"Ask the back-end for its inflight I/O tracking buffer (GET_INFLIGHT_FD, needs "
	"VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD), check the returned fd with fstat, read it (never mapped) and "
	"decode the split-ring region of every queue.  The buffer is kept for set-inflight-fd.",
	NULL,
	NULL,
	NULL
};

int cmd_get_inflight_fd(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	struct vhu_res *r = &ctx->res;
	uint64_t nq, qs;
	int64_t deadline;
	int rc = vhu_cmd_parse(ctx, &get_inflight_argp, argc, argv, &a);

	if (rc)
		return rc;
	if ((a.have_rings && (a.rings == 0 || a.rings > UINT16_MAX)) ||
	    (a.have_size && (a.ring_size == 0 || a.ring_size > 32768)))
		return vhu_usage(ctx, "--queues must be 1..65535 and --queue-size 1..32768");
	rc = vhu_cmd_start(ctx);
	if (rc)
		return rc;
	nq = a.have_rings ? a.rings : r->queue_num ? r->queue_num : 1;
	qs = a.have_size ? a.ring_size : 128;
	rc = vhu_get_inflight_fd(&ctx->s, r, (uint16_t)nq, (uint16_t)qs);
	if (rc)
		return rc;
	vhu_out_open("inflight", "Inflight buffer");
	vhu_render_inflight(&r->inflight);
	if (r->inflight.num_queues != nq || r->inflight.queue_size != qs)
		vhu_out_warn("GET_INFLIGHT_FD: reply describes %u queues of %u, asked for %llu of %llu",
			     r->inflight.num_queues, r->inflight.queue_size, (unsigned long long)nq,
			     (unsigned long long)qs);
	if (r->inflight.mmap_size < nq * vhu_inflight_stride((uint16_t)qs))
		vhu_out_warn("GET_INFLIGHT_FD: %llu bytes are fewer than the %llu a split layout needs",
			     (unsigned long long)r->inflight.mmap_size,
			     (unsigned long long)(nq * vhu_inflight_stride((uint16_t)qs)));
	/* Read, not map: the back-end owns the file and may shrink it after
	 * our fstat, which would SIGBUS a mapping.  Only what is decoded is
	 * read, within --timeout like any wait. */
	deadline = vhu_now_ms() + ctx->s.timeout_ms;
	vhu_out_open_list("queues", "queues");
	for (unsigned q = 0; r->inflight_fd >= 0 && q < r->inflight.num_queues; q++) {
		struct vhu_inflight_queue iq;

		rc = vhu_inflight_read(&ctx->s, r->inflight_fd, &r->inflight, q, deadline, &iq);
		if (rc || !iq.present)
			break;
		vhu_render_inflight_queue(q, &iq);
	}
	vhu_out_close_list();
	vhu_out_close();
	return rc;
}

static const struct argp set_inflight_argp = {
	NULL,
	vhu_vr_parser,
	"",
	"Hand the inflight buffer obtained by get-inflight-fd earlier in this session back to the back-end "
	"on the same connection (SET_INFLIGHT_FD).  A hypervisor does this after a back-end reconnects; "
	"vhuctl's buffer lives only as long as its connection, so this tests how the back-end takes the "
	"message, not a reconnection.",
	NULL,
	NULL,
	NULL
};

int cmd_set_inflight_fd(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	int rc = vhu_cmd_parse(ctx, &set_inflight_argp, argc, argv, &a);

	if (rc)
		return rc;
	if (ctx->res.inflight_fd < 0)
		return vhu_usage(
			ctx,
			"SET_INFLIGHT_FD: no inflight buffer in this session (run get-inflight-fd first)");
	rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_set_inflight_fd(&ctx->s, &ctx->res);
	if (rc)
		return rc;
	vhu_out_uint("mmap_size", "Inflight buffer", ctx->res.inflight.mmap_size, "bytes");
	return VHU_OK;
}

static const struct argp log_base_argp = {
	NULL,
	vhu_vr_parser,
	"SIZE|ADDRESS",
	"Set the dirty-page log (SET_LOG_BASE).  With VHOST_USER_PROTOCOL_F_LOG_SHMFD negotiated, vhuctl "
	"creates a shared log of SIZE bytes (units allowed) and passes its fd.  Without it the request is "
	"refused (exit 3); with --force the operand is sent as the legacy u64 log base ADDRESS, no fd.",
	NULL,
	NULL,
	NULL
};

int cmd_set_log_base(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	uint64_t v;
	bool shmfd;
	int rc = vhu_cmd_parse(ctx, &log_base_argp, argc, argv, &a);

	if (rc)
		return rc;
	if (a.nop != 1 || vhu_parse_size(a.op[0], &v))
		return vhu_usage(ctx, "set-log-base needs one SIZE or ADDRESS operand");
	rc = vhu_cmd_start(ctx);
	if (rc)
		return rc;
	shmfd = vhu_pf_acked(&ctx->s, VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	rc = vhu_set_log_base(&ctx->s, &ctx->res, v, shmfd);
	if (rc)
		return rc;
	vhu_out_bool("fd", "Log fd passed", shmfd);
	vhu_out_uint(shmfd ? "size" : "address", shmfd ? "Log size" : "Log address", v,
		     shmfd ? "bytes" : NULL);
	return VHU_OK;
}

int cmd_set_log_fd(struct vhu_ctx *ctx, int argc, char **argv)
{
	int rc = vhu_cmd_parse(ctx, &vhu_noargs_argp, argc, argv, NULL);

	if (!rc)
		rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_set_log_fd(&ctx->s, &ctx->res);
	if (rc)
		return rc;
	vhu_out_bool("fd", "Log eventfd passed", true);
	return VHU_OK;
}
