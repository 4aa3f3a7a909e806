/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requirements on a back-end: parsing, name resolution, evaluation.
 *
 * A requirement names a bit of a mask, a number the back-end reports or a
 * config field.  Device bits and config fields mean something only for a
 * device type; without --type the name alone must pick the table, which
 * works because the spec names carry the device (VIRTIO_BLK_F_FLUSH), and
 * is refused with the candidates when a short name does not
 * (MQ is VIRTIO_NET_F_MQ, bit 22, and VIRTIO_BLK_F_MQ, bit 12).
 */
#include "decode/require.h"

#include <stdio.h>
#include <string.h>

#include "util/parse.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *key;
	enum vhu_req_kind kind;
} req_keys[] = {
	{ "feature", VHU_REQ_FEATURE }, { "protocol-feature", VHU_REQ_PROTOCOL },
	{ "queues", VHU_REQ_QUEUES },	{ "mem-slots", VHU_REQ_MEM_SLOTS },
	{ "status", VHU_REQ_STATUS },
};

static const char *const op_text[] = { "=", "!=", "<", "<=", ">", ">=" };

const char *vhu_req_kind_name(enum vhu_req_kind k)
{
	switch (k) {
	case VHU_REQ_FEATURE: return "feature";
	case VHU_REQ_PROTOCOL: return "protocol_feature";
	case VHU_REQ_QUEUES: return "queues";
	case VHU_REQ_MEM_SLOTS: return "mem_slots";
	case VHU_REQ_STATUS: return "status";
	case VHU_REQ_CONFIG: return "config";
	}
	return "?";
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-' || c == '.';
}

/* @a equals @b, '_' matching '-' ("mem_slots" is "mem-slots"). */
static bool key_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	if (strlen(b) != alen)
		return false;
	for (i = 0; i < alen; i++) {
		char x = a[i] == '_' ? '-' : a[i];

		if (x != b[i])
			return false;
	}
	return true;
}

#define SYNTAX                                                                                               \
	"expected feature=NAME, protocol-feature=NAME, queues OP N, mem-slots OP N, status=NAME or "         \
	"config.FIELD OP VALUE"

int vhu_req_parse(const char *text, struct vhu_req *r, char *err, size_t errlen)
{
	const char *p = text, *key, *val, *end;
	size_t klen, vlen, oplen = 0, i;
	bool found = false;

	memset(r, 0, sizeof(*r));
	if (!text) {
		snprintf(err, errlen, "empty requirement: %s", SYNTAX);
		return -1;
	}
	while (is_space(*p))
		p++;
	key = p;
	while (is_key_char(*p))
		p++;
	klen = (size_t)(p - key);
	while (is_space(*p))
		p++;
	if (!strncmp(p, "!=", 2)) {
		r->op = VHU_REQ_NE, oplen = 2;
	} else if (!strncmp(p, "<=", 2)) {
		r->op = VHU_REQ_LE, oplen = 2;
	} else if (!strncmp(p, ">=", 2)) {
		r->op = VHU_REQ_GE, oplen = 2;
	} else if (!strncmp(p, "==", 2)) {
		r->op = VHU_REQ_EQ, oplen = 2;
	} else if (*p == '=') {
		r->op = VHU_REQ_EQ, oplen = 1;
	} else if (*p == '<') {
		r->op = VHU_REQ_LT, oplen = 1;
	} else if (*p == '>') {
		r->op = VHU_REQ_GT, oplen = 1;
	}
	if (!klen || !oplen) {
		snprintf(err, errlen, "'%.200s': %s", text, SYNTAX);
		return -1;
	}
	val = p + oplen;
	while (is_space(*val))
		val++;
	end = val + strlen(val);
	while (end > val && is_space(end[-1]))
		end--;
	vlen = (size_t)(end - val);
	if (!vlen) {
		snprintf(err, errlen, "'%.200s': no value after '%s'", text, op_text[r->op]);
		return -1;
	}
	if (klen + 2 + vlen >= sizeof(r->text) || klen >= sizeof(r->name)) {
		snprintf(err, errlen, "'%.40s...': longer than %zu characters", text, sizeof(r->text) - 1);
		return -1;
	}
	snprintf(r->value, sizeof(r->value), "%.*s", (int)vlen, val);
	/* key OP value: fits, as checked above. */
	memcpy(r->text, key, klen);
	memcpy(r->text + klen, op_text[r->op], strlen(op_text[r->op]));
	memcpy(r->text + klen + strlen(op_text[r->op]), r->value, vlen + 1);
	if (klen > 7 && !strncmp(key, "config.", 7)) {
		r->kind = VHU_REQ_CONFIG;
		snprintf(r->name, sizeof(r->name), "%.*s", (int)(klen - 7), key + 7);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(req_keys); i++) {
		if (key_eq(key, klen, req_keys[i].key)) {
			r->kind = req_keys[i].kind;
			found = true;
			break;
		}
	}
	if (!found) {
		snprintf(err, errlen, "'%.200s': unknown '%.*s': %s", text, (int)klen, key, SYNTAX);
		return -1;
	}
	switch (r->kind) {
	case VHU_REQ_FEATURE:
	case VHU_REQ_PROTOCOL:
	case VHU_REQ_STATUS:
		if (r->op != VHU_REQ_EQ && r->op != VHU_REQ_NE) {
			snprintf(err, errlen, "'%s': a bit is required with = (set) or != (not set)",
				 r->text);
			return -1;
		}
		break;
	case VHU_REQ_QUEUES:
	case VHU_REQ_MEM_SLOTS:
		if (vhu_parse_u64(r->value, UINT64_MAX, &r->num)) {
			snprintf(err, errlen, "'%s': '%s' is not a number", r->text, r->value);
			return -1;
		}
		break;
	case VHU_REQ_CONFIG: break;
	}
	return 0;
}

