/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reconnect: make the connection again after the back-end went away (a
 * crash, a restart, an upgrade) and bring the new one to the state the
 * old one had, as QEMU does for a vhost-user device whose back-end comes
 * back; and the `reconnect` batch step that does it on demand.
 *
 * A reconnect never latches off: each outage gets the whole window of
 * --reconnect, however many came before (cloud-hypervisor gives up for
 * good after one long outage, its issue 8764).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds/cmd_common.h"
#include "render/out.h"
#include "render/replay.h"
#include "util/intr.h"
#include "util/text.h"

#define BACKOFF_FIRST_MS 50
#define BACKOFF_MAX_MS	 1000

/* Sleep @ms, or less: until @limit (< 0: none) or a signal. */
static int backoff(int ms, int64_t limit)
{
	int64_t until = vhu_now_ms() + ms;

	if (limit >= 0 && until > limit)
		until = limit;
	/* No fd: only the self-pipe of util/intr can end it early. */
	int rc = vhu_wait_fd(-1, 0, until, NULL);

	return rc == VHU_E_TIMEOUT ? VHU_OK : rc;
}

static bool transient(int rc)
{
	return rc == VHU_E_CONNECT || rc == VHU_E_IO || rc == VHU_E_TIMEOUT;
}

int vhu_ctx_reconnect(struct vhu_ctx *ctx, const char *cause, const struct vhu_replay_hooks *h,
		      struct vhu_reconnect **out)
{
	struct vhu_session *s = &ctx->s;
	const char *path = ctx->listen ? ctx->listen : ctx->socket;
	int window = ctx->reconnect		      ? ctx->reconnect_ms
		     : ctx->wait_ms > ctx->timeout_ms ? ctx->wait_ms
						      : ctx->timeout_ms;
	int64_t t0 = vhu_now_ms(), limit = window > 0 ? t0 + window : -1;
	struct vhu_replay_report rep = { 0 };
	struct vhu_reconnect *r;
	char last[sizeof(s->err)] = "", sum[512];
	unsigned attempts = 0;
	int delay = BACKOFF_FIRST_MS, rc;

	if (out)
		*out = NULL;
	if (!path)
		return vhu_usage(ctx, "reconnect: no socket to connect to");
	r = realloc(ctx->reconnects, sizeof(*r) * (ctx->nreconnects + 1));
	if (!r)
		return vhu_fail(s, VHU_E_IO, "reconnect: out of memory");
	ctx->reconnects = r;
	vhu_session_close(s);
	/* The old channel goes with the old connection: a hang-up seen on it
	 * is not news any more. */
	vhu_chan_close(&ctx->chan);
	ctx->chan.eof = ctx->chan.eof_unseen = false;
	ctx->chan.deferred_rc = 0;
	vhu_note(s, VHU_DIR_SEND, "reconnect: %s", cause);
	for (;;) {
		attempts++;
		vhu_replay_report_free(&rep);
		vhu_session_forget(s);
		if (ctx->listen) {
			int64_t left = limit < 0 ? INT_MAX : limit - vhu_now_ms();

			rc = vhu_accept(s, &ctx->lsn, left < 1 ? 1 : left > INT_MAX ? INT_MAX : (int)left);
		} else {
			rc = vhu_connect(s, path, 0);
		}
		if (!rc)
			rc = vhu_replay(s, &ctx->res, &ctx->chan, h, &rep);
		if (!rc)
			break;
		if (vhu_intr_is_status(rc) || !transient(rc)) {
			char why[sizeof(s->err)];

			snprintf(why, sizeof(why), "%s", s->err);
			vhu_replay_report_free(&rep);
			vhu_session_close(s);
			return vhu_fail(s, rc, "reconnect: %s", why);
		}
		snprintf(last, sizeof(last), "%s", s->err);
		vhu_session_close(s);
		if (limit >= 0 && vhu_now_ms() >= limit) {
			vhu_replay_report_free(&rep);
			return vhu_fail(s, VHU_E_CONNECT,
					"reconnect to %s: gave up after %.3f s and %u %s (%s); last: %s",
					path, (vhu_now_ms() - t0) / 1000.0, attempts,
					VHU_PLURAL(attempts, "attempt", "attempts"), cause, last);
		}
		/* With -L the wait is in accept(); connecting is retried. */
		if (!ctx->listen && (rc = backoff(delay, limit))) {
			/* What a failed replay sent before the signal is not kept. */
			vhu_replay_report_free(&rep);
			return vhu_fail(s, rc, "reconnect to %s: interrupted by %s", path,
					vhu_intr_name(vhu_intr_signo()));
		}
		delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
	}
	r = &ctx->reconnects[ctx->nreconnects++];
	memset(r, 0, sizeof(*r));
	snprintf(r->cause, sizeof(r->cause), "%s", cause);
	r->duration_ms = vhu_now_ms() - t0;
	r->attempts = attempts;
	r->line = ctx->in_batch ? ctx->lineno : 0;
	r->rep = rep;
	vhu_render_replay_summary(&rep, sum, sizeof(sum));
	vhu_out_error_line(0, "reconnect: %s; %s %s after %.3f s (%u %s), replayed %u %s: %s", cause,
			   ctx->listen ? "a back-end connected again to" : "connected again to", path,
			   r->duration_ms / 1000.0, attempts, VHU_PLURAL(attempts, "attempt", "attempts"),
			   rep.n, VHU_PLURAL(rep.n, "request", "requests"), sum);
	s->err[0] = '\0';
	if (out)
		*out = r;
	return VHU_OK;
}

