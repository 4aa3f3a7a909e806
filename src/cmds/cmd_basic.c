/* SPDX-License-Identifier: Apache-2.0 */
/*
 * get-features, set-features, get-protocol-features,
 * set-protocol-features, set-owner, reset-owner, reset-device,
 * get-queue-num, get-max-mem-slots, get-status, set-status.
 */
#include <string.h>

#include "cmds/cmd_common.h"
#include "driver/driver.h"
#include "render/out.h"
#include "util/parse.h"

static error_t noargs_parser(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	if (key == ARGP_KEY_ARG)
		return vhu_reject_operand(state, arg);
	(void)state;
	return ARGP_ERR_UNKNOWN;
}

const struct argp vhu_noargs_argp = { NULL, noargs_parser, "", NULL, NULL, NULL, NULL };

error_t vhu_reject_operand(struct argp_state *state, const char *arg)
{
	vhu_argp_error(state, "unexpected argument '%s'", arg);
	return EINVAL;
}

error_t vhu_operand_parser(int key, char *arg, struct argp_state *state)
{
	struct vhu_operand *a = state->input;

	switch (key) {
	case ARGP_KEY_ARG:
		if (a->v)
			return vhu_reject_operand(state, arg);
		a->v = arg;
		return 0;
	case ARGP_KEY_NO_ARGS:
		if (!a->required)
			return 0;
		vhu_argp_error(state, "missing operand (see --help)");
		return EINVAL;
	default: return ARGP_ERR_UNKNOWN;
	}
}

/* The getters of a mask: read, print. */
static int get_mask(struct vhu_ctx *ctx, int argc, char **argv, int (*fn)(struct vhu_session *, uint64_t *),
		    const char *key, const char *label, enum vhu_bit_space space)
{
	int rc = vhu_cmd_parse(ctx, &vhu_noargs_argp, argc, argv, NULL);
	uint64_t v;

	if (rc || (rc = vhu_cmd_start(ctx)) || (rc = fn(&ctx->s, &v)))
		return rc;
	vhu_out_mask(key, label, v, space, vhu_ctx_dev(ctx));
	return VHU_OK;
}

int cmd_get_features(struct vhu_ctx *ctx, int argc, char **argv)
{
	return get_mask(ctx, argc, argv, vhu_get_features, "features", "Features", VHU_BITS_FEATURES);
}

/* One MASK operand: 0xHEX, or names / bit numbers. */
struct mask_args {
	struct vhu_operand op; /* first: read by vhu_operand_parser */
	enum vhu_bit_space space;
};

static const struct argp set_features_argp = {
	NULL,
	vhu_operand_parser,
	"MASK",
	"Acknowledge virtio feature bits (SET_FEATURES).  MASK is 0xHEX, or a comma-separated list of "
	"bit names (VERSION_1, VIRTIO_BLK_F_FLUSH, ...; prefixes optional with --type), bit_N or bit "
	"numbers; the word `offered` stands for every bit the back-end offers except those vhuctl does "
	"not drive (LOG_ALL, ACCESS_PLATFORM, RING_PACKED, IN_ORDER, NOTIFICATION_DATA: name them to ack "
	"them).  GET_FEATURES is sent first.",
	NULL,
	NULL,
	NULL
};

static int resolve_mask(struct vhu_ctx *ctx, struct mask_args *a, uint64_t offered, uint64_t *mask)
{
	char bad[96];

	if (vhu_parse_mask(a->op.v, a->space, vhu_ctx_dev(ctx), offered, mask, bad, sizeof(bad)))
		return vhu_usage(ctx, "unknown %s '%s' (see `vhuctl list %s`%s)",
				 a->space == VHU_BITS_FEATURES	 ? "feature bit"
				 : a->space == VHU_BITS_PROTOCOL ? "protocol feature"
								 : "status bit",
				 bad,
				 a->space == VHU_BITS_FEATURES	 ? "features"
				 : a->space == VHU_BITS_PROTOCOL ? "protocol-features"
								 : "status",
				 a->space == VHU_BITS_FEATURES && !ctx->dev ? "; device bits need --type"
									    : "");
	return VHU_OK;
}

/* Parse a MASK command; names are resolved before connecting, so a typo
 * sends nothing. */
