/* SPDX-License-Identifier: Apache-2.0 */
/* Evaluated requirements (--require) as the "requirements" list shows them. */
#include "render/require.h"

#include <stdio.h>

#include "render/out.h"

void vhu_render_requirement(const struct vhu_req *r, const struct vhu_req_result *res)
{
	char line[sizeof(res->text) + 16];

	if (!vhu_out_is_json()) {
		snprintf(line, sizeof(line), "%s, actual %s", res->met ? "met" : "NOT MET", res->text);
		vhu_out_string(NULL, r->text, line);
		return;
	}
	vhu_out_open(NULL, NULL);
	vhu_out_string("requirement", NULL, r->text);
	vhu_out_string("kind", NULL, vhu_req_kind_name(r->kind));
	vhu_out_bool("met", NULL, res->met);
	switch (res->type) {
	case VHU_REQ_ACT_NONE: vhu_out_null("actual"); break;
	case VHU_REQ_ACT_BOOL: vhu_out_bool("actual", NULL, res->b); break;
	case VHU_REQ_ACT_UINT: vhu_out_uint("actual", NULL, res->u, NULL); break;
	case VHU_REQ_ACT_INT: vhu_out_int("actual", NULL, res->i, NULL); break;
	case VHU_REQ_ACT_STRING: vhu_out_string("actual", NULL, res->str); break;
	}
	if (res->name)
		vhu_out_string("actual_name", NULL, res->name);
	if (res->type == VHU_REQ_ACT_NONE)
		vhu_out_string("reason", NULL, res->why);
	switch (r->kind) {
	case VHU_REQ_FEATURE:
	case VHU_REQ_PROTOCOL:
	case VHU_REQ_STATUS:
		if (r->bit_name)
			vhu_out_string("name", NULL, r->bit_name);
		vhu_out_uint("bit", NULL, r->bit, NULL);
		break;
	case VHU_REQ_CONFIG: vhu_out_string("name", NULL, r->name); break;
	default: break;
	}
	if (r->dev != VHU_DEV_NONE)
		vhu_out_string("device_type", NULL, vhu_dev_by_id(r->dev)->name);
	vhu_out_close();
}
