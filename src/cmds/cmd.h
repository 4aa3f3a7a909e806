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
#include "decode/require.h"
#include "proto/chan.h"
#include "proto/mem.h"
#include "proto/replay.h"
#include "proto/session.h"
#include "render/trace.h"

struct vhu_ctx {
	/* global options */
	const char *socket;
	bool socket_given;  /* -s on the command line (not $VHUCTL_SOCKET) */
	const char *listen; /* -L: listen on this socket instead */
	int timeout_ms;
	int wait_ms;
	bool json, pretty, trace, force, no_sync, stats;
	const struct vhu_dev_info *dev; /* --type, or NULL */
	bool reconnect;			/* --reconnect: a lost connection is made again */
	int reconnect_ms;		/* its window per outage; 0: no limit */

	/* state */
	struct vhu_session s;
	struct vhu_listener lsn; /* -L */
	struct vhu_res res;	 /* guest memory, ring eventfds */
	struct vhu_chan chan;	 /* back-end channel (set-backend-req-fd); zeroed = none */
	struct vhu_trace_ctx tctx;
	struct vhu_reconnect *reconnects; /* every reconnect of the run, malloc'd */
	unsigned nreconnects;
	/* --require and --require-from: parsed with the options, resolved
	 * against --type and evaluated when the command connects (probe:
	 * after its own reads).  reqs[0, reqs_done) were evaluated. */
	struct vhu_req *reqs;
	size_t nreqs, reqs_cap, reqs_done;
	bool reqs_deferred;

	bool in_batch;		   /* commands run as steps of one session */
	bool check_only;	   /* batch --check: parse every step, connect nothing */
	unsigned lineno;	   /* the batch line of the running step, 0 outside a batch */
	bool help_shown;	   /* --help/--usage handled: stop, exit 0 */
	const struct vhu_cmd *cmd; /* the running command's row (vhu_dispatch), or NULL */
	/* The command layer's own message for a failed run: a usage error
	 * (vhu_usage(), a refused command line) or a summary (batch).  Empty
	 * when the failure is the session's, whose message is in s.err;
	 * vhu_ctx_err() gives the one to report. */
	char err[512];
};

/* Or-ed into a command's result when its message is already on stderr
 * (a batch step's), so main does not print it twice. */
#define VHU_RC_REPORTED 0x1000
/* batch --check: the step's command parsed its arguments and stopped where
 * it would have connected (vhu_cmd_start); not a failure. */
#define VHU_RC_CHECKED (-2)

#define VHU_CMD_NO_SOCKET  (1u << 0) /* runs without a back-end (list): no vhu_cmd_start() */
#define VHU_CMD_NO_BATCH   (1u << 1) /* not allowed as a batch step */
#define VHU_CMD_BATCH_ONLY (1u << 2) /* only as a batch step (reconnect; it checks) */
#define VHU_CMD_RECONNECT  (1u << 3) /* honours --reconnect */
#define VHU_CMD_QUEUES                                                                                       \
	(1u << 4) /* vhu_cmd_start() learns the queue count (GET_QUEUE_NUM                                   \
		   * with MQ) so ring indexes are checked locally */

/*
 * A row of the command table: what the command is and what it needs.
 * The command parses its arguments (vhu_cmd_parse()), checks what it can
 * without a back-end, then calls vhu_cmd_start(), which does what the
 * row says: connect, negotiate up to @level, learn the queues.
 */
struct vhu_cmd {
	const char *name;
	const char *summary;
	unsigned flags;	    /* VHU_CMD_* */
	enum vhu_neg level; /* negotiated by vhu_cmd_start() */
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
 * one-line message "CMD: problem (see `vhuctl CMD --help`)" in ctx->err,
 * not printed), or -1 when help was shown.  argp and getopt print
 * nothing: getopt's complaints are worded here as glibc words them.
 */
int vhu_cmd_parse(struct vhu_ctx *ctx, const struct argp *argp, int argc, char **argv, void *input);

/* argp_error() for the parsers of vhu_cmd_parse(): keeps the first
 * complaint of the parse as its usage error (printed by nobody here). */