/* ---- resolution ---- */

static int resolve_feature(struct vhu_req *r, enum vhu_dev_type dev, char *err, size_t errlen)
{
	const struct vhu_dev_info *hit[16];
	unsigned bits[16], bit;
	size_t n = 0, i, len;

	if (dev != VHU_DEV_NONE) {
		if (vhu_bit_parse(VHU_BITS_FEATURES, dev, r->value, &r->bit)) {
			snprintf(err, errlen,
				 "'%s': %s devices have no feature bit '%s' (see `vhuctl -T %s list "
				 "features`)",
				 r->text, vhu_dev_by_id(dev)->name, r->value, vhu_dev_by_id(dev)->name);
			return -1;
		}
		/* Named through the device's table only when it is one of
		 * its bits: VERSION_1 stays device-independent. */
		r->dev = vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NONE, r->bit) &&
					 !vhu_feature_is_device_specific(r->bit)
				 ? VHU_DEV_NONE
				 : dev;
		return 0;
	}
	/* Device-independent names, bit_N and numbers need no table. */
	if (!vhu_bit_parse(VHU_BITS_FEATURES, VHU_DEV_NONE, r->value, &r->bit)) {
		r->dev = VHU_DEV_NONE;
		return 0;
	}
	for (i = 0; i < vhu_dev_count() && n < ARRAY_SIZE(hit); i++) {
		const struct vhu_dev_info *d = vhu_dev_at(i);

		if (!vhu_bit_parse(VHU_BITS_FEATURES, d->id, r->value, &bit)) {
			hit[n] = d;
			bits[n++] = bit;
		}
	}
	if (n == 1) {
		r->bit = bits[0];
		r->dev = hit[0]->id;
		return 0;
	}
	if (!n) {
		snprintf(err, errlen,
			 "'%s': no device type has a feature bit '%s' (see `vhuctl list features`, "
			 "with -T TYPE for a device's bits)",
			 r->text, r->value);
		return -1;
	}
	len = (size_t)snprintf(err, errlen, "'%s': '%s' names a bit of several device types (", r->text,
			       r->value);
	for (i = 0; i < n && len < errlen; i++)
		len += (size_t)snprintf(err + len, errlen - len, "%s%s bit %u = %s", i ? ", " : "",
					hit[i]->name, bits[i],
					vhu_bit_name(VHU_BITS_FEATURES, hit[i]->id, bits[i]));
	if (len < errlen)
		snprintf(err + len, errlen - len, "): give its full name or -T TYPE");
	return -1;
}

