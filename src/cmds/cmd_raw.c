/* SPDX-License-Identifier: Apache-2.0 */
/* raw: any request by name or code with a hex payload (expert tool). */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cmds/cmd_common.h"
#include "render/out.h"
#include "util/hex.h"
#include "util/parse.h"
#include "util/text.h"

struct raw_args {
	const char *req, *hex;
	bool need_reply, reply, no_reply, negotiate;
	uint64_t nfds;
};

enum { OPT_NEED_REPLY = 0x300, OPT_REPLY, OPT_NO_REPLY, OPT_NEGOTIATE, OPT_EVENTFDS };

static error_t raw_parser(int key, char *arg, struct argp_state *state)
{
	struct raw_args *a = state->input;

	switch (key) {
	case OPT_NEED_REPLY: a->need_reply = true; return 0;
	case OPT_REPLY: a->reply = true; return 0;
	case OPT_NO_REPLY: a->no_reply = true; return 0;
	case OPT_NEGOTIATE: a->negotiate = true; return 0;
	case OPT_EVENTFDS:
		if (vhu_parse_u64(arg, VHOST_USER_MAX_FDS, &a->nfds)) {
			vhu_argp_error(state, "invalid --eventfds '%s' (0..%u)", arg, VHOST_USER_MAX_FDS);
			return EINVAL;
		}
		return 0;
	case ARGP_KEY_ARG:
		if (!a->req)
			a->req = arg;
		else if (!a->hex)
			a->hex = arg;
		else {
			vhu_argp_error(state, "unexpected argument '%s'", arg);
			return EINVAL;
		}
		return 0;
	case ARGP_KEY_NO_ARGS: vhu_argp_error(state, "missing REQUEST"); return EINVAL;
	default: return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_option raw_opts[] = {
	{ "need-reply", OPT_NEED_REPLY, NULL, 0, "set NEED_REPLY in the header and wait for the u64 ack", 0 },
	{ "reply", OPT_REPLY, NULL, 0, "wait for a reply even if the catalog says there is none", 0 },
	{ "no-reply", OPT_NO_REPLY, NULL, 0, "do not wait for a reply", 0 },
	{ "negotiate", OPT_NEGOTIATE, NULL, 0, "negotiate features and protocol features first", 0 },
	{ "eventfds", OPT_EVENTFDS, "N", 0, "attach N fresh eventfds (0..8)", 0 },
	{ 0 }
};

static const struct argp raw_argp = {
	raw_opts,
	raw_parser,
	"REQUEST [HEX]",
	"Send one request, by spec name (GET_FEATURES, get-features) or number, with an optional hex "
	"payload, and print the reply after the usual header validation (version, REPLY flag, echoed "
	"code, size bound).  No feature gating: this is for testing back-ends.",
	NULL,
	NULL,
	NULL
};

int cmd_raw(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct raw_args a = { 0 };
	const struct vhu_req_desc *d;
	uint8_t payload[VHU_MAX_PAYLOAD];
	size_t len = 0;
	uint64_t code;
	int fds[VHOST_USER_MAX_FDS];
	struct vhu_msg r;
	bool want;
	int rc = vhu_cmd_parse(ctx, &raw_argp, argc, argv, &a);

	if (rc)
		return rc;
	d = vhu_req_by_name(a.req);
	if (d)
		code = d->code;
	else if (vhu_parse_u64(a.req, UINT32_MAX, &code))
		return vhu_usage(ctx, "unknown request '%s' (see `vhuctl list requests`)", a.req);
	else
		d = vhu_req_by_code((uint32_t)code);
	if (a.hex && vhu_parse_hex(a.hex, payload, sizeof(payload), &len))
		return vhu_usage(ctx, "invalid payload '%s' (hex bytes, at most %u)", a.hex, VHU_MAX_PAYLOAD);
	want = a.reply || a.need_reply || (d && d->reply == VHU_REPLY_ALWAYS);
	if (a.no_reply)
		want = false;
	rc = vhu_cmd_start(ctx);
	if (!rc && a.negotiate)
		rc = vhu_negotiate(&ctx->s, VHU_NEG_PROTOCOL);
	if (rc)
		return rc;
	for (unsigned i = 0; i < a.nfds; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		if (fds[i] < 0) {
			while (i--)
				close(fds[i]);
			return vhu_fail(&ctx->s, VHU_E_IO, "eventfd: %s", vhu_strerror(errno));
		}
	}
	rc = vhu_request_raw(&ctx->s, (uint32_t)code,
			     VHOST_USER_VERSION | (a.need_reply ? VHOST_USER_NEED_REPLY_MASK : 0), payload,
			     (uint32_t)len, fds, (unsigned)a.nfds, want, &r);
	for (unsigned i = 0; i < a.nfds; i++)
		close(fds[i]);
	if (rc)
		return rc;
	vhu_out_string("request", "Request", d ? d->name : a.req);
	vhu_out_uint("code", "Code", code, NULL);
	/* "reply" is always an object; "expected" says whether one came. */
	vhu_out_open("reply", "Reply");
	vhu_out_bool("expected", "expected", want);
	if (!want) {
		vhu_out_close();
		return VHU_OK;
	}
	vhu_out_hex("flags", "flags", r.hdr.flags, 1);
	vhu_out_uint("size", "size", r.hdr.size, "bytes");
	vhu_out_uint("fds", "fds", r.nfds, NULL);
	vhu_out_bytes("payload", "payload", r.payload, r.hdr.size, 0);
	if (d) {
		char dec[1024];
		enum vhu_shape sh =
			(a.need_reply && d->reply != VHU_REPLY_ALWAYS) ? VHU_SHAPE_ACK : d->reply_shape;

		vhu_trace_decode(sh, vhu_ctx_dev(ctx), r.payload, r.hdr.size, dec, sizeof(dec));
		vhu_out_string("decoded", "decoded", dec[0] == ' ' ? dec + 1 : dec);
	}
	vhu_out_close();
	vhu_msg_close_fds(&r);
	return VHU_OK;
}
