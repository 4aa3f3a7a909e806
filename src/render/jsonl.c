/* SPDX-License-Identifier: Apache-2.0 */
/* JSON lines on stdout (see jsonl.h). */
#include "render/jsonl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/wire.h"
#include "util/hex.h"
#include "util/text.h"

int vhu_jsonl_put(json_object *o)
{
	const char *s =
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int err = 0;

	if (fputs(s, stdout) == EOF || putchar('\n') == EOF)
		err = errno ? errno : EIO;
	json_object_put(o);
	return err;
}

int vhu_jsonl_emit(json_object *o)
{
	const char *s =
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int err = 0;

	if (fputs(s, stdout) == EOF || putchar('\n') == EOF || fflush(stdout) == EOF)
		err = errno ? errno : EIO;
	json_object_put(o);
	return err;
}

void vhu_jsonl_add_string(json_object *o, const char *key, const char *v)
{
	char *clean = vhu_utf8_valid(v) ? NULL : vhu_utf8_clean(v);

	json_object_object_add(o, key, json_object_new_string(clean ? clean : v));
	free(clean);
}

json_object *vhu_jsonl_mask(uint64_t mask, enum vhu_bit_space space, enum vhu_dev_type dev, unsigned nbits)
{
	json_object *obj = json_object_new_object(), *names = json_object_new_array();
	char hex[32];

	snprintf(hex, sizeof(hex), "0x%0*llx", space == VHU_BITS_STATUS ? 2 : 16, (unsigned long long)mask);
	json_object_object_add(obj, "mask", json_object_new_string(hex));
	for (unsigned b = 0; b < nbits && b < 64; b++) {
		const char *n;
		char tmp[16];

		if (!(mask & VHU_BIT(b)))
			continue;
		n = vhu_bit_name(space, dev, b);
		if (!n) {
			snprintf(tmp, sizeof(tmp), "bit_%u", b);
			n = tmp;
		}
		json_object_array_add(names, json_object_new_string(n));
	}
	json_object_object_add(obj, "names", names);
	return obj;
}

static json_object *value_json(const struct vhu_val *v, enum vhu_dev_type dev)
{
	char buf[64];

	switch (v->kind) {
	case VHU_VAL_UINT: return json_object_new_uint64(v->v);
	case VHU_VAL_HEX:
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v->v);
		return json_object_new_string(buf);
	case VHU_VAL_MASK: return vhu_jsonl_mask(v->v, v->space, dev, 64);
	case VHU_VAL_FLAG: return json_object_new_boolean(v->v != 0);
	case VHU_VAL_WORD: return json_object_new_string(v->str);
	case VHU_VAL_BYTES: {
		char *hex = malloc(2 * v->len + 1);
		json_object *s;

		if (!hex)
			return NULL;
		vhu_format_hex(v->bytes, v->len, hex);
		s = json_object_new_string(hex);
		free(hex);
		return s;
	}
	case VHU_VAL_UUID: vhu_format_uuid(v->bytes, buf); return json_object_new_string(buf);
	default: return NULL;
	}
}

json_object *vhu_decoded_json(const struct vhu_decoded *d, enum vhu_dev_type dev)
{
	json_object *stack[8];
	unsigned depth = 0;

	stack[0] = json_object_new_object();
	for (unsigned i = 0; i < d->n; i++) {
		const struct vhu_val *v = &d->v[i];
		json_object *x, *top = stack[depth];

		if (v->kind == VHU_VAL_END) {
			if (depth)
				depth--;
			continue;
		}
		if (v->kind == VHU_VAL_LIST || v->kind == VHU_VAL_OBJ)
			x = v->kind == VHU_VAL_LIST ? json_object_new_array() : json_object_new_object();
		else
			x = value_json(v, dev);
		if (json_object_is_type(top, json_type_array))
			json_object_array_add(top, x);
		else
			json_object_object_add(top, v->key ? v->key : "value", x);
		if ((v->kind == VHU_VAL_LIST || v->kind == VHU_VAL_OBJ) &&
		    depth + 1 < sizeof(stack) / sizeof(stack[0]))
			stack[++depth] = x;
	}
	return stack[0];
}