static int parse_signed(const char *s, int64_t *v)
{
	uint64_t u;
	bool neg = *s == '-';

	if (vhu_parse_u64(s + neg, neg ? (UINT64_C(1) << 63) : (uint64_t)INT64_MAX, &u))
		return -1;
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

/* The value of a config requirement, checked against its field. */
static int resolve_value(struct vhu_req *r, char *err, size_t errlen)
{
	const struct vhu_cfg_field *f = r->field;
	bool text = f->kind != VHU_CFG_UINT && f->kind != VHU_CFG_INT;

	if (text && r->op != VHU_REQ_EQ && r->op != VHU_REQ_NE) {
		snprintf(err, errlen, "'%s': config field '%s' is compared with = or != only", r->text,
			 r->name);
		return -1;
	}
	switch (f->kind) {
	case VHU_CFG_UINT:
		if (!vhu_cfg_name_parse(f, r->value, &r->u))
			return 0;
		if (vhu_parse_u64(r->value, f->size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * f->size)) - 1,
				  &r->u)) {
			snprintf(err, errlen, "'%s': '%s' is not a value of the %u-byte field '%s'%s",
				 r->text, r->value, f->size, r->name,
				 vhu_cfg_is_enum(f) ? " (a number or the name of a value)" : "");
			return -1;
		}
		return 0;
	case VHU_CFG_INT:
		if (parse_signed(r->value, &r->i) ||
		    (f->size < 8 && (r->i < -(INT64_C(1) << (8 * f->size - 1)) ||
				     r->i >= (INT64_C(1) << (8 * f->size - 1))))) {
			snprintf(err, errlen, "'%s': '%s' is not a value of the %u-byte signed field '%s'",
				 r->text, r->value, f->size, r->name);
			return -1;
		}
		return 0;
	case VHU_CFG_MAC:
	case VHU_CFG_STRING:
	case VHU_CFG_BYTES:
		if (f->size > sizeof(r->bytes) || vhu_cfg_encode(f, r->value, r->bytes)) {
			snprintf(err, errlen, "'%s': '%s' is not a value of the %u-byte field '%s'", r->text,
				 r->value, f->size, r->name);
			return -1;
		}
		return 0;
	}
	return -1;
}

static int resolve_config(struct vhu_req *r, enum vhu_dev_type dev, char *err, size_t errlen)
{
	const struct vhu_dev_info *hit[16];
	const struct vhu_cfg_field *fh[16];
	size_t n = 0, i, len;

	if (dev != VHU_DEV_NONE) {
		r->field = vhu_cfg_field_find(dev, r->name);
		if (!r->field) {
			snprintf(err, errlen,
				 "'%s': %s devices have no config field '%s' (see `vhuctl list config`)",
				 r->text, vhu_dev_by_id(dev)->name, r->name);
			return -1;
		}
		r->dev = dev;
		return resolve_value(r, err, errlen);
	}
	for (i = 0; i < vhu_dev_count() && n < ARRAY_SIZE(hit); i++) {
		const struct vhu_cfg_field *f = vhu_cfg_field_find(vhu_dev_at(i)->id, r->name);

		if (f) {
			hit[n] = vhu_dev_at(i);
			fh[n++] = f;
		}
	}
	if (!n) {
		snprintf(err, errlen,
			 "'%s': no device type has a config field '%s' (see `vhuctl list config`)", r->text,
			 r->name);
		return -1;
	}
	if (n > 1) {
		len = (size_t)snprintf(err, errlen, "'%s': config field '%s' exists for ", r->text, r->name);
		for (i = 0; i < n && len < errlen; i++)
			len += (size_t)snprintf(err + len, errlen - len, "%s%s", i ? ", " : "", hit[i]->name);
		if (len < errlen)
			snprintf(err + len, errlen - len, ": give -T TYPE");
		return -1;
	}
	r->field = fh[0];
	r->dev = hit[0]->id;
	return resolve_value(r, err, errlen);
}

