/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON lines: a stream of compact JSON objects on stdout, one per line,
 * each written and flushed as it happens (a live tool is piped into jq,
 * tee or a file, and a line held in a buffer is a line lost when it is
 * killed).  The -j document of the other commands is render/out.h; this
 * is for commands that run until stopped (proxy).
 *
 * Strings that are not well-formed UTF-8 get U+FFFD for each bad byte, as
 * in out.h.
 */
#ifndef VHU_RENDER_JSONL_H
#define VHU_RENDER_JSONL_H

#include <json-c/json.h>

#include "decode/bits.h"
#include "decode/payload.h"

/* Write @o as one line on stdout, flush, and free it (json_object_put).
 * 0, or the errno of a failed write (the line is lost). */
int vhu_jsonl_emit(json_object *o);
/* The same without the flush, for a writer that flushes a batch of lines
 * itself (the proxy, once per poll round). */
int vhu_jsonl_put(json_object *o);

/* A string member, made well-formed UTF-8. */
void vhu_jsonl_add_string(json_object *o, const char *key, const char *v);

/* A mask as { "mask": "0x%016x", "names": [...] }: bits below @nbits by
 * name (bit_N for unnamed ones); status masks with 2 hex digits. */
json_object *vhu_jsonl_mask(uint64_t mask, enum vhu_bit_space space, enum vhu_dev_type dev, unsigned nbits);

/*
 * Decoded payload values as an object with the keys of the text form:
 * numbers as numbers, hex values as "0x..." strings, masks as
 * { "mask": "0x%016x", "names": [...] } (bit_N for unnamed bits; status
 * masks with 2 digits), flags as booleans, bytes as a lowercase hex
 * string (all of them), UUIDs in their 36-character form, lists as
 * arrays.
 */
json_object *vhu_decoded_json(const struct vhu_decoded *d, enum vhu_dev_type dev);

#endif
