/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe: the whole picture in one call, following the minimal probe
 * sequence of real front-ends (GET_FEATURES, GET/SET_PROTOCOL_FEATURES,
 * then what was negotiated).  A step the back-end cannot do is reported as
 * skipped with its reason; requests are never sent ungated, because real
 * back-ends drop the connection on requests they did not offer.
 */
#include <string.h>

#include "cmds/cmd_common.h"
#include "decode/config.h"
#include "render/config.h"
#include "render/out.h"
#include "util/parse.h"

struct probe_args {
	uint64_t config_size;
	bool have_size;
};

static error_t probe_parser(int key, char *arg, struct argp_state *state)
{
	struct probe_args *a = state->input;

	switch (key) {
	case 'n':
		if (vhu_parse_u64(arg, VHOST_USER_MAX_CONFIG_SIZE, &a->config_size) || !a->config_size) {
			vhu_argp_error(state, "invalid --config-size '%s' (1..256)", arg);
			return EINVAL;
		}
		a->have_size = true;
		return 0;
	case ARGP_KEY_ARG: return vhu_reject_operand(state, arg);
	default: return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_option probe_opts[] = {
	{ "config-size", 'n', "N", 0,
	  "bytes of config space to read (default: --type's layout size, else 256)", 0 },
	{ 0 }
};

static const struct argp probe_argp = {
	probe_opts,
	probe_parser,
	"",
	"Report what the back-end offers without starting it: features, protocol features (negotiated "
	"as offered & known), queue count, memory slots, status and config space.  Steps that need a "
	"feature the back-end lacks are listed as skipped.  With --type the config space is decoded.",
	NULL,
	NULL,
	NULL
};

#define SKIP_MAX 8

struct skip {
	const char *step;
	char reason[512 + 256]; /* the session error and a hint */
};

int cmd_probe(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct probe_args a = { 0 };
	struct vhu_session *s = &ctx->s;
	struct skip skips[SKIP_MAX];
	unsigned nskip = 0;
	uint64_t v;
	/* What --require is checked against: what probe read, or why not. */
	struct vhu_req_facts facts = { 0 };
	uint8_t buf[VHOST_USER_MAX_CONFIG_SIZE];
	int rc = vhu_cmd_parse(ctx, &probe_argp, argc, argv, &a);

#define SKIP(name, ...)                                                                                      \
	do {                                                                                                 \
		skips[nskip].step = (name);                                                                  \
		snprintf(skips[nskip].reason, sizeof(skips[nskip].reason), __VA_ARGS__);                     \
		nskip++;                                                                                     \
	} while (0)

	if (rc)
		return rc;
	ctx->reqs_deferred = true;
	rc = vhu_cmd_start(ctx);
	ctx->reqs_deferred = false;
	if (rc)
		return rc;
	vhu_out_string("socket", "Socket", ctx->listen ? ctx->listen : ctx->socket);
	/* The back-end connected to us (-L): said only then. */
	if (ctx->listen)
		vhu_out_string("role", "Role", "listen");
	if (ctx->dev)
		vhu_out_string("type", "Device type", ctx->dev->name);
	rc = vhu_get_features(s, &v);
	if (rc)
		return rc;
	vhu_out_mask("features", "Features", v, VHU_BITS_FEATURES, vhu_ctx_dev(ctx));

	if (!(v & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES))) {
		SKIP("protocol_features", "back-end does not offer VHOST_USER_F_PROTOCOL_FEATURES (bit 30)");
		facts.protocol_why = skips[nskip - 1].reason;
	} else {
		rc = vhu_get_protocol_features(s, &v);
		if (rc)
			return rc;
		vhu_out_mask("protocol_features", "Protocol features", v, VHU_BITS_PROTOCOL,
			     vhu_ctx_dev(ctx));
		rc = vhu_set_protocol_features(s, v & VHU_PF_DEFAULT_MASK);
		if (rc)
			return rc;
		vhu_out_mask("acked_protocol_features", "Negotiated protocol features",
			     v & VHU_PF_DEFAULT_MASK, VHU_BITS_PROTOCOL, vhu_ctx_dev(ctx));
	}

	/* Each optional step: run it when its gate is open, else say why. */
	if (vhu_gate(s, vhu_req_by_code(VHOST_USER_GET_QUEUE_NUM)) == VHU_OK) {
		if ((rc = vhu_get_queue_num(s, &v)))
			return rc;
		vhu_out_uint("queue_num", "Queues", v, NULL);
		facts.have_queues = true;
		facts.queues = v;
	} else {
		SKIP("queue_num", "%s", s->err);
		facts.queues_why = skips[nskip - 1].reason;
	}
	if (vhu_gate(s, vhu_req_by_code(VHOST_USER_GET_MAX_MEM_SLOTS)) == VHU_OK) {
		if ((rc = vhu_get_max_mem_slots(s, &v)))
			return rc;
		vhu_out_uint("max_mem_slots", "Memory slots", v, NULL);
		facts.have_slots = true;
		facts.slots = v;
	} else {
		SKIP("max_mem_slots", "%s", s->err);
		facts.slots_why = skips[nskip - 1].reason;
	}
	if (vhu_gate(s, vhu_req_by_code(VHOST_USER_GET_STATUS)) == VHU_OK) {
		uint8_t st;

		if ((rc = vhu_get_status(s, &st)))
			return rc;
		vhu_out_mask("status", "Status", st, VHU_BITS_STATUS, vhu_ctx_dev(ctx));
		facts.have_status = true;
		facts.status = st;
	} else {
		SKIP("status", "%s", s->err);
		facts.status_why = skips[nskip - 1].reason;
	}
	/* Config last: some back-ends close the connection on a size they
	 * do not like, and nothing may follow it then. */
	if (vhu_gate(s, vhu_req_by_code(VHOST_USER_GET_CONFIG)) == VHU_OK) {
		/* Without --type, a config requirement names the layout whose
		 * size to read, as --type would. */
		const struct vhu_cfg_layout *l =
			vhu_cfg_layout(ctx->dev ? vhu_ctx_dev(ctx) : vhu_req_config_dev(ctx));
		uint32_t size = a.have_size    ? (uint32_t)a.config_size
				: l && l->size ? l->size
					       : VHOST_USER_MAX_CONFIG_SIZE;

		if (l && !l->size && !a.have_size) {
			SKIP("config", "%s devices have no config space", vhu_dev_by_id(l->dev)->name);
			facts.config_why = skips[nskip - 1].reason;
		} else {
			rc = vhu_get_config(s, 0, size, 0, buf);
			if (rc == VHU_E_REFUSED) {
				char hint[200] = "";

				if (!a.have_size)
					vhu_config_hint(ctx, 0, size, hint, sizeof(hint));
				SKIP("config", "%s%s%s", s->err, *hint ? "; " : "", hint);
				facts.config_why = skips[nskip - 1].reason;
				rc = VHU_OK;
			} else if (rc) {
				return rc;
			} else {
				vhu_render_config(ctx->dev, ctx->s.features, ctx->s.have_features, buf, size,
						  0);
				facts.config = buf;
				facts.config_len = size;
			}
		}
	} else {
		SKIP("config", "%s", s->err);
		facts.config_why = skips[nskip - 1].reason;
	}
	s->err[0] = '\0';

	vhu_out_open("skipped", "Skipped");
	for (unsigned i = 0; i < nskip; i++)
		vhu_out_string(skips[i].step, skips[i].step, skips[i].reason);
	if (!nskip)
		vhu_out_text("(nothing)");
	vhu_out_close();
	return vhu_req_check(ctx, &facts, true);
#undef SKIP
}
