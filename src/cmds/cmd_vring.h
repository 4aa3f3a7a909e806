/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The argument parser shared by the memory, ring and inflight commands
 * (cmd_mem.c, cmd_ring.c, cmd_inflight.c): up to four operands and the
 * options any of them takes.
 */
#ifndef VHU_CMDS_CMD_VRING_H
#define VHU_CMDS_CMD_VRING_H

#include "cmds/cmd_common.h"

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

enum {
	OPT_NOFD = 0x400,
	OPT_AUTO,
	OPT_BACKING,
	OPT_DESC,
	OPT_USED,
	OPT_AVAIL,
	OPT_LOG,
	OPT_RINGS,
	OPT_RSIZE,
	OPT_MEM
};

/* argp parser filling a struct vr_args (state->input). */
error_t vhu_vr_parser(int key, char *arg, struct argp_state *state);
/* Operand @i as a number up to @max, named @what in the usage error. */
int vhu_vr_operand(struct vhu_ctx *ctx, const struct vr_args *a, unsigned i, const char *what, uint64_t max,
		   uint64_t *v);
/* Parse with @argp, taking exactly one operand, RING.  The command then
 * starts (vhu_cmd_start(): its row learns the queue count) and checks
 * the index with vhu_ring_check(). */
int vhu_vr_parse_ring(struct vhu_ctx *ctx, const struct argp *argp, int argc, char **argv, struct vr_args *a,
		      uint64_t *ring);

#endif
