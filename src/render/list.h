/* SPDX-License-Identifier: Apache-2.0 */
/* The catalog and the name tables as `list` shows them. */
#ifndef VHU_RENDER_LIST_H
#define VHU_RENDER_LIST_H

#include <stdbool.h>

#include "decode/bits.h"

/* The named bits of @sp (device bits of @dev with features), as list
 * @key. */
void vhu_render_bits(const char *key, const char *label, enum vhu_bit_space sp, enum vhu_dev_type dev);
/* The front-end requests of the catalog, or the back-end channel's with
 * @backend: code, reply kind, payload bounds, fds, gating feature. */
void vhu_render_requests(const char *key, const char *label, bool backend);
/* The device types. */
void vhu_render_types(void);
/* The config fields the decoders know, of every type or of @only. */
void vhu_render_config_fields(enum vhu_dev_type only);

#endif