void vhu_show_reconnects(struct vhu_ctx *ctx)
{
	/* Text: each reconnect was told on stderr when it happened. */
	if (!vhu_out_is_json() || (!ctx->reconnect && !ctx->nreconnects))
		return;
	vhu_out_open_list("reconnects", "Reconnects");
	for (unsigned i = 0; i < ctx->nreconnects; i++) {
		const struct vhu_reconnect *r = &ctx->reconnects[i];

		vhu_out_open(NULL, "reconnect");
		vhu_render_reconnect(r->cause, r->duration_ms, r->attempts, &r->rep);
		if (r->line)
			vhu_out_uint("line", "Line", r->line, NULL);
		else
			vhu_out_uint("after_messages", "After messages", r->after_messages, NULL);
		vhu_out_close();
	}
	vhu_out_close_list();
}

void vhu_reconnects_free(struct vhu_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nreconnects; i++)
		vhu_replay_report_free(&ctx->reconnects[i].rep);
	free(ctx->reconnects);
	ctx->reconnects = NULL;
	ctx->nreconnects = 0;
}

/* ---- the `reconnect` batch step ---- */

static const char reconnect_doc[] =
	"Batch step: close the connection and make it again (connect to -s PATH again, or wait for the "
	"back-end to connect again to -L PATH), then replay what the batch set up so far: features, "
	"protocol features, owner, memory table, rings (split rings resume from the used index in guest "
	"memory, packed rings start afresh), eventfds, the inflight buffer, the back-end channel, status.  "
	"The window is --reconnect's, or --timeout (--wait when longer).";

int vhu_ctx_reconnect_step(struct vhu_ctx *ctx, const char *cause)
{
	struct vhu_reconnect *r;
	int rc = vhu_ctx_reconnect(ctx, cause, NULL, &r);

	if (rc)
		return rc;
	vhu_out_open("reconnect", "Reconnect");
	vhu_render_reconnect(r->cause, r->duration_ms, r->attempts, &r->rep);
	vhu_out_close();
	return VHU_OK;
}

int cmd_reconnect(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct argp a = vhu_noargs_argp;
	int rc;

	a.doc = reconnect_doc;
	rc = vhu_cmd_parse(ctx, &a, argc, argv, NULL);
	if (rc)
		return rc;
	if (!ctx->in_batch)
		return vhu_usage(ctx, "'reconnect' only runs as a batch step");
	return vhu_ctx_reconnect_step(ctx, "requested by a reconnect step");
}
