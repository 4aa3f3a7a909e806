/* SPDX-License-Identifier: Apache-2.0 */
/*
 * set-mem-table, add-mem-reg, rem-mem-reg, set-vring-num,
 * set-vring-base, get-vring-base, set-vring-addr, set-vring-kick,
 * set-vring-call, set-vring-err, set-vring-enable, setup.
 *
 * Memory and rings only mean something within one connection: use these
 * inside `batch`, or `setup` for the whole bring-up in one command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds/cmd_common.h"
#include "render/out.h"
#include "util/parse.h"

#define MAX_OPERANDS 4

struct vr_args {
	const char *op[MAX_OPERANDS];
	unsigned nop;
	bool nofd, autolay, log;
	const char *backing;
	uint64_t desc, used, avail, size;
	bool have_desc, have_used, have_avail, have_size;
	uint64_t rings, ring_size, mem;
	bool have_rings;
};

enum { OPT_NOFD = 0x400, OPT_AUTO, OPT_BACKING, OPT_DESC, OPT_USED, OPT_AVAIL, OPT_LOG, OPT_RINGS, OPT_RSIZE, OPT_MEM };

static error_t vr_parser(int key, char *arg, struct argp_state *state)
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
			argp_error(state, "invalid --backing '%s' (memfd or file:PATH)", arg);
			return EINVAL;
		}
		a->backing = strcmp(arg, "memfd") ? arg + 5 : NULL;
		return 0;
	case OPT_DESC: dst = &a->desc; have = &a->have_desc; break;
	case OPT_USED: dst = &a->used; have = &a->have_used; break;
	case OPT_AVAIL: dst = &a->avail; have = &a->have_avail; break;
	case OPT_RINGS: dst = &a->rings; have = &a->have_rings; break;
	case OPT_RSIZE: dst = &a->ring_size; have = &a->have_size; break;
	case OPT_MEM:
		if (vhu_parse_size(arg, &a->mem) || !a->mem) {
			argp_error(state, "invalid --memory '%s' (e.g. 64M)", arg);
			return EINVAL;
		}
		return 0;
	case ARGP_KEY_ARG:
		if (a->nop >= MAX_OPERANDS) {
			argp_error(state, "unexpected argument '%s'", arg);
			return EINVAL;
		}
		a->op[a->nop++] = arg;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	if (vhu_parse_u64(arg, UINT64_MAX, dst)) {
		argp_error(state, "invalid number '%s'", arg);
		return EINVAL;
	}
	*have = true;
	return 0;
}

/* Connect and negotiate; learn the queue count and slot limit when the
 * back-end offers them, so ring indexes and slots are checked locally. */
static int vr_start(struct vhu_ctx *ctx)
{
	int rc = vhu_cmd_connect(ctx, VHU_NEG_PROTOCOL);

	if (rc)
		return rc;
	ctx->res.queue_pairs = vhu_ctx_dev(ctx) == VHU_DEV_NET;
	if (!ctx->res.queue_num && vhu_pf_acked(&ctx->s, VHOST_USER_PROTOCOL_F_MQ) &&
	    (rc = vhu_get_queue_num(&ctx->s, &ctx->res.queue_num)))
		return rc;
	return VHU_OK;
}

static int operand_u64(struct vhu_ctx *ctx, const struct vr_args *a, unsigned i, const char *what, uint64_t max,
		       uint64_t *v)
{
	if (i >= a->nop)
		return vhu_usage(ctx, "missing %s", what);
	if (vhu_parse_u64(a->op[i], max, v))
		return vhu_usage(ctx, "invalid %s '%s' (0..%llu)", what, a->op[i], (unsigned long long)max);
	return VHU_OK;
}

/* Parse, take the RING operand, connect, negotiate and check the ring
 * index against the queue count. */
