/* SPDX-License-Identifier: Apache-2.0 */
/*
 * device-state save FILE | load FILE | check
 *
 * The back-end's opaque migration state (VHOST_USER_PROTOCOL_F_DEVICE_STATE,
 * spec "Migrating back-end state"): save streams it into FILE, load streams FILE back, check
 * asks whether the last transfer succeeded.  FILE is the raw stream.
 *
 * Order: the local file first (a bad FILE sends nothing), then the
 * negotiation and the feature gate (a back-end without DEVICE_STATE gets
 * no SET_OWNER either), SET_OWNER, the ring stop, the transfer, and only
 * after CHECK_DEVICE_STATE said 0 the rename over FILE.
 */
#include <errno.h>
#include <string.h>

#include "cmds/cmd_common.h"
#include "proto/devstate.h"
#include "render/out.h"
#include "util/parse.h"

enum { OPT_MAX_SIZE = 0x300, OPT_TRANSFER_TIMEOUT };

struct ds_args {
	const char *op[2];
	unsigned nop;
	struct vhu_ds_limits lim;
};

static error_t ds_parser(int key, char *arg, struct argp_state *state)
{
	struct ds_args *a = state->input;

	switch (key) {
	case OPT_MAX_SIZE:
		if (vhu_parse_size(arg, &a->lim.max_size)) {
			vhu_argp_error(
				state,
				"invalid --max-size '%s': expected bytes with an optional K, M, G or T, "
				"or 0 for no limit",
				arg);
			return EINVAL;
		}
		return 0;
	case OPT_TRANSFER_TIMEOUT:
		if (vhu_parse_seconds(arg, &a->lim.transfer_ms)) {
			vhu_argp_error(state,
				       "invalid --transfer-timeout '%s': expected seconds, or 0 for no limit",
				       arg);
			return EINVAL;
		}
		return 0;
	case ARGP_KEY_ARG:
		if (a->nop >= 2)
			return vhu_reject_operand(state, arg);
		a->op[a->nop++] = arg;
		return 0;
	default: return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_option ds_opts[] = {
	{ "max-size", OPT_MAX_SIZE, "SIZE", 0,
	  "largest state accepted (K, M, G, T suffixes; default 1G, 0 = no limit): save of a bigger one "
	  "exits 2, load of a bigger FILE 64",
	  0 },
	{ "transfer-timeout", OPT_TRANSFER_TIMEOUT, "SECONDS", 0,
	  "limit for the whole stream (default 0: none; --timeout still bounds every wait, which must move "
	  "64 KiB)",
	  0 },
	{ 0 }
};

static const struct argp ds_argp = {
	ds_opts,
	ds_parser,
	"save FILE\nload FILE\ncheck",
	"Transfer the back-end's device state (needs VHOST_USER_PROTOCOL_F_DEVICE_STATE).  save streams "
	"it into FILE (a temporary next to FILE, renamed over it only after CHECK_DEVICE_STATE succeeded; "
	"FILE must be a regular file, a link to one, or missing); load streams FILE, which is never "
	"modified, to the back-end; check sends CHECK_DEVICE_STATE alone.  FILE is the raw state stream, "
	"no header.  Rings started earlier in the same batch are stopped with GET_VRING_BASE first.",
	NULL,
	NULL,
	NULL
};

/* Spec 6.8: the device must be suspended, i.e. every ring stopped.  A ring
 * counts as started when this session gave it a kick eventfd. */
static int stop_rings(struct vhu_ctx *ctx)
{
	for (uint32_t i = 0; i < VHU_MAX_FD_VRINGS; i++) {
		uint32_t base;
		int rc;

		if (ctx->res.kick[i] < 0)
			continue;
		rc = vhu_get_vring_base(&ctx->s, i, &base);
		if (rc)
			return rc;
		vhu_out_warn("ring %u was started in this session: stopped it with GET_VRING_BASE "
			     "(base %u) so the device is suspended for the transfer",
			     i, base);
	}
	return VHU_OK;
}

/* Started (the row's level: the features are known), refuse locally when
 * @code is gated shut, and only then claim the back-end. */
static int ds_claim(struct vhu_ctx *ctx, uint32_t code)
{
	int rc = vhu_gate(&ctx->s, vhu_req_by_code(code));

	return rc ? rc : vhu_negotiate(&ctx->s, VHU_NEG_OWNER);
}

static int ds_check(struct vhu_ctx *ctx)
{
	uint64_t status = 0;
	int rc = vhu_cmd_start(ctx);

	if (rc || (rc = ds_claim(ctx, VHOST_USER_CHECK_DEVICE_STATE)))
		return rc;
	rc = vhu_ds_check(&ctx->s, &status);
	if (rc && rc != VHU_E_REFUSED)
		return rc;
	vhu_out_open("device_state", "Device state");
	vhu_out_string("direction", "Direction", "check");
	vhu_out_uint("check_status", "Check status", status, status ? "(failed)" : "(ok)");
	vhu_out_close();
	return rc;
}

static int ds_transfer(struct vhu_ctx *ctx, enum vhu_ds_dir dir, const char *path,
		       const struct vhu_ds_limits *lim)
{
	struct vhu_ds_file f;
	struct vhu_ds_result r;
	int rc = vhu_ds_file_open(&ctx->s, dir, path, lim, &f);

	if (rc)
		return rc;
	rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = ds_claim(ctx, VHOST_USER_SET_DEVICE_STATE_FD);
	if (!rc)
		rc = stop_rings(ctx);
	if (!rc) {
		rc = vhu_ds_transfer(&ctx->s, dir, f.fd, path, lim, &r);
		if (r.undefined_bits)
			vhu_out_warn("SET_DEVICE_STATE_FD: reply 0x%llx sets undefined bits 9-63; ignored",
				     (unsigned long long)r.reply);
	}
	/* Only a transfer the back-end confirmed may replace FILE. */
	if (!rc)
		rc = vhu_ds_file_commit(&ctx->s, &f);
	vhu_ds_file_abort(&f);
	if (rc)
		return rc;
	vhu_out_open("device_state", "Device state");
	vhu_out_string("direction", "Direction", dir == VHU_DS_SAVE ? "save" : "load");
	vhu_out_uint("bytes", "Bytes", r.bytes, NULL);
	vhu_out_string("sha256", "SHA-256", r.sha256_hex);
	vhu_out_string("file", "File", path);
	vhu_out_bool("backend_fd", "Back-end's own fd", r.backend_fd);
	vhu_out_close();
	return VHU_OK;
}

int cmd_device_state(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct ds_args a = { { NULL, NULL }, 0, { VHU_DS_DEFAULT_MAX_SIZE, 0 } };
	int rc = vhu_cmd_parse(ctx, &ds_argp, argc, argv, &a);
	const char *sub;

	if (rc)
		return rc;
	if (a.nop == 0)
		return vhu_usage(ctx, "device-state needs a subcommand: save FILE, load FILE or check");
	sub = a.op[0];
	if (!strcmp(sub, "check")) {
		if (a.nop != 1)
			return vhu_usage(ctx, "device-state check takes no FILE");
		return ds_check(ctx);
	}
	if (strcmp(sub, "save") && strcmp(sub, "load"))
		return vhu_usage(ctx, "unknown device-state subcommand '%s' (save FILE, load FILE or check)",
				 sub);
	if (a.nop != 2)
		return vhu_usage(ctx, "device-state %s needs a FILE", sub);
	return ds_transfer(ctx, !strcmp(sub, "save") ? VHU_DS_SAVE : VHU_DS_LOAD, a.op[1], &a.lim);
}
