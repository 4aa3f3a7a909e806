/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Message payloads as typed values, by the payload shape of the catalog
 * row (spec "Message types" and the structs of proto/wire.h).  One decoder
 * for every reader of messages: --trace, `raw`, `watch`, the proxy and its
 * JSON lines.  render/ turns the values into "key=value" text or a JSON
 * object, so both show the same keys.
 *
 * Pure: no allocation, no printing.  Values of kind VHU_VAL_BYTES and
 * VHU_VAL_UUID point into the payload, which must outlive the result.
 */
#ifndef VHU_DECODE_PAYLOAD_H
#define VHU_DECODE_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/bits.h"
#include "proto/catalog.h"

enum vhu_val_kind {
	VHU_VAL_UINT,  /* a number, shown in decimal */
	VHU_VAL_HEX,   /* a number shown in hex (addresses, sizes of maps, flags) */
	VHU_VAL_MASK,  /* a bit mask of @space: value and bit names */
	VHU_VAL_FLAG,  /* a boolean; text shows @key when true, @alt (if any) when false */
	VHU_VAL_WORD,  /* a symbolic value: @str */
	VHU_VAL_BYTES, /* @len bytes at @bytes; text shows at most @show, then "..." */
	VHU_VAL_UUID,  /* 16 bytes at @bytes, RFC 4122 order */
	VHU_VAL_LIST,  /* the values up to the matching VHU_VAL_END are list elements */
	VHU_VAL_OBJ,   /* the values up to the matching VHU_VAL_END are one object */
	VHU_VAL_END,
};

struct vhu_val {
	const char *key; /* snake_case; NULL for list elements */
	enum vhu_val_kind kind;
	uint64_t v;
	enum vhu_bit_space space; /* VHU_VAL_MASK */
	const uint8_t *bytes;	  /* VHU_VAL_BYTES, VHU_VAL_UUID */
	size_t len, show;	  /* VHU_VAL_BYTES */
	const char *str;	  /* VHU_VAL_WORD; VHU_VAL_FLAG: @alt */
};

/* SET_MEM_TABLE, the largest: 2 + 8 regions of 6 values + 1. */
#define VHU_DECODE_MAX 64u

struct vhu_decoded {
	unsigned n;
	struct vhu_val v[VHU_DECODE_MAX];
};

/*
 * Decode @len bytes at @p as @shape into @out.  A payload too short for
 * its shape yields no values; bytes past the shape's layout are ignored.
 * Opaque shapes, and shapes without a layout here, yield "data" bytes.
 */
void vhu_decode_payload(enum vhu_shape shape, const uint8_t *p, size_t len, struct vhu_decoded *out);

/*
 * The shape of a message body of catalog row @d (NULL: unknown code,
 * opaque): the request shape, or for a reply (@reply) the shape of the
 * reply it is, @expect telling which (VHU_EXPECT_ACK: a u64 status).
 */
enum vhu_shape vhu_body_shape(const struct vhu_req_desc *d, bool reply, enum vhu_expect expect);

#endif