static int ring_begin(struct vhu_ctx *ctx, const struct argp *argp, int argc, char **argv, struct vr_args *a,
		      const char *req, uint64_t *ring)
{
	int rc = vhu_cmd_parse(ctx, argp, argc, argv, a);

	if (rc || (rc = operand_u64(ctx, a, 0, "RING", UINT32_MAX, ring)))
		return rc;
	if (a->nop > 1)
		return vhu_usage(ctx, "unexpected argument '%s'", a->op[1]);
	rc = vr_start(ctx);
	return rc ? rc : vhu_ring_check(&ctx->s, &ctx->res, req, *ring);
}

/* ---- memory ---- */

static const struct argp_option mem_opts[] = {
	{ "backing", OPT_BACKING, "memfd|file:PATH", 0, "what backs the regions (default memfd; a file on "
	  "hugetlbfs for huge pages)", 0 },
	{ 0 }
};

static const struct argp set_mem_table_argp = {
	mem_opts, vr_parser, "SIZE[@GPA][,SIZE[@GPA]...]",
	"Create guest memory regions (sizes with K/M/G units, guest-physical address after @, default "
	"right after the previous region) and send them with SET_MEM_TABLE, one fd per region.  1 to 8 "
	"regions.  The regions stay mapped for the rest of the session.",
	NULL, NULL, NULL
};

/* Parse "64M@0x0,16M" into regions; returns the first new index. */
static int make_regions(struct vhu_ctx *ctx, const char *req, const char *spec, const char *backing, unsigned *first,
			unsigned *n)
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
			rc = vhu_usage(ctx, "invalid region '%s%s%s' (SIZE[@GPA], e.g. 64M@0x100000)", tok, at ? "@" : "",
				       at ? at : "");
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

static void show_regions(struct vhu_ctx *ctx, unsigned first, unsigned n)
{
	vhu_out_open_list("regions", "Regions");
	for (unsigned i = first; i < first + n; i++) {
		const struct vhu_region *g = &ctx->res.regions[i];
		char label[32];

		snprintf(label, sizeof(label), "region %u", i);
		vhu_out_open(NULL, label);
		vhu_out_hex("guest_phys_addr", "guest_phys_addr", g->gpa, 1);
		vhu_out_uint("memory_size", "memory_size", g->size, "bytes");
		vhu_out_hex("userspace_addr", "userspace_addr", g->uva, 1);
		vhu_out_hex("mmap_offset", "mmap_offset", g->mmap_offset, 1);
		vhu_out_close();
	}
	vhu_out_close_list();
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
		rc = vr_start(ctx);
	if (!rc)
		rc = vhu_set_mem_table(&ctx->s, &ctx->res, first, n);
	if (rc) {
		vhu_region_drop_from(&ctx->res, first);
		return rc;
	}
	show_regions(ctx, first, n);
	return VHU_OK;
}

static const struct argp add_mem_reg_argp = {
	mem_opts, vr_parser, "SIZE[@GPA]",
	"Create one guest memory region and add it with ADD_MEM_REG (needs "
	"VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS); refused locally once the back-end's "
	"GET_MAX_MEM_SLOTS limit is reached.",
	NULL, NULL, NULL
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
	rc = vr_start(ctx);
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
	show_regions(ctx, first, 1);
	return VHU_OK;
}

static const struct argp rem_mem_reg_argp = {
	NULL, vr_parser, "REGION",
	"Remove region number REGION (as listed by set-mem-table or add-mem-reg in this session) with "
	"REM_MEM_REG.  The region then leaves the session: removing it again is refused (--force sends it).",
	NULL, NULL, NULL
};

int cmd_rem_mem_reg(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	uint64_t idx;
	int rc = vhu_cmd_parse(ctx, &rem_mem_reg_argp, argc, argv, &a);

	if (rc || (rc = operand_u64(ctx, &a, 0, "REGION", VHU_MEM_MAX_REGIONS - 1, &idx)))
		return rc;
	if (idx >= ctx->res.nregions)
		return vhu_usage(ctx, "REM_MEM_REG: no region %llu in this session", (unsigned long long)idx);
	rc = vr_start(ctx);
	if (!rc)
		rc = vhu_rem_mem_reg(&ctx->s, &ctx->res, (unsigned)idx);
	if (rc)
		return rc;
	vhu_out_uint("removed", "Removed region", idx, NULL);
	return VHU_OK;
}

