/* SPDX-License-Identifier: Apache-2.0 */
/* list: the catalog and the bit tables; needs no socket. */
#include <string.h>

#include "cmds/cmd_common.h"
#include "render/list.h"

static const struct argp list_argp = {
	NULL,
	vhu_operand_parser,
	"[WHAT]",
	"List what vhuctl knows; WHAT is one of requests, backend-requests, features, protocol-features, "
	"status, types, config.  Front-end requests (code, reply kind, payload bounds, fds, gating "
	"feature), back-end channel requests, feature bits (device bits with --type), protocol "
	"features, status bits, device types and the config fields the decoders know (one type with "
	"--type).  Without an argument, everything.",
	NULL,
	NULL,
	NULL
};

int cmd_list(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vhu_operand a = { NULL, false };
	int rc = vhu_cmd_parse(ctx, &list_argp, argc, argv, &a);
	bool all;

	if (rc)
		return rc;
	all = !a.v;
	if (a.v && strcmp(a.v, "requests") && strcmp(a.v, "backend-requests") && strcmp(a.v, "features") &&
	    strcmp(a.v, "protocol-features") && strcmp(a.v, "status") && strcmp(a.v, "types") &&
	    strcmp(a.v, "config"))
		return vhu_usage(
			ctx,
			"unknown list '%s' (requests, backend-requests, features, protocol-features, "
			"status, types, config)",
			a.v);
	if (all || !strcmp(a.v, "requests"))
		vhu_render_requests("requests", "Front-end requests", false);
	if (all || !strcmp(a.v, "backend-requests"))
		vhu_render_requests("backend_requests", "Back-end requests", true);
	if (all || !strcmp(a.v, "features"))
		vhu_render_bits("features", "Feature bits", VHU_BITS_FEATURES, vhu_ctx_dev(ctx));
	if (all || !strcmp(a.v, "protocol-features"))
		vhu_render_bits("protocol_features", "Protocol features", VHU_BITS_PROTOCOL, VHU_DEV_NONE);
	if (all || !strcmp(a.v, "status"))
		vhu_render_bits("status", "Status bits", VHU_BITS_STATUS, VHU_DEV_NONE);
	if (all || !strcmp(a.v, "types"))
		vhu_render_types();
	if (all || !strcmp(a.v, "config"))
		vhu_render_config_fields(vhu_ctx_dev(ctx));
	return VHU_OK;
}
