/* SPDX-License-Identifier: Apache-2.0 */
/*
 * set-mem-table, add-mem-reg, rem-mem-reg: guest memory regions of the
 * session (memfd or file backed), kept mapped for the rest of it.
 */
#include <stdlib.h>
#include <string.h>

#include "cmds/cmd_vring.h"
#include "render/mem.h"
#include "render/out.h"
#include "util/parse.h"

static const struct argp_option mem_opts[] = { { "backing", OPT_BACKING, "memfd|file:PATH", 0,
						 "what backs the regions (default memfd; a file on "
						 "hugetlbfs for huge pages)",
						 0 },
					       { 0 } };

static const struct argp set_mem_table_argp = {
	mem_opts,
	vhu_vr_parser,
	"SIZE[@GPA][,SIZE[@GPA]...]",
	"Create guest memory regions (sizes with K/M/G units, guest-physical address after @, default "
	"right after the previous region) and send them with SET_MEM_TABLE, one fd per region.  1 to 8 "
	"regions.  The regions stay mapped for the rest of the session.",
	NULL,
	NULL,
	NULL
};

/* Parse "64M@0x0,16M" into regions; returns the first new index. */
static int make_regions(struct vhu_ctx *ctx, const char *req, const char *spec, const char *backing,
			unsigned *first, unsigned *n)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	uint64_t next = 0;
	unsigned count = 0;
	int rc = VHU_OK;

	if (!copy)
		return vhu_fail(&ctx->s, VHU_E_IO, "out of memory");
	for (unsigned i = 0; i < ctx->res.nregions; i++)
		if (ctx->res.regions[i].gpa + ctx->res.regions[i].size > next)
			next = ctx->res.regions[i].gpa + ctx->res.regions[i].size;
	*first = ctx->res.nregions;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *at = strchr(tok, '@');
		uint64_t size, gpa = next;
		int idx;

		if (at)
			*at++ = '\0';
		if (vhu_parse_size(tok, &size) || (at && vhu_parse_u64(at, UINT64_MAX, &gpa))) {
			rc = vhu_usage(ctx, "invalid region '%s%s%s' (SIZE[@GPA], e.g. 64M@0x100000)", tok,
				       at ? "@" : "", at ? at : "");
			break;
		}
		if (size == 0) {
			rc = vhu_usage(ctx, "%s: region %u has size 0", req, count);
			break;
		}
		if (++count > VHOST_MEMORY_BASELINE_NREGIONS) {
			rc = vhu_usage(ctx, "%s: more than %u regions", req, VHOST_MEMORY_BASELINE_NREGIONS);
			break;
		}
		idx = vhu_region_create(&ctx->s, &ctx->res, size, gpa, backing);
		if (idx < 0) {
			char why[sizeof(ctx->s.err)];

			snprintf(why, sizeof(why), "%s", ctx->s.err);
			rc = vhu_fail(&ctx->s, -idx, "%s: %.400s", req, why);
			break;
		}
		next = gpa + size;
	}
	free(copy);
	/* Nothing half-built stays in the session. */
	if (rc)
		vhu_region_drop_from(&ctx->res, *first);
	*n = count;
	return rc;
}

int cmd_set_mem_table(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	unsigned first, n;
	int rc = vhu_cmd_parse(ctx, &set_mem_table_argp, argc, argv, &a);

	if (rc)
		return rc;
	if (a.nop != 1)
		return vhu_usage(ctx, "set-mem-table needs one SIZE[@GPA][,...] operand");
	rc = make_regions(ctx, "SET_MEM_TABLE", a.op[0], a.backing, &first, &n);
	if (!rc)
		rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_set_mem_table(&ctx->s, &ctx->res, first, n);
	if (rc) {
		vhu_region_drop_from(&ctx->res, first);
		return rc;
	}
	vhu_render_regions(ctx->res.regions, first, n);
	return VHU_OK;
}

static const struct argp add_mem_reg_argp = {
	mem_opts,
	vhu_vr_parser,
	"SIZE[@GPA]",
	"Create one guest memory region and add it with ADD_MEM_REG (needs "
	"VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS); refused locally once the back-end's "
	"GET_MAX_MEM_SLOTS limit is reached.",
	NULL,
	NULL,
	NULL
};

int cmd_add_mem_reg(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	unsigned first, n;
	int rc = vhu_cmd_parse(ctx, &add_mem_reg_argp, argc, argv, &a);

	if (rc)
		return rc;
	if (a.nop != 1 || strchr(a.op[0], ','))
		return vhu_usage(ctx, "add-mem-reg needs one SIZE[@GPA] operand");
	rc = vhu_cmd_start(ctx);
	if (rc)
		return rc;
	if ((rc = vhu_gate(&ctx->s, vhu_req_by_code(VHOST_USER_ADD_MEM_REG))))
		return rc;
	if (!ctx->res.max_mem_slots && vhu_pf_acked(&ctx->s, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) &&
	    (rc = vhu_get_max_mem_slots(&ctx->s, &ctx->res.max_mem_slots)))
		return rc;
	rc = make_regions(ctx, "ADD_MEM_REG", a.op[0], a.backing, &first, &n);
	if (!rc && (rc = vhu_add_mem_reg(&ctx->s, &ctx->res, first)))
		vhu_region_drop_from(&ctx->res, first);
	if (rc)
		return rc;
	vhu_render_regions(ctx->res.regions, first, 1);
	return VHU_OK;
}

static const struct argp rem_mem_reg_argp = {
	NULL,
	vhu_vr_parser,
	"REGION",
	"Remove region number REGION (as listed by set-mem-table or add-mem-reg in this session) with "
	"REM_MEM_REG.  The region then leaves the session: removing it again is refused (--force sends it).",
	NULL,
	NULL,
	NULL
};

int cmd_rem_mem_reg(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	uint64_t idx;
	int rc = vhu_cmd_parse(ctx, &rem_mem_reg_argp, argc, argv, &a);

	if (rc || (rc = vhu_vr_operand(ctx, &a, 0, "REGION", VHU_MEM_MAX_REGIONS - 1, &idx)))
		return rc;
	if (idx >= ctx->res.nregions)
		return vhu_usage(ctx, "REM_MEM_REG: no region %llu in this session", (unsigned long long)idx);
	rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_rem_mem_reg(&ctx->s, &ctx->res, (unsigned)idx);
	if (rc)
		return rc;
	vhu_out_uint("removed", "Removed region", idx, NULL);
	return VHU_OK;
}