void vhu_argp_error(const struct argp_state *state, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* When set (only by the build-time completion generator), vhu_cmd_parse
 * hands the command's parser to it and returns -1 as after --help: the
 * command stops before connecting.  This is how the options of every
 * command in the table are enumerated without a list kept by hand. */
extern void (*vhu_cmd_introspect)(const struct argp *argp);

/*
 * The one start of a command, after it parsed its arguments (so --help
 * works without a socket): apply the session options, connect (once),
 * then what the running command's row asks (ctx->cmd: negotiate up to
 * its level, learn the queues with VHU_CMD_QUEUES; outside a command,
 * connecting only).  Requirements not yet evaluated are resolved first
 * (a bad name is a usage error, nothing is sent) and evaluated once
 * connected, unless reqs_deferred: an unmet one is VHU_E_REQUIREMENT |
 * VHU_RC_REPORTED.  With check_only it returns VHU_RC_CHECKED after
 * resolving, without connecting.  With -L: create the socket and wait for
 * a back-end to connect, max(--wait, --timeout).
 */
int vhu_cmd_start(struct vhu_ctx *ctx);

/* Requirements (cmd_require.c).  vhu_req_add(): parse one expression
 * into ctx->reqs (0, or -1 with the message in @err).  vhu_req_prepare():
 * resolve those not yet evaluated against --type (VHU_OK or a usage
 * error).  vhu_req_check(): evaluate them against @given (probe: what it
 * read; nothing more is asked) or, when NULL, against what it asks the
 * back-end for; emits the "requirements" list (in text mode only when
 * @text), reports each unmet one on stderr.  vhu_req_free() at exit. */
int vhu_req_add(struct vhu_ctx *ctx, const char *text, char *err, size_t errlen);
int vhu_req_prepare(struct vhu_ctx *ctx);
int vhu_req_check(struct vhu_ctx *ctx, const struct vhu_req_facts *given, bool text);
void vhu_req_free(struct vhu_ctx *ctx);
/* The device type config requirements not yet evaluated name, for a
 * command without --type choosing how much config space to read;
 * VHU_DEV_NONE when none (the first one's when several). */
enum vhu_dev_type vhu_req_config_dev(const struct vhu_ctx *ctx);
/* Apply the options (timeout, --force, --no-sync, --trace, --type) to the
 * session without connecting. */
void vhu_ctx_apply(struct vhu_ctx *ctx);

/* Global options in front of a batch line's command (`-T blk get-config`):
 * parsed into @ctx, *@cmd set to the index of the command in @argv (0 when
 * the line starts with it).  VHU_OK, VHU_E_USAGE or -1 (help shown). */
int vhu_parse_leading(struct vhu_ctx *ctx, int argc, char **argv, int *cmd);

/* Usage error with a message (in ctx->err); VHU_E_USAGE. */
int vhu_usage(struct vhu_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The command layer's own failure @rc with a message (in ctx->err); @rc. */
int vhu_ctx_fail(struct vhu_ctx *ctx, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The message of the failed run: ctx->err, or the session's when that is
 * empty.  Writable (sizeof(ctx->err) bytes), for a command that puts its
 * own words in front. */
char *vhu_ctx_err(struct vhu_ctx *ctx);
/* A command naming itself in front of its failure: when @rc failed and
 * its message (vhu_ctx_err()) does not start with @tag, it becomes
 * "WHAT: message", WHAT formatted from @fmt. */
void vhu_ctx_err_prefix(struct vhu_ctx *ctx, int rc, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Forget both messages (a batch step starts). */
void vhu_ctx_clear_err(struct vhu_ctx *ctx);

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
int cmd_fs(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_net(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_bench(struct vhu_ctx *ctx, int argc, char **argv);

int cmd_reconnect(struct vhu_ctx *ctx, int argc, char **argv);

/* ---- reconnect (cmd_reconnect.c) ---- */

/* One reconnect, as reported. */
struct vhu_reconnect {
	char cause[256];	      /* why: the error that showed the loss, or "requested" */
	int64_t duration_ms;	      /* from the loss to the end of the replay */
	unsigned attempts;	      /* connections tried (accepted, with -L) */
	unsigned line;		      /* batch: the step's line, else 0 */
	uint64_t after_messages;      /* watch: messages shown before it */
	struct vhu_replay_report rep; /* what was replayed */
};

/*
 * The connection is gone (or is to be made again: a `reconnect` step):
 * connect again to -s PATH, retrying with a back-off of 50 ms doubling to
 * 1 s, or accept again on -L PATH, until --reconnect's window (or, for a
 * `reconnect` step without --reconnect, --timeout / --wait) has passed;
 * then replay the session's log (proto/replay.h, with @h).  A connection
 * that fails during the replay counts as one more attempt.  Reports the
 * reconnect on stderr and keeps it for JSON; *@out (may be NULL) points
 * to the record.  VHU_OK, 128 + signal, VHU_E_CONNECT when the window
 * passed, or the replay's failure.
 */
int vhu_ctx_reconnect(struct vhu_ctx *ctx, const char *cause, const struct vhu_replay_hooks *h,
		      struct vhu_reconnect **out);
/* vhu_ctx_reconnect() for a batch step (`reconnect`, or --reconnect
 * between steps), reported in the step's "reconnect" object. */
int vhu_ctx_reconnect_step(struct vhu_ctx *ctx, const char *cause);
/* The "reconnects" member (JSON), at the end of a run that reconnected or
 * was given --reconnect. */
void vhu_show_reconnects(struct vhu_ctx *ctx);
/* Free the records (end of the run). */
void vhu_reconnects_free(struct vhu_ctx *ctx);

int cmd_proxy(struct vhu_ctx *ctx, int argc, char **argv);
int cmd_decode(struct vhu_ctx *ctx, int argc, char **argv);

/* batch: after each step, print (and answer) the back-end channel messages
 * that arrived, without waiting.  Returns @rc, or the channel's failure
 * when @rc was VHU_OK; a failed step keeps its own message. */
int vhu_chan_after_step(struct vhu_ctx *ctx, int rc);

#endif
