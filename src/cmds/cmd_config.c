/* SPDX-License-Identifier: Apache-2.0 */
/*
 * get-config, set-config: the device configuration space (spec
 * "GET_CONFIG"/"SET_CONFIG"; layouts from the virtio spec per device).
 */
#include <stdlib.h>
#include <string.h>

#include "cmds/cmd_common.h"
#include "decode/config.h"
#include "render/config.h"
#include "render/out.h"
#include "util/hex.h"
#include "util/parse.h"
#include "util/text.h"

void vhu_config_hint(struct vhu_ctx *ctx, uint32_t offset, uint32_t size, char *buf, size_t len)
{
	uint32_t end;

	if (!ctx->dev) {
		snprintf(buf, len,
			 "the device config may be smaller than %u bytes: try -n N, or --type for its layout",
			 offset + size);
		return;
	}
	/* Devices size their config by the features they offer (blk's
	 * grows with DISCARD, WRITE_ZEROES, SECURE_ERASE, ZONED): the type
	 * is known, so the likely reason is a field of a feature not offered. */
	end = vhu_cfg_extent(vhu_ctx_dev(ctx), ctx->s.have_features ? ctx->s.features : 0);
	if (end > offset && end < offset + size)
		snprintf(
			buf, len,
			"the %s fields valid with the features the back-end offers end at byte %u: try -n %u",
			ctx->dev->name, end, end - offset);
	else
		snprintf(buf, len, "the device may hold fewer %s fields than vhuctl knows: try a smaller -n",
			 ctx->dev->name);
}

struct cfg_args {
	uint64_t offset, size, flags;
	bool have_size, have_offset;
	const char *select;
	uint64_t subsel;
	const char *hex, *field;
};

enum {
	OPT_OFFSET = 'o',
	OPT_SIZE = 'n',
	OPT_FLAGS = 'F',
	OPT_SELECT = 0x200,
	OPT_SUBSEL,
	OPT_HEX,
	OPT_FIELD
};

static int parse_flags(const char *arg, uint64_t *flags)
{
	if (!strcmp(arg, "writable"))
		*flags = VHOST_USER_CONFIG_FLAG_WRITABLE;
	else if (!strcmp(arg, "migration"))
		*flags = VHOST_USER_CONFIG_FLAG_MIGRATION;
	else if (!strcmp(arg, "none"))
		*flags = 0;
	else
		return vhu_parse_u64(arg, UINT32_MAX, flags);
	return 0;
}

static error_t cfg_parser(int key, char *arg, struct argp_state *state)
{
	struct cfg_args *a = state->input;

	switch (key) {
	case OPT_OFFSET:
		if (vhu_parse_u64(arg, UINT32_MAX, &a->offset))
			goto bad;
		a->have_offset = true;
		return 0;
	case OPT_SIZE:
		if (vhu_parse_u64(arg, UINT32_MAX, &a->size))
			goto bad;
		a->have_size = true;
		return 0;
	case OPT_FLAGS:
		if (parse_flags(arg, &a->flags))
			goto bad;
		return 0;
	case OPT_SELECT: a->select = arg; return 0;
	case OPT_SUBSEL:
		if (vhu_parse_u64(arg, 255, &a->subsel))
			goto bad;
		return 0;
	case OPT_HEX: a->hex = arg; return 0;
	case OPT_FIELD: a->field = arg; return 0;
	case ARGP_KEY_ARG: return vhu_reject_operand(state, arg);
	default: return ARGP_ERR_UNKNOWN;
	}
bad:
	vhu_argp_error(state, "invalid value '%s' for -%c", arg, key < 0x100 ? key : '-');
	return EINVAL;
}

