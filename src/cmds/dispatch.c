/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command table, the global options shared by every parser, and the
 * one "run this argv on this session" function used by main and batch.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmds/cmd.h"
#include "render/out.h"
#include "util/parse.h"

/* Sorted by name; `vhuctl --help`, the man page and tests list them. */
static const struct vhu_cmd cmds[] = {
	{ .name = "add-mem-reg",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_add_mem_reg,
	  .summary = "add one guest memory region (ADD_MEM_REG, CONFIGURE_MEM_SLOTS)" },
	{ .name = "batch",
	  .level = VHU_NEG_NONE,
	  .flags = VHU_CMD_NO_BATCH | VHU_CMD_RECONNECT,
	  .run = cmd_batch,
	  .summary = "run many commands on one connection (FILE or - for stdin)" },
	{ .name = "bench",
	  .level = VHU_NEG_NONE,
	  .flags = VHU_CMD_NO_BATCH | VHU_CMD_RECONNECT,
	  .run = cmd_bench,
	  .summary = "measure a virtio-blk back-end (IOPS, latency percentiles) or a virtio-net one "
		     "(packets/s)" },
	{ .name = "blk",
	  .level = VHU_NEG_NONE,
	  .flags = VHU_CMD_NO_BATCH | VHU_CMD_RECONNECT,
	  .run = cmd_blk,
	  .summary = "virtio-blk I/O in one session: get-id, read, write, flush, discard, write-zeroes" },
	{ .name = "decode",
	  .level = VHU_NEG_NONE,
	  .flags = VHU_CMD_NO_SOCKET | VHU_CMD_NO_BATCH,
	  .run = cmd_decode,
	  .summary = "print a capture of `proxy --pcapng` as the proxy did (text or JSON lines)" },
	{ .name = "device-state",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_device_state,
	  .summary = "save or load the back-end's device state, or check the last transfer "
		     "(SET_DEVICE_STATE_FD, CHECK_DEVICE_STATE)" },
	{ .name = "fs",
	  .level = VHU_NEG_NONE,
	  .flags = VHU_CMD_NO_BATCH,
	  .run = cmd_fs,
	  .summary =
		  "virtio-fs through FUSE in one session: ls, cat, stat of a path in the shared directory" },
	{ .name = "get-config",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_get_config,
	  .summary = "read and decode the device config space (GET_CONFIG)" },
	{ .name = "get-features",
	  .level = VHU_NEG_NONE,
	  .run = cmd_get_features,
	  .summary = "show the virtio feature bits the back-end offers (GET_FEATURES)" },
	{ .name = "get-inflight-fd",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_get_inflight_fd,
	  .summary = "get and decode the inflight I/O tracking buffer (GET_INFLIGHT_FD)" },
	{ .name = "get-max-mem-slots",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_get_max_mem_slots,
	  .summary = "show the memory slot limit (GET_MAX_MEM_SLOTS)" },
	{ .name = "get-protocol-features",
	  .level = VHU_NEG_FEATURES,
	  .run = cmd_get_protocol_features,
	  .summary = "show the vhost-user protocol features offered (GET_PROTOCOL_FEATURES)" },
	{ .name = "get-queue-num",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_get_queue_num,
	  .summary = "show the maximum number of queues (GET_QUEUE_NUM)" },
	{ .name = "get-shared-memory-regions",
	  .level = VHU_NEG_NONE,
	  .run = cmd_get_shared_memory_regions,
	  .summary = "crosvm extension, not in the vhost-user spec: shared memory regions "
		     "(GET_SHARED_MEMORY_REGIONS, 1004)" },
	{ .name = "get-shared-object",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_get_shared_object,
	  .summary = "look up a shared object (dma-buf) by UUID (GET_SHARED_OBJECT)" },
	{ .name = "get-status",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_get_status,
	  .summary = "show the virtio device status byte (GET_STATUS)" },
	{ .name = "get-vring-base",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_get_vring_base,
	  .summary = "stop a ring and print its base (GET_VRING_BASE)" },
	{ .name = "list",
	  .level = VHU_NEG_NONE,
	  .flags = VHU_CMD_NO_SOCKET,
	  .run = cmd_list,
	  .summary = "list requests, feature bits, protocol features, status bits, device types" },
	{ .name = "net",
	  .level = VHU_NEG_NONE,
	  .flags = VHU_CMD_NO_BATCH | VHU_CMD_RECONNECT,
	  .run = cmd_net,
	  .summary = "virtio-net frames in one session: send, recv (pcap files)" },
	{ .name = "net-set-mtu",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_net_set_mtu,
	  .summary = "tell a net back-end the MTU (NET_SET_MTU)" },
	{ .name = "probe",
	  .level = VHU_NEG_NONE,
	  .run = cmd_probe,
	  .summary = "everything the back-end tells without changing it: features, queues, slots, status, "
		     "config" },
	{ .name = "proxy",
	  .level = VHU_NEG_NONE,
	  .flags = VHU_CMD_NO_SOCKET | VHU_CMD_NO_BATCH,
	  .run = cmd_proxy,
	  .summary = "relay front-ends to a back-end and print every message decoded (text or JSON lines)" },
	{ .name = "raw",
	  .level = VHU_NEG_NONE,
	  .run = cmd_raw,
	  .summary = "send any request by name or code with a hex payload and print the reply" },
	{ .name = "reconnect",
	  .level = VHU_NEG_NONE,
	  .flags = VHU_CMD_BATCH_ONLY,
	  .run = cmd_reconnect,
	  .summary = "batch step: connect again and replay what the batch set up so far" },
	{ .name = "rem-mem-reg",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_rem_mem_reg,
	  .summary = "remove a guest memory region added earlier (REM_MEM_REG)" },
	{ .name = "reset-device",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_reset_device,
	  .summary = "reset the device (RESET_DEVICE)" },
	{ .name = "reset-owner",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_reset_owner,
	  .summary = "release ownership (RESET_OWNER, deprecated by the spec)" },
	{ .name = "send-rarp",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_send_rarp,
	  .summary = "ask a net back-end to broadcast a RARP for a MAC (SEND_RARP)" },
	{ .name = "set-backend-req-fd",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_set_backend_req_fd,
	  .summary = "open the back-end channel (SET_BACKEND_REQ_FD); its messages are printed" },
	{ .name = "set-config",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_set_config,
	  .summary = "write device config space bytes or a named field (SET_CONFIG)" },
	{ .name = "set-features",
	  .level = VHU_NEG_FEATURES,
	  .run = cmd_set_features,
	  .summary = "acknowledge virtio feature bits (SET_FEATURES)" },
	{ .name = "set-inflight-fd",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_set_inflight_fd,
	  .summary = "hand the inflight buffer back (SET_INFLIGHT_FD)" },
	{ .name = "set-log-base",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_set_log_base,
	  .summary = "set the dirty-page log (SET_LOG_BASE)" },
	{ .name = "set-log-fd",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_set_log_fd,
	  .summary = "eventfd signalled after log updates (SET_LOG_FD)" },
	{ .name = "set-mem-table",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_set_mem_table,
	  .summary = "give the back-end guest memory regions (SET_MEM_TABLE)" },
	{ .name = "set-owner",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_set_owner,
	  .summary = "claim the back-end for this connection (SET_OWNER)" },
	{ .name = "set-protocol-features",
	  .level = VHU_NEG_FEATURES,
	  .run = cmd_set_protocol_features,
	  .summary = "acknowledge protocol features (SET_PROTOCOL_FEATURES)" },
	{ .name = "set-status",
	  .level = VHU_NEG_PROTOCOL,
	  .run = cmd_set_status,
	  .summary = "set the virtio device status byte (SET_STATUS)" },
	{ .name = "set-vring-addr",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_set_vring_addr,
	  .summary = "ring addresses (SET_VRING_ADDR), or --auto to lay out a ring in guest memory" },
	{ .name = "set-vring-base",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_set_vring_base,
	  .summary = "next available index of a ring (SET_VRING_BASE)" },
	{ .name = "set-vring-call",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_set_vring_call,
	  .summary = "call eventfd of a ring (SET_VRING_CALL)" },
	{ .name = "set-vring-enable",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_set_vring_enable,
	  .summary = "enable or disable a ring (SET_VRING_ENABLE)" },
	{ .name = "set-vring-err",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_set_vring_err,
	  .summary = "error eventfd of a ring (SET_VRING_ERR)" },
	{ .name = "set-vring-kick",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_set_vring_kick,
	  .summary = "kick eventfd of a ring; starts it (SET_VRING_KICK)" },
	{ .name = "set-vring-num",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_set_vring_num,
	  .summary = "size of a ring (SET_VRING_NUM)" },
	{ .name = "setup",
	  .level = VHU_NEG_NONE,
	  .run = cmd_setup,
	  .summary = "the bring-up a hypervisor does: features, owner, memory, every ring, enable" },
	{ .name = "vring-kick",
	  .level = VHU_NEG_PROTOCOL,
	  .flags = VHU_CMD_QUEUES,
	  .run = cmd_vring_kick,
	  .summary = "kick a ring in-band (VRING_KICK, INBAND_NOTIFICATIONS)" },
	{ .name = "watch",
	  .level = VHU_NEG_OWNER,
	  .flags = VHU_CMD_RECONNECT,
	  .run = cmd_watch,
	  .summary = "open the back-end channel and print its requests as they arrive" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

const struct vhu_cmd *vhu_cmd_find(const char *name)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

size_t vhu_cmd_count(void)
{
	return NCMDS;
}

const struct vhu_cmd *vhu_cmd_at(size_t i)
{
	return i < NCMDS ? &cmds[i] : NULL;
}

/* The parse in progress: argp children have no other way to reach it. */
static struct vhu_ctx *g_ctx;
/* Its first complaint (vhu_argp_error()), and where argp stood when it
 * failed (ARGP_KEY_ERROR): argp parses with ARGP_NO_ERRS and prints
 * nothing itself. */
static char g_argp_msg[512];
static int g_err_next;

/* Help text goes to stdout, except inside a JSON batch: there stdout
 * carries exactly one document. */
static FILE *help_stream(const struct vhu_ctx *ctx)
{
	static FILE *null;

	/* batch --check shows nothing, help included. */
	if (ctx->check_only) {
		if (!null)
			null = fopen("/dev/null", "we");
		if (null)
			return null;
	}
	return ctx->in_batch && vhu_out_is_json() ? stderr : stdout;
}

void vhu_argp_error(const struct argp_state *state, const char *fmt, ...)
{
	va_list ap;

	(void)state;
	if (g_argp_msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(g_argp_msg, sizeof(g_argp_msg), fmt, ap);
	va_end(ap);
}

enum {
	OPT_TRACE = 0x100,
	OPT_USAGE,
	OPT_NO_SYNC,
	OPT_STATS,
	OPT_RECONNECT,
	OPT_REQUIRE,
	OPT_REQUIRE_FROM,
};

/* --reconnect without a value: a minute per outage. */
#define RECONNECT_DEFAULT_MS 60000

static const struct argp_option global_opts[] = {
	{ NULL, 0, NULL, 0, "Global options (before or after COMMAND):", -2 },
	{ "socket", 's', "PATH", 0, "back-end Unix socket (default: $VHUCTL_SOCKET)", -2 },
	{ "listen", 'L', "PATH", 0,
	  "create the socket PATH and wait for a back-end to connect to it (DPDK client=1); not with -s",
	  -2 },
	{ "timeout", 't', "SECONDS", 0,
	  "limit for every wait for the back-end (default 5, fractions allowed)", -2 },
	{ "wait", 'w', "SECONDS", 0,
	  "retry connecting for up to SECONDS while the socket is missing or refuses connections", -2 },
	{ "json", 'j', NULL, 0, "print one JSON document on stdout", -2 },
	{ "pretty", 'p', NULL, 0, "pretty-print JSON (implies --json)", -2 },
	{ "type", 'T', "TYPE", 0,
	  "device type for naming feature bits and decoding config (see `vhuctl list types`)", -2 },
	{ "trace", OPT_TRACE, NULL, 0, "print every message sent and received on stderr", -2 },
	{ "force", 'f', NULL, 0,
	  "send requests even when their feature is not negotiated (testing back-ends)", -2 },
	{ "no-sync", OPT_NO_SYNC, NULL, 0,
	  "do not follow requests without a reply by a GET_FEATURES round trip (barrier)", -2 },
	{ "stats", OPT_STATS, NULL, 0,
	  "report messages, bytes and open fds at start and exit (stderr; JSON member \"stats\")", -2 },
	{ "reconnect", OPT_RECONNECT, "MAX_SECONDS", OPTION_ARG_OPTIONAL,
	  "batch, watch, blk, bench, net send: when the connection is lost, connect again (or accept again "
	  "with -L) for up to "
	  "MAX_SECONDS per outage (default 60, 0: no limit) and replay the bring-up",
	  -2 },
	{ "require", OPT_REQUIRE, "EXPR", 0,
	  "exit 4 unless the back-end meets EXPR (repeatable): feature=NAME, protocol-feature=NAME, "
	  "queues>=N, mem-slots>=N, status=NAME, config.FIELD>=VALUE (also = != < <= >)",
	  -2 },
	{ "require-from", OPT_REQUIRE_FROM, "FILE", 0,
	  "--require each line of FILE (# comments, blank lines)", -2 },
	{ "help", '?', NULL, 0, "give this help list", -1 },
	{ "usage", OPT_USAGE, NULL, 0, "give a short usage message", -1 },
	{ 0 }
};

/* --require-from FILE: one expression per line; blank lines and lines
 * starting with # are skipped.  The first bad line is the usage error. */
static error_t require_from(struct vhu_ctx *ctx, struct argp_state *state, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, err[600];
	size_t cap = 0;
	unsigned n = 0;
	error_t e = 0;

	if (!f) {
		vhu_argp_error(state, "cannot open --require-from %s: %s", path, strerror(errno));
		return EINVAL;
	}
	for (;;) {
		char *p;

		errno = 0;
		if (getline(&line, &cap, f) < 0) {
			if (ferror(f)) {
				vhu_argp_error(state, "cannot read --require-from %s: %s", path,
					       strerror(errno ? errno : EIO));
				e = EINVAL;
			}
			break;
		}
		n++;
		line[strcspn(line, "\r\n")] = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (!*p || *p == '#')
			continue;
		if (vhu_req_add(ctx, p, err, sizeof(err))) {
			vhu_argp_error(state, "--require-from %s, line %u: invalid requirement %s", path, n,
				       err);
			e = EINVAL;
			break;
		}
	}
	free(line);
	fclose(f);
	return e;
}

static error_t global_parser(int key, char *arg, struct argp_state *state)
{
	struct vhu_ctx *ctx = g_ctx;
	uint64_t v;

	switch (key) {
	case 's':
		ctx->socket = arg;
		ctx->socket_given = true;
		break;
	case 'L':
		if (!*arg) {
			vhu_argp_error(state, "invalid --listen '': expected a socket path");
			return EINVAL;
		}
		ctx->listen = arg;
		break;
	case 't':
		if (vhu_parse_seconds(arg, &ctx->timeout_ms) || ctx->timeout_ms <= 0) {
			vhu_argp_error(state, "invalid --timeout '%s': expected seconds > 0, e.g. 2 or 0.5",
				       arg);
			return EINVAL;
		}
		break;
	case 'w':
		if (vhu_parse_seconds(arg, &ctx->wait_ms)) {
			vhu_argp_error(state, "invalid --wait '%s': expected seconds", arg);
			return EINVAL;
		}
		break;
	case 'j': ctx->json = true; break;
	case 'p': ctx->json = ctx->pretty = true; break;
	case 'T':
		ctx->dev = vhu_dev_by_name(arg);
		if (!ctx->dev) {
			vhu_argp_error(state, "unknown device type '%s' (see `vhuctl list types`)", arg);
			return EINVAL;
		}
		break;
	case OPT_TRACE: ctx->trace = true; break;
	case 'f': ctx->force = true; break;
	case OPT_NO_SYNC: ctx->no_sync = true; break;
	case OPT_STATS: ctx->stats = true; break;
	case OPT_RECONNECT:
		ctx->reconnect = true;
		ctx->reconnect_ms = RECONNECT_DEFAULT_MS;
		if (arg && (vhu_parse_seconds(arg, &ctx->reconnect_ms) || ctx->reconnect_ms < 0)) {
			vhu_argp_error(state, "invalid --reconnect '%s': expected seconds (0: no limit)",
				       arg);
			return EINVAL;
		}
		break;
	case OPT_REQUIRE: {
		char err[600];

		if (vhu_req_add(ctx, arg, err, sizeof(err))) {
			vhu_argp_error(state, "invalid --require %s", err);
			return EINVAL;
		}
		break;
	}
	case OPT_REQUIRE_FROM: return require_from(ctx, state, arg);
	case '?':
		/* argp_help(), not argp_state_help(): the latter is silent
		 * under ARGP_NO_ERRS. */
		argp_help(state->root_argp, help_stream(ctx), ARGP_HELP_STD_HELP, state->name);
		vhu_out_error();
		ctx->help_shown = true;
		break;
	case OPT_USAGE:
		argp_help(state->root_argp, help_stream(ctx), ARGP_HELP_USAGE, state->name);
		vhu_out_error();
		ctx->help_shown = true;
		break;
	case ARGP_KEY_ERROR: g_err_next = state->next; return ARGP_ERR_UNKNOWN;
	default: (void)v; return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp vhu_global_argp = { global_opts, global_parser, NULL, NULL, NULL, NULL, NULL };

static const struct argp_child global_child[] = { { &vhu_global_argp, 0, NULL, -2 }, { 0 } };

/* ---- getopt's complaints ----
 *
 * argp parses with ARGP_NO_ERRS, so getopt prints nothing (it would print
 * on the process's stderr, the one stream that must carry only our own
 * one-line errors).  When getopt refused an option, the message is made
 * here, worded as glibc's getopt words it, from the options argp handed
 * it: those of the parser and its children, aliases taking their real
 * option's argument. */

struct getopt_opt {
	const char *name; /* long name, or NULL */
	int key;	  /* short option when printable */
	int id;		  /* the argp group and key: aliases share it */
	int has_arg;	  /* 0 none, 1 required, 2 optional */
};

#define GETOPT_MAX 128

static size_t getopt_collect(const struct argp *argp, struct getopt_opt *o, size_t n, int *group)
{
	const struct argp_option *real = NULL;
	int g = (*group)++;

	for (const struct argp_option *opt = argp->options;
	     opt && (opt->key || opt->name || opt->doc || opt->group); opt++) {
		if (!(opt->flags & OPTION_ALIAS) || !real)
			real = opt;
		if ((opt->flags & OPTION_DOC) || n >= GETOPT_MAX)
			continue;
		o[n].name = opt->name;
		o[n].key = opt->key > 0 && opt->key <= 0xff && isprint(opt->key) ? opt->key : 0;
		o[n].id = g << 16 | ((opt->key ? opt->key : real->key) & 0xffff);
		o[n].has_arg = real->arg ? (real->flags & OPTION_ARG_OPTIONAL ? 2 : 1) : 0;
		if (o[n].name || o[n].key)
			n++;
	}
	for (const struct argp_child *c = argp->children; c && c->argp; c++)
		n = getopt_collect(c->argp, o, n, group);
	return n;
}

/* The long option @t ("--name[=value]") at argv[*i]: 0 when getopt takes
 * it (*i moved past its argument), else -1 with the message. */
static int getopt_long_opt(const struct getopt_opt *o, size_t n, int argc, char **argv, int *i, char *msg,
			   size_t len)
{
	const char *t = argv[*i] + 2;
	size_t nl = strcspn(t, "="), k;
	const struct getopt_opt *found = NULL;
	bool ambiguous = false;

	for (k = 0; k < n && !found; k++)
		if (o[k].name && strlen(o[k].name) == nl && !strncmp(o[k].name, t, nl))
			found = &o[k];
	for (k = 0; k < n && !found; k++)
		if (o[k].name && !strncmp(o[k].name, t, nl)) {
			found = &o[k];
			for (size_t m = k + 1; m < n; m++)
				if (o[m].name && !strncmp(o[m].name, t, nl) &&
				    (o[m].has_arg != found->has_arg || o[m].id != found->id))
					ambiguous = true;
		}
	if (ambiguous) {
		size_t w = (size_t)snprintf(msg, len, "option '--%s' is ambiguous; possibilities:", t);

		for (k = (size_t)(found - o); k < n && w < len; k++)
			if (o[k].name && !strncmp(o[k].name, t, nl) &&
			    (&o[k] == found || o[k].has_arg != found->has_arg || o[k].id != found->id))
				w += (size_t)snprintf(msg + w, len - w, " '--%s'", o[k].name);
		return -1;
	}
	if (!found) {
		snprintf(msg, len, "unrecognized option '--%s'", t);
		return -1;
	}
	if (t[nl] == '=' && !found->has_arg) {
		snprintf(msg, len, "option '--%s' doesn't allow an argument", found->name);
		return -1;
	}
	if (t[nl] != '=' && found->has_arg == 1 && ++*i >= argc) {
		snprintf(msg, len, "option '--%s' requires an argument", found->name);
		return -1;
	}
	return 0;
}

/* The short options of argv[*i] ("-abc"), as getopt_long_opt(). */
static int getopt_short_opts(const struct getopt_opt *o, size_t n, int argc, char **argv, int *i, char *msg,
			     size_t len)
{
	for (const char *p = argv[*i] + 1; *p;) {
		int c = (unsigned char)*p++;
		const struct getopt_opt *found = NULL;

		for (size_t k = 0; k < n && !found; k++)
			if (o[k].key == c)
				found = &o[k];
		if (!found || c == ':' || c == ';') {
			snprintf(msg, len, "invalid option -- '%c'", c);
			return -1;
		}
		if (found->has_arg == 2 || (found->has_arg == 1 && *p))
			return 0; /* the rest of the word is its argument */
		if (found->has_arg == 1 && ++*i >= argc) {
			snprintf(msg, len, "option requires an argument -- '%c'", c);
			return -1;
		}
		if (found->has_arg == 1)
			return 0;
	}
	return 0;
}

/* The option getopt refused in argv[1..@last], as it words it; false
 * when every option there is one it takes. */
static bool getopt_complaint(const struct argp *argp, int argc, char **argv, int last, char *msg, size_t len)
{
	struct getopt_opt o[GETOPT_MAX];
	int group = 0;
	size_t n = getopt_collect(argp, o, 0, &group);

	for (int i = 1; i < argc && i <= last; i++) {
		const char *t = argv[i];
		int at = i;

		if (!strcmp(t, "--"))
			break;
		if (t[0] != '-' || !t[1])
			continue; /* an operand */
		if (t[1] == '-' ? getopt_long_opt(o, n, argc, argv, &i, msg, len)
				: getopt_short_opts(o, n, argc, argv, &i, msg, len)) {
			/* getopt stops past a refused long option, on a short one. */
			return at < last || t[1] != '-';
		}
	}
	return false;
}

/*
 * A failed parse as the one-line usage error "[CMD: ]message (see
 * `NAME --help`)" in ctx->err: main and batch put their own "vhuctl: " or
 * "vhuctl: line N: " in front.
 */
static void usage_from_argp(struct vhu_ctx *ctx, const char *name, const char *complaint,
			    const char *unexpected)
{
	char msg[sizeof(ctx->err)];
	bool hint;

	if (complaint && *complaint)
		snprintf(msg, sizeof(msg), "%s", complaint);
	else if (unexpected)
		snprintf(msg, sizeof(msg), "unexpected argument '%s'", unexpected);
	else
		snprintf(msg, sizeof(msg), "invalid arguments");
	hint = !strstr(msg, "(see ");
	vhu_usage(ctx, "%s%s%s%s%s%s", ctx->cmd ? ctx->cmd->name : "", ctx->cmd ? ": " : "", msg,
		  hint ? " (see `" : "", hint ? name : "", hint ? " --help`)" : "");
}
void (*vhu_cmd_introspect)(const struct argp *argp);

int vhu_cmd_parse(struct vhu_ctx *ctx, const struct argp *argp, int argc, char **argv, void *input)
{
	struct argp a = *argp;
	char name[128], *saved = argv[0];
	error_t e;
	int idx = argc; /* argp leaves it unset when it fails */

	if (vhu_cmd_introspect) {
		vhu_cmd_introspect(argp);
		ctx->help_shown = true;
		return -1;
	}
	a.children = global_child;
	if (!a.doc && ctx->cmd)
		a.doc = ctx->cmd->summary;
	g_ctx = ctx;
	g_argp_msg[0] = '\0';
	g_err_next = argc;
	if (ctx->cmd)
		snprintf(name, sizeof(name), "vhuctl %s", ctx->cmd->name);
	else
		snprintf(name, sizeof(name), "vhuctl");
	argv[0] = name;
	e = argp_parse(&a, argc, argv, ARGP_NO_EXIT | ARGP_NO_HELP | ARGP_NO_ERRS | ARGP_IN_ORDER, &idx,
		       input);
	if (e && !g_argp_msg[0])
		getopt_complaint(&a, argc, argv, g_err_next, g_argp_msg, sizeof(g_argp_msg));
	argv[0] = saved;
	/* After --help, "missing operand" complaints are noise. */
	if (ctx->help_shown)
		return -1;
	if (e || idx < argc) {
		usage_from_argp(ctx, name, g_argp_msg, !e && idx < argc ? argv[idx] : NULL);
		if (!ctx->in_batch)
			vhu_out_set_mode(ctx->json, ctx->pretty);
		return VHU_E_USAGE;
	}
	/* Only a command that runs long enough to lose its connection and
	 * knows how to carry on makes it again; the batch's own option
	 * holds for its steps. */
	if (ctx->reconnect && !ctx->in_batch && ctx->cmd && !(ctx->cmd->flags & VHU_CMD_RECONNECT)) {
		vhu_usage(ctx,
			  "%s: --reconnect is for batch, watch, blk, bench and net send, which carry on "
			  "after a reconnect (see `vhuctl --help`)",
			  ctx->cmd->name);
		vhu_out_set_mode(ctx->json, ctx->pretty);
		return VHU_E_USAGE;
	}
	if (ctx->listen && ctx->socket_given) {
		vhu_usage(ctx,
			  "%s%s-s and -L exclude each other: connect to a back-end's socket or listen on one "
			  "(see `vhuctl --help`)",
			  ctx->cmd ? ctx->cmd->name : "", ctx->cmd ? ": " : "");
		if (!ctx->in_batch)
			vhu_out_set_mode(ctx->json, ctx->pretty);
		return VHU_E_USAGE;
	}
	if (!ctx->in_batch)
		vhu_out_set_mode(ctx->json, ctx->pretty);
	/* Silently unchecked requirements would pass a CI check. */
	if (ctx->cmd && (ctx->cmd->flags & VHU_CMD_NO_SOCKET) && ctx->nreqs > ctx->reqs_done)
		return vhu_usage(ctx, "%s: --require needs a back-end, and %s does not connect to one",
				 ctx->cmd->name, ctx->cmd->name);
	return VHU_OK;
}

/* Global options of a batch line that come before its command: the
 * first operand is the command, the rest is its own. */
static int lead_cmd;

static error_t lead_parser(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	if (key != ARGP_KEY_ARG)
		return ARGP_ERR_UNKNOWN;
	lead_cmd = state->next - 1;
	state->next = state->argc;
	return 0;
}

static const struct argp lead_argp = { NULL, lead_parser, "COMMAND [ARG...]", NULL, NULL, NULL, NULL };

int vhu_parse_leading(struct vhu_ctx *ctx, int argc, char **argv, int *cmd)
{
	char *av[argc + 2];
	const struct vhu_cmd *saved;
	int rc;

	*cmd = 0;
	if (argc < 1 || argv[0][0] != '-')
		return VHU_OK;
	/* argp wants a program name in front. */
	av[0] = (char *)"vhuctl";
	memcpy(av + 1, argv, sizeof(*argv) * (size_t)argc);
	av[argc + 1] = NULL;
	lead_cmd = 0;
	/* The options are the batch line's, not a command's. */
	saved = ctx->cmd;
	ctx->cmd = NULL;
	rc = vhu_cmd_parse(ctx, &lead_argp, argc + 1, av, NULL);
	ctx->cmd = saved;
	if (rc)
		return rc;
	if (!lead_cmd) {
		*cmd = argc;
		return vhu_usage(ctx, "missing COMMAND after the options");
	}
	*cmd = lead_cmd - 1;
	return VHU_OK;
}

void vhu_ctx_apply(struct vhu_ctx *ctx)
{
	ctx->s.timeout_ms = ctx->timeout_ms;
	ctx->s.force = ctx->force;
	ctx->s.no_sync = ctx->no_sync;
	/* What to replay on a new connection is kept from the start. */
	if (ctx->reconnect || ctx->in_batch)
		ctx->s.record = true;
	ctx->tctx.dev = vhu_ctx_dev(ctx);
	if (ctx->trace) {
		ctx->s.trace = vhu_trace_print;
		ctx->s.trace_arg = &ctx->tctx;
	} else {
		ctx->s.trace = NULL;
	}
}

/* Apply the options, connect once, evaluate the requirements. */
static int ctx_connect(struct vhu_ctx *ctx)
{
	int rc;

	vhu_ctx_apply(ctx);
	/* Names first: a requirement that cannot be checked sends nothing. */
	if ((rc = vhu_req_prepare(ctx)))
		return rc;
	if (ctx->check_only)
		return VHU_RC_CHECKED;
	if (ctx->s.fd < 0) {
		if (ctx->in_batch && ctx->s.stats.sent)
			return vhu_fail(&ctx->s, VHU_E_IO, "the connection was closed by an earlier step");
		if (ctx->listen) {
			/* Waiting for a back-end to come is the point of -L: at
			 * least --timeout, --wait when longer. */
			if (ctx->lsn.fd < 0 && (rc = vhu_listen(&ctx->s, &ctx->lsn, ctx->listen)))
				return rc;
			rc = vhu_accept(&ctx->s, &ctx->lsn,
					ctx->wait_ms > ctx->timeout_ms ? ctx->wait_ms : ctx->timeout_ms);
		} else if (!ctx->socket || !*ctx->socket) {
			return vhu_usage(
				ctx, "no back-end socket: give -s PATH (or -L PATH) or set VHUCTL_SOCKET");
		} else {
			rc = vhu_connect(&ctx->s, ctx->socket, ctx->wait_ms);
		}
		if (rc)
			return rc;
	}
	if (!ctx->reqs_deferred && ctx->reqs_done < ctx->nreqs)
		return vhu_req_check(ctx, NULL, false);
	return VHU_OK;
}

/* VHU_CMD_QUEUES: the queue count, so that ring indexes are checked
 * before anything is sent; a net back-end counts queue pairs. */
static int learn_queues(struct vhu_ctx *ctx)
{
	ctx->res.queue_pairs = vhu_ctx_dev(ctx) == VHU_DEV_NET;
	if (!ctx->res.queue_num && vhu_pf_acked(&ctx->s, VHOST_USER_PROTOCOL_F_MQ))
		return vhu_get_queue_num(&ctx->s, &ctx->res.queue_num);
	return VHU_OK;
}

int vhu_cmd_start(struct vhu_ctx *ctx)
{
	const struct vhu_cmd *c = ctx->cmd;
	int rc;

	if (c && (c->flags & VHU_CMD_NO_SOCKET))
		return vhu_ctx_fail(ctx, VHU_E_USAGE, "%s: runs without a back-end", c->name);
	if ((rc = ctx_connect(ctx)) || !c)
		return rc;
	if ((rc = vhu_negotiate(&ctx->s, c->level)))
		return rc;
	return c->flags & VHU_CMD_QUEUES ? learn_queues(ctx) : VHU_OK;
}

int vhu_usage(struct vhu_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	return VHU_E_USAGE;
}

int vhu_ctx_fail(struct vhu_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	return rc;
}

char *vhu_ctx_err(struct vhu_ctx *ctx)
{
	return ctx->err[0] ? ctx->err : ctx->s.err;
}

void vhu_ctx_err_prefix(struct vhu_ctx *ctx, int rc, const char *tag, const char *fmt, ...)
{
	char *err = vhu_ctx_err(ctx), what[100], why[sizeof(ctx->err)];
	va_list ap;

	_Static_assert(sizeof(ctx->err) == sizeof(ctx->s.err), "vhu_ctx_err() is either buffer");
	if (!rc || !err[0] || !strncmp(err, tag, strlen(tag)))
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(why, sizeof(why), "%s", err);
	snprintf(err, sizeof(ctx->err), "%s: %.400s", what, why);
}

void vhu_ctx_clear_err(struct vhu_ctx *ctx)
{
	ctx->err[0] = '\0';
	ctx->s.err[0] = '\0';
}

enum vhu_dev_type vhu_ctx_dev(const struct vhu_ctx *ctx)
{
	return ctx->dev ? ctx->dev->id : VHU_DEV_NONE;
}

int vhu_dispatch(struct vhu_ctx *ctx, int argc, char **argv)
{
	const struct vhu_cmd *c = vhu_cmd_find(argv[0]), *prev;
	int rc;

	if (!c)
		return vhu_usage(ctx, "unknown command '%s' (see `vhuctl --help`)", argv[0]);
	if (ctx->in_batch && (c->flags & VHU_CMD_NO_BATCH))
		return vhu_usage(ctx, "'%s' cannot run inside a batch", argv[0]);

	/* batch's own row again once its step is done. */
	prev = ctx->cmd;
	ctx->cmd = c;
	rc = c->run(ctx, argc, argv);
	ctx->cmd = prev;
	return rc;
}