/* ---- rings ---- */

static const struct argp ring_num_argp = { NULL, vr_parser, "RING NUM", "Set the size of RING (SET_VRING_NUM).", NULL, NULL, NULL };
static const struct argp ring_base_argp = {
	NULL, vr_parser, "RING BASE",
	"Set the next available index of RING (SET_VRING_BASE; split rings: bits 0-15).", NULL, NULL, NULL
};
static const struct argp ring_only_argp = {
	NULL, vr_parser, "RING",
	"Stop RING and print its base (GET_VRING_BASE).  The back-end may first finish in-flight requests.",
	NULL, NULL, NULL
};

static int ring_state(struct vhu_ctx *ctx, int argc, char **argv, const struct argp *argp, uint32_t code,
		      const char *what, uint64_t max)
{
	struct vr_args a = { 0 };
	const struct vhu_req_desc *d = vhu_req_by_code(code);
	uint64_t ring, num;
	int rc = vhu_cmd_parse(ctx, argp, argc, argv, &a);

	if (rc || (rc = operand_u64(ctx, &a, 0, "RING", UINT32_MAX, &ring)) ||
	    (rc = operand_u64(ctx, &a, 1, what, max, &num)))
		return rc;
	if (a.nop > 2)
		return vhu_usage(ctx, "unexpected argument '%s'", a.op[2]);
	rc = vr_start(ctx);
	if (!rc)
		rc = vhu_ring_check(&ctx->s, &ctx->res, d->name, ring);
	if (!rc)
		rc = vhu_set_vring_state(&ctx->s, code, (uint32_t)ring, (uint32_t)num);
	if (rc)
		return rc;
	vhu_out_uint("ring", "Ring", ring, NULL);
	vhu_out_uint(code == VHOST_USER_SET_VRING_NUM ? "num" : "base", code == VHOST_USER_SET_VRING_NUM ? "Size" : "Base", num, NULL);
	if (code == VHOST_USER_SET_VRING_BASE && num > 0xffff && !vhu_ring_packed(&ctx->s))
		vhu_out_warn("SET_VRING_BASE: base %llu does not fit the 16-bit index of a split ring (back-ends "
			     "keep its low 16 bits, %llu); bits 16-31 mean something only for packed rings", (unsigned long long)num,
			     (unsigned long long)(num & 0xffff));
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
	int rc = ring_begin(ctx, &ring_only_argp, argc, argv, &a, "GET_VRING_BASE", &ring);

	if (!rc)
		rc = vhu_get_vring_base(&ctx->s, (uint32_t)ring, &base);
	if (rc)
		return rc;
	vhu_out_uint("ring", "Ring", ring, NULL);
	vhu_out_uint("base", "Base", base, NULL);
	if (base >> 16)
		vhu_out_warn("GET_VRING_BASE: bits 16-31 set (0x%x): packed-ring encoding or a back-end bug", base);
	return VHU_OK;
}

static const struct argp_option addr_opts[] = {
	{ "auto", OPT_AUTO, NULL, 0, "lay out a split ring of --size descriptors in guest memory region 0", 0 },
	{ "size", OPT_RSIZE, "NUM", 0, "ring size for --auto (default 128)", 0 },
	{ "desc", OPT_DESC, "ADDR", 0, "descriptor table user address", 0 },
	{ "used", OPT_USED, "ADDR", 0, "used ring user address", 0 },
	{ "avail", OPT_AVAIL, "ADDR", 0, "available ring user address", 0 },
	{ "log", OPT_LOG, NULL, 0, "set VHOST_VRING_F_LOG (log used-ring writes)", 0 },
	{ 0 }
};

