/* SPDX-License-Identifier: Apache-2.0 */
/*
 * set-backend-req-fd, watch, get-shared-object, get-shared-memory-regions;
 * and the batch hook that prints back-end channel messages between steps.
 *
 * The back-end channel (spec "Back-end communication")
 * carries requests from the back-end at any time.  vhuctl has no event
 * loop: it reads the channel between batch steps (without waiting) and
 * in `watch` (waiting), answering each request as it is read.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmds/cmd_common.h"
#include "proto/chan.h"
#include "render/chan.h"
#include "render/out.h"
#include "util/hex.h"
#include "util/intr.h"
#include "util/parse.h"
#include "util/text.h"

/* Longest wait in one call, so --duration is checked often enough. */
#define WATCH_SLICE_MS 250

/*
 * Print and answer every message already waiting on the channel.  In
 * JSON they go to the list @key, opened at the first message unless
 * @always (then an empty list says "none arrived").
 */
static int drain(struct vhu_ctx *ctx, const char *key, bool always)
{
	static struct vhu_chan_msg m; /* 4 KiB payload: not on the stack */
	enum vhu_chan_event ev;
	bool listed = false;
	const struct vhu_chan_msg *q;
	unsigned nq;
	int rc;

	/* First what arrived while a main-socket request was waiting. */
	nq = vhu_chan_queued(&ctx->s, &ctx->chan, &q, &rc);
	for (unsigned i = 0; i < nq; i++) {
		if (!listed && vhu_out_is_json()) {
			vhu_out_open_list(key, key);
			listed = true;
		}
		vhu_render_chan_msg(&q[i], vhu_ctx_dev(ctx));
	}
	vhu_chan_clear_queued(&ctx->chan);
	if (ctx->chan.dropped) {
		vhu_out_warn("back-end channel: %llu %s answered but not shown (queue full)",
			     (unsigned long long)ctx->chan.dropped,
			     VHU_PLURAL(ctx->chan.dropped, "message", "messages"));
		ctx->chan.dropped = 0;
	}
	ev = VHU_CHAN_IDLE;
	while (!rc && ctx->chan.open) {
		rc = vhu_chan_next(&ctx->s, &ctx->chan, 0, &m, &ev);
		if (ev == VHU_CHAN_MSG) {
			if (!listed && vhu_out_is_json()) {
				vhu_out_open_list(key, key);
				listed = true;
			}
			vhu_render_chan_msg(&m, vhu_ctx_dev(ctx));
		}
		if (rc || ev != VHU_CHAN_MSG)
			break;
	}
	if (!listed && always && vhu_out_is_json()) {
		vhu_out_open_list(key, key);
		listed = true;
	}
	if (listed)
		vhu_out_close_list();
	/* The hang-up is reported once, after the messages that preceded
	 * it, whether this drain read it or a main-socket wait did. */
	if (vhu_chan_take_eof(&ctx->chan) && !rc) {
		vhu_out_text("channel: closed by the back-end");
		if (vhu_out_is_json())
			vhu_out_bool("channel_closed", "channel_closed", true);
	}
	return rc;
}

int vhu_chan_after_step(struct vhu_ctx *ctx, int rc)
{
	char saved[sizeof(ctx->s.err)];
	int drc;

	/* A channel closed while being served may still hold messages, and
	 * its hang-up is still to be reported. */
	if (!ctx->chan.open && !ctx->chan.nqueue && !ctx->chan.deferred_rc && !ctx->chan.eof_unseen)
		return rc;
	if (rc)
		memcpy(saved, ctx->s.err, sizeof(saved));
	drc = drain(ctx, "channel_messages", false);
	if (rc) {
		/* The step's own failure is what batch reports. */
		memcpy(ctx->s.err, saved, sizeof(saved));
		return rc;
	}
	return drc;
}

/* ---- set-backend-req-fd ---- */

