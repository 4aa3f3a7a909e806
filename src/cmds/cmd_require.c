/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --require: what a command asks of the back-end before it runs, for CI
 * checks without a JSON parser.  The expressions are parsed with the
 * options and resolved before anything is sent (decode/require.c); once
 * connected, only the values they need are read, with the same gating
 * as the commands that read them, and each unmet requirement is one line
 * on stderr and exit status 4.
 */
#include <stdlib.h>
#include <string.h>

#include "cmds/cmd_common.h"
#include "decode/config.h"
#include "render/out.h"
#include "render/require.h"
#include "util/text.h"

int vhu_req_add(struct vhu_ctx *ctx, const char *text, char *err, size_t errlen)
{
	if (ctx->nreqs == ctx->reqs_cap) {
		size_t cap = ctx->reqs_cap ? 2 * ctx->reqs_cap : 8;
		struct vhu_req *r = realloc(ctx->reqs, cap * sizeof(*r));

		if (!r) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		ctx->reqs = r;
		ctx->reqs_cap = cap;
	}
	if (vhu_req_parse(text, &ctx->reqs[ctx->nreqs], err, errlen))
		return -1;
	ctx->nreqs++;
	return 0;
}

void vhu_req_free(struct vhu_ctx *ctx)
{
	free(ctx->reqs);
	ctx->reqs = NULL;
	ctx->nreqs = ctx->reqs_cap = ctx->reqs_done = 0;
}

int vhu_req_prepare(struct vhu_ctx *ctx)
{
	char err[600];

	for (size_t i = ctx->reqs_done; i < ctx->nreqs; i++)
		if (vhu_req_resolve(&ctx->reqs[i], vhu_ctx_dev(ctx), err, sizeof(err)))
			return vhu_usage(ctx, "invalid --require %s", err);
	return VHU_OK;
}

enum vhu_dev_type vhu_req_config_dev(const struct vhu_ctx *ctx)
{
	for (size_t i = ctx->reqs_done; i < ctx->nreqs; i++)
		if (ctx->reqs[i].kind == VHU_REQ_CONFIG && ctx->reqs[i].resolved)
			return ctx->reqs[i].dev;
	return VHU_DEV_NONE;
}

/* What the requirements need, read as the commands that show it would:
 * a request whose gate is closed is not sent, and its reason becomes the
 * "unknown" of the requirements on it. */
struct gather {
	struct vhu_req_facts f;
	char protocol_why[512], queues_why[512], slots_why[512], status_why[512], config_why[512];
	uint8_t config[VHOST_USER_MAX_CONFIG_SIZE];
};

/* A refusal makes the value unknown; anything else ends the command. */
static int soft(struct vhu_session *s, int rc, char *why, size_t len, const char **whyp)
{
	if (rc != VHU_E_REFUSED)
		return rc;
	snprintf(why, len, "%s", s->err);
	*whyp = why;
	s->err[0] = '\0';
	return VHU_OK;
}

/* The gate of @code: true when open; else the reason goes to @why. */
static bool gate_open(struct vhu_session *s, uint32_t code, char *why, size_t len, const char **whyp)
{
	if (vhu_gate(s, vhu_req_by_code(code)) == VHU_OK)
		return true;
	snprintf(why, len, "%s", s->err);
	*whyp = why;
	s->err[0] = '\0';
	return false;
}