static const struct argp addr_argp = {
	addr_opts, vr_parser, "RING",
	"Set the addresses of RING (SET_VRING_ADDR): --auto lays out a ring in the memory table, or give "
	"--desc, --used and --avail (user addresses inside the memory table).",
	NULL, NULL, NULL
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

static int do_ring_addr(struct vhu_ctx *ctx, uint32_t ring, uint32_t num, bool log, struct vhost_vring_addr *addr)
{
	int rc = vhu_ring_layout(&ctx->s, &ctx->res, ring, num, addr);

	if (rc)
		return rc;
	if (log)
		addr->flags |= VHOST_VRING_F_LOG;
	return vhu_set_vring_addr(&ctx->s, addr);
}

static void show_addr(const struct vhost_vring_addr *addr)
{
	vhu_out_uint("ring", "Ring", addr->index, NULL);
	vhu_out_hex("desc", "Descriptor table", addr->desc_user_addr, 1);
	vhu_out_hex("used", "Used ring", addr->used_user_addr, 1);
	vhu_out_hex("avail", "Available ring", addr->avail_user_addr, 1);
	vhu_out_hex("flags", "Flags", addr->flags, 1);
}

int cmd_set_vring_addr(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	struct vhost_vring_addr addr = { 0 };
	uint64_t ring;
	int rc = vhu_cmd_parse(ctx, &addr_argp, argc, argv, &a);

	if (rc || (rc = operand_u64(ctx, &a, 0, "RING", UINT32_MAX, &ring)))
		return rc;
	if (a.autolay == (a.have_desc || a.have_used || a.have_avail))
		return vhu_usage(ctx, "give either --auto or all of --desc, --used and --avail");
	if (!a.autolay && !(a.have_desc && a.have_used && a.have_avail))
		return vhu_usage(ctx, "--desc, --used and --avail are all needed");
	rc = vr_start(ctx);
	if (!rc)
		rc = vhu_ring_check(&ctx->s, &ctx->res, "SET_VRING_ADDR", ring);
	if (rc)
		return rc;
	if (a.autolay) {
		if (a.have_size && a.ring_size > 32768)
			return vhu_usage(ctx, "--size %llu is beyond 32768 descriptors", (unsigned long long)a.ring_size);
		rc = do_ring_addr(ctx, (uint32_t)ring, a.have_size ? (uint32_t)a.ring_size : 128, a.log, &addr);
	} else {
		addr = (struct vhost_vring_addr){ .index = (uint32_t)ring, .flags = a.log ? VHOST_VRING_F_LOG : 0,
						  .desc_user_addr = a.desc, .used_user_addr = a.used,
						  .avail_user_addr = a.avail };
		if (!ctx->force && (!inside_table(&ctx->res, a.desc, 16) || !inside_table(&ctx->res, a.used, 6) ||
				    !inside_table(&ctx->res, a.avail, 6)))
			return vhu_usage(ctx, "SET_VRING_ADDR: addresses must lie inside the memory table sent in this "
					      "session (--force sends them anyway)");
		rc = vhu_set_vring_addr(&ctx->s, &addr);
	}
	if (rc)
		return rc;
	show_addr(&addr);
	return VHU_OK;
}

static const struct argp_option fd_opts[] = {
	{ "nofd", OPT_NOFD, NULL, 0, "send no fd and set the invalid-fd flag (bit 8): polling mode", 0 },
	{ 0 }
};

static const struct argp fd_argp = {
	fd_opts, vr_parser, "RING",
	"Give RING an eventfd created by vhuctl and kept open for the session, or none with --nofd.",
	NULL, NULL, NULL
};

static int ring_fd(struct vhu_ctx *ctx, int argc, char **argv, uint32_t code)
{
	struct vr_args a = { 0 };
	const struct vhu_req_desc *d = vhu_req_by_code(code);
	uint64_t ring;
	int fd = -1;
	int rc = ring_begin(ctx, &fd_argp, argc, argv, &a, d->name, &ring);

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
	NULL, vr_parser, "RING on|off",
	"Enable or disable RING (SET_VRING_ENABLE; needs VHOST_USER_F_PROTOCOL_FEATURES acknowledged with "
	"set-features earlier in the session).",
	NULL, NULL, NULL
};

int cmd_set_vring_enable(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	uint64_t ring;
	bool on;
	int rc = vhu_cmd_parse(ctx, &enable_argp, argc, argv, &a);

	if (rc || (rc = operand_u64(ctx, &a, 0, "RING", UINT32_MAX, &ring)))
		return rc;
	if (a.nop != 2 || (strcmp(a.op[1], "on") && strcmp(a.op[1], "off") && strcmp(a.op[1], "1") &&
			   strcmp(a.op[1], "0")))
		return vhu_usage(ctx, "set-vring-enable needs RING and on or off");
	on = !strcmp(a.op[1], "on") || !strcmp(a.op[1], "1");
	rc = vr_start(ctx);
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

/* ---- setup ---- */

static const struct argp_option setup_opts[] = {
	{ "rings", OPT_RINGS, "N", 0, "rings to bring up (default: 2 with --type net, else GET_QUEUE_NUM when offered, else 1)", 0 },
	{ "size", OPT_RSIZE, "NUM", 0, "descriptors per ring (default 128)", 0 },
	{ "memory", OPT_MEM, "SIZE", 0, "guest memory (default 64M)", 0 },
	{ "backing", OPT_BACKING, "memfd|file:PATH", 0, "what backs guest memory (default memfd)", 0 },
	{ 0 }
};

static const struct argp setup_argp = {
	setup_opts, vr_parser, "",
	"Do the bring-up a hypervisor does and report each step: GET_FEATURES, GET/SET_PROTOCOL_FEATURES, "
	"SET_OWNER, SET_FEATURES (offered bits vhuctl can drive), SET_MEM_TABLE, then per ring "
	"SET_VRING_NUM, SET_VRING_BASE 0, SET_VRING_ADDR, SET_VRING_KICK, SET_VRING_CALL and "
	"SET_VRING_ENABLE 1; with STATUS negotiated, SET_STATUS FEATURES_OK after SET_FEATURES and "
	"DRIVER_OK at the end.  Stops at the first step the back-end refuses.",
	NULL, NULL, NULL
};

/* Bits vhuctl cannot honour as a driver: dirty logging, IOMMU
 * translation, packed rings. */
#define SETUP_FEATURE_EXCLUDE                                                                      \
	(VHU_BIT(VHOST_F_LOG_ALL) | VHU_BIT(33) | VHU_BIT(VIRTIO_F_RING_PACKED))

static void setup_step_done(const char *req, int64_t ring)
{
	if (!vhu_out_is_json()) {
		if (ring >= 0)
			vhu_out_text("%s ring %lld: ok", req, (long long)ring);
		else
			vhu_out_text("%s: ok", req);
		return;
	}
	vhu_out_open(NULL, req);
	vhu_out_string("request", "request", req);
	if (ring >= 0)
		vhu_out_uint("ring", "ring", (uint64_t)ring, NULL);
	vhu_out_close();
}

int cmd_setup(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	struct vhu_session *s = &ctx->s;
	const char *step = "GET_FEATURES";
	uint64_t feats = 0, rings;
	unsigned first, n;
	int64_t cur_ring = -1; /* -1: a device-wide step */
	char memspec[32];
	int rc = vhu_cmd_parse(ctx, &setup_argp, argc, argv, &a);

	if (rc)
		return rc;
	if (a.have_size && (a.ring_size == 0 || a.ring_size > 32768 || (a.ring_size & (a.ring_size - 1))))
		return vhu_usage(ctx, "--size must be a power of 2 in 1..32768");
	rc = vr_start(ctx);
	if (rc)
		return rc;
	/* Default: every queue; for net, one queue pair (rx + tx), since net
	 * back-ends report their maximum, not what is configured. */
	rings = a.have_rings		       ? a.rings
		: vhu_ctx_dev(ctx) == VHU_DEV_NET ? 2
		: ctx->res.queue_num	       ? ctx->res.queue_num
					       : 1;
	if (!rings || (rc = vhu_ring_check(s, &ctx->res, "setup", rings - 1)))
		return rc ? rc : vhu_usage(ctx, "--rings must be at least 1");
	vhu_out_open_list("steps", "Steps");
	/* Each step done: {"request": NAME[, "ring": N]}, as batch steps are
	 * objects too. */
#define STEP(name, call)                                                                           \
	do {                                                                                       \
		step = (name);                                                                     \
		if ((rc = (call)))                                                                 \
			goto out;                                                                  \
		setup_step_done(step, cur_ring);                                                   \
	} while (0)
	STEP("SET_OWNER", s->owner_set ? VHU_OK : vhu_set_owner(s));
	feats = s->features & ~SETUP_FEATURE_EXCLUDE;
	STEP("SET_FEATURES", vhu_set_features(s, feats));
	/* With STATUS the back-end follows the driver's status byte; DPDK
	 * only treats the device as ready once DRIVER_OK is set. */
	if (vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_STATUS))
		STEP("SET_STATUS", vhu_set_status(s, 0x1 | 0x2 | 0x8));
	snprintf(memspec, sizeof(memspec), "%llu", (unsigned long long)(a.mem ? a.mem : 64ull << 20));
	STEP("SET_MEM_TABLE", make_regions(ctx, "SET_MEM_TABLE", memspec, a.backing, &first, &n) ?: vhu_set_mem_table(s, &ctx->res, first, n));
	for (uint32_t r = 0; r < rings; r++) {
		uint32_t num = a.have_size ? (uint32_t)a.ring_size : 128;
		struct vhost_vring_addr addr;
		int fd;

		cur_ring = r;
		STEP("SET_VRING_NUM", vhu_set_vring_state(s, VHOST_USER_SET_VRING_NUM, r, num));
		STEP("SET_VRING_BASE", vhu_set_vring_state(s, VHOST_USER_SET_VRING_BASE, r, 0));
		STEP("SET_VRING_ADDR", do_ring_addr(ctx, r, num, false, &addr));
		STEP("SET_VRING_KICK", vhu_ring_eventfd(s, &ctx->res, VHOST_USER_SET_VRING_KICK, r, &fd) ?:
					       vhu_set_vring_fd(s, VHOST_USER_SET_VRING_KICK, r, fd));
		STEP("SET_VRING_CALL", vhu_ring_eventfd(s, &ctx->res, VHOST_USER_SET_VRING_CALL, r, &fd) ?:
					       vhu_set_vring_fd(s, VHOST_USER_SET_VRING_CALL, r, fd));
		if (feats & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES))
			STEP("SET_VRING_ENABLE", vhu_set_vring_enable(s, r, true));
	}
	cur_ring = -1;
	if (vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_STATUS))
		STEP("SET_STATUS", vhu_set_status(s, 0x1 | 0x2 | 0x4 | 0x8));
