/* SPDX-License-Identifier: Apache-2.0 */
/*
 * set-vring-num, set-vring-base, get-vring-base, set-vring-addr,
 * set-vring-kick, set-vring-call, set-vring-err, set-vring-enable,
 * vring-kick; and the argument parser the memory, ring and inflight
 * commands share (cmds/cmd_vring.h).
 *
 * Rings only mean something within one connection: use these inside
 * `batch`, or `setup` for the whole bring-up in one command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds/cmd_vring.h"
#include "render/mem.h"
#include "render/out.h"
#include "util/parse.h"

error_t vhu_vr_parser(int key, char *arg, struct argp_state *state)
{
	struct vr_args *a = state->input;
	uint64_t *dst = NULL;
	bool *have = NULL;

	switch (key) {
	case OPT_NOFD: a->nofd = true; return 0;
	case OPT_AUTO: a->autolay = true; return 0;
	case OPT_LOG: a->log = true; return 0;
	case OPT_BACKING:
		if (strcmp(arg, "memfd") && strncmp(arg, "file:", 5)) {
			vhu_argp_error(state, "invalid --backing '%s' (memfd or file:PATH)", arg);
			return EINVAL;
		}
		a->backing = strcmp(arg, "memfd") ? arg + 5 : NULL;
		return 0;
	case OPT_DESC:
		dst = &a->desc;
		have = &a->have_desc;
		break;
	case OPT_USED:
		dst = &a->used;
		have = &a->have_used;
		break;
	case OPT_AVAIL:
		dst = &a->avail;
		have = &a->have_avail;
		break;
	case OPT_RINGS:
		dst = &a->rings;
		have = &a->have_rings;
		break;
	case OPT_RSIZE:
		dst = &a->ring_size;
		have = &a->have_size;
		break;
	case OPT_MEM:
		if (vhu_parse_size(arg, &a->mem) || !a->mem) {
			vhu_argp_error(state, "invalid --memory '%s' (e.g. 64M)", arg);
			return EINVAL;
		}
		return 0;
	case ARGP_KEY_ARG:
		if (a->nop >= MAX_OPERANDS)
			return vhu_reject_operand(state, arg);
		a->op[a->nop++] = arg;
		return 0;
	default: return ARGP_ERR_UNKNOWN;
	}
	if (vhu_parse_u64(arg, UINT64_MAX, dst)) {
		vhu_argp_error(state, "invalid number '%s'", arg);
		return EINVAL;
	}
	*have = true;
	return 0;
}

int vhu_vr_operand(struct vhu_ctx *ctx, const struct vr_args *a, unsigned i, const char *what, uint64_t max,
		   uint64_t *v)
{
	if (i >= a->nop)
		return vhu_usage(ctx, "missing %s", what);
	if (vhu_parse_u64(a->op[i], max, v))
		return vhu_usage(ctx, "invalid %s '%s' (0..%llu)", what, a->op[i], (unsigned long long)max);
	return VHU_OK;
}

int vhu_vr_parse_ring(struct vhu_ctx *ctx, const struct argp *argp, int argc, char **argv, struct vr_args *a,
		      uint64_t *ring)
{
	int rc = vhu_cmd_parse(ctx, argp, argc, argv, a);

	if (rc || (rc = vhu_vr_operand(ctx, a, 0, "RING", UINT32_MAX, ring)))
		return rc;
	if (a->nop > 1)
		return vhu_usage(ctx, "unexpected argument '%s'", a->op[1]);
	return VHU_OK;
}
/* ---- rings ---- */

static const struct argp ring_num_argp = {
	NULL, vhu_vr_parser, "RING NUM", "Set the size of RING (SET_VRING_NUM).", NULL, NULL, NULL
};
static const struct argp ring_base_argp = {
	NULL,	     vhu_vr_parser,
	"RING BASE", "Set the next available index of RING (SET_VRING_BASE; split rings: bits 0-15).",
	NULL,	     NULL,
	NULL
};
static const struct argp ring_only_argp = {
	NULL,
	vhu_vr_parser,
	"RING",
	"Stop RING and print its base (GET_VRING_BASE).  The back-end may first finish in-flight requests.",
	NULL,
	NULL,
	NULL
};

static int ring_state(struct vhu_ctx *ctx, int argc, char **argv, const struct argp *argp, uint32_t code,
		      const char *what, uint64_t max)
{
	struct vr_args a = { 0 };
	const struct vhu_req_desc *d = vhu_req_by_code(code);
	uint64_t ring, num;
	int rc = vhu_cmd_parse(ctx, argp, argc, argv, &a);

	if (rc || (rc = vhu_vr_operand(ctx, &a, 0, "RING", UINT32_MAX, &ring)) ||
	    (rc = vhu_vr_operand(ctx, &a, 1, what, max, &num)))
		return rc;
	if (a.nop > 2)
		return vhu_usage(ctx, "unexpected argument '%s'", a.op[2]);
	rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_ring_check(&ctx->s, &ctx->res, d->name, ring);
	if (!rc)
		rc = vhu_set_vring_state(&ctx->s, code, (uint32_t)ring, (uint32_t)num);
	if (rc)
		return rc;
	vhu_out_uint("ring", "Ring", ring, NULL);
	vhu_out_uint(code == VHOST_USER_SET_VRING_NUM ? "num" : "base",
		     code == VHOST_USER_SET_VRING_NUM ? "Size" : "Base", num, NULL);
	if (code == VHOST_USER_SET_VRING_BASE && num > 0xffff && !vhu_ring_packed(&ctx->s))
		vhu_out_warn(
			"SET_VRING_BASE: base %llu does not fit the 16-bit index of a split ring (back-ends "
			"keep its low 16 bits, %llu); bits 16-31 mean something only for packed rings",
			(unsigned long long)num, (unsigned long long)(num & 0xffff));
	return VHU_OK;
}

