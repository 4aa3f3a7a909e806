/* SPDX-License-Identifier: Apache-2.0 */
/*
 * setup: the bring-up a hypervisor does, in one command, by the driver
 * (src/driver).  Its memory and eventfds stay in the session, so later
 * steps of a batch can use the rings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmds/cmd_drv.h"
#include "render/out.h"
#include "util/parse.h"

enum { OPT_RINGS = 0x700, OPT_SIZE };

struct setup_args {
	struct vhu_drv_args d;
	uint64_t rings;
	bool have_rings;
};

static const struct argp_option setup_opts[] = {
	{ "rings", OPT_RINGS, "N", 0,
	  "rings to bring up (default: 2 with --type net, else GET_QUEUE_NUM when offered, else 1)", 0 },
	{ "size", OPT_SIZE, "NUM", OPTION_HIDDEN, "same as --queue-size", 0 },
	VHU_DRV_RING_OPTIONS,
	{ 0 }
};

static error_t setup_parser(int key, char *arg, struct argp_state *state)
{
	struct setup_args *a = state->input;

	switch (key) {
	case OPT_RINGS:
		if (vhu_parse_u64(arg, VHU_DRV_MAX_QUEUES, &a->rings) || !a->rings) {
			vhu_argp_error(state, "invalid --rings '%s' (1..%u)", arg, VHU_DRV_MAX_QUEUES);
			return EINVAL;
		}
		a->have_rings = true;
		return 0;
	case OPT_SIZE: return vhu_drv_parse_opt(VHU_DRV_OPT_QUEUE_SIZE, arg, state, &a->d);
	case ARGP_KEY_ARG: return vhu_reject_operand(state, arg);
	default: return vhu_drv_parse_opt(key, arg, state, &a->d);
	}
}

static const struct argp setup_argp = {
	setup_opts,
	setup_parser,
	"",
	"Do the bring-up a hypervisor does and report each step: GET_FEATURES, GET/SET_PROTOCOL_FEATURES, "
	"SET_OWNER, SET_FEATURES (VERSION_1, VHOST_USER_F_PROTOCOL_FEATURES, the offered device bits and "
	"only the ring features vhuctl drives: EVENT_IDX, INDIRECT_DESC, RING_PACKED as chosen; never "
	"LOG_ALL or ACCESS_PLATFORM), SET_MEM_TABLE, then per ring SET_VRING_NUM, SET_VRING_BASE, "
	"SET_VRING_ADDR, SET_VRING_KICK, SET_VRING_CALL and SET_VRING_ENABLE 1; with STATUS negotiated, "
	"SET_STATUS FEATURES_OK (checked with GET_STATUS) after SET_FEATURES and DRIVER_OK at the end.  "
	"Stops at the first step the back-end refuses.",
	NULL,
	NULL,
	NULL
};

int cmd_setup(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct setup_args a = { 0 };
	struct vhu_drv *d;
	const struct vhu_drv_step *failed;
	uint32_t rings[VHU_DRV_MAX_QUEUES];
	uint64_t n;
	int rc;

	vhu_drv_args_init(&a.d);
	rc = vhu_cmd_parse(ctx, &setup_argp, argc, argv, &a);
	if (rc || (rc = vhu_drv_args_check(ctx, &a.d)))
		return rc;
	if ((rc = vhu_cmd_start(ctx)))
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d)
		return vhu_fail(&ctx->s, VHU_E_IO, "setup: out of memory");
	/* Everything vhuctl knows how to negotiate, and every device bit
	 * offered: setup drives no device, it brings one up. */
	a.d.o.protocol_mask = VHU_PF_DEFAULT_MASK;
	a.d.o.device_features = VHU_DEVICE_FEATURES_MASK;
	/* --iommu: the session's channel, which a batch keeps after setup. */
	a.d.o.chan = &ctx->chan;
	vhu_drv_init(d, &ctx->s, &ctx->res, &a.d.o);
	rc = vhu_drv_probe(d);
	if (rc)
		goto out;
	/* Default: every queue; for net, one queue pair (rx + tx), since net
	 * back-ends report their maximum, not what is configured. */
	n = a.have_rings ? a.rings : vhu_ctx_dev(ctx) == VHU_DEV_NET ? 2 : d->queue_num ? d->queue_num : 1;
	if (n > VHU_DRV_MAX_QUEUES) {
		rc = vhu_usage(ctx, "setup: %llu queues; give --rings (at most %u)", (unsigned long long)n,
			       VHU_DRV_MAX_QUEUES);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		rings[i] = i;
	rc = vhu_drv_start(d, rings, (unsigned)n);
	failed = vhu_show_steps(d, d->start_step);
	vhu_out_uint("rings", "Rings", n, NULL);
	if (ctx->s.features_set)
		vhu_out_mask("acked_features", "Acked features", ctx->s.acked_features, VHU_BITS_FEATURES,
			     vhu_ctx_dev(ctx));
	if (d->mem)
		vhu_show_driver(d, false);
	if (rc && failed) {
		vhu_out_string("failed_step", "Failed step", vhu_drv_step_name(failed));
		if (failed->ring >= 0)
			vhu_out_uint("failed_ring", "Failed ring", (uint64_t)failed->ring, NULL);
	}
out:
	vhu_drv_fini(d);
	free(d);
	return rc;
}
