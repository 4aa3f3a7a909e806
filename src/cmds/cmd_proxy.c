/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proxy: sit between front-ends and a back-end, relay every message
 * unchanged and print each one decoded (proto/relay.h, render/relay.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmds/cmd_common.h"
#include "proto/relay.h"
#include "render/capture.h"
#include "render/out.h"
#include "render/relay.h"
#include "util/intr.h"
#include "util/parse.h"

enum {
	OPT_LISTEN = 'l',
	OPT_CONNECT = 'c',
	OPT_RAW = 0x200,
	OPT_SESSIONS,
	OPT_CONNECT_FRONT,
	OPT_LISTEN_BACK,
	OPT_PCAPNG,
	OPT_QUIET,
};

struct proxy_args {
	const char *listen, *connect, *connect_front, *listen_back, *pcapng;
	bool raw, quiet;
	uint64_t sessions;
};

static error_t proxy_parser(int key, char *arg, struct argp_state *state)
{
	struct proxy_args *a = state->input;

	switch (key) {
	case OPT_LISTEN: a->listen = arg; break;
	case OPT_CONNECT: a->connect = arg; break;
	case OPT_CONNECT_FRONT: a->connect_front = arg; break;
	case OPT_LISTEN_BACK: a->listen_back = arg; break;
	case OPT_RAW: a->raw = true; break;
	case OPT_PCAPNG: a->pcapng = arg; break;
	case OPT_QUIET: a->quiet = true; break;
	case OPT_SESSIONS:
		if (vhu_parse_u64(arg, UINT32_MAX, &a->sessions) || !a->sessions) {
			vhu_argp_error(state, "invalid --sessions '%s': expected a count of at least 1", arg);
			return EINVAL;
		}
		break;
	case ARGP_KEY_ARG: return vhu_reject_operand(state, arg);
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_option proxy_opts[] = {
	{ "listen", OPT_LISTEN, "FRONT.sock", 0, "socket to create for front-ends", 0 },
	{ "connect-front", OPT_CONNECT_FRONT, "FRONT.sock", 0,
	  "instead: connect to a front-end in server mode (QEMU server=on, DPDK virtio-user server=1)", 0 },
	{ "connect", OPT_CONNECT, "BACK.sock", 0, "the back-end's socket (default: -s PATH)", 0 },
	{ "listen-back", OPT_LISTEN_BACK, "BACK.sock", 0,
	  "instead: create BACK.sock for a back-end in client mode (DPDK vhost client=1)", 0 },
	{ "raw", OPT_RAW, NULL, 0, "with -j: each message's bytes as \"raw\" hex", 0 },
	{ "pcapng", OPT_PCAPNG, "FILE", 0,
	  "also write a capture for Wireshark and `vhuctl decode` (created or truncated)", 0 },
	{ "quiet", OPT_QUIET, NULL, 0, "no lines on stdout (with --pcapng)", 0 },
	{ "sessions", OPT_SESSIONS, "N", 0, "stop after N sessions ended", 0 },
	{ 0 }
};

static const struct argp proxy_argp = {
	proxy_opts,
	proxy_parser,
	"",
	"Listen on FRONT.sock; for each front-end that connects (QEMU, cloud-hypervisor, DPDK "
	"virtio-user, vhuctl), connect to the back-end (or, with --connect-front and --listen-back, the "
	"other way round) and relay every message and its fds unchanged "
	"in both directions, printing one line per message: time, session, direction, main socket or "
	"back-end channel, request, decoded payload, fds, and the round-trip time of replies.  "
	"SET_BACKEND_REQ_FD is interposed so that the back-end channel is relayed and printed too.  "
	"-j prints JSON lines instead.  A session ends when a peer hangs up, sends a stream that is "
	"not vhost-user, or stalls (a message unfinished, or messages not taken, for --timeout); "
	"other sessions go on.  Runs until SIGINT or SIGTERM (exit 0) or --sessions.",
	NULL,
	NULL,
	NULL
};

int cmd_proxy(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct proxy_args a = { 0 };
	struct vhu_relay_cfg cfg = { 0 };
	struct vhu_relay_view view = { 0 };
	struct sigaction old_int, old_term;
	int rc = vhu_cmd_parse(ctx, &proxy_argp, argc, argv, &a);

	if (rc)
		return rc;
	if (a.listen && a.connect_front)
		return vhu_usage(ctx, "proxy: give --listen or --connect-front, not both");
	if (a.connect && a.listen_back)
		return vhu_usage(ctx, "proxy: give --connect or --listen-back, not both");
	if (!a.listen && !a.connect_front)
		return vhu_usage(ctx, "proxy: missing --listen FRONT.sock (or --connect-front) (see `vhuctl "
				      "proxy --help`)");
	if (!a.connect && !a.listen_back)
		a.connect = ctx->socket;
	if ((!a.connect || !*a.connect) && !a.listen_back)
		return vhu_usage(ctx, "proxy: missing --connect BACK.sock (or -s PATH, or --listen-back) "
				      "(see `vhuctl proxy --help`)");
	cfg.front = a.listen ? a.listen : a.connect_front;
	cfg.front_connect = a.connect_front != NULL;
	cfg.back = a.connect ? a.connect : a.listen_back;
	cfg.back_listen = a.listen_back != NULL;
	if (!strcmp(cfg.front, cfg.back))
		return vhu_usage(ctx, "proxy: the front-end and the back-end socket are the same path");
	if (!vhu_out_is_json() && a.raw)
		return vhu_usage(ctx, "proxy: --raw needs -j (JSON lines)");
	if (a.quiet && !a.pcapng)
		return vhu_usage(ctx, "proxy: --quiet needs --pcapng FILE");

	cfg.timeout_ms = ctx->timeout_ms;
	cfg.sessions = (unsigned)a.sessions;
	cfg.stop = &view.failed;
	cfg.round_end = vhu_relay_flush;
	view.json = vhu_out_is_json();
	view.raw = a.raw;
	view.dev = vhu_ctx_dev(ctx);
	view.quiet = a.quiet;
	if (view.json)
		vhu_out_streamed();
	if (a.pcapng) {
		view.cap = vhu_cap_open(a.pcapng, ctx->s.err, sizeof(ctx->s.err));
		if (!view.cap)
			return VHU_E_IO;
	}

	/* SIGINT and SIGTERM are the documented end of a proxy: caught even
	 * when the shell started it with them ignored (a background job). */
	vhu_intr_catch(SIGINT, &old_int);
	vhu_intr_catch(SIGTERM, &old_term);
	rc = vhu_relay_run(&cfg, vhu_relay_print, &view, ctx->s.err, sizeof(ctx->s.err));
	if (vhu_intr_signo() == SIGINT || vhu_intr_signo() == SIGTERM)
		vhu_intr_clear();
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	{
		int cerr = vhu_cap_close(view.cap);

		if (!view.cap_err)
			view.cap_err = cerr;
	}
	/* A failed stdout is reported (once) by the end of the run. */
	if (!rc && view.cap_err)
		rc = vhu_fail(&ctx->s, VHU_E_IO, "proxy: cannot write %s: %s", a.pcapng,
			      strerror(view.cap_err));
	return rc;
}