int cmd_set_vring_num(struct vhu_ctx *ctx, int argc, char **argv)
{
	return ring_state(ctx, argc, argv, &ring_num_argp, VHOST_USER_SET_VRING_NUM, "NUM", 32768);
}

int cmd_set_vring_base(struct vhu_ctx *ctx, int argc, char **argv)
{
	return ring_state(ctx, argc, argv, &ring_base_argp, VHOST_USER_SET_VRING_BASE, "BASE", UINT32_MAX);
}

int cmd_get_vring_base(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	uint64_t ring;
	uint32_t base;
	int rc = vhu_vr_parse_ring(ctx, &ring_only_argp, argc, argv, &a, &ring);

	if (!rc)
		rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_ring_check(&ctx->s, &ctx->res, "GET_VRING_BASE", ring);
	if (!rc)
		rc = vhu_get_vring_base(&ctx->s, (uint32_t)ring, &base);
	if (rc)
		return rc;
	vhu_out_uint("ring", "Ring", ring, NULL);
	vhu_out_uint("base", "Base", base, NULL);
	if (base >> 16)
		vhu_out_warn("GET_VRING_BASE: bits 16-31 set (0x%x): packed-ring encoding or a back-end bug",
			     base);
	return VHU_OK;
}

static const struct argp_option addr_opts[] = {
	{ "auto", OPT_AUTO, NULL, 0, "lay out a split ring of --size descriptors in guest memory region 0",
	  0 },
	{ "size", OPT_RSIZE, "NUM", 0, "ring size for --auto (default 128)", 0 },
	{ "desc", OPT_DESC, "ADDR", 0, "descriptor table user address", 0 },
	{ "used", OPT_USED, "ADDR", 0, "used ring user address", 0 },
	{ "avail", OPT_AVAIL, "ADDR", 0, "available ring user address", 0 },
	{ "log", OPT_LOG, NULL, 0, "set VHOST_VRING_F_LOG (log used-ring writes)", 0 },
	{ 0 }
};

static const struct argp addr_argp = {
	addr_opts,
	vhu_vr_parser,
	"RING",
	"Set the addresses of RING (SET_VRING_ADDR): --auto lays out a ring in the memory table, or give "
	"--desc, --used and --avail (user addresses inside the memory table).",
	NULL,
	NULL,
	NULL
};

static bool inside_table(const struct vhu_res *r, uint64_t uva, uint64_t len)
{
	for (unsigned i = 0; i < r->nregions; i++)
		/* Differences, not sums: an address near 2^64 must not wrap. */
		if (r->regions[i].sent && uva >= r->regions[i].uva && len <= r->regions[i].size &&
		    uva - r->regions[i].uva <= r->regions[i].size - len)
			return true;
	return false;
}

static int do_ring_addr(struct vhu_ctx *ctx, uint32_t ring, uint32_t num, bool log,
			struct vhost_vring_addr *addr)
{
	int rc = vhu_ring_layout(&ctx->s, &ctx->res, ring, num, addr);

	if (rc)
		return rc;
	if (log)
		addr->flags |= VHOST_VRING_F_LOG;
	return vhu_set_vring_addr(&ctx->s, addr);
}

int cmd_set_vring_addr(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	struct vhost_vring_addr addr = { 0 };
	uint64_t ring;
	int rc = vhu_cmd_parse(ctx, &addr_argp, argc, argv, &a);

	if (rc || (rc = vhu_vr_operand(ctx, &a, 0, "RING", UINT32_MAX, &ring)))
		return rc;
	if (a.autolay == (a.have_desc || a.have_used || a.have_avail))
		return vhu_usage(ctx, "give either --auto or all of --desc, --used and --avail");
	if (!a.autolay && !(a.have_desc && a.have_used && a.have_avail))
		return vhu_usage(ctx, "--desc, --used and --avail are all needed");
	rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_ring_check(&ctx->s, &ctx->res, "SET_VRING_ADDR", ring);
	if (rc)
		return rc;
	if (a.autolay) {
		if (a.have_size && a.ring_size > 32768)
			return vhu_usage(ctx, "--size %llu is beyond 32768 descriptors",
					 (unsigned long long)a.ring_size);
		rc = do_ring_addr(ctx, (uint32_t)ring, a.have_size ? (uint32_t)a.ring_size : 128, a.log,
				  &addr);
	} else {
		addr = (struct vhost_vring_addr){ .index = (uint32_t)ring,
						  .flags = a.log ? VHOST_VRING_F_LOG : 0,
						  .desc_user_addr = a.desc,
						  .used_user_addr = a.used,
						  .avail_user_addr = a.avail };
		if (!ctx->force &&
		    (!inside_table(&ctx->res, a.desc, 16) || !inside_table(&ctx->res, a.used, 6) ||
		     !inside_table(&ctx->res, a.avail, 6)))
			return vhu_usage(
				ctx,
				"SET_VRING_ADDR: addresses must lie inside the memory table sent in this "
				"session (--force sends them anyway)");
		rc = vhu_set_vring_addr(&ctx->s, &addr);
	}
	if (rc)
		return rc;
	vhu_render_vring_addr(&addr);
	return VHU_OK;
}