int vhu_req_resolve(struct vhu_req *r, enum vhu_dev_type dev, char *err, size_t errlen)
{
	int rc = 0;

	switch (r->kind) {
	case VHU_REQ_FEATURE:
		rc = resolve_feature(r, dev, err, errlen);
		if (!rc)
			r->bit_name = vhu_bit_name(VHU_BITS_FEATURES, r->dev, r->bit);
		break;
	case VHU_REQ_PROTOCOL:
	case VHU_REQ_STATUS: {
		enum vhu_bit_space sp = r->kind == VHU_REQ_PROTOCOL ? VHU_BITS_PROTOCOL : VHU_BITS_STATUS;

		if (vhu_bit_parse(sp, VHU_DEV_NONE, r->value, &r->bit)) {
			snprintf(err, errlen, "'%s': unknown %s bit '%s' (see `vhuctl list %s`)", r->text,
				 sp == VHU_BITS_PROTOCOL ? "protocol feature" : "status", r->value,
				 sp == VHU_BITS_PROTOCOL ? "protocol-features" : "status");
			rc = -1;
		} else {
			r->bit_name = vhu_bit_name(sp, VHU_DEV_NONE, r->bit);
		}
		break;
	}
	case VHU_REQ_QUEUES:
	case VHU_REQ_MEM_SLOTS: break;
	case VHU_REQ_CONFIG: rc = resolve_config(r, dev, err, errlen); break;
	}
	r->resolved = rc == 0;
	return rc;
}

/* ---- evaluation ---- */

/* @op applied to an ordering: @c < 0, 0 or > 0 as the actual value is
 * below, equal to or above the required one. */
static bool cmp_order(int c, enum vhu_req_op op)
{
	switch (op) {
	case VHU_REQ_EQ: return c == 0;
	case VHU_REQ_NE: return c != 0;
	case VHU_REQ_LT: return c < 0;
	case VHU_REQ_LE: return c <= 0;
	case VHU_REQ_GT: return c > 0;
	case VHU_REQ_GE: return c >= 0;
	}
	return false;
}

static bool cmp_u(uint64_t a, enum vhu_req_op op, uint64_t b)
{
	return cmp_order((a > b) - (a < b), op);
}

static bool cmp_i(int64_t a, enum vhu_req_op op, int64_t b)
{
	return cmp_order((a > b) - (a < b), op);
}

static void unknown(struct vhu_req_result *res, const char *why)
{
	res->type = VHU_REQ_ACT_NONE;
	res->met = false;
	snprintf(res->why, sizeof(res->why), "%s", why ? why : "not read");
	snprintf(res->text, sizeof(res->text), "unknown: %s", res->why);
}

static void eval_bit(const struct vhu_req *r, uint64_t mask, const char *set, const char *clear,
		     const char *what, int digits, struct vhu_req_result *res)
{
	res->type = VHU_REQ_ACT_BOOL;
	res->b = (mask >> r->bit) & 1;
	res->met = r->op == VHU_REQ_EQ ? res->b : !res->b;
	snprintf(res->text, sizeof(res->text), "%s (%s 0x%0*llx)", res->b ? set : clear, what, digits,
		 (unsigned long long)mask);
}

static void eval_number(const struct vhu_req *r, uint64_t v, struct vhu_req_result *res)
{
	res->type = VHU_REQ_ACT_UINT;
	res->u = v;
	res->met = cmp_u(v, r->op, r->num);
	snprintf(res->text, sizeof(res->text), "%llu", (unsigned long long)v);
}

uint32_t vhu_req_config_end(const struct vhu_req *r)
{
	if (r->kind != VHU_REQ_CONFIG || !r->field)
		return 0;
	/* From offset 0: the input answers also need select and size
	 * (bytes 0 and 2), which come first. */
	return (uint32_t)r->field->offset + r->field->size;
}

