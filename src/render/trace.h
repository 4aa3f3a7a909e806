/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --trace: prints every message crossing the socket on stderr, decoded
 * through the catalog.  Installed as the session's vhu_trace_fn.
 */
#ifndef VHU_RENDER_TRACE_H
#define VHU_RENDER_TRACE_H

#include "decode/bits.h"
#include "decode/payload.h"
#include "proto/session.h"

struct vhu_trace_ctx {
	enum vhu_dev_type dev; /* for naming device feature bits */
};

void vhu_trace_print(void *arg, enum vhu_dir dir, const struct vhost_user_hdr *hdr, const uint8_t *payload,
		     size_t len, unsigned nfds, const char *note);

/* Decoded values as " key=value key=value ..." (a leading space when not
 * empty; masks with their bit names in brackets, objects in brackets)
 * into @buf, cut to @size. */
void vhu_decoded_text(const struct vhu_decoded *d, enum vhu_dev_type dev, char *buf, size_t size);

/* vhu_decode_payload() then vhu_decoded_text(): one-line decoding of a
 * payload of @shape into @buf (for trace, raw and the back-end channel
 * printer). */
void vhu_trace_decode(enum vhu_shape shape, enum vhu_dev_type dev, const uint8_t *p, size_t len, char *buf,
		      size_t size);

#endif