static int mask_parse(struct vhu_ctx *ctx, const struct argp *argp, int argc, char **argv,
		      struct mask_args *a, uint64_t *mask)
{
	int rc = vhu_cmd_parse(ctx, argp, argc, argv, a);

	if (rc)
		return rc;
	if (strcasecmp(a->op.v, "offered") && strcasecmp(a->op.v, "all"))
		return resolve_mask(ctx, a, 0, mask);
	return VHU_OK;
}

int cmd_set_features(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct mask_args a = { { NULL, true }, VHU_BITS_FEATURES };
	uint64_t mask;
	int rc = mask_parse(ctx, &set_features_argp, argc, argv, &a, &mask);

	if (rc || (rc = vhu_cmd_start(ctx)))
		return rc;
	rc = resolve_mask(ctx, &a, ctx->s.features & ~VHU_FEATURES_NOT_DRIVEN, &mask);
	if (rc)
		return rc;
	/* `offered` means what vhuctl can drive: the batch commands lay out
	 * split rings and set up no dirty log or IOTLB. */
	if (ctx->s.features & VHU_FEATURES_NOT_DRIVEN & ~mask) {
		uint64_t all, left;

		resolve_mask(ctx, &a, ctx->s.features, &all);
		left = all & ~mask;
		if (left) {
			char names[256] = "";

			for (unsigned b = 0; b < 64; b++)
				if (left & VHU_BIT(b))
					snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
						 *names ? ", " : "",
						 vhu_bit_name(VHU_BITS_FEATURES, vhu_ctx_dev(ctx), b) ?: "?");
			vhu_out_warn("SET_FEATURES: `offered` leaves out %s (not driven by vhuctl; name them "
				     "to ack "
				     "them)",
				     names);
		}
	}
	if (mask & ~ctx->s.features)
		vhu_out_warn("SET_FEATURES: bits not offered by the back-end: 0x%llx",
			     (unsigned long long)(mask & ~ctx->s.features));
	if ((ctx->s.features & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES)) &&
	    !(mask & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
		vhu_out_warn("SET_FEATURES without VHOST_USER_F_PROTOCOL_FEATURES: the back-end enables "
			     "every ring at once and SET_VRING_ENABLE is no longer allowed");
	rc = vhu_set_features(&ctx->s, mask);
	if (rc)
		return rc;
	vhu_out_mask("acked_features", "Acked features", mask, VHU_BITS_FEATURES, vhu_ctx_dev(ctx));
	return VHU_OK;
}

int cmd_get_protocol_features(struct vhu_ctx *ctx, int argc, char **argv)
{
	return get_mask(ctx, argc, argv, vhu_get_protocol_features, "protocol_features", "Protocol features",
			VHU_BITS_PROTOCOL);
}

static const struct argp set_pf_argp = {
	NULL,
	vhu_operand_parser,
	"MASK",
	"Acknowledge protocol features (SET_PROTOCOL_FEATURES).  MASK is 0xHEX, or a comma-separated list "
	"of names (MQ, REPLY_ACK, VHOST_USER_PROTOCOL_F_CONFIG, ...), bit_N or bit numbers; `offered` "
	"stands for every feature offered.  GET_FEATURES and GET_PROTOCOL_FEATURES are sent first.",
	NULL,
	NULL,
	NULL
};

int cmd_set_protocol_features(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct mask_args a = { { NULL, true }, VHU_BITS_PROTOCOL };
	uint64_t mask, pf;
	int rc = mask_parse(ctx, &set_pf_argp, argc, argv, &a, &mask);

	if (!rc)
		rc = vhu_cmd_start(ctx);
	if (!rc && !ctx->s.have_protocol &&
	    !(rc = vhu_gate(&ctx->s, vhu_req_by_code(VHOST_USER_GET_PROTOCOL_FEATURES))))
		rc = vhu_get_protocol_features(&ctx->s, &pf);
	if (rc)
		return rc;
	rc = resolve_mask(ctx, &a, ctx->s.protocol, &mask);
	if (rc)
		return rc;
	if (mask & ~ctx->s.protocol)
		vhu_out_warn("SET_PROTOCOL_FEATURES: features not offered by the back-end: 0x%llx",
			     (unsigned long long)(mask & ~ctx->s.protocol));
	rc = vhu_set_protocol_features(&ctx->s, mask);
	if (rc)
		return rc;
	vhu_out_mask("acked_protocol_features", "Acked protocol features", mask, VHU_BITS_PROTOCOL,
		     vhu_ctx_dev(ctx));
	return VHU_OK;
}