#undef STEP
out:
	vhu_out_close_list();
	vhu_out_uint("rings", "Rings", rings, NULL);
	if (s->features_set)
		vhu_show_mask(ctx, "acked_features", "Acked features", feats, VHU_BITS_FEATURES);
	if (rc) {
		vhu_out_string("failed_step", "Failed step", step);
		if (cur_ring >= 0)
			vhu_out_uint("failed_ring", "Failed ring", (uint64_t)cur_ring, NULL);
	}
	return rc;
}

/* ---- inflight tracking, dirty log, in-band kick ---- */

/* Bytes of an inflight buffer read for decoding: 1024 queues of 32768
 * descriptors stay under it. */
#define INFLIGHT_READ_MAX (UINT64_C(1) << 30)

static const struct argp_option inflight_opts[] = {
	{ "queues", OPT_RINGS, "N", 0, "queues the buffer covers (default: GET_QUEUE_NUM when offered, else 1)", 0 },
	{ "queue-size", OPT_RSIZE, "N", 0, "descriptors per queue (default 128)", 0 },
	{ 0 }
};

static const struct argp get_inflight_argp = {
	inflight_opts, vr_parser, "",
	"Ask the back-end for its inflight I/O tracking buffer (GET_INFLIGHT_FD, needs "
	"VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD), check the returned fd with fstat, read it (never mapped) and "
	"decode the split-ring region of every queue.  The buffer is kept for set-inflight-fd.",
	NULL, NULL, NULL
};