static const struct argp_option fd_opts[] = {
	{ "nofd", OPT_NOFD, NULL, 0, "send no fd and set the invalid-fd flag (bit 8): polling mode", 0 },
	{ 0 }
};

static const struct argp fd_argp = {
	fd_opts, vhu_vr_parser,
	"RING",	 "Give RING an eventfd created by vhuctl and kept open for the session, or none with --nofd.",
	NULL,	 NULL,
	NULL
};

static int ring_fd(struct vhu_ctx *ctx, int argc, char **argv, uint32_t code)
{
	struct vr_args a = { 0 };
	const struct vhu_req_desc *d = vhu_req_by_code(code);
	uint64_t ring;
	int fd = -1;
	int rc = vhu_vr_parse_ring(ctx, &fd_argp, argc, argv, &a, &ring);

	if (!rc)
		rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_ring_check(&ctx->s, &ctx->res, d->name, ring);
	if (!rc && !a.nofd)
		rc = vhu_ring_eventfd(&ctx->s, &ctx->res, code, (uint32_t)ring, &fd);
	if (!rc)
		rc = vhu_set_vring_fd(&ctx->s, code, (uint32_t)ring, fd);
	if (rc)
		return rc;
	vhu_out_uint("ring", "Ring", ring, NULL);
	vhu_out_bool("fd", "fd passed", fd >= 0);
	return VHU_OK;
}

int cmd_set_vring_kick(struct vhu_ctx *ctx, int argc, char **argv)
{
	return ring_fd(ctx, argc, argv, VHOST_USER_SET_VRING_KICK);
}

int cmd_set_vring_call(struct vhu_ctx *ctx, int argc, char **argv)
{
	return ring_fd(ctx, argc, argv, VHOST_USER_SET_VRING_CALL);
}

int cmd_set_vring_err(struct vhu_ctx *ctx, int argc, char **argv)
{
	return ring_fd(ctx, argc, argv, VHOST_USER_SET_VRING_ERR);
}

static const struct argp enable_argp = {
	NULL,
	vhu_vr_parser,
	"RING on|off",
	"Enable or disable RING (SET_VRING_ENABLE; needs VHOST_USER_F_PROTOCOL_FEATURES acknowledged with "
	"set-features earlier in the session).",
	NULL,
	NULL,
	NULL
};

int cmd_set_vring_enable(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	uint64_t ring;
	bool on;
	int rc = vhu_cmd_parse(ctx, &enable_argp, argc, argv, &a);

	if (rc || (rc = vhu_vr_operand(ctx, &a, 0, "RING", UINT32_MAX, &ring)))
		return rc;
	if (a.nop != 2 ||
	    (strcmp(a.op[1], "on") && strcmp(a.op[1], "off") && strcmp(a.op[1], "1") && strcmp(a.op[1], "0")))
		return vhu_usage(ctx, "set-vring-enable needs RING and on or off");
	on = !strcmp(a.op[1], "on") || !strcmp(a.op[1], "1");
	rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_ring_check(&ctx->s, &ctx->res, "SET_VRING_ENABLE", ring);
	if (!rc)
		rc = vhu_set_vring_enable(&ctx->s, (uint32_t)ring, on);
	if (rc)
		return rc;
	vhu_out_uint("ring", "Ring", ring, NULL);
	vhu_out_bool("enabled", "Enabled", on);
	return VHU_OK;
}

static const struct argp vring_kick_argp = {
	NULL,
	vhu_vr_parser,
	"RING",
	"Kick RING with an in-band message (VRING_KICK; needs VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS, "
	"which vhuctl only acks when asked with set-protocol-features).",
	NULL,
	NULL,
	NULL
};

int cmd_vring_kick(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	uint64_t ring;
	int rc = vhu_vr_parse_ring(ctx, &vring_kick_argp, argc, argv, &a, &ring);

	if (!rc)
		rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_ring_check(&ctx->s, &ctx->res, "VRING_KICK", ring);
	if (!rc)
		rc = vhu_set_vring_state(&ctx->s, VHOST_USER_VRING_KICK, (uint32_t)ring, 0);
	if (rc)
		return rc;
	vhu_out_uint("ring", "Ring kicked", ring, NULL);
	return VHU_OK;
}
