/* SPDX-License-Identifier: Apache-2.0 */
/* What a reconnect replayed, as batch, watch and blk report it. */
#include "render/replay.h"

#include <stdbool.h>
#include <stdio.h>

#include "proto/catalog.h"
#include "render/out.h"

static const char *req_name(uint32_t code)
{
	const struct vhu_req_desc *d = vhu_req_by_code(code);

	return d ? d->name : "?";
}

void vhu_render_replay_summary(const struct vhu_replay_report *rep, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < rep->n && o < len; i++) {
		unsigned k = 0;
		bool seen = false;

		for (unsigned j = 0; j < i && !seen; j++)
			seen = rep->items[j].code == rep->items[i].code;
		if (seen)
			continue;
		for (unsigned j = i; j < rep->n; j++)
			k += rep->items[j].code == rep->items[i].code;
		if (k > 1)
			o += (size_t)snprintf(buf + o, len - o, "%s%s x%u", o ? " " : "",
					      req_name(rep->items[i].code), k);
		else
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? " " : "",
					      req_name(rep->items[i].code));
	}
}

void vhu_render_reconnect(const char *cause, int64_t duration_ms, unsigned attempts,
			  const struct vhu_replay_report *rep)
{
	vhu_out_string("cause", "Cause", cause);
	vhu_out_int("duration_ms", "Duration", duration_ms, "ms");
	vhu_out_uint("attempts", "Attempts", attempts, NULL);
	vhu_out_uint("requests", "Requests replayed", rep->n, NULL);
	vhu_out_open_list("replayed", "Replayed");
	for (unsigned i = 0; i < rep->n; i++) {
		vhu_out_open(NULL, req_name(rep->items[i].code));
		vhu_out_string("request", "request", req_name(rep->items[i].code));
		if (rep->items[i].ring >= 0)
			vhu_out_uint("ring", "ring", (uint64_t)rep->items[i].ring, NULL);
		vhu_out_close();
	}
	vhu_out_close_list();
}