/* Commands that send one request without payload and print "ok". */
static int simple(struct vhu_ctx *ctx, int argc, char **argv, int (*fn)(struct vhu_session *),
		  const char *what)
{
	int rc = vhu_cmd_parse(ctx, &vhu_noargs_argp, argc, argv, NULL);

	if (rc || (rc = vhu_cmd_start(ctx)))
		return rc;
	rc = fn(&ctx->s);
	if (rc)
		return rc;
	vhu_out_string("request", "Request", what);
	vhu_out_bool("acked", "Acknowledged", vhu_pf_acked(&ctx->s, VHOST_USER_PROTOCOL_F_REPLY_ACK));
	return VHU_OK;
}

int cmd_set_owner(struct vhu_ctx *ctx, int argc, char **argv)
{
	return simple(ctx, argc, argv, vhu_set_owner, "SET_OWNER");
}

int cmd_reset_owner(struct vhu_ctx *ctx, int argc, char **argv)
{
	return simple(ctx, argc, argv, vhu_reset_owner, "RESET_OWNER");
}

int cmd_reset_device(struct vhu_ctx *ctx, int argc, char **argv)
{
	return simple(ctx, argc, argv, vhu_reset_device, "RESET_DEVICE");
}

static int get_count(struct vhu_ctx *ctx, int argc, char **argv, int (*fn)(struct vhu_session *, uint64_t *),
		     const char *key, const char *label)
{
	int rc = vhu_cmd_parse(ctx, &vhu_noargs_argp, argc, argv, NULL);
	uint64_t n;

	if (rc || (rc = vhu_cmd_start(ctx)))
		return rc;
	rc = fn(&ctx->s, &n);
	if (rc)
		return rc;
	vhu_out_uint(key, label, n, NULL);
	return VHU_OK;
}

int cmd_get_queue_num(struct vhu_ctx *ctx, int argc, char **argv)
{
	return get_count(ctx, argc, argv, vhu_get_queue_num, "queue_num", "Queues");
}

int cmd_get_max_mem_slots(struct vhu_ctx *ctx, int argc, char **argv)
{
	return get_count(ctx, argc, argv, vhu_get_max_mem_slots, "max_mem_slots", "Memory slots");
}

static int get_status_u64(struct vhu_session *s, uint64_t *v)
{
	uint8_t st = 0;
	int rc = vhu_get_status(s, &st);

	*v = st;
	return rc;
}

int cmd_get_status(struct vhu_ctx *ctx, int argc, char **argv)
{
	return get_mask(ctx, argc, argv, get_status_u64, "status", "Status", VHU_BITS_STATUS);
}

static const struct argp set_status_argp = {
	NULL,
	vhu_operand_parser,
	"STATUS",
	"Set the virtio device status byte (SET_STATUS).  STATUS is 0xHEX, or a comma-separated list of "
	"ACKNOWLEDGE, DRIVER, DRIVER_OK, FEATURES_OK, SUSPEND, DEVICE_NEEDS_RESET, FAILED or bit numbers; "
	"`none` is 0 (device reset).",
	NULL,
	NULL,
	NULL
};

int cmd_set_status(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct mask_args a = { { NULL, true }, VHU_BITS_STATUS };
	uint64_t mask;
	int rc = vhu_cmd_parse(ctx, &set_status_argp, argc, argv, &a);

	if (rc)
		return rc;
	if ((rc = resolve_mask(ctx, &a, 0, &mask)))
		return rc;
	if (mask > 0xff)
		return vhu_usage(ctx, "status 0x%llx does not fit the 8-bit status byte",
				 (unsigned long long)mask);
	rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_set_status(&ctx->s, (uint8_t)mask);
	if (rc)
		return rc;
	vhu_out_mask("status", "Status set", mask, VHU_BITS_STATUS, vhu_ctx_dev(ctx));
	return VHU_OK;
}