int cmd_get_inflight_fd(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	struct vhu_res *r = &ctx->res;
	uint64_t nq, qs;
	uint8_t *map = NULL;
	size_t maplen = 0;
	int rc = vhu_cmd_parse(ctx, &get_inflight_argp, argc, argv, &a);

	if (rc)
		return rc;
	if ((a.have_rings && (a.rings == 0 || a.rings > UINT16_MAX)) ||
	    (a.have_size && (a.ring_size == 0 || a.ring_size > 32768)))
		return vhu_usage(ctx, "--queues must be 1..65535 and --queue-size 1..32768");
	rc = vr_start(ctx);
	if (rc)
		return rc;
	nq = a.have_rings ? a.rings : r->queue_num ? r->queue_num : 1;
	qs = a.have_size ? a.ring_size : 128;
	rc = vhu_get_inflight_fd(&ctx->s, r, (uint16_t)nq, (uint16_t)qs);
	if (rc)
		return rc;
	vhu_out_open("inflight", "Inflight buffer");
	vhu_out_uint("mmap_size", "mmap_size", r->inflight.mmap_size, "bytes");
	vhu_out_uint("mmap_offset", "mmap_offset", r->inflight.mmap_offset, NULL);
	vhu_out_uint("num_queues", "num_queues", r->inflight.num_queues, NULL);
	vhu_out_uint("queue_size", "queue_size", r->inflight.queue_size, NULL);
	if (r->inflight.num_queues != nq || r->inflight.queue_size != qs)
		vhu_out_warn("GET_INFLIGHT_FD: reply describes %u queues of %u, asked for %llu of %llu",
			     r->inflight.num_queues, r->inflight.queue_size, (unsigned long long)nq,
			     (unsigned long long)qs);
	if (r->inflight.mmap_size < nq * vhu_inflight_stride((uint16_t)qs))
		vhu_out_warn("GET_INFLIGHT_FD: %llu bytes are fewer than the %llu a split layout needs",
			     (unsigned long long)r->inflight.mmap_size,
			     (unsigned long long)(nq * vhu_inflight_stride((uint16_t)qs)));
	if (r->inflight_fd >= 0) {
		/* Read, not map: the back-end owns the file and may shrink it
		 * after our fstat, which would SIGBUS a mapping. */
		size_t want = r->inflight.mmap_size < INFLIGHT_READ_MAX ? r->inflight.mmap_size : INFLIGHT_READ_MAX;
		ssize_t n = 0;

		map = malloc(want ? want : 1);
		while (map && maplen < want) {
			n = pread(r->inflight_fd, map + maplen, want - maplen, (off_t)(r->inflight.mmap_offset + maplen));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			maplen += (size_t)n;
		}
		if (!map || n < 0)
			vhu_out_warn("GET_INFLIGHT_FD: cannot read the buffer: %s", strerror(errno));
		else if (maplen < r->inflight.mmap_size)
			vhu_out_warn("GET_INFLIGHT_FD: decoded the first %zu of %llu bytes", maplen,
				     (unsigned long long)r->inflight.mmap_size);
	}
	vhu_out_open_list("queues", "queues");
	for (unsigned q = 0; map && q < r->inflight.num_queues; q++) {
		struct vhu_inflight_queue iq;
		char label[24];

		vhu_inflight_decode(map, maplen, r->inflight.queue_size, q, &iq);
		if (!iq.present)
			break;
		snprintf(label, sizeof(label), "queue %u", q);
		vhu_out_open(NULL, label);
		vhu_out_uint("queue", "queue", q, NULL);
		vhu_out_uint("version", "version", iq.version, NULL);
		vhu_out_uint("desc_num", "desc_num", iq.desc_num, NULL);
		vhu_out_uint("last_batch_head", "last_batch_head", iq.last_batch_head, NULL);
		vhu_out_uint("used_idx", "used_idx", iq.used_idx, NULL);
		vhu_out_uint("inflight", "inflight descriptors", iq.inflight, NULL);
		vhu_out_bool("truncated", "truncated", iq.truncated);
		vhu_out_close();
	}
	vhu_out_close_list();
	vhu_out_close();
	free(map);
	return VHU_OK;
}

