/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode: print a capture of `proxy --pcapng` offline, through the same
 * decoders and lines as the live proxy (decode/capture.h, render/relay.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmds/cmd_common.h"
#include "decode/capture.h"
#include "render/out.h"
#include "render/relay.h"
#include "util/text.h"

struct decode_args {
	struct vhu_operand file;
	bool raw;
};

enum { OPT_RAW = 0x200 };

static error_t decode_parser(int key, char *arg, struct argp_state *state)
{
	struct decode_args *a = state->input;

	if (key == OPT_RAW) {
		a->raw = true;
		return 0;
	}
	return vhu_operand_parser(key, arg, state);
}

static const struct argp_option decode_opts[] = {
	{ "raw", OPT_RAW, NULL, 0, "with -j: each message's bytes as \"raw\" hex", 0 }, { 0 }
};

static const struct argp decode_argp = {
	decode_opts,
	decode_parser,
	"FILE",
	"Print a capture written by `vhuctl proxy --pcapng FILE` (or - for standard input) as the proxy "
	"printed it live: one line per message or event, or JSON lines with -j.",
	NULL,
	NULL,
	NULL
};

int cmd_decode(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct decode_args a = { .file = { .required = true } };
	struct vhu_relay_view view = { 0 };
	char err[256];
	FILE *f;
	int rc = vhu_cmd_parse(ctx, &decode_argp, argc, argv, &a);

	if (rc)
		return rc;
	if (!vhu_out_is_json() && a.raw)
		return vhu_usage(ctx, "decode: --raw needs -j (JSON lines)");
	f = strcmp(a.file.v, "-") ? fopen(a.file.v, "re") : stdin;
	if (!f)
		return vhu_fail(&ctx->s, VHU_E_IO, "decode: cannot open %s: %s", a.file.v,
				vhu_strerror(errno));
	view.json = vhu_out_is_json();
	view.raw = a.raw;
	view.dev = vhu_ctx_dev(ctx);
	if (view.json)
		vhu_out_streamed();
	rc = vhu_cap_read(f, vhu_relay_print, &view, err, sizeof(err));
	if (f != stdin)
		fclose(f);
	if (rc)
		return vhu_usage(ctx, "decode: %s: %s", a.file.v, err);
	/* A failed stdout is reported (once) by the end of the run. */
	return VHU_OK;
}