static const struct argp_option get_opts[] = {
	{ "offset", OPT_OFFSET, "N", 0, "first byte to read (default 0)", 0 },
	{ "size", OPT_SIZE, "N", 0, "bytes to read, 1..256 (default: the size of --type's layout, else 256)",
	  0 },
	{ "flags", OPT_FLAGS, "FLAGS", 0,
	  "config flags field: none (default), writable, migration or a number", 0 },
	{ "select", OPT_SELECT, "SEL", 0,
	  "input devices: write select (ID_NAME, ID_SERIAL, ID_DEVIDS, PROP_BITS, EV_BITS, ABS_INFO or a "
	  "number) "
	  "with SET_CONFIG first",
	  0 },
	{ "subsel", OPT_SUBSEL, "N", 0, "input devices: subsel written with --select (default 0)", 0 },
	{ 0 }
};

static const struct argp get_argp = {
	get_opts,
	cfg_parser,
	"",
	"Read the device config space (GET_CONFIG) and decode it with --type, or show the raw bytes.  "
	"Needs VHOST_USER_PROTOCOL_F_CONFIG.  Fields whose feature bit the back-end does not offer are "
	"marked.\vDevice types with decoders: net blk console scsi gpu input vsock crypto sound fs can gpio "
	"(rng, scmi and i2c have no config fields).",
	NULL,
	NULL,
	NULL
};

int cmd_get_config(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct cfg_args a = { 0 };
	const struct vhu_cfg_layout *l;
	uint8_t buf[VHOST_USER_MAX_CONFIG_SIZE], sel[2] = { 0 }, held[2] = { 0 };
	bool echoed;
	int rc = vhu_cmd_parse(ctx, &get_argp, argc, argv, &a);

	if (rc)
		return rc;
	l = vhu_cfg_layout(vhu_ctx_dev(ctx));
	if (!a.have_size)
		a.size = l && l->size ? l->size : VHOST_USER_MAX_CONFIG_SIZE;
	if (!a.have_size && a.offset && a.offset < a.size)
		a.size -= a.offset;
	if ((rc = vhu_config_check(&ctx->s, "GET_CONFIG", (uint32_t)a.offset, (uint32_t)a.size,
				   (uint32_t)a.flags)))
		return rc;
	if (a.select && vhu_ctx_dev(ctx) != VHU_DEV_INPUT)
		return vhu_usage(ctx, "--select needs --type input");
	rc = vhu_cmd_start(ctx);
	if (rc)
		return rc;
	if (a.select) {
		if (vhu_input_select_parse(a.select, &sel[0]))
			return vhu_usage(ctx, "unknown --select '%s'", a.select);
		sel[1] = (uint8_t)a.subsel;
		rc = vhu_set_config(&ctx->s, 0, 0, sel, 2);
		if (rc)
			return rc;
		/* The answer belongs to the select/subsel the device holds
		 * now; a device that ignored SET_CONFIG answers for an older
		 * one, which decodes just as well.  Bytes 0-1 say which. */
		if (a.offset > 0 && (rc = vhu_get_config(&ctx->s, 0, 2, (uint32_t)a.flags, held)))
			return rc;
	}
	rc = vhu_get_config(&ctx->s, (uint32_t)a.offset, (uint32_t)a.size, (uint32_t)a.flags, buf);
	if (rc == VHU_E_REFUSED && !a.have_size) {
		char why[sizeof(ctx->s.err)], hint[200];

		snprintf(why, sizeof(why), "%s", ctx->s.err);
		vhu_config_hint(ctx, (uint32_t)a.offset, (uint32_t)a.size, hint, sizeof(hint));
		vhu_fail(&ctx->s, rc, "%.300s (%s)", why, hint);
	}
	if (rc)
		return rc;
	if (a.select) {
		/* From offset 0 the read itself holds them (subsel only when
		 * at least 2 bytes were read). */
		bool have_subsel = a.offset > 0 || a.size > 1;

		if (a.offset == 0) {
			held[0] = buf[0];
			held[1] = have_subsel ? buf[1] : sel[1];
		}
		echoed = held[0] == sel[0] && (!have_subsel || held[1] == sel[1]);
		vhu_out_bool("select_echoed", "Select echoed", echoed);
		if (!echoed)
			vhu_out_warn("GET_CONFIG: the device answers for select 0x%02x subsel %u, not the "
				     "0x%02x subsel %u "
				     "written with SET_CONFIG: it may ignore SET_CONFIG, and the fields "
				     "below describe "
				     "something else",
				     held[0], held[1], sel[0], sel[1]);
	}
	vhu_render_config(ctx->dev, ctx->s.features, ctx->s.have_features, buf, a.size, (uint32_t)a.offset);
	return VHU_OK;
}

