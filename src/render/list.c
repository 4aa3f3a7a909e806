/* SPDX-License-Identifier: Apache-2.0 */
/* The catalog and the name tables as `list` shows them. */
#include "render/list.h"

#include <stdio.h>
#include <string.h>

#include "decode/config.h"
#include "proto/catalog.h"
#include "render/out.h"

static void one_bit(const struct vhu_bit_name *b, void *arg)
{
	(void)arg;
	if (!vhu_out_is_json()) {
		vhu_out_text("  %3u  %-44s %s", b->bit, b->name, b->help);
		return;
	}
	vhu_out_open(NULL, b->name);
	vhu_out_uint("bit", "bit", b->bit, NULL);
	vhu_out_string("name", "name", b->name);
	vhu_out_string("help", "help", b->help);
	vhu_out_close();
}

void vhu_render_bits(const char *key, const char *label, enum vhu_bit_space sp, enum vhu_dev_type dev)
{
	if (vhu_out_is_json()) {
		vhu_out_open_list(key, label);
		vhu_bit_foreach(sp, dev, one_bit, NULL);
		vhu_out_close_list();
		return;
	}
	vhu_out_text("%s:", label);
	vhu_bit_foreach(sp, dev, one_bit, NULL);
}

static const char *reply_kind(enum vhu_reply_kind k)
{
	switch (k) {
	case VHU_REPLY_NONE: return "none";
	case VHU_REPLY_ACK: return "ack";
	case VHU_REPLY_ALWAYS: return "always";
	default: return "log";
	}
}

void vhu_render_requests(const char *key, const char *label, bool backend)
{
	size_t n = backend ? vhu_backend_req_count() : vhu_req_count();

	if (vhu_out_is_json())
		vhu_out_open_list(key, label);
	else
		vhu_out_text("%s:\n  %4s  %-30s %-6s %-9s %-9s %-4s %s\n", label, "code", "name", "reply",
			     "req size", "rep size", "fds", "needs");
	for (size_t i = 0; i < n; i++) {
		const struct vhu_req_desc *d = backend ? vhu_backend_req_at(i) : vhu_req_at(i);
		char rs[24], ps[24], fd[12];

		snprintf(rs, sizeof(rs), "%u..%u", d->req_min, d->req_max);
		snprintf(ps, sizeof(ps), d->reply == VHU_REPLY_NONE ? "-" : "%u..%u", d->reply_min,
			 d->reply_max);
		snprintf(fd, sizeof(fd), "%u..%u", d->fds_min, d->fds_max);
		if (!vhu_out_is_json()) {
			vhu_out_text("  %4u  %-30s %-6s %-9s %-9s %-4s %s%s%s", d->code, d->name,
				     reply_kind(d->reply), rs, ps, fd,
				     d->pf_name				  ? d->pf_name + 22
				     : (d->gate & VHU_GATE_BIT30_OFFERED) ? "bit 30"
				     : (d->gate & VHU_GATE_BIT30_ACKED)	  ? "bit 30 acked"
									  : "-",
				     (d->gate & VHU_GATE_EXTENSION) ? " (extension)" : "", "");
			continue;
		}
		vhu_out_open(NULL, d->name);
		vhu_out_uint("code", "code", d->code, NULL);
		vhu_out_string("name", "name", d->name);
		vhu_out_string("reply", "reply", reply_kind(d->reply));
		vhu_out_uint("request_min", "", d->req_min, NULL);
		vhu_out_uint("request_max", "", d->req_max, NULL);
		vhu_out_uint("reply_min", "", d->reply_min, NULL);
		vhu_out_uint("reply_max", "", d->reply_max, NULL);
		vhu_out_uint("fds_min", "", d->fds_min, NULL);
		vhu_out_uint("fds_max", "", d->fds_max, NULL);
		vhu_out_uint("reply_fds_min", "", d->rfds_min, NULL);
		vhu_out_uint("reply_fds_max", "", d->rfds_max, NULL);
		vhu_out_string("protocol_feature", "", d->pf_name ? d->pf_name : "");
		vhu_out_bool("extension", "", d->gate & VHU_GATE_EXTENSION);
		vhu_out_string("help", "", d->help);
		vhu_out_close();
	}
	if (vhu_out_is_json())
		vhu_out_close_list();
}

