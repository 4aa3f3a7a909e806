/* SPDX-License-Identifier: Apache-2.0 */
/* Device config space as get-config and probe show it. */
#ifndef VHU_RENDER_CONFIG_H
#define VHU_RENDER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/bits.h"

/*
 * The "config" member: @len bytes read at @offset, decoded by the layout
 * of device @info (NULL: no --type, the bytes only) with the features the
 * back-end offers (@features, known when @have_features: fields of
 * features not offered are marked).
 */
void vhu_render_config(const struct vhu_dev_info *info, uint64_t features, bool have_features,
		       const uint8_t *buf, size_t len, uint32_t offset);

#endif