static void eval_config(const struct vhu_req *r, const struct vhu_req_facts *f, struct vhu_req_result *res)
{
	struct vhu_cfg_value v[96];
	const struct vhu_cfg_value *hit = NULL;
	const struct vhu_cfg_field *fd = r->field;
	char why[300];
	size_t n, i;

	if (!f->config) {
		unknown(res, f->config_why);
		return;
	}
	n = vhu_cfg_decode(r->dev, f->config, f->config_len, 0, f->features, f->have_features, v,
			   ARRAY_SIZE(v), NULL);
	for (i = 0; i < n; i++)
		if (v[i].field == fd)
			hit = &v[i];
	if (!hit || !hit->present) {
		if (r->dev == VHU_DEV_INPUT && fd->offset >= 8 && !hit)
			snprintf(why, sizeof(why),
				 "the input config space does not hold '%s' for its select value", r->name);
		else
			snprintf(why, sizeof(why), "'%s' (bytes %u-%u) is not in the %zu %s read", r->name,
				 fd->offset, fd->offset + fd->size - 1, f->config_len,
				 f->config_len == 1 ? "byte" : "bytes");
		unknown(res, why);
		return;
	}
	if (!hit->valid) {
		snprintf(why, sizeof(why), "'%s' is not valid: the back-end does not offer %s", r->name,
			 vhu_bit_name(VHU_BITS_FEATURES, r->dev, (unsigned)fd->feature)
				 ? vhu_bit_name(VHU_BITS_FEATURES, r->dev, (unsigned)fd->feature)
				 : "its feature bit");
		unknown(res, why);
		return;
	}
	switch (fd->kind) {
	case VHU_CFG_UINT:
		res->type = VHU_REQ_ACT_UINT;
		res->u = hit->u;
		res->name = vhu_cfg_value_name(fd, hit->u);
		res->met = cmp_u(hit->u, r->op, r->u);
		snprintf(res->text, sizeof(res->text), "%llu%s%s%s", (unsigned long long)hit->u,
			 res->name ? " (" : "", res->name ? res->name : "", res->name ? ")" : "");
		return;
	case VHU_CFG_INT:
		res->type = VHU_REQ_ACT_INT;
		res->i = hit->i;
		res->met = cmp_i(hit->i, r->op, r->i);
		snprintf(res->text, sizeof(res->text), "%lld", (long long)hit->i);
		return;
	case VHU_CFG_MAC:
	case VHU_CFG_STRING:
	case VHU_CFG_BYTES: {
		/* The bytes as the device holds them against the value as
		 * set-config --field would write it (padding included). */
		bool eq = (size_t)fd->offset + fd->size <= f->config_len &&
			  !memcmp(f->config + fd->offset, r->bytes, fd->size);

		res->type = VHU_REQ_ACT_STRING;
		snprintf(res->str, sizeof(res->str), "%s", hit->str);
		res->met = r->op == VHU_REQ_EQ ? eq : !eq;
		snprintf(res->text, sizeof(res->text), "'%s'", hit->str);
		return;
	}
	}
}

void vhu_req_eval(const struct vhu_req *r, const struct vhu_req_facts *f, struct vhu_req_result *res)
{
	memset(res, 0, sizeof(*res));
	switch (r->kind) {
	case VHU_REQ_FEATURE:
		if (!f->have_features)
			unknown(res, "GET_FEATURES was not answered");
		else
			eval_bit(r, f->features, "offered", "not offered", "features", 16, res);
		return;
	case VHU_REQ_PROTOCOL:
		if (!f->have_protocol)
			unknown(res, f->protocol_why);
		else
			eval_bit(r, f->protocol, "offered", "not offered", "protocol features", 16, res);
		return;
	case VHU_REQ_STATUS:
		if (!f->have_status)
			unknown(res, f->status_why);
		else
			eval_bit(r, f->status, "set", "not set", "status", 2, res);
		return;
	case VHU_REQ_QUEUES:
		if (!f->have_queues)
			unknown(res, f->queues_why);
		else
			eval_number(r, f->queues, res);
		return;
	case VHU_REQ_MEM_SLOTS:
		if (!f->have_slots)
			unknown(res, f->slots_why);
		else
			eval_number(r, f->slots, res);
		return;
	case VHU_REQ_CONFIG: eval_config(r, f, res); return;
	}
}