void vhu_render_types(void)
{
	if (vhu_out_is_json())
		vhu_out_open_list("types", "Device types");
	else
		vhu_out_text("Device types (--type):");
	for (size_t i = 0; i < vhu_dev_count(); i++) {
		const struct vhu_dev_info *d = vhu_dev_at(i);
		if (!vhu_out_is_json()) {
			vhu_out_text("  %-8s %2u  %s", d->name, d->id, d->desc);
			continue;
		}
		vhu_out_open(NULL, d->name);
		vhu_out_string("name", "", d->name);
		vhu_out_uint("device_id", "", d->id, NULL);
		vhu_out_string("description", "", d->desc);
		vhu_out_close();
	}
	if (vhu_out_is_json())
		vhu_out_close_list();
}

static const char *kind_name(enum vhu_cfg_kind k)
{
	switch (k) {
	case VHU_CFG_UINT: return "uint";
	case VHU_CFG_INT: return "int";
	case VHU_CFG_MAC: return "mac";
	case VHU_CFG_STRING: return "string";
	default: return "bytes";
	}
}

/* The decoder tables, as `get-config` uses them. */
void vhu_render_config_fields(enum vhu_dev_type only)
{
	if (vhu_out_is_json())
		vhu_out_open_list("config_fields", "Config fields");
	else
		vhu_out_text("Config fields (offset, size, kind, valid with):");
	for (size_t i = 0; i < vhu_dev_count(); i++) {
		const struct vhu_dev_info *d = vhu_dev_at(i);
		const struct vhu_cfg_layout *l = vhu_cfg_layout(d->id);
		const struct vhu_cfg_field *f[64];
		size_t n;

		if ((only != VHU_DEV_NONE && d->id != only) || !l)
			continue;
		n = vhu_cfg_fields(d->id, f, 64);
		if (n > 64)
			n = 64;
		if (vhu_out_is_json()) {
			vhu_out_open(NULL, d->name);
			vhu_out_string("type", "", d->name);
			vhu_out_uint("size", "", l->size, NULL);
			vhu_out_open_list("fields", "");
		} else {
			vhu_out_text("  %s (%u bytes)%s", d->name, l->size, n ? ":" : ": no config fields");
		}
		for (size_t k = 0; k < n; k++) {
			const char *feat = f[k]->feature >= 0 ? vhu_bit_name(VHU_BITS_FEATURES, d->id,
									     (unsigned)f[k]->feature)
							      : NULL;
			char name[96];

			snprintf(name, sizeof(name), "%s%s%s", f[k]->group ? f[k]->group : "",
				 f[k]->group ? "." : "", f[k]->name);
			if (!vhu_out_is_json()) {
				vhu_out_text("    %-34s %3u %3u %-6s %s", name, f[k]->offset, f[k]->size,
					     kind_name(f[k]->kind), feat ? feat : "-");
				continue;
			}
			vhu_out_open(NULL, name);
			vhu_out_string("name", "", name);
			vhu_out_uint("offset", "", f[k]->offset, NULL);
			vhu_out_uint("size", "", f[k]->size, NULL);
			vhu_out_string("kind", "", kind_name(f[k]->kind));
			vhu_out_string("unit", "", f[k]->unit ? f[k]->unit : "");
			vhu_out_string("feature", "", feat ? feat : "");
			vhu_out_bool("writable", "", f[k]->writable);
			vhu_out_string("help", "", f[k]->help);
			vhu_out_close();
		}
		if (vhu_out_is_json()) {
			vhu_out_close_list();
			vhu_out_close();
		}
	}
	if (vhu_out_is_json())
		vhu_out_close_list();
}
