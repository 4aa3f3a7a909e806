/* SPDX-License-Identifier: Apache-2.0 */
/* Device config space as get-config and probe show it. */
#include "render/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/config.h"
#include "render/out.h"
#include "util/text.h"

/* Decoded values at most: more than any layout has fields. */
#define MAX_VALUES 96

void vhu_render_config(const struct vhu_dev_info *info, uint64_t features, bool have_features,
		       const uint8_t *buf, size_t len, uint32_t offset)
{
	enum vhu_dev_type dev = info ? info->id : VHU_DEV_NONE;
	const struct vhu_cfg_layout *l = vhu_cfg_layout(dev);
	struct vhu_cfg_value *v;
	const char *group = NULL;
	bool truncated = false;
	size_t n;

	vhu_out_open("config", "Config");
	vhu_out_uint("offset", "offset", offset, NULL);
	vhu_out_uint("size", "size", len, "bytes");
	/* JSON always has the bytes as read, next to what they decode to:
	 * a script can check a field vhuctl does not decode. */
	if (vhu_out_is_json())
		vhu_out_bytes("raw", "raw", buf, len, offset);
	if (!l || !l->nfields) {
		vhu_out_bytes("bytes", "bytes", buf, len, offset);
		if (!l)
			vhu_out_text("(give --type TYPE to decode these bytes; `vhuctl list types`)");
		else
			vhu_out_text("(no config fields are defined for %s devices)", info->name);
		vhu_out_close();
		return;
	}
	v = calloc(MAX_VALUES, sizeof(*v));
	if (!v) {
		vhu_out_close();
		return;
	}
	vhu_out_string("type", "type", info->name);
	n = vhu_cfg_decode(dev, buf, len, offset, features, have_features, v, MAX_VALUES, &truncated);
	vhu_out_open("fields", "fields");
	for (size_t i = 0; i < n; i++) {
		const struct vhu_cfg_field *f = v[i].field;
		char label[96];

		if (!v[i].present)
			continue;
		if ((f->group != group) && (!f->group || !group || strcmp(f->group, group))) {
			if (group)
				vhu_out_close();
			group = f->group;
			if (group)
				vhu_out_open(group, group);
		}
		if (!v[i].valid && !vhu_out_is_json())
			snprintf(label, sizeof(label), "%s (feature not offered)", f->name);
		else
			snprintf(label, sizeof(label), "%s", f->name);
		if (f->kind == VHU_CFG_UINT && vhu_cfg_is_flags(f)) {
			const char *names[64];

			for (unsigned bit = 0; bit < 64; bit++)
				names[bit] = vhu_cfg_bit_name(f, bit);
			vhu_out_uint_flags(f->name, label, v[i].u, f->unit, names, 64);
		} else if (f->kind == VHU_CFG_UINT && vhu_cfg_is_enum(f)) {
			vhu_out_uint_named(f->name, label, v[i].u, f->unit, vhu_cfg_value_name(f, v[i].u));
		} else if (f->kind == VHU_CFG_UINT) {
			vhu_out_uint(f->name, label, v[i].u, f->unit);
		} else if (f->kind == VHU_CFG_INT) {
			vhu_out_int(f->name, label, v[i].i, f->unit);
		} else {
			vhu_out_string(f->name, label, v[i].str);
		}
	}
	if (group)
		vhu_out_close();
	vhu_out_close();
	if (vhu_out_is_json()) {
		/* Fields whose gating feature bit was not offered: their
		 * bytes exist but mean nothing (virtio spec per device). */
		vhu_out_open_list("not_offered", "not offered");
		for (size_t i = 0; i < n; i++) {
			char full[96];
			if (!v[i].present || v[i].valid)
				continue;
			snprintf(full, sizeof(full), "%s%s%s", v[i].field->group ? v[i].field->group : "",
				 v[i].field->group ? "." : "", v[i].field->name);
			vhu_out_string(NULL, NULL, full);
		}
		vhu_out_close_list();
	}
	vhu_out_bool("truncated", "truncated", truncated);
	if (truncated)
		vhu_out_warn("config reply of %zu %s cuts a %s field short; decoded what is present", len,
			     VHU_PLURAL(len, "byte", "bytes"), info->name);
	vhu_out_close();
	free(v);
}
