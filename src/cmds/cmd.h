/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command table and the context commands run in.  A command is a thin
 * function: parse its own arguments (argp), do the minimal negotiation it
 * needs on the session, call the core, hand the results to render.
 */
#ifndef VHU_CMDS_CMD_H
#define VHU_CMDS_CMD_H

#include <argp.h>
#include <stdbool.h>
#include <stdio.h>

#include "decode/bits.h"
#include "proto/chan.h"
#include "proto/mem.h"
#include "proto/session.h"
#include "render/trace.h"

struct vhu_ctx {
	/* global options */
	const char *socket;
	int timeout_ms;
	int wait_ms;
	bool json, pretty, trace, force, no_sync, stats;
	const struct vhu_dev_info *dev; /* --type, or NULL */

	/* state */
	struct vhu_session s;
	struct vhu_res res; /* guest memory, ring eventfds */
	struct vhu_chan chan; /* back-end channel (set-backend-req-fd); zeroed = none */
	struct vhu_trace_ctx tctx;
	bool in_batch;      /* commands run as steps of one session */
	bool help_shown;    /* --help/--usage handled: stop, exit 0 */
	char usage_err[256]; /* argp's message when parsing failed */
};

/* Or-ed into a command's result when its message is already on stderr
 * (a batch step's), so main does not print it twice. */
#define VHU_RC_REPORTED 0x1000

#define VHU_CMD_NO_SOCKET (1u << 0) /* runs without a back-end (list) */
#define VHU_CMD_NO_BATCH (1u << 1)  /* not allowed as a batch step */

struct vhu_cmd {
	const char *name;
	const char *summary;
	unsigned flags;
	int (*run)(struct vhu_ctx *ctx, int argc, char **argv);
};

const struct vhu_cmd *vhu_cmd_find(const char *name);
size_t vhu_cmd_count(void);
const struct vhu_cmd *vhu_cmd_at(size_t i);

/* The global options as an argp child, shared by the root parser and by
 * every command parser so options may follow the command name. */
extern const struct argp vhu_global_argp;

/*
 * Parse a command's arguments with @argp (its options and positional
 * arguments), the global options and --help.  @input is handed to the
 * command's parser as state->input.  Returns VHU_OK, VHU_E_USAGE (the
 * one-line message "CMD: problem (see `vhuctl CMD --help`)" in ctx->s.err,
 * not printed), or -1 when help was shown.
 */
int vhu_cmd_parse(struct vhu_ctx *ctx, const struct argp *argp, int argc, char **argv, void *input);

/* Connect the session (once) and apply session options.  Commands call it
 * after parsing, so --help works without a socket. */
int vhu_ctx_connect(struct vhu_ctx *ctx);
/* Apply the options (timeout, --force, --no-sync, --trace, --type) to the
 * session without connecting. */
void vhu_ctx_apply(struct vhu_ctx *ctx);

/* Global options in front of a batch line's command (`-T blk get-config`):
 * parsed into @ctx, *@cmd set to the index of the command in @argv (0 when
 * the line starts with it).  VHU_OK, VHU_E_USAGE or -1 (help shown). */
int vhu_parse_leading(struct vhu_ctx *ctx, int argc, char **argv, int *cmd);

/* Usage error with a message. */
int vhu_usage(struct vhu_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run one command line (argv[0] = command name) on @ctx. */
int vhu_dispatch(struct vhu_ctx *ctx, int argc, char **argv);

/* Device type of --type (VHU_DEV_NONE without it). */
enum vhu_dev_type vhu_ctx_dev(const struct vhu_ctx *ctx);

/* Command families. */
int cmd_probe(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_get_features(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_features(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_get_protocol_features(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_protocol_features(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_owner(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_reset_owner(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_reset_device(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_get_queue_num(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_get_max_mem_slots(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_get_status(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_status(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_raw(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_list(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_get_config(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_config(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_batch(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_mem_table(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_add_mem_reg(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_rem_mem_reg(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_vring_num(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_vring_base(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_get_vring_base(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_vring_addr(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_vring_kick(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_vring_call(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_vring_err(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_vring_enable(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_setup(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_backend_req_fd(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_watch(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_get_shared_object(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_get_shared_memory_regions(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_get_inflight_fd(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_inflight_fd(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_log_base(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_set_log_fd(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_vring_kick(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_send_rarp(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_net_set_mtu(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_device_state(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_blk(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_proxy(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_decode(struct vhu_ctx *ctx, int argc, char **argv);

/* batch: after each step, print (and answer) the back-end channel messages
 * that arrived, without waiting.  Returns @rc, or the channel's failure
 * when @rc was VHU_OK; a failed step keeps its own message. */
int vhu_chan_after_step(struct vhu_ctx *ctx, int rc);

#endif
