/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench -T net: how fast a virtio-net back-end takes frames (--rw tx) or
 * delivers them (--rw rx), measured from the front-end side.  cmd_bench
 * parses the command line and hands the net runs here.
 */
#ifndef VHU_CMDS_CMD_BENCH_NET_H
#define VHU_CMDS_CMD_BENCH_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "cmds/cmd_drv.h"

struct vhu_bench_net_args {
	struct vhu_drv_args d;
	bool rx;
	uint64_t bs; /* tx: frame bytes, with have_bs */
	uint64_t qd; /* buffers in flight, with have_qd */
	bool have_bs, have_qd;
	int runtime_ms, ramp_ms;
	bool progress;
};

/* The whole command, from the checks of the options on (nothing was sent
 * yet).  Returns the exit status. */
int vhu_bench_net(struct vhu_ctx *ctx, struct vhu_bench_net_args *a);

#endif