static int gather(struct vhu_ctx *ctx, size_t first, struct gather *g)
{
	struct vhu_session *s = &ctx->s;
	bool need[VHU_REQ_CONFIG + 1] = { false };
	uint32_t cfg_end = 0;
	int rc;

	for (size_t i = first; i < ctx->nreqs; i++) {
		need[ctx->reqs[i].kind] = true;
		if (vhu_req_config_end(&ctx->reqs[i]) > cfg_end)
			cfg_end = vhu_req_config_end(&ctx->reqs[i]);
	}
	/* Every requirement needs the features: a protocol feature exists
	 * only with bit 30, a config field is valid only with its bit. */
	if ((rc = vhu_negotiate(s, VHU_NEG_FEATURES)))
		return rc;
	if (need[VHU_REQ_PROTOCOL] && !s->have_protocol) {
		if (!(s->features & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES))) {
			snprintf(g->protocol_why, sizeof(g->protocol_why),
				 "the back-end does not offer VHOST_USER_F_PROTOCOL_FEATURES (bit 30)");
			g->f.protocol_why = g->protocol_why;
		} else {
			uint64_t v;

			if ((rc = vhu_get_protocol_features(s, &v)))
				return rc;
		}
	}
	if ((need[VHU_REQ_QUEUES] || need[VHU_REQ_MEM_SLOTS] || need[VHU_REQ_STATUS] ||
	     need[VHU_REQ_CONFIG]) &&
	    (rc = vhu_negotiate(s, VHU_NEG_PROTOCOL)))
		return rc;
	if (need[VHU_REQ_QUEUES]) {
		if (ctx->res.queue_num) {
			g->f.have_queues = true;
			g->f.queues = ctx->res.queue_num;
		} else if (gate_open(s, VHOST_USER_GET_QUEUE_NUM, g->queues_why, sizeof(g->queues_why),
				     &g->f.queues_why)) {
			if ((rc = soft(s, vhu_get_queue_num(s, &g->f.queues), g->queues_why,
				       sizeof(g->queues_why), &g->f.queues_why)))
				return rc;
			g->f.have_queues = !g->f.queues_why;
			if (g->f.have_queues)
				ctx->res.queue_num = g->f.queues;
		}
	}
	if (need[VHU_REQ_MEM_SLOTS]) {
		if (ctx->res.max_mem_slots) {
			g->f.have_slots = true;
			g->f.slots = ctx->res.max_mem_slots;
		} else if (gate_open(s, VHOST_USER_GET_MAX_MEM_SLOTS, g->slots_why, sizeof(g->slots_why),
				     &g->f.slots_why)) {
			if ((rc = soft(s, vhu_get_max_mem_slots(s, &g->f.slots), g->slots_why,
				       sizeof(g->slots_why), &g->f.slots_why)))
				return rc;
			g->f.have_slots = !g->f.slots_why;
			if (g->f.have_slots)
				ctx->res.max_mem_slots = g->f.slots;
		}
	}
	if (need[VHU_REQ_STATUS] &&
	    gate_open(s, VHOST_USER_GET_STATUS, g->status_why, sizeof(g->status_why), &g->f.status_why)) {
		if ((rc = soft(s, vhu_get_status(s, &g->f.status), g->status_why, sizeof(g->status_why),
			       &g->f.status_why)))
			return rc;
		g->f.have_status = !g->f.status_why;
	}
	/* Only the bytes up to the last field asked for: a device sizes its
	 * config space by the features it offers, and some refuse (or drop
	 * the connection on) a longer read. */
	if (need[VHU_REQ_CONFIG] &&
	    gate_open(s, VHOST_USER_GET_CONFIG, g->config_why, sizeof(g->config_why), &g->f.config_why)) {
		if (cfg_end > sizeof(g->config))
			cfg_end = sizeof(g->config);
		if ((rc = soft(s, vhu_get_config(s, 0, cfg_end, 0, g->config), g->config_why,
			       sizeof(g->config_why), &g->f.config_why)))
			return rc;
		if (!g->f.config_why) {
			g->f.config = g->config;
			g->f.config_len = cfg_end;
		}
	}
	return VHU_OK;
}

int vhu_req_check(struct vhu_ctx *ctx, const struct vhu_req_facts *given, bool text)
{
	size_t first = ctx->reqs_done, n = ctx->nreqs, unmet = 0, len = 0;
	struct vhu_req_result *res;
	struct gather *g;
	char msg[sizeof(ctx->s.err)], all[sizeof(ctx->s.err)] = "";
	int rc = VHU_OK;

	if (first >= n)
		return VHU_OK;
	ctx->reqs_done = n;
	res = calloc(n - first, sizeof(*res));
	g = calloc(1, sizeof(*g));
	if (!res || !g) {
		free(res);
		free(g);
		return vhu_fail(&ctx->s, VHU_E_IO, "requirements: out of memory");
	}
	if (given) {
		g->f = *given;
	} else if ((rc = gather(ctx, first, g))) {
		goto out;
	}
	g->f.have_features = ctx->s.have_features;
	g->f.features = ctx->s.features;
	if (!given || ctx->s.have_protocol) {
		g->f.have_protocol = ctx->s.have_protocol;
		g->f.protocol = ctx->s.protocol;
	}
	if (vhu_out_is_json())
		vhu_out_open_list("requirements", "Requirements");
	else if (text)
		vhu_out_open("requirements", "Requirements");
	for (size_t i = first; i < n; i++) {
		struct vhu_req_result *r = &res[i - first];

		vhu_req_eval(&ctx->reqs[i], &g->f, r);
		if (vhu_out_is_json() || text)
			vhu_render_requirement(&ctx->reqs[i], r);
	}
	if (vhu_out_is_json())
		vhu_out_close_list();
	else if (text)
		vhu_out_close();
	for (size_t i = first; i < n; i++) {
		if (res[i - first].met)
			continue;
		unmet++;
		/* A long requirement is cut short in the message, not lost. */
		if (snprintf(msg, sizeof(msg), "requirement not met: %s (actual: %s)", ctx->reqs[i].text,
			     res[i - first].text) < 0)
			msg[0] = '\0';
		vhu_out_error_line(ctx->lineno, "%s", msg); /* "requirement not met: EXPR (actual: VALUE)" */
		if (len < sizeof(all))
			len += (size_t)snprintf(all + len, sizeof(all) - len, "%s%s (actual: %s)",
						len ? "; " : "", ctx->reqs[i].text, res[i - first].text);
	}
	if (unmet == 1)
		rc = vhu_fail(&ctx->s, VHU_E_REQUIREMENT, "requirement not met: %s", all);
	else if (unmet)
		rc = vhu_fail(&ctx->s, VHU_E_REQUIREMENT, "%zu requirements not met: %s", unmet, all);
	if (rc)
		rc |= VHU_RC_REPORTED;
out:
	free(res);
	free(g);
	return rc;
}