static const struct argp set_inflight_argp = {
	NULL, vr_parser, "",
	"Hand the inflight buffer obtained by get-inflight-fd earlier in this session back to the back-end "
	"on the same connection (SET_INFLIGHT_FD).  A hypervisor does this after a back-end reconnects; "
	"vhuctl's buffer lives only as long as its connection, so this tests how the back-end takes the "
	"message, not a reconnection.",
	NULL, NULL, NULL
};

int cmd_set_inflight_fd(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	int rc = vhu_cmd_parse(ctx, &set_inflight_argp, argc, argv, &a);

	if (rc)
		return rc;
	if (ctx->res.inflight_fd < 0)
		return vhu_usage(ctx, "SET_INFLIGHT_FD: no inflight buffer in this session (run get-inflight-fd first)");
	rc = vr_start(ctx);
	if (!rc)
		rc = vhu_set_inflight_fd(&ctx->s, &ctx->res);
	if (rc)
		return rc;
	vhu_out_uint("mmap_size", "Inflight buffer", ctx->res.inflight.mmap_size, "bytes");
	return VHU_OK;
}

static const struct argp log_base_argp = {
	NULL, vr_parser, "SIZE|ADDRESS",
	"Set the dirty-page log (SET_LOG_BASE).  With VHOST_USER_PROTOCOL_F_LOG_SHMFD negotiated, vhuctl "
	"creates a shared log of SIZE bytes (units allowed) and passes its fd.  Without it the request is "
	"refused (exit 3); with --force the operand is sent as the legacy u64 log base ADDRESS, no fd.",
	NULL, NULL, NULL
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
	rc = vr_start(ctx);
	if (rc)
		return rc;
	shmfd = vhu_pf_acked(&ctx->s, VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	rc = vhu_set_log_base(&ctx->s, &ctx->res, v, shmfd);
	if (rc)
		return rc;
	vhu_out_bool("fd", "Log fd passed", shmfd);
	vhu_out_uint(shmfd ? "size" : "address", shmfd ? "Log size" : "Log address", v, shmfd ? "bytes" : NULL);
	return VHU_OK;
}

int cmd_set_log_fd(struct vhu_ctx *ctx, int argc, char **argv)
{
	int rc = vhu_cmd_start(ctx, &vhu_noargs_argp, argc, argv, NULL, VHU_NEG_PROTOCOL);

	if (!rc)
		rc = vhu_set_log_fd(&ctx->s, &ctx->res);
	if (rc)
		return rc;
	vhu_out_bool("fd", "Log eventfd passed", true);
	return VHU_OK;
}

static const struct argp vring_kick_argp = {
	NULL, vr_parser, "RING",
	"Kick RING with an in-band message (VRING_KICK; needs VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS, "
	"which vhuctl only acks when asked with set-protocol-features).",
	NULL, NULL, NULL
};

int cmd_vring_kick(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vr_args a = { 0 };
	uint64_t ring;
	int rc = ring_begin(ctx, &vring_kick_argp, argc, argv, &a, "VRING_KICK", &ring);

	if (!rc)
		rc = vhu_set_vring_state(&ctx->s, VHOST_USER_VRING_KICK, (uint32_t)ring, 0);
	if (rc)
		return rc;
	vhu_out_uint("ring", "Ring kicked", ring, NULL);
	return VHU_OK;
}