static const struct argp_option set_opts[] = {
	{ "offset", OPT_OFFSET, "N", 0, "first byte to write (default 0, or the field's offset)", 0 },
	{ "hex", OPT_HEX, "BYTES", 0, "bytes to write, in hex (\"0a0b\", \"0a:0b\")", 0 },
	{ "field", OPT_FIELD, "NAME=VALUE", 0, "write one named field of --type's layout (see get-config)",
	  0 },
	{ "flags", OPT_FLAGS, "FLAGS", 0, "none (default), writable, migration or a number", 0 },
	{ 0 }
};

static const struct argp set_argp = {
	set_opts,
	cfg_parser,
	"",
	"Write device config space bytes (SET_CONFIG).  Give --hex BYTES, or --field NAME=VALUE with "
	"--type.  offset + size must stay within 256 bytes.  Needs VHOST_USER_PROTOCOL_F_CONFIG.\v"
	"The flags field is read as bit flags by rust-vmm back-ends (0x1 writable, 0x2 migration) but as "
	"a value by QEMU's libvhost-user (1 = migration write); the default, none (0), is an ordinary "
	"driver write for both.",
	NULL,
	NULL,
	NULL
};

int cmd_set_config(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct cfg_args a = { 0 };
	uint8_t buf[VHOST_USER_MAX_CONFIG_SIZE + 1];
	size_t len = 0;
	int rc = vhu_cmd_parse(ctx, &set_argp, argc, argv, &a);

	if (rc)
		return rc;
	if (!!a.hex == !!a.field)
		return vhu_usage(ctx, "give exactly one of --hex BYTES and --field NAME=VALUE");
	if (a.hex) {
		if (vhu_parse_hex(a.hex, buf, sizeof(buf), &len))
			return vhu_usage(ctx, "invalid --hex '%s' (pairs of hex digits, at most %u bytes)",
					 a.hex, VHOST_USER_MAX_CONFIG_SIZE);
	} else {
		char name[96];
		const char *eq = strchr(a.field, '=');
		const struct vhu_cfg_field *f;

		if (!ctx->dev)
			return vhu_usage(ctx, "--field needs --type TYPE");
		if (!eq || eq == a.field || (size_t)(eq - a.field) >= sizeof(name))
			return vhu_usage(ctx, "--field expects NAME=VALUE, got '%s'", a.field);
		snprintf(name, sizeof(name), "%.*s", (int)(eq - a.field), a.field);
		f = vhu_cfg_field_by_name(vhu_ctx_dev(ctx), name);
		if (!f)
			return vhu_usage(ctx, "%s devices have no config field '%s'", ctx->dev->name, name);
		if (!f->writable && !ctx->force)
			return vhu_usage(
				ctx,
				"config field '%s' is read-only for the driver (--force writes it anyway)",
				name);
		if (vhu_cfg_encode(f, eq + 1, buf))
			return vhu_usage(ctx, "invalid value '%s' for the %u-byte field '%s'", eq + 1,
					 f->size, name);
		len = f->size;
		if (!a.have_offset)
			a.offset = f->offset;
	}
	if ((rc = vhu_config_check(&ctx->s, "SET_CONFIG", (uint32_t)a.offset, (uint32_t)len,
				   (uint32_t)a.flags)))
		return rc;
	rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_set_config(&ctx->s, (uint32_t)a.offset, (uint32_t)a.flags, buf, (uint32_t)len);
	if (rc)
		return rc;
	vhu_out_uint("offset", "Offset", a.offset, NULL);
	vhu_out_bytes("written", "Written", buf, len, (uint32_t)a.offset);
	vhu_out_bool("acked", "Acknowledged", vhu_pf_acked(&ctx->s, VHOST_USER_PROTOCOL_F_REPLY_ACK));
	return VHU_OK;
}