static const char sbrf_doc[] =
	"Create a socketpair and send one end with SET_BACKEND_REQ_FD (needs "
	"VHOST_USER_PROTOCOL_F_BACKEND_REQ): the back-end channel, on which the back-end sends its own "
	"requests.  Messages already waiting when the request was acknowledged are printed and answered; "
	"inside a batch, messages that arrive later are printed between steps.  Use `watch` to wait for "
	"them.";

int cmd_set_backend_req_fd(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct argp a = vhu_noargs_argp;
	int rc;

	a.doc = sbrf_doc;
	rc = vhu_cmd_parse(ctx, &a, argc, argv, NULL);
	if (rc || (rc = vhu_cmd_start(ctx)))
		return rc;
	rc = vhu_chan_open(&ctx->s, &ctx->chan);
	if (rc)
		return rc;
	vhu_out_string("backend_channel", "Back-end channel", "open");
	vhu_out_bool("backend_send_fd", "Back-end may send fds",
		     vhu_pf_acked(&ctx->s, VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD));
	return drain(ctx, "messages", true);
}

/* ---- watch ---- */

struct watch_args {
	uint64_t count;
	int duration_ms;
	bool have_count, have_duration;
};

enum { OPT_COUNT = 0x500, OPT_DURATION };

static error_t watch_parser(int key, char *arg, struct argp_state *state)
{
	struct watch_args *a = state->input;

	switch (key) {
	case OPT_COUNT:
		if (vhu_parse_u64(arg, UINT32_MAX, &a->count) || a->count == 0) {
			vhu_argp_error(state, "invalid --count '%s': expected a number of messages >= 1",
				       arg);
			return EINVAL;
		}
		a->have_count = true;
		return 0;
	case OPT_DURATION:
		if (vhu_parse_seconds(arg, &a->duration_ms) || a->duration_ms < 0) {
			vhu_argp_error(state, "invalid --duration '%s': expected seconds, e.g. 10 or 0.5",
				       arg);
			return EINVAL;
		}
		a->have_duration = true;
		return 0;
	case ARGP_KEY_ARG: return vhu_reject_operand(state, arg);
	default: return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_option watch_opts[] = { { "count", OPT_COUNT, "N", 0, "stop after N messages", 0 },
						 { "duration", OPT_DURATION, "SECONDS", 0,
						   "stop after SECONDS (fractions allowed)", 0 },
						 { 0 } };

static const struct argp watch_argp = {
	watch_opts,
	watch_parser,
	"",
	"Negotiate (protocol features, SET_OWNER), open the back-end channel with SET_BACKEND_REQ_FD "
	"(reused when a batch step already opened it) and print each back-end request as it arrives, "
	"answering it when it asks (NEED_REPLY) with 0 for what vhuctl accepts and 1 otherwise.  Stops "
	"after --count messages or --duration seconds, whichever comes first; without either, when the "
	"back-end closes the channel or on SIGINT (the output is completed either way).",
	NULL,
	NULL,
	NULL
};

/*
 * --reconnect: is the connection gone?  The main socket hung up, or the
 * channel failed or closed and the back-end does not answer a
 * GET_FEATURES any more: a dying back-end may close the channel first,
 * and only a round trip tells a live one that closed its channel (the
 * end of the watch, as without --reconnect) from a dead one.
 */
static bool watch_lost(struct vhu_ctx *ctx, int rc, enum vhu_chan_event ev)
{
	uint64_t v;

	if (!vhu_session_alive(&ctx->s))
		return true;
	if (!rc && ev != VHU_CHAN_CLOSED)
		return false;
	return vhu_get_features(&ctx->s, &v) != VHU_OK && ctx->s.fd < 0;
}

static int watch_reconnect(struct vhu_ctx *ctx, int rc, uint64_t shown)
{
	char cause[sizeof(ctx->s.err)];
	struct vhu_reconnect *r;

	if (rc)
		snprintf(cause, sizeof(cause), "%s", ctx->s.err);
	else
		snprintf(cause, sizeof(cause), "the back-end closed the connection");
	rc = vhu_ctx_reconnect(ctx, cause, NULL, &r);
	if (!rc)
		r->after_messages = shown;
	return rc;
}

/* The messages served while a request waited for its reply: shown, and
 * counted in *@n, up to --count.  A failure deferred meanwhile, or VHU_OK. */
static int watch_queued(struct vhu_ctx *ctx, const struct watch_args *a, uint64_t *n)
{
	const struct vhu_chan_msg *q;
	int rc;
	unsigned nq = vhu_chan_queued(&ctx->s, &ctx->chan, &q, &rc);

	for (unsigned i = 0; i < nq && !(a->have_count && *n >= a->count); i++, (*n)++)
		vhu_render_chan_msg(&q[i], vhu_ctx_dev(ctx));
	vhu_chan_clear_queued(&ctx->chan);
	/* Text lines are for people watching: one at a time. */
	if (!vhu_out_is_json())
		fflush(stdout);
	return rc;
}

int cmd_watch(struct vhu_ctx *ctx, int argc, char **argv)
{
	static struct vhu_chan_msg m;
	struct watch_args a = { 0 };
	struct sigaction old;
	enum vhu_chan_event ev;
	const char *why = "error";
	bool lost = false; /* the connection was, and stayed, lost */
	uint64_t n = 0;
	int64_t deadline = -1;
	int rc = vhu_cmd_parse(ctx, &watch_argp, argc, argv, &a);

	if (rc || (rc = vhu_cmd_start(ctx)))
		return rc;
	if (!ctx->chan.open && (rc = vhu_chan_open(&ctx->s, &ctx->chan)))
		return rc;

	/* SIGINT is the documented end of a watch: caught even when the
	 * shell started us with it ignored, it ends every wait (util/intr)
	 * and the run then completes its output. */
	vhu_intr_catch(SIGINT, &old);

	if (a.have_duration)
		deadline = vhu_now_ms() + a.duration_ms;
	if (vhu_out_is_json())
		vhu_out_open_list("messages", "Messages");
	/* Messages served while the set-up requests waited for their acks
	 * come first, and count. */
	rc = watch_queued(ctx, &a, &n);
	for (; !rc;) {
		int wait = WATCH_SLICE_MS;

		if (vhu_intr_signo()) {
			why = "interrupt";
			break;
		}
		if (a.have_count && n >= a.count) {
			why = "count";
			break;
		}
		if (deadline >= 0) {
			int64_t left = deadline - vhu_now_ms();

			if (left <= 0) {
				why = "duration";
				break;
			}
			if (left < wait)
				wait = (int)left;
		}
		rc = vhu_chan_next(&ctx->s, &ctx->chan, wait, &m, &ev);
		if (ev == VHU_CHAN_MSG) {
			vhu_render_chan_msg(&m, vhu_ctx_dev(ctx));
			n++;
			/* Text lines are for people watching: one at a time. */
			if (!vhu_out_is_json())
				fflush(stdout);
		}
		if (ctx->reconnect && !vhu_intr_is_status(rc) && watch_lost(ctx, rc, ev)) {
			rc = watch_reconnect(ctx, rc, n);
			if (rc) {
				lost = true;
				break;
			}
			/* What the new back-end sent while the replay waited. */
			rc = watch_queued(ctx, &a, &n);
			continue;
		}
		if (rc)
			break;
		if (ev == VHU_CHAN_CLOSED) {
			vhu_chan_take_eof(&ctx->chan);
			why = "closed";
			break;
		}
	}
	if (vhu_intr_is_status(rc)) {
		why = "interrupt";
		/* Inside a message: what was read of it is lost (and the
		 * channel closed, being out of step). */
		if (!ctx->chan.open && !ctx->chan.eof && !lost)
			vhu_out_warn("%s; the message was dropped", ctx->s.err);
	}
	/* SIGINT ends a watch normally; the other signals keep their exit
	 * status (the output is completed all the same). */
	if (vhu_intr_signo() == SIGINT) {
		vhu_intr_clear();
		if (vhu_intr_is_status(rc))
			rc = VHU_OK;
	}
	if (vhu_out_is_json())
		vhu_out_close_list();
	sigaction(SIGINT, &old, NULL);
	vhu_out_uint("received", "Received", n, NULL);
	vhu_out_string("stopped_by", "Stopped by", why);
	return rc;
}

/* ---- get-shared-object ---- */

static error_t uuid_parser(int key, char *arg, struct argp_state *state)
{
	const char **uuid = state->input;

	switch (key) {
	case ARGP_KEY_ARG:
		if (*uuid)
			return vhu_reject_operand(state, arg);
		*uuid = arg;
		return 0;
	case ARGP_KEY_NO_ARGS: vhu_argp_error(state, "missing UUID"); return EINVAL;
	default: return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp gso_argp = {
	NULL,
	uuid_parser,
	"UUID",
	"Ask the back-end for the shared object (a dma-buf) named UUID with GET_SHARED_OBJECT (needs "
	"VHOST_USER_PROTOCOL_F_SHARED_OBJECT).  UUID is xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (or 32 hex "
	"digits); it is sent in RFC 4122 byte order.  Prints whether the back-end returned an fd and, if "
	"so, its type and size (fstat); the fd is closed at once.",
	NULL,
	NULL,
	NULL
};

int cmd_get_shared_object(struct vhu_ctx *ctx, int argc, char **argv)
{
	const char *text = NULL;
	uint8_t uuid[16];
	char canon[37];
	struct vhu_fd_info fi;
	bool found;
	int rc = vhu_cmd_parse(ctx, &gso_argp, argc, argv, &text);

	if (rc)
		return rc;
	/* A bad UUID is refused before connecting: nothing is sent. */
	if (vhu_parse_uuid(text, uuid))
		return vhu_usage(ctx, "invalid UUID '%s' (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", text);
	rc = vhu_cmd_start(ctx);
	if (rc)
		return rc;
	rc = vhu_get_shared_object(&ctx->s, uuid, &found, &fi);
	if (rc)
		return rc;
	vhu_format_uuid(uuid, canon);
	vhu_out_string("uuid", "UUID", canon);
	vhu_out_bool("found", "Found", found);
	if (found) {
		vhu_out_open("fd", "fd");
		vhu_out_string("type", "type", vhu_fd_kind_name(fi.kind));
		if (fi.size >= 0)
			vhu_out_int("size", "size", fi.size, "bytes");
		vhu_out_close();
	}
	return VHU_OK;
}

/* ---- get-shared-memory-regions ---- */

static const char gsmr_doc[] =
	"crosvm front-end-family extension, NOT part of the common vhost-user specification: send "
	"GET_SHARED_MEMORY_REGIONS (request code 1004, crosvm's numbering) and print the regions the "
	"back-end reports (id, length).  There is no feature gate, as in crosvm's client.  Back-ends "
	"outside the crosvm family do not know code 1004 and usually close the connection on it (exit "
	"status 74).  A reply whose size is not 8 + 16 x count is a protocol violation.";

int cmd_get_shared_memory_regions(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vhost_shared_memory_region r[255];
	struct argp a = vhu_noargs_argp;
	char problem[128];
	unsigned n;
	int rc;

	a.doc = gsmr_doc;
	rc = vhu_cmd_parse(ctx, &a, argc, argv, NULL);
	if (rc || (rc = vhu_cmd_start(ctx)))
		return rc;
	rc = vhu_get_shared_memory_regions(&ctx->s, r, 255, &n, problem, sizeof(problem));
	if (rc)
		return rc;
	if (problem[0])
		vhu_out_warn("GET_SHARED_MEMORY_REGIONS: %s", problem);
	vhu_out_uint("count", "Count", n, NULL);
	vhu_out_open_list("regions", "Regions");
	for (unsigned i = 0; i < n; i++) {
		char label[32];

		snprintf(label, sizeof(label), "region %u", i);
		vhu_out_open(NULL, label);
		vhu_out_uint("id", "id", r[i].id, NULL);
		vhu_out_uint("length", "length", r[i].length, "bytes");
		vhu_out_close();
	}
	vhu_out_close_list();
	return VHU_OK;
}
